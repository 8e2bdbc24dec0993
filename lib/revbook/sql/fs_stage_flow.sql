-- Deals created in [$start, $end) through qualification → proposal → negotiation → closed_won, per
-- owner: for each stage entered before $end (first entry), whether it was entered strictly in order
-- (every earlier stage entered, each no later than the next) and the days spent there (to the next
-- stage entry before $end; NULL while still there or for closed_won). A stage a deal skipped on its
-- way to a later one (proposal with no qualification entry) counts as reached, not strictly and with
-- no days, so "any order" conversion never exceeds 100%. One row per owner × stage × strict × days.
WITH cohort AS (
    SELECT opportunity_id, owner_rep_id
    FROM opportunities
    WHERE created_at >= CAST($start AS TIMESTAMP) AND created_at < CAST($end AS TIMESTAMP)
),
spans AS (
    SELECT h.opportunity_id, h.stage, h.entered_at,
           LEAD(h.entered_at) OVER (PARTITION BY h.opportunity_id ORDER BY h.entered_at) AS left_at,
           ROW_NUMBER() OVER (PARTITION BY h.opportunity_id, h.stage ORDER BY h.entered_at) AS entry
    FROM opportunity_stage_history AS h
    JOIN cohort AS c ON c.opportunity_id = h.opportunity_id
    WHERE h.entered_at < CAST($end AS TIMESTAMP)
),
firsts AS (
    SELECT opportunity_id,
           MIN(CASE WHEN stage = 'qualification' THEN entered_at END) AS q,
           MIN(CASE WHEN stage = 'proposal' THEN entered_at END) AS p,
           MIN(CASE WHEN stage = 'negotiation' THEN entered_at END) AS n,
           MIN(CASE WHEN stage = 'closed_won' THEN entered_at END) AS w
    FROM spans
    GROUP BY opportunity_id
),
steps AS (
    SELECT 'qualification' AS stage, 1 AS step UNION ALL SELECT 'proposal', 2
    UNION ALL SELECT 'negotiation', 3 UNION ALL SELECT 'closed_won', 4
),
skipped AS (
    SELECT f.opportunity_id, st.stage
    FROM (SELECT s.opportunity_id, MAX(st.step) AS furthest
          FROM spans AS s JOIN steps AS st ON st.stage = s.stage
          GROUP BY s.opportunity_id) AS f
    JOIN steps AS st ON st.step < f.furthest
    WHERE NOT EXISTS (SELECT 1 FROM spans AS s WHERE s.opportunity_id = f.opportunity_id AND s.stage = st.stage)
),
strict_reach AS (
    SELECT opportunity_id,
           q IS NOT NULL AS s1,
           COALESCE(q <= p, FALSE) AS s2,
           COALESCE(q <= p AND p <= n, FALSE) AS s3,
           COALESCE(q <= p AND p <= n AND n <= w, FALSE) AS s4
    FROM firsts
)
SELECT
    c.owner_rep_id,
    s.stage,
    CASE s.stage WHEN 'qualification' THEN r.s1 WHEN 'proposal' THEN r.s2 WHEN 'negotiation' THEN r.s3 ELSE r.s4 END
        AS strict,
    CASE WHEN s.stage <> 'closed_won'
         THEN CAST(date_diff('day', CAST(s.entered_at AS DATE), CAST(s.left_at AS DATE)) AS BIGINT) END AS days,
    COUNT(*) AS deals
FROM spans AS s
JOIN cohort AS c ON c.opportunity_id = s.opportunity_id
JOIN strict_reach AS r ON r.opportunity_id = s.opportunity_id
WHERE s.entry = 1 AND s.stage IN ('qualification', 'proposal', 'negotiation', 'closed_won')
GROUP BY 1, 2, 3, 4
UNION ALL
SELECT c.owner_rep_id, k.stage, FALSE AS strict, CAST(NULL AS BIGINT) AS days, COUNT(*) AS deals
FROM skipped AS k
JOIN cohort AS c ON c.opportunity_id = k.opportunity_id
GROUP BY 1, 2
ORDER BY 1, 2, 3, 4
