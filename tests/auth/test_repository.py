"""Nonces are kept only while their timestamps could still pass the window check."""

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from audiences.auth import repository
from tests.conftest import Tenant


async def test_purge_deletes_only_nonces_older_than_asked(
    tenant: Tenant, connection: AsyncConnection
):
    await repository.find_credential(connection, tenant.key, "fresh-nonce")
    await repository.find_credential(connection, tenant.key, "old-nonce")
    await connection.execute(
        text(
            "UPDATE oauth_nonces SET seen_at = now() - interval '11 minutes' "
            "WHERE nonce = 'old-nonce'"
        )
    )
    assert await repository.purge_nonces(connection, 600) == 1
    left = (await connection.execute(text("SELECT nonce FROM oauth_nonces"))).scalars().all()
    assert "fresh-nonce" in left
    assert "old-nonce" not in left
    # A purged nonce is stale anyway: its timestamp no longer passes the window check.
    assert (await repository.find_credential(connection, tenant.key, "fresh-nonce")).fresh is False
