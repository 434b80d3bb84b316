from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    DateTime,
    ForeignKeyConstraint,
    Identity,
    Index,
    LargeBinary,
    PrimaryKeyConstraint,
    String,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from audiences.core.db import Base


class Account(Base):
    __tablename__ = "accounts"

    account_id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    products: Mapped[list[str]] = mapped_column(ARRAY(Text))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    # A disabled account's keys are refused (the API and the console), and kept for enabling.
    disabled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ApiKey(Base):
    """A consumer key and its encrypted secret. The key is globally unique because requests
    name only the key; the table is small and read by key (a Citus reference table)."""

    __tablename__ = "api_keys"
    __table_args__ = (
        PrimaryKeyConstraint("account_id", "key_id"),
        ForeignKeyConstraint(["account_id"], ["accounts.account_id"], ondelete="CASCADE"),
        Index("uq_api_keys_consumer_key", "consumer_key", unique=True),
    )

    account_id: Mapped[int] = mapped_column(BigInteger)
    key_id: Mapped[int] = mapped_column(BigInteger, Identity())
    consumer_key: Mapped[str] = mapped_column(String(255))
    secret_encrypted: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ConsoleSession(Base):
    """A console sign-in. The cookie holds only a random token; this row holds its SHA-256, so
    reading the table gives no usable cookie. Sign-out, revoking the key and disabling the
    account delete it; the purge removes it once expired. Messages for the next page (a
    refusal, a done action) wait here, not in the cookie."""

    __tablename__ = "console_sessions"
    __table_args__ = (
        PrimaryKeyConstraint("token_hash"),
        ForeignKeyConstraint(
            ["account_id", "key_id"], ["api_keys.account_id", "api_keys.key_id"], ondelete="CASCADE"
        ),
        Index("ix_console_sessions_account_id_key_id", "account_id", "key_id"),
        Index("ix_console_sessions_expires_at", "expires_at"),
    )

    token_hash: Mapped[bytes] = mapped_column(LargeBinary)
    account_id: Mapped[int] = mapped_column(BigInteger)
    key_id: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    last_seen_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    flashes: Mapped[list[Any]] = mapped_column(JSONB, server_default=text("'[]'::jsonb"))


class OAuthNonce(Base):
    """Nonces seen within the timestamp window, shared by every worker. No foreign key: nonces
    are written outside the request's transaction and purged by age."""

    __tablename__ = "oauth_nonces"
    __table_args__ = (
        PrimaryKeyConstraint("account_id", "key_id", "nonce"),
        Index("ix_oauth_nonces_seen_at", "seen_at"),
    )

    account_id: Mapped[int] = mapped_column(BigInteger)
    key_id: Mapped[int] = mapped_column(BigInteger)
    nonce: Mapped[str] = mapped_column(String(255))
    seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class AuthFailure(Base):
    """Failed Basic sign-ins per consumer key and per client address, in fixed windows,
    shared by every worker (guessing is throttled). Not an account's data: keyed by scope."""

    __tablename__ = "auth_failures"
    __table_args__ = (PrimaryKeyConstraint("scope", "window_start"),)

    scope: Mapped[str] = mapped_column(String(300))
    window_start: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    failures: Mapped[int] = mapped_column(BigInteger)


class RateCounter(Base):
    """Requests per consumer key per minute, when a rate limit is configured."""

    __tablename__ = "rate_counters"
    __table_args__ = (PrimaryKeyConstraint("account_id", "key_id", "window_start"),)

    account_id: Mapped[int] = mapped_column(BigInteger)
    key_id: Mapped[int] = mapped_column(BigInteger)
    window_start: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    requests: Mapped[int] = mapped_column(BigInteger)
