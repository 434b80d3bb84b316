"""Contact property definitions: the vendor's property types, the standard set every account
starts with, and the rules for the properties an account defines itself."""

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Literal, get_args

from audiences.core.validation import storable_text

PropertyType = Literal[
    "birthdate",
    "date",
    "dateTime",
    "email",
    "gender",
    "int",
    "mobNr",
    "money",
    "postcode",
    "set",
    "string",
]
PROPERTY_TYPES: tuple[str, ...] = get_args(PropertyType)
SET = "set"
PERMISSIONS = "permissions"

# The set every new account starts with: the vendor's common contact fields. houseNumber is
# text, as the vendor answers it (a Python SDK's model reads it as a string).
DEFAULT_PROPERTIES: list[dict[str, Any]] = [
    {"name": "email", "description": "E-mail address", "type": "email"},
    {"name": "firstName", "description": "First name", "type": "string"},
    {"name": "infix", "description": "Infix", "type": "string"},
    {"name": "lastName", "description": "Last name", "type": "string"},
    {"name": "gender", "description": "Gender (M, F or U)", "type": "gender"},
    {"name": "birthday", "description": "Date of birth", "type": "birthdate"},
    {"name": "mobileNumber", "description": "Mobile number", "type": "mobNr"},
    {"name": "phoneNumber", "description": "Phone number", "type": "string"},
    {"name": "company", "description": "Company", "type": "string"},
    {"name": "street", "description": "Street", "type": "string"},
    {"name": "houseNumber", "description": "House number", "type": "string"},
    {"name": "houseNumberSuffix", "description": "House number suffix", "type": "string"},
    {"name": "postalCode", "description": "Postal code", "type": "postcode"},
    {"name": "city", "description": "City", "type": "string"},
    {"name": "country", "description": "Country", "type": "string"},
    {"name": "language", "description": "Language", "type": "string"},
    {"name": "customerSince", "description": "Customer since", "type": "date"},
    {"name": "lastOrderAt", "description": "Date and time of the last order", "type": "dateTime"},
    {"name": "turnover", "description": "Total turnover", "type": "money"},
    {
        "name": PERMISSIONS,
        "description": "Permissions",
        "type": SET,
        "entries": [
            {"bit": 1, "description": "Newsletter", "rank": 1},
            {"bit": 2, "description": "Offers", "rank": 2},
            {"bit": 3, "description": "Events", "rank": 3},
            {"bit": 4, "description": "Surveys", "rank": 4},
        ],
    },
]

# Names a contact's JSON or a CSV import header already uses for something else.
RESERVED_NAMES = frozenset(
    n.lower()
    for n in (
        "externalId",
        "encryptedId",
        "testGroup",
        "temporary",
        "created",
        "lastChanged",
        "channels",
        "properties",
        "contact",
    )
)
NAME_PATTERN = "[A-Za-z][A-Za-z0-9_]{0,63}"
_NAME = re.compile(NAME_PATTERN)
MAX_DESCRIPTION = 255
MAX_ENTRIES = 100
MAX_BIT = 2**31 - 1
MAX_ACCOUNT_PROPERTIES = 200


@dataclass(frozen=True)
class Definition:
    name: str
    description: str
    type: str
    entries: tuple[dict[str, Any], ...] | None = None
    standard: bool = False

    @cached_property
    def _descriptions(self) -> dict[int, str]:
        return {int(e["bit"]): str(e["description"]) for e in self.entries or ()}

    def entry_descriptions(self) -> Mapping[int, str]:
        """Each bit's description (built once: a bulk import asks it for every contact)."""
        return self._descriptions


class DefinitionError(ValueError):
    """A property definition that the rules do not allow; the message says which rule."""


def check_name(name: str) -> str:
    if not _NAME.fullmatch(name):
        raise DefinitionError(
            "A property name is 1 to 64 letters, digits or underscores, starting with a letter"
        )
    if name.lower() in RESERVED_NAMES:
        raise DefinitionError(f"'{name}' is reserved for a field of the contact itself")
    return name


def check_description(description: str | None, default: str) -> str:
    text = default if description is None else description.strip()
    if not text or len(text) > MAX_DESCRIPTION or not storable_text(text):
        raise DefinitionError(f"A description is 1 to {MAX_DESCRIPTION} characters of text")
    return text


def check_entries(kind: str, entries: list[dict[str, Any]] | None) -> list[dict[str, Any]] | None:
    """The stored entries of a set (bits unique, ranked), or None for any other type."""
    if kind != SET:
        if entries:
            raise DefinitionError(f"Only a set has entries; a property of type {kind} has none")
        return None
    if entries is None:
        raise DefinitionError("A set needs its entries: [{bit, description, rank?}]")
    if len(entries) > MAX_ENTRIES:
        raise DefinitionError(f"A set has at most {MAX_ENTRIES} entries")
    checked: list[dict[str, Any]] = []
    seen: set[int] = set()
    for position, entry in enumerate(entries, start=1):
        bit = entry.get("bit")
        if isinstance(bit, bool) or not isinstance(bit, int) or not 1 <= bit <= MAX_BIT:
            raise DefinitionError(f"Entry bits are whole numbers from 1 to {MAX_BIT}")
        if bit in seen:
            raise DefinitionError(f"Bit {bit} is given twice")
        seen.add(bit)
        rank = entry.get("rank")
        if rank is None:
            rank = position
        if isinstance(rank, bool) or not isinstance(rank, int) or not 0 <= rank <= MAX_BIT:
            raise DefinitionError("An entry's rank is a whole number of at least 0")
        description = entry.get("description")
        if not isinstance(description, str):
            raise DefinitionError(f"Bit {bit} needs a description")
        checked.append(
            {"bit": bit, "description": check_description(description, ""), "rank": rank}
        )
    return sorted(checked, key=lambda e: (e["rank"], e["bit"]))
