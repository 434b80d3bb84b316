"""Plain factory helpers that go through the API, as a client would, and readers of what the
database holds."""

from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from tests.conftest import Tenant

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


async def make_mailing(
    client: httpx.AsyncClient,
    audience: str,
    *,
    permission_bit: int = 1,
    kind: str = "EMAIL",
    name: str = "Newsletter",
    base: str = BASE,
) -> dict[str, Any]:
    body = {
        "name": name,
        "type": kind,
        "audienceExternalId": audience,
        "permissionBit": permission_bit,
    }
    response = await client.post(f"{base}/mailing", json=body)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


FUTURE = "2099-01-01T09:00:00Z"


async def schedule(client: httpx.AsyncClient, mailing: dict[str, Any], base: str = BASE) -> None:
    response = await client.post(
        f"{base}/mailing/{mailing['encryptedId']}/schedule", json={"scheduledStartDate": FUTURE}
    )
    assert response.status_code == 200, response.text


def automailer_body(
    audience: str,
    *,
    first: str = "2026-01-01T00:00:00Z",
    period: str = "P3D",
    last: str = "2099-01-01T00:00:00Z",
    permission_bit: int = 1,
) -> dict[str, Any]:
    return {
        "name": "Welcome",
        "audienceExternalId": audience,
        "permissionBit": permission_bit,
        "firstSendingMoment": first,
        "period": period,
        "lastSendingMoment": last,
    }


async def make_automailer(
    client: httpx.AsyncClient,
    audience: str,
    *,
    first: str = "2026-01-01T00:00:00Z",
    period: str = "P3D",
    last: str = "2099-01-01T00:00:00Z",
    permission_bit: int = 1,
    base: str = BASE,
) -> dict[str, Any]:
    body = automailer_body(
        audience, first=first, period=period, last=last, permission_bit=permission_bit
    )
    response = await client.post(f"{base}/automailer", json=body)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


async def make_flow(
    client: httpx.AsyncClient,
    kind: str,
    *,
    triggers: list[list[str]] | None = None,
    steps: list[list[str]] | None = None,
    status: str = "draft",
    base: str = BASE,
) -> dict[str, Any]:
    body = {
        "name": f"A {kind}",
        "status": status,
        "triggers": [
            {"name": f"trigger {i}", "audienceFilters": f} for i, f in enumerate(triggers or [])
        ],
        "steps": [{"name": f"step {i}", "audienceFilters": f} for i, f in enumerate(steps or [])],
    }
    response = await client.post(f"{base}/{kind}", json=body)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


async def make_message(
    client: httpx.AsyncClient, blocks: list[tuple[str, str | None]], base: str = BASE
) -> dict[str, Any]:
    body = {
        "name": "Newsletter",
        "blocks": [
            {"name": name, "content": f"<p>{name}</p>", "audienceExternalId": audience}
            for name, audience in blocks
        ],
    }
    response = await client.post(f"{base}/message", json=body)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


async def member_ids(session: AsyncSession, tenant: Tenant, audience: str) -> set[str]:
    rows = await session.execute(
        text(
            """
            SELECT c.external_id FROM audience_members m
            JOIN audiences a ON a.account_id = m.account_id AND a.audience_id = m.audience_id
            JOIN contacts c ON c.account_id = m.account_id AND c.contact_id = m.contact_id
            WHERE m.account_id = :account AND a.external_id = :audience
            """
        ),
        {"account": tenant.account_id, "audience": audience},
    )
    return {r[0] for r in rows}


async def member_count(session: AsyncSession, tenant: Tenant, audience: str) -> int:
    return int(
        await session.scalar(
            text("SELECT member_count FROM audiences WHERE account_id = :a AND external_id = :e"),
            {"a": tenant.account_id, "e": audience},
        )
        or 0
    )
