"""PubMed extract: the real dlt pipeline into a real PostgreSQL, on NLM's real baseline and
update file samples, and the E-utilities replayed from real recorded answers over HTTP on
127.0.0.1."""

from __future__ import annotations

import gzip
import shutil
import time
from datetime import date, timedelta
from pathlib import Path
from xml.etree import ElementTree

import pytest
from werkzeug import Request, Response

from extract.bulk import Outcome
from extract.errors import RequestRejected
from extract.http import PublisherClient
from extract.landing import pipeline_for
from flows.reconcile import reconcile
from medmirror.settings import SAMPLES_DIR, ConnectionInfo, load_settings
from tests.conftest import error_response, land_source, query, sample
from tests.extract.legacy_state import write_legacy_state

SAMPLES = SAMPLES_DIR / "pubmed"
BASELINE = SAMPLES / "pubmed26n1334_baseline_sample.xml.gz"
UPDATE = SAMPLES / "pubmed26n1335_updatefile_sample.xml.gz"
UPDATE_2021 = SAMPLES / "pubmed21n1063_updatefile_sample.xml.gz"  # older: lands first
DERIVED = Path(__file__).parents[1] / "fixtures" / "pubmed" / "derived"
DERIVED_UPDATE = DERIVED / "pubmed26n1336_derived_update.xml.gz"
ESEARCH_COUNT5 = "pubmed/derived/esearch_usehistory_count5.xml"
ESEARCH_NO_HITS = "pubmed/esearch_no_hits_errorlist.xml"
ESEARCH_ERROR = "pubmed/derived/esearch_error.xml"
# The five articles the count-5 search finds, two per efetch answer (batch_size=2).
EFETCH_BATCHES = [
    "pubmed/efetch_pubmed_12091962.xml",
    "pubmed/efetch_pubmed_11748933.xml",
    "pubmed/efetch_pubmed_27797938.xml",
]
START = "2026-01-20"


def article_pmids(path: Path) -> list[str]:
    """The PMIDs of a sample's articles, read with the standard library on the side."""
    root = ElementTree.fromstring(gzip.decompress(path.read_bytes()))
    return [article.findtext("MedlineCitation/PMID") for article in root.iter("PubmedArticle")]


def deleted_pmids(path: Path) -> list[str]:
    root = ElementTree.fromstring(gzip.decompress(path.read_bytes()))
    return [pmid.text for pmid in root.iterfind("DeleteCitation/PMID")]


def raw_rows(connection: ConnectionInfo) -> list[tuple]:
    return query(
        connection,
        "select pmid, date_revised, deleted from raw_pubmed.articles order by _dlt_load_id, pmid",
    )


def landed_pmids(connection: ConnectionInfo) -> list[str]:
    return sorted(pmid for pmid, _, deleted in raw_rows(connection) if not deleted)


def release(folder: Path, *files: Path) -> Path:
    folder.mkdir(exist_ok=True)
    for file in files:
        shutil.copy(file, folder / file.name)
    return folder


# -- the E-utilities replay --------------------------------------------------------------


class EutilsApi:
    """Replays E-utilities `esearch.fcgi` and `efetch.fcgi` on 127.0.0.1, recording each
    request. Answers are queued per utility in the order the client asks; a request with
    nothing queued gets a 500."""

    def __init__(self, httpserver) -> None:
        self.base = httpserver.url_for("/entrez/eutils")
        self.searches: list[Response] = []
        self.fetches: list[Response] = []
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.times: list[float] = []
        for utility in ("esearch", "efetch"):
            httpserver.expect_request(f"/entrez/eutils/{utility}.fcgi").respond_with_handler(
                self._answer
            )

    def _answer(self, request: Request) -> Response:
        utility = request.path.rsplit("/", 1)[-1].removesuffix(".fcgi")
        self.requests.append((utility, dict(request.args)))
        self.times.append(time.monotonic())
        queue = self.searches if utility == "esearch" else self.fetches
        if not queue:
            return Response("no response queued for this request", status=500)
        return queue.pop(0)

    def asked(self, utility: str) -> list[dict[str, str]]:
        return [args for name, args in self.requests if name == utility]


def xml_response(relative: str, status: int = 200) -> Response:
    return Response(sample(relative), status=status, content_type="text/xml")


@pytest.fixture
def eutils(httpserver, monkeypatch: pytest.MonkeyPatch) -> EutilsApi:
    """The E-utilities replay, the daily refresh set to it (`daily_source=eutils`), quick
    retries, one window."""
    api = EutilsApi(httpserver)
    monkeypatch.setenv("SOURCES__PUBMED__DAILY_SOURCE", "eutils")
    monkeypatch.setenv("SOURCES__PUBMED__EUTILS_URL", api.base)
    monkeypatch.setenv("SOURCES__PUBMED__START_DATE", START)
    monkeypatch.setenv("SOURCES__PUBMED__WINDOW_DAYS", "100000")
    monkeypatch.setenv("SOURCES__PUBMED__BATCH_SIZE", "2")
    monkeypatch.setenv("SOURCES__PUBMED__REQUESTS_PER_SECOND", "0")
    monkeypatch.setenv("RUNTIME__REQUEST_MAX_ATTEMPTS", "4")
    monkeypatch.setenv("RUNTIME__REQUEST_BACKOFF_FACTOR", "0.05")
    monkeypatch.setenv("RUNTIME__REQUEST_MAX_RETRY_DELAY", "5")
    monkeypatch.setenv("RUNTIME__REQUEST_TIMEOUT", "10")
    return api


def queue_five_articles(api: EutilsApi) -> None:
    api.searches.append(xml_response(ESEARCH_COUNT5))
    api.fetches += [xml_response(batch) for batch in EFETCH_BATCHES]


FIVE_PMIDS = ["11700088", "11748933", "12091962", "27797938", "9997"]
TODAY = date.today().strftime("%Y/%m/%d")


# -- bulk files ------------------------------------------------------------------------------


def test_bulk_lands_every_article_and_deletion_file_by_file(database):
    result = land_source(database, "pubmed", bulk_location=str(SAMPLES))

    assert result.rows == {"articles": 33 + 30 + 30 + 6}
    assert result.rejected == 0  # the E-utilities answers beside the release are left alone
    assert result.windows == 3  # one per file
    assert landed_pmids(database) == sorted(
        article_pmids(UPDATE_2021) + article_pmids(BASELINE) + article_pmids(UPDATE)
    )
    deletions = [pmid for pmid, _, deleted in raw_rows(database) if deleted]
    assert sorted(deletions) == sorted(deleted_pmids(UPDATE))
    assert len(deletions) == 6
    # Files land in name order (NLM numbers them by date), each in its own load: the 2021
    # update file, the 2026 baseline, then its update file.
    loads = query(
        database,
        "select source_uri, count(distinct _dlt_load_id) from raw_pubmed.articles group by 1 "
        "order by min(_dlt_load_id)",
    )
    assert loads == [(str(UPDATE_2021), 1), (str(BASELINE), 1), (str(UPDATE), 1)]
    assert land_source(database, "pubmed", bulk_location=str(SAMPLES)).total_rows == 0  # a rerun

    ((revised, record),) = query(
        database,
        "select date_revised, record from raw_pubmed.articles where pmid = '41576520'",
    )
    assert revised == date(2026, 1, 23)
    assert record["version"] == 1
    assert record["title"].startswith("The Relationship of Serum Uric Acid With Neurocognitive")
    assert [section["label"] for section in record["abstract"]] == [
        "BACKGROUND",
        "METHODS",
        "RESULTS",
        "CONCLUSIONS",
    ]
    assert record["journal"]["iso_abbreviation"] == "Pediatr Neurol"
    assert record["journal"]["pub_date"]["date"] == "2026-01-07"
    assert record["authors"][0]["last_name"] == "Hooper"
    assert record["authors"][-1]["collective_name"].startswith("Chronic Kidney Disease in")
    assert {"type": "doi", "value": "10.1016/j.pediatrneurol.2025.12.024"} in record["article_ids"]

    (heading,) = query(
        database,
        "select record -> 'mesh_headings' -> -1 from raw_pubmed.articles where pmid = '26228458'",
    )[0]
    assert heading == {
        "descriptor_ui": "D014507",
        "descriptor_name": "Urbanization",
        "major_topic": True,
        "qualifiers": [{"ui": "Q000639", "name": "trends", "major_topic": False}],
    }


def test_a_rerun_lands_nothing_and_a_grown_folder_lands_only_its_new_file(database, tmp_path: Path):
    folder = release(tmp_path / "pubmed", BASELINE)
    land_source(database, "pubmed", bulk_location=str(folder))

    again = land_source(database, "pubmed", bulk_location=str(folder))
    assert again.total_rows == 0  # an unchanged location is skipped whole

    release(folder, UPDATE)  # the next daily update file arrives
    grown = land_source(database, "pubmed", bulk_location=str(folder))

    assert grown.rows == {"articles": 36}  # the update file only, not the baseline again
    uris = query(database, "select source_uri, count(*) from raw_pubmed.articles group by 1")
    assert sorted(uris) == [(str(folder / BASELINE.name), 30), (str(folder / UPDATE.name), 36)]


def test_a_big_file_is_committed_in_windows_and_each_article_lands_once(database):
    result = land_source(
        database, "pubmed", bulk_location=str(SAMPLES), bulk_articles_per_window=10
    )

    # 3 windows of 10 articles of the 2021 update file and its last 3, 3 windows of 10
    # baseline articles, the baseline's end, 3 windows of 10 update articles, then the
    # deletion notices.
    assert result.windows == 11
    versions = query(
        database,
        "select pmid, record ->> 'version' from raw_pubmed.articles where not deleted",
    )
    assert len(versions) == len(set(versions)) == 93  # each article version once
    # The 2021 file holds real versioned citations (Wellcome Open Research): three
    # versions of 32685698, two of 32734003.
    assert len({pmid for pmid, _ in versions}) == 90


# -- the E-utilities API ---------------------------------------------------------------------


def test_api_searches_a_modification_window_and_fetches_from_the_history_server(
    database, eutils: EutilsApi, monkeypatch
):
    monkeypatch.setenv("SOURCES__PUBMED__API_KEY", "test-key-123")
    monkeypatch.setenv("SOURCES__PUBMED__EUTILS_EMAIL", "data@example.org")
    queue_five_articles(eutils)

    result = land_source(database, "pubmed")

    (search,) = eutils.asked("esearch")
    assert search == {
        "db": "pubmed",
        "tool": "medmirror",
        "email": "data@example.org",
        "term": "all[sb]",
        "datetype": "mdat",
        "mindate": "2026/01/20",
        "maxdate": TODAY,
        "usehistory": "y",
        "retmax": "0",
        "api_key": "test-key-123",
    }
    fetches = eutils.asked("efetch")
    assert [(args["retstart"], args["retmax"]) for args in fetches] == [
        ("0", "2"),
        ("2", "2"),
        ("4", "2"),
    ]
    assert {args["WebEnv"] for args in fetches} == {"MCID_6927d6e7fee3e90f880ec190"}
    assert {(args["query_key"], args["retmode"], args["api_key"]) for args in fetches} == {
        ("1", "xml", "test-key-123")
    }
    assert result.rows == {"articles": 5}
    assert landed_pmids(database) == FIVE_PMIDS
    # esearch's Count of the window against the records efetch delivered of it.
    (counted,) = reconcile(database, result, bulk=False)
    assert (counted.publisher_count, counted.mirror_count) == (5, 5)
    assert counted.counted == f"citations modified 2026/01/20-{TODAY}"
    assert query(
        database,
        "select source_uri, date_revised, record ->> 'title' from raw_pubmed.articles "
        "where pmid = '9997'",
    ) == [
        (
            f"{eutils.base}/efetch.fcgi?db=pubmed&id=9997",
            date(2019, 6, 9),
            "Magnetic studies of Chromatium flavocytochrome C552. A mechanism for heme-flavin "
            "interaction.",
        )
    ]


def test_an_entry_date_window_and_an_untitled_record_rejected_by_pmid(
    database, eutils: EutilsApi, monkeypatch
):
    monkeypatch.setenv("SOURCES__PUBMED__DATE_TYPE", "edat")
    eutils.searches.append(xml_response(ESEARCH_COUNT5))
    eutils.fetches += [
        xml_response(EFETCH_BATCHES[0]),
        xml_response("pubmed/derived/efetch_pubmed_11748933_untitled.xml"),
        xml_response(EFETCH_BATCHES[2]),
    ]

    result = land_source(database, "pubmed")

    assert eutils.asked("esearch")[0]["datetype"] == "edat"
    assert result.rejected == 1
    (reject,) = query(database, "select source_uri, problem from raw_pubmed.rejects")
    assert reject == (
        "efetch of records 3-4 of 5 entered 2026/01/20-" + TODAY,
        "PMID 11748933 has no ArticleTitle or VernacularTitle",
    )
    assert "11748933" not in landed_pmids(database)
    assert len(landed_pmids(database)) == len(FIVE_PMIDS) - 1
    # The rejected record was delivered: the counts agree (the reject is in rejects).
    assert result.publications["articles"]["mirror_count"] == 5


def test_a_key_raises_the_rate_limit_to_what_ncbi_allows_with_one(monkeypatch):
    monkeypatch.delenv("SOURCES__PUBMED__API_KEY", raising=False)
    assert PublisherClient("pubmed").requests_per_second == 3
    monkeypatch.setenv("SOURCES__PUBMED__API_KEY", "test-key-123")
    assert PublisherClient("pubmed").requests_per_second == 10


def test_second_run_asks_only_from_the_cursor(database, eutils: EutilsApi):
    queue_five_articles(eutils)
    land_source(database, "pubmed")
    # The cursor lives in the warehouse: losing the local pipeline folder loses nothing.
    shutil.rmtree(load_settings().dlt_dir)

    eutils.searches.append(xml_response(ESEARCH_NO_HITS))
    second = land_source(database, "pubmed")

    first_search, second_search = eutils.asked("esearch")
    assert first_search["mindate"] == "2026/01/20"
    # The first run searched through today; the next asks again from that day on.
    assert (second_search["mindate"], second_search["maxdate"]) == (TODAY, TODAY)
    assert len(eutils.asked("efetch")) == 3  # nothing fetched for an empty window
    assert second.total_rows == 0


def test_a_catch_up_is_committed_one_day_window_at_a_time(database, eutils: EutilsApi, monkeypatch):
    yesterday = date.today() - timedelta(days=1)
    monkeypatch.setenv("SOURCES__PUBMED__START_DATE", yesterday.isoformat())
    monkeypatch.setenv("SOURCES__PUBMED__WINDOW_DAYS", "1")
    eutils.searches += [xml_response(ESEARCH_NO_HITS), xml_response(ESEARCH_NO_HITS)]

    result = land_source(database, "pubmed")

    assert result.windows == 2
    day = yesterday.strftime("%Y/%m/%d")
    assert [(args["mindate"], args["maxdate"]) for args in eutils.asked("esearch")] == [
        (day, day),
        (TODAY, TODAY),
    ]


def test_api_continues_where_the_bulk_files_end(database, eutils: EutilsApi, monkeypatch):
    land_source(database, "pubmed", bulk_location=str(BASELINE))
    monkeypatch.delenv("SOURCES__PUBMED__START_DATE")
    eutils.searches.append(xml_response(ESEARCH_NO_HITS))

    land_source(database, "pubmed")

    (newest,) = query(database, "select max(date_revised) from raw_pubmed.articles")[0]
    (search,) = eutils.asked("esearch")
    assert search["mindate"] == (newest - timedelta(days=1)).strftime("%Y/%m/%d")


def test_429_and_5xx_answers_are_retried(database, eutils: EutilsApi):
    eutils.searches += [
        error_response(429, {"Retry-After": "1"}),
        error_response(503),
        xml_response(ESEARCH_COUNT5),
    ]
    eutils.fetches += [error_response(502), error_response(500)]
    eutils.fetches += [xml_response(batch) for batch in EFETCH_BATCHES]

    land_source(database, "pubmed")

    assert len(eutils.asked("esearch")) == 3
    assert eutils.times[1] - eutils.times[0] >= 0.95  # waited as told
    assert [args["retstart"] for args in eutils.asked("efetch")] == ["0", "0", "0", "2", "4"]
    assert landed_pmids(database) == FIVE_PMIDS


def test_an_error_answer_is_a_rejected_request_naming_the_search(database, eutils: EutilsApi):
    eutils.searches.append(xml_response(ESEARCH_ERROR))

    with pytest.raises(RequestRejected) as failure:
        land_source(database, "pubmed")

    assert str(failure.value) == (
        f"pubmed: search of citations modified 2026/01/20-{TODAY}: "
        "E-utilities answered with an error: Empty term and query_key - nothing todo"
    )
    assert not failure.value.retryable
    assert eutils.asked("efetch") == []


# -- bad files -------------------------------------------------------------------------------


def test_bad_files_are_rejected_by_name_and_position_and_the_rest_lands(database, tmp_path: Path):
    bad = {
        "pubmed26n1335_cut.xml.gz": (
            "not valid XML at line 4, column 234790: Premature end of data in tag AbstractText"
        ),
        "pubmed26n1335_not_utf8.xml.gz": (
            "not valid XML at line 4, column 46150: Invalid bytes in character encoding"
        ),
        "pubmed26n1335_truncated.xml.gz": "the gzip stream breaks after",
        "pubmed26n1337_empty.xml": "not valid XML: an empty document",
    }
    # An unusable article stops its file there, like broken XML: the file is not landed
    # whole, so it is read again when the release changes.
    without_pmid = "pubmed26n1338_article_without_pmid.xml.gz"
    bad[without_pmid] = "item 1 (line 4): a PubmedArticle without MedlineCitation/PMID"
    without_title = "pubmed26n1339_article_without_title.xml.gz"
    bad[without_title] = "item 2 (line 4): PMID 41576520 has no ArticleTitle or VernacularTitle"
    folder = release(tmp_path / "pubmed", BASELINE, *(DERIVED / name for name in bad))

    result = land_source(database, "pubmed", bulk_location=str(folder))

    assert result.rejected == len(bad)
    rejects = dict(query(database, "select source_uri, problem from raw_pubmed.rejects"))
    assert sorted(rejects) == sorted(str(folder / name) for name in bad)
    for name, text in bad.items():
        assert text in rejects[str(folder / name)], rejects[str(folder / name)]
    # The good file lands whole, and the articles before each fault. The derived files
    # repeat articles landed before them (the three broken copies of pubmed26n1335 start
    # with the same ones; the article before the untitled one is the baseline's): each
    # version is kept once, from the first file holding it (extract/versions.py).
    landed = dict(
        query(database, "select source_uri, count(*) from raw_pubmed.articles group by 1")
    )
    assert landed == {
        str(folder / BASELINE.name): 30,
        str(folder / "pubmed26n1335_cut.xml.gz"): 15,
    }
    assert result.repeated == {"articles": 2 + 14 + 1}
    # Nothing is read again while the folder stays as it is.
    assert land_source(database, "pubmed", bulk_location=str(folder)).total_rows == 0


def test_an_upgrade_keeps_the_files_the_older_ledger_landed(database, tmp_path: Path):
    folder = release(tmp_path / "pubmed", BASELINE, UPDATE, DERIVED_UPDATE)
    # The state medmirror's own PubMed ledger kept before BulkLedger: NLM's numbered
    # names as runs of numbers (the baseline and update samples landed).
    write_legacy_state(
        database,
        "pubmed",
        "articles_bulk",
        {
            "landed_files": {
                "runs": {
                    "pubmed26n####_baseline_sample.xml": [[1334, 1334]],
                    "pubmed26n####_updatefile_sample.xml": [[1335, 1335]],
                },
                "names": [],
            },
            "landed_release": "0" * 64,
        },
    )

    result = land_source(database, "pubmed", bulk_location=str(folder))

    assert query(database, "select distinct source_uri from raw_pubmed.articles") == [
        (str(folder / DERIVED_UPDATE.name),)
    ]
    assert result.files.count(Outcome.ALREADY_LANDED) == 2
    pipeline = pipeline_for("pubmed", database, tmp_path / "fresh-pipeline")
    pipeline.sync_destination()
    state = pipeline.state["sources"]["pubmed"]["resources"]["articles_bulk"]
    assert sorted(state["landed_files"]) == [
        "pubmed26n1334_baseline_sample.xml",
        "pubmed26n1335_updatefile_sample.xml",
        "pubmed26n1336_derived_update.xml",
    ]
    assert state["newest_revised"] == "2026-02-02"


def test_every_file_offered_is_accounted_for(database, tmp_path: Path):
    folder = release(tmp_path / "pubmed", BASELINE)
    (folder / "README.txt").write_text("PubMed baseline, copied from NLM's FTP site\n")
    # Another publisher's XML (MedlinePlus), and an E-utilities answer (a real efetch
    # answer, PubmedArticleSet, not named as NLM names its release files).
    shutil.copy(SAMPLES_DIR / "medlineplus" / "mplus_topics_2012-07-21.xml", folder)
    shutil.copy(SAMPLES / "efetch_pubmed_11748933.xml", folder)

    result = land_source(database, "pubmed", bulk_location=str(folder))

    outcomes = {uri.split("/")[-1]: found.outcome for uri, found in result.files.files.items()}
    assert outcomes == {
        BASELINE.name: Outcome.LANDED,
        "README.txt": Outcome.NOT_RELEASE_FILE,
        "mplus_topics_2012-07-21.xml": Outcome.NOT_RELEASE_FILE,
        "efetch_pubmed_11748933.xml": Outcome.NOT_RELEASE_FILE,
    }
    assert result.rows == {"articles": 30}
    assert "Give it alone to land it" in (
        result.files.files[str(folder / "efetch_pubmed_11748933.xml")].reason
    )

    alone = land_source(
        database, "pubmed", bulk_location=str(folder / "efetch_pubmed_11748933.xml")
    )

    assert alone.rows == {"articles": 2}


def test_a_pre_2017_medline_file_is_rejected_by_name_not_passed_over(database, tmp_path: Path):
    # The pre-2017 MEDLINE format (MedlineCitationSet), as NLM named it then; derived
    # from the real baseline sample: its root renamed and its articles taken out, so it
    # stays a small file of that format.
    text = gzip.decompress(BASELINE.read_bytes()).decode()
    head = text[: text.index("<PubmedArticle>")].replace("PubmedArticleSet", "MedlineCitationSet")
    folder = tmp_path / "medline"
    folder.mkdir()
    (folder / "medline16n0902.xml.gz").write_bytes(
        gzip.compress((head + "</MedlineCitationSet>\n").encode())
    )

    result = land_source(database, "pubmed", bulk_location=str(folder))

    assert result.rejected == 1
    ((problem,),) = query(database, "select problem from raw_pubmed.rejects")
    assert problem == "not a PubmedArticleSet document: its root is <MedlineCitationSet>"
