"""FDA Structured Product Labeling (SPL, HL7 v3 XML in the `urn:hl7-org:v3` namespace)
into JSON documents.

One label is parsed at a time (lxml, entities and network access off) and dropped once it
is turned into a row.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date
from typing import Any

from lxml import etree
from lxml.etree import _Element as Element

from extract.dailymed.settings import SOURCE
from extract.errors import MalformedInput, invalid_xml
from extract.xmlsafety import refuse_entities

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
    version = int_of(_attribute(_find(root, "v:versionNumber"), "value"))
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
    return non_empty(record)


def _labeler(root: Element) -> dict[str, Any]:
    organization = _find(root, "v:author/v:assignedEntity/v:representedOrganization")
    if organization is None:
        return {}
    identifier = _find(organization, "v:id")
    return non_empty(
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
        non_empty(
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
    return non_empty(
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
    return non_empty(
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
        non_empty(
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
    return non_empty(
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
    return non_empty(
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
                    non_empty(
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
    return non_empty(
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
        entry = non_empty(
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
            non_empty(
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
    return non_empty(
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
    return non_empty(
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


def int_of(value: str | None) -> int | None:
    return int(value) if value and value.strip().isdigit() else None


def _unique(items: Iterable[Any]) -> list[Any]:
    seen: list[Any] = []
    for item in items:
        if item not in seen:
            seen.append(item)
    return seen


def non_empty(fields: dict[str, Any]) -> dict[str, Any]:
    """`fields` without the absent ones (None, empty lists and objects; False is kept)."""
    return {key: value for key, value in fields.items() if value or value is False or value == 0}


def _list(items: Iterable[Any]) -> list[Any]:
    return [item for item in items if item]
