-- Open deals just before each snapshot time in $at, per owner and stage (the stage last entered
-- before the snapshot, from opportunity_stage_history; open = not closed_won/closed_lost there nor
-- closed per the deal's closed_at, which wins where the two disagree): deals
-- and MRR, and what became of them before $asof: won before the next snapshot, won, lost.
-- Stage close rates (P(won | stage)) and the forecast are computed from these rows.
WITH snapshots AS (
    SELECT t AS at, LEAD(t) OVER (ORDER BY t) AS next_at
    FROM UNNEST($at) AS u(t)
),
stage_at AS (
    SELECT s.at, s.next_at, h.opportunity_id, h.stage,
           ROW_NUMBER() OVER (PARTITION BY s.at, h.opportunity_id ORDER BY h.entered_at DESC) AS latest
    FROM snapshots AS s
    JOIN opportunity_stage_history AS h ON h.entered_at < s.at
),
outcome AS (  -- the stage history's close, else the deal's own is_won / closed_at
    SELECT o.opportunity_id,
           COALESCE(MIN(CASE WHEN h.stage = 'closed_won' THEN h.entered_at END),
                    MAX(CASE WHEN o.is_won AND o.closed_at < CAST($asof AS TIMESTAMP) THEN o.closed_at END)) AS won_at,
           COALESCE(MIN(CASE WHEN h.stage = 'closed_lost' THEN h.entered_at END),
                    MAX(CASE WHEN NOT o.is_won AND o.closed_at < CAST($asof AS TIMESTAMP) THEN o.closed_at END))
               AS lost_at
    FROM opportunities AS o
    LEFT JOIN opportunity_stage_history AS h
        ON h.opportunity_id = o.opportunity_id AND h.entered_at < CAST($asof AS TIMESTAMP)
    GROUP BY o.opportunity_id
)
SELECT
    sa.at,
    o.owner_rep_id,
    sa.stage,
    COUNT(*) AS deals,
    SUM(o.amount) AS mrr,
    COUNT(CASE WHEN oc.won_at < sa.next_at THEN 1 END) AS won_next,
    SUM(CASE WHEN oc.won_at < sa.next_at THEN o.amount ELSE 0 END) AS won_next_mrr,
    COUNT(CASE WHEN oc.won_at IS NOT NULL THEN 1 END) AS won,
    COUNT(CASE WHEN oc.won_at IS NULL AND oc.lost_at IS NOT NULL THEN 1 END) AS lost
FROM stage_at AS sa
JOIN opportunities AS o ON o.opportunity_id = sa.opportunity_id
LEFT JOIN outcome AS oc ON oc.opportunity_id = sa.opportunity_id
WHERE sa.latest = 1 AND sa.stage NOT IN ('closed_won', 'closed_lost')
  AND (o.closed_at IS NULL OR o.closed_at >= sa.at)  -- closed per its own fields: not open, whatever the history says
GROUP BY 1, 2, 3
ORDER BY 1, 2, 3
