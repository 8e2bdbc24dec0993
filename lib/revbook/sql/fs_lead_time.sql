-- Deals won in [$start, $end) per owner, lead direction ('(no lead)' without a lead) and lead time:
-- calendar days from the lead's creation (else the opportunity's) to closed won.
SELECT
    o.owner_rep_id,
    COALESCE(l.direction, '(no lead)') AS direction,
    CAST(date_diff('day', CAST(COALESCE(l.created_at, o.created_at) AS DATE), CAST(o.closed_at AS DATE)) AS BIGINT)
        AS days,
    COUNT(*) AS won
FROM opportunities AS o
LEFT JOIN leads AS l ON l.lead_id = o.lead_id
WHERE o.is_won AND o.closed_at >= CAST($start AS TIMESTAMP) AND o.closed_at < CAST($end AS TIMESTAMP)
GROUP BY 1, 2, 3
ORDER BY 1, 2, 3
