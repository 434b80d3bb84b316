from datetime import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    ForeignKeyConstraint,
    Identity,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from audiences.core.db import Base

MAILING_STATUSES = ("draft", "scheduled", "sending", "sent", "cancelled")


class Mailing(Base):
    """A mailing to an audience. `audience_id` is kept while the mailing may still reach the
    audience; a delete of the audience detaches only mailings that do not block it, and the
    restricting foreign key refuses the delete for the others (the guard's guarantee)."""

    __tablename__ = "mailings"
    __mapper_args__ = {"eager_defaults": True}  # noqa: RUF012
    __table_args__ = (
        PrimaryKeyConstraint("account_id", "mailing_id"),
        ForeignKeyConstraint(["account_id"], ["accounts.account_id"], ondelete="CASCADE"),
        ForeignKeyConstraint(
            ["account_id", "audience_id"],
            ["audiences.account_id", "audiences.audience_id"],
            ondelete="RESTRICT",
        ),
        UniqueConstraint("account_id", "encrypted_id"),
        CheckConstraint("type IN ('EMAIL', 'SMS')", name="type"),
        CheckConstraint(
            "status IN ('draft', 'scheduled', 'sending', 'sent', 'cancelled')", name="status"
        ),
        Index("ix_mailings_account_id_audience_id", "account_id", "audience_id"),
    )

    account_id: Mapped[int] = mapped_column(BigInteger)
    mailing_id: Mapped[int] = mapped_column(BigInteger, Identity())
    encrypted_id: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(255))
    type: Mapped[str] = mapped_column(String(8))
    audience_id: Mapped[int | None] = mapped_column(BigInteger)
    # What the mailing targeted, kept for display after the audience is gone.
    audience_external_id: Mapped[str] = mapped_column(String(255))
    target_group: Mapped[str] = mapped_column(String(255))
    permission_bit: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), server_default=text("'draft'"))
    scheduled_start_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    sent_count: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


# One sequence numbers mailing and automailer deliveries alike, so a contact's mailing history
# pages through both in the order they were sent (GET /contact/{id}/mailings).
DELIVERY_IDS = "delivery_ids"


class MailingDelivery(Base):
    """A contact a sent mailing reached, recorded when the mailing completes."""

    __tablename__ = "mailing_deliveries"
    __table_args__ = (
        PrimaryKeyConstraint("account_id", "mailing_id", "contact_id"),
        ForeignKeyConstraint(
            ["account_id", "mailing_id"],
            ["mailings.account_id", "mailings.mailing_id"],
            ondelete="CASCADE",
        ),
        ForeignKeyConstraint(
            ["account_id", "contact_id"],
            ["contacts.account_id", "contacts.contact_id"],
            ondelete="CASCADE",
        ),
        Index(
            "ix_mailing_deliveries_account_id_contact_id_delivery_id",
            "account_id",
            "contact_id",
            "delivery_id",
        ),
    )

    account_id: Mapped[int] = mapped_column(BigInteger)
    mailing_id: Mapped[int] = mapped_column(BigInteger)
    contact_id: Mapped[int] = mapped_column(BigInteger)
    delivery_id: Mapped[int] = mapped_column(
        BigInteger, server_default=text(f"nextval('{DELIVERY_IDS}')")
    )
    sent_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
