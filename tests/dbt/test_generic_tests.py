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


def test_primary_key_names_each_repeated_key_and_each_key_with_a_null(database):
    rows = (
        "(select * from (values ('a', 1), ('a', 1), ('a', 2), (null, 3), ('b', null))"
        " as probe (code, year)) as probe"
    )
    found = dbt_show(
        database, '{{ test_primary_key(model="' + rows + "\", columns=['code', 'year']) }}"
    )
    single = dbt_show(database, '{{ test_primary_key(model="' + rows + "\", columns=['year']) }}")

    assert sorted(found, key=str) == [
        ("a", 1, 2, "key repeated"),  # ('a', 2) is once: not a failure
        ("b", None, 1, "null in the key"),
        (None, 3, 1, "null in the key"),
    ]
    assert sorted(single, key=str) == [(1, 2, "key repeated"), (None, 1, "null in the key")]


def test_values_between_names_the_row_the_column_and_the_value_out_of_bounds(database):
    rows = (
        "(select * from (values ('01001', 12.5, 101, -3), ('01003', null, 100, 0))"
        " as probe (fips, share, percent, people))"  # the test names its table itself
    )
    bounded = dbt_show(
        database,
        '{{ test_values_between(model="' + rows + '", columns=["share", "percent"],'
        ' key_columns=["fips"], min_value=0, max_value=100) }}',
    )
    at_least = dbt_show(
        database,
        '{{ test_values_between(model="' + rows + '", columns=["people"],'
        ' key_columns=["fips"], min_value=0) }}',
    )

    assert [(fips, column, float(value)) for fips, column, value in bounded] == [
        ("01001", "percent", 101.0)  # a null is not out of bounds; 100 is within
    ]
    assert [(fips, column, float(value)) for fips, column, value in at_least] == [
        ("01001", "people", -3.0)
    ]
