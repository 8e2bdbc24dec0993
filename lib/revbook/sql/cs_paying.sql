-- How many accounts were paying at the end of the day before $at (the customer panel's rows there;
-- paid as in mrr_movements, $subscription_end).
WITH paid AS (
    SELECT *, CAST(CASE WHEN $subscription_end = 'inclusive' THEN CAST(end_date AS DATE) + INTERVAL 1 DAY
                      ELSE end_date END AS DATE) AS stop
    FROM subscriptions
)
SELECT COUNT(DISTINCT account_id) AS accounts
FROM paid
WHERE start_date < CAST($at AS DATE) AND (stop IS NULL OR stop >= CAST($at AS DATE))
