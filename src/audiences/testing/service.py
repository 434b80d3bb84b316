"""The rules of the /testing calls of an ephemeral service: accounts for tests, a reset that
keeps the credential, and faults a connector's retry path can be tested against."""

import asyncio
import re

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request

from audiences.accounts import service as accounts_service
from audiences.accounts.service import IssuedCredential
from audiences.auth.service import Authenticated
from audiences.contacts import definitions as contact_definitions
from audiences.core.basepath import BASE, BASE_PATHS
from audiences.core.credentials import SecretBox
from audiences.core.db import database_of
from audiences.testing import repository
from audiences.testing.errors import InjectedFault, TooManyFaults
from audiences.testing.models import Fault
from audiences.testing.schemas import FaultCreate

MAX_FAULTS = 1000


async def create_account(
    session: AsyncSession, box: SecretBox, name: str, products: list[str]
) -> IssuedCredential:
    """A new account, as `audiences account create` makes one."""
    return await accounts_service.create_account(session, box, name, products)


async def reset_account(session: AsyncSession, account_id: int) -> None:
    """Everything of the account is deleted but its credentials; it is left as a new account
    is (the default contact properties). No other account is touched."""
    await repository.delete_account_data(session, account_id)
    await contact_definitions.seed_default_properties(session, account_id)


def fault_path(path: str) -> str:
    """The path a fault matches: after the base path (either may be given), without a
    trailing slash."""
    for base in BASE_PATHS:
        if path == base or path.startswith(base + "/"):
            path = path[len(base) :]
            break
    return path.rstrip("/") or "/"


def path_regex(path: str) -> str:
    """The path as an anchored PostgreSQL regular expression: `*` is one segment; everything
    else is literal (a backslash before a character that is not a letter or digit)."""
    segments = ["[^/]+" if s == "*" else re.escape(s) for s in path.split("/")]
    return "^" + "/".join(segments) + "$"


async def add_fault(session: AsyncSession, account_id: int, body: FaultCreate) -> Fault:
    """The fault, after the account's others (the oldest that matches a call is taken)."""
    if await repository.count_faults(session, account_id) >= MAX_FAULTS:
        raise TooManyFaults()
    path = fault_path(body.path)
    return await repository.insert_fault(
        session,
        {
            "account_id": account_id,
            "method": body.method,
            "path": path,
            "path_regex": path_regex(path),
            "status": body.status,
            "error_type": body.errorType,
            "delay_ms": body.delayMs,
            "remaining": body.times,
        },
    )


async def list_faults(session: AsyncSession, account_id: int) -> list[Fault]:
    return list(await repository.list_faults(session, account_id))


async def clear_faults(session: AsyncSession, account_id: int) -> None:
    """Every fault of the account is gone; its calls are answered as usual."""
    await repository.delete_faults(session, account_id)


async def inject_fault(request: Request, found: Authenticated) -> None:
    """Run by the route pipeline after authentication (ephemeral services only): a call that
    meets one of its account's faults waits its delay, then fails with its status (if any)."""
    path = request.scope["path"].removeprefix(BASE) or "/"
    async with database_of(request).auth_connect() as connection:
        fault = await repository.take_fault(
            connection, found.principal.account_id, request.method, path
        )
    if fault is None:
        return
    if fault.delay_ms:
        await asyncio.sleep(fault.delay_ms / 1000)
    if fault.status is not None:
        raise InjectedFault(fault.status, fault.error_type, fault.path)
