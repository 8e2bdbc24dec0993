-- Leads by the month they were created (cohorts in $months) and what they became by $as_of
-- (exclusive): opportunities, won deals and won MRR; per industry so target industries compare.
WITH cohorts AS (
    SELECT m AS month FROM UNNEST($months) AS t(m)
),
leads_m AS (
    SELECT CAST(date_trunc('month', l.created_at) AS DATE) AS month, l.industry,
           CASE WHEN o.created_at < CAST($as_of AS TIMESTAMP) THEN 1 ELSE 0 END AS is_opportunity,
           CASE WHEN o.is_won AND o.closed_at < CAST($as_of AS TIMESTAMP) THEN 1 ELSE 0 END AS is_won,
           CASE WHEN o.is_won AND o.closed_at < CAST($as_of AS TIMESTAMP) THEN o.amount ELSE 0 END AS won_mrr
    FROM leads AS l
    LEFT JOIN opportunities AS o ON o.opportunity_id = l.opportunity_id
    WHERE l.created_at < CAST($as_of AS TIMESTAMP)
)
SELECT c.month, m.industry, COUNT(*) AS leads, SUM(m.is_opportunity) AS opportunities,
       SUM(m.is_won) AS won, SUM(m.won_mrr) AS won_mrr
FROM cohorts AS c
JOIN leads_m AS m ON m.month = c.month
GROUP BY c.month, m.industry
ORDER BY c.month, m.industry
