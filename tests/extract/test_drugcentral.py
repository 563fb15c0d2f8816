"""DrugCentral extract: dlt's SQL source reading a real PostgreSQL database (a database on
the tests' embedded server) holding a constructed slice of DrugCentral's documented tables
(tests/fixtures/drugcentral/drugcentral_slice_constructed.sql)."""

from __future__ import annotations

import uuid
from dataclasses import replace

import pytest

from extract.drugcentral.helpers import with_tls
from extract.errors import PublisherUnavailable, RequestRejected
from extract.landing import LandingResult
from medmirror.settings import ConnectionInfo
from tests.conftest import _admin_sql, free_port, land_source, query, sample

SLICE = "drugcentral/drugcentral_slice_constructed.sql"


@pytest.fixture
def drugcentral_db(warehouse) -> ConnectionInfo:
    """A database laid out like DrugCentral's, holding the constructed slice."""
    admin = warehouse.connection()
    name = f"drugcentral_{uuid.uuid4().hex[:8]}"
    _admin_sql(admin, f'create database "{name}"')
    info = replace(admin, database=name)
    conn = info.connect()
    try:
        with conn, conn.cursor() as cur:
            cur.execute(sample(SLICE).decode())
    finally:
        conn.close()
    yield info
    _admin_sql(admin, f'drop database "{name}" with (force)')


def land_drugcentral(connection: ConnectionInfo, source_db: ConnectionInfo) -> LandingResult:
    return land_source(connection, "drugcentral", database_url=source_db.url())


def test_a_release_lands_every_table_once_with_its_licence(database, drugcentral_db):
    result = land_drugcentral(database, drugcentral_db)

    assert result.rows == {
        "structures": 3,
        "identifier": 9,
        "atc": 4,
        "struct2atc": 4,
        "act_table_full": 4,
        "releases": 1,
    }
    assert query(
        database,
        "select record ->> 'identifier', record ->> 'struct_id' from raw_drugcentral.identifier "
        "where record ->> 'id_type' = 'UNII' order by 1",
    ) == [("9100L32L2N", "1725"), ("A0JWA85V8F", "257"), ("WK2XYI10QM", "1407")]
    assert query(
        database,
        "select act_id, db_version, record ->> 'gene', record ->> 'action_type' "
        "from raw_drugcentral.act_table_full where record ->> 'struct_id' = '257'",
    ) == [("101", 50, "HMGCR", "INHIBITOR")]
    ((licence, attribution, uri),) = query(
        database, "select licence, attribution, source_uri from raw_drugcentral.releases"
    )
    assert licence == "CC BY-SA 4.0"
    assert "DrugCentral" in attribution
    assert drugcentral_db.password not in uri  # the connection string without its password

    assert land_drugcentral(database, drugcentral_db).total_rows == 0  # same release

    conn = drugcentral_db.connect()
    with conn, conn.cursor() as cur:
        cur.execute("update dbversion set version = 51")
    assert land_drugcentral(database, drugcentral_db).rows["structures"] == 3


def test_an_unreachable_database_is_a_transient_error_without_the_password(database):
    url = f"postgresql://drugman:not-shown@127.0.0.1:{free_port()}/drugcentral"
    with pytest.raises(PublisherUnavailable, match="cannot connect") as failure:
        land_drugcentral(database, ConnectionInfo.from_url(url))
    assert "not-shown" not in str(failure.value)


def test_a_wrong_password_is_final_and_not_shown(database, drugcentral_db):
    wrong = replace(drugcentral_db, password="not-the-password")

    with pytest.raises(RequestRejected, match="password authentication failed") as failure:
        land_drugcentral(database, wrong)

    assert failure.value.retryable is False  # the refresh task does not retry it
    assert "not-the-password" not in str(failure.value)


def test_tls_is_asked_for_with_the_certificate_verified_except_on_this_machine():
    public = "postgresql://drugman:dosage@unmtid-dbs.net:5433/drugcentral"
    assert with_tls(public) == f"{public}?sslmode=verify-full&sslrootcert=system"
    assert with_tls(public, verify=False) == f"{public}?sslmode=disable"
    local = "postgresql://u:p@127.0.0.1:5432/drugcentral"
    assert with_tls(local) == local  # a restored dump on this machine
    chosen = f"{public}?sslmode=require"
    assert with_tls(chosen) == chosen  # the user's own choice stands


def test_a_url_asking_for_tls_from_a_server_without_it_is_refused(database, drugcentral_db):
    url = drugcentral_db.url() + "?sslmode=verify-full"

    with pytest.raises(RequestRejected, match="server does not support SSL|offers no TLS"):
        land_source(database, "drugcentral", database_url=url)
