"""Accounts and their credentials: secrets are made here, shown once, stored encrypted."""

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from audiences.accounts import repository
from audiences.accounts.errors import AccountNotFound, BootstrapRefused, ConsumerKeyTaken
from audiences.accounts.models import Account, ApiKey
from audiences.contacts import definitions as contact_definitions
from audiences.core.credentials import SecretBox, new_consumer_key, new_consumer_secret
from audiences.core.errors import InvalidParams
from audiences.core.settings import parse_products


@dataclass(frozen=True)
class IssuedCredential:
    account_id: int
    account_name: str
    products: list[str]
    consumer_key: str
    consumer_secret: str


async def create_account(
    session: AsyncSession,
    box: SecretBox,
    name: str,
    products: list[str],
    consumer_key: str | None = None,
    consumer_secret: str | None = None,
) -> IssuedCredential:
    """A new account with the default contact properties and one credential."""
    products = parse_products(",".join(products))
    account = await repository.insert_account(session, name, products)
    await contact_definitions.seed_default_properties(session, account.account_id)
    return await _issue(session, box, account, consumer_key, consumer_secret)


async def _issue(
    session: AsyncSession,
    box: SecretBox,
    account: Account,
    consumer_key: str | None,
    consumer_secret: str | None,
) -> IssuedCredential:
    key = consumer_key or new_consumer_key()
    secret = consumer_secret or new_consumer_secret()
    if await repository.get_key(session, key) is not None:
        raise ConsumerKeyTaken()
    await repository.insert_key(session, account.account_id, key, box.encrypt(secret))
    return IssuedCredential(account.account_id, account.name, list(account.products), key, secret)


async def require_account(session: AsyncSession, account_id: int) -> Account:
    """The account, or AccountNotFound."""
    account = await repository.get_account(session, account_id)
    if account is None:
        raise AccountNotFound()
    return account


async def create_key(session: AsyncSession, box: SecretBox, account_id: int) -> IssuedCredential:
    """Another credential for an existing account."""
    account = await require_account(session, account_id)
    return await _issue(session, box, account, None, None)


async def revoke_key(session: AsyncSession, consumer_key: str) -> bool:
    """Refuses the key from the next request on, on every worker (no cache holds it), and
    ends every console session signed in with it."""
    revoked = await repository.revoke_key(session, consumer_key)
    if revoked:
        await repository.delete_console_sessions_of_key(session, consumer_key)
    return revoked


# A console session ends this long after its sign-in, or after its last page.
CONSOLE_SESSION_LIFETIME = 8 * 3600
CONSOLE_SESSION_IDLE = 2 * 3600


async def start_console_session(
    connection: AsyncConnection, token_hash: bytes, account_id: int, key_id: int, ended: bytes
) -> None:
    """A console session for this key under a new token; the one the visitor had (`ended`)
    ends, so signing in again never leaves an old session behind."""
    await repository.delete_console_session(connection, ended)
    await repository.insert_console_session(
        connection, token_hash, account_id, key_id, CONSOLE_SESSION_IDLE
    )


async def console_session(connection: AsyncConnection, token_hash: bytes) -> Any:
    """The live session of this token (its key, products and waiting messages), seen now; None
    when it is unknown, expired, or its key was revoked or its account disabled."""
    return await repository.find_console_session(
        connection, token_hash, CONSOLE_SESSION_LIFETIME, CONSOLE_SESSION_IDLE
    )


async def keep_console_messages(
    connection: AsyncConnection, token_hash: bytes, messages: list[list[str]]
) -> None:
    """The messages the next page of this session shows."""
    await repository.save_console_flashes(connection, token_hash, messages)


async def end_console_session(connection: AsyncConnection, token_hash: bytes) -> None:
    """Signing out: the record goes, so the cookie is worth nothing, kept or copied."""
    await repository.delete_console_session(connection, token_hash)


async def purge_expired_sessions(connection: AsyncConnection) -> None:
    """Console sessions past their expiry can never be used again."""
    await repository.purge_console_sessions(connection)


async def list_accounts(session: AsyncSession) -> list[tuple[Account, int]]:
    return list(await repository.list_accounts(session))


async def list_keys(session: AsyncSession, account_id: int | None) -> list[tuple[ApiKey, Account]]:
    """The keys (never their secrets) with their accounts."""
    return list(await repository.list_keys(session, account_id))


async def _account(session: AsyncSession, account_id: int) -> Account:
    account = await repository.get_account(session, account_id)
    if account is None:
        raise AccountNotFound()
    return account


async def rename_account(session: AsyncSession, account_id: int, name: str) -> Account:
    """Gives the account a new name (its keys stay as they are)."""
    if not name.strip():
        raise InvalidParams("An account name is required")
    account = await _account(session, account_id)
    account.name = name
    await session.flush()
    return account


async def change_products(session: AsyncSession, account_id: int, products: list[str]) -> Account:
    """The account's products become exactly these; every worker sees them on the next
    request (nothing caches them)."""
    account = await _account(session, account_id)
    account.products = parse_products(",".join(products))
    await session.flush()
    return account


async def set_disabled(session: AsyncSession, account_id: int, disabled: bool) -> Account:
    """A disabled account's keys are refused from the next request on (API and console) and
    its console sessions end; enabling it makes the same keys work again."""
    account = await _account(session, account_id)
    if disabled:
        # Enabling it again does not bring its console sessions back: they sign in anew.
        await repository.delete_console_sessions_of_account(session, account_id)
    if disabled and account.disabled_at is None:
        account.disabled_at = datetime.now(UTC)
    elif not disabled:
        account.disabled_at = None
    await session.flush()
    return account


async def ensure_credential(
    session: AsyncSession,
    box: SecretBox,
    consumer_key: str,
    consumer_secret: str,
    products: list[str],
) -> bool:
    """Makes sure an account answers to exactly this key and secret with these products
    (for CI that starts the service with known credentials). True when something changed.
    A revoked key stays revoked and a disabled account disabled (BootstrapRefused)."""
    key = await repository.get_key(session, consumer_key)
    if key is None:
        await create_account(session, box, "Bootstrap", products, consumer_key, consumer_secret)
        return True
    if key.revoked_at is not None:
        raise BootstrapRefused(
            f"The bootstrap key {consumer_key} was revoked and stays revoked; "
            "set AUDIENCES_BOOTSTRAP_KEY to a new key (or unset it)"
        )
    account = await repository.get_account(session, key.account_id)
    assert account is not None
    if account.disabled_at is not None:
        raise BootstrapRefused(
            f"The account of the bootstrap key {consumer_key} is disabled and stays disabled; "
            f"enable it with `audiences account enable {account.account_id}`"
        )
    changed = False
    if box.decrypt(key.secret_encrypted) != consumer_secret:
        await repository.reset_key(session, key, box.encrypt(consumer_secret))
        changed = True
    if sorted(account.products) != sorted(products):
        await repository.set_products(session, account.account_id, products)
        changed = True
    return changed


async def ensure_development_account(
    session: AsyncSession, box: SecretBox
) -> IssuedCredential | None:
    """On a database without any account, a development account (key and secret returned
    once, to be printed); otherwise None."""
    if await repository.count_accounts(session) > 0:
        return None
    return await create_account(session, box, "Development", ["automation", "ecommerce"])
