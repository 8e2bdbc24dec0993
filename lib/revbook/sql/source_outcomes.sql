-- Opportunities created and deals won per ISO week (Monday) in [$start, $end), by lead source and
-- campaign of the lead ('(none)' when it has none).
WITH events AS (
    SELECT o.created_at AS at_, 1 AS opportunity, 0 AS won, l.lead_source, l.campaign_id
    FROM opportunities AS o JOIN leads AS l ON l.opportunity_id = o.opportunity_id
    UNION ALL
    SELECT o.closed_at, 0, 1, l.lead_source, l.campaign_id
    FROM opportunities AS o JOIN leads AS l ON l.opportunity_id = o.opportunity_id
    WHERE o.is_won
)
SELECT
    CAST(date_trunc('week', at_) AS DATE) AS week,
    lead_source,
    COALESCE(campaign_id, '(none)') AS campaign_id,
    SUM(opportunity) AS opportunities,
    SUM(won) AS won
FROM events
WHERE at_ >= CAST($start AS TIMESTAMP) AND at_ < CAST($end AS TIMESTAMP)
GROUP BY 1, 2, 3
ORDER BY 1, 2, 3
