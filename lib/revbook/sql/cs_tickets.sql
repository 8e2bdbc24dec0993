-- Support tickets created in each month of $months, by category and priority.
WITH months AS (
    SELECT m AS month FROM UNNEST($months) AS t(m)
)
SELECT mo.month, k.category, k.priority, COUNT(*) AS tickets
FROM months AS mo
JOIN support_tickets AS k
  ON k.created_at >= CAST(mo.month AS TIMESTAMP) AND k.created_at < CAST(mo.month + INTERVAL 1 MONTH AS TIMESTAMP)
GROUP BY 1, 2, 3
ORDER BY 1, 2, 3
