"""What changed in the warehouse since a date: `marts.changes`, newest first."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from medmirror.settings import ConnectionInfo

MATCHING = """
    from marts.changes
    where (%(since)s::date is null or seen_at >= %(since)s::date)
        and (%(source)s::text is null or source = %(source)s::text)
"""
COUNT = "select count(*)" + MATCHING
NEWEST = (
    "select seen_at, source, change_type, record_key, detail, record_count, published_date"
    + MATCHING
    + "order by seen_at desc, source, change_type, record_key limit %(limit)s"
)


class ChangesNotBuilt(RuntimeError):
    """`marts.changes` does not exist yet: nothing has built it."""


@dataclass(frozen=True)
class Change:
    seen_at: datetime
    source: str
    change_type: str
    record_key: str | None
    detail: str | None
    record_count: int
    published_date: date | None


def changes(
    connection: ConnectionInfo,
    *,
    since: date | None = None,
    source: str | None = None,
    limit: int = 100,
) -> tuple[int, list[Change]]:
    """How many changes match, and the newest `limit` of them (seen on or after `since`,
    of `source` when given)."""
    conn = connection.connect()
    try:
        with conn.cursor() as cur:
            cur.execute("select to_regclass('marts.changes') is not null")
            if not cur.fetchone()[0]:
                raise ChangesNotBuilt(
                    "marts.changes is not built yet: land a source and build the marts "
                    "(medmirror demo, or medmirror refresh)"
                )
            arguments = {"since": since, "source": source, "limit": limit}
            cur.execute(COUNT, arguments)
            (total,) = cur.fetchone()
            cur.execute(NEWEST, arguments)
            return total, [Change(*row) for row in cur.fetchall()]
    finally:
        conn.close()
