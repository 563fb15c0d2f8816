"""MCP tools over the marts: `medmirror mcp` (stdio) or `medmirror mcp --http --port N`
(streamable HTTP at `/mcp`).

Seven read-only tools for AI assistants, answered from the same queries as the HTTP API
(`serving.queries`) as the analyst role: search, drug_profile, trials_for, articles_for,
adverse_event_signals, code_lookup and freshness. Every answer carries `licences`: the
publisher, licence and attribution of the sources it comes from.
"""

from __future__ import annotations

import secrets
from typing import Annotated, Any, Literal

from pydantic import Field

from medmirror.settings import ConnectionInfo
from serving.catalog import marts, sources_of
from serving.freshness import freshness as source_freshness
from serving.licences import LICENCES, licences_for
from serving.queries import MartReader, ReaderError

INSTRUCTIONS = """medmirror mirrors public medical data (ClinicalTrials.gov, PubMed, DailyMed
and openFDA drug labels, FAERS adverse events, the FDA Orange Book, ICD-10-CM, HCPCS,
MedlinePlus) into one warehouse, consolidating drugs into one row per active-ingredient set
(`drug_id`). These tools only read it. Credit the sources each answer lists in `licences`.
Adverse-event signals are disproportionality statistics of spontaneous reports: they do
not establish that a drug causes a reaction."""

MAX_LIMIT = 200
# Tool parameters are read from these annotations (module level: they are evaluated late).
Limit = Annotated[int, Field(ge=1, le=MAX_LIMIT, description=f"How many rows (1-{MAX_LIMIT}).")]


def build_server(connection: ConnectionInfo, *, statement_timeout_ms: int = 5_000):
    """The MCP server with medmirror's tools, reading as `connection` (the analyst)."""
    from mcp.server.mcpserver import MCPServer
    from mcp.server.mcpserver.exceptions import ToolError

    marts()  # read dbt's manifest before the first call (a parse logs to stderr only)
    reader = MartReader(
        connection, statement_timeout_ms=statement_timeout_ms, application_name="medmirror-mcp"
    )
    server = MCPServer("medmirror", instructions=INSTRUCTIONS, version="1")

    def answer(used_marts: list[str], **data: Any) -> dict[str, Any]:
        known = marts()
        return {**data, "licences": licences_for(sources_of([m for m in used_marts if m in known]))}

    def checked(call):
        try:
            return call()
        except ReaderError as refused:
            raise ToolError(str(refused)) from None

    @server.tool()
    def search(
        mart: Annotated[
            str,
            Field(
                description="The mart to search: clinical_trials, pubmed_articles, drugs, "
                "orange_book_products, health_topics, food_items, icd10cm_codes, hcpcs_codes "
                "(the searchable marts that are built)."
            ),
        ],
        query: Annotated[str, Field(description="A web-style query: growth hormone")],
        limit: Limit = 10,
    ) -> dict[str, Any]:
        """Full-text search of one mart with its own ranked search function
        (`marts.search_<mart>`): the best rows first, each with its `rank`. Data from the
        mart's publisher (see `licences`)."""
        rows = checked(lambda: reader.search(mart, query, limit))
        return answer([mart], mart=mart, query=query, rows=rows)

    @server.tool()
    def drug_profile(
        drug: Annotated[
            str,
            Field(description="A drug_id, or a generic, brand or ingredient name (Lipitor)."),
        ],
        limit: Limit = 20,
    ) -> dict[str, Any]:
        """One drug (an active-ingredient set, consolidated from DailyMed, openFDA, the
        Orange Book and RxNorm): its label highlights (indications, boxed warning,
        contraindications), special populations, top FAERS signals, recent trials and
        articles (`marts.drug_profile`), plus its formulations (NDC products), trials,
        PubMed articles and adverse-event signals, `limit` of each with their counts.
        `matched_by` says how the name was resolved."""
        found = checked(lambda: reader.find_drug(drug))
        if found is None:
            raise ToolError(f"no drug matches {drug!r}; try search with mart=drugs")
        drug_id, matched_by = found
        profile = checked(lambda: reader.drug(drug_id, limit))
        used = ["drug_profile", "drug_formulations", "drug_trials", "drug_articles"]
        return answer(
            [*used, "drug_reaction_signals"],
            drug_id=drug_id,
            matched_by=matched_by,
            **profile,
        )

    @server.tool()
    def trials_for(
        drug: Annotated[
            str | None, Field(description="A drug_id or drug name (give this or condition).")
        ] = None,
        condition: Annotated[
            str | None,
            Field(description="A condition, matched as a case-insensitive substring."),
        ] = None,
        limit: Limit = 20,
    ) -> dict[str, Any]:
        """ClinicalTrials.gov studies of a drug (`marts.drug_trials`: interventions linked
        to the drug, with `link_method`) or of a condition (`marts.clinical_trials` whose
        conditions contain the text), most recently updated first, with the total count."""
        found = checked(lambda: reader.trials_for(drug=drug, condition=condition, limit=limit))
        return answer(["drug_trials" if drug else "clinical_trials"], **found)

    @server.tool()
    def articles_for(
        drug: Annotated[str, Field(description="A drug_id or drug name.")],
        limit: Limit = 20,
    ) -> dict[str, Any]:
        """PubMed articles indexed with the drug as a chemical (`marts.drug_articles`),
        newest first, with the total count."""
        found = checked(lambda: reader.articles_for(drug, limit))
        return answer(["drug_articles"], **found)

    @server.tool()
    def adverse_event_signals(
        drug: Annotated[str, Field(description="A drug_id, drug name, or FAERS ingredient name.")],
        limit: Limit = 20,
    ) -> dict[str, Any]:
        """FAERS disproportionality per reaction (MedDRA preferred term) for the drug
        (`marts.drug_reaction_signals`): case counts a-d, PRR and ROR with 95% CIs,
        chi-square and the signal flag; signals first, then by PRR. Spontaneous reports:
        a signal is not proof that the drug causes the reaction."""
        found = checked(lambda: reader.signals_for(drug, limit))
        return answer(["drug_reaction_signals"], **found)

    @server.tool()
    def code_lookup(
        system: Annotated[
            Literal["icd10cm", "hcpcs"],
            Field(description="icd10cm (diagnoses) or hcpcs (HCPCS Level II)."),
        ],
        code: Annotated[
            str | None, Field(description="A code (E11.9 or E119, E0100): one row.")
        ] = None,
        text: Annotated[
            str | None, Field(description="Words to search the code titles for instead.")
        ] = None,
        limit: Limit = 10,
    ) -> dict[str, Any]:
        """An ICD-10-CM code (`marts.icd10cm_codes`: titles, chapter, block, hierarchy,
        notes) or HCPCS Level II code (`marts.hcpcs_codes`) by its code, or the best
        matches of a text search of their titles."""
        if bool(code) == bool(text):
            raise ToolError("give a code or a text (one of them)")
        mart = reader.CODE_SYSTEMS[system][0]
        if code:
            row = checked(lambda: reader.code(system, code))
            return answer([mart], system=system, rows=[row])
        rows = checked(lambda: reader.code_search(system, text, limit))
        return answer([mart], system=system, query=text, rows=rows)

    @server.tool()
    def freshness() -> dict[str, Any]:
        """How fresh each source is: last successful load, newest record, raw rows and a
        fresh/stale verdict against the source's own freshness rule (as `medmirror
        status`), with each source's licence."""
        rows = source_freshness(reader.connection)
        return {"sources": rows, "licences": licences_for(LICENCES)}

    return server


def serve_stdio(connection: ConnectionInfo) -> None:
    build_server(connection).run("stdio")


def serve_http(connection: ConnectionInfo, host: str, port: int, token: str | None) -> None:
    """Streamable HTTP at http://HOST:PORT/mcp; a bearer token as the API's."""
    import uvicorn

    from serving.api import check_bind

    check_bind(host, token)
    app = build_server(connection).streamable_http_app(host=host)
    if token:
        app = _BearerToken(app, token)
    uvicorn.run(app, host=host, port=port, log_level="info")


class _BearerToken:
    """ASGI middleware: every HTTP request must carry `Authorization: Bearer <token>`."""

    def __init__(self, app, token: str) -> None:
        self.app = app
        self.expected = f"Bearer {token}".encode()

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http":
            headers = dict(scope.get("headers") or [])
            if not secrets.compare_digest(headers.get(b"authorization", b""), self.expected):
                await send(
                    {
                        "type": "http.response.start",
                        "status": 401,
                        "headers": [
                            (b"content-type", b"application/json"),
                            (b"www-authenticate", b"Bearer"),
                        ],
                    }
                )
                await send(
                    {"type": "http.response.body", "body": b'{"detail": "bearer token required"}'}
                )
                return
        await self.app(scope, receive, send)
