"""testing faults

Revision ID: 9c3e7a51d2b4
Revises: f69001a3b962
Create Date: 2026-12-03 07:45:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "9c3e7a51d2b4"
down_revision: str | None = "f69001a3b962"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Used only by `serve --ephemeral` (injected faults); empty everywhere else.
    op.create_table(
        "testing_faults",
        sa.Column("account_id", sa.BigInteger(), nullable=False),
        sa.Column("fault_id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("method", sa.String(length=16), nullable=False),
        sa.Column("path", sa.String(length=1000), nullable=False),
        sa.Column("path_regex", sa.String(length=4000), nullable=False),
        sa.Column("status", sa.Integer(), nullable=True),
        sa.Column("error_type", sa.String(length=64), nullable=True),
        sa.Column("delay_ms", sa.Integer(), nullable=True),
        sa.Column("remaining", sa.Integer(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.account_id"],
            name=op.f("fk_testing_faults_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("account_id", "fault_id", name=op.f("pk_testing_faults")),
    )


def downgrade() -> None:
    op.drop_table("testing_faults")
