"""The raw landing contract: the tables a source lands, declared once, created up front.

Every raw table `raw_<source>.<table>` holds the source's own columns (natural keys and
cursor, named as the publisher names them), then the contract's: `record` (the publisher's
document as jsonb), `source_uri` (the URL or file and archive member it came from) and
`deleted` (a deletion notice), then dlt's `_dlt_load_id` and `_dlt_id`. Bad inputs go to
`raw_<source>.rejects` (`source_uri`, `problem`, `position`, `rejected_at`).

A source declares its tables as `RawTable`s in its package (`extract/<source>/`), and
`ensure_raw_tables` creates every one of them, empty, through dlt's own schema
synchronisation: dlt then lands into exactly those tables, and dbt can build every model
before anything has landed. Run on an existing warehouse it adds what a newer declaration
has (tables, columns) and touches no data.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import dlt
import pyarrow as pa
from dlt.common.libs.pyarrow import py_arrow_to_table_schema_columns
from dlt.common.schema.utils import new_table

log = logging.getLogger(__name__)

REJECTS_TABLE = "rejects"

LANDING_FIELDS = (
    pa.field("record", pa.string()),
    pa.field("source_uri", pa.string(), nullable=False),
    pa.field("deleted", pa.bool_(), nullable=False),
)
# dlt's own columns, added to every Arrow batch (see `[normalize.parquet_normalizer]` in
# .dlt/config.toml): declared too, so staging can read them before anything landed.
DLT_COLUMNS: dict[str, dict[str, Any]] = {
    "_dlt_load_id": {"name": "_dlt_load_id", "data_type": "text", "nullable": False},
    "_dlt_id": {"name": "_dlt_id", "data_type": "text", "nullable": False},
}


def landing_schema(*fields: pa.Field) -> pa.Schema:
    """The Arrow schema of a raw table: its own columns, then the contract's."""
    return pa.schema([*fields, *LANDING_FIELDS])


@dataclass(frozen=True)
class RawTable:
    """One raw table of a source: its own columns (Arrow fields) and the indexes dbt needs.

    `contract` tables end with the contract's `record`, `source_uri` and `deleted`; the
    others (`rejects`, a source's ledger of files) hold exactly `fields`. `json` names the
    columns holding JSON text, landed as jsonb (`record` in contract tables).
    `record_paths`: each own column the extract fills from a path of the record, as
    (column, dotted path, `[]` for an array element), e.g. `("nct_id",
    "protocolSection.identificationModule.nctId")`: staging reading the column reads that
    path (`medmirror drift` counts it as read).
    """

    name: str
    fields: tuple[pa.Field, ...]
    indexes: tuple[tuple[str, ...], ...] = ()
    contract: bool = True
    json: tuple[str, ...] = ()
    record_paths: tuple[tuple[str, str], ...] = ()

    @cached_property
    def schema(self) -> pa.Schema:
        """The Arrow schema of the batches a resource yields for this table."""
        return landing_schema(*self.fields) if self.contract else pa.schema(self.fields)

    @cached_property
    def json_columns(self) -> tuple[str, ...]:
        return ("record", *self.json) if self.contract else self.json

    @cached_property
    def columns(self) -> dict[str, dict[str, Any]]:
        """dlt's column hints of the table (from the Arrow schema; JSON text as `json`)."""
        columns = py_arrow_to_table_schema_columns(self.schema)
        for name, column in columns.items():
            if column["data_type"] == "timestamp":
                column.pop("precision", None)  # plain `timestamp`, as dlt made them before
            if name in self.json_columns:
                column["data_type"] = "json"
        return columns

    @property
    def key_columns(self) -> tuple[str, ...]:
        """The table's own columns (keys and cursor), which name a row in a reject."""
        return tuple(field.name for field in self.fields) if self.contract else ()

    def dlt_table(self) -> dict[str, Any]:
        return new_table(
            self.name,
            write_disposition="append",
            columns=[*self.columns.values(), *DLT_COLUMNS.values()],
        )


REJECTS = RawTable(
    REJECTS_TABLE,
    (
        pa.field("source_uri", pa.string(), nullable=False),
        pa.field("problem", pa.string(), nullable=False),
        pa.field("position", pa.string()),
        pa.field("rejected_at", pa.timestamp("us", tz="UTC"), nullable=False),
    ),
    contract=False,
)


def declared_columns(tables: Iterable[RawTable]) -> dict[str, set[str]]:
    """Table -> the column names a warehouse must have for these declarations."""
    return {table.name: {*table.columns, *DLT_COLUMNS} for table in tables}


def ensure_raw_tables(pipeline: dlt.Pipeline, tables: Iterable[RawTable]) -> dict[str, list[str]]:
    """Create the source's raw schema and every declared table and column still missing.

    The tables are declared in the pipeline's dlt schema (named after the source) and dlt
    synchronises the warehouse with it (`update_stored_schema`): a missing table is created
    empty, a missing column is added (nullable, so existing rows stay valid); nothing else
    changes. Returns what it added: table -> columns.
    """
    name = pipeline.pipeline_name
    pipeline.sync_destination()  # the schema dlt stored with the last load, if any
    schema = pipeline.schemas[name] if name in pipeline.schema_names else dlt.Schema(name)
    for table in tables:
        schema.update_table(table.dlt_table())
    pipeline.schemas.save_schema(schema)
    with pipeline.destination_client(name) as client:
        client.initialize_storage()
        # Forced: dlt skips a schema it stored before, even when a table of it is gone.
        changed = client.update_stored_schema(force=True)
    return {
        table: list(update.get("columns", {}))
        for table, update in (changed or {}).items()
        if not table.startswith("_dlt")
    }


def missing_raw_columns(
    found: Mapping[tuple[str, str], set[str]], declared: Mapping[str, Mapping[str, set[str]]]
) -> dict[str, dict[str, set[str]]]:
    """What the warehouse lacks: raw schema -> table -> missing columns (all of a missing
    table's). `found`: (schema, table) -> its columns; `declared`: schema -> table ->
    columns."""
    missing: dict[str, dict[str, set[str]]] = {}
    for schema, tables in declared.items():
        for table, columns in tables.items():
            lacking = columns - found.get((schema, table), set())
            if lacking:
                missing.setdefault(schema, {})[table] = lacking
    return missing
