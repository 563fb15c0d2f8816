"""Serving the marts: Parquet snapshots (`export`), DuckDB over a snapshot (`duckdb_sql`),
a read-only HTTP API (`api`) and MCP tools (`mcp_tools`), all as the analyst role.

`serving` imports `flows` and `medmirror`; neither imports `serving` (the command line
loads it lazily).
"""
