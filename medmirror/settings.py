"""Where medmirror keeps its data and which database it talks to.

Every setting comes from an environment variable with a default that works on a laptop:

| variable                 | default                     | meaning                                 |
|--------------------------|-----------------------------|-----------------------------------------|
| `MEDMIRROR_DATA_DIR`     | `<project>/data`            | embedded PostgreSQL, dlt and Prefect    |
| `MEDMIRROR_DB_PORT`      | `55432`                     | TCP port of the embedded PostgreSQL     |
| `MEDMIRROR_DATABASE_URL` | unset                       | use this PostgreSQL instead             |
| `MEDMIRROR_DBT_TARGET_DIR` | `dbt_project/target`      | dbt's parsed project and logs           |

`profiles.yml` reads the same database settings (`MEDMIRROR_DB_*`) through `env_var`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

PROJECT_DIR = Path(__file__).resolve().parents[1]
DBT_PROJECT_DIR = PROJECT_DIR / "dbt_project"
SAMPLES_DIR = PROJECT_DIR / "samples"

DEFAULT_DB_PORT = 55432
DEFAULT_DB_NAME = "medmirror"
OWNER_ROLE = "medmirror"


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    db_port: int
    database_url: str | None
    dbt_target_dir: Path = DBT_PROJECT_DIR / "target"

    @property
    def uses_embedded_db(self) -> bool:
        return self.database_url is None

    @property
    def pg_dir(self) -> Path:
        return self.data_dir / "postgres"

    @property
    def dlt_dir(self) -> Path:
        return self.data_dir / "dlt"

    @property
    def prefect_dir(self) -> Path:
        return self.data_dir / "prefect"


def load_settings() -> Settings:
    data_dir = Path(os.environ.get("MEDMIRROR_DATA_DIR") or PROJECT_DIR / "data").resolve()
    return Settings(
        data_dir=data_dir,
        db_port=int(os.environ.get("MEDMIRROR_DB_PORT") or DEFAULT_DB_PORT),
        database_url=os.environ.get("MEDMIRROR_DATABASE_URL") or None,
        dbt_target_dir=Path(
            os.environ.get("MEDMIRROR_DBT_TARGET_DIR") or DBT_PROJECT_DIR / "target"
        ).resolve(),
    )


@dataclass(frozen=True)
class ConnectionInfo:
    """The parts of a PostgreSQL connection string, as dlt, dbt and psycopg2 want them."""

    host: str
    port: int
    user: str
    password: str
    database: str

    @classmethod
    def from_url(cls, url: str) -> ConnectionInfo:
        parts = urlsplit(url)
        if parts.scheme not in ("postgresql", "postgres"):
            raise ValueError("a database URL must start with postgresql://")
        return cls(
            host=unquote(parts.hostname or "127.0.0.1"),
            port=parts.port or 5432,
            user=unquote(parts.username or ""),
            password=unquote(parts.password or ""),
            database=unquote(parts.path.lstrip("/") or DEFAULT_DB_NAME),
        )

    def url(self, *, with_password: bool = True) -> str:
        secret = f":{quote(self.password, safe='')}" if with_password and self.password else ""
        host = quote(self.host, safe="") if self.host.startswith("/") else self.host
        return (
            f"postgresql://{quote(self.user, safe='')}{secret}@{host}:{self.port}/{self.database}"
        )

    def connect(self):  # -> psycopg2 connection
        import psycopg2

        return psycopg2.connect(**self.psycopg_kwargs(), application_name="medmirror")

    def psycopg_kwargs(self) -> dict[str, str | int]:
        return {
            "host": self.host,
            "port": self.port,
            "user": self.user,
            "password": self.password,
            "dbname": self.database,
        }
