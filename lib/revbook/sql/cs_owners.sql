-- Each account's customer-success owner: the customer_success rep with the most recent activity on it.
WITH ranked AS (
    SELECT a.account_id, a.rep_id,
           ROW_NUMBER() OVER (PARTITION BY a.account_id ORDER BY a.occurred_at DESC, a.rep_id) AS latest
    FROM activities AS a
    JOIN reps AS r ON r.rep_id = a.rep_id
    WHERE a.account_id IS NOT NULL AND r.team = 'customer_success'
)
SELECT k.account_id, k.rep_id AS owner_rep_id, r.name AS owner_name
FROM ranked AS k
JOIN reps AS r ON r.rep_id = k.rep_id AND r.team = 'customer_success'  -- a rep may be on several teams
WHERE k.latest = 1
ORDER BY k.account_id
