"""Rules for the bulk member calls: streamed imports, atomic replace, listing and export."""

import asyncio
import contextlib
import threading
from collections.abc import AsyncIterator
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from audiences.audiences import service as audiences_service
from audiences.audiences.errors import AudienceNotFound
from audiences.audiences.models import Audience
from audiences.core import metrics
from audiences.core.auth import CompanionRow
from audiences.core.db import driver_connection
from audiences.core.errors import InvalidParams
from audiences.core.timeutil import epoch_ms, from_epoch_ms
from audiences.core.uploads import copy_ids, create_staging, upload_format
from audiences.history import service as history
from audiences.memberships import bulk_repository
from audiences.memberships.errors import NotAMember, UploadHasUnknownContacts
from audiences.memberships.schemas import ImportReport, Member, ReplaceReport


async def _stage_upload(
    session: AsyncSession, body: AsyncIterator[bytes], content_type: str, max_lines: int
) -> int:
    fmt = upload_format(content_type)
    connection = await driver_connection(session)
    await create_staging(connection, bulk_repository.STAGING)
    return await copy_ids(connection, body, fmt, bulk_repository.STAGING, max_lines)


async def _upload_then_lock(
    session: AsyncSession,
    account_id: int,
    audience_external_id: str,
    body: AsyncIterator[bytes],
    content_type: str,
    max_lines: int,
) -> tuple[Audience, int]:
    """The locked audience and the number of ids staged (blank lines left out)."""
    # The upload is staged before the audience's row is locked, so a slow client never holds
    # up the audience's other writers; an unknown audience is refused before reading the body.
    await audiences_service.get_audience(session, account_id, audience_external_id)
    lines = await _stage_upload(session, body, content_type, max_lines)
    audience = await audiences_service.get_audience(
        session, account_id, audience_external_id, lock="write"
    )
    return audience, lines


async def import_members(
    session: AsyncSession,
    account_id: int,
    audience_external_id: str,
    body: AsyncIterator[bytes],
    content_type: str,
    *,
    skip_unknown: bool,
    max_lines: int,
) -> ImportReport:
    """Adds every contact named in the upload, in one transaction. With unknown ids and
    unknown=reject nothing changes (404 with the count and a sample); with skip they are
    reported and the rest is added."""
    audience, lines = await _upload_then_lock(
        session, account_id, audience_external_id, body, content_type, max_lines
    )
    matched, added = await bulk_repository.import_members(
        session, account_id, audience.audience_id, lines, skip_unknown=skip_unknown
    )
    unknown, sample = 0, list[str]()
    if matched < lines:
        unknown, sample = await bulk_repository.unknown_ids(session, account_id)
        if not skip_unknown:
            raise UploadHasUnknownContacts(unknown, sample)
    # Every matched line added: no member was there already, and no id came twice.
    known = added if added == matched else await bulk_repository.distinct_known(session, account_id)
    await bulk_repository.record_changes(session, account_id, audience.audience_id, added, 0)
    await bulk_repository.drop_staging(session)
    report = ImportReport(
        received=lines,
        added=added,
        alreadyMember=known - added,
        unknown=unknown,
        unknownSample=sample,
    )
    await history.record(
        session, audience, "import", **report.model_dump(exclude={"unknownSample"})
    )
    metrics.members_written(added=added)
    return report


async def replace_members(
    session: AsyncSession,
    account_id: int,
    audience_external_id: str,
    body: AsyncIterator[bytes],
    content_type: str,
    *,
    skip_unknown: bool,
    dry_run: bool,
    max_lines: int,
) -> ReplaceReport:
    """Makes the members exactly the uploaded set in one transaction (readers see the old set
    or the new one), by computing the difference in SQL; with dryRun nothing changes."""
    audience, lines = await _upload_then_lock(
        session, account_id, audience_external_id, body, content_type, max_lines
    )
    matched = await bulk_repository.stage_replacement(session, account_id)
    unknown, sample = 0, list[str]()
    if matched < lines:
        unknown, sample = await bulk_repository.unknown_ids(session, account_id)
        if not skip_unknown:
            raise UploadHasUnknownContacts(unknown, sample)
    if dry_run:
        added, removed = await bulk_repository.diff_replacement(
            session, account_id, audience.audience_id
        )
    else:
        added, removed = await bulk_repository.apply_replacement(
            session, account_id, audience.audience_id
        )
        await bulk_repository.record_changes(
            session, account_id, audience.audience_id, added, removed
        )
    await bulk_repository.drop_staging(session)
    report = ReplaceReport(
        added=added,
        removed=removed,
        unchanged=audience.member_count - removed,
        unknown=unknown,
        unknownSample=sample,
        dryRun=dry_run,
    )
    if not dry_run:
        details = report.model_dump(exclude={"unknownSample", "dryRun"})
        await history.record(session, audience, "replace", **details)
        metrics.members_written(added=added, removed=removed)
    return report


def parse_moment(value: str | None) -> datetime | None:
    """Epoch milliseconds (as the API's dates) or ISO 8601."""
    if value is None or value == "":
        return None
    if value.isdigit():
        return from_epoch_ms(int(value))
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise InvalidParams("addedSince must be epoch milliseconds or ISO 8601") from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


async def list_members(
    session: AsyncSession,
    account_id: int,
    audience_external_id: str,
    after: int,
    limit: int,
    added_since: str | None,
) -> tuple[list[Member], int | None]:
    """A page of members after the cursor (contact order), optionally only those added since."""
    since = parse_moment(added_since)
    audience = await audiences_service.get_audience(session, account_id, audience_external_id)
    return await member_page(session, audience, after, limit, since)


async def member_page(
    session: AsyncSession,
    audience: Audience,
    after: int,
    limit: int,
    since: datetime | None = None,
    search: str | None = None,
) -> tuple[list[Member], int | None]:
    """A page of an audience already read: its members after the cursor (those whose id or
    e-mail address contains `search`), and the next cursor."""
    rows = await bulk_repository.member_page(
        session, audience.account_id, audience.audience_id, after, limit, since, search
    )
    members = [
        Member(externalId=r.external_id, email=r.email, addedAt=epoch_ms(r.added_at) or 0)
        for r in rows
    ]
    return members, rows[-1].contact_id if rows else None


async def check_member(
    session: AsyncSession,
    account_id: int,
    audience_external_id: str,
    contact_external_id: str,
    prefetched: CompanionRow | None = None,
) -> Member:
    """The membership of one contact, or a 404 (unknown audience, or not a member); read
    during authentication when `prefetched`."""
    if prefetched is not None:
        row = prefetched.row
    else:
        row = await bulk_repository.membership(
            session, account_id, audience_external_id, contact_external_id
        )
    if row is None:
        raise AudienceNotFound()
    if row.added_at is None:
        raise NotAMember()
    return Member(externalId=row.external_id, email=row.email, addedAt=epoch_ms(row.added_at) or 0)


async def export_members(database_url: str, audience: Audience) -> AsyncIterator[bytes]:
    """Every member as CSV, streamed from the database by a worker thread on a connection of
    its own (the request's transaction ends before the body is sent). A bounded queue keeps
    memory constant; a client that goes away stops the export."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[bytes | BaseException | None] = asyncio.Queue(maxsize=8)
    stopped = threading.Event()

    def put(item: bytes | BaseException | None) -> bool:
        if stopped.is_set():
            return False
        asyncio.run_coroutine_threadsafe(queue.put(item), loop).result()
        return not stopped.is_set()

    def produce() -> None:
        try:
            bulk_repository.export_members(
                database_url, audience.account_id, audience.audience_id, put
            )
        except BaseException as exc:  # handed to the reading side
            put(exc)
        else:
            put(None)

    producer = loop.run_in_executor(None, produce)
    try:
        while (item := await queue.get()) is not None:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stopped.set()
        while not producer.done():
            with contextlib.suppress(asyncio.QueueEmpty):
                queue.get_nowait()
            await asyncio.sleep(0.005)
