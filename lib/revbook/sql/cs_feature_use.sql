-- Feature events (every product_usage_daily event type other than login, active_user and error) per
-- account in the 28 days before each observation date in $at, long: one row per month × account × event type.
WITH months AS (
    SELECT m AS month FROM UNNEST($at) AS t(m)
)
SELECT mo.month, u.account_id, u.event_type, SUM(u.count) AS events
FROM months AS mo
JOIN product_usage_daily AS u ON u.date < mo.month AND u.date >= mo.month - INTERVAL 28 DAY
WHERE u.event_type NOT IN ('login', 'active_user', 'error')
GROUP BY 1, 2, 3
ORDER BY 1, 2, 3
