"""accounts can be disabled

Revision ID: 4f2b9c1d7e3a
Revises: 0a7b143f48c1
Create Date: 2026-12-02 15:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "4f2b9c1d7e3a"
down_revision: str | None = "0a7b143f48c1"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Nullable without a default: adding it rewrites nothing, however many accounts there are.
    op.add_column("accounts", sa.Column("disabled_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    op.drop_column("accounts", "disabled_at")
