"""NCCIH herbs extract: the real dlt pipeline into a real PostgreSQL, NCCIH's web pages
replayed over HTTP on 127.0.0.1 from constructed pages in the layout of the Herbs at a
Glance fact sheets, parsed with lxml."""

from __future__ import annotations

import time

import pytest
from werkzeug import Response

from tests.conftest import land_source, query, sample

INDEX = "nccih/herbsataglance_index_constructed.html"


class NccihSite:
    """Serves /health/<page> from `pages` (page -> fixture); others are 404."""

    def __init__(self, httpserver) -> None:
        self.base = httpserver.url_for("").rstrip("/")
        self.pages = {
            "herbsataglance": INDEX,
            "chamomile": "nccih/chamomile_constructed.html",
            "ginger": "nccih/ginger_constructed.html",
            "kava": "nccih/kava_not_a_fact_sheet_constructed.html",
        }
        self.index_html: bytes | None = None
        self.requested: list[str] = []
        self.times: list[float] = []
        for page in ("herbsataglance", "chamomile", "ginger", "kava"):
            httpserver.expect_request(f"/health/{page}").respond_with_handler(
                lambda request, page=page: self._serve(page)
            )

    def _serve(self, page: str) -> Response:
        self.requested.append(page)
        self.times.append(time.monotonic())
        if page == "herbsataglance" and self.index_html is not None:
            return Response(self.index_html, content_type="text/html; charset=utf-8")
        if page not in self.pages:
            return Response("not found", status=404)
        return Response(sample(self.pages[page]), content_type="text/html; charset=utf-8")


@pytest.fixture
def site(httpserver, monkeypatch: pytest.MonkeyPatch) -> NccihSite:
    served = NccihSite(httpserver)
    monkeypatch.setenv("SOURCES__NCCIH__BASE_URL", served.base)
    monkeypatch.setenv("SOURCES__NCCIH__REQUESTS_PER_SECOND", "0")
    monkeypatch.setenv("RUNTIME__REQUEST_MAX_ATTEMPTS", "3")
    monkeypatch.setenv("RUNTIME__REQUEST_BACKOFF_FACTOR", "0.05")
    return served


def test_fact_sheets_land_parsed_and_a_page_that_is_not_one_is_rejected(database, site):
    result = land_source(database, "nccih")

    assert site.requested == ["herbsataglance", "chamomile", "ginger", "kava"]
    assert result.rows == {"herbs": 2}
    assert result.rejected == 1
    ((where, problem),) = query(database, "select source_uri, problem from raw_nccih.rejects")
    assert where == f"{site.base}/health/kava"
    assert "not a fact sheet" in problem
    (chamomile,) = query(
        database,
        "select last_updated::text, record ->> 'name', record -> 'common_names', "
        "record -> 'latin_names', record ->> 'uses', record ->> 'safety', source_uri "
        "from raw_nccih.herbs where slug = 'chamomile'",
    )
    assert chamomile[:4] == (
        "2020-05-01",
        "Chamomile",
        [
            "chamomile",
            "German chamomile",
            "Hungarian chamomile",
            "Roman chamomile",
            "English chamomile",
        ],
        ["Matricaria recutita", "Chamaemelum nobile"],
    )
    assert chamomile[4].startswith("Chamomile has been used historically for sleeplessness")
    assert "daisy family" in chamomile[5]
    assert chamomile[6] == f"{site.base}/health/chamomile"
    # The other layout of the names: a label heading, then the names.
    assert query(
        database,
        "select record -> 'common_names', record -> 'latin_names' "
        "from raw_nccih.herbs where slug = 'ginger'",
    ) == [(["ginger", "ginger root"], ["Zingiber officinale"])]


def test_only_changed_pages_land_again_and_a_page_gone_from_the_index_is_deleted(database, site):
    land_source(database, "nccih")
    assert land_source(database, "nccih").total_rows == 0  # nothing changed

    site.pages["ginger"] = "nccih/ginger_updated_constructed.html"
    site.index_html = sample(INDEX).replace(
        b'<li><a href="/health/chamomile">Chamomile</a></li>', b""
    )
    result = land_source(database, "nccih")

    assert result.rows == {"herbs": 2}
    assert query(
        database,
        "select slug, deleted, last_updated::text from raw_nccih.herbs order by _dlt_load_id, slug",
    )[2:] == [("chamomile", True, None), ("ginger", False, "2025-03-01")]


def test_pages_are_asked_politely(database, site, monkeypatch):
    monkeypatch.setenv("SOURCES__NCCIH__REQUESTS_PER_SECOND", "2")

    land_source(database, "nccih")

    assert len(site.times) == 4
    assert site.times[-1] - site.times[0] >= 0.9  # 4 requests at 2 per second
