"""Parsers that fail on one file, for tests/extract/test_parallel.py: module-level, so Dask
workers import them by name."""

from __future__ import annotations

import os
from pathlib import Path

from extract.bulk import BulkMember
from extract.parallel import Parsed
from extract.pubmed import parse_file

FAILING = "pubmed26n1335_updatefile"


def raises(member: BulkMember, out: Path) -> Parsed:
    """The parser, raising on the one file (a bug in it)."""
    if FAILING in member.name:
        raise RuntimeError(f"a parser bug on {member.name}")
    return parse_file(member, out)


def dies(member: BulkMember, out: Path) -> Parsed:
    """The parser, its worker process dying on the one file (killed, out of memory)."""
    if FAILING in member.name:
        os._exit(1)
    return parse_file(member, out)


PARSERS = {"raises": raises, "dies": dies}
