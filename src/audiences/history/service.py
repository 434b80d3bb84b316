"""The audience history: every change to an audience or its members, recorded in the same
transaction as the change, so that "who emptied this audience?" has an answer."""

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from audiences.audiences.models import Audience
from audiences.core.actor import current_consumer_key
from audiences.core.requestid import current_request_id
from audiences.core.timeutil import epoch_ms
from audiences.history import repository
from audiences.history.schemas import Event


async def record(session: AsyncSession, audience: Audience, operation: str, **details: Any) -> None:
    """Records a change made by the current request."""
    request_id = current_request_id()
    await repository.insert_event(
        session,
        {
            "account_id": audience.account_id,
            "audience_id": audience.audience_id,
            "audience_external_id": audience.external_id,
            "operation": operation,
            "consumer_key": current_consumer_key(),
            "request_id": request_id if request_id != "-" else None,
            "details": details,
        },
    )


async def list_events(
    session: AsyncSession, audience: Audience, before: int | None, limit: int
) -> tuple[list[Event], int | None]:
    rows = await repository.list_events(
        session, audience.account_id, audience.audience_id, before, limit
    )
    events = [
        Event(
            id=r.event_id,
            at=epoch_ms(r.occurred_at) or 0,
            operation=r.operation,
            consumer_key=r.consumer_key,
            request_id=r.request_id,
            details=r.details,
        )
        for r in rows
    ]
    return events, rows[-1].event_id if rows else None
