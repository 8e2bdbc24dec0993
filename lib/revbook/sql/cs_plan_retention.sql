-- Churn and MRR retention by plan over the months in $months, pooled: an account-month counts when
-- the account paid at the previous month end, under the plan of its largest subscription then.
-- Per plan: account-months at start, churned ones (nothing paid at the month end), and the MRR that
-- started, churned, contracted and expanded (lib: metrics' churn rate, GRR and NRR per plan).
WITH months AS (
    SELECT m AS month, last_day(m) AS month_end, CAST(m - INTERVAL 1 DAY AS DATE) AS prev_end
    FROM UNNEST($months) AS t(m)
),
active AS (
    SELECT
        mo.month,
        s.account_id,
        s.plan,
        s.mrr,
        s.start_date <= mo.prev_end AND (s.end_date IS NULL OR s.end_date > mo.prev_end) AS at_start,
        s.start_date <= mo.month_end AND (s.end_date IS NULL OR s.end_date > mo.month_end) AS at_end
    FROM months AS mo
    JOIN subscriptions AS s ON s.start_date <= mo.month_end
),
start_plan AS (
    SELECT month, account_id, plan
    FROM (
        SELECT month, account_id, plan,
               ROW_NUMBER() OVER (PARTITION BY month, account_id ORDER BY mrr DESC, plan) AS rn
        FROM active
        WHERE at_start
    ) AS ranked
    WHERE rn = 1
),
per_account AS (
    SELECT
        month,
        account_id,
        SUM(CASE WHEN at_start THEN mrr ELSE 0 END) AS start_mrr,
        SUM(CASE WHEN at_end THEN mrr ELSE 0 END) AS end_mrr
    FROM active
    GROUP BY month, account_id
)
SELECT
    sp.plan,
    COUNT(*) AS customers_start,
    COUNT(CASE WHEN pa.end_mrr = 0 THEN 1 END) AS churned_customers,
    SUM(pa.start_mrr) AS starting_mrr,
    SUM(CASE WHEN pa.end_mrr = 0 THEN pa.start_mrr ELSE 0 END) AS churned_mrr,
    SUM(CASE WHEN pa.end_mrr > 0 AND pa.end_mrr < pa.start_mrr THEN pa.start_mrr - pa.end_mrr ELSE 0 END)
        AS contraction_mrr,
    SUM(CASE WHEN pa.end_mrr > pa.start_mrr THEN pa.end_mrr - pa.start_mrr ELSE 0 END) AS expansion_mrr
FROM per_account AS pa
JOIN start_plan AS sp ON sp.month = pa.month AND sp.account_id = pa.account_id
WHERE pa.start_mrr > 0
GROUP BY sp.plan
ORDER BY sp.plan
