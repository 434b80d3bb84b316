from datetime import datetime

from sqlalchemy import BigInteger, DateTime, ForeignKeyConstraint, PrimaryKeyConstraint, func
from sqlalchemy.orm import Mapped, mapped_column

from audiences.core.db import Base


class AudienceMember(Base):
    __tablename__ = "audience_members"
    __table_args__ = (
        PrimaryKeyConstraint("account_id", "audience_id", "contact_id"),
        ForeignKeyConstraint(
            ["account_id", "audience_id"],
            ["audiences.account_id", "audiences.audience_id"],
            ondelete="CASCADE",
        ),
        ForeignKeyConstraint(
            ["account_id", "contact_id"],
            ["contacts.account_id", "contacts.contact_id"],
            ondelete="CASCADE",
        ),
    )

    account_id: Mapped[int] = mapped_column(BigInteger)
    audience_id: Mapped[int] = mapped_column(BigInteger)
    contact_id: Mapped[int] = mapped_column(BigInteger)
    added_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
