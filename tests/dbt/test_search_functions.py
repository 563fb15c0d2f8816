"""Every searchable mart's search function on both of its paths: every match ranked when
the planner expects few, a bounded candidate set ranked when it expects many (the path
a full-size mart takes for common words)."""

from __future__ import annotations

import math

import pytest
from psycopg2 import sql

from extract.spec import SourceSpec
from flows.sources import SOURCES

EXACT_UP_TO = 2000  # create_search_function's default: above it, candidates are ranked
SEARCHABLE = [spec for spec in SOURCES.values() if spec.search and spec.samples]


def estimated_matches(connection, mart: sql.Identifier, words: str) -> float:
    """How many rows the planner expects to match (what the search function asks it)."""
    ((plan,),) = run(
        connection,
        sql.SQL(
            "explain (format json) select 1 from {mart} "
            "where search_vector @@ websearch_to_tsquery('english', %s)"
        ).format(mart=mart),
        words,
    )
    return float(plan[0]["Plan"]["Plan Rows"])


def run(connection, statement: sql.Composable, *params) -> list[tuple]:
    """Rows of one statement (none for a statement that returns none), committed."""
    conn = connection.connect()
    try:
        with conn.cursor() as cur:
            cur.execute(statement, params)
            found = cur.fetchall() if cur.description else []
        conn.commit()
        return found
    finally:
        conn.close()


@pytest.mark.parametrize("spec", SEARCHABLE, ids=[spec.name for spec in SEARCHABLE])
def test_the_example_search_finds_its_rows_on_both_paths(samples_database, spec: SourceSpec):
    database = samples_database(spec.name)  # its real samples landed and built
    words, key = spec.search.query, spec.search.shown[0]
    mart = sql.Identifier("marts", spec.search.mart)
    search = sql.SQL("select {key} from {function}(%s, 20)").format(
        key=sql.Identifier(key), function=sql.Identifier("marts", f"search_{spec.search.mart}")
    )
    matching = sql.SQL(
        "select {key} from {mart} where search_vector @@ websearch_to_tsquery('english', %s)"
    ).format(key=sql.Identifier(key), mart=mart)
    matches = {row[0] for row in run(database, matching, words)}
    assert matches, f"the samples hold no match for {words!r}"

    exact = [row[0] for row in run(database, search, words)]
    assert set(exact) <= matches
    assert len(exact) == min(20, len(matches))

    # Copies of the matching rows until the planner expects many matches, each with fresh
    # values in every uniquely indexed column ("<value>-copy-<n>", or below zero when
    # numeric): the search key and any other unique key (drugs' ingredient_key).
    copies = math.ceil((EXACT_UP_TO + 500) / len(matches))
    unique_columns = {key} | {
        column
        for (column,) in run(
            database,
            sql.SQL(
                """
                select attribute.attname
                from pg_index as index
                join pg_attribute as attribute
                    on attribute.attrelid = index.indrelid
                    and attribute.attnum = any(index.indkey)
                where index.indrelid = %s::regclass and index.indisunique
                """
            ),
            f"marts.{spec.search.mart}",
        )
    }
    # The copies are there for the planner's estimate, which reads the search vector: their
    # nullable text and JSON columns (a DailyMed label's sections are about 100 KB) are left
    # empty, apart from the columns a hit shows.
    emptied = (
        {
            column
            for (column,) in run(
                database,
                sql.SQL(
                    """
                select attname from pg_attribute
                where attrelid = %s::regclass and attnum > 0 and not attisdropped
                    and not attnotnull and atttypid in ('text'::regtype, 'jsonb'::regtype)
                """
                ),
                f"marts.{spec.search.mart}",
            )
        }
        - unique_columns
        - set(spec.search.shown)
    )
    fresh = sql.SQL(", ").join(
        [
            sql.SQL(
                """
                {name}, case jsonb_typeof(to_jsonb(found.{column}))
                    when 'number' then to_jsonb(-found.{column}::numeric - n * 1e12)
                    else to_jsonb(found.{column} || '-copy-' || n)
                end
                """
            ).format(name=sql.Literal(column), column=sql.Identifier(column))
            for column in sorted(unique_columns)
        ]
        + [sql.SQL("{name}, null").format(name=sql.Literal(column)) for column in sorted(emptied)]
    )
    run(
        database,
        sql.SQL(
            """
            insert into {mart}
            select (jsonb_populate_record(
                null::{mart}, to_jsonb(found) || jsonb_build_object({fresh})
            )).*
            from {mart} as found, generate_series(1, %s) as n
            where search_vector @@ websearch_to_tsquery('english', %s)
            """
        ).format(mart=mart, fresh=fresh),
        copies,
        words,
    )
    run(database, sql.SQL("analyze {mart}").format(mart=mart))
    assert estimated_matches(database, mart, words) > EXACT_UP_TO

    ranked = [row[0] for row in run(database, search, words)]
    assert len(ranked) == 20
    assert set(ranked) <= {row[0] for row in run(database, matching, words)}
