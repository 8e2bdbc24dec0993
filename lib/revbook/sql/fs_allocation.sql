-- SQLs handed to each active field-sales rep in [$start, $end): leads whose first meeting (the
-- hand-over from inside sales) that rep held in the window; reps with none show 0.
WITH first_meetings AS (
    SELECT lead_id, MIN(occurred_at) AS met_at
    FROM activities
    WHERE type = 'meeting' AND lead_id IS NOT NULL
    GROUP BY lead_id
),
handed AS (
    SELECT a.rep_id, COUNT(DISTINCT a.lead_id) AS sqls
    FROM activities AS a
    JOIN first_meetings AS f ON f.lead_id = a.lead_id AND f.met_at = a.occurred_at
    WHERE a.type = 'meeting'
      AND f.met_at >= CAST($start AS TIMESTAMP) AND f.met_at < CAST($end AS TIMESTAMP)
    GROUP BY a.rep_id
)
SELECT r.rep_id, r.name, r.segment, r.monthly_sql_capacity, COALESCE(h.sqls, 0) AS sqls
FROM reps AS r
LEFT JOIN handed AS h ON h.rep_id = r.rep_id
WHERE r.team = 'field_sales' AND r.active
ORDER BY r.rep_id
