"""The read-only HTTP API: `medmirror api [--host 127.0.0.1] [--port 8765]`.

FastAPI on uvicorn, connected as the analyst role in read-only sessions with a
`statement_timeout`. Only GET routes: a mirror's writes come from its publishers.
It binds 127.0.0.1 by default; another address needs a bearer token
(`MEDMIRROR_API_TOKEN`), and once a token is set every request must send it
(`Authorization: Bearer <token>`). `GET /metrics` is the Prometheus exposition of
`flows.metrics`. Every answer names the licence and attribution of the
sources its data comes from (`licences`), read from dbt's lineage.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import secrets
from collections.abc import Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Annotated, Any

import psycopg2
from fastapi import FastAPI, Path, Query, Request
from fastapi.responses import JSONResponse, PlainTextResponse

from medmirror.settings import ConnectionInfo
from serving.catalog import marts, sources_of
from serving.freshness import freshness
from serving.licences import LICENCES, licences_for
from serving.queries import (
    ANALYSES,
    ANALYSIS_MARTS,
    OPERATORS,
    Filter,
    MartReader,
    ReaderError,
    analysis,
)

log = logging.getLogger(__name__)

TOKEN_VARIABLE = "MEDMIRROR_API_TOKEN"
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765
RESERVED_PARAMETERS = {"limit", "after"}

DESCRIPTION = """
The marts of a medmirror warehouse (public medical data: ClinicalTrials.gov, PubMed,
DailyMed, openFDA, FAERS, the Orange Book, ICD-10-CM, HCPCS, MedlinePlus, ...), **read
only**: a mirror's data comes from its publishers, so there is nothing to write here.

* `GET /marts/{mart}` pages through a mart in primary-key order (keyset pagination:
  follow `next_cursor` with `after=`), filtered by any column: `column=value` (repeat it
  for any of several values), `column__gte`, `__lte`, `__gt`, `__lt`, `__ne`,
  `column__contains=text` (text: case-insensitive substring; arrays: has the element),
  `column__null=true|false`.
* Every answer lists the licences and attribution of the sources it comes from
  (`licences`): credit them when you use the data.
* Queries stop after the server's `statement_timeout`; pages hold at most the server's
  page size cap.
"""


class BindRefused(RuntimeError):
    """Serving on a non-loopback address without a token."""


@dataclass(frozen=True)
class ApiSettings:
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    token: str | None = None
    default_page_size: int = 100
    max_page_size: int = 1000
    statement_timeout_ms: int = 5_000

    @classmethod
    def from_environment(cls, **overrides: Any) -> ApiSettings:
        token = os.environ.get(TOKEN_VARIABLE) or None
        return cls(token=token, **overrides)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_bind(host: str, token: str | None) -> None:
    """Refuse to serve beyond this machine without a bearer token."""
    if not is_loopback(host) and not token:
        raise BindRefused(
            f"refusing to serve on {host}: beyond 127.0.0.1 every request must carry a bearer "
            f"token; set {TOKEN_VARIABLE} (e.g. to the output of `openssl rand -hex 32`)"
        )


def create_app(
    settings: ApiSettings, reader_factory: Callable[[], MartReader] | ConnectionInfo
) -> FastAPI:
    """The API app. `reader_factory`: the analyst's connection, or a callable making the
    MartReader (opened at startup, closed at shutdown)."""
    if isinstance(reader_factory, ConnectionInfo):
        connection = reader_factory

        def reader_factory() -> MartReader:
            return MartReader(
                connection,
                statement_timeout_ms=settings.statement_timeout_ms,
                application_name="medmirror-api",
            )

    state: dict[str, MartReader] = {}

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        marts()  # read dbt's manifest once, before the first request
        state["reader"] = reader_factory()
        try:
            yield
        finally:
            state.pop("reader").close()

    app = FastAPI(
        title="medmirror",
        version="1",
        summary="Read-only access to a warehouse of public medical data",
        description=DESCRIPTION,
        lifespan=lifespan,
    )

    def reader() -> MartReader:
        return state["reader"]

    if settings.token:
        expected = f"Bearer {settings.token}".encode()

        @app.middleware("http")
        async def require_token(request: Request, call_next):
            given = request.headers.get("authorization", "").encode()
            if not secrets.compare_digest(given, expected):
                return JSONResponse(
                    {"detail": "a bearer token is required: Authorization: Bearer <token>"},
                    status_code=401,
                    headers={"WWW-Authenticate": "Bearer"},
                )
            return await call_next(request)

    @app.exception_handler(ReaderError)
    async def reader_error(request: Request, error: ReaderError) -> JSONResponse:
        return JSONResponse({"detail": str(error)}, status_code=error.status)

    @app.exception_handler(psycopg2.OperationalError)
    async def database_down(request: Request, error: Exception) -> JSONResponse:
        log.warning("database unavailable: %s", error)
        return JSONResponse({"detail": "the warehouse is not reachable"}, status_code=503)

    @app.get("/status", tags=["freshness"])
    def status() -> dict[str, Any]:
        """Per source: last successful load, newest record, raw rows and a fresh/stale
        verdict (the same as `medmirror status`), with its licence."""
        rows = freshness(reader().connection)
        licences = {item.source: item.as_dict() for item in LICENCES.values()}
        return {
            "sources": [{**row, "licence": licences.get(row["source"])} for row in rows],
            "licences": licences_for(licences),
        }

    @app.get("/metrics", tags=["freshness"], response_class=PlainTextResponse)
    def metrics() -> PlainTextResponse:
        """Prometheus text exposition: rows landed, rejects, run durations and outcomes,
        last success and freshness per source (the series are listed in the README's
        "Operating medmirror")."""
        from flows.metrics import CONTENT_TYPE, exposition, warehouse_reader

        return PlainTextResponse(exposition(warehouse_reader()), media_type=CONTENT_TYPE)

    @app.get("/marts", tags=["marts"])
    def list_marts() -> dict[str, Any]:
        """Every mart: description, columns with their descriptions, primary key, the
        sources it comes from, whether it is built and whether it has a search function."""
        built, searchable = reader().built(), reader().searchable()
        listed = []
        for mart in marts().values():
            listed.append(
                {
                    "name": mart.name,
                    "description": mart.description,
                    "domain": mart.folder,
                    "primary_key": list(mart.primary_key),
                    "is_built": mart.name in built,
                    "is_searchable": mart.name in searchable,
                    "sources": list(mart.sources),
                    "columns": [
                        {"name": column.name, "description": column.description}
                        for column in mart.columns
                    ],
                }
            )
        every = sorted({source for mart in marts().values() for source in mart.sources})
        return {"marts": listed, "licences": licences_for(every)}

    @app.get("/marts/{mart}", tags=["marts"])
    def mart_rows(
        request: Request,
        mart: Annotated[str, Path(description="A mart's name (GET /marts lists them).")],
        limit: Annotated[
            int | None, Query(ge=1, description="Rows per page (capped by the server).")
        ] = None,
        after: Annotated[
            str | None, Query(description="The `next_cursor` of the previous page.")
        ] = None,
    ) -> dict[str, Any]:
        """Rows of a mart in primary-key order, filtered by columns (see the API
        description for the filter syntax), one page at a time."""
        size = _page_size(limit, settings)
        filters = _filters(request)
        page = reader().rows(mart, filters, after=after, limit=size)
        next_url = None
        if page.next_cursor:
            next_url = str(request.url.include_query_params(after=page.next_cursor, limit=size))
        return {
            "mart": mart,
            "rows": page.rows,
            "count": len(page.rows),
            "next_cursor": page.next_cursor,
            "next": next_url,
            "licences": licences_for(sources_of([mart])),
        }

    @app.get("/marts/{mart}/{key}", tags=["marts"])
    def mart_row(
        mart: Annotated[str, Path(description="A mart's name.")],
        key: Annotated[
            str,
            Path(description="The row's primary key; a composite key's values joined by commas."),
        ],
    ) -> dict[str, Any]:
        """One row of a mart by its primary key."""
        row = reader().row(mart, key)
        return {"mart": mart, "row": row, "licences": licences_for(sources_of([mart]))}

    @app.get("/search/{mart}", tags=["search"])
    def search(
        mart: Annotated[str, Path(description="A searchable mart (`is_searchable` in /marts).")],
        q: Annotated[str, Query(min_length=1, description="A web-style query: growth hormone")],
        limit: Annotated[int, Query(ge=1)] = 20,
    ) -> dict[str, Any]:
        """Full-text search with the mart's own search function (`marts.search_<mart>`),
        best hits first, with their rank."""
        rows = reader().search(mart, q, min(limit, settings.max_page_size))
        return {
            "mart": mart,
            "query": q,
            "rows": rows,
            "licences": licences_for(sources_of([mart])),
        }

    @app.get("/drugs/{drug_id}", tags=["drugs"])
    def drug(
        drug_id: Annotated[str, Path(description="`drugs.drug_id` (search: /search/drugs?q=)")],
        limit: Annotated[int, Query(ge=1, description="Rows of each linked list.")] = 50,
    ) -> dict[str, Any]:
        """A drug's profile (`drug_profile`: label highlights, special populations, top
        signals) with its formulations, trials, articles and adverse-event signals."""
        answer = reader().drug(drug_id, min(limit, settings.max_page_size))
        used = ["drug_profile", "drug_formulations", "drug_trials", "drug_articles"]
        used.append("drug_reaction_signals")
        return {
            "drug_id": drug_id,
            **answer,
            "licences": licences_for(sources_of([name for name in used if name in marts()])),
        }

    @app.get("/codes/icd10cm/{code}", tags=["codes"])
    def icd10cm(
        code: Annotated[str, Path(description="An ICD-10-CM code, with or without the dot.")],
    ) -> dict[str, Any]:
        """One ICD-10-CM code with its titles, chapter, block, hierarchy and notes."""
        row = reader().code("icd10cm", code)
        return {"system": "icd10cm", "row": row, "licences": licences_for(("icd10cm",))}

    @app.get("/codes/hcpcs/{code}", tags=["codes"])
    def hcpcs(
        code: Annotated[str, Path(description="A HCPCS Level II code or modifier (E0100).")],
    ) -> dict[str, Any]:
        """One HCPCS Level II code with its descriptions, action, dates and pricing."""
        row = reader().code("hcpcs", code)
        return {"system": "hcpcs", "row": row, "licences": licences_for(("hcpcs",))}

    @app.get("/analyses", tags=["analyses"])
    def analyses() -> dict[str, Any]:
        """The analyses DailyMed teams run, and the marts behind each."""
        return {
            "analyses": [
                {"name": name, "marts": list(ANALYSIS_MARTS[name]), "parts": list(parts)}
                for name, parts in ANALYSES.items()
            ]
        }

    @app.get("/analyses/{name}", tags=["analyses"])
    def one_analysis(
        name: Annotated[str, Path(description="ndc, drug-classes or names")],
    ) -> dict[str, Any]:
        """NDC analysis (formats, product types, packages per product, labelers, NDCs in
        several labels), drug classes (drugs per class, classes per drug, classes shared
        by brands) or names (brands per ingredient, ingredients per brand, shared brand
        names, name lengths, common suffixes)."""
        answer = analysis(reader(), name)
        return {
            "analysis": name,
            **answer,
            "licences": licences_for(sources_of(ANALYSIS_MARTS[name])),
        }

    return app


def _page_size(limit: int | None, settings: ApiSettings) -> int:
    if limit is None:
        return settings.default_page_size
    if limit > settings.max_page_size:
        raise ReaderError(f"limit is at most {settings.max_page_size} rows a page")
    return limit


def _filters(request: Request) -> list[Filter]:
    """Query parameters other than limit/after: `column=value` or `column__op=value`."""
    filters = []
    names = dict.fromkeys(request.query_params.keys())
    for name in names:
        if name in RESERVED_PARAMETERS:
            continue
        column, _, operator = name.partition("__")
        operator = operator or "eq"
        if operator not in OPERATORS:
            raise ReaderError(
                f"unknown filter {name!r}: use column=value or column__"
                f"{{{','.join(OPERATORS)}}}=value"
            )
        filters.append(Filter(column, operator, tuple(request.query_params.getlist(name))))
    return filters


def serve(settings: ApiSettings, connection: ConnectionInfo) -> None:
    """Run the API with uvicorn until interrupted."""
    import uvicorn

    check_bind(settings.host, settings.token)
    app = create_app(settings, connection)
    uvicorn.run(app, host=settings.host, port=settings.port, log_level="info")
