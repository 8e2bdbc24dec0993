-- The sales cost of each month in $months as the plan gives it: the targets rows of metric 'sales_cost',
-- summed over departments (a month without any has no row).
SELECT t.month, SUM(t.target) AS sales_cost
FROM targets AS t
WHERE t.metric = 'sales_cost'
  AND t.month IN (SELECT m FROM UNNEST($months) AS u(m))
GROUP BY t.month
ORDER BY t.month
