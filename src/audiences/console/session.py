"""Console sign-in: a server-side session record (`console_sessions`) named by a random token,
which is all the cookie holds (HttpOnly, SameSite=Strict, Path=/console). Signing out, revoking
the key and disabling the account end it; it expires when idle and some hours after the
sign-in. Each form echoes a CSRF token derived from the cookie's token, and messages for the
next page wait in the record, so a long refusal never makes a big cookie. Console responses
carry a strict Content-Security-Policy and the other browser protections."""

import hashlib
import hmac
import re
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, Request
from starlette.datastructures import MutableHeaders
from starlette.requests import cookie_parser
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from audiences.accounts import service as accounts_service
from audiences.accounts.service import CONSOLE_SESSION_LIFETIME
from audiences.auth.service import AUDIENCE_PRODUCTS, Principal
from audiences.core.actor import set_consumer_key
from audiences.core.db import database_of

PREFIX = "/console"
COOKIE = "audiences_console"
# Messages kept for the next page: a few, each bounded.
MAX_FLASHES = 5
MAX_FLASH_CHARS = 2000
_TOKEN = re.compile(r"[A-Za-z0-9_-]{43}")
# The pages load their script and styles from /console/static only: no inline script or style,
# no framing, no form posting elsewhere.
SECURITY_HEADERS = {
    "content-security-policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    ),
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
}


class SignInRequired(Exception):
    """The visitor has no (valid) console session."""


class CsrfRejected(Exception):
    """A form came without this session's CSRF token."""


@dataclass
class Visitor:
    """What the console knows of this request's visitor: the cookie's token (a new one when
    the cookie had none), the messages for the page, and what to tell the browser."""

    token: str
    csrf_key: bytes
    flashes: list[list[str]] = field(default_factory=list)
    flashes_changed: bool = False
    send_cookie: bool = False
    clear_cookie: bool = False


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> bytes:
    return hashlib.sha256(token.encode("ascii")).digest()


def _cookie_token(scope: Scope) -> str | None:
    """The token of the session cookie, when the request has one of the right shape."""
    for name, value in scope.get("headers", ()):
        if name == b"cookie":
            token = cookie_parser(value.decode("latin-1")).get(COOKIE)
            if token is not None and _TOKEN.fullmatch(token):
                return token
    return None


class ConsoleSessionMiddleware:
    """For the console's paths only (API requests never pay for it): the visitor's token,
    the cookie when it changes, and the browser protections on every response."""

    def __init__(self, app: ASGIApp, secret_key: str, secure: bool) -> None:
        self.app = app
        self.csrf_key = hashlib.sha256(b"console-csrf:" + secret_key.encode()).digest()
        self.max_age = CONSOLE_SESSION_LIFETIME
        self.attributes = "; Path=/console; HttpOnly; SameSite=Strict" + (
            "; Secure" if secure else ""
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(PREFIX):
            await self.app(scope, receive, send)
            return
        token = _cookie_token(scope)
        visitor = Visitor(token or new_token(), self.csrf_key, send_cookie=token is None)
        scope.setdefault("state", {})["console_visitor"] = visitor

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    headers[name] = value
                if visitor.clear_cookie:
                    headers.append("set-cookie", f"{COOKIE}=; Max-Age=0{self.attributes}")
                elif visitor.send_cookie:
                    headers.append(
                        "set-cookie",
                        f"{COOKIE}={visitor.token}; Max-Age={self.max_age}{self.attributes}",
                    )
            await send(message)

        await self.app(scope, receive, send_with_cookie)


def visitor_of(request: Request) -> Visitor:
    visitor: Visitor = request.scope["state"]["console_visitor"]
    return visitor


def csrf_token(request: Request) -> str:
    """The token every form of this session echoes: derived from the cookie's token, so a
    new sign-in (a new token) makes every older form stale."""
    visitor = visitor_of(request)
    return hmac.new(visitor.csrf_key, visitor.token.encode(), "sha256").hexdigest()


def check_csrf(request: Request, given: str) -> None:
    if not given or not hmac.compare_digest(csrf_token(request), given):
        raise CsrfRejected()


def flash(request: Request, kind: str, text: str) -> None:
    """A message for the next page, kept with the session (never in the cookie)."""
    visitor = visitor_of(request)
    visitor.flashes = [*visitor.flashes, [kind, text[:MAX_FLASH_CHARS]]][-MAX_FLASHES:]
    visitor.flashes_changed = True


def take_flashes(request: Request) -> list[tuple[str, str]]:
    visitor = visitor_of(request)
    taken = [(kind, text) for kind, text in visitor.flashes]
    if taken:
        visitor.flashes = []
        visitor.flashes_changed = True
    return taken


async def start_session(request: Request, principal: Principal) -> None:
    """Signs the visitor in: a new session under a new token (a token the visitor had
    before signing in never becomes a session)."""
    visitor = visitor_of(request)
    before = token_hash(visitor.token)
    visitor.token = new_token()
    visitor.send_cookie = True
    visitor.flashes = []
    async with database_of(request).auth_connect() as connection:
        await accounts_service.start_console_session(
            connection, token_hash(visitor.token), principal.account_id, principal.key_id, before
        )


async def end_session(request: Request) -> None:
    """Signs the visitor out: the record is deleted, so the cookie is worth nothing, kept or
    copied."""
    visitor = visitor_of(request)
    async with database_of(request).auth_connect() as connection:
        await accounts_service.end_console_session(connection, token_hash(visitor.token))
    visitor.clear_cookie = True


async def console_principal(request: Request) -> AsyncIterator[Principal]:
    """The signed-in account, checked on every page: a session signed out, expired, or whose
    key was revoked or account disabled, signs in again. Messages the page left for the next
    one are saved with the session before the answer goes out."""
    visitor = visitor_of(request)
    hashed = token_hash(visitor.token)
    connect = database_of(request).auth_connect
    async with connect() as connection:
        found = await accounts_service.console_session(connection, hashed)
    if found is None or not AUDIENCE_PRODUCTS.intersection(found.products):
        raise SignInRequired()
    visitor.flashes = [*found.flashes, *visitor.flashes][-MAX_FLASHES:]
    # Changes made in the console are recorded in the audience history as this key's.
    set_consumer_key(found.consumer_key)
    yield Principal(found.account_id, found.key_id, found.consumer_key, tuple(found.products))
    if visitor.flashes_changed:
        async with connect() as connection:
            await accounts_service.keep_console_messages(connection, hashed, visitor.flashes)


ConsolePrincipal = Annotated[Principal, Depends(console_principal, scope="function")]
