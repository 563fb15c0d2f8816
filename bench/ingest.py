"""Ingest throughput from bulk files: medmirror against COPY and against the naive way.

    python -m bench.ingest --studies 50000

All three load the same generated ClinicalTrials.gov full-download zip into the same
PostgreSQL, in one run:

- medmirror: the full path (read zip members, parse, land as Arrow through dlt, COPY,
  commit the window and its cursor), as `medmirror refresh --bulk` does;
- COPY: PostgreSQL `COPY ... FROM STDIN` of exactly the rows medmirror landed, prepared
  in memory beforehand: the physical limit of a load here;
- naive: what many hand-written mirrors do: read each file, `json.loads` it, and send one
  `INSERT ... ON CONFLICT (nct_id) DO UPDATE` per study from Python (one transaction,
  psycopg2, over TCP), on the first `--naive-studies` studies.
"""

from __future__ import annotations

import argparse
import io
import json
import tempfile
import zipfile
from pathlib import Path

from bench.common import fresh_database, generated_zip, machine, table, timed, use_database
from medmirror.settings import ConnectionInfo


def land_with_medmirror(connection: ConnectionInfo, archive: Path, scratch: Path) -> float:
    from extract.clinicaltrials import RAW_INDEXES, clinicaltrials
    from extract.landing import land, pipeline_for

    use_database(connection, scratch)
    pipeline = pipeline_for("clinicaltrials", connection, scratch / "dlt")
    with timed() as took:
        land(pipeline, lambda: clinicaltrials(bulk_location=str(archive)), indexes=RAW_INDEXES)
    return took["seconds"]


def copy_same_rows(connection: ConnectionInfo) -> float:
    conn = connection.connect()
    with conn.cursor() as cur:
        buffer = io.StringIO()
        cur.copy_expert(
            "copy (select nct_id, last_update_post_date, record, source_uri, deleted "
            "from raw_clinicaltrials.studies) to stdout",
            buffer,
        )
        cur.execute(
            "create table public.copy_target (nct_id text, last_update_post_date date, "
            "record jsonb, source_uri text, deleted boolean)"
        )
        conn.commit()
        buffer.seek(0)
        with timed() as took:
            cur.copy_expert("copy public.copy_target from stdin", buffer)
            conn.commit()
    conn.close()
    return took["seconds"]


def insert_one_by_one(connection: ConnectionInfo, archive: Path, limit: int) -> tuple[int, float]:
    conn = connection.connect()
    with conn.cursor() as cur:
        cur.execute(
            "create table public.naive_studies (nct_id text primary key, "
            "last_update_post_date date, record jsonb, source_uri text)"
        )
        conn.commit()
        done = 0
        with timed() as took, zipfile.ZipFile(archive) as members:
            for name in members.namelist()[:limit]:
                study = json.loads(members.read(name))
                status = study["protocolSection"]["statusModule"]
                cur.execute(
                    """
                    insert into public.naive_studies values (%s, %s, %s, %s)
                    on conflict (nct_id) do update set
                        last_update_post_date = excluded.last_update_post_date,
                        record = excluded.record, source_uri = excluded.source_uri
                    """,
                    (
                        study["protocolSection"]["identificationModule"]["nctId"],
                        status["lastUpdatePostDateStruct"]["date"],
                        json.dumps(study),
                        f"{archive}!{name}",
                    ),
                )
                done += 1
            conn.commit()
    conn.close()
    return done, took["seconds"]


def uncompressed_mb(archive: Path) -> float:
    with zipfile.ZipFile(archive) as members:
        return sum(info.file_size for info in members.infolist()) / 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--studies", type=int, default=50_000)
    parser.add_argument("--naive-studies", type=int, default=10_000)
    args = parser.parse_args()

    archive = generated_zip(args.studies)
    megabytes = uncompressed_mb(archive)
    connection = fresh_database("bench_ingest")
    with tempfile.TemporaryDirectory() as scratch:
        medmirror_s = land_with_medmirror(connection, archive, Path(scratch))
    copy_s = copy_same_rows(connection)
    naive_n, naive_s = insert_one_by_one(connection, archive, args.naive_studies)

    medmirror_rate = args.studies / medmirror_s
    copy_rate = args.studies / copy_s
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
            "naive INSERT ... ON CONFLICT per study",
            f"{naive_rate:,.0f}",
            f"{megabytes * naive_n / args.studies / naive_s:,.1f}",
            f"{naive_rate / copy_rate:.2f}",
            "1.0",
        ),
    ]
    print(
        f"ClinicalTrials.gov ingest, {args.studies:,} studies ({megabytes:,.0f} MB of JSON); "
        f"naive on {naive_n:,}; {machine()}"
    )
    print(table(rows, ("way", "studies/s", "MB/s", "x COPY", "x naive")))


if __name__ == "__main__":
    main()
