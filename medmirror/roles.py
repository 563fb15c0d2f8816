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

What one role could do to another is closed too: the advisory-lock functions (the refresh
lock, the role set-up lock) are revoked from PUBLIC and granted to the loader and the
transformer only, so an analyst cannot take a lock medmirror waits for; the analyst has a
connection limit and a statement timeout (`MEDMIRROR_ANALYST_CONNECTIONS`, default 20;
`MEDMIRROR_ANALYST_STATEMENT_TIMEOUT`, default 10min) so a BI tool cannot take every
connection slot or hold a mart's lock for ever; the transformer runs with
`row_security = off` and functions the loader creates are not executable by PUBLIC, so a
row-security policy the loader puts on its raw table cannot run its code as the
transformer (the query fails instead). Every lock medmirror waits for has a timeout
(`MEDMIRROR_LOCK_TIMEOUT`, seconds, default 60) and a message saying what held it.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path

import psycopg2
from psycopg2 import sql

from medmirror.settings import ConnectionInfo
from medmirror.warehouse import WarehouseError

LOADER = "medmirror_loader"
TRANSFORMER = "medmirror_transformer"
ANALYST = "medmirror_analyst"
ROLES = {"loader": LOADER, "transformer": TRANSFORMER, "analyst": ANALYST}
# `dbt_test__audit`: where dbt keeps a failing data test's rows (`store_failures`); the
# transformer cannot create schemas, so it is made here like the others.
TRANSFORMER_SCHEMAS = ("staging", "intermediate", "marts", "ops", "dbt_test__audit")
# pg_advisory_xact_lock key serialising concurrent role set-ups (any fixed bigint).
ROLE_SETUP_LOCK_KEY = 7_406_613_151_023_410


class LockWaitTimeout(WarehouseError):
    """medmirror waited its lock timeout for a lock another session holds."""


def lock_timeout_s() -> int:
    """How long medmirror waits for a lock (`MEDMIRROR_LOCK_TIMEOUT`, seconds)."""
    return int(os.environ.get("MEDMIRROR_LOCK_TIMEOUT") or 60)


def analyst_limits() -> tuple[int, str]:
    """The analyst's connection limit and statement timeout."""
    return (
        int(os.environ.get("MEDMIRROR_ANALYST_CONNECTIONS") or 20),
        os.environ.get("MEDMIRROR_ANALYST_STATEMENT_TIMEOUT") or "10min",
    )


def role_password(password_dir: Path, role: str) -> str:
    """The role's password, generated and stored (mode 0600) on first use."""
    from medmirror.files import write_private

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
            # Every lock this set-up waits for (the set-up lock, then tables whose owner
            # it changes) is waited for at most the lock timeout.
            cur.execute("select set_config('lock_timeout', %s, true)", (f"{lock_timeout_s()}s",))
            # Serialise concurrent set-ups (two commands starting at once).
            _take_setup_lock(cur, owner)
            for role in (LOADER, TRANSFORMER, ANALYST):
                _ensure_login_role(cur, role, role_password(password_dir, role))
            connections, statement_timeout = analyst_limits()
            cur.execute(
                sql.SQL("alter role {} connection limit {}").format(
                    analyst, sql.Literal(connections)
                )
            )
            for setting, value in (
                ("statement_timeout", statement_timeout),
                ("idle_in_transaction_session_timeout", statement_timeout),
            ):
                cur.execute(
                    sql.SQL("alter role {} set {} = {}").format(
                        analyst, sql.Identifier(setting), sql.Literal(value)
                    )
                )
            # A row-security policy on a table the loader owns would run as whoever reads
            # it: the transformer does not run them (its query fails instead).
            cur.execute(sql.SQL("alter role {} set row_security = off").format(transformer))
            _restrict_advisory_locks(cur, (loader, transformer))
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
            # Nor are the loader's own functions (called from a policy or a view it owns).
            cur.execute(
                sql.SQL(
                    "alter default privileges for role {} revoke execute on functions from public"
                ).format(loader)
            )
            for schema in raw_schemas:
                cur.execute(
                    sql.SQL("revoke execute on all functions in schema {} from public").format(
                        sql.Identifier(schema)
                    )
                )
    finally:
        conn.close()


def _take_setup_lock(cur, owner: ConnectionInfo) -> None:
    """The role set-up lock, or `LockWaitTimeout` naming who holds it."""
    cur.execute("savepoint setup_lock")
    try:
        cur.execute("select pg_advisory_xact_lock(%s)", (ROLE_SETUP_LOCK_KEY,))
    except psycopg2.errors.LockNotAvailable:
        cur.execute("rollback to savepoint setup_lock")
        raise LockWaitTimeout(
            f"waited {lock_timeout_s()} s for the role set-up lock of {owner.database}, held by "
            f"{advisory_lock_holder(cur, ROLE_SETUP_LOCK_KEY)}: another medmirror command is "
            "setting up the warehouse, or that session is stuck; try again, or end it "
            "(select pg_terminate_backend(pid)) as the owner"
        ) from None


def advisory_lock_holder(cur, key: int) -> str:
    """Who holds the advisory lock `key`, in words ("session 123 of medmirror_analyst,
    since 2026-01-02 03:04"), as much as this role may see."""
    cur.execute(
        """
        select l.pid, a.usename, a.backend_start
        from pg_locks as l
        left join pg_stat_activity as a on a.pid = l.pid
        where l.locktype = 'advisory' and l.granted and l.objsubid = 1
            and l.classid::bigint = (%(key)s >> 32) and l.objid::bigint = (%(key)s & 4294967295)
        limit 1
        """,
        {"key": key},
    )
    holder = cur.fetchone()
    if holder is None:
        return "a session that has ended since"
    pid, user, since = holder
    text = f"session {pid}" + (f" of {user}" if user else "")
    return text + (f", since {since:%Y-%m-%d %H:%M}" if since else "")


def _restrict_advisory_locks(cur, roles: tuple[sql.Identifier, ...]) -> None:
    """Only `roles` (and the owner) may take advisory locks in this database: PUBLIC may
    not, so an analyst cannot hold the refresh or set-up lock (it needs a superuser: run
    as the embedded warehouse's owner)."""
    cur.execute(
        """
        select p.oid::regprocedure::text
        from pg_proc as p
        join pg_namespace as n on n.oid = p.pronamespace
        where n.nspname = 'pg_catalog' and p.proname like 'pg%%advisory%%'
        order by 1
        """
    )
    for (function,) in cur.fetchall():
        signature = sql.SQL(function)  # from pg_proc: pg_advisory_lock(bigint)
        cur.execute(sql.SQL("revoke execute on function {} from public").format(signature))
        cur.execute(
            sql.SQL("grant execute on function {} to {}").format(
                signature, sql.SQL(", ").join(roles)
            )
        )


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
