-- Leads planned for (re-)approach per day in [$start, $end): their next_approach_date.
SELECT next_approach_date AS day, COUNT(*) AS leads
FROM leads
WHERE next_approach_date >= $start AND next_approach_date < $end
GROUP BY 1
ORDER BY 1
