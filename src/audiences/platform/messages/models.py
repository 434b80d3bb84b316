from datetime import datetime

from sqlalchemy import (
    BigInteger,
    DateTime,
    ForeignKeyConstraint,
    Identity,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column

from audiences.core.db import Base


class Message(Base):
    __tablename__ = "messages"
    __mapper_args__ = {"eager_defaults": True}  # noqa: RUF012
    __table_args__ = (
        PrimaryKeyConstraint("account_id", "message_id"),
        ForeignKeyConstraint(["account_id"], ["accounts.account_id"], ondelete="CASCADE"),
        UniqueConstraint("account_id", "public_id"),
    )

    account_id: Mapped[int] = mapped_column(BigInteger)
    message_id: Mapped[int] = mapped_column(BigInteger, Identity())
    public_id: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class MessageBlock(Base):
    """A content block; with an audience it is dynamic (shown only to its members) and blocks
    the audience's deletion (restricting foreign key)."""

    __tablename__ = "message_blocks"
    __table_args__ = (
        PrimaryKeyConstraint("account_id", "block_id"),
        ForeignKeyConstraint(
            ["account_id", "message_id"],
            ["messages.account_id", "messages.message_id"],
            ondelete="CASCADE",
        ),
        ForeignKeyConstraint(
            ["account_id", "audience_id"],
            ["audiences.account_id", "audiences.audience_id"],
            ondelete="RESTRICT",
        ),
        UniqueConstraint("account_id", "public_id"),
        Index("ix_message_blocks_account_id_message_id", "account_id", "message_id"),
        Index("ix_message_blocks_account_id_audience_id", "account_id", "audience_id"),
    )

    account_id: Mapped[int] = mapped_column(BigInteger)
    block_id: Mapped[int] = mapped_column(BigInteger, Identity())
    public_id: Mapped[str] = mapped_column(String(64))
    message_id: Mapped[int] = mapped_column(BigInteger)
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(255))
    content: Mapped[str] = mapped_column(Text)
    audience_id: Mapped[int | None] = mapped_column(BigInteger)
