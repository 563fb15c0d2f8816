"""The literature marts: real dbt on what the real extract landed from NLM's real baseline
and update file samples (and a derived next update file that revises and deletes)."""

from __future__ import annotations

import gzip
from datetime import date
from pathlib import Path
from xml.etree import ElementTree

from flows.search import search
from flows.sources import SOURCES
from tests.conftest import build_models, land_source, query
from tests.extract.test_pubmed import (
    BASELINE,
    DERIVED_UPDATE,
    SAMPLES,
    UPDATE,
    UPDATE_2021,
    article_pmids,
    deleted_pmids,
    release,
)

MARTS = ("pubmed_articles", "article_authors", "article_mesh_terms", "article_chemicals")


def build(connection, *, full: bool = False) -> None:
    """Build the literature marts and PubMed's data-quality checks, what PubMed feeds on
    the way and their tests (35 nodes; a refresh of PubMed builds everything it feeds, 126:
    the trial and drug links and the what-changed feed have tests of their own)."""
    build_models(
        connection,
        "path:models/marts/literature",
        "pubmed_data_quality",
        sources=["pubmed"],
        full=full,
    )


def current_articles(*files: Path) -> list[ElementTree.Element]:
    """The articles of the given files as the marts hold them, read on the side: the
    newest version of each PMID (an update file may hold several)."""
    newest: dict[str, tuple[int, ElementTree.Element]] = {}
    for file in files:
        for article in ElementTree.fromstring(gzip.decompress(file.read_bytes())).iter(
            "PubmedArticle"
        ):
            pmid = article.find("MedlineCitation/PMID")
            version = int(pmid.get("Version", "1"))
            if version >= newest.get(pmid.text, (0, article))[0]:
                newest[pmid.text] = (version, article)
    return [article for _, article in newest.values()]


def elements(path: str, *files: Path) -> list[ElementTree.Element]:
    """The elements at `path` in the current articles of the given files."""
    return [element for article in current_articles(*files) for element in article.findall(path)]


# What the samples folder holds, in the order it lands (NLM's file names).
FILES = (UPDATE_2021, BASELINE, UPDATE)


def test_marts_hold_one_row_per_current_article_and_search_finds_by_mesh_term(database):
    land_source(database, "pubmed", bulk_location=str(SAMPLES))
    land_source(database, "pubmed", bulk_location=str(SAMPLES), full=True)  # everything again

    build(database)

    ((raw_rows, distinct),) = query(
        database, "select count(*), count(distinct pmid) from raw_pubmed.articles"
    )
    # Every article version and deletion came twice: raw keeps each once
    # (extract/versions.py); the 2021 file holds 33 versions of 30 citations ...
    assert (raw_rows, distinct) == (33 + 30 + 30 + 6, 30 + 30 + 30 + 6)
    ((mart_rows, mart_pmids),) = query(
        database, "select count(*), count(distinct pmid) from marts.pubmed_articles"
    )
    assert mart_rows == mart_pmids == 90  # ... and the marts each current article once
    # Every identifier of the real samples has its expected shape (none counted as odd).
    assert query(
        database,
        "select count(*), count(*) filter (where rows_valid = rows_complete) "
        "from ops.pubmed_data_quality where check_name <> 'article has a publication date'",
    ) == [(4, 4)]
    assert query(
        database,
        "select rows_checked from ops.pubmed_data_quality where starts_with(check_name, 'PMID')",
    ) == [(90,)]
    # The real update file deletes six citations that are in neither sample.
    assert not set(deleted_pmids(UPDATE)) & {
        pmid for (pmid,) in query(database, "select pmid from marts.pubmed_articles")
    }
    assert query(database, "select count(*) from marts.article_mesh_terms") == [
        (len(elements(".//MeshHeading", *FILES)),)
    ]

    # "Urbanization" is a MeSH heading of 26228458, not a word of its title: found first.
    hits = search(database, "pubmed_articles", "urbanization", ["pmid", "title", "mesh_terms"])
    hit = hits[0]
    assert hit["pmid"] == "26228458"
    assert "Urbanization" in hit["mesh_terms"]
    assert "rbaniz" not in hit["title"]

    # The demo's example search finds the CKiD article first among its hits.
    example = SOURCES["pubmed"].search
    hits = search(database, example.mart, example.query, list(example.shown))
    assert "41576520" in [hit["pmid"] for hit in hits[:3]]

    (article,) = query(
        database,
        """
        select title, journal_abbreviation, publication_date, publication_year, authors[1],
               authors[8], languages, publication_types, doi, abstract, date_revised
        from marts.pubmed_articles where pmid = '41576520'
        """,
    )
    assert article[0].startswith("The Relationship of Serum Uric Acid")
    assert article[1:4] == ("Pediatr Neurol", date(2026, 1, 7), 2026)
    assert article[4:6] == (
        "Hooper SR",
        "Chronic Kidney Disease in Children (CKiD) Study Investigators",
    )
    assert article[6:9] == (["eng"], ["Journal Article"], "10.1016/j.pediatrneurol.2025.12.024")
    assert article[9].startswith("BACKGROUND: Pediatric chronic kidney disease")
    assert "\nMETHODS: The sample included 593 participants" in article[9]
    assert article[10] == date(2026, 1, 23)

    (heading,) = query(
        database,
        """
        select descriptor_ui, qualifier_names, qualifier_uis, is_major_topic
        from marts.article_mesh_terms
        where pmid = '26228458' and descriptor_name = 'Urbanization'
        """,
    )
    assert heading == ("D014507", ["trends"], ["Q000639"], True)

    # Every author of every article, in order, with ORCID iDs in one form whether NLM
    # gives a URL (baseline) or the bare iD (update file).
    authors = elements(".//AuthorList/Author", *FILES)
    assert query(database, "select count(*) from marts.article_authors") == [(len(authors),)]
    orcids = {
        identifier.text.rsplit("/", 1)[-1]
        for author in authors
        for identifier in author.findall("Identifier[@Source='ORCID']")
    }
    assert {
        orcid
        for (orcid,) in query(
            database, "select orcid from marts.article_authors where orcid is not null"
        )
    } == orcids
    assert query(
        database,
        """
        select display_name, fore_name, is_collective, affiliations[1]
        from marts.article_authors where pmid = '41576520' and author_position in (2, 8)
        order by author_position
        """,
    ) == [
        (
            "Roem J",
            "Jennifer",
            False,
            "Department of Epidemiology, Bloomberg School of Public Health, "
            "Johns Hopkins University, Baltimore, Maryland.",
        ),
        ("Chronic Kidney Disease in Children (CKiD) Study Investigators", None, True, None),
    ]

    # Every chemical, with MEDLINE's "0" as no registry number and each number's kind.
    assert query(database, "select count(*) from marts.article_chemicals") == [
        (len(elements(".//ChemicalList/Chemical", *FILES)),)
    ]
    kinds = dict(
        query(
            database,
            "select registry_number, registry_number_type from marts.article_chemicals "
            "where registry_number in ('SY7Q814VUP', '143972-95-6', 'EC 2.4.1.-')",
        )
    )
    assert kinds == {"SY7Q814VUP": "UNII", "143972-95-6": "CAS", "EC 2.4.1.-": "EC"}
    assert query(
        database, "select count(*) from marts.article_chemicals where registry_number = '0'"
    ) == [(0,)]

    indexes = query(
        database,
        "select indexdef from pg_indexes where schemaname = 'marts' "
        "and tablename = 'pubmed_articles'",
    )
    assert any("USING gin (search_vector" in definition for (definition,) in indexes)


def mart_contents(connection) -> dict[str, list[tuple]]:
    return {
        mart: query(connection, f"select * from marts.{mart} order by 1")  # noqa: S608
        for mart in MARTS
    }


def test_a_later_update_file_revises_and_deletes_and_incremental_equals_full_build(
    database, tmp_path: Path
):
    folder = release(tmp_path / "pubmed", BASELINE, UPDATE)
    land_source(database, "pubmed", bulk_location=str(folder))
    build(database)
    row_versions = dict(query(database, "select pmid, xmin::text from marts.pubmed_articles"))
    assert len(row_versions) == 60

    assert query(
        database, "select count(*) from marts.article_mesh_terms where pmid = '41587763'"
    ) == [(10,)]

    # Derived from the baseline: deletes 41576697 and 41587763, revises 41576520.
    release(folder, DERIVED_UPDATE)
    land_source(database, "pubmed", bulk_location=str(folder))
    build(database)

    after = dict(query(database, "select pmid, xmin::text from marts.pubmed_articles"))
    assert set(after) == set(article_pmids(BASELINE) + article_pmids(UPDATE)) - {
        "41576697",
        "41587763",
    }
    assert query(
        database, "select count(*) from marts.article_mesh_terms where pmid = '41587763'"
    ) == [(0,)]
    assert query(
        database,
        "select date_revised, publication_status from marts.pubmed_articles "
        "where pmid = '41576520'",
    ) == [(date(2026, 2, 2), "ppublish")]
    # Only the changed citations were rebuilt, and the result is that of a full build.
    unchanged = set(after) - {"41576520"}
    assert all(after[pmid] == row_versions[pmid] for pmid in unchanged)  # not rewritten
    assert after["41576520"] != row_versions["41576520"]
    incremental = mart_contents(database)
    build(database, full=True)
    assert incremental == mart_contents(database)
