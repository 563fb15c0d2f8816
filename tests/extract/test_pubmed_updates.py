"""PubMed's daily refresh from NLM's update files: the listing of the update-file folder
(a minimal page derived from its real link format, tests/fixtures/discovery/PROVENANCE.md)
is replayed on 127.0.0.1 and links the real update-file sample and the derived next update
file, which deletes two baseline articles (tests/fixtures/pubmed/derived/README.md)."""

from __future__ import annotations

import logging
import re

import pytest
from werkzeug import Request, Response

from tests.conftest import DERIVED, build_models, land_source, query
from tests.extract.test_pubmed import (
    BASELINE,
    DERIVED_UPDATE,
    UPDATE,
    article_pmids,
    deleted_pmids,
    raw_rows,
)

PAGES = DERIVED / "discovery"
FOLDER = "/pubmed/updatefiles/"
FILES = {"pubmed26n1335.xml.gz": UPDATE, "pubmed26n1336.xml.gz": DERIVED_UPDATE}
# NLM's checksum of the update-file sample (real), and the same with another file's digest
# (tests/fixtures/pubmed/PROVENANCE.md, derived/README.md).
MD5_1335 = DERIVED / "pubmed" / "pubmed26n1335.xml.gz.md5"
WRONG_MD5_1335 = DERIVED / "pubmed" / "derived" / "pubmed26n1335_wrong_digest.xml.gz.md5"


class Listing:
    """NLM's update-file folder as it is now: `show` changes what its listing links (an
    update file posted between two runs); each file it links is served, with the `.md5`
    beside it in `checksums` (the derived 1336 has none: 404)."""

    def __init__(self, httpserver, page: str) -> None:
        self.page = page
        self.url = httpserver.url_for(FOLDER)
        self.checksums = {"pubmed26n1335.xml.gz": MD5_1335}
        httpserver.expect_request(FOLDER).respond_with_handler(self._answer)
        for name, path in FILES.items():
            httpserver.expect_request(FOLDER + name).respond_with_data(
                path.read_bytes(), content_type="application/x-gzip"
            )
            httpserver.expect_request(FOLDER + name + ".md5").respond_with_handler(
                lambda request, name=name: self._checksum(name)
            )

    def show(self, page: str) -> None:
        self.page = page

    def _answer(self, request: Request) -> Response:
        return Response((PAGES / self.page).read_bytes(), content_type="text/html")

    def _checksum(self, name: str) -> Response:
        if name not in self.checksums:
            return Response("Not Found", status=404)
        return Response(self.checksums[name].read_bytes(), content_type="text/plain")


@pytest.fixture
def listing(httpserver, monkeypatch: pytest.MonkeyPatch) -> Listing:
    """The listing with update file 1335, the daily refresh pointed at it (the default
    daily source, NLM's update files)."""
    served = Listing(httpserver, "nlm_pubmed_updatefiles_1335.html")
    monkeypatch.setenv("SOURCES__PUBMED__UPDATES_PAGE_URL", served.url)
    monkeypatch.setenv("SOURCES__PUBMED__REQUESTS_PER_SECOND", "0")
    return served


def downloads(httpserver) -> list[str]:
    """The update files fetched, in order (not the listing, not the checksums)."""
    return [
        request.path
        for request, _ in httpserver.log
        if request.path != FOLDER and not request.path.endswith(".md5")
    ]


def checksums_asked(httpserver) -> list[str]:
    return [request.path for request, _ in httpserver.log if request.path.endswith(".md5")]


def test_the_daily_refresh_lands_each_new_update_file_and_its_deletions(
    database, httpserver, listing: Listing, caplog
):
    caplog.set_level(logging.INFO, logger="extract.pubmed")
    land_source(database, "pubmed", bulk_location=str(BASELINE))  # the first load: --bulk

    first = land_source(database, "pubmed")  # the daily refresh: 1335 is newer than 1334
    listing.show("nlm_pubmed_updatefiles_1336.html")  # NLM posts the next update file
    second = land_source(database, "pubmed")
    third = land_source(database, "pubmed")  # nothing new on the listing

    assert first.rows == {"articles": len(article_pmids(UPDATE)) + len(deleted_pmids(UPDATE))}
    assert second.rows == {"articles": 1 + 2}  # a revision of 41576520, two deletions
    assert third.total_rows == 0
    assert "nothing new on" in caplog.text and "pubmed26n1336" in caplog.text
    # Each update file fetched once, and its .md5 (its stats page never): 1335 matches
    # NLM's digest; the 1336 replayed has none, so it lands with a warning note.
    assert downloads(httpserver) == [
        FOLDER + "pubmed26n1335.xml.gz",
        FOLDER + "pubmed26n1336.xml.gz",
    ]
    assert checksums_asked(httpserver) == [
        FOLDER + "pubmed26n1335.xml.gz.md5",
        FOLDER + "pubmed26n1336.xml.gz.md5",
    ]
    assert first.notes == []
    assert second.notes == [
        f"{listing.url}pubmed26n1336.xml.gz: landed unverified: NLM publishes no "
        "pubmed26n1336.xml.gz.md5 beside it (404)"
    ]
    deleted = {pmid for pmid, _, is_deleted in raw_rows(database) if is_deleted}
    assert {"41576697", "41587763"} <= deleted

    build_models(database, "pubmed_articles", sources=["pubmed"])
    mirrored = {pmid for (pmid,) in query(database, "select pmid from marts.pubmed_articles")}
    assert "41576697" not in mirrored and "41587763" not in mirrored
    assert set(article_pmids(BASELINE)) - {"41576697", "41587763"} <= mirrored
    assert set(article_pmids(UPDATE)) - set(deleted_pmids(UPDATE)) <= mirrored
    assert query(
        database, "select date_revised::text from marts.pubmed_articles where pmid = '41576520'"
    ) == [("2026-02-02",)]


def test_the_daily_refresh_names_the_listing_as_its_way_in_and_reconciles_the_files(
    database, httpserver, listing: Listing, prefect_server
):
    """Not `--bulk`, yet release files: the run log names the listing, and each run that
    landed update files reconciles the rows they hold against the rows landed."""
    from flows.refresh import refresh

    land_source(database, "pubmed", bulk_location=str(BASELINE))
    first = refresh(sources=["pubmed"], run_dbt=False)
    listing.show("nlm_pubmed_updatefiles_1336.html")
    refresh(sources=["pubmed"], run_dbt=False)
    refresh(sources=["pubmed"], run_dbt=False)  # nothing new: nothing to count

    update_rows = len(article_pmids(UPDATE)) + len(deleted_pmids(UPDATE))
    assert first["pubmed"]["rows"] == {"articles": update_rows}
    assert (
        query(database, "select way_in from ops.refresh_runs order by started_at")
        == [(f"releases page {listing.url}",)] * 3
    )
    assert query(
        database,
        "select resource, publisher_count, mirror_count, counted from ops.reconciliation "
        "where source = 'pubmed' order by checked_at",
    ) == [
        (
            "release files",
            update_rows,
            update_rows,
            "records in the release file landed by this run",
        ),
        ("release files", 3, 3, "records in the release file landed by this run"),
    ]


def test_an_update_file_that_does_not_match_its_md5_is_rejected_and_asked_again(
    database, httpserver, listing: Listing
):
    """NLM's .md5 states another digest than the file served (a damaged download): the
    file is rejected naming both digests, not landed nor remembered, and the file after it
    waits; once the download matches, the next run lands both, in number order."""
    land_source(database, "pubmed", bulk_location=str(BASELINE))
    listing.show("nlm_pubmed_updatefiles_1336.html")
    listing.checksums["pubmed26n1335.xml.gz"] = WRONG_MD5_1335

    damaged = land_source(database, "pubmed")

    assert damaged.total_rows == 0 and damaged.rejected == 1
    file_url = f"{listing.url}pubmed26n1335.xml.gz"
    ((uri, problem),) = query(database, "select source_uri, problem from raw_pubmed.rejects")
    assert uri == file_url
    assert problem.startswith(
        "its MD5 is 88b74979343252faa848a06d7c6aa3ea, but NLM's pubmed26n1335.xml.gz.md5 "
        "states 3cf53ba34ff73126e42d1d8391330e73"
    )
    assert damaged.files.files[file_url].outcome == "rejected"
    assert downloads(httpserver) == [FOLDER + "pubmed26n1335.xml.gz"]  # 1336 waits

    listing.checksums["pubmed26n1335.xml.gz"] = MD5_1335  # the download matches again
    repaired = land_source(database, "pubmed")

    assert repaired.rows == {
        "articles": len(article_pmids(UPDATE)) + len(deleted_pmids(UPDATE)) + 1 + 2
    }
    assert downloads(httpserver)[1:] == [
        FOLDER + "pubmed26n1335.xml.gz",  # downloaded again: the damaged copy was deleted
        FOLDER + "pubmed26n1336.xml.gz",
    ]


def test_a_bulk_url_of_one_of_nlms_files_is_checked_against_its_md5(
    database, httpserver, listing: Listing
):
    listing.checksums["pubmed26n1335.xml.gz"] = WRONG_MD5_1335
    url = f"{listing.url}pubmed26n1335.xml.gz"

    refused = land_source(database, "pubmed", bulk_location=url)
    listing.checksums["pubmed26n1335.xml.gz"] = MD5_1335
    landed = land_source(database, "pubmed", bulk_location=url)

    assert (refused.total_rows, refused.rejected) == (0, 1)
    assert landed.rows == {"articles": len(article_pmids(UPDATE)) + len(deleted_pmids(UPDATE))}
    assert checksums_asked(httpserver) == [FOLDER + "pubmed26n1335.xml.gz.md5"] * 2


def test_a_bulk_listing_url_lands_every_file_it_links_not_landed_in_order(
    database, httpserver, listing: Listing
):
    """`--bulk https://ftp.ncbi.nlm.nih.gov/pubmed/baseline/`: every file the folder's
    listing links, oldest first, each checked against its .md5; a rerun downloads none."""
    listing.show("nlm_pubmed_updatefiles_1336.html")

    first = land_source(database, "pubmed", bulk_location=listing.url)
    again = land_source(database, "pubmed", bulk_location=listing.url)

    assert first.rows == {
        "articles": len(article_pmids(UPDATE)) + len(deleted_pmids(UPDATE)) + 1 + 2
    }
    assert again.total_rows == 0
    assert downloads(httpserver) == [
        FOLDER + "pubmed26n1335.xml.gz",
        FOLDER + "pubmed26n1336.xml.gz",
    ]
    assert len(first.notes) == 1 and "pubmed26n1336.xml.gz.md5" in first.notes[0]


def test_with_nothing_landed_only_the_newest_update_file_lands_and_the_rest_is_a_bulk_load(
    database, httpserver, listing: Listing, caplog
):
    listing.show("nlm_pubmed_updatefiles_1336.html")

    landed = land_source(database, "pubmed")

    assert landed.rows == {"articles": 1 + 2}  # 1336 only
    assert downloads(httpserver) == [FOLDER + "pubmed26n1336.xml.gz"]
    assert "landing only the newest update file pubmed26n1336" in caplog.text
    assert "--bulk" in caplog.text


def test_a_listing_without_update_files_fails_naming_the_page(
    database, httpserver, monkeypatch: pytest.MonkeyPatch
):
    page_url = httpserver.url_for(FOLDER)
    monkeypatch.setenv("SOURCES__PUBMED__UPDATES_PAGE_URL", page_url)
    httpserver.expect_request(FOLDER).respond_with_data(
        b"<html><body><a href='README.txt'>README.txt</a>"
        b"<a href='pubmed26n1335.xml.gz.md5'>pubmed26n1335.xml.gz.md5</a>"
        b"<a href='pubmed26n1335_stats.html'>pubmed26n1335_stats.html</a></body></html>",
        content_type="text/html",
    )

    with pytest.raises(Exception, match=re.escape(page_url)) as failure:
        land_source(database, "pubmed")

    assert "links no release file" in str(failure.value)
    assert query(database, "select count(*) from raw_pubmed.articles") == [(0,)]


def test_an_unknown_daily_source_is_refused_before_any_request(database, httpserver, monkeypatch):
    monkeypatch.setenv("SOURCES__PUBMED__DAILY_SOURCE", "nightly")

    with pytest.raises(Exception, match="daily_source 'nightly' is not one of 'updatefiles'"):
        land_source(database, "pubmed")

    assert httpserver.log == []
