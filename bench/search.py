"""Full-text search latency on a searchable mart: ranked top-20, common words included.

    python -m bench.search --database bench_1m
    python -m bench.search --mart pubmed_articles --database bench_pubmed_1m

Needs a database built by `bench.pipeline` (e.g. 1M generated studies or articles). For
each query (common words, phrases, a disease, and for trials rare drug codes taken from
the data) it times `marts.search_<mart>(query, 20)` (ranks a bounded candidate set) and
the naive way (`ts_rank` over every match, then the top 20), and prints p50/p95
latencies, how many rows each query matches, and how many of the naive top 20 the fast
search also returns.
"""

from __future__ import annotations

import argparse
import statistics
import time
from dataclasses import dataclass, replace

from psycopg2 import sql

from bench.common import machine, table, warehouse_connection


@dataclass(frozen=True)
class SearchableMart:
    key: str
    queries: tuple[str, ...]
    rare_queries: str | None = None  # SQL giving a few rare terms taken from the data


MARTS = {
    "clinical_trials": SearchableMart(
        key="nct_id",
        queries=(
            "patients",
            "study",
            "treatment",
            "diabetes",
            "cancer",
            "pain",
            "children",
            "growth hormone",
            "randomized placebo",
            "heart failure",
            "breast cancer",
        ),
        rare_queries="""
            select name from (
                select unnest(intervention_names) as name
                from marts.clinical_trials limit 200000
            ) as names
            where name ~ '^[A-Z]{2}-[0-9]{3,4}$'
            limit 3
        """,
    ),
    "pubmed_articles": SearchableMart(
        key="pmid",
        queries=(
            "patients",
            "study",
            "disease",
            "children",
            "kidney",
            "cancer",
            "treatment",
            "chronic kidney disease",
            "serum",
            "uric acid",
            "neurocognitive functions",
        ),
    ),
}


def timed_runs(cur, statement: str, query: str, runs: int) -> tuple[list[float], list[str]]:
    cur.execute(statement, (query,))  # warm the cache
    hits = [row[0] for row in cur.fetchall()]
    seconds = []
    for _ in range(runs):
        start = time.perf_counter()
        cur.execute(statement, (query,))
        cur.fetchall()
        seconds.append(time.perf_counter() - start)
    return seconds, hits


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mart", choices=sorted(MARTS), default="clinical_trials")
    parser.add_argument("--database", default="bench_1m")
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--naive-runs", type=int, default=3)
    args = parser.parse_args()

    mart = MARTS[args.mart]
    relation = sql.Identifier("marts", args.mart)
    key = sql.Identifier(mart.key)
    naive_sql = sql.SQL(
        """
        select {key} from {mart}, websearch_to_tsquery('english', %s) as query
        where search_vector @@ query
        order by ts_rank(search_vector, query) desc
        limit 20
        """
    ).format(key=key, mart=relation)
    fast_sql = sql.SQL("select {key} from {function}(%s, 20)").format(
        key=key, function=sql.Identifier("marts", f"search_{args.mart}")
    )
    matches_sql = sql.SQL(
        "select count(*) from {mart} where search_vector @@ websearch_to_tsquery('english', %s)"
    ).format(mart=relation)

    connection = replace(warehouse_connection(), database=args.database)
    conn = connection.connect()
    conn.autocommit = True
    cur = conn.cursor()
    cur.execute(sql.SQL("select count(*) from {mart}").format(mart=relation))
    (rows,) = cur.fetchone()
    queries = list(mart.queries)
    if mart.rare_queries:
        cur.execute(mart.rare_queries)
        queries += [term for (term,) in cur.fetchall()]

    report = []
    fast_all: list[float] = []
    naive_all: list[float] = []
    overlaps = []
    for query in queries:
        cur.execute(matches_sql, (query,))
        (matches,) = cur.fetchone()
        fast, fast_hits = timed_runs(cur, fast_sql, query, args.runs)
        naive, naive_hits = timed_runs(cur, naive_sql, query, args.naive_runs)
        fast_all += fast
        naive_all += naive
        overlap = len(set(fast_hits) & set(naive_hits)) / max(1, len(naive_hits))
        overlaps.append(overlap)
        report.append(
            (
                query,
                f"{matches:,}",
                f"{percentile(fast, 0.5) * 1000:,.1f}",
                f"{percentile(fast, 0.95) * 1000:,.1f}",
                f"{statistics.median(naive) * 1000:,.0f}",
                f"{overlap:.0%}",
            )
        )
    conn.close()
    report.append(
        (
            "all queries",
            "",
            f"{percentile(fast_all, 0.5) * 1000:,.1f}",
            f"{percentile(fast_all, 0.95) * 1000:,.1f}",
            f"{statistics.median(naive_all) * 1000:,.0f} "
            f"(p95 {percentile(naive_all, 0.95) * 1000:,.0f})",
            f"{statistics.mean(overlaps):.0%}",
        )
    )
    print(f"Search of marts.{args.mart}, {rows:,} rows, top 20; {machine()}")
    print(
        table(
            report,
            (
                "query",
                "matching rows",
                "p50 ms",
                "p95 ms",
                "naive ts_rank p50 ms",
                "naive top 20 also found",
            ),
        )
    )


if __name__ == "__main__":
    main()
