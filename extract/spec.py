"""What a source is to the rest of medmirror: `SourceSpec`, exported by each source package.

Each `extract/<source>/__init__.py` exports `SPEC`: how to build its dlt source (from its
API, or from bulk release files at a location), the raw tables it declares, the table and
cursor `medmirror status` reads, the marts it feeds, its bundled samples, its cadence and
the key it sends. `flows/sources.py` only lists them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import dlt
from dlt.extract.source import DltSource

from extract.raw import REJECTS, RawTable


@dataclass(frozen=True)
class TokenGate:
    """A key or token of the user's own that a source sends to its publisher.

    `required`: the source runs only when it is configured, and otherwise is skipped with
    `message()`; an optional one (Census, Socrata app tokens) only raises the publisher's
    limits, and the source runs without it (its extract says so).
    """

    secret: str  # dlt secret name, e.g. "sources.census.api_key"
    required: bool
    sign_up: str  # where a user gets one

    def configured(self) -> bool:
        return bool(dlt.secrets.get(self.secret))

    def message(self, source: str) -> str:
        env = self.secret.upper().replace(".", "__")
        return (
            f"{source}: skipped, it needs your own key or token: get one at {self.sign_up} "
            f"and set {self.secret} in .dlt/secrets.toml (or {env})"
        )


@dataclass(frozen=True)
class SearchExample:
    """A full-text query the demo runs on a mart to show what search finds."""

    mart: str
    query: str
    shown: tuple[str, ...]  # columns printed for each hit


@dataclass(frozen=True)
class SourceSpec:
    name: str
    # Builds the dlt source: from its API (no arguments), or from bulk release files with
    # `bulk_location` and `download_dir` (where a URL is downloaded to).
    make_source: Callable[..., DltSource]
    raw_tables: tuple[RawTable, ...]  # every table it can land (`rejects` is added)
    status_table: str  # the main raw table (for status: rows and newest record)
    cursor_column: str  # its cursor: the newest value is the newest record's date
    marts: tuple[str, ...] = ()  # the marts it feeds (schema `marts`)
    samples: Path | None = None  # bundled real publisher files, landed by the demo
    search: SearchExample | None = None
    # How often the publisher changes: the scheduled deployment that refreshes it
    # (`refresh/daily` or `refresh/monthly`, see flows/deployments.py).
    cadence: str = "daily"
    token: TokenGate | None = None  # a key of the user's own it sends, if any
    # Release files it can find on its publisher's page besides its API (FAERS's quarterly
    # files): the `make_source` flag that lands those instead of asking the API. The
    # monthly deployment and `medmirror refresh --quarters` set it.
    listed_releases: str | None = None

    @property
    def tables(self) -> tuple[RawTable, ...]:
        """Every raw table of the source, its `rejects` included."""
        named = {table.name for table in self.raw_tables}
        return (*self.raw_tables, *(() if REJECTS.name in named else (REJECTS,)))

    def skip_reason(self) -> str | None:
        """Why this source cannot run now (a required token missing), or None."""
        if self.token and self.token.required and not self.token.configured():
            return self.token.message(self.name)
        return None

    @property
    def raw_schema(self) -> str:
        return f"raw_{self.name}"

    def build(
        self, *, bulk: str | None, download_dir: Path, listed_releases: bool = False
    ) -> DltSource:
        """The dlt source: from `bulk` files when given; with `listed_releases` (a source
        that has `listed_releases`), the release files its publisher's page lists that
        have not landed; else from the publisher's API (or its current release)."""
        if bulk:
            return self.make_source(bulk_location=bulk, download_dir=str(download_dir))
        if listed_releases and self.listed_releases:
            return self.make_source(download_dir=str(download_dir), **{self.listed_releases: True})
        return self.make_source(download_dir=str(download_dir))
