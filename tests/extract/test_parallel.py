"""Bulk release files parsed on a Dask cluster of two workers (`extract.parallel`) land what
a serial run lands, committed in the same order, and a worker that fails or dies stops
the run at its file, naming it, with nothing after it committed."""

from __future__ import annotations

import os
import shutil
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

import extract.pubmed
from extract.landing import LandingResult
from extract.parallel import ParseFailed, ParsePool, ParseSettings, parse_settings
from flows.refresh import refresh
from medmirror.settings import SAMPLES_DIR, ConnectionInfo
from tests.conftest import land_source, query
from tests.extract import parallel_faults
from tests.extract.test_dailymed import DERIVED as DAILYMED_DERIVED
from tests.extract.test_dailymed import SAMPLES as DAILYMED_SAMPLES
from tests.extract.test_dailymed import per_label_zip, release_zip

SAMPLES = SAMPLES_DIR / "pubmed"
DERIVED = Path(__file__).parents[1] / "fixtures" / "pubmed" / "derived"
# In name order: three real release files (the 2021 update file, the 2026 baseline and its
# update file), a copy of that update file cut short (rejected after 15 articles), a
# derived next update file, and an efetch answer beside them (not a release file).
RELEASE = [
    SAMPLES / "pubmed21n1063_updatefile_sample.xml.gz",
    SAMPLES / "pubmed26n1334_baseline_sample.xml.gz",
    DERIVED / "pubmed26n1335_cut.xml.gz",
    SAMPLES / "pubmed26n1335_updatefile_sample.xml.gz",
    DERIVED / "pubmed26n1336_derived_update.xml.gz",
    SAMPLES / "efetch_pubmed_11748933.xml",
]


@pytest.fixture(scope="module")
def cluster(prefect_server: str) -> Iterator[str]:
    """One local Dask cluster of two worker processes for the module: its scheduler's
    address. A task whose worker dies is not run again (no `allowed-failures`)."""
    import dask
    from distributed import LocalCluster

    with (
        dask.config.set({"distributed.scheduler.allowed-failures": 0}),
        LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            env={"PREFECT_API_URL": prefect_server},
        ) as local,
    ):
        yield local.scheduler_address


def test_parse_settings_default_to_the_cores_but_one_and_a_source_overrides_bulk(monkeypatch):
    for name in ("BULK__PARSE_WORKERS", "BULK__DASK_ADDRESS", "BULK__PARALLEL_MIN_BYTES"):
        monkeypatch.delenv(name, raising=False)
    assert parse_settings("pubmed") == ParseSettings(workers=max((os.cpu_count() or 1) - 1, 1))

    monkeypatch.setenv("BULK__PARSE_WORKERS", "1")
    monkeypatch.setenv("SOURCES__PUBMED__PARSE_WORKERS", "6")
    monkeypatch.setenv("SOURCES__FAERS__DASK_ADDRESS", "tcp://10.0.0.5:8786")
    monkeypatch.setenv("BULK__PARALLEL_MIN_BYTES", "0")
    assert parse_settings("pubmed") == ParseSettings(workers=6, min_bytes=0)
    faers = parse_settings("faers")
    assert faers == ParseSettings(workers=1, address="tcp://10.0.0.5:8786", min_bytes=0)
    assert faers.parallel and not parse_settings("dailymed").parallel


@pytest.fixture
def release(tmp_path: Path) -> Path:
    folder = tmp_path / "pubmed"
    folder.mkdir()
    for path in RELEASE:
        shutil.copy(path, folder / path.name)
    return folder


def on_workers(monkeypatch: pytest.MonkeyPatch, address: str) -> None:
    monkeypatch.setenv("BULK__DASK_ADDRESS", address)
    monkeypatch.setenv("BULK__PARALLEL_MIN_BYTES", "0")  # the samples are small


@pytest.fixture
def parsed_on_workers(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Asserts that the test's parallel run did parse on the cluster: its files' parses
    were submitted to it and read back."""
    read_back: list[str] = []
    parsed = ParsePool.parsed

    def spy(pool: ParsePool, member):
        done = parsed(pool, member)
        if done is not None:
            read_back.append(member.uri)
        return done

    monkeypatch.setattr(ParsePool, "parsed", spy)
    yield
    assert len(read_back) >= 3


def landed(connection: ConnectionInfo) -> list[tuple]:
    """Every raw row as landed, in load order (file by file), without dlt's own ids."""
    return query(
        connection,
        "select source_uri, pmid, date_revised, deleted, record::text, loads.rank "
        "from raw_pubmed.articles join (select _dlt_load_id, dense_rank() over "
        "(order by _dlt_load_id) as rank from raw_pubmed.articles group by 1) as loads "
        "using (_dlt_load_id) order by loads.rank, pmid, record::text",
    )


def landing_account(result: LandingResult) -> tuple:
    """What a landing reports: rows per table, windows, and each file's outcome."""
    outcomes = [
        (offered.uri, offered.outcome, offered.rows, offered.reason)
        for offered in result.files.files.values()
    ]
    return result.rows, result.windows, outcomes


def test_two_workers_land_what_a_serial_run_lands_in_the_same_windows(
    new_database, templates, cluster, release: Path, monkeypatch, tmp_path: Path, parsed_on_workers
):
    # Windows of 10 articles: files are cut into windows and resumed inside, as serially.
    serial = land_source(
        new_database, "pubmed", bulk_location=str(release), bulk_articles_per_window=10
    )
    serial_rows = landed(new_database)
    serial_rejects = query(new_database, "select source_uri, problem from raw_pubmed.rejects")

    connection = templates.fresh("tmpl_init")
    monkeypatch.setenv("MEDMIRROR_DATA_DIR", str(tmp_path / "parallel"))  # new dlt state
    on_workers(monkeypatch, cluster)
    parallel = land_source(
        connection, "pubmed", bulk_location=str(release), bulk_articles_per_window=10
    )

    assert landed(connection) == serial_rows
    assert len(serial_rows) == serial.rows["articles"] > 100
    assert query(connection, "select source_uri, problem from raw_pubmed.rejects") == (
        serial_rejects
    )
    assert len(serial_rejects) == 1
    assert landing_account(parallel) == landing_account(serial)
    # What the workers wrote ahead is removed once read.
    assert not list((tmp_path / "parallel" / "downloads" / "pubmed" / "parsed").glob("*"))


def raw_content(connection: ConnectionInfo, source: str) -> dict[str, list[tuple]]:
    """Every raw table of `source` but dlt's own, its rows sorted, without dlt's ids and
    the times a row was recorded (a reject's, a FAERS quarter file's)."""
    columns = query(
        connection,
        "select table_name, string_agg(quote_ident(column_name), ', ' order by column_name) "
        "from information_schema.columns where table_schema = %s and table_name not like "
        "'\\_dlt%%' and column_name not in ('_dlt_id', '_dlt_load_id', 'rejected_at', 'landed_at') "
        "group by table_name",
        f"raw_{source}",
    )
    return {
        table: sorted(
            query(connection, f"select ({names})::text from raw_{source}.{table}"),  # noqa: S608
        )
        for table, names in columns
    }


def test_faers_quarters_parsed_by_two_workers_land_what_a_serial_run_lands(
    new_database, templates, cluster, monkeypatch, tmp_path: Path, parsed_on_workers
):
    samples = str(SAMPLES_DIR / "faers")
    serial = land_source(new_database, "faers", bulk_location=samples)
    serial_rows = raw_content(new_database, "faers")

    connection = templates.fresh("tmpl_init")
    monkeypatch.setenv("MEDMIRROR_DATA_DIR", str(tmp_path / "parallel"))
    on_workers(monkeypatch, cluster)
    parallel = land_source(connection, "faers", bulk_location=samples)

    assert raw_content(connection, "faers") == serial_rows
    assert sum(map(len, serial_rows.values())) > 100
    assert landing_account(parallel) == landing_account(serial)
    assert not list((tmp_path / "parallel" / "downloads" / "faers" / "parsed").glob("*"))


def test_dailymed_release_parts_parsed_by_two_workers_land_what_a_serial_run_lands(
    new_database, templates, cluster, monkeypatch, tmp_path: Path, parsed_on_workers
):
    # Two release parts of per-label zips built from the real SPLs (test_dailymed.py's
    # builder), the second with bad members, a copy of the first cut inside its fourth
    # member, and a per-label zip; windows of 2 labels, resumed inside the parts.
    for name in ("release", "one", "two"):
        (tmp_path / name).mkdir()
    folder = tmp_path / "release"
    first = release_zip(tmp_path / "one")
    shutil.copy(first, folder / "dm_spl_release_human_rx_part1.zip")
    bad = release_zip(
        tmp_path / "two",
        (
            "prescription/20240102_cut.xml",
            (DAILYMED_DERIVED / "spl_otc_cough_cut.xml").read_bytes(),
        ),
        ("prescription/20240104_notazip.zip", b"this is not a zip archive"),
        ("prescription/readme.txt", b"not an SPL: never read"),
    )
    shutil.copy(bad, folder / "dm_spl_release_human_rx_part2.zip")
    with zipfile.ZipFile(first) as archive:
        cut_at = archive.infolist()[3].header_offset + 200
    (folder / "dm_spl_daily_update_truncated.zip").write_bytes(first.read_bytes()[:cut_at])
    per_label_zip(folder, DAILYMED_SAMPLES / "spl_otc_cough_20110426.xml")

    def land(connection: ConnectionInfo) -> LandingResult:
        return land_source(
            connection, "dailymed", bulk_location=str(folder), bulk_labels_per_window=2
        )

    serial = land(new_database)
    serial_rows = raw_content(new_database, "dailymed")

    connection = templates.fresh("tmpl_init")
    monkeypatch.setenv("MEDMIRROR_DATA_DIR", str(tmp_path / "parallel"))
    on_workers(monkeypatch, cluster)
    parallel = land(connection)

    assert raw_content(connection, "dailymed") == serial_rows
    assert len(serial_rows["labels"]) == serial.rows["labels"] >= 7
    assert len(serial_rows["rejects"]) == serial.rejected == 3
    assert landing_account(parallel) == landing_account(serial)
    assert not list((tmp_path / "parallel" / "downloads" / "dailymed" / "parsed").glob("*"))


def test_a_bulk_refresh_through_the_flow_parses_on_the_workers(
    database, cluster, release: Path, monkeypatch, parsed_on_workers
):
    # The parse tasks are submitted from the refresh's extract task (a Prefect context of
    # its own, which prefect-dask must not send to the workers).
    on_workers(monkeypatch, cluster)

    outcome = refresh(sources=["pubmed"], bulk=str(release), run_dbt=False)

    assert query(
        database, "select count(*), count(distinct source_uri) from raw_pubmed.articles"
    ) == [(outcome["pubmed"]["rows"]["articles"], 5)]


@pytest.mark.parametrize("fault", ["raises", "dies"])
def test_a_failed_worker_stops_the_run_at_its_file_with_nothing_after_it_committed(
    new_database, cluster, release: Path, monkeypatch, fault: str
):
    on_workers(monkeypatch, cluster)
    failing = release / "pubmed26n1335_updatefile_sample.xml.gz"
    parse_file = extract.pubmed.parse_file
    monkeypatch.setattr(extract.pubmed, "parse_file", parallel_faults.PARSERS[fault])

    with pytest.raises(ParseFailed) as failed:
        land_source(new_database, "pubmed", bulk_location=str(release))

    assert failed.value.where == str(failing)
    assert str(failing) in str(failed.value)
    # The files before it are committed in order, one load each; nothing of it or after.
    loads = query(
        new_database,
        "select source_uri from raw_pubmed.articles group by source_uri order by min(_dlt_load_id)",
    )
    assert loads == [(str(release / path.name),) for path in RELEASE[:3]]

    # The next run (the parser fixed) resumes at that file and lands the rest in order.
    monkeypatch.setattr(extract.pubmed, "parse_file", parse_file)
    resumed = land_source(new_database, "pubmed", bulk_location=str(release))
    landed_now = [offered.uri for offered in resumed.files.files.values() if offered.rows]
    assert landed_now == [str(release / path.name) for path in RELEASE[3:5]]
