-- Recycled leads (status recycled) by reason, as of now, and how many have a re-approach date.
SELECT
    COALESCE(recycle_reason, '(no reason)') AS reason,
    COUNT(*) AS leads,
    COUNT(next_approach_date) AS with_date
FROM leads
WHERE status = 'recycled'
GROUP BY 1
ORDER BY leads DESC
