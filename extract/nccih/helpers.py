"""Parsing of NCCIH's "Herbs at a Glance" HTML pages with lxml.

A fact sheet is `<h1>` (the herb), an introduction naming its "Common Names" and "Latin
Names", `<h2>` sections ("Background", "How Much Do We Know?", "What Have We Learned?",
"What Do We Know About Safety?", "Keep in Mind", ...) and a "Last Updated: <Month Year>"
line.
"""

from __future__ import annotations

import hashlib
import re
from datetime import date, datetime
from typing import Any
from urllib.parse import urljoin, urlparse

import lxml.html
import orjson
import pyarrow as pa

from extract.errors import MalformedInput
from extract.nccih.settings import NOT_HERBS, SECTIONS, SOURCE
from extract.raw import RawTable

# `raw_nccih.herbs`, one row per fact sheet version or deletion.
HERBS = RawTable(
    "herbs",
    (
        pa.field("slug", pa.string(), nullable=False),
        pa.field("last_updated", pa.date32()),
        pa.field("fetched_at", pa.timestamp("us", tz="UTC"), nullable=False),
    ),
    indexes=(("slug",),),
    record_paths=(("slug", "slug"), ("last_updated", "last_updated")),
)
HERB_LINK = re.compile(r"^/health/([a-z0-9-]+)/?$")
LABEL = re.compile(r"^\s*(Common Names?|Latin Names?)\s*:?\s*", re.IGNORECASE)
LAST_UPDATED = re.compile(r"Last Updated:?\s*([A-Z][a-z]+)\s+(\d{4})")
SPACES = re.compile(r"\s+")


def _document(html: bytes, where: str) -> Any:
    try:
        return lxml.html.document_fromstring(html)
    except (lxml.etree.ParserError, ValueError) as bad:
        raise MalformedInput(SOURCE, where, f"not an HTML page: {bad}") from None


def _main(document: Any) -> Any:
    found = document.xpath("//main") or document.xpath("//body")
    return found[0] if found else document


def _text(element: Any) -> str:
    return SPACES.sub(" ", element.text_content()).strip()


def herb_links(html: bytes, *, page_url: str) -> list[tuple[str, str]]:
    """(slug, absolute URL) of each fact sheet the index links to, in page order."""
    main = _main(_document(html, page_url))
    links: dict[str, str] = {}
    for anchor in main.iter("a"):
        href = anchor.get("href") or ""
        parsed = urlparse(urljoin(page_url, href))
        match = HERB_LINK.match(parsed.path)
        if not match or match.group(1) in NOT_HERBS or match.group(1) in links:
            continue
        links[match.group(1)] = f"{parsed.scheme}://{parsed.netloc}{parsed.path}"
    return list(links.items())


def _names(text: str) -> list[str]:
    return [name.strip(" .") for name in re.split(r"[,;]", text) if name.strip(" .")]


def _labelled_names(main: Any) -> dict[str, list[str]]:
    """The "Common Names" and "Latin Names": a label and its names in one element
    (`<p><strong>Common Names:</strong> ...</p>`), or a label heading and the next one."""
    found: dict[str, list[str]] = {}
    for element in main.iter("p", "li", "dd", "dt", "h2", "h3", "h4"):
        text = _text(element)
        match = LABEL.match(text)
        if not match or len(text) > 600:
            continue
        key = "latin_names" if match.group(1).lower().startswith("latin") else "common_names"
        if key in found:
            continue
        rest = text[match.end() :]
        if not rest:  # a label on its own: the names follow in the next element
            following = element.getnext()
            rest = _text(following) if following is not None else ""
        found[key] = _names(rest)
    return found


def _sections(main: Any) -> dict[str, str]:
    """Heading text -> the text of its paragraphs and list items, for each `<h2>`."""
    sections: dict[str, list[str]] = {}
    current: str | None = None
    for element in main.iter("h2", "p", "li"):
        if element.tag == "h2":
            current = _text(element)
            sections.setdefault(current, [])
        elif current is not None and not any(
            ancestor.tag in ("p", "li") for ancestor in element.iterancestors()
        ):
            text = _text(element)
            if text:
                sections[current].append(text)
    return {heading: "\n".join(parts) for heading, parts in sections.items()}


def _last_updated(document: Any) -> date | None:
    match = LAST_UPDATED.search(_text(document))
    if not match:
        return None
    try:
        return datetime.strptime(f"{match.group(1)} {match.group(2)}", "%B %Y").date()
    except ValueError:
        return None


def parse_herb(html: bytes, *, slug: str, url: str) -> dict[str, Any]:
    """The fact sheet as a document: name, other names, the sections by their role, every
    section by its heading, and the last-updated month."""
    document = _document(html, url)
    main = _main(document)
    titles = main.xpath(".//h1") or document.xpath("//h1")
    name = _text(titles[0]) if titles else ""
    sections = _sections(main)
    if not name or not sections:
        raise MalformedInput(SOURCE, url, "no <h1> herb name or no <h2> sections: not a fact sheet")
    by_role = {
        role: "\n".join(sections[heading] for heading in headings if sections.get(heading)) or None
        for role, headings in SECTIONS.items()
    }
    names = _labelled_names(main)
    updated = _last_updated(document)
    return {
        "slug": slug,
        "name": name,
        "common_names": names.get("common_names", []),
        "latin_names": names.get("latin_names", []),
        **by_role,
        "sections": sections,
        "last_updated": updated.isoformat() if updated else None,
        "url": url,
    }


def content_hash(herb: dict[str, Any]) -> str:
    """A fingerprint of what the page says (a page lands again only when it changes)."""
    return hashlib.sha256(orjson.dumps(herb, option=orjson.OPT_SORT_KEYS)).hexdigest()[:16]
