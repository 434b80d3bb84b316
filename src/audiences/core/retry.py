"""Deadlocks and serialization failures never reach a client while the work can be run again:
a request whose body is at hand is run again whole, and a bulk statement after a streamed
upload is run again from a savepoint (the upload, already staged, is kept)."""

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from typing import TypeVar

from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from audiences.core.errors import TRANSIENT_MARKER, is_transient
from audiences.core.limits import is_json, is_streamed, replay_body

logger = logging.getLogger("audiences.retry")

ATTEMPTS = 4
# The principal authenticated by the first attempt: a retry must not spend the OAuth nonce again.
PRINCIPAL_KEY = "audiences.principal"

T = TypeVar("T")


async def _pause(attempt: int) -> None:
    # Jittered, so the transactions that collided do not collide again.
    await asyncio.sleep(random.uniform(0.005, 0.02) * 2**attempt)


async def retry_statement(session: AsyncSession, work: Callable[[], Awaitable[T]]) -> T:
    """Runs `work` in a savepoint, again after a deadlock or serialization failure; rolling
    back to the savepoint releases the locks it took, so the other transaction goes on."""
    for attempt in range(ATTEMPTS):
        try:
            async with session.begin_nested():
                return await work()
        except DBAPIError as exc:
            if not is_transient(exc) or attempt == ATTEMPTS - 1:
                raise
            logger.warning("transient conflict, running the statement again: %s", exc.orig)
        await _pause(attempt)
    raise AssertionError("unreachable")


class RetryTransientMiddleware:
    """Runs a write again, up to ATTEMPTS times, when its response is a transient conflict
    (its transaction was rolled back, so nothing of it is left). Streamed uploads are not
    kept in memory to be sent again: their statements retry from a savepoint instead."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        method = scope["method"]
        if (
            method in ("GET", "HEAD", "OPTIONS")
            or is_streamed(method, scope["path"])
            # Only JSON bodies, which JsonBodyLimitMiddleware bounds, are kept to be sent again.
            or not is_json(_content_type(scope))
        ):
            await self.app(scope, receive, _without_marker(send))
            return
        body = await _read_body(receive)
        if body is None:
            return  # the client went away
        principal = None
        for attempt in range(ATTEMPTS):
            attempt_scope = {**scope, "state": dict(scope.get("state") or {})}
            if principal is not None:
                attempt_scope[PRINCIPAL_KEY] = principal
            last = attempt == ATTEMPTS - 1
            if not await self._attempt(attempt_scope, replay_body(body, receive), send, last):
                return
            principal = attempt_scope.get(PRINCIPAL_KEY)
            logger.warning("transient conflict, running the request again (%d)", attempt + 1)
            await _pause(attempt)

    async def _attempt(self, scope: Scope, receive: Receive, send: Send, last: bool) -> bool:
        """Runs the request once; True when it met a transient conflict and was not answered."""
        retry = False

        async def deliver(message: Message) -> None:
            nonlocal retry
            if message["type"] == "http.response.start":
                headers = message.get("headers", [])
                if any(name == TRANSIENT_MARKER for name, _ in headers):
                    retry = not last
                    message = {**message, "headers": _strip(headers)}
            if not retry:
                await send(message)

        await self.app(scope, receive, deliver)
        return retry


def _strip(headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    return [(name, value) for name, value in headers if name != TRANSIENT_MARKER]


def _without_marker(send: Send) -> Send:
    async def strip(message: Message) -> None:
        if message["type"] == "http.response.start":
            message = {**message, "headers": _strip(message.get("headers", []))}
        await send(message)

    return strip


async def _read_body(receive: Receive) -> bytes | None:
    chunks = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


def _content_type(scope: Scope) -> str:
    """The last content-type header, as JsonBodyLimitMiddleware reads it."""
    found = b""
    for name, value in scope.get("headers", ()):
        if name == b"content-type":
            found = value
    return found.decode("latin-1").lower()
