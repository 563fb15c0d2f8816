"""CDC PLACES from data.cdc.gov's CSV exports (the bulk way in): the real dlt pipeline into
a real PostgreSQL, from two real exports of the County Data 2023 release (Hawaii and
Rhode Island, samples/cdcplaces/), and variants made from them in the tests."""

from __future__ import annotations

import csv
import io
import shutil
import zipfile
from pathlib import Path

import pytest

from extract.bulk import NoReleaseFiles, Outcome
from medmirror.settings import SAMPLES_DIR
from tests.conftest import land_source, query

SAMPLES = SAMPLES_DIR / "cdcplaces"
HAWAII = SAMPLES / "PLACES_County_Data_2023_release_HI_export.csv"
RHODE_ISLAND = SAMPLES / "PLACES_County_Data_2023_release_RI_export.csv"
ROWS = 370  # per export: 5 counties x 37 measures x crude and age-adjusted


def export_rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as text:
        return list(csv.DictReader(text))


def test_both_real_exports_land_every_row_as_the_api_sends_it(database):
    assert len(export_rows(HAWAII)) == len(export_rows(RHODE_ISLAND)) == ROWS

    result = land_source(database, "cdcplaces", bulk_location=str(SAMPLES))

    assert result.rows == {"measures": 2 * ROWS}
    assert result.rejected == 0
    outcomes = {Path(uri).name: offered.outcome for uri, offered in result.files.files.items()}
    assert outcomes == {
        "PROVENANCE.md": Outcome.NOT_RELEASE_FILE,
        HAWAII.name: Outcome.LANDED,
        RHODE_ISLAND.name: Outcome.LANDED,
    }
    assert query(
        database,
        "select geography, count(distinct locationid), count(distinct measureid), "
        "count(distinct datavaluetypeid) from raw_cdcplaces.measures group by 1",
    ) == [("county", 10, 37, 2)]
    # Hawaii County's age-adjusted coronary heart disease row, the export's first line:
    # its fields under the API's names, values as text, empty fields left out.
    ((record,),) = query(
        database,
        "select record from raw_cdcplaces.measures where locationid = '15001' "
        "and measureid = 'CHD' and datavaluetypeid = 'AgeAdjPrv' and year = 2021",
    )
    first = export_rows(HAWAII)[0]
    assert record == {name.lower(): value for name, value in first.items() if value != ""}
    assert record["data_value"] == "4.9"
    assert record["geolocation"] == "POINT (-155.5024434 19.5977643)"
    assert "data_value_footnote" not in record
    stroke_asthma = query(
        database,
        "select measureid, count(*) from raw_cdcplaces.measures "
        "where measureid in ('STROKE', 'CASTHMA') group by 1 order by 1",
    )
    assert stroke_asthma == [("CASTHMA", 20), ("STROKE", 20)]


def test_an_export_lands_once_whatever_its_name_or_place(database, tmp_path: Path):
    land_source(database, "cdcplaces", bulk_location=str(HAWAII))
    renamed = tmp_path / "rows.csv"
    shutil.copy(HAWAII, renamed)
    zipped = tmp_path / "zipped" / "export.zip"
    zipped.parent.mkdir()
    with zipfile.ZipFile(zipped, "w") as archive:
        archive.write(RHODE_ISLAND, "download.csv")

    again = land_source(database, "cdcplaces", bulk_location=str(renamed))
    from_zip = land_source(database, "cdcplaces", bulk_location=str(zipped))

    assert [offered.outcome for offered in again.files.files.values()] == [Outcome.ALREADY_LANDED]
    assert again.total_rows == 0
    assert from_zip.rows == {"measures": ROWS}
    assert query(database, "select count(*) from raw_cdcplaces.measures") == [(2 * ROWS,)]


def test_a_long_export_is_landed_window_by_window(database):
    result = land_source(database, "cdcplaces", bulk_location=str(HAWAII), rows_per_window=100)

    assert result.windows >= 4  # 370 rows, 100 a window (Arrow reads blocks whole)
    assert result.rows == {"measures": ROWS}
    assert query(
        database,
        "select count(*), count(distinct (year, locationid, measureid, datavaluetypeid)) "
        "from raw_cdcplaces.measures",
    ) == [(ROWS, ROWS)]


def test_a_row_without_its_keys_is_rejected_by_line(database, tmp_path: Path):
    # The Hawaii export with line 3's LocationID emptied.
    lines = HAWAII.read_bytes().split(b"\n")
    rows = list(csv.reader(io.StringIO(lines[2].decode())))
    rows[0][15] = ""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="").writerow(rows[0])
    lines[2] = buffer.getvalue().encode()
    variant = tmp_path / "export.csv"
    variant.write_bytes(b"\n".join(lines))

    result = land_source(database, "cdcplaces", bulk_location=str(variant))

    assert result.rows == {"measures": ROWS - 1}
    ((problem, position),) = query(database, "select problem, position from raw_cdcplaces.rejects")
    assert position == "line 3"
    assert "locationid=None" in problem


def test_a_location_without_an_export_fails_listing_what_it_saw(database, tmp_path: Path):
    (tmp_path / "notes.csv").write_text("Year,State,Value\n2021,HI,4.9\n")

    with pytest.raises(NoReleaseFiles, match="notes.csv"):
        land_source(database, "cdcplaces", bulk_location=str(tmp_path))
