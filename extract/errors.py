"""The ways an extract run ends badly, each naming the source and the record or page.

`PublisherUnavailable` is transient (the publisher kept failing until the retry budget
ran out): a later attempt may succeed. Every other `ExtractError` is permanent for the
same input (a rejected request, a malformed page or file) and is not worth retrying.
"""

from __future__ import annotations

import re

from lxml import etree


class ExtractError(RuntimeError):
    """An extract failed; `source` and `where` say which publisher and which record."""

    retryable = False

    def __init__(self, source: str, where: str, problem: str) -> None:
        self.source = source
        self.where = where
        self.problem = problem
        super().__init__(f"{source}: {where}: {problem}")


class PublisherUnavailable(ExtractError):
    """The publisher answered 429/5xx, reset or timed out until the retry budget ran out."""

    retryable = True


class HostUnreachable(ExtractError):
    """The publisher's host name does not resolve: no network, or a wrong name. Not retried:
    DNS gives the same answer the next minute (an offline run fails in seconds)."""


class RequestRejected(ExtractError):
    """The publisher refused the request (4xx other than 429): credentials, a bad query."""


class MalformedInput(ExtractError):
    """A page or file that cannot be parsed: bad JSON/XML/UTF-8, a truncated archive."""


def invalid_xml(source: str, where: str, bad: etree.XMLSyntaxError) -> MalformedInput:
    """lxml's syntax error as a `MalformedInput` naming the line and column it broke at
    ("not valid XML at line 4, column 234790: Premature end of data in tag ...")."""
    line, column = bad.position
    if line == 0:
        return MalformedInput(source, where, "not valid XML: an empty document")
    problem = re.sub(r",? line \d+, column \d+$", "", bad.msg)
    return MalformedInput(
        source, where, f"not valid XML at line {line}, column {column}: {problem}"
    )
