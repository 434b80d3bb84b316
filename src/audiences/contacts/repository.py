"""All SQL about contacts and their property definitions."""

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row, delete, func, insert, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from audiences.contacts.models import Contact, PropertyDefinition
from audiences.core.statements import HotStatement, json_array, json_text, run_together


async def list_definitions(session: AsyncSession, account_id: int) -> Sequence[PropertyDefinition]:
    rows = await session.scalars(
        select(PropertyDefinition)
        .where(PropertyDefinition.account_id == account_id)
        .order_by(PropertyDefinition.property_id)
    )
    return rows.all()


_DEFINITIONS = """
    SELECT name, description, type, entries, standard FROM contact_properties
    WHERE account_id = :account_id ORDER BY property_id
"""


async def definition_rows(session: AsyncSession, account_id: int) -> Sequence[Row[Any]]:
    """The account's definitions as plain rows (what writes and reads check values by)."""
    return (await session.execute(text(_DEFINITIONS), {"account_id": account_id})).all()


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


# The contacts a list names that exist, locked as every writer of several contacts locks them
# (in externalId order byte by byte, as bulk_repository's import does, with the lock the update
# itself takes: two writers that share contacts wait for each other instead of deadlocking),
# as plain rows: what a list reads of them. Read by
# their keys: the account is a subquery's value, unknown to the planner (as a constant, stale
# statistics that believe the account nearly empty made it read the account's every contact).
LOCK_LISTED = HotStatement(
    f"""
    SELECT external_id, contact_id, properties, email_channel, sms_channel, test_group,
           anonymized_at
    FROM contacts
    WHERE account_id = (SELECT CAST(:account_id AS bigint))
      AND external_id = ANY({json_array("external_ids", "text")})
    ORDER BY external_id COLLATE "C"
    FOR NO KEY UPDATE
    """
)
_HOT_DEFINITIONS = HotStatement(_DEFINITIONS)


async def lock_listed_contacts(
    session: AsyncSession, account_id: int, external_ids: list[str]
) -> tuple[list[Any], dict[str, Any]]:
    """The account's definitions (as `definition_rows`) and the contacts of these externalIds
    that exist, locked, by externalId: read in one round trip."""
    definitions, contacts = await run_together(
        session,
        (_HOT_DEFINITIONS, {"account_id": account_id}),
        (LOCK_LISTED, {"account_id": account_id, "external_ids": json_text(external_ids)}),
    )
    return definitions, {row.external_id: row for row in contacts}


def _listed(rows: str) -> str:
    """The contacts of the JSON document :<rows>, each with its place in it (n)."""
    return f"""
        ROWS FROM (jsonb_to_recordset(CAST(:{rows} AS jsonb)) AS (
            contact_id bigint, external_id text, encrypted_id text, email text,
            properties jsonb, test_group boolean, email_channel boolean, sms_channel boolean
        )) WITH ORDINALITY AS u(
            contact_id, external_id, encrypted_id, email, properties, test_group,
            email_channel, sms_channel, n
        )
    """


# A list's writes in one statement: its existing contacts updated (read by primary key, the
# account unknown to the planner, as above), its new ones inserted in the order given
# (externalId order: concurrent writers lock the keys they share in the same order). The
# contacts are sent as JSON documents, encoded at once (a text array of JSON values had each
# escaped one at a time), to one short statement whose parse psycopg caches (a multi-row
# VALUES of every value of the list was parsed anew each time), on the driver connection
# (SQLAlchemy's execution path cost about a millisecond more).
WRITE_LISTED = HotStatement(
    f"""
    WITH updated AS (
        UPDATE contacts c
        SET properties = u.properties, email = u.email, email_channel = u.email_channel,
            sms_channel = u.sms_channel, test_group = u.test_group, changed_at = now()
        FROM {_listed("changed")}
        WHERE c.account_id = (SELECT CAST(:account_id AS bigint))
          AND c.contact_id = ANY({json_array("contact_ids", "bigint")})
          AND c.contact_id = u.contact_id
    )
    INSERT INTO contacts (
        account_id, external_id, encrypted_id, email, properties, test_group, email_channel,
        sms_channel
    )
    SELECT :account_id, u.external_id, u.encrypted_id, u.email, u.properties, u.test_group,
           u.email_channel, u.sms_channel
    FROM {_listed("new")}
    ORDER BY u.n
    ON CONFLICT (account_id, external_id) DO NOTHING
    RETURNING external_id
    """
)


async def write_listed_contacts(
    session: AsyncSession,
    account_id: int,
    new: list[dict[str, Any]],
    changed: dict[int, dict[str, Any]],
) -> set[str]:
    """Inserts the new contacts (each its external_id, encrypted_id, email, properties,
    test_group, email_channel and sms_channel) in the order given and writes the values of the
    changed ones (by contact_id), in one statement; answers the externalIds inserted (one
    created meanwhile by another request is left out)."""
    if not new and not changed:
        return set()
    contact_ids = sorted(changed)
    params = {
        "account_id": account_id,
        "contact_ids": json_text(contact_ids),
        "changed": json_text([{"contact_id": c, **changed[c]} for c in contact_ids]),
        "new": json_text(new),
    }
    (rows,) = await run_together(session, (WRITE_LISTED, params))
    return {row.external_id for row in rows}


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
