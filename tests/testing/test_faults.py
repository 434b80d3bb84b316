"""Injected faults: the caller's next `times` matching calls answer the status with the vendor's
envelope (Retry-After for 429 and 503) or answer slowly; consumed exactly, across workers."""

import asyncio
import json
import time
from collections.abc import AsyncIterator

import httpx
import pytest

from audiences.accounts import service as accounts_service
from audiences.app import create_app
from audiences.core import migrate
from audiences.core.credentials import SecretBox
from audiences.core.db import Database, create_engine, create_sessionmaker
from audiences.core.settings import Settings
from tests.conftest import BASE, SECRET_KEY, Tenant, create_database, drop_database
from tests.factories import make_audience

JSON_TYPE = {"Content-Type": "application/json"}


async def add_fault(client: httpx.AsyncClient, **fault: object) -> dict[str, object]:
    response = await client.post(f"{BASE}/testing/faults", json=fault)
    assert response.status_code == 201, response.text
    created: dict[str, object] = response.json()
    return created


async def create(client: httpx.AsyncClient, external_id: str, base: str = BASE) -> httpx.Response:
    return await client.post(f"{base}/audience", json={"externalId": external_id, "name": "A"})


class TestStatusFaults:
    async def test_the_next_calls_fail_with_the_envelope_and_retry_after_then_succeed(
        self, alice: Tenant, base: str
    ):
        await add_fault(alice.client, method="POST", path="/audience", status=503, times=2)
        for attempt in range(2):
            failed = await create(alice.client, "a", base)
            assert failed.status_code == 503, (attempt, failed.text)
            assert failed.json()["errorType"] == "BACKEND_EXCEPTION"
            assert "message" in failed.json()
            assert failed.headers["retry-after"] == "1"
        assert (await create(alice.client, "a", base)).status_code == 200
        # Nothing of the failed calls was done: the third was the first to create it.
        listed = await alice.client.get(f"{base}/audience")
        assert [a["externalId"] for a in listed.json()["audiences"]] == ["a"]

    @pytest.mark.parametrize(
        ("status", "error_type", "retry_after"),
        [
            (429, "INVALID_STATE", True),
            (500, "BACKEND_EXCEPTION", False),
            (404, "RESOURCE_NOT_FOUND", False),
        ],
    )
    async def test_the_error_type_and_retry_after_follow_the_status(
        self, alice: Tenant, status: int, error_type: str, retry_after: bool
    ):
        await add_fault(alice.client, method="GET", path="/audience", status=status)
        failed = await alice.client.get(f"{BASE}/audience")
        assert failed.status_code == status
        assert failed.json()["errorType"] == error_type
        assert ("retry-after" in failed.headers) is retry_after

    async def test_an_error_type_of_ones_choice(self, alice: Tenant):
        await add_fault(
            alice.client, method="POST", path="/audience", status=400, errorType="ID_NOTUNIQUE"
        )
        failed = await create(alice.client, "a")
        assert (failed.status_code, failed.json()["errorType"]) == (400, "ID_NOTUNIQUE")

    async def test_a_star_segment_matches_any_one_segment(self, alice: Tenant, base: str):
        await make_audience(alice.client, "x")
        await add_fault(alice.client, method="GET", path="/audience/*", status=500, times=5)
        assert (await alice.client.get(f"{base}/audience/x")).status_code == 500
        assert (await alice.client.get(f"{base}/audience/other")).status_code == 500
        assert (await alice.client.get(f"{base}/audience")).status_code == 200
        assert (await alice.client.get(f"{base}/audience/x/contact")).status_code != 500

    async def test_the_path_may_name_a_base_path_and_a_trailing_slash(self, alice: Tenant):
        await add_fault(
            alice.client, method="POST", path="/integrationservice-1.1.0/audience/", status=503
        )
        assert (await create(alice.client, "a")).status_code == 503

    async def test_other_characters_are_literal(self, alice: Tenant):
        await make_audience(alice.client, "axb")
        await add_fault(alice.client, method="GET", path="/audience/a.b", status=500)
        assert (await alice.client.get(f"{BASE}/audience/axb")).status_code == 200
        await add_fault(alice.client, method="GET", path="/audience/(.*)", status=500)
        assert (await alice.client.get(f"{BASE}/audience/axb")).status_code == 200

    async def test_only_the_method_and_the_account_named_meet_it(self, alice: Tenant, bob: Tenant):
        await add_fault(alice.client, method="POST", path="/audience", status=503)
        assert (await alice.client.get(f"{BASE}/audience")).status_code == 200
        assert (await create(bob.client, "b")).status_code == 200
        assert (await create(alice.client, "a")).status_code == 503

    async def test_method_star_matches_every_method(self, alice: Tenant):
        await add_fault(alice.client, method="*", path="/audience", status=502, times=2)
        assert (await alice.client.get(f"{BASE}/audience")).status_code == 502
        assert (await create(alice.client, "a")).status_code == 502
        assert (await create(alice.client, "a")).status_code == 200

    async def test_the_oldest_matching_fault_comes_first(self, alice: Tenant):
        await add_fault(alice.client, method="POST", path="/audience", status=503)
        await add_fault(alice.client, method="POST", path="/*", status=429)
        assert (await create(alice.client, "a")).status_code == 503
        assert (await create(alice.client, "a")).status_code == 429
        assert (await create(alice.client, "a")).status_code == 200


class TestSlowAnswers:
    async def test_a_delay_alone_answers_as_usual_slowly(self, alice: Tenant):
        await add_fault(alice.client, method="GET", path="/audience", delayMs=300)
        started = time.monotonic()
        slow = await alice.client.get(f"{BASE}/audience")
        assert slow.status_code == 200
        assert time.monotonic() - started >= 0.3
        started = time.monotonic()
        assert (await alice.client.get(f"{BASE}/audience")).status_code == 200
        assert time.monotonic() - started < 0.3

    async def test_a_delay_with_a_status_fails_slowly(self, alice: Tenant):
        await add_fault(alice.client, method="GET", path="/audience", delayMs=200, status=504)
        started = time.monotonic()
        assert (await alice.client.get(f"{BASE}/audience")).status_code == 504
        assert time.monotonic() - started >= 0.2


class TestListingAndClearing:
    async def test_lists_the_calls_left_and_clears_them(self, alice: Tenant):
        created = await add_fault(
            alice.client, method="POST", path="/audience", status=503, times=3
        )
        await create(alice.client, "a")
        listed = (await alice.client.get(f"{BASE}/testing/faults")).json()["faults"]
        assert listed == [{**created, "remaining": 2}]
        cleared = await alice.client.delete(f"{BASE}/testing/faults")
        assert cleared.status_code == 204
        assert (await create(alice.client, "a")).status_code == 200
        assert (await alice.client.get(f"{BASE}/testing/faults")).json()["faults"] == []

    async def test_the_testing_calls_never_meet_a_fault(self, alice: Tenant):
        await add_fault(alice.client, method="*", path="/testing/*", status=503, times=10)
        assert (await alice.client.get(f"{BASE}/testing/faults")).status_code == 200
        assert (await alice.client.delete(f"{BASE}/testing/faults")).status_code == 204

    async def test_clearing_leaves_other_accounts_faults(self, alice: Tenant, bob: Tenant):
        await add_fault(bob.client, method="POST", path="/audience", status=503)
        await alice.client.delete(f"{BASE}/testing/faults")
        assert (await create(bob.client, "b")).status_code == 503


class TestRefusals:
    @pytest.mark.parametrize(
        "fault",
        [
            {"method": "POST", "path": "/audience"},
            {"method": "POST", "path": "/audience", "status": 200},
            {"method": "POST", "path": "/audience", "status": 600},
            {"method": "POST", "path": "/audience", "status": 503, "times": 0},
            {"method": "POST", "path": "/audience", "status": 503, "times": 10_001},
            {"method": "POST", "path": "/audience", "delayMs": 60_001},
            {"method": "POST", "path": "/audience", "delayMs": -1},
            {"method": "FOO", "path": "/audience", "status": 503},
            {"method": "POST", "path": "audience", "status": 503},
            {"method": "POST", "path": "/" + "a" * 1000, "status": 503},
            {"method": "POST", "path": "/audience\n", "status": 503},
            {"method": "POST", "path": "/audience/\x00", "status": 503},
            {"method": "POST", "path": "/audience/\ud800", "status": 503},
            {"method": "POST", "path": "/audience", "status": 503, "errorType": "\x00"},
            {"method": "POST", "path": "/audience", "delayMs": 5, "errorType": "X"},
            {"method": "POST", "path": "/audience", "status": 503, "extra": 1},
            {"path": "/audience", "status": 503},
        ],
    )
    async def test_a_bad_fault_is_400(self, alice: Tenant, fault: dict[str, object]):
        # Encoded here: a lone surrogate is sent escaped, as a client's JSON library would.
        response = await alice.client.post(
            f"{BASE}/testing/faults", content=json.dumps(fault), headers=JSON_TYPE
        )
        assert response.status_code == 400, response.text
        assert response.json()["errorType"] == "INVALID_PARAMS"


@pytest.fixture(scope="module")
async def two_workers(server_url: str) -> AsyncIterator[tuple[list[httpx.AsyncClient], str]]:
    """Two ephemeral apps (as two workers) with pools of their own on one database whose
    requests really commit, and a credential on it."""
    url = create_database(server_url, prefix="audiences_faults")
    migrate.upgrade(url)
    settings = Settings(  # type: ignore[call-arg]
        database_url=url, secret_key=SECRET_KEY, ephemeral=True, db_pool_size=8, _env_file=None
    )
    engine = create_engine(settings)
    async with create_sessionmaker(engine)() as session, session.begin():
        issued = await accounts_service.create_account(
            session, SecretBox(SECRET_KEY), "Workers", ["automation"]
        )
    await engine.dispose()
    databases = [Database.open(settings) for _ in range(2)]
    clients = [
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=create_app(settings, database)),
            base_url="http://testserver",
            auth=(issued.consumer_key, issued.consumer_secret),
        )
        for database in databases
    ]
    yield clients, url
    for client in clients:
        await client.aclose()
    for database in databases:
        await database.close()
    drop_database(server_url, url)


async def test_concurrent_calls_on_two_workers_take_exactly_times_faults(
    two_workers: tuple[list[httpx.AsyncClient], str],
):
    clients, _ = two_workers
    await add_fault(clients[0], method="GET", path="/audience", status=503, times=5)
    answers = await asyncio.gather(*(clients[i % 2].get(f"{BASE}/audience") for i in range(20)))
    statuses = sorted(a.status_code for a in answers)
    assert statuses == [200] * 15 + [503] * 5
    listed = (await clients[1].get(f"{BASE}/testing/faults")).json()["faults"]
    assert listed[0]["remaining"] == 0
