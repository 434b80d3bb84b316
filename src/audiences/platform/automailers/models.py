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
from audiences.platform.mailings.models import DELIVERY_IDS


class Automailer(Base):
    """Mails each contact added to the audience after the first sending moment, `period`
    after it was added, until the last sending moment. Like mailings, it keeps `audience_id`
    (restricting deletes) while it may still send."""

    __tablename__ = "automailers"
    __mapper_args__ = {"eager_defaults": True}  # noqa: RUF012
    __table_args__ = (
        PrimaryKeyConstraint("account_id", "automailer_id"),
        ForeignKeyConstraint(["account_id"], ["accounts.account_id"], ondelete="CASCADE"),
        ForeignKeyConstraint(
            ["account_id", "audience_id"],
            ["audiences.account_id", "audiences.audience_id"],
            ondelete="RESTRICT",
        ),
        UniqueConstraint("account_id", "public_id"),
        CheckConstraint("status IN ('active', 'stopped')", name="status"),
        CheckConstraint("last_sending_at > first_sending_at", name="sending_window"),
        Index("ix_automailers_account_id_audience_id", "account_id", "audience_id"),
    )

    account_id: Mapped[int] = mapped_column(BigInteger)
    automailer_id: Mapped[int] = mapped_column(BigInteger, Identity())
    public_id: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(255))
    audience_id: Mapped[int | None] = mapped_column(BigInteger)
    audience_external_id: Mapped[str] = mapped_column(String(255))
    target_group: Mapped[str] = mapped_column(String(255))
    permission_bit: Mapped[int] = mapped_column(Integer)
    first_sending_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # An ISO 8601 duration; SQL casts it to an interval (months stay calendar months).
    period: Mapped[str] = mapped_column(String(64))
    last_sending_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    status: Mapped[str] = mapped_column(String(16), server_default=text("'active'"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class AutomailerDelivery(Base):
    """A contact an automailer has mailed; the key makes every contact mailed once."""

    __tablename__ = "automailer_deliveries"
    __table_args__ = (
        PrimaryKeyConstraint("account_id", "automailer_id", "contact_id"),
        ForeignKeyConstraint(
            ["account_id", "automailer_id"],
            ["automailers.account_id", "automailers.automailer_id"],
            ondelete="CASCADE",
        ),
        ForeignKeyConstraint(
            ["account_id", "contact_id"],
            ["contacts.account_id", "contacts.contact_id"],
            ondelete="CASCADE",
        ),
        Index(
            "ix_automailer_deliveries_account_id_contact_id_delivery_id",
            "account_id",
            "contact_id",
            "delivery_id",
        ),
    )

    account_id: Mapped[int] = mapped_column(BigInteger)
    automailer_id: Mapped[int] = mapped_column(BigInteger)
    contact_id: Mapped[int] = mapped_column(BigInteger)
    # From the sequence mailing deliveries use: a contact's history is one ordered series.
    delivery_id: Mapped[int] = mapped_column(
        BigInteger, server_default=text(f"nextval('{DELIVERY_IDS}')")
    )
    mailed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
