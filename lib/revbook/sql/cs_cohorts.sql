-- Retention by start-month cohort: for each account's first subscription month (the cohort) and each
-- month end in $months (paid as in mrr_movements, $subscription_end), the cohort's accounts paying then and their MRR, with the cohort's size and
-- MRR at the end of its first month. Rows only for month ends on or after the cohort month.
WITH months AS (
    SELECT m AS month, last_day(m) AS month_end FROM UNNEST($months) AS t(m)
),
paid AS (
    SELECT *, CAST(CASE WHEN $subscription_end = 'inclusive' THEN CAST(end_date AS DATE) + INTERVAL 1 DAY
                      ELSE end_date END AS DATE) AS stop
    FROM subscriptions
),
firsts AS (
    SELECT account_id, CAST(date_trunc('month', MIN(start_date)) AS DATE) AS cohort
    FROM paid
    GROUP BY account_id
),
mrr_at AS (
    SELECT mo.month, f.cohort, f.account_id,
           SUM(CASE WHEN s.start_date <= mo.month_end AND (s.stop IS NULL OR s.stop > mo.month_end)
                    THEN s.mrr ELSE 0 END) AS mrr
    FROM months AS mo
    JOIN firsts AS f ON f.cohort <= mo.month
    JOIN paid AS s ON s.account_id = f.account_id
    GROUP BY 1, 2, 3
),
start AS (
    SELECT cohort, COUNT(*) AS accounts, SUM(mrr) AS mrr
    FROM mrr_at
    WHERE month = cohort
    GROUP BY cohort
)
SELECT m.cohort, m.month, st.accounts AS cohort_accounts, st.mrr AS cohort_mrr,
       COUNT(CASE WHEN m.mrr > 0 THEN 1 END) AS accounts, SUM(m.mrr) AS mrr
FROM mrr_at AS m
JOIN start AS st ON st.cohort = m.cohort
GROUP BY 1, 2, 3, 4
ORDER BY 1, 2
