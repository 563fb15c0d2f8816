"""Who may do what in the warehouse: a loader, a transformer and an analyst role.

| role                      | may                                                        |
|---------------------------|------------------------------------------------------------|
| `medmirror_loader`        | own and write the `raw_<source>` schemas; read `staging`   |
| `medmirror_transformer`   | read raw; own and build `staging`, `intermediate`, `marts`, `ops` |
| `medmirror_analyst`       | read `marts` (tables and the search functions); nothing else |

The loader reads `staging` so that an enrichment source (RxNav) can pick the codes and
names it has not looked up yet; staging holds only views of the raw data the loader owns,
so this shows it nothing new. The owner (`medmirror`, the superuser of the embedded
PostgreSQL) creates them. Each
role's password is generated once and kept in a file only its user can read.
`ensure_roles` is idempotent: it runs whenever medmirror starts work, so a new source's
raw schema is set up before its first load.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path

from psycopg2 import sql

from medmirror.settings import ConnectionInfo

LOADER = "medmirror_loader"
TRANSFORMER = "medmirror_transformer"
ANALYST = "medmirror_analyst"
ROLES = {"loader": LOADER, "transformer": TRANSFORMER, "analyst": ANALYST}
TRANSFORMER_SCHEMAS = ("staging", "intermediate", "marts", "ops")


def role_password(password_dir: Path, role: str) -> str:
    """The role's password, generated and stored (mode 0600) on first use."""
    from medmirror.warehouse import write_private

    path = password_dir / f"{role}.password"
    if not path.exists():
        write_private(path, secrets.token_urlsafe(24) + "\n")
    return path.read_text().strip()


def role_connection(owner: ConnectionInfo, password_dir: Path, kind: str) -> ConnectionInfo:
    role = ROLES[kind]
    return replace(owner, user=role, password=role_password(password_dir, role))


def ensure_roles(owner: ConnectionInfo, password_dir: Path, raw_schemas: Iterable[str]) -> None:
    """Create or update the three roles and their privileges on the owner's database."""
    database = sql.Identifier(owner.database)
    loader, transformer, analyst = (sql.Identifier(role) for role in (LOADER, TRANSFORMER, ANALYST))
    conn = owner.connect()
    try:
        with conn, conn.cursor() as cur:
            # Serialise concurrent set-ups (two commands starting at once).
            cur.execute("select pg_advisory_xact_lock(7406613151023410)")
            for role in (LOADER, TRANSFORMER, ANALYST):
                _ensure_login_role(cur, role, role_password(password_dir, role))
            cur.execute(sql.SQL("revoke all on database {} from public").format(database))
            cur.execute(
                sql.SQL("grant connect on database {} to {}, {}, {}").format(
                    database, loader, transformer, analyst
                )
            )
            # dbt's incremental models stage their batches in temporary tables.
            cur.execute(
                sql.SQL("grant temporary on database {} to {}").format(database, transformer)
            )
            cur.execute("revoke all on schema public from public")
            # The search functions' GIN index holds a date too (see the dbt macros).
            cur.execute("create extension if not exists btree_gin")
            for schema in TRANSFORMER_SCHEMAS:
                _own_schema(cur, schema, TRANSFORMER)
            for schema in raw_schemas:
                _own_schema(cur, schema, LOADER)
                name = sql.Identifier(schema)
                cur.execute(sql.SQL("grant usage on schema {} to {}").format(name, transformer))
                cur.execute(
                    sql.SQL("grant select on all tables in schema {} to {}").format(
                        name, transformer
                    )
                )
                cur.execute(
                    sql.SQL(
                        "alter default privileges for role {} in schema {} "
                        "grant select on tables to {}"
                    ).format(loader, name, transformer)
                )
            staging = sql.Identifier("staging")
            cur.execute(sql.SQL("grant usage on schema {} to {}").format(staging, loader))
            cur.execute(
                sql.SQL("grant select on all tables in schema {} to {}").format(staging, loader)
            )
            cur.execute(
                sql.SQL(
                    "alter default privileges for role {} in schema {} grant select on tables to {}"
                ).format(transformer, staging, loader)
            )
            marts = sql.Identifier("marts")
            cur.execute(sql.SQL("grant usage on schema {} to {}").format(marts, analyst))
            cur.execute(
                sql.SQL("grant select on all tables in schema {} to {}").format(marts, analyst)
            )
            cur.execute(
                sql.SQL(
                    "alter default privileges for role {} in schema {} grant select on tables to {}"
                ).format(transformer, marts, analyst)
            )
            # Functions are executable by everyone by default; only marts' are reachable.
            cur.execute(
                sql.SQL(
                    "alter default privileges for role {} revoke execute on functions from public"
                ).format(transformer)
            )
            cur.execute(
                sql.SQL(
                    "alter default privileges for role {} in schema {} "
                    "grant execute on functions to {}"
                ).format(transformer, marts, analyst)
            )
    finally:
        conn.close()


def _ensure_login_role(cur, role: str, password: str) -> None:
    cur.execute("select 1 from pg_roles where rolname = %s", (role,))
    verb = "alter" if cur.fetchone() else "create"
    cur.execute(
        sql.SQL(
            verb + " role {} with login nosuperuser nocreatedb nocreaterole noinherit "
            "noreplication nobypassrls password %s"
        ).format(sql.Identifier(role)),
        (password,),
    )


def _own_schema(cur, schema: str, role: str) -> None:
    """`role` owns `schema` and everything in it (tables made before roles existed too)."""
    name, owner = sql.Identifier(schema), sql.Identifier(role)
    cur.execute(sql.SQL("create schema if not exists {} authorization {}").format(name, owner))
    cur.execute(sql.SQL("alter schema {} owner to {}").format(name, owner))
    cur.execute(
        """
        select c.relname, c.relkind
        from pg_class as c
        join pg_namespace as n on n.oid = c.relnamespace
        where n.nspname = %s and c.relkind in ('r', 'v', 'm', 'S', 'p')
            and pg_get_userbyid(c.relowner) <> %s
            -- a sequence of an identity or serial column follows its table's owner
            and not exists (
                select from pg_depend as d
                where d.objid = c.oid and d.classid = 'pg_class'::regclass
                    and d.deptype in ('a', 'i')
            )
        """,
        (schema, role),
    )
    kinds = {"r": "table", "p": "table", "v": "view", "m": "materialized view", "S": "sequence"}
    for relation, kind in cur.fetchall():
        cur.execute(
            sql.SQL("alter " + kinds[kind] + " {} owner to {}").format(
                sql.Identifier(schema, relation), owner
            )
        )
