"""Hostile input gets a clear 4xx in the envelope, and nothing is stored."""

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from tests.conftest import Tenant
from tests.factories import make_audience

API = "/integrationservice"

CASES = [
    ("invalid UTF-8 in JSON", "/audience", b'{"externalId": "\xff\xfe", "name": "x"}'),
    ("lone surrogate in a name", "/audience", b'{"externalId": "x1", "name": "\\ud800"}'),
    ("NUL in an id", "/audience", b'{"externalId": "x\\u0000", "name": "x"}'),
    (
        "NUL in a description",
        "/audience",
        b'{"externalId": "x2", "name": "x", "description": "\\u0000"}',
    ),
    ("id over 255", "/audience", b'{"externalId": "' + b"i" * 256 + b'", "name": "x"}'),
    ("name over 255", "/audience", b'{"externalId": "x3", "name": "' + b"n" * 256 + b'"}'),
    (
        "lone surrogate in a property",
        "/contact",
        b'{"contact": {"externalId": "x", "properties": {"firstName": "\\udfff"}}}',
    ),
    ("lone surrogate in a contact id", "/contact", b'{"contact": {"externalId": "\\ud800"}}'),
    ("contact id over 255", "/contact", b'{"contact": {"externalId": "' + b"c" * 256 + b'"}}'),
    ("lone surrogate in a member id", "/audience/a/contact", b'{"contacts": ["\\ud800"]}'),
    ("member id over 255", "/audience/a/contact", b'{"contacts": ["' + b"m" * 256 + b'"]}'),
    ("NUL in a member id", "/audience/a/contact", b'{"contacts": ["m\\u0000"]}'),
    ("deeply nested JSON", "/contact", b'{"contact": ' * 3000 + b"1" + b"}" * 3000),
    ("JSON that is not an object", "/audience", b"[1, 2, 3]"),
    (
        "a number too large",
        "/contact",
        b'{"contact": {"externalId": "x", "properties": {"houseNumber": 1e400}}}',
    ),
]


@pytest.mark.parametrize(("case", "path", "body"), CASES, ids=[c[0] for c in CASES])
async def test_hostile_json_is_refused_and_nothing_stored(
    tenant: Tenant, session: AsyncSession, case: str, path: str, body: bytes
):
    await make_audience(tenant.client, "a")
    before = await session.scalar(
        text("SELECT count(*) FROM contacts WHERE account_id = :a"), {"a": tenant.account_id}
    )
    response = await tenant.client.post(
        f"{API}{path}", content=body, headers={"content-type": "application/json"}
    )
    assert 400 <= response.status_code < 500, response.text
    assert response.json()["errorType"] in (
        "INVALID_PARAMS",
        "INVALID_PROPERTY",
        "CONTACT_NOT_FOUND",
    )
    audiences = await session.scalar(
        text("SELECT count(*) FROM audiences WHERE account_id = :a"), {"a": tenant.account_id}
    )
    contacts = await session.scalar(
        text("SELECT count(*) FROM contacts WHERE account_id = :a"), {"a": tenant.account_id}
    )
    members = await session.scalar(
        text("SELECT count(*) FROM audience_members WHERE account_id = :a"),
        {"a": tenant.account_id},
    )
    assert (audiences, contacts, members) == (1, before, 0)


async def test_ids_in_paths_with_odd_characters_are_simply_not_found(tenant: Tenant):
    for path in ["/audience/%ED%A0%80", "/audience/%FF", "/contact/%E2%80%AE", "/audience/..%2F.."]:
        response = await tenant.client.get(f"{API}{path}")
        assert response.status_code in (400, 404), (path, response.text)
        assert response.json()["errorType"] in (
            "RESOURCE_NOT_FOUND",
            "CONTACT_NOT_FOUND",
            "INVALID_PARAMS",
        )


@pytest.mark.parametrize(
    "path",
    [
        "/integrationservice/audience?after=9223372036854775808",
        "/integrationservice/dynamic-list?after=4875759230532515736322048",
        "/integrationservice/audience/a/history?after=-1",
    ],
)
async def test_paging_cursors_beyond_a_bigint_are_400(tenant: Tenant, path: str):
    response = await tenant.client.get(path)
    assert response.status_code == 400
    assert response.json()["errorType"] == "INVALID_PARAMS"
    assert "after" in response.json()["message"]


async def test_an_upload_with_too_many_lines_is_413_and_stores_nothing(
    tenant: Tenant, app, session: AsyncSession
):
    app.state.settings = app.state.settings.model_copy(update={"max_upload_lines": 100})
    await make_audience(tenant.client, "a")
    body = b"".join(b"x%d\n" % i for i in range(1000))
    response = await tenant.client.post(
        f"{API}/audience/a/contact/import", content=body, headers={"content-type": "text/plain"}
    )
    assert response.status_code == 413
    assert response.json()["errorType"] == "INVALID_PARAMS"
