"""Release discovery: a publisher's newest release found on its index page, no config edit.

Publishers without an API for their releases (CMS's ICD-10-CM and HCPCS pages, FDA's
FAERS quarterly page) link each release file from one HTML page. `releases` fetches that
page, reads every link with lxml.html (relative links made absolute against the page),
and keeps the links whose file name matches the source's release pattern, each with the
release it belongs to and an order (newest last). A page that lists no recognisable
release, or that cannot be read, is an error naming the page: never an empty run.

The source then decides what is new (its bulk ledger knows what landed): `newest` picks
the newest release and its files, `not_landed` every release not landed yet.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit

import lxml.html
from lxml import etree

from extract.bulk import account_of
from extract.errors import MalformedInput
from extract.http import PublisherClient


@dataclass(frozen=True)
class Release:
    """One release a page links: its name (`2025`, `2025-01`, `2024Q3`), its order (newest
    sorts last) and the URLs of its files."""

    name: str
    order: tuple
    urls: tuple[str, ...] = field(default=())


# What a link's file name says: the release's name and order, or None (not a release).
Recogniser = Callable[[re.Match[str]], tuple[str, tuple] | None]


def links(page: bytes, page_url: str) -> list[str]:
    """Every `<a href>` of the page, absolute (against the page's URL or its `<base>`), in
    page order; none for an empty page or one lxml cannot make a document of."""
    try:
        document = lxml.html.fromstring(page, base_url=page_url)
    except (etree.ParserError, ValueError):
        return []
    document.make_links_absolute(page_url, resolve_base_href=True)
    return [href.strip() for href in document.xpath("//a/@href") if href.strip()]


def releases_in(
    page: bytes,
    page_url: str,
    *,
    source: str,
    pattern: re.Pattern[str],
    recognise: Recogniser | None = None,
) -> list[Release]:
    """The releases the page links, oldest first; an error naming the page when none.

    `pattern` is matched (search) against each link's file name, unquoted; `recognise`
    turns a match into the release's name and order (default: group `release`, in text
    order)."""
    recognise = recognise or _by_release_group
    found: dict[str, Release] = {}
    hrefs = links(page, page_url)
    for href in hrefs:
        name = unquote(urlsplit(href).path.rsplit("/", 1)[-1])
        match = pattern.search(name)
        recognised = recognise(match) if match else None
        if recognised is None:
            continue
        release, order = recognised
        known = found.get(release, Release(release, order))
        if href not in known.urls:
            known = Release(release, order, (*known.urls, href))
        found[release] = known
    if not found:
        raise MalformedInput(
            source,
            page_url,
            f"the releases page links no release file (no link named like {pattern.pattern!r} "
            f"among its {len(hrefs)} links): the page changed, or it is not the releases page",
        )
    return sorted(found.values(), key=lambda release: release.order)


def releases(
    client: PublisherClient,
    page_url: str,
    *,
    pattern: re.Pattern[str],
    recognise: Recogniser | None = None,
) -> list[Release]:
    """The releases linked from the page at `page_url` (fetched with `client`), oldest first.

    The page is noted in the run's file account: the run's way in (`ops.refresh_runs`)."""
    account_of(client.source).read_page(page_url)
    response = client.get(page_url, what="the releases page")
    return releases_in(
        response.content,
        response.url or page_url,
        source=client.source,
        pattern=pattern,
        recognise=recognise,
    )


def newest(found: Iterable[Release]) -> Release:
    """The newest of the releases found (`releases` never returns none)."""
    return max(found, key=lambda release: release.order)


def not_landed(found: Iterable[Release], landed: Callable[[Release], bool]) -> list[Release]:
    """The releases found that have not landed yet, oldest first."""
    return sorted((r for r in found if not landed(r)), key=lambda release: release.order)


def _by_release_group(match: re.Match[str]) -> tuple[str, tuple]:
    return match.group("release"), (match.group("release"),)
