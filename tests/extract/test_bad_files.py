"""Bad bulk files: each is named with what is wrong and where, recorded as a reject, and
the rest of the release lands. Every bad file is derived here from a real sample (the
test says how); the originals in samples/ stay untouched."""

from __future__ import annotations

import gzip
import io
import shutil
import zipfile
from pathlib import Path

from extract.errors import MalformedInput
from medmirror.settings import SAMPLES_DIR
from tests.conftest import land_source, query
from tests.extract.test_clinicaltrials import landed_ids

GOOD = ["study_NCT00763412.json", "study_NCT00973089.json", "study_NCT04207047.json"]
REAL = SAMPLES_DIR / "clinicaltrials" / "study_NCT03475563.json"


def release_with_bad_files(folder: Path) -> dict[str, str]:
    """Three good studies plus one bad file of each kind; returns bad file -> expected text."""
    folder.mkdir()
    for name in GOOD:
        shutil.copy(SAMPLES_DIR / "clinicaltrials" / name, folder)
    real = REAL.read_bytes()
    # Derived: an empty file.
    (folder / "a_empty.json").write_bytes(b"")
    # Derived: the real study cut off in the middle of the document.
    (folder / "b_cut.json").write_bytes(real[: len(real) // 2])
    # Derived: the real study with one byte replaced by 0xff (not UTF-8) at offset 200.
    (folder / "c_latin.json").write_bytes(real[:200] + b"\xff" + real[201:])
    # Derived: the real study gzipped, then the gzip stream cut in half.
    packed = gzip.compress(real)
    (folder / "d_cut.json.gz").write_bytes(packed[: len(packed) // 2])
    # Derived: a zip of the real study, cut in half (its directory at the end is lost).
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("NCT03475563.json", real)
    (folder / "e_cut.zip").write_bytes(buffer.getvalue()[: len(buffer.getvalue()) // 2])
    return {
        "a_empty.json": "not valid JSON",
        "b_cut.json": "not valid JSON",
        "c_latin.json": "not valid UTF-8 at byte 200",
        "d_cut.json.gz": "cannot read",
        "e_cut.zip": "not a readable zip",
    }


def test_bad_files_are_rejected_by_name_and_the_rest_lands(database, tmp_path: Path):
    folder = tmp_path / "release"
    expected = release_with_bad_files(folder)

    result = land_source(database, "clinicaltrials", bulk_location=str(folder))

    assert sorted(landed_ids(database)) == ["NCT00763412", "NCT00973089", "NCT04207047"]
    assert result.rejected == len(expected)
    rejects = dict(query(database, "select source_uri, problem from raw_clinicaltrials.rejects"))
    assert sorted(rejects) == sorted(str(folder / name) for name in expected)
    for name, text in expected.items():
        assert text in rejects[str(folder / name)]
    # JSON errors say where in the file: orjson gives line, column and character.
    assert "line 150 column 762 (char 5076)" in rejects[str(folder / "b_cut.json")]


def test_a_zip_member_with_corrupt_data_is_rejected_alone(database, tmp_path: Path):
    archive_path = tmp_path / "ctg-studies.json.zip"
    with zipfile.ZipFile(archive_path, "w", zipfile.ZIP_STORED) as archive:
        for name in GOOD:
            archive.write(SAMPLES_DIR / "clinicaltrials" / name, name)
    # Derived: flip bytes inside the stored data of the second member (its CRC no longer
    # matches), leaving the zip's directory intact.
    data = bytearray(archive_path.read_bytes())
    with zipfile.ZipFile(archive_path) as archive:
        second = archive.infolist()[1]
    start = second.header_offset + 30 + len(second.filename) + 100
    data[start : start + 8] = b"XXXXXXXX"
    archive_path.write_bytes(bytes(data))

    result = land_source(database, "clinicaltrials", bulk_location=str(archive_path))

    assert result.rejected == 1
    ((uri, problem),) = query(
        database, "select source_uri, problem from raw_clinicaltrials.rejects"
    )
    assert uri == f"{archive_path}!{GOOD[1]}"
    assert "CRC" in problem or "not valid JSON" in problem
    assert sorted(landed_ids(database)) == sorted(
        name.removeprefix("study_").removesuffix(".json") for name in (GOOD[0], GOOD[2])
    )


def test_reject_error_names_source_file_and_position():
    error = MalformedInput("clinicaltrials", "/data/x.json", "not valid JSON: line 1 column 9")
    assert str(error) == "clinicaltrials: /data/x.json: not valid JSON: line 1 column 9"
