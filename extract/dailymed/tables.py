"""The raw tables DailyMed lands (`raw_dailymed.*`); dbt looks labels up by set id."""

from __future__ import annotations

import pyarrow as pa

from extract.raw import RawTable
from extract.tombstones import LISTED

BY_SET_ID = (("set_id", "_dlt_load_id"),)

# One parsed SPL document per row (key `set_id` + `version`).
LABELS = RawTable(
    "labels",
    (
        pa.field("set_id", pa.string(), nullable=False),
        pa.field("version", pa.int64(), nullable=False),
        pa.field("effective_time", pa.date32()),
        pa.field("published_date", pa.date32()),
    ),
    indexes=BY_SET_ID,
    record_paths=(
        ("set_id", "set_id"),
        ("version", "version"),
        ("effective_time", "effective_time"),
        ("published_date", "published_date"),
    ),
)
# One substance of a pharmacologic-class indexing SPL (document type 60685-5).
CLASSES = RawTable(
    "pharmacologic_classes",
    (
        pa.field("set_id", pa.string(), nullable=False),
        pa.field("version", pa.int64(), nullable=False),
        pa.field("effective_time", pa.date32()),
        pa.field("unii", pa.string()),
    ),
    indexes=BY_SET_ID,
)
# One version in a label's history (API only).
HISTORY = RawTable(
    "label_history",
    (
        pa.field("set_id", pa.string(), nullable=False),
        pa.field("spl_version", pa.int64(), nullable=False),
        pa.field("published_date", pa.date32()),
    ),
    indexes=BY_SET_ID,
)
# DailyMed's list of drug classes (API only).
DRUG_CLASSES = RawTable(
    "drug_classes",
    (pa.field("class_code", pa.string(), nullable=False), pa.field("class_type", pa.string())),
)
# The keys of a complete listing (tombstones: extract.tombstones).
TABLES = (LABELS, CLASSES, HISTORY, DRUG_CLASSES, LISTED)
