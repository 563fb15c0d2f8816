"""Per-topic reports on the data's quality, read from the `ops` models dbt builds
(`medmirror report drugs`, `medmirror report links`)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from psycopg2 import sql

from medmirror.settings import ConnectionInfo

# topic -> the ops model that holds its report (one row per metric)
REPORTS = {"drugs": "drug_consolidation_report", "links": "drug_link_report"}


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


@dataclass(frozen=True)
class RefusedLink:
    source: str
    source_text: str
    outcome: str
    candidate_drugs: list[str]
    records: int


def refused_links(connection: ConnectionInfo, limit: int = 50) -> tuple[int, list[RefusedLink]]:
    """How many source records the drug links refused (ambiguous or conflicting), and the
    first `limit` of them by the rows they stand for, with the generic names of the
    drugs they could have meant (`marts.drug_link_ambiguities`)."""
    conn = connection.connect()
    try:
        with conn.cursor() as cur:
            cur.execute("select to_regclass('marts.drug_link_ambiguities') is not null")
            if not cur.fetchone()[0]:
                return 0, []
            cur.execute("select count(*) from marts.drug_link_ambiguities")
            (total,) = cur.fetchone()
            cur.execute(
                """
                select source, source_text, outcome,
                    array(
                        select coalesce(drugs.generic_name, candidate.drug_id)
                        from unnest(ambiguities.candidate_drug_ids) as candidate (drug_id)
                        left join marts.drugs on drugs.drug_id = candidate.drug_id
                        order by 1
                    ),
                    records
                from marts.drug_link_ambiguities as ambiguities
                order by records desc, source, source_text
                limit %s
                """,
                (limit,),
            )
            return total, [RefusedLink(*row) for row in cur.fetchall()]
    finally:
        conn.close()
