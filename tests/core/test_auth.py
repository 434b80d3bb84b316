"""OAuth 1.0a one-legged HMAC-SHA1 (checked against independent signers) and HTTP Basic."""

import base64
import hashlib
import hmac
import secrets
import time
from urllib.parse import quote, urlsplit

import httpx
import pytest
import requests
from requests_oauthlib import OAuth1
from sqlalchemy.ext.asyncio import AsyncSession

from audiences.accounts import service as accounts_service
from tests.conftest import Tenant

HOST = "http://testserver"


def requests_oauthlib_header(
    method: str, url: str, key: str, secret: str, **client_options: str
) -> dict[str, str]:
    """The Authorization header requests-oauthlib (what Python Spotler clients use) makes."""
    prepared = requests.Request(method, url, json={"any": "body"}).prepare()
    signed = OAuth1(key, client_secret=secret, signature_method="HMAC-SHA1", **client_options)(
        prepared
    )
    value = signed.headers["Authorization"]
    return {"Authorization": value.decode() if isinstance(value, bytes) else value}


def _enc(value: str) -> str:
    return quote(value, safe="~-._")


def hand_signed_header(method: str, url: str, key: str, secret: str) -> dict[str, str]:
    """RFC 5849 signing written out, as PHP and TypeScript Spotler clients do it."""
    parts = urlsplit(url)
    oauth = {
        "oauth_consumer_key": key,
        "oauth_nonce": secrets.token_hex(16),
        "oauth_signature_method": "HMAC-SHA1",
        "oauth_timestamp": str(int(time.time())),
        "oauth_version": "1.0",
    }
    query = [tuple(p.split("=", 1)) for p in parts.query.split("&") if p]
    params = sorted([(_enc(k), _enc(v)) for k, v in oauth.items()] + [(k, v) for k, v in query])
    normalized = "&".join(f"{k}={v}" for k, v in params)
    base_url = f"{parts.scheme}://{parts.netloc}{parts.path}"
    base_string = "&".join([method.upper(), _enc(base_url), _enc(normalized)])
    digest = hmac.new(f"{_enc(secret)}&".encode(), base_string.encode(), hashlib.sha1).digest()
    oauth["oauth_signature"] = base64.b64encode(digest).decode()
    header = ", ".join(f'{k}="{_enc(v)}"' for k, v in oauth.items())
    return {"Authorization": f"OAuth {header}"}


@pytest.fixture
async def anonymous(app) -> httpx.AsyncClient:  # type: ignore[no-untyped-def]
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app, raise_app_exceptions=False), base_url=HOST
    ) as client:
        yield client  # type: ignore[misc]


class TestOAuth:
    async def test_requests_oauthlib_signatures_are_accepted(
        self, tenant: Tenant, anonymous: httpx.AsyncClient, base: str
    ):
        url = f"{HOST}{base}/audience"
        headers = requests_oauthlib_header("POST", url, tenant.key, tenant.secret)
        response = await anonymous.post(url, json={"externalId": "a", "name": "A"}, headers=headers)
        assert response.status_code == 200, response.text

    async def test_hand_written_signatures_with_query_parameters_are_accepted(
        self, tenant: Tenant, anonymous: httpx.AsyncClient, base: str
    ):
        url = f"{HOST}{base}/contact/properties/list?x=1&b=two%20words"
        response = await anonymous.get(
            url, headers=hand_signed_header("GET", url, tenant.key, tenant.secret)
        )
        assert response.status_code == 200, response.text

    async def test_a_replayed_nonce_is_refused(self, tenant: Tenant, anonymous: httpx.AsyncClient):
        url = f"{HOST}/integrationservice/contact/properties/list"
        headers = requests_oauthlib_header("GET", url, tenant.key, tenant.secret)
        assert (await anonymous.get(url, headers=headers)).status_code == 200
        replay = await anonymous.get(url, headers=headers)
        assert replay.status_code == 401
        assert replay.json() == {
            "errorType": "NOT_AUTHORIZED",
            "message": "OAuth nonce already used",
        }

    async def test_a_failed_request_cannot_be_replayed_either(
        self, tenant: Tenant, anonymous: httpx.AsyncClient
    ):
        url = f"{HOST}/integrationservice/audience/missing"
        headers = requests_oauthlib_header("GET", url, tenant.key, tenant.secret)
        assert (await anonymous.get(url, headers=headers)).status_code == 404
        assert (await anonymous.get(url, headers=headers)).status_code == 401

    # Whole seconds in the header against the server's fractional clock: 305 stays outside the
    # window however the fractions fall.
    @pytest.mark.parametrize("skew", [-305, 305])
    async def test_a_timestamp_outside_300_seconds_is_refused(
        self, tenant: Tenant, anonymous: httpx.AsyncClient, skew: int
    ):
        url = f"{HOST}/integrationservice/contact/properties/list"
        headers = requests_oauthlib_header(
            "GET", url, tenant.key, tenant.secret, timestamp=str(int(time.time()) + skew)
        )
        response = await anonymous.get(url, headers=headers)
        assert response.status_code == 401
        assert "timestamp" in response.json()["message"]

    async def test_a_timestamp_within_the_window_is_accepted(
        self, tenant: Tenant, anonymous: httpx.AsyncClient
    ):
        url = f"{HOST}/integrationservice/contact/properties/list"
        headers = requests_oauthlib_header(
            "GET", url, tenant.key, tenant.secret, timestamp=str(int(time.time()) - 250)
        )
        assert (await anonymous.get(url, headers=headers)).status_code == 200

    async def test_a_wrong_secret_is_refused(self, tenant: Tenant, anonymous: httpx.AsyncClient):
        url = f"{HOST}/integrationservice/contact/properties/list"
        headers = requests_oauthlib_header("GET", url, tenant.key, "wrong")
        response = await anonymous.get(url, headers=headers)
        assert response.status_code == 401
        assert response.json()["errorType"] == "NOT_AUTHORIZED"
        assert response.headers["www-authenticate"].startswith("OAuth")

    async def test_a_signature_for_another_url_is_refused(
        self, tenant: Tenant, anonymous: httpx.AsyncClient
    ):
        signed_for = f"{HOST}/integrationservice/audience/a"
        headers = requests_oauthlib_header("GET", signed_for, tenant.key, tenant.secret)
        response = await anonymous.get(f"{HOST}/integrationservice/audience/b", headers=headers)
        assert response.status_code == 401

    async def test_an_unknown_key_is_refused(self, anonymous: httpx.AsyncClient):
        url = f"{HOST}/integrationservice/contact/properties/list"
        headers = requests_oauthlib_header("GET", url, "nobody", "secret")
        assert (await anonymous.get(url, headers=headers)).status_code == 401

    async def test_other_signature_methods_are_refused(
        self, tenant: Tenant, anonymous: httpx.AsyncClient
    ):
        url = f"{HOST}/integrationservice/contact/properties/list"
        prepared = requests.Request("GET", url).prepare()
        signed = OAuth1(tenant.key, client_secret=tenant.secret, signature_method="PLAINTEXT")(
            prepared
        )
        headers = {"Authorization": signed.headers["Authorization"].decode()}
        assert (await anonymous.get(url, headers=headers)).status_code == 401

    async def test_forwarded_host_counts_only_behind_a_trusted_proxy(
        self, tenant: Tenant, anonymous: httpx.AsyncClient, app
    ):
        public = "https://api.example.com/integrationservice/contact/properties/list"
        forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "api.example.com"}
        headers = requests_oauthlib_header("GET", public, tenant.key, tenant.secret)
        untrusted = await anonymous.get(
            "/integrationservice/contact/properties/list", headers={**headers, **forwarded}
        )
        assert untrusted.status_code == 401
        app.state.settings = app.state.settings.model_copy(update={"trust_proxy": True})
        headers = requests_oauthlib_header("GET", public, tenant.key, tenant.secret)
        trusted = await anonymous.get(
            "/integrationservice/contact/properties/list", headers={**headers, **forwarded}
        )
        assert trusted.status_code == 200


class TestBasic:
    async def test_the_consumer_key_and_secret_are_accepted(
        self, tenant: Tenant, anonymous: httpx.AsyncClient
    ):
        response = await anonymous.get(
            "/integrationservice/contact/properties/list", auth=tenant.auth
        )
        assert response.status_code == 200

    async def test_a_wrong_secret_is_refused(self, tenant: Tenant, anonymous: httpx.AsyncClient):
        response = await anonymous.get(
            "/integrationservice/contact/properties/list", auth=(tenant.key, tenant.secret + "x")
        )
        assert response.status_code == 401
        assert response.json()["errorType"] == "NOT_AUTHORIZED"

    async def test_missing_credentials_are_refused(self, anonymous: httpx.AsyncClient):
        response = await anonymous.get("/integrationservice/audience/a")
        assert response.status_code == 401
        assert response.json()["errorType"] == "NOT_AUTHORIZED"

    async def test_garbage_is_refused(self, anonymous: httpx.AsyncClient):
        for value in ["Basic !!!", "Basic " + base64.b64encode(b"\xff\xfe").decode(), "Bearer x"]:
            response = await anonymous.get(
                "/integrationservice/audience/a", headers={"Authorization": value}
            )
            assert response.status_code == 401

    async def test_a_revoked_key_is_refused_at_once(
        self, tenant: Tenant, anonymous: httpx.AsyncClient, session: AsyncSession
    ):
        url = "/integrationservice/contact/properties/list"
        assert (await anonymous.get(url, auth=tenant.auth)).status_code == 200
        assert await accounts_service.revoke_key(session, tenant.key)
        await session.commit()
        assert (await anonymous.get(url, auth=tenant.auth)).status_code == 401
        oauth = requests_oauthlib_header("GET", f"{HOST}{url}", tenant.key, tenant.secret)
        assert (await anonymous.get(url, headers=oauth)).status_code == 401


class TestThrottling:
    async def test_basic_guessing_is_throttled_per_key_and_address(
        self, tenant: Tenant, other_tenant: Tenant, anonymous: httpx.AsyncClient, app
    ):
        app.state.settings = app.state.settings.model_copy(update={"basic_auth_max_failures": 3})
        url = "/integrationservice/contact/properties/list"
        for _ in range(3):
            response = await anonymous.get(url, auth=(tenant.key, "guess"))
            assert response.status_code == 401
        throttled = await anonymous.get(url, auth=(tenant.key, tenant.secret))
        assert throttled.status_code == 429
        assert throttled.json()["errorType"] == "NOT_AUTHORIZED"
        assert 0 < int(throttled.headers["retry-after"]) <= 300
        # The address is throttled too, whatever the key.
        assert (
            await anonymous.get(url, auth=(other_tenant.key, other_tenant.secret))
        ).status_code == 429

    async def test_another_address_is_not_throttled_by_a_key_it_did_not_guess(
        self, tenant: Tenant, other_tenant: Tenant, app
    ):
        app.state.settings = app.state.settings.model_copy(update={"basic_auth_max_failures": 2})
        url = "/integrationservice/contact/properties/list"
        guesser = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app, client=("10.0.0.66", 4000)), base_url=HOST
        )
        async with guesser:
            for _ in range(2):
                await guesser.get(url, auth=(tenant.key, "guess"))
        assert (await other_tenant.client.get(url)).status_code == 200

    async def test_signed_requests_are_not_throttled_by_basic_failures(
        self, tenant: Tenant, anonymous: httpx.AsyncClient, app
    ):
        app.state.settings = app.state.settings.model_copy(update={"basic_auth_max_failures": 1})
        url = f"{HOST}/integrationservice/contact/properties/list"
        await anonymous.get(url, auth=(tenant.key, "guess"))
        signed = requests_oauthlib_header("GET", url, tenant.key, tenant.secret)
        assert (await anonymous.get(url, headers=signed)).status_code == 200


class TestRateLimit:
    async def test_off_by_default(self, tenant: Tenant):
        for _ in range(20):
            assert (await tenant.client.get("/integrationservice/ping")).status_code == 200

    async def test_a_key_over_its_limit_gets_429_with_retry_after(
        self, tenant: Tenant, other_tenant: Tenant, app
    ):
        app.state.settings = app.state.settings.model_copy(update={"rate_limit_per_minute": 3})
        statuses = [
            (await tenant.client.get("/integrationservice/ping")).status_code for _ in range(4)
        ]
        assert statuses == [200, 200, 200, 429]
        limited = await tenant.client.get("/integrationservice/ping")
        assert limited.json()["errorType"] == "INVALID_STATE"
        assert 0 < int(limited.headers["retry-after"]) <= 60
        assert (await other_tenant.client.get("/integrationservice/ping")).status_code == 200
