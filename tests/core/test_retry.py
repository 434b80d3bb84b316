"""Deadlocks and serialization failures: a bulk statement after a streamed upload is run again
from a savepoint; any other request is answered 503 with Retry-After, with nothing done."""

import asyncio
import random
from collections.abc import AsyncIterator

import pytest
from fastapi import APIRouter
from pydantic import BaseModel
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from audiences.api.routing import ApiRoute
from audiences.auth.dependencies import CurrentPrincipal
from audiences.core.db import SessionDep
from audiences.core.retry import retry_statement
from audiences.folders import service as folders_service
from audiences.folders.schemas import FolderWrite
from tests.conftest import Committed, Tenant

API = "/integrationservice"
# A genuine PostgreSQL error with the deadlock's SQLSTATE, raised through the real driver.
DEADLOCK = text("DO $$ BEGIN RAISE EXCEPTION 'deadlock detected' USING ERRCODE = '40P01'; END $$")
SERIALIZATION = text(
    "DO $$ BEGIN RAISE EXCEPTION 'could not serialize' USING ERRCODE = '40001'; END $$"
)


class Flaky(BaseModel):
    name: str
    failures: int
    sqlstate: str = "40P01"


def flaky_app(app):  # type: ignore[no-untyped-def]
    """Adds a route that writes a folder, then fails `failures` times with a transient error."""
    calls: list[str] = []
    router = APIRouter(route_class=ApiRoute)

    @router.post(f"{API}/flaky")
    async def flaky(
        body: Flaky, session: SessionDep, principal: CurrentPrincipal
    ) -> dict[str, int]:
        calls.append(body.name)
        await folders_service.create_folder(
            session, principal.account_id, FolderWrite(name=body.name)
        )
        if len(calls) <= body.failures:
            await session.execute(DEADLOCK if body.sqlstate == "40P01" else SERIALIZATION)
        return {"attempts": len(calls)}

    app.include_router(router)
    return calls


async def folder_names(session: AsyncSession, account_id: int) -> list[str]:
    return [f.name for f in await folders_service.list_folders(session, account_id)]


class TestTransientConflicts:
    async def test_a_json_write_that_deadlocks_is_a_503_to_retry_and_leaves_nothing(
        self, tenant: Tenant, app, session: AsyncSession
    ):
        calls = flaky_app(app)
        response = await tenant.client.post(f"{API}/flaky", json={"name": "once", "failures": 1})
        assert response.status_code == 503
        assert response.json()["errorType"] == "BACKEND_EXCEPTION"
        assert "retry" in response.json()["message"]
        assert response.headers["retry-after"] == "1"
        assert calls == ["once"]  # run once: no request is replayed inside
        assert await folder_names(session, tenant.account_id) == []

    async def test_a_serialization_failure_is_a_503_too(self, tenant: Tenant, app):
        flaky_app(app)
        response = await tenant.client.post(
            f"{API}/flaky", json={"name": "serial", "failures": 1, "sqlstate": "40001"}
        )
        assert response.status_code == 503
        assert response.headers["retry-after"] == "1"

    async def test_the_client_retry_then_succeeds(self, tenant: Tenant, app, session: AsyncSession):
        flaky_app(app)
        first = await tenant.client.post(f"{API}/flaky", json={"name": "again", "failures": 1})
        assert first.status_code == 503
        second = await tenant.client.post(f"{API}/flaky", json={"name": "again", "failures": 1})
        assert second.status_code == 200, second.text
        assert await folder_names(session, tenant.account_id) == ["again"]


class TestSavepoints:
    async def test_a_statement_is_run_again_from_its_savepoint_keeping_earlier_work(
        self, session: AsyncSession
    ):
        await session.execute(text("CREATE TEMPORARY TABLE staged (id int) ON COMMIT DROP"))
        await session.execute(text("INSERT INTO staged VALUES (1), (2)"))
        attempts = 0

        async def work() -> int:
            nonlocal attempts
            attempts += 1
            await session.execute(text("INSERT INTO staged VALUES (3)"))
            if attempts < 3:
                await session.execute(DEADLOCK)
            return int(await session.scalar(text("SELECT count(*) FROM staged")) or 0)

        assert await retry_statement(session, work) == 3
        assert attempts == 3

    async def test_other_errors_are_not_run_again(self, session: AsyncSession):
        attempts = 0

        async def work() -> None:
            nonlocal attempts
            attempts += 1
            await session.execute(text("SELECT 1 / 0"))

        with pytest.raises(Exception, match="division by zero"):
            await retry_statement(session, work)
        assert attempts == 1


async def deadlocks(committed: Committed) -> int:
    async with committed.engine.connect() as connection:
        return int(
            await connection.scalar(
                text("SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()")
            )
            or 0
        )


async def deadlocks_since(committed: Committed, before: int) -> int:
    # Backends report their statistics when they go idle, within about a second.
    for _ in range(50):
        if (now := await deadlocks(committed)) > before:
            return now - before
        await asyncio.sleep(0.1)
    return 0


async def wait_for_a_lock_wait(committed: Committed) -> None:
    async with committed.engine.connect() as watcher:
        for _ in range(200):
            waiting = await watcher.scalar(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                    " AND wait_event_type = 'Lock'"
                )
            )
            if waiting:
                return
            await watcher.rollback()  # the next look takes a fresh statistics snapshot
            await asyncio.sleep(0.02)
    raise AssertionError("the request never waited for the held lock")


@pytest.fixture
async def holder(committed: Committed) -> AsyncIterator[AsyncConnection]:
    """A connection that never detects the deadlock itself, so the request is its victim."""
    async with committed.engine.connect() as connection:
        await connection.execute(text("SET deadlock_timeout = '30s'"))
        await connection.commit()
        yield connection
        # The connection goes back to the pool, where a request may get it next.
        await connection.execute(text("RESET deadlock_timeout"))
        await connection.commit()


class TestRealDeadlocks:
    """Another transaction holds `b` and then asks for `a`, while the request holds `a` and
    waits for `b`: PostgreSQL aborts the request's transaction (or statement)."""

    async def contacts(self, committed: Committed, prefix: str) -> None:
        response = await committed.client.post(
            f"{API}/contact/import",
            content=f'{{"externalId": "{prefix}-a"}}\n{{"externalId": "{prefix}-b"}}\n',
            headers={"content-type": "application/x-ndjson"},
        )
        assert response.status_code == 200, response.text

    async def collide(self, committed: Committed, holder: AsyncConnection, prefix: str, call):  # type: ignore[no-untyped-def]
        lock = text("UPDATE contacts SET changed_at = now() WHERE external_id = :id")
        before = await deadlocks(committed)
        async with holder.begin():
            await holder.execute(lock, {"id": f"{prefix}-b"})
            request = asyncio.create_task(call())
            await wait_for_a_lock_wait(committed)
            await holder.execute(lock, {"id": f"{prefix}-a"})
        response = await request
        assert await deadlocks_since(committed, before), "no deadlock: the test proves nothing"
        return response

    async def test_a_contact_list_that_deadlocks_is_a_503_to_retry_with_nothing_done(
        self, committed: Committed, holder: AsyncConnection
    ):
        await self.contacts(committed, "list")
        body = {
            "update": True,
            "contacts": [
                {"externalId": "list-a", "properties": {"firstName": "Ann"}},
                {"externalId": "list-b", "properties": {"firstName": "Bob"}},
            ],
        }
        response = await self.collide(
            committed,
            holder,
            "list",
            lambda: committed.client.post(f"{API}/contact/list", json=body),
        )
        assert response.status_code == 503, response.text
        assert response.headers["retry-after"] == "1"
        for external_id in ("list-a", "list-b"):
            contact = (await committed.client.get(f"{API}/contact/{external_id}")).json()
            assert "firstName" not in contact["properties"]
        retried = await committed.client.post(f"{API}/contact/list", json=body)
        assert [r["code"] for r in retried.json()] == ["OK", "OK"]

    async def test_a_bulk_import_that_deadlocks_runs_its_statement_again(
        self, committed: Committed, holder: AsyncConnection
    ):
        await self.contacts(committed, "bulk")
        upload = (
            '{"externalId": "bulk-a", "properties": {"firstName": "Ann"}}\n'
            '{"externalId": "bulk-b", "properties": {"firstName": "Bob"}}\n'
        )
        response = await self.collide(
            committed,
            holder,
            "bulk",
            lambda: committed.client.post(
                f"{API}/contact/import",
                content=upload,
                headers={"content-type": "application/x-ndjson"},
            ),
        )
        assert response.status_code == 200, response.text
        assert response.json()["updated"] == 2
        contact = (await committed.client.get(f"{API}/contact/bulk-b")).json()
        assert contact["properties"]["firstName"] == "Bob"


class TestKeyOrder:
    """Our writers of several contacts (imports, lists) lock them in externalId order: however
    their uploads order the contacts they share, they wait for each other, never deadlock."""

    async def test_concurrent_imports_and_lists_sharing_contacts_never_deadlock(
        self, committed: Committed
    ):
        client = committed.client
        ids = [f"{'Kk'[n % 2]}ey-{n:03d}" for n in range(300)]
        response = await client.post(
            f"{API}/contact/import",
            content="".join(f'{{"externalId": "{i}"}}\n' for i in ids),
            headers={"content-type": "application/x-ndjson"},
        )
        assert response.status_code == 200, response.text
        before = await deadlocks(committed)

        async def upload(order: list[str], name: str) -> int:
            lines = "".join(
                f'{{"externalId": "{i}", "properties": {{"firstName": "{name}"}}}}\n' for i in order
            )
            response = await client.post(
                f"{API}/contact/import",
                content=lines,
                headers={"content-type": "application/x-ndjson"},
            )
            return response.status_code

        async def listing(order: list[str], name: str) -> int:
            body = {
                "update": True,
                "contacts": [{"externalId": i, "properties": {"lastName": name}} for i in order],
            }
            return (await client.post(f"{API}/contact/list", json=body)).status_code

        for round_ in range(3):
            calls = []
            for n in range(3):
                shuffled = random.sample(ids, len(ids))
                calls.append(upload(shuffled, f"u{round_}{n}"))
                calls.append(listing(list(reversed(shuffled[:100])), f"l{round_}{n}"))
            assert set(await asyncio.gather(*calls)) == {200}
        assert await deadlocks_since(committed, before) == 0
