"""The run machinery: a schedule becomes executed notebooks, HTML pages, an index and a manifest."""
