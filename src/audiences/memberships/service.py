"""Rules for members: atomic adds, idempotent removes, emptying, the batch limit."""

from sqlalchemy.ext.asyncio import AsyncSession

from audiences.audiences import service as audiences_service
from audiences.core import metrics
from audiences.core.validation import storable_text
from audiences.history import service as history
from audiences.memberships import repository
from audiences.memberships.errors import BatchTooLarge, ContactsNotFound


def _split_storable(external_ids: list[str]) -> tuple[list[str], list[str]]:
    """Ids the database can be asked about, and ids no contact can have (NUL, bad UTF-8)."""
    # One check of them all in the common case, instead of one per id.
    if storable_text("".join(external_ids)):
        return external_ids, []
    storable: list[str] = []
    impossible: list[str] = []
    for value in external_ids:
        (storable if storable_text(value) else impossible).append(value)
    return storable, impossible


async def add_members(
    session: AsyncSession,
    account_id: int,
    audience_external_id: str,
    contact_ids: list[str],
    max_batch: int,
) -> int:
    """Adds existing contacts to an audience, all or nothing: any unknown id refuses the batch
    and is listed. Contacts already in it stay as they are (with their first `addedAt`)."""
    if len(contact_ids) > max_batch:
        raise BatchTooLarge(max_batch)
    audience = await audiences_service.get_audience(
        session, account_id, audience_external_id, lock="write"
    )
    storable, impossible = _split_storable(contact_ids)
    result = await repository.add_members(
        session, account_id, audience.audience_id, storable, refuse=bool(impossible)
    )
    if result.unknown or impossible:
        unknown = set(result.unknown).union(impossible)
        first_seen = {value: i for i, value in reversed(list(enumerate(contact_ids)))}
        raise ContactsNotFound(sorted(unknown, key=first_seen.__getitem__))
    await history.record(
        session, audience, "add_members", requested=len(contact_ids), added=result.added
    )
    metrics.members_written(added=result.added)
    return result.added


async def remove_members(
    session: AsyncSession,
    account_id: int,
    audience_external_id: str,
    contact_ids: list[str] | None,
    max_batch: int,
) -> int:
    """Removes the given contacts, or every member when no list is given. Never blocked."""
    if contact_ids is not None and len(contact_ids) > max_batch:
        raise BatchTooLarge(max_batch)
    audience = await audiences_service.get_audience(
        session, account_id, audience_external_id, lock="write"
    )
    if contact_ids is None:
        removed = await repository.remove_all_members(session, account_id, audience.audience_id)
        await history.record(session, audience, "empty", removed=removed)
        metrics.members_written(removed=removed)
        return removed
    storable, _ = _split_storable(contact_ids)
    removed = await repository.remove_members(session, account_id, audience.audience_id, storable)
    await history.record(
        session, audience, "remove_members", requested=len(contact_ids), removed=removed
    )
    metrics.members_written(removed=removed)
    return removed
