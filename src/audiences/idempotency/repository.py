"""All SQL about idempotency keys."""

from sqlalchemy import text
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

# A key older than the retention is free again: the stale row is replaced in the same
# statement that claims the key.
_CLAIM = text(
    """
    INSERT INTO idempotency_keys (account_id, key, fingerprint)
    VALUES (:account_id, :key, :fingerprint)
    ON CONFLICT (account_id, key) DO UPDATE
        SET fingerprint = EXCLUDED.fingerprint, status = NULL, content_type = NULL,
            body = NULL, created_at = now()
        WHERE idempotency_keys.created_at < now() - make_interval(secs => :retention)
    RETURNING 1
    """
)


async def claim(
    session: AsyncSession, account_id: int, key: str, fingerprint: str, retention: int
) -> bool:
    """Takes the key for this request (in its transaction); False when another request holds
    it (a concurrent one is waited for: the claim blocks until it commits or rolls back)."""
    params = {
        "account_id": account_id,
        "key": key,
        "fingerprint": fingerprint,
        "retention": retention,
    }
    return (await session.execute(_CLAIM, params)).first() is not None


async def stored(
    session: AsyncSession, account_id: int, key: str
) -> Row[tuple[str, int | None, str | None, bytes | None]] | None:
    query = text(
        "SELECT fingerprint, status, content_type, body FROM idempotency_keys"
        " WHERE account_id = :account_id AND key = :key"
    )
    return (await session.execute(query, {"account_id": account_id, "key": key})).first()


async def store(
    session: AsyncSession,
    account_id: int,
    key: str,
    status: int,
    content_type: str | None,
    body: bytes,
    fingerprint: str | None = None,
) -> None:
    """Stores the response of the request that holds the key (and, for an upload, the
    fingerprint known only once it has streamed)."""
    await session.execute(
        text(
            """
            UPDATE idempotency_keys
            SET status = :status, content_type = :content_type, body = :body,
                fingerprint = coalesce(:fingerprint, fingerprint)
            WHERE account_id = :account_id AND key = :key
            """
        ),
        {
            "account_id": account_id,
            "key": key,
            "status": status,
            "content_type": content_type,
            "body": body,
            "fingerprint": fingerprint,
        },
    )


async def purge(connection: AsyncConnection, retention: int) -> None:
    await connection.execute(
        text("DELETE FROM idempotency_keys WHERE created_at < now() - make_interval(secs => :s)"),
        {"s": retention},
    )
