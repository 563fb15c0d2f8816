"""Ingest throughput from bulk files: medmirror against COPY and against the naive way.

    python -m bench.ingest clinicaltrials --records 50000
    python -m bench.ingest pubmed --records 100000

Each way loads the same generated release (a ClinicalTrials.gov full-download zip, or
PubMed baseline files) into the same PostgreSQL, in one run:

- medmirror: the full path (read the files, parse, land as Arrow through dlt, COPY,
  commit each window and its cursor), as `medmirror refresh --bulk` does;
- COPY: PostgreSQL `COPY ... FROM STDIN` of exactly the rows medmirror landed, prepared
  in memory beforehand: the physical limit of a load here;
- naive: what many hand-written mirrors do: parse each record in Python and send one
  `INSERT ... ON CONFLICT (key) DO UPDATE` per record (one transaction, psycopg2, over
  TCP), on the first `--naive-records` records. PubMed articles are parsed into the same
  JSON documents as medmirror's (its own parser), so only the way of loading differs.
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from psycopg2 import sql

from bench.common import OUT, fresh_database, generated_zip, machine, table, timed, use_database
from medmirror.settings import ConnectionInfo


@dataclass(frozen=True)
class IngestCase:
    """What the benchmark needs to know of one source."""

    source: str
    unit: str  # what a record is called: studies, articles
    key: str
    cursor: str
    release: Callable[[int], Path]  # generate (once) a release of N records
    naive_rows: Callable[[Path], Iterator[tuple[str, str | None, str, str]]]
    megabytes: Callable[[Path], float]  # uncompressed size of the release

    @property
    def raw_table(self) -> str:
        from flows.sources import spec_of

        return f"raw_{self.source}.{spec_of(self.source).status_table}"


def land_with_medmirror(case: IngestCase, connection: ConnectionInfo, release: Path) -> float:
    from extract.landing import land, pipeline_for
    from flows.sources import spec_of

    spec = spec_of(case.source)
    with tempfile.TemporaryDirectory() as scratch:
        use_database(connection, Path(scratch))
        pipeline = pipeline_for(case.source, connection, Path(scratch) / "dlt")
        with timed() as took:
            land(
                pipeline,
                lambda: spec.make_source(bulk_location=str(release)),
                tables=spec.tables,
            )
    return took["seconds"]


def copy_same_rows(case: IngestCase, connection: ConnectionInfo) -> float:
    schema, raw = case.raw_table.split(".")
    key, cursor = sql.Identifier(case.key), sql.Identifier(case.cursor)
    conn = connection.connect()
    with conn.cursor() as cur:
        buffer = io.StringIO()
        landed = sql.SQL(
            "copy (select {key}, {cursor}, record, source_uri, deleted from {raw}) to stdout"
        ).format(key=key, cursor=cursor, raw=sql.Identifier(schema, raw))
        cur.copy_expert(landed.as_string(conn), buffer)
        cur.execute(
            sql.SQL(
                "create table public.copy_target ({key} text, {cursor} date, "
                "record jsonb, source_uri text, deleted boolean)"
            ).format(key=key, cursor=cursor)
        )
        conn.commit()
        buffer.seek(0)
        with timed() as took:
            cur.copy_expert("copy public.copy_target from stdin", buffer)
            conn.commit()
    conn.close()
    return took["seconds"]


def insert_one_by_one(
    case: IngestCase, connection: ConnectionInfo, release: Path, limit: int
) -> tuple[int, float]:
    key, cursor = sql.Identifier(case.key), sql.Identifier(case.cursor)
    conn = connection.connect()
    with conn.cursor() as cur:
        cur.execute(
            sql.SQL(
                "create table public.naive ({key} text primary key, "
                "{cursor} date, record jsonb, source_uri text)"
            ).format(key=key, cursor=cursor)
        )
        conn.commit()
        upsert = sql.SQL(
            """
            insert into public.naive values (%s, %s, %s, %s)
            on conflict ({key}) do update set
                {cursor} = excluded.{cursor},
                record = excluded.record, source_uri = excluded.source_uri
            """
        ).format(key=key, cursor=cursor)
        done = 0
        with timed() as took:
            for row in case.naive_rows(release):
                cur.execute(upsert, row)
                done += 1
                if done == limit:
                    break
            conn.commit()
    conn.close()
    return done, took["seconds"]


# -- ClinicalTrials.gov: a full-download zip of study documents -------------------------


def naive_studies(archive: Path) -> Iterator[tuple[str, str | None, str, str]]:
    with zipfile.ZipFile(archive) as members:
        for name in members.namelist():
            study = json.loads(members.read(name))
            status = study["protocolSection"]["statusModule"]
            yield (
                study["protocolSection"]["identificationModule"]["nctId"],
                status["lastUpdatePostDateStruct"]["date"],
                json.dumps(study),
                f"{archive}!{name}",
            )


def uncompressed_mb(archive: Path) -> float:
    with zipfile.ZipFile(archive) as members:
        return sum(info.file_size for info in members.infolist()) / 1e6


# -- PubMed: baseline files of articles ---------------------------------------------------


def pubmed_release(articles: int) -> Path:
    """A folder of generated PubMed baseline files (made once, then reused)."""
    from bench.pubmed_generator import ArticleGenerator, write_files

    target = OUT / f"pubmed-{articles}"
    if not target.exists():
        partial = target.with_suffix(".partial")
        write_files(ArticleGenerator().articles(articles), partial)
        partial.rename(target)
    return target


def naive_articles(folder: Path) -> Iterator[tuple[str, str | None, str, str]]:
    from extract.pubmed.helpers import ARTICLE, article_record, iter_items

    for path in sorted(folder.glob("*.xml.gz")):
        with gzip.open(path) as stream:
            for element in iter_items(stream, where=str(path)):
                if element.tag != ARTICLE:
                    continue
                record = article_record(element, where=str(path))
                yield (
                    record["pmid"],
                    record.get("date_revised"),
                    json.dumps(record),
                    str(path),
                )


def gzipped_mb(folder: Path) -> float:
    """Uncompressed size of the gzip files of a folder (each file's ISIZE trailer)."""
    total = 0
    for path in folder.glob("*.gz"):
        with open(path, "rb") as stream:
            stream.seek(-4, io.SEEK_END)
            total += int.from_bytes(stream.read(4), "little")
    return total / 1e6


CASES = {
    case.source: case
    for case in [
        IngestCase(
            source="clinicaltrials",
            unit="studies",
            key="nct_id",
            cursor="last_update_post_date",
            release=generated_zip,
            naive_rows=naive_studies,
            megabytes=uncompressed_mb,
        ),
        IngestCase(
            source="pubmed",
            unit="articles",
            key="pmid",
            cursor="date_revised",
            release=pubmed_release,
            naive_rows=naive_articles,
            megabytes=gzipped_mb,
        ),
    ]
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", choices=sorted(CASES))
    parser.add_argument("--records", type=int, default=50_000)
    parser.add_argument("--naive-records", type=int, default=10_000)
    args = parser.parse_args()
    case = CASES[args.source]

    release = case.release(args.records)
    megabytes = case.megabytes(release)
    connection = fresh_database(f"bench_ingest_{case.source}")
    medmirror_s = land_with_medmirror(case, connection, release)
    copy_s = copy_same_rows(case, connection)
    naive_n, naive_s = insert_one_by_one(case, connection, release, args.naive_records)

    medmirror_rate = args.records / medmirror_s
    copy_rate = args.records / copy_s
    naive_rate = naive_n / naive_s
    rows = [
        (
            "medmirror bulk (parse, land, commit)",
            f"{medmirror_rate:,.0f}",
            f"{megabytes / medmirror_s:,.1f}",
            f"{medmirror_rate / copy_rate:.2f}",
            f"{medmirror_rate / naive_rate:.1f}",
        ),
        (
            "COPY of the same rows",
            f"{copy_rate:,.0f}",
            f"{megabytes / copy_s:,.1f}",
            "1.00",
            f"{copy_rate / naive_rate:.1f}",
        ),
        (
            "naive INSERT ... ON CONFLICT per record",
            f"{naive_rate:,.0f}",
            f"{megabytes * naive_n / args.records / naive_s:,.1f}",
            f"{naive_rate / copy_rate:.2f}",
            "1.0",
        ),
    ]
    print(
        f"{case.source} ingest, {args.records:,} {case.unit} ({megabytes:,.0f} MB uncompressed); "
        f"naive on {naive_n:,}; {machine()}"
    )
    print(table(rows, ("way", f"{case.unit}/s", "MB/s", "x COPY", "x naive")))


if __name__ == "__main__":
    main()
