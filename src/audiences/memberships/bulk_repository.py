"""All SQL of the bulk member calls: staged uploads, atomic replace, listing and export.

Uploaded ids are first COPYed into the temporary table `upload_ids` (staging.py) on the
request's connection, and analyzed; every statement here is set-based over it, on hash or merge
joins only (core/plans.py): the contacts and members tables' statistics may be stale."""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from sqlalchemy import text
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncSession

from audiences.auth.repository import CredentialQuery
from audiences.core.plans import analyze, without_nested_loops
from audiences.core.validation import MAX_ID_LENGTH, contains_pattern
from audiences.memberships.staging import STAGING, StagedIds

SAMPLE_SIZE = 1000
EXPORT_CHUNK = 256 * 1024


# Counting on rows rather than distinct ids keeps the common case (every id known, no
# duplicates) free of any aggregation: only when the row counts disagree are the distinct ids
# counted.

_UNKNOWN = text(
    f"""
    SELECT count(DISTINCT u.ext) FROM {STAGING} u
    WHERE NOT EXISTS (
        SELECT 1 FROM contacts c WHERE c.account_id = :account_id AND c.external_id = u.ext)
    """
)

# Each id cut as validation.echoed cuts it: whole up to the longest an id can be.
_SAMPLE = text(
    f"""
    SELECT CASE WHEN length(ext) > {MAX_ID_LENGTH}
                THEN left(ext, {MAX_ID_LENGTH}) || '…' ELSE ext END
    FROM (
        SELECT u.ext, min(u.ctid) AS first_row FROM {STAGING} u
        WHERE NOT EXISTS (
            SELECT 1 FROM contacts c WHERE c.account_id = :account_id AND c.external_id = u.ext)
        GROUP BY u.ext
    ) unknown
    ORDER BY first_row
    LIMIT {SAMPLE_SIZE}
    """
)

_DISTINCT_KNOWN = text(
    f"""
    SELECT count(DISTINCT c.contact_id) FROM {STAGING} u
    JOIN contacts c ON c.account_id = :account_id AND c.external_id = u.ext
    """
)


async def unknown_ids(session: AsyncSession, account_id: int) -> tuple[int, list[str]]:
    """How many distinct uploaded ids name no contact, and the first of them in upload order
    (the staging table is filled by one COPY, so its physical order is the upload's)."""
    params = {"account_id": account_id}
    async with without_nested_loops(session):
        count = int((await session.execute(_UNKNOWN, params)).scalar_one())
        sample = list((await session.scalars(_SAMPLE, params)).all())
    return count, sample


async def distinct_known(session: AsyncSession, account_id: int) -> int:
    params = {"account_id": account_id}
    async with without_nested_loops(session):
        return int((await session.execute(_DISTINCT_KNOWN, params)).scalar_one())


# The known ids are inserted unless some line named no contact (and unknown ids are not to be
# skipped): the join's row count, compared with the lines received, decides in the same pass.
_IMPORT = text(
    f"""
    WITH joined AS MATERIALIZED (
        SELECT c.contact_id FROM {STAGING} u
        JOIN contacts c ON c.account_id = :account_id AND c.external_id = u.ext
    ),
    matched AS (
        SELECT count(*) AS n FROM joined
    ),
    inserted AS (
        INSERT INTO audience_members (account_id, audience_id, contact_id)
        SELECT :account_id, :audience_id, contact_id FROM joined
        WHERE :skip OR (SELECT n FROM matched) = :received
        ON CONFLICT DO NOTHING
        RETURNING 1
    )
    SELECT (SELECT n FROM matched) AS matched, (SELECT count(*) FROM inserted) AS added
    """
)


async def import_members(
    session: AsyncSession, account_id: int, audience_id: int, lines: int, *, skip_unknown: bool
) -> tuple[int, int]:
    """Adds the staged ids' contacts; answers (lines naming a contact, members added). With
    unknown lines and not `skip_unknown`, adds none."""
    params = {
        "account_id": account_id,
        "audience_id": audience_id,
        "skip": skip_unknown,
        "received": lines,
    }
    async with without_nested_loops(session):
        row = (await session.execute(_IMPORT, params)).one()
    return int(row.matched), int(row.added)


async def stage_replacement(session: AsyncSession, account_id: int, staged: StagedIds) -> int:
    """The new member set into `replace_ids` (one row per line naming a contact, duplicates
    kept), analyzed and dropped with the staged upload; answers its row count."""
    staged.tables.append("replace_ids")
    async with without_nested_loops(session):
        result = await session.execute(
            text(
                f"""
                CREATE TEMP TABLE replace_ids ON COMMIT DROP AS
                SELECT c.contact_id FROM {STAGING} u
                JOIN contacts c ON c.account_id = :account_id AND c.external_id = u.ext
                """
            ),
            {"account_id": account_id},
        )
    await analyze(session, "replace_ids")
    return int(result.rowcount)  # type: ignore[attr-defined]


_MEMBERS_TO_REMOVE = """
    FROM audience_members m
    WHERE m.account_id = :account_id AND m.audience_id = :audience_id
      AND NOT EXISTS (SELECT 1 FROM replace_ids r WHERE r.contact_id = m.contact_id)
"""
_CONTACTS_TO_ADD = """
    FROM replace_ids r
    WHERE NOT EXISTS (
        SELECT 1 FROM audience_members m
        WHERE m.account_id = :account_id AND m.audience_id = :audience_id
          AND m.contact_id = r.contact_id)
"""
_DIFF = text(
    f"""
    SELECT (SELECT count(DISTINCT r.contact_id) {_CONTACTS_TO_ADD}) AS added,
           (SELECT count(*) {_MEMBERS_TO_REMOVE}) AS removed
    """
)
_REMOVE_OTHERS = text(f"DELETE {_MEMBERS_TO_REMOVE}")
# DISTINCT over the new contacts only (an id may come twice), instead of ON CONFLICT on every
# row: nobody else can insert members meanwhile, the audience's row being locked.
_ADD_NEW = text(
    f"""
    INSERT INTO audience_members (account_id, audience_id, contact_id)
    SELECT DISTINCT :account_id, :audience_id, r.contact_id {_CONTACTS_TO_ADD}
    """
)


async def diff_replacement(
    session: AsyncSession, account_id: int, audience_id: int
) -> tuple[int, int]:
    """(added, removed) that replacing the members by `replace_ids` would make."""
    params = {"account_id": account_id, "audience_id": audience_id}
    async with without_nested_loops(session):
        row = (await session.execute(_DIFF, params)).one()
    return int(row.added), int(row.removed)


async def apply_replacement(
    session: AsyncSession, account_id: int, audience_id: int
) -> tuple[int, int]:
    """Makes the members exactly `replace_ids` with two anti-joins; answers (added, removed)."""
    params = {"account_id": account_id, "audience_id": audience_id}
    async with without_nested_loops(session):
        removed = (await session.execute(_REMOVE_OTHERS, params)).rowcount  # type: ignore[attr-defined]
        added = (await session.execute(_ADD_NEW, params)).rowcount  # type: ignore[attr-defined]
    return int(added), int(removed)


async def record_changes(
    session: AsyncSession, account_id: int, audience_id: int, added: int, removed: int
) -> None:
    """Keeps the audience's member count and dates true after a bulk change."""
    await session.execute(
        text(
            """
            UPDATE audiences
            SET member_count = member_count + :added - :removed,
                last_contact_added_at = CASE WHEN :added > 0 THEN now()
                                             ELSE last_contact_added_at END,
                last_contact_removed_at = CASE WHEN :removed > 0 THEN now()
                                               ELSE last_contact_removed_at END,
                last_sync_at = now()
            WHERE account_id = :account_id AND audience_id = :audience_id
            """
        ),
        {"account_id": account_id, "audience_id": audience_id, "added": added, "removed": removed},
    )


# A page walks the members' index and looks each contact up by its primary key (a lateral
# lookup: a join planned on stale statistics rescanned the account's contacts for every member).
_PAGE = """
    SELECT m.contact_id, c.external_id, c.email, m.added_at
    FROM audience_members m
    CROSS JOIN LATERAL (
        SELECT c.external_id, c.email FROM contacts c
        WHERE c.account_id = m.account_id AND c.contact_id = m.contact_id LIMIT 1
    ) c
    WHERE m.account_id = :account_id AND m.audience_id = :audience_id AND m.contact_id > :after
"""


async def member_page(
    session: AsyncSession,
    account_id: int,
    audience_id: int,
    after: int,
    limit: int,
    added_since: datetime | None,
    search: str | None = None,
) -> Sequence[Row[Any]]:
    """A keyset page of members in contact order (stable while members come and go);
    `search` keeps those whose id or e-mail address contains it, in any case."""
    params: dict[str, Any] = {
        "account_id": account_id,
        "audience_id": audience_id,
        "after": after,
        "limit": limit,
    }
    query = _PAGE
    if added_since:
        query += " AND m.added_at >= :since"
        params["since"] = added_since
    if search:
        query += " AND (c.external_id ILIKE :pattern OR c.email ILIKE :pattern)"
        params["pattern"] = contains_pattern(search)
    query += " ORDER BY m.contact_id LIMIT :limit"
    return (await session.execute(text(query), params)).all()


# The membership check's one statement, run in the credential look-up's round trip
# (auth/repository.py): `c` is the caller's account.
# The member is looked up by its whole primary key in a subquery: as a join, a plan made while
# the table's statistics were stale (a freshly filled audience) scanned every member.
MEMBERSHIP_CHECK = CredentialQuery.build(
    """
    SELECT a.audience_id, ct.external_id, ct.email,
           (SELECT m.added_at FROM audience_members m
            WHERE m.account_id = a.account_id AND m.audience_id = a.audience_id
              AND m.contact_id = ct.contact_id) AS added_at
    FROM audiences a
    LEFT JOIN contacts ct ON ct.account_id = a.account_id AND ct.external_id = :contact
    WHERE a.account_id = c.account_id AND a.external_id = :audience
    """
)


@dataclass(frozen=True)
class Membership:
    """What the check found: the audience, and the contact with the time it was added (None
    for a contact that is not a member, or unknown)."""

    audience_id: int
    external_id: str | None
    email: str | None
    added_at: datetime | None


def membership_params(audience_external_id: str, contact_external_id: str) -> dict[str, Any]:
    return {"audience": audience_external_id, "contact": contact_external_id}


def membership_of(row: Any) -> Membership | None:
    """The check's row as the credential look-up answered it (None: no such audience)."""
    if row is None or row.audience_id is None:
        return None
    return Membership(row.audience_id, row.external_id, row.email, row.added_at)


# Streamed straight from COPY: the server never holds more than one chunk. In contact order
# (a merge join of the two primary keys' orders, without nested loops: core/plans.py).
_EXPORT = """
    COPY (
        SELECT {external_id} AS "externalId", {email} AS email,
               to_char(m.added_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS "addedAt"
        FROM audience_members m
        JOIN contacts c ON c.account_id = m.account_id AND c.contact_id = m.contact_id
        WHERE m.account_id = %(account_id)s AND m.audience_id = %(audience_id)s
        ORDER BY m.contact_id
    ) TO STDOUT WITH (FORMAT csv, HEADER)
"""

# A cell a spreadsheet would read as a formula (OWASP "CSV injection": = + - @ tab CR first)
# gets a leading single quote; done in the query, so the export stays one COPY with no row in
# Python. ascii() of the first character costs ~5% of a 1M-row COPY (left(x, 1) IN (...) ~35%).
_NEUTRALISED = "CASE WHEN ascii({0}) IN (61, 43, 45, 64, 9, 13) THEN '''' || {0} ELSE {0} END"


def export_query(neutralise: bool) -> str:
    """The export's COPY; with `neutralise`, a cell that would start a formula starts with `'`."""
    if not neutralise:
        return _EXPORT.format(external_id="c.external_id", email="c.email")
    return _EXPORT.format(
        external_id=_NEUTRALISED.format("c.external_id"), email=_NEUTRALISED.format("c.email")
    )


# The export's transaction: its statements bounded in time, its join never a nested loop
# (core/plans.py). Transaction-local, as everything a pooled connection is given.
EXPORT_SETTINGS = (
    "SELECT set_config('statement_timeout', %(ms)s, true),"
    " set_config('enable_nestloop', 'off', true)"
)
_EXPORT_SLOTS = 0x45  # the advisory-lock namespace of export slots


def begin_export(
    connection: psycopg.Connection[Any], account_id: int, slots: int, statement_timeout_ms: int
) -> bool:
    """Starts the export's transaction: takes one of the account's `slots` (transaction-scoped
    advisory locks, shared by every worker) and bounds its statements' time; False when every
    slot is taken. Its join is a hash or merge join whatever the statistics (core/plans.py)."""
    with connection.cursor() as cursor:
        cursor.execute(EXPORT_SETTINGS, {"ms": str(int(statement_timeout_ms))})
        cursor.execute(
            """
            SELECT slot FROM generate_series(0, %(slots)s - 1) AS slot
            WHERE pg_try_advisory_xact_lock(%(base)s + %(owner)s * 256 + slot)
            LIMIT 1
            """,
            {"slots": slots, "base": _EXPORT_SLOTS << 56, "owner": account_id},
        )
        return cursor.fetchone() is not None


def export_members(
    connection: psycopg.Connection[Any],
    account_id: int,
    audience_id: int,
    neutralise: bool,
    put: Callable[[bytes], bool],
) -> None:
    """Streams the CSV to `put` in chunks of about 256 kB (called in a worker thread:
    PostgreSQL sends a message per row, which a plain loop forwards several times faster than
    an async one). Stops when `put` answers False."""
    params = {"account_id": account_id, "audience_id": audience_id}
    with connection.cursor() as cursor, cursor.copy(export_query(neutralise), params) as copy:
        buffer = bytearray()
        for row in copy:
            buffer += row
            if len(buffer) >= EXPORT_CHUNK:
                if not put(bytes(buffer)):
                    return
                buffer.clear()
        if buffer:
            put(bytes(buffer))
