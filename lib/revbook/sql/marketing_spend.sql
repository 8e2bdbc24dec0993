-- Marketing spend per campaign and creative in [$start, $end): the ad platforms' daily rows, plus,
-- for campaigns without daily rows (exhibitions, seminars, lists, ...), their budget spread evenly
-- over their days from start_date to end_date (no end_date: a one-off cost on start_date).
WITH ads AS (
    SELECT campaign_id, creative_id,
           SUM(impressions) AS impressions, SUM(clicks) AS clicks, SUM(cost) AS cost
    FROM ad_spend_daily
    WHERE date >= $start AND date < $end
    GROUP BY campaign_id, creative_id
),
budgeted AS (
    SELECT campaign_id, start_date, CAST(COALESCE(end_date, start_date) + INTERVAL 1 DAY AS DATE) AS stop, budget
    FROM campaigns AS c
    WHERE budget IS NOT NULL
      AND NOT EXISTS (SELECT 1 FROM ad_spend_daily AS a WHERE a.campaign_id = c.campaign_id)
),
spread AS (
    SELECT campaign_id, CAST(NULL AS VARCHAR) AS creative_id,
           CAST(0 AS BIGINT) AS impressions, CAST(0 AS BIGINT) AS clicks,
           budget * date_diff('day', GREATEST(start_date, $start), LEAST(stop, $end))
                  / date_diff('day', start_date, stop) AS cost
    FROM budgeted
    WHERE start_date < $end AND stop > $start
)
SELECT campaign_id, creative_id, impressions, clicks, cost FROM ads
UNION ALL
SELECT campaign_id, creative_id, impressions, clicks, cost FROM spread
ORDER BY campaign_id, creative_id
