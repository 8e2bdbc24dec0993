-- Recycled leads with no re-approach date: the list inside sales must schedule (first 200).
SELECT lead_id, company_name, owner_rep_id, recycle_reason, created_at
FROM leads
WHERE status = 'recycled' AND next_approach_date IS NULL
ORDER BY created_at, lead_id
LIMIT 200
