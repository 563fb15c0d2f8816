"""Memory of `medmirror export`: it must not grow with the size of the mart.

    python -m bench.export --rows 100000 --times 10

Generates a mart of N rows shaped like `pubmed_articles` (a 1.3 KB abstract, a title,
two text arrays, a jsonb document, a date, a small integer, a numeric, a timestamp) in the
benchmark warehouse, then one `--times` larger, and exports each in a fresh process
(server-side cursor, Arrow batches, Parquet row groups: `serving.export.export_mart`),
printing rows, Parquet size, time and the process's peak resident memory (RSS).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile

from psycopg2 import sql

from bench.common import fresh_database, machine, table, timed
from medmirror.settings import ConnectionInfo

MART = "bench_articles"

CHILD = """
import json, resource, sys, time
from pathlib import Path
from medmirror.settings import ConnectionInfo
from serving.catalog import Mart
from serving.export import export_mart
connection, out = ConnectionInfo.from_url(sys.argv[1]), Path(sys.argv[2])
mart = Mart(sys.argv[3], "generated", (), ("pmid",), (), "bench")
start = time.perf_counter()
result = export_mart(connection, mart, out, split_rows=10**12)
seconds = time.perf_counter() - start
peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({
    "rows": result.rows, "bytes": sum(item.bytes for item in result.files),
    "seconds": seconds, "peak_mib": peak_kib / 1024,
}))
"""


def generate(connection: ConnectionInfo, rows: int) -> float:
    """Create `marts.bench_articles` with `rows` rows; the seconds it took."""
    conn = connection.connect()
    conn.autocommit = True
    try:
        with conn.cursor() as cur, timed() as took:
            cur.execute("create schema if not exists marts")
            cur.execute(sql.SQL("drop table if exists {}").format(sql.Identifier("marts", MART)))
            cur.execute(
                sql.SQL(
                    """
                    create table {} as
                    select
                        lpad(i::text, 9, '0') as pmid,
                        'Generated article ' || md5(i::text) as title,
                        repeat(md5(i::text) || ' ', 40) as abstract,
                        array[md5((i + 1)::text), md5((i + 2)::text)] as authors,
                        array['Humans', 'Adult', md5((i %% 500)::text)] as mesh_terms,
                        jsonb_build_object('grant_id', 'R01-' || i, 'agency', 'NIH') as grants,
                        date '2000-01-01' + (i %% 9000) as publication_date,
                        (2000 + i %% 25)::smallint as publication_year,
                        (i %% 1000)::numeric / 7 as score,
                        timestamptz '2026-01-01' + i * interval '1 second' as loaded_at
                    from generate_series(1, %s) as i
                    """
                ).format(sql.Identifier("marts", MART)),
                (rows,),
            )
            cur.execute(sql.SQL("analyze {}").format(sql.Identifier("marts", MART)))
            cur.execute("select pg_total_relation_size(%s)", (f"marts.{MART}",))
            size = cur.fetchone()[0]
    finally:
        conn.close()
    megabytes = size / 1e6
    print(f"generated {rows:,} rows ({megabytes:,.0f} MB in PostgreSQL) in {took['seconds']:.0f} s")
    return size


def export_in_child(connection: ConnectionInfo) -> dict:
    with tempfile.TemporaryDirectory() as out:
        done = subprocess.run(
            [sys.executable, "-c", CHILD, connection.url(), out, MART],
            capture_output=True,
            text=True,
        )
    if done.returncode:
        raise SystemExit(done.stderr)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--times", type=int, default=10)
    args = parser.parse_args()
    connection = fresh_database("bench_export")
    results = []
    for rows in (args.rows, args.rows * args.times):
        table_bytes = generate(connection, rows)
        found = export_in_child(connection)
        results.append((rows, table_bytes, found))
    print(f"\n{machine()}\n")
    print(
        table(
            [
                (
                    f"{rows:,}",
                    f"{table_bytes / 1e6:,.0f}",
                    f"{found['bytes'] / 1e6:,.1f}",
                    f"{found['seconds']:.1f}",
                    f"{found['rows'] / found['seconds']:,.0f}",
                    f"{found['peak_mib']:.0f}",
                )
                for rows, table_bytes, found in results
            ],
            ("rows", "MB in PostgreSQL", "MB of Parquet", "seconds", "rows/s", "peak RSS MiB"),
        )
    )
    first, last = results[0][2]["peak_mib"], results[-1][2]["peak_mib"]
    print(f"\npeak memory, {args.times}x the rows: x{last / first:.2f}")


if __name__ == "__main__":
    main()
