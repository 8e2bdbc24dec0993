-- How many accounts were paying at the end of the day before $at (the customer panel's rows there).
SELECT COUNT(DISTINCT account_id) AS accounts
FROM subscriptions
WHERE start_date < CAST($at AS DATE) AND (end_date IS NULL OR end_date >= CAST($at AS DATE))
