"""The connection each part of medmirror uses: least privilege on the embedded warehouse.

On the embedded PostgreSQL, extracts run as the loader role, dbt and the run log as the
transformer, searches as the analyst (see `medmirror.roles`). With
`MEDMIRROR_DATABASE_URL`, everything uses that URL unless `MEDMIRROR_LOADER_URL`,
`MEDMIRROR_TRANSFORMER_URL` or `MEDMIRROR_ANALYST_URL` names a role's own.
"""

from __future__ import annotations

import os
from functools import cache

from medmirror.roles import ensure_roles, role_connection
from medmirror.settings import ConnectionInfo, load_settings
from medmirror.warehouse import EmbeddedWarehouse, resolve_connection

KINDS = ("owner", "loader", "transformer", "analyst")


def connection_for(kind: str) -> ConnectionInfo:
    """How `kind` ("owner", "loader", "transformer" or "analyst") reaches the warehouse."""
    if kind not in KINDS:
        raise ValueError(f"unknown role {kind!r} (one of {', '.join(KINDS)})")
    settings = load_settings()
    if settings.database_url:
        own = os.environ.get(f"MEDMIRROR_{kind.upper()}_URL")
        return ConnectionInfo.from_url(own or settings.database_url)
    owner = resolve_connection(settings)
    if kind == "owner":
        return owner
    _roles_ready(owner)
    return role_connection(owner, _password_dir(), kind)


def prepare_roles() -> None:
    """Create or update the roles now (the embedded warehouse must run)."""
    _roles_ready.cache_clear()
    _roles_ready(resolve_connection(load_settings()))


@cache
def _roles_ready(owner: ConnectionInfo) -> None:
    # the registry imports every source (dlt, about 2 s): only when roles are made
    from flows.sources import SOURCES

    ensure_roles(owner, _password_dir(), [spec.raw_schema for spec in SOURCES.values()])


def _password_dir():
    return EmbeddedWarehouse(load_settings()).password_file.parent / "roles"
