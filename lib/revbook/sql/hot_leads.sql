-- Hot leads in [$start, $end): at least $min_page_views page views, or a demo-link click, in the
-- window. When the lead turned hot (the touch that met the rule) and the first inside-sales
-- activity on it after that, if any before $end.
WITH touches AS (
    SELECT t.lead_id, t.type, t.occurred_at,
           ROW_NUMBER() OVER (PARTITION BY t.lead_id, t.type ORDER BY t.occurred_at) AS nth
    FROM touchpoints AS t
    WHERE t.occurred_at >= CAST($start AS TIMESTAMP) AND t.occurred_at < CAST($end AS TIMESTAMP)
      AND t.type IN ('page_view', 'demo_link_click')
),
hot AS (
    SELECT lead_id,
           MIN(CASE WHEN (type = 'page_view' AND nth = $min_page_views) OR (type = 'demo_link_click' AND nth = 1)
                    THEN occurred_at END) AS hot_at,
           COUNT(CASE WHEN type = 'page_view' THEN 1 END) AS page_views,
           COUNT(CASE WHEN type = 'demo_link_click' THEN 1 END) AS demo_clicks
    FROM touches
    GROUP BY lead_id
)
SELECT
    h.lead_id, l.company_name, l.owner_rep_id, h.page_views, h.demo_clicks, h.hot_at,
    MIN(a.occurred_at) AS first_activity_at
FROM hot AS h
JOIN leads AS l ON l.lead_id = h.lead_id
LEFT JOIN activities AS a
    ON a.lead_id = h.lead_id AND a.occurred_at >= h.hot_at AND a.occurred_at < CAST($end AS TIMESTAMP)
    AND a.rep_id IN (SELECT rep_id FROM reps WHERE team = 'inside_sales')
WHERE h.hot_at IS NOT NULL
GROUP BY h.lead_id, l.company_name, l.owner_rep_id, h.page_views, h.demo_clicks, h.hot_at
ORDER BY h.hot_at
