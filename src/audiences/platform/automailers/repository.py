"""All SQL about automailers and whom they mail."""

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select, text, update
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncSession

from audiences.contacts.repository import REACHABLE
from audiences.core.plans import without_nested_loops
from audiences.platform.automailers.models import Automailer


async def insert_automailer(session: AsyncSession, values: dict[str, Any]) -> Automailer:
    automailer = Automailer(**values)
    session.add(automailer)
    await session.flush()
    return automailer


async def get_automailer(
    session: AsyncSession, account_id: int, public_id: str, *, lock: bool = False
) -> Automailer | None:
    query = select(Automailer).where(
        Automailer.account_id == account_id, Automailer.public_id == public_id
    )
    if lock:
        query = query.with_for_update()
    return await session.scalar(query)


async def delete_automailer(session: AsyncSession, automailer: Automailer) -> None:
    await session.delete(automailer)
    await session.flush()


async def blocking_automailers(
    session: AsyncSession, account_id: int, audience_id: int
) -> Sequence[Automailer]:
    """Active automailers whose last sending moment has not passed."""
    query = (
        select(Automailer)
        .where(
            Automailer.account_id == account_id,
            Automailer.audience_id == audience_id,
            Automailer.status == "active",
            Automailer.last_sending_at > func.now(),
        )
        .order_by(Automailer.automailer_id)
    )
    return (await session.scalars(query)).all()


async def detach_finished(session: AsyncSession, account_id: int, audience_id: int) -> None:
    """Lets go of the audience in stopped automailers and in those past their last sending
    moment, before it is deleted."""
    await session.execute(
        update(Automailer)
        .where(
            Automailer.account_id == account_id,
            Automailer.audience_id == audience_id,
            or_(Automailer.status == "stopped", Automailer.last_sending_at <= func.now()),
        )
        .values(audience_id=None)
    )


# Read over the whole audience, on hash joins whatever the statistics (core/plans.py).
# Members added after the first sending moment, due (added + period) by :at and by the last
# sending moment, reachable by e-mail with the permission, not yet mailed by this automailer.
_DUE = f"""
    SELECT c.contact_id, c.external_id, c.encrypted_id, m.added_at,
           m.added_at + CAST(a.period AS interval) AS due_at
    FROM automailers a
    JOIN audience_members m ON m.account_id = a.account_id AND m.audience_id = a.audience_id
    JOIN contacts c ON c.account_id = m.account_id AND c.contact_id = m.contact_id
    WHERE a.account_id = :account_id AND a.automailer_id = :automailer_id
      AND a.status = 'active'
      AND m.added_at > a.first_sending_at
      AND m.added_at + CAST(a.period AS interval) <= :at
      AND m.added_at + CAST(a.period AS interval) <= a.last_sending_at
      AND {REACHABLE}
      AND NOT EXISTS (
          SELECT 1 FROM automailer_deliveries d
          WHERE d.account_id = a.account_id AND d.automailer_id = a.automailer_id
            AND d.contact_id = m.contact_id
      )
"""

_RUN = text(
    f"""
    WITH due AS ({_DUE}),
    mailed AS (
        INSERT INTO automailer_deliveries (account_id, automailer_id, contact_id, mailed_at)
        SELECT :account_id, :automailer_id, contact_id, :at FROM due ORDER BY contact_id
        ON CONFLICT DO NOTHING
        RETURNING contact_id
    )
    SELECT due.* FROM due JOIN mailed USING (contact_id) ORDER BY due.contact_id
    """
)


def _params(automailer: Automailer, at: datetime) -> dict[str, Any]:
    return {
        "account_id": automailer.account_id,
        "automailer_id": automailer.automailer_id,
        "at": at,
        "channel": "EMAIL",
        "bit": automailer.permission_bit,
    }


async def due_contacts(
    session: AsyncSession, automailer: Automailer, at: datetime
) -> Sequence[Row[Any]]:
    async with without_nested_loops(session):
        rows = await session.execute(text(_DUE + " ORDER BY m.contact_id"), _params(automailer, at))
    return rows.all()


async def mail_due_contacts(
    session: AsyncSession, automailer: Automailer, at: datetime
) -> Sequence[Row[Any]]:
    """Records the due contacts as mailed and answers them; each contact once, ever."""
    async with without_nested_loops(session):
        return (await session.execute(_RUN, _params(automailer, at))).all()


async def list_automailers(session: AsyncSession, account_id: int) -> Sequence[Automailer]:
    query = (
        select(Automailer)
        .where(Automailer.account_id == account_id)
        .order_by(Automailer.automailer_id.desc())
    )
    return (await session.scalars(query)).all()
