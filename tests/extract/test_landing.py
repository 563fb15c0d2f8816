"""How rows become Arrow batches (`extract.landing.batches`): every row a resource yields
lands, in batches of the size and bytes asked, whole items kept in one batch, rejects and
other items handed on in their place."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pyarrow as pa
import pytest
from dlt.extract.items import DataItemWithMeta

from extract.dailymed.tables import CLASSES, HISTORY, LABELS
from extract.errors import MalformedInput
from extract.landing import batches, reject


def label(set_id: str, text: str = "{}") -> dict[str, Any]:
    return {"set_id": set_id, "version": 1, "record": text, "source_uri": "u", "deleted": False}


def set_ids(table: pa.Table) -> list[str]:
    return table.column("set_id").to_pylist()


def test_rows_over_the_size_land_in_full_batches_and_the_rest_at_the_end():
    rows = [label(f"s{n}") for n in range(5)]

    out = list(batches(iter(rows), LABELS, size=2))

    assert [set_ids(table) for table in out] == [["s0", "s1"], ["s2", "s3"], ["s4"]]
    assert out[0].schema == LABELS.schema
    assert out[0].to_pylist()[0] == {**rows[0], "effective_time": None, "published_date": None}


def test_batches_of_whole_documents_are_bounded_by_bytes_too():
    # 101 bytes of text a row (set id, record, source uri): the third row passes 250 bytes
    rows = [label(f"{n}", "x" * 99) for n in range(7)]

    bounded = list(batches(rows, LABELS, size=1_000, max_bytes=250))
    unbounded = list(batches(rows, LABELS, size=1_000))

    assert [table.num_rows for table in bounded] == [3, 3, 1]
    assert [table.num_rows for table in unbounded] == [7]  # only the size ends a batch


def test_no_rows_no_batch():
    assert list(batches(iter([]), LABELS)) == []
    assert list(batches([], LABELS, CLASSES)) == []


def test_rejects_are_handed_on_in_place_without_ending_a_batch():
    bad = reject(MalformedInput("dailymed", "file.xml", "not XML"))

    out = list(batches([label("a"), bad, label("b"), label("c"), bad], LABELS, size=2))

    assert out[0] is bad and out[2] is bad
    assert [set_ids(out[1]), set_ids(out[3])] == [["a", "b"], ["c"]]


def test_an_item_s_rows_are_never_split_between_batches():
    # items of 3, 3, 0 and 2 rows; a batch of 4 ends after the item that fills it
    counts = [3, 3, 0, 2]
    items = [[label(f"{item}.{n}") for n in range(count)] for item, count in enumerate(counts)]

    out = list(batches(items, LABELS, size=4))

    assert [set_ids(table) for table in out] == [
        ["0.0", "0.1", "0.2", "1.0", "1.1", "1.2"],
        ["3.0", "3.1"],
    ]


def test_rows_of_several_tables_are_batched_per_table_and_bound_to_it():
    def rows() -> Iterator[Any]:
        for n in range(3):
            yield LABELS, label(f"l{n}")
            yield CLASSES, {"set_id": f"c{n}", "version": 1, "unii": "U", "deleted": False}
        yield HISTORY, {"set_id": "h", "spl_version": 2, "deleted": False}

    out = list(batches(rows(), LABELS, CLASSES, HISTORY, size=2))

    assert all(isinstance(item, DataItemWithMeta) for item in out)
    landed = [(item.meta.hints["table_name"], set_ids(item.data)) for item in out]
    # full batches as they fill, then the rest in the order the tables were given
    assert landed == [
        ("labels", ["l0", "l1"]),
        ("pharmacologic_classes", ["c0", "c1"]),
        ("labels", ["l2"]),
        ("pharmacologic_classes", ["c2"]),
        ("label_history", ["h"]),
    ]
    with pytest.raises(TypeError, match=r"come as \(table, row\)"):
        list(batches([label("a")], LABELS, CLASSES))


def test_one_table_s_batches_are_bound_when_asked():
    (item,) = batches([label("a")], LABELS, bind=True)
    assert item.meta.hints["table_name"] == "labels" and set_ids(item.data) == ["a"]


def test_the_rows_before_an_error_are_handed_on_then_the_error():
    def rows() -> Iterator[dict[str, Any]]:
        yield from (label("a"), label("b"), label("c"))
        raise MalformedInput("dailymed", "file.zip", "truncated")

    landed: list[list[str]] = []
    with pytest.raises(MalformedInput, match="truncated"):
        for table in batches(rows(), LABELS, size=2):
            landed.append(set_ids(table))

    assert landed == [["a", "b"], ["c"]]


def test_what_the_rows_return_is_returned():
    def rows() -> Iterator[dict[str, Any]]:
        yield label("a")
        return "complete"

    def resource() -> Iterator[Any]:
        returned = yield from batches(rows(), LABELS)
        yield returned

    out = list(resource())
    assert set_ids(out[0]) == ["a"] and out[1] == "complete"
