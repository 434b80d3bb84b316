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


class Flow(Base):
    """A campaign or an automation: triggers and steps that may filter on audiences."""

    __tablename__ = "flows"
    __mapper_args__ = {"eager_defaults": True}  # noqa: RUF012
    __table_args__ = (
        PrimaryKeyConstraint("account_id", "flow_id"),
        ForeignKeyConstraint(["account_id"], ["accounts.account_id"], ondelete="CASCADE"),
        UniqueConstraint("account_id", "public_id"),
        CheckConstraint("kind IN ('campaign', 'automation')", name="kind"),
        CheckConstraint("status IN ('draft', 'active', 'paused', 'stopped')", name="status"),
    )

    account_id: Mapped[int] = mapped_column(BigInteger)
    flow_id: Mapped[int] = mapped_column(BigInteger, Identity())
    public_id: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(16), server_default=text("'draft'"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class FlowNode(Base):
    """A trigger or a step of a flow."""

    __tablename__ = "flow_nodes"
    __table_args__ = (
        PrimaryKeyConstraint("account_id", "node_id"),
        ForeignKeyConstraint(
            ["account_id", "flow_id"], ["flows.account_id", "flows.flow_id"], ondelete="CASCADE"
        ),
        UniqueConstraint("account_id", "public_id"),
        CheckConstraint("role IN ('trigger', 'step')", name="role"),
        Index("ix_flow_nodes_account_id_flow_id", "account_id", "flow_id"),
    )

    account_id: Mapped[int] = mapped_column(BigInteger)
    node_id: Mapped[int] = mapped_column(BigInteger, Identity())
    public_id: Mapped[str] = mapped_column(String(64))
    flow_id: Mapped[int] = mapped_column(BigInteger)
    role: Mapped[str] = mapped_column(String(16))
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(255))


class FlowNodeAudience(Base):
    """An audience filter on a trigger or step. It blocks the audience's deletion for as long
    as it exists, whatever the flow's state (restricting foreign key)."""

    __tablename__ = "flow_node_audiences"
    __table_args__ = (
        PrimaryKeyConstraint("account_id", "node_id", "audience_id"),
        ForeignKeyConstraint(
            ["account_id", "node_id"],
            ["flow_nodes.account_id", "flow_nodes.node_id"],
            ondelete="CASCADE",
        ),
        ForeignKeyConstraint(
            ["account_id", "audience_id"],
            ["audiences.account_id", "audiences.audience_id"],
            ondelete="RESTRICT",
        ),
        Index("ix_flow_node_audiences_account_id_audience_id", "account_id", "audience_id"),
    )

    account_id: Mapped[int] = mapped_column(BigInteger)
    node_id: Mapped[int] = mapped_column(BigInteger)
    audience_id: Mapped[int] = mapped_column(BigInteger)
    position: Mapped[int] = mapped_column(Integer, server_default=text("0"))
