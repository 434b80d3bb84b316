"""A retried write with the same Idempotency-Key is done once."""

import asyncio
from collections.abc import AsyncIterator

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from tests.conftest import Committed, Tenant
from tests.factories import make_audience, make_contacts

API = "/integrationservice"


async def test_a_retried_create_answers_the_original_200(tenant: Tenant):
    body = {"externalId": "a", "name": "A", "description": "d"}
    headers = {"Idempotency-Key": "create-a-1"}
    first = await tenant.client.post(f"{API}/audience", json=body, headers=headers)
    retry = await tenant.client.post(f"{API}/audience", json=body, headers=headers)
    assert first.status_code == retry.status_code == 200
    assert retry.json() == first.json()
    assert retry.headers["idempotent-replayed"] == "true"
    without_key = await tenant.client.post(f"{API}/audience", json=body)
    assert without_key.status_code == 417
    assert without_key.json()["errorType"] == "ID_NOTUNIQUE"


async def test_the_work_is_not_done_twice(tenant: Tenant, session: AsyncSession):
    await make_contacts(tenant.client, ["c1", "c2"])
    await make_audience(tenant.client, "a")
    headers = {"Idempotency-Key": "add-1"}
    for _ in range(3):
        response = await tenant.client.post(
            f"{API}/audience/a/contact", json={"contacts": ["c1", "c2"]}, headers=headers
        )
        assert response.status_code == 204
    events = (await tenant.client.get(f"{API}/audience/a/history")).json()["events"]
    assert [e["operation"] for e in events].count("add_members") == 1


async def test_the_same_key_for_another_request_is_refused(tenant: Tenant):
    headers = {"Idempotency-Key": "k-1"}
    await tenant.client.post(
        f"{API}/audience", json={"externalId": "a", "name": "A"}, headers=headers
    )
    other = await tenant.client.post(
        f"{API}/audience", json={"externalId": "b", "name": "B"}, headers=headers
    )
    assert other.status_code == 400
    assert other.json()["errorType"] == "INVALID_PARAMS"
    assert "Idempotency-Key" in other.json()["message"]
    assert (await tenant.client.get(f"{API}/audience/b")).status_code == 404


async def test_a_failed_request_can_be_retried_with_its_key(tenant: Tenant):
    headers = {"Idempotency-Key": "k-2"}
    failed = await tenant.client.post(f"{API}/audience", json={"externalId": "a"}, headers=headers)
    assert failed.status_code == 417
    fixed_body = {"externalId": "a", "name": "A"}
    # A different body under the same key: the first attempt was not stored, so it is free.
    ok = await tenant.client.post(f"{API}/audience", json=fixed_body, headers=headers)
    assert ok.status_code == 200


async def test_keys_are_per_account(tenant: Tenant, other_tenant: Tenant):
    headers = {"Idempotency-Key": "shared"}
    body = {"externalId": "a", "name": "A"}
    assert (
        await tenant.client.post(f"{API}/audience", json=body, headers=headers)
    ).status_code == 200
    theirs = await other_tenant.client.post(f"{API}/audience", json=body, headers=headers)
    assert theirs.status_code == 200
    assert "idempotent-replayed" not in theirs.headers


async def test_keys_expire_after_a_day(tenant: Tenant, session: AsyncSession):
    headers = {"Idempotency-Key": "old"}
    await tenant.client.post(
        f"{API}/audience", json={"externalId": "a", "name": "A"}, headers=headers
    )
    await session.execute(
        text("UPDATE idempotency_keys SET created_at = now() - interval '25 hours'")
    )
    again = await tenant.client.post(
        f"{API}/audience", json={"externalId": "b", "name": "B"}, headers=headers
    )
    assert again.status_code == 200
    assert again.json()["externalId"] == "b"


async def test_an_invalid_key_is_400(tenant: Tenant):
    response = await tenant.client.post(
        f"{API}/audience",
        json={"externalId": "a", "name": "A"},
        headers={"Idempotency-Key": "x" * 256},
    )
    assert response.status_code == 400


async def test_streamed_uploads_are_idempotent_too(tenant: Tenant):
    await make_contacts(tenant.client, ["c1"])
    await make_audience(tenant.client, "a")
    headers = {"Idempotency-Key": "imp-1", "content-type": "text/plain"}
    first = await tenant.client.post(
        f"{API}/audience/a/contact/import", content=b"c1\n", headers=headers
    )
    retry = await tenant.client.post(
        f"{API}/audience/a/contact/import", content=b"c1\n", headers=headers
    )
    assert first.json()["added"] == 1
    assert retry.json() == first.json()


async def test_concurrent_retries_do_the_work_once(committed: Committed):
    client = committed.client
    await client.post(f"{API}/audience", json={"externalId": "conc", "name": "conc"})
    contacts = [{"externalId": f"conc-{i}"} for i in range(50)]
    await client.post(f"{API}/contact/list", json={"contacts": contacts})
    headers = {"Idempotency-Key": "conc-add"}
    body = {"contacts": [c["externalId"] for c in contacts]}
    responses = await asyncio.gather(
        *[client.post(f"{API}/audience/conc/contact", json=body, headers=headers) for _ in range(6)]
    )
    assert {r.status_code for r in responses} == {204}
    events = (await client.get(f"{API}/audience/conc/history")).json()["events"]
    assert [e["operation"] for e in events].count("add_members") == 1


async def test_a_different_upload_under_a_reused_key_is_refused(tenant: Tenant):
    await make_contacts(tenant.client, ["c1", "c2"])
    await make_audience(tenant.client, "a")
    headers = {"Idempotency-Key": "imp-2", "content-type": "text/plain"}
    url = f"{API}/audience/a/contact/import"
    first = await tenant.client.post(url, content=b"c1\n", headers=headers)
    assert first.json()["added"] == 1
    # Same length, other bytes: not a retry of the first upload.
    other = await tenant.client.post(url, content=b"c2\n", headers=headers)
    assert other.status_code == 400
    assert (
        other.json()["message"] == "This Idempotency-Key was already used for a different request"
    )

    async def chunked() -> AsyncIterator[bytes]:
        yield b"c1"
        yield b"\n"

    # The same bytes sent chunked (no length) are the same upload: answered as the first.
    retry = await tenant.client.post(url, content=chunked(), headers=headers)
    assert retry.status_code == 200
    assert retry.headers["idempotent-replayed"] == "true"
    assert retry.json() == first.json()
    members = (await tenant.client.get(f"{API}/audience/a/contact")).json()["contacts"]
    assert [m["externalId"] for m in members] == ["c1"]
