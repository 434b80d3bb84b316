"""All SQL of the bulk member calls: staged uploads, atomic replace, listing and export.

Uploaded ids are first COPYed into the temporary table `upload_ids` (core/uploads.py) on the
request's connection; every statement here is set-based over it."""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from sqlalchemy import text
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncSession

STAGING = "upload_ids"
SAMPLE_SIZE = 1000
EXPORT_CHUNK = 256 * 1024


@dataclass(frozen=True)
class ImportResult:
    received: int
    distinct: int
    unknown: int
    added: int


# Resolves the distinct ids once, then inserts the known ones unless unknown ids refuse the
# whole upload (:skip false). The counts come from the same pass.
_IMPORT = text(
    f"""
    WITH received AS (
        SELECT count(*) AS n FROM {STAGING} WHERE ext <> ''
    ),
    resolved AS MATERIALIZED (
        SELECT u.ext, c.contact_id
        FROM (SELECT DISTINCT ext FROM {STAGING} WHERE ext <> '') u
        LEFT JOIN contacts c ON c.account_id = :account_id AND c.external_id = u.ext
    ),
    unknown AS (
        SELECT count(*) AS n FROM resolved WHERE contact_id IS NULL
    ),
    inserted AS (
        INSERT INTO audience_members (account_id, audience_id, contact_id)
        SELECT :account_id, :audience_id, contact_id FROM resolved
        WHERE contact_id IS NOT NULL AND (:skip OR (SELECT n FROM unknown) = 0)
        ON CONFLICT DO NOTHING
        RETURNING 1
    )
    SELECT (SELECT n FROM received) AS received,
           (SELECT count(*) FROM resolved) AS distinct_ids,
           (SELECT n FROM unknown) AS unknown,
           (SELECT count(*) FROM inserted) AS added
    """
)


async def import_members(
    session: AsyncSession, account_id: int, audience_id: int, *, skip_unknown: bool
) -> ImportResult:
    """Adds the staged ids' contacts; with unknown ids and not `skip_unknown`, adds none."""
    row = (
        await session.execute(
            _IMPORT, {"account_id": account_id, "audience_id": audience_id, "skip": skip_unknown}
        )
    ).one()
    return ImportResult(int(row.received), int(row.distinct_ids), int(row.unknown), int(row.added))


async def unknown_sample(session: AsyncSession, account_id: int) -> list[str]:
    """The first staged ids (in upload order) that name no contact."""
    rows = await session.scalars(
        text(
            f"""
            SELECT ext FROM (
                SELECT u.ext, min(u.line) AS line FROM {STAGING} u
                WHERE u.ext <> '' AND NOT EXISTS (
                    SELECT 1 FROM contacts c
                    WHERE c.account_id = :account_id AND c.external_id = u.ext)
                GROUP BY u.ext
            ) unknown
            ORDER BY line
            LIMIT {SAMPLE_SIZE}
            """
        ),
        {"account_id": account_id},
    )
    return list(rows.all())


@dataclass(frozen=True)
class ReplaceResult:
    target: int
    unknown: int
    added: int
    removed: int


async def stage_replacement(session: AsyncSession, account_id: int) -> tuple[int, int]:
    """Resolves the staged ids into `replace_ids` (the new member set: rows with a contact_id);
    answers its size and the number of unknown ids."""
    await session.execute(
        text(
            f"""
            CREATE TEMP TABLE replace_ids ON COMMIT DROP AS
            SELECT u.ext, c.contact_id
            FROM (SELECT DISTINCT ext FROM {STAGING} WHERE ext <> '') u
            LEFT JOIN contacts c ON c.account_id = :account_id AND c.external_id = u.ext
            """
        ),
        {"account_id": account_id},
    )
    row = (
        await session.execute(
            text(
                "SELECT count(contact_id) AS target, count(*) - count(contact_id) AS unknown"
                " FROM replace_ids"
            )
        )
    ).one()
    await session.execute(text("ANALYZE replace_ids"))
    return int(row.target), int(row.unknown)


_DIFF = text(
    """
    SELECT
      (SELECT count(*) FROM replace_ids r WHERE r.contact_id IS NOT NULL AND NOT EXISTS (
           SELECT 1 FROM audience_members m
           WHERE m.account_id = :account_id AND m.audience_id = :audience_id
             AND m.contact_id = r.contact_id)) AS added,
      (SELECT count(*) FROM audience_members m
       WHERE m.account_id = :account_id AND m.audience_id = :audience_id
         AND NOT EXISTS (SELECT 1 FROM replace_ids r WHERE r.contact_id = m.contact_id)) AS removed
    """
)

_REMOVE_OTHERS = text(
    """
    DELETE FROM audience_members m
    WHERE m.account_id = :account_id AND m.audience_id = :audience_id
      AND NOT EXISTS (SELECT 1 FROM replace_ids r WHERE r.contact_id = m.contact_id)
    """
)

_ADD_NEW = text(
    """
    INSERT INTO audience_members (account_id, audience_id, contact_id)
    SELECT :account_id, :audience_id, r.contact_id FROM replace_ids r
    WHERE r.contact_id IS NOT NULL AND NOT EXISTS (
        SELECT 1 FROM audience_members m
        WHERE m.account_id = :account_id AND m.audience_id = :audience_id
          AND m.contact_id = r.contact_id)
    ON CONFLICT DO NOTHING
    """
)


async def diff_replacement(
    session: AsyncSession, account_id: int, audience_id: int
) -> tuple[int, int]:
    """(added, removed) that replacing the members by `replace_ids` would make."""
    params = {"account_id": account_id, "audience_id": audience_id}
    row = (await session.execute(_DIFF, params)).one()
    return int(row.added), int(row.removed)


async def apply_replacement(
    session: AsyncSession, account_id: int, audience_id: int
) -> tuple[int, int]:
    """Makes the members exactly `replace_ids` with two anti-joins; answers (added, removed)."""
    params = {"account_id": account_id, "audience_id": audience_id}
    removed = (await session.execute(_REMOVE_OTHERS, params)).rowcount  # type: ignore[attr-defined]
    added = (await session.execute(_ADD_NEW, params)).rowcount  # type: ignore[attr-defined]
    return int(added), int(removed)


async def record_changes(
    session: AsyncSession,
    account_id: int,
    audience_id: int,
    added: int,
    removed: int,
    member_count: int | None = None,
) -> None:
    """Keeps the audience's member count and dates true after a bulk change."""
    await session.execute(
        text(
            """
            UPDATE audiences
            SET member_count = coalesce(:member_count, member_count + :added - :removed),
                last_contact_added_at = CASE WHEN :added > 0 THEN now()
                                             ELSE last_contact_added_at END,
                last_contact_removed_at = CASE WHEN :removed > 0 THEN now()
                                               ELSE last_contact_removed_at END,
                last_sync_at = now()
            WHERE account_id = :account_id AND audience_id = :audience_id
            """
        ),
        {
            "account_id": account_id,
            "audience_id": audience_id,
            "added": added,
            "removed": removed,
            "member_count": member_count,
        },
    )


_PAGE = """
    SELECT m.contact_id, c.external_id, c.email, m.added_at
    FROM audience_members m
    JOIN contacts c ON c.account_id = m.account_id AND c.contact_id = m.contact_id
    WHERE m.account_id = :account_id AND m.audience_id = :audience_id AND m.contact_id > :after
"""


async def member_page(
    session: AsyncSession,
    account_id: int,
    audience_id: int,
    after: int,
    limit: int,
    added_since: datetime | None,
) -> Sequence[Row[Any]]:
    """A keyset page of members in contact order (stable while members come and go)."""
    query = (
        _PAGE
        + (" AND m.added_at >= :since" if added_since else "")
        + " ORDER BY m.contact_id LIMIT :limit"
    )
    params: dict[str, Any] = {
        "account_id": account_id,
        "audience_id": audience_id,
        "after": after,
        "limit": limit,
    }
    if added_since:
        params["since"] = added_since
    return (await session.execute(text(query), params)).all()


_MEMBERSHIP = text(
    """
    SELECT a.audience_id, c.external_id, c.email, m.added_at
    FROM audiences a
    LEFT JOIN contacts c ON c.account_id = a.account_id AND c.external_id = :contact
    LEFT JOIN audience_members m
           ON m.account_id = a.account_id AND m.audience_id = a.audience_id
          AND m.contact_id = c.contact_id
    WHERE a.account_id = :account_id AND a.external_id = :audience
    """
)


async def membership(
    session: AsyncSession, account_id: int, audience_external_id: str, contact_external_id: str
) -> Row[Any] | None:
    """One statement for the hot path: None when the audience is unknown, else a row whose
    added_at is None when the contact is not a member."""
    params = {
        "account_id": account_id,
        "audience": audience_external_id,
        "contact": contact_external_id,
    }
    return (await session.execute(_MEMBERSHIP, params)).first()


# Streamed straight from COPY: the server never holds more than one chunk.
EXPORT = """
    COPY (
        SELECT c.external_id AS "externalId", c.email,
               to_char(m.added_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS "addedAt"
        FROM audience_members m
        JOIN contacts c ON c.account_id = m.account_id AND c.contact_id = m.contact_id
        WHERE m.account_id = {account_id} AND m.audience_id = {audience_id}
    ) TO STDOUT WITH (FORMAT csv, HEADER)
"""


def export_members(
    database_url: str, account_id: int, audience_id: int, put: Callable[[bytes], bool]
) -> None:
    """Streams the CSV to `put` in chunks of about 256 kB, on a synchronous connection of its
    own (called in a worker thread: PostgreSQL sends a message per row, which a plain loop
    forwards several times faster than an async one). Stops when `put` answers False."""
    statement = EXPORT.format(account_id=int(account_id), audience_id=int(audience_id))
    with (
        psycopg.connect(database_url) as connection,
        connection.cursor() as cursor,
        cursor.copy(statement) as copy,
    ):
        buffer = bytearray()
        for row in copy:
            buffer += row
            if len(buffer) >= EXPORT_CHUNK:
                if not put(bytes(buffer)):
                    return
                buffer.clear()
        if buffer:
            put(bytes(buffer))
