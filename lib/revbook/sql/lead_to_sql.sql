-- Leads created and SQLs qualified in [$start, $end): the lead → SQL rate inside sales plans with.
SELECT
    COUNT(CASE WHEN created_at >= CAST($start AS TIMESTAMP) AND created_at < CAST($end AS TIMESTAMP) THEN 1 END) AS leads,
    COUNT(CASE WHEN qualified_at >= CAST($start AS TIMESTAMP) AND qualified_at < CAST($end AS TIMESTAMP) THEN 1 END) AS sqls
FROM leads
