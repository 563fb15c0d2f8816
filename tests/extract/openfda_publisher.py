"""openFDA as a publisher whose data changes between runs, on 127.0.0.1.

Unlike a queue of recorded pages, the replay answers what it is asked from the records it
holds now: `search=<field>:[YYYYMMDD TO YYYYMMDD]` filters them, `sort=<field>:asc|desc`
orders them, `limit` pages them, and a page with more after it carries openFDA's
`Link: <...>; rel="next"` header with `skip=0&search_after=...` (the real paging pair,
tests/fixtures/openfda/drugsfda_semaglutide_limit2_page*.json: the token itself is
openFDA's own opaque value there; here it is constructed, `0=<offset>`). Each answer's
`meta` is openFDA's real meta block with `last_updated` set to the replay's as-of date and
`results` to the query's skip, limit and total; a search matching nothing is openFDA's
real 404 NOT_FOUND body. A test changes `records` and `as_of` between runs, as openFDA's
publications do.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any
from urllib.parse import urlencode

import orjson
from werkzeug import Request, Response

from tests.conftest import DERIVED

OPENFDA = DERIVED / "openfda"
REAL_META = orjson.loads(
    (OPENFDA / "drugsfda_semaglutide_limit2_page1_link_next.json").read_bytes()
)["meta"]
NOT_FOUND_BODY = (OPENFDA / "error_404_not_found.json").read_bytes()
RANGE = re.compile(r"^(?P<field>[\w.]+):\[(?P<low>\d{8}) TO (?P<high>\d{8})\]$")


class OpenFdaPublisher:
    """One openFDA endpoint (`path`) serving `records` as of `as_of`; requests are kept."""

    def __init__(self, httpserver: Any, path: str, *, as_of: date) -> None:
        self.url = httpserver.url_for(path)
        self.records: list[dict[str, Any]] = []
        self.as_of = as_of
        self.requests: list[dict[str, str]] = []
        httpserver.expect_request(path).respond_with_handler(self._answer)

    def searches(self) -> list[str]:
        return [args["search"] for args in self.requests if "search" in args]

    def _answer(self, request: Request) -> Response:
        args = dict(request.args)
        self.requests.append(args)
        matches = list(self.records)
        if "search" in args:
            found = RANGE.match(args["search"])
            if not found:
                return Response(f"the replay cannot search {args['search']!r}", status=500)
            low, high = found["low"], found["high"]
            matches = [
                record for record in matches if low <= str(record.get(found["field"]) or "") <= high
            ]
        if "sort" in args:
            field, _, order = args["sort"].partition(":")
            matches.sort(key=lambda record: str(record.get(field) or ""), reverse=order == "desc")
        if not matches:
            return Response(NOT_FOUND_BODY, status=404, content_type="application/json")
        limit = int(args.get("limit", 1))
        offset = int(args.get("search_after", "0=0").partition("=")[2])
        meta = {
            **REAL_META,
            "last_updated": self.as_of.isoformat(),
            "results": {"skip": 0, "limit": limit, "total": len(matches)},
        }
        body = {"meta": meta, "results": matches[offset : offset + limit]}
        headers = {}
        if offset + limit < len(matches):
            query = {
                **{name: value for name, value in args.items() if name != "search_after"},
                "skip": "0",
                "search_after": f"0={offset + limit}",
            }
            headers["Link"] = f'<{self.url}?{urlencode(query)}>; rel="next"'
        return Response(orjson.dumps(body), headers=headers, content_type="application/json")
