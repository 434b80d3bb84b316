"""All SQL about accounts and their keys."""

from collections.abc import Sequence

from sqlalchemy import func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from audiences.accounts.models import Account, ApiKey


async def insert_account(session: AsyncSession, name: str, products: list[str]) -> Account:
    account = Account(name=name, products=products)
    session.add(account)
    await session.flush()
    return account


async def get_account(session: AsyncSession, account_id: int) -> Account | None:
    return await session.get(Account, account_id)


async def list_accounts(session: AsyncSession) -> Sequence[tuple[Account, int]]:
    active_keys = (
        select(func.count())
        .where(ApiKey.account_id == Account.account_id, ApiKey.revoked_at.is_(None))
        .scalar_subquery()
    )
    rows = await session.execute(select(Account, active_keys).order_by(Account.account_id))
    return [(account, count) for account, count in rows]


async def list_keys(
    session: AsyncSession, account_id: int | None
) -> Sequence[tuple[ApiKey, Account]]:
    """Every key (of one account, or of all), with its account, oldest first."""
    query = select(ApiKey, Account).join(Account, Account.account_id == ApiKey.account_id)
    if account_id is not None:
        query = query.where(ApiKey.account_id == account_id)
    rows = await session.execute(query.order_by(ApiKey.account_id, ApiKey.key_id))
    return [(key, account) for key, account in rows]


async def count_accounts(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).select_from(Account)) or 0)


async def set_products(session: AsyncSession, account_id: int, products: list[str]) -> None:
    await session.execute(
        update(Account).where(Account.account_id == account_id).values(products=products)
    )


async def insert_key(
    session: AsyncSession, account_id: int, consumer_key: str, secret_encrypted: str
) -> ApiKey:
    key = ApiKey(
        account_id=account_id, consumer_key=consumer_key, secret_encrypted=secret_encrypted
    )
    session.add(key)
    await session.flush()
    return key


async def get_key(session: AsyncSession, consumer_key: str) -> ApiKey | None:
    return await session.scalar(select(ApiKey).where(ApiKey.consumer_key == consumer_key))


async def reset_key(session: AsyncSession, key: ApiKey, secret_encrypted: str) -> None:
    key.secret_encrypted = secret_encrypted
    await session.flush()


async def revoke_key(session: AsyncSession, consumer_key: str) -> bool:
    result = await session.execute(
        update(ApiKey)
        .where(ApiKey.consumer_key == consumer_key, ApiKey.revoked_at.is_(None))
        .values(revoked_at=func.now())
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def ping(session: AsyncSession) -> None:
    """SELECT 1: the database answers."""
    await session.execute(text("SELECT 1"))
