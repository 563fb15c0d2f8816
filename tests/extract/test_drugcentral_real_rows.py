"""DrugCentral's real rows (its REST API's answers, tests/fixtures/drugcentral/real/) put in
DrugCentral's tables on the tests' embedded server, landed through dlt's SQL source and
built into the DrugCentral marts by real dbt: the columns staging reads are the ones
DrugCentral's rows have, with their values."""

from __future__ import annotations

import json

from flows.dbt_runner import run_dbt
from tests.conftest import DERIVED, query
from tests.extract.test_drugcentral import (
    drugcentral_db,  # noqa: F401
    land_drugcentral,
)

REAL = DERIVED / "drugcentral" / "real"
ROWS = {
    "act_table_full": "api_act_table_full_struct_id102_limit5.json",
    "atc": "api_atc_limit5.json",
    "identifier": "api_identifier_id1762385.json",
    "struct2atc": "api_struct2atc_atc_code_A01AA01.json",
    "structures": "api_structures_id5391.json",
}


def test_real_drugcentral_rows_reach_the_marts_with_their_values(
    database,
    drugcentral_db,  # noqa: F811
):
    conn = drugcentral_db.connect()
    with conn, conn.cursor() as cur:
        for table, name in ROWS.items():
            cur.execute(
                f"insert into {table} select * from "  # noqa: S608 - the tables above
                f"json_populate_recordset(null::{table}, %s)",
                [(REAL / name).read_text()],
            )
    conn.close()

    result = land_drugcentral(database, drugcentral_db)
    # Models only: the rows are a few of DrugCentral's, so the identifier of struct 4 and
    # the ATC code of struct 4243 name structures not here (the marts' relationship tests
    # would rightly fail on this partial copy).
    run_dbt(["run", "--select", "source:drugcentral+"], database)

    # The constructed slice's rows, and DrugCentral's real ones.
    assert result.rows["act_table_full"] == 4 + 2
    real_activities = json.loads((REAL / ROWS["act_table_full"]).read_bytes())
    assert query(
        database,
        "select activity_id, struct_id, target_name, gene_symbols, uniprot_accessions, "
        "action_type, is_mechanism_of_action, organism "
        "from marts.drugcentral_targets where struct_id = 102 order by activity_id",
    ) == [
        (
            row["act_id"],
            102,
            row["target_name"],
            row["gene"],
            row["accession"],
            row["action_type"],
            row["moa"] == 1,
            row["organism"],
        )
        for row in sorted(real_activities, key=lambda row: row["act_id"])
    ]
    assert query(
        database,
        "select struct_id, atc_code, chemical_substance, level1_name, level4_name "
        "from marts.drugcentral_atc_codes where atc_code = 'A01AA01'",
    ) == [
        (
            4243,
            "A01AA01",
            "sodium fluoride",
            "ALIMENTARY TRACT AND METABOLISM",
            "Caries prophylactic agents",
        )
    ]
    assert query(
        database,
        "select struct_id, identifier_type, identifier from marts.drugcentral_identifiers "
        "where identifier_id = 1762385",
    ) == [(4, "RXNORM", "259453")]
    assert query(
        database,
        "select ingredient_name, cas_registry_number, smiles from marts.drugcentral_drugs "
        "where struct_id = 5391",
    ) == [("sacituzumab govitecan", "1491917-83-9", None)]
