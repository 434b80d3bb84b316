"""Rules for contacts: property validation, the vendor's update and purge flags, anonymizing."""

import base64
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy import func
from sqlalchemy.ext.asyncio import AsyncSession

from audiences.contacts import repository
from audiences.contacts.definitions import by_name as definitions_by_rows
from audiences.contacts.definitions import definitions_by_name
from audiences.contacts.errors import (
    ContactAlreadyExists,
    ContactAnonymized,
    ContactIdInvalid,
    ContactNotFound,
    ContactWithoutId,
    EmailInvalid,
    PropertyInvalid,
    TooManyContacts,
)
from audiences.contacts.models import Contact
from audiences.contacts.properties import Definition
from audiences.contacts.schemas import (
    MAX_CONTACTS_PER_LIST,
    AddContactResponse,
    AddContactsRequest,
    Channel,
    ContactIn,
    ContactRead,
    ContactRequest,
)
from audiences.contacts.values import (
    PropertyValueError,
    ValueNormalizer,
    merge_properties,
    normalize_value,
    readable,
)
from audiences.core.errors import DomainError, InvalidParams
from audiences.core.timeutil import epoch_ms
from audiences.core.validation import valid_external_id


def to_read(contact: Contact, definitions: dict[str, Definition]) -> ContactRead:
    """A contact as clients parse it (every set present, entries with their descriptions)."""
    return ContactRead(
        external_id=contact.external_id,
        created=epoch_ms(contact.created_at) or 0,
        last_changed=epoch_ms(contact.changed_at) or 0,
        encrypted_id=contact.encrypted_id,
        test_group=contact.test_group,
        temporary=contact.temporary,
        properties=readable(definitions, contact.properties),
        channels=[
            Channel(name="EMAIL", value=contact.email_channel),
            Channel(name="SMS", value=contact.sms_channel),
        ],
    )


def checked_external_id(value: str | None) -> str:
    if value is None or value == "":
        raise ContactWithoutId()
    if not valid_external_id(value):
        raise ContactIdInvalid()
    return value


class Current(Protocol):
    """What a write reads of the contact it writes over (a stored contact, or the values a
    contact list has given it so far)."""

    @property
    def properties(self) -> dict[str, Any]: ...
    @property
    def email_channel(self) -> bool: ...
    @property
    def sms_channel(self) -> bool: ...
    @property
    def test_group(self) -> bool: ...


def write_values(
    definitions: dict[str, Definition],
    given: ContactIn,
    current: Current | None,
    purge: bool,
    normalize: Callable[[Definition, Any], Any] = normalize_value,
) -> dict[str, Any]:
    """Column values after writing `given` over `current` (None for a new contact)."""
    try:
        properties = merge_properties(
            definitions,
            current.properties if current else {},
            given.properties or {},
            purge,
            normalize,
        )
    except PropertyValueError as exc:
        definition = definitions.get(exc.name)
        if definition is not None and definition.type == "email":
            raise EmailInvalid(property=exc.name, reason=exc.reason) from exc
        raise PropertyInvalid(property=exc.name, reason=exc.reason) from exc
    values: dict[str, Any] = {"properties": properties, "email": properties.get("email")}
    channels = {c.name: c.value for c in given.channels or ()}
    if current is None:
        values["email_channel"] = channels.get("EMAIL", True)
        values["sms_channel"] = channels.get("SMS", "mobileNumber" in properties)
        values["test_group"] = bool(given.test_group)
    else:
        values["email_channel"] = channels.get("EMAIL", current.email_channel)
        values["sms_channel"] = channels.get("SMS", current.sms_channel)
        values["test_group"] = current.test_group if given.test_group is None else given.test_group
    return values


def _apply(contact: Contact, values: dict[str, Any]) -> None:
    if contact.anonymized_at is not None:
        raise ContactAnonymized()
    for name, value in values.items():
        setattr(contact, name, value)
    contact.changed_at = func.now()


async def _write(
    session: AsyncSession,
    account_id: int,
    definitions: dict[str, Definition],
    given: ContactIn,
    update: bool,
    purge: bool,
) -> bool:
    """Creates the contact, or updates it when it exists and `update` is set. True if created."""
    external_id = checked_external_id(given.external_id)
    existing = await repository.get_contact(session, account_id, external_id, for_update=True)
    if existing is None:
        values = write_values(definitions, given, None, purge)
        created = await repository.insert_contact(
            session,
            {
                "account_id": account_id,
                "external_id": external_id,
                "encrypted_id": secrets.token_urlsafe(18),
                **values,
            },
        )
        if created is not None:
            return True
        # Another request created it between our read and our insert: treat it as existing.
        existing = await repository.get_contact(session, account_id, external_id, for_update=True)
        assert existing is not None
    if not update:
        raise ContactAlreadyExists()
    _apply(existing, write_values(definitions, given, existing, purge))
    await session.flush()
    return False


async def create_contact(session: AsyncSession, account_id: int, request: ContactRequest) -> None:
    """Adds a contact; an existing one is updated only when `update` is set."""
    definitions = await definitions_by_name(session, account_id)
    await _write(session, account_id, definitions, request.contact, request.update, request.purge)


async def update_contact(
    session: AsyncSession, account_id: int, external_id: str, request: ContactRequest
) -> None:
    """Changes an existing contact; with `purge`, properties not given are removed."""
    given_id = request.contact.external_id
    if given_id is not None and given_id != external_id:
        raise InvalidParams("Path id doesn't match contact id")
    contact = await repository.get_contact(session, account_id, external_id, for_update=True)
    if contact is None:
        raise ContactNotFound()
    definitions = await definitions_by_name(session, account_id)
    _apply(contact, write_values(definitions, request.contact, contact, request.purge))
    await session.flush()


async def get_contact(session: AsyncSession, account_id: int, external_id: str) -> ContactRead:
    contact = await repository.get_contact(session, account_id, external_id)
    if contact is None:
        raise ContactNotFound()
    return to_read(contact, await definitions_by_name(session, account_id))


_CODES = {
    "INVALID_PROPERTY": "PROPERTY_INVALID",
    "CONTACT_ALREADY_EXISTS": "CONTACT_ALREADY_EXISTS",
}


async def add_contacts(
    session: AsyncSession, account_id: int, request: AddContactsRequest
) -> list[AddContactResponse]:
    """Adds (or with `update`, updates) up to 100 contacts, answering a code per contact."""
    if len(request.contacts) > MAX_CONTACTS_PER_LIST:
        raise TooManyContacts()
    if any(not c.external_id for c in request.contacts):
        raise ContactWithoutId()
    ids = sorted({c.external_id for c in request.contacts if c.external_id})
    # The definitions and one locking read (in externalId order: concurrent writers that share
    # contacts lock them in the same order) in one round trip, then one statement that inserts
    # and updates: a few round trips, not 200.
    rows, existing = await repository.lock_listed_contacts(session, account_id, ids)
    definitions = definitions_by_rows(rows)
    plan = _ListPlan(definitions, existing, request.update, request.purge)
    # Written in externalId order (a repeated id in request order), answered in request order.
    order = sorted(
        range(len(request.contacts)), key=lambda i: request.contacts[i].external_id or ""
    )
    results = {index: plan.add(request.contacts[index]) for index in order}
    new = [plan.new[e] for e in sorted(plan.new)]
    for row, encrypted_id in zip(new, _encrypted_ids(len(new)), strict=True):
        row["encrypted_id"] = encrypted_id
    inserted = await repository.write_listed_contacts(session, account_id, new, plan.changed)
    # Created by another request between the read and the insert: written as one at a time.
    for index in order:
        given = request.contacts[index]
        if given.external_id in plan.new and given.external_id not in inserted:
            results[index] = await _write_one(session, account_id, definitions, given, request)
    return [results[i] for i in range(len(request.contacts))]


def _encrypted_ids(count: int) -> list[str]:
    """`count` values as secrets.token_urlsafe(18) makes them (18 random bytes, 24 characters of
    URL-safe base64), from one read of the system's randomness instead of one each."""
    randomness = secrets.token_bytes(18 * count)
    return [
        base64.urlsafe_b64encode(randomness[start : start + 18]).decode("ascii")
        for start in range(0, 18 * count, 18)
    ]


def _failure(given: ContactIn, error: DomainError) -> AddContactResponse:
    code = _CODES.get(error.error_type, "ERROR")
    return AddContactResponse(external_id=given.external_id, code=code, message=error.message)


def _success(given: ContactIn, created: bool) -> AddContactResponse:
    message = "Contact added" if created else "Contact updated"
    return AddContactResponse(external_id=given.external_id, code="OK", message=message)


async def _write_one(
    session: AsyncSession,
    account_id: int,
    definitions: dict[str, Definition],
    given: ContactIn,
    request: AddContactsRequest,
) -> AddContactResponse:
    try:
        created = await _write(
            session, account_id, definitions, given, request.update, request.purge
        )
    except DomainError as error:
        return _failure(given, error)
    return _success(given, created)


@dataclass
class _Written:
    """A contact as a contact list has written it so far."""

    contact_id: int | None
    properties: dict[str, Any]
    email: str | None
    email_channel: bool
    sms_channel: bool
    test_group: bool
    anonymized_at: None = None


@dataclass
class _ListPlan:
    """What a contact list writes: new contacts' rows by externalId, existing contacts' values
    by contact_id, and each contact as the list has left it so far (a repeated id writes over
    the earlier line, as one request at a time would)."""

    definitions: dict[str, Definition]
    existing: Mapping[str, Any]
    update: bool
    purge: bool
    new: dict[str, dict[str, Any]] = field(default_factory=dict)
    changed: dict[int, dict[str, Any]] = field(default_factory=dict)
    written: dict[str, "_Written"] = field(default_factory=dict)
    # A list's contacts share values (a city, a permission set): each normalized once.
    normalize: ValueNormalizer = field(default_factory=ValueNormalizer)

    def add(self, given: ContactIn) -> AddContactResponse:
        try:
            external_id = checked_external_id(given.external_id)
            current: Any = self.written.get(external_id) or self.existing.get(external_id)
            if current is not None:
                if not self.update:
                    raise ContactAlreadyExists()
                if current.anonymized_at is not None:
                    raise ContactAnonymized()
            values = write_values(self.definitions, given, current, self.purge, self.normalize)
        except DomainError as error:
            return _failure(given, error)
        # The loaded row stays untouched: the list's writes are kept beside it.
        contact_id: int | None = current.contact_id if current is not None else None
        self.written[external_id] = _Written(contact_id, **values)
        if external_id in self.new:
            self.new[external_id].update(values)
        elif contact_id is not None:
            self.changed[contact_id] = values
        else:
            self.new[external_id] = {"external_id": external_id, **values}
        return _success(given, current is None)


async def anonymize_contact(session: AsyncSession, account_id: int, external_id: str) -> None:
    """Removes every personal property and channel; the contact stays, unreachable."""
    contact = await repository.get_contact(session, account_id, external_id, for_update=True)
    if contact is None:
        raise ContactNotFound()
    contact.properties = {}
    contact.email = None
    contact.email_channel = False
    contact.sms_channel = False
    contact.test_group = False
    contact.anonymized_at = func.now()
    contact.changed_at = func.now()
    await session.flush()
