"""`python -m bench.ingest` reads the table medmirror lands each source into, by the columns
that table declares (the benchmark once named a field the specs no longer have and failed
before timing anything)."""

from __future__ import annotations

import pytest

from bench.ingest import CASES
from flows.sources import spec_of


@pytest.mark.parametrize("case", CASES.values(), ids=list(CASES))
def test_each_case_reads_a_declared_raw_table_by_its_key_and_cursor(case):
    spec = spec_of(case.source)
    schema, name = case.raw_table.split(".")

    assert schema == spec.raw_schema
    (table,) = [table for table in spec.tables if table.name == name]
    assert {case.key, case.cursor, "record", "source_uri", "deleted"} <= set(table.schema.names)
