-- Proposals in [$start, $end): accounts with a proposal activity, i.e. an activity on an opportunity
-- while it was in the 'proposal' stage (from entering it until entering the next stage), per
-- opportunity owner, and the team's distinct accounts in the row with owner_rep_id NULL.
WITH stage_spans AS (
    SELECT opportunity_id, stage, entered_at,
           LEAD(entered_at) OVER (PARTITION BY opportunity_id ORDER BY entered_at) AS left_at
    FROM opportunity_stage_history
),
proposal_accounts AS (
    SELECT DISTINCT o.owner_rep_id, o.account_id
    FROM activities AS a
    JOIN stage_spans AS s ON s.opportunity_id = a.opportunity_id
    JOIN opportunities AS o ON o.opportunity_id = a.opportunity_id
    WHERE s.stage = 'proposal'
      AND a.occurred_at >= s.entered_at AND (s.left_at IS NULL OR a.occurred_at < s.left_at)
      AND a.occurred_at >= CAST($start AS TIMESTAMP) AND a.occurred_at < CAST($end AS TIMESTAMP)
)
SELECT owner_rep_id, COUNT(*) AS proposals
FROM proposal_accounts
GROUP BY owner_rep_id
UNION ALL
SELECT CAST(NULL AS VARCHAR) AS owner_rep_id, COUNT(DISTINCT account_id) AS proposals
FROM proposal_accounts
