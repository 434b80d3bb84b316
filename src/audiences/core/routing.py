"""The route class of every API route: after the handler has made its response, and before the
request's transaction commits, it runs the callbacks registered for this request (so that,
for example, an idempotent response is stored in the same transaction as the work)."""

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute

BeforeCommit = Callable[[Response], Awaitable[None]]


def before_commit(request: Request, callback: BeforeCommit) -> None:
    callbacks: list[BeforeCommit] = getattr(request.state, "before_commit", [])
    callbacks.append(callback)
    request.state.before_commit = callbacks


class ApiRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Any]:
        handler = super().get_route_handler()

        async def run(request: Request) -> Response:
            response: Response = await handler(request)
            for callback in getattr(request.state, "before_commit", ()):
                await callback(response)
            return response

        return run
