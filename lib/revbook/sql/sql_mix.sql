-- SQLs qualified in [$start, $end) by direction and one dimension at a time: service (product of
-- the opportunity), company size band, region, deal size band (opportunity MRR), counterpart
-- department and title. Long format: direction, dimension, value, sqls.
WITH sqls AS (
    SELECT
        l.direction,
        COALESCE(o.product, '(no opportunity yet)') AS product,
        CASE WHEN l.employee_count IS NULL THEN '(unknown)'
             WHEN l.employee_count <= 30 THEN '1-30'
             WHEN l.employee_count < 100 THEN '31-99'
             WHEN l.employee_count < 1000 THEN '100-999'
             ELSE '1000+' END AS size_band,
        COALESCE(l.region, '(unknown)') AS region,
        CASE WHEN o.amount IS NULL THEN '(no opportunity yet)'
             WHEN o.amount < 50000 THEN '< 50k'
             WHEN o.amount < 150000 THEN '50k-150k'
             ELSE '150k+' END AS deal_band,
        COALESCE(l.counterpart_department, '(unknown)') AS counterpart_department,
        COALESCE(l.counterpart_title, '(unknown)') AS counterpart_title
    FROM leads AS l
    LEFT JOIN opportunities AS o ON o.opportunity_id = l.opportunity_id
    WHERE l.qualified_at >= CAST($start AS TIMESTAMP) AND l.qualified_at < CAST($end AS TIMESTAMP)
)
SELECT direction, 'service' AS dimension, product AS value, COUNT(*) AS sqls FROM sqls GROUP BY 1, 2, 3
UNION ALL
SELECT direction, 'company size', size_band, COUNT(*) FROM sqls GROUP BY 1, 2, 3
UNION ALL
SELECT direction, 'region', region, COUNT(*) FROM sqls GROUP BY 1, 2, 3
UNION ALL
SELECT direction, 'deal size', deal_band, COUNT(*) FROM sqls GROUP BY 1, 2, 3
UNION ALL
SELECT direction, 'counterpart department', counterpart_department, COUNT(*) FROM sqls GROUP BY 1, 2, 3
UNION ALL
SELECT direction, 'counterpart title', counterpart_title, COUNT(*) FROM sqls GROUP BY 1, 2, 3
ORDER BY 2, 1, 4 DESC
