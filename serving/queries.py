"""Read-only queries over the marts, shared by the HTTP API and the MCP tools.

Every session is the analyst role's (`flows.access.connection_for("analyst")`), opened
read-only (`default_transaction_read_only`) with a `statement_timeout`: a mirror's
writes come from its publishers, never from its readers. Identifiers come from the
database's catalogue (marts, columns, types), values are always query parameters.
"""

from __future__ import annotations

import base64
import binascii
import json
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import psycopg2
import psycopg2.errors
import psycopg2.pool
from psycopg2 import sql

from medmirror.settings import ConnectionInfo
from serving.catalog import Mart, marts
from serving.freshness import read_only_connect

MARTS = "marts"
# Column types no client can use as data (the full-text vectors behind search).
HIDDEN_TYPES = ("tsvector",)
# Filter operators: `column=value`, `column__gte=value`, ...
OPERATORS = {
    "eq": "=",
    "ne": "<>",
    "gt": ">",
    "gte": ">=",
    "lt": "<",
    "lte": "<=",
    "contains": None,  # text: case-insensitive substring; array: has the element
    "null": None,  # true: is null; false: is not null
}


class ReaderError(Exception):
    """A request the marts cannot answer: `status` is the HTTP status it maps to."""

    status = 400


class NotFound(ReaderError):
    status = 404


class Unavailable(ReaderError):
    status = 503


@dataclass(frozen=True)
class Filter:
    column: str
    operator: str  # a key of OPERATORS
    values: tuple[str, ...]


@dataclass
class Page:
    rows: list[dict[str, Any]]
    next_cursor: str | None


class MartReader:
    """Queries the marts through a small pool of read-only analyst sessions."""

    def __init__(
        self,
        connection: ConnectionInfo,
        *,
        statement_timeout_ms: int = 5_000,
        max_connections: int = 8,
        application_name: str = "medmirror-serving",
    ) -> None:
        self.connection = connection
        self.statement_timeout_ms = statement_timeout_ms
        self._pool = psycopg2.pool.ThreadedConnectionPool(
            0,
            max_connections,
            **connection.psycopg_kwargs(),
            application_name=application_name,
            options=(
                "-c default_transaction_read_only=on "
                f"-c statement_timeout={int(statement_timeout_ms)}"
            ),
        )
        self._slots = threading.BoundedSemaphore(max_connections)

    def close(self) -> None:
        self._pool.closeall()

    # -- sessions ---------------------------------------------------------------------

    @contextmanager
    def cursor(self) -> Iterator[psycopg2.extensions.cursor]:
        """A cursor of a pooled read-only session; the transaction ends with the block."""
        with self._slots:
            conn = self._pool.getconn()
            broken = False
            try:
                with conn.cursor() as cur:
                    yield cur
                conn.rollback()  # read only: nothing to commit
            except psycopg2.errors.QueryCanceled as cancelled:
                conn.rollback()
                raise Unavailable(
                    f"the query ran longer than {self.statement_timeout_ms / 1000:g} s "
                    "(statement_timeout); narrow it with filters or a smaller limit"
                ) from cancelled
            except psycopg2.DataError as bad_value:
                conn.rollback()
                message = f"a value does not fit its column: {_first_line(bad_value)}"
                raise ReaderError(message) from None
            except (psycopg2.OperationalError, psycopg2.InterfaceError):
                broken = True
                raise
            except BaseException:
                if not conn.closed:
                    conn.rollback()
                raise
            finally:
                self._pool.putconn(conn, close=broken or bool(conn.closed))

    def fetch(self, statement: sql.Composable | str, params: Sequence[Any] = ()) -> list[dict]:
        with self.cursor() as cur:
            cur.execute(statement, params)
            names = [column.name for column in cur.description]
            return [
                {name: plain(value) for name, value in zip(names, row, strict=True)}
                for row in cur.fetchall()
            ]

    # -- the catalogue ----------------------------------------------------------------

    def built(self) -> set[str]:
        """The marts that exist in the database now."""
        rows = self.fetch(
            "select c.relname as name from pg_class as c "
            "join pg_namespace as n on n.oid = c.relnamespace "
            "where n.nspname = %s and c.relkind in ('r', 'v', 'm', 'p')",
            (MARTS,),
        )
        return {row["name"] for row in rows}

    def searchable(self) -> set[str]:
        """The marts with a search function (`marts.search_<mart>(query, limit)`)."""
        rows = self.fetch(
            "select p.proname as name from pg_proc as p "
            "join pg_namespace as n on n.oid = p.pronamespace "
            "where n.nspname = %s and p.proname like 'search\\_%%'",
            (MARTS,),
        )
        return {row["name"].removeprefix("search_") for row in rows}

    def mart(self, name: str) -> Mart:
        """The documented mart `name`; 404 when dbt has no such mart or it is not built."""
        known = marts()
        if name not in known:
            raise NotFound(f"no mart named {name!r}; GET /marts lists them")
        if name not in self.built():
            sources = ", ".join(known[name].sources)
            raise NotFound(f"mart {name!r} is not built yet (its sources: {sources})")
        return known[name]

    def column_types(self, mart: str) -> dict[str, str]:
        """Column -> SQL type of a built mart, in table order."""
        rows = self.fetch(
            "select a.attname as name, format_type(a.atttypid, a.atttypmod) as type "
            "from pg_attribute as a where a.attrelid = to_regclass(%s) "
            "and a.attnum > 0 and not a.attisdropped order by a.attnum",
            (f"{MARTS}.{mart}",),
        )
        return {row["name"]: row["type"] for row in rows}

    def visible_columns(self, mart: str) -> dict[str, str]:
        return {
            name: kind for name, kind in self.column_types(mart).items() if kind not in HIDDEN_TYPES
        }

    # -- rows -------------------------------------------------------------------------

    def rows(
        self,
        mart_name: str,
        filters: Sequence[Filter] = (),
        after: str | None = None,
        limit: int = 100,
    ) -> Page:
        """A page of `marts.<mart>` in primary-key order: the rows after the cursor
        `after` (keyset pagination) that pass every filter; `next_cursor` continues."""
        mart = self.mart(mart_name)
        if not mart.primary_key:
            raise ReaderError(f"mart {mart_name!r} has no primary key to page by")
        types = self.visible_columns(mart_name)
        all_types = self.column_types(mart_name)
        where: list[sql.Composable] = []
        params: list[Any] = []
        for item in filters:
            clause, values = _filter_clause(item, all_types)
            where.append(clause)
            params += values
        key = mart.primary_key
        if after is not None:
            last = decode_cursor(after, len(key))
            clause, values = _after_clause(key, last, all_types)
            where.append(clause)
            params += values
        template = "select {columns} from {table}{where} order by {order} limit %s"
        statement = sql.SQL(template).format(
            columns=sql.SQL(", ").join(map(sql.Identifier, types)),
            table=sql.Identifier(MARTS, mart_name),
            where=sql.SQL(" where ") + sql.SQL(" and ").join(where) if where else sql.SQL(""),
            order=sql.SQL(", ").join(sql.Identifier(column) for column in key),
        )
        found = self.fetch(statement, [*params, limit + 1])
        page, more = found[:limit], len(found) > limit
        next_cursor = encode_cursor([page[-1][column] for column in key]) if more else None
        return Page(page, next_cursor)

    def row(self, mart_name: str, key: str) -> dict[str, Any]:
        """One row by primary key (a composite key: its values joined by commas)."""
        mart = self.mart(mart_name)
        if not mart.primary_key:
            raise ReaderError(f"mart {mart_name!r} has no primary key")
        values = key.split(",") if len(mart.primary_key) > 1 else [key]
        if len(values) != len(mart.primary_key):
            raise ReaderError(
                f"the key of {mart_name} is {', '.join(mart.primary_key)}: "
                f"give {len(mart.primary_key)} values joined by commas"
            )
        filters = [
            Filter(column, "eq", (value,))
            for column, value in zip(mart.primary_key, values, strict=True)
        ]
        page = self.rows(mart_name, filters, limit=1)
        if not page.rows:
            raise NotFound(f"no row of {mart_name} with {_key_text(mart.primary_key, values)}")
        return page.rows[0]

    # -- search -----------------------------------------------------------------------

    def search(self, mart_name: str, query: str, limit: int = 20) -> list[dict[str, Any]]:
        """The mart's own search function: the best `limit` rows for a web-style query."""
        self.mart(mart_name)
        if mart_name not in self.searchable():
            searchable = ", ".join(sorted(self.searchable()))
            raise NotFound(f"mart {mart_name!r} has no search function (searchable: {searchable})")
        if not query.strip():
            raise ReaderError("the query is empty")
        # Only stopwords ("the"): no word to search for, so no hit (the search function
        # would fail on the empty tsquery).
        words = self.fetch("select numnode(websearch_to_tsquery('english', %s)) as n", (query,))
        if not words[0]["n"]:
            return []
        statement = sql.SQL("select * from {function}(%s, %s)").format(
            function=sql.Identifier(MARTS, f"search_{mart_name}")
        )
        return self.fetch(statement, (query, limit))

    # -- drugs ------------------------------------------------------------------------

    def find_drug(self, text: str) -> tuple[str, str] | None:
        """The drug a user means by `text`: (drug_id, how it matched) or None. A drug id,
        then a generic, brand or single-ingredient name (case-insensitive)."""
        text = text.strip()
        if not text or "drugs" not in self.built():
            return None
        found = self.fetch(
            """
            select drug_id, case
                when drug_id = %(text)s then 'drug_id'
                when lower(generic_name) = lower(%(text)s) then 'generic_name'
                when lower(%(text)s) in (select lower(name) from unnest(brand_names) as name)
                    then 'brand_name'
                else 'ingredient_name'
            end as matched_by
            from marts.drugs
            where drug_id = %(text)s
                or lower(generic_name) = lower(%(text)s)
                or lower(%(text)s) in (select lower(name) from unnest(brand_names) as name)
                or (ingredient_count = 1 and lower(%(text)s) in (
                    select lower(name) from unnest(ingredient_names) as name))
            order by (drug_id = %(text)s) desc, (lower(generic_name) = lower(%(text)s)) desc,
                drug_id
            limit 1
            """,
            {"text": text},
        )
        # No full-text guess: a profile of the wrong drug is worse than none (the caller
        # can search the drugs mart and pick).
        return (found[0]["drug_id"], found[0]["matched_by"]) if found else None

    def drug(self, drug_id: str, limit: int = 100) -> dict[str, Any]:
        """A drug's profile (`drug_profile`) with its formulations, trials, articles and
        adverse-event signals (`limit` of each, with their full counts)."""
        profile = self.fetch("select * from marts.drug_profile where drug_id = %s", (drug_id,))
        if not profile:
            raise NotFound(f"no drug with drug_id {drug_id!r} (search: GET /search/drugs?q=...)")
        answer: dict[str, Any] = {"profile": profile[0]}
        for part, mart, order in (
            ("formulations", "drug_formulations", "formulation_id"),
            ("trials", "drug_trials", "last_update_post_date desc nulls last, 1"),
            ("articles", "drug_articles", "publication_date desc nulls last, 1"),
            ("signals", "drug_reaction_signals", "is_signal desc, prr desc nulls last, 1"),
        ):
            answer[part] = self._linked(mart, "drug_id = %s", (drug_id,), order, limit)
        return answer

    def _linked(
        self, mart: str, condition: str, params: Sequence[Any], order: str, limit: int
    ) -> dict[str, Any]:
        """Rows of a mart linked to something: {"count": all, "rows": the first `limit`}."""
        if mart not in self.built():
            return {"count": 0, "rows": [], "note": f"{mart} is not built yet"}
        columns = sql.SQL(", ").join(map(sql.Identifier, self.visible_columns(mart)))
        table = sql.Identifier(MARTS, mart)
        # `condition` and `order` are this module's own SQL text, never a caller's.
        count_sql = " ".join(["select count(*) as count from {} where", condition])
        rows_sql = " ".join(["select {} from {} where", condition, "order by", order, "limit %s"])
        counted = self.fetch(sql.SQL(count_sql).format(table), params)[0]["count"]
        rows = self.fetch(sql.SQL(rows_sql).format(columns, table), [*params, limit])
        return {"count": counted, "rows": rows}

    def trials_for(
        self, drug: str | None = None, condition: str | None = None, limit: int = 20
    ) -> dict[str, Any]:
        """Trials of a drug (`drug_trials`, by the drug it resolves to) or of a condition
        (`trial_conditions` naming it, case-insensitive substring), newest first."""
        if bool(drug) == bool(condition):
            raise ReaderError("give a drug or a condition (one of them)")
        if drug:
            resolved = self.find_drug(drug)
            if resolved is None:
                return {"drug": None, "count": 0, "rows": []}
            linked = self._linked(
                "drug_trials",
                "drug_id = %s",
                (resolved[0],),
                "last_update_post_date desc nulls last, trial_intervention_id",
                limit,
            )
            return {"drug": {"drug_id": resolved[0], "matched_by": resolved[1]}, **linked}
        return {
            "condition": condition,
            **self._linked(
                "clinical_trials",
                "nct_id in (select nct_id from marts.trial_conditions "
                "where strpos(lower(condition_name), lower(%s)) > 0)",
                (condition,),
                "last_update_post_date desc nulls last, nct_id",
                limit,
            ),
        }

    def articles_for(self, drug: str, limit: int = 20) -> dict[str, Any]:
        """PubMed articles linked to the drug (`drug_articles`), newest first."""
        resolved = self.find_drug(drug)
        if resolved is None:
            return {"drug": None, "count": 0, "rows": []}
        linked = self._linked(
            "drug_articles",
            "drug_id = %s",
            (resolved[0],),
            "publication_date desc nulls last, article_chemical_id",
            limit,
        )
        return {"drug": {"drug_id": resolved[0], "matched_by": resolved[1]}, **linked}

    def signals_for(self, drug: str, limit: int = 20) -> dict[str, Any]:
        """FAERS disproportionality (`drug_reaction_signals`) of the drug it resolves to,
        or of the FAERS ingredient of that name: signals first, then by PRR."""
        resolved = self.find_drug(drug)
        linked = self._linked(
            "drug_reaction_signals",
            "(drug_id = %s or lower(ingredient_name) = lower(%s))",
            (resolved[0] if resolved else None, drug.strip()),
            "is_signal desc, prr desc nulls last, drug_reaction_signal_id",
            limit,
        )
        found = {"drug_id": resolved[0], "matched_by": resolved[1]} if resolved else None
        return {"drug": found, **linked}

    # -- codes ------------------------------------------------------------------------

    CODE_SYSTEMS = {"icd10cm": ("icd10cm_codes", "code"), "hcpcs": ("hcpcs_codes", "hcpcs_code")}

    def code(self, system: str, code: str) -> dict[str, Any]:
        """One ICD-10-CM (dotted or not) or HCPCS Level II code."""
        mart, column = self._code_system(system)
        normalised = code.strip().upper().replace(".", "")
        found = self.fetch(
            sql.SQL("select {} from {} where {} = %s").format(
                sql.SQL(", ").join(map(sql.Identifier, self.visible_columns(mart))),
                sql.Identifier(MARTS, mart),
                sql.Identifier(column),
            ),
            (normalised,),
        )
        if not found:
            raise NotFound(f"no {system} code {code!r}")
        return found[0]

    def code_search(self, system: str, text: str, limit: int = 10) -> list[dict[str, Any]]:
        mart, _ = self._code_system(system)
        return self.search(mart, text, limit)

    def _code_system(self, system: str) -> tuple[str, str]:
        if system not in self.CODE_SYSTEMS:
            raise NotFound(f"unknown code system {system!r} (one of icd10cm, hcpcs)")
        mart, column = self.CODE_SYSTEMS[system]
        self.mart(mart)
        return mart, column


# -- SQL pieces ---------------------------------------------------------------------


def _filter_clause(item: Filter, types: dict[str, str]) -> tuple[sql.Composable, list[Any]]:
    if item.column not in types or types[item.column] in HIDDEN_TYPES:
        raise ReaderError(f"no column {item.column!r} to filter on")
    if item.operator not in OPERATORS:
        known = ", ".join(f"{item.column}__{name}" for name in OPERATORS)
        raise ReaderError(f"unknown filter {item.column}__{item.operator} ({known})")
    column = sql.Identifier(item.column)
    kind = types[item.column]
    is_array = kind.endswith("[]")
    if item.operator == "null":
        wanted = _boolean(item.values[-1], f"{item.column}__null")
        return sql.SQL("{} is null" if wanted else "{} is not null").format(column), []
    if item.operator == "contains":
        if is_array:
            element = sql.SQL(kind.removesuffix("[]"))
            clauses = [sql.SQL("%s::{} = any({})").format(element, column) for _ in item.values]
        else:
            clauses = [
                sql.SQL("strpos(lower({}::text), lower(%s)) > 0").format(column)
                for _ in item.values
            ]
        return sql.SQL("({})").format(sql.SQL(" or ").join(clauses)), list(item.values)
    cast = sql.SQL(kind)  # a type name from pg's own catalogue (format_type)
    if item.operator == "eq" and len(item.values) > 1:
        return (
            sql.SQL("{} = any(array[{}])").format(
                column, sql.SQL(", ").join(sql.SQL("%s::{}").format(cast) for _ in item.values)
            ),
            list(item.values),
        )
    operator = sql.SQL(OPERATORS[item.operator])
    return sql.SQL("{} {} %s::{}").format(column, operator, cast), [item.values[-1]]


def _after_clause(
    key: Sequence[str], last: Sequence[Any], types: dict[str, str]
) -> tuple[sql.Composable, list[Any]]:
    """Rows after `last` in the order `key` ascending (nulls last). One column (tested
    not null): `key > last`. Several: lexicographic, null-aware."""
    if len(key) == 1:
        return (
            sql.SQL("{} > %s::{}").format(sql.Identifier(key[0]), sql.SQL(types[key[0]])),
            [last[0]],
        )
    alternatives: list[sql.Composable] = []
    params: list[Any] = []
    for index, column in enumerate(key):
        if last[index] is None:
            continue  # nothing sorts after null
        parts: list[sql.Composable] = []
        for previous, value in zip(key[:index], last[:index], strict=True):
            if value is None:
                parts.append(sql.SQL("{} is null").format(sql.Identifier(previous)))
            else:
                parts.append(
                    sql.SQL("{} = %s::{}").format(
                        sql.Identifier(previous), sql.SQL(types[previous])
                    )
                )
                params.append(value)
        parts.append(
            sql.SQL("({0} > %s::{1} or {0} is null)").format(
                sql.Identifier(column), sql.SQL(types[column])
            )
        )
        params.append(last[index])
        alternatives.append(sql.SQL("({})").format(sql.SQL(" and ").join(parts)))
    if not alternatives:
        return sql.SQL("false"), []
    return sql.SQL("({})").format(sql.SQL(" or ").join(alternatives)), params


def encode_cursor(values: Sequence[Any]) -> str:
    """An opaque page cursor: the last row's key values."""
    text = json.dumps([None if value is None else str(value) for value in values])
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, size: int) -> list[Any]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()).decode())
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise ReaderError("the cursor is not one this API gave (use next_cursor)") from None
    if not isinstance(values, list) or len(values) != size:
        raise ReaderError("the cursor is not one this API gave (use next_cursor)")
    return values


def _boolean(text: str, name: str) -> bool:
    if text.lower() in ("true", "1", "yes"):
        return True
    if text.lower() in ("false", "0", "no"):
        return False
    raise ReaderError(f"{name} takes true or false")


def _key_text(columns: Sequence[str], values: Sequence[str]) -> str:
    return ", ".join(f"{column} = {value!r}" for column, value in zip(columns, values, strict=True))


def _first_line(error: Exception) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__


def plain(value: Any) -> Any:
    """A JSON-ready value: dates as ISO text, numerics as floats, arrays element-wise."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, list):
        return [plain(item) for item in value]
    if isinstance(value, dict):
        return {name: plain(item) for name, item in value.items()}
    if isinstance(value, memoryview | bytes):
        return bytes(value).hex()
    return value


def read_only_session(connection: ConnectionInfo, statement_timeout_ms: int = 5_000):
    """A plain read-only session (for tests and one-off reads)."""
    return read_only_connect(connection, statement_timeout_ms, "medmirror-serving")


# -- the analyses (marts/analysis) ----------------------------------------------------

ANALYSES: dict[str, dict[str, str]] = {
    "ndc": {
        "formats": "select ndc_format, count(*) as products from marts.ndc_products "
        "group by 1 order by 2 desc, 1",
        "product_types": "select product_type, count(*) as products from marts.ndc_products "
        "group by 1 order by 2 desc, 1",
        "packages_per_product": "select package_count, count(*) as products "
        "from marts.ndc_products group by 1 order by 1",
        "top_labelers": "select labeler_code, labeler_name, product_count, package_count, "
        "packages_per_product from marts.ndc_labelers "
        "order by product_count desc, labeler_code limit 20",
        "in_several_labels": "select ndc_product_code, labeler_name, brand_name, label_count, "
        "label_set_ids from marts.ndc_products where is_in_several_labels "
        "order by label_count desc, ndc_product_code limit 100",
    },
    "drug-classes": {
        "class_types": "select class_type, count(*) as classes, sum(drug_count) as drug_links "
        "from marts.pharmacologic_classes group by 1 order by 1",
        "largest_classes": "select pharmacologic_class_id, class_type, class_name, drug_count, "
        "brand_count from marts.pharmacologic_classes "
        "order by drug_count desc, pharmacologic_class_id limit 20",
        "shared_by_brands": "select pharmacologic_class_id, class_name, brand_count, brand_names "
        "from marts.pharmacologic_classes where is_shared_by_brands "
        "order by brand_count desc, pharmacologic_class_id limit 50",
        "classes_per_drug": "select class_count, count(*) as drugs from marts.drug_class_counts "
        "group by 1 order by 1",
    },
    "names": {
        "brands_per_ingredient": "select brand_count, count(*) as ingredients "
        "from marts.drug_names where name_type = 'ingredient' group by 1 order by 1",
        "ingredients_per_brand": "select ingredient_count, count(*) as brands "
        "from marts.drug_names where name_type = 'brand' group by 1 order by 1",
        "shared_brand_names": "select name, drug_count, ingredient_names from marts.drug_names "
        "where is_shared_brand_name order by drug_count desc, name limit 50",
        "name_lengths": "select name_type, count(*) as names, min(name_length) as shortest, "
        "round(avg(name_length), 1) as average, max(name_length) as longest "
        "from marts.drug_names group by 1 order by 1",
        "common_suffixes": "select name_type, suffix, name_count, drug_count, example_names "
        "from (select *, row_number() over (partition by name_type, suffix_length "
        "order by name_count desc, suffix) as position from marts.drug_name_suffixes) as ranked "
        "where position <= 10 order by name_type, suffix_length, position",
    },
}
ANALYSIS_MARTS = {
    "ndc": ("ndc_products", "ndc_labelers"),
    "drug-classes": ("pharmacologic_classes", "drug_class_counts"),
    "names": ("drug_names", "drug_name_suffixes"),
}


def analysis(reader: MartReader, name: str) -> dict[str, list[dict[str, Any]]]:
    """The summary tables of one analysis (ndc, drug-classes, names)."""
    if name not in ANALYSES:
        raise NotFound(f"no analysis {name!r} (one of {', '.join(ANALYSES)})")
    for mart in ANALYSIS_MARTS[name]:
        reader.mart(mart)
    return {part: reader.fetch(statement) for part, statement in ANALYSES[name].items()}
