"""The project's own generic data tests, run as dbt compiles them, on rows made here."""

from __future__ import annotations

from tests.dbt.test_drugs_consolidation import dbt_show

ROWS = (
    "(select * from (values ('a', 1, 'x'), (null, 2, 'y'), (null, null, 'z'))"
    " as probe (code, year, title)) as probe"
)


def test_not_null_columns_names_each_column_with_nulls_and_counts_them(database):
    found = dbt_show(
        database,
        '{{ test_not_null_columns(model="' + ROWS + "\", columns=['code', 'year', 'title']) }}",
    )

    assert sorted(found) == [("code", 2), ("year", 1)]  # `title` has none: not a failure


def test_not_null_columns_passes_when_no_column_holds_a_null(database):
    found = dbt_show(
        database, '{{ test_not_null_columns(model="' + ROWS + "\", columns=['title']) }}"
    )

    assert found == []
