"""Presentation: how numbers, tables, prose and charts look on a page (and the page templates).
The only layer that formats a number as text."""
