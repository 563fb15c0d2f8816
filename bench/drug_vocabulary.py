"""Real drug names for the drug generators (DailyMed labels, openFDA NDC products).

FDA's NDC "unfinished drugs" files of June 2018 (`bench/data/`, see PROVENANCE.md there):
21,478 real products with their real substances, strengths, dosage forms, marketing
categories, labelers and 35,321 real package descriptions. The generators draw names from
them so that a generated release has as many different drugs and labelers as a real one,
with popular ones common (weights falling with rank, as in the real directory).

Substances have no UNII in these files. An active moiety is the substance name without
its salt and hydrate words (ATORVASTATIN CALCIUM TRIHYDRATE -> ATORVASTATIN), and its UNII
is made up from the name (`generated_unii`: ten characters like FDA's, the same name
always the same code), except the moieties of the real DailyMed samples, which keep
their real UNIIs.
"""

from __future__ import annotations

import bisect
import hashlib
import itertools
import lzma
import random
from collections import Counter
from dataclasses import dataclass
from functools import cache
from pathlib import Path

DATA = Path(__file__).parent / "data"
PRODUCTS = DATA / "ndc_unfinished_2018-06_product.txt.xz"
PACKAGES = DATA / "ndc_unfinished_2018-06_package.txt.xz"
UNII_LETTERS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
# Words that name a salt, ester or hydrate of an active moiety (FDA's SRS naming).
SALT_WORDS = frozenset(
    """ACETATE ANHYDROUS BENZOATE BESYLATE BITARTRATE BROMIDE CALCIUM CARBONATE CHLORIDE
    CITRATE DECANOATE DIHYDRATE DIHYDROCHLORIDE DIPROPIONATE DISODIUM ESTOLATE FUMARATE
    GLUCONATE HCL HEMIHYDRATE HEMIFUMARATE HEPTAHYDRATE HYCLATE HYDROBROMIDE HYDROCHLORIDE
    HYDRATE LACTATE MAGNESIUM MALEATE MESYLATE MONOHYDRATE NITRATE OXALATE PAMOATE PHOSPHATE
    POTASSIUM PROPIONATE SESQUIHYDRATE SODIUM SUCCINATE SULFATE TARTRATE TOSYLATE
    TRIHYDRATE VALERATE""".split()
)
# The active moieties of the real DailyMed samples, with their real UNIIs.
REAL_MOIETIES = {
    "ATORVASTATIN": "A0JWA85V8F",
    "ADALIMUMAB": "FYS6T7F842",
    "HALOPERIDOL": "J6292F8L3D",
    "DIPHENHYDRAMINE": "8GTS82S83M",
    "PHENYLEPHRINE": "1WS297W6MV",
    "MINOXIDIL": "5965120SH1",
    "METHOXSALEN": "U4VJ29L7BQ",
}


@dataclass(frozen=True)
class Substance:
    name: str  # as the NDC file names it: FLUOXETINE HYDROCHLORIDE
    strength: str  # 20
    unit: str  # mg/1


@dataclass(frozen=True)
class NdcProduct:
    """One real row of the unfinished product file, with its real packages."""

    product_id: str
    product_ndc: str
    product_type: str
    nonproprietary_name: str
    dosage_form: str
    start_marketing_date: str
    end_marketing_date: str
    marketing_category: str
    labeler: str
    substances: tuple[Substance, ...]
    dea_schedule: str
    certified_through: str
    packages: tuple[tuple[str, str], ...]  # (package NDC, description)


def _rows(path: Path) -> list[dict[str, str]]:
    # The files are Windows-1252 text with CRLF line ends, tab-separated, a header first.
    lines = lzma.decompress(path.read_bytes()).decode("cp1252").splitlines()
    header = lines[0].split("\t")
    return [dict(zip(header, line.split("\t"), strict=False)) for line in lines[1:] if line]


@cache
def ndc_products() -> tuple[NdcProduct, ...]:
    packages: dict[str, list[tuple[str, str]]] = {}
    for row in _rows(PACKAGES):
        packages.setdefault(row["PRODUCTID"], []).append(
            (row["NDCPACKAGECODE"], row["PACKAGEDESCRIPTION"])
        )
    products = []
    for row in _rows(PRODUCTS):
        names = row["SUBSTANCENAME"].split("; ")
        strengths = row["ACTIVE_NUMERATOR_STRENGTH"].split("; ")
        units = row["ACTIVE_INGRED_UNIT"].split("; ")
        substances = tuple(
            Substance(name.strip(), strength.strip(), unit.strip())
            for name, strength, unit in itertools.zip_longest(names, strengths, units, fillvalue="")
            if name.strip()
        )
        products.append(
            NdcProduct(
                product_id=row["PRODUCTID"],
                product_ndc=row["PRODUCTNDC"],
                product_type=row["PRODUCTTYPENAME"],
                nonproprietary_name=row["NONPROPRIETARYNAME"],
                dosage_form=row["DOSAGEFORMNAME"],
                start_marketing_date=row["STARTMARKETINGDATE"],
                end_marketing_date=row["ENDMARKETINGDATE"],
                marketing_category=row["MARKETINGCATEGORYNAME"],
                labeler=row["LABELERNAME"],
                substances=substances,
                dea_schedule=row["DEASCHEDULE"],
                certified_through=row["LISTING_RECORD_CERTIFIED_THROUGH"],
                packages=tuple(packages.get(row["PRODUCTID"], ())),
            )
        )
    return tuple(products)


def moiety_of(substance: str) -> str:
    """The active moiety's name: the substance without its trailing salt/hydrate words."""
    words = substance.upper().replace(",", " ").split()
    while len(words) > 1 and words[-1] in SALT_WORDS:
        words.pop()
    return " ".join(words)


def generated_unii(name: str) -> str:
    """A made-up UNII for a substance name (ten characters of 0-9A-Z, like FDA's): the same
    name always gives the same code; the real moieties of the samples keep theirs."""
    real = REAL_MOIETIES.get(name.upper())
    if real:
        return real
    number = int.from_bytes(hashlib.sha256(name.upper().encode()).digest()[:8], "big")
    letters = []
    for _ in range(10):
        number, digit = divmod(number, len(UNII_LETTERS))
        letters.append(UNII_LETTERS[digit])
    return "".join(letters)


class Ranked:
    """Values drawn with weights falling with their rank (1 / (rank + 10)): the first are
    common, the long tail rare, as drug and labeler names are in FDA's directories."""

    def __init__(self, values: list[str]) -> None:
        self.values = values
        self.cumulative = list(itertools.accumulate(1 / (rank + 10) for rank in range(len(values))))

    def pick(self, rand: random.Random) -> str:
        point = rand.random() * self.cumulative[-1]
        return self.values[bisect.bisect_right(self.cumulative, point)]


@cache
def moieties() -> Ranked:
    """Active moiety names, the most frequent in the NDC file first (the real samples'
    moieties among them)."""
    counts = Counter(
        moiety_of(substance.name) for product in ndc_products() for substance in product.substances
    )
    for name in REAL_MOIETIES:
        counts[name] += 50
    return Ranked([name for name, _ in counts.most_common()])


@cache
def labelers() -> Ranked:
    counts = Counter(product.labeler for product in ndc_products() if product.labeler)
    return Ranked([name for name, _ in counts.most_common()])
