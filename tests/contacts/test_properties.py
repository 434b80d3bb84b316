"""Account-defined contact properties (extension): defined, listed, validated by type on every
write path, changed and removed by the rules in docs/api.md."""

from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from audiences.contacts.properties import MAX_ACCOUNT_PROPERTIES
from tests.conftest import Tenant
from tests.factories import make_contact

API = "/integrationservice"
PROPERTIES = f"{API}/contact/properties"

EVERY_TYPE = [
    ("nickname", "string", "Ann", "x" * 256),
    ("shoeSize", "int", 44, "large"),
    ("memberSince", "date", "2020-02-29", "2021-02-29"),
    ("lastVisit", "dateTime", "2026-12-01T10:00:00+01:00", "last week"),
    ("credit", "money", "10.75", "ten"),
    ("partnerBirthday", "birthdate", "1985-07-14", "14-07-1985"),
    ("workEmail", "email", "ann@work.example", "ann@"),
    ("partnerGender", "gender", "F", "Q"),
    ("workMobile", "mobNr", "+31612345678", "none"),
    ("deliveryPostcode", "postcode", "3511 AB", "!!"),
]


async def define(client: httpx.AsyncClient, **body: Any) -> httpx.Response:
    return await client.post(PROPERTIES, json=body)


async def properties_of(client: httpx.AsyncClient, external_id: str) -> dict[str, Any]:
    response = await client.get(f"{API}/contact/{external_id}")
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()["properties"]
    return result


class TestDefine:
    async def test_a_property_is_listed_with_the_standard_ones(self, tenant: Tenant):
        response = await define(tenant.client, name="taal", type="string", description="Taal")
        assert response.status_code == 201, response.text
        assert response.json() == {
            "name": "taal",
            "description": "Taal",
            "type": "string",
            "entries": None,
            "standard": False,
        }
        listed = (await tenant.client.get(f"{PROPERTIES}/list")).json()
        assert listed[-1] == {
            "name": "taal",
            "description": "Taal",
            "type": "string",
            "entries": None,
        }
        assert {"email", "permissions"} <= {p["name"] for p in listed}
        assert all("standard" not in p for p in listed)

    async def test_a_set_keeps_its_entries_ranked_as_given(self, tenant: Tenant):
        response = await define(
            tenant.client,
            name="profileFields",
            type="set",
            entries=[{"bit": 8, "description": "Running"}, {"bit": 3, "description": "Cycling"}],
        )
        assert response.status_code == 201, response.text
        assert response.json()["description"] == "profileFields"
        assert response.json()["entries"] == [
            {"bit": 8, "description": "Running", "rank": 1},
            {"bit": 3, "description": "Cycling", "rank": 2},
        ]

    @pytest.mark.parametrize(("name", "kind", "good", "bad"), EVERY_TYPE)
    async def test_every_vendor_type_is_validated_on_write(
        self, tenant: Tenant, name: str, kind: str, good: Any, bad: Any
    ):
        assert (await define(tenant.client, name=name, type=kind)).status_code == 201
        await make_contact(tenant.client, "c1", **{name: good})
        assert name in await properties_of(tenant.client, "c1")
        refused = await tenant.client.put(
            f"{API}/contact/c1", json={"contact": {"properties": {name: bad}}}
        )
        assert refused.status_code == 400, refused.text
        assert refused.json()["errorType"] == "INVALID_PROPERTY"
        assert refused.json()["property"] == name

    async def test_names_are_unique_whatever_their_case(self, tenant: Tenant):
        assert (await define(tenant.client, name="customerType", type="string")).status_code == 201
        again = await define(tenant.client, name="CustomerType", type="int")
        assert again.status_code == 417
        assert again.json() == {
            "errorType": "NAME_ALREADY_IN_USE",
            "message": "Property name must be unique",
        }
        standard = await define(tenant.client, name="EMAIL", type="string")
        assert standard.status_code == 417

    @pytest.mark.parametrize(
        ("body", "words"),
        [
            ({"name": "1st", "type": "string"}, "starting with a letter"),
            ({"name": "with space", "type": "string"}, "letters, digits"),
            ({"name": "x" * 65, "type": "string"}, "1 to 64"),
            ({"name": "externalId", "type": "string"}, "reserved"),
            ({"name": "TestGroup", "type": "string"}, "reserved"),
            ({"name": "tags", "type": "set"}, "entries"),
            (
                {"name": "tags", "type": "string", "entries": [{"bit": 1, "description": "a"}]},
                "Only a set",
            ),
            (
                {
                    "name": "tags",
                    "type": "set",
                    "entries": [{"bit": 1, "description": "a"}, {"bit": 1, "description": "b"}],
                },
                "twice",
            ),
            ({"name": "tags", "type": "set", "entries": [{"bit": 0, "description": "a"}]}, "1 to"),
            ({"name": "tags", "type": "set", "entries": [{"bit": 1, "description": ""}]}, "1 to"),
            ({"name": "tags", "type": "string", "description": "x" * 256}, "255"),
            ({"name": "tags", "type": "text"}, "type"),
            ({"name": "tags", "type": "string", "colour": "red"}, "colour"),
        ],
    )
    async def test_invalid_definitions_are_400_naming_the_rule(
        self, tenant: Tenant, body: dict[str, Any], words: str
    ):
        response = await tenant.client.post(PROPERTIES, json=body)
        assert response.status_code == 400, response.text
        assert response.json()["errorType"] == "INVALID_PARAMS"
        assert words in response.json()["message"]

    async def test_an_account_defines_at_most_the_limit(
        self, tenant: Tenant, session: AsyncSession
    ):
        await session.execute(
            text(
                """
                INSERT INTO contact_properties (account_id, name, description, type)
                SELECT :a, 'p' || n, 'P', 'string' FROM generate_series(1, :n) n
                """
            ),
            {"a": tenant.account_id, "n": MAX_ACCOUNT_PROPERTIES},
        )
        response = await define(tenant.client, name="oneMore", type="string")
        assert response.status_code == 417
        assert response.json()["errorType"] == "INVALID_STATE"

    async def test_another_account_does_not_have_it(self, tenant: Tenant, other_tenant: Tenant):
        await define(tenant.client, name="taal", type="string")
        listed = (await other_tenant.client.get(f"{PROPERTIES}/list")).json()
        assert "taal" not in {p["name"] for p in listed}
        refused = await other_tenant.client.post(
            f"{API}/contact", json={"contact": {"externalId": "x", "properties": {"taal": "nl"}}}
        )
        assert refused.status_code == 400
        # The same name is free in the other account.
        assert (await define(other_tenant.client, name="taal", type="int")).status_code == 201

    async def test_credentials_are_required(self, http: httpx.AsyncClient):
        response = await http.post(PROPERTIES, json={"name": "taal", "type": "string"})
        assert response.status_code == 401
        assert response.json()["errorType"] == "NOT_AUTHORIZED"


class TestEveryWritePath:
    async def test_a_list_refuses_only_the_invalid_contact(self, tenant: Tenant):
        await define(tenant.client, name="shoeSize", type="int")
        response = await tenant.client.post(
            f"{API}/contact/list",
            json={
                "contacts": [
                    {"externalId": "a", "properties": {"shoeSize": 44}},
                    {"externalId": "b", "properties": {"shoeSize": "large"}},
                ]
            },
        )
        assert [r["code"] for r in response.json()] == ["OK", "PROPERTY_INVALID"]
        assert (await properties_of(tenant.client, "a"))["shoeSize"] == 44

    async def test_an_import_refuses_only_the_invalid_line(self, tenant: Tenant):
        await define(tenant.client, name="shoeSize", type="int")
        await define(
            tenant.client,
            name="profileFields",
            type="set",
            entries=[{"bit": 1, "description": "Cycling"}, {"bit": 2, "description": "Running"}],
        )
        body = "externalId,shoeSize,profileFields\na,44,1;2\nb,large,\nc,41,7\n"
        response = await tenant.client.post(
            f"{API}/contact/import", content=body.encode(), headers={"content-type": "text/csv"}
        )
        report = response.json()
        assert (report["created"], report["failed"]) == (1, 2), report
        assert [(e["line"], e["externalId"]) for e in report["errors"]] == [(3, "b"), (4, "c")]
        assert await properties_of(tenant.client, "a") == {
            "shoeSize": 44,
            "permissions": [],
            "profileFields": [
                {"bit": 1, "description": "Cycling", "enabled": True},
                {"bit": 2, "description": "Running", "enabled": True},
            ],
        }

    async def test_an_import_merges_an_account_defined_set_bit_by_bit(self, tenant: Tenant):
        entries = [{"bit": b, "description": f"T{b}"} for b in (1, 2, 3)]
        await define(tenant.client, name="tags", type="set", entries=entries)
        await make_contact(
            tenant.client, "c1", tags=[{"bit": 1, "enabled": True}, {"bit": 2, "enabled": True}]
        )
        line = '{"externalId": "c1", "properties": {"tags": [{"bit": 2, "enabled": false}]}}\n'
        response = await tenant.client.post(
            f"{API}/contact/import",
            content=line.encode(),
            headers={"content-type": "application/x-ndjson"},
        )
        assert response.json()["updated"] == 1
        tags = (await properties_of(tenant.client, "c1"))["tags"]
        assert [(t["bit"], t["enabled"]) for t in tags] == [(1, True), (2, False)]


class TestChange:
    async def test_the_description_changes_the_type_does_not(self, tenant: Tenant):
        await define(tenant.client, name="taal", type="string")
        changed = await tenant.client.put(f"{PROPERTIES}/taal", json={"description": "Language"})
        assert changed.status_code == 200
        assert changed.json()["description"] == "Language"
        retyped = await tenant.client.put(f"{PROPERTIES}/taal", json={"type": "int"})
        assert retyped.status_code == 400
        assert "cannot change" in retyped.json()["message"]
        renamed = await tenant.client.put(f"{PROPERTIES}/taal", json={"name": "language"})
        assert renamed.status_code == 400
        assert renamed.json()["message"] == "Path name doesn't match property name"

    async def test_a_standard_propertys_description_can_change(self, tenant: Tenant):
        response = await tenant.client.put(f"{PROPERTIES}/email", json={"description": "E-mail"})
        assert response.status_code == 200
        assert response.json()["standard"] is True

    async def test_unknown_is_404(self, tenant: Tenant):
        response = await tenant.client.put(f"{PROPERTIES}/nope", json={"description": "x"})
        assert response.status_code == 404
        assert response.json()["errorType"] == "RESOURCE_NOT_FOUND"


class TestRemove:
    async def test_its_values_go_with_it_and_do_not_come_back(
        self, tenant: Tenant, session: AsyncSession
    ):
        await define(tenant.client, name="taal", type="string")
        await make_contact(tenant.client, "c1", taal="nl", firstName="Ann")
        assert (await tenant.client.delete(f"{PROPERTIES}/taal")).status_code == 204
        assert await properties_of(tenant.client, "c1") == {"firstName": "Ann", "permissions": []}
        stored = await session.scalar(
            text("SELECT properties ? 'taal' FROM contacts WHERE account_id = :a"),
            {"a": tenant.account_id},
        )
        assert stored is False
        refused = await tenant.client.put(
            f"{API}/contact/c1", json={"contact": {"properties": {"taal": "en"}}}
        )
        assert refused.status_code == 400
        # Defined again (another type), it starts empty.
        await define(tenant.client, name="taal", type="int")
        assert "taal" not in await properties_of(tenant.client, "c1")

    async def test_standard_properties_stay(self, tenant: Tenant):
        for name in ("email", "permissions"):
            response = await tenant.client.delete(f"{PROPERTIES}/{name}")
            assert response.status_code == 400
            assert response.json() == {
                "errorType": "INVALID_STATE",
                "message": "Standard properties cannot be removed",
            }

    async def test_unknown_is_404(self, tenant: Tenant):
        assert (await tenant.client.delete(f"{PROPERTIES}/nope")).status_code == 404


async def test_the_openapi_document_tags_them_as_an_extension(http: httpx.AsyncClient):
    document = (await http.get("/openapi.json")).json()
    tags = {t["name"]: t["description"] for t in document["tags"]}
    assert tags["Contact properties"].startswith("Extension")
    for path, method in [
        ("/contact/properties", "post"),
        ("/contact/properties/{name}", "put"),
        ("/contact/properties/{name}", "delete"),
    ]:
        assert document["paths"][path][method]["tags"] == ["Contact properties"]
