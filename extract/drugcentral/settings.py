"""Constants of the DrugCentral source (each can be overridden in `.dlt/config.toml` under
`[sources.drugcentral]` or by `SOURCES__DRUGCENTRAL__<NAME>`)."""

SOURCE = "drugcentral"
# DrugCentral's public read-only PostgreSQL server, with the account the publisher
# documents for it (https://drugcentral.org/download). A restored dump
# (drugcentral.dump.<date>.sql.gz) in any PostgreSQL works the same way.
DATABASE_URL = "postgresql://drugman:dosage@unmtid-dbs.net:5433/drugcentral"
DATABASE_SCHEMA = "public"
# The tables landed, each with its key column (DrugCentral's own names).
TABLES = {
    "structures": "id",  # one row per active ingredient (struct_id elsewhere)
    "identifier": "id",  # external ids: UNII, RxNorm CUI, ChEMBL, DrugBank, MeSH, ...
    "atc": "code",  # the ATC classification, level 5 codes with their 4 parents
    "struct2atc": "id",  # ingredient -> ATC code
    "act_table_full": "act_id",  # bioactivities and mechanism-of-action targets
}
CHUNK_SIZE = 20_000  # rows per query chunk
LICENCE = "CC BY-SA 4.0"
LICENCE_URL = "https://creativecommons.org/licenses/by-sa/4.0/"
ATTRIBUTION = (
    "DrugCentral (https://drugcentral.org), Division of Translational Informatics, "
    "University of New Mexico; licensed CC BY-SA 4.0. Derived data must be shared alike."
)
