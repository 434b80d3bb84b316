"""An app in ephemeral mode (as `serve --ephemeral` runs it), bound to the test's connection,
and two accounts on it."""

from collections.abc import AsyncIterator

import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from audiences.app import create_app
from audiences.core.db import Database
from audiences.core.settings import Settings
from tests.conftest import Tenant, make_tenant


@pytest.fixture
def ephemeral_app(settings: Settings, connection: AsyncConnection) -> FastAPI:
    return create_app(
        settings.model_copy(update={"ephemeral": True}), Database.bound_to(connection)
    )


@pytest.fixture
async def alice(session: AsyncSession, ephemeral_app: FastAPI) -> AsyncIterator[Tenant]:
    tenant = await make_tenant(session, ephemeral_app, ("automation", "ecommerce"), "Alice")
    async with tenant.client:
        yield tenant


@pytest.fixture
async def bob(session: AsyncSession, ephemeral_app: FastAPI) -> AsyncIterator[Tenant]:
    tenant = await make_tenant(session, ephemeral_app, ("automation", "ecommerce"), "Bob")
    async with tenant.client:
        yield tenant
