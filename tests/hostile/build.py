"""Writes the hostile-input corpus (tests/hostile/cases/) from real samples, the same bytes
every time; `--bombs-of SIZE --into FOLDER` writes the decompression bombs at full size
(1 GiB in the review) for `python -m bench.memory hostile`.

    python -m tests.hostile.build
    python -m tests.hostile.build --bombs-of 1GiB --into bench/out/hostile

Each case says which real file it starts from and what was changed (tests/hostile/README.md).
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import zipfile
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
PROJECT = HERE.parents[1]
SAMPLES = PROJECT / "samples"
CASES = HERE / "cases"
ORIGINALS = HERE / "originals"

STUDY = SAMPLES / "clinicaltrials" / "study_NCT03475563.json"  # a real study (AACT's copy)
SPL = SAMPLES / "dailymed" / "spl_otc_cough_20110426.xml"  # a real OTC label
PUBMED = SAMPLES / "pubmed" / "pubmed26n1334_baseline_sample.xml.gz"  # real NLM baseline
PARTITION = ORIGINALS / "drug_label_bulk_partition_2019-10-26_first5.json"  # real openFDA

TEST_BOMB_BYTES = 64 << 20  # what the tests use: past every cap, 64 KB compressed
NESTING = 50_000  # brackets deep (a 100 KB document)
MTIME = (2026, 1, 1, 0, 0, 0)  # fixed member times: the same bytes on every build


def repeated(unit: bytes, size: int) -> Callable[[], bytes]:
    """The chunks of `unit` repeated to `size` bytes, made as they are compressed."""
    block = unit * max(1, (1 << 20) // len(unit))

    def chunks():
        left = size
        while left > 0:
            piece = block[: min(left, len(block))]
            left -= len(piece)
            yield piece

    return chunks


def gzipped(chunks: Callable, *, name: str) -> bytes:
    """A gzip member of what `chunks()` yields (deflate at level 9, fixed header)."""
    out = io.BytesIO()
    with gzip.GzipFile(filename=name, mode="wb", fileobj=out, compresslevel=9, mtime=0) as gz:
        for chunk in chunks():
            gz.write(chunk)
    return out.getvalue()


def zip_member(archive: zipfile.ZipFile, name: str, chunks: Callable) -> None:
    info = zipfile.ZipInfo(name, MTIME)
    info.compress_type = zipfile.ZIP_DEFLATED
    with archive.open(info, "w", force_zip64=True) as member:
        for chunk in chunks():
            member.write(chunk)


def zip_bytes(members: list[tuple[str, Callable]], *, stored: bool = False) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for name, chunks in members:
            if stored:
                info = zipfile.ZipInfo(name, MTIME)
                info.compress_type = zipfile.ZIP_STORED
                archive.writestr(info, b"".join(chunks()))
            else:
                zip_member(archive, name, chunks)
    return out.getvalue()


def once(data: bytes) -> Callable:
    return lambda: iter([data])


def element_bomb(size: int) -> Callable:
    """A PubMed file whose one article holds `size` bytes of empty elements."""
    head = PUBMED_HEAD + b'<PubmedArticle><MedlineCitation><PMID Version="1">1</PMID>'
    tail = b"</MedlineCitation></PubmedArticle></PubmedArticleSet>\n"
    body = repeated(b"<a/>", size)

    def chunks():
        yield head
        yield from body()
        yield tail

    return chunks


PUBMED_HEAD = b'<?xml version="1.0" encoding="UTF-8"?>\n<PubmedArticleSet>\n'


def nested(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


def bombs(size: int) -> dict[str, bytes]:
    """The decompression bombs, each decompressing to about `size` bytes."""
    real_study = STUDY.read_bytes()
    real_spl = SPL.read_bytes()
    label_zip = zip_bytes([("ab36b844-real.xml", once(real_spl))])
    bomb_label = zip_bytes([("0000-bomb.xml", repeated(b" ", size))])
    return {
        # clinicaltrials: a .json.gz of spaces (the review's case) beside a real study
        "ctgov_gzip_bomb.json.gz": gzipped(repeated(b" ", size), name="study.json"),
        # clinicaltrials: a zip holding the real study and a member of spaces
        "ctgov_zip_bomb.zip": zip_bytes(
            [("NCT03475563.json", once(real_study)), ("NCT00000000.json", repeated(b" ", size))]
        ),
        # dailymed: a release zip of per-label zips (stored, as DailyMed's are): one real,
        # one whose XML inflates from a few KB to `size`
        "dailymed_nested_bomb.zip": zip_bytes(
            [("20260101_real.zip", once(label_zip)), ("20260101_bomb.zip", once(bomb_label))],
            stored=True,
        ),
        # pubmed: a gzipped baseline file whose one article is `size` of empty elements
        "pubmed_element_bomb.xml.gz": gzipped(element_bomb(size), name="pubmed.xml"),
    }


def small_cases() -> dict[str, bytes]:
    """The cases that are not bombs (each a few KB to 100 KB)."""
    real_study = STUDY.read_bytes()
    real_spl = SPL.read_bytes()
    cases: dict[str, bytes] = {}
    # The real study with one byte replaced by 0xff at offset 200.
    cases["ctgov_invalid_utf8.json"] = real_study[:200] + b"\xff" + real_study[201:]
    # The real study with a 50,000-deep array added as its last field.
    cases["ctgov_nesting_bomb.json"] = (
        real_study.rstrip()[:-1].rstrip() + b',\n  "deep": ' + nested(NESTING) + b"\n}\n"
    )
    # A zip of the real study, cut in half (its directory at the end is lost).
    whole = zip_bytes([("NCT03475563.json", once(real_study))])
    cases["ctgov_truncated.zip"] = whole[: len(whole) // 2]
    # A zip whose members climb out of any folder (`../`) and one that is a symbolic
    # link to /etc/passwd (Unix mode 0120777 in its external attributes).
    slip = io.BytesIO()
    with zipfile.ZipFile(slip, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(zipfile.ZipInfo("../../escaped/NCT03475563.json", MTIME), real_study)
        link = zipfile.ZipInfo("NCT99999999.json", MTIME)
        link.create_system = 3
        link.external_attr = 0o120777 << 16
        archive.writestr(link, "/etc/passwd")
    cases["ctgov_zip_slip.zip"] = slip.getvalue()
    # The real cough label with a DOCTYPE declaring "billion laughs" entities, referenced
    # from its title.
    laughs = [b'<!ENTITY lol0 "lol">']
    for level in range(1, 10):
        refs = f"&lol{level - 1};".encode() * 10
        laughs.append(b"<!ENTITY lol" + str(level).encode() + b' "' + refs + b'">')
    doctype = b"<!DOCTYPE document [\n" + b"\n".join(laughs) + b"\n]>\n"
    declaration_end = real_spl.index(b"?>") + 2
    spl = real_spl[:declaration_end] + b"\n" + doctype + real_spl[declaration_end:].lstrip()
    cases["dailymed_billion_laughs.xml"] = spl.replace(b"<title>", b"<title>&lol9;", 1)
    # The real baseline file cut to its first article, with its DOCTYPE replaced by one
    # declaring an external entity (/etc/passwd), referenced from the article's title.
    pubmed = gzip.decompress(PUBMED.read_bytes())
    first_end = pubmed.index(b"</PubmedArticle>") + len(b"</PubmedArticle>")
    pubmed = pubmed[:first_end] + b"\n</PubmedArticleSet>\n"
    start = pubmed.index(b"<!DOCTYPE")
    end = pubmed.index(b">", start) + 1
    xxe = b'<!DOCTYPE PubmedArticleSet [\n<!ENTITY xxe SYSTEM "file:///etc/passwd">\n]>'
    pubmed = pubmed[:start] + xxe + pubmed[end:]
    cases["pubmed_xxe.xml"] = pubmed.replace(b"<ArticleTitle>", b"<ArticleTitle>&xxe;", 1)
    # The real openFDA label partition (first five records) with a 50,000-deep array added
    # to its last record, named as a partition is.
    partition = json.loads(PARTITION.read_bytes())
    partition["results"][-1]["deep"] = "DEEP"
    text = json.dumps(partition, indent=2).encode()
    cases["openfda_nesting_bomb/drug-label-0001-of-0001.json"] = text.replace(
        b'"DEEP"', nested(NESTING)
    )
    # openFDA's download manifest (its documented layout) with a path in an export date,
    # a partition on another host and a file that is not a partition; `{base}` is the
    # replay server's address, filled in by the test.
    cases["openfda_manifest.json"] = json.dumps(
        {
            "meta": {"last_updated": "2026-01-01"},
            "results": {
                "drug": {
                    "label": {
                        "export_date": "../../../../escaped",
                        "partitions": [
                            {"file": "{base}/drug/label/drug-label-0001-of-0001.json.zip"}
                        ],
                    },
                    "ndc": {
                        "export_date": "2026-01-01",
                        "partitions": [
                            {
                                "file": "https://downloads.example.org/drug-ndc-0001-of-0002.json.zip"
                            },
                            {"file": "{base}/drug/ndc/..%2F..%2Fescaped.zip"},
                            {"file": "{base}/drug/ndc/drug-ndc-0002-of-0002.json.zip"},
                        ],
                    },
                }
            },
        },
        indent=2,
    ).encode()
    return cases


def write(cases: dict[str, bytes], folder: Path) -> None:
    for name, data in cases.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


def size_of(text: str) -> int:
    units = {"KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30}
    for unit, factor in units.items():
        if text.endswith(unit):
            return int(float(text[: -len(unit)]) * factor)
    return int(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bombs-of", type=size_of, help="decompressed size, e.g. 1GiB")
    parser.add_argument("--into", type=Path, default=CASES)
    args = parser.parse_args()
    if args.bombs_of:
        write(bombs(args.bombs_of), args.into)
    else:
        write({**small_cases(), **bombs(TEST_BOMB_BYTES)}, args.into)
    for path in sorted(args.into.rglob("*")):
        if path.is_file():
            print(f"{path.stat().st_size:>12,}  {path.relative_to(args.into)}")


if __name__ == "__main__":
    main()
