"""All SQL about accounts and their keys."""

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

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


# Console sessions, named by the SHA-256 of the cookie's token. Read and written on the auth
# connections (each statement commits on its own): a page's rolled-back work must not take
# its messages, nor its sign-in, with it.
Executor = AsyncConnection | AsyncSession


async def insert_console_session(
    connection: Executor, token_hash: bytes, account_id: int, key_id: int, idle: int
) -> None:
    await connection.execute(
        text(
            "INSERT INTO console_sessions (token_hash, account_id, key_id, expires_at)"
            " VALUES (:token_hash, :account_id, :key_id, now() + make_interval(secs => :idle))"
        ),
        {"token_hash": token_hash, "account_id": account_id, "key_id": key_id, "idle": idle},
    )


async def find_console_session(
    connection: Executor, token_hash: bytes, lifetime: int, idle: int
) -> Any:
    """The session with its key and messages, or None when it is unknown, expired, or its key
    is revoked or its account disabled. Seeing it moves its expiry to `idle` seconds from
    now, but never past `lifetime` seconds after the sign-in."""
    result = await connection.execute(
        text(
            """
            UPDATE console_sessions s SET last_seen_at = now(),
                expires_at = least(s.created_at + make_interval(secs => :lifetime),
                                   now() + make_interval(secs => :idle))
            FROM api_keys k JOIN accounts a ON a.account_id = k.account_id
            WHERE s.token_hash = :token_hash AND s.expires_at > now()
              AND k.account_id = s.account_id AND k.key_id = s.key_id
              AND k.revoked_at IS NULL AND a.disabled_at IS NULL
            RETURNING s.account_id, s.key_id, k.consumer_key, a.products, s.flashes
            """
        ),
        {"token_hash": token_hash, "lifetime": lifetime, "idle": idle},
    )
    return result.first()


async def save_console_flashes(
    connection: Executor, token_hash: bytes, flashes: list[list[str]]
) -> None:
    await connection.execute(
        text("UPDATE console_sessions SET flashes = CAST(:flashes AS jsonb) WHERE token_hash = :h"),
        {"flashes": json.dumps(flashes), "h": token_hash},
    )


async def delete_console_session(connection: Executor, token_hash: bytes) -> None:
    await connection.execute(
        text("DELETE FROM console_sessions WHERE token_hash = :h"), {"h": token_hash}
    )


async def delete_console_sessions_of_key(connection: Executor, consumer_key: str) -> None:
    await connection.execute(
        text(
            "DELETE FROM console_sessions s USING api_keys k WHERE k.consumer_key = :key"
            " AND s.account_id = k.account_id AND s.key_id = k.key_id"
        ),
        {"key": consumer_key},
    )


async def delete_console_sessions_of_account(connection: Executor, account_id: int) -> None:
    await connection.execute(
        text("DELETE FROM console_sessions WHERE account_id = :account_id"),
        {"account_id": account_id},
    )


async def purge_console_sessions(connection: Executor) -> None:
    """Expired sessions can never be used again."""
    await connection.execute(text("DELETE FROM console_sessions WHERE expires_at <= now()"))
