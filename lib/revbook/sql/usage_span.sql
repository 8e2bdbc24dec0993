-- The first and last day of product usage data (how far back the models can look, how fresh alerts are).
SELECT MIN(date) AS first_day, MAX(date) AS last_day, COUNT(*) AS usage_rows
FROM product_usage_daily
