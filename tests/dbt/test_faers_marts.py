"""The FAERS marts for pharmacovigilance: indications, therapy dates and signals quarter
by quarter, from the real quarterly extracts (2004Q1 and 2017Q2 subsets) the demo lands."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from tests.conftest import query


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
