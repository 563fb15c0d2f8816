"""What is particular to RxNav: the lookups, their answers, and the SQL that finds what the
warehouse has not enriched yet."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
import pyarrow as pa
import requests

from extract.errors import MalformedInput
from extract.raw import RawTable
from extract.rxnav.settings import SOURCE, THROTTLED_TEXT

NDC = "ndc"
NAME = "name"
KINDS = (NDC, NAME)
BEST_MATCH = 2  # `search=2`: an exact match, else a normalised one
APPROXIMATE = 9  # `search=9`: approximate match

FETCHED_AT = pa.field("fetched_at", pa.timestamp("us", tz="UTC"), nullable=False)


class Table(RawTable):
    """A raw table of RxNav answers: its key columns, then when the answer was fetched.
    Every window looks up what was answered since the cutoff (the index)."""

    def __init__(self, name: str, keys: tuple[pa.Field, ...]) -> None:
        super().__init__(name, (*keys, FETCHED_AT), indexes=((keys[0].name, FETCHED_AT.name),))

    @property
    def keys(self) -> tuple[pa.Field, ...]:
        return self.fields[:-1]


NDC_RXCUIS = Table("ndc_rxcuis", (pa.field("ndc", pa.string(), nullable=False),))
NAME_RXCUIS = Table(
    "name_rxcuis",
    (pa.field("name", pa.string(), nullable=False), pa.field("search", pa.int64(), nullable=False)),
)
RELATED_INGREDIENTS = Table(
    "related_ingredients", (pa.field("rxcui", pa.string(), nullable=False),)
)
DRUG_CLASSES = Table(
    "drug_classes",
    (
        pa.field("rxcui", pa.string(), nullable=False),
        pa.field("rela_source", pa.string(), nullable=False),
    ),
)
TABLES = (NDC_RXCUIS, NAME_RXCUIS, RELATED_INGREDIENTS, DRUG_CLASSES)


@dataclass(frozen=True)
class Lookup:
    """One question to RxNav: which table its answer lands in, and its key."""

    table: Table
    key: tuple[Any, ...]  # values of the table's key columns, in order

    @property
    def what(self) -> str:
        """How errors and rejects name this lookup ("NDC 0781-1506-10")."""
        if self.table is NDC_RXCUIS:
            return f"NDC {self.key[0]}"
        if self.table is NAME_RXCUIS:
            kind = "approximate" if self.key[1] == APPROXIMATE else "best"
            return f"name {self.key[0]!r} ({kind} match)"
        if self.table is RELATED_INGREDIENTS:
            return f"related concepts of rxcui {self.key[0]}"
        return f"{self.key[1]} classes of rxcui {self.key[0]}"

    def request(self, api_url: str) -> tuple[str, dict[str, Any]]:
        """The URL and query parameters that ask it."""
        if self.table is NDC_RXCUIS:
            return f"{api_url}/rxcui.json", {"idtype": "NDC", "id": self.key[0]}
        if self.table is NAME_RXCUIS:
            return f"{api_url}/rxcui.json", {"name": self.key[0], "search": self.key[1]}
        if self.table is RELATED_INGREDIENTS:
            return f"{api_url}/rxcui/{self.key[0]}/allrelated.json", {}
        return f"{api_url}/rxclass/class/byRxcui.json", {
            "rxcui": self.key[0],
            "relaSource": self.key[1],
        }


def is_throttled(response: requests.Response) -> bool:
    """RxNav's "too many requests" answer that comes with HTTP 200 instead of 429."""
    return THROTTLED_TEXT in response.content[:512].lower()


def parse_answer(lookup: Lookup, content: bytes) -> dict[str, Any]:
    """The answer as JSON, checked to be the kind of answer the lookup expects (an answer
    that found nothing is one: it lands, so the lookup is not asked again soon)."""
    try:
        document = orjson.loads(content)
    except orjson.JSONDecodeError as bad:
        raise MalformedInput(SOURCE, lookup.what, f"the answer is not JSON: {bad}") from None
    if not isinstance(document, dict):
        raise MalformedInput(SOURCE, lookup.what, "the answer is not a JSON object")
    if lookup.table in (NDC_RXCUIS, NAME_RXCUIS):
        group = document.get("idGroup")
        if not isinstance(group, dict):
            raise MalformedInput(SOURCE, lookup.what, "the answer has no idGroup object")
        ids = group.get("rxnormId", [])
        if not isinstance(ids, list) or not all(isinstance(rxcui, str) for rxcui in ids):
            raise MalformedInput(SOURCE, lookup.what, "idGroup.rxnormId is not a list of ids")
    elif lookup.table is RELATED_INGREDIENTS:
        group = document.get("allRelatedGroup")
        if not isinstance(group, dict) or not isinstance(group.get("conceptGroup", []), list):
            raise MalformedInput(
                SOURCE, lookup.what, "the answer has no allRelatedGroup with a conceptGroup list"
            )
    else:
        found = document.get("rxclassDrugInfoList")
        if found is None:
            # No class found: RxClass answers with the request echoed, or nothing at all.
            if set(document) - {"userInput"}:
                raise MalformedInput(
                    SOURCE,
                    lookup.what,
                    f"the answer has no rxclassDrugInfoList (it has {sorted(document)})",
                )
        elif not isinstance(found, dict) or not isinstance(found.get("rxclassDrugInfo"), list):
            raise MalformedInput(
                SOURCE, lookup.what, "rxclassDrugInfoList holds no rxclassDrugInfo list"
            )
    return document


def rxcuis_in(document: dict[str, Any]) -> list[str]:
    """The RxNorm ids an NDC or name answer found."""
    return list((document.get("idGroup") or {}).get("rxnormId") or [])


def answer_row(
    lookup: Lookup, *, content: bytes, source_uri: str, fetched_at: datetime
) -> dict[str, Any]:
    """The landing row of one answer: the lookup's key, the answer unchanged, when."""
    row = dict(zip((field.name for field in lookup.table.keys), lookup.key, strict=True))
    return {
        **row,
        "fetched_at": fetched_at,
        "record": content.decode("utf-8"),
        "source_uri": source_uri,
        "deleted": False,
    }


def normalise_name(name: str) -> str:
    """The form a name is looked up and landed in: lower case, single spaces."""
    return " ".join(name.split()).lower()


def normalise_ndc(ndc: str) -> str:
    return "".join(ndc.split())
