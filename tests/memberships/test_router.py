"""The vendor's /audience/{externalId}/contact calls: add (atomic) and remove (or empty)."""

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from tests.conftest import Tenant
from tests.factories import add_members, make_audience, make_contacts, member_count, member_ids


class TestAddMembers:
    async def test_adds_with_204_and_sets_last_added_and_sync(
        self, tenant: Tenant, base: str, session: AsyncSession
    ):
        await make_contacts(tenant.client, ["c1", "c2"], base=base)
        await make_audience(tenant.client, "a", base=base)
        response = await tenant.client.post(
            f"{base}/audience/a/contact", json={"contacts": ["c1", "c2"]}
        )
        assert response.status_code == 204
        assert response.content == b""
        assert await member_ids(session, tenant, "a") == {"c1", "c2"}
        assert await member_count(session, tenant, "a") == 2
        audience = (await tenant.client.get(f"{base}/audience/a")).json()
        assert audience["lastContactAddedAt"] is not None
        assert audience["lastSyncDate"] is not None
        assert audience["lastContactRemovedAt"] is None

    async def test_is_atomic_and_lists_every_unknown_id(
        self, tenant: Tenant, base: str, session: AsyncSession
    ):
        await make_contacts(tenant.client, ["c1", "c2"], base=base)
        await make_audience(tenant.client, "a", base=base)
        response = await tenant.client.post(
            f"{base}/audience/a/contact", json={"contacts": ["x9", "c1", "x1", "c2", "x9"]}
        )
        assert response.status_code == 404
        assert response.json() == {
            "errorType": "CONTACT_NOT_FOUND",
            "message": "Contacts not found",
            "externalContactIds": ["x9", "x1"],
        }
        assert await member_ids(session, tenant, "a") == set()
        audience = (await tenant.client.get(f"{base}/audience/a")).json()
        assert audience["lastContactAddedAt"] is None
        assert audience["lastSyncDate"] is None

    async def test_adding_a_member_twice_is_not_an_error_and_keeps_its_added_at(
        self, tenant: Tenant, base: str, session: AsyncSession
    ):
        await make_contacts(tenant.client, ["c1"], base=base)
        await make_audience(tenant.client, "a", base=base)
        await add_members(tenant.client, "a", ["c1"], base=base)
        first = await session.scalar(text("SELECT added_at FROM audience_members"))
        await add_members(tenant.client, "a", ["c1", "c1"], base=base)
        assert await session.scalar(text("SELECT added_at FROM audience_members")) == first
        assert await member_count(session, tenant, "a") == 1

    async def test_ids_with_quotes_braces_and_any_script_are_added_and_removed_as_given(
        self, tenant: Tenant, base: str, session: AsyncSession
    ):
        # The ids travel as one JSON text: nothing of JSON's or of array syntax may leak.
        ids = ['say "hi"', "back\\slash", "{a,b}", "NULL", "it's", "naïve 名前 🎉", "c,1"]
        contacts = [{"externalId": e} for e in ids]
        response = await tenant.client.post(f"{base}/contact/list", json={"contacts": contacts})
        assert [item["code"] for item in response.json()] == ["OK"] * len(ids), response.text
        await make_audience(tenant.client, "a", base=base)
        await add_members(tenant.client, "a", ids, base=base)
        assert await member_ids(session, tenant, "a") == set(ids)
        response = await tenant.client.post(
            f"{base}/audience/a/contact", json={"contacts": ["{a,b}", '"NULL"']}
        )
        assert response.json()["externalContactIds"] == ['"NULL"'], response.text
        response = await tenant.client.request(
            "DELETE", f"{base}/audience/a/contact", json={"contacts": ids[:4]}
        )
        assert response.status_code == 204, response.text
        assert await member_ids(session, tenant, "a") == set(ids[4:])

    async def test_unknown_audience_is_404(self, tenant: Tenant, base: str):
        await make_contacts(tenant.client, ["c1"], base=base)
        response = await tenant.client.post(
            f"{base}/audience/nope/contact", json={"contacts": ["c1"]}
        )
        assert response.status_code == 404
        assert response.json() == {
            "errorType": "RESOURCE_NOT_FOUND",
            "message": "Audience not found",
        }

    async def test_over_2500_ids_is_413(self, tenant: Tenant, base: str):
        await make_audience(tenant.client, "a", base=base)
        ids = [f"c{i}" for i in range(2501)]
        response = await tenant.client.post(f"{base}/audience/a/contact", json={"contacts": ids})
        assert response.status_code == 413
        assert response.json() == {
            "errorType": "INVALID_PARAMS",
            "message": "Maximum batch size of contact ids exceeded(maximum is 2500)",
        }

    async def test_exactly_2500_ids_are_added(
        self, tenant: Tenant, base: str, session: AsyncSession
    ):
        ids = [f"c{i}" for i in range(2500)]
        await make_contacts(tenant.client, ids, base=base)
        await make_audience(tenant.client, "a", base=base)
        await add_members(tenant.client, "a", ids, base=base)
        assert await member_count(session, tenant, "a") == 2500

    async def test_the_batch_limit_is_configurable(self, tenant: Tenant, base: str, app):
        app.state.settings = app.state.settings.model_copy(update={"max_batch_ids": 2})
        await make_audience(tenant.client, "a", base=base)
        response = await tenant.client.post(
            f"{base}/audience/a/contact", json={"contacts": ["1", "2", "3"]}
        )
        assert response.status_code == 413
        assert "maximum is 2" in response.json()["message"]

    async def test_ids_no_contact_can_have_are_listed_as_unknown(self, tenant: Tenant, base: str):
        await make_audience(tenant.client, "a", base=base)
        response = await tenant.client.post(
            f"{base}/audience/a/contact", json={"contacts": ["bad\u0000id", "x" * 300]}
        )
        assert response.status_code == 404
        assert response.json()["externalContactIds"] == ["bad\u0000id", "x" * 300]

    async def test_another_accounts_contacts_are_unknown(
        self, tenant: Tenant, other_tenant: Tenant, base: str
    ):
        await make_contacts(other_tenant.client, ["theirs"], base=base)
        await make_audience(tenant.client, "a", base=base)
        response = await tenant.client.post(
            f"{base}/audience/a/contact", json={"contacts": ["theirs"]}
        )
        assert response.status_code == 404
        assert response.json()["externalContactIds"] == ["theirs"]

    async def test_a_missing_contacts_field_is_a_400(self, tenant: Tenant, base: str):
        await make_audience(tenant.client, "a", base=base)
        response = await tenant.client.post(f"{base}/audience/a/contact", json={})
        assert response.status_code == 400
        assert "contacts" in response.json()["message"]


class TestRemoveMembers:
    async def test_removes_the_given_ids_and_ignores_unknown_and_non_members(
        self, tenant: Tenant, base: str, session: AsyncSession
    ):
        await make_contacts(tenant.client, ["c1", "c2", "c3"], base=base)
        await make_audience(tenant.client, "a", base=base)
        await add_members(tenant.client, "a", ["c1", "c2"], base=base)
        response = await tenant.client.request(
            "DELETE", f"{base}/audience/a/contact", json={"contacts": ["c1", "c3", "nobody"]}
        )
        assert response.status_code == 204
        assert await member_ids(session, tenant, "a") == {"c2"}
        assert await member_count(session, tenant, "a") == 1
        audience = (await tenant.client.get(f"{base}/audience/a")).json()
        assert audience["lastContactRemovedAt"] is not None

    async def test_removing_non_members_leaves_last_removed_unset(self, tenant: Tenant, base: str):
        await make_contacts(tenant.client, ["c1"], base=base)
        await make_audience(tenant.client, "a", base=base)
        response = await tenant.client.request(
            "DELETE", f"{base}/audience/a/contact", json={"contacts": ["c1"]}
        )
        assert response.status_code == 204
        audience = (await tenant.client.get(f"{base}/audience/a")).json()
        assert audience["lastContactRemovedAt"] is None
        assert audience["lastSyncDate"] is not None

    @pytest.mark.parametrize(
        "kwargs",
        [
            {},
            {"content": b"", "headers": {"content-type": "application/json"}},
            {"content": b"null", "headers": {"content-type": "application/json"}},
        ],
        ids=["no-body", "empty-body", "null"],
    )
    async def test_no_body_empty_body_or_null_empties_the_audience(
        self, tenant: Tenant, base: str, session: AsyncSession, kwargs: dict[str, object]
    ):
        await make_contacts(tenant.client, ["c1", "c2"], base=base)
        await make_audience(tenant.client, "a", base=base)
        await add_members(tenant.client, "a", ["c1", "c2"], base=base)
        response = await tenant.client.request("DELETE", f"{base}/audience/a/contact", **kwargs)  # type: ignore[arg-type]
        assert response.status_code == 204
        assert await member_ids(session, tenant, "a") == set()
        assert await member_count(session, tenant, "a") == 0
        assert (await tenant.client.get(f"{base}/audience/a")).json()["lastContactRemovedAt"]

    async def test_an_empty_list_removes_nobody(
        self, tenant: Tenant, base: str, session: AsyncSession
    ):
        await make_contacts(tenant.client, ["c1"], base=base)
        await make_audience(tenant.client, "a", base=base)
        await add_members(tenant.client, "a", ["c1"], base=base)
        response = await tenant.client.request(
            "DELETE", f"{base}/audience/a/contact", json={"contacts": []}
        )
        assert response.status_code == 204
        assert await member_ids(session, tenant, "a") == {"c1"}

    async def test_unknown_audience_is_404(self, tenant: Tenant, base: str):
        response = await tenant.client.delete(f"{base}/audience/nope/contact")
        assert response.status_code == 404
        assert response.json()["message"] == "Audience not found"

    async def test_over_2500_ids_is_413(self, tenant: Tenant, base: str):
        await make_audience(tenant.client, "a", base=base)
        response = await tenant.client.request(
            "DELETE", f"{base}/audience/a/contact", json={"contacts": [str(i) for i in range(2501)]}
        )
        assert response.status_code == 413

    async def test_emptying_one_audience_leaves_the_others(
        self, tenant: Tenant, base: str, session: AsyncSession
    ):
        await make_contacts(tenant.client, ["c1"], base=base)
        await make_audience(tenant.client, "a", base=base)
        await make_audience(tenant.client, "b", base=base)
        await add_members(tenant.client, "a", ["c1"], base=base)
        await add_members(tenant.client, "b", ["c1"], base=base)
        await tenant.client.delete(f"{base}/audience/a/contact")
        assert await member_ids(session, tenant, "b") == {"c1"}
