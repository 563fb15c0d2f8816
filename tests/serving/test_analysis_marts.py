"""The NDC, drug-class and name analyses (models/marts/analysis) on the demo's real
DailyMed, openFDA and Orange Book samples, and the descriptions dbt persists where BI
tools look (table and column comments)."""

from __future__ import annotations

from serving.catalog import marts
from tests.serving.conftest import analyst_rows


def test_ndc_products_and_labelers(demo_warehouse):
    products = {
        row["ndc_product_code"]: row
        for row in analyst_rows(demo_warehouse, "select * from ndc_products")
    }

    assert len(products) == 13
    lipitor = products["0071-0155"]
    assert (lipitor["labeler_code"], lipitor["ndc_format"], lipitor["package_count"]) == (
        "0071",
        "4-4-2",
        5,
    )
    assert lipitor["product_type"] == "HUMAN PRESCRIPTION DRUG"  # from the DailyMed label
    assert lipitor["label_set_ids"] == ["c6e131fe-e7df-4876-83f7-9156fc4e8228"]
    # PD-Rx repackages Lipitor under its own 5-3-2 NDC.
    repackaged = products["55289-800"]
    assert (repackaged["ndc_format"], repackaged["is_repackaged"]) == ("5-3-2", True)
    # openFDA's NDC directory names the type of the methoxsalen listings.
    assert products["68682-066"]["product_type"] == "HUMAN PRESCRIPTION DRUG"
    assert products["0067-6344"]["product_type"] == "HUMAN OTC DRUG"
    assert all(row["is_standard_format"] for row in products.values())
    assert not any(row["is_in_several_labels"] for row in products.values())

    labelers = {
        row["labeler_code"]: row
        for row in analyst_rows(demo_warehouse, "select * from ndc_labelers")
    }
    assert set(labelers) == {"0067", "0071", "0074", "55289", "67046", "68682"}
    pfizer = labelers["0071"]
    assert (pfizer["labeler_name"], pfizer["product_count"], pfizer["package_count"]) == (
        "Parke-Davis Div of Pfizer Inc",
        4,
        19,
    )
    assert (pfizer["packages_per_product"], pfizer["max_packages_per_product"]) == (4.75, 5)
    assert pfizer["ndc_formats"] == ["4-4-2"]
    assert labelers["68682"]["repackaged_products"] == 0


def test_pharmacologic_classes_and_classes_per_drug(demo_warehouse):
    classes = analyst_rows(
        demo_warehouse,
        "select pharmacologic_class_id, class_name, drug_count, generic_names, sources "
        "from pharmacologic_classes order by 1",
    )
    # FDA's indexing SPL classes methoxsalen (the demo's only indexed drug).
    assert [row["pharmacologic_class_id"] for row in classes] == [
        "CS:N0000007909",
        "EPC:N0000175879",
        "EPC:N0000175984",
        "MoA:N0000010217",
        "PE:N0000009801",
    ]
    assert {tuple(row["generic_names"]) for row in classes} == {("methoxsalen",)}
    counts = analyst_rows(
        demo_warehouse,
        "select epc_class_count, moa_class_count, pe_class_count, cs_class_count, "
        "class_count, shared_class_count from drug_class_counts where generic_name = 'methoxsalen'",
    )
    assert counts == [
        {
            "epc_class_count": 2,
            "moa_class_count": 1,
            "pe_class_count": 1,
            "cs_class_count": 1,
            "class_count": 5,
            "shared_class_count": 0,
        }
    ]
    (drugs,) = analyst_rows(demo_warehouse, "select count(*) as n from drug_class_counts")
    assert drugs["n"] == 6  # every drug, classed or not


def test_drug_names_brands_ingredients_and_endings(demo_warehouse):
    names = {
        row["drug_name_id"]: row for row in analyst_rows(demo_warehouse, "select * from drug_names")
    }

    lipitor = names["brand:lipitor"]
    assert lipitor["ingredient_names"] == ["atorvastatin"]
    assert lipitor["labeler_names"] == [
        "PD-Rx Pharmaceuticals, Inc.",
        "Parke-Davis Div of Pfizer Inc",
    ]
    assert (lipitor["name_length"], lipitor["suffix_3"], lipitor["suffix_4"]) == (7, "tor", "itor")
    assert names["ingredient:atorvastatin"]["brand_names"] == ["lipitor"]
    # The combination's brand has two ingredients; each ingredient counts that brand.
    triaminic = next(row for key, row in names.items() if key.startswith("brand:triaminic"))
    assert triaminic["ingredient_count"] == 2
    assert triaminic["word_count"] == 6
    assert names["ingredient:diphenhydramine"]["brand_count"] == 1
    assert names["ingredient:haloperidol"]["brand_count"] == 0
    assert not any(row["is_shared_brand_name"] for row in names.values())
    assert names["ingredient:adalimumab"]["suffix_3"] == "mab"

    (ine,) = analyst_rows(
        demo_warehouse,
        "select * from drug_name_suffixes where drug_name_suffix_id = 'ingredient:ine'",
    )
    assert (ine["name_count"], ine["drug_count"]) == (2, 1)
    assert ine["example_names"] == ["diphenhydramine", "phenylephrine"]


def test_descriptions_are_comments_in_the_database(demo_warehouse):
    comments = analyst_rows(
        demo_warehouse,
        "select c.relname as mart, obj_description(c.oid, 'pg_class') as description "
        "from pg_class as c join pg_namespace as n on n.oid = c.relnamespace "
        "where n.nspname = 'marts' and c.relkind = 'r'",
    )
    columns = analyst_rows(
        demo_warehouse,
        "select c.relname as mart, a.attname as column, col_description(c.oid, a.attnum) as text "
        "from pg_class as c join pg_namespace as n on n.oid = c.relnamespace "
        "join pg_attribute as a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped "
        "where n.nspname = 'marts' and c.relkind = 'r'",
    )
    documented = marts()

    assert len(comments) >= 30
    for row in comments:
        assert " ".join((row["description"] or "").split()) == documented[row["mart"]].description
    for row in columns:
        described = documented[row["mart"]].described.get(row["column"])
        assert described, f"{row['mart']}.{row['column']} has no description in dbt"
        assert " ".join((row["text"] or "").split()) == described, f"{row['mart']}.{row['column']}"
