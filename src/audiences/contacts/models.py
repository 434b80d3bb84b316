from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    ForeignKeyConstraint,
    Identity,
    Index,
    PrimaryKeyConstraint,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from audiences.core.db import Base


class Contact(Base):
    __tablename__ = "contacts"
    __mapper_args__ = {"eager_defaults": True}  # noqa: RUF012
    __table_args__ = (
        PrimaryKeyConstraint("account_id", "contact_id"),
        ForeignKeyConstraint(["account_id"], ["accounts.account_id"], ondelete="CASCADE"),
        UniqueConstraint("account_id", "external_id"),
        UniqueConstraint("account_id", "encrypted_id"),
        # GET /contact/search?MPSearchQuery=email=... (what the PHP clients ask), any case.
        Index("ix_contacts_account_id_lower_email", "account_id", func.lower(text("email"))),
        # GET /contact/updates/list: clients poll for the few contacts changed since last time.
        Index("ix_contacts_account_id_changed_at", "account_id", "changed_at"),
    )

    account_id: Mapped[int] = mapped_column(BigInteger)
    contact_id: Mapped[int] = mapped_column(BigInteger, Identity())
    external_id: Mapped[str] = mapped_column(String(255))
    encrypted_id: Mapped[str] = mapped_column(String(64))
    # Copied out of `properties` because member listings, exports and recipients need it.
    email: Mapped[str | None] = mapped_column(Text)
    properties: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    test_group: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    temporary: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    email_channel: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    sms_channel: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    anonymized_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class PropertyDefinition(Base):
    """A contact property an account may set (the vendor's /contact/properties/list): the
    standard ones every account starts with, and those the account defined."""

    __tablename__ = "contact_properties"
    __table_args__ = (
        PrimaryKeyConstraint("account_id", "property_id"),
        ForeignKeyConstraint(["account_id"], ["accounts.account_id"], ondelete="CASCADE"),
        UniqueConstraint("account_id", "name"),
        # "Email" beside "email" would be two properties no marketer could tell apart.
        Index(
            "uq_contact_properties_account_id_lower_name",
            "account_id",
            func.lower(text("name")),
            unique=True,
        ),
    )

    account_id: Mapped[int] = mapped_column(BigInteger)
    property_id: Mapped[int] = mapped_column(BigInteger, Identity())
    name: Mapped[str] = mapped_column(String(255))
    description: Mapped[str] = mapped_column(Text)
    type: Mapped[str] = mapped_column(String(32))
    entries: Mapped[list[dict[str, Any]] | None] = mapped_column(JSONB)
    standard: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
