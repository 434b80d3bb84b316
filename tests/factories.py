"""Plain factory helpers that go through the API, as a client would."""

from typing import Any

import httpx

BASE = "/integrationservice"


async def make_contact(
    client: httpx.AsyncClient, external_id: str, base: str = BASE, **properties: Any
) -> None:
    body = {"contact": {"externalId": external_id, "properties": properties}}
    response = await client.post(f"{base}/contact", json=body)
    assert response.status_code == 204, response.text


async def make_contacts(
    client: httpx.AsyncClient, external_ids: list[str], base: str = BASE
) -> None:
    for start in range(0, len(external_ids), 100):
        chunk = external_ids[start : start + 100]
        body = {
            "contacts": [
                {"externalId": e, "properties": {"email": f"{e}@example.com"}} for e in chunk
            ]
        }
        response = await client.post(f"{base}/contact/list", json=body)
        assert response.status_code == 200, response.text
        assert all(item["code"] == "OK" for item in response.json()), response.text


async def make_audience(
    client: httpx.AsyncClient,
    external_id: str,
    name: str | None = None,
    base: str = BASE,
    **extra: Any,
) -> dict[str, Any]:
    body = {"externalId": external_id, "name": name or f"Audience {external_id}", **extra}
    response = await client.post(f"{base}/audience", json=body)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


async def add_members(
    client: httpx.AsyncClient, audience: str, contacts: list[str], base: str = BASE
) -> None:
    response = await client.post(f"{base}/audience/{audience}/contact", json={"contacts": contacts})
    assert response.status_code == 204, response.text
