"""Mailings: their life cycle, and exactly whom they reach."""

import pytest

from tests.conftest import Tenant
from tests.factories import FUTURE, add_members, make_audience, make_contact, make_mailing, schedule

API = "/integrationservice"
ON = [{"bit": 1, "enabled": True}]


class TestLifeCycle:
    async def test_create_answers_a_draft_with_the_target_group(self, tenant: Tenant):
        await make_audience(tenant.client, "a", "Top customers")
        response = await tenant.client.post(
            f"{API}/mailing",
            json={"name": "Dec", "type": "EMAIL", "audienceExternalId": "a", "permissionBit": 1},
        )
        assert response.status_code == 201
        body = response.json()
        assert body["status"] == "draft"
        assert body["targetGroup"] == "Top customers"
        assert body["audienceExternalId"] == "a"
        assert body["permissionBit"] == 1
        assert body["encryptedId"]
        assert (await tenant.client.get(f"{API}/mailing/{body['encryptedId']}")).json() == body

    async def test_an_unknown_audience_is_404_naming_it(self, tenant: Tenant):
        response = await tenant.client.post(
            f"{API}/mailing",
            json={"name": "Dec", "type": "EMAIL", "audienceExternalId": "nope", "permissionBit": 1},
        )
        assert response.status_code == 404
        assert response.json() == {
            "errorType": "RESOURCE_NOT_FOUND",
            "message": "Audience not found: nope",
            "audienceExternalId": "nope",
        }

    @pytest.mark.parametrize(
        ("change", "field"),
        [
            ({"permissionBit": 77}, "permissionBit"),
            ({"type": "FAX"}, "type"),
            ({"name": ""}, "name"),
            ({"scheduledStartDate": "yesterday"}, "scheduledStartDate"),
            ({"scheduledStartDate": "2001-01-01T00:00:00Z"}, "scheduledStartDate"),
        ],
    )
    async def test_invalid_fields_are_400(
        self, tenant: Tenant, change: dict[str, object], field: str
    ):
        await make_audience(tenant.client, "a")
        body = {
            "name": "Dec",
            "type": "EMAIL",
            "audienceExternalId": "a",
            "permissionBit": 1,
            **change,
        }
        response = await tenant.client.post(f"{API}/mailing", json=body)
        assert response.status_code == 400
        assert field in response.json()["message"]

    async def test_full_life_cycle(self, tenant: Tenant):
        await make_audience(tenant.client, "a")
        mailing = await make_mailing(tenant.client, "a")
        path = f"{API}/mailing/{mailing['encryptedId']}"
        scheduled = await tenant.client.post(
            f"{path}/schedule", json={"scheduledStartDate": FUTURE}
        )
        assert scheduled.json()["status"] == "scheduled"
        assert scheduled.json()["scheduledStartDate"] == "2099-01-01T09:00:00Z"
        assert (await tenant.client.post(f"{path}/start")).json()["status"] == "sending"
        assert (await tenant.client.post(f"{path}/complete")).json()["status"] == "sent"

    @pytest.mark.parametrize(
        ("action", "from_status"), [("start", "draft"), ("complete", "draft"), ("cancel", "draft")]
    )
    async def test_wrong_transitions_are_417(self, tenant: Tenant, action: str, from_status: str):
        await make_audience(tenant.client, "a")
        mailing = await make_mailing(tenant.client, "a")
        response = await tenant.client.post(f"{API}/mailing/{mailing['encryptedId']}/{action}")
        assert response.status_code == 417
        assert response.json()["errorType"] == "INVALID_STATE"
        assert from_status in response.json()["message"]

    async def test_only_a_draft_or_cancelled_mailing_can_be_deleted(self, tenant: Tenant):
        await make_audience(tenant.client, "a")
        mailing = await make_mailing(tenant.client, "a")
        path = f"{API}/mailing/{mailing['encryptedId']}"
        await schedule(tenant.client, mailing)
        refused = await tenant.client.delete(path)
        assert refused.status_code == 417
        assert "cancel it first" in refused.json()["message"]
        await tenant.client.post(f"{path}/cancel")
        assert (await tenant.client.delete(path)).status_code == 204
        assert (await tenant.client.get(path)).status_code == 404

    async def test_a_draft_can_be_retargeted(self, tenant: Tenant):
        await make_audience(tenant.client, "a")
        await make_audience(tenant.client, "b", "Bees")
        mailing = await make_mailing(tenant.client, "a")
        response = await tenant.client.put(
            f"{API}/mailing/{mailing['encryptedId']}",
            json={"name": "New", "type": "SMS", "audienceExternalId": "b", "permissionBit": 2},
        )
        assert response.status_code == 200
        assert response.json()["targetGroup"] == "Bees"
        assert response.json()["type"] == "SMS"

    async def test_unknown_mailing_is_404(self, tenant: Tenant):
        response = await tenant.client.get(f"{API}/mailing/nope")
        assert response.status_code == 404
        assert response.json() == {"errorType": "MAILING_NOTFOUND", "message": "Mailing not found"}

    async def test_another_accounts_mailing_is_not_found(
        self, tenant: Tenant, other_tenant: Tenant
    ):
        await make_audience(tenant.client, "a")
        mailing = await make_mailing(tenant.client, "a")
        path = f"{API}/mailing/{mailing['encryptedId']}"
        for method, suffix in [
            ("GET", ""),
            ("DELETE", ""),
            ("POST", "/start"),
            ("GET", "/recipients"),
        ]:
            assert (await other_tenant.client.request(method, path + suffix)).status_code == 404


class TestRecipients:
    async def setup_members(self, tenant: Tenant) -> None:
        await make_contact(tenant.client, "ok1", email="ok1@example.com", permissions=ON)
        await make_contact(tenant.client, "ok2", email="ok2@example.com", permissions=ON)
        await make_contact(
            tenant.client,
            "no-permission",
            email="np@example.com",
            permissions=[{"bit": 1, "enabled": False}],
        )
        await make_contact(
            tenant.client,
            "other-permission",
            email="op@example.com",
            permissions=[{"bit": 2, "enabled": True}],
        )
        await make_contact(tenant.client, "no-email", permissions=ON)
        await make_contact(tenant.client, "channel-off", email="off@example.com", permissions=ON)
        await tenant.client.put(
            f"{API}/contact/channel-off",
            json={"contact": {"channels": [{"name": "EMAIL", "value": False}]}},
        )
        await make_contact(tenant.client, "anonymized", email="anon@example.com", permissions=ON)
        await tenant.client.put(f"{API}/contact/anonymize/anonymized")
        await make_contact(tenant.client, "not-a-member", email="nm@example.com", permissions=ON)
        await make_audience(tenant.client, "a")
        await add_members(
            tenant.client,
            "a",
            [
                "ok1",
                "ok2",
                "no-permission",
                "other-permission",
                "no-email",
                "channel-off",
                "anonymized",
            ],
        )

    async def test_only_reachable_members_with_the_permission(self, tenant: Tenant):
        await self.setup_members(tenant)
        mailing = await make_mailing(tenant.client, "a")
        path = f"{API}/mailing/{mailing['encryptedId']}/recipients"
        response = await tenant.client.get(path)
        assert response.status_code == 200
        ids = [r["contactIdentifier"]["externalId"] for r in response.json()["recipients"]]
        assert ids == ["ok1", "ok2"]
        assert all(r["contactIdentifier"]["encryptedId"] for r in response.json()["recipients"])
        assert (await tenant.client.get(f"{path}/count")).json() == {"count": 2}

    async def test_sms_needs_the_sms_channel(self, tenant: Tenant):
        await make_contact(tenant.client, "sms", mobileNumber="+31612345678", permissions=ON)
        await make_contact(tenant.client, "mail-only", email="m@example.com", permissions=ON)
        await make_audience(tenant.client, "a")
        await add_members(tenant.client, "a", ["sms", "mail-only"])
        mailing = await make_mailing(tenant.client, "a", kind="SMS")
        response = await tenant.client.get(f"{API}/mailing/{mailing['encryptedId']}/recipients")
        assert [r["contactIdentifier"]["externalId"] for r in response.json()["recipients"]] == [
            "sms"
        ]

    async def test_pages_follow_without_gaps_or_repeats(self, tenant: Tenant):
        for i in range(7):
            await make_contact(tenant.client, f"c{i}", email=f"c{i}@example.com", permissions=ON)
        await make_audience(tenant.client, "a")
        await add_members(tenant.client, "a", [f"c{i}" for i in range(7)])
        mailing = await make_mailing(tenant.client, "a")
        seen: list[str] = []
        url = f"{API}/mailing/{mailing['encryptedId']}/recipients?pageSize=3"
        pages = 0
        while url:
            page = (await tenant.client.get(url)).json()
            seen += [r["contactIdentifier"]["externalId"] for r in page["recipients"]]
            url = page["paging"].get("next")
            pages += 1
        assert sorted(seen) == [f"c{i}" for i in range(7)]
        assert len(seen) == len(set(seen))
        assert pages == 3

    async def test_a_page_size_above_10000_is_400(self, tenant: Tenant):
        await make_audience(tenant.client, "a")
        mailing = await make_mailing(tenant.client, "a")
        response = await tenant.client.get(
            f"{API}/mailing/{mailing['encryptedId']}/recipients?pageSize=10001"
        )
        assert response.status_code == 400
        assert "pageSize" in response.json()["message"]

    async def test_complete_records_the_sent_count(self, tenant: Tenant):
        await self.setup_members(tenant)
        mailing = await make_mailing(tenant.client, "a")
        path = f"{API}/mailing/{mailing['encryptedId']}"
        await schedule(tenant.client, mailing)
        await tenant.client.post(f"{path}/start")
        assert (await tenant.client.post(f"{path}/complete")).json()["sentCount"] == 2
