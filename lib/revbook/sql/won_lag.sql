-- How long won deals took from lead creation to closed won, in 30-day buckets (deals won before
-- $as_of): the curve that says how complete a young lead cohort's revenue is.
SELECT
    CAST(floor(date_diff('day', l.created_at, o.closed_at) / 30) AS BIGINT) AS bucket,
    COUNT(*) AS deals
FROM leads AS l
JOIN opportunities AS o ON o.opportunity_id = l.opportunity_id
WHERE o.is_won AND o.closed_at < CAST($as_of AS TIMESTAMP)
GROUP BY 1
ORDER BY 1
