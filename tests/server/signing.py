"""An httpx auth that signs every request with OAuth 1.0a, as Spotler clients do."""

from collections.abc import Generator

import httpx
from oauthlib.oauth1 import Client


class OAuth1(httpx.Auth):
    def __init__(self, key: str, secret: str) -> None:
        self.client = Client(key, client_secret=secret, signature_method="HMAC-SHA1")

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        _, headers, _ = self.client.sign(str(request.url), request.method)
        request.headers["Authorization"] = headers["Authorization"]
        yield request
