"""The application factory: nothing reads the environment or connects at import time."""

import asyncio
import contextlib
import gc
import logging
import random
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute

from audiences import __version__
from audiences.accounts import service as accounts_service
from audiences.accounts.router import router as account_router
from audiences.audiences.router import router as audiences_router
from audiences.auth import service as auth_service
from audiences.console.install import install_console
from audiences.contacts.router import router as contacts_router
from audiences.core.basepath import BASE, ApiPathMiddleware
from audiences.core.credentials import SecretBox
from audiences.core.db import Database
from audiences.core.errors import CatchAllMiddleware, install_error_handlers
from audiences.core.health import router as health_router
from audiences.core.health import schema_head
from audiences.core.limits import InputGuardMiddleware
from audiences.core.logs import configure_logging
from audiences.core.metrics import forget_dead_workers, observe_pool
from audiences.core.metrics import router as metrics_router
from audiences.core.openapi import install_docs, install_openapi
from audiences.core.replica import watch as replica_watch
from audiences.core.requestid import RequestIdMiddleware
from audiences.core.settings import Settings, secret_key_problem
from audiences.folders.router import router as folders_router
from audiences.history.router import router as history_router
from audiences.idempotency import service as idempotency_service
from audiences.idempotency.service import ReplayedResponse, replayed_response
from audiences.memberships.router import router as memberships_router
from audiences.platform.automailers.router import router as automailers_router
from audiences.platform.flows.router import automation_router, campaign_router
from audiences.platform.mailings.router import router as mailings_router
from audiences.platform.messages.router import router as messages_router
from audiences.testing import service as testing_service
from audiences.testing.router import router as testing_router

logger = logging.getLogger("audiences")

# Python collects its youngest objects once 700 more have been made than freed (the default). A
# request that answers 100 contacts holds a few thousand at its peak and frees them all itself,
# so at 700 the collector ran about twice such a request, scanning what was about to be freed
# anyway (about 150 µs of a 100-contact list's 3.5 ms of CPU). At 10,000 a request of that size
# never triggers it; cyclic garbage, which only the collector frees, waits a little longer.
YOUNG_COLLECTION_THRESHOLD = 10_000

DESCRIPTION = """
A Spotler Mail+ compatible audiences service. Point an existing Spotler client at
`/integrationservice` or `/integrationservice-1.1.0` (both serve the same API; choose one in
*Servers*).

**Authentication**: OAuth 1.0a one-legged HMAC-SHA1, as Spotler clients sign, or HTTP Basic
with the consumer key as user name and the consumer secret as password (use *Authorize* and
Basic for "Try it out").

**Errors** always come as `{"errorType": ..., "message": ...}` with the vendor's error types.
Dates of audiences and contacts are epoch milliseconds.
"""


def _operation_id(route: APIRoute) -> str:
    # Operation ids are the handler names (create_audience, add_members, ...).
    return route.name


def api_routers(ephemeral: bool = False) -> list[APIRouter]:
    """The API's routers, in routing order (the membership check, the hottest call, first);
    the /testing calls only when ephemeral."""
    routers = [
        memberships_router,
        account_router,
        audiences_router,
        history_router,
        folders_router,
        contacts_router,
        mailings_router,
        automailers_router,
        campaign_router,
        automation_router,
        messages_router,
    ]
    return [*routers, testing_router] if ephemeral else routers


def api_router(ephemeral: bool = False) -> APIRouter:
    """Every API route, relative to a base path: what the API's document describes."""
    api = APIRouter(generate_unique_id_function=_operation_id)
    for router in api_routers(ephemeral):
        api.include_router(router)
    return api


PURGE_SECONDS = 5.0


async def _purge_expired(database: Database, window: int) -> None:
    # Small and frequent, at a jittered pace so workers do not align: a minute's worth of
    # nonces deleted at once showed in the requests' p99.
    while True:
        await asyncio.sleep(PURGE_SECONDS * random.uniform(0.8, 1.2))
        try:
            async with database.auth_connect() as connection:
                await auth_service.purge_expired(connection, window)
                await idempotency_service.purge_expired(connection)
                await accounts_service.purge_expired_sessions(connection)
        except Exception:
            logger.warning("could not purge expired nonces, keys and sessions", exc_info=True)


async def _observe_pools(database: Database) -> None:
    while True:
        for name, engine in zip(
            ("requests", "auth", "uploads", "replica"), database.engines, strict=False
        ):
            observe_pool(name, engine.sync_engine.pool)
        await asyncio.sleep(5)


def create_app(settings: Settings, database: Database | None = None) -> FastAPI:
    """The service for these settings; its database pools are opened at start-up, unless
    `database` is given (tests bind one to their own connection)."""
    problem = secret_key_problem(settings.secret_key)
    if problem or not settings.secret_key:
        raise RuntimeError(problem)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        own = database is None
        forget_dead_workers()
        if own:
            app.state.database = Database.open(settings)
        # Everything loaded at start-up lives as long as the process: keep it out of the
        # collector's full passes, which otherwise show up as latency spikes under load.
        gc.freeze()
        gc.set_threshold(YOUNG_COLLECTION_THRESHOLD, *gc.get_threshold()[1:])
        tasks = [
            asyncio.create_task(
                _purge_expired(app.state.database, settings.oauth_timestamp_window)
            ),
            asyncio.create_task(_observe_pools(app.state.database)),
        ]
        replica = app.state.database.replica
        if replica is not None:
            primary = app.state.database.engines[0]
            interval = settings.read_replica_check_interval
            tasks.append(asyncio.create_task(replica_watch(replica, primary, interval)))
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            if own:
                await app.state.database.close()

    app = FastAPI(
        title="audiences",
        version=__version__,
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    # Paths are normalised (ApiPathMiddleware) instead: a redirect loses a client's body or
    # its OAuth signature.
    app.router.redirect_slashes = False
    app.state.settings = settings
    app.state.secret_box = SecretBox(settings.secret_key)
    app.state.schema_head = schema_head()
    if database is not None:
        app.state.database = database

    # Probes first: they are matched before the API's routes, so they stay cheap under load.
    app.include_router(health_router)
    api = api_router(settings.ephemeral)
    # Met by every API call after authentication (api/routing.py), on ephemeral services only.
    app.state.inject_fault = testing_service.inject_fault if settings.ephemeral else None
    # Served with each router straight under the app rather than through `api`: FastAPI walks
    # an included router's own includes on every request, level by level.
    for router in api_routers(settings.ephemeral):
        app.include_router(router, prefix=BASE, generate_unique_id_function=_operation_id)
    app.include_router(metrics_router)
    install_error_handlers(app)
    app.add_exception_handler(ReplayedResponse, replayed_response)
    install_openapi(app, api, "audiences", __version__, DESCRIPTION)
    install_docs(app)
    install_console(app, settings)

    app.add_middleware(InputGuardMiddleware)
    app.add_middleware(CatchAllMiddleware)
    app.add_middleware(RequestIdMiddleware)
    app.add_middleware(ApiPathMiddleware)
    return app


def create_app_from_environment() -> FastAPI:
    """For `uvicorn --factory` and server workers: settings from the environment."""
    settings = Settings()
    configure_logging(settings.log_level)
    return create_app(settings)
