-- Per lead owner (inside-sales rep): SQLs (appointments) qualified in [$start, $end), those of
-- target industries ($target_industries), by direction, and what became of them by $end:
-- won, lost or still open (no opportunity yet counts as open).
WITH bounds AS (
    SELECT CAST($start AS TIMESTAMP) AS t0, CAST($end AS TIMESTAMP) AS t1
)
SELECT
    l.owner_rep_id AS rep_id,
    l.direction,
    COUNT(*) AS sqls,
    COUNT(CASE WHEN list_contains($target_industries, l.industry) THEN 1 END) AS target_sqls,
    COUNT(CASE WHEN o.is_won AND o.closed_at < b.t1 THEN 1 END) AS won,
    COUNT(CASE WHEN NOT o.is_won AND o.closed_at < b.t1 THEN 1 END) AS lost,
    COUNT(CASE WHEN o.closed_at IS NULL OR o.closed_at >= b.t1 THEN 1 END) AS open
FROM leads AS l
CROSS JOIN bounds AS b
LEFT JOIN opportunities AS o ON o.opportunity_id = l.opportunity_id
WHERE l.qualified_at >= b.t0 AND l.qualified_at < b.t1 AND l.owner_rep_id IS NOT NULL
GROUP BY 1, 2
ORDER BY 1, 2
