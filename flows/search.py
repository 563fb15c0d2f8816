"""Full-text search on a searchable mart, through the mart's own search function
(`marts.search_<mart>`, created by dbt; see macros/create_search_function.sql)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from psycopg2 import sql

from medmirror.settings import ConnectionInfo


def search(
    connection: ConnectionInfo,
    mart: str,
    query: str,
    columns: Sequence[str],
    limit: int = 20,
) -> list[dict[str, Any]]:
    """The best `limit` rows of `marts.<mart>` for a web-style query ("growth hormone").

    A query without a word to search for (empty, or only stopwords such as "the") finds
    nothing, rather than failing on an empty tsquery."""
    statement = sql.SQL("select {columns}, rank from {function}(%s, %s)").format(
        columns=sql.SQL(", ").join(sql.Identifier(column) for column in columns),
        function=sql.Identifier("marts", f"search_{mart}"),
    )
    conn = connection.connect()
    try:
        with conn.cursor() as cur:
            cur.execute("select numnode(websearch_to_tsquery('english', %s))", (query,))
            if cur.fetchone()[0] == 0:
                return []
            cur.execute(statement, (query, limit))
            names = [description[0] for description in cur.description]
            return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]
    finally:
        conn.close()
