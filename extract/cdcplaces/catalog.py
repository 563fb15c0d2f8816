"""CDC PLACES release discovery: the newest release of each geography, found in the
publisher's catalog, not in a config edit.

CDC publishes each annual PLACES release on data.cdc.gov as Socrata datasets named
"PLACES: Local Data for Better Health, County Data 2023 release" (since 2024 with a comma:
"..., County Data, 2025 release"), one per geography (County, Census Tract, Place, ZCTA).
Socrata's Discovery API (`catalog_url`, https://api.us.socrata.com/api/catalog/v1) lists
them: `domains=data.cdc.gov`, `q=` the name's common part, `only=dataset`, paged with
`limit`/`offset` until a page comes back short or reaches its `resultSetSize`. Each
result's `resource` holds the dataset's `id`, `name` and `data_updated_at`. The newest
release of a geography is the one with the highest release year in its name (the most
recently updated of equal names). The catalog listing no release of a wanted geography
is an error naming the catalog's URL, never an empty run (`extract.discovery`'s rule for
releases pages).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass

from extract.cdcplaces import settings
from extract.errors import MalformedInput
from extract.http import PublisherClient

log = logging.getLogger(__name__)

# The geographies this source lands, as CDC names them in a release's dataset name.
GEOGRAPHY_NAMES = {"county": "County", "tract": "Census Tract"}
RELEASE_NAME = re.compile(
    r"^PLACES: Local Data for Better Health, (?P<geography>County|Census Tract|Place|ZCTA) "
    r"Data,? (?P<year>\d{4}) release$",
    re.IGNORECASE,
)
CATALOG_PAGE = 100  # results per catalog request
MAX_CATALOG_PAGES = 20  # a query matching more than 2,000 datasets is not this one


@dataclass(frozen=True)
class PlacesRelease:
    """One release of one geography the catalog lists."""

    geography: str  # "county", "tract"
    year: int  # the release year in its name (not the BRFSS data year)
    dataset: str  # the Socrata dataset id
    name: str
    updated: str  # `data_updated_at` (ISO 8601), "" when the catalog says none

    @property
    def order(self) -> tuple[int, str]:
        return self.year, self.updated


def newest_releases(
    client: PublisherClient,
    catalog_url: str,
    *,
    domain: str,
    query: str,
    geographies: Iterable[str],
) -> dict[str, PlacesRelease]:
    """The newest release of each of `geographies` the catalog lists (geography -> it)."""
    wanted = list(geographies)
    unknown = [geography for geography in wanted if geography not in GEOGRAPHY_NAMES]
    if unknown:
        raise ValueError(
            f"{settings.SOURCE}: geographies {unknown} are not among {sorted(GEOGRAPHY_NAMES)}"
        )
    found, seen = _listed_releases(client, catalog_url, domain=domain, query=query)
    newest: dict[str, PlacesRelease] = {}
    for release in found:
        known = newest.get(release.geography)
        if known is None or release.order > known.order:
            newest[release.geography] = release
    missing = [geography for geography in wanted if geography not in newest]
    if missing:
        shown = ", ".join(
            f"'PLACES: Local Data for Better Health, {GEOGRAPHY_NAMES[geography]} Data "
            "<year> release'"
            for geography in missing
        )
        raise MalformedInput(
            settings.SOURCE,
            f"the catalog {catalog_url}",
            f"lists no {shown} dataset on {domain} (among the {seen} results for q={query!r}): "
            "the catalog or CDC's naming changed; set `datasets` under [sources.cdcplaces] "
            "to name the dataset ids yourself",
        )
    for geography in wanted:
        release = newest[geography]
        log.info(
            "%s: %s: newest release in the catalog: %s (%s)",
            settings.SOURCE,
            geography,
            release.name,
            release.dataset,
        )
    return {geography: newest[geography] for geography in wanted}


def _listed_releases(
    client: PublisherClient, catalog_url: str, *, domain: str, query: str
) -> tuple[list[PlacesRelease], int]:
    """Every PLACES release of a known geography the catalog lists, and how many results
    it gave in all."""
    by_name = {name.lower(): geography for geography, name in GEOGRAPHY_NAMES.items()}
    found: list[PlacesRelease] = []
    offset = seen = 0
    for _ in range(MAX_CATALOG_PAGES):
        params = {
            "domains": domain,
            "search_context": domain,
            "q": query,
            "only": "dataset",
            "limit": CATALOG_PAGE,
            "offset": offset,
        }
        what = f"the catalog {catalog_url}"
        answer = client.get_json(catalog_url, params=params, what=what)
        results = answer.get("results") if isinstance(answer, dict) else None
        if not isinstance(results, list):
            raise MalformedInput(
                settings.SOURCE, what, "not a Socrata catalog answer (no `results` list)"
            )
        seen += len(results)
        for result in results:
            resource = result.get("resource") if isinstance(result, dict) else None
            if not isinstance(resource, dict):
                continue
            listed_on = (result.get("metadata") or {}).get("domain")
            if listed_on and listed_on != domain:
                continue
            named = RELEASE_NAME.match(str(resource.get("name") or "").strip())
            geography = by_name.get(named.group("geography").lower()) if named else None
            if named is None or geography is None or not resource.get("id"):
                continue
            found.append(
                PlacesRelease(
                    geography=geography,
                    year=int(named.group("year")),
                    dataset=str(resource["id"]),
                    name=str(resource["name"]).strip(),
                    updated=str(resource.get("data_updated_at") or resource.get("updatedAt") or ""),
                )
            )
        total = answer.get("resultSetSize")
        offset += len(results)
        # A page shorter than asked is the last (so is one reaching `resultSetSize`).
        if len(results) < CATALOG_PAGE or not isinstance(total, int) or offset >= total:
            break
    return found, seen
