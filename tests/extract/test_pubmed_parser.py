"""The PubMed parser gives exactly the rows it gave before it was made faster: byte for byte
on every real PubMed document we have and on a generated baseline file (the golden outputs
in tests/fixtures/pubmed/golden/, written by tests/fixtures/pubmed/golden.py)."""

from __future__ import annotations

import gzip

import orjson
import pytest

from tests.fixtures.pubmed.golden import Input, golden_text, inputs

INPUTS = inputs()


@pytest.mark.parametrize("source", INPUTS, ids=[source.name for source in INPUTS])
def test_the_parser_reproduces_the_golden_rows_byte_for_byte(source: Input):
    if not source.golden.exists():
        pytest.fail(
            f"no golden output for {source.name}: a new PubMed test file? Write its golden "
            "output with the parser of main (python -m tests.fixtures.pubmed.golden)"
        )
    expected = gzip.decompress(source.golden.read_bytes()).splitlines()
    got = golden_text(source).splitlines()
    for number, (want, have) in enumerate(zip(expected, got, strict=False), start=1):
        if want != have:
            pmid = orjson.loads(want).get("pmid")
            pytest.fail(
                f"{source.name}: line {number} (PMID {pmid}) differs\n"
                f"golden: {want[:2000].decode()}\nparsed: {have[:2000].decode()}"
            )
    assert len(got) == len(expected), f"{source.name}: {len(got)} lines, golden {len(expected)}"


def test_the_golden_outputs_cover_every_kind_of_output():
    """Articles, deletions, rejected articles and broken documents are all compared."""
    kinds = set()
    for source in INPUTS:
        for line in gzip.decompress(source.golden.read_bytes()).splitlines():
            output = orjson.loads(line)
            if "error" in output or "reject" in output:
                kinds.add("error" if "error" in output else "reject")
            else:
                kinds.add("deletion" if output["deleted"] else "article")
    assert kinds == {"article", "deletion", "reject", "error"}
    assert sum(1 for source in INPUTS if source.wrap_medline) == 1
