"""Engine, declarative base with a naming convention, and the per-request session."""

from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import Depends, Request
from psycopg_pool import ConnectionPool
from sqlalchemy import MetaData, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase

from audiences.core.errors import translate_integrity_error
from audiences.core.replica import Replica
from audiences.core.routing import route_facts
from audiences.core.settings import Settings

# Predictable constraint names: errors are translated by name (core/errors.py), and
# migrations stay reviewable.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def async_url(url: str) -> str:
    """The SQLAlchemy URL for psycopg 3, whatever driver spelling the user gave."""
    parsed = make_url(url)
    if parsed.drivername in ("postgres", "postgresql", "postgresql+psycopg2", "postgresql+asyncpg"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def libpq_url(url: str) -> str:
    """The plain libpq URL (for psycopg.connect) of a SQLAlchemy URL."""
    parsed = make_url(url)
    return parsed.set(drivername="postgresql").render_as_string(hide_password=False)


def create_engine(settings: Settings, url: str | None = None, **kwargs: Any) -> AsyncEngine:
    """The async engine for the configured database."""
    target = url or settings.database_url
    if not target:
        raise RuntimeError(
            "no database URL: start through `audiences serve` or set AUDIENCES_DATABASE_URL"
        )
    options: dict[str, Any] = {
        "pool_size": settings.db_pool_size,
        "max_overflow": settings.db_max_overflow,
        "pool_pre_ping": False,
        # The connection used last is used next: its backend is warm (its caches, psycopg's
        # prepared statements). First in, first out walked every request through the whole
        # pool once a burst had filled it, each to the backend idle the longest: a 100-contact
        # list took 1.84-2.0x raw PostgreSQL's time that way, 1.62-1.75x this way (lab runs,
        # docs/performance.md).
        "pool_use_lifo": True,
        "pool_timeout": settings.db_pool_timeout,
        "pool_recycle": 1800,
        # A backend whose client vanished (a killed worker) notices within 2 s, even in the
        # middle of a long statement, and rolls back and releases its locks.
        "connect_args": {
            "connect_timeout": 5,
            "application_name": "audiences",
            "options": "-c client_connection_check_interval=2000",
        },
    }
    options.update(kwargs)
    options["connect_args"] = connect_args(settings, options["connect_args"])
    engine = create_async_engine(async_url(target), **options)
    if settings.db_statement_timeout_ms and not settings.db_transaction_pooling:
        timeout = int(settings.db_statement_timeout_ms)

        @event.listens_for(engine.sync_engine, "connect")
        def _set_timeout(dbapi_connection: Any, _record: Any) -> None:
            with dbapi_connection.cursor() as cursor:
                cursor.execute(f"SET statement_timeout = {timeout}")

    return engine


def connect_args(settings: Settings, args: dict[str, Any]) -> dict[str, Any]:
    """psycopg's connection arguments; behind a transaction-pooling PgBouncer, without startup
    options (which it refuses) and with no server-side prepared statement (psycopg prepares a
    statement run five times on a connection, and the next transaction may run elsewhere)."""
    if not settings.db_transaction_pooling:
        return args
    return {**{k: v for k, v in args.items() if k != "options"}, "prepare_threshold": None}


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


READ_METHODS = ("GET", "HEAD")

AuthConnect = Callable[[], AbstractAsyncContextManager[AsyncConnection]]


@dataclass(frozen=True)
class Exports:
    """Synchronous connections for exports (a worker thread forwards COPY's rows several times
    faster than a coroutine), bounded: waiting longer than the pool timeout for one raises
    PoolTimeout (503); and the threads that run them."""

    url: str
    pool: ConnectionPool[Any]
    threads: ThreadPoolExecutor


@dataclass(frozen=True)
class Database:
    """Where requests get their connections: a session for a write (one transaction), a session
    for a read (autocommit: each statement its own snapshot, no BEGIN/COMMIT round trips), and
    short autocommit connections for credential look-ups and nonces."""

    write_sessions: async_sessionmaker[AsyncSession]
    read_sessions: async_sessionmaker[AsyncSession]
    # Uploads: one transaction each, on a pool of their own.
    upload_sessions: async_sessionmaker[AsyncSession]
    auth_connect: AuthConnect
    # The libpq URL, for connections of their own (an export streams on one).
    url: str
    engines: tuple[AsyncEngine, ...] = ()
    export_pool_size: int = 4
    pool_timeout: float = 5.0
    export_args: dict[str, Any] = field(
        default_factory=lambda: {"application_name": "audiences-export"}
    )
    replica: Replica | None = None
    _exports: list["Exports"] = field(default_factory=list)

    def exports(self) -> "Exports":
        """Connections and threads for exports, made on first use: the replica's while it is
        fresh (an export may lag), else the primary's."""
        replica = self.replica if self.replica is not None and self.replica.fresh else None
        url = replica.url if replica is not None else self.url
        for exports in self._exports:
            if exports.url == url:
                return exports
        pool: ConnectionPool[Any] = ConnectionPool(
            url,
            min_size=0,
            max_size=self.export_pool_size,
            timeout=self.pool_timeout,
            kwargs=self.export_args,
            open=True,
        )
        # Threads of their own: exports that wait on slow readers never hold the threads
        # anything else needs.
        threads = ThreadPoolExecutor(self.export_pool_size * 2 + 2, "audiences-export")
        self._exports.append(Exports(url, pool, threads))
        return self._exports[-1]

    def lagging_reads(self) -> async_sessionmaker[AsyncSession]:
        """Sessions for reads that may lag behind the caller's own writes: the replica's while
        it is fresh, else the primary's."""
        if self.replica is not None and self.replica.fresh:
            return self.replica.read_sessions
        return self.read_sessions

    @classmethod
    def open(cls, settings: Settings) -> "Database":
        """Pools for the configured database. A pooled connection whose mode differs from its
        engine's is switched on checkout and back on return, which costs more than the query on
        the hottest reads: the request engine is autocommit, so that only writes switch."""
        engine = create_engine(settings, isolation_level="AUTOCOMMIT")
        writes = engine.execution_options(isolation_level="READ COMMITTED")
        uploads = create_engine(settings, pool_size=settings.db_upload_pool_size, max_overflow=0)
        auth = create_auth_engine(settings)
        url = libpq_url(engine.url.render_as_string(hide_password=False))
        replica = None
        engines: tuple[AsyncEngine, ...] = (engine, auth, uploads)
        if settings.read_replica_url:
            replica_engine = create_engine(
                settings, settings.read_replica_url, isolation_level="AUTOCOMMIT"
            )
            replica = Replica(
                create_sessionmaker(replica_engine),
                libpq_url(settings.read_replica_url),
                replica_engine,
                settings.read_replica_max_lag,
            )
            engines = (*engines, replica_engine)
        return cls(
            create_sessionmaker(writes),
            create_sessionmaker(engine),
            create_sessionmaker(uploads),
            auth.connect,
            url,
            engines,
            settings.db_export_pool_size,
            settings.db_pool_timeout,
            connect_args(settings, {"application_name": "audiences-export"}),
            replica,
        )

    @classmethod
    def bound_to(cls, connection: AsyncConnection) -> "Database":
        """Every session and look-up on one connection whose transaction the caller owns (the
        tests': a request's commit only releases a savepoint, and the test rolls back)."""
        sessions = async_sessionmaker(
            bind=connection,
            join_transaction_mode="create_savepoint",
            expire_on_commit=False,
            autoflush=False,
        )

        @asynccontextmanager
        async def connect() -> AsyncIterator[AsyncConnection]:
            yield connection

        url = libpq_url(connection.engine.url.render_as_string(hide_password=False))
        return cls(sessions, sessions, sessions, connect, url)

    async def close(self) -> None:
        for engine in self.engines:
            await engine.dispose()
        for exports in self._exports:
            exports.pool.close()
            exports.threads.shutdown(wait=False, cancel_futures=True)


def database_of(request: Request) -> Database:
    database: Database = request.app.state.database
    return database


@asynccontextmanager
async def request_transaction(session: AsyncSession) -> AsyncIterator[AsyncSession]:
    """One transaction per request: committed when the handler returns, before the response is
    sent; rolled back on any error. Constraint violations become domain errors here."""
    try:
        yield session
        await session.commit()
    except IntegrityError as exc:
        await session.rollback()
        raise translate_integrity_error(exc) from exc
    except BaseException:
        await session.rollback()
        raise


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """The request's session: a read's runs each statement on its own; a write's is one
    transaction."""
    database = database_of(request)
    if route_facts(request.scope).streams_body:
        async with database.upload_sessions() as session, request_transaction(session):
            yield session
        return
    if request.method in READ_METHODS:
        sessions = database.read_sessions
        if route_facts(request.scope).may_lag:
            sessions = database.lagging_reads()
        # Nothing to commit: closing the session hands the connection back.
        async with sessions() as session:
            yield session
        return
    async with database.write_sessions() as session, request_transaction(session):
        yield session


async def claim_slot(session: AsyncSession, namespace: int, owner: int, slots: int) -> bool:
    """Takes one of `slots` transaction-scoped advisory locks of `owner` (an account), shared by
    every worker and released at commit or rollback; False when all are taken."""
    row = await session.execute(
        text(
            """
            SELECT slot FROM generate_series(0, CAST(:slots AS int) - 1) AS slot
            WHERE pg_try_advisory_xact_lock(CAST(:base AS bigint) + :owner * 256 + slot)
            LIMIT 1
            """
        ),
        {"slots": slots, "base": namespace << 56, "owner": owner},
    )
    return row.first() is not None


def create_auth_engine(settings: Settings) -> AsyncEngine:
    """Connections for credential look-ups and nonces: each statement commits at once, and
    without waiting for the disk (a nonce lost in a database crash only reopens a replay
    window the timestamp check still bounds)."""
    return create_engine(
        settings,
        pool_size=settings.db_auth_pool_size,
        max_overflow=0,
        isolation_level="AUTOCOMMIT",
        connect_args={
            "connect_timeout": 5,
            "application_name": "audiences-auth",
            "options": "-c synchronous_commit=off -c client_connection_check_interval=2000",
        },
    )


# scope="function": the exit code (the commit) runs before the response is sent, so a failed
# commit can never be answered with a 2xx.
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]
