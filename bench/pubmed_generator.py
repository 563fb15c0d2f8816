"""PubMed at scale: baseline/update files of generated articles, from the real samples.

Every generated article is a copy of one of the real `PubmedArticle` records of the
bundled baseline sample (`samples/pubmed/`) with a fresh PMID (from 60,000,000 up, never
a real one), a random publication date (years 1975-2026, each year about 4% more articles
than the one before, as PubMed grows: the newest year holds about 4% of them), a
DateRevised after it, and a new title and abstract written by
`bench.corpus.TextModel` from the samples' own text. Authors, journals, MeSH headings,
references and every other element stay as NLM wrote them. The output is what NLM ships:
gzipped `PubmedArticleSet` files named `pubmed26nNNNN.xml.gz`, each holding up to
`per_file` articles (NLM's files hold 30,000).
"""

from __future__ import annotations

import copy
import gzip
import random
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

from lxml import etree

from bench.corpus import TextModel
from medmirror.settings import SAMPLES_DIR

FIRST_PMID = 60_000_000
YEARS = list(range(1975, 2027))
YEAR_WEIGHTS = [1.04**index for index in range(len(YEARS))]
HEADER = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n'
    b'<!DOCTYPE PubmedArticleSet PUBLIC "-//NLM//DTD PubMedArticle, 1st January 2019//EN" '
    b'"http://dtd.nlm.nih.gov/ncbi/pubmed/out/pubmed_190101.dtd">\n'
    b"<PubmedArticleSet>\n"
)
FOOTER = b"</PubmedArticleSet>\n"


def article_templates() -> list[etree._Element]:
    """The real articles of the bundled baseline sample (those with an abstract)."""
    templates = []
    for path in sorted((SAMPLES_DIR / "pubmed").glob("*baseline*.xml.gz")):
        with gzip.open(path) as stream:
            tree = etree.parse(stream)
        templates += [
            article
            for article in tree.iterfind("PubmedArticle")
            if article.find("MedlineCitation/Article/Abstract") is not None
        ]
    if not templates:
        raise FileNotFoundError(f"no baseline sample with abstracts in {SAMPLES_DIR / 'pubmed'}")
    return templates


def _texts(element: etree._Element) -> Iterator[str]:
    for text in element.itertext():
        if text.count(" ") >= 3:
            yield text


class ArticleGenerator:
    def __init__(self, seed: int = 7) -> None:
        self.templates = article_templates()
        self.text = TextModel(
            (text for article in self.templates for text in _texts(article)), seed=seed
        )
        self.random = random.Random(seed)

    def article(self, number: int, revised: date | None = None) -> etree._Element:
        rand = self.random
        article = copy.deepcopy(self.templates[number % len(self.templates)])
        pmid = str(FIRST_PMID + number)
        citation = article.find("MedlineCitation")
        citation.find("PMID").text = pmid
        for article_id in article.iterfind("PubmedData/ArticleIdList/ArticleId"):
            if article_id.get("IdType") == "pubmed":
                article_id.text = pmid
        published = date(rand.choices(YEARS, weights=YEAR_WEIGHTS)[0], 1, 1) + timedelta(
            days=rand.randrange(0, 365)
        )
        pub_date = citation.find("Article/Journal/JournalIssue/PubDate")
        if pub_date is not None:
            for part in list(pub_date):
                pub_date.remove(part)
            for part, value in zip(
                ("Year", "Month", "Day"),
                (str(published.year), published.strftime("%b"), f"{published.day:02d}"),
                strict=True,
            ):
                etree.SubElement(pub_date, part).text = value
        revised = revised or min(
            published + timedelta(days=rand.randrange(0, 3000)), date(2026, 11, 1)
        )
        date_revised = citation.find("DateRevised")
        for part, value in zip(
            ("Year", "Month", "Day"), (revised.year, revised.month, revised.day), strict=True
        ):
            date_revised.find(part).text = f"{value:02d}"
        citation.find("Article/ArticleTitle").text = self.text.text(rand.randint(8, 24))
        for section in citation.iterfind("Article/Abstract/AbstractText"):
            for child in list(section):  # markup inside an abstract (<i>, <sup>) goes
                section.remove(child)
            section.text = self.text.text(rand.randint(30, 120))
        return article

    def articles(self, count: int, first: int = 0) -> Iterator[etree._Element]:
        for number in range(first, first + count):
            yield self.article(number)


def write_files(
    articles: Iterator[etree._Element], folder: Path, per_file: int = 30_000, first_file: int = 1
) -> int:
    """Gzipped PubmedArticleSet files of `per_file` articles each, in `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    written = 0
    number = first_file
    out = None
    try:
        for article in articles:
            if out is None:
                out = gzip.open(folder / f"pubmed26n{number:04d}.xml.gz", "wb", compresslevel=1)
                out.write(HEADER)
            out.write(etree.tostring(article, encoding="utf-8", with_tail=False) + b"\n")
            written += 1
            if written % per_file == 0:
                out.write(FOOTER)
                out.close()
                out, number = None, number + 1
    finally:
        if out is not None:
            out.write(FOOTER)
            out.close()
    return written
