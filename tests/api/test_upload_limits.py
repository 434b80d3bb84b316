"""Uploads cannot starve anybody: a few per account at once (across workers), an upload that
stalls is abandoned (408, rolled back), and uploads take their connections from a pool of
their own."""

import asyncio
from collections.abc import AsyncIterator

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from tests.conftest import Committed, Tenant
from tests.factories import make_audience, make_contacts, member_ids

API = "/integrationservice"


async def trickle(started: asyncio.Event, release: asyncio.Event) -> AsyncIterator[bytes]:
    yield b"t-0\n"
    started.set()
    await release.wait()
    yield b"t-1\n"


HEADERS = {"content-type": "text/plain"}


class TwoUploads:
    """Two uploads of one account that hold both its slots until released."""

    def __init__(self, committed: Committed, audience: str) -> None:
        self.client = committed.client
        self.url = f"{API}/audience/{audience}/contact/import"
        self.audience = audience
        self.release = asyncio.Event()

    async def start(self) -> None:
        await self.client.post(
            f"{API}/contact/list",
            json={"contacts": [{"externalId": "t-0"}, {"externalId": "t-1"}]},
        )
        body = {"externalId": self.audience, "name": self.audience.title()}
        await self.client.post(f"{API}/audience", json=body)
        starts = [asyncio.Event(), asyncio.Event()]
        self.running = [
            asyncio.create_task(
                self.client.post(self.url, content=trickle(started, self.release), headers=HEADERS)
            )
            for started in starts
        ]
        await asyncio.wait_for(asyncio.gather(*(s.wait() for s in starts)), 10)

    async def finish(self) -> None:
        self.release.set()
        for response in await asyncio.gather(*self.running):
            assert response.status_code == 200, response.text

    async def third(self) -> httpx.Response:
        return await self.client.post(self.url, content=b"t-0\n", headers=HEADERS)


async def test_an_account_runs_at_most_two_uploads_at_once(committed: Committed):
    uploads = TwoUploads(committed, "slots")
    with committed.settings(upload_slot_wait=0.3):
        await uploads.start()
        third = await uploads.third()
        assert third.status_code == 429, third.text
        assert third.json()["errorType"] == "INVALID_STATE"
        assert third.headers["retry-after"]
        await uploads.finish()
        # The slots are free again once the uploads have committed.
        again = await uploads.third()
        assert again.status_code == 200, again.text


async def test_a_third_upload_waits_for_a_slot_to_free(committed: Committed):
    uploads = TwoUploads(committed, "queue")
    with committed.settings(upload_slot_wait=10.0):
        await uploads.start()
        third = asyncio.create_task(uploads.third())
        await asyncio.sleep(0.5)
        assert not third.done()  # it waits for a slot rather than being refused
        await uploads.finish()
        assert (await third).status_code == 200


async def test_an_upload_that_stalls_is_408_and_changes_nothing(
    tenant: Tenant, app, session: AsyncSession
):  # type: ignore[no-untyped-def]
    app.state.settings = app.state.settings.model_copy(update={"upload_idle_timeout": 0.3})
    await make_contacts(tenant.client, ["c1", "c2"])
    await make_audience(tenant.client, "a")

    async def stalls() -> AsyncIterator[bytes]:
        yield b"c1\n"
        await asyncio.sleep(2)
        yield b"c2\n"

    response = await tenant.client.put(
        f"{API}/audience/a/contact", content=stalls(), headers={"content-type": "text/plain"}
    )
    assert response.status_code == 408, response.text
    assert "nothing was changed" in response.json()["message"]
    assert await member_ids(session, tenant, "a") == set()


async def test_a_slow_but_steady_upload_is_not_abandoned(tenant: Tenant, app):  # type: ignore[no-untyped-def]
    app.state.settings = app.state.settings.model_copy(update={"upload_idle_timeout": 0.5})
    await make_contacts(tenant.client, ["c1", "c2", "c3"])
    await make_audience(tenant.client, "a")

    async def steady() -> AsyncIterator[bytes]:
        for external_id in ("c1", "c2", "c3"):
            await asyncio.sleep(0.2)
            yield f"{external_id}\n".encode()

    response = await tenant.client.post(
        f"{API}/audience/a/contact/import", content=steady(), headers={"content-type": "text/plain"}
    )
    assert response.status_code == 200, response.text
    assert response.json()["added"] == 3
