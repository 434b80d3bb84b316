"""Applying the Alembic migrations from code (CLI, server start-up, tests)."""

import hashlib
from pathlib import Path

import psycopg
from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from alembic.util import CommandError

from audiences.core.db import libpq_url

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["database_url"] = database_url
    return config


def schema_fingerprint() -> str:
    """The head revision and a digest of every migration's text: a schema built from other
    migrations (a revision re-chained, a migration edited) has another fingerprint."""
    digest = hashlib.sha256()
    for path in sorted((MIGRATIONS / "versions").glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return f"{head_revision() or 'empty'}-{digest.hexdigest()[:12]}"


def upgrade(database_url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(database_url), revision)


def downgrade(database_url: str, revision: str = "base") -> None:
    command.downgrade(alembic_config(database_url), revision)


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config("")).get_current_head()


def current_revision(database_url: str) -> str | None:
    """The revision the database's schema is at; None when it has none (an empty database)."""
    with psycopg.connect(libpq_url(database_url), connect_timeout=5) as connection:
        table = connection.execute("SELECT to_regclass('alembic_version')").fetchone()
        if table is None or table[0] is None:
            return None
        row = connection.execute("SELECT version_num FROM alembic_version").fetchone()
        return str(row[0]) if row else None


def schema_problem(database_url: str) -> str | None:
    """What keeps this version from using the database's schema, said with the way out; None
    when the schema is at the newest migration. Nothing is changed."""
    current = current_revision(database_url)
    head = head_revision()
    if current == head:
        return None
    if current is None:
        return "The database has no audiences schema yet: run `audiences db upgrade` first."
    try:
        ScriptDirectory.from_config(alembic_config("")).get_revision(current)
    except CommandError:
        return (
            f"The database's schema ({current}) is newer than this version of audiences knows "
            "(it was upgraded by a newer one): upgrade audiences."
        )
    return (
        f"The database's schema ({current}) is older than this version's ({head}): "
        "run `audiences db upgrade`."
    )
