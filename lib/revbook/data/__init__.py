"""The data layer: the warehouse interface and its engines (DuckDB, BigQuery), loading and validating
exports against the contract, and the rep roster. Uses only core."""
