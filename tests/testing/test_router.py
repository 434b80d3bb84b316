"""The /testing calls: they exist only in ephemeral mode, are authenticated like every call, make
an account per test, and reset one account without touching another."""

import json

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from audiences.models import metadata
from audiences.testing.repository import KEPT_TABLES
from tests.conftest import BASE, Tenant
from tests.factories import (
    add_members,
    make_audience,
    make_automailer,
    make_contacts,
    make_flow,
    make_mailing,
    make_message,
)

JSON_TYPE = {"Content-Type": "application/json"}
CALLS = [
    ("POST", "/testing/accounts"),
    ("POST", "/testing/reset"),
    ("POST", "/testing/faults"),
    ("GET", "/testing/faults"),
    ("DELETE", "/testing/faults"),
]


class TestOutsideEphemeralMode:
    @pytest.mark.parametrize(("method", "path"), CALLS)
    async def test_the_calls_do_not_exist(self, tenant: Tenant, base: str, method: str, path: str):
        body = {"name": "x"} if method == "POST" else None
        response = await tenant.client.request(method, f"{base}{path}", json=body)
        assert response.status_code == 404, response.text
        assert response.json()["errorType"] == "RESOURCE_NOT_FOUND"

    async def test_the_document_does_not_show_them(self, http: httpx.AsyncClient):
        document = (await http.get("/openapi.json")).json()
        assert not [p for p in document["paths"] if p.startswith("/testing")]
        assert "Testing" not in [t["name"] for t in document["tags"]]


class TestInEphemeralMode:
    async def test_the_document_shows_them(self, ephemeral_app: FastAPI):
        transport = httpx.ASGITransport(app=ephemeral_app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            document = (await client.get("/openapi.json")).json()
        assert {"/testing/accounts", "/testing/reset", "/testing/faults"} <= set(document["paths"])
        assert "Testing" in [t["name"] for t in document["tags"]]
        for path, item in document["paths"].items():
            if not path.startswith("/testing"):
                continue
            for method, operation in item.items():
                assert operation["tags"] == ["Testing"], (method, path)
                description = " ".join(operation["description"].split())
                assert operation["summary"] and description.startswith(operation["summary"])
                assert operation["security"] == [{"basicAuth": []}, {"oauth1": []}]
                assert "401" in operation["responses"], (method, path)
                body = operation.get("requestBody")
                if body is not None:
                    assert "400" in operation["responses"], (method, path)

    @pytest.mark.parametrize(("method", "path"), CALLS)
    async def test_a_stranger_is_refused(
        self, ephemeral_app: FastAPI, base: str, method: str, path: str
    ):
        transport = httpx.ASGITransport(app=ephemeral_app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            response = await client.request(
                method, f"{base}{path}", auth=("nobody", "wrong"), json={}
            )
        assert response.status_code == 401
        assert response.json()["errorType"] == "NOT_AUTHORIZED"


class TestCreateAccount:
    async def test_answers_a_working_credential_of_an_account_that_sees_nothing_of_others(
        self, alice: Tenant, base: str, ephemeral_app: FastAPI
    ):
        await make_audience(alice.client, "alices")
        response = await alice.client.post(
            f"{base}/testing/accounts", json={"name": "test_one", "products": ["automation"]}
        )
        assert response.status_code == 201, response.text
        created = response.json()
        assert created["name"] == "test_one" and created["products"] == ["automation"]
        transport = httpx.ASGITransport(app=ephemeral_app)
        auth = (created["consumerKey"], created["consumerSecret"])
        async with httpx.AsyncClient(transport=transport, base_url="http://t", auth=auth) as new:
            listed = await new.get(f"{base}/audience")
            assert listed.status_code == 200
            assert listed.json()["audiences"] == []
            assert (await new.get(f"{base}/audience/alices")).status_code == 404

    async def test_two_calls_make_two_accounts(self, alice: Tenant):
        first = (await alice.client.post(f"{BASE}/testing/accounts", json={})).json()
        second = (await alice.client.post(f"{BASE}/testing/accounts", json={})).json()
        assert first["accountId"] != second["accountId"]
        assert first["consumerKey"] != second["consumerKey"]
        assert first["products"] == ["professional", "automation", "ecommerce"]

    @pytest.mark.parametrize(
        "body",
        [
            {"products": ["gold"]},
            {"products": []},
            {"name": ""},
            {"name": "x" * 201},
            {"name": "a\x00b"},
            {"name": "\ud800"},
            {"unknown": 1},
            [],
        ],
    )
    async def test_refuses_a_bad_body_naming_the_field(self, alice: Tenant, body: object):
        # Encoded here: a lone surrogate is sent escaped, as a client's JSON library would.
        response = await alice.client.post(
            f"{BASE}/testing/accounts", content=json.dumps(body), headers=JSON_TYPE
        )
        assert response.status_code == 400, response.text
        assert response.json()["errorType"] == "INVALID_PARAMS"


async def fill(client: httpx.AsyncClient) -> None:
    """Something of every kind an account can hold."""
    await make_contacts(client, ["c1", "c2"])
    folder = await client.post(f"{BASE}/folder", json={"name": "Shop"})
    assert folder.status_code == 201, folder.text
    await make_audience(client, "a")
    moved = await client.put(f"{BASE}/audience/a/folder", json={"folderId": folder.json()["id"]})
    assert moved.status_code == 200, moved.text
    await add_members(client, "a", ["c1", "c2"])
    await make_mailing(client, "a")
    await make_automailer(client, "a")
    await make_flow(client, "campaign", triggers=[["a"]], steps=[["a"]])
    await make_message(client, [("Intro", "a")])
    kept = await client.post(
        f"{BASE}/audience", json={"externalId": "b", "name": "B"}, headers={"Idempotency-Key": "k"}
    )
    assert kept.status_code == 200, kept.text
    fault = await client.post(
        f"{BASE}/testing/faults", json={"method": "GET", "path": "/nothing", "status": 500}
    )
    assert fault.status_code == 201, fault.text
    defined = await client.post(
        f"{BASE}/contact/properties", json={"name": "shoeSize", "type": "int"}
    )
    assert defined.status_code in (200, 201), defined.text


async def rows_of(session: AsyncSession, account_id: int) -> dict[str, int]:
    """How many rows of the account each table holds."""
    counts = {}
    for table in metadata.sorted_tables:
        if "account_id" in table.c:
            counts[table.name] = int(
                await session.scalar(
                    select(func.count()).select_from(table).where(table.c.account_id == account_id)
                )
                or 0
            )
    return counts


class TestReset:
    async def test_empties_the_callers_account_keeps_its_credential_and_touches_no_other(
        self, alice: Tenant, bob: Tenant, session: AsyncSession, base: str
    ):
        fresh = await rows_of(session, alice.account_id)
        await fill(alice.client)
        await fill(bob.client)
        filled = await rows_of(session, bob.account_id)
        emptied = [t for t, n in filled.items() if n and t not in KEPT_TABLES]
        # Every kind of data was there to delete.
        assert {"audiences", "contacts", "audience_members", "folders", "mailings"} <= set(emptied)
        assert {"automailers", "flows", "messages", "idempotency_keys", "testing_faults"} <= set(
            emptied
        )

        response = await alice.client.post(f"{base}/testing/reset")
        assert response.status_code == 204, response.text

        after = await rows_of(session, alice.account_id)
        assert {t: n for t, n in after.items() if t not in KEPT_TABLES} == {
            t: n for t, n in fresh.items() if t not in KEPT_TABLES
        }
        assert after["contact_properties"] > 0  # the defaults, as a new account has them
        assert await rows_of(session, bob.account_id) == filled
        listed = await alice.client.get(f"{base}/audience")
        assert listed.status_code == 200 and listed.json()["audiences"] == []
        # The same key reuses an emptied Idempotency-Key as new work.
        again = await alice.client.post(
            f"{BASE}/audience",
            json={"externalId": "b", "name": "B"},
            headers={"Idempotency-Key": "k"},
        )
        assert again.status_code == 200
        assert (await bob.client.get(f"{base}/audience/a")).status_code == 200

    async def test_a_reset_of_an_empty_account_is_fine(self, alice: Tenant):
        assert (await alice.client.post(f"{BASE}/testing/reset")).status_code == 204
        assert (await alice.client.post(f"{BASE}/testing/reset")).status_code == 204
