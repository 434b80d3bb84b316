"""The vendor's `MPSearchQuery` and the date parameters of its contact listings.

Public Spotler clients build the query as `property=value` (a PHP client sends
`MPSearchQuery=email%3D` followed by the address, unencoded); the name is `externalId`,
`encryptedId` or any property of the account, standard or account-defined."""

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from audiences.contacts.errors import SearchQueryInvalid
from audiences.contacts.properties import SET, Definition
from audiences.contacts.values import PropertyValueError, normalize_value
from audiences.core import timeutil
from audiences.core.errors import DomainError

IDS = ("externalId", "encryptedId")
MAX_QUERY = 1000


@dataclass(frozen=True)
class Condition:
    """What a contact must have: `name` (an id or a property), compared as `kind`."""

    name: str
    kind: str
    value: Any
    standard_email: bool = False


def _definition(definitions: dict[str, Definition], name: str) -> Definition | None:
    found = definitions.get(name)
    if found is not None:
        return found
    # Property names are unique whatever their case, so a differently cased name is unambiguous.
    return next((d for n, d in definitions.items() if n.lower() == name.lower()), None)


def _bits(name: str, value: str) -> list[int]:
    parts = [p.strip() for p in re.split(r"[;,]", value) if p.strip()]
    if not parts or not all(p.isdigit() and len(p) <= 10 for p in parts):
        raise SearchQueryInvalid(f"MPSearchQuery: {name} takes enabled bits, such as {name}=1")
    return sorted({int(p) for p in parts})


def parse_query(raw: str | None, definitions: dict[str, Definition]) -> Condition:
    """`name=value`: the contacts whose id is the value, or whose property equals it (text in
    any case; numbers, money, dates and times by value; a set by the bits enabled). An empty
    value finds the contacts without the property."""
    if raw is None or "=" not in raw or len(raw) > MAX_QUERY:
        raise SearchQueryInvalid()
    name, _, value = raw.partition("=")
    name = name.strip()
    if name in IDS:
        if not value:
            raise SearchQueryInvalid(f"MPSearchQuery: {name} needs a value")
        return Condition(name, "id", value)
    definition = _definition(definitions, name)
    if definition is None:
        raise SearchQueryInvalid(
            f"MPSearchQuery: '{name}' is not a property of this account "
            "(see GET /contact/properties/list)"
        )
    name, kind = definition.name, definition.type
    if value.strip() == "":
        return Condition(name, "missing", None)
    if kind == SET:
        return Condition(name, SET, _bits(name, value))
    if kind == "email":
        # An address has no spaces: a space is a "+" the client did not encode.
        address = value.strip().replace(" ", "+").lower()
        return Condition(name, "email", address, standard_email=definition.standard)
    try:
        normalized = normalize_value(definition, value)
    except PropertyValueError as exc:
        raise SearchQueryInvalid(f"MPSearchQuery: {exc.name} {exc.reason}") from exc
    if kind in ("string", "postcode", "mobNr", "gender"):
        return Condition(name, "text", normalized)
    return Condition(name, kind, normalized)


def parse_moment(value: str | None, error: type[DomainError]) -> datetime:
    """ISO 8601 (a date alone is its midnight; without an offset, UTC) or epoch
    milliseconds; anything else is the vendor's 400 for that parameter."""
    if not (value or "").strip():
        raise error()
    try:
        return timeutil.parse_moment(value or "")
    except ValueError as exc:
        raise error() from exc
