"""audience names compared by a key folded in Python (NFKC + casefold), not by lower()

Revision ID: f69001a3b962
Revises: 4ae7db01838f
Create Date: 2026-12-03 07:50:00+00:00
"""

import hashlib
import logging
import unicodedata
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "f69001a3b962"
down_revision: str | None = "4ae7db01838f"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

logger = logging.getLogger("alembic.runtime.migration")
BATCH = 5000


def _folded(name: str) -> str:
    # The rule as of this revision (audiences.core.validation.name_key); frozen here so that
    # the migration means the same whenever it runs.
    folded = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", name).casefold())
    encoded = folded.encode("utf-8", "surrogatepass")
    if len(encoded) > 1000:
        return "sha256:" + hashlib.sha256(encoded).hexdigest()
    return folded


def upgrade() -> None:
    op.add_column("audiences", sa.Column("name_key", sa.Text(), nullable=True))
    connection = op.get_bind()
    rows = connection.execute(
        sa.text("SELECT account_id, audience_id, name FROM audiences ORDER BY 1, 2")
    )
    update = sa.text(
        "UPDATE audiences SET name_key = :key WHERE account_id = :account AND audience_id = :id"
    )
    taken: set[tuple[int, str]] = set()
    batch: list[dict[str, object]] = []
    for account_id, audience_id, name in rows.all():
        key = _folded(name)
        if (account_id, key) in taken:
            # Two names that only the new rule calls the same (`Café` NFC and NFD): the older
            # keeps the key; the newer keeps its name without one until it is renamed.
            logger.warning(
                "audience %s of account %s: its name %r is the same as an older audience's "
                "under the new rule; rename one of them",
                audience_id,
                account_id,
                name,
            )
            continue
        taken.add((account_id, key))
        batch.append({"key": key, "account": account_id, "id": audience_id})
        if len(batch) >= BATCH:
            connection.execute(update, batch)
            batch = []
    if batch:
        connection.execute(update, batch)
    op.drop_index("uq_audiences_account_id_lower_name", table_name="audiences")
    op.create_index(
        "uq_audiences_account_id_name_key", "audiences", ["account_id", "name_key"], unique=True
    )


def downgrade() -> None:
    op.drop_index("uq_audiences_account_id_name_key", table_name="audiences")
    op.create_index(
        "uq_audiences_account_id_lower_name",
        "audiences",
        ["account_id", sa.literal_column("lower(name)")],
        unique=True,
    )
    op.drop_column("audiences", "name_key")
