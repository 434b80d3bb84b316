"""All SQL about accounts, credentials and nonces."""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

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
    key.revoked_at = None
    await session.flush()


async def revoke_key(session: AsyncSession, consumer_key: str) -> bool:
    result = await session.execute(
        update(ApiKey)
        .where(ApiKey.consumer_key == consumer_key, ApiKey.revoked_at.is_(None))
        .values(revoked_at=func.now())
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


# One round trip per request: the active key with its account's products, and either (OAuth)
# the nonce stored unless this key has seen it already, or (a secret) the recent failures.
_WINDOW_START = "to_timestamp(floor(extract(epoch FROM now()) / :window) * :window)"

_REMEMBER = """
    remembered AS (
        INSERT INTO oauth_nonces (account_id, key_id, nonce)
        SELECT account_id, key_id, CAST(:nonce AS text) FROM credential
        ON CONFLICT DO NOTHING
        RETURNING 1
    )
"""
_FAILED = f"""
    failed AS (
        SELECT coalesce(max(failures), 0) AS n FROM auth_failures
        WHERE scope = ANY(CAST(:scopes AS text[])) AND window_start = {_WINDOW_START}
    )
"""
_CREDENTIAL_COLUMNS = 6


def _credential_sql(nonce: bool, companion: str | None = None) -> str:
    """The look-up for a nonce (OAuth) or for a secret (throttled), with a companion read."""
    # The OAuth look-up commits on its own: a nonce lost in a crash only reopens a replay
    # window that the timestamp check still bounds, so it does not wait for the disk.
    relaxed = ", set_config('synchronous_commit', 'off', true) AS relaxed" if nonce else ""
    fresh = "(SELECT count(*) FROM remembered)" if nonce else "0"
    failures = "0" if nonce else "(SELECT n FROM failed)"
    columns = ", companion.*" if companion else ""
    join = f"LEFT JOIN LATERAL ({companion}) AS companion ON true" if companion else ""
    return f"""
    WITH credential AS (
        SELECT k.account_id, k.key_id, k.secret_encrypted, a.products {relaxed}
        FROM api_keys k JOIN accounts a ON a.account_id = k.account_id
        WHERE k.consumer_key = :consumer_key AND k.revoked_at IS NULL
          AND a.disabled_at IS NULL
    ),
    {_REMEMBER if nonce else _FAILED}
    SELECT c.account_id, c.key_id, c.secret_encrypted, c.products,
           {fresh} AS fresh, {failures} AS failures {columns}
    FROM (SELECT 1) AS one LEFT JOIN credential c ON true
    {join}
    """


_BY_NONCE = HotStatement(_credential_sql(nonce=True))
_BY_SECRET = HotStatement(_credential_sql(nonce=False))


class Companion:
    """A read that rides along with the credential look-up, so that a hot route takes one
    round trip instead of two: a SELECT over the caller's account, named `c.account_id`, with
    `:name` parameters of its own and column names unlike the credential's. Its row is used
    only once the request is authenticated (a wrong signature discards it)."""

    def __init__(self, sql: str) -> None:
        self.by_nonce = HotStatement(_credential_sql(nonce=True, companion=sql))
        self.by_secret = HotStatement(_credential_sql(nonce=False, companion=sql))
        # The same read alone, for a caller already authenticated.
        self.alone = HotStatement(
            f"""
            SELECT companion.* FROM (SELECT CAST(:account_id AS bigint) AS account_id) AS c
            CROSS JOIN LATERAL ({sql}) AS companion
            """
        )


@dataclass(frozen=True)
class Lookup:
    """The active credential (None when the key is unknown or revoked), whether the nonce was
    new (and is now remembered), and the recent failed sign-ins of the given scopes."""

    credential: Credential | None
    fresh: bool
    failures: int
    # The row with the companion's columns, when one rode along and found a row.
    companion: Any = None


async def find_credential(
    connection: AsyncConnection,
    consumer_key: str,
    nonce: str | None = None,
    throttle_scopes: Sequence[str] = (),
    window: int = 300,
    companion: tuple[Companion, dict[str, Any]] | None = None,
) -> Lookup:
    params: dict[str, Any] = {"consumer_key": consumer_key}
    if nonce is not None:
        params["nonce"] = nonce
        statement = companion[0].by_nonce if companion else _BY_NONCE
    else:
        params["scopes"] = list(throttle_scopes)
        params["window"] = window
        statement = companion[0].by_secret if companion else _BY_SECRET
    if companion is not None:
        params = {**companion[1], **params}
    row = await statement.first(connection, params)
    assert row is not None  # the statement always answers one row
    credential = None
    if row.account_id is not None:
        credential = Credential(
            row.account_id, row.key_id, consumer_key, row.secret_encrypted, tuple(row.products)
        )
    # A companion that found nothing answers a row of NULLs through the outer join.
    found = None
    if companion is not None and any(value is not None for value in row[_CREDENTIAL_COLUMNS:]):
        found = row
    return Lookup(credential, bool(row.fresh), int(row.failures), found)


async def companion_alone(
    connection: AsyncConnection, companion: Companion, account_id: int, params: dict[str, Any]
) -> Any:
    """The companion's row for an account, without a credential look-up (or None)."""
    return await companion.alone.first(connection, {**params, "account_id": account_id})


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
