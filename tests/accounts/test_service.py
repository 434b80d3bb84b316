"""The bootstrap credential: made or kept up to date at start, never revived once revoked."""

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from audiences.accounts import repository
from audiences.accounts import service as accounts_service
from audiences.accounts.errors import BootstrapRefused
from audiences.core.credentials import SecretBox
from tests.conftest import SECRET_KEY

KEY, SECRET = "boot-key", "boot-secret-0123456789"


class TestEnsureCredential:
    async def test_makes_the_account_then_follows_a_changed_secret(self, session: AsyncSession):
        box = SecretBox(SECRET_KEY)
        assert await accounts_service.ensure_credential(session, box, KEY, SECRET, ["automation"])
        assert await accounts_service.ensure_credential(
            session, box, KEY, "new-secret-99", ["automation"]
        )
        key = await repository.get_key(session, KEY)
        assert key is not None and box.decrypt(key.secret_encrypted) == "new-secret-99"

    async def test_a_revoked_key_stays_revoked(self, session: AsyncSession):
        box = SecretBox(SECRET_KEY)
        await accounts_service.ensure_credential(session, box, KEY, SECRET, ["automation"])
        assert await accounts_service.revoke_key(session, KEY)
        with pytest.raises(BootstrapRefused, match="revoked"):
            await accounts_service.ensure_credential(session, box, KEY, SECRET, ["automation"])
        key = await repository.get_key(session, KEY)
        assert key is not None and key.revoked_at is not None

    async def test_a_disabled_account_stays_disabled(self, session: AsyncSession):
        box = SecretBox(SECRET_KEY)
        await accounts_service.ensure_credential(session, box, KEY, SECRET, ["automation"])
        key = await repository.get_key(session, KEY)
        assert key is not None
        await accounts_service.set_disabled(session, key.account_id, True)
        with pytest.raises(BootstrapRefused, match="disabled"):
            await accounts_service.ensure_credential(session, box, KEY, SECRET, ["automation"])
        account = await repository.get_account(session, key.account_id)
        assert account is not None and account.disabled_at is not None
