"""The FAERS marts for pharmacovigilance: indications, therapy dates and signals quarter
by quarter, from the real quarterly extracts (2004Q1 and 2017Q2 subsets) the demo lands."""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from pathlib import Path

from medmirror.settings import SAMPLES_DIR, ConnectionInfo
from tests.conftest import DERIVED, build_models, land_source, query
from tests.dbt.test_drugs_consolidation import DRUG_SOURCES, land_drug_samples


def test_indications_therapies_and_signals_by_quarter_of_the_real_quarters(samples_database):
    database = samples_database("faers")

    # INDI and THER lines of the current case versions, each joined to its drug.
    assert query(
        database,
        "select count(*), count(distinct caseid) from marts.adverse_event_indications",
    ) == [(356, 176)]
    assert query(
        database,
        "select indication_term from marts.adverse_event_indications "
        "where adverse_event_drug_id = '11144077-10'",
    ) == [("Antifungal prophylaxis",)]
    assert query(
        database,
        "select count(*) from marts.adverse_event_indications as indications "
        "left join marts.adverse_event_drugs as drugs using (adverse_event_drug_id) "
        "where drugs.adverse_event_drug_id is null",
    ) == [(0,)]
    assert query(
        database,
        "select count(*), count(start_date), count(end_date) from marts.adverse_event_therapies",
    ) == [(287, 224, 137)]
    assert query(
        database,
        "select start_date, end_date from marts.adverse_event_therapies "
        "where adverse_event_therapy_id = '3821366-1004744187-1'",
    ) == [(date(2002, 2, 14), date(2002, 2, 20))]

    # Quarter by quarter, cumulative: the last quarter's tables are the all-time ones.
    rows = query(
        database,
        """
        select ingredient_name, preferred_term, quarter, quarter_cases, a, b, c, d,
               total_cases, round(prr, 3), round(prr_lower_95, 3), round(ror_lower_95, 3),
               is_signal, first_signal_quarter, is_first_signal_quarter
        from marts.drug_reaction_signals_by_quarter order by 1, 2, 3
        """,
    )
    assert rows == [
        ("PAXIL", "DIARRHOEA", "2004Q1", 3, 3, 4, 2, 91, 100,
         Decimal("19.929"), Decimal("3.960"), Decimal("4.392"), True, "2004Q1", True),
        ("PAXIL", "DIARRHOEA", "2017Q2", 0, 3, 4, 6, 187, 200,
         Decimal("13.786"), Decimal("4.310"), Decimal("4.256"), True, "2004Q1", False),
        ("PAXIL", "DRUG WITHDRAWAL SYNDROME", "2004Q1", 3, 3, 4, 1, 92, 100,
         Decimal("39.857"), Decimal("4.742"), Decimal("5.809"), True, "2004Q1", True),
        ("PAXIL", "DRUG WITHDRAWAL SYNDROME", "2017Q2", 0, 3, 4, 1, 192, 200,
         Decimal("82.714"), Decimal("9.792"), Decimal("12.176"), True, "2004Q1", False),
        # Three cases, but no case of the term without the drug: no PRR, no signal.
        ("RISPERIDONE", "ABNORMAL WEIGHT GAIN", "2017Q2", 3, 3, 3, 0, 194, 200,
         None, None, None, False, None, False),
        ("RISPERIDONE", "GYNAECOMASTIA", "2017Q2", 6, 6, 0, 1, 193, 200,
         Decimal("194.000"), Decimal("27.465"), None, True, "2017Q2", True),
    ]  # fmt: skip
    assert query(
        database,
        """
        select count(*) from marts.drug_reaction_signals as all_time
        left join marts.drug_reaction_signals_by_quarter as by_quarter
            on by_quarter.ingredient_name = all_time.ingredient_name
            and by_quarter.preferred_term = all_time.preferred_term
            and by_quarter.quarter = '2017Q2'
            and (by_quarter.a, by_quarter.b, by_quarter.c, by_quarter.d)
                = (all_time.a, all_time.b, all_time.c, all_time.d)
        where by_quarter.quarter is null
        """,
    ) == [(0,)]


# -- incremental builds -------------------------------------------------------------------

FAERS_MARTS = (
    "adverse_event_reports",
    "adverse_event_drugs",
    "adverse_event_reactions",
    "adverse_event_indications",
    "adverse_event_therapies",
    "drug_reaction_signals",
    "drug_reaction_signals_by_quarter",
)
# Each per-case mart and its key.
PER_CASE_MARTS = {
    "adverse_event_reports": "caseid",
    "adverse_event_drugs": "adverse_event_drug_id",
    "adverse_event_reactions": "adverse_event_reaction_id",
    "adverse_event_indications": "adverse_event_indication_id",
    "adverse_event_therapies": "adverse_event_therapy_id",
}
FAERS_2017Q2 = SAMPLES_DIR / "faers" / "faers_ascii_2017q2_subset.zip"
AERS_2004Q1 = SAMPLES_DIR / "faers" / "aers_ascii_2004q1_subset.zip"
# Later quarters derived from the real 2017Q2 rows (tests/fixtures/faers/derive.py).
LATER = DERIVED / "faers" / "derived" / "faers_ascii_2017q3_derived.zip"
FOURTH = DERIVED / "faers" / "derived" / "faers_ascii_2017q4_derived.zip"


def build_faers_marts(
    connection: ConnectionInfo, *, sources: Sequence[str] = ("faers",), full: bool = False
) -> None:
    """The FAERS marts as a refresh of `sources` builds them: what those feed on the way
    and their tests (76 nodes for FAERS; its refresh builds everything it feeds, 142)."""
    build_models(connection, *FAERS_MARTS, sources=sources, full=full)


def mart_contents(connection: ConnectionInfo) -> dict[str, list[tuple]]:
    return {
        mart: query(connection, f"select * from marts.{mart} order by 1")  # noqa: S608
        for mart in FAERS_MARTS
    }


def row_versions(connection: ConnectionInfo) -> dict[tuple[str, str], tuple[str, str]]:
    """Each per-case mart row (mart, its key) -> (its case, the transaction that wrote it)."""
    return {
        (mart, key): (caseid, xmin)
        for mart, key_column in PER_CASE_MARTS.items()
        for key, caseid, xmin in query(
            connection,
            f"select {key_column}, caseid, xmin::text from marts.{mart}",  # noqa: S608
        )
    }


def rewritten_cases(before: dict, after: dict) -> set[str]:
    """The cases with a row written, removed or added between two `row_versions`."""
    return {
        caseid
        for key in before.keys() | after.keys()
        if before.get(key) != after.get(key)
        for caseid, _ in [before.get(key) or after[key]]
    }


def test_incremental_builds_rebuild_only_the_changed_cases_and_equal_a_full_build(
    database, tmp_path: Path
):
    folder = tmp_path / "quarters"
    folder.mkdir()
    for archive in (FAERS_2017Q2, AERS_2004Q1):
        shutil.copy(archive, folder / archive.name)
    land_source(database, "faers", bulk_location=str(folder))
    build_faers_marts(database)
    first = row_versions(database)
    assert len({caseid for caseid, _ in first.values()}) == 200

    # 2017Q3 (derived): case 10979236 at version 5, case 11144077 deleted.
    land_source(database, "faers", bulk_location=str(LATER))
    build_faers_marts(database)
    second = row_versions(database)
    assert rewritten_cases(first, second) == {"10979236", "11144077"}
    assert query(
        database, "select count(*) from marts.adverse_event_reports where caseid = '11144077'"
    ) == [(0,)]

    # 2017Q4 (derived): case 12303287 at version 3 (a reaction fewer), a new case
    # 90000001, legacy case 4083231 (2004Q1) deleted.
    land_source(database, "faers", bulk_location=str(FOURTH))
    build_faers_marts(database)
    third = row_versions(database)
    assert rewritten_cases(second, third) == {"12303287", "90000001", "4083231"}
    assert query(
        database,
        "select caseid, quarter, case_version from marts.adverse_event_reports "
        "where caseid in ('12303287', '90000001', '4083231') order by 1",
    ) == [("12303287", "2017Q4", 3), ("90000001", "2017Q4", 1)]
    assert query(
        database,
        "select count(*) from marts.adverse_event_reactions "
        "where caseid = '12303287' and preferred_term_key = 'HYPERGLYCAEMIA'",
    ) == [(0,)]
    # Its 2004Q1 diarrhoea case deleted, PAXIL and diarrhoea fall under 3 cases: no row.
    # Risperidone and gynaecomastia: 6 cases in 2017Q2, of which one moved to 2017Q3 and
    # one to 2017Q4, where the new case adds one; N: 200 less two deleted cases.
    assert query(
        database,
        "select count(*) from marts.drug_reaction_signals_by_quarter "
        "where ingredient_name = 'PAXIL' and preferred_term = 'DIARRHOEA'",
    ) == [(0,)]
    assert query(
        database,
        "select quarter, quarter_cases, a, total_cases from marts.drug_reaction_signals_by_quarter "
        "where ingredient_name = 'RISPERIDONE' and preferred_term = 'GYNAECOMASTIA' order by 1",
    ) == [("2017Q2", 4, 4, 196), ("2017Q3", 1, 5, 197), ("2017Q4", 2, 7, 199)]

    incremental = mart_contents(database)
    build_faers_marts(database, full=True)
    assert mart_contents(database) == incremental


def test_cases_whose_drugs_link_to_another_drug_are_rebuilt(database):
    """The drug dictionary moves when the drug sources land, without anything new from
    FAERS: the cases whose drug rows now link otherwise are rebuilt, no others."""
    land_source(database, "faers", bulk_location=str(FAERS_2017Q2))
    build_faers_marts(database)
    before = row_versions(database)
    assert query(database, "select count(drug_id) from marts.adverse_event_drugs") == [(0,)]

    land_drug_samples(database)  # DailyMed, openFDA and Orange Book: the drugs mart
    build_faers_marts(database, sources=DRUG_SOURCES)

    linked = {
        caseid
        for (caseid,) in query(
            database,
            "select distinct caseid from marts.adverse_event_drugs where drug_id is not null",
        )
    }
    assert linked and rewritten_cases(before, row_versions(database)) == linked
    incremental = mart_contents(database)
    build_faers_marts(database, sources=("faers", *DRUG_SOURCES), full=True)
    assert mart_contents(database) == incremental
