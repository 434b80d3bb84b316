"""Automailers: whom they mail, when, and each contact exactly once."""

import asyncio

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from tests.conftest import Committed, Tenant
from tests.factories import add_members, make_audience, make_automailer, make_contact

API = "/integrationservice"
ON = [{"bit": 1, "enabled": True}]


async def added_at(session: AsyncSession, tenant: Tenant, contact: str, moment: str) -> None:
    """Moves a membership's addedAt, as if the contact had been added then."""
    await session.execute(
        text(
            """
            UPDATE audience_members m SET added_at = CAST(:moment AS timestamptz)
            FROM contacts c
            WHERE c.account_id = m.account_id AND c.contact_id = m.contact_id
              AND c.account_id = :account AND c.external_id = :contact
            """
        ),
        {"moment": moment, "account": tenant.account_id, "contact": contact},
    )


class TestCrud:
    async def test_create_answers_an_active_automailer(self, tenant: Tenant):
        await make_audience(tenant.client, "a", "New customers")
        automailer = await make_automailer(tenant.client, "a", period="P3D")
        assert automailer["status"] == "active"
        assert automailer["period"] == "P3D"
        assert automailer["targetGroup"] == "New customers"
        path = f"{API}/automailer/{automailer['id']}"
        assert (await tenant.client.get(path)).json() == automailer
        stopped = await tenant.client.post(f"{path}/stop")
        assert stopped.json()["status"] == "stopped"
        assert (await tenant.client.delete(path)).status_code == 204
        assert (await tenant.client.get(path)).status_code == 404

    @pytest.mark.parametrize(
        ("change", "field"),
        [
            ({"period": "3 days"}, "period"),
            ({"period": "P0D"}, "period"),
            ({"period": "P"}, "period"),
            ({"lastSendingMoment": "2020-01-01T00:00:00Z"}, "lastSendingMoment"),
            ({"permissionBit": 42}, "permissionBit"),
        ],
    )
    async def test_invalid_fields_are_400(self, tenant: Tenant, change: dict[str, str], field: str):
        await make_audience(tenant.client, "a")
        body = {
            "name": "W",
            "audienceExternalId": "a",
            "permissionBit": 1,
            "firstSendingMoment": "2026-01-01T00:00:00Z",
            "period": "P3D",
            "lastSendingMoment": "2099-01-01T00:00:00Z",
            **change,
        }
        response = await tenant.client.post(f"{API}/automailer", json=body)
        assert response.status_code == 400
        assert field in response.json()["message"]

    async def test_unknown_audience_is_404_naming_it(self, tenant: Tenant):
        body = {
            "name": "W",
            "audienceExternalId": "ghost",
            "permissionBit": 1,
            "firstSendingMoment": "2026-01-01T00:00:00Z",
            "period": "P3D",
            "lastSendingMoment": "2099-01-01T00:00:00Z",
        }
        response = await tenant.client.post(f"{API}/automailer", json=body)
        assert response.status_code == 404
        assert response.json()["audienceExternalId"] == "ghost"


class TestDue:
    async def test_due_are_members_added_after_the_first_moment_once_the_period_passed(
        self, tenant: Tenant, session: AsyncSession
    ):
        for name in ("early", "recent", "later", "no-permission"):
            permissions = ON if name != "no-permission" else [{"bit": 1, "enabled": False}]
            await make_contact(
                tenant.client, name, email=f"{name}@example.com", permissions=permissions
            )
        await make_audience(tenant.client, "a")
        await add_members(tenant.client, "a", ["early", "recent", "later", "no-permission"])
        await added_at(session, tenant, "early", "2026-05-31T00:00:00Z")  # before the first moment
        await added_at(session, tenant, "recent", "2026-06-02T00:00:00Z")
        await added_at(session, tenant, "no-permission", "2026-06-02T00:00:00Z")
        await added_at(session, tenant, "later", "2026-06-10T00:00:00Z")
        automailer = await make_automailer(
            tenant.client, "a", first="2026-06-01T00:00:00Z", period="P3D"
        )
        path = f"{API}/automailer/{automailer['id']}"

        before = await tenant.client.get(f"{path}/due", params={"at": "2026-06-04T23:59:59Z"})
        assert before.json()["contacts"] == []
        due = (await tenant.client.get(f"{path}/due", params={"at": "2026-06-05T00:00:00Z"})).json()
        assert [c["externalId"] for c in due["contacts"]] == ["recent"]
        assert due["contacts"][0]["dueAt"] == "2026-06-05T00:00:00Z"
        later = await tenant.client.get(f"{path}/due", params={"at": "2026-06-20T00:00:00Z"})
        assert [c["externalId"] for c in later.json()["contacts"]] == ["recent", "later"]

    async def test_a_run_mails_the_due_contacts_once(self, tenant: Tenant, session: AsyncSession):
        await make_contact(tenant.client, "c1", email="c1@example.com", permissions=ON)
        await make_contact(tenant.client, "c2", email="c2@example.com", permissions=ON)
        await make_audience(tenant.client, "a")
        await add_members(tenant.client, "a", ["c1", "c2"])
        await added_at(session, tenant, "c1", "2026-06-02T00:00:00Z")
        await added_at(session, tenant, "c2", "2026-06-08T00:00:00Z")
        automailer = await make_automailer(tenant.client, "a", first="2026-06-01T00:00:00Z")
        path = f"{API}/automailer/{automailer['id']}"

        first = await tenant.client.post(f"{path}/runs", json={"at": "2026-06-06T00:00:00Z"})
        assert [c["externalId"] for c in first.json()["contacts"]] == ["c1"]
        again = await tenant.client.post(f"{path}/runs", json={"at": "2026-06-06T00:00:00Z"})
        assert again.json()["contacts"] == []
        later = await tenant.client.post(f"{path}/runs", json={"at": "2026-06-30T00:00:00Z"})
        assert [c["externalId"] for c in later.json()["contacts"]] == ["c2"]
        due = await tenant.client.get(f"{path}/due", params={"at": "2026-06-30T00:00:00Z"})
        assert due.json()["count"] == 0

    async def test_nothing_is_due_after_the_last_sending_moment(
        self, tenant: Tenant, session: AsyncSession
    ):
        await make_contact(tenant.client, "c1", email="c1@example.com", permissions=ON)
        await make_audience(tenant.client, "a")
        await add_members(tenant.client, "a", ["c1"])
        await added_at(session, tenant, "c1", "2026-06-29T00:00:00Z")
        automailer = await make_automailer(
            tenant.client, "a", first="2026-06-01T00:00:00Z", last="2026-07-01T00:00:00Z"
        )
        due = await tenant.client.get(
            f"{API}/automailer/{automailer['id']}/due", params={"at": "2026-07-10T00:00:00Z"}
        )
        assert due.json()["contacts"] == []

    async def test_a_stopped_automailer_cannot_run(self, tenant: Tenant):
        await make_audience(tenant.client, "a")
        automailer = await make_automailer(tenant.client, "a")
        path = f"{API}/automailer/{automailer['id']}"
        await tenant.client.post(f"{path}/stop")
        response = await tenant.client.post(f"{path}/runs", json={})
        assert response.status_code == 417
        assert response.json()["errorType"] == "INVALID_STATE"


async def test_concurrent_runs_mail_each_contact_exactly_once(committed: Committed):
    client = committed.client
    ids = [f"run-{i}" for i in range(300)]
    contacts = [
        {"externalId": e, "properties": {"email": f"{e}@example.com", "permissions": ON}}
        for e in ids
    ]
    for start in range(0, len(contacts), 100):
        response = await client.post(
            f"{API}/contact/list", json={"contacts": contacts[start : start + 100]}
        )
        assert response.status_code == 200
    await client.post(f"{API}/audience", json={"externalId": "runs", "name": "runs"})
    await client.post(f"{API}/audience/runs/contact", json={"contacts": ids})
    created = await client.post(
        f"{API}/automailer",
        json={
            "name": "Runs",
            "audienceExternalId": "runs",
            "permissionBit": 1,
            "period": "PT1S",
            "firstSendingMoment": "2020-01-01T00:00:00Z",
            "lastSendingMoment": "2099-01-01T00:00:00Z",
        },
    )
    path = f"{API}/automailer/{created.json()['id']}/runs"
    responses = await asyncio.gather(
        *[client.post(path, json={"at": "2098-01-01T00:00:00Z"}) for _ in range(8)]
    )
    assert {r.status_code for r in responses} == {200}
    mailed = [c["externalId"] for r in responses for c in r.json()["contacts"]]
    assert sorted(mailed) == sorted(ids)
