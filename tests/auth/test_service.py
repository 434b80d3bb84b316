"""Authentication as the route pipeline does it: OAuth 1.0a one-legged HMAC-SHA1 (checked
against independent signers) and HTTP Basic, throttling and rate limits."""

import base64
import time

import httpx
import pytest
import requests
from requests_oauthlib import OAuth1
from sqlalchemy.ext.asyncio import AsyncSession

from audiences.accounts import service as accounts_service
from tests.conftest import Tenant
from tests.oauth import HOST, hand_signed_header, requests_oauthlib_header


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
    async def test_guessing_past_the_limit_is_answered_slowly_with_retry_after(
        self, tenant: Tenant, anonymous: httpx.AsyncClient, app
    ):
        app.state.settings = app.state.settings.model_copy(update={"basic_auth_max_failures": 3})
        url = "/integrationservice/contact/properties/list"
        answers = [await anonymous.get(url, auth=(tenant.key, f"guess-{n}")) for n in range(4)]
        # Wrong credentials stay a 401 (as clients and fuzzers expect); past the limit they
        # say when to come back, and are answered slowly.
        assert [a.status_code for a in answers] == [401, 401, 401, 401]
        assert ["retry-after" in a.headers for a in answers] == [False, False, False, True]
        throttled = answers[-1]
        assert throttled.json()["errorType"] == "NOT_AUTHORIZED"
        assert "too many failed sign-ins" in throttled.json()["message"]
        assert 0 < int(throttled.headers["retry-after"]) <= 300

    async def test_nobody_can_lock_a_customer_out_by_guessing_on_their_key(
        self, tenant: Tenant, other_tenant: Tenant, app
    ):
        app.state.settings = app.state.settings.model_copy(update={"basic_auth_max_failures": 2})
        url = "/integrationservice/contact/properties/list"
        guesser = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app, client=("10.0.0.66", 4000)), base_url=HOST
        )
        async with guesser:
            for n in range(4):
                await guesser.get(url, auth=(tenant.key, f"guess-{n}"))
            # The right secret works, from the guesser's address too (a fuzzer's own checks
            # must not lock out its valid credential), and for every other key behind it.
            assert (await guesser.get(url, auth=tenant.auth)).status_code == 200
            assert (await guesser.get(url, auth=other_tenant.auth)).status_code == 200
        assert (await tenant.client.get(url)).status_code == 200

    async def test_behind_a_trusted_proxy_the_hop_it_added_is_the_address(
        self, tenant: Tenant, app
    ):
        app.state.settings = app.state.settings.model_copy(
            update={"basic_auth_max_failures": 2, "trust_proxy": True}
        )
        url = "/integrationservice/contact/properties/list"
        throttled = []
        for n in range(3):
            # A client rotating the left-most hop it chooses still comes from 203.0.113.9.
            headers = {"X-Forwarded-For": f"10.9.9.{n}, 203.0.113.9"}
            response = await tenant.client.get(url, auth=("nobody", "x"), headers=headers)
            throttled.append("retry-after" in response.headers)
        assert throttled == [False, False, True]

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
