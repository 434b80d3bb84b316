"""Rules for mailings: their status life cycle, and who they reach."""

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

from sqlalchemy import func
from sqlalchemy.ext.asyncio import AsyncSession

from audiences.audiences import repository as audiences_repository
from audiences.audiences import service as audiences_service
from audiences.audiences.models import Audience
from audiences.contacts import definitions as contact_definitions
from audiences.core.errors import InvalidParams
from audiences.core.ids import new_public_id
from audiences.platform.mailings import repository
from audiences.platform.mailings.errors import (
    MailingAudienceGone,
    MailingNotFound,
    MailingStateInvalid,
)
from audiences.platform.mailings.models import Mailing
from audiences.platform.mailings.schemas import (
    MailingCreate,
    MailingRead,
    MailingRecipient,
    MailingUpdate,
)
from audiences.platform.schemas import ContactLookup

# status -> the statuses each action may start from
TRANSITIONS = {
    "schedule": ({"draft", "scheduled"}, "scheduled"),
    "cancel": ({"scheduled", "sending"}, "cancelled"),
    "start": ({"scheduled"}, "sending"),
    "complete": ({"sending"}, "sent"),
}
CHANGEABLE = {"draft", "scheduled"}
DELETABLE = {"draft", "cancelled"}
# A little slack for clocks: "now" sent by a client must not be refused as the past.
CLOCK_SLACK = timedelta(seconds=60)


async def to_read(session: AsyncSession, mailing: Mailing) -> MailingRead:
    audiences: dict[int, Audience] = {}
    if mailing.audience_id is not None:
        audiences = await audiences_repository.get_audiences_by_ids(
            session, mailing.account_id, [mailing.audience_id]
        )
    return _read(mailing, audiences)


def _read(mailing: Mailing, audiences: Mapping[int, Audience]) -> MailingRead:
    """The mailing as answered, its audience (when it still exists) among `audiences`."""
    audience = audiences.get(mailing.audience_id) if mailing.audience_id is not None else None
    return MailingRead(
        encrypted_id=mailing.encrypted_id,
        name=mailing.name,
        type=mailing.type,
        target_group=audience.name if audience else mailing.target_group,
        audience_external_id=audience.external_id if audience else mailing.audience_external_id,
        permission_bit=mailing.permission_bit,
        status=mailing.status,
        scheduled_start_date=mailing.scheduled_start_at,
        sent_count=mailing.sent_count,
    )


def _check_future(moment: datetime | None) -> None:
    if moment is not None and moment < datetime.now(UTC) - CLOCK_SLACK:
        raise InvalidParams("scheduledStartDate must not be in the past")


async def _target(session: AsyncSession, account_id: int, body: MailingCreate) -> dict[str, object]:
    await contact_definitions.check_permission_bit(session, account_id, body.permission_bit)
    audience = await audiences_service.audience_to_reference(
        session, account_id, body.audience_external_id
    )
    return {
        "audience_id": audience.audience_id,
        "audience_external_id": audience.external_id,
        "target_group": audience.name,
    }


async def get_mailing(
    session: AsyncSession, account_id: int, encrypted_id: str, *, lock: bool = False
) -> Mailing:
    mailing = await repository.get_mailing(session, account_id, encrypted_id, lock=lock)
    if mailing is None:
        raise MailingNotFound()
    return mailing


async def create_mailing(
    session: AsyncSession, account_id: int, body: MailingCreate
) -> MailingRead:
    """A draft mailing targeting an audience, with the permission to mail with."""
    _check_future(body.scheduled_start_date)
    target = await _target(session, account_id, body)
    mailing = await repository.insert_mailing(
        session,
        {
            "account_id": account_id,
            "encrypted_id": new_public_id(),
            "name": body.name,
            "type": body.type,
            "permission_bit": body.permission_bit,
            "scheduled_start_at": body.scheduled_start_date,
            **target,
        },
    )
    return await to_read(session, mailing)


async def read_mailing(session: AsyncSession, account_id: int, encrypted_id: str) -> MailingRead:
    return await to_read(session, await get_mailing(session, account_id, encrypted_id))


async def update_mailing(
    session: AsyncSession, account_id: int, encrypted_id: str, body: MailingUpdate
) -> MailingRead:
    """Changes a draft or scheduled mailing (its target group too)."""
    mailing = await get_mailing(session, account_id, encrypted_id, lock=True)
    if mailing.status not in CHANGEABLE:
        raise MailingStateInvalid(f"A {mailing.status} mailing cannot be changed")
    _check_future(body.scheduled_start_date)
    if mailing.status == "scheduled" and body.scheduled_start_date is None:
        raise InvalidParams("A scheduled mailing needs a scheduledStartDate")
    target = await _target(session, account_id, body)
    mailing.name = body.name
    mailing.type = body.type
    mailing.permission_bit = body.permission_bit
    mailing.scheduled_start_at = body.scheduled_start_date
    for column, value in target.items():
        setattr(mailing, column, value)
    mailing.changed_at = func.now()
    await session.flush()
    return await to_read(session, mailing)


async def delete_mailing(session: AsyncSession, account_id: int, encrypted_id: str) -> None:
    """Deletes a draft or cancelled mailing."""
    mailing = await get_mailing(session, account_id, encrypted_id, lock=True)
    if mailing.status not in DELETABLE:
        raise MailingStateInvalid(
            f"A {mailing.status} mailing cannot be deleted; cancel it first"
            if mailing.status in ("scheduled", "sending")
            else f"A {mailing.status} mailing cannot be deleted"
        )
    await repository.delete_mailing(session, mailing)


async def transition(
    session: AsyncSession,
    account_id: int,
    encrypted_id: str,
    action: str,
    scheduled_start: datetime | None = None,
) -> MailingRead:
    """Moves the mailing along draft -> scheduled -> sending -> sent (or cancelled)."""
    sources, target = TRANSITIONS[action]
    # The row lock comes first: a concurrent delete of the audience either sees this mailing
    # scheduled (and is refused) or has already let go of the audience (and we refuse).
    mailing = await get_mailing(session, account_id, encrypted_id, lock=True)
    if mailing.status not in sources:
        raise MailingStateInvalid(f"A {mailing.status} mailing cannot {action}")
    if target in ("scheduled", "sending") and mailing.audience_id is None:
        raise MailingAudienceGone()
    if action == "schedule":
        _check_future(scheduled_start)
        mailing.scheduled_start_at = scheduled_start
    if action == "complete":
        mailing.sent_count = await repository.record_deliveries(session, mailing)
    mailing.status = target
    mailing.changed_at = func.now()
    await session.flush()
    return await to_read(session, mailing)


async def recipients(
    session: AsyncSession, account_id: int, encrypted_id: str, after: int, limit: int
) -> tuple[list[MailingRecipient], int | None]:
    """A page of the contacts the mailing reaches, and the cursor of its last one."""
    mailing = await get_mailing(session, account_id, encrypted_id)
    if mailing.audience_id is None:
        return [], None
    rows = await repository.recipients(session, mailing, after, limit)
    page = [
        MailingRecipient(contact_identifier=ContactLookup(external_id=ext, encrypted_id=enc))
        for _, ext, enc in rows
    ]
    return page, rows[-1][0] if rows else None


async def count_recipients(session: AsyncSession, account_id: int, encrypted_id: str) -> int:
    """How many members the mailing reaches: the permission enabled, the channel active, not
    anonymized."""
    mailing = await get_mailing(session, account_id, encrypted_id)
    if mailing.audience_id is None:
        return 0
    return await repository.count_recipients(session, mailing)


async def list_mailings(session: AsyncSession, account_id: int) -> list[tuple[MailingRead, int]]:
    """Every mailing, newest first, with how many contacts it reaches now."""
    mailings = await repository.list_mailings(session, account_id)
    ids = [m.audience_id for m in mailings if m.audience_id is not None]
    audiences = await audiences_repository.get_audiences_by_ids(session, account_id, ids)
    result = []
    for mailing in mailings:
        count = await repository.count_recipients(session, mailing) if mailing.audience_id else 0
        result.append((_read(mailing, audiences), count))
    return result
