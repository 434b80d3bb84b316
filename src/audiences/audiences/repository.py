"""All SQL about audiences themselves (members are in memberships/)."""

from collections.abc import Sequence
from typing import Literal

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from audiences.audiences.models import Audience
from audiences.core.validation import name_key

Lock = Literal["write", "delete", "reference"] | None


async def get_audience(
    session: AsyncSession, account_id: int, external_id: str, *, lock: Lock = None
) -> Audience | None:
    """The audience, its row locked as the caller needs: "write" (membership writers queue up;
    rows that merely reference it are not blocked), "delete" (nothing may start referencing
    it), "reference" (it cannot be deleted until this transaction ends)."""
    query = select(Audience).where(
        Audience.account_id == account_id, Audience.external_id == external_id
    )
    if lock is not None:
        # A locked read must see the row as it is now, not as this session first loaded it.
        query = query.execution_options(populate_existing=True)
    if lock == "write":
        query = query.with_for_update(key_share=True)
    elif lock == "delete":
        query = query.with_for_update()
    elif lock == "reference":
        query = query.with_for_update(read=True, key_share=True)
    return await session.scalar(query)


async def get_audiences_by_ids(
    session: AsyncSession, account_id: int, audience_ids: list[int]
) -> dict[int, Audience]:
    if not audience_ids:
        return {}
    query = select(Audience).where(
        Audience.account_id == account_id, Audience.audience_id.in_(audience_ids)
    )
    return {a.audience_id: a for a in (await session.scalars(query)).all()}


async def lock_account(session: AsyncSession, account_id: int) -> None:
    """Serializes audience creation within one account (the per-account limit is exact)."""
    await session.execute(
        text("SELECT 1 FROM accounts WHERE account_id = :id FOR NO KEY UPDATE"), {"id": account_id}
    )


async def count_audiences(session: AsyncSession, account_id: int) -> int:
    query = select(func.count()).select_from(Audience).where(Audience.account_id == account_id)
    return int(await session.scalar(query) or 0)


async def external_id_taken(session: AsyncSession, account_id: int, external_id: str) -> bool:
    query = select(Audience.audience_id).where(
        Audience.account_id == account_id, Audience.external_id == external_id
    )
    return (await session.scalar(query)) is not None


async def name_taken(
    session: AsyncSession, account_id: int, name: str, *, except_audience_id: int | None = None
) -> bool:
    query = select(Audience.audience_id).where(
        Audience.account_id == account_id, Audience.name_key == name_key(name)
    )
    if except_audience_id is not None:
        query = query.where(Audience.audience_id != except_audience_id)
    return (await session.scalar(query)) is not None


async def insert_audience(
    session: AsyncSession, account_id: int, external_id: str, name: str, description: str | None
) -> Audience:
    audience = Audience(
        account_id=account_id, external_id=external_id, name=name, description=description
    )
    session.add(audience)
    await session.flush()
    return audience


async def delete_audience(session: AsyncSession, audience: Audience) -> None:
    """Deletes the audience and its memberships (which have no cascading foreign key)."""
    await session.execute(
        text("DELETE FROM audience_members WHERE account_id = :a AND audience_id = :id"),
        {"a": audience.account_id, "id": audience.audience_id},
    )
    await session.delete(audience)
    await session.flush()


async def list_audiences(
    session: AsyncSession,
    account_id: int,
    after: int,
    limit: int,
    name: str | None,
    folder_id: int | None = None,
) -> Sequence[Audience]:
    """A keyset page in creation order; `name` matches part of the name, any case."""
    query = select(Audience).where(Audience.account_id == account_id, Audience.audience_id > after)
    if folder_id is not None:
        query = query.where(Audience.folder_id == folder_id)
    if name:
        query = query.where(Audience.name.icontains(name, autoescape=True))
    return (await session.scalars(query.order_by(Audience.audience_id).limit(limit))).all()
