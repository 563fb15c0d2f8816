"""FAERS at scale: quarterly ASCII extracts of generated reports, from the real rows.

    python -m bench.generate faers --quarters 10 --reports 400000 --folder bench/out/faers-10q
    python -m bench.generate faers --quarters 1 --first-quarter 10 --reports 400000 \
        --folder bench/out/faers-delta

Every generated report is one of the 100 real reports of the bundled 2017Q2 extract
(`samples/faers/faers_ascii_2017q2_subset.zip`): its DEMO row and all its DRUG, REAC,
INDI, OUTC, RPSR and THER rows, as FDA wrote them, with

- a new case id (30,000,000 up, never a real one) and primary id (case id and version,
  as FDA numbers them: case 30000012 version 3 is primary id 300000123), dates in the
  quarter (`fda_dt`, `rept_dt`; `init_fda_dt` in the quarter the case first came);
- its drugs' names (`drugname`, `prod_ai`) drawn from the real FAERS drug names of both
  bundled quarters and the active moieties of FDA's NDC files (`bench.drug_vocabulary`),
  and its reactions and indications from the real MedDRA terms of both quarters, common
  ones often, the rest rarely; a report's reactions lean towards three terms tied to its
  primary suspect drug, so that the signals mart finds real signals;
- in every quarter after the first, 15% of the reports are later versions of cases of
  earlier quarters (same case id, version up, new primary id), and a deleted-case list
  (`Deleted/DELETEyyQq.txt`, one case id a line) names 0.1% of the earlier cases.

A case is a function of its number and the seed, so any quarter can be generated alone
(`--first-quarter`: the delta quarter after a release). The output is FDA's layout:
`faers_ascii_2015q1.zip` holding `ascii/DEMO15Q1.txt` ... `ascii/THER15Q1.txt`, `$`
separated with a header line. Only the FAERS layout (2012Q4 on) is generated, not legacy
AERS.
"""

from __future__ import annotations

import random
import shutil
import tempfile
import zipfile
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from bench import drug_vocabulary
from medmirror.settings import SAMPLES_DIR

SAMPLE = SAMPLES_DIR / "faers" / "faers_ascii_2017q2_subset.zip"
LEGACY_SAMPLE = SAMPLES_DIR / "faers" / "aers_ascii_2004q1_subset.zip"
KINDS = ("DEMO", "DRUG", "REAC", "OUTC", "RPSR", "THER", "INDI")
FIRST_CASE = 30_000_000
FOLLOW_UPS = 0.15
DELETED = 0.001
FIRST_QUARTER = (2015, 1)


def _members(path: Path) -> dict[str, list[list[str]]]:
    """Each kind's rows (fields), header first, of one quarterly zip."""
    out: dict[str, list[list[str]]] = {}
    with zipfile.ZipFile(path) as archive:
        for info in archive.infolist():
            base = info.filename.rsplit("/", 1)[-1].upper()
            if base[:4] in KINDS and base.endswith(".TXT"):
                lines = archive.read(info).decode("utf-8", "replace").splitlines()
                out[base[:4]] = [line.split("$") for line in lines if line]
    return out


@dataclass(frozen=True)
class Report:
    """One real report: its rows of every kind (fields), keyed as in the header."""

    rows: dict[str, list[list[str]]]


class ReportGenerator:
    def __init__(self, seed: int = 7, reports_per_quarter: int = 400_000) -> None:
        self.seed = seed
        self.per_quarter = reports_per_quarter
        files = _members(SAMPLE)
        self.headers = {kind: files[kind][0] for kind in KINDS}
        self.columns = {
            kind: {name: i for i, name in enumerate(self.headers[kind])} for kind in KINDS
        }
        by_primaryid: dict[str, dict[str, list[list[str]]]] = {}
        for kind in KINDS:
            for row in files[kind][1:]:
                by_primaryid.setdefault(row[0], {k: [] for k in KINDS})[kind].append(row)
        self.reports = [Report(rows) for _, rows in sorted(by_primaryid.items()) if rows["DEMO"]]
        legacy = _members(LEGACY_SAMPLE)
        # real MedDRA preferred terms (reactions and indications) of both quarters
        terms: Counter[str] = Counter()
        for source in (files, legacy):
            for kind, column in (("REAC", "pt"), ("INDI", "indi_pt")):
                header = [name.lower() for name in source[kind][0]]
                at = header.index(column)
                # legacy AERS writes terms in upper case, FAERS as MedDRA does
                terms.update(
                    row[at].capitalize() if row[at].isupper() else row[at]
                    for row in source[kind][1:]
                    if len(row) > at and row[at]
                )
        self.terms = drug_vocabulary.Ranked([term for term, _ in terms.most_common()])
        names: Counter[str] = Counter()
        for source in (files, legacy):
            header = [name.lower() for name in source["DRUG"][0]]
            for column in ("prod_ai", "drugname"):
                if column in header:
                    at = header.index(column)
                    names.update(
                        row[at].upper() for row in source["DRUG"][1:] if len(row) > at and row[at]
                    )
        moieties = drug_vocabulary.moieties().values
        self.drugs = drug_vocabulary.Ranked(
            [name for name, _ in names.most_common()] + [m for m in moieties if m not in names]
        )

    # -- which cases a quarter holds ------------------------------------------------------

    def new_cases(self, quarter: int) -> range:
        """The case numbers first reported in quarter `quarter` (0 = the first)."""
        count = self.per_quarter if quarter == 0 else self.per_quarter - self.follow_ups(quarter)
        return range(quarter * self.per_quarter, quarter * self.per_quarter + count)

    def follow_ups(self, quarter: int) -> int:
        return 0 if quarter == 0 else int(self.per_quarter * FOLLOW_UPS)

    def _earlier_cases(self, quarter: int, count: int, purpose: str) -> list[int]:
        rand = random.Random(f"{self.seed}-{purpose}-{quarter}")
        chosen: set[int] = set()
        while len(chosen) < count:
            earlier = rand.randrange(quarter)
            cases = self.new_cases(earlier)
            chosen.add(rand.choice(cases))
        return sorted(chosen)

    def deleted_cases(self, quarter: int) -> list[int]:
        if quarter == 0:
            return []
        return self._earlier_cases(quarter, max(1, int(self.per_quarter * DELETED)), "deleted")

    def cases(self, quarter: int) -> Iterator[tuple[int, int]]:
        """(case number, quarter it was first reported in) of every report of `quarter`."""
        for case in self.new_cases(quarter):
            yield case, quarter
        for case in self._earlier_cases(quarter, self.follow_ups(quarter), "follow-up"):
            yield case, case // self.per_quarter

    # -- one report ---------------------------------------------------------------------

    def report(self, case: int, first: int, quarter: int) -> dict[str, list[str]]:
        """The `$`-separated lines, by kind, of case `case` as reported in `quarter`."""
        rand = random.Random(f"{self.seed}-case-{case}")
        template = self.reports[rand.randrange(len(self.reports))]
        caseid = str(FIRST_CASE + case)
        demo = list(template.rows["DEMO"][0])
        at = self.columns["DEMO"]
        version = int(demo[at["caseversion"]] or 1) + (quarter - first)
        primaryid = f"{caseid}{version}"
        first_day = _day_in(first, rand)
        when = (
            first_day if quarter == first else _day_in(quarter, random.Random(f"{case}-{quarter}"))
        )
        demo[at["caseversion"]] = str(version)
        if quarter != first:
            demo[at["i_f_code"]] = "F"  # a follow-up
        demo[at["init_fda_dt"]] = f"{first_day:%Y%m%d}"
        demo[at["fda_dt"]] = f"{when:%Y%m%d}"
        demo[at["rept_dt"]] = f"{when:%Y%m%d}"
        if demo[at["mfr_dt"]]:
            demo[at["mfr_dt"]] = f"{when - timedelta(days=rand.randrange(30)):%Y%m%d}"
        lines: dict[str, list[str]] = {"DEMO": [_line(primaryid, caseid, demo)]}

        # drugs: each drug_seq another name; the primary suspect's terms lean the reactions
        drug_at = self.columns["DRUG"]
        renamed: dict[str, str] = {}
        suspect = None
        drugs = []
        for row in template.rows["DRUG"]:
            row = list(row)
            name = renamed.setdefault(row[drug_at["drug_seq"]], self.drugs.pick(rand))
            row[drug_at["drugname"]] = name
            row[drug_at["prod_ai"]] = name
            if row[drug_at["role_cod"]] == "PS" and suspect is None:
                suspect = name
            drugs.append(_line(primaryid, caseid, row))
        lines["DRUG"] = drugs
        tied = random.Random(f"{self.seed}-terms-{suspect}")
        leaning = [self.terms.pick(tied) for _ in range(3)]
        reac_at = self.columns["REAC"]["pt"]
        lines["REAC"] = [
            _line(primaryid, caseid, _with(row, reac_at, self._term(rand, leaning)))
            for row in template.rows["REAC"]
        ]
        indi_at = self.columns["INDI"]["indi_pt"]
        lines["INDI"] = [
            _line(primaryid, caseid, _with(row, indi_at, self.terms.pick(rand)))
            for row in template.rows["INDI"]
        ]
        for kind in ("OUTC", "RPSR", "THER"):
            lines[kind] = [_line(primaryid, caseid, row) for row in template.rows[kind]]
        return lines

    def _term(self, rand: random.Random, leaning: list[str]) -> str:
        return rand.choice(leaning) if rand.random() < 0.3 else self.terms.pick(rand)


def _line(primaryid: str, caseid: str, row: list[str]) -> str:
    return "$".join([primaryid, caseid, *row[2:]])


def _with(row: list[str], at: int, value: str) -> list[str]:
    row = list(row)
    row[at] = value
    return row


def quarter_name(quarter: int) -> tuple[int, int]:
    """(year, quarter of the year) of quarter number `quarter` (0 = 2015Q1)."""
    year, q = FIRST_QUARTER
    index = (year * 4 + q - 1) + quarter
    return index // 4, index % 4 + 1


def _day_in(quarter: int, rand: random.Random) -> date:
    year, q = quarter_name(quarter)
    start = date(year, 3 * (q - 1) + 1, 1)
    return start + timedelta(days=rand.randrange(90))


def write_quarter(generator: ReportGenerator, quarter: int, folder: Path) -> dict[str, int]:
    """`faers_ascii_YYYYqN.zip` of quarter `quarter` in `folder`; rows written per kind."""
    year, q = quarter_name(quarter)
    suffix = f"{year % 100:02d}Q{q}"
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"faers_ascii_{year}q{q}.zip"
    counts = dict.fromkeys(KINDS, 0)
    with tempfile.TemporaryDirectory(dir=folder) as scratch:
        files = {
            kind: open(Path(scratch) / f"{kind}{suffix}.txt", "w", encoding="utf-8", newline="\n")
            for kind in KINDS
        }
        try:
            for kind, out in files.items():
                out.write("$".join(generator.headers[kind]) + "\n")
            for case, first in generator.cases(quarter):
                for kind, lines in generator.report(case, first, quarter).items():
                    for line in lines:
                        files[kind].write(line + "\n")
                    counts[kind] += len(lines)
        finally:
            for out in files.values():
                out.close()
        deleted = generator.deleted_cases(quarter)
        partial = target.with_suffix(".partial")
        with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
            for kind in KINDS:
                archive.write(Path(scratch) / f"{kind}{suffix}.txt", f"ascii/{kind}{suffix}.txt")
            if deleted:
                archive.writestr(
                    f"Deleted/DELETE{suffix}.txt",
                    "".join(f"{FIRST_CASE + case}\n" for case in deleted),
                )
        shutil.move(partial, target)
    counts["DELETED"] = len(deleted)
    return counts
