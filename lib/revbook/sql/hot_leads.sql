-- Hot leads of [$start, $end). A lead becomes hot at the first moment the $window_days up to it hold at
-- least $min_page_views page views, or a demo-link click: at the touch that meets the rule, its window
-- (touch - $window_days, touch] reaching back before $start where it must. $count_mode picks the leads:
--   became_hot  those whose first hot moment falls in the period;
--   hot_at_end  those the rule holds for over the $window_days ending at $end, [$end - $window_days, $end).
-- Per lead: when it became hot (hot_at), the page views and demo-link clicks of the window the rule was
-- judged on (the one ending at hot_at, or at $end), and the first inside-sales activity from hot_at to $end.
WITH bounds AS (
    SELECT CAST($start AS TIMESTAMP) AS t0, CAST($end AS TIMESTAMP) AS t1,
           CAST($end AS TIMESTAMP) - INTERVAL ($window_days) DAY AS since
),
touches AS (
    SELECT t.lead_id, t.type, t.occurred_at,
           ROW_NUMBER() OVER (PARTITION BY t.lead_id ORDER BY t.occurred_at, t.type) AS k
    FROM touchpoints AS t
    CROSS JOIN bounds AS b
    WHERE t.occurred_at < b.t1 AND t.type IN ('page_view', 'demo_link_click')
),
meets AS (
    SELECT p.lead_id, p.occurred_at
    FROM touches AS p
    JOIN touches AS q
        ON q.lead_id = p.lead_id AND q.type = 'page_view' AND q.occurred_at <= p.occurred_at
        AND q.occurred_at > p.occurred_at - INTERVAL ($window_days) DAY
    WHERE p.type = 'page_view'
    GROUP BY p.lead_id, p.k, p.occurred_at
    HAVING COUNT(*) >= $min_page_views
    UNION ALL
    SELECT lead_id, occurred_at FROM touches WHERE type = 'demo_link_click'
),
hot AS (
    SELECT lead_id, MIN(occurred_at) AS hot_at FROM meets GROUP BY lead_id
),
judged AS (
    SELECT h.lead_id, h.hot_at,
           COUNT(CASE WHEN t.type = 'page_view' THEN 1 END) AS page_views,
           COUNT(CASE WHEN t.type = 'demo_link_click' THEN 1 END) AS demo_clicks
    FROM hot AS h
    CROSS JOIN bounds AS b
    JOIN touches AS t ON t.lead_id = h.lead_id
    WHERE CASE WHEN $count_mode = 'hot_at_end' THEN t.occurred_at >= b.since
               ELSE t.occurred_at <= h.hot_at AND t.occurred_at > h.hot_at - INTERVAL ($window_days) DAY END
    GROUP BY h.lead_id, h.hot_at
)
SELECT
    j.lead_id, l.company_name, l.owner_rep_id, j.page_views, j.demo_clicks, j.hot_at,
    MIN(a.occurred_at) AS first_activity_at
FROM judged AS j
CROSS JOIN bounds AS b
JOIN leads AS l ON l.lead_id = j.lead_id
LEFT JOIN activities AS a
    ON a.lead_id = j.lead_id AND a.occurred_at >= j.hot_at AND a.occurred_at < b.t1
    AND a.rep_id IN (SELECT rep_id FROM reps WHERE team = 'inside_sales')
WHERE CASE WHEN $count_mode = 'hot_at_end' THEN j.page_views >= $min_page_views OR j.demo_clicks > 0
           ELSE j.hot_at >= b.t0 END
GROUP BY j.lead_id, l.company_name, l.owner_rep_id, j.page_views, j.demo_clicks, j.hot_at
ORDER BY j.hot_at, j.lead_id
