"""openFDA NDC directory at scale: a bulk partition of generated products, from real records.

    python -m bench.generate openfda-ndc --products 130000 --folder bench/out/openfda-ndc-130k

The skeleton of every product is the one real openFDA NDC record we have (FDA's
documentation example, Methoxsalen 68682-065: `tests/fixtures/openfda/
docs_examples_drug_ndc.json`); its values come from the 21,478 real products of FDA's NDC
"unfinished drugs" files (`bench.drug_vocabulary`), one after another (product n is row
n modulo their number): the real nonproprietary name, substances and strengths (as
openFDA writes them, "10 mg/1"), dosage form, labeler, marketing dates and package
descriptions. Per product:

- a new product NDC (5-4 layout: the real labeler code moved to 70000 up, one code per
  real labeler code and round through the real rows, none of them real; the real
  product segment) and package NDCs (the real package segments), new SPL and set ids;
- 85% finished products (the directory's bulk of human prescription and OTC drugs:
  product type, a marketing category with its application number, a route by dosage
  form, a made-up brand name or the generic name), 15% unfinished as the real row says
  (`finished: false`, its own product type and category);
- `openfda.unii` the moieties' UNIIs (`generated_unii`, the real ones for the samples'
  moieties), `manufacturer_name` the labeler; the methoxsalen pharmacologic classes,
  NUIs, UPC and RxCUI are left out (openFDA leaves out what it could not harmonise);
- `listing_expiration_date` Dec 31 of 2024-2027 (the cursor).

The output is what openFDA's download page serves: `drug-ndc-0001-of-0001.json.zip`
holding one `{meta, results}` document (openFDA ships the NDC directory as one partition).
"""

from __future__ import annotations

import copy
import json
import random
import uuid
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bench import drug_vocabulary
from medmirror.settings import PROJECT_DIR

DOCS_EXAMPLE = PROJECT_DIR / "tests" / "fixtures" / "openfda" / "docs_examples_drug_ndc.json"
FIRST_LABELER = 70_000
FINISHED = 0.85
# What finished products are, with shares of the directory: product type, marketing
# category, application number prefix (openFDA's documented values).
FINISHED_KINDS = [
    ("HUMAN PRESCRIPTION DRUG", "ANDA", "ANDA", 40),
    ("HUMAN PRESCRIPTION DRUG", "NDA", "NDA", 10),
    ("HUMAN PRESCRIPTION DRUG", "NDA AUTHORIZED GENERIC", "NDA", 3),
    ("HUMAN PRESCRIPTION DRUG", "BLA", "BLA", 3),
    ("HUMAN PRESCRIPTION DRUG", "UNAPPROVED DRUG OTHER", "", 4),
    ("HUMAN OTC DRUG", "OTC MONOGRAPH NOT FINAL", "part", 20),
    ("HUMAN OTC DRUG", "OTC MONOGRAPH FINAL", "part", 15),
    ("HUMAN OTC DRUG", "UNAPPROVED HOMEOPATHIC", "", 5),
]
ROUTES = [
    (("INJECTION", "INJECTABLE"), "INTRAVENOUS"),
    (("TABLET", "CAPSULE", "SOLUTION", "SYRUP", "SUSPENSION", "POWDER", "GRANULE"), "ORAL"),
    (("CREAM", "OINTMENT", "GEL", "LOTION", "SHAMPOO", "STICK", "PASTE"), "TOPICAL"),
    (("SPRAY", "AEROSOL"), "NASAL"),
    (("DROPS",), "OPHTHALMIC"),
    (("PATCH", "FILM"), "TRANSDERMAL"),
]
SYLLABLES = "ba be bi bo cor da de di do fa fe fi lo ma me mi na ne ni no ra re ri ro sa se ta te ti to va ve vi xa ze zo".split()  # noqa: E501


def documented_record() -> tuple[dict[str, Any], dict[str, Any]]:
    """The real documented NDC record and the real `meta` block."""
    docs = json.loads(DOCS_EXAMPLE.read_text())
    return docs["result"], docs["meta"]["meta"]


def _route(dosage_form: str) -> str:
    for words, route in ROUTES:
        if any(word in dosage_form for word in words):
            return route
    return "ORAL"


class ProductGenerator:
    def __init__(self, seed: int = 7) -> None:
        self.seed = seed
        self.skeleton, self.meta = documented_record()
        self.real = drug_vocabulary.ndc_products()
        codes = sorted({product.product_ndc.split("-")[0] for product in self.real})
        self.labeler_codes = {code: index for index, code in enumerate(codes)}

    def product(self, number: int) -> dict[str, Any]:
        rand = random.Random(f"{self.seed}-ndc-{number}")
        real = self.real[number % len(self.real)]
        record = copy.deepcopy(self.skeleton)
        # the real labeler and product segments, moved to a labeler code of their own for
        # each round through the real rows (a code keeps its labeler; repeated product NDCs
        # with another SPL id stay repeated, as in the directory)
        labeler, product = real.product_ndc.split("-")
        rounds = number // len(self.real)
        code = FIRST_LABELER + rounds * len(self.labeler_codes) + self.labeler_codes[labeler]
        product_ndc = f"{code}-{int(product):04d}"
        spl_id = str(uuid.UUID(int=rand.getrandbits(128), version=4))
        set_id = str(uuid.UUID(int=rand.getrandbits(128), version=4))
        substances = real.substances or (
            drug_vocabulary.Substance(real.nonproprietary_name, "", ""),
        )
        generic = real.nonproprietary_name or substances[0].name.title()
        record.update(
            product_ndc=product_ndc,
            product_id=f"{product_ndc}_{spl_id}",
            spl_id=spl_id,
            generic_name=generic,
            labeler_name=real.labeler,
            active_ingredients=[
                {"strength": f"{s.strength} {s.unit}".strip(), "name": s.name} for s in substances
            ],
            dosage_form=real.dosage_form,
            marketing_start_date=real.start_marketing_date or "20140715",
            listing_expiration_date=f"{rand.randint(2024, 2027)}1231",
        )
        packages = real.packages or (
            (real.product_ndc + "-01", f"1 BOTTLE ({real.product_ndc}-01)"),
        )
        record["packaging"] = [
            {
                "marketing_start_date": record["marketing_start_date"],
                "package_ndc": f"{product_ndc}-{code.rsplit('-', 1)[-1]}",
                "description": description.replace(
                    code, f"{product_ndc}-{code.rsplit('-', 1)[-1]}"
                ),
                "sample": False,
            }
            for code, description in packages
        ]
        if real.end_marketing_date:
            record["marketing_end_date"] = real.end_marketing_date
        else:
            record.pop("marketing_end_date", None)
        if real.dea_schedule:
            record["dea_schedule"] = real.dea_schedule
        if rand.random() < FINISHED:
            kind, category, prefix, _ = rand.choices(
                FINISHED_KINDS, weights=[kind[3] for kind in FINISHED_KINDS]
            )[0]
            brand = (
                "".join(rand.choice(SYLLABLES) for _ in range(rand.randint(2, 3))).capitalize()
                if rand.random() < 0.5
                else generic
            )
            record.update(
                finished=True,
                product_type=kind,
                marketing_category=category,
                brand_name=brand,
                brand_name_base=brand,
                route=[_route(real.dosage_form)],
            )
            if prefix == "part":
                record["application_number"] = f"part{rand.choice([341, 343, 346, 347, 358])}"
            elif prefix:
                record["application_number"] = f"{prefix}{rand.randrange(10**5, 10**6):06d}"
            else:
                record.pop("application_number", None)
        else:  # an unfinished product, as the real row says
            record.update(
                finished=False,
                product_type=real.product_type,
                marketing_category=real.marketing_category,
            )
            for key in ("brand_name", "brand_name_base", "route", "application_number"):
                record.pop(key, None)
        uniis = sorted(
            {drug_vocabulary.generated_unii(drug_vocabulary.moiety_of(s.name)) for s in substances}
        )
        record["openfda"] = {
            "is_original_packager": [True],
            "spl_set_id": [set_id],
            "manufacturer_name": [real.labeler],
            "unii": uniis,
        }
        record.pop("pharm_class", None)
        return record

    def products(self, count: int, first: int = 0) -> Iterator[dict[str, Any]]:
        for number in range(first, first + count):
            yield self.product(number)


def write_partition(generator: ProductGenerator, count: int, folder: Path) -> Path:
    """`drug-ndc-0001-of-0001.json.zip`: one `{meta, results}` document, written record by
    record (the JSON is never held whole in memory)."""
    folder.mkdir(parents=True, exist_ok=True)
    name = "drug-ndc-0001-of-0001.json"
    target = folder / f"{name}.zip"
    meta = copy.deepcopy(generator.meta)
    meta["results"] = {"skip": 0, "limit": count, "total": count}
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        with archive.open(name, "w", force_zip64=True) as out:
            out.write(b'{\n"meta": ' + json.dumps(meta).encode() + b',\n"results": [\n')
            for number, record in enumerate(generator.products(count)):
                if number:
                    out.write(b",\n")
                out.write(json.dumps(record).encode())
            out.write(b"\n]\n}\n")
    return target
