-- Deals of the owners in $owners that are open just before $asof (the last stage entered before it
-- is not closed_won/closed_lost) and untouched since $cutoff: no activity and no stage change after
-- it (last touch at or before $cutoff). The list returned to inside sales, with the lead's IS owner.
WITH stage_now AS (
    SELECT opportunity_id, stage, entered_at,
           ROW_NUMBER() OVER (PARTITION BY opportunity_id ORDER BY entered_at DESC) AS latest
    FROM opportunity_stage_history
    WHERE entered_at < CAST($asof AS TIMESTAMP)
),
last_activity AS (
    SELECT opportunity_id, MAX(occurred_at) AS last_at
    FROM activities
    WHERE opportunity_id IS NOT NULL AND occurred_at < CAST($asof AS TIMESTAMP)
    GROUP BY opportunity_id
),
rep_names AS (  -- one row per rep: a rep on two teams has a reps row for each
    SELECT rep_id, MIN(name) AS name FROM reps GROUP BY rep_id
),
open_deals AS (
    SELECT o.opportunity_id, o.owner_rep_id, o.account_id, o.lead_id, o.amount, o.created_at, s.stage,
           s.entered_at AS stage_since,
           GREATEST(COALESCE(la.last_at, s.entered_at), s.entered_at) AS last_touch_at
    FROM stage_now AS s
    JOIN opportunities AS o ON o.opportunity_id = s.opportunity_id
    LEFT JOIN last_activity AS la ON la.opportunity_id = s.opportunity_id
    WHERE s.latest = 1 AND s.stage NOT IN ('closed_won', 'closed_lost')
      AND (o.closed_at IS NULL OR o.closed_at >= CAST($asof AS TIMESTAMP))  -- closed per its own fields
      AND o.owner_rep_id IN (SELECT r FROM UNNEST($owners) AS t(r))
)
SELECT
    d.opportunity_id,
    d.owner_rep_id,
    fs.name AS owner_name,
    d.account_id,
    ac.name AS account_name,
    d.stage,
    d.amount,
    d.created_at,
    d.stage_since,
    d.last_touch_at,
    d.lead_id,
    l.owner_rep_id AS inside_sales_rep_id,
    isr.name AS inside_sales_rep_name
FROM open_deals AS d
LEFT JOIN rep_names AS fs ON fs.rep_id = d.owner_rep_id
LEFT JOIN accounts AS ac ON ac.account_id = d.account_id
LEFT JOIN leads AS l ON l.lead_id = d.lead_id
LEFT JOIN rep_names AS isr ON isr.rep_id = l.owner_rep_id
WHERE d.last_touch_at <= CAST($cutoff AS TIMESTAMP)
ORDER BY d.owner_rep_id, d.last_touch_at, d.opportunity_id
