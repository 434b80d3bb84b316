"""The console's contact properties page, through the app (the browser tests cover the look)."""

import re

import httpx

from tests.conftest import Tenant

API = "/integrationservice"


def csrf_of(page: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found, page
    return found.group(1)


async def sign_in(console: httpx.AsyncClient, tenant: Tenant) -> str:
    """Signs the console client in as the tenant; answers the session's CSRF token."""
    login = await console.get("/console/login")
    response = await console.post(
        "/console/login",
        data={"key": tenant.key, "secret": tenant.secret, "csrf": csrf_of(login.text)},
    )
    assert response.status_code == 303, response.text
    page = await console.get("/console/properties")
    assert page.status_code == 200
    return csrf_of(page.text)


async def test_lists_defines_changes_and_removes(tenant: Tenant, http: httpx.AsyncClient):
    console = http
    csrf = await sign_in(console, tenant)
    page = (await console.get("/console/properties")).text
    assert "permissions" in page and "Newsletter" in page and "standard" in page

    added = await console.post(
        "/console/properties",
        data={
            "name": "profileFields",
            "type": "set",
            "description": "Interests",
            "entries": "1=Cycling\n2 Running\n",
            "csrf": csrf,
        },
    )
    assert added.status_code == 303
    page = (await console.get("/console/properties")).text
    assert "Property “profileFields” (set) added." in page
    listed = (await tenant.client.get(f"{API}/contact/properties/list")).json()
    mine = next(p for p in listed if p["name"] == "profileFields")
    assert [(e["bit"], e["description"]) for e in mine["entries"]] == [
        (1, "Cycling"),
        (2, "Running"),
    ]

    taken = await console.post(
        "/console/properties", data={"name": "PROFILEFIELDS", "type": "int", "csrf": csrf}
    )
    assert taken.status_code == 303
    assert "Property name must be unique" in (await console.get("/console/properties")).text

    await console.post(
        "/console/properties/permissions/entries",
        data={"entries": "1=Nieuwsbrief\nnonsense", "csrf": csrf},
    )
    assert "Entry line 2" in (await console.get("/console/properties")).text
    await console.post(
        "/console/properties/permissions/entries",
        data={"entries": "1=Nieuwsbrief\n2=Aanbiedingen", "csrf": csrf},
    )
    listed = (await tenant.client.get(f"{API}/contact/properties/list")).json()
    permissions = next(p for p in listed if p["name"] == "permissions")
    assert [e["description"] for e in permissions["entries"]] == ["Nieuwsbrief", "Aanbiedingen"]

    refused = await console.post("/console/properties/email/delete", data={"csrf": csrf})
    assert refused.status_code == 303
    assert (
        "Standard properties cannot be removed" in (await console.get("/console/properties")).text
    )
    await console.post("/console/properties/profileFields/delete", data={"csrf": csrf})
    page = (await console.get("/console/properties")).text
    assert "profileFields" not in page.replace("Property “profileFields” and its values", "")


async def test_forms_need_the_csrf_token(tenant: Tenant, http: httpx.AsyncClient):
    console = http
    await sign_in(console, tenant)
    response = await console.post(
        "/console/properties", data={"name": "x", "type": "string", "csrf": "forged"}
    )
    assert response.status_code == 400
    listed = (await tenant.client.get(f"{API}/contact/properties/list")).json()
    assert "x" not in {p["name"] for p in listed}
