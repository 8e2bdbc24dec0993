-- MRR movements per month (revenue bridge and churn inputs), one row per month in $months.
-- An account's MRR at a date = the sum of its subscriptions paid that day: start_date <= date < stop, where
-- stop, the first day no longer paid, is end_date ($subscription_end 'exclusive') or the day after it
-- ('inclusive'); no end_date: still paid. Starting MRR = at the previous month end; ending MRR = at this one.
-- Per account: expansion, contraction, churn (MRR at the previous month end, none at this one). An account
-- with MRR at this month end and none at the previous one is reactivated when it had MRR at an earlier
-- month end and then at least $reactivation_after_months month ends without; otherwise it is new.
-- An account paid within the month but at neither month end is invisible ($same_month_new_and_churn
-- 'drop') or, in MRR, new (or reactivated, by the same rule) and churned at its MRR on its first paid day
-- ('count_both'); it is then counted in brief_customers, not in the customer counts of the month ends.
-- Trailing 12 months (t12m_*): the accounts paid at the month end 12 months before, with their MRR then,
-- now capped at then (kept: no expansion), and now (retained).
WITH months AS (
    SELECT m AS month, last_day(m) AS month_end, CAST(m - INTERVAL 1 DAY AS DATE) AS prev_end,
           CAST(m - INTERVAL 11 MONTH - INTERVAL 1 DAY AS DATE) AS base_end
    FROM UNNEST($months) AS t(m)
),
paid AS (
    SELECT *, CAST(CASE WHEN $subscription_end = 'inclusive' THEN CAST(end_date AS DATE) + INTERVAL 1 DAY
                      ELSE end_date END AS DATE) AS stop
    FROM subscriptions
),
account_months AS (
    SELECT
        mo.month,
        mo.month_end,
        s.account_id,
        SUM(CASE WHEN s.start_date <= mo.prev_end AND (s.stop IS NULL OR s.stop > mo.prev_end)
                 THEN s.mrr ELSE 0 END) AS prev_mrr,
        SUM(CASE WHEN s.start_date <= mo.month_end AND (s.stop IS NULL OR s.stop > mo.month_end)
                 THEN s.mrr ELSE 0 END) AS cur_mrr,
        SUM(CASE WHEN s.start_date <= mo.base_end AND (s.stop IS NULL OR s.stop > mo.base_end)
                 THEN s.mrr ELSE 0 END) AS base_mrr,
        -- the last month end a subscription that stopped by the previous month end was paid at
        MAX(CASE WHEN s.stop <= mo.prev_end AND s.start_date < CAST(date_trunc('month', s.stop) AS DATE)
                 THEN CAST(date_trunc('month', s.stop) - INTERVAL 1 DAY AS DATE) END) AS last_paid_end,
        MIN(CASE WHEN s.start_date > mo.prev_end AND s.start_date <= mo.month_end
                  AND (s.stop IS NULL OR s.stop > s.start_date)
                 THEN s.start_date END) AS first_paid_day
    FROM months AS mo
    CROSS JOIN (SELECT DISTINCT account_id FROM paid) AS a
    JOIN paid AS s ON s.account_id = a.account_id
    GROUP BY mo.month, mo.month_end, s.account_id
),
brief AS (
    SELECT am.month, am.account_id, SUM(s.mrr) AS mrr
    FROM account_months AS am
    JOIN paid AS s ON s.account_id = am.account_id AND s.start_date <= am.first_paid_day
                  AND (s.stop IS NULL OR s.stop > am.first_paid_day)
    WHERE $same_month_new_and_churn = 'count_both' AND am.prev_mrr = 0 AND am.cur_mrr = 0
    GROUP BY am.month, am.account_id
),
classified AS (
    SELECT
        am.month,
        am.prev_mrr,
        am.cur_mrr,
        am.base_mrr,
        COALESCE(b.mrr, 0) AS brief_mrr,
        CASE WHEN am.prev_mrr = 0 THEN am.cur_mrr + COALESCE(b.mrr, 0) ELSE 0 END AS arrived_mrr,
        COALESCE(date_diff('month', am.last_paid_end, am.month_end) - 1 >= $reactivation_after_months, FALSE)
            AS reactivates
    FROM account_months AS am
    LEFT JOIN brief AS b ON b.month = am.month AND b.account_id = am.account_id
)
SELECT
    month,
    SUM(prev_mrr) AS starting_mrr,
    SUM(CASE WHEN NOT reactivates THEN arrived_mrr ELSE 0 END) AS new_mrr,
    SUM(CASE WHEN prev_mrr > 0 AND cur_mrr > prev_mrr THEN cur_mrr - prev_mrr ELSE 0 END) AS expansion_mrr,
    SUM(CASE WHEN prev_mrr > 0 AND cur_mrr > 0 AND cur_mrr < prev_mrr THEN prev_mrr - cur_mrr ELSE 0 END) AS contraction_mrr,
    SUM(CASE WHEN prev_mrr > 0 AND cur_mrr = 0 THEN prev_mrr ELSE 0 END) + SUM(brief_mrr) AS churned_mrr,
    SUM(CASE WHEN reactivates THEN arrived_mrr ELSE 0 END) AS reactivation_mrr,
    SUM(cur_mrr) AS ending_mrr,
    COUNT(CASE WHEN prev_mrr > 0 THEN 1 END) AS customers_start,
    COUNT(CASE WHEN prev_mrr = 0 AND cur_mrr > 0 AND NOT reactivates THEN 1 END) AS new_customers,
    COUNT(CASE WHEN prev_mrr > 0 AND cur_mrr = 0 THEN 1 END) AS churned_customers,
    COUNT(CASE WHEN prev_mrr > 0 AND cur_mrr > prev_mrr THEN 1 END) AS expanded_customers,
    COUNT(CASE WHEN prev_mrr = 0 AND cur_mrr > 0 AND reactivates THEN 1 END) AS reactivated_customers,
    COUNT(CASE WHEN cur_mrr > 0 THEN 1 END) AS customers_end,
    COUNT(CASE WHEN brief_mrr > 0 THEN 1 END) AS brief_customers,
    SUM(base_mrr) AS t12m_base_mrr,
    SUM(CASE WHEN base_mrr > 0 THEN LEAST(cur_mrr, base_mrr) ELSE 0 END) AS t12m_kept_mrr,
    SUM(CASE WHEN base_mrr > 0 THEN cur_mrr ELSE 0 END) AS t12m_retained_mrr
FROM classified
GROUP BY month
ORDER BY month
