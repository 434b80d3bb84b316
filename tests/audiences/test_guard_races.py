"""The guard is race-free: a delete and a concurrent new reference never both succeed.

These tests need committed data and several connections, so they run on a database of their
own, through the whole app (its real per-request transactions), many times each."""

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from audiences.audiences import service as audiences_service
from audiences.audiences.errors import AudienceInUse
from audiences.core.db import create_sessionmaker
from audiences.platform.mailings import service as mailings_service
from tests.conftest import Committed
from tests.factories import FUTURE

API = "/integrationservice"


@pytest.fixture(scope="module")
def client(committed: Committed) -> httpx.AsyncClient:
    return committed.client


FUTURE_MOMENT = datetime(2099, 1, 1, tzinfo=UTC)


async def delayed(call: Awaitable[httpx.Response], seconds: float) -> httpx.Response:
    await asyncio.sleep(seconds)
    return await call


async def race(
    client: httpx.AsyncClient,
    audience: str,
    reference: Callable[[], Awaitable[httpx.Response]],
    attempt: int,
) -> tuple[int, int]:
    """Sends the delete and the reference together, one of them (alternating by attempt) held
    back by a random fraction of a window sized to how long a request takes on this machine:
    short holds give true overlaps, long ones let each side win outright now and then, so both
    orders show up however slow or fast the machine is."""
    started = time.perf_counter()
    await client.get(f"{API}/audience/{audience}")
    window = max(0.015, 4 * (time.perf_counter() - started))
    hold = random.random() * window
    delete_hold, reference_hold = (hold, 0.0) if attempt % 2 else (0.0, hold)
    deleted, referenced = await asyncio.gather(
        delayed(client.delete(f"{API}/audience/{audience}"), delete_hold),
        delayed(reference(), reference_hold),
    )
    return deleted.status_code, referenced.status_code


async def setup_audience(client: httpx.AsyncClient, name: str) -> None:
    response = await client.post(f"{API}/audience", json={"externalId": name, "name": name})
    assert response.status_code == 200, response.text


async def check_outcomes(outcomes: list[tuple[int, int]], ok: int, gone: int) -> None:
    """Each try: either the delete won (the reference was refused) or the reference won (the
    delete was refused with 417); never both, never neither."""
    allowed = {(204, gone), (417, ok)}
    assert set(outcomes) <= allowed, sorted(set(outcomes) - allowed)
    # Both orders should happen at least once over many tries, or the test proves little.
    assert len(set(outcomes)) == 2, set(outcomes)


async def test_delete_against_schedule_never_both_succeed(
    client: httpx.AsyncClient, committed: Committed
):
    outcomes = []
    for i in range(200):
        name = f"sched-{i}"
        await setup_audience(client, name)
        created = await client.post(
            f"{API}/mailing",
            json={"name": name, "type": "EMAIL", "audienceExternalId": name, "permissionBit": 1},
        )
        mailing = created.json()["encryptedId"]
        outcomes.append(
            await race(
                client,
                name,
                lambda m=mailing: client.post(
                    f"{API}/mailing/{m}/schedule", json={"scheduledStartDate": FUTURE}
                ),
                i,
            )
        )
    await check_outcomes(outcomes, ok=200, gone=417)
    async with committed.engine.connect() as connection:
        scheduled_without_audience = await connection.scalar(
            text("SELECT count(*) FROM mailings WHERE status = 'scheduled' AND audience_id IS NULL")
        )
    assert scheduled_without_audience == 0


REFERENCES: dict[str, Callable[[str], dict[str, Any]]] = {
    "automailer": lambda a: {
        "name": a,
        "audienceExternalId": a,
        "permissionBit": 1,
        "period": "P1D",
        "firstSendingMoment": "2026-01-01T00:00:00Z",
        "lastSendingMoment": FUTURE,
    },
    "campaign": lambda a: {"name": a, "steps": [{"name": "s", "audienceFilters": [a]}]},
    "automation": lambda a: {"name": a, "triggers": [{"name": "t", "audienceFilters": [a]}]},
    "message": lambda a: {
        "name": a,
        "blocks": [{"name": "b", "content": "x", "audienceExternalId": a}],
    },
}


@pytest.mark.parametrize("kind", list(REFERENCES))
async def test_delete_against_a_new_reference_never_both_succeed(
    client: httpx.AsyncClient, kind: str
):
    outcomes = []
    for i in range(60):
        name = f"{kind}-{i}"
        await setup_audience(client, name)
        body = REFERENCES[kind](name)
        outcomes.append(
            await race(client, name, lambda b=body: client.post(f"{API}/{kind}", json=b), i)
        )
    await check_outcomes(outcomes, ok=201, gone=404)


async def test_a_schedule_committed_during_the_delete_is_caught_by_the_constraint(
    client: httpx.AsyncClient, committed: Committed
):
    """The exact window: the delete's check has passed while the schedule was uncommitted.
    The restricting foreign key refuses the delete, and the refusal names the mailing."""
    await setup_audience(client, "window")
    created = await client.post(
        f"{API}/mailing",
        json={
            "name": "Window",
            "type": "EMAIL",
            "audienceExternalId": "window",
            "permissionBit": 1,
        },
    )
    mailing = created.json()["encryptedId"]
    sessions = create_sessionmaker(committed.engine)
    async with sessions() as scheduling, sessions() as deleting:
        account = committed.account_id
        await mailings_service.transition(scheduling, account, mailing, "schedule", FUTURE_MOMENT)

        async def delete() -> None:
            await audiences_service.delete_audience(deleting, account, "window")
            await deleting.commit()

        task = asyncio.create_task(delete())
        await asyncio.sleep(0.5)
        assert not task.done(), "the delete should wait for the mailing row"
        await scheduling.commit()
        with pytest.raises(AudienceInUse) as refusal:
            await task
        await deleting.rollback()
    references = refusal.value.extra["references"]
    assert [(r["type"], r["id"]) for r in references] == [("mailing", mailing)]
    assert (await client.get(f"{API}/audience/window")).status_code == 200
