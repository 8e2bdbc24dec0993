"""Delivery: where results go besides the HTML pages (Slack). Uses only core."""
