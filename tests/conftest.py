"""Test database and app fixtures.

The session creates a fresh database on the PostgreSQL named by AUDIENCES_TEST_DATABASE_URL
(any database on that server; the tests create and drop their own) or, when unset, on an
embedded PostgreSQL; the schema is built by the Alembic migrations. Each test runs inside a
transaction that is rolled back at the end."""

import os
import secrets
import tempfile
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import psycopg
import pytest
from fastapi import FastAPI
from psycopg import sql
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from audiences.accounts import service as accounts_service
from audiences.app import create_app
from audiences.core import migrate
from audiences.core.credentials import SecretBox
from audiences.core.db import Database, create_engine, create_sessionmaker, libpq_url
from audiences.core.embedded import start_embedded
from audiences.core.settings import Settings

SECRET_KEY = "tests-only-server-key-5f0c1e9a7b3d2846"
BASE = "/integrationservice"
BASES = ("/integrationservice", "/integrationservice-1.1.0")


@pytest.fixture(scope="session")
def server_url() -> Iterator[str]:
    """A URL of a PostgreSQL server the tests may create databases on."""
    configured = os.environ.get("AUDIENCES_TEST_DATABASE_URL")
    if configured:
        yield libpq_url(configured)
        return
    with tempfile.TemporaryDirectory(prefix="audiences-test-") as folder:
        yield start_embedded(Path(folder), database="postgres")


def create_database(server_url: str, prefix: str = "audiences_test") -> str:
    """A new empty database on that server; returns its URL."""
    name = f"{prefix}_{secrets.token_hex(4)}"
    with psycopg.connect(server_url, autocommit=True) as connection:
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return make_url(server_url).set(database=name).render_as_string(hide_password=False)


def drop_database(server_url: str, url: str) -> None:
    name = make_url(url).database
    with psycopg.connect(server_url, autocommit=True) as connection:
        connection.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


@pytest.fixture(scope="session")
def database_url(server_url: str) -> Iterator[str]:
    url = create_database(server_url)
    migrate.upgrade(url)
    yield url
    drop_database(server_url, url)


@pytest.fixture(scope="session")
def settings(database_url: str) -> Settings:
    return Settings(database_url=database_url, secret_key=SECRET_KEY, _env_file=None)  # type: ignore[call-arg]


@pytest.fixture(scope="session")
async def engine(settings: Settings) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(settings)
    yield engine
    await engine.dispose()


@pytest.fixture
async def connection(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """The test's connection, inside a transaction rolled back after the test."""
    async with engine.connect() as connection:
        transaction = await connection.begin()
        try:
            yield connection
        finally:
            await transaction.rollback()


@pytest.fixture
async def session(connection: AsyncConnection) -> AsyncIterator[AsyncSession]:
    """A session in the test's transaction; commits made by the code under test only
    release savepoints."""
    session = AsyncSession(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )
    try:
        yield session
    finally:
        await session.close()


@pytest.fixture
def app(settings: Settings, connection: AsyncConnection):  # type: ignore[no-untyped-def]
    """The production app, its sessions and credential look-ups bound to the test's connection
    (a request's commit releases a savepoint; the test rolls everything back)."""
    return create_app(settings, Database.bound_to(connection))


@pytest.fixture
async def http(app) -> AsyncIterator[httpx.AsyncClient]:  # type: ignore[no-untyped-def]
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


@pytest.fixture
async def anonymous(app) -> AsyncIterator[httpx.AsyncClient]:  # type: ignore[no-untyped-def]
    """A client with no credentials of its own (requests sign or authenticate themselves)."""
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


@dataclass
class Tenant:
    """An account with a credential, and a client authenticated as it with HTTP Basic."""

    account_id: int
    key: str
    secret: str
    client: httpx.AsyncClient

    @property
    def auth(self) -> httpx.BasicAuth:
        return httpx.BasicAuth(self.key, self.secret)


async def make_tenant(
    session: AsyncSession,
    app,
    products: tuple[str, ...] = ("automation",),
    name: str = "Acme",  # type: ignore[no-untyped-def]
) -> Tenant:
    issued = await accounts_service.create_account(
        session, SecretBox(SECRET_KEY), name, list(products)
    )
    # Releases the savepoint: a request that rolls back must not take the account with it.
    await session.commit()
    client = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app, raise_app_exceptions=False),
        base_url="http://testserver",
        auth=httpx.BasicAuth(issued.consumer_key, issued.consumer_secret),
    )
    return Tenant(issued.account_id, issued.consumer_key, issued.consumer_secret, client)


@pytest.fixture
async def tenant(session: AsyncSession, app) -> AsyncIterator[Tenant]:  # type: ignore[no-untyped-def]
    tenant = await make_tenant(session, app)
    async with tenant.client:
        yield tenant


@pytest.fixture
async def other_tenant(session: AsyncSession, app) -> AsyncIterator[Tenant]:  # type: ignore[no-untyped-def]
    tenant = await make_tenant(session, app, name="Other")
    async with tenant.client:
        yield tenant


@pytest.fixture(params=BASES, ids=["base", "base-1.1.0"])
def base(request: pytest.FixtureRequest) -> str:
    """Each test that takes it runs under both base paths."""
    return str(request.param)


@dataclass
class Committed:
    """An app on a database of its own whose requests really commit, for tests that need
    several connections at once (races, concurrent runs)."""

    client: httpx.AsyncClient
    engine: AsyncEngine
    account_id: int
    app: FastAPI
    key: str = ""
    secret: str = ""

    @contextmanager
    def settings(self, **changes: object) -> Iterator[None]:
        """The app runs with these settings changed for the duration."""
        kept = self.app.state.settings
        self.app.state.settings = kept.model_copy(update=changes)
        try:
            yield
        finally:
            self.app.state.settings = kept


@pytest.fixture(scope="module")
async def committed(server_url: str) -> AsyncIterator[Committed]:
    url = create_database(server_url, prefix="audiences_committed")
    migrate.upgrade(url)
    settings = Settings(database_url=url, secret_key=SECRET_KEY, db_pool_size=4, _env_file=None)  # type: ignore[call-arg]
    engine = create_engine(settings)
    async with create_sessionmaker(engine)() as session, session.begin():
        issued = await accounts_service.create_account(
            session, SecretBox(SECRET_KEY), "Committed", ["automation"]
        )
    database = Database.open(settings)
    app = create_app(settings, database)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app, raise_app_exceptions=False),
        base_url="http://testserver",
        auth=(issued.consumer_key, issued.consumer_secret),
    ) as client:
        yield Committed(
            client, engine, issued.account_id, app, issued.consumer_key, issued.consumer_secret
        )
    await database.close()
    await engine.dispose()
    drop_database(server_url, url)
