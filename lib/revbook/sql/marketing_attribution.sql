-- Leads and what they became in [$start, $end), credited to campaigns and creatives by $model:
--   first_touch     the lead's own campaign (and creative) gets all the credit;
--   linear          every campaign touch shares it equally;
--   position_based  40% first touch, 40% last, 20% shared by the ones between (2 touches: 50/50).
-- Campaign touches are the lead's own campaign (at lead creation) and touchpoints whose url carries
-- utm_campaign=<campaign_id>, up to the lead's qualification. Leads with no campaign touch are
-- credited to '(none)'. Outcomes are flows in the window: leads created, target leads (industry in
-- $target_industries), SQLs qualified, opportunities created, deals won and their MRR.
WITH bounds AS (
    SELECT CAST($start AS TIMESTAMP) AS t0, CAST($end AS TIMESTAMP) AS t1
),
tagged AS (
    SELECT t.lead_id, t.occurred_at,
           NULLIF(regexp_extract(t.url, 'utm_campaign=([^&#]+)', 1), '') AS campaign_id
    FROM touchpoints AS t
    WHERE $model <> 'first_touch' AND t.url IS NOT NULL
),
touches AS (
    SELECT lead_id, created_at AS touched_at, 0 AS later, campaign_id, creative_id
    FROM leads
    WHERE campaign_id IS NOT NULL
    UNION ALL
    SELECT g.lead_id, g.occurred_at, 1, g.campaign_id, CAST(NULL AS VARCHAR)
    FROM tagged AS g
    JOIN campaigns AS c ON c.campaign_id = g.campaign_id
    JOIN leads AS l ON l.lead_id = g.lead_id
    WHERE l.qualified_at IS NULL OR g.occurred_at <= l.qualified_at
),
ranked AS (
    SELECT lead_id, campaign_id, creative_id,
           ROW_NUMBER() OVER (PARTITION BY lead_id ORDER BY touched_at, later) AS pos,
           COUNT(*) OVER (PARTITION BY lead_id) AS n
    FROM touches
),
credit AS (
    SELECT lead_id, campaign_id, creative_id,
           SUM(CASE
                   WHEN $model = 'linear' THEN 1.0 / n
                   WHEN $model = 'position_based' THEN
                       CASE WHEN n = 1 THEN 1.0 WHEN n = 2 THEN 0.5
                            WHEN pos = 1 OR pos = n THEN 0.4 ELSE 0.2 / (n - 2) END
                   ELSE 1.0
               END) AS weight
    FROM ranked
    GROUP BY lead_id, campaign_id, creative_id
    UNION ALL
    SELECT l.lead_id, '(none)', CAST(NULL AS VARCHAR), 1.0
    FROM leads AS l
    WHERE NOT EXISTS (SELECT 1 FROM touches AS t WHERE t.lead_id = l.lead_id)
),
outcomes AS (
    SELECT
        l.lead_id,
        CASE WHEN l.created_at >= b.t0 AND l.created_at < b.t1 THEN 1 ELSE 0 END AS is_new,
        CASE WHEN l.created_at >= b.t0 AND l.created_at < b.t1 AND list_contains($target_industries, l.industry)
             THEN 1 ELSE 0 END AS is_target,
        CASE WHEN l.qualified_at >= b.t0 AND l.qualified_at < b.t1 THEN 1 ELSE 0 END AS is_sql,
        CASE WHEN o.created_at >= b.t0 AND o.created_at < b.t1 THEN 1 ELSE 0 END AS is_opportunity,
        CASE WHEN o.is_won AND o.closed_at >= b.t0 AND o.closed_at < b.t1 THEN 1 ELSE 0 END AS is_won,
        CASE WHEN o.is_won AND o.closed_at >= b.t0 AND o.closed_at < b.t1 THEN o.amount ELSE 0 END AS won_mrr
    FROM leads AS l
    CROSS JOIN bounds AS b
    LEFT JOIN opportunities AS o ON o.opportunity_id = l.opportunity_id
)
SELECT
    c.campaign_id,
    c.creative_id,
    SUM(c.weight * o.is_new) AS leads,
    SUM(c.weight * o.is_target) AS target_leads,
    SUM(c.weight * o.is_sql) AS sqls,
    SUM(c.weight * o.is_opportunity) AS opportunities,
    SUM(c.weight * o.is_won) AS won,
    SUM(c.weight * o.won_mrr) AS won_mrr
FROM credit AS c
JOIN outcomes AS o ON o.lead_id = c.lead_id
GROUP BY c.campaign_id, c.creative_id
HAVING SUM(o.is_new + o.is_sql + o.is_opportunity + o.is_won) > 0
ORDER BY c.campaign_id, c.creative_id
