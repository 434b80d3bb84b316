"""Refuses JSON bodies above the configured size before any handler reads them."""

import re

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from audiences.core.errors import BodyTooLarge, InvalidParams, error_response

# Streamed uploads: their bodies go to the database as they arrive, never into memory whole.
_STREAMED = re.compile(r"/audience/[^/]+/contact(/import)?$|/contact/import$")


def is_streamed(method: str, path: str) -> bool:
    match = _STREAMED.search(path)
    return match is not None and (
        (method == "POST" and path.endswith("/import")) or method == "PUT"
    )


def is_json(content_type: str) -> bool:
    # Streamed uploads (text/plain, text/csv, NDJSON) have their own limits; JSON is parsed whole.
    return content_type == "" or ("json" in content_type and "ndjson" not in content_type)


class JsonBodyLimitMiddleware:
    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        if is_streamed(scope["method"], scope["path"]):
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers", []))
        content_type = headers.get(b"content-type", b"").decode("latin-1").lower()
        if not is_json(content_type):
            await self.app(scope, receive, send)
            return
        too_large = BodyTooLarge(f"JSON request body exceeds {self.max_bytes} bytes")
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await error_response(too_large)(scope, receive, send)
            return
        # Without a trustworthy length, read up to the limit, then hand the body on unchanged.
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await error_response(too_large)(scope, receive, send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        await self.app(scope, replay_body(b"".join(chunks), receive), send)


def replay_body(body: bytes, receive: Receive) -> Receive:
    """A `receive` that hands over `body` whole, then waits on the client as `receive` does."""
    delivered = False

    async def replay() -> Message:
        nonlocal delivered
        if not delivered:
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


class InputGuardMiddleware:
    """Refuses NUL bytes in the path or query: no id can contain them, and the database
    cannot be asked about them."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            query = scope.get("query_string", b"").lower()
            if "\x00" in scope.get("path", "") or b"%00" in query or b"\x00" in query:
                error = InvalidParams("NUL characters are not allowed in paths or query strings")
                await error_response(error)(scope, receive, send)
                return
        await self.app(scope, receive, send)
