"""Full-text search on a searchable mart (one with a `search_vector`)."""

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
    """The best `limit` rows of `marts.<mart>` for a web-style query ("growth hormone")."""
    statement = sql.SQL(
        """
        select {columns}, ts_rank(search_vector, query) as rank
        from {mart}, websearch_to_tsquery('english', %s) as query
        where search_vector @@ query
        order by rank desc
        limit %s
        """
    ).format(
        columns=sql.SQL(", ").join(sql.Identifier(column) for column in columns),
        mart=sql.Identifier("marts", mart),
    )
    conn = connection.connect()
    try:
        with conn.cursor() as cur:
            cur.execute(statement, (query, limit))
            names = [description[0] for description in cur.description]
            return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]
    finally:
        conn.close()
