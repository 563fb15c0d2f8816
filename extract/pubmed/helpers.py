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
import re
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any, BinaryIO

import orjson
import pyarrow as pa
from lxml import etree
from lxml.etree import _Element as Element

from extract.errors import MalformedInput, RequestRejected, invalid_xml
from extract.pubmed.settings import SOURCE
from extract.raw import RawTable

# `raw_pubmed.articles`; dbt's incremental models look articles up by PMID.
ARTICLES = RawTable(
    "articles",
    (pa.field("pmid", pa.string(), nullable=False), pa.field("date_revised", pa.date32())),
    indexes=(("pmid", "_dlt_load_id"),),
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


class _CountingReader:
    """A stream that counts the bytes read through it (to say where a broken file broke)."""

    def __init__(self, stream: BinaryIO) -> None:
        self.stream = stream
        self.bytes_read = 0

    def read(self, size: int = -1) -> bytes:
        chunk = self.stream.read(size)
        self.bytes_read += len(chunk)
        return chunk


def iter_items(stream: BinaryIO, *, where: str) -> Iterator[Element]:
    """The top-level items (`PubmedArticle`, `PubmedBookArticle`, `DeleteCitation`) of a
    `PubmedArticleSet` document, each parsed whole and dropped once the caller moves on.

    A document that is not XML, stops halfway or cannot be read raises `MalformedInput`
    naming `where` and the line and column (or byte) where it broke, after every item
    before that point has been handed out.
    """
    counting = _CountingReader(stream)
    items = etree.iterparse(
        counting,
        events=("end",),
        tag=tuple(ITEMS),
        resolve_entities=False,  # never read what a document's DOCTYPE points to
        no_network=True,
        huge_tree=True,  # NLM's files are large; lxml's default limits are for web pages
    )
    try:
        for _, element in items:
            parent = element.getparent()
            if parent is None or parent.tag != ARTICLE_SET:
                raise MalformedInput(SOURCE, where, _not_an_article_set(element))
            yield element
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
    the citation's version. Absent elements are left out (the documents stay small)."""
    citation = article.find("MedlineCitation")
    pmid = citation.find("PMID") if citation is not None else None
    if pmid is None or not _clean(pmid.text):
        raise MalformedInput(SOURCE, where, "a PubmedArticle without MedlineCitation/PMID")
    record = _obj(_citation(citation, pmid) | _pubmed_data(article.find("PubmedData")))
    # MEDLINE always titles a citation, in English or, for some, only in its own language.
    if not record.get("title") and not record.get("vernacular_title"):
        raise MalformedInput(
            SOURCE, where, f"PMID {record['pmid']} has no ArticleTitle or VernacularTitle"
        )
    return record


def _citation(citation: Element, pmid: Element) -> dict[str, Any]:
    article = _or_empty(citation.find("Article"))
    return {
        "pmid": _clean(pmid.text),
        "version": _int(pmid.get("Version")),
        "status": citation.get("Status"),
        "owner": citation.get("Owner"),
        "indexing_method": citation.get("IndexingMethod"),
        "date_created": _date(citation.find("DateCreated")),  # only in older files
        "date_completed": _date(citation.find("DateCompleted")),
        "date_revised": _date(citation.find("DateRevised")),
        "title": _text(article.find("ArticleTitle")),
        "vernacular_title": _text(article.find("VernacularTitle")),
        "abstract": _abstract_sections(article.find("Abstract")),
        "abstract_copyright": _text(article.find("Abstract/CopyrightInformation")),
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
            for other in citation.iterfind("OtherAbstract")
        ),
        "journal": _journal(article.find("Journal"), citation.find("MedlineJournalInfo")),
        "pub_model": article.get("PubModel"),
        "pagination": _pagination(article.find("Pagination")),
        "elocation_ids": _list(
            _obj({"type": location.get("EIdType"), "value": _text(location)})
            for location in article.iterfind("ELocationID")
        ),
        "authors": _list(_person(author) for author in article.iterfind("AuthorList/Author")),
        "authors_complete": _yes(article.find("AuthorList"), "CompleteYN"),
        "investigators": _list(
            _person(person) for person in citation.iterfind("InvestigatorList/Investigator")
        ),
        "languages": _list(_text(language) for language in article.iterfind("Language")),
        "publication_types": _list(
            _obj({"ui": kind.get("UI"), "name": _text(kind)})
            for kind in article.iterfind("PublicationTypeList/PublicationType")
        ),
        "article_dates": _list(
            _obj({"type": when.get("DateType"), "date": _date(when)})
            for when in article.iterfind("ArticleDate")
        ),
        "mesh_headings": _list(
            _mesh_heading(heading) for heading in citation.iterfind("MeshHeadingList/MeshHeading")
        ),
        "supplementary_concepts": _list(
            _obj({"ui": concept.get("UI"), "name": _text(concept), "type": concept.get("Type")})
            for concept in citation.iterfind("SupplMeshList/SupplMeshName")
        ),
        "chemicals": _list(
            _obj(
                {
                    "registry_number": _text(chemical.find("RegistryNumber")),
                    "ui": _attribute(chemical.find("NameOfSubstance"), "UI"),
                    "name": _text(chemical.find("NameOfSubstance")),
                }
            )
            for chemical in citation.iterfind("ChemicalList/Chemical")
        ),
        "keywords": _list(
            _obj(
                {
                    "keyword": _text(keyword),
                    "owner": keywords.get("Owner"),
                    "major_topic": _yes(keyword, "MajorTopicYN"),
                }
            )
            for keywords in citation.iterfind("KeywordList")
            for keyword in keywords.iterfind("Keyword")
        ),
        "grants": _list(
            _obj(
                {
                    "grant_id": _text(grant.find("GrantID")),
                    "acronym": _text(grant.find("Acronym")),
                    "agency": _text(grant.find("Agency")),
                    "country": _text(grant.find("Country")),
                }
            )
            for grant in article.iterfind("GrantList/Grant")
        ),
        "grants_complete": _yes(article.find("GrantList"), "CompleteYN"),
        "databanks": _list(
            _obj(
                {
                    "name": _text(bank.find("DataBankName")),
                    "accession_numbers": _list(
                        _text(number)
                        for number in bank.iterfind("AccessionNumberList/AccessionNumber")
                    ),
                }
            )
            for bank in article.iterfind("DataBankList/DataBank")
        ),
        "citation_subsets": _list(_text(subset) for subset in citation.iterfind("CitationSubset")),
        "coi_statement": _text(citation.find("CoiStatement")),
        "comments_corrections": _list(
            _obj(
                {
                    "type": comment.get("RefType"),
                    "source": _text(comment.find("RefSource")),
                    "pmid": _text(comment.find("PMID")),
                }
            )
            for comment in citation.iterfind("CommentsCorrectionsList/CommentsCorrections")
        ),
    }


def _pubmed_data(data: Element | None) -> dict[str, Any]:
    if data is None:
        return {}
    return {
        "publication_status": _text(data.find("PublicationStatus")),
        "article_ids": _list(
            _obj({"type": article_id.get("IdType"), "value": _text(article_id)})
            for article_id in data.iterfind("ArticleIdList/ArticleId")
        ),
        "history": _list(
            _obj({"status": when.get("PubStatus"), "date": _date(when)})
            for when in data.iterfind("History/PubMedPubDate")
        ),
        "references_count": sum(1 for _ in data.iterfind("ReferenceList/Reference")),
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
        for section in abstract.iterfind("AbstractText")
    )


def _journal(journal: Element | None, info: Element | None) -> dict[str, Any]:
    journal, info = _or_empty(journal), _or_empty(info)
    issn = journal.find("ISSN")
    issue = _or_empty(journal.find("JournalIssue"))
    return _obj(
        {
            "title": _text(journal.find("Title")),
            "iso_abbreviation": _text(journal.find("ISOAbbreviation")),
            "medline_ta": _text(info.find("MedlineTA")),
            "nlm_unique_id": _text(info.find("NlmUniqueID")),
            "issn": _text(issn),
            "issn_type": _attribute(issn, "IssnType"),
            "issn_linking": _text(info.find("ISSNLinking")),
            "country": _text(info.find("Country")),
            "volume": _text(issue.find("Volume")),
            "issue": _text(issue.find("Issue")),
            "cited_medium": issue.get("CitedMedium"),
            "pub_date": _pub_date(issue.find("PubDate")),
        }
    )


def _pub_date(pub_date: Element | None) -> dict[str, Any]:
    """The journal issue's date as given (Year/Month/Day, a Season or a free MedlineDate),
    plus `date`: as much of it as is certain, as ISO text (`2026`, `2026-01`, `2026-01-07`)."""
    if pub_date is None:
        return {}
    year = _text(pub_date.find("Year"))
    month = _text(pub_date.find("Month"))
    day = _text(pub_date.find("Day"))
    medline_date = _text(pub_date.find("MedlineDate"))
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
            "season": _text(pub_date.find("Season")),
            "medline_date": medline_date,
            "date": iso,
        }
    )


def _person(person: Element) -> dict[str, Any]:
    return _obj(
        {
            "last_name": _text(person.find("LastName")),
            "fore_name": _text(person.find("ForeName")),
            "initials": _text(person.find("Initials")),
            "suffix": _text(person.find("Suffix")),
            "collective_name": _text(person.find("CollectiveName")),
            "affiliations": _list(
                _text(affiliation) for affiliation in person.iterfind("AffiliationInfo/Affiliation")
            ),
            "identifiers": _list(
                _obj({"source": identifier.get("Source"), "value": _text(identifier)})
                for identifier in person.iterfind("Identifier")
            ),
            "equal_contrib": _yes(person, "EqualContrib"),
        }
    )


def _mesh_heading(heading: Element) -> dict[str, Any]:
    descriptor = heading.find("DescriptorName")
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
                for qualifier in heading.iterfind("QualifierName")
            ),
        }
    )


def _pagination(pagination: Element | None) -> str | None:
    if pagination is None:
        return None
    pages = _text(pagination.find("MedlinePgn"))
    if pages:
        return pages
    start, end = _text(pagination.find("StartPage")), _text(pagination.find("EndPage"))
    return "-".join(part for part in (start, end) if part) or None


def _date(element: Element | None) -> str | None:
    """A Year/Month/Day date as ISO text (None when it is absent or impossible)."""
    if element is None:
        return None
    year = _text(element.find("Year"))
    if not year or not YEAR.fullmatch(year):
        return None
    month = _month(_text(element.find("Month"))) or 1
    day = _text(element.find("Day"))
    try:
        return date(int(year), month, int(day) if day and day.isdigit() else 1).isoformat()
    except ValueError:
        return None


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


def _or_empty(element: Element | None) -> Element:
    """`element`, or an empty stand-in so that lookups in an absent part find nothing."""
    return element if element is not None else etree.Element("absent")


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
