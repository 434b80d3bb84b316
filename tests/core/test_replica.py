"""With a read replica configured, exports and member listings read from a real streaming
standby while it is fresh; the membership check and every write stay on the primary; a
replica that lags past the setting or is down is not used; /metrics shows its lag."""

import asyncio
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import httpx
import psycopg
import pytest
from fastapi import FastAPI
from sqlalchemy.engine import make_url

from audiences.accounts import service as accounts_service
from audiences.app import create_app
from audiences.core import migrate
from audiences.core.credentials import SecretBox
from audiences.core.db import create_engine, create_sessionmaker
from audiences.core.replica import Replica
from audiences.core.settings import Settings
from tests.conftest import SECRET_KEY, create_database
from tests.factories import add_members, make_audience, make_contacts
from tests.replica import Standby, standby_pair

API = "/integrationservice"


@pytest.fixture(scope="module")
def pair() -> Iterator[Standby]:
    with standby_pair() as pair:
        yield pair


@dataclass
class Service:
    app: FastAPI
    client: httpx.AsyncClient
    replica: Replica
    standby_url: str


@pytest.fixture(scope="module")
async def service(pair: Standby) -> AsyncIterator[Service]:
    url = create_database(pair.primary, prefix="replicated")
    migrate.upgrade(url)
    standby_url = make_url(pair.standby).set(database=make_url(url).database)
    settings = Settings(  # type: ignore[call-arg]
        database_url=url,
        read_replica_url=standby_url.render_as_string(hide_password=False),
        read_replica_max_lag=60,
        read_replica_check_interval=0.1,
        secret_key=SECRET_KEY,
        _env_file=None,
    )
    engine = create_engine(settings)
    async with create_sessionmaker(engine)() as session, session.begin():
        issued = await accounts_service.create_account(
            session, SecretBox(SECRET_KEY), "Replicated", ["automation"]
        )
    await engine.dispose()
    app = create_app(settings)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app, raise_app_exceptions=False),
            base_url="http://testserver",
            auth=(issued.consumer_key, issued.consumer_secret),
        ) as client,
    ):
        replica = app.state.database.replica
        assert replica is not None
        yield Service(app, client, replica, standby_url.render_as_string(hide_password=False))


async def eventually(condition, seconds: float = 15) -> None:  # type: ignore[no-untyped-def]
    for _ in range(int(seconds * 20)):
        if condition():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the condition never held")


async def listed(client: httpx.AsyncClient) -> set[str]:
    response = await client.get(f"{API}/audience/a/contact")
    assert response.status_code == 200, response.text
    return {member["externalId"] for member in response.json()["contacts"]}


async def exported(client: httpx.AsyncClient) -> set[str]:
    response = await client.get(f"{API}/audience/a/contact/export")
    assert response.status_code == 200, response.text
    return {line.split(",")[0] for line in response.text.splitlines()[1:]}


def replay(service: Service, paused: bool) -> None:
    with psycopg.connect(service.standby_url, autocommit=True) as connection:
        connection.execute(
            "SELECT pg_wal_replay_pause()" if paused else "SELECT pg_wal_replay_resume()"
        )


async def test_lagging_reads_go_to_a_fresh_replica_and_back(service: Service, pair: Standby):
    client, replica = service.client, service.replica
    await make_contacts(client, ["c1", "c2"])
    await make_audience(client, "a")
    await add_members(client, "a", ["c1"])
    await eventually(lambda: replica.fresh and replica.lag == 0)
    assert await listed(client) == {"c1"}

    replay(service, paused=True)
    try:
        await add_members(client, "a", ["c2"])
        # The caller's own write is seen where it must be: the membership check is the primary's.
        assert (await client.get(f"{API}/audience/a/contact/c2")).status_code == 200
        # Listings and exports come from the replica, which has not replayed the add yet.
        assert await listed(client) == {"c1"}
        assert await exported(client) == {"c1"}
        await eventually(lambda: replica.lag > 0.3)
        metrics = (await client.get("/metrics")).text
        assert 'audiences_read_replica{measure="in_use"} 1.0' in metrics

        # Past the allowed lag, the primary serves them.
        replica.max_lag = 0.3
        assert not replica.fresh
        assert await listed(client) == {"c1", "c2"}
        assert await exported(client) == {"c1", "c2"}
        await asyncio.sleep(0.3)
        metrics = (await client.get("/metrics")).text
        assert 'audiences_read_replica{measure="in_use"} 0.0' in metrics
    finally:
        replay(service, paused=False)
        replica.max_lag = 60
    await eventually(lambda: replica.fresh and replica.lag == 0)


async def test_a_replica_that_is_down_is_not_used(service: Service, pair: Standby):
    client, replica = service.client, service.replica
    await eventually(lambda: replica.fresh)
    pair.stop_standby()
    try:
        await eventually(lambda: not replica.up)
        assert not replica.fresh
        assert "c1" in await listed(client)
        assert "c1" in await exported(client)
        metrics = (await client.get("/metrics")).text
        assert 'audiences_read_replica{measure="up"} 0.0' in metrics
    finally:
        pair.start_standby()
    await eventually(lambda: replica.fresh)
    assert "c1" in await listed(client)
