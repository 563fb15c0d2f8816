"""Passwords in bulk locations: never stored with the location, taken from secrets.

A bulk location may need a password (DrugCentral's PostgreSQL URL of a restored dump, an
https URL behind basic authentication). medmirror keeps the location without it (in
`ops.refresh_runs`, Prefect's flow-run parameters, logs) and takes the password from
`[sources.<source>] bulk_password` in `.dlt/secrets.toml` or
`SOURCES__<SOURCE>__BULK_PASSWORD` (`medmirror refresh --bulk URL` puts a password given
in the URL there, for its own process only).
"""

from __future__ import annotations

from urllib.parse import quote, unquote, urlsplit, urlunsplit


def split_password(location: str) -> tuple[str, str | None]:
    """`location` without the password of its URL, and that password (None: none)."""
    parts = urlsplit(location)
    if not parts.netloc or parts.password is None:
        return location, None
    userinfo, _, hostport = parts.netloc.rpartition("@")
    user = userinfo.split(":", 1)[0]
    stripped = urlunsplit(parts._replace(netloc=f"{user}@{hostport}" if user else hostport))
    return stripped, unquote(parts.password)


def password_setting(source: str) -> str:
    """The environment variable a bulk location's password of `source` is read from."""
    return f"SOURCES__{source.upper()}__BULK_PASSWORD"


def with_password(location: str, source: str) -> str:
    """`location` with the password from `[sources.<source>] bulk_password` (secrets or
    the environment) when its URL names a user without one."""
    parts = urlsplit(location)
    if not parts.netloc or not parts.username or parts.password is not None:
        return location
    import dlt  # dlt's secrets; the command line imports this module for the two above

    password = dlt.secrets.get(f"sources.{source}.bulk_password")
    if not password:
        return location
    userinfo, _, hostport = parts.netloc.rpartition("@")
    netloc = f"{userinfo}:{quote(str(password), safe='')}@{hostport}"
    return urlunsplit(parts._replace(netloc=netloc))
