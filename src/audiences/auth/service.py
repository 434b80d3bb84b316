"""Who is calling: OAuth 1.0a one-legged HMAC-SHA1 (as Spotler clients sign) or HTTP Basic, each
checked in one round trip to the database."""

import asyncio
import base64
import binascii
import hmac
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection
from starlette.requests import Request

from audiences.auth import oauth, repository
from audiences.auth.repository import CREDENTIAL, CredentialQuery
from audiences.core.actor import set_consumer_key
from audiences.core.basepath import sent_path
from audiences.core.credentials import SecretBox
from audiences.core.db import AuthConnect
from audiences.core.errors import DomainError, NotAuthorized
from audiences.core.settings import Settings

AUDIENCE_PRODUCTS = frozenset({"automation", "ecommerce"})
_CHALLENGE = {"WWW-Authenticate": 'OAuth realm="audiences"'}
# How long a wrong secret past the failure limit is kept waiting.
THROTTLE_DELAY = 1.0


@dataclass(frozen=True)
class Principal:
    account_id: int
    key_id: int
    consumer_key: str
    products: tuple[str, ...]


@dataclass(frozen=True)
class Authenticated:
    """The caller, and the row of the route's own statement when one rode along with the
    credential look-up (None when it found nothing)."""

    principal: Principal
    extra: Any = None


class SignInThrottled(NotAuthorized):
    """Wrong credentials past the failure limit: still a 401, with Retry-After."""


class RateLimited(DomainError):
    status = 429
    error_type = "INVALID_STATE"
    message = "Rate limit exceeded"


def refuse(message: str) -> NotAuthorized:
    return NotAuthorized(message, headers=_CHALLENGE)


def client_address(request: Request, trust_proxy: bool) -> str:
    """The caller's address; behind a trusted proxy, the hop that proxy added (the right-most
    of X-Forwarded-For: every hop to its left is whatever the client chose to send)."""
    if trust_proxy and (forwarded := request.headers.get("x-forwarded-for")):
        hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
        if hops:
            return hops[-1][:64]
    return request.client.host if request.client else "unknown"


def _signed_origin(request: Request, trust_proxy: bool) -> tuple[str, str]:
    """The scheme and host the client signed: as it sees them, behind a trusted proxy too."""
    scheme = request.url.scheme
    host = request.headers.get("host") or request.url.netloc
    if trust_proxy:
        scheme = request.headers.get("x-forwarded-proto", scheme).split(",")[0].strip()
        host = request.headers.get("x-forwarded-host", host).split(",")[0].strip()
    return scheme, host


def _check_oauth_params(params: Mapping[str, str], window: int) -> None:
    if params.get("oauth_version", "1.0") != "1.0":
        raise refuse("Only OAuth version 1.0 is supported")
    if not all(params.get(name) for name in ("oauth_consumer_key", "oauth_nonce")) or not (
        params.get("oauth_signature")
    ):
        raise refuse("OAuth parameters lack oauth_consumer_key, oauth_nonce or oauth_signature")
    if params.get("oauth_signature_method") != "HMAC-SHA1":
        raise refuse("Only the HMAC-SHA1 OAuth signature method is supported")
    timestamp = params.get("oauth_timestamp", "")
    if not oauth.TIMESTAMP.fullmatch(timestamp) or abs(time.time() - int(timestamp)) > window:
        raise refuse(
            f"OAuth timestamp is missing or outside the allowed window of {window} seconds"
        )
    nonce = params["oauth_nonce"]
    if len(nonce) > 255 or not nonce.isprintable():
        raise refuse("Invalid OAuth nonce")
    key = params["oauth_consumer_key"]
    if len(key) > 255 or not key.isprintable():
        raise refuse("Invalid consumer key or OAuth signature")


async def _oauth(
    request: Request,
    signed: oauth.SignedRequest,
    connect: AuthConnect,
    settings: Settings,
    box: SecretBox,
    query: CredentialQuery,
    extra_params: dict[str, Any] | None,
) -> Authenticated:
    params = signed.oauth
    _check_oauth_params(params, settings.oauth_timestamp_window)
    consumer_key, nonce = params["oauth_consumer_key"], params["oauth_nonce"]
    # The nonce is stored in the same round trip as the key is read, on a connection that
    # commits at once (a request that then fails cannot be replayed); a signature that does
    # not verify takes it back, so a stranger cannot spend a real client's nonce.
    async with connect() as connection:
        found = await repository.find_credential(
            connection, consumer_key, nonce, query=query, extra_params=extra_params
        )
    credential = found.credential
    secret = box.decrypt(credential.secret_encrypted) if credential else None
    scheme, host = _signed_origin(request, settings.trust_proxy)
    # An unknown key is checked against a dummy secret, so both take the same time.
    valid = oauth.signature_matches(
        signed,
        request.method,
        scheme,
        host,
        sent_path(request),
        secret if secret is not None else "dummy-secret",
    )
    if not valid or credential is None or secret is None:
        if credential is not None and found.fresh:
            async with connect() as connection:
                await repository.forget_nonce(
                    connection, credential.account_id, credential.key_id, nonce
                )
        raise refuse("Invalid consumer key or OAuth signature")
    if not found.fresh:
        raise refuse("OAuth nonce already used")
    principal = Principal(
        credential.account_id, credential.key_id, consumer_key, credential.products
    )
    return Authenticated(principal, found.extra)


async def check_secret(
    connect: AuthConnect,
    consumer_key: str,
    secret: str,
    address: str,
    settings: Settings,
    box: SecretBox,
    query: CredentialQuery = CREDENTIAL,
    extra_params: dict[str, Any] | None = None,
) -> Authenticated:
    """The caller of a consumer key and secret (HTTP Basic, console sign-in). Failures are
    counted per key and per client address across every worker; past the limit a wrong secret
    is answered slowly with Retry-After, but a right one is never refused: nobody can lock a
    customer out by guessing on their key (a secret is 40 random characters: it is not
    guessed)."""
    if len(consumer_key) > 255 or not consumer_key.isprintable() or "\x00" in secret:
        raise refuse("Invalid consumer key or secret")
    scopes = (f"key:{consumer_key[:255]}", f"address:{address}")
    window = settings.basic_auth_failure_window
    async with connect() as connection:
        found = await repository.find_credential(
            connection, consumer_key, None, scopes, window, query, extra_params
        )
    credential = found.credential
    stored = box.decrypt(credential.secret_encrypted) if credential else None
    expected = stored if stored is not None else "\x00never"
    matches = hmac.compare_digest(expected.encode("utf-8"), secret.encode("utf-8", "replace"))
    if credential is not None and stored is not None and matches:
        principal = Principal(
            credential.account_id, credential.key_id, consumer_key, credential.products
        )
        return Authenticated(principal, found.extra)
    async with connect() as connection:
        await repository.record_failure(connection, scopes, window)
    if found.failures >= settings.basic_auth_max_failures:
        # Still a 401 (the credentials are wrong, and clients treat 401 as that), telling the
        # guesser when to come back, and answered slowly: guessing one after another is slow.
        await asyncio.sleep(THROTTLE_DELAY)
        retry_after = window - int(time.time()) % window
        raise SignInThrottled(
            f"Invalid consumer key or secret; too many failed sign-ins, try again in "
            f"{retry_after} seconds",
            headers={**_CHALLENGE, "Retry-After": str(retry_after)},
        )
    raise refuse("Invalid consumer key or secret")


def _basic_credentials(authorization: str) -> tuple[str, str]:
    try:
        decoded = base64.b64decode(authorization[6:].strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise refuse("Malformed Basic Authorization header") from exc
    consumer_key, _, secret = decoded.partition(":")
    return consumer_key, secret


async def authenticate(
    request: Request,
    connect: AuthConnect,
    settings: Settings,
    box: SecretBox,
    form_body: bytes | None = None,
    query: CredentialQuery = CREDENTIAL,
    extra_params: dict[str, Any] | None = None,
) -> Authenticated:
    """The caller, from OAuth 1.0a parameters (header, query string or form body) or HTTP
    Basic credentials; `query` may carry a route's own statement in the same round trip."""
    authorization = request.headers.get("authorization", "")
    scheme = authorization[:6].lower()
    if scheme == "basic ":
        consumer_key, secret = _basic_credentials(authorization)
        address = client_address(request, settings.trust_proxy)
        found = await check_secret(
            connect, consumer_key, secret, address, settings, box, query, extra_params
        )
    else:
        try:
            signed = oauth.read_signed_request(
                authorization if scheme == "oauth " else None,
                request.url.query,
                form_body,
            )
        except oauth.MalformedOAuth as exc:
            raise refuse(str(exc)) from exc
        if signed is None:
            raise refuse(
                "Authorization required: sign the request with OAuth 1.0a (HMAC-SHA1) or use "
                "HTTP Basic with the consumer key and secret"
            )
        found = await _oauth(request, signed, connect, settings, box, query, extra_params)
    principal = found.principal
    if settings.rate_limit_per_minute > 0:
        async with connect() as connection:
            requests, retry_after = await repository.count_request(
                connection, principal.account_id, principal.key_id
            )
        if requests > settings.rate_limit_per_minute:
            raise RateLimited(
                f"Rate limit of {settings.rate_limit_per_minute} requests a minute exceeded; "
                f"try again in {retry_after} seconds",
                headers={"Retry-After": str(retry_after)},
            )
    set_consumer_key(principal.consumer_key)
    return found


async def purge_expired(connection: AsyncConnection, window: int) -> None:
    """Nonces older than twice the timestamp window can never be replayed (their timestamps
    are stale), and throttle and rate windows end within the hour."""
    await repository.purge_nonces(connection, window * 2)
    await repository.purge_counters(connection)


async def active_principal(connection: AsyncConnection, consumer_key: str) -> Principal | None:
    """The account of a key that is still active (a revoked key has none)."""
    found = await repository.find_credential(connection, consumer_key)
    credential = found.credential
    if credential is None:
        return None
    return Principal(credential.account_id, credential.key_id, consumer_key, credential.products)
