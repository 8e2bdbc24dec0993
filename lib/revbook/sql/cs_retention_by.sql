-- Churn and MRR retention by plan, industry and region over the months in $months, pooled: an
-- account-month counts when the account paid at the previous month end, under the plan of its
-- largest subscription then (paid as in mrr_movements, $subscription_end) and the industry and region of its account (NULL where unknown).
-- Per dimension and value: account-months at start, churned ones (nothing paid at the month end),
-- and the MRR that started, churned, contracted and expanded (lib: churn rate, GRR and NRR).
WITH months AS (
    SELECT m AS month, last_day(m) AS month_end, CAST(m - INTERVAL 1 DAY AS DATE) AS prev_end
    FROM UNNEST($months) AS t(m)
),
paid AS (
    SELECT *, CAST(CASE WHEN $subscription_end = 'inclusive' THEN CAST(end_date AS DATE) + INTERVAL 1 DAY
                      ELSE end_date END AS DATE) AS stop
    FROM subscriptions
),
active AS (
    SELECT
        mo.month,
        s.account_id,
        s.plan,
        s.mrr,
        s.start_date <= mo.prev_end AND (s.stop IS NULL OR s.stop > mo.prev_end) AS at_start,
        s.start_date <= mo.month_end AND (s.stop IS NULL OR s.stop > mo.month_end) AS at_end
    FROM months AS mo
    JOIN paid AS s ON s.start_date <= mo.month_end
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
),
observed AS (
    SELECT sp.plan, ac.industry, ac.region, pa.start_mrr, pa.end_mrr
    FROM per_account AS pa
    JOIN start_plan AS sp ON sp.month = pa.month AND sp.account_id = pa.account_id
    LEFT JOIN accounts AS ac ON ac.account_id = pa.account_id
    WHERE pa.start_mrr > 0
),
by_dimension AS (
    SELECT 'plan' AS dimension, plan AS value, start_mrr, end_mrr FROM observed
    UNION ALL
    SELECT 'industry', industry, start_mrr, end_mrr FROM observed
    UNION ALL
    SELECT 'region', region, start_mrr, end_mrr FROM observed
)
SELECT
    dimension,
    value,
    COUNT(*) AS customers_start,
    COUNT(CASE WHEN end_mrr = 0 THEN 1 END) AS churned_customers,
    SUM(start_mrr) AS starting_mrr,
    SUM(CASE WHEN end_mrr = 0 THEN start_mrr ELSE 0 END) AS churned_mrr,
    SUM(CASE WHEN end_mrr > 0 AND end_mrr < start_mrr THEN start_mrr - end_mrr ELSE 0 END) AS contraction_mrr,
    SUM(CASE WHEN end_mrr > start_mrr THEN end_mrr - start_mrr ELSE 0 END) AS expansion_mrr
FROM by_dimension
WHERE value IS NOT NULL
GROUP BY dimension, value
ORDER BY dimension, value
