"""Rules for automailers: a sending window, a period, and each contact mailed once."""

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func
from sqlalchemy.ext.asyncio import AsyncSession

from audiences.audiences import repository as audiences_repository
from audiences.audiences import service as audiences_service
from audiences.audiences.models import Audience
from audiences.contacts import definitions as contact_definitions
from audiences.core.ids import new_public_id
from audiences.platform.automailers import repository
from audiences.platform.automailers.errors import (
    AutomailerNotFound,
    AutomailerPeriodOutOfRange,
    AutomailerStopped,
)
from audiences.platform.automailers.models import Automailer
from audiences.platform.automailers.schemas import (
    AutomailerCreate,
    AutomailerRead,
    AutomailerUpdate,
    DueContact,
    DueContacts,
    checked_period,
)


async def to_read(session: AsyncSession, automailer: Automailer) -> AutomailerRead:
    audiences: dict[int, Audience] = {}
    if automailer.audience_id is not None:
        audiences = await audiences_repository.get_audiences_by_ids(
            session, automailer.account_id, [automailer.audience_id]
        )
    return _read(automailer, audiences)


def _read(automailer: Automailer, audiences: Mapping[int, Audience]) -> AutomailerRead:
    """The automailer as answered, its audience (when it still exists) among `audiences`."""
    audience = audiences.get(automailer.audience_id) if automailer.audience_id is not None else None
    return AutomailerRead(
        id=automailer.public_id,
        name=automailer.name,
        audience_external_id=audience.external_id if audience else automailer.audience_external_id,
        target_group=audience.name if audience else automailer.target_group,
        permission_bit=automailer.permission_bit,
        first_sending_moment=automailer.first_sending_at,
        period=automailer.period,
        last_sending_moment=automailer.last_sending_at,
        status=automailer.status,
    )


async def _values(session: AsyncSession, account_id: int, body: AutomailerCreate) -> dict[str, Any]:
    await contact_definitions.check_permission_bit(session, account_id, body.permission_bit)
    audience = await audiences_service.audience_to_reference(
        session, account_id, body.audience_external_id
    )
    return {
        "name": body.name,
        "audience_id": audience.audience_id,
        "audience_external_id": audience.external_id,
        "target_group": audience.name,
        "permission_bit": body.permission_bit,
        "first_sending_at": body.first_sending_moment,
        "period": body.period,
        "last_sending_at": body.last_sending_moment,
    }


async def get_automailer(
    session: AsyncSession, account_id: int, public_id: str, *, lock: bool = False
) -> Automailer:
    automailer = await repository.get_automailer(session, account_id, public_id, lock=lock)
    if automailer is None:
        raise AutomailerNotFound()
    return automailer


async def create_automailer(
    session: AsyncSession, account_id: int, body: AutomailerCreate
) -> AutomailerRead:
    """An active automailer; it blocks its audience's deletion until its last sending moment."""
    values = await _values(session, account_id, body)
    automailer = await repository.insert_automailer(
        session, {"account_id": account_id, "public_id": new_public_id(), **values}
    )
    return await to_read(session, automailer)


async def read_automailer(session: AsyncSession, account_id: int, public_id: str) -> AutomailerRead:
    return await to_read(session, await get_automailer(session, account_id, public_id))


async def update_automailer(
    session: AsyncSession, account_id: int, public_id: str, body: AutomailerUpdate
) -> AutomailerRead:
    automailer = await get_automailer(session, account_id, public_id, lock=True)
    for column, value in (await _values(session, account_id, body)).items():
        setattr(automailer, column, value)
    automailer.changed_at = func.now()
    await session.flush()
    return await to_read(session, automailer)


async def delete_automailer(session: AsyncSession, account_id: int, public_id: str) -> None:
    await repository.delete_automailer(
        session, await get_automailer(session, account_id, public_id, lock=True)
    )


async def stop_automailer(session: AsyncSession, account_id: int, public_id: str) -> AutomailerRead:
    """Stops it for good: it mails no one any more and no longer blocks its audience."""
    automailer = await get_automailer(session, account_id, public_id, lock=True)
    automailer.status = "stopped"
    automailer.changed_at = func.now()
    await session.flush()
    return await to_read(session, automailer)


def _in_range(automailer: Automailer) -> Automailer:
    """One stored before periods were bounded may have a period no date can be added to: a
    refusal that says what to do, not a database error on every call."""
    try:
        checked_period(automailer.period)
    except ValueError as exc:
        raise AutomailerPeriodOutOfRange() from exc
    return automailer


def _due(rows: Any, at: datetime) -> DueContacts:
    contacts = [
        DueContact(
            external_id=r.external_id,
            encrypted_id=r.encrypted_id,
            added_at=r.added_at,
            due_at=r.due_at,
        )
        for r in rows
    ]
    return DueContacts(at=at, count=len(contacts), contacts=contacts)


async def due_contacts(
    session: AsyncSession, account_id: int, public_id: str, at: datetime | None
) -> DueContacts:
    """Who a run at `at` would mail (nothing changes)."""
    moment = at or datetime.now(UTC)
    automailer = _in_range(await get_automailer(session, account_id, public_id))
    if automailer.audience_id is None:
        return _due([], moment)
    return _due(await repository.due_contacts(session, automailer, moment), moment)


async def run_automailer(
    session: AsyncSession, account_id: int, public_id: str, at: datetime | None
) -> DueContacts:
    """Mails the contacts due at `at` and answers them: each contact exactly once, also when
    runs overlap (they queue on the automailer's row)."""
    moment = at or datetime.now(UTC)
    automailer = _in_range(await get_automailer(session, account_id, public_id, lock=True))
    if automailer.status != "active":
        raise AutomailerStopped()
    if automailer.audience_id is None:
        return _due([], moment)
    return _due(await repository.mail_due_contacts(session, automailer, moment), moment)


async def list_automailers(session: AsyncSession, account_id: int) -> list[AutomailerRead]:
    automailers = await repository.list_automailers(session, account_id)
    ids = [a.audience_id for a in automailers if a.audience_id is not None]
    audiences = await audiences_repository.get_audiences_by_ids(session, account_id, ids)
    return [_read(automailer, audiences) for automailer in automailers]
