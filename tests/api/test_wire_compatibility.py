"""Requests exactly as public Spotler / MailPlus clients send them (a TypeScript client, two PHP
clients, a Python SDK on requests-oauthlib, MailPlus's Magento 1 module on Zend Framework 1):
paths with trailing slashes, ids percent-encoded by each language's own function, OAuth
parameters wherever RFC 5849 allows them, JSON under whatever content type the client's HTTP
library sets, HEAD and OPTIONS. None of them may need a change to work against this service."""

import json
from urllib.parse import quote

import httpx
import pytest
import requests
from requests_oauthlib import OAuth1 as RequestsOAuth1

from tests.conftest import Tenant
from tests.factories import add_members, make_audience, make_contact
from tests.oauth import HOST, hand_signed_header, oauth_parameters, requests_oauthlib_header

ALIAS = "/integrationservice-1.1.0"


def sent_headers(prepared: requests.PreparedRequest) -> dict[str, str]:
    """The headers requests would send (requests-oauthlib leaves some as bytes)."""
    return {
        name: value.decode() if isinstance(value, bytes) else value
        for name, value in prepared.headers.items()
    }


def php_rawurlencode(value: str) -> str:
    return quote(value, safe="-_.~")


def js_encode_uri_component(value: str) -> str:
    return quote(value, safe="-_.!~*'()")


class TestTrailingSlashes:
    """The Magento module and the TypeScript client end collection paths with a slash."""

    @pytest.mark.parametrize("base", ["/integrationservice", ALIAS])
    async def test_a_signed_post_to_a_path_with_a_slash_is_served_not_redirected(
        self, tenant: Tenant, anonymous: httpx.AsyncClient, base: str
    ):
        url = f"{HOST}{base}/contact/"
        body = {"contact": {"externalId": "slash-1", "properties": {"email": "s@example.com"}}}
        headers = requests_oauthlib_header("POST", url, tenant.key, tenant.secret)
        response = await anonymous.post(url, json=body, headers=headers)
        assert response.status_code == 204, response.text
        url = f"{HOST}{base}/audience/"
        headers = requests_oauthlib_header("POST", url, tenant.key, tenant.secret)
        response = await anonymous.post(
            url, json={"externalId": "slashed", "name": "Slashed"}, headers=headers
        )
        assert response.status_code == 200, response.text
        assert (await tenant.client.get(f"{base}/audience/slashed")).status_code == 200

    async def test_every_kind_of_route_takes_a_trailing_slash(self, tenant: Tenant):
        await make_contact(tenant.client, "c1")
        await make_audience(tenant.client, "a")
        calls = [
            ("GET", f"{ALIAS}/audience/a/", None, 200),
            ("POST", f"{ALIAS}/audience/a/contact/", {"contacts": ["c1"]}, 204),
            ("GET", f"{ALIAS}/audience/a/contact/c1/", None, 200),
            ("GET", f"{ALIAS}/contact/c1/", None, 200),
            ("GET", f"{ALIAS}/contact/properties/list/", None, 200),
            ("DELETE", f"{ALIAS}/audience/a/contact/", None, 204),
            ("DELETE", f"{ALIAS}/audience/a/", None, 204),
        ]
        for method, path, body, status in calls:
            response = await tenant.client.request(method, path, json=body)
            assert response.status_code == status, (method, path, response.text)


# Ids that travel percent-encoded: reserved characters, a percent sign, an e-mail address and
# non-ASCII text.
ENCODED_IDS = ["ann@example.com", "a+b", "x:y;z=1", "*(p)'", "[v]|w", "50%", "café", "日本"]


class TestPercentEncodedIds:
    @pytest.mark.parametrize("external_id", ENCODED_IDS)
    async def test_requests_oauthlib_signs_the_path_as_requests_sends_it(
        self, tenant: Tenant, anonymous: httpx.AsyncClient, external_id: str
    ):
        await make_contact(tenant.client, external_id)
        # requests encodes what needs encoding; the README's recipe does exactly this.
        prepared = requests.Request("GET", f"{HOST}{ALIAS}/contact/{external_id}").prepare()
        assert prepared.url is not None
        headers = requests_oauthlib_header("GET", prepared.url, tenant.key, tenant.secret)
        response = await anonymous.get(prepared.url, headers=headers)
        assert response.status_code == 200, response.text
        assert response.json()["externalId"] == external_id

    @pytest.mark.parametrize("encode", [php_rawurlencode, js_encode_uri_component])
    @pytest.mark.parametrize("external_id", ENCODED_IDS)
    async def test_php_and_javascript_encodings_verify(
        self, tenant: Tenant, anonymous: httpx.AsyncClient, external_id: str, encode
    ):  # type: ignore[no-untyped-def]
        await make_contact(tenant.client, external_id)
        url = f"{HOST}/integrationservice/contact/{encode(external_id)}"
        response = await anonymous.get(
            url, headers=hand_signed_header("GET", url, tenant.key, tenant.secret)
        )
        assert response.status_code == 200, response.text
        assert response.json()["externalId"] == external_id

    async def test_a_client_that_signs_the_decoded_path_verifies_too(
        self, tenant: Tenant, anonymous: httpx.AsyncClient
    ):
        await make_contact(tenant.client, "ann@example.com")
        signed_for = f"{HOST}/integrationservice/contact/ann@example.com"
        headers = hand_signed_header("GET", signed_for, tenant.key, tenant.secret)
        sent = f"{HOST}/integrationservice/contact/ann%40example.com"
        assert (await anonymous.get(sent, headers=headers)).status_code == 200

    async def test_an_encoded_audience_id_works_for_membership_calls(
        self, tenant: Tenant, anonymous: httpx.AsyncClient
    ):
        await make_contact(tenant.client, "m@example.com")
        await make_audience(tenant.client, "top 100 (nl)")
        await add_members(tenant.client, "top 100 (nl)", ["m@example.com"])
        path = f"/audience/{php_rawurlencode('top 100 (nl)')}/contact/m%40example.com"
        url = f"{HOST}{ALIAS}{path}"
        response = await anonymous.get(
            url, headers=requests_oauthlib_header("GET", url, tenant.key, tenant.secret)
        )
        assert response.status_code == 200, response.text


class TestOAuthParametersElsewhere:
    async def test_parameters_in_the_query_string_are_accepted(
        self, tenant: Tenant, anonymous: httpx.AsyncClient
    ):
        await make_audience(tenant.client, "q")
        signer = RequestsOAuth1(
            tenant.key,
            client_secret=tenant.secret,
            signature_method="HMAC-SHA1",
            signature_type="query",
        )
        prepared = signer(
            requests.Request("GET", f"{HOST}/integrationservice/audience/q").prepare()
        )
        assert prepared.url is not None and "oauth_signature=" in prepared.url
        response = await anonymous.get(prepared.url)
        assert response.status_code == 200, response.text

    async def test_parameters_in_a_form_encoded_body_are_accepted(
        self, tenant: Tenant, anonymous: httpx.AsyncClient
    ):
        await make_contact(tenant.client, "c1")
        await make_audience(tenant.client, "f")
        await add_members(tenant.client, "f", ["c1"])
        signer = RequestsOAuth1(
            tenant.key,
            client_secret=tenant.secret,
            signature_method="HMAC-SHA1",
            signature_type="body",
        )
        url = f"{HOST}/integrationservice/audience/f/contact"
        prepared = signer(
            requests.Request(
                "DELETE",
                url,
                data={},
                headers={"Content-Type": "application/x-www-form-urlencoded"},
            ).prepare()
        )
        assert b"oauth_signature=" in (prepared.body or b"") or "oauth_signature=" in str(
            prepared.body
        )
        response = await anonymous.request(
            "DELETE", url, content=prepared.body, headers=sent_headers(prepared)
        )
        assert response.status_code == 204, response.text
        members = await tenant.client.get("/integrationservice/audience/f/contact")
        assert members.json()["contacts"] == []

    async def test_form_body_parameters_are_part_of_the_signature(
        self, tenant: Tenant, anonymous: httpx.AsyncClient
    ):
        await make_audience(tenant.client, "g")
        url = f"{HOST}/integrationservice/audience/g/contact"
        prepared = RequestsOAuth1(tenant.key, client_secret=tenant.secret)(
            requests.Request("DELETE", url, data={"reason": "weekly sync"}).prepare()
        )
        headers = sent_headers(prepared)
        assert "application/x-www-form-urlencoded" in headers["Content-Type"]
        response = await anonymous.request("DELETE", url, content=prepared.body, headers=headers)
        assert response.status_code == 204, response.text
        # The same request with the body changed no longer matches its signature.
        tampered = await anonymous.request("DELETE", url, content="reason=other", headers=headers)
        assert tampered.status_code == 401

    async def test_json_sent_as_form_encoded_is_read_as_json(
        self, tenant: Tenant, anonymous: httpx.AsyncClient
    ):
        # PHP's curl with a string body and no Content-Type sends it as form-encoded.
        url = f"{HOST}/integrationservice/audience"
        body = json.dumps({"externalId": "form", "name": "Form"})
        headers = {
            **hand_signed_header("POST", url, tenant.key, tenant.secret),
            "Content-Type": "application/x-www-form-urlencoded",
        }
        response = await anonymous.post(url, content=body, headers=headers)
        assert response.status_code == 200, response.text
        assert response.json()["externalId"] == "form"

    async def test_a_repeated_oauth_parameter_is_refused(
        self, tenant: Tenant, anonymous: httpx.AsyncClient
    ):
        url = f"{HOST}/integrationservice/contact/properties/list"
        header = hand_signed_header("GET", url, tenant.key, tenant.secret)["Authorization"]
        twice = header + ', oauth_nonce="another"'
        response = await anonymous.get(url, headers={"Authorization": twice})
        assert response.status_code == 401
        assert "oauth_nonce" in response.json()["message"]
        # In the header and in the query string at once is a repetition too.
        response = await anonymous.get(
            url + "?oauth_consumer_key=" + tenant.key, headers={"Authorization": header}
        )
        assert response.status_code == 401
        assert "more than once" in response.json()["message"]

    async def test_a_bad_signature_does_not_spend_the_nonce(
        self, tenant: Tenant, anonymous: httpx.AsyncClient
    ):
        url = f"{HOST}/integrationservice/contact/properties/list"
        oauth = oauth_parameters(tenant.key, nonce="shared-nonce")
        forged = hand_signed_header("GET", url, tenant.key, "not-the-secret", oauth=oauth)
        assert (await anonymous.get(url, headers=forged)).status_code == 401
        genuine = hand_signed_header("GET", url, tenant.key, tenant.secret, oauth=oauth)
        response = await anonymous.get(url, headers=genuine)
        assert response.status_code == 200, response.text
        assert (await anonymous.get(url, headers=genuine)).status_code == 401  # now spent


class TestBodies:
    @pytest.mark.parametrize(
        "content_type",
        [None, "text/plain;charset=UTF-8", "text/json", "application/json; charset=utf-8"],
    )
    async def test_json_is_read_whatever_text_type_it_comes_with(
        self, tenant: Tenant, content_type: str | None
    ):
        headers = {"Content-Type": content_type} if content_type else {}
        body = json.dumps({"externalId": "typed", "name": "Typed"})
        response = await tenant.client.post(
            "/integrationservice/audience", content=body, headers=headers
        )
        assert response.status_code == 200, response.text
        assert response.json()["name"] == "Typed"

    async def test_xml_is_refused_with_415_saying_json_is_spoken(self, tenant: Tenant):
        response = await tenant.client.post(
            "/integrationservice/audience",
            content="<audience><externalId>x</externalId></audience>",
            headers={"Content-Type": "application/xml"},
        )
        assert response.status_code == 415
        assert response.json()["errorType"] == "INVALID_PARAMS"
        assert "JSON" in response.json()["message"]

    async def test_an_xml_only_accept_is_refused_with_406(self, tenant: Tenant):
        await make_audience(tenant.client, "a")
        response = await tenant.client.get(
            "/integrationservice/audience/a", headers={"Accept": "application/xml"}
        )
        assert response.status_code == 406
        assert response.json()["errorType"] == "INVALID_PARAMS"
        mixed = await tenant.client.get(
            "/integrationservice/audience/a",
            headers={"Accept": "application/xml, application/json;q=0.9"},
        )
        assert mixed.status_code == 200

    async def test_numbers_where_ids_are_expected_are_taken_as_strings(self, tenant: Tenant):
        await make_contact(tenant.client, "1001")
        response = await tenant.client.post(
            "/integrationservice/audience", json={"externalId": 42, "name": 42}
        )
        assert response.status_code == 200, response.text
        assert response.json()["externalId"] == "42"
        response = await tenant.client.post(
            "/integrationservice/audience/42/contact", json={"contacts": [1001]}
        )
        assert response.status_code == 204, response.text


class TestHeadAndOptions:
    async def test_head_answers_like_get_without_a_body(self, tenant: Tenant):
        await make_contact(tenant.client, "c1")
        await make_audience(tenant.client, "a")
        await add_members(tenant.client, "a", ["c1"])
        for path in [
            "/audience/a",
            "/audience",
            "/audience/a/contact",
            "/audience/a/contact/c1",
            "/audience/a/contact/export",
            "/contact/c1",
        ]:
            get = await tenant.client.get(f"{ALIAS}{path}")
            head = await tenant.client.head(f"{ALIAS}{path}")
            assert head.status_code == get.status_code == 200, path
            assert head.content == b""
            assert head.headers["content-type"] == get.headers["content-type"]
        missing = await tenant.client.head(f"{ALIAS}/audience/nope")
        assert missing.status_code == 404

    @pytest.mark.parametrize(
        ("path", "allowed"),
        [
            ("/audience", "GET, HEAD, POST, OPTIONS"),
            ("/audience/a", "GET, HEAD, PUT, DELETE, OPTIONS"),
            ("/audience/a/contact", "GET, HEAD, POST, PUT, DELETE, OPTIONS"),
            ("/contact/c1", "GET, HEAD, PUT, OPTIONS"),
            # Routed after /contact/{externalId}, and still a resource of its own.
            ("/contact/properties", "POST, OPTIONS"),
        ],
    )
    async def test_options_and_405_list_every_method_of_the_path(
        self, tenant: Tenant, anonymous: httpx.AsyncClient, path: str, allowed: str
    ):
        options = await anonymous.options(f"{ALIAS}{path}")
        assert options.status_code == 204
        assert options.headers["allow"] == allowed
        refused = await tenant.client.request("PATCH", f"{ALIAS}{path}")
        assert refused.status_code == 405
        assert refused.headers["allow"] == allowed
        assert refused.json()["errorType"] == "INVALID_PARAMS"
