"""The drugs marts: real dbt on what the real extract landed from FDA's real Orange Book
release (samples/orangebook/orange_book_2024-05.zip)."""

from __future__ import annotations

from datetime import date

from flows.search import search
from tests.conftest import query


def test_marts_hold_the_release_one_row_per_key_and_search_finds_products(samples_database):
    database = samples_database("orangebook")  # the real release landed and built

    assert query(
        database,
        "select count(*), count(distinct (appl_type, appl_no, product_no)), "
        "count(distinct product_id) from marts.orange_book_products",
    ) == [(44949, 44949, 44949)]
    # Every patent listing is its own row (a patent once per use code) ...
    assert query(database, "select count(*) from marts.orange_book_patents") == [(18578,)]
    # ... and the 15 exclusivity rows the file lists twice are kept once.
    assert query(database, "select count(*) from marts.orange_book_exclusivities") == [(2074,)]

    assert query(
        database,
        "select marketing_status, count(*) from marts.orange_book_products group by 1 order by 1",
    ) == [("DISCN", 21027), ("OTC", 764), ("RX", 23158)]
    assert query(
        database,
        "select count(*) from marts.orange_book_products "
        "where is_approved_before_1982 and approval_date is null",
    ) == [(5870,)]
    # Every value of the real release has the shape the data-quality checks count (each
    # checked in Python against the files: no exception in 2024-05).
    assert query(
        database,
        "select count(*), count(*) filter (where rows_valid = rows_complete), "
        "max(rows_checked) from ops.orangebook_data_quality",
    ) == [(6, 6, 44949)]

    (uceris,) = query(
        database,
        """
        select trade_name, ingredient, dosage_form, route, strength, applicant_full_name,
               te_code, approval_date, is_reference_listed_drug, is_reference_standard,
               marketing_status
        from marts.orange_book_products where product_id = 'N205613-001'
        """,
    )
    assert uceris == (
        "UCERIS",
        "BUDESONIDE",
        "AEROSOL, FOAM",
        "RECTAL",
        "2MG/ACTUATION",
        "SALIX PHARMACEUTICALS INC",
        "AB",
        date(2014, 10, 7),
        True,
        True,
        "RX",
    )
    # AMZEEQ: 12 patents, the last expiring on 2037-09-08, as the patents mart lists them.
    (amzeeq,) = query(
        database,
        """
        select products.patent_count, products.last_patent_expire_date,
               (select count(distinct replace(patent_no, '*PED', ''))
                from marts.orange_book_patents as patents
                where patents.product_id = products.product_id)
        from marts.orange_book_products as products where product_id = 'N212379-001'
        """,
    )
    assert amzeeq == (12, date(2037, 9, 8), 12)
    # Patent 8324189 is listed for three use codes and with its pediatric exclusivity: four
    # listings, one patent, expiring with the exclusivity.
    assert query(
        database,
        "select count(*) from marts.orange_book_patents where product_id = 'N021223-002'",
    ) == [(4,)]
    assert query(
        database,
        "select patent_count, patent_numbers, last_patent_expire_date "
        "from marts.orange_book_products where product_id = 'N021223-002'",
    ) == [(1, ["8324189"], date(2025, 11, 29))]
    # N207500-001 holds 15 exclusivity rows, three of them listed twice.
    assert query(
        database,
        "select exclusivity_count, exclusivity_codes, last_exclusivity_date "
        "from marts.orange_book_products where product_id = 'N207500-001'",
    ) == [
        (
            12,
            ["GAIN", "NCE", "NPP", "ODE-305", "ODE-454", "ODE-458", "ODE-90", "PED"],
            date(2031, 6, 8),
        )
    ]

    # A brand name: only in trade_name. An ingredient: found in the generics' names too.
    lipitor = search(database, "orange_book_products", "lipitor", ["product_id", "trade_name"])
    assert sorted(hit["product_id"] for hit in lipitor) == [
        "N020702-001",
        "N020702-002",
        "N020702-003",
        "N020702-004",
    ]
    budesonide = search(
        database, "orange_book_products", "budesonide rectal", ["product_id", "trade_name"]
    )
    assert "N205613-001" in [hit["product_id"] for hit in budesonide]
    assert {hit["trade_name"] for hit in budesonide} >= {"UCERIS"}

    indexes = query(
        database,
        "select indexdef from pg_indexes where schemaname = 'marts' "
        "and tablename = 'orange_book_products'",
    )
    assert any("USING gin (search_vector" in definition for (definition,) in indexes)
