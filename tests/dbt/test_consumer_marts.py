"""The consumer health marts: real dbt on what the real extracts landed from the real
MedlinePlus file and the FoodData Central download constructed from real API records."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from lxml import etree

from flows.search import search
from tests.conftest import land_source, query
from tests.extract.test_fooddata import DOWNLOAD
from tests.extract.test_fooddata import build as build_fooddata
from tests.extract.test_medlineplus import TOPICS_FILE, build


def test_health_topics_hold_both_languages_and_a_summary_word_finds_its_topic(database):
    land_source(database, "medlineplus", bulk_location=str(TOPICS_FILE))

    build(database)

    root = etree.parse(str(TOPICS_FILE), etree.XMLParser(load_dtd=False)).getroot()
    sites = {topic.get("id"): len(topic.findall("site")) for topic in root}
    assert sites == {"3061": 49, "3062": 30}
    assert query(
        database,
        "select topic_id, language, title, mesh_terms, related_topics, also_called, "
        "group_names, language_mapped_topic_id, site_count "
        "from marts.health_topics order by topic_id",
    ) == [
        (
            "3061",
            "English",
            "Abdominal Pain",
            ["Abdominal Pain"],
            ["Pain", "Pelvic Pain"],
            ["Bellyache"],
            ["Digestive System", "Symptoms"],
            "3062",
            sites["3061"],
        ),
        (
            "3062",
            "Spanish",
            "Dolor abdominal",
            [],
            ["Dolor"],
            ["Dolor de barriga", "Dolor de estómago", "Dolor de panza"],
            ["Sistema digestivo", "Síntomas"],
            "3061",
            sites["3062"],
        ),
    ]
    assert query(
        database, "select date_created from marts.health_topics where topic_id = '3061'"
    ) == [(date(2003, 1, 7),)]
    assert query(
        database,
        "select check_name, rows_checked, rows_valid from ops.medlineplus_data_quality order by 1",
    ) == [
        ("language English or Spanish", 2, 2),
        ("topic has a title and a summary", 2, 2),
        ("topic id is a number", 2, 2),
    ]
    # "groin" is only in the English summary; "ingle" only in the Spanish one.
    assert [
        hit["topic_id"] for hit in search(database, "health_topics", "groin", ["topic_id"])
    ] == ["3061"]
    spanish = search(database, "health_topics", "ingle", ["topic_id", "language"])
    assert [(hit["topic_id"], hit["language"]) for hit in spanish] == [("3062", "Spanish")]
    assert any(
        "USING gin (search_vector" in definition
        for (definition,) in query(
            database,
            "select indexdef from pg_indexes where schemaname = 'marts' "
            "and tablename = 'health_topics'",
        )
    )


def test_food_items_and_nutrients_from_the_download_and_search_finds_cheddar(database):
    land_source(database, "fooddata", bulk_location=str(DOWNLOAD))

    build_fooddata(database)

    assert query(database, "select count(*), count(distinct fdc_id) from marts.food_items") == [
        (12, 12)
    ]
    assert query(
        database,
        "select description, data_type, brand_owner, brand_name, serving_size, "
        "serving_size_unit from marts.food_items where fdc_id = 2057648",
    ) == [
        ("CHEDDAR CHEESE", "Branded", "Grafton Village Cheese Co, LLC", "GRAFTON VILLAGE", 28, "g")
    ]
    # Nutrients in each of FDC's three record shapes.
    assert query(
        database,
        "select nutrient_id, nutrient_number, nutrient_name, amount, unit "
        "from marts.food_nutrients where fdc_id = 2057648 and nutrient_number = '203'",
    ) == [(1003, "203", "Protein", Decimal("21.4"), "G")]
    assert query(
        database,
        "select nutrient_id, nutrient_name, amount, unit from marts.food_nutrients "
        "where fdc_id = 170720 and nutrient_number = '255'",
    ) == [(1051, "Water", Decimal("51.3"), "g")]
    assert query(
        database,
        "select count(*), count(nutrient_id) from marts.food_nutrients where fdc_id = 328637",
    ) == [(105, 0)]
    # The full format's headings ("Proximates") carry no amount and are left out.
    assert query(
        database, "select count(*) from marts.food_nutrients where nutrient_name = 'Proximates'"
    ) == [(0,)]
    # Counted in Python from the sample's files: 276 nutrient entries give an amount, each
    # a JSON number; every food has a description, a data type and a publication date.
    assert query(
        database,
        "select check_name, rows_complete, rows_valid from ops.fooddata_data_quality order by 1",
    ) == [
        ("food has a description and a data type", 12, 12),
        ("nutrient amount is a number (where one is given)", 276, 276),
        ("published date read", 12, 12),
    ]

    cheddar = search(database, "food_items", "cheddar", ["fdc_id", "description"])
    found = {hit["fdc_id"] for hit in cheddar}
    assert {2057648, 328637} <= found
    assert 170720 not in found  # the Big Mac
    assert [hit["fdc_id"] for hit in search(database, "food_items", "big mac", ["fdc_id"])] == [
        170720
    ]
