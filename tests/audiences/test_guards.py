"""An audience in use cannot be deleted, and the refusal names what uses it (contract §6)."""

from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from tests.conftest import Tenant
from tests.factories import (
    make_audience,
    make_automailer,
    make_flow,
    make_mailing,
    make_message,
    schedule,
)

API = "/integrationservice"


async def refused(client: httpx.AsyncClient, audience: str = "a") -> list[dict[str, Any]]:
    response = await client.delete(f"{API}/audience/{audience}")
    assert response.status_code == 417, response.text
    body = response.json()
    assert body["errorType"] == "INVALID_STATE"
    assert body["message"] == "Cannot delete audience, as it's in use"
    references: list[dict[str, Any]] = body["references"]
    usage = await client.get(f"{API}/audience/{audience}/usage")
    assert usage.json() == {"references": references}
    assert (await client.get(f"{API}/audience/{audience}")).status_code == 200
    return references


async def deleted(client: httpx.AsyncClient, audience: str = "a") -> None:
    response = await client.delete(f"{API}/audience/{audience}")
    assert response.status_code == 204, response.text


class TestMailings:
    async def test_a_scheduled_mailing_blocks_until_cancelled(self, tenant: Tenant):
        await make_audience(tenant.client, "a")
        mailing = await make_mailing(tenant.client, "a", name="December")
        await schedule(tenant.client, mailing)
        references = await refused(tenant.client)
        assert references == [
            {
                "type": "mailing",
                "id": mailing["encryptedId"],
                "name": "December",
                "detail": "Scheduled for 2099-01-01T09:00:00+00:00",
            }
        ]
        await tenant.client.post(f"{API}/mailing/{mailing['encryptedId']}/cancel")
        await deleted(tenant.client)

    async def test_a_sending_mailing_blocks_and_a_sent_one_does_not(self, tenant: Tenant):
        await make_audience(tenant.client, "a")
        mailing = await make_mailing(tenant.client, "a")
        await schedule(tenant.client, mailing)
        await tenant.client.post(f"{API}/mailing/{mailing['encryptedId']}/start")
        assert (await refused(tenant.client))[0]["detail"] == "Sending now"
        await tenant.client.post(f"{API}/mailing/{mailing['encryptedId']}/complete")
        await deleted(tenant.client)
        kept = await tenant.client.get(f"{API}/mailing/{mailing['encryptedId']}")
        assert kept.json()["status"] == "sent"
        assert kept.json()["audienceExternalId"] == "a"

    async def test_a_draft_does_not_block_and_cannot_be_scheduled_afterwards(self, tenant: Tenant):
        await make_audience(tenant.client, "a")
        mailing = await make_mailing(tenant.client, "a")
        await deleted(tenant.client)
        response = await tenant.client.post(
            f"{API}/mailing/{mailing['encryptedId']}/schedule",
            json={"scheduledStartDate": "2099-01-01T00:00:00Z"},
        )
        assert response.status_code == 417
        assert response.json()["errorType"] == "INVALID_STATE"
        assert "audience was deleted" in response.json()["message"]


class TestAutomailers:
    async def test_an_active_automailer_blocks_until_stopped(self, tenant: Tenant):
        await make_audience(tenant.client, "a")
        automailer = await make_automailer(tenant.client, "a")
        references = await refused(tenant.client)
        assert [(r["type"], r["id"]) for r in references] == [("automailer", automailer["id"])]
        assert "2099-01-01" in references[0]["detail"]
        await tenant.client.post(f"{API}/automailer/{automailer['id']}/stop")
        await deleted(tenant.client)

    async def test_one_past_its_last_sending_moment_does_not_block(self, tenant: Tenant):
        await make_audience(tenant.client, "a")
        await make_automailer(
            tenant.client, "a", first="2020-01-01T00:00:00Z", last="2021-01-01T00:00:00Z"
        )
        await deleted(tenant.client)

    async def test_deleting_the_automailer_lets_the_delete_through(self, tenant: Tenant):
        await make_audience(tenant.client, "a")
        automailer = await make_automailer(tenant.client, "a")
        await refused(tenant.client)
        assert (
            await tenant.client.delete(f"{API}/automailer/{automailer['id']}")
        ).status_code == 204
        await deleted(tenant.client)


class TestFilters:
    @pytest.mark.parametrize("kind", ["campaign", "automation"])
    @pytest.mark.parametrize("status", ["draft", "active", "paused", "stopped"])
    async def test_a_step_filter_blocks_whatever_the_state(
        self, tenant: Tenant, kind: str, status: str
    ):
        await make_audience(tenant.client, "a")
        flow = await make_flow(tenant.client, kind, steps=[["a"]], status=status)
        references = await refused(tenant.client)
        assert references == [
            {
                "type": kind,
                "id": flow["id"],
                "name": f"A {kind}",
                "detail": "Audience filter on step 'step 0'",
            }
        ]

    async def test_a_trigger_filter_blocks_until_removed(self, tenant: Tenant):
        await make_audience(tenant.client, "a")
        await make_audience(tenant.client, "b")
        flow = await make_flow(tenant.client, "campaign", triggers=[["a", "b"]])
        assert (await refused(tenant.client))[0][
            "detail"
        ] == "Audience filter on trigger 'trigger 0'"
        response = await tenant.client.put(
            f"{API}/campaign/{flow['id']}",
            json={"name": "A campaign", "triggers": [{"name": "t", "audienceFilters": ["b"]}]},
        )
        assert response.status_code == 200
        await deleted(tenant.client)
        await refused(tenant.client, "b")

    async def test_deleting_the_campaign_lets_the_delete_through(self, tenant: Tenant):
        await make_audience(tenant.client, "a")
        flow = await make_flow(tenant.client, "automation", steps=[["a"]])
        await refused(tenant.client)
        assert (await tenant.client.delete(f"{API}/automation/{flow['id']}")).status_code == 204
        await deleted(tenant.client)


class TestContentBlocks:
    async def test_a_dynamic_block_blocks_until_removed(self, tenant: Tenant):
        await make_audience(tenant.client, "a")
        message = await make_message(tenant.client, [("Intro", None), ("VIP", "a")])
        assert await refused(tenant.client) == [
            {
                "type": "content_block",
                "id": message["id"],
                "name": "Newsletter",
                "detail": "Dynamic content block 'VIP' of message 'Newsletter'",
            }
        ]
        response = await tenant.client.put(
            f"{API}/message/{message['id']}", json={"name": "Newsletter", "blocks": []}
        )
        assert response.status_code == 200
        await deleted(tenant.client)


class TestSeveralBlockers:
    async def test_every_blocker_is_listed(self, tenant: Tenant):
        await make_audience(tenant.client, "a")
        mailing = await make_mailing(tenant.client, "a")
        await schedule(tenant.client, mailing)
        await make_automailer(tenant.client, "a")
        await make_flow(tenant.client, "campaign", steps=[["a"], ["a"]])
        await make_flow(tenant.client, "automation", triggers=[["a"]])
        await make_message(tenant.client, [("VIP", "a")])
        types = [r["type"] for r in await refused(tenant.client)]
        assert types == [
            "mailing",
            "automailer",
            "campaign",
            "campaign",
            "automation",
            "content_block",
        ]

    async def test_a_refusal_changes_nothing(self, tenant: Tenant, session: AsyncSession):
        await make_audience(tenant.client, "a")
        draft = await make_mailing(tenant.client, "a")
        await make_flow(tenant.client, "campaign", steps=[["a"]])
        await refused(tenant.client)
        # The draft still targets the audience: nothing was released by the refused delete.
        row = await session.execute(
            text("SELECT audience_id FROM mailings WHERE encrypted_id = :id"),
            {"id": draft["encryptedId"]},
        )
        assert row.scalar() is not None


class TestNeverBlocked:
    async def test_emptying_and_removing_members_of_an_audience_in_use(self, tenant: Tenant):
        await make_audience(tenant.client, "a")
        await make_flow(tenant.client, "campaign", steps=[["a"]])
        assert (await tenant.client.delete(f"{API}/audience/a/contact")).status_code == 204
        response = await tenant.client.request(
            "DELETE", f"{API}/audience/a/contact", json={"contacts": ["x"]}
        )
        assert response.status_code == 204

    async def test_usage_of_an_unused_audience_is_empty_and_unknown_is_404(self, tenant: Tenant):
        await make_audience(tenant.client, "a")
        assert (await tenant.client.get(f"{API}/audience/a/usage")).json() == {"references": []}
        assert (await tenant.client.get(f"{API}/audience/zz/usage")).status_code == 404

    async def test_another_accounts_references_are_not_seen(
        self, tenant: Tenant, other_tenant: Tenant
    ):
        await make_audience(tenant.client, "a")
        await make_audience(other_tenant.client, "a")
        await make_flow(other_tenant.client, "campaign", steps=[["a"]])
        await deleted(tenant.client)
