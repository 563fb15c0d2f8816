"""Parsing particular to DailyMed: FDA Structured Product Labeling (SPL, HL7 v3 XML in the
`urn:hl7-org:v3` namespace) into JSON documents, DailyMed's web-service answers, and the
release archives (zips of per-label zips, each holding one SPL XML and its images).

One label is parsed at a time (lxml, entities and network access off) and dropped once it
is turned into a row; a release is read member by member, images skipped unread.
"""

from __future__ import annotations

import logging
import re
import struct
import tempfile
import zipfile
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, BinaryIO

import orjson
from lxml import etree
from lxml.etree import _Element as Element

from extract.bulk import BulkMember, iter_members, peek, xml_root
from extract.dailymed.settings import SOURCE
from extract.errors import MalformedInput, invalid_xml
from extract.limits import RATIO_GRACE_BYTES, TooLarge, check_zip_member, limits, read_whole
from extract.xmlsafety import refuse_entities

log = logging.getLogger(__name__)

V3 = "urn:hl7-org:v3"
NS = {"v": V3}
LOINC = "2.16.840.1.113883.6.1"
NDC_SYSTEM = "2.16.840.1.113883.6.69"
UNII_SYSTEM = "2.16.840.1.113883.4.9"
DUNS_ROOT = "1.3.6.1.4.1.519.1"

RX_LABEL = "34391-3"
OTC_LABEL = "34390-5"
PHARMACOLOGIC_CLASS_INDEXING = "60685-5"

# The SPL section codes (LOINC) FDA's SPL implementation guide lists for drug labels. A
# section with another code is kept all the same (code, title, text) and counted as
# unknown in the record (`unknown_section_codes`): never a reason to reject a label.
SECTION_CODES: dict[str, str] = {
    "34066-1": "boxed warning",
    "43683-2": "recent major changes",
    "34067-9": "indications and usage",
    "34068-7": "dosage and administration",
    "43678-2": "dosage forms and strengths",
    "34070-3": "contraindications",
    "43685-7": "warnings and precautions",
    "34071-1": "warnings",
    "42232-9": "precautions",
    "34072-9": "general precautions",
    "34075-2": "laboratory tests",
    "34076-0": "information for patients",
    "34084-4": "adverse reactions",
    "34073-7": "drug interactions",
    "34074-5": "drug and/or laboratory test interactions",
    "43684-0": "use in specific populations",
    "42228-7": "pregnancy",
    "34077-8": "teratogenic effects",
    "34078-6": "nonteratogenic effects",
    "34079-4": "labor and delivery",
    "34080-2": "nursing mothers",
    "77290-5": "lactation",
    "77291-3": "females and males of reproductive potential",
    "34081-0": "pediatric use",
    "34082-8": "geriatric use",
    "42227-9": "drug abuse and dependence",
    "34085-1": "controlled substance",
    "34086-9": "abuse",
    "34087-7": "dependence",
    "34088-5": "overdosage",
    "34089-3": "description",
    "34090-1": "clinical pharmacology",
    "43679-0": "mechanism of action",
    "43681-6": "pharmacodynamics",
    "43682-4": "pharmacokinetics",
    "49489-8": "microbiology",
    "43680-8": "nonclinical toxicology",
    "34083-6": "carcinogenesis, mutagenesis, impairment of fertility",
    "34091-9": "animal pharmacology and/or toxicology",
    "34092-7": "clinical studies",
    "34093-5": "references",
    "34069-5": "how supplied",
    "44425-7": "storage and handling",
    "88436-1": "patient counseling information",
    "42230-3": "patient package insert",
    "42231-1": "medication guide",
    "59845-8": "instructions for use",
    "38056-8": "supplemental patient material",
    "60561-8": "other safety information",
    "42229-5": "unclassified",
    "48780-1": "product data elements",
    "48779-3": "indexing data elements",
    "51945-4": "package label, principal display panel",
    "69718-5": "statement of identity",
    "71744-1": "health care provider letter",
    "55106-9": "OTC active ingredient",
    "55105-1": "OTC purpose",
    "50570-1": "OTC do not use",
    "50569-3": "OTC ask doctor",
    "50568-5": "OTC ask doctor or pharmacist",
    "50567-7": "OTC when using",
    "50566-9": "OTC stop use",
    "50565-1": "OTC keep out of reach of children",
    "53414-9": "OTC pregnancy or breast feeding",
    "53413-1": "OTC questions",
    "51727-6": "inactive ingredient",
    "60562-6": "OTC package label",
    "60563-4": "OTC other information",
}

# Elements of a section's <text> that start a line when flattened to plain text.
BLOCKS = frozenset(
    {
        "paragraph",
        "item",
        "list",
        "table",
        "caption",
        "tr",
        "thead",
        "tbody",
        "tfoot",
        "footnote",
        "title",
        "text",
        "excerpt",
        "highlight",
    }  # fmt: skip
)
CELLS = frozenset({"td", "th"})

# libxml2's own limits stay on (no huge_tree): text nodes up to 10 MB, nesting up to 256.
SPL_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, remove_comments=True)
# An SPL whose markup would build more elements than this is refused before it is parsed:
# each costs lxml about 130 bytes, and real labels run to a few tens of thousands.
MAX_SPL_ELEMENTS = 2_000_000

# -- one SPL document into a JSON record ----------------------------------------------------


def parse_spl(content: bytes, *, where: str) -> dict[str, Any]:
    """An SPL document as a JSON record (`MalformedInput` when it is not well-formed XML,
    not an SPL document, or has no set id or version number)."""
    elements = content.count(b"<")  # at least every element's start tag
    if elements > MAX_SPL_ELEMENTS:
        raise MalformedInput(
            SOURCE,
            where,
            f"{len(content):,} bytes with about {elements:,} elements, more than an SPL's "
            f"{MAX_SPL_ELEMENTS:,}: refused unparsed",
        )
    try:
        root = etree.fromstring(content, parser=SPL_PARSER)
    except etree.XMLSyntaxError as bad:
        raise invalid_xml(SOURCE, where, bad) from None
    refuse_entities(root, source=SOURCE, where=where)
    if root.tag != f"{{{V3}}}document":
        raise MalformedInput(SOURCE, where, f"not an SPL document: its root is <{root.tag}>")
    set_id = _attribute(_find(root, "v:setId"), "root")
    version = _int(_attribute(_find(root, "v:versionNumber"), "value"))
    if not set_id:
        raise MalformedInput(SOURCE, where, "an SPL document without a setId")
    if version is None:
        raise MalformedInput(SOURCE, where, f"SPL {set_id} has no versionNumber")
    document_type = _coded(_find(root, "v:code"))
    sections = _sections(root)
    unknown = sorted(
        {section["code"] for section in sections if section.get("code")} - SECTION_CODES.keys()
    )
    record = {
        "set_id": set_id,
        "spl_id": _attribute(_find(root, "v:id"), "root"),
        "version": version,
        "effective_time": _hl7_date(_attribute(_find(root, "v:effectiveTime"), "value")),
        "title": _plain(_find(root, "v:title")),
        "document_type": document_type,
        "labeler": _labeler(root),
        "products": _list(
            _product(role)
            for role in root.iterfind(".//v:section/v:subject/v:manufacturedProduct", NS)
        ),
        "sections": sections,
        "unknown_section_codes": unknown,
        "indexed_substances": _list(
            _indexed_substance(substance)
            for substance in root.iterfind(".//v:section/v:subject/v:identifiedSubstance", NS)
        ),
    }
    return _obj(record)


def _labeler(root: Element) -> dict[str, Any]:
    organization = _find(root, "v:author/v:assignedEntity/v:representedOrganization")
    if organization is None:
        return {}
    identifier = _find(organization, "v:id")
    return _obj(
        {
            "name": _plain(_find(organization, "v:name")),
            "duns": _attribute(identifier, "extension")
            if _attribute(identifier, "root") == DUNS_ROOT
            else None,
            "id": _attribute(identifier, "extension"),
        }
    )


def _product(role: Element) -> dict[str, Any]:
    """One listed product: `role` is a section's subject/manufacturedProduct, holding the
    product itself (manufacturedProduct, or manufacturedMedicine in older SPLs)."""
    product = _find(role, "v:manufacturedProduct")
    if product is None:
        product = _find(role, "v:manufacturedMedicine")
    if product is None:
        return {}
    described = _product_fields(product)
    parts = [
        _obj(
            {
                **_product_fields(_find(part, "v:partProduct")),
                "part_quantity": _quantity(_find(part, "v:quantity")),
                **_marketing(part),
                "routes": _routes(part),
            }
        )
        for part in product.iterfind("v:part", NS)
        if _find(part, "v:partProduct") is not None
    ]
    routes = _routes(role) + _routes(product)
    for part in parts:
        routes += [route for route in part.get("routes", []) if route not in routes]
    active = list(described.get("active_ingredients", []))
    for part in parts:  # a kit's active ingredients are its parts'
        active += [
            {**item, "part": part.get("proprietary_name")}
            for item in part.get("active_ingredients", [])
        ]
    return _obj(
        {
            **described,
            "active_ingredients": active,
            "routes": _unique(routes),
            **_marketing(role),
            "parts": parts,
        }
    )


def _product_fields(product: Element | None) -> dict[str, Any]:
    if product is None:
        return {}
    ndc = _find(product, "v:code")
    active, inactive = [], []
    for ingredient in product.iterfind("v:ingredient", NS):
        parsed = _ingredient(ingredient, _find(ingredient, "v:ingredientSubstance"))
        class_code = ingredient.get("classCode") or ""
        (active if class_code.startswith("ACT") else inactive).append(parsed)
    # SPLs before 2009 name them activeIngredient / inactiveIngredient.
    for ingredient in product.iterfind("v:activeIngredient", NS):
        active.append(_ingredient(ingredient, _find(ingredient, "v:activeIngredientSubstance")))
    for ingredient in product.iterfind("v:inactiveIngredient", NS):
        inactive.append(_ingredient(ingredient, _find(ingredient, "v:inactiveIngredientSubstance")))
    form = _coded(_find(product, "v:formCode"))
    # A repackager's or relabeler's product names the product it was made from.
    source = _find(product, "v:asEquivalentEntity/v:definingMaterialKind/v:code")
    return _obj(
        {
            "ndc_product_code": _attribute(ndc, "code")
            if _attribute(ndc, "codeSystem") == NDC_SYSTEM
            else None,
            "source_ndc_product_code": _attribute(source, "code")
            if _attribute(source, "codeSystem") == NDC_SYSTEM
            else None,
            "proprietary_name": _plain(_find(product, "v:name")),
            "generic_names": _list(
                _plain(name)
                for name in product.iterfind("v:asEntityWithGeneric/v:genericMedicine/v:name", NS)
            ),
            "dosage_form": form,
            "active_ingredients": _list(active),
            "inactive_ingredients": _list(inactive),
            "packages": _packages(product, form.get("name")),
        }
    )


def _ingredient(ingredient: Element, substance: Element | None) -> dict[str, Any]:
    code = _find(substance, "v:code") if substance is not None else None
    moieties = [
        _obj(
            {
                "name": _plain(_find(moiety, "v:name")),
                "unii": _attribute(_find(moiety, "v:code"), "code"),
            }
        )
        for moiety in (
            substance.iterfind("v:activeMoiety/v:activeMoiety", NS) if substance is not None else []
        )
    ]
    quantity = _find(ingredient, "v:quantity")
    return _obj(
        {
            "class_code": ingredient.get("classCode"),
            "name": _plain(_find(substance, "v:name")) if substance is not None else None,
            "unii": _attribute(code, "code")
            if _attribute(code, "codeSystem") == UNII_SYSTEM
            else None,
            "active_moieties": _list(moieties),
            "strength": _quantity(quantity),
        }
    )


def _quantity(quantity: Element | None) -> dict[str, Any]:
    if quantity is None:
        return {}
    numerator, denominator = _find(quantity, "v:numerator"), _find(quantity, "v:denominator")
    return _obj(
        {
            "numerator_value": _attribute(numerator, "value"),
            "numerator_unit": _attribute(numerator, "unit"),
            "denominator_value": _attribute(denominator, "value"),
            "denominator_unit": _attribute(denominator, "unit"),
        }
    )


def _packages(product: Element, product_form: str | None) -> list[dict[str, Any]]:
    """Every package level with an NDC package code, described as DailyMed does:
    "2 KIT in 1 CARTON (0074-3799-02) / 1 KIT in 1 KIT" (outermost first)."""
    packages: list[dict[str, Any]] = []

    def walk(holder: Element, inner_form: str | None, inside: list[str]) -> None:
        for content in holder.iterfind("v:asContent", NS):
            container = _find(content, "v:containerPackagedProduct")
            if container is None:
                continue
            numerator = _find(content, "v:quantity/v:numerator")
            unit = (
                _attribute(_find(numerator, "v:translation"), "displayName")
                if numerator is not None
                else None
            )
            if not unit:
                unit = _attribute(numerator, "unit")
                unit = inner_form if unit in (None, "1") else unit
            form = _coded(_find(container, "v:formCode"))
            code = _attribute(_find(container, "v:code"), "code")
            level = " ".join(
                part
                for part in (_attribute(numerator, "value"), unit, "in 1", form.get("name"))
                if part
            )
            if code:
                level += f" ({code})"
            levels = [level, *inside]
            if code:
                packages.append(
                    _obj(
                        {
                            "ndc_package_code": code,
                            "package_form": form,
                            "quantity": _attribute(numerator, "value"),
                            "quantity_unit": unit,
                            "description": " / ".join(levels),
                        }
                    )
                )
            walk(container, form.get("name"), levels)

    walk(product, product_form, [])
    return packages


def _marketing(holder: Element) -> dict[str, Any]:
    """Marketing category, application number and marketing dates of a product or part."""
    approval = _find(holder, "v:subjectOf/v:approval")
    act = _find(holder, "v:subjectOf/v:marketingAct")
    category = _coded(_find(approval, "v:code")) if approval is not None else {}
    return _obj(
        {
            "marketing_category": category,
            "application_number": _attribute(_find(approval, "v:id"), "extension")
            if approval is not None
            else None,
            "marketing_status": _attribute(_find(act, "v:statusCode"), "code")
            if act is not None
            else None,
            "marketing_start_date": _hl7_date(
                _attribute(_find(act, "v:effectiveTime/v:low"), "value")
            )
            if act is not None
            else None,
            "marketing_end_date": _hl7_date(
                _attribute(_find(act, "v:effectiveTime/v:high"), "value")
            )
            if act is not None
            else None,
            "dea_schedule": _coded(_find(holder, "v:subjectOf/v:policy/v:code")),
        }
    )


def _routes(holder: Element) -> list[dict[str, Any]]:
    return _list(
        _coded(route)
        for route in holder.iterfind("v:consumedIn/v:substanceAdministration/v:routeCode", NS)
    )


def _sections(root: Element) -> list[dict[str, Any]]:
    """Every section and subsection in document order, keyed by its LOINC code, with its
    title, where it sits (the codes, or titles, of the sections above it) and its text."""
    found: list[dict[str, Any]] = []

    def walk(section: Element, path: list[str], parent: dict[str, Any] | None) -> None:
        code = _find(section, "v:code")
        code_value = _attribute(code, "code")
        entry = _obj(
            {
                "code": code_value,
                "code_system": _attribute(code, "codeSystem"),
                "display_name": _attribute(code, "displayName"),
                "title": _plain(_find(section, "v:title")),
                "section_id": _attribute(_find(section, "v:id"), "root"),
                "position": len(found) + 1,
                "level": len(path) + 1,
                "parent_code": parent.get("code") if parent else None,
                "parent_position": parent.get("position") if parent else None,
                "path": list(path),
                "is_known_code": code_value in SECTION_CODES if code_value else None,
                "text": flatten_text(_find(section, "v:text")),
                "highlight": flatten_text(_find(section, "v:excerpt/v:highlight/v:text")),
            }
        )
        found.append(entry)
        here = [*path, code_value or entry.get("title") or "?"]
        for child in section.iterfind("v:component/v:section", NS):
            walk(child, here, entry)

    for section in root.iterfind("v:component/v:structuredBody/v:component/v:section", NS):
        walk(section, [], None)
    return found


def _indexed_substance(substance: Element) -> dict[str, Any]:
    """The substance of a pharmacologic-class indexing SPL and the classes it is in."""
    inner = _find(substance, "v:identifiedSubstance")
    code = _find(inner, "v:code") if inner is not None else None
    classes = []
    for kind in substance.iterfind(".//v:asSpecializedKind/v:generalizedMaterialKind", NS):
        class_code = _find(kind, "v:code")
        display = _attribute(class_code, "displayName") or ""
        suffix = re.search(r"\s*\[([^\]]+)\]\s*$", display)
        classes.append(
            _obj(
                {
                    "code": _attribute(class_code, "code"),
                    "code_system": _attribute(class_code, "codeSystem"),
                    "display_name": display or None,
                    "name": display[: suffix.start()] if suffix else display or None,
                    "class_type": _class_type(suffix.group(1)) if suffix else None,
                    "name_lower": _plain(_find(kind, "v:name")),
                }
            )
        )
    return _obj(
        {
            "unii": _attribute(code, "code") or _attribute(_find(substance, "v:id"), "extension"),
            "name": _plain(_find(inner, "v:name")) if inner is not None else None,
            "classes": classes,
        }
    )


def _class_type(suffix: str) -> str:
    """`EPC`, `MoA`, `PE` or `CS` from the bracketed suffix of a class name
    ("Psoralens [Chemical/Ingredient]" is a chemical structure class)."""
    return {"chemical/ingredient": "CS", "moa": "MoA"}.get(suffix.lower(), suffix)


def flatten_text(element: Element | None) -> str | None:
    """An SPL narrative block as plain text: a line per paragraph, list item, caption or
    table row (cells joined by " | "), whitespace collapsed within lines."""
    if element is None:
        return None
    pieces: list[str] = []

    def walk(node: Element) -> None:
        if not isinstance(node.tag, str):  # a processing instruction: only its tail
            return
        tag = etree.QName(node).localname
        if tag == "br":
            pieces.append("\n")
        elif tag in BLOCKS:
            pieces.append("\n")
        elif tag in CELLS:
            pieces.append(" | ")
        if tag in ("renderMultiMedia", "footnoteRef"):
            pass
        elif node.text:
            pieces.append(node.text)
        for child in node:
            walk(child)
            if child.tail:
                pieces.append(child.tail)
        if tag in BLOCKS:
            pieces.append("\n")

    walk(element)
    lines = (" ".join(line.split()) for line in "".join(pieces).split("\n"))
    text = "\n".join(line.removeprefix("| ") for line in lines if line and line != "|")
    return text or None


# -- small element helpers -------------------------------------------------------------------


def _find(element: Element | None, path: str) -> Element | None:
    return element.find(path, NS) if element is not None else None


def _coded(element: Element | None) -> dict[str, Any]:
    if element is None:
        return {}
    return _obj(
        {
            "code": element.get("code"),
            "name": element.get("displayName"),
            "code_system": element.get("codeSystem"),
        }
    )


def _plain(element: Element | None) -> str | None:
    """All the text of an element (markup such as <sup> or <br/> included), whitespace
    collapsed to single spaces."""
    if element is None:
        return None
    text = " ".join("".join(element.itertext()).split())
    return text or None


def _hl7_date(value: str | None) -> str | None:
    """An HL7 TS (`20130930`, `201309301200-0500`) as an ISO date; None when impossible."""
    if not value or len(value) < 8 or not value[:8].isdigit():
        return None
    try:
        return date(int(value[:4]), int(value[4:6]), int(value[6:8])).isoformat()
    except ValueError:
        return None


def _attribute(element: Element | None, name: str) -> str | None:
    if element is None:
        return None
    value = element.get(name)
    return value.strip() or None if value else None


def _int(value: str | None) -> int | None:
    return int(value) if value and value.strip().isdigit() else None


def _unique(items: Iterable[Any]) -> list[Any]:
    seen: list[Any] = []
    for item in items:
        if item not in seen:
            seen.append(item)
    return seen


def _obj(fields: dict[str, Any]) -> dict[str, Any]:
    """`fields` without the absent ones (None, empty lists and objects; False is kept)."""
    return {key: value for key, value in fields.items() if value or value is False or value == 0}


def _list(items: Iterable[Any]) -> list[Any]:
    return [item for item in items if item]


# -- landing rows -----------------------------------------------------------------------------


def label_row(
    record: dict[str, Any], *, source_uri: str, published_date: date | None = None
) -> dict[str, Any]:
    effective = record.get("effective_time")
    if published_date:
        record = {**record, "published_date": published_date.isoformat()}
    return {
        "set_id": record["set_id"],
        "version": record["version"],
        "effective_time": date.fromisoformat(effective) if effective else None,
        "published_date": published_date,
        "record": orjson.dumps(record).decode(),
        "source_uri": source_uri,
        "deleted": False,
    }


def pharmacologic_class_rows(record: dict[str, Any], *, source_uri: str) -> list[dict[str, Any]]:
    """One row per indexed substance of a pharmacologic-class indexing SPL."""
    effective = record.get("effective_time")
    rows = []
    for substance in record.get("indexed_substances", []):
        document = {
            key: record.get(key)
            for key in ("set_id", "spl_id", "version", "effective_time", "title", "labeler")
        }
        rows.append(
            {
                "set_id": record["set_id"],
                "version": record["version"],
                "effective_time": date.fromisoformat(effective) if effective else None,
                "unii": substance.get("unii"),
                "record": orjson.dumps(_obj({**document, "substance": substance})).decode(),
                "source_uri": source_uri,
                "deleted": False,
            }
        )
    return rows


def is_pharmacologic_class_indexing(record: dict[str, Any]) -> bool:
    return record.get("document_type", {}).get("code") == PHARMACOLOGIC_CLASS_INDEXING


# -- DailyMed web services ----------------------------------------------------------------------


@dataclass(frozen=True)
class ListedSpl:
    set_id: str
    version: int | None
    published_date: date | None
    title: str | None


def published_date_of(text: Any) -> date | None:
    """DailyMed's published date ("May 12, 2021", "July 29, 2011") as a date."""
    if not isinstance(text, str):
        return None
    for pattern in ("%b %d, %Y", "%B %d, %Y", "%Y-%m-%d"):
        try:
            return datetime.strptime(text.strip(), pattern).date()
        except ValueError:
            continue
    return None


def list_page(document: Any, *, where: str) -> tuple[list[dict[str, Any]], int | None]:
    """The `data` items of a paged DailyMed JSON answer and the next page (None on the
    last). DailyMed writes absent values as the string "null" and numbers sometimes as
    strings; both are read."""
    if not isinstance(document, dict) or not isinstance(document.get("data"), list):
        raise MalformedInput(SOURCE, where, "not a DailyMed list answer (no `data` array)")
    metadata = document.get("metadata") or {}
    next_page = _int(str(metadata.get("next_page"))) if metadata.get("next_page") else None
    current = _int(str(metadata.get("current_page") or ""))
    total = _int(str(metadata.get("total_pages") or ""))
    if next_page is None and current and total and current < total:
        next_page = current + 1
    return [item for item in document["data"] if isinstance(item, dict)], next_page


def listed_total(document: Any) -> int | None:
    """DailyMed's count of the items a paged list holds (`metadata.total_elements`)."""
    metadata = document.get("metadata") if isinstance(document, dict) else None
    if not isinstance(metadata, dict) or metadata.get("total_elements") in (None, "null"):
        return None
    return _int(str(metadata["total_elements"]))


def listed_spl(item: dict[str, Any], *, where: str) -> ListedSpl:
    set_id = item.get("setid")
    if not isinstance(set_id, str) or not set_id.strip():
        raise MalformedInput(SOURCE, where, f"an SPL list item without a setid: {item}")
    return ListedSpl(
        set_id=set_id.strip(),
        version=_int(str(item.get("spl_version") or "")),
        published_date=published_date_of(item.get("published_date")),
        title=item.get("title"),
    )


def drug_class_row(item: dict[str, Any], *, source_uri: str) -> dict[str, Any] | None:
    code = item.get("code")
    if not code:
        return None
    return {
        "class_code": str(code),
        "class_type": item.get("type"),
        "record": orjson.dumps(item).decode(),
        "source_uri": source_uri,
        "deleted": False,
    }


def history_rows(
    document: Any, *, set_id: str, source_uri: str, where: str
) -> list[dict[str, Any]]:
    """One row per version of a `/spls/{setid}/history.json` answer."""
    data = document.get("data") if isinstance(document, dict) else None
    if not isinstance(data, dict) or not isinstance(data.get("history"), list):
        raise MalformedInput(SOURCE, where, "not a DailyMed history answer (no data.history)")
    spl = data.get("spl") or {}
    rows = []
    for entry in data["history"]:
        version = _int(str(entry.get("spl_version") or "")) if isinstance(entry, dict) else None
        if version is None:
            continue
        rows.append(
            {
                "set_id": spl.get("setid") or set_id,
                "spl_version": version,
                "published_date": published_date_of(entry.get("published_date")),
                "record": orjson.dumps({"spl": spl, **entry}).decode(),
                "source_uri": source_uri,
                "deleted": False,
            }
        )
    return rows


# -- release archives -------------------------------------------------------------------------


@dataclass(frozen=True)
class SplFile:
    """One SPL XML document of a release (`read()` gives its bytes, or raises
    `MalformedInput` naming it when it cannot be read)."""

    uri: str
    read: Callable[[], bytes]


@dataclass(frozen=True)
class NotRead:
    """A member of a release archive passed by unread (an image, a text file): counted in
    what the run says of the archive, never landed."""

    uri: str


ZIP_SIGNATURE = b"PK\x03\x04"
SPL_ROOT = f"{{{V3}}}document"


def release_kind(file: Path) -> str | None:
    """What a top-level file of a bulk location is, by its content: `zip` (a release
    archive or a per-label zip: a zip's first local header, even when the archive is cut
    short), `spl` (an SPL document: the HL7 v3 `document` root), or None (not a release
    file). A file whose first bytes say neither (empty, broken) is what its name says
    (`.zip`, `.xml`), to be rejected with what is wrong when it is read."""
    if _head(file) == ZIP_SIGNATURE:
        return "zip"
    root = xml_root(peek(BulkMember(uri=str(file), path=file)))
    if root is not None:
        return "spl" if root.tag == SPL_ROOT else None
    name = file.name.lower()
    return "zip" if name.endswith(".zip") else "spl" if name.endswith(".xml") else None


def spl_files(path: Path) -> Iterator[SplFile | MalformedInput | NotRead]:
    """The SPL documents of one release file: an XML file, a per-label zip, or a zip of
    per-label zips. Members that are not XML or zips (images) are passed by unread (a
    `NotRead` each, for counting); what cannot be read comes out as a `MalformedInput` in
    its place and the rest follows."""
    if _head(path) != ZIP_SIGNATURE:
        yield SplFile(str(path), lambda: _read_file(path))
        return
    problem = _directory_problem(path)
    members = iter_members(path, source=SOURCE, suffixes=("",)) if not problem else []
    for member in members:
        problem = problem or member.problem
        if problem:
            break
        lower = member.name.lower()
        if lower.endswith(".xml"):
            yield SplFile(member.uri, lambda member=member: member.read(SOURCE))
        elif lower.endswith(".zip"):
            yield from _inner_zip(member.uri, member.open)
        else:
            yield NotRead(member.uri)
    if problem:  # no directory of its own (a truncated download): read its local headers
        with open(path, "rb") as stream:
            yield from _scan_zip(stream, where=str(path), problem=problem)


def _head(path: Path) -> bytes:
    """A file's first four bytes (a zip's local header signature)."""
    try:
        with open(path, "rb") as stream:
            return stream.read(len(ZIP_SIGNATURE))
    except OSError:
        return b""


def _directory_problem(path: Path) -> str | None:
    """Why the zip at `path` has no usable directory of its own, or None.

    A zip of zips cut short can end inside a stored per-label zip, whose own directory
    then looks like the release's: a directory is the archive's only when it ends the
    file and its offsets start at the file's first byte.
    """
    try:
        with open(path, "rb") as zipped:
            end = zipfile._EndRecData(zipped)  # noqa: SLF001 - the stdlib's own parser
            size = zipped.seek(0, 2)
    except OSError as broken:
        return f"not a readable zip ({broken})"
    if not end:
        return "not a readable zip (no central directory: the archive is cut short)"
    location = end[zipfile._ECD_LOCATION]  # noqa: SLF001
    shift = location - end[zipfile._ECD_SIZE] - end[zipfile._ECD_OFFSET]  # noqa: SLF001
    if end[zipfile._ECD_SIGNATURE] == zipfile.stringEndArchive64:  # noqa: SLF001
        shift -= zipfile.sizeEndCentDir64 + zipfile.sizeEndCentDir64Locator
    ends_file = location + zipfile.sizeEndCentDir + len(end[zipfile._ECD_COMMENT]) == size  # noqa: SLF001
    if shift or not ends_file:
        return (
            "not a readable zip (its last directory belongs to a member: the archive is cut short)"
        )
    return None


def _read_file(path: Path) -> bytes:
    try:
        with open(path, "rb") as stream:
            return read_whole(stream, source=SOURCE, uri=str(path))
    except OSError as broken:
        raise MalformedInput(SOURCE, str(path), f"cannot read: {broken}") from None


def _inner_zip(uri: str, opener: Callable[[], Any]) -> Iterator[SplFile | MalformedInput]:
    """The XML members of a per-label zip inside a release zip (read through the outer
    member's stream: nothing is unpacked to disk)."""
    try:
        with opener() as stream, zipfile.ZipFile(stream) as inner:
            names = [info for info in inner.infolist() if info.filename.lower().endswith(".xml")]
            for info in inner.infolist():
                if info not in names and not info.is_dir():
                    yield NotRead(f"{uri}!{info.filename}")
            for info in names:
                try:
                    check_zip_member(info, inner, whole=True)
                    content = inner.read(info)
                except TooLarge as refused:
                    yield MalformedInput(SOURCE, f"{uri}!{info.filename}", str(refused))
                    continue
                except (zipfile.BadZipFile, EOFError, OSError, zlib.error) as broken:
                    yield MalformedInput(SOURCE, f"{uri}!{info.filename}", f"cannot read: {broken}")
                    continue
                yield SplFile(f"{uri}!{info.filename}", lambda content=content: content)
            if not names:
                yield MalformedInput(SOURCE, uri, "a per-label zip without an XML document")
    except (zipfile.BadZipFile, EOFError, OSError, zlib.error) as broken:
        problem = f"not a readable zip ({broken})"
        try:
            with opener() as stream:
                yield from _scan_zip(stream, where=uri, problem=problem)
        except (zipfile.BadZipFile, EOFError, OSError, zlib.error) as again:
            yield MalformedInput(SOURCE, uri, f"{problem}; cannot be read at all: {again}")


# A zip whose central directory is missing (a download cut short) is read member by member
# from its local headers (APPNOTE 4.3.7), as far as it goes. zipfile cannot do this: it
# needs the directory at the end of the archive.
LOCAL_HEADER = struct.Struct("<4sHHHHHIIIHH")
LOCAL_SIGNATURE = b"PK\x03\x04"
DESCRIPTOR_SIGNATURE = b"PK\x07\x08"
CHUNK = 1 << 16


class _PushbackReader:
    def __init__(self, stream: BinaryIO) -> None:
        self.stream = stream
        self.pending = b""
        self.offset = 0

    def read(self, size: int) -> bytes:
        data = self.pending[:size]
        self.pending = self.pending[size:]
        if len(data) < size:
            data += self.stream.read(size - len(data))
        self.offset += len(data)
        return data

    def unread(self, data: bytes) -> None:
        self.pending = data + self.pending
        self.offset -= len(data)


def _scan_zip(stream: BinaryIO, *, where: str, problem: str) -> Iterator[SplFile | MalformedInput]:
    """The XML members (and the XML of per-label zips) found by walking local headers,
    then one reject saying why the archive could not be read whole."""
    reader = _PushbackReader(stream)
    members = 0
    while True:
        start = reader.offset
        header = reader.read(LOCAL_HEADER.size)
        if header[:4] != LOCAL_SIGNATURE:
            if header[:2] != b"PK" and header:
                yield MalformedInput(SOURCE, where, f"{problem}: no zip member at byte {start:,}")
            elif not header or header[:4] in (b"PK\x01\x02", b"PK\x05\x06"):
                yield MalformedInput(SOURCE, where, f"{problem}; its {members} members were read")
            return
        if len(header) < LOCAL_HEADER.size:
            break
        _, _, flags, method, _, _, crc, size, _, name_length, extra_length = LOCAL_HEADER.unpack(
            header
        )
        raw_name = reader.read(name_length)
        reader.read(extra_length)
        name = raw_name.decode("utf-8" if flags & 0x800 else "cp437", "replace")
        uri = f"{where}!{name}"
        lower = name.lower()
        wanted = lower.endswith(".xml") or lower.endswith(".zip")
        try:
            body = _member_body(reader, method=method, size=size, flags=flags, keep=wanted)
        except EOFError:
            yield MalformedInput(
                SOURCE,
                uri,
                f"{problem}: the archive ends inside this member (at byte {reader.offset:,})",
            )
            return
        except (zlib.error, ValueError) as broken:
            yield MalformedInput(SOURCE, uri, f"{problem}: the member cannot be read: {broken}")
            return
        members += 1
        if flags & 0x8:
            descriptor = reader.read(4)
            if descriptor == DESCRIPTOR_SIGNATURE:
                descriptor = reader.read(4)
            crc = struct.unpack("<I", descriptor)[0] if len(descriptor) == 4 else crc
            reader.read(8)
        if body is None:
            yield NotRead(uri)
            continue
        if zlib.crc32(body) != crc:
            yield MalformedInput(SOURCE, uri, f"{problem}: the member fails its CRC check")
        elif lower.endswith(".xml"):
            yield SplFile(uri, lambda body=body: body)
        else:
            with tempfile.TemporaryFile() as spool:  # a per-label zip: opened from disk
                spool.write(body)
                del body
                spool.seek(0)
                contents = list(_inner_zip(uri, lambda spool=spool: _Unclosed(spool)))
            yield from contents
    yield MalformedInput(SOURCE, where, f"{problem}: the archive ends inside a member header")


class _Unclosed:
    """A context manager handing out a stream without closing it afterwards."""

    def __init__(self, stream: BinaryIO) -> None:
        self.stream = stream

    def __enter__(self) -> BinaryIO:
        self.stream.seek(0)
        return self.stream

    def __exit__(self, *exc: object) -> None:
        return None


def _member_body(
    reader: _PushbackReader, *, method: int, size: int, flags: int, keep: bool
) -> bytes | None:
    """A member's uncompressed bytes (None when not `keep`: read through and dropped);
    `ValueError` past the decompression limits (a kept member is read whole)."""
    bounds = limits()
    cap = bounds.max_document_bytes if keep else bounds.max_member_bytes
    produced = 0
    start = reader.offset
    kept: list[bytes] = []
    if method == 0:
        if flags & 0x8:
            raise ValueError("a stored member without its size")
        if size > cap:
            raise ValueError(f"it is {size:,} bytes, past the limit of {cap:,}")
        remaining = size
        while remaining:
            chunk = reader.read(min(CHUNK, remaining))
            if not chunk:
                raise EOFError
            remaining -= len(chunk)
            if keep:
                kept.append(chunk)
    elif method == 8:
        inflater = zlib.decompressobj(-15)
        while not inflater.eof:
            chunk = reader.read(CHUNK)
            if not chunk:
                raise EOFError
            out = inflater.decompress(chunk)
            produced += len(out)
            consumed = reader.offset - start
            if produced > cap or (
                produced > RATIO_GRACE_BYTES and produced > consumed * bounds.max_inflate_ratio
            ):
                raise ValueError(
                    f"it inflates {consumed:,} bytes to over {produced:,}, past the "
                    "decompression limits (bulk.max_document_bytes, bulk.max_inflate_ratio)"
                )
            if keep:
                kept.append(out)
        reader.unread(inflater.unused_data)
    else:
        raise ValueError(f"compression method {method} is not supported")
    return b"".join(kept) if keep else None
