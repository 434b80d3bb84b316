"""`paging.next` is built from the configured public URL, else relative: never from the Host
header (a client could make the service hand out links to its own site)."""

import pytest
from fastapi import FastAPI
from pydantic import ValidationError

from audiences.core.settings import Settings
from tests.conftest import Tenant
from tests.factories import make_audience


async def two_audiences(tenant: Tenant) -> None:
    await make_audience(tenant.client, "a")
    await make_audience(tenant.client, "b")


async def test_next_is_relative_and_ignores_the_host_header(tenant: Tenant):
    await two_audiences(tenant)
    page = await tenant.client.get(
        "/integrationservice-1.1.0/audience",
        params={"pageSize": 1, "name": "audience "},
        headers={"Host": "evil.example", "X-Forwarded-Host": "evil.example"},
    )
    after = page.json()["paging"]["after"]
    assert page.json()["paging"]["next"] == (
        f"/integrationservice-1.1.0/audience?pageSize=1&name=audience+&after={after}"
    )


async def test_next_starts_with_the_public_url_when_one_is_set(tenant: Tenant, app: FastAPI):
    app.state.settings = app.state.settings.model_copy(
        update={"public_url": "https://api.example.com/mail"}
    )
    await two_audiences(tenant)
    page = await tenant.client.get(
        "/integrationservice/audience", params={"pageSize": 1}, headers={"Host": "evil.example"}
    )
    after = page.json()["paging"]["after"]
    assert page.json()["paging"]["next"] == (
        f"https://api.example.com/mail/integrationservice/audience?pageSize=1&after={after}"
    )
    followed = await tenant.client.get(page.json()["paging"]["next"].split("/mail", 1)[1])
    assert [a["externalId"] for a in followed.json()["audiences"]] == ["b"]


@pytest.mark.parametrize("url", ["api.example.com", "ftp://x", "https://x/?a=1"])
def test_the_public_url_must_be_an_http_url(url: str):
    with pytest.raises(ValidationError, match="public_url"):
        Settings(public_url=url, _env_file=None)  # type: ignore[call-arg]


def test_a_trailing_slash_of_the_public_url_is_dropped():
    settings = Settings(public_url="https://api.example.com/", _env_file=None)  # type: ignore[call-arg]
    assert settings.public_url == "https://api.example.com"
