"""FAERS extract and marts: the real dlt pipeline into a real PostgreSQL from FDA's real
quarterly ASCII files (a 2017Q2 FAERS and a 2004Q1 legacy AERS quarter, cut to 100
reports each), variants derived from them (tests/fixtures/faers/derived/), and openFDA's
/drug/event.json served over HTTP on 127.0.0.1 (its real result record in pages built
from openFDA's documentation)."""

from __future__ import annotations

import copy
import math
import shutil
import zipfile
from collections import defaultdict
from datetime import date, timedelta
from pathlib import Path

import orjson
import pytest
from werkzeug import Request, Response

from extract.bulk import Outcome
from extract.faers import KINDS
from medmirror.settings import SAMPLES_DIR, ConnectionInfo
from tests.conftest import DERIVED, land_source, query
from tests.dbt.test_faers_marts import build_faers_marts
from tests.extract.legacy_state import write_legacy_state
from tests.extract.openfda_publisher import OpenFdaPublisher

FAERS_2017Q2 = SAMPLES_DIR / "faers" / "faers_ascii_2017q2_subset.zip"
AERS_2004Q1 = SAMPLES_DIR / "faers" / "aers_ascii_2004q1_subset.zip"
LATER = DERIVED / "faers" / "derived" / "faers_ascii_2017q3_derived.zip"
RAGGED = DERIVED / "faers" / "derived" / "faers_ascii_2017q2_ragged.zip"
EVENT_RECORD = DERIVED / "faers" / "drug_event_record_postannotation.json"
TABLES = ("demo", "drug", "reac", "outc", "rpsr", "ther", "indi")
EVENTS_PATH = "/drug/event.json"


def data_lines(archive: Path) -> dict[str, int]:
    """Lines after the header in each file of a quarterly zip, by raw table."""
    counts = {}
    with zipfile.ZipFile(archive) as release:
        for info in release.infolist():
            name = info.filename.rsplit("/", 1)[-1]
            if name[:4].lower() in TABLES:
                counts[name[:4].lower()] = len(release.read(info).strip().splitlines()) - 1
    return counts


def raw_counts(connection: ConnectionInfo, quarter: str) -> dict[str, int]:
    return {
        table: query(
            connection,
            f"select count(*) from raw_faers.{table} where quarter = %s",  # noqa: S608
            quarter,
        )[0][0]
        for table in TABLES
    }


def read_quarter(archive: Path) -> dict[str, list[dict[str, str]]]:
    """Every file of a quarterly zip as rows of dicts (Python, for counting by hand)."""
    files: dict[str, list[dict[str, str]]] = {}
    with zipfile.ZipFile(archive) as release:
        for info in release.infolist():
            name = info.filename.rsplit("/", 1)[-1]
            if name[:4].lower() not in TABLES:
                continue
            lines = release.read(info).decode("latin-1").splitlines()
            header = lines[0].split("$")
            files[name[:4].lower()] = [
                dict(zip(header, line.split("$"), strict=True)) for line in lines[1:]
            ]
    return files


# -- bulk: the real quarters --------------------------------------------------------------


def test_both_real_quarters_land_every_line_once(database, tmp_path):
    folder = tmp_path / "quarters"
    folder.mkdir()
    for archive in (FAERS_2017Q2, AERS_2004Q1):
        (folder / archive.name).write_bytes(archive.read_bytes())

    result = land_source(database, "faers", bulk_location=str(folder))

    faers_lines = data_lines(FAERS_2017Q2)
    aers_lines = data_lines(AERS_2004Q1)
    assert faers_lines == {
        "demo": 100, "drug": 328, "indi": 232, "outc": 75, "reac": 286, "rpsr": 2, "ther": 142,
    }  # fmt: skip
    assert aers_lines == {
        "demo": 100, "drug": 386, "indi": 124, "outc": 93, "reac": 416, "rpsr": 119, "ther": 145,
    }  # fmt: skip
    assert raw_counts(database, "2017Q2") == faers_lines
    assert raw_counts(database, "2004Q1") == aers_lines
    assert result.rejected == 0
    assert result.windows == 2  # one committed window per quarter, oldest first
    assert (
        query(
            database, "select quarter, min(_dlt_load_id) from raw_faers.demo group by 1 order by 2"
        )[0][0]
        == "2004Q1"
    )
    # FAERS layout: keys as published; legacy AERS: ISR in primaryid, CASE in caseid.
    assert query(
        database,
        "select caseid, layout, fda_dt, record ->> 'mfr_sndr', record ->> 'caseversion' "
        "from raw_faers.demo where primaryid = '109792364'",
    ) == [("10979236", "faers", date(2017, 4, 6), "JANSSEN", "4")]
    (legacy,) = query(
        database,
        "select caseid, layout, record from raw_faers.demo where primaryid = '4263742'",
    )
    assert legacy[:2] == ("4061110", "aers")
    assert legacy[2]["gndr_cod"] == "F" and "v23" not in legacy[2] and "_trailing" not in legacy[2]
    assert query(
        database,
        "select primaryid, caseid, record ->> 'drugname' from raw_faers.drug "
        "where quarter = '2004Q1' and record ->> 'drug_seq' = '1004492716'",
    ) == [("4263742", None, "TAVOR")]
    assert query(
        database,
        "select file_kind, rows_landed, rows_rejected from raw_faers.quarter_files "
        "where quarter = '2017Q2' order by 1",
    ) == sorted((kind.upper(), rows, 0) for kind, rows in faers_lines.items())

    again = land_source(database, "faers", bulk_location=str(folder))
    assert again.total_rows == 0
    # Landed once, whatever the location: the same quarter from its own zip is skipped.
    assert land_source(database, "faers", bulk_location=str(FAERS_2017Q2)).total_rows == 0


def test_a_ragged_line_is_rejected_by_line_and_latin1_is_counted(database):
    result = land_source(database, "faers", bulk_location=str(RAGGED))

    lines = data_lines(FAERS_2017Q2)
    assert raw_counts(database, "2017Q2") == {**lines, "drug": lines["drug"] - 1}
    assert result.rejected == 1
    ((where, problem),) = query(database, "select source_uri, problem from raw_faers.rejects")
    assert where == f"{RAGGED}!ascii/DRUG17Q2.txt"
    assert problem.startswith("line 3: expected 20 fields, found 21 (skipped)")
    assert query(
        database,
        "select record ->> 'mfr_sndr' from raw_faers.demo where primaryid = '109792364'",
    ) == [("JANSSÉN",)]
    assert query(
        database,
        "select rows_landed, rows_rejected, rows_recoded, record -> 'recoded_keys' "
        "from raw_faers.quarter_files where file_kind in ('DEMO', 'DRUG') order by file_kind",
    ) == [(100, 0, 1, ["109792364"]), (327, 1, 0, [])]


def test_a_later_version_replaces_the_case_and_a_deleted_case_disappears(database, tmp_path):
    folder = tmp_path / "quarters"
    folder.mkdir()
    for archive in (LATER, FAERS_2017Q2):  # names sort 2017q2 first either way
        (folder / archive.name).write_bytes(archive.read_bytes())
    land_source(database, "faers", bulk_location=str(folder))
    assert query(database, "select count(*) from raw_faers.deleted_cases") == [(1,)]

    build_faers_marts(database)

    # 100 cases in 2017Q2; 10979236 again in 2017Q3 at version 5; 11144077 deleted.
    assert query(
        database,
        "select count(*), count(distinct caseid) from marts.adverse_event_reports",
    ) == [(99, 99)]
    assert query(
        database,
        "select primaryid, case_version, quarter, age_years, latest_received_date, "
        "is_hospitalization, sex, country, reporter_type "
        "from marts.adverse_event_reports where caseid = '10979236'",
    ) == [("109792365", 5, "2017Q3", 17, date(2017, 8, 15), True, "male", "US", "consumer")]
    assert query(
        database,
        "select preferred_term from marts.adverse_event_reactions "
        "where caseid = '10979236' order by 1",
    ) == [
        ("Abnormal weight gain",),
        ("Emotional distress",),
        ("Galactorrhoea",),
        ("Gynaecomastia",),
    ]
    assert query(
        database,
        "select count(*) from marts.adverse_event_drugs where caseid = '10979236'",
    ) == [(1,)]
    for mart in ("adverse_event_reports", "adverse_event_drugs", "adverse_event_reactions"):
        assert query(
            database,
            f"select count(*) from marts.{mart} where caseid = '11144077'",  # noqa: S608
        ) == [(0,)]


# -- every file offered, whatever FDA named it ----------------------------------------------


def unzipped(archive: Path, folder: Path, rename) -> Path:
    """The files of a real quarterly zip written into `folder`, each renamed by `rename`
    (their content unchanged)."""
    folder.mkdir(parents=True)
    with zipfile.ZipFile(archive) as release:
        for info in release.infolist():
            if not info.is_dir():
                (folder / rename(info.filename.rsplit("/", 1)[-1])).write_bytes(release.read(info))
    return folder


# FDA has named the quarterly files in upper case (`DRUG17Q2.txt`), in lower case
# (`drug17q2.txt`, as in some quarters' zips) and, in legacy AERS, with an upper-case
# extension (`DRUG04Q1.TXT`). The real files renamed each way land the same rows.
NAMINGS = {
    "faers lower case": (FAERS_2017Q2, str.lower, "2017Q2"),
    "faers with the AERS extension": (
        FAERS_2017Q2,
        lambda name: name.replace(".txt", ".TXT"),
        "2017Q2",
    ),
    "aers lower case": (AERS_2004Q1, str.lower, "2004Q1"),
    "aers as FAERS names them": (AERS_2004Q1, lambda name: name.replace(".TXT", ".txt"), "2004Q1"),
}


@pytest.mark.parametrize("naming", NAMINGS)
def test_a_quarter_lands_the_same_rows_whatever_fda_named_its_files(database, tmp_path, naming):
    archive, rename, quarter = NAMINGS[naming]
    folder = unzipped(archive, tmp_path / "ascii", rename)

    result = land_source(database, "faers", bulk_location=str(folder))

    assert raw_counts(database, quarter) == data_lines(archive)
    assert result.rejected == 0
    assert result.files.count(Outcome.LANDED) == 7


def test_every_file_offered_is_accounted_for(database, tmp_path):
    folder = tmp_path / "faers"
    folder.mkdir()
    shutil.copyfile(FAERS_2017Q2, folder / FAERS_2017Q2.name)
    (folder / "README.txt").write_text("FAERS quarterly files, downloaded by hand\n")
    # Another publisher's delimited file (the Orange Book's, `~`-delimited): not FAERS.
    with zipfile.ZipFile(SAMPLES_DIR / "orangebook" / "orange_book_2024-05.zip") as book:
        (folder / "exclusivity.txt").write_bytes(book.read("exclusivity.txt"))

    result = land_source(database, "faers", bulk_location=str(folder))

    outcomes = {uri.split("/")[-1]: found.outcome for uri, found in result.files.files.items()}
    assert outcomes.pop("README.txt") == Outcome.NOT_RELEASE_FILE
    assert outcomes.pop("exclusivity.txt") == Outcome.NOT_RELEASE_FILE
    assert sorted(outcomes) == sorted(f"{kind}17Q2.txt" for kind in KINDS if kind != "DELETE")
    assert set(outcomes.values()) == {Outcome.LANDED}
    assert raw_counts(database, "2017Q2") == data_lines(FAERS_2017Q2)

    again = land_source(database, "faers", bulk_location=str(folder))

    assert again.total_rows == 0
    assert again.files.count(Outcome.ALREADY_LANDED) == 7


def test_an_upgrade_keeps_the_quarters_the_older_ledger_landed(database):
    # The state medmirror's own FAERS ledger kept before BulkLedger: quarter -> location
    # and the kinds of its files landed.
    kinds = ["DEMO", "DRUG", "INDI", "OUTC", "REAC", "RPSR", "THER"]
    write_legacy_state(
        database,
        "faers",
        "quarters",
        {"landed_quarters": {"2017Q2": {"location": "/data/faers", "files": kinds}}},
    )

    result = land_source(database, "faers", bulk_location=str(FAERS_2017Q2))

    assert result.total_rows == 0
    assert result.files.count(Outcome.ALREADY_LANDED) == 7


def test_a_deleted_case_id_of_an_unexpected_shape_lands_as_written(database, tmp_path):
    # Derived from the 2017Q3 variant: its deleted-case list with a second line holding a
    # case id that is not a number (a shape nobody expected), the rest unchanged.
    folder = tmp_path / "faers_ascii_2017q3"
    folder.mkdir()
    with zipfile.ZipFile(LATER) as release:
        deleted = release.read("Deleted/DELETE17Q3.txt")
    (folder / "DELETE17Q3.txt").write_bytes(deleted + b"CA-2017-0042\n")

    result = land_source(database, "faers", bulk_location=str(folder))

    assert result.rejected == 1  # the quarter has no DEMO file: said, the list lands
    assert query(database, "select caseid from raw_faers.deleted_cases order by 1") == [
        ("11144077",),
        ("CA-2017-0042",),
    ]


# -- dbt: the marts on both real quarters --------------------------------------------------


def test_marts_and_signals_match_counts_made_by_hand(samples_database):
    # Both real quarters (samples/faers) landed and built as a refresh of that folder does
    # (the run's one copy of them: see tests/test_raw_contract.py).
    database = samples_database("faers")

    assert query(
        database,
        "select layout, count(*) from marts.adverse_event_reports group by 1 order by 1",
    ) == [("aers", 100), ("faers", 100)]
    (legacy,) = query(
        database,
        "select age_years, sex, reporter_type, is_hospitalization, is_serious, "
        "latest_received_date from marts.adverse_event_reports where caseid = '4061110'",
    )
    assert legacy == (42, "female", "other health professional", True, True, date(2004, 1, 2))
    assert query(
        database,
        "select role, ingredient_name from marts.adverse_event_drugs "
        "where caseid = '11144077' and drug_seq in ('1', '11') order by drug_seq",
    ) == [("primary suspect", "DOXORUBICIN"), ("concomitant", "VALACYCLOVIR")]
    assert query(
        database,
        "select role_code, count(*) from marts.adverse_event_drugs group by 1 order by 1",
    ) == [("C", 134 + 233), ("I", 4), ("PS", 200), ("SS", 90 + 53)]
    # The data-quality summary, counted by hand from the raw files: every code of both
    # real quarters has its expected shape, and every report its case id.
    by_hand = {archive: read_quarter(archive) for archive in (FAERS_2017Q2, AERS_2004Q1)}
    outcomes = sum(len(files["outc"]) for files in by_hand.values())
    drugs = sum(len(files["drug"]) for files in by_hand.values())
    assert query(
        database,
        "select check_name, rows_complete, rows_valid from ops.faers_data_quality "
        "where check_name in ('report has a case id', 'drug role code PS, SS, C or I', "
        "'outcome code DE, LT, HO, DS, CA, RI or OT') order by 1",
    ) == [
        ("drug role code PS, SS, C or I", drugs, drugs),
        ("outcome code DE, LT, HO, DS, CA, RI or OT", outcomes, outcomes),
        ("report has a case id", 200, 200),
    ]

    # Signals by hand, from the raw files: cases (one version each: no case repeats)
    # with a suspect drug and a reaction; PAXIL (legacy AERS: no prod_ai, the drug name)
    # and Diarrhoea.
    ingredients: dict[str, set[str]] = defaultdict(set)
    terms: dict[str, set[str]] = defaultdict(set)
    for archive, key in ((FAERS_2017Q2, "primaryid"), (AERS_2004Q1, "isr")):
        files = read_quarter(archive)
        for drug in files["drug"]:
            name = (drug.get("prod_ai") or drug["drugname"]).strip()
            if drug["role_cod"] in ("PS", "SS") and name:
                ingredients[drug[key]].add(name.upper())
        for reaction in files["reac"]:
            terms[reaction[key]].add(reaction["pt"].upper())
    counted = set(ingredients) & set(terms)
    n = len(counted)
    with_drug = {case for case in counted if "PAXIL" in ingredients[case]}
    with_term = {case for case in counted if "DIARRHOEA" in terms[case]}
    a = len(with_drug & with_term)
    b, c = len(with_drug) - a, len(with_term) - a
    d = n - a - b - c
    prr = (a / (a + b)) / (c / (c + d))
    prr_se = math.sqrt(1 / a - 1 / (a + b) + 1 / c - 1 / (c + d))
    ror = (a * d) / (b * c)
    ror_se = math.sqrt(1 / a + 1 / b + 1 / c + 1 / d)
    chi = n * max(abs(a * d - b * c) - n / 2, 0) ** 2 / ((a + b) * (c + d) * (a + c) * (b + d))
    assert (a, b, c, d, n) == (3, 4, 6, 187, 200)

    ((row),) = query(
        database,
        "select a, b, c, d, total_cases, prr, prr_lower_95, prr_upper_95, ror, ror_lower_95, "
        "ror_upper_95, chi_square_yates, is_signal from marts.drug_reaction_signals "
        "where ingredient_name = 'PAXIL' and preferred_term = 'DIARRHOEA'",
    )
    assert row[:5] == (a, b, c, d, n)
    expected = (
        prr,
        math.exp(math.log(prr) - 1.96 * prr_se),
        math.exp(math.log(prr) + 1.96 * prr_se),
        ror,
        math.exp(math.log(ror) - 1.96 * ror_se),
        math.exp(math.log(ror) + 1.96 * ror_se),
        chi,
    )
    assert [float(value) for value in row[5:12]] == pytest.approx(expected, rel=1e-9)
    assert row[12] is (prr >= 2 and chi >= 4 and a >= 3)
    # Every pair with at least 3 cases; RISPERIDONE (prod_ai) is in every case that reports
    # Gynaecomastia but one: b = 0, so no ROR (a zero in its denominator), and a signal.
    assert query(
        database,
        "select ingredient_name, preferred_term, a, b, c, ror, is_signal "
        "from marts.drug_reaction_signals order by 1, 2",
    ) == [
        ("PAXIL", "DIARRHOEA", 3, 4, 6, pytest.approx(ror), row[12]),
        ("PAXIL", "DRUG WITHDRAWAL SYNDROME", 3, 4, 1, pytest.approx(3 * 192 / 4), True),
        ("RISPERIDONE", "ABNORMAL WEIGHT GAIN", 3, 3, 0, None, False),
        ("RISPERIDONE", "GYNAECOMASTIA", 6, 0, 1, None, True),
    ]


# -- the openFDA API -------------------------------------------------------------------------


class EventsApi:
    """openFDA's /drug/event.json on 127.0.0.1: answers queued in order, requests kept."""

    def __init__(self, httpserver) -> None:
        self.url = httpserver.url_for(EVENTS_PATH)
        self.answers: list[Response] = []
        self.requests: list[dict[str, str]] = []
        httpserver.expect_request(EVENTS_PATH).respond_with_handler(self._answer)

    def _answer(self, request: Request) -> Response:
        self.requests.append(dict(request.args))
        if not self.answers:
            return Response("no response queued", status=500)
        return self.answers.pop(0)


def event(report_id: str, version: str, received: date, receipt: date | None = None) -> dict:
    """The real openFDA record, as a derived copy with its ids, first receive date and
    this version's receipt date (by default the receive date: an initial version) set."""
    record = orjson.loads(EVENT_RECORD.read_bytes())
    derived = copy.deepcopy(record)
    derived.update(
        safetyreportid=report_id,
        safetyreportversion=version,
        receivedate=f"{received:%Y%m%d}",
        receiptdate=f"{receipt or received:%Y%m%d}",
    )
    return derived


def page(
    results: list[dict],
    *,
    skip: int = 0,
    total: int,
    next_url: str | None = None,
    as_of: date | None = None,
):
    """A /drug/event.json page as openFDA's documentation shows it (constructed)."""
    body = {
        "meta": {
            "disclaimer": "Do not rely on openFDA to make decisions regarding medical care.",
            "terms": "https://open.fda.gov/terms/",
            "license": "https://open.fda.gov/license/",
            "last_updated": f"{as_of or date(2026, 7, 30):%Y-%m-%d}",
            "results": {"skip": skip, "limit": 2, "total": total},
        },
        "results": results,
    }
    headers = {"Link": f'<{next_url}>; rel="next"'} if next_url else {}
    return Response(orjson.dumps(body), headers=headers, content_type="application/json")


@pytest.fixture
def events_api(httpserver, monkeypatch: pytest.MonkeyPatch) -> EventsApi:
    api = EventsApi(httpserver)
    monkeypatch.setenv("SOURCES__FAERS__REQUESTS_PER_SECOND", "0")
    monkeypatch.setenv("SOURCES__FAERS__API_KEY", "secret-key-123")
    monkeypatch.setenv("RUNTIME__REQUEST_MAX_ATTEMPTS", "4")
    monkeypatch.setenv("RUNTIME__REQUEST_BACKOFF_FACTOR", "0.05")
    monkeypatch.setenv("RUNTIME__REQUEST_MAX_RETRY_DELAY", "5")
    return api


def test_api_pages_with_search_after_retries_429_and_resumes_from_the_cursor(database, events_api):
    today = date.today()
    start = today - timedelta(days=1)
    after = f"{events_api.url}?search=receiptdate%3A%5B{start:%Y%m%d}+TO+{today:%Y%m%d}%5D" + (
        "&limit=2&sort=receiptdate%3Aasc&skip=0&search_after=0%3D1700000000000%3B1%3D9000002"
        "&api_key=secret-key-123"
    )
    newest = event("9000003", "1", today)
    events_api.answers = [
        Response("slow down", status=429, headers={"Retry-After": "1"}),
        page([newest], total=3, as_of=today),  # what openFDA has published
        page(
            [event("9000001", "1", start), event("9000002", "2", start)],
            total=3,
            next_url=after,
            as_of=today,
        ),
        page([newest], total=3, as_of=today),
        page([newest], total=3, as_of=today),  # its count of what the mirror covers
    ]

    result = land_source(
        database,
        "faers",
        api_url=events_api.url,
        page_size=2,
        start_date=start.isoformat(),
        window_days=7,
    )

    assert result.rows == {"events": 3}
    assert len(events_api.requests) == 5
    _, probe, first, second, count = events_api.requests
    assert count["search"] == first["search"] and count["limit"] == "1"
    assert probe["sort"] == "receiptdate:desc" and probe["limit"] == "1"
    assert first["search"] == f"receiptdate:[{start:%Y%m%d} TO {today:%Y%m%d}]"
    assert first["limit"] == "2" and first["sort"] == "receiptdate:asc"
    assert first["api_key"] == "secret-key-123"
    assert second["search_after"] == "0=1700000000000;1=9000002"
    assert "skip" not in first
    assert second["api_key"] == "secret-key-123"  # once: the link's copy is replaced
    assert query(
        database,
        "select safetyreportid, safetyreportversion, receivedate, receiptdate, "
        "record ->> 'companynumb' from raw_faers.events order by 1",
    ) == [
        ("9000001", "1", start, start, "US-MERCK-0304USA00739"),
        ("9000002", "2", start, start, "US-MERCK-0304USA00739"),
        ("9000003", "1", today, today, "US-MERCK-0304USA00739"),
    ]
    ((record,),) = query(
        database, "select record from raw_faers.events where safetyreportid = '9000003'"
    )
    assert record == newest  # landed unchanged

    # openFDA has published nothing since: the next run asks what it published, no more.
    events_api.answers = [page([newest], total=3, as_of=today)]
    again = land_source(database, "faers", api_url=events_api.url, page_size=2, window_days=7)
    assert again.total_rows == 0
    assert "search" not in events_api.requests[-1] and len(events_api.requests) == 6

    # A new publication is asked from the cutoff less a day of overlap, and an empty
    # window (openFDA: 404 NOT_FOUND) lands nothing and is no error.
    events_api.answers = [
        page([newest], total=3, as_of=today + timedelta(days=1)),
        Response(
            orjson.dumps({"error": {"code": "NOT_FOUND", "message": "No matches found!"}}),
            status=404,
            content_type="application/json",
        ),
        page([newest], total=3, as_of=today + timedelta(days=1)),
    ]
    again = land_source(database, "faers", api_url=events_api.url, page_size=2, window_days=7)
    assert again.total_rows == 0
    assert events_api.requests[-2]["search"] == f"receiptdate:[{start:%Y%m%d} TO {today:%Y%m%d}]"
    # What openFDA stated it holds of the range the mirror covers, for reconciliation.
    assert again.publications["events"]["total"] == 3
    assert again.publications["events"]["since"] == start.isoformat()

    # API cases join the marts when the quarterly files do not hold them.
    build_faers_marts(database)
    assert query(
        database,
        "select caseid, record_source, age_years, sex, is_hospitalization, reporter_type "
        "from marts.adverse_event_reports order by 1",
    ) == [
        ("9000001", "openfda_api", 62, "female", True, "physician"),
        ("9000002", "openfda_api", 62, "female", True, "physician"),
        ("9000003", "openfda_api", 62, "female", True, "physician"),
    ]
    assert query(
        database,
        "select role, ingredient_name from marts.adverse_event_drugs "
        "where caseid = '9000001' and drug_seq = '1'",
    ) == [("suspect", "VIOXX")]


def test_api_follows_what_openfda_published_and_lands_follow_ups_by_receipt_date(
    database, httpserver, monkeypatch: pytest.MonkeyPatch
):
    """openFDA publishes FAERS weeks after receipt: run 1 sees data through D1, weeks
    before today; openFDA then publishes the reports received after D1 and a follow-up
    version of a landed case (its first receive date unchanged): run 2 lands both."""
    monkeypatch.setenv("SOURCES__FAERS__REQUESTS_PER_SECOND", "0")
    today = date.today()
    d1 = today - timedelta(days=30)
    publisher = OpenFdaPublisher(httpserver, EVENTS_PATH, as_of=d1)
    initial = event("9100001", "1", d1 - timedelta(days=10))
    publisher.records = [initial, event("9100002", "1", d1)]

    def run():
        return land_source(
            database,
            "faers",
            api_url=publisher.url,
            page_size=2,
            start_date=(d1 - timedelta(days=20)).isoformat(),
            window_days=7,
        )

    first = run()

    assert first.rows == {"events": 2}
    highs = [search.split(" TO ")[1].rstrip("]") for search in publisher.searches()]
    assert max(highs) == f"{d1:%Y%m%d}"  # never asked past what openFDA published

    def reads() -> list[str]:  # the windows read (not the limit=1 questions)
        return [args["search"] for args in publisher.requests if args.get("limit") == "2"]

    asked, read = len(publisher.requests), len(reads())
    assert run().total_rows == 0  # nothing published since: one question, no search
    assert len(publisher.requests) == asked + 1

    # openFDA's next publication: the reports received after D1 (before run 1), and
    # version 2 of case 9100001 received after D1 (openFDA serves the latest version).
    follow_up = event("9100001", "2", d1 - timedelta(days=10), receipt=d1 + timedelta(days=10))
    late = event("9100003", "1", d1 + timedelta(days=5))
    publisher.records = [follow_up, publisher.records[1], late]
    publisher.as_of = today - timedelta(days=1)

    second = run()

    # From D1 less a day of overlap: 9100002 (received D1) is read again, but raw keeps
    # one copy of each version (the repeat is not kept, nor counted).
    assert second.rows == {"events": 2}
    assert reads()[read:] == [
        f"receiptdate:[{d1 - timedelta(days=1):%Y%m%d} TO {d1 + timedelta(days=5):%Y%m%d}]",
        f"receiptdate:[{d1 + timedelta(days=6):%Y%m%d} TO {d1 + timedelta(days=10):%Y%m%d}]",
    ]
    build_faers_marts(database)
    assert query(
        database,
        "select caseid, case_version, initial_received_date, latest_received_date "
        "from marts.adverse_event_reports order by 1",
    ) == [
        ("9100001", 2, d1 - timedelta(days=10), d1 + timedelta(days=10)),
        ("9100002", 1, d1, d1),
        ("9100003", 1, d1 + timedelta(days=5), d1 + timedelta(days=5)),
    ]


@pytest.mark.parametrize("order", ["quarter first", "api first"])
def test_the_same_case_from_a_quarter_and_the_api_keeps_its_newest_version(
    database, events_api, order
):
    """FAERS caseid = openFDA safetyreportid: the highest case version wins, then the
    latest receipt date, whichever way in landed first (real 2017Q2 DEMO lines: 10979236
    version 4 received 2017-04-06, 11144077 version 2 of 2017-04-17, 11563062 version 4 of
    2017-04-03)."""
    newer_version = event("10979236", "5", date(2015, 3, 15), date(2017, 6, 1))
    older_version = event("11144077", "1", date(2015, 5, 28), date(2017, 6, 1))
    same_version_later = event("11563062", "4", date(2015, 9, 28), date(2017, 4, 10))
    api_only = event("99000001", "1", date(2017, 5, 2))
    results = [older_version, newer_version, same_version_later, api_only]
    newest = max(results, key=lambda report: report["receiptdate"])

    def land_api() -> None:
        events_api.answers = [
            page([newest], total=4, as_of=date(2017, 7, 1)),
            page(results, total=4, as_of=date(2017, 7, 1)),
            *[page([newest], total=4, as_of=date(2017, 7, 1))] * 3,
        ]
        landed = land_source(
            database, "faers", api_url=events_api.url, start_date="2017-04-01", window_days=400
        )
        assert landed.rows == {"events": 4}

    def land_quarter() -> None:
        assert land_source(database, "faers", bulk_location=str(FAERS_2017Q2)).rows["demo"] == 100

    steps = [land_quarter, land_api] if order == "quarter first" else [land_api, land_quarter]
    for step in steps:
        step()
        build_faers_marts(database)

    cases = ("10979236", "11144077", "11563062", "99000001")
    assert query(
        database,
        "select caseid, record_source, case_version, latest_received_date "
        "from marts.adverse_event_reports where caseid = any(%s) order by 1",
        list(cases),
    ) == [
        ("10979236", "openfda_api", 5, date(2017, 6, 1)),  # the higher version
        ("11144077", "faers_quarterly", 2, date(2017, 4, 17)),  # the API's is older
        ("11563062", "openfda_api", 4, date(2017, 4, 10)),  # same version, received later
        ("99000001", "openfda_api", 1, date(2017, 5, 2)),
    ]
    assert query(database, "select count(*) from marts.adverse_event_reports") == [(101,)]
    # Each case's drugs and reactions come from its current version only.
    for mart in ("adverse_event_drugs", "adverse_event_reactions"):
        assert (
            query(
                database,
                f"select caseid, array_agg(distinct record_source) from marts.{mart} "  # noqa: S608
                "where caseid = any(%s) group by 1 order by 1",
                list(cases[:3]),
            )
            == [
                ("10979236", ["openfda_api"]),
                ("11144077", ["faers_quarterly"]),
                ("11563062", ["openfda_api"]),
            ]
        )
