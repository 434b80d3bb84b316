"""contact model as clients parse it: account-defined properties, exact money, mailing history

Revision ID: 0a7b143f48c1
Revises: d560d415a50e
Create Date: 2026-12-02 15:09:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0a7b143f48c1"
down_revision: str | None = "d560d415a50e"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Every property defined so far is a standard one: accounts could not define their own.
    op.add_column(
        "contact_properties",
        sa.Column("standard", sa.Boolean(), server_default=sa.text("false"), nullable=False),
    )
    op.execute("UPDATE contact_properties SET standard = true")
    op.create_index(
        "uq_contact_properties_account_id_lower_name",
        "contact_properties",
        ["account_id", sa.literal_column("lower(name)")],
        unique=True,
    )
    # houseNumber is text, as the vendor answers it ("12" and "12a" alike).
    op.execute(
        """
        UPDATE contacts c SET properties = jsonb_set(
            c.properties, '{houseNumber}', to_jsonb(c.properties ->> 'houseNumber'))
        WHERE jsonb_typeof(c.properties -> 'houseNumber') = 'number'
        """
    )
    op.execute(
        "UPDATE contact_properties SET type = 'string' "
        "WHERE name = 'houseNumber' AND type = 'int' AND standard"
    )
    # Money becomes exact decimal text instead of a JSON number read back as a float.
    op.execute(
        """
        UPDATE contacts c SET properties = c.properties || (
            SELECT jsonb_object_agg(p.name, to_jsonb(c.properties ->> p.name))
            FROM contact_properties p
            WHERE p.account_id = c.account_id AND p.type = 'money'
              AND jsonb_typeof(c.properties -> p.name) = 'number')
        WHERE EXISTS (
            SELECT 1 FROM contact_properties p
            WHERE p.account_id = c.account_id AND p.type = 'money'
              AND jsonb_typeof(c.properties -> p.name) = 'number')
        """
    )
    op.create_index(
        "ix_contacts_account_id_lower_email",
        "contacts",
        ["account_id", sa.literal_column("lower(email)")],
        unique=False,
    )
    op.create_index(
        "ix_contacts_account_id_changed_at",
        "contacts",
        ["account_id", "changed_at"],
        unique=False,
    )
    op.execute("CREATE SEQUENCE delivery_ids")
    op.create_table(
        "mailing_deliveries",
        sa.Column("account_id", sa.BigInteger(), nullable=False),
        sa.Column("mailing_id", sa.BigInteger(), nullable=False),
        sa.Column("contact_id", sa.BigInteger(), nullable=False),
        sa.Column(
            "delivery_id",
            sa.BigInteger(),
            server_default=sa.text("nextval('delivery_ids')"),
            nullable=False,
        ),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id", "contact_id"],
            ["contacts.account_id", "contacts.contact_id"],
            name=op.f("fk_mailing_deliveries_account_id_contact_id_contacts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["account_id", "mailing_id"],
            ["mailings.account_id", "mailings.mailing_id"],
            name=op.f("fk_mailing_deliveries_account_id_mailing_id_mailings"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "account_id", "mailing_id", "contact_id", name=op.f("pk_mailing_deliveries")
        ),
    )
    op.create_index(
        "ix_mailing_deliveries_account_id_contact_id_delivery_id",
        "mailing_deliveries",
        ["account_id", "contact_id", "delivery_id"],
        unique=False,
    )
    # Existing deliveries are numbered in the order they were mailed.
    op.add_column("automailer_deliveries", sa.Column("delivery_id", sa.BigInteger(), nullable=True))
    op.execute(
        """
        UPDATE automailer_deliveries d SET delivery_id = n.delivery_id
        FROM (
            SELECT account_id, automailer_id, contact_id,
                   nextval('delivery_ids') AS delivery_id
            FROM (SELECT * FROM automailer_deliveries ORDER BY mailed_at, contact_id) ordered
        ) n
        WHERE d.account_id = n.account_id AND d.automailer_id = n.automailer_id
          AND d.contact_id = n.contact_id
        """
    )
    op.alter_column(
        "automailer_deliveries",
        "delivery_id",
        nullable=False,
        server_default=sa.text("nextval('delivery_ids')"),
    )
    op.create_index(
        "ix_automailer_deliveries_account_id_contact_id_delivery_id",
        "automailer_deliveries",
        ["account_id", "contact_id", "delivery_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(
        "ix_automailer_deliveries_account_id_contact_id_delivery_id",
        table_name="automailer_deliveries",
    )
    op.drop_column("automailer_deliveries", "delivery_id")
    op.drop_index(
        "ix_mailing_deliveries_account_id_contact_id_delivery_id",
        table_name="mailing_deliveries",
    )
    op.drop_table("mailing_deliveries")
    op.execute("DROP SEQUENCE delivery_ids")
    op.drop_index("ix_contacts_account_id_changed_at", table_name="contacts")
    op.drop_index("ix_contacts_account_id_lower_email", table_name="contacts")
    # Money and house numbers stay text: a float could not hold every amount again.
    op.drop_index("uq_contact_properties_account_id_lower_name", table_name="contact_properties")
    op.execute("DELETE FROM contact_properties WHERE NOT standard")
    op.execute(
        "UPDATE contact_properties SET type = 'int' "
        "WHERE name = 'houseNumber' AND type = 'string' AND standard"
    )
    op.drop_column("contact_properties", "standard")
