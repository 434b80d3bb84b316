"""A bulk statement that meets a deadlock or serialization failure after a streamed upload is run
again from a savepoint (the upload, already staged, is kept). Any other transient conflict is
answered 503 with Retry-After: the transaction was rolled back, and the same request may be
sent again."""

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from typing import TypeVar

from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from audiences.core.errors import is_transient

logger = logging.getLogger("audiences.retry")

ATTEMPTS = 4

T = TypeVar("T")


async def _pause(attempt: int) -> None:
    # Jittered, so the transactions that collided do not collide again.
    await asyncio.sleep(random.uniform(0.005, 0.02) * 2**attempt)


async def retry_statement(session: AsyncSession, work: Callable[[], Awaitable[T]]) -> T:
    """Runs `work` in a savepoint, again after a deadlock or serialization failure; rolling
    back to the savepoint releases the locks it took, so the other transaction goes on."""
    for attempt in range(ATTEMPTS):
        try:
            async with session.begin_nested():
                return await work()
        except DBAPIError as exc:
            if not is_transient(exc) or attempt == ATTEMPTS - 1:
                raise
            logger.warning("transient conflict, running the statement again: %s", exc.orig)
        await _pause(attempt)
    raise AssertionError("unreachable")
