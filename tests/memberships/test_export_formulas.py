"""Exports are safe to open in a spreadsheet: a value that would start a formula is written
with a leading single quote (OWASP "CSV injection"), unless a program asks for the raw values."""

import csv
import io
import json
import re

import httpx
import pytest
from sqlalchemy import text

from tests.conftest import Committed

API = "/integrationservice"

HOSTILE = {
    "=cmd|' /C calc'!A0": "=cmd|'/Ccalc'!A0@example.com",
    "+1+1": "+1@example.com",
    "-2+3": "-x@example.com",
    "@SUM(A1)": "sum@example.com",
    "\tTAB": "tab@example.com",
    "\rCR": "cr@example.com",
    "plain=1": "plain@example.com",
}


@pytest.fixture(scope="module")
async def hostile(committed: Committed) -> str:
    client = committed.client
    # Written directly: the API refuses control characters in new ids, but older data may hold them.
    async with committed.engine.begin() as connection:
        for external_id, email in HOSTILE.items():
            await connection.execute(
                text(
                    "INSERT INTO contacts (account_id, external_id, encrypted_id, email)"
                    " VALUES (:a, :i, md5(:h), :e)"
                ),
                {"a": committed.account_id, "i": external_id, "h": email, "e": email},
            )
    assert (
        await client.post(f"{API}/audience", json={"externalId": "formulas", "name": "formulas"})
    ).status_code == 200
    response = await client.post(
        f"{API}/audience/formulas/contact/import",
        content="".join(json.dumps(i) + "\n" for i in HOSTILE),
        headers={"content-type": "application/x-ndjson"},
    )
    assert response.status_code == 200, response.text
    assert response.json()["added"] == len(HOSTILE)
    return "formulas"


def rows(text: str) -> dict[str, str]:
    return {r["externalId"]: r["email"] for r in csv.DictReader(io.StringIO(text, newline=""))}


def neutralised(value: str) -> str:
    return "'" + value if value[0] in "=+-@\t\r" else value


async def test_export_neutralises_formulas_by_default(committed: Committed, hostile: str):
    response = await committed.client.get(f"{API}/audience/{hostile}/contact/export")
    assert response.status_code == 200
    assert rows(response.text) == {neutralised(i): neutralised(e) for i, e in HOSTILE.items()}
    assert "'=cmd|' /C calc'!A0" in response.text
    assert "\nplain=1,plain@example.com," in response.text


async def test_export_with_formulas_raw_gives_values_as_stored(committed: Committed, hostile: str):
    response = await committed.client.get(
        f"{API}/audience/{hostile}/contact/export", params={"formulas": "raw"}
    )
    assert response.status_code == 200
    assert rows(response.text) == HOSTILE


async def test_export_refuses_an_unknown_formulas_mode(committed: Committed, hostile: str):
    response = await committed.client.get(
        f"{API}/audience/{hostile}/contact/export", params={"formulas": "live"}
    )
    assert response.status_code == 400
    assert "formulas" in response.json()["message"]


async def test_console_export_neutralises_formulas(committed: Committed, hostile: str):
    async with httpx.AsyncClient(
        transport=committed.client._transport, base_url="http://testserver"
    ) as console:
        login = await console.get("/console/login")
        csrf = re.search(r'name="csrf" value="([^"]+)"', login.text)
        assert csrf
        signed_in = await console.post(
            "/console/login",
            data={"key": committed.key, "secret": committed.secret, "csrf": csrf.group(1)},
        )
        assert signed_in.status_code == 303, signed_in.text
        response = await console.get(f"/console/audiences/{hostile}/export.csv")
        assert response.status_code == 200
        assert rows(response.text) == {neutralised(i): neutralised(e) for i, e in HOSTILE.items()}
        raw = await console.get(f"/console/audiences/{hostile}/export.csv?formulas=raw")
        assert rows(raw.text) == HOSTILE
