"""The route class of every API route: a write is guarded by its Idempotency-Key, and after the
handler has made its response, the callbacks registered for the request run before its
transaction commits."""

from collections.abc import Callable, Sequence
from typing import Any

from fastapi import Depends, Request, Response
from fastapi.params import Depends as DependsParam
from fastapi.routing import APIRoute

from audiences.core.commit import run_before_commit
from audiences.idempotency.service import WRITE_METHODS, idempotency_guard


class ApiRoute(APIRoute):
    def __init__(
        self,
        path: str,
        endpoint: Callable[..., Any],
        *,
        methods: set[str] | list[str] | None = None,
        dependencies: Sequence[DependsParam] | None = None,
        **kwargs: Any,
    ) -> None:
        if methods and set(methods) & set(WRITE_METHODS):
            # Only a write can carry an Idempotency-Key: reads, the hot paths, do not resolve
            # the guard at all.
            dependencies = [Depends(idempotency_guard), *(dependencies or ())]
        super().__init__(path, endpoint, methods=methods, dependencies=dependencies, **kwargs)

    def get_route_handler(self) -> Callable[[Request], Any]:
        handler = super().get_route_handler()

        async def run(request: Request) -> Response:
            response: Response = await handler(request)
            await run_before_commit(request, response)
            return response

        return run
