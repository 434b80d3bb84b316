"""Work that runs after the handler has made its response and before the request's transaction
commits: for example, an idempotent response stored in the same transaction as the work."""

from collections.abc import Awaitable, Callable

from fastapi import Request, Response

BeforeCommit = Callable[[Response], Awaitable[None]]


def before_commit(request: Request, callback: BeforeCommit) -> None:
    callbacks: list[BeforeCommit] = getattr(request.state, "before_commit", [])
    callbacks.append(callback)
    request.state.before_commit = callbacks


async def run_before_commit(request: Request, response: Response) -> None:
    """The request's callbacks, in the order they were registered."""
    for callback in getattr(request.state, "before_commit", ()):
        await callback(response)
