-- Inside-sales activity per day, rep and direction in [$start, $end): calls, connected calls,
-- e-mails and seminar invitations (reps with no activity have no rows; lib adds them as zeros).
SELECT
    CAST(a.occurred_at AS DATE) AS day,
    a.rep_id,
    a.direction,
    COUNT(CASE WHEN a.type = 'call' THEN 1 END) AS calls,
    COUNT(CASE WHEN a.type = 'call' AND a.connected THEN 1 END) AS connects,
    COUNT(CASE WHEN a.type = 'email' THEN 1 END) AS emails,
    COUNT(CASE WHEN a.type = 'seminar_invite' THEN 1 END) AS seminar_invites
FROM activities AS a
JOIN reps AS r ON r.rep_id = a.rep_id AND r.team = 'inside_sales'
WHERE a.occurred_at >= CAST($start AS TIMESTAMP) AND a.occurred_at < CAST($end AS TIMESTAMP)
GROUP BY 1, 2, 3
ORDER BY 1, 2, 3
