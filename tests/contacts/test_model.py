"""The contact model as real clients parse it: permissions as {bit, description, enabled},
every set always present, account-defined properties, exact money; read, then write back."""

import datetime
from typing import Any

import pytest
from pydantic import BaseModel
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from tests.conftest import Tenant
from tests.factories import make_contact

API = "/integrationservice-1.1.0"


class SdkProperties(BaseModel):
    """The properties as a public Python SDK declares them (its required fields included)."""

    email: str
    permissions: list[Any]
    profileFields: list[Any]
    houseNumber: str | None = None
    freeField1: int | None = None
    taal: str | None = None
    customerType: str | None = None
    profileField1: str | None = None
    birthday: datetime.datetime | None = None
    firstPurchaseDate: datetime.datetime | None = None


class SdkContact(BaseModel):
    externalId: str
    created: datetime.datetime
    encryptedId: str
    testGroup: bool
    lastChanged: datetime.datetime
    temporary: bool
    properties: SdkProperties
    channels: list[Any]


ACCOUNT_PROPERTIES = [
    {"name": "taal", "type": "string", "description": "Language"},
    {"name": "customerType", "type": "string"},
    {"name": "profileField1", "type": "string"},
    {"name": "freeField1", "type": "int"},
    {"name": "firstPurchaseDate", "type": "dateTime"},
    {
        "name": "profileFields",
        "type": "set",
        "description": "Interests",
        "entries": [{"bit": 1, "description": "Cycling"}, {"bit": 2, "description": "Running"}],
    },
]


async def define(tenant: Tenant, *properties: dict[str, Any]) -> None:
    for body in properties:
        response = await tenant.client.post(f"{API}/contact/properties", json=body)
        assert response.status_code == 201, response.text


async def read(tenant: Tenant, external_id: str) -> dict[str, Any]:
    response = await tenant.client.get(f"{API}/contact/{external_id}")
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


class TestRoundTrip:
    async def test_a_python_sdk_reads_writes_back_and_updates_one_property(self, tenant: Tenant):
        await define(tenant, *ACCOUNT_PROPERTIES)
        created = await tenant.client.post(
            f"{API}/contact",
            json={
                "update": True,
                "contact": {
                    "externalId": "5f2c",
                    "properties": {
                        "email": "ann@example.com",
                        "houseNumber": "12a",
                        "taal": "nl",
                        "freeField1": 7,
                        "birthday": "1990-05-01",
                        "firstPurchaseDate": "2026-03-01T10:00:00+01:00",
                        "turnover": "1250.50",
                        "permissions": [{"bit": 1, "enabled": True}],
                    },
                    "channels": [],
                },
            },
        )
        assert created.status_code == 204, created.text

        first = await read(tenant, "5f2c")
        contact = SdkContact(**first)
        assert contact.properties.permissions == [
            {"bit": 1, "description": "Newsletter", "enabled": True}
        ]
        assert contact.properties.profileFields == []
        assert contact.properties.houseNumber == "12a"
        assert contact.properties.freeField1 == 7
        assert first["properties"]["turnover"] == "1250.50"

        # Written back exactly as read (read-only fields and descriptions included): no change.
        written = await tenant.client.put(f"{API}/contact/5f2c", json={"contact": first})
        assert written.status_code == 204, written.text
        again = await read(tenant, "5f2c")
        assert again["properties"] == first["properties"]
        assert again["channels"] == first["channels"]

        # The SDK's update of one property: update, no purge, empty channels.
        updated = await tenant.client.put(
            f"{API}/contact/5f2c",
            json={
                "update": True,
                "purge": False,
                "contact": {
                    "externalId": "5f2c",
                    "properties": {"customerType": "b2b"},
                    "channels": [],
                },
            },
        )
        assert updated.status_code == 204, updated.text
        last = SdkContact(**await read(tenant, "5f2c"))
        assert last.properties.customerType == "b2b"
        assert last.properties.taal == "nl"

    async def test_the_magento_module_reads_each_permissions_description(self, tenant: Tenant):
        await make_contact(
            tenant.client,
            "m1",
            email="m1@example.com",
            permissions=[
                {"bit": 1, "enabled": True, "description": "ignored on write"},
                {"bit": 3, "enabled": False},
            ],
        )
        permissions = (await read(tenant, "m1"))["properties"]["permissions"]
        assert [(p["bit"], p["description"], p["enabled"]) for p in permissions] == [
            (1, "Newsletter", True),
            (3, "Events", False),
        ]

    async def test_a_contact_without_permissions_has_an_empty_list(self, tenant: Tenant):
        await make_contact(tenant.client, "bare")
        assert (await read(tenant, "bare"))["properties"] == {"permissions": []}


class TestPermissionDefinitions:
    async def test_a_renamed_permission_is_read_with_its_new_description(self, tenant: Tenant):
        await make_contact(tenant.client, "c1", permissions=[{"bit": 1, "enabled": True}])
        response = await tenant.client.put(
            f"{API}/contact/properties/permissions",
            json={
                "entries": [
                    {"bit": 1, "description": "Nieuwsbrief"},
                    {"bit": 2, "description": "Aanbiedingen"},
                    {"bit": 5, "description": "Webinars"},
                ]
            },
        )
        assert response.status_code == 200, response.text
        assert [e["bit"] for e in response.json()["entries"]] == [1, 2, 5]
        permissions = (await read(tenant, "c1"))["properties"]["permissions"]
        assert permissions == [{"bit": 1, "description": "Nieuwsbrief", "enabled": True}]
        # The new bit can be written (and mailed with); a removed one cannot.
        ok = await tenant.client.put(
            f"{API}/contact/c1",
            json={"contact": {"properties": {"permissions": [{"bit": 5, "enabled": True}]}}},
        )
        assert ok.status_code == 204
        gone = await tenant.client.put(
            f"{API}/contact/c1",
            json={"contact": {"properties": {"permissions": [{"bit": 3, "enabled": True}]}}},
        )
        assert gone.status_code == 400
        assert gone.json()["property"] == "permissions"

    async def test_a_removed_bit_leaves_every_contact(self, tenant: Tenant, session: AsyncSession):
        on = [{"bit": 1, "enabled": True}, {"bit": 4, "enabled": True}]
        await make_contact(tenant.client, "c1", permissions=on)
        await make_contact(tenant.client, "c2", permissions=[{"bit": 4, "enabled": False}])
        entries = [{"bit": b, "description": f"P{b}"} for b in (1, 2, 3)]
        response = await tenant.client.put(
            f"{API}/contact/properties/permissions", json={"entries": entries}
        )
        assert response.status_code == 200, response.text
        stored = await session.execute(
            text(
                "SELECT external_id, properties -> 'permissions' FROM contacts "
                "WHERE account_id = :a ORDER BY external_id"
            ),
            {"a": tenant.account_id},
        )
        assert stored.all() == [("c1", [{"bit": 1, "enabled": True}]), ("c2", [])]

    async def test_each_account_starts_with_the_default_permissions(
        self, tenant: Tenant, other_tenant: Tenant
    ):
        await tenant.client.put(
            f"{API}/contact/properties/permissions",
            json={"entries": [{"bit": 1, "description": "Mine"}]},
        )
        listed = (await other_tenant.client.get(f"{API}/contact/properties/list")).json()
        permissions = next(p for p in listed if p["name"] == "permissions")
        assert [(e["bit"], e["description"]) for e in permissions["entries"]] == [
            (1, "Newsletter"),
            (2, "Offers"),
            (3, "Events"),
            (4, "Surveys"),
        ]


class TestMoney:
    async def test_keeps_every_digit(self, tenant: Tenant, session: AsyncSession):
        await make_contact(tenant.client, "rich", turnover="12345678901234567.89")
        assert (await read(tenant, "rich"))["properties"]["turnover"] == "12345678901234567.89"
        stored = await session.scalar(
            text(
                "SELECT jsonb_typeof(properties -> 'turnover') FROM contacts "
                "WHERE account_id = :a AND external_id = 'rich'"
            ),
            {"a": tenant.account_id},
        )
        assert stored == "string"

    @pytest.mark.parametrize(
        "number", [b"1e400", b'"1e400"', b'"Infinity"', b"NaN", b"Infinity", b"-Infinity"]
    )
    async def test_a_number_it_cannot_keep_is_400_for_that_contact(
        self, tenant: Tenant, number: bytes
    ):
        body = b'{"contact": {"externalId": "x", "properties": {"turnover": ' + number + b"}}}"
        response = await tenant.client.post(
            f"{API}/contact", content=body, headers={"content-type": "application/json"}
        )
        assert response.status_code == 400, response.text
        assert response.json()["errorType"] == "INVALID_PROPERTY"
        assert response.json()["property"] == "turnover"
        assert (await tenant.client.get(f"{API}/contact/x")).status_code == 404

    async def test_in_a_list_only_that_contact_is_refused(self, tenant: Tenant):
        body = (
            b'{"contacts": ['
            b'{"externalId": "ok", "properties": {"turnover": 10.25}},'
            b'{"externalId": "huge", "properties": {"turnover": 1e400}},'
            b'{"externalId": "nan", "properties": {"turnover": NaN}},'
            b'{"externalId": "text", "properties": {"turnover": "1e400"}},'
            b'{"externalId": "ok2", "properties": {"turnover": "99.999"}}]}'
        )
        response = await tenant.client.post(
            f"{API}/contact/list", content=body, headers={"content-type": "application/json"}
        )
        assert response.status_code == 200, response.text
        assert [(r["externalId"], r["code"]) for r in response.json()] == [
            ("ok", "OK"),
            ("huge", "PROPERTY_INVALID"),
            ("nan", "PROPERTY_INVALID"),
            ("text", "PROPERTY_INVALID"),
            ("ok2", "OK"),
        ]
        assert (await read(tenant, "ok"))["properties"]["turnover"] == "10.25"
        assert (await read(tenant, "ok2"))["properties"]["turnover"] == "99.999"

    async def test_in_an_import_only_that_line_is_refused(self, tenant: Tenant):
        body = (
            '{"externalId": "a", "properties": {"turnover": 12345678901234567.89}}\n'
            '{"externalId": "b", "properties": {"turnover": 1e400}}\n'
            '{"externalId": "c", "properties": {"turnover": NaN}}\n'
        )
        response = await tenant.client.post(
            f"{API}/contact/import",
            content=body.encode(),
            headers={"content-type": "application/x-ndjson"},
        )
        report = response.json()
        assert (report["created"], report["failed"]) == (1, 2), report
        assert [(e["line"], e["code"]) for e in report["errors"]] == [
            (2, "PROPERTY_INVALID"),
            (3, "PROPERTY_INVALID"),
        ]
        # NDJSON numbers are read exactly, so this one keeps all its digits.
        assert (await read(tenant, "a"))["properties"]["turnover"] == "12345678901234567.89"
