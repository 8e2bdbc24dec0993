-- MRR movements per month (revenue bridge and churn inputs), one row per month in $months.
-- Account MRR at a month = sum of subscriptions active on the month's last day
-- (start_date <= month end, end_date null or after it). Starting MRR = previous month's.
-- Per account: new (no MRR before, first subscription after the previous month end),
-- reactivation (no MRR last month but a subscription before), expansion, contraction, churn.
WITH months AS (
    SELECT m AS month, last_day(m) AS month_end, CAST(m - INTERVAL 1 DAY AS DATE) AS prev_end
    FROM UNNEST($months) AS t(m)
),
accounts AS (
    SELECT account_id, MIN(start_date) AS first_start
    FROM subscriptions
    GROUP BY account_id
),
account_months AS (
    SELECT
        mo.month,
        a.account_id,
        a.first_start,
        mo.prev_end,
        SUM(CASE WHEN s.start_date <= mo.prev_end AND (s.end_date IS NULL OR s.end_date > mo.prev_end)
                 THEN s.mrr ELSE 0 END) AS prev_mrr,
        SUM(CASE WHEN s.start_date <= mo.month_end AND (s.end_date IS NULL OR s.end_date > mo.month_end)
                 THEN s.mrr ELSE 0 END) AS cur_mrr
    FROM months AS mo
    CROSS JOIN accounts AS a
    JOIN subscriptions AS s ON s.account_id = a.account_id
    GROUP BY mo.month, a.account_id, a.first_start, mo.prev_end
)
SELECT
    month,
    SUM(prev_mrr) AS starting_mrr,
    SUM(CASE WHEN prev_mrr = 0 AND cur_mrr > 0 AND first_start > prev_end THEN cur_mrr ELSE 0 END) AS new_mrr,
    SUM(CASE WHEN prev_mrr > 0 AND cur_mrr > prev_mrr THEN cur_mrr - prev_mrr ELSE 0 END) AS expansion_mrr,
    SUM(CASE WHEN prev_mrr > 0 AND cur_mrr > 0 AND cur_mrr < prev_mrr THEN prev_mrr - cur_mrr ELSE 0 END) AS contraction_mrr,
    SUM(CASE WHEN prev_mrr > 0 AND cur_mrr = 0 THEN prev_mrr ELSE 0 END) AS churned_mrr,
    SUM(CASE WHEN prev_mrr = 0 AND cur_mrr > 0 AND first_start <= prev_end THEN cur_mrr ELSE 0 END) AS reactivation_mrr,
    SUM(cur_mrr) AS ending_mrr,
    COUNT(CASE WHEN prev_mrr > 0 THEN 1 END) AS customers_start,
    COUNT(CASE WHEN prev_mrr = 0 AND cur_mrr > 0 AND first_start > prev_end THEN 1 END) AS new_customers,
    COUNT(CASE WHEN prev_mrr > 0 AND cur_mrr = 0 THEN 1 END) AS churned_customers,
    COUNT(CASE WHEN prev_mrr > 0 AND cur_mrr > prev_mrr THEN 1 END) AS expanded_customers,
    COUNT(CASE WHEN prev_mrr = 0 AND cur_mrr > 0 AND first_start <= prev_end THEN 1 END) AS reactivated_customers,
    COUNT(CASE WHEN cur_mrr > 0 THEN 1 END) AS customers_end
FROM account_months
GROUP BY month
ORDER BY month
