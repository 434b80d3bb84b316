"""Who is calling: OAuth 1.0a one-legged HMAC-SHA1 (as Spotler clients sign) or HTTP Basic."""

import base64
import binascii
import hmac
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar
from urllib.parse import urlunsplit

from fastapi import Depends, Request
from oauthlib.oauth1.rfc5849 import signature

from audiences.accounts import repository as accounts_repository
from audiences.core.actor import set_consumer_key
from audiences.core.basepath import client_path
from audiences.core.credentials import SecretBox
from audiences.core.db import AuthConnect, AuthConnectDep
from audiences.core.errors import DomainError, NotAuthorized, ProductNotFound
from audiences.core.retry import PRINCIPAL_KEY
from audiences.core.settings import Settings

AUDIENCE_PRODUCTS = frozenset({"automation", "ecommerce"})
_CHALLENGE = {"WWW-Authenticate": 'OAuth realm="audiences"'}


@dataclass(frozen=True)
class Principal:
    account_id: int
    key_id: int
    consumer_key: str
    products: tuple[str, ...]


def _refuse(message: str) -> NotAuthorized:
    return NotAuthorized(message, headers=_CHALLENGE)


@dataclass(frozen=True)
class _SignedRequest:
    """What oauthlib's HMAC-SHA1 verification reads from a request."""

    http_method: str
    uri: str
    params: list[tuple[str, str]]
    signature: str


def _signature_matches(
    method: str, url: str, oauth: list[tuple[str, str]], given: str, secret: str
) -> bool:
    """RFC 5849 section 3.4, computed by oauthlib: the base string of the method, the base URL
    and the sorted oauth and query parameters; the key is the secret and "&"."""
    params = [pair for pair in oauth if pair[0] != "oauth_signature"]
    if query := url.partition("?")[2]:
        params += signature.collect_parameters(uri_query=query)
    candidate = _SignedRequest(method, url, params, given)
    return bool(signature.verify_hmac_sha1(candidate, secret))


def signed_url(request: Request, trust_proxy: bool) -> str:
    """The URL the client signed: scheme, host and path as it sees them, plus the query."""
    scheme = request.url.scheme
    host = request.headers.get("host") or request.url.netloc
    if trust_proxy:
        scheme = request.headers.get("x-forwarded-proto", scheme).split(",")[0].strip()
        host = request.headers.get("x-forwarded-host", host).split(",")[0].strip()
    return urlunsplit((scheme, host, client_path(request), request.url.query, ""))


Lookup = Callable[[str, str | None, Sequence[str]], Awaitable[accounts_repository.Lookup]]


class TooManyFailures(DomainError):
    status = 429
    error_type = "NOT_AUTHORIZED"
    message = "Too many failed sign-ins; try again later"


class RateLimited(DomainError):
    status = 429
    error_type = "INVALID_STATE"
    message = "Rate limit exceeded"


def client_address(request: Request, trust_proxy: bool) -> str:
    if trust_proxy and (forwarded := request.headers.get("x-forwarded-for")):
        return forwarded.split(",")[0].strip()
    return request.client.host if request.client else "unknown"


async def _oauth(
    request: Request, authorization: str, box: SecretBox, settings: Settings, lookup: Lookup
) -> Principal:
    try:
        # Unescaped, as the signature base string needs them.
        pairs = signature.collect_parameters(
            headers={"Authorization": authorization}, exclude_oauth_signature=False
        )
    except (ValueError, TypeError) as exc:
        raise _refuse("Malformed OAuth Authorization header") from exc
    params = dict(pairs)
    if len(params) != len(pairs):
        raise _refuse("An OAuth parameter appears twice")
    if params.get("oauth_version", "1.0") != "1.0":
        raise _refuse("Only OAuth version 1.0 is supported")
    consumer_key = params.get("oauth_consumer_key", "")
    timestamp = params.get("oauth_timestamp", "")
    nonce = params.get("oauth_nonce", "")
    if not consumer_key or not nonce or not params.get("oauth_signature"):
        raise _refuse("OAuth header lacks oauth_consumer_key, oauth_nonce or oauth_signature")
    if params.get("oauth_signature_method") != "HMAC-SHA1":
        raise _refuse("Only the HMAC-SHA1 OAuth signature method is supported")
    window = settings.oauth_timestamp_window
    if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > window:
        raise _refuse(
            f"OAuth timestamp is missing or outside the allowed window of {window} seconds"
        )
    if len(nonce) > 255 or not nonce.isprintable():
        raise _refuse("Invalid OAuth nonce")
    # The nonce is remembered in the same round trip as the key is read, on a connection of
    # its own that commits at once: even a request that then fails cannot be replayed.
    found = await lookup(consumer_key, nonce, ())
    credential, fresh = found.credential, found.fresh
    secret = box.decrypt(credential.secret_encrypted) if credential else None
    # An unknown key is checked against a dummy secret, so both take the same time.
    valid = _signature_matches(
        request.method,
        signed_url(request, settings.trust_proxy),
        pairs,
        params["oauth_signature"],
        secret if secret is not None else "dummy-secret",
    )
    if not valid or credential is None or secret is None:
        raise _refuse("Invalid consumer key or OAuth signature")
    if not fresh:
        raise _refuse("OAuth nonce already used")
    return Principal(credential.account_id, credential.key_id, consumer_key, credential.products)


async def _basic(
    authorization: str,
    box: SecretBox,
    lookup: Lookup,
    record_failure: Callable[[Sequence[str]], Awaitable[None]],
    address: str,
    settings: Settings,
) -> Principal:
    try:
        decoded = base64.b64decode(authorization[6:].strip(), validate=True).decode("utf-8")
        consumer_key, _, secret = decoded.partition(":")
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise _refuse("Malformed Basic Authorization header") from exc
    return await check_secret(consumer_key, secret, box, lookup, record_failure, address, settings)


async def check_secret(
    consumer_key: str,
    secret: str,
    box: SecretBox,
    lookup: Lookup,
    record_failure: Callable[[Sequence[str]], Awaitable[None]],
    address: str,
    settings: Settings,
) -> Principal:
    """The principal of a consumer key and secret (HTTP Basic, console sign-in)."""
    # Guessing is throttled per key and per client address, across every worker.
    scopes = (f"key:{consumer_key[:255]}", f"address:{address}")
    found = await lookup(consumer_key, None, scopes)
    window = settings.basic_auth_failure_window
    if found.failures >= settings.basic_auth_max_failures:
        retry_after = window - int(time.time()) % window
        raise TooManyFailures(
            f"Too many failed sign-ins; try again in {retry_after} seconds",
            headers={"Retry-After": str(retry_after)},
        )
    credential = found.credential
    stored = box.decrypt(credential.secret_encrypted) if credential else None
    expected = stored if stored is not None else "\x00never"
    matches = hmac.compare_digest(expected.encode("utf-8"), secret.encode("utf-8"))
    if credential is None or stored is None or not matches:
        await record_failure(scopes)
        raise _refuse("Invalid consumer key or secret")
    return Principal(credential.account_id, credential.key_id, consumer_key, credential.products)


# The OpenAPI security schemes (core/openapi.py puts them on every API operation); declared
# there rather than as dependencies, which would parse the header again on every request.
SECURITY_SCHEMES = {
    "basicAuth": {
        "type": "http",
        "scheme": "basic",
        "description": "HTTP Basic: the consumer key as user name, the secret as password.",
    },
    "oauth1": {
        "type": "http",
        "scheme": "OAuth",
        "description": (
            "OAuth 1.0a one-legged, HMAC-SHA1 (RFC 5849), as Spotler client libraries sign: "
            "`Authorization: OAuth oauth_consumer_key=..., oauth_nonce=..., "
            "oauth_signature_method=HMAC-SHA1, oauth_timestamp=..., oauth_version=1.0, "
            "oauth_signature=...`; no token. The JSON body is not signed."
        ),
    },
}


def credential_store(
    connect: AuthConnect,
    settings: Settings,
    companion: tuple[accounts_repository.Companion, dict[str, Any]] | None = None,
) -> tuple[Lookup, Callable[[Sequence[str]], Awaitable[None]], list[Any]]:
    """Reading credentials (with the nonce and throttle state, and a route's companion read)
    and recording failures, each on a short connection of `connect`; the third item collects
    what the companion found."""
    window = settings.basic_auth_failure_window
    found: list[Any] = []

    async def lookup(
        consumer_key: str, nonce: str | None, scopes: Sequence[str]
    ) -> accounts_repository.Lookup:
        async with connect() as connection:
            result = await accounts_repository.find_credential(
                connection, consumer_key, nonce, scopes, window, companion
            )
        found.append(result.companion)
        return result

    async def record_failure(scopes: Sequence[str]) -> None:
        async with connect() as connection:
            await accounts_repository.record_failure(connection, scopes, window)

    return lookup, record_failure, found


_RIDE = "__rides_with_credentials__"
_COMPANION_KEY = "audiences.companion"
Endpoint = TypeVar("Endpoint", bound=Callable[..., Any])


def rides_with_credentials(
    companion: accounts_repository.Companion,
    params: Callable[[Mapping[str, Any]], dict[str, Any]],
) -> Callable[[Endpoint], Endpoint]:
    """Marks a hot read route: its one statement (`companion`, with parameters taken from the
    path parameters) runs in the credential look-up's round trip; the handler reads the row
    with `companion_row`."""

    def mark(endpoint: Endpoint) -> Endpoint:
        setattr(endpoint, _RIDE, (companion, params))
        return endpoint

    return mark


@dataclass(frozen=True)
class CompanionRow:
    """What a route's companion read found while the caller was authenticated."""

    row: Any


def companion_row(request: Request) -> CompanionRow | None:
    """The companion's result, or None when it did not ride along (the route has none, or the
    principal came from an earlier attempt of the same request)."""
    found = request.scope.get(_COMPANION_KEY)
    return found if isinstance(found, CompanionRow) else None


async def authenticate(
    request: Request,
    connect: AuthConnectDep,
) -> Principal:
    """The caller's account, from an OAuth 1.0a signature or HTTP Basic credentials."""
    retried = request.scope.get(PRINCIPAL_KEY)
    if isinstance(retried, Principal):
        # A request run again after a transient conflict: its nonce is already spent.
        set_consumer_key(retried.consumer_key)
        return retried
    settings: Settings = request.app.state.settings
    box: SecretBox = request.app.state.secret_box
    authorization = request.headers.get("authorization", "")

    ride = getattr(request.scope.get("endpoint"), _RIDE, None)
    companion = (ride[0], ride[1](request.path_params)) if ride else None
    lookup, record_failure, found = credential_store(connect, settings, companion)

    scheme = authorization[:6].lower()
    if scheme == "oauth ":
        principal = await _oauth(request, authorization, box, settings, lookup)
    elif scheme == "basic ":
        address = client_address(request, settings.trust_proxy)
        principal = await _basic(authorization, box, lookup, record_failure, address, settings)
    else:
        raise _refuse(
            "Authorization required: sign the request with OAuth 1.0a (HMAC-SHA1) or use HTTP "
            "Basic with the consumer key and secret"
        )
    if settings.rate_limit_per_minute > 0:
        async with connect() as connection:
            requests, retry_after = await accounts_repository.count_request(
                connection, principal.account_id, principal.key_id
            )
        if requests > settings.rate_limit_per_minute:
            raise RateLimited(
                f"Rate limit of {settings.rate_limit_per_minute} requests a minute exceeded; "
                f"try again in {retry_after} seconds",
                headers={"Retry-After": str(retry_after)},
            )
    if companion is not None and found:
        request.scope[_COMPANION_KEY] = CompanionRow(found[-1])
    set_consumer_key(principal.consumer_key)
    request.scope[PRINCIPAL_KEY] = principal
    return principal


async def require_audience_product(
    principal: Annotated[Principal, Depends(authenticate)],
) -> Principal:
    """Audience calls are for accounts with the Automation or eCommerce product."""
    if not AUDIENCE_PRODUCTS.intersection(principal.products):
        raise ProductNotFound()
    return principal


CurrentPrincipal = Annotated[Principal, Depends(authenticate)]
AudiencePrincipal = Annotated[Principal, Depends(require_audience_product)]
