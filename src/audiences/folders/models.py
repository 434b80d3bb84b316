from datetime import datetime

from sqlalchemy import (
    BigInteger,
    DateTime,
    ForeignKeyConstraint,
    Identity,
    Index,
    PrimaryKeyConstraint,
    String,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from audiences.core.db import Base


class Folder(Base):
    """A folder of the dynamic-lists overview; folders nest one level (a folder in a top-level
    folder). A folder with audiences or subfolders cannot be deleted (restricting keys)."""

    __tablename__ = "folders"
    __mapper_args__ = {"eager_defaults": True}  # noqa: RUF012
    __table_args__ = (
        PrimaryKeyConstraint("account_id", "folder_id"),
        ForeignKeyConstraint(["account_id"], ["accounts.account_id"], ondelete="CASCADE"),
        ForeignKeyConstraint(
            ["account_id", "parent_id"],
            ["folders.account_id", "folders.folder_id"],
            ondelete="RESTRICT",
        ),
        UniqueConstraint("account_id", "public_id"),
        # Names are unique among siblings, regardless of case (a top-level folder has parent 0).
        Index(
            "uq_folders_account_id_parent_lower_name",
            "account_id",
            text("coalesce(parent_id, 0)"),
            func.lower(text("name")),
            unique=True,
        ),
    )

    account_id: Mapped[int] = mapped_column(BigInteger)
    folder_id: Mapped[int] = mapped_column(BigInteger, Identity())
    public_id: Mapped[str] = mapped_column(String(64))
    parent_id: Mapped[int | None] = mapped_column(BigInteger)
    name: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
