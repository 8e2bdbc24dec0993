-- Inbound leads created in [$start, $end) and how many became SQLs (by $end), per campaign and
-- per owner rep ('(none)' where missing): inbound lead → SQL conversion.
SELECT
    COALESCE(campaign_id, '(none)') AS campaign_id,
    COALESCE(owner_rep_id, '(none)') AS rep_id,
    COUNT(*) AS leads,
    COUNT(CASE WHEN qualified_at < CAST($end AS TIMESTAMP) THEN 1 END) AS sqls
FROM leads
WHERE direction = 'inbound'
  AND created_at >= CAST($start AS TIMESTAMP) AND created_at < CAST($end AS TIMESTAMP)
GROUP BY 1, 2
ORDER BY 1, 2
