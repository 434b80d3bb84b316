"""All SQL about accounts, credentials and nonces."""

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from audiences.accounts.models import Account, ApiKey
from audiences.core.db import HotStatement


@dataclass(frozen=True)
class Credential:
    """What a request authenticates against: an active key with its account's products."""

    account_id: int
    key_id: int
    consumer_key: str
    secret_encrypted: str
    products: tuple[str, ...]


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
    key.revoked_at = None
    await session.flush()


async def revoke_key(session: AsyncSession, consumer_key: str) -> bool:
    result = await session.execute(
        update(ApiKey)
        .where(ApiKey.consumer_key == consumer_key, ApiKey.revoked_at.is_(None))
        .values(revoked_at=func.now())
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


# One round trip per request: the active key with its account's products, and (for OAuth)
# the nonce stored, unless this key has seen it already.
_WINDOW_START = "to_timestamp(floor(extract(epoch FROM now()) / :window) * :window)"

_CREDENTIAL = HotStatement(
    f"""
    WITH credential AS (
        SELECT k.account_id, k.key_id, k.consumer_key, k.secret_encrypted, a.products,
               -- This statement commits on its own: a lost nonce in a crash only reopens a
               -- replay window that the timestamp check still bounds, so do not wait for disk.
               set_config('synchronous_commit', 'off', true) AS relaxed
        FROM api_keys k JOIN accounts a ON a.account_id = k.account_id
        WHERE k.consumer_key = :consumer_key AND k.revoked_at IS NULL
    ),
    remembered AS (
        INSERT INTO oauth_nonces (account_id, key_id, nonce)
        SELECT account_id, key_id, CAST(:nonce AS text) FROM credential
        WHERE CAST(:nonce AS text) IS NOT NULL
        ON CONFLICT DO NOTHING
        RETURNING 1
    ),
    failed AS (
        SELECT coalesce(max(failures), 0) AS n FROM auth_failures
        WHERE scope = ANY(CAST(:scopes AS text[])) AND window_start = {_WINDOW_START}
    )
    SELECT c.account_id, c.key_id, c.consumer_key, c.secret_encrypted, c.products,
           (SELECT count(*) FROM remembered) AS fresh, (SELECT n FROM failed) AS failures
    FROM (SELECT 1) AS one LEFT JOIN credential c ON true
    """
)


@dataclass(frozen=True)
class Lookup:
    """The active credential (None when the key is unknown or revoked), whether the nonce was
    new (and is now remembered), and the recent failed sign-ins of the given scopes."""

    credential: Credential | None
    fresh: bool
    failures: int


async def find_credential(
    connection: AsyncConnection,
    consumer_key: str,
    nonce: str | None = None,
    throttle_scopes: Sequence[str] = (),
    window: int = 300,
) -> Lookup:
    params = {
        "consumer_key": consumer_key,
        "nonce": nonce,
        "scopes": list(throttle_scopes),
        "window": window,
    }
    row = await _CREDENTIAL.first(connection, params)
    assert row is not None  # the statement always answers one row
    credential = None
    if row.account_id is not None:
        credential = Credential(
            row.account_id, row.key_id, row.consumer_key, row.secret_encrypted, tuple(row.products)
        )
    return Lookup(credential, bool(row.fresh), int(row.failures))


async def record_failure(connection: AsyncConnection, scopes: Sequence[str], window: int) -> None:
    """Counts a failed sign-in for each scope in the current window."""
    await connection.execute(
        text(
            f"""
            INSERT INTO auth_failures (scope, window_start, failures)
            SELECT scope, {_WINDOW_START}, 1 FROM unnest(CAST(:scopes AS text[])) AS scope
            ON CONFLICT (scope, window_start)
            DO UPDATE SET failures = auth_failures.failures + 1
            """
        ),
        {"scopes": list(scopes), "window": window},
    )


async def count_request(
    connection: AsyncConnection, account_id: int, key_id: int
) -> tuple[int, int]:
    """Counts a request of the key in the current minute; answers (requests so far, seconds
    until the minute ends)."""
    row = (
        await connection.execute(
            text(
                f"""
                INSERT INTO rate_counters (account_id, key_id, window_start, requests)
                VALUES (:account_id, :key_id, {_WINDOW_START}, 1)
                ON CONFLICT (account_id, key_id, window_start)
                DO UPDATE SET requests = rate_counters.requests + 1
                RETURNING requests,
                          :window - floor(extract(epoch FROM now()))::int % :window AS retry_after
                """
            ),
            {"account_id": account_id, "key_id": key_id, "window": 60},
        )
    ).one()
    return int(row.requests), int(row.retry_after)


async def purge_counters(connection: AsyncConnection) -> None:
    """Throttle and rate windows older than an hour are over."""
    for table in ("auth_failures", "rate_counters"):
        await connection.execute(
            text(f"DELETE FROM {table} WHERE window_start < now() - interval '1 hour'")
        )


async def purge_nonces(connection: AsyncConnection, older_than_seconds: int) -> int:
    result = await connection.execute(
        text("DELETE FROM oauth_nonces WHERE seen_at < now() - make_interval(secs => :secs)"),
        {"secs": older_than_seconds},
    )
    return int(result.rowcount)


async def ping(session: AsyncSession) -> None:
    """SELECT 1: the database answers."""
    await session.execute(text("SELECT 1"))
