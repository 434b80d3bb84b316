"""All SQL about audience members: set-based statements, one per call, never one per member."""

from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from audiences.core.statements import json_array, json_elements, json_text


@dataclass(frozen=True)
class AddResult:
    added: int
    unknown: list[str]


# One statement resolves the ids, refuses the whole batch if any is unknown, inserts in
# contact_id order (a stable lock order) and keeps the audience's count and dates true. Each id
# is looked up by the whole key (lateral, the account taken from the row): as a join, or with
# the account as a constant, a plan made while the statistics believed the account nearly
# empty compared every id with every contact of the account.
_ADD = text(
    f"""
    WITH input AS (
        SELECT ext, min(ord) AS ord, CAST(:account_id AS bigint) AS account_id
        FROM {json_elements("ids")} WITH ORDINALITY AS t(ext, ord)
        GROUP BY ext
    ),
    resolved AS (
        SELECT input.ext, input.ord, c.contact_id
        FROM input
        LEFT JOIN LATERAL (
            SELECT c.contact_id FROM contacts c
            WHERE c.account_id = input.account_id AND c.external_id = input.ext OFFSET 0
        ) c ON true
    ),
    unknown AS (
        SELECT ext, ord FROM resolved WHERE contact_id IS NULL
    ),
    inserted AS (
        INSERT INTO audience_members (account_id, audience_id, contact_id)
        SELECT :account_id, :audience_id, contact_id FROM resolved
        WHERE contact_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM unknown) AND NOT :refuse
        ORDER BY contact_id
        ON CONFLICT DO NOTHING
        RETURNING 1
    ),
    counted AS (
        SELECT count(*) AS n FROM inserted
    ),
    touched AS (
        UPDATE audiences a
        SET member_count = a.member_count + counted.n,
            last_contact_added_at = CASE WHEN counted.n > 0 THEN now()
                                         ELSE a.last_contact_added_at END,
            last_sync_at = now()
        FROM counted
        WHERE a.account_id = :account_id AND a.audience_id = :audience_id
          AND NOT EXISTS (SELECT 1 FROM unknown) AND NOT :refuse
        RETURNING 1
    )
    SELECT (SELECT n FROM counted) AS added,
           (SELECT coalesce(array_agg(ext ORDER BY ord), '{{}}') FROM unknown) AS unknown,
           (SELECT count(*) FROM touched) AS touched
    """
)


async def add_members(
    session: AsyncSession,
    account_id: int,
    audience_id: int,
    external_ids: list[str],
    *,
    refuse: bool = False,
) -> AddResult:
    """Adds the contacts with these ids, all or none: if any id is unknown (or `refuse` is
    set) nothing changes, and the unknown ids are answered."""
    params = {
        "ids": json_text(external_ids),
        "account_id": account_id,
        "audience_id": audience_id,
        "refuse": refuse,
    }
    row = (await session.execute(_ADD, params)).one()
    return AddResult(added=int(row.added), unknown=list(row.unknown))


# Members are deleted by their whole primary key: as a join, a plan made on stale statistics
# (a freshly filled audience believed empty) compared every id with every member.
_REMOVE = text(
    f"""
    WITH removed AS (
        DELETE FROM audience_members m
        WHERE m.account_id = :account_id AND m.audience_id = :audience_id
          AND m.contact_id = ANY(ARRAY(
              SELECT c.contact_id FROM contacts c
              WHERE c.account_id = :account_id
                AND c.external_id = ANY({json_array("ids", "text")})))
        RETURNING 1
    ),
    counted AS (
        SELECT count(*) AS n FROM removed
    )
    UPDATE audiences a
    SET member_count = a.member_count - counted.n,
        last_contact_removed_at = CASE WHEN counted.n > 0 THEN now()
                                       ELSE a.last_contact_removed_at END,
        last_sync_at = now()
    FROM counted
    WHERE a.account_id = :account_id AND a.audience_id = :audience_id
    RETURNING counted.n
    """
)


async def remove_members(
    session: AsyncSession, account_id: int, audience_id: int, external_ids: list[str]
) -> int:
    """Removes the contacts with these ids; unknown ids and non-members are ignored."""
    result = await session.execute(
        _REMOVE,
        {
            "ids": json_text(external_ids),
            "account_id": account_id,
            "audience_id": audience_id,
        },
    )
    return int(result.scalar_one())


async def remove_all_members(session: AsyncSession, account_id: int, audience_id: int) -> int:
    """Empties the audience."""
    result = await session.execute(
        text(
            "DELETE FROM audience_members"
            " WHERE account_id = :account_id AND audience_id = :audience_id"
        ),
        {"account_id": account_id, "audience_id": audience_id},
    )
    removed = int(result.rowcount)  # type: ignore[attr-defined]
    await session.execute(
        text(
            """
            UPDATE audiences
            SET member_count = 0,
                last_contact_removed_at = CASE WHEN :removed > 0 THEN now()
                                               ELSE last_contact_removed_at END,
                last_sync_at = now()
            WHERE account_id = :account_id AND audience_id = :audience_id
            """
        ),
        {"removed": removed, "account_id": account_id, "audience_id": audience_id},
    )
    return removed
