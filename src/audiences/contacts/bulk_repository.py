"""All SQL of the bulk contact import: rows COPYed into a staging table, one upsert."""

from collections.abc import Sequence
from typing import Any

import psycopg
from psycopg import sql
from sqlalchemy import text
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncSession

from audiences.core.plans import analyze, without_nested_loops

STAGING = "upload_contacts"
# The last line of each externalId with the contact it names, indexed and analyzed. The
# contacts table's statistics may be stale (autovacuum is off, a big import just filled it), so
# it is only read by key, and the import's joins run on hash or merge joins (core/plans.py). As a
# nested loop, a stale estimate of a few hundred contacts compared every staged row with every
# contact: 300k new contacts into an account of 70k took many minutes.
LATEST = "upload_latest"

_CREATE = f"""
    CREATE TEMP TABLE {STAGING} (
        line bigint, external_id text, properties jsonb, removed text[], test_group boolean,
        email_channel boolean, sms_channel boolean
    ) ON COMMIT DROP
"""
COLUMNS = (
    "line",
    "external_id",
    "properties",
    "removed",
    "test_group",
    "email_channel",
    "sms_channel",
)


async def create_staging(connection: psycopg.AsyncConnection[Any]) -> None:
    await connection.execute(_CREATE)


SETTLE = text(
    f"""
    CREATE TEMP TABLE {LATEST} ON COMMIT DROP AS
    SELECT s.*, c.contact_id, coalesce(c.anonymized, false) AS anonymized
    FROM (
        SELECT DISTINCT ON (external_id) *, CAST(:account_id AS bigint) AS account_id
        FROM {STAGING} ORDER BY external_id, line DESC
    ) s
    LEFT JOIN LATERAL (
        SELECT c.contact_id, c.anonymized_at IS NOT NULL AS anonymized
        FROM contacts c
        WHERE c.account_id = s.account_id AND c.external_id = s.external_id
        OFFSET 0
    ) c ON true
    """
)


async def settle_staging(session: AsyncSession, account_id: int) -> None:
    """After the COPY: the last line of each externalId into `upload_latest` (unique index),
    each with the contact it names (looked up by its key) and whether that one is anonymized;
    both tables analyzed."""
    await session.execute(SETTLE, {"account_id": account_id})
    await session.execute(text(f"CREATE UNIQUE INDEX ON {LATEST} (external_id)"))
    await analyze(session, LATEST, STAGING)


def copy_statement() -> sql.Composed:
    return sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(STAGING), sql.SQL(", ").join(sql.Identifier(c) for c in COLUMNS)
    )


# Given properties are merged over the stored ones (keys given as null removed); sets (the
# only values stored as JSON arrays: permissions and any set the account defined) merge bit by
# bit, the given entry winning. With :purge, what was not given goes.
_MERGED = """
    CASE WHEN :purge THEN s.properties
    ELSE jsonb_strip_nulls(
        (c.properties - coalesce(s.removed, '{}')) || s.properties
        || coalesce((
            SELECT jsonb_object_agg(k, (
                SELECT jsonb_agg(e ORDER BY (e ->> 'bit')::bigint)
                FROM (
                    SELECT DISTINCT ON ((e ->> 'bit')::bigint) e
                    FROM (
                        SELECT e, 0 AS rank FROM jsonb_array_elements(s.properties -> k) e
                        UNION ALL
                        SELECT e, 1 FROM jsonb_array_elements(c.properties -> k) e
                    ) both_sides
                    ORDER BY (e ->> 'bit')::bigint, rank
                ) merged))
            FROM jsonb_object_keys(s.properties) k
            WHERE jsonb_typeof(s.properties -> k) = 'array'
              AND jsonb_typeof(c.properties -> k) = 'array'), '{}'::jsonb))
    END
"""

# One statement: the last line of each externalId wins; new contacts are inserted, existing
# ones merged; anonymized contacts are left alone (and reported by the caller). The contacts
# to update are read by their primary keys (found by settle_staging, one lookup a staged id),
# so an import costs its own size whatever the account's: a join would read the account's
# every contact, or, planned on stale statistics as a nested loop, compare each with every
# staged row. The account is a subquery's value, unknown to the planner: as a constant, statistics
# that believe the account nearly empty made it read the account's every contact instead.
_UPSERT = text(
    f"""
    WITH updated AS (
        UPDATE contacts c
        SET properties = {_MERGED},
            email = CASE WHEN :purge OR s.properties ? 'email' THEN s.properties ->> 'email'
                         WHEN 'email' = ANY(s.removed) THEN NULL
                         ELSE c.email END,
            test_group = coalesce(s.test_group, c.test_group),
            email_channel = coalesce(s.email_channel, c.email_channel),
            sms_channel = coalesce(s.sms_channel, c.sms_channel),
            changed_at = now()
        FROM {LATEST} s
        WHERE c.account_id = (SELECT CAST(:account_id AS bigint))
          AND c.contact_id = ANY(ARRAY(
              SELECT contact_id FROM {LATEST} WHERE contact_id IS NOT NULL AND NOT anonymized))
          AND c.contact_id = s.contact_id AND c.anonymized_at IS NULL
        RETURNING c.external_id
    ),
    inserted AS (
        INSERT INTO contacts (
            account_id, external_id, encrypted_id, email, properties, test_group,
            email_channel, sms_channel
        )
        SELECT :account_id, s.external_id, replace(gen_random_uuid()::text, '-', ''),
               s.properties ->> 'email', s.properties, coalesce(s.test_group, false),
               coalesce(s.email_channel, true),
               coalesce(s.sms_channel, s.properties ? 'mobileNumber')
        FROM {LATEST} s
        WHERE s.contact_id IS NULL
        ORDER BY s.external_id COLLATE "C"
        ON CONFLICT (account_id, external_id) DO NOTHING
        RETURNING external_id
    )
    SELECT (SELECT count(*) FROM {LATEST}) AS distinct_ids,
           (SELECT count(*) FROM inserted) AS created,
           (SELECT count(*) FROM updated) AS updated
    """
)


# Every writer of several contacts locks them in externalId order, byte by byte (COLLATE "C",
# the order Python sorts `/contact/list` in): two writers that share contacts then wait for
# each other instead of deadlocking. `NO KEY UPDATE` is the lock the update itself takes, so
# member writes (whose foreign keys take KEY SHARE) are not blocked by it. The contacts are read
# by primary key, as the upsert reads them: an import of new contacts locks nothing and reads
# no contact (as a join, it read the account's every contact: seconds for a million).
_LOCK_EXISTING = text(
    f"""
    SELECT count(*) FROM (
        SELECT 1 FROM contacts c
        WHERE c.account_id = (SELECT CAST(:account_id AS bigint))
          AND c.contact_id = ANY(ARRAY(
              SELECT contact_id FROM {LATEST} WHERE contact_id IS NOT NULL))
        ORDER BY c.external_id COLLATE "C"
        FOR NO KEY UPDATE OF c
    ) locked
    """
)


async def lock_existing(session: AsyncSession, account_id: int) -> None:
    """Locks the staged contacts that exist, in externalId order, before they are written."""
    await session.execute(_LOCK_EXISTING, {"account_id": account_id})


async def upsert_contacts(session: AsyncSession, account_id: int, purge: bool) -> Row[Any]:
    params = {"account_id": account_id, "purge": purge}
    async with without_nested_loops(session):
        return (await session.execute(_UPSERT, params)).one()


# The staged lines that name an anonymized contact (which an import does not change), the first
# :limit of them, each with how many there are in all.
_ANONYMIZED_LINES = text(
    f"""
    SELECT s.line, s.external_id, count(*) OVER () AS total
    FROM {STAGING} s
    JOIN {LATEST} l ON l.external_id = s.external_id
    WHERE l.anonymized
    ORDER BY s.line LIMIT :limit
    """
)


async def anonymized_lines(session: AsyncSession, limit: int) -> tuple[int, Sequence[Row[Any]]]:
    """How many staged lines name anonymized contacts, and the first `limit` of them."""
    async with without_nested_loops(session):
        rows = (await session.execute(_ANONYMIZED_LINES, {"limit": max(limit, 1)})).all()
    return (int(rows[0].total) if rows else 0), rows[: max(limit, 0)]


async def drop_staging(session: AsyncSession) -> None:
    await session.execute(text(f"DROP TABLE IF EXISTS {LATEST}"))
    await session.execute(text(f"DROP TABLE IF EXISTS {STAGING}"))
