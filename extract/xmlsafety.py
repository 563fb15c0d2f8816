"""XML that declares its own entities is refused: medmirror never expands an entity (a
"billion laughs" document multiplies one line into gigabytes) nor fetches one (an external
entity, XXE, reads a local file or a URL). Publishers' files declare none: NLM's name an
external DTD by its public id, which is never loaded (`load_dtd=False`, `no_network`)."""

from __future__ import annotations

from lxml import etree

from extract.errors import MalformedInput


def refuse_entities(element: etree._Element, *, source: str, where: str) -> None:
    """`MalformedInput` when the document of `element` declares entities in its DOCTYPE."""
    dtd = element.getroottree().docinfo.internalDTD
    if dtd is None:
        return
    names = [entity.name for entity in dtd.iterentities()]
    if names:
        shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
        raise MalformedInput(
            source,
            where,
            f"the document declares XML entities ({shown}): refused, entities are never "
            "expanded nor fetched",
        )
