"""DailyMed at scale: release archives of generated SPL labels, from the real samples.

    python -m bench.generate dailymed --labels 150000 --folder bench/out/dailymed-150k
    python -m bench.generate dailymed --labels 150000 --delta --folder bench/out/dailymed-delta

Every generated label is one of the six real SPL labels (`samples/dailymed/`: Humira,
Lipitor and its repackager, a haloperidol label, an OTC cough syrup; and the Rogaine OTC
label of the real per-label zip in `tests/fixtures/dailymed/`), about a third
prescription and two thirds OTC as in DailyMed, with, per label:

- a new set id, document id, version (1-30) and effective time (2006-2026);
- new NDCs: every NDC product and package code (and a repackager's source NDC) gets a
  new labeler and product segment of the same lengths, unique to the label, the package
  segment kept; a labeler code serves 50 labels and always belongs to the same labeler
  name, drawn from the 2,631 real labelers of FDA's NDC files (`bench.drug_vocabulary`);
- new drugs: each active moiety of the template becomes another one drawn from the 3,273
  real moieties of FDA's NDC files (a combination label gets as many), its salt words
  kept (ATORVASTATIN CALCIUM TRIHYDRATE -> FLUOXETINE CALCIUM TRIHYDRATE), new moiety and
  ingredient UNIIs; the brand becomes a made-up name, or for about half the labels the
  generic name; the old names are replaced in the title, product names and every text;
- varied sections: each top-level section but the first two and the product data
  (48780-1) is left out with probability 0.15, and about a third of the plain paragraphs
  get new text written by `bench.corpus.TextModel` from the labels' own paragraphs.

Everything else (inactive ingredients, packages, section structure and codes, tables)
stays as FDA published it. The output is what DailyMed ships: release zips
(`dm_spl_release_human_rx_partN.zip`, `..._otc_partN.zip`) of per-label zips
(`prescription/YYYYMMDD_<set id>.zip` holding `<document id>.xml`; no images), and the
pharmacologic class indexing file holding the real methoxsalen indexing SPL. With
`--delta`, one update zip (`dm_spl_daily_update_11212026.zip`) holding later versions of
0.5% of the labels and as many new ones. A label is a function of its number and the
seed: the delta's later versions are the same labels, one version on.
"""

from __future__ import annotations

import io
import random
import re
import uuid
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from lxml import etree

from bench import drug_vocabulary
from bench.corpus import TextModel
from extract.dailymed.spl import V3, parse_spl
from medmirror.settings import PROJECT_DIR, SAMPLES_DIR

NDC_SYSTEM = "2.16.840.1.113883.6.69"
UNII_SYSTEM = "2.16.840.1.113883.4.9"
PRODUCT_DATA = "48780-1"
PER_LABEL_ZIP = (
    PROJECT_DIR / "tests/fixtures/dailymed/spl_zip_1b5e2860-6855-4a65-8bbc-e064172a1adf_1.zip"
)
# The real labels used as templates: (file, brand words to replace, weight). Prescription
# labels are a third of DailyMed's human labels, OTC labels most of the rest.
TEMPLATES = {
    "spl_humira_20130930.xml": (("Humira",), 1),
    "spl_lipitor_orig_20140113.xml": (("Lipitor",), 1),
    "spl_lipitor_repack_20120229.xml": (("Lipitor",), 1),
    "spl_no_title_20100728.xml": ((), 1),
    "spl_otc_cough_20110426.xml": (("Triaminic",), 4),
    "rogaine": (("Rogaine",), 4),
}
FIRST_DAY = date(2006, 1, 1)
DAYS = (date(2026, 10, 31) - FIRST_DAY).days
DELTA_DAY = date(2026, 11, 21)
SYLLABLES = "ba be bi bo cor da de di do fa fe fi lo ma me mi na ne ni no ra re ri ro sa se ta te ti to va ve vi xa ze zo".split()  # noqa: E501
ENDINGS = ["", "x", "n", "l", "r", "ra", "rin", "lex", "tor", "vir", "zol", "dex", "quil"]


def _v3(name: str) -> str:
    return f"{{{V3}}}{name}"


@dataclass
class Template:
    """A real label parsed once, with the places each generated label changes."""

    name: str
    tree: etree._ElementTree
    folder: str  # prescription or otc
    weight: int
    document_id: etree._Element
    set_id: etree._Element
    version: etree._Element
    effective_time: etree._Element
    labeler_name: etree._Element | None
    labeler_id: etree._Element | None
    own_labeler: str  # the template's own NDC labeler segment
    ndc_codes: list[tuple[etree._Element, str]]
    unii_codes: list[tuple[etree._Element, str]]
    moieties: list[str]  # the template's active moiety names, upper case
    ingredient_uniis: dict[str, str]  # active ingredient UNII -> its name
    names: re.Pattern[str]  # every brand and moiety name, to replace in texts
    brands: frozenset[str]
    texts: list[tuple[etree._Element, str, str]]  # (element, "text"/"tail", original)
    paragraphs: list[tuple[etree._Element, int, str]]  # plain paragraphs: words, original
    droppable: list[tuple[etree._Element, etree._Element]]  # (parent, component)
    moiety_uniis: dict[str, str] = field(default_factory=dict)  # moiety UNII -> name


def _template(name: str, content: bytes, brands: tuple[str, ...], weight: int) -> Template:
    record = parse_spl(content, where=name)
    # parsed as a tree: the processing instruction before the root (the stylesheet) stays
    tree = etree.parse(io.BytesIO(content))
    root = tree.getroot()
    products = record.get("products", [])
    parts = [part for product in products for part in product.get("parts", [])]
    actives = [
        ingredient
        for product in products + parts
        for ingredient in product.get("active_ingredients", [])
    ]
    moiety_uniis = {
        moiety["unii"]: moiety["name"].upper()
        for ingredient in actives
        for moiety in ingredient.get("active_moieties", [])
        if moiety.get("unii")
    }
    ingredient_uniis = {
        ingredient["unii"]: ingredient["name"].upper()
        for ingredient in actives
        if ingredient.get("unii") and ingredient["unii"] not in moiety_uniis
    }
    moieties = sorted(set(moiety_uniis.values()))
    ndc_codes = [
        (code, code.get("code"))
        for code in root.iter(_v3("code"))
        if code.get("codeSystem") == NDC_SYSTEM and code.get("code")
    ]
    unii_codes = [
        (code, code.get("code"))
        for code in root.iter(_v3("code"))
        if code.get("codeSystem") == UNII_SYSTEM
        and (code.get("code") in moiety_uniis or code.get("code") in ingredient_uniis)
    ]
    own = [
        product["ndc_product_code"].split("-")[0]
        for product in products
        if product.get("ndc_product_code")
    ]
    words = sorted({*brands, *moieties}, key=len, reverse=True)
    names = re.compile(r"\b(" + "|".join(re.escape(word) for word in words) + r")\b", re.I)
    texts = []
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        for where in ("text", "tail"):
            value = getattr(element, where)
            if value and names.search(value):
                texts.append((element, where, value))
    paragraphs = [
        (paragraph, len(paragraph.text.split()), paragraph.text)
        for paragraph in root.iter(_v3("paragraph"))
        if paragraph.text and not len(paragraph) and len(paragraph.text.split()) >= 12
    ]
    body = root.find(f"{_v3('component')}/{_v3('structuredBody')}")
    components = body.findall(_v3("component")) if body is not None else []
    droppable = [
        (body, component)
        for component in components[2:]
        if component.find(f"{_v3('section')}/{_v3('code')}") is None
        or component.find(f"{_v3('section')}/{_v3('code')}").get("code") != PRODUCT_DATA
    ]
    organization = root.find(
        f"{_v3('author')}/{_v3('assignedEntity')}/{_v3('representedOrganization')}"
    )
    kind = record["document_type"]["code"]
    return Template(
        name=name,
        tree=tree,
        folder="otc" if kind == "34390-5" else "prescription",
        weight=weight,
        document_id=root.find(_v3("id")),
        set_id=root.find(_v3("setId")),
        version=root.find(_v3("versionNumber")),
        effective_time=root.find(_v3("effectiveTime")),
        labeler_name=organization.find(_v3("name")) if organization is not None else None,
        labeler_id=organization.find(_v3("id")) if organization is not None else None,
        own_labeler=max(set(own), key=own.count) if own else "",
        ndc_codes=ndc_codes,
        unii_codes=unii_codes,
        moieties=moieties,
        ingredient_uniis=ingredient_uniis,
        names=names,
        brands=frozenset(brand.upper() for brand in brands),
        texts=texts,
        paragraphs=paragraphs,
        droppable=droppable,
        moiety_uniis=moiety_uniis,
    )


def templates() -> list[Template]:
    found = []
    for name, (brands, weight) in TEMPLATES.items():
        if name == "rogaine":
            with zipfile.ZipFile(PER_LABEL_ZIP) as archive:
                xml = next(info for info in archive.infolist() if info.filename.endswith(".xml"))
                content = archive.read(xml)
        else:
            content = (SAMPLES_DIR / "dailymed" / name).read_bytes()
        found.append(_template(name, content, brands, weight))
    return found


def _styled(original: str, new: str) -> str:
    if original.isupper():
        return new.upper()
    if original[:1].isupper():
        return " ".join(word.capitalize() for word in new.split())
    return new.lower()


@dataclass(frozen=True)
class Label:
    set_id: str
    document_id: str
    version: int
    effective: date
    folder: str
    xml: bytes


class LabelGenerator:
    def __init__(self, seed: int = 7) -> None:
        self.seed = seed
        self.templates = templates()
        self.weights = [template.weight for template in self.templates]
        self.text = TextModel(
            (text for template in self.templates for _, _, text in template.paragraphs),
            seed=seed,
        )
        self.moieties = drug_vocabulary.moieties()
        self.labelers = drug_vocabulary.labelers()

    def _random(self, *key: object) -> random.Random:
        return random.Random("-".join(str(part) for part in (self.seed, *key)))

    def _labeler(self, code: str) -> tuple[str, str]:
        """The labeler a labeler code belongs to (always the same one), and its DUNS."""
        rand = self._random("labeler", code)
        return self.labelers.pick(rand), f"{rand.randrange(10**8, 10**9)}"

    def label(self, number: int, later: int = 0) -> Label:
        """Label `number`; `later` versions after its first (the delta's new versions)."""
        rand = self._random("label", number)
        template = rand.choices(self.templates, weights=self.weights)[0]
        set_id = str(uuid.UUID(int=rand.getrandbits(128), version=4))
        document_id = str(
            uuid.UUID(int=self._random("doc", number, later).getrandbits(128), version=4)
        )
        version = rand.randint(1, 30) + later
        effective = FIRST_DAY + timedelta(days=rand.randrange(DAYS))
        if later:
            effective = max(effective + timedelta(days=1), DELTA_DAY)
        template.document_id.set("root", document_id)
        template.set_id.set("root", set_id)
        template.version.set("value", str(version))
        template.effective_time.set("value", f"{effective:%Y%m%d}")

        # NDCs: a labeler segment and a product segment unique to this label.
        segments: dict[str, str] = {}
        labeler_code = ""
        for element, original in template.ndc_codes:
            labeler, product, *package = original.split("-")
            key = f"{labeler}-{product}"
            if key not in segments:
                own = labeler == template.own_labeler
                owner = number if own else rand.randrange(number + 1)  # a source: another label
                unique = owner * 10 + len(segments)
                # 50 labels per labeler code (500 product segments): a labeler code for
                # every 50 labels of a layout, up to 450,000 labels
                capacity = min(10 ** len(product), 500)
                block = unique // capacity
                # a range of labeler codes per NDC layout (4-4-2, 5-3-2, 5-4-1): no two
                # layouts' codes meet in the 11-digit form
                base = 1000 if len(labeler) == 4 else 10000 if len(product) == 3 else 50000
                code = f"{base + block:0{len(labeler)}d}"
                segments[key] = f"{code}-{unique % capacity:0{len(product)}d}"
                if own and not labeler_code:
                    labeler_code = code
            element.set("code", "-".join([segments[key], *package]))
        if template.labeler_name is not None and labeler_code:
            name, duns = self._labeler(labeler_code)
            template.labeler_name.text = name
            if template.labeler_id is not None:
                template.labeler_id.set("extension", duns)

        # Drugs: each moiety another one, the brand a made-up name or the generic name.
        chosen: list[str] = []
        while len(chosen) < len(template.moieties):
            moiety = self.moieties.pick(rand)
            if moiety not in chosen:
                chosen.append(moiety)
        renamed = dict(zip(template.moieties, chosen, strict=True))
        brand = (
            "".join(rand.choice(SYLLABLES) for _ in range(rand.randint(2, 3)))
            + rand.choice(ENDINGS)
            if rand.random() < 0.5
            else chosen[0]
        )

        def replace(match: re.Match[str]) -> str:
            word = match.group(0)
            upper = word.upper()
            new = brand if upper in template.brands else renamed.get(upper, word)
            return _styled(word, new)

        for element, where, original in template.texts:
            setattr(element, where, template.names.sub(replace, original))
        for element, original in template.unii_codes:
            if original in template.moiety_uniis:
                new = drug_vocabulary.generated_unii(renamed[template.moiety_uniis[original]])
            else:
                ingredient = template.names.sub(replace, template.ingredient_uniis[original])
                new = drug_vocabulary.generated_unii(ingredient)
            element.set("code", new)
        for paragraph, words, original in template.paragraphs:
            if rand.random() < 1 / 3:
                paragraph.text = self.text.text(words, rand=rand)
            else:  # what an earlier label wrote here goes
                paragraph.text = template.names.sub(replace, original)
        dropped = [
            (parent, parent.index(component), component)
            for parent, component in template.droppable
            if rand.random() < 0.15
        ]
        for parent, _, component in dropped:
            parent.remove(component)
        try:
            xml = etree.tostring(template.tree, xml_declaration=True, encoding="UTF-8")
        finally:
            for parent, index, component in reversed(dropped):
                parent.insert(index, component)
        return Label(set_id, document_id, version, effective, template.folder, xml)

    def labels(self, count: int, first: int = 0) -> Iterator[Label]:
        for number in range(first, first + count):
            yield self.label(number)


def per_label_zip(label: Label) -> tuple[str, bytes]:
    """`YYYYMMDD_<set id>.zip` holding `<document id>.xml`, as DailyMed's releases do."""
    buffer = io.BytesIO()
    when = (label.effective.year, label.effective.month, label.effective.day, 0, 0, 0)
    with zipfile.ZipFile(buffer, "w") as archive:
        info = zipfile.ZipInfo(f"{label.document_id}.xml", date_time=when)
        info.compress_type = zipfile.ZIP_DEFLATED
        archive.writestr(info, label.xml, compresslevel=1)
    return f"{label.effective:%Y%m%d}_{label.set_id}.zip", buffer.getvalue()


class _Releases:
    """Release zips by kind (prescription, OTC), a new part every `per_part` labels."""

    KINDS = {"prescription": "rx", "otc": "otc"}

    def __init__(self, folder: Path, per_part: int, name: str | None = None) -> None:
        self.folder = folder
        self.per_part = per_part
        self.name = name  # one zip for every kind (an update file)
        self.open: dict[str, tuple[zipfile.ZipFile, int, int]] = {}

    def add(self, label: Label) -> None:
        key = "all" if self.name else label.folder
        archive, part, held = self.open.get(key, (None, 0, 0))
        if archive is None or held == self.per_part:
            if archive is not None:
                archive.close()
            part += 1
            file = self.name or f"dm_spl_release_human_{self.KINDS[label.folder]}_part{part}.zip"
            archive = zipfile.ZipFile(
                self.folder / file, "w", zipfile.ZIP_DEFLATED, compresslevel=1
            )
            held = 0
        inner, content = per_label_zip(label)
        archive.writestr(f"{label.folder}/{inner}", content)
        self.open[key] = (archive, part, held + 1)

    def close(self) -> None:
        for archive, _, _ in self.open.values():
            archive.close()


INDEXING_SAMPLE = SAMPLES_DIR / "dailymed" / "spl_indexing_pharmclass_methoxsalen.xml"


def write_indexing_file(folder: Path) -> None:
    """DailyMed's pharmacologic class indexing download, here holding the one real
    indexing SPL we have (methoxsalen), unchanged, in its per-SPL zip."""
    content = INDEXING_SAMPLE.read_bytes()
    set_id = etree.fromstring(content).find(_v3("setId")).get("root")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as inner:
        inner.writestr(f"{set_id}.xml", content)
    with zipfile.ZipFile(
        folder / "pharmacologic_class_indexing_spl_files.zip", "w", zipfile.ZIP_DEFLATED
    ) as archive:
        archive.writestr(f"20101101_{set_id}.zip", buffer.getvalue())


def write_release(labels: Iterator[Label], folder: Path, per_part: int = 5_000) -> int:
    """Release zips of per-label zips in `folder` (rx and OTC parts of `per_part` labels),
    and the pharmacologic class indexing file."""
    folder.mkdir(parents=True, exist_ok=True)
    write_indexing_file(folder)
    releases = _Releases(folder, per_part)
    written = 0
    try:
        for label in labels:
            releases.add(label)
            written += 1
    finally:
        releases.close()
    return written


def delta_labels(generator: LabelGenerator, labels: int, share: float = 0.01) -> Iterator[Label]:
    """Later versions of `share / 2` of the `labels` first labels, and as many new ones."""
    half = max(1, int(labels * share / 2))
    step = max(1, labels // half)
    for number in range(0, labels, step)[:half]:
        yield generator.label(number, later=1)
    for number in range(labels, labels + half):
        yield generator.label(number, later=1)


def write_update(labels: Iterator[Label], folder: Path) -> int:
    """One DailyMed update zip (`dm_spl_daily_update_MMDDYYYY.zip`) of `labels`."""
    folder.mkdir(parents=True, exist_ok=True)
    releases = _Releases(folder, per_part=10**9, name=f"dm_spl_daily_update_{DELTA_DAY:%m%d%Y}.zip")
    written = 0
    try:
        for label in labels:
            releases.add(label)
            written += 1
    finally:
        releases.close()
    return written
