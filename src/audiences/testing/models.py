from datetime import datetime

from sqlalchemy import (
    BigInteger,
    DateTime,
    ForeignKeyConstraint,
    Identity,
    Integer,
    PrimaryKeyConstraint,
    String,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column

from audiences.core.db import Base


class Fault(Base):
    """An injected fault of an ephemeral service: the account's next `remaining` calls of this
    method whose path matches answer `status` (and/or wait `delay_ms` first). A table, not
    memory: every worker sees it, and a call consumes it atomically."""

    __tablename__ = "testing_faults"
    __table_args__ = (
        PrimaryKeyConstraint("account_id", "fault_id"),
        ForeignKeyConstraint(["account_id"], ["accounts.account_id"], ondelete="CASCADE"),
    )

    account_id: Mapped[int] = mapped_column(BigInteger)
    fault_id: Mapped[int] = mapped_column(BigInteger, Identity())
    method: Mapped[str] = mapped_column(String(16))
    path: Mapped[str] = mapped_column(String(1000))
    # The path as a PostgreSQL regular expression (a `*` segment matches any one segment).
    path_regex: Mapped[str] = mapped_column(String(4000))
    status: Mapped[int | None] = mapped_column(Integer)
    error_type: Mapped[str | None] = mapped_column(String(64))
    delay_ms: Mapped[int | None] = mapped_column(Integer)
    remaining: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
