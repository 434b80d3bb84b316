"""All SQL about the audience history."""

from collections.abc import Sequence
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from audiences.history.models import AudienceEvent


async def insert_event(session: AsyncSession, values: dict[str, Any]) -> None:
    await session.execute(insert(AudienceEvent).values(**values))


async def list_events(
    session: AsyncSession, account_id: int, audience_id: int, before: int | None, limit: int
) -> Sequence[AudienceEvent]:
    """Newest first; `before` is the cursor (an event id)."""
    query = select(AudienceEvent).where(
        AudienceEvent.account_id == account_id, AudienceEvent.audience_id == audience_id
    )
    if before is not None:
        query = query.where(AudienceEvent.event_id < before)
    query = query.order_by(AudienceEvent.event_id.desc()).limit(limit)
    return (await session.scalars(query)).all()
