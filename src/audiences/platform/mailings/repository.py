"""All SQL about mailings and who they reach."""

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from audiences.contacts.repository import REACHABLE
from audiences.core.plans import without_nested_loops
from audiences.platform.mailings.models import Mailing

BLOCKING_STATUSES = ("scheduled", "sending")


async def insert_mailing(session: AsyncSession, values: dict[str, Any]) -> Mailing:
    mailing = Mailing(**values)
    session.add(mailing)
    await session.flush()
    return mailing


async def get_mailing(
    session: AsyncSession, account_id: int, encrypted_id: str, *, lock: bool = False
) -> Mailing | None:
    query = select(Mailing).where(
        Mailing.account_id == account_id, Mailing.encrypted_id == encrypted_id
    )
    if lock:
        query = query.with_for_update()
    return await session.scalar(query)


async def delete_mailing(session: AsyncSession, mailing: Mailing) -> None:
    await session.delete(mailing)
    await session.flush()


async def blocking_mailings(
    session: AsyncSession, account_id: int, audience_id: int
) -> Sequence[Mailing]:
    """Mailings that may still reach the audience: scheduled or sending."""
    query = (
        select(Mailing)
        .where(
            Mailing.account_id == account_id,
            Mailing.audience_id == audience_id,
            Mailing.status.in_(BLOCKING_STATUSES),
        )
        .order_by(Mailing.mailing_id)
    )
    return (await session.scalars(query)).all()


async def detach_finished(session: AsyncSession, account_id: int, audience_id: int) -> None:
    """Lets go of the audience in mailings that no longer need it (drafts, sent, cancelled),
    before it is deleted. A mailing scheduled meanwhile keeps it, and the delete is refused."""
    await session.execute(
        update(Mailing)
        .where(
            Mailing.account_id == account_id,
            Mailing.audience_id == audience_id,
            Mailing.status.not_in(BLOCKING_STATUSES),
        )
        .values(audience_id=None)
    )


# A page walks the members' index and looks each contact up by its primary key (lateral: a join
# planned on stale statistics rescanned the account's contacts for every member); the counts and
# the deliveries read whole audiences, on hash joins (core/plans.py).
_RECIPIENTS = text(
    f"""
    SELECT m.contact_id, c.external_id, c.encrypted_id
    FROM audience_members m
    CROSS JOIN LATERAL (
        SELECT c.external_id, c.encrypted_id FROM contacts c
        WHERE c.account_id = m.account_id AND c.contact_id = m.contact_id AND {REACHABLE}
        LIMIT 1
    ) c
    WHERE m.account_id = :account_id AND m.audience_id = :audience_id
      AND m.contact_id > :after
    ORDER BY m.contact_id
    LIMIT :limit
    """
)

_COUNT = text(
    f"""
    SELECT count(*)
    FROM audience_members m
    JOIN contacts c ON c.account_id = m.account_id AND c.contact_id = m.contact_id
    WHERE m.account_id = :account_id AND m.audience_id = :audience_id AND {REACHABLE}
    """
)


async def recipients(
    session: AsyncSession, mailing: Mailing, after: int, limit: int
) -> Sequence[tuple[int, str, str]]:
    """A page of the members the mailing reaches, in contact order after the cursor."""
    rows = await session.execute(
        _RECIPIENTS,
        {
            "account_id": mailing.account_id,
            "audience_id": mailing.audience_id,
            "channel": mailing.type,
            "bit": mailing.permission_bit,
            "after": after,
            "limit": limit,
        },
    )
    return [(r[0], r[1], r[2]) for r in rows]


async def count_recipients(session: AsyncSession, mailing: Mailing) -> int:
    async with without_nested_loops(session):
        result = await session.scalar(
            _COUNT,
            {
                "account_id": mailing.account_id,
                "audience_id": mailing.audience_id,
                "channel": mailing.type,
                "bit": mailing.permission_bit,
            },
        )
    return int(result or 0)


# Who a mailing reached, recorded once when it completes: contacts' mailing histories read it.
_DELIVER = text(
    f"""
    WITH delivered AS (
        INSERT INTO mailing_deliveries (account_id, mailing_id, contact_id, sent_at)
        SELECT m.account_id, :mailing_id, m.contact_id, now()
        FROM audience_members m
        JOIN contacts c ON c.account_id = m.account_id AND c.contact_id = m.contact_id
        WHERE m.account_id = :account_id AND m.audience_id = :audience_id AND {REACHABLE}
        ORDER BY m.contact_id
        ON CONFLICT DO NOTHING
        RETURNING 1
    )
    SELECT count(*) FROM delivered
    """
)


async def record_deliveries(session: AsyncSession, mailing: Mailing) -> int:
    """Records the members the mailing reaches as its recipients; answers how many."""
    async with without_nested_loops(session):
        result = await session.scalar(
            _DELIVER,
            {
                "account_id": mailing.account_id,
                "mailing_id": mailing.mailing_id,
                "audience_id": mailing.audience_id,
                "channel": mailing.type,
                "bit": mailing.permission_bit,
            },
        )
    return int(result or 0)


async def list_mailings(session: AsyncSession, account_id: int) -> Sequence[Mailing]:
    query = (
        select(Mailing).where(Mailing.account_id == account_id).order_by(Mailing.mailing_id.desc())
    )
    return (await session.scalars(query)).all()
