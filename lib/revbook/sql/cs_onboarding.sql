-- Onboarding of new customers whose first subscription started in [$start, $end): for each, the days
-- with a login in its first 30 days from the start date (metrics.ONBOARDING_DAYS). Completion is judged in
-- lib (params: health.onboarding_login_days).
WITH firsts AS (
    SELECT account_id, MIN(start_date) AS first_start
    FROM subscriptions
    GROUP BY account_id
)
SELECT f.account_id, f.first_start,
       COUNT(DISTINCT CASE WHEN u.event_type = 'login' AND u.count > 0 THEN u.date END) AS login_days_30d
FROM firsts AS f
LEFT JOIN product_usage_daily AS u
  ON u.account_id = f.account_id AND u.date >= f.first_start AND u.date < f.first_start + INTERVAL 30 DAY
WHERE f.first_start >= CAST($start AS DATE) AND f.first_start < CAST($end AS DATE)
GROUP BY 1, 2
ORDER BY 1
