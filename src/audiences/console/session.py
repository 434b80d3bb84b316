"""Console sign-in: a signed, HttpOnly, SameSite=Strict session cookie that holds the consumer
key (never the secret) and a CSRF token that every form must echo."""

import hmac
import secrets
from typing import Annotated

from fastapi import Depends, Request
from starlette.middleware.sessions import SessionMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

from audiences.auth import service as auth_service
from audiences.auth.service import AUDIENCE_PRODUCTS, Principal
from audiences.core.actor import set_consumer_key
from audiences.core.db import SessionDep

PREFIX = "/console"
COOKIE = "audiences_console"


class SignInRequired(Exception):
    """The visitor has no (valid) console session."""


class CsrfRejected(Exception):
    """A form came without this session's CSRF token."""


class ConsoleSessionMiddleware:
    """Sessions for the console's paths only: API requests never pay for cookie parsing."""

    def __init__(self, app: ASGIApp, secret_key: str, secure: bool) -> None:
        self.app = app
        self.sessions = SessionMiddleware(
            app,
            secret_key=secret_key,
            session_cookie=COOKIE,
            max_age=8 * 3600,
            path=PREFIX,
            same_site="strict",
            https_only=secure,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith(PREFIX):
            await self.sessions(scope, receive, send)
        else:
            await self.app(scope, receive, send)


def csrf_token(request: Request) -> str:
    token = request.session.get("csrf")
    if not token:
        token = secrets.token_urlsafe(24)
        request.session["csrf"] = token
    return str(token)


def check_csrf(request: Request, given: str) -> None:
    expected = request.session.get("csrf") or ""
    if not given or not hmac.compare_digest(str(expected), given):
        raise CsrfRejected()


def flash(request: Request, kind: str, text: str) -> None:
    request.session["flash"] = [*request.session.get("flash", []), [kind, text]]


def take_flashes(request: Request) -> list[tuple[str, str]]:
    return [(kind, text) for kind, text in request.session.pop("flash", [])]


async def console_principal(request: Request, session: SessionDep) -> Principal:
    """The signed-in account; the key is checked on every page, so a revoked key signs out."""
    consumer_key = request.session.get("key")
    if not consumer_key:
        raise SignInRequired()
    principal = await auth_service.active_principal(await session.connection(), consumer_key)
    if principal is None or not AUDIENCE_PRODUCTS.intersection(principal.products):
        request.session.clear()
        raise SignInRequired()
    # Changes made in the console are recorded in the audience history as this key's.
    set_consumer_key(consumer_key)
    return principal


ConsolePrincipal = Annotated[Principal, Depends(console_principal)]
