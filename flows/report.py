"""Per-topic reports on the data's quality, read from the `ops` models dbt builds
(`medmirror report drugs`)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from psycopg2 import sql

from medmirror.settings import ConnectionInfo

# topic -> the ops model that holds its report (one row per metric)
REPORTS = {"drugs": "drug_consolidation_report"}


class ReportNotBuilt(RuntimeError):
    """The report's model does not exist yet: nothing has built it."""


@dataclass(frozen=True)
class ReportLine:
    metric: str
    value: Decimal
    out_of: int | None
    share: Decimal | None
    description: str


def report(connection: ConnectionInfo, topic: str) -> list[ReportLine]:
    """The metrics of `ops.<topic's report>`, in their order."""
    try:
        model = REPORTS[topic]
    except KeyError:
        known = ", ".join(sorted(REPORTS))
        raise ValueError(f"no report on {topic!r} (known: {known})") from None
    conn = connection.connect()
    try:
        with conn.cursor() as cur:
            cur.execute("select to_regclass(%s) is not null", (f'"ops"."{model}"',))
            if not cur.fetchone()[0]:
                raise ReportNotBuilt(
                    f"ops.{model} is not built yet: land the drug sources and build the marts "
                    "(medmirror demo, or medmirror refresh --source dailymed)"
                )
            cur.execute(
                sql.SQL(
                    "select metric, value, out_of, share, description from {} order by position"
                ).format(sql.Identifier("ops", model))
            )
            return [ReportLine(*row) for row in cur.fetchall()]
    finally:
        conn.close()
