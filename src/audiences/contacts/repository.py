"""All SQL about contacts and their property definitions."""

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Table, bindparam, delete, func, insert, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from audiences.contacts.models import Contact, PropertyDefinition

_CONTACTS: Table = Contact.__table__  # type: ignore[assignment]


async def list_definitions(session: AsyncSession, account_id: int) -> Sequence[PropertyDefinition]:
    rows = await session.scalars(
        select(PropertyDefinition)
        .where(PropertyDefinition.account_id == account_id)
        .order_by(PropertyDefinition.property_id)
    )
    return rows.all()


async def insert_definitions(
    session: AsyncSession, account_id: int, definitions: list[dict[str, Any]], *, standard: bool
) -> None:
    await session.execute(
        insert(PropertyDefinition),
        [
            {
                "account_id": account_id,
                "name": d["name"],
                "description": d["description"],
                "type": d["type"],
                "entries": d.get("entries"),
                "standard": standard,
            }
            for d in definitions
        ],
    )


async def get_definition(
    session: AsyncSession, account_id: int, name: str, *, for_update: bool = False
) -> PropertyDefinition | None:
    query = select(PropertyDefinition).where(
        PropertyDefinition.account_id == account_id, PropertyDefinition.name == name
    )
    if for_update:
        query = query.with_for_update()
    return await session.scalar(query)


async def find_definition_by_lower_name(
    session: AsyncSession, account_id: int, name: str
) -> PropertyDefinition | None:
    return await session.scalar(
        select(PropertyDefinition).where(
            PropertyDefinition.account_id == account_id,
            func.lower(PropertyDefinition.name) == name.lower(),
        )
    )


async def count_account_defined(session: AsyncSession, account_id: int) -> int:
    count = await session.scalar(
        select(func.count()).where(
            PropertyDefinition.account_id == account_id, PropertyDefinition.standard.is_(False)
        )
    )
    return int(count or 0)


async def delete_definition(session: AsyncSession, definition: PropertyDefinition) -> None:
    await session.execute(
        delete(PropertyDefinition).where(
            PropertyDefinition.account_id == definition.account_id,
            PropertyDefinition.property_id == definition.property_id,
        )
    )


async def strip_values(session: AsyncSession, account_id: int, name: str) -> None:
    """Removes a property's value from every contact of the account, in one statement."""
    await session.execute(
        text(
            """
            UPDATE contacts SET properties = properties - CAST(:name AS text)
            WHERE account_id = :account_id AND properties ? CAST(:name AS text)
            """
        ),
        {"account_id": account_id, "name": name},
    )


async def strip_set_bits(
    session: AsyncSession, account_id: int, name: str, bits: list[int]
) -> None:
    """Removes set entries with these bits from every contact's value, in one statement."""
    await session.execute(
        text(
            """
            UPDATE contacts c SET properties = jsonb_set(c.properties, ARRAY[s.name], (
                SELECT coalesce(jsonb_agg(e ORDER BY (e ->> 'bit')::bigint), '[]'::jsonb)
                FROM jsonb_array_elements(c.properties -> s.name) e
                WHERE NOT (e ->> 'bit')::bigint = ANY(s.bits)))
            FROM (SELECT CAST(:name AS text) AS name, CAST(:bits AS bigint[]) AS bits) s
            WHERE c.account_id = :account_id
              AND jsonb_typeof(c.properties -> s.name) = 'array'
              AND EXISTS (
                  SELECT 1 FROM jsonb_array_elements(c.properties -> s.name) e
                  WHERE (e ->> 'bit')::bigint = ANY(s.bits))
            """
        ),
        {"account_id": account_id, "name": name, "bits": bits},
    )


async def get_contact(
    session: AsyncSession, account_id: int, external_id: str, *, for_update: bool = False
) -> Contact | None:
    query = select(Contact).where(
        Contact.account_id == account_id, Contact.external_id == external_id
    )
    if for_update:
        query = query.with_for_update()
    return await session.scalar(query)


async def get_contacts(
    session: AsyncSession, account_id: int, external_ids: list[str], *, for_update: bool = False
) -> dict[str, Contact]:
    query = select(Contact).where(
        Contact.account_id == account_id, Contact.external_id.in_(external_ids)
    )
    if for_update:
        query = query.order_by(Contact.contact_id).with_for_update()
    return {c.external_id: c for c in (await session.scalars(query)).all()}


async def insert_contact(session: AsyncSession, values: dict[str, Any]) -> Contact | None:
    """Inserts a contact; None when one with the same externalId appeared meanwhile."""
    statement = (
        pg_insert(Contact)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["account_id", "external_id"])
        .returning(Contact)
    )
    contact: Contact | None = await session.scalar(
        select(Contact).from_statement(statement).execution_options(populate_existing=True)
    )
    return contact


async def insert_contacts(session: AsyncSession, rows: list[dict[str, Any]]) -> set[str]:
    """Inserts the contacts in one statement, in the order given; answers the externalIds
    inserted (one created meanwhile by another request is left out)."""
    if not rows:
        return set()
    # A batch of parameters for one cached statement: SQLAlchemy sends it as one multi-row
    # INSERT (insertmanyvalues) without compiling a statement for each list's size.
    return set((await session.scalars(_INSERT, rows)).all())


_INSERT = (
    pg_insert(_CONTACTS)
    .on_conflict_do_nothing(index_elements=["account_id", "external_id"])
    .returning(_CONTACTS.c.external_id)
)


_UPDATE = (
    update(_CONTACTS)
    .where(
        _CONTACTS.c.account_id == bindparam("b_account_id"),
        _CONTACTS.c.contact_id == bindparam("b_contact_id"),
    )
    .values(
        properties=bindparam("b_properties"),
        email=bindparam("b_email"),
        email_channel=bindparam("b_email_channel"),
        sms_channel=bindparam("b_sms_channel"),
        test_group=bindparam("b_test_group"),
        changed_at=func.now(),
    )
)


async def update_contacts(
    session: AsyncSession, account_id: int, rows: dict[int, dict[str, Any]]
) -> None:
    """Writes the values of each contact (by contact_id), in contact order, in one round trip
    (psycopg pipelines the batch)."""
    if not rows:
        return
    await session.execute(
        _UPDATE,
        [
            {"b_account_id": account_id, "b_contact_id": contact_id}
            | {f"b_{name}": value for name, value in values.items()}
            for contact_id, values in sorted(rows.items())
        ],
    )


# Whether contact `c` can be reached on channel :channel ('EMAIL' or 'SMS') with permission bit
# :bit: not anonymized, the channel active with an address, the permission enabled. Mailings
# and automailers select their recipients with it.
REACHABLE = """
    c.anonymized_at IS NULL
    AND CASE WHEN :channel = 'SMS'
             THEN c.sms_channel AND c.properties ? 'mobileNumber'
             ELSE c.email_channel AND c.email IS NOT NULL END
    AND c.properties -> 'permissions'
        @> jsonb_build_array(jsonb_build_object('bit', CAST(:bit AS int), 'enabled', true))
"""
