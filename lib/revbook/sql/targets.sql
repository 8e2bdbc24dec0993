-- A department's targets (plan values) per month in $months, long format: month, metric, target.
SELECT t.month, t.metric, t.target
FROM targets AS t
WHERE t.department = $department
  AND t.month IN (SELECT m FROM UNNEST($months) AS u(m))
ORDER BY t.month, t.metric
