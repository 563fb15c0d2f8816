"""Scale generator: N records in the publisher's own format, from its real samples.

    python -m bench.generate clinicaltrials --studies 100000 --zip bench/out/ctgov-100k.zip
    python -m bench.generate clinicaltrials --studies 5000 --pages bench/out/ctgov-pages
    python -m bench.generate pubmed --articles 1000000 --folder bench/out/pubmed-1m

ClinicalTrials.gov: every generated study is a copy of one of the real complete study
documents in `samples/clinicaltrials/` with a fresh NCT id (NCT2xxxxxxx, never a real
one), a random last update date, and new titles, summary, conditions, keywords and
intervention names written by `bench.corpus.TextModel` from the samples' own text. The
output is what the publisher ships: a zip of one JSON document per study (the full
download) or API pages (`{"studies": [...], "nextPageToken": ...}`).

PubMed: baseline/update files of generated articles (see `bench.pubmed_generator`).

    python -m bench.generate dailymed --labels 150000 --folder bench/out/dailymed-150k
    python -m bench.generate dailymed --labels 150000 --delta --folder bench/out/dailymed-delta
    python -m bench.generate faers --quarters 10 --reports 400000 --folder bench/out/faers-10q
    python -m bench.generate openfda-ndc --products 130000 --folder bench/out/openfda-ndc-130k

DailyMed release zips of per-label zips (`bench.dailymed_generator`), FAERS quarterly
extracts (`bench.faers_generator`) and the openFDA NDC bulk partition
(`bench.openfda_generator`), each from the real samples.
"""

from __future__ import annotations

import argparse
import copy
import random
import zipfile
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import orjson

from bench.corpus import TextModel, texts_of
from medmirror.settings import SAMPLES_DIR

FIRST_ID = 20_000_000
STATUSES = [
    "COMPLETED",
    "RECRUITING",
    "UNKNOWN",
    "TERMINATED",
    "NOT_YET_RECRUITING",
    "ACTIVE_NOT_RECRUITING",
    "WITHDRAWN",
    "ENROLLING_BY_INVITATION",
]
PHASES = [["NA"], ["PHASE1"], ["PHASE2"], ["PHASE3"], ["PHASE4"], ["PHASE1", "PHASE2"], []]


def study_templates() -> list[dict[str, Any]]:
    """The real complete study documents (those with a last update date and results or
    derived sections), used as the skeleton of every generated study."""
    templates = []
    for path in sorted((SAMPLES_DIR / "clinicaltrials").glob("*.json")):
        document = orjson.loads(path.read_bytes())
        for study in document.get("studies", [document]):
            status = study.get("protocolSection", {}).get("statusModule", {})
            if "lastUpdatePostDateStruct" in status and "derivedSection" in study:
                templates.append(study)
    return templates


class StudyGenerator:
    def __init__(self, seed: int = 7) -> None:
        self.templates = study_templates()
        self.text = TextModel(
            (text for study in self.templates for text in texts_of(study)), seed=seed
        )
        self.random = random.Random(seed)
        real_conditions = sorted(
            {
                condition
                for study in self.templates
                for condition in study["protocolSection"]["conditionsModule"]["conditions"]
            }
        )
        self.conditions = real_conditions + [self.text.text(3) for _ in range(2000)]

    def study(self, number: int, updated: date | None = None) -> dict[str, Any]:
        rand = self.random
        study = copy.deepcopy(self.templates[number % len(self.templates)])
        protocol = study["protocolSection"]
        ident = protocol["identificationModule"]
        ident["nctId"] = f"NCT{FIRST_ID + number:08d}"
        ident["briefTitle"] = self.text.text(rand.randint(6, 16))
        ident["officialTitle"] = self.text.text(rand.randint(12, 30))
        ident.pop("acronym", None)
        status = protocol["statusModule"]
        status["overallStatus"] = rand.choice(STATUSES)
        updated = updated or date(2005, 1, 1) + timedelta(days=rand.randrange(0, 7600))
        status["lastUpdatePostDateStruct"] = {"date": updated.isoformat(), "type": "ACTUAL"}
        protocol.setdefault("descriptionModule", {})["briefSummary"] = self.text.text(
            rand.randint(40, 220)
        )
        protocol["conditionsModule"]["conditions"] = rand.sample(
            self.conditions, rand.randint(1, 4)
        )
        protocol["conditionsModule"]["keywords"] = [
            self.text.text(2) for _ in range(rand.randint(0, 5))
        ]
        design = protocol.setdefault("designModule", {})
        design["phases"] = rand.choice(PHASES)
        design.setdefault("enrollmentInfo", {})["count"] = rand.randint(0, 5000)
        for intervention in protocol.get("armsInterventionsModule", {}).get("interventions", []):
            intervention["name"] = (
                self.text.rare_code() if rand.random() < 0.3 else self.text.text(rand.randint(1, 4))
            )
            intervention["description"] = self.text.text(rand.randint(10, 60))
        return study

    def studies(self, count: int, first: int = 0) -> Iterator[dict[str, Any]]:
        for number in range(first, first + count):
            yield self.study(number)


def write_zip(studies: Iterator[dict[str, Any]], target: Path) -> int:
    """One JSON document per study in a zip, as ClinicalTrials.gov's full download."""
    target.parent.mkdir(parents=True, exist_ok=True)
    written = 0
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        for study in studies:
            nct_id = study["protocolSection"]["identificationModule"]["nctId"]
            archive.writestr(f"{nct_id}.json", orjson.dumps(study, option=orjson.OPT_INDENT_2))
            written += 1
    return written


def write_pages(studies: Iterator[dict[str, Any]], folder: Path, page_size: int) -> int:
    """API pages `page-00001.json`, ... each naming the next page's token."""
    folder.mkdir(parents=True, exist_ok=True)
    page: list[dict[str, Any]] = []
    number = 0
    written = 0

    def flush(last: bool) -> None:
        nonlocal number, page
        number += 1
        body: dict[str, Any] = {"studies": page}
        if not last:
            body["nextPageToken"] = f"page-{number + 1:05d}"
        (folder / f"page-{number:05d}.json").write_bytes(orjson.dumps(body))
        page = []

    for study in studies:
        page.append(study)
        written += 1
        if len(page) == page_size:
            flush(last=False)
    flush(last=True)
    return written


def generate_drugs(args: argparse.Namespace) -> str:
    """DailyMed, FAERS or openFDA NDC files as `args` say; what was written."""
    if args.source == "dailymed":
        from bench.dailymed_generator import (
            LabelGenerator,
            delta_labels,
            write_release,
            write_update,
        )

        generator = LabelGenerator(seed=args.seed)
        if args.delta:
            count = write_update(delta_labels(generator, args.labels), args.folder)
            return f"{count} labels (later versions and new labels) -> {args.folder}"
        count = write_release(generator.labels(args.labels), args.folder, args.per_part)
        return f"{count} labels -> {args.folder}"
    if args.source == "faers":
        from bench.faers_generator import ReportGenerator, write_quarter

        generator = ReportGenerator(seed=args.seed, reports_per_quarter=args.reports)
        lines = []
        for quarter in range(args.first_quarter, args.first_quarter + (args.quarters or 1)):
            counts = write_quarter(generator, quarter, args.folder)
            lines.append(f"quarter {quarter}: {counts}")
        return "\n".join(lines) + f"\n-> {args.folder}"
    from bench.openfda_generator import ProductGenerator, write_partition

    target = write_partition(ProductGenerator(seed=args.seed), args.products, args.folder)
    return f"{args.products} products -> {target}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "source", choices=["clinicaltrials", "pubmed", "dailymed", "faers", "openfda-ndc"]
    )
    parser.add_argument("--studies", type=int, help="clinicaltrials: how many studies")
    parser.add_argument("--articles", type=int, help="pubmed: how many articles")
    parser.add_argument("--first", type=int, default=0, help="number of the first record")
    parser.add_argument("--zip", type=Path, help="clinicaltrials: write a full-download zip")
    parser.add_argument("--pages", type=Path, help="clinicaltrials: write API pages here")
    parser.add_argument("--page-size", type=int, default=1000)
    parser.add_argument("--folder", type=Path, help="pubmed, dailymed, faers, openfda-ndc: here")
    parser.add_argument("--per-file", type=int, default=30_000, help="pubmed: articles/file")
    parser.add_argument("--labels", type=int, help="dailymed: labels in the release")
    parser.add_argument("--per-part", type=int, default=5_000, help="dailymed: labels/zip")
    parser.add_argument(
        "--delta", action="store_true", help="dailymed: the 1%% update of a release of --labels"
    )
    parser.add_argument("--quarters", type=int, help="faers: how many quarters")
    parser.add_argument("--reports", type=int, default=400_000, help="faers: reports/quarter")
    parser.add_argument(
        "--first-quarter", type=int, default=0, help="faers: number of the first (0 = 2015Q1)"
    )
    parser.add_argument("--products", type=int, help="openfda-ndc: how many products")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    if args.source in ("dailymed", "faers", "openfda-ndc"):
        if not args.folder:
            parser.error(f"{args.source} needs --folder")
        print(generate_drugs(args))
        return
    if args.source == "pubmed":
        from bench.pubmed_generator import ArticleGenerator, write_files

        if not (args.articles and args.folder):
            parser.error("pubmed needs --articles and --folder")
        articles = ArticleGenerator(seed=args.seed).articles(args.articles, args.first)
        first_file = args.first // args.per_file + 1  # parts of one release, numbered on
        count = write_files(articles, args.folder, per_file=args.per_file, first_file=first_file)
        print(f"{count} articles -> {args.folder}")
        return
    if not args.studies:
        parser.error("clinicaltrials needs --studies")
    generator = StudyGenerator(seed=args.seed)
    if args.zip:
        count = write_zip(generator.studies(args.studies, args.first), args.zip)
        print(f"{count} studies -> {args.zip}")
    if args.pages:
        count = write_pages(generator.studies(args.studies, args.first), args.pages, args.page_size)
        print(f"{count} studies -> {args.pages}")


if __name__ == "__main__":
    main()
