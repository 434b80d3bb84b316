"""Bulk contact import: NDJSON or CSV, streamed, errors by line, one transaction."""

import time

import httpx

from tests.conftest import Tenant
from tests.factories import make_contact

API = "/integrationservice"


async def upload(
    client: httpx.AsyncClient, body: str, content_type: str, **params: str
) -> httpx.Response:
    return await client.post(
        f"{API}/contact/import",
        content=body.encode(),
        headers={"content-type": content_type},
        params=params,
    )


async def properties(client: httpx.AsyncClient, external_id: str) -> dict[str, object]:
    response = await client.get(f"{API}/contact/{external_id}")
    assert response.status_code == 200, response.text
    return response.json()["properties"]  # type: ignore[no-any-return]


async def test_ndjson_creates_updates_and_reports_bad_lines(tenant: Tenant):
    await make_contact(
        tenant.client,
        "old",
        firstName="Ann",
        lastName="Smith",
        permissions=[{"bit": 1, "enabled": True}],
    )
    body = "\n".join(
        [
            '{"externalId": "new", "properties": {"email": "new@example.com"}}',
            '{"externalId": "old", "properties": {"firstName": "Anna", '
            '"permissions": [{"bit": 2, "enabled": true}]}}',
            '{"externalId": "bad", "properties": {"email": "nope"}}',
            "",
            "{not json",
            '{"properties": {}}',
            '{"externalId": "odd", "properties": {"shoeSize": 44}}',
        ]
    )
    response = await upload(tenant.client, body, "application/x-ndjson")
    assert response.status_code == 200, response.text
    report = response.json()
    assert (report["received"], report["created"], report["updated"], report["failed"]) == (
        6,
        1,
        1,
        4,
    )
    assert [(e["line"], e["code"]) for e in report["errors"]] == [
        (3, "PROPERTY_INVALID"),
        (5, "ERROR"),
        (6, "ERROR"),
        (7, "PROPERTY_INVALID"),
    ]
    assert (await properties(tenant.client, "new")) == {
        "email": "new@example.com",
        "permissions": [],
    }
    assert await properties(tenant.client, "old") == {
        "firstName": "Anna",
        "lastName": "Smith",
        "permissions": [
            {"bit": 1, "description": "Newsletter", "enabled": True},
            {"bit": 2, "description": "Offers", "enabled": True},
        ],
    }
    assert (await tenant.client.get(f"{API}/contact/bad")).status_code == 404


async def test_csv_with_quoted_fields_and_permission_bits(tenant: Tenant):
    body = (
        "externalId,email,firstName,permissions\n"
        'z1,z1@example.com,"Zed, Jr",1;3\n'
        'z2,,"two\nlines",\n'
    )
    response = await upload(tenant.client, body, "text/csv")
    assert response.status_code == 200, response.text
    assert response.json()["created"] == 2
    assert await properties(tenant.client, "z1") == {
        "email": "z1@example.com",
        "firstName": "Zed, Jr",
        "permissions": [
            {"bit": 1, "description": "Newsletter", "enabled": True},
            {"bit": 3, "description": "Events", "enabled": True},
        ],
    }
    assert await properties(tenant.client, "z2") == {"firstName": "two\nlines", "permissions": []}


async def test_purge_replaces_the_properties(tenant: Tenant):
    await make_contact(tenant.client, "c1", firstName="Ann", lastName="Smith")
    response = await upload(
        tenant.client, "externalId,city\nc1,Utrecht\n", "text/csv", purge="true"
    )
    assert response.json()["updated"] == 1
    assert await properties(tenant.client, "c1") == {"city": "Utrecht", "permissions": []}


async def test_on_error_reject_imports_nothing(tenant: Tenant):
    body = '{"externalId": "a"}\n{"externalId": "b", "properties": {"email": "x"}}\n'
    response = await upload(tenant.client, body, "application/x-ndjson", onError="reject")
    assert response.status_code == 400
    assert response.json()["failed"] == 1
    assert response.json()["errors"][0]["line"] == 2
    assert (await tenant.client.get(f"{API}/contact/a")).status_code == 404


async def test_the_last_line_of_a_repeated_id_wins(tenant: Tenant):
    body = (
        '{"externalId": "d", "properties": {"firstName": "One"}}\n'
        '{"externalId": "d", "properties": {"firstName": "Two"}}\n'
    )
    report = (await upload(tenant.client, body, "application/x-ndjson")).json()
    assert (report["created"], report["duplicates"]) == (1, 1)
    assert await properties(tenant.client, "d") == {"firstName": "Two", "permissions": []}


async def test_anonymized_contacts_are_reported_and_left_alone(tenant: Tenant):
    await make_contact(tenant.client, "gone", firstName="X")
    await tenant.client.put(f"{API}/contact/anonymize/gone")
    report = (
        await upload(
            tenant.client,
            '{"externalId": "gone", "properties": {"firstName": "Y"}}\n',
            "application/x-ndjson",
        )
    ).json()
    assert report["failed"] == 1
    assert "anonymized" in report["errors"][0]["message"]
    assert await properties(tenant.client, "gone") == {"permissions": []}


async def test_other_formats_are_415(tenant: Tenant):
    response = await upload(tenant.client, "c1\n", "text/plain")
    assert response.status_code == 415


async def test_a_csv_without_external_id_is_400(tenant: Tenant):
    response = await upload(tenant.client, "email\nx@example.com\n", "text/csv")
    assert response.status_code == 400
    assert "externalId" in response.json()["message"]


async def test_an_unclosed_quote_costs_one_bounded_record_in_linear_time(tenant: Tenant):
    lines = ["externalId,firstName", 'q-0,"never closed']
    lines += [f"q-{i},Name {i}" for i in range(1, 60_000)]  # about 1 MB after the quote
    started = time.monotonic()
    response = await upload(tenant.client, "\n".join(lines) + "\n", "text/csv")
    elapsed = time.monotonic() - started
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["errors"][0]["line"] == 2
    assert "128 KiB" in report["errors"][0]["message"]
    # Only the lines swallowed by the unclosed record are lost; the rest is imported.
    assert report["created"] > 50_000
    assert elapsed < 60


async def test_a_field_over_128_kib_is_that_lines_error(tenant: Tenant):
    body = f'externalId,firstName\nbig,"{"x" * 200_000}"\nsmall,Ann\n'
    response = await upload(tenant.client, body, "text/csv")
    assert response.status_code == 200, response.text
    report = response.json()
    assert [e["line"] for e in report["errors"]] == [2]
    assert report["created"] == 1


async def test_a_header_of_too_many_columns_is_400(tenant: Tenant):
    header = ",".join(["externalId", *(f"c{i}" for i in range(2001))])
    response = await upload(tenant.client, header + "\n", "text/csv")
    assert response.status_code == 400
    assert "columns" in response.json()["message"]


async def test_permission_bits_that_are_not_ascii_digits_are_that_lines_error(tenant: Tenant):
    body = "externalId,email,permissions\nsup,sup@example.com,²\nok,ok@example.com,1\n"
    response = await upload(tenant.client, body, "text/csv")
    assert response.status_code == 200, response.text
    report = response.json()
    assert [(e["line"], e["code"]) for e in report["errors"]] == [(2, "PROPERTY_INVALID")]
    assert report["created"] == 1


async def test_numbers_are_read_as_sent_wherever_they_stand(tenant: Tenant):
    """Pydantic's parser reads most lines; one that holds a fractional number is read again
    exactly, in an externalId as in a property (a set's entry, nested, included)."""
    body = "\n".join(
        [
            '{"externalId": 1.10, "properties": {"firstName": "Ann"}}',
            '{"externalId": 2, "properties": {"turnover": 0.10}}',
            '{"externalId": "3", "properties": {"permissions": [{"bit": 1.0, "enabled": true}]}}',
            '{"externalId": "4", "properties": {"turnover": 1e1, "city": "1.5"}}',
            '{"externalId": "-5", "properties": {"city": "Delft"}}',
        ]
    )
    response = await upload(tenant.client, body, "application/x-ndjson")
    report = response.json()
    assert (report["created"], report["failed"]) == (4, 1), report
    assert [(e["line"], e["code"]) for e in report["errors"]] == [(3, "PROPERTY_INVALID")]
    assert (await properties(tenant.client, "1.10"))["firstName"] == "Ann"
    assert (await properties(tenant.client, "2"))["turnover"] == "0.10"
    assert (await properties(tenant.client, "4"))["turnover"] == "10"
    assert (await properties(tenant.client, "4"))["city"] == "1.5"
    assert (await properties(tenant.client, "-5"))["city"] == "Delft"


async def test_repeated_values_are_checked_on_every_line(tenant: Tenant):
    """A value remembered from an earlier line is answered as stored; a wrong one is that
    line's error every time it comes."""
    lines = [
        f'{{"externalId": "r{i}", "properties": {{"gender": "{"f" if i % 2 else "X"}"}}}}'
        for i in range(6)
    ]
    response = await upload(tenant.client, "\n".join(lines), "application/x-ndjson")
    report = response.json()
    assert (report["created"], report["failed"]) == (3, 3), report
    assert [e["line"] for e in report["errors"]] == [1, 3, 5]
    assert (await properties(tenant.client, "r5"))["gender"] == "F"
