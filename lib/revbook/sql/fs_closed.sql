-- Deals closed in [$start, $end) per owner and dimension value: closed, won and won MRR. Dimensions:
-- 'all', 'size_band' (the account's employees), 'industry' (the account's; 'unknown' where the
-- export has none), 'lead_source' and 'direction' (the lead's; '(no lead)' for deals without one).
WITH closed AS (
    SELECT
        o.owner_rep_id,
        o.is_won,
        o.amount,
        CASE
            WHEN ac.employee_count IS NULL THEN 'unknown'
            WHEN ac.employee_count <= 30 THEN '1-30'
            WHEN ac.employee_count <= 100 THEN '31-100'
            WHEN ac.employee_count <= 300 THEN '101-300'
            WHEN ac.employee_count < 1000 THEN '301-999'
            ELSE '1000+'
        END AS size_band,
        COALESCE(ac.industry, 'unknown') AS industry,
        COALESCE(l.lead_source, '(no lead)') AS lead_source,
        COALESCE(l.direction, '(no lead)') AS direction
    FROM opportunities AS o
    LEFT JOIN accounts AS ac ON ac.account_id = o.account_id  -- an export may hold deals without accounts
    LEFT JOIN leads AS l ON l.lead_id = o.lead_id
    WHERE o.closed_at >= CAST($start AS TIMESTAMP) AND o.closed_at < CAST($end AS TIMESTAMP)
),
by_dimension AS (
    SELECT owner_rep_id, 'all' AS dimension, 'all' AS value, is_won, amount FROM closed
    UNION ALL
    SELECT owner_rep_id, 'size_band', size_band, is_won, amount FROM closed
    UNION ALL
    SELECT owner_rep_id, 'industry', industry, is_won, amount FROM closed
    UNION ALL
    SELECT owner_rep_id, 'lead_source', lead_source, is_won, amount FROM closed
    UNION ALL
    SELECT owner_rep_id, 'direction', direction, is_won, amount FROM closed
)
SELECT
    owner_rep_id,
    dimension,
    value,
    COUNT(*) AS closed,
    COUNT(CASE WHEN is_won THEN 1 END) AS won,
    SUM(CASE WHEN is_won THEN amount ELSE 0 END) AS won_mrr
FROM by_dimension
GROUP BY owner_rep_id, dimension, value
ORDER BY owner_rep_id, dimension, value
