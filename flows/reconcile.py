"""Counts reconcile: after every extract, the publisher's own count next to the mirror's
count of the same thing, one row per counted thing in `ops.reconciliation`.

- API sources state their count (`LandingResult.publications`, kept by each resource:
  openFDA's `meta.results.total` for labels, NDC products and FAERS reports). The
  mirror's count is the number of distinct records of the same thing in raw (the current
  records dbt keeps: one per key), over the same range where the publisher's count
  covers a range (FAERS: the receipt dates mirrored).
- Runs that land release files count what those files hold: the rows read from the
  files landed in the run (landed + rejected) against the rows landed. That is every
  bulk run, and every run that found its files on the publisher's page without `--bulk`
  (PubMed's daily update files, the ICD-10-CM and HCPCS releases, FAERS quarters).
  Such a run asked no API, so it records no API count.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from extract.landing import LandingResult
from medmirror.settings import ConnectionInfo

# (source, resource) -> the mirror's count of what the publisher counts: a query over the
# raw table, with `%(since)s` and `%(through)s` where the publisher's count is of a range.
MIRROR_COUNTS = {
    ("clinicaltrials", "studies"): (
        "select count(*) from ("
        " select nct_id, max(last_update_post_date) as updated"
        " from raw_clinicaltrials.studies group by nct_id"
        " having not bool_or(coalesce(deleted, false))"
        ") as studies where coalesce(updated, %(since)s) >= %(since)s",
        "distinct nct_id in raw_clinicaltrials.studies, not withdrawn, last updated in the "
        "same range (a study landed without an update date counts in it)",
    ),
    ("dailymed", "labels"): (
        "select count(distinct set_id) from raw_dailymed.labels "
        "where not coalesce(deleted, false) and published_date >= %(since)s",
        "distinct set_id in raw_dailymed.labels published in the same range",
    ),
    ("faers", "events"): (
        "select count(distinct safetyreportid) from raw_faers.events "
        "where not coalesce(deleted, false) and receiptdate between %(since)s and %(through)s",
        "distinct safetyreportid in raw_faers.events received in the same range",
    ),
    ("openfda", "labels"): (
        "select count(*) from ("
        " select distinct on (set_id) deleted from raw_openfda.labels"
        " order by set_id, _dlt_load_id desc, deleted desc"
        ") as latest where not coalesce(deleted, false)",
        "distinct set_id in raw_openfda.labels whose latest landing is not a deletion notice",
    ),
    ("openfda", "ndc"): (
        "select count(distinct product_id) from raw_openfda.ndc"
        " where not coalesce(deleted, false) and product_ndc not in ("
        "  select product_ndc from ("
        "   select distinct on (product_ndc) product_ndc, deleted from raw_openfda.ndc"
        "   order by product_ndc, _dlt_load_id desc, deleted desc"
        "  ) as latest where coalesce(deleted, false))",
        "distinct product_id in raw_openfda.ndc, but those of a product NDC whose latest "
        "landing is a deletion notice",
    ),
}


@dataclass(frozen=True)
class Reconciliation:
    source: str
    resource: str
    checked_at: datetime
    publisher_count: int | None
    mirror_count: int | None
    counted: str
    how: str
    publisher_as_of: date | None = None
    mirror_as_of: date | None = None

    @property
    def agrees(self) -> bool:
        return self.publisher_count is None or self.publisher_count == self.mirror_count


def reconcile(
    connection: ConnectionInfo, result: LandingResult, *, bulk: bool
) -> list[Reconciliation]:
    """The reconciliation rows of one extract (not written).

    `bulk`: the run read release files (a bulk location, or the release files listed on
    the publisher's page it was asked for). A run that found release files on a
    publisher's page by itself (`result.files.pages`) or landed some is one too."""
    checked_at = datetime.now(UTC)
    rows = []
    files = result.files
    landed = files.landed if files else []
    if landed:
        rows.append(
            Reconciliation(
                source=result.source,
                resource="release files",
                checked_at=checked_at,
                publisher_count=result.total_rows + result.rejected,
                mirror_count=result.total_rows,
                counted="records in the "
                + ("release file" if len(landed) == 1 else f"{len(landed)} release files")
                + " landed by this run",
                how="rows read from the release files (landed + rejected) against the rows landed",
            )
        )
    if bulk or landed or (files and files.pages):
        return rows
    conn = connection.connect()
    try:
        with conn.cursor() as cur:
            for resource, publication in sorted(result.publications.items()):
                known = MIRROR_COUNTS.get((result.source, resource))
                # Without a query, the count the extract made of what it received.
                mirror_count = publication.get("mirror_count")
                how = publication.get("how") or "stated by the publisher"
                if known and publication.get("total") is not None:
                    query, what = known
                    cur.execute(query, publication)
                    mirror_count = cur.fetchone()[0]
                    how = f"{how}; mirror: {what}"
                rows.append(
                    Reconciliation(
                        source=result.source,
                        resource=resource,
                        checked_at=checked_at,
                        publisher_count=publication.get("total"),
                        mirror_count=mirror_count,
                        counted=publication.get("counted") or resource,
                        how=how,
                        publisher_as_of=_date(publication.get("as_of")),
                        mirror_as_of=_date(publication.get("landed_as_of")),
                    )
                )
    finally:
        conn.close()
    return rows


def record_reconciliation(connection: ConnectionInfo, rows: list[Reconciliation]) -> None:
    if not rows:
        return
    conn = connection.connect()
    try:
        with conn, conn.cursor() as cur:
            cur.executemany(
                """
                insert into ops.reconciliation (
                    source, resource, checked_at, publisher_count, mirror_count, counted,
                    how, publisher_as_of, mirror_as_of
                ) values (%s, %s, %s, %s, %s, %s, %s, %s, %s)
                """,
                [
                    (
                        row.source,
                        row.resource,
                        row.checked_at,
                        row.publisher_count,
                        row.mirror_count,
                        row.counted,
                        row.how,
                        row.publisher_as_of,
                        row.mirror_as_of,
                    )
                    for row in rows
                ],
            )
    finally:
        conn.close()


def latest_reconciliation(cur: Any, source: str) -> list[Reconciliation]:
    """The rows of the source's latest reconciliation of each counted thing."""
    cur.execute("select to_regclass('ops.reconciliation') is not null")
    if not cur.fetchone()[0]:
        return []
    cur.execute(
        """
        select distinct on (resource)
            source, resource, checked_at, publisher_count, mirror_count, counted, how,
            publisher_as_of, mirror_as_of
        from ops.reconciliation
        where source = %s
        order by resource, checked_at desc
        """,
        (source,),
    )
    return [Reconciliation(*row) for row in cur.fetchall()]


def _date(value: Any) -> date | None:
    return date.fromisoformat(value) if isinstance(value, str) and value else None
