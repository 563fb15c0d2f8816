"""The drug consolidation marts (drugs, drug_formulations, drug_labels, drug_classes):
real dbt on what the real extracts landed from the real DailyMed SPLs (samples/dailymed),
the openFDA sample partitions, FDA's real Orange Book release, and a constructed openFDA
partition of products known only by ingredient names (tests/fixtures/drugs)."""

from __future__ import annotations

import hashlib
import json
from decimal import Decimal

from flows.dbt_runner import run_dbt
from flows.search import search
from medmirror.settings import SAMPLES_DIR, ConnectionInfo
from tests.conftest import DERIVED, build_models, land_source, query
from tests.extract.test_dailymed import HUMIRA, LIPITOR, LIPITOR_REPACK, OTC
from tests.extract.test_orangebook import RELEASE

NAME_VARIANTS = DERIVED / "drugs" / "derived" / "name_variants"
ATORVASTATIN = "A0JWA85V8F"
COMBINATION = "1WS297W6MV+8GTS82S83M"  # phenylephrine + diphenhydramine
DIPHENHYDRAMINE = "8GTS82S83M"
PHENYLEPHRINE = "1WS297W6MV"
DRUG_MARTS = ("drugs", "drug_classes", "drug_formulations", "drug_labels")
DRUG_SOURCES = ("dailymed", "openfda", "orangebook")  # what `land_drug_samples` lands


def drug_id(ingredient_key: str) -> str:
    return hashlib.md5(ingredient_key.encode()).hexdigest()[:16]


def land_drug_samples(connection: ConnectionInfo, *, orange_book: bool = True) -> None:
    land_source(connection, "dailymed", bulk_location=str(SAMPLES_DIR / "dailymed"))
    land_source(connection, "openfda", bulk_location=str(SAMPLES_DIR / "openfda"))
    if orange_book:
        land_source(connection, "orangebook", bulk_location=str(RELEASE))


def drug(connection: ConnectionInfo, ingredient_key: str, columns: str) -> tuple:
    statement = f"select {columns} from marts.drugs where ingredient_key = %s"  # noqa: S608
    (row,) = query(connection, statement, ingredient_key)
    return row


def dbt_show(connection: ConnectionInfo, sql: str) -> list[tuple]:
    result = run_dbt(["show", "--inline", sql, "--limit", "-1", "--quiet"], connection)
    return [tuple(row) for row in result.result.results[0].agate_table.rows]


def test_drugs_consolidate_the_real_labels_into_one_row_per_ingredient_set(database):
    land_drug_samples(database)
    build_models(database, *DRUG_MARTS, sources=DRUG_SOURCES)
    before = dict(query(database, "select ingredient_key, drug_id from marts.drugs"))

    # More products land (known by ingredient names only): no drug is renamed.
    land_source(database, "openfda", bulk_location=str(NAME_VARIANTS))
    build_models(database, *DRUG_MARTS, sources=["openfda"])  # as its refresh builds them
    after = dict(query(database, "select ingredient_key, drug_id from marts.drugs"))
    assert {key: after[key] for key in before} == before
    # The key is the sorted moiety UNIIs, nothing else.
    assert before[ATORVASTATIN] == drug_id(ATORVASTATIN)
    assert before[COMBINATION] == drug_id(COMBINATION)

    # Primary keys.
    for mart, key in [
        ("drugs", "drug_id"),
        ("drugs", "ingredient_key"),
        ("drug_formulations", "formulation_id"),
        ("drug_labels", "set_id"),
        ("drug_classes", "drug_class_id"),
    ]:
        duplicates = f"select count(*) - count(distinct {key}) from marts.{mart}"  # noqa: S608
        assert query(database, duplicates) == [(0,)], f"{mart}.{key}"

    # Lipitor, its repackager (PD-Rx, "atorvastatin calcium trihydrate") and a generic
    # named "ATORVASTATIN CALCIUM TRIHYDRATE" with a mixed-case brand: one drug.
    assert query(
        database, "select count(*) from marts.drugs where generic_name like '%%atorvastatin%%'"
    ) == [(1,)]
    generic_name, brands, manufacturers, total, formulations, primary = drug(
        database,
        ATORVASTATIN,
        "generic_name, brand_names, manufacturers, total_formulations, formulations, "
        "primary_set_id",
    )
    assert generic_name == "atorvastatin"
    assert brands == ["Lipitor"]  # "Atorvastatin Calcium" is the generic, not a brand
    assert {"Parke-Davis Div of Pfizer Inc", "PD-Rx Pharmaceuticals, Inc."} <= set(manufacturers)
    assert total == 6 == len(formulations)
    by_ndc = {item["ndc_product_code"]: item for item in formulations}
    assert set(by_ndc) == {"0071-0155", "0071-0156", "0071-0157", "0071-0158", "55289-800",
                           "99999-0001"}  # fmt: skip
    lipitor_10 = by_ndc["0071-0155"]
    assert "0071-0155-23" in lipitor_10["ndc_package_codes"]
    assert "00071-0155-23" in lipitor_10["ndc_package_codes_11"]
    assert lipitor_10["ndc_product_code_11"] == "00071-0155"
    assert (lipitor_10["te_code"], lipitor_10["orange_book_product_id"]) == ("AB", "N020702-001")
    assert lipitor_10["labeler_name"] == "Parke-Davis Div of Pfizer Inc"
    repackaged = by_ndc["55289-800"]
    assert repackaged["is_repackaged"] is True
    assert repackaged["ndc_package_codes_11"] == ["55289-0800-30"]
    assert repackaged["orange_book_product_id"] == "N020702-002"  # the 20 mg product
    assert primary == LIPITOR  # the original labeler's label wins
    assert query(
        database,
        "select source_ndc_product_code, source_records from marts.drug_formulations "
        "where formulation_id = '55289-0800'",
    ) == [("0071-0156", [f"dailymed:{LIPITOR_REPACK}#1"])]

    # A combination stays a combination, spelled either way; its ingredient alone is a
    # drug of its own; no phenylephrine-only drug is invented.
    is_combination, ingredient_count, total, names = drug(
        database, COMBINATION, "is_combination, ingredient_count, total_formulations, "
        "(select array_agg(f ->> 'ndc_product_code' order by 1) from jsonb_array_elements("
        "formulations) as f)",
    )  # fmt: skip
    assert (is_combination, ingredient_count, total) == (True, 2, 2)
    assert names == ["0067-6344", "99999-0003"]
    assert drug(database, DIPHENHYDRAMINE, "is_combination, total_formulations") == (False, 1)
    assert query(
        database, "select count(*) from marts.drugs where ingredient_key = %s", PHENYLEPHRINE
    ) == [(0,)]
    assert query(database, "select drug_ids from marts.drug_labels where set_id = %s", OTC) == [
        ([drug_id(COMBINATION)],)
    ]

    # HUMIRA's special populations, from its real label (new format, 8.1 to 8.5).
    (humira,) = query(
        database,
        """
        select pregnancy, pregnancy_category, lactation, pediatric_use,
               pediatric_youngest_age_years, geriatric_use, has_pregnancy, has_lactation,
               has_reproductive_potential, has_pediatric_use, has_geriatric_use,
               boxed_warning is not null, indications, data_sources
        from marts.drugs where ingredient_key = 'FYS6T7F842'
        """,
    )
    assert humira[0].startswith("Pregnancy Category B")
    assert humira[1] == "B"
    assert "human milk" in humira[2]
    assert "juvenile idiopathic arthritis" in humira[3]
    assert humira[4] == 4  # "patients 4 to 17 years of age"
    assert "65 years" in humira[5]
    assert humira[6:12] == (True, True, False, True, True, True)
    assert "Rheumatoid Arthritis" in humira[12]
    assert humira[13] == ["dailymed"]

    # Lipitor: pregnancy is 8.1 with its Teratogenic Effects subsection (category X), not
    # the "4.3 Pregnancy" it repeats under Contraindications.
    pregnancy, category, youngest = drug(
        database, ATORVASTATIN, "pregnancy, pregnancy_category, pediatric_youngest_age_years"
    )
    assert pregnancy.startswith("Pregnancy Category X")
    assert "Women who are pregnant or may become pregnant" not in pregnancy
    assert (category, youngest) == ("X", 10)

    # openFDA is the second source: methoxsalen has no DailyMed label, its text and
    # classes come from openFDA and FDA's class-indexing SPL.
    pregnancy, epc, moa, rxcuis, sources, te = drug(
        database,
        "U4VJ29L7BQ",
        "pregnancy, epc_classes, moa_classes, rxcuis, data_sources, "
        "formulations -> 0 ->> 'te_code'",
    )
    assert "Constructed example text for Methoxsalen" in pregnancy
    assert epc == ["Photoactivated Radical Generator", "Psoralen"]
    assert moa == ["Photoabsorption"]
    assert rxcuis == ["1812434"]
    assert sources == ["openfda", "orangebook"]
    assert te == "AB"
    assert query(
        database,
        "select class_type, class_name, sources from marts.drug_classes "
        "where drug_id = %s and class_type = 'EPC' order by class_name",
        drug_id("U4VJ29L7BQ"),
    ) == [
        ("EPC", "Photoactivated Radical Generator", ["dailymed", "openfda"]),
        ("EPC", "Psoralen", ["dailymed", "openfda"]),
    ]

    # Every formulation traces to a landed record, and every landed product is a
    # formulation (the one without ingredients too, linked to no drug).
    records = [
        record
        for (records,) in query(database, "select source_records from marts.drug_formulations")
        for record in records
    ]
    assert len(records) == len(set(records))
    landed_dailymed = query(
        database,
        """
        with current as (
            select distinct on (set_id) set_id, record
            from raw_dailymed.labels order by set_id, version desc, _dlt_load_id desc
        )
        select 'dailymed:' || set_id || '#' || position
        from current
        cross join lateral jsonb_array_elements(record -> 'products')
            with ordinality as product (item, position)
        """,
    )
    landed_openfda = query(
        database, "select distinct 'openfda:' || product_id from raw_openfda.ndc"
    )
    # Each product NDC's current listing (a product relisted under a new id replaces it).
    current_openfda = query(
        database,
        "select 'openfda:' || product_id from intermediate.int_openfda_ndc_current",
    )
    assert set(records) == {row for (row,) in landed_dailymed + current_openfda}
    assert {row for (row,) in current_openfda} <= {row for (row,) in landed_openfda}
    assert query(
        database,
        "select formulation_id, drug_id from marts.drug_formulations where drug_id is null",
    ) == [("99999-0004", None)]

    # Search: a brand finds its drug; the index is GIN.
    hits = search(database, "drugs", "lipitor", ["drug_id", "generic_name"])
    assert [hit["drug_id"] for hit in hits] == [drug_id(ATORVASTATIN)]
    hits = search(database, "drugs", "psoralen", ["drug_id", "generic_name"])
    assert [hit["generic_name"] for hit in hits] == ["methoxsalen"]
    indexes = query(
        database,
        "select indexdef from pg_indexes where schemaname = 'marts' and tablename = 'drugs'",
    )
    assert any("USING gin (search_vector" in definition for (definition,) in indexes)

    # drug_labels keeps every DailyMed section and leaves out the class-indexing SPL.
    assert query(
        database,
        "select section_count, jsonb_array_length(sections), sources from marts.drug_labels "
        "where set_id = %s",
        HUMIRA,
    ) == [(73, 73, ["dailymed"])]
    assert query(
        database, "select count(*) from marts.drug_labels where set_id like 'ea1a6225%%'"
    ) == [(0,)]
    confidence = dict(query(database, "select ingredient_key, confidence_score from marts.drugs"))
    # HUMIRA: UNII 0.30 + DailyMed 0.20 + formulations 0.15 + all five clinical fields 0.15;
    # one source only and no RxNorm id (RxNav not landed).
    assert confidence["FYS6T7F842"] == Decimal("0.80")
    assert confidence["name:EXAMPLE GENERIC"] == Decimal("0.15")  # an openFDA label by name only
    assert json.loads(json.dumps(formulations))  # the formulations array is plain JSON


def test_names_and_ndcs_normalise_through_the_macros(database):
    cases = [
        ("atorvastatin calcium", "ATORVASTATIN"),
        ("Atorvastatin Calcium Trihydrate", "ATORVASTATIN"),
        ("ATORVASTATIN", "ATORVASTATIN"),
        ("atorvastatin calcium 10 mg film coated tablets", "ATORVASTATIN"),
        ("Diphenhydramine HCl", "DIPHENHYDRAMINE"),
        ("DIPHENHYDRAMINE HYDROCHLORIDE", "DIPHENHYDRAMINE"),
        ("sodium chloride", "SODIUM CHLORIDE"),  # a salt word first is the drug itself
    ]
    values = ", ".join(f"('{name}')" for name, _ in cases)
    macro = "{{ normalised_drug_name('name') }}"
    statement = f"select name, {macro} from (values {values}) as cases (name)"  # noqa: S608
    normalised = dbt_show(database, statement)
    assert normalised == cases

    ndcs = [
        ("0071-0155-23", "00071-0155-23"),  # 4-4-2
        ("12345-678-90", "12345-0678-90"),  # 5-3-2
        ("12345-6789-1", "12345-6789-01"),  # 5-4-1
        ("55289-0800-30", "55289-0800-30"),  # already 5-4-2
        ("00071015523", "00071-0155-23"),  # 11 digits
        ("0071015523", None),  # 10 digits without hyphens: ambiguous
        ("0071-0155", "00071-0155"),  # a product code
        ("55289-800", "55289-0800"),
    ]
    values = ", ".join(f"('{ndc}')" for ndc, _ in ndcs)
    statement = f"select ndc, {{{{ ndc_11_digit('ndc') }}}} from (values {values}) as cases (ndc)"  # noqa: S608
    assert dbt_show(database, statement) == ndcs
