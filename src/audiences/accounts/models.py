from datetime import datetime

from sqlalchemy import (
    BigInteger,
    DateTime,
    ForeignKeyConstraint,
    Identity,
    Index,
    PrimaryKeyConstraint,
    String,
    Text,
    func,
)
from sqlalchemy.dialects.postgresql import ARRAY
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
