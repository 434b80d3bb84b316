"""OAuth 1.0a signing for the tests, each the way a kind of Spotler client signs: requests-oauthlib
(Python clients), RFC 5849 written out by hand (PHP and TypeScript clients), and an httpx auth
that signs every request with oauthlib."""

import base64
import hashlib
import hmac
import secrets
import time
from collections.abc import Generator
from urllib.parse import quote, urlsplit

import httpx
import requests
from oauthlib.oauth1 import Client
from requests_oauthlib import OAuth1 as RequestsOAuth1

HOST = "http://testserver"


class OAuth1(httpx.Auth):
    def __init__(self, key: str, secret: str) -> None:
        self.client = Client(key, client_secret=secret, signature_method="HMAC-SHA1")

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        _, headers, _ = self.client.sign(str(request.url), request.method)
        request.headers["Authorization"] = headers["Authorization"]
        yield request


def requests_oauthlib_header(
    method: str, url: str, key: str, secret: str, **client_options: str
) -> dict[str, str]:
    """The Authorization header requests-oauthlib (what Python Spotler clients use) makes."""
    prepared = requests.Request(method, url, json={"any": "body"}).prepare()
    signed = RequestsOAuth1(
        key, client_secret=secret, signature_method="HMAC-SHA1", **client_options
    )(prepared)
    value = signed.headers["Authorization"]
    return {"Authorization": value.decode() if isinstance(value, bytes) else value}


def _enc(value: str) -> str:
    return quote(value, safe="~-._")


def oauth_parameters(key: str, nonce: str | None = None) -> dict[str, str]:
    """The protocol parameters of one request (all but the signature)."""
    return {
        "oauth_consumer_key": key,
        "oauth_nonce": nonce or secrets.token_hex(16),
        "oauth_signature_method": "HMAC-SHA1",
        "oauth_timestamp": str(int(time.time())),
        "oauth_version": "1.0",
    }


def hand_signed_header(
    method: str, url: str, key: str, secret: str, oauth: dict[str, str] | None = None
) -> dict[str, str]:
    """RFC 5849 signing written out, as PHP and TypeScript Spotler clients do it: over the URL
    exactly as given (its path already encoded as the client sends it)."""
    parts = urlsplit(url)
    oauth = dict(oauth or oauth_parameters(key))
    query = [tuple(p.split("=", 1)) for p in parts.query.split("&") if p]
    params = sorted([(_enc(k), _enc(v)) for k, v in oauth.items()] + [(k, v) for k, v in query])
    normalized = "&".join(f"{k}={v}" for k, v in params)
    base_url = f"{parts.scheme}://{parts.netloc}{parts.path}"
    base_string = "&".join([method.upper(), _enc(base_url), _enc(normalized)])
    digest = hmac.new(f"{_enc(secret)}&".encode(), base_string.encode(), hashlib.sha1).digest()
    oauth["oauth_signature"] = base64.b64encode(digest).decode()
    header = ", ".join(f'{k}="{_enc(v)}"' for k, v in oauth.items())
    return {"Authorization": f"OAuth {header}"}
