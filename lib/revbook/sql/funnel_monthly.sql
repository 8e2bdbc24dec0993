-- New-revenue funnel counts per month in $months, each step counted in the month it happened:
-- new leads (created), meetings (a lead's first 'meeting' activity), opportunities (created),
-- won deals and their MRR (closed won). Rates are ratios of consecutive steps (lib: metrics.funnel).
WITH months AS (
    SELECT m AS month FROM UNNEST($months) AS t(m)
),
leads_m AS (
    SELECT CAST(date_trunc('month', created_at) AS DATE) AS month, COUNT(*) AS new_leads
    FROM leads
    GROUP BY 1
),
first_meetings AS (
    SELECT lead_id, MIN(occurred_at) AS met_at
    FROM activities
    WHERE type = 'meeting' AND lead_id IS NOT NULL
    GROUP BY lead_id
),
meetings_m AS (
    SELECT CAST(date_trunc('month', met_at) AS DATE) AS month, COUNT(*) AS meetings
    FROM first_meetings
    GROUP BY 1
),
opps_m AS (
    SELECT CAST(date_trunc('month', created_at) AS DATE) AS month, COUNT(*) AS opportunities
    FROM opportunities
    GROUP BY 1
),
won_m AS (
    SELECT CAST(date_trunc('month', closed_at) AS DATE) AS month,
           COUNT(*) AS won_deals,
           SUM(amount) AS won_mrr
    FROM opportunities
    WHERE is_won AND closed_at IS NOT NULL
    GROUP BY 1
)
SELECT
    mo.month,
    COALESCE(l.new_leads, 0) AS new_leads,
    COALESCE(me.meetings, 0) AS meetings,
    COALESCE(o.opportunities, 0) AS opportunities,
    COALESCE(w.won_deals, 0) AS won_deals,
    COALESCE(w.won_mrr, 0) AS won_mrr
FROM months AS mo
LEFT JOIN leads_m AS l ON l.month = mo.month
LEFT JOIN meetings_m AS me ON me.month = mo.month
LEFT JOIN opps_m AS o ON o.month = mo.month
LEFT JOIN won_m AS w ON w.month = mo.month
ORDER BY mo.month
