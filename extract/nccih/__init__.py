"""NCCIH "Herbs at a Glance": the National Center for Complementary and Integrative
Health's fact sheets on herbs, read from its web pages (there is no API or download).

One resource, `herbs`, landing `raw_nccih.herbs`: one row per fact sheet version (key
`slug`, the page's name in `/health/<slug>`; cursor `last_updated`, the page's "Last
Updated" month), the parsed page as `record` (name, common and Latin names, uses, how
much we know, what the science says, safety, keep in mind, and every `<h2>` section by
its heading). The index page is read first; every herb page it links to is fetched
(politely: `requests_per_second` in `.dlt/config.toml`, one by default), and a page
lands only when what it says changed since it last landed (a fingerprint per page in
the resource state). A page the index no longer links lands as a deletion notice. A
page that is not a fact sheet (no `<h1>` or no sections), or that answers 404, goes to
`raw_nccih.rejects` and the rest lands. About 60 pages: one window.
"""

from __future__ import annotations

import logging
from collections.abc import Generator, Iterator
from datetime import UTC, date, datetime
from typing import Any

import dlt
import orjson
from dlt.sources import DltResource

from extract.errors import MalformedInput
from extract.http import PublisherClient
from extract.landing import MORE_WINDOWS, batches, reject
from extract.nccih import settings
from extract.nccih.helpers import HERBS, content_hash, herb_links, parse_herb
from extract.spec import SearchExample, SourceSpec

log = logging.getLogger(__name__)

TABLE = HERBS.name


@dlt.source(name=settings.SOURCE)
def nccih(
    base_url: str = settings.BASE_URL,
    index_path: str = settings.INDEX_PATH,
    download_dir: str | None = None,  # noqa: ARG001 - web pages: nothing to download
) -> DltResource:
    """The Herbs at a Glance fact sheets."""
    return herbs(base_url=base_url.rstrip("/"), index_path=index_path)


# No `columns` here: it lands two tables, each item bound to its own by `to_table`.
@dlt.resource(name="herbs", table_name=TABLE, write_disposition="append")
def herbs(base_url: str, index_path: str) -> Iterator[Any]:
    """Every fact sheet that changed since it last landed, and deletion notices."""
    state = dlt.current.resource_state()
    state[MORE_WINDOWS] = False
    hashes: dict[str, str] = state.setdefault("hashes", {})
    client = PublisherClient(settings.SOURCE)
    index_url = f"{base_url}{index_path}"
    index = client.get(index_url, what="the Herbs at a Glance index")
    links = herb_links(index.content, page_url=index_url)
    if not links:
        raise MalformedInput(settings.SOURCE, index_url, "the index links to no herb pages")
    log.info("%s: the index links to %d herb pages", settings.SOURCE, len(links))
    changed = yield from batches(
        _herb_items(client, links, hashes, index_url=index_url), HERBS, bind=True
    )
    log.info("%s: %d of %d pages new or changed", settings.SOURCE, changed, len(links))


def _herb_items(
    client: PublisherClient, links: list[tuple[str, str]], hashes: dict[str, str], *, index_url: str
) -> Generator[Any, None, int]:
    """The row of each herb page that changed since `hashes` (kept up to date), a reject
    for each that cannot be read, and a deletion row for each the index no longer links
    to; returns how many pages changed."""
    now = datetime.now(UTC)
    changed = 0
    for slug, url in links:
        response = client.get(url, what=f"herb page {slug}", accept=(404,))
        if response.status_code == 404:
            yield reject(MalformedInput(settings.SOURCE, url, "linked from the index but 404"))
            continue
        try:
            herb = parse_herb(response.content, slug=slug, url=url)
        except MalformedInput as bad:
            yield reject(bad)
            continue
        fingerprint = content_hash(herb)
        if hashes.get(slug) == fingerprint:
            continue
        hashes[slug] = fingerprint
        changed += 1
        updated = herb["last_updated"]
        yield {
            "slug": slug,
            "last_updated": date.fromisoformat(updated) if updated else None,
            "fetched_at": now,
            "record": orjson.dumps(herb).decode(),
            "source_uri": url,
            "deleted": False,
        }
    linked = {slug for slug, _ in links}
    for slug in sorted(set(hashes) - linked):
        log.info("%s: %s is no longer in the index, recording its deletion", settings.SOURCE, slug)
        del hashes[slug]
        yield {
            "slug": slug,
            "last_updated": None,
            "fetched_at": now,
            "record": None,
            "source_uri": index_url,
            "deleted": True,
        }
    return changed


SPEC = SourceSpec(
    name=settings.SOURCE,
    make_source=nccih,
    cadence="monthly",
    raw_tables=(HERBS,),
    status_table=HERBS.name,
    cursor_column="last_updated",
    marts=("herbs", "herb_links"),
    search=SearchExample(
        mart="herbs", query="sleep", shown=("slug", "herb_name", "last_updated_date")
    ),
)
