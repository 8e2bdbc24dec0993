-- The source team's three counts per lead source in [$start, $end): leads created, target leads
-- (industry in $target_industries) among them, and opportunities created from leads of the source.
WITH bounds AS (
    SELECT CAST($start AS TIMESTAMP) AS t0, CAST($end AS TIMESTAMP) AS t1
)
SELECT
    l.lead_source,
    COUNT(CASE WHEN l.created_at >= b.t0 AND l.created_at < b.t1 THEN 1 END) AS leads,
    COUNT(CASE WHEN l.created_at >= b.t0 AND l.created_at < b.t1
                    AND list_contains($target_industries, l.industry) THEN 1 END) AS target_leads,
    COUNT(CASE WHEN o.created_at >= b.t0 AND o.created_at < b.t1 THEN 1 END) AS opportunities
FROM leads AS l
CROSS JOIN bounds AS b
LEFT JOIN opportunities AS o ON o.opportunity_id = l.opportunity_id
GROUP BY l.lead_source
ORDER BY leads DESC
