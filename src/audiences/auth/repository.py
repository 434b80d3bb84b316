"""All SQL about credentials, OAuth nonces, failed sign-ins and request counting."""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from audiences.core.statements import HotStatement, json_array, json_elements, json_text


@dataclass(frozen=True)
class Credential:
    """What a request authenticates against: an active key with its account's products."""

    account_id: int
    key_id: int
    consumer_key: str
    secret_encrypted: str
    products: tuple[str, ...]


@dataclass(frozen=True)
class Lookup:
    """The active credential (None when the key is unknown or revoked), whether the nonce was
    new (and is now remembered), the recent failed sign-ins of the given scopes, and the row of
    the route's own statement when one rode along."""

    credential: Credential | None
    fresh: bool
    failures: int
    extra: Any = None


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
        WHERE scope = ANY({json_array("scopes", "text")}) AND window_start = {_WINDOW_START}
    )
"""
_CREDENTIAL_COLUMNS = 6


def _credential_sql(nonce: bool, extra: str | None) -> str:
    # The OAuth look-up commits on its own: a nonce lost in a crash only reopens a replay
    # window that the timestamp check still bounds, so it does not wait for the disk.
    relaxed = ", set_config('synchronous_commit', 'off', true) AS relaxed" if nonce else ""
    fresh = "(SELECT count(*) FROM remembered)" if nonce else "0"
    failures = "0" if nonce else "(SELECT n FROM failed)"
    columns = ", extra.*" if extra else ""
    join = f"LEFT JOIN LATERAL ({extra}) AS extra ON true" if extra else ""
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


@dataclass(frozen=True)
class CredentialQuery:
    """The credential look-up, for OAuth (stores the nonce) and for a secret (reads the
    failures). `extra` is a route's own SELECT over the caller's account (`c.account_id`) that
    runs in the same round trip; its row is used only once the caller is authenticated."""

    by_nonce: HotStatement
    by_secret: HotStatement

    @classmethod
    def build(cls, extra: str | None = None) -> "CredentialQuery":
        return cls(
            HotStatement(_credential_sql(nonce=True, extra=extra)),
            HotStatement(_credential_sql(nonce=False, extra=extra)),
        )


CREDENTIAL = CredentialQuery.build()


async def find_credential(
    connection: AsyncConnection,
    consumer_key: str,
    nonce: str | None = None,
    throttle_scopes: Sequence[str] = (),
    window: int = 300,
    query: CredentialQuery = CREDENTIAL,
    extra_params: dict[str, Any] | None = None,
) -> Lookup:
    params: dict[str, Any] = {**(extra_params or {}), "consumer_key": consumer_key}
    if nonce is not None:
        params["nonce"] = nonce
        statement = query.by_nonce
    else:
        params["scopes"] = json_text(throttle_scopes)
        params["window"] = window
        statement = query.by_secret
    row = await statement.first(connection, params)
    assert row is not None  # the statement always answers one row
    credential = None
    if row.account_id is not None:
        credential = Credential(
            row.account_id, row.key_id, consumer_key, row.secret_encrypted, tuple(row.products)
        )
    # An extra statement that found nothing answers a row of NULLs through the outer join.
    extra = None
    if query is not CREDENTIAL and any(value is not None for value in row[_CREDENTIAL_COLUMNS:]):
        extra = row
    return Lookup(credential, bool(row.fresh), int(row.failures), extra)


async def forget_nonce(
    connection: AsyncConnection, account_id: int, key_id: int, nonce: str
) -> None:
    """Takes back a nonce stored by a request whose signature then failed: only a request
    that verifies spends its nonce."""
    await connection.execute(
        text(
            "DELETE FROM oauth_nonces"
            " WHERE account_id = :account_id AND key_id = :key_id AND nonce = :nonce"
        ),
        {"account_id": account_id, "key_id": key_id, "nonce": nonce},
    )


async def record_failure(connection: AsyncConnection, scopes: Sequence[str], window: int) -> None:
    """Counts a failed sign-in for each scope in the current window."""
    await connection.execute(
        text(
            f"""
            INSERT INTO auth_failures (scope, window_start, failures)
            SELECT scope, {_WINDOW_START}, 1 FROM {json_elements("scopes")} AS scope
            ON CONFLICT (scope, window_start)
            DO UPDATE SET failures = auth_failures.failures + 1
            """
        ),
        {"scopes": json_text(scopes), "window": window},
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
