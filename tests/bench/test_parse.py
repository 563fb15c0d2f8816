"""`python -m bench.parse --compare REV --rss` works: the parser of an older revision is
loaded over this checkout's (its imports have changed since) and gives the rows today's
parser gives, and the peak memory of a parse is read from a fresh process."""

from __future__ import annotations

import subprocess

import pytest

from bench.parse import helpers_at, peak_rss_mib, rows
from extract.pubmed import helpers
from medmirror.settings import PROJECT_DIR, SAMPLES_DIR

BEFORE_ONE_PASS = "1797eb4"  # the parser before the one-pass record building
SAMPLE = next((SAMPLES_DIR / "pubmed").glob("*baseline*.xml.gz"))


def has_revision(revision: str) -> bool:
    found = subprocess.run(
        ["git", "cat-file", "-e", f"{revision}^{{commit}}"], cwd=PROJECT_DIR, capture_output=True
    )
    return found.returncode == 0


@pytest.mark.skipif(not has_revision(BEFORE_ONE_PASS), reason="a clone without that history")
def test_the_parser_of_an_older_revision_loads_and_gives_the_same_rows():
    before = helpers_at(BEFORE_ONE_PASS)
    assert before.article_record is not helpers.article_record
    assert before.__file__.startswith(BEFORE_ONE_PASS)
    data = SAMPLE.read_bytes()
    now = rows(data, helpers)
    assert len(now) == 30
    assert rows(data, before) == now


def test_peak_memory_is_read_from_a_fresh_process():
    imports_only = peak_rss_mib([SAMPLE], "-")
    parse = peak_rss_mib([SAMPLE], None)
    # A real figure (MiB, not KiB or bytes), and parsing 30 articles from disk costs next
    # to nothing over importing the parser.
    assert 20 < imports_only < 1000
    assert imports_only - 5 < parse < imports_only + 50
