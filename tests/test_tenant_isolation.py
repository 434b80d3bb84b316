"""Tenant isolation, table-driven over every route that takes an id: a second account calling
with the first account's ids never gets a 2xx with data and never changes anything."""

import hashlib
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from tests.conftest import Tenant
from tests.factories import (
    FUTURE,
    add_members,
    make_audience,
    make_automailer,
    make_contact,
    make_flow,
    make_mailing,
    make_message,
)

API = "/integrationservice"
UPLOAD = {"content": b"c1\n", "headers": {"content-type": "text/plain"}}
AUDIENCE_BODY = {"externalId": "a", "name": "Stolen"}
MAILING_BODY = {"name": "x", "type": "EMAIL", "audienceExternalId": "a", "permissionBit": 1}
AUTOMAILER_BODY = {
    "name": "x",
    "audienceExternalId": "a",
    "permissionBit": 1,
    "period": "P1D",
    "firstSendingMoment": "2026-01-01T00:00:00Z",
    "lastSendingMoment": FUTURE,
}
FLOW_BODY = {"name": "x", "steps": [{"name": "s", "audienceFilters": []}]}

# operationId -> (query, request options), for a request that would succeed for the owner.
CALLS: dict[str, tuple[dict[str, str], dict[str, Any]]] = {
    "get_audience": ({}, {}),
    "update_audience": ({}, {"json": AUDIENCE_BODY}),
    "delete_audience": ({}, {}),
    "audience_usage": ({}, {}),
    "add_members": ({}, {"json": {"contacts": ["c1"]}}),
    "remove_members": ({}, {}),
    "replace_members": ({}, UPLOAD),
    "list_members": ({}, {}),
    "import_members": ({}, UPLOAD),
    "export_members": ({}, {}),
    "check_member": ({}, {}),
    "audience_history": ({}, {}),
    "anonymize_contact": ({}, {}),
    "get_contact": ({}, {}),
    "update_contact": ({}, {"json": {"contact": {"properties": {"firstName": "Eve"}}}}),
    "get_mailing_history": ({}, {}),
    "get_campaign_mailing_history": ({}, {}),
    "get_form_history": ({}, {}),
    "update_property": ({}, {"json": {"description": "Stolen"}}),
    "delete_property": ({}, {}),
    "get_mailing": ({}, {}),
    "update_mailing": ({}, {"json": MAILING_BODY}),
    "delete_mailing": ({}, {}),
    "schedule_mailing": ({}, {"json": {"scheduledStartDate": FUTURE}}),
    "cancel_mailing": ({}, {}),
    "start_mailing": ({}, {}),
    "complete_mailing": ({}, {}),
    "list_recipients": ({}, {}),
    "count_recipients": ({}, {}),
    "get_automailer": ({}, {}),
    "update_automailer": ({}, {"json": AUTOMAILER_BODY}),
    "delete_automailer": ({}, {}),
    "stop_automailer": ({}, {}),
    "due_contacts": ({}, {}),
    "run_automailer": ({}, {"json": {}}),
    "get_campaign": ({}, {}),
    "update_campaign": ({}, {"json": FLOW_BODY}),
    "delete_campaign": ({}, {}),
    "campaign_step_admits": ({"contact": "c1"}, {}),
    "get_automation": ({}, {}),
    "update_automation": ({}, {"json": FLOW_BODY}),
    "delete_automation": ({}, {}),
    "automation_step_admits": ({"contact": "c1"}, {}),
    "get_message": ({}, {}),
    "update_message": ({}, {"json": {"name": "x", "blocks": []}}),
    "delete_message": ({}, {}),
    "render_message": ({"contact": "c1"}, {}),
    "update_folder": ({}, {"json": {"name": "Stolen"}}),
    "delete_folder": ({}, {}),
    "move_audience": ({}, {"json": {"folderId": None}}),
}

TABLES = (
    "audiences",
    "contacts",
    "audience_members",
    "mailings",
    "automailers",
    "automailer_deliveries",
    "mailing_deliveries",
    "flows",
    "flow_nodes",
    "flow_node_audiences",
    "messages",
    "message_blocks",
    "audience_events",
    "contact_properties",
    "folders",
)


async def snapshot(session: AsyncSession, account_id: int) -> str:
    digest = hashlib.sha256()
    for table in TABLES:
        rows = await session.execute(
            text(f"SELECT t::text FROM {table} t WHERE account_id = :a ORDER BY 1"),
            {"a": account_id},
        )
        for (row,) in rows:
            digest.update(row.encode())
    return digest.hexdigest()


async def owned_objects(owner: Tenant) -> dict[str, str]:
    await make_contact(
        owner.client, "c1", email="c1@example.com", permissions=[{"bit": 1, "enabled": True}]
    )
    await make_audience(owner.client, "a")
    await add_members(owner.client, "a", ["c1"])
    mailing = await make_mailing(owner.client, "a")
    automailer = await make_automailer(owner.client, "a")
    campaign = await make_flow(owner.client, "campaign", steps=[["a"]])
    automation = await make_flow(owner.client, "automation", steps=[["a"]])
    message = await make_message(owner.client, [("VIP", "a")])
    folder = (await owner.client.post(f"{API}/folder", json={"name": "Mine"})).json()
    await owner.client.put(f"{API}/audience/a/folder", json={"folderId": folder["id"]})
    prop = {"name": "loyaltyTier", "type": "string"}
    assert (await owner.client.post(f"{API}/contact/properties", json=prop)).status_code == 201
    return {
        "property": "loyaltyTier",
        "mailing": mailing["encryptedId"],
        "automailer": automailer["id"],
        "campaign": campaign["id"],
        "campaign_step": campaign["steps"][0]["id"],
        "automation": automation["id"],
        "automation_step": automation["steps"][0]["id"],
        "message": message["id"],
        "folder": folder["id"],
    }


def concrete(path: str, ids: dict[str, str]) -> str:
    kind = path.split("/")[1]
    values = {
        "{externalId}": "c1" if kind == "contact" else "a",
        "{contactExternalId}": "c1",
        "{encryptedId}": ids["mailing"],
        "{id}": ids.get(kind, ""),
        "{stepId}": ids.get(f"{kind}_step", ""),
        "{name}": ids["property"],
    }
    for placeholder, value in values.items():
        path = path.replace(placeholder, value)
    return path


async def test_every_route_with_an_id_refuses_another_account(
    tenant: Tenant, other_tenant: Tenant, session: AsyncSession, http
):
    ids = await owned_objects(tenant)
    document = (await http.get("/openapi.json")).json()
    operations = [
        (method.upper(), path, op["operationId"])
        for path, item in document["paths"].items()
        for method, op in item.items()
        if "{" in path
    ]
    missing = {op for _, _, op in operations} - set(CALLS)
    assert not missing, f"add these routes to CALLS: {sorted(missing)}"
    before = await snapshot(session, tenant.account_id)
    leaks = []
    for method, path, operation in operations:
        query, options = CALLS[operation]
        url = f"{API}{concrete(path, ids)}"
        response = await other_tenant.client.request(method, url, params=query, **options)
        if response.status_code < 400:
            leaks.append((operation, response.status_code, response.text[:200]))
        elif response.status_code != 404:
            leaks.append((operation, response.status_code, "expected 404"))
    assert leaks == []
    assert await snapshot(session, tenant.account_id) == before
    # The owner still reaches everything.
    for method, path, operation in operations:
        if method == "GET" and operation != "export_members":
            query, _ = CALLS[operation]
            response = await tenant.client.get(f"{API}{concrete(path, ids)}", params=query)
            assert response.status_code == 200, (operation, response.text)


@pytest.mark.parametrize("listing", ["/audience", "/contact/properties/list"])
async def test_listings_show_only_the_callers_own_data(
    tenant: Tenant, other_tenant: Tenant, listing: str
):
    await make_audience(tenant.client, "mine")
    if listing == "/audience":
        theirs = (await other_tenant.client.get(f"{API}{listing}")).json()
        assert theirs["audiences"] == []
    else:
        assert (await other_tenant.client.get(f"{API}{listing}")).status_code == 200
