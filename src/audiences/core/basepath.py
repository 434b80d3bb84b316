"""Both base paths serve one API, with or without a trailing slash: `/integrationservice-1.1.0/...`
is routed as `/integrationservice/...` and `/audience/` as `/audience`, so the routes exist once
and no client is ever redirected (a redirect loses the body for some clients and the OAuth
signature for others). Only the routing path changes: `raw_path` stays exactly as sent, for
signatures and links."""

from urllib.parse import unquote

from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

BASE = "/integrationservice"
ALIASES = ("/integrationservice-1.1.0",)
BASE_PATHS = (BASE, *ALIASES)


def routing_path(path: str) -> str | None:
    """The path the API routes under BASE for a path as sent, or None outside the API."""
    for base in BASE_PATHS:
        if path == base or path.startswith(base + "/"):
            rest = path[len(base) :].rstrip("/")
            return BASE + rest
    return None


class ApiPathMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path: str = scope["path"]
            routed = routing_path(path)
            if routed is not None and routed != path:
                scope = {**scope, "path": routed}
                # raw_path keeps the bytes as sent (percent-encoding included); a server that
                # gives none gets the decoded path, the best guess left.
                scope.setdefault("raw_path", path.encode("utf-8"))
        await self.app(scope, receive, send)


def sent_path(request: Request) -> str:
    """The path exactly as the client sent it, percent-encoding included (RFC 5849 3.4.1.2)."""
    raw: bytes | None = request.scope.get("raw_path")
    if raw is None:
        return request.url.path
    return raw.decode("latin-1")


def client_path(request: Request) -> str:
    """The path as the client sent it, decoded (for messages)."""
    return unquote(sent_path(request), errors="replace")
