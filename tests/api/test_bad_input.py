"""Careless and hostile input is a clear 4xx naming what is wrong, never a 500: malformed OAuth
timestamps, NUL in credentials and references, dates past any calendar, periods too long to add."""

import base64
import re
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from tests.conftest import Tenant
from tests.factories import automailer_body, make_audience
from tests.oauth import HOST, hand_signed_header, oauth_parameters

API = "/integrationservice"
URL = f"{HOST}{API}/audience"


class TestCredentials:
    @pytest.mark.parametrize("timestamp", ["²", "9" * 5000, "-1", "1e9", ""])
    async def test_an_oauth_timestamp_that_is_not_a_time_is_401(
        self, tenant: Tenant, anonymous: httpx.AsyncClient, timestamp: str
    ):
        oauth = {**oauth_parameters(tenant.key), "oauth_timestamp": timestamp}
        headers = hand_signed_header("GET", URL, tenant.key, tenant.secret, oauth)
        response = await anonymous.get(URL, headers=headers)
        assert response.status_code == 401
        assert "timestamp" in response.json()["message"]

    async def test_a_nul_in_an_oauth_consumer_key_is_401(
        self, tenant: Tenant, anonymous: httpx.AsyncClient
    ):
        key = tenant.key + "\x00"
        headers = hand_signed_header("GET", URL, key, tenant.secret, oauth_parameters(key))
        response = await anonymous.get(URL, headers=headers)
        assert response.status_code == 401

    async def test_a_nul_in_a_basic_consumer_key_is_401(
        self, tenant: Tenant, anonymous: httpx.AsyncClient
    ):
        token = base64.b64encode(f"{tenant.key}\x00:{tenant.secret}".encode()).decode()
        response = await anonymous.get(URL, headers={"Authorization": f"Basic {token}"})
        assert response.status_code == 401

    async def test_a_nul_in_a_console_key_is_a_refused_sign_in(
        self, tenant: Tenant, anonymous: httpx.AsyncClient
    ):
        login = await anonymous.get("/console/login")
        csrf = re.search(r'name="csrf" value="([^"]+)"', login.text)
        assert csrf
        response = await anonymous.post(
            "/console/login",
            data={"key": tenant.key + "\x00", "secret": tenant.secret, "csrf": csrf.group(1)},
        )
        assert response.status_code == 401
        assert "do not match" in response.text


AUTOMAILER = automailer_body("a")
# (method, path, body, the field the 400 names): every reference a client sends in a body.
REFERENCES: list[tuple[str, str, dict[str, Any], str]] = [
    ("PUT", "/audience/a/folder", {"folderId": "f\x00"}, "folderId"),
    ("POST", "/folder", {"name": "Sub", "parentId": "f\x00"}, "parentId"),
    (
        "POST",
        "/mailing",
        {"name": "M", "type": "EMAIL", "audienceExternalId": "a\x00", "permissionBit": 1},
        "audienceExternalId",
    ),
    ("POST", "/automailer", {**AUTOMAILER, "audienceExternalId": "a\x00"}, "audienceExternalId"),
    (
        "POST",
        "/message",
        {"name": "M", "blocks": [{"name": "B", "content": "x", "audienceExternalId": "a\x00"}]},
        "blocks.0.audienceExternalId",
    ),
    (
        "POST",
        "/campaign",
        {"name": "C", "triggers": [{"name": "T", "audienceFilters": ["a\x00"]}]},
        "triggers.0.audienceFilters.0",
    ),
    (
        "POST",
        "/automation",
        {"name": "C", "steps": [{"id": "s\x01", "name": "S", "audienceFilters": []}]},
        "steps.0.id",
    ),
    (
        "POST",
        "/campaign",
        {"name": "C", "steps": [{"name": "S", "audienceFilters": ["a" * 256]}]},
        "steps.0.audienceFilters.0",
    ),
]


class TestReferences:
    @pytest.mark.parametrize(
        ("method", "path", "body", "field"), REFERENCES, ids=[r[3] + r[1] for r in REFERENCES]
    )
    async def test_a_control_character_in_a_reference_is_400_naming_it(
        self, tenant: Tenant, method: str, path: str, body: dict[str, Any], field: str
    ):
        await make_audience(tenant.client, "a")
        response = await tenant.client.request(method, f"{API}{path}", json=body)
        assert response.status_code == 400, response.text
        assert response.json()["errorType"] == "INVALID_PARAMS"
        assert f"'{field}'" in response.json()["message"]

    async def test_the_openapi_document_states_the_rule(self, tenant: Tenant):
        schemas = (await tenant.client.get("/openapi.json")).json()["components"]["schemas"]
        folder_id = schemas["FolderMove"]["properties"]["folderId"]["anyOf"][0]
        assert folder_id["pattern"] == "^[^\\x00-\\x1F\\x7F-\\x9F]*$"
        assert folder_id["maxLength"] == 255


class TestAutomailerPeriod:
    @pytest.mark.parametrize("period", ["P999999999999Y", "P101Y", "P1300M", "PT9999999999H"])
    async def test_a_period_over_100_years_is_refused_at_creation(
        self, tenant: Tenant, period: str
    ):
        await make_audience(tenant.client, "a")
        response = await tenant.client.post(
            f"{API}/automailer", json={**AUTOMAILER, "period": period}
        )
        assert response.status_code == 400
        assert "at most 100 years" in response.json()["message"]

    async def test_a_period_of_100_years_is_taken_and_its_due_list_answers(self, tenant: Tenant):
        await make_audience(tenant.client, "a")
        created = await tenant.client.post(
            f"{API}/automailer", json={**AUTOMAILER, "period": "P100Y"}
        )
        assert created.status_code == 201, created.text
        due = await tenant.client.get(
            f"{API}/automailer/{created.json()['id']}/due", params={"at": "9999-12-31T00:00:00Z"}
        )
        assert due.status_code == 200, due.text

    async def test_one_stored_before_the_bound_is_a_clear_refusal(
        self, tenant: Tenant, session: AsyncSession
    ):
        await make_audience(tenant.client, "a")
        created = await tenant.client.post(f"{API}/automailer", json=AUTOMAILER)
        automailer = created.json()["id"]
        await session.execute(
            text("UPDATE automailers SET period = 'P999999999999Y' WHERE public_id = :id"),
            {"id": automailer},
        )
        for response in (
            await tenant.client.get(f"{API}/automailer/{automailer}/due"),
            await tenant.client.post(f"{API}/automailer/{automailer}/runs", json={}),
        ):
            assert response.status_code == 417, response.text
            assert "longer than 100 years" in response.json()["message"]


class TestLooseTypes:
    """Found by schemathesis: values of another JSON type were read as a flag or a moment,
    where the document says boolean or an ISO 8601 text."""

    @pytest.mark.parametrize("flag", [0, 1, "true", "yes"])
    async def test_a_flag_that_is_not_a_boolean_is_400(self, tenant: Tenant, flag: object):
        body = {"contact": {"externalId": "c1"}, "purge": flag}
        response = await tenant.client.post(f"{API}/contact", json=body)
        assert response.status_code == 400, response.text
        assert "'purge'" in response.json()["message"]

    @pytest.mark.parametrize("moment", [0, 1764280800, "1764280800", "0.5"])
    async def test_a_moment_that_is_not_iso_8601_is_400(self, tenant: Tenant, moment: object):
        await make_audience(tenant.client, "a")
        response = await tenant.client.post(
            f"{API}/automailer", json={**AUTOMAILER, "firstSendingMoment": moment}
        )
        assert response.status_code == 400, response.text
        assert "'firstSendingMoment'" in response.json()["message"]

    async def test_a_due_moment_that_is_not_iso_8601_is_400(self, tenant: Tenant):
        await make_audience(tenant.client, "a")
        created = await tenant.client.post(f"{API}/automailer", json=AUTOMAILER)
        due = f"{API}/automailer/{created.json()['id']}/due"
        assert (await tenant.client.get(due, params={"at": "0.5"})).status_code == 400
        assert (await tenant.client.get(due, params={"at": "2027-01-01"})).status_code == 200

    async def test_a_number_for_a_text_field_is_still_taken_as_text(self, tenant: Tenant):
        # The vendor's clients send numeric ids as numbers (the document says string or number).
        response = await tenant.client.post(f"{API}/contact", json={"contact": {"externalId": 7}})
        assert response.status_code == 204, response.text
        assert (await tenant.client.get(f"{API}/contact/7")).status_code == 200

    @pytest.mark.parametrize("bit", [True, "1", 1.5])
    async def test_a_bit_that_is_not_a_whole_number_is_400(self, tenant: Tenant, bit: object):
        body = {"entries": [{"bit": bit, "description": "Cycling"}]}
        response = await tenant.client.put(f"{API}/contact/properties/permissions", json=body)
        assert response.status_code == 400, response.text
        await make_audience(tenant.client, "a")
        response = await tenant.client.post(
            f"{API}/automailer", json={**AUTOMAILER, "permissionBit": bit}
        )
        assert response.status_code == 400, response.text


class TestRepeatedQueryParameters:
    async def test_a_query_parameter_given_twice_is_400(self, tenant: Tenant):
        # Found by schemathesis: `after=x&after=2` answered 200 with the last value.
        response = await tenant.client.get(f"{API}/audience?pageSize=1&pageSize=2")
        assert response.status_code == 400, response.text
        assert response.json()["message"] == "Query parameter 'pageSize' is given more than once"

    async def test_different_parameters_are_taken(self, tenant: Tenant):
        response = await tenant.client.get(f"{API}/audience?pageSize=1&after=0")
        assert response.status_code == 200, response.text
