"""Bulk statements whose cost cannot depend on the tables' statistics.

With autovacuum off (as on our machines), or before it has run, a table just filled by an import
still has the statistics of when it was small: the planner may believe an account holds a few
contacts when it holds a million. A nested loop chosen on that belief compares every row of one
side with every row of the other. Bulk statements therefore run on hash or merge joins only
(linear whatever the estimates), and staged uploads are analyzed before they are joined."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession


@asynccontextmanager
async def without_nested_loops(session: AsyncSession) -> AsyncIterator[None]:
    """The statements inside join by hashing or merging, never by a nested loop. The setting
    is transaction-local (SET LOCAL), so a pooled or PgBouncer-shared connection never keeps
    it; a failed statement leaves it to the rollback."""
    await session.execute(text("SELECT set_config('enable_nestloop', 'off', true)"))
    yield
    await session.execute(text("SELECT set_config('enable_nestloop', 'on', true)"))


async def analyze(session: AsyncSession, *tables: str) -> None:
    """Fresh statistics for tables the request has just filled (staged uploads): the planner
    otherwise guesses their size from their pages and assumes 200 distinct values."""
    await session.execute(text("ANALYZE " + ", ".join(tables)))
