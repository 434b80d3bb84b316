"""The vendor's /contact calls that audience membership needs."""

from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from audiences.contacts import repository
from tests.conftest import Tenant
from tests.factories import make_contact


class TestProperties:
    async def test_lists_the_default_properties_with_permission_bits(
        self, tenant: Tenant, base: str
    ):
        response = await tenant.client.get(f"{base}/contact/properties/list")
        assert response.status_code == 200
        by_name = {p["name"]: p for p in response.json()}
        assert {"email", "firstName", "lastName", "mobileNumber", "permissions"} <= set(by_name)
        assert by_name["email"]["type"] == "email"
        permissions = by_name["permissions"]
        assert permissions["type"] == "set"
        assert [e["bit"] for e in permissions["entries"]] == [1, 2, 3, 4]
        assert all(e["description"] and e["rank"] for e in permissions["entries"])


class TestCreateContact:
    async def test_creates_with_204_and_reads_back(self, tenant: Tenant, base: str):
        response = await tenant.client.post(
            f"{base}/contact",
            json={
                "contact": {
                    "externalId": "c1",
                    "properties": {
                        "email": "Ann@Example.com",
                        "firstName": "Ann",
                        "permissions": [{"bit": 1, "enabled": True}, {"bit": 2, "enabled": False}],
                    },
                }
            },
        )
        assert response.status_code == 204
        contact = (await tenant.client.get(f"{base}/contact/c1")).json()
        assert contact["externalId"] == "c1"
        assert contact["properties"]["email"] == "Ann@example.com"
        assert contact["properties"]["firstName"] == "Ann"
        assert contact["properties"]["permissions"] == [
            {"bit": 1, "description": "Newsletter", "enabled": True},
            {"bit": 2, "description": "Offers", "enabled": False},
        ]
        assert "lastName" not in contact["properties"]
        assert contact["encryptedId"]
        assert contact["created"] > 1_700_000_000_000
        assert contact["testGroup"] is False
        assert contact["temporary"] is False
        assert {"name": "EMAIL", "value": True} in contact["channels"]

    async def test_an_existing_contact_is_refused_without_update(self, tenant: Tenant, base: str):
        await make_contact(tenant.client, "c1", base=base, firstName="Ann")
        response = await tenant.client.post(
            f"{base}/contact", json={"contact": {"externalId": "c1", "properties": {}}}
        )
        assert response.status_code == 400
        assert response.json()["errorType"] == "CONTACT_ALREADY_EXISTS"

    async def test_update_merges_and_purge_replaces(self, tenant: Tenant, base: str):
        await make_contact(tenant.client, "c1", base=base, firstName="Ann", lastName="Smith")
        merged = await tenant.client.post(
            f"{base}/contact",
            json={
                "update": True,
                "contact": {"externalId": "c1", "properties": {"firstName": "Anna"}},
            },
        )
        assert merged.status_code == 204
        properties = (await tenant.client.get(f"{base}/contact/c1")).json()["properties"]
        assert properties == {"firstName": "Anna", "lastName": "Smith", "permissions": []}
        purged = await tenant.client.post(
            f"{base}/contact",
            json={
                "update": True,
                "purge": True,
                "contact": {"externalId": "c1", "properties": {"city": "Utrecht"}},
            },
        )
        assert purged.status_code == 204
        properties = (await tenant.client.get(f"{base}/contact/c1")).json()["properties"]
        assert properties == {"city": "Utrecht", "permissions": []}

    async def test_update_creates_a_missing_contact(self, tenant: Tenant, base: str):
        response = await tenant.client.post(
            f"{base}/contact", json={"update": True, "contact": {"externalId": "new"}}
        )
        assert response.status_code == 204
        assert (await tenant.client.get(f"{base}/contact/new")).status_code == 200

    async def test_invalid_email_is_400(self, tenant: Tenant, base: str):
        response = await tenant.client.post(
            f"{base}/contact",
            json={"contact": {"externalId": "c1", "properties": {"email": "not-an-email"}}},
        )
        assert response.status_code == 400
        assert response.json()["message"] == "Email is invalid"
        assert response.json()["errorType"] == "INVALID_PROPERTY"
        assert (await tenant.client.get(f"{base}/contact/c1")).status_code == 404

    @pytest.mark.parametrize(
        "properties",
        [
            {"unknownProperty": "x"},
            {"turnover": "twelve"},
            {"birthday": "31-12-1990"},
            {"gender": "X"},
            {"permissions": [{"bit": 99, "enabled": True}]},
            {"permissions": "yes"},
            {"firstName": "x" * 256},
            {"firstName": "nul\u0000byte"},
            {"mobileNumber": "call me"},
        ],
    )
    async def test_invalid_properties_are_400(
        self, tenant: Tenant, base: str, properties: dict[str, object]
    ):
        response = await tenant.client.post(
            f"{base}/contact", json={"contact": {"externalId": "c1", "properties": properties}}
        )
        assert response.status_code == 400
        body = response.json()
        assert body["errorType"] == "INVALID_PROPERTY"
        assert body["message"] == "Property is invalid"
        assert body["property"] == next(iter(properties))

    async def test_a_contact_needs_an_external_id(self, tenant: Tenant, base: str):
        response = await tenant.client.post(f"{base}/contact", json={"contact": {"properties": {}}})
        assert response.status_code == 400
        assert response.json()["message"] == "Contact without externalId found"

    async def test_channels_can_be_set(self, tenant: Tenant, base: str):
        await tenant.client.post(
            f"{base}/contact",
            json={"contact": {"externalId": "c1", "channels": [{"name": "EMAIL", "value": False}]}},
        )
        contact = (await tenant.client.get(f"{base}/contact/c1")).json()
        assert {"name": "EMAIL", "value": False} in contact["channels"]

    async def test_a_contact_read_can_be_written_back(self, tenant: Tenant, base: str):
        await make_contact(tenant.client, "c1", base=base, firstName="Ann")
        contact = (await tenant.client.get(f"{base}/contact/c1")).json()
        response = await tenant.client.put(f"{base}/contact/c1", json={"contact": contact})
        assert response.status_code == 204


class TestUpdateContact:
    async def test_updates_with_204(self, tenant: Tenant, base: str):
        await make_contact(tenant.client, "c1", base=base, firstName="Ann")
        response = await tenant.client.put(
            f"{base}/contact/c1", json={"contact": {"properties": {"lastName": "Smith"}}}
        )
        assert response.status_code == 204
        properties = (await tenant.client.get(f"{base}/contact/c1")).json()["properties"]
        assert properties == {"firstName": "Ann", "lastName": "Smith", "permissions": []}

    async def test_permission_bits_merge_one_by_one(self, tenant: Tenant, base: str):
        await make_contact(
            tenant.client,
            "c1",
            base=base,
            permissions=[{"bit": 1, "enabled": True}, {"bit": 2, "enabled": True}],
        )
        await tenant.client.put(
            f"{base}/contact/c1",
            json={"contact": {"properties": {"permissions": [{"bit": 2, "enabled": False}]}}},
        )
        properties = (await tenant.client.get(f"{base}/contact/c1")).json()["properties"]
        assert properties["permissions"] == [
            {"bit": 1, "description": "Newsletter", "enabled": True},
            {"bit": 2, "description": "Offers", "enabled": False},
        ]

    async def test_unknown_is_404(self, tenant: Tenant, base: str):
        response = await tenant.client.put(
            f"{base}/contact/nope", json={"contact": {"properties": {}}}
        )
        assert response.status_code == 404
        assert response.json() == {
            "errorType": "CONTACT_NOT_FOUND",
            "message": "Given contact not found",
        }

    async def test_invalid_email_is_400_and_changes_nothing(self, tenant: Tenant, base: str):
        await make_contact(tenant.client, "c1", base=base, email="a@example.com")
        response = await tenant.client.put(
            f"{base}/contact/c1", json={"contact": {"properties": {"email": "nope"}}}
        )
        assert response.status_code == 400
        assert response.json()["message"] == "Email is invalid"
        properties = (await tenant.client.get(f"{base}/contact/c1")).json()["properties"]
        assert properties["email"] == "a@example.com"


class TestGetContact:
    async def test_unknown_is_404(self, tenant: Tenant, base: str):
        response = await tenant.client.get(f"{base}/contact/nope")
        assert response.status_code == 404
        assert response.json() == {
            "errorType": "CONTACT_NOT_FOUND",
            "message": "Given contact not found",
        }

    async def test_another_accounts_contact_is_not_found(
        self, tenant: Tenant, other_tenant: Tenant, base: str
    ):
        await make_contact(tenant.client, "c1", base=base, firstName="Ann")
        assert (await other_tenant.client.get(f"{base}/contact/c1")).status_code == 404
        response = await other_tenant.client.put(
            f"{base}/contact/c1", json={"contact": {"properties": {"firstName": "Eve"}}}
        )
        assert response.status_code == 404
        assert (await other_tenant.client.put(f"{base}/contact/anonymize/c1")).status_code == 404
        contact = (await tenant.client.get(f"{base}/contact/c1")).json()
        assert contact["properties"]["firstName"] == "Ann"


class TestAddContacts:
    async def test_answers_a_code_per_contact(self, tenant: Tenant, base: str):
        await make_contact(tenant.client, "exists", base=base)
        response = await tenant.client.post(
            f"{base}/contact/list",
            json={
                "contacts": [
                    {"externalId": "new", "properties": {"email": "n@example.com"}},
                    {"externalId": "exists", "properties": {}},
                    {"externalId": "bad", "properties": {"email": "nope"}},
                    {"externalId": "worse", "properties": {"shoeSize": 44}},
                ]
            },
        )
        assert response.status_code == 200
        codes = {item["externalId"]: item["code"] for item in response.json()}
        assert codes == {
            "new": "OK",
            "exists": "CONTACT_ALREADY_EXISTS",
            "bad": "PROPERTY_INVALID",
            "worse": "PROPERTY_INVALID",
        }
        assert (await tenant.client.get(f"{base}/contact/new")).status_code == 200
        assert (await tenant.client.get(f"{base}/contact/bad")).status_code == 404

    async def test_update_updates_existing_ones(self, tenant: Tenant, base: str):
        await make_contact(tenant.client, "c1", base=base, firstName="Ann")
        response = await tenant.client.post(
            f"{base}/contact/list",
            json={
                "update": True,
                "contacts": [{"externalId": "c1", "properties": {"firstName": "Bo"}}],
            },
        )
        assert response.json()[0]["code"] == "OK"
        assert (await tenant.client.get(f"{base}/contact/c1")).json()["properties"][
            "firstName"
        ] == "Bo"

    async def test_a_repeated_id_is_written_as_one_request_at_a_time_would(
        self, tenant: Tenant, base: str
    ):
        await make_contact(tenant.client, "old", base=base, firstName="Ann")
        contacts = [
            {"externalId": "new", "properties": {"firstName": "Ann"}},
            {"externalId": "old", "properties": {"lastName": "Smith"}},
            {"externalId": "new", "properties": {"lastName": "Jones"}},
            {"externalId": "old", "properties": {"firstName": "Bo"}},
        ]
        response = await tenant.client.post(
            f"{base}/contact/list", json={"update": True, "contacts": contacts}
        )
        assert [item["message"] for item in response.json()] == [
            "Contact added",
            "Contact updated",
            "Contact updated",
            "Contact updated",
        ]
        new = (await tenant.client.get(f"{base}/contact/new")).json()["properties"]
        old = (await tenant.client.get(f"{base}/contact/old")).json()["properties"]
        assert (new["firstName"], new["lastName"]) == ("Ann", "Jones")
        assert (old["firstName"], old["lastName"]) == ("Bo", "Smith")
        response = await tenant.client.post(
            f"{base}/contact/list", json={"contacts": [{"externalId": "n2"}, {"externalId": "n2"}]}
        )
        assert [item["code"] for item in response.json()] == ["OK", "CONTACT_ALREADY_EXISTS"]

    @pytest.mark.parametrize("update", [True, False])
    async def test_a_contact_created_between_the_read_and_the_write_is_written_as_existing(
        self, tenant: Tenant, base: str, monkeypatch: pytest.MonkeyPatch, update: bool
    ):
        read = repository.lock_listed_contacts

        async def read_then_create(
            session: AsyncSession, account_id: int, ids: list[str]
        ) -> tuple[list[Any], dict[str, Any]]:
            found = await read(session, account_id, ids)
            # Another request creates "b" now (as it would, committed, before our insert).
            await session.execute(
                text(
                    "INSERT INTO contacts (account_id, external_id, encrypted_id, properties)"
                    " VALUES (:account_id, 'b', 'other', '{\"lastName\": \"Smith\"}')"
                ),
                {"account_id": account_id},
            )
            return found

        monkeypatch.setattr(repository, "lock_listed_contacts", read_then_create)
        contacts = [
            {"externalId": "b", "properties": {"firstName": "Bo"}},
            {"externalId": "a", "properties": {"firstName": "Ann"}},
        ]
        response = await tenant.client.post(
            f"{base}/contact/list", json={"update": update, "contacts": contacts}
        )
        assert response.status_code == 200, response.text
        expected = (
            {"code": "OK", "message": "Contact updated"}
            if update
            else {"code": "CONTACT_ALREADY_EXISTS", "message": "Contact already exists"}
        )
        assert response.json() == [
            {"externalId": "b", **expected},
            {"externalId": "a", "code": "OK", "message": "Contact added"},
        ]
        b = (await tenant.client.get(f"{base}/contact/b")).json()
        assert b["encryptedId"] == "other"
        assert b["properties"]["lastName"] == "Smith"
        assert b["properties"].get("firstName") == ("Bo" if update else None)

    async def test_an_anonymized_contact_is_left_alone(self, tenant: Tenant, base: str):
        await make_contact(tenant.client, "gone", base=base, firstName="Ann")
        assert (await tenant.client.put(f"{base}/contact/anonymize/gone")).status_code == 204
        response = await tenant.client.post(
            f"{base}/contact/list",
            json={"update": True, "contacts": [{"externalId": "gone", "properties": {}}]},
        )
        assert response.json()[0]["code"] == "ERROR"

    async def test_more_than_100_is_400(self, tenant: Tenant, base: str):
        contacts = [{"externalId": f"c{i}"} for i in range(101)]
        response = await tenant.client.post(f"{base}/contact/list", json={"contacts": contacts})
        assert response.status_code == 400
        assert response.json()["message"] == "Too many contacts provided (max is 100)"

    async def test_a_contact_without_external_id_is_400(self, tenant: Tenant, base: str):
        response = await tenant.client.post(
            f"{base}/contact/list", json={"contacts": [{"externalId": "a"}, {"properties": {}}]}
        )
        assert response.status_code == 400
        assert response.json()["message"] == "Contact without externalId found"
        assert (await tenant.client.get(f"{base}/contact/a")).status_code == 404


class TestAnonymizeContact:
    async def test_removes_personal_data_and_channels(self, tenant: Tenant, base: str):
        await make_contact(tenant.client, "c1", base=base, email="a@example.com", firstName="Ann")
        response = await tenant.client.put(f"{base}/contact/anonymize/c1")
        assert response.status_code == 204
        contact = (await tenant.client.get(f"{base}/contact/c1")).json()
        assert contact["properties"] == {"permissions": []}
        assert all(channel["value"] is False for channel in contact["channels"])

    async def test_an_anonymized_contact_cannot_be_changed(self, tenant: Tenant, base: str):
        await make_contact(tenant.client, "c1", base=base, firstName="Ann")
        await tenant.client.put(f"{base}/contact/anonymize/c1")
        response = await tenant.client.put(
            f"{base}/contact/c1", json={"contact": {"properties": {"firstName": "Ann"}}}
        )
        assert response.status_code == 400
        assert response.json()["errorType"] == "INVALID_STATE"

    async def test_unknown_is_404(self, tenant: Tenant, base: str):
        response = await tenant.client.put(f"{base}/contact/anonymize/nope")
        assert response.status_code == 404
