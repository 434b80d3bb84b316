"""Rules for an account's contact property definitions: the standard ones every account starts
with (kept, though their descriptions and a set's entries may change), and the ones the account
defines itself (added, changed, removed with their values)."""

from collections.abc import Iterable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from audiences.contacts import repository
from audiences.contacts.errors import (
    PropertyDefinitionInvalid,
    PropertyLimitReached,
    PropertyNameTaken,
    PropertyNotFound,
    StandardPropertyKept,
)
from audiences.contacts.models import PropertyDefinition
from audiences.contacts.properties import (
    DEFAULT_PROPERTIES,
    MAX_ACCOUNT_PROPERTIES,
    PERMISSIONS,
    SET,
    Definition,
    DefinitionError,
    check_description,
    check_entries,
    check_name,
)
from audiences.contacts.schemas import (
    DefinedProperty,
    PropertyCreate,
    PropertyRead,
    PropertyUpdate,
    SetPropertyEntry,
)
from audiences.core.errors import InvalidParams


async def seed_default_properties(session: AsyncSession, account_id: int) -> None:
    """Every new account starts with the vendor's common contact properties."""
    await repository.insert_definitions(session, account_id, DEFAULT_PROPERTIES, standard=True)


def by_name(rows: Iterable[Any]) -> dict[str, Definition]:
    """Definitions by name, of rows as `repository.definition_rows` reads them."""
    return {
        r.name: Definition(
            r.name, r.description, r.type, tuple(r.entries or ()) or None, r.standard
        )
        for r in rows
    }


async def definitions_by_name(session: AsyncSession, account_id: int) -> dict[str, Definition]:
    return by_name(await repository.definition_rows(session, account_id))


def to_defined(row: PropertyDefinition) -> DefinedProperty:
    return DefinedProperty(
        name=row.name,
        description=row.description,
        type=row.type,
        entries=[SetPropertyEntry(**e) for e in row.entries or ()] if row.type == SET else None,
        standard=row.standard,
    )


async def list_properties(session: AsyncSession, account_id: int) -> list[DefinedProperty]:
    """The properties a contact of this account can have, standard ones first."""
    rows = await repository.list_definitions(session, account_id)
    return [to_defined(r) for r in sorted(rows, key=lambda r: not r.standard)]


async def vendor_properties(session: AsyncSession, account_id: int) -> list[PropertyRead]:
    """The vendor's `/contact/properties/list`: each property without our `standard` flag."""
    return [
        PropertyRead(**p.model_dump(exclude={"standard"}))
        for p in await list_properties(session, account_id)
    ]


def _checked_entries(
    kind: str, body: PropertyCreate | PropertyUpdate
) -> list[dict[str, Any]] | None:
    given = None if body.entries is None else [e.model_dump() for e in body.entries]
    try:
        return check_entries(kind, given)
    except DefinitionError as exc:
        raise PropertyDefinitionInvalid(str(exc)) from exc


async def add_property(
    session: AsyncSession, account_id: int, body: PropertyCreate
) -> DefinedProperty:
    """Defines a property; its name is unique in the account whatever its case."""
    try:
        name = check_name(body.name)
        description = check_description(body.description, name)
    except DefinitionError as exc:
        raise PropertyDefinitionInvalid(str(exc)) from exc
    entries = _checked_entries(body.type, body)
    if await repository.find_definition_by_lower_name(session, account_id, name) is not None:
        raise PropertyNameTaken()
    if await repository.count_account_defined(session, account_id) >= MAX_ACCOUNT_PROPERTIES:
        raise PropertyLimitReached(
            f"Maximum of {MAX_ACCOUNT_PROPERTIES} account-defined properties exceeded"
        )
    definition = {"name": name, "description": description, "type": body.type, "entries": entries}
    await repository.insert_definitions(session, account_id, [definition], standard=False)
    # A write that raced the removal of an earlier property of this name may have left a
    # value behind; the new property starts with none.
    await repository.strip_values(session, account_id, name)
    await session.flush()
    row = await repository.get_definition(session, account_id, name)
    assert row is not None
    return to_defined(row)


async def update_property(
    session: AsyncSession, account_id: int, name: str, body: PropertyUpdate
) -> DefinedProperty:
    """Changes a property's description and, for a set, its entries; a bit left out of the
    entries is removed from every contact's value."""
    row = await repository.get_definition(session, account_id, name, for_update=True)
    if row is None:
        raise PropertyNotFound()
    if body.name is not None and body.name != row.name:
        raise InvalidParams("Path name doesn't match property name")
    if body.type is not None and body.type != row.type:
        raise PropertyDefinitionInvalid(
            f"A property's type cannot change ({row.type}); remove it and add it again"
        )
    if body.description is not None:
        try:
            row.description = check_description(body.description, row.name)
        except DefinitionError as exc:
            raise PropertyDefinitionInvalid(str(exc)) from exc
    if body.entries is not None:
        entries = _checked_entries(row.type, body) or []
        kept = {int(e["bit"]) for e in entries}
        gone = sorted({int(e["bit"]) for e in row.entries or ()} - kept)
        row.entries = entries
        if gone:
            await repository.strip_set_bits(session, account_id, row.name, gone)
    await session.flush()
    return to_defined(row)


async def remove_property(session: AsyncSession, account_id: int, name: str) -> None:
    """Removes an account-defined property and its value from every contact; the standard
    properties stay."""
    row = await repository.get_definition(session, account_id, name, for_update=True)
    if row is None:
        raise PropertyNotFound()
    if row.standard:
        raise StandardPropertyKept()
    await repository.delete_definition(session, row)
    await repository.strip_values(session, account_id, row.name)
    await session.flush()


async def check_permission_bit(session: AsyncSession, account_id: int, bit: int) -> None:
    """The bit must be one of the account's `permissions` entries."""
    definitions = await definitions_by_name(session, account_id)
    permissions = definitions.get(PERMISSIONS)
    bits = sorted(permissions.entry_descriptions()) if permissions else []
    if bit not in bits:
        raise InvalidParams(
            f"permissionBit {bit} is not a permission of this account; choose one of {bits}"
        )
