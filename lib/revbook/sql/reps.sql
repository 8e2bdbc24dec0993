-- The rep roster (for fan-out of personal reports and rep checks).
SELECT rep_id, name, team, segment, monthly_sql_capacity, active
FROM reps
ORDER BY rep_id
