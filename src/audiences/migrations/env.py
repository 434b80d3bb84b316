"""Alembic environment. Runs migrations on a synchronous psycopg connection, so the same code
serves the CLI, the server's start-up and the tests, whatever event loop is running."""

from alembic import context
from sqlalchemy import create_engine, pool, text

from audiences.core.db import libpq_url
from audiences.core.settings import Settings
from audiences.models import metadata

config = context.config


def _url() -> str:
    url = config.attributes.get("database_url") or config.get_main_option("sqlalchemy.url")
    if not url:
        url = Settings().database_url
    if not url:
        raise RuntimeError("set AUDIENCES_DATABASE_URL, or run `audiences db upgrade`")
    return libpq_url(url).replace("postgresql://", "postgresql+psycopg://", 1)


def run_migrations_offline() -> None:
    context.configure(url=_url(), target_metadata=metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        context.configure(connection=connection, target_metadata=metadata)
        with context.begin_transaction():
            context.run_migrations()
        return
    # No server-side prepared statements: behind a transaction-pooling PgBouncer the server
    # connection is shared (docs/scaling.md).
    engine = create_engine(
        _url(), poolclass=pool.NullPool, connect_args={"prepare_threshold": None}
    )
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=metadata)
        with context.begin_transaction():
            # Several servers may start at once: one migrates, the others wait and find nothing to do.
            connection.execute(text("SELECT pg_advisory_xact_lock(727274)"))
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
