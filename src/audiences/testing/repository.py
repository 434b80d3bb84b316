"""All SQL of the /testing calls: an account's data deleted, and injected faults."""

from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from audiences.core.statements import HotStatement
from audiences.models import metadata
from audiences.testing.models import Fault

# What a reset keeps: the account, its credentials, and the state that guards them (spent
# nonces, rate counts).
KEPT_TABLES = frozenset({"accounts", "api_keys", "oauth_nonces", "rate_counters"})


async def delete_account_data(session: AsyncSession, account_id: int) -> None:
    """Deletes the account's rows from every table but KEPT_TABLES, those that refer to others
    first (restricting keys: a mailing before its audience). Read from the metadata, so a
    feature's new table is reset without a change here."""
    for table in reversed(metadata.sorted_tables):
        if table.name in KEPT_TABLES or "account_id" not in table.c:
            continue
        await session.execute(delete(table).where(table.c.account_id == account_id))


async def count_faults(session: AsyncSession, account_id: int) -> int:
    count = await session.scalar(
        select(func.count()).select_from(Fault).where(Fault.account_id == account_id)
    )
    return int(count or 0)


async def insert_fault(session: AsyncSession, values: dict[str, Any]) -> Fault:
    fault = Fault(**values)
    session.add(fault)
    await session.flush()
    return fault


async def list_faults(session: AsyncSession, account_id: int) -> Sequence[Fault]:
    query = select(Fault).where(Fault.account_id == account_id).order_by(Fault.fault_id)
    return (await session.scalars(query)).all()


async def delete_faults(session: AsyncSession, account_id: int) -> None:
    await session.execute(delete(Fault).where(Fault.account_id == account_id))


# One statement: the oldest matching fault with calls left is counted down and returned. The
# row lock makes concurrent calls (on any worker) take its calls one each, never more than
# `times` in all.
_TAKE_FAULT = HotStatement(
    """
    UPDATE testing_faults AS f SET remaining = f.remaining - 1
    FROM (
        SELECT account_id, fault_id FROM testing_faults
        WHERE account_id = :account_id AND remaining > 0 AND method IN (:method, '*')
          AND :path ~ path_regex
        ORDER BY fault_id
        LIMIT 1
        FOR UPDATE
    ) AS hit
    WHERE f.account_id = hit.account_id AND f.fault_id = hit.fault_id
    RETURNING f.status, f.error_type, f.delay_ms, f.path
    """
)


async def take_fault(connection: AsyncConnection, account_id: int, method: str, path: str) -> Any:
    """The fault this call meets (status, error_type, delay_ms, path), or None."""
    return await _TAKE_FAULT.first(
        connection, {"account_id": account_id, "method": method, "path": path}
    )
