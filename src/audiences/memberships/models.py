from datetime import datetime

from sqlalchemy import BigInteger, DateTime, PrimaryKeyConstraint, func
from sqlalchemy.orm import Mapped, mapped_column

from audiences.core.db import Base


class AudienceMember(Base):
    """A contact in an audience.

    No foreign keys, on purpose: PostgreSQL checks them row by row, which made a million-row
    import three times slower than the insert itself. Integrity is kept by the writers
    instead: every membership write first locks the audience's row (so it cannot be deleted
    meanwhile) and inserts only contact ids it has just joined from `contacts` (which are never
    deleted, only anonymized); deleting an audience deletes its memberships in the same
    transaction."""

    __tablename__ = "audience_members"
    __table_args__ = (PrimaryKeyConstraint("account_id", "audience_id", "contact_id"),)

    account_id: Mapped[int] = mapped_column(BigInteger)
    audience_id: Mapped[int] = mapped_column(BigInteger)
    contact_id: Mapped[int] = mapped_column(BigInteger)
    added_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
