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
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, validates

from audiences.core.db import Base
from audiences.core.validation import name_key


class Audience(Base):
    __tablename__ = "audiences"
    __mapper_args__ = {"eager_defaults": True}  # noqa: RUF012
    __table_args__ = (
        PrimaryKeyConstraint("account_id", "audience_id"),
        ForeignKeyConstraint(["account_id"], ["accounts.account_id"], ondelete="CASCADE"),
        UniqueConstraint("account_id", "external_id"),
        ForeignKeyConstraint(
            ["account_id", "folder_id"],
            ["folders.account_id", "folders.folder_id"],
            ondelete="RESTRICT",
        ),
        Index("ix_audiences_account_id_folder_id", "account_id", "folder_id"),
        # Names are unique per account regardless of case, as the vendor compares them; the
        # key is folded in Python (core.validation.name_key), so every database agrees.
        Index("uq_audiences_account_id_name_key", "account_id", "name_key", unique=True),
    )

    account_id: Mapped[int] = mapped_column(BigInteger)
    audience_id: Mapped[int] = mapped_column(BigInteger, Identity())
    external_id: Mapped[str] = mapped_column(String(255))
    name: Mapped[str] = mapped_column(String(255))
    # Null only for an audience whose name an older one already had under the folding rule
    # when it was introduced (the migration keeps both names); a rename sets it.
    name_key: Mapped[str | None] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    folder_id: Mapped[int | None] = mapped_column(BigInteger)
    # Kept by every membership write, so listings never count members per request.
    member_count: Mapped[int] = mapped_column(BigInteger, server_default=text("0"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    last_contact_added_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_contact_removed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_sync_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    @validates("name")
    def _fold_name(self, _key: str, name: str) -> str:
        """Every path that names an audience keeps its key with it."""
        self.name_key = name_key(name)
        return name
