-- The customer panel: one row per account paying at the end of the day before each observation date
-- in $at (month starts for the churn model; the day after the report day for alerts), with features
-- measured strictly before that date and what happened in the month from it. Usage: logins, login
-- days, active-user days and errors in the 28 days before, logins in the 28 days before those
-- (trend), logins in the last 7 days and in the 4 weeks before them (usage drop), logins and errors
-- over 91 days (error rate), the last login within 91 days; contract: MRR, plan, tenure, target
-- industry; support: tickets created in the 28 days before, high/urgent tickets open at the date
-- with the oldest one's creation. Outcome (month from the date): churned (no MRR at its end),
-- expanded (more MRR at its end). Column `month` is the observation date. Paying: as in mrr_movements
-- ($subscription_end).
WITH months AS (
    SELECT m AS month, CAST(m - INTERVAL 1 DAY AS DATE) AS prev_end, last_day(m) AS month_end
    FROM UNNEST($at) AS t(m)
),
paid AS (
    SELECT *, CAST(CASE WHEN $subscription_end = 'inclusive' THEN CAST(end_date AS DATE) + INTERVAL 1 DAY
                      ELSE end_date END AS DATE) AS stop
    FROM subscriptions
),
contract AS (
    SELECT
        mo.month,
        s.account_id,
        SUM(CASE WHEN s.start_date <= mo.prev_end AND (s.stop IS NULL OR s.stop > mo.prev_end)
                 THEN s.mrr ELSE 0 END) AS mrr,
        SUM(CASE WHEN s.start_date <= mo.month_end AND (s.stop IS NULL OR s.stop > mo.month_end)
                 THEN s.mrr ELSE 0 END) AS mrr_after,
        MAX(CASE WHEN s.start_date <= mo.prev_end AND (s.stop IS NULL OR s.stop > mo.prev_end)
                 THEN s.plan END) AS plan,
        MIN(s.start_date) AS first_start
    FROM months AS mo
    JOIN paid AS s ON s.start_date <= mo.month_end
    GROUP BY mo.month, s.account_id
),
usage AS (
    SELECT
        mo.month,
        u.account_id,
        SUM(CASE WHEN u.event_type = 'login' AND u.date >= mo.month - INTERVAL 28 DAY THEN u.count ELSE 0 END)
            AS logins_28d,
        COUNT(DISTINCT CASE WHEN u.event_type = 'login' AND u.count > 0 AND u.date >= mo.month - INTERVAL 28 DAY
                            THEN u.date END) AS login_days_28d,
        SUM(CASE WHEN u.event_type = 'login' AND u.date >= mo.month - INTERVAL 56 DAY
                  AND u.date < mo.month - INTERVAL 28 DAY THEN u.count ELSE 0 END) AS logins_prior_28d,
        SUM(CASE WHEN u.event_type = 'login' AND u.date >= mo.month - INTERVAL 7 DAY THEN u.count ELSE 0 END)
            AS logins_7d,
        SUM(CASE WHEN u.event_type = 'login' AND u.date >= mo.month - INTERVAL 35 DAY
                  AND u.date < mo.month - INTERVAL 7 DAY THEN u.count ELSE 0 END) AS logins_prior_4w,
        SUM(CASE WHEN u.event_type = 'active_user' AND u.date >= mo.month - INTERVAL 28 DAY THEN u.count ELSE 0 END)
            AS active_user_days_28d,
        SUM(CASE WHEN u.event_type = 'login' THEN u.count ELSE 0 END) AS logins_91d,
        SUM(CASE WHEN u.event_type = 'error' THEN u.count ELSE 0 END) AS errors_91d,
        MAX(CASE WHEN u.event_type = 'login' AND u.count > 0 THEN u.date END) AS last_login
    FROM months AS mo
    JOIN product_usage_daily AS u ON u.date < mo.month AND u.date >= mo.month - INTERVAL 91 DAY
    GROUP BY mo.month, u.account_id
),
support AS (
    SELECT
        mo.month,
        k.account_id,
        COUNT(CASE WHEN k.created_at >= CAST(mo.month - INTERVAL 28 DAY AS TIMESTAMP) THEN 1 END) AS tickets_28d,
        COUNT(CASE WHEN k.priority IN ('high', 'urgent')
                    AND (k.resolved_at IS NULL OR k.resolved_at >= CAST(mo.month AS TIMESTAMP)) THEN 1 END)
            AS open_high_priority,
        MIN(CASE WHEN k.priority IN ('high', 'urgent')
                  AND (k.resolved_at IS NULL OR k.resolved_at >= CAST(mo.month AS TIMESTAMP)) THEN k.created_at END)
            AS oldest_open_high_priority_at
    FROM months AS mo
    JOIN support_tickets AS k ON k.created_at < CAST(mo.month AS TIMESTAMP)
    GROUP BY mo.month, k.account_id
)
SELECT
    c.month,
    c.account_id,
    a.name AS account_name,
    c.mrr,
    c.plan,
    CAST(date_diff('month', c.first_start, c.month) AS BIGINT) AS tenure_months,
    a.industry IN (SELECT i FROM UNNEST($target_industries) AS ti(i)) AS target_industry,
    COALESCE(u.logins_28d, 0) AS logins_28d,
    COALESCE(u.login_days_28d, 0) AS login_days_28d,
    COALESCE(u.logins_prior_28d, 0) AS logins_prior_28d,
    COALESCE(u.logins_7d, 0) AS logins_7d,
    COALESCE(u.logins_prior_4w, 0) AS logins_prior_4w,
    COALESCE(u.active_user_days_28d, 0) AS active_user_days_28d,
    COALESCE(u.logins_91d, 0) AS logins_91d,
    COALESCE(u.errors_91d, 0) AS errors_91d,
    u.last_login,
    COALESCE(s.tickets_28d, 0) AS tickets_28d,
    COALESCE(s.open_high_priority, 0) AS open_high_priority,
    s.oldest_open_high_priority_at,
    c.mrr_after = 0 AS churned,
    c.mrr_after > c.mrr AS expanded
FROM contract AS c
JOIN accounts AS a ON a.account_id = c.account_id
LEFT JOIN usage AS u ON u.month = c.month AND u.account_id = c.account_id
LEFT JOIN support AS s ON s.month = c.month AND s.account_id = c.account_id
WHERE c.mrr > 0
ORDER BY c.month, c.account_id
