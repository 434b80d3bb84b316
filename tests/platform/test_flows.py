"""Campaigns and automations: triggers and steps with audience filters."""

import pytest

from tests.conftest import Tenant
from tests.factories import add_members, make_audience, make_contact, make_flow

API = "/integrationservice"


@pytest.mark.parametrize("kind", ["campaign", "automation"])
class TestFlows:
    async def test_create_answers_ids_for_every_trigger_and_step(self, tenant: Tenant, kind: str):
        await make_audience(tenant.client, "a")
        await make_audience(tenant.client, "b")
        flow = await make_flow(tenant.client, kind, triggers=[["a"]], steps=[["a", "b"], []])
        assert flow["id"]
        assert [t["audienceFilters"] for t in flow["triggers"]] == [["a"]]
        assert [s["audienceFilters"] for s in flow["steps"]] == [["a", "b"], []]
        ids = [n["id"] for n in flow["triggers"] + flow["steps"]]
        assert len(set(ids)) == 3
        assert (await tenant.client.get(f"{API}/{kind}/{flow['id']}")).json() == flow

    async def test_put_replaces_triggers_and_steps_and_keeps_given_ids(
        self, tenant: Tenant, kind: str
    ):
        await make_audience(tenant.client, "a")
        flow = await make_flow(tenant.client, kind, steps=[["a"], ["a"]])
        kept = flow["steps"][1]["id"]
        response = await tenant.client.put(
            f"{API}/{kind}/{flow['id']}",
            json={"name": "Renamed", "status": "active", "steps": [{"id": kept, "name": "only"}]},
        )
        assert response.status_code == 200
        body = response.json()
        assert body["name"] == "Renamed"
        assert body["status"] == "active"
        assert body["triggers"] == []
        assert body["steps"] == [{"id": kept, "name": "only", "audienceFilters": []}]

    async def test_an_unknown_filter_audience_is_404_naming_it(self, tenant: Tenant, kind: str):
        response = await tenant.client.post(
            f"{API}/{kind}",
            json={"name": "X", "steps": [{"name": "s", "audienceFilters": ["ghost"]}]},
        )
        assert response.status_code == 404
        assert response.json()["audienceExternalId"] == "ghost"
        assert "ghost" in response.json()["message"]

    async def test_unknown_is_404(self, tenant: Tenant, kind: str):
        response = await tenant.client.get(f"{API}/{kind}/nope")
        assert response.status_code == 404
        assert response.json()["message"] == f"{kind.capitalize()} not found"

    async def test_a_step_admits_members_of_every_filter_audience(self, tenant: Tenant, kind: str):
        for contact in ("both", "only-a", "none"):
            await make_contact(tenant.client, contact)
        await make_audience(tenant.client, "a")
        await make_audience(tenant.client, "b")
        await add_members(tenant.client, "a", ["both", "only-a"])
        await add_members(tenant.client, "b", ["both"])
        flow = await make_flow(tenant.client, kind, steps=[["a", "b"], []])
        step, open_step = flow["steps"][0]["id"], flow["steps"][1]["id"]

        async def admits(node: str, contact: str) -> dict[str, object]:
            url = f"{API}/{kind}/{flow['id']}/steps/{node}/admits"
            response = await tenant.client.get(url, params={"contact": contact})
            assert response.status_code == 200, response.text
            return response.json()  # type: ignore[no-any-return]

        assert (await admits(step, "both"))["admitted"] is True
        only_a = await admits(step, "only-a")
        assert only_a["admitted"] is False
        assert only_a["missingAudiences"] == ["b"]
        assert (await admits(step, "none"))["admitted"] is False
        assert (await admits(open_step, "none"))["admitted"] is True

    async def test_admits_refuses_unknown_steps_and_contacts(self, tenant: Tenant, kind: str):
        await make_contact(tenant.client, "c")
        flow = await make_flow(tenant.client, kind, steps=[[]])
        base = f"{API}/{kind}/{flow['id']}/steps"
        unknown_step = await tenant.client.get(f"{base}/nope/admits", params={"contact": "c"})
        assert unknown_step.status_code == 404
        assert unknown_step.json()["message"] == "Step not found"
        unknown_contact = await tenant.client.get(
            f"{base}/{flow['steps'][0]['id']}/admits", params={"contact": "ghost"}
        )
        assert unknown_contact.status_code == 404
        assert unknown_contact.json()["errorType"] == "CONTACT_NOT_FOUND"

    async def test_a_campaign_is_not_an_automation(self, tenant: Tenant, kind: str):
        flow = await make_flow(tenant.client, kind)
        other = "automation" if kind == "campaign" else "campaign"
        assert (await tenant.client.get(f"{API}/{other}/{flow['id']}")).status_code == 404

    async def test_another_accounts_flow_is_not_found(
        self, tenant: Tenant, other_tenant: Tenant, kind: str
    ):
        flow = await make_flow(tenant.client, kind)
        for method in ("GET", "DELETE"):
            response = await other_tenant.client.request(method, f"{API}/{kind}/{flow['id']}")
            assert response.status_code == 404
        assert (await tenant.client.get(f"{API}/{kind}/{flow['id']}")).status_code == 200
