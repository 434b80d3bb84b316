"""Rules for the bulk member calls: streamed imports, atomic replace, listing and export."""

import asyncio
import contextlib
import threading
from collections.abc import AsyncGenerator, AsyncIterator
from concurrent.futures import Executor
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from psycopg_pool import ConnectionPool
from sqlalchemy.ext.asyncio import AsyncSession

from audiences.audiences import service as audiences_service
from audiences.audiences.errors import AudienceNotFound
from audiences.audiences.models import Audience
from audiences.core import metrics, timeutil
from audiences.core.db import Exports
from audiences.core.errors import InvalidParams
from audiences.core.settings import Settings
from audiences.core.timeutil import epoch_ms
from audiences.history import service as history
from audiences.memberships import bulk_repository
from audiences.memberships.errors import NotAMember, TooManyExports, UploadHasUnknownContacts
from audiences.memberships.schemas import ImportReport, Member, ReplaceReport
from audiences.memberships.staging import StagedIds, stage_ids


async def _upload_then_lock(
    session: AsyncSession,
    account_id: int,
    audience_external_id: str,
    body: AsyncIterator[bytes],
    content_type: str,
    max_lines: int,
) -> tuple[Audience, StagedIds]:
    """The locked audience and the staged upload."""
    # The upload is staged before the audience's row is locked, so a slow client never holds
    # up the audience's other writers; an unknown audience is refused before reading the body.
    await audiences_service.get_audience(session, account_id, audience_external_id)
    staged = await stage_ids(session, body, content_type, max_lines)
    audience = await audiences_service.get_audience(
        session, account_id, audience_external_id, lock="write"
    )
    return audience, staged


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
    audience, staged = await _upload_then_lock(
        session, account_id, audience_external_id, body, content_type, max_lines
    )
    matched, added = await bulk_repository.import_members(
        session, account_id, audience.audience_id, staged.lines, skip_unknown=skip_unknown
    )
    unknown, sample = 0, list[str]()
    if matched < staged.lines:
        unknown, sample = await bulk_repository.unknown_ids(session, account_id)
        if not skip_unknown:
            raise UploadHasUnknownContacts(unknown, sample)
    # Every matched line added: no member was there already, and no id came twice.
    known = added if added == matched else await bulk_repository.distinct_known(session, account_id)
    await bulk_repository.record_changes(session, account_id, audience.audience_id, added, 0)
    await staged.drop(session)
    report = ImportReport(
        received=staged.lines,
        added=added,
        already_member=known - added,
        unknown=unknown,
        unknown_sample=sample,
    )
    await history.record(
        session, audience, "import", **report.model_dump(exclude={"unknown_sample"})
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
    audience, staged = await _upload_then_lock(
        session, account_id, audience_external_id, body, content_type, max_lines
    )
    matched = await bulk_repository.stage_replacement(session, account_id, staged)
    unknown, sample = 0, list[str]()
    if matched < staged.lines:
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
    await staged.drop(session)
    report = ReplaceReport(
        added=added,
        removed=removed,
        unchanged=audience.member_count - removed,
        unknown=unknown,
        unknown_sample=sample,
        dry_run=dry_run,
    )
    if not dry_run:
        details = report.model_dump(exclude={"unknown_sample", "dry_run"})
        await history.record(session, audience, "replace", **details)
        metrics.members_written(added=added, removed=removed)
    return report


def parse_moment(value: str | None) -> datetime | None:
    """Epoch milliseconds (as the API's dates) or ISO 8601."""
    if value is None or value == "":
        return None
    try:
        return timeutil.parse_moment(value)
    except ValueError as exc:
        raise InvalidParams(
            "addedSince must be epoch milliseconds or ISO 8601, between 1970 and 9999"
        ) from exc


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
        Member(external_id=r.external_id, email=r.email, added_at=epoch_ms(r.added_at) or 0)
        for r in rows
    ]
    return members, rows[-1].contact_id if rows else None


def check_member(found: bulk_repository.Membership | None) -> Member:
    """The membership of one contact, or a 404 (unknown audience, or not a member)."""
    if found is None:
        raise AudienceNotFound()
    if found.added_at is None or found.external_id is None:
        raise NotAMember()
    return Member(
        external_id=found.external_id, email=found.email, added_at=epoch_ms(found.added_at) or 0
    )


@dataclass(frozen=True)
class ExportLimits:
    """How many exports an account may run at once, and how long their query may take."""

    per_account: int
    statement_timeout_ms: int

    @classmethod
    def of(cls, settings: Settings) -> "ExportLimits":
        return cls(
            settings.max_concurrent_exports_per_account, settings.export_statement_timeout_ms
        )


async def export_members(
    exports: Exports, audience: Audience, limits: ExportLimits, neutralise: bool = True
) -> AsyncIterator[bytes]:
    """Every member as CSV, streamed from the database by a worker thread on a pooled
    connection of the export pool (the request's transaction ends before the body is sent). A
    bounded queue keeps memory constant; a client that goes away stops the export. The first
    chunk is read before this returns, so a full pool (503) or an account over its exports
    (429) is answered as an error, not as a cut download. With `neutralise` (the default), a
    cell that a spreadsheet would run as a formula is prefixed with a single quote."""
    chunks = _export_chunks(exports, audience, limits, neutralise)
    first = await anext(chunks, b"")

    async def chained() -> AsyncIterator[bytes]:
        try:
            yield first
            async for chunk in chunks:
                yield chunk
        finally:
            await chunks.aclose()

    return chained()


async def _export_chunks(
    exports: Exports, audience: Audience, limits: ExportLimits, neutralise: bool
) -> AsyncGenerator[bytes]:
    loop = asyncio.get_running_loop()
    pool, threads = exports.pool, exports.threads
    connection = await loop.run_in_executor(threads, pool.getconn)
    try:
        claimed = await loop.run_in_executor(
            threads,
            bulk_repository.begin_export,
            connection,
            audience.account_id,
            limits.per_account,
            limits.statement_timeout_ms,
        )
        if not claimed:
            raise TooManyExports(limits.per_account)
        async for chunk in _copied(threads, connection, audience, neutralise):
            yield chunk
    finally:
        # Ends the export's transaction (its slot with it) and hands the connection back.
        await loop.run_in_executor(threads, _give_back, pool, connection)


def _give_back(pool: ConnectionPool[Any], connection: psycopg.Connection[Any]) -> None:
    with contextlib.suppress(psycopg.Error):
        connection.rollback()
    pool.putconn(connection)


async def _copied(
    threads: Executor, connection: psycopg.Connection[Any], audience: Audience, neutralise: bool
) -> AsyncIterator[bytes]:
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
                connection, audience.account_id, audience.audience_id, neutralise, put
            )
        except BaseException as exc:  # handed to the reading side
            put(exc)
        else:
            put(None)

    producer = loop.run_in_executor(threads, produce)
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
