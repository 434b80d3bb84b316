"""The schema exists only through migrations, and the models never drift from them."""

from collections.abc import Iterator

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text

from audiences.core import migrate
from audiences.core.db import libpq_url
from audiences.models import metadata
from tests.conftest import create_database, drop_database


@pytest.fixture
def scratch_url(server_url: str) -> Iterator[str]:
    url = create_database(server_url, prefix="audiences_migrations")
    yield url
    drop_database(server_url, url)


def sync_engine(url: str):  # type: ignore[no-untyped-def]
    return create_engine(libpq_url(url).replace("postgresql://", "postgresql+psycopg://", 1))


def test_upgrade_downgrade_upgrade(scratch_url: str):
    migrate.upgrade(scratch_url)
    migrate.downgrade(scratch_url, "base")
    engine = sync_engine(scratch_url)
    with engine.connect() as connection:
        assert set(inspect(connection).get_table_names()) <= {"alembic_version"}
    migrate.upgrade(scratch_url)
    with engine.connect() as connection:
        assert {"audiences", "contacts", "audience_members"} <= set(
            inspect(connection).get_table_names()
        )
        version = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
        assert version == migrate.head_revision()
    engine.dispose()


def test_models_and_migrations_do_not_drift(scratch_url: str):
    migrate.upgrade(scratch_url)
    engine = sync_engine(scratch_url)
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), metadata)
    engine.dispose()
    assert differences == []


def test_every_key_includes_account_id(scratch_url: str):
    """So the schema distributes by account_id (Citus) unchanged. api_keys' consumer key is
    the one global key: requests name only the key (a reference table)."""
    migrate.upgrade(scratch_url)
    engine = sync_engine(scratch_url)
    # Credentials are named by key alone, and sign-in throttling is by key or client address;
    # a console session by its cookie's token alone (a small table, like api_keys).
    allowed_global = {
        "uq_api_keys_consumer_key",
        "pk_accounts",
        "pk_auth_failures",
        "pk_console_sessions",
    }
    with engine.connect() as connection:
        rows = connection.execute(
            text(
                """
                SELECT c.conname, array_agg(a.attname::text)
                FROM pg_constraint c
                JOIN pg_class t ON t.oid = c.conrelid
                JOIN pg_namespace n ON n.oid = t.relnamespace AND n.nspname = 'public'
                JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = ANY(c.conkey)
                WHERE c.contype IN ('p', 'u', 'f') AND t.relname <> 'alembic_version'
                GROUP BY c.conname
                UNION ALL
                SELECT i.relname, array_agg(coalesce(a.attname::text, 'expr'))
                FROM pg_index x
                JOIN pg_class i ON i.oid = x.indexrelid
                JOIN pg_class t ON t.oid = x.indrelid
                JOIN pg_namespace n ON n.oid = t.relnamespace AND n.nspname = 'public'
                LEFT JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = ANY(x.indkey)
                WHERE x.indisunique AND NOT x.indisprimary
                  AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.oid)
                GROUP BY i.relname
                """
            )
        ).all()
    engine.dispose()
    assert rows
    offenders = [
        name for name, columns in rows if "account_id" not in columns and name not in allowed_global
    ]
    assert offenders == []


def test_audience_name_keys_are_backfilled_and_older_names_keep_theirs(scratch_url: str):
    """The migration that folds names in Python: existing audiences get their key; of two that
    only the new rule calls the same, the older keeps the key and the newer keeps its name."""
    migrate.upgrade(scratch_url, "4ae7db01838f")
    engine = sync_engine(scratch_url)
    names = ["Caf\u00e9", "Cafe\u0301", "Stra\u00dfe", "Other", "STRASSE"]
    with engine.begin() as connection:
        account = connection.execute(
            text("INSERT INTO accounts (name, products) VALUES ('A', '{}') RETURNING account_id")
        ).scalar_one()
        for number, name in enumerate(names):
            connection.execute(
                text("INSERT INTO audiences (account_id, external_id, name) VALUES (:a, :e, :n)"),
                {"a": account, "e": f"a{number}", "n": name},
            )
    migrate.upgrade(scratch_url)
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT external_id, name_key FROM audiences")).all()
    engine.dispose()
    keys = {external_id: key for external_id, key in rows}
    assert keys == {"a0": "caf\u00e9", "a1": None, "a2": "strasse", "a3": "other", "a4": None}


def test_the_schema_fingerprint_changes_with_any_migration_text(tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    # The ephemeral start's cached cluster is keyed by it: a migration re-chained under the
    # same head revision must not reuse a template built from the old chain.
    import shutil

    copy = tmp_path / "migrations"
    shutil.copytree(migrate.MIGRATIONS, copy)
    monkeypatch.setattr(migrate, "MIGRATIONS", copy)
    before = migrate.schema_fingerprint()
    assert before.startswith(f"{migrate.head_revision()}-")
    first = sorted((copy / "versions").glob("*.py"))[0]
    first.write_text(first.read_text() + "\n# edited\n")
    assert migrate.schema_fingerprint() != before
