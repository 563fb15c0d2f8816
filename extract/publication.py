"""What a publisher says it has published: its own "data as of" date and its own count,
kept in a resource's state (committed with the data it bounds) so that a cursor never
moves past what was published and the refresh can reconcile counts afterwards.

openFDA states both in every answer's `meta`: `last_updated` (the date of the dataset's
last publication, "2026-07-30") and `results.total` (how many records match the query;
for a query without `search`, the whole dataset).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

# The resource-state key a resource keeps its publisher's statement under.
PUBLICATION = "publication"


@dataclass(frozen=True)
class Publication:
    """A publisher's statement: its as-of date and its count of `counted`, found `how`."""

    as_of: date | None
    total: int | None
    counted: str  # what the total counts ("reports", "labels", "products")
    how: str  # how it was read ("openFDA meta.results.total of /drug/event.json")
    # The range of the resource's date field the total covers (None: the whole dataset).
    since: date | None = None
    through: date | None = None

    def to_state(self) -> dict[str, Any]:
        return {
            "as_of": self.as_of.isoformat() if self.as_of else None,
            "total": self.total,
            "counted": self.counted,
            "how": self.how,
            "since": self.since.isoformat() if self.since else None,
            "through": self.through.isoformat() if self.through else None,
            "checked_at": datetime.now(UTC).isoformat(timespec="seconds"),
        }


def openfda_meta(document: Any) -> tuple[date | None, int | None]:
    """openFDA's `meta.last_updated` as a date and `meta.results.total` (None when absent
    or of another shape)."""
    meta = document.get("meta") if isinstance(document, dict) else None
    if not isinstance(meta, dict):
        return None, None
    as_of: date | None
    try:
        as_of = date.fromisoformat(str(meta.get("last_updated")))
    except ValueError:
        as_of = None
    results = meta.get("results")
    total = results.get("total") if isinstance(results, dict) else None
    return as_of, total if isinstance(total, int) and not isinstance(total, bool) else None


def record_publication(state: dict[str, Any], publication: Publication) -> None:
    """Keep the publisher's statement in a resource's state (read back by the refresh)."""
    state[PUBLICATION] = publication.to_state()


def record_as_of(state: dict[str, Any], as_of: date | None) -> None:
    """Keep only the publisher's newest as-of date, with the count stated before (a count
    is stated once the publication is landed whole)."""
    publication = dict(state.get(PUBLICATION) or {})
    publication["as_of"] = as_of.isoformat() if as_of else None
    publication["checked_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    state[PUBLICATION] = publication
