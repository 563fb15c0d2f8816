"""Release discovery: the newest release is found on the publisher's index page and lands
with no config edit. CMS's pages are replayed on 127.0.0.1 (minimal pages derived from
CMS's real link format, tests/fixtures/discovery/PROVENANCE.md) and link the real
release zips (samples/) and the derived next releases (tests/fixtures/*/derived/)."""

from __future__ import annotations

import re

import pytest
from werkzeug import Request, Response

from extract.discovery import Release, newest, not_landed, releases_in
from extract.errors import MalformedInput
from extract.faers import settings as faers_settings
from extract.hcpcs import _release_of_zip
from extract.hcpcs import settings as hcpcs_settings
from extract.icd10cm import settings as icd10cm_settings
from flows.sources import spec_of
from medmirror.settings import SAMPLES_DIR
from tests.conftest import DERIVED, land_source, query

PAGES = DERIVED / "discovery"
ICD_ORDER_2021 = SAMPLES_DIR / "icd10cm" / "icd10cm_order_2021.zip"
ICD_TABULAR_2021 = SAMPLES_DIR / "icd10cm" / "icd10cm_tabular_2021.zip"
ICD_ORDER_2022 = DERIVED / "icd10cm" / "derived" / "icd10cm_order_2022_derived.zip"
HCPCS_2019 = SAMPLES_DIR / "hcpcs" / "2019-Alpha-Numeric-HCPCS-File.zip"
HCPCS_2020 = DERIVED / "hcpcs" / "derived" / "hcpcs_2020_excerpt_bad_line.zip"
ICD_PAGE = "/medicare/coding-billing/icd-10-codes"
HCPCS_PAGE = "/medicare/coding-billing/healthcare-common-procedure-system/quarterly-update"


def serve_zips(httpserver, zips: dict[str, object]) -> None:
    for name, path in zips.items():
        httpserver.expect_request(f"/files/zip/{name}").respond_with_data(
            path.read_bytes(), content_type="application/zip"
        )


class IndexPage:
    """The publisher's index page at `path`, as it is now: `show` changes what it lists
    (a release published between two runs)."""

    def __init__(self, httpserver, path: str, page: str) -> None:
        self.page = page
        httpserver.expect_request(path).respond_with_handler(self._answer)

    def show(self, page: str) -> None:
        self.page = page

    def _answer(self, request: Request) -> Response:
        return Response((PAGES / self.page).read_bytes(), content_type="text/html")


def zip_requests(httpserver) -> list[str]:
    return [request.path for request, _ in httpserver.log if request.path.endswith(".zip")]


def test_icd10cm_lands_the_newest_release_its_page_links_with_no_config_edit(
    database, httpserver, monkeypatch
):
    monkeypatch.setenv("SOURCES__ICD10CM__RELEASES_PAGE_URL", httpserver.url_for(ICD_PAGE))
    serve_zips(
        httpserver,
        {
            "2021-code-descriptions-tabular-order.zip": ICD_ORDER_2021,
            "2021-code-tables-tabular-and-index.zip": ICD_TABULAR_2021,
            "2022-code-descriptions-tabular-order.zip": ICD_ORDER_2022,
        },
    )
    page = IndexPage(httpserver, ICD_PAGE, "cms_icd10_codes_fy2021.html")

    first = land_source(database, "icd10cm")  # as the monthly run: no URLs given
    page.show("cms_icd10_codes_fy2022.html")  # CMS publishes FY2022
    second = land_source(database, "icd10cm")

    assert first.rows == {"order_codes": 95_358, "tabular_codes": 95_430}
    assert second.rows == {"order_codes": 95_358 - 1}  # FY2022: A00.0 removed
    assert query(
        database, "select release_year, count(*) from raw_icd10cm.order_codes group by 1 order by 1"
    ) == [(2021, 95_358), (2022, 95_357)]
    # Each zip fetched once: FY2021's stay landed when the FY2022 page links them again.
    assert sorted(zip_requests(httpserver)) == [
        "/files/zip/2021-code-descriptions-tabular-order.zip",
        "/files/zip/2021-code-tables-tabular-and-index.zip",
        "/files/zip/2022-code-descriptions-tabular-order.zip",
    ]


def test_hcpcs_lands_the_newest_quarter_its_page_links_with_no_config_edit(
    database, httpserver, monkeypatch
):
    monkeypatch.setenv("SOURCES__HCPCS__RELEASES_PAGE_URL", httpserver.url_for(HCPCS_PAGE))
    serve_zips(
        httpserver,
        {
            "2019-alpha-numeric-hcpcs-file.zip": HCPCS_2019,
            "january-2020-alpha-numeric-hcpcs-file.zip": HCPCS_2020,
        },
    )
    page = IndexPage(httpserver, HCPCS_PAGE, "cms_hcpcs_quarterly_update_2019.html")

    first = land_source(database, "hcpcs")
    page.show("cms_hcpcs_quarterly_update_2020.html")  # CMS publishes January 2020
    second = land_source(database, "hcpcs")
    third = land_source(database, "hcpcs")  # nothing new on the page: nothing downloaded

    assert first.rows == {"codes": 6_800}
    assert 0 < second.rows["codes"] < 400  # the 2020 excerpt
    assert third.total_rows == 0
    assert query(
        database, "select release, count(*) > 0 from raw_hcpcs.codes group by 1 order by 1"
    ) == [("2019", True), ("2020", True)]
    assert sorted(zip_requests(httpserver)) == [
        "/files/zip/2019-alpha-numeric-hcpcs-file.zip",
        "/files/zip/january-2020-alpha-numeric-hcpcs-file.zip",
    ]


def test_a_page_with_no_recognisable_release_fails_naming_the_page(
    database, httpserver, monkeypatch
):
    page_url = httpserver.url_for(HCPCS_PAGE)
    monkeypatch.setenv("SOURCES__HCPCS__RELEASES_PAGE_URL", page_url)
    httpserver.expect_request(HCPCS_PAGE).respond_with_data(
        b"<html><body><a href='/files/zip/2019-hcpcs-record-layout.zip'>layout</a>"
        b"<p>This page has moved.</p></body></html>",
        content_type="text/html",
    )

    with pytest.raises(Exception, match=re.escape(page_url)) as failure:
        land_source(database, "hcpcs")

    assert "links no release file" in str(failure.value)
    assert query(database, "select count(*) from raw_hcpcs.codes") == [(0,)]


def test_a_configured_list_of_release_urls_is_read_instead_of_the_page(
    database, httpserver, monkeypatch
):
    # No page is served: were it asked for, the run would fail.
    monkeypatch.setenv("SOURCES__HCPCS__RELEASES_PAGE_URL", httpserver.url_for(HCPCS_PAGE))
    serve_zips(httpserver, {"2019-alpha-numeric-hcpcs-file.zip": HCPCS_2019})

    landed = land_source(
        database,
        "hcpcs",
        release_urls=[httpserver.url_for("/files/zip/2019-alpha-numeric-hcpcs-file.zip")],
    )

    assert landed.rows == {"codes": 6_800}
    assert [request.path for request, _ in httpserver.log] == [
        "/files/zip/2019-alpha-numeric-hcpcs-file.zip"
    ]


def test_release_links_are_read_from_the_page_absolute_and_ordered():
    page = (PAGES / "cms_icd10_codes_fy2022.html").read_bytes()
    found = releases_in(
        page,
        "https://www.cms.gov/medicare/coding-billing/icd-10-codes",
        source="icd10cm",
        pattern=icd10cm_settings.RELEASE_ZIP,
    )

    assert [release.name for release in found] == ["2021", "2022"]
    assert newest(found).urls == (
        "https://www.cms.gov/files/zip/2022-code-descriptions-tabular-order.zip",
    )
    assert len(found[0].urls) == 2  # order file and tabular XML; addenda and PCS left out
    assert not_landed(found, lambda release: release.name == "2021") == [found[1]]


@pytest.mark.parametrize(
    ("name", "release"),
    [
        ("january-2025-alpha-numeric-hcpcs-file.zip", "2025-01"),
        ("october-2026-alpha-numeric-hcpcs-file.zip", "2026-10"),
        ("2019-alpha-numeric-hcpcs-file.zip", "2019"),
        ("2015-Annual-Alpha-Numeric-HCPCS-File.zip", "2015"),
    ],
)
def test_hcpcs_zip_names_cms_has_used_are_recognised(name, release):
    page = f'<a href="/files/zip/{name}">file</a>'.encode()
    found = releases_in(
        page,
        "https://www.cms.gov/x",
        source="hcpcs",
        pattern=hcpcs_settings.RELEASE_ZIP,
        recognise=_release_of_zip,
    )
    assert [r.name for r in found] == [release]
    assert isinstance(found[0], Release)


def test_a_page_that_is_not_html_fails_naming_the_page():
    with pytest.raises(MalformedInput, match="https://www.cms.gov/x"):
        releases_in(
            b"", "https://www.cms.gov/x", source="hcpcs", pattern=hcpcs_settings.RELEASE_ZIP
        )


FAERS_PAGE = "/extensions/FPD-QDE-FAERS/FPD-QDE-FAERS.html"
FAERS_2017Q2 = SAMPLES_DIR / "faers" / "faers_ascii_2017q2_subset.zip"
FAERS_2017Q3 = DERIVED / "faers" / "derived" / "faers_ascii_2017q3_derived.zip"


def test_faers_quarters_listed_on_fdas_page_land_by_themselves(
    database, httpserver, monkeypatch, tmp_path
):
    monkeypatch.setenv("SOURCES__FAERS__QUARTERS_PAGE_URL", httpserver.url_for(FAERS_PAGE))
    for name, path in {
        "faers_ascii_2017q2.zip": FAERS_2017Q2,
        "faers_ascii_2017q3.zip": FAERS_2017Q3,
    }.items():
        httpserver.expect_request(f"/content/Exports/{name}").respond_with_data(
            path.read_bytes(), content_type="application/zip"
        )
    page = IndexPage(httpserver, FAERS_PAGE, "fda_faers_quarterly_2017q2.html")
    spec = spec_of("faers")

    first = land_source(database, "faers", discover_quarters=True)  # --quarters, monthly
    page.show("fda_faers_quarterly_2017q3.html")  # FDA publishes 2017Q3
    second = land_source(database, "faers", discover_quarters=True)
    third = land_source(database, "faers", discover_quarters=True)

    assert first.rows["demo"] == 100 and set(first.rows) >= {"demo", "drug", "reac"}
    assert second.rows["demo"] > 0 and second.rows["deleted_cases"] > 0  # with Deleted/
    assert third.total_rows == 0
    assert query(
        database, "select quarter, count(*) from raw_faers.demo group by 1 order by 1"
    ) == [("2017Q2", 100), ("2017Q3", second.rows["demo"])]
    # Only the ASCII zips, each once; the XML twins are not read.
    assert sorted(zip_requests(httpserver)) == [
        "/content/Exports/faers_ascii_2017q2.zip",
        "/content/Exports/faers_ascii_2017q3.zip",
    ]
    # A plain refresh (and the daily run) asks openFDA only; --quarters the page only.
    plain = spec.build(bulk=None, download_dir=tmp_path)
    listed = spec.build(bulk=None, download_dir=tmp_path, listed_releases=True)
    assert list(plain.resources) == ["events"]
    assert list(listed.resources) == ["quarters"]


def test_faers_page_with_no_ascii_quarter_fails_naming_the_page():
    page = b'<a href="/content/Exports/faers_xml_2017q2.zip">XML</a>'
    with pytest.raises(MalformedInput, match="FPD-QDE-FAERS.html: the releases page links no"):
        releases_in(
            page,
            "https://fis.fda.gov/extensions/FPD-QDE-FAERS/FPD-QDE-FAERS.html",
            source="faers",
            pattern=faers_settings.QUARTER_ZIP,
        )


def test_a_broken_quarter_on_fdas_page_is_rejected_by_name_and_the_next_lands(
    database, httpserver, monkeypatch
):
    monkeypatch.setenv("SOURCES__FAERS__QUARTERS_PAGE_URL", httpserver.url_for(FAERS_PAGE))
    broken = FAERS_2017Q2.read_bytes()[:5_000]  # the real zip cut short
    httpserver.expect_request("/content/Exports/faers_ascii_2017q2.zip").respond_with_data(
        broken, content_type="application/zip"
    )
    httpserver.expect_request("/content/Exports/faers_ascii_2017q3.zip").respond_with_data(
        FAERS_2017Q3.read_bytes(), content_type="application/zip"
    )
    IndexPage(httpserver, FAERS_PAGE, "fda_faers_quarterly_2017q3.html")

    first = land_source(database, "faers", discover_quarters=True)
    again = land_source(database, "faers", discover_quarters=True)

    assert first.rejected == 1 and first.rows["demo"] > 0
    ((where, problem),) = query(database, "select source_uri, problem from raw_faers.rejects")
    assert "faers_ascii_2017q2.zip" in where and "not a readable zip" in problem
    assert query(database, "select distinct quarter from raw_faers.demo") == [("2017Q3",)]
    assert again.total_rows == 0 and again.rejected == 0  # not rejected twice
