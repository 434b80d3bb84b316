"""Every dependency of an API route is `async def`: FastAPI runs a plain `def` dependency in a
thread of the pool, and those hops on every request made 1-2 % of membership checks wait up to
2 s with two workers under load (bench/big_audiences.py --only check: p99 1,230 ms before,
30 ms after)."""

import inspect

from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts


def sync_dependencies(dependant: Dependant, path: str) -> list[str]:
    found = []
    for sub in dependant.dependencies:
        call = sub.call
        if call is not None and not (
            inspect.iscoroutinefunction(call) or inspect.isasyncgenfunction(call)
        ):
            found.append(f"{path}: {getattr(call, '__qualname__', call)}")
        found += sync_dependencies(sub, path)
    return found


def test_no_route_runs_a_dependency_in_the_thread_pool(app):  # type: ignore[no-untyped-def]
    contexts = [
        c for c in iter_route_contexts(app.routes) if isinstance(c.original_route, APIRoute)
    ]
    assert len(contexts) > 50
    found = [
        f
        for c in contexts
        for f in sync_dependencies(getattr(c, "dependant", c.original_route.dependant), c.path)
    ]
    assert found == []
