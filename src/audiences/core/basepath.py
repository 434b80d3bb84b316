"""Both base paths serve one API: `/integrationservice-1.1.0/...` is routed as
`/integrationservice/...`, so the routes exist once (route matching is per-request work), while
signatures and links keep the path the client used."""

from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

BASE = "/integrationservice"
ALIASES = ("/integrationservice-1.1.0",)
_ORIGINAL = "audiences.original_path"


class BasePathAliasMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path: str = scope["path"]
            for alias in ALIASES:
                if path == alias or path.startswith(alias + "/"):
                    scope = dict(scope)
                    scope[_ORIGINAL] = path
                    scope["path"] = BASE + path[len(alias) :]
                    scope["raw_path"] = scope["path"].encode()
                    break
        await self.app(scope, receive, send)


def client_path(request: Request) -> str:
    """The path as the client sent it (before any alias was resolved)."""
    original: str | None = request.scope.get(_ORIGINAL)
    return original if original is not None else request.url.path
