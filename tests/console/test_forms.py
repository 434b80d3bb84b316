"""The console's forms, through the app: a reference a browser could never send (a NUL, a
control character) or a number past any sensible range is a flashed refusal, never a 500."""

import html

import httpx
import pytest

from tests.conftest import Tenant
from tests.console.test_properties import sign_in
from tests.factories import make_audience

FORMS = [
    ("/console/folders", {"name": "Sub", "parent": "f\x00"}, "That parent folder does not exist."),
    ("/console/audiences/a/folder", {"folder": "f\x00"}, "That folder does not exist."),
    (
        "/console/mailings",
        {"name": "M", "type": "EMAIL", "audience": "a\x00", "permission": "1"},
        "audienceExternalId: Value error, must not contain control characters",
    ),
    (
        "/console/automailers",
        {
            "name": "W",
            "audience": "a\x00",
            "permission": "1",
            "days": "3",
            "first": "2026-01-01",
            "last": "2027-01-01",
        },
        "audienceExternalId: Value error, must not contain control characters",
    ),
    (
        "/console/automailers",
        {
            "name": "W",
            "audience": "a",
            "permission": "1",
            "days": "99999999999999",
            "first": "2026-01-01",
            "last": "2027-01-01",
        },
        "period: Value error, must be at most 100 years",
    ),
]


@pytest.mark.parametrize(("path", "form", "flashed"), FORMS, ids=[f[0] for f in FORMS])
async def test_a_bad_reference_is_a_flashed_refusal(
    tenant: Tenant, http: httpx.AsyncClient, path: str, form: dict[str, str], flashed: str
):
    await make_audience(tenant.client, "a")
    csrf = await sign_in(http, tenant)
    response = await http.post(path, data={**form, "csrf": csrf})
    assert response.status_code == 303
    page = await http.get(response.headers["location"])
    assert page.status_code == 200
    assert flashed in html.unescape(page.text)
