-- Closed deals from leads qualified in [$start, $end) and closed before $end, by lead direction and
-- first-meeting attendees, with days from lead creation to close: what inbound and outbound SQLs
-- and bigger first meetings become (win rate, speed, size). One row per direction × attendees × days.
SELECT
    l.direction,
    o.first_meeting_attendees AS attendees,
    CAST(date_diff('day', l.created_at, o.closed_at) AS BIGINT) AS days,
    COUNT(*) AS closed,
    COUNT(CASE WHEN o.is_won THEN 1 END) AS won,
    SUM(CASE WHEN o.is_won THEN o.amount ELSE 0 END) AS won_mrr
FROM leads AS l
JOIN opportunities AS o ON o.opportunity_id = l.opportunity_id
WHERE l.qualified_at >= CAST($start AS TIMESTAMP) AND l.qualified_at < CAST($end AS TIMESTAMP)
  AND o.closed_at < CAST($end AS TIMESTAMP)
GROUP BY 1, 2, 3
ORDER BY 1, 2, 3
