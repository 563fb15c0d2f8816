"""Parsing particular to PubMed: MEDLINE/PubMed XML (NLM's baseline and update files, and
E-utilities efetch answers, both a `PubmedArticleSet`) into landing rows, and E-utilities
search results.

Documents are parsed as they are read (`lxml.etree.iterparse`, which hands out only the
top-level items and builds everything inside them in C), one top-level item at a time,
and each item is dropped once it is turned into a row: memory does not grow with the
size of a file.
"""

from __future__ import annotations

import gzip
import hashlib
import re
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, BinaryIO

import orjson
import pyarrow as pa
from lxml import etree
from lxml.etree import _Element as Element

from extract.errors import MalformedInput, RequestRejected, invalid_xml
from extract.pubmed.settings import SOURCE
from extract.raw import RawTable
from extract.streams import ItemStream
from extract.xmlsafety import refuse_entities

# `raw_pubmed.articles`; dbt's incremental models look articles up by PMID.
ARTICLES = RawTable(
    "articles",
    (pa.field("pmid", pa.string(), nullable=False), pa.field("date_revised", pa.date32())),
    indexes=(("pmid", "_dlt_load_id"),),
    record_paths=(
        ("pmid", "pmid"),
        ("date_revised", "date_revised"),
        ("date_revised", "date_completed"),
    ),
)

ARTICLE_SET = "PubmedArticleSet"
ARTICLE = "PubmedArticle"
BOOK_ARTICLE = "PubmedBookArticle"  # book chapters (e.g. GeneReviews): not landed
DELETION = "DeleteCitation"
ITEMS = frozenset({ARTICLE, BOOK_ARTICLE, DELETION})

MONTHS = {
    name: number
    for number, name in enumerate(
        ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"],
        start=1,
    )
}
YEAR = re.compile(r"\d{4}")
# E-utilities answers are small and parsed whole, never reading what a DOCTYPE points to.
SAFE_PARSER = etree.XMLParser(resolve_entities=False, no_network=True)


# -- reading a document item by item -----------------------------------------------------


def iter_items(stream: BinaryIO, *, where: str) -> Iterator[Element]:
    """The top-level items (`PubmedArticle`, `PubmedBookArticle`, `DeleteCitation`) of a
    `PubmedArticleSet` document, each parsed whole and dropped once the caller moves on.

    A document that is not XML, stops halfway or cannot be read raises `MalformedInput`
    naming `where` and the line and column (or byte) where it broke, after every item
    before that point has been handed out.
    """
    counting = ItemStream(stream, source=SOURCE, where=where)
    items = etree.iterparse(
        counting,
        events=("end",),
        tag=tuple(ITEMS),
        resolve_entities=False,  # never read what a document's DOCTYPE points to
        no_network=True,
        # No huge_tree: libxml2's limits (10 MB a text node, 256 levels) hold; a file's
        # size does not meet them, each item is parsed and dropped (and capped, ItemStream).
    )
    checked = False
    try:
        for _, element in items:
            if not checked:
                refuse_entities(element, source=SOURCE, where=where)
                checked = True
            parent = element.getparent()
            if parent is None or parent.tag != ARTICLE_SET:
                raise MalformedInput(SOURCE, where, _not_an_article_set(element))
            yield element
            counting.item_done()
            element.clear(keep_tail=False)
            while element.getprevious() is not None:  # and every finished item before it
                del parent[0]
    except etree.XMLSyntaxError as bad:
        raise invalid_xml(SOURCE, where, bad) from None
    except (EOFError, OSError, zlib.error) as broken:  # gzip.BadGzipFile is an OSError
        kind = "gzip stream" if isinstance(broken, EOFError | gzip.BadGzipFile) else "file"
        raise MalformedInput(
            SOURCE,
            where,
            f"the {kind} breaks after {counting.bytes_read:,} bytes of XML: {broken}",
        ) from None
    if items.root is not None and items.root.tag != ARTICLE_SET:
        raise MalformedInput(SOURCE, where, _not_an_article_set(items.root))


def _not_an_article_set(element: Element) -> str:
    root = element.getroottree().getroot()
    return f"not a {ARTICLE_SET} document: its root is <{root.tag}>"


# -- one article into a landing row --------------------------------------------------------


def article_row(article: Element, *, source_uri: str) -> dict[str, Any]:
    """The landing row of one `PubmedArticle` (`MalformedInput` if it has no PMID or no
    title)."""
    record = article_record(article, where=source_uri)
    revised = record.get("date_revised") or record.get("date_completed")
    revised = revised or record.get("date_created")
    return {
        "pmid": record["pmid"],
        "date_revised": date.fromisoformat(revised) if revised else None,
        "record": orjson.dumps(record).decode(),
        "source_uri": source_uri,
        "deleted": False,
    }


def deletion_rows(deletion: Element, *, source_uri: str) -> list[dict[str, Any]]:
    """One deletion notice per PMID of a `DeleteCitation` (NLM removed those citations)."""
    rows = []
    for pmid in deletion.iterfind("PMID"):
        value = _clean(pmid.text)
        if value:
            rows.append(
                {
                    "pmid": value,
                    "date_revised": None,
                    "record": orjson.dumps(
                        _obj({"pmid": value, "version": _int(pmid.get("Version"))})
                    ).decode(),
                    "source_uri": source_uri,
                    "deleted": True,
                }
            )
    return rows


def article_record(article: Element, *, where: str) -> dict[str, Any]:
    """A `PubmedArticle` as a JSON document: every field the marts use, PubMed's ids and
    the citation's version. Absent elements are left out (the documents stay small).

    Each element's children are read once, into a dict by tag (`_children`), and every
    field is taken from there: asking lxml for each field instead (several hundred `find`
    and `iterfind` calls per article, most of them for absent elements) made the whole
    parse 1.5x slower (`python -m bench.parse --compare 1797eb4`)."""
    parts = _children(article)
    citation = _first(parts, "MedlineCitation")
    fields = _children(citation) if citation is not None else {}
    pmid = _first(fields, "PMID")
    if pmid is None or not _clean(pmid.text):
        raise MalformedInput(SOURCE, where, "a PubmedArticle without MedlineCitation/PMID")
    data = _first(parts, "PubmedData")
    record = _obj(_citation(citation, fields, pmid) | _pubmed_data(data))
    # MEDLINE always titles a citation, in English or, for some, only in its own language.
    if not record.get("title") and not record.get("vernacular_title"):
        raise MalformedInput(
            SOURCE, where, f"PMID {record['pmid']} has no ArticleTitle or VernacularTitle"
        )
    return record


def _citation(citation: Element, fields: Children, pmid: Element) -> dict[str, Any]:
    article = _first(fields, "Article")
    parts = _children(article) if article is not None else {}
    return {
        "pmid": _clean(pmid.text),
        "version": _int(pmid.get("Version")),
        "status": citation.get("Status"),
        "owner": citation.get("Owner"),
        "indexing_method": citation.get("IndexingMethod"),
        "date_created": _date(_first(fields, "DateCreated")),  # only in older files
        "date_completed": _date(_first(fields, "DateCompleted")),
        "date_revised": _date(_first(fields, "DateRevised")),
        "title": _text(_first(parts, "ArticleTitle")),
        "vernacular_title": _text(_first(parts, "VernacularTitle")),
        "abstract": _abstract_sections(_first(parts, "Abstract")),
        "abstract_copyright": _text(_first_in(parts, "Abstract", "CopyrightInformation")),
        "other_abstracts": _list(
            _obj(
                {
                    "type": other.get("Type"),
                    "language": other.get("Language"),
                    "text": " ".join(
                        section["text"]
                        for section in _abstract_sections(other)
                        if "text" in section
                    ),
                }
            )
            for other in fields.get("OtherAbstract", ())
        ),
        "journal": _journal(_first(parts, "Journal"), _first(fields, "MedlineJournalInfo")),
        "pub_model": article.get("PubModel") if article is not None else None,
        "pagination": _pagination(_first(parts, "Pagination")),
        "elocation_ids": _list(
            _obj({"type": location.get("EIdType"), "value": _text(location)})
            for location in parts.get("ELocationID", ())
        ),
        "authors": _list(_person(author) for author in _all_in(parts, "AuthorList", "Author")),
        "authors_complete": _yes(_first(parts, "AuthorList"), "CompleteYN"),
        "investigators": _list(
            _person(person) for person in _all_in(fields, "InvestigatorList", "Investigator")
        ),
        "languages": _list(_text(language) for language in parts.get("Language", ())),
        "publication_types": _list(
            _obj({"ui": kind.get("UI"), "name": _text(kind)})
            for kind in _all_in(parts, "PublicationTypeList", "PublicationType")
        ),
        "article_dates": _list(
            _obj({"type": when.get("DateType"), "date": _date(when)})
            for when in parts.get("ArticleDate", ())
        ),
        "mesh_headings": _list(
            _mesh_heading(heading) for heading in _all_in(fields, "MeshHeadingList", "MeshHeading")
        ),
        "supplementary_concepts": _list(
            _obj({"ui": concept.get("UI"), "name": _text(concept), "type": concept.get("Type")})
            for concept in _all_in(fields, "SupplMeshList", "SupplMeshName")
        ),
        "chemicals": _list(
            _chemical(chemical) for chemical in _all_in(fields, "ChemicalList", "Chemical")
        ),
        "keywords": _list(
            _obj(
                {
                    "keyword": _text(keyword),
                    "owner": keywords.get("Owner"),
                    "major_topic": _yes(keyword, "MajorTopicYN"),
                }
            )
            for keywords in fields.get("KeywordList", ())
            for keyword in keywords.iterchildren("Keyword")
        ),
        "grants": _list(_grant(grant) for grant in _all_in(parts, "GrantList", "Grant")),
        "grants_complete": _yes(_first(parts, "GrantList"), "CompleteYN"),
        "databanks": _list(_databank(bank) for bank in _all_in(parts, "DataBankList", "DataBank")),
        "citation_subsets": _list(_text(subset) for subset in fields.get("CitationSubset", ())),
        "coi_statement": _text(_first(fields, "CoiStatement")),
        "comments_corrections": _list(
            _comment(comment)
            for comment in _all_in(fields, "CommentsCorrectionsList", "CommentsCorrections")
        ),
    }


def _pubmed_data(data: Element | None) -> dict[str, Any]:
    if data is None:
        return {}
    parts = _children(data)
    return {
        "publication_status": _text(_first(parts, "PublicationStatus")),
        "article_ids": _list(
            _obj({"type": article_id.get("IdType"), "value": _text(article_id)})
            for article_id in _all_in(parts, "ArticleIdList", "ArticleId")
        ),
        "history": _list(
            _obj({"status": when.get("PubStatus"), "date": _date(when)})
            for when in _all_in(parts, "History", "PubMedPubDate")
        ),
        "references_count": sum(1 for _ in _all_in(parts, "ReferenceList", "Reference")),
    }


def _abstract_sections(abstract: Element | None) -> list[dict[str, Any]]:
    if abstract is None:
        return []
    return _list(
        _obj(
            {
                "label": section.get("Label"),
                "category": section.get("NlmCategory"),
                "text": _text(section),
            }
        )
        for section in abstract.iterchildren("AbstractText")
    )


def _journal(journal: Element | None, info: Element | None) -> dict[str, Any]:
    parts = _children(journal) if journal is not None else {}
    about = _children(info) if info is not None else {}
    issn = _first(parts, "ISSN")
    issue = _first(parts, "JournalIssue")
    numbers = _children(issue) if issue is not None else {}
    return _obj(
        {
            "title": _text(_first(parts, "Title")),
            "iso_abbreviation": _text(_first(parts, "ISOAbbreviation")),
            "medline_ta": _text(_first(about, "MedlineTA")),
            "nlm_unique_id": _text(_first(about, "NlmUniqueID")),
            "issn": _text(issn),
            "issn_type": _attribute(issn, "IssnType"),
            "issn_linking": _text(_first(about, "ISSNLinking")),
            "country": _text(_first(about, "Country")),
            "volume": _text(_first(numbers, "Volume")),
            "issue": _text(_first(numbers, "Issue")),
            "cited_medium": _attribute(issue, "CitedMedium"),
            "pub_date": _pub_date(_first(numbers, "PubDate")),
        }
    )


def _pub_date(pub_date: Element | None) -> dict[str, Any]:
    """The journal issue's date as given (Year/Month/Day, a Season or a free MedlineDate),
    plus `date`: as much of it as is certain, as ISO text (`2026`, `2026-01`, `2026-01-07`)."""
    if pub_date is None:
        return {}
    parts = _children(pub_date)
    year = _text(_first(parts, "Year"))
    month = _text(_first(parts, "Month"))
    day = _text(_first(parts, "Day"))
    medline_date = _text(_first(parts, "MedlineDate"))
    iso = None
    if year and YEAR.fullmatch(year):
        iso = year
        month_number = _month(month)
        if month_number:
            iso += f"-{month_number:02d}"
            if day and day.isdigit():
                try:
                    iso = date(int(year), month_number, int(day)).isoformat()
                except ValueError:
                    pass  # an impossible day: keep the month
    elif medline_date and YEAR.match(medline_date):
        iso = medline_date[:4]  # "1998 Dec-1999 Jan": the year it starts in
    return _obj(
        {
            "year": year,
            "month": month,
            "day": day,
            "season": _text(_first(parts, "Season")),
            "medline_date": medline_date,
            "date": iso,
        }
    )


def _person(person: Element) -> dict[str, Any]:
    parts = _children(person)
    return _obj(
        {
            "last_name": _text(_first(parts, "LastName")),
            "fore_name": _text(_first(parts, "ForeName")),
            "initials": _text(_first(parts, "Initials")),
            "suffix": _text(_first(parts, "Suffix")),
            "collective_name": _text(_first(parts, "CollectiveName")),
            "affiliations": _list(
                _text(affiliation)
                for affiliation in _all_in(parts, "AffiliationInfo", "Affiliation")
            ),
            "identifiers": _list(
                _obj({"source": identifier.get("Source"), "value": _text(identifier)})
                for identifier in parts.get("Identifier", ())
            ),
            "equal_contrib": _yes(person, "EqualContrib"),
        }
    )


def _mesh_heading(heading: Element) -> dict[str, Any]:
    parts = _children(heading)
    descriptor = _first(parts, "DescriptorName")
    return _obj(
        {
            "descriptor_ui": _attribute(descriptor, "UI"),
            "descriptor_name": _text(descriptor),
            "major_topic": _yes(descriptor, "MajorTopicYN"),
            "type": _attribute(descriptor, "Type"),  # "Geographic" for place names
            "qualifiers": _list(
                _obj(
                    {
                        "ui": qualifier.get("UI"),
                        "name": _text(qualifier),
                        "major_topic": _yes(qualifier, "MajorTopicYN"),
                    }
                )
                for qualifier in parts.get("QualifierName", ())
            ),
        }
    )


def _chemical(chemical: Element) -> dict[str, Any]:
    parts = _children(chemical)
    substance = _first(parts, "NameOfSubstance")
    return _obj(
        {
            "registry_number": _text(_first(parts, "RegistryNumber")),
            "ui": _attribute(substance, "UI"),
            "name": _text(substance),
        }
    )


def _grant(grant: Element) -> dict[str, Any]:
    parts = _children(grant)
    return _obj(
        {
            "grant_id": _text(_first(parts, "GrantID")),
            "acronym": _text(_first(parts, "Acronym")),
            "agency": _text(_first(parts, "Agency")),
            "country": _text(_first(parts, "Country")),
        }
    )


def _databank(bank: Element) -> dict[str, Any]:
    parts = _children(bank)
    return _obj(
        {
            "name": _text(_first(parts, "DataBankName")),
            "accession_numbers": _list(
                _text(number) for number in _all_in(parts, "AccessionNumberList", "AccessionNumber")
            ),
        }
    )


def _comment(comment: Element) -> dict[str, Any]:
    parts = _children(comment)
    return _obj(
        {
            "type": comment.get("RefType"),
            "source": _text(_first(parts, "RefSource")),
            "pmid": _text(_first(parts, "PMID")),
        }
    )


def _pagination(pagination: Element | None) -> str | None:
    if pagination is None:
        return None
    parts = _children(pagination)
    pages = _text(_first(parts, "MedlinePgn"))
    if pages:
        return pages
    start, end = _text(_first(parts, "StartPage")), _text(_first(parts, "EndPage"))
    return "-".join(part for part in (start, end) if part) or None


def _date(element: Element | None) -> str | None:
    """A Year/Month/Day date as ISO text (None when it is absent or impossible)."""
    if element is None:
        return None
    parts = _children(element)
    year = _text(_first(parts, "Year"))
    if not year or not YEAR.fullmatch(year):
        return None
    month = _month(_text(_first(parts, "Month"))) or 1
    day = _text(_first(parts, "Day"))
    try:
        return date(int(year), month, int(day) if day and day.isdigit() else 1).isoformat()
    except ValueError:
        return None


# -- reading elements --------------------------------------------------------------------

Children = dict[Any, list[Element]]  # keyed by tag (a comment's tag is a function)


def _children(element: Element) -> Children:
    """An element's children by tag, in document order, from one pass over them."""
    children: Children = {}
    for child in element:
        tag = child.tag
        found = children.get(tag)
        if found is None:
            children[tag] = [child]
        else:
            found.append(child)
    return children


def _first(children: Children, tag: str) -> Element | None:
    """The first child named `tag` (lxml's `find(tag)`)."""
    found = children.get(tag)
    return found[0] if found else None


def _first_in(children: Children, parent: str, tag: str) -> Element | None:
    """The first `tag` inside a child named `parent` (lxml's `find("parent/tag")`)."""
    for holder in children.get(parent, ()):
        for element in holder.iterchildren(tag):
            return element
    return None


def _all_in(children: Children, parent: str, tag: str) -> Iterator[Element]:
    """Every `tag` inside the children named `parent`, in document order (lxml's
    `iterfind("parent/tag")`)."""
    for holder in children.get(parent, ()):
        yield from holder.iterchildren(tag)


def _month(value: str | None) -> int | None:
    if not value:
        return None
    if value.isdigit():
        number = int(value)
        return number if 1 <= number <= 12 else None
    return MONTHS.get(value[:3].lower())


def _text(element: Element | None) -> str | None:
    """All the text of an element, inline markup (<i>, <sup> ...) included, whitespace
    collapsed."""
    if element is None:
        return None
    return _clean(element.text if not len(element) else "".join(element.itertext()))


def _clean(text: str | None) -> str | None:
    if not text:
        return None
    text = text.strip()
    if "  " in text or "\n" in text or "\t" in text or "\r" in text:
        text = " ".join(text.split())
    return text or None


def _attribute(element: Element | None, name: str) -> str | None:
    return element.get(name) if element is not None else None


def _yes(element: Element | None, attribute: str) -> bool | None:
    """A `...YN` attribute as a boolean (None when absent)."""
    value = _attribute(element, attribute)
    return None if value is None else value.upper() == "Y"


def _int(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None


def _obj(fields: dict[str, Any]) -> dict[str, Any]:
    """`fields` without the absent ones (None, empty lists and objects; False is kept).
    Every object of a record is built through it, so records stay small."""
    return {key: value for key, value in fields.items() if value or value is False}


def _list(items: Iterable[Any]) -> list[Any]:
    """`items` without the empty ones."""
    return [item for item in items if item]


# -- which bulk files have landed ---------------------------------------------------------

# NLM's release file names: `pubmed26n0001.xml.gz`, before 2017 `medline16n0902.xml.gz`.
BULK_FILE = re.compile(r"(pubmed|medline).*\.xml(\.gz)?")


def bulk_file_key(name: str) -> str:
    """A bulk file's name as the bulk ledger knows it: no folder and no `.gz`
    (`pubmed26n0001.xml` and `pubmed26n0001.xml.gz` hold the same citations)."""
    return name.rsplit("/", 1)[-1].removesuffix(".gz")


# -- E-utilities -------------------------------------------------------------------------


@dataclass(frozen=True)
class SearchResult:
    """What esearch with `usehistory=y` gives: how many records, and where they are kept."""

    count: int
    query_key: str | None
    web_env: str | None


def search_result(content: bytes, *, where: str) -> SearchResult:
    """An `eSearchResult` (`RequestRejected` when it carries NCBI's <ERROR>)."""
    try:
        root = etree.fromstring(content, parser=SAFE_PARSER)
    except etree.XMLSyntaxError as bad:
        raise MalformedInput(SOURCE, where, f"the answer is not valid XML: {bad}") from None
    error = _text(root.find("ERROR")) if root.tag == "eSearchResult" else None
    if error:
        raise RequestRejected(SOURCE, where, f"E-utilities answered with an error: {error}")
    count = _text(root.find("Count")) if root.tag == "eSearchResult" else None
    if count is None or not count.isdigit():
        raise MalformedInput(SOURCE, where, f"not an eSearchResult with a Count (<{root.tag}>)")
    result = SearchResult(
        count=int(count),
        query_key=_text(root.find("QueryKey")),
        web_env=_text(root.find("WebEnv")),
    )
    if result.count and not (result.query_key and result.web_env):
        raise MalformedInput(
            SOURCE, where, "the answer has no WebEnv/QueryKey: was usehistory=y ignored?"
        )
    return result


def fetch_error(content: bytes) -> str | None:
    """NCBI's <ERROR> text when an efetch answer is an `eFetchResult` error, else None."""
    if b"<eFetchResult" not in content[:1000]:
        return None
    try:
        root = etree.fromstring(content, parser=SAFE_PARSER)
    except etree.XMLSyntaxError:
        return None
    return _text(root.find("ERROR")) or "an eFetchResult without articles"


# NLM's checksum beside each release file (`pubmed26n1335.xml.gz.md5`, 60 bytes):
# `MD5(pubmed26n1335.xml.gz)= 88b74979343252faa848a06d7c6aa3ea` and a newline.
MD5_LINE = re.compile(r"^MD5\((?P<name>[^)]+)\)= ?(?P<digest>[0-9a-fA-F]{32})\s*$")


def published_md5(text: str, name: str) -> str | None:
    """The digest NLM's `.md5` text states for the file `name` (lower case); None when it
    states none for it (another format, another file)."""
    found = MD5_LINE.match(text.strip())
    if found is None or found.group("name") != name:
        return None
    return found.group("digest").lower()


def md5_of(path: Path) -> str:
    with open(path, "rb") as file:
        return hashlib.file_digest(file, "md5").hexdigest()
