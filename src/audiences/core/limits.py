"""Input no route can take, refused before routing."""

from starlette.types import ASGIApp, Receive, Scope, Send

from audiences.core.errors import InvalidParams, error_response


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
