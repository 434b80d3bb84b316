"""Contact property definitions and the rules for their values (the vendor's property types)."""

import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from email_validator import EmailNotValidError, validate_email

from audiences.core.validation import storable_text

PROPERTY_TYPES = (
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
)

PERMISSIONS = "permissions"

# The set every new account starts with: the vendor's common contact fields.
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
    {"name": "houseNumber", "description": "House number", "type": "int"},
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
        "type": "set",
        "entries": [
            {"bit": 1, "description": "Newsletter", "rank": 1},
            {"bit": 2, "description": "Offers", "rank": 2},
            {"bit": 3, "description": "Events", "rank": 3},
            {"bit": 4, "description": "Surveys", "rank": 4},
        ],
    },
]

_MOBILE = re.compile(r"^\+?[0-9][0-9 ()-]{5,23}$")
_GENDERS = {"M", "F", "U"}
MAX_STRING = 255


@dataclass(frozen=True)
class Definition:
    name: str
    description: str
    type: str
    entries: tuple[dict[str, Any], ...] | None = None


class PropertyValueError(ValueError):
    """A property value that its definition does not allow."""

    def __init__(self, name: str, reason: str) -> None:
        self.name = name
        self.reason = reason
        super().__init__(f"{name}: {reason}")


def normalize_email(value: Any) -> str:
    if not isinstance(value, str):
        raise PropertyValueError("email", "must be a string")
    try:
        return validate_email(value.strip(), check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise PropertyValueError("email", str(exc)) from exc


def _set_value(definition: Definition, value: Any) -> list[dict[str, Any]]:
    allowed = {int(e["bit"]) for e in definition.entries or ()}
    if not isinstance(value, list):
        raise PropertyValueError(definition.name, "must be a list of {bit, enabled}")
    result: dict[int, bool] = {}
    for item in value:
        if not isinstance(item, dict) or set(item) - {"bit", "enabled", "description", "rank"}:
            raise PropertyValueError(definition.name, "each entry must be {bit, enabled}")
        bit, enabled = item.get("bit"), item.get("enabled", True)
        if isinstance(bit, bool) or not isinstance(bit, int) or bit not in allowed:
            raise PropertyValueError(
                definition.name, f"bit {bit!r} is not one of {sorted(allowed)}"
            )
        if not isinstance(enabled, bool):
            raise PropertyValueError(definition.name, "enabled must be true or false")
        result[bit] = enabled
    return [{"bit": b, "enabled": e} for b, e in sorted(result.items())]


def normalize_value(definition: Definition, value: Any) -> Any:
    """The stored form of a property value, or PropertyValueError naming what is wrong."""
    name, kind = definition.name, definition.type
    if value is None:
        return None
    if kind == "email":
        return normalize_email(value)
    if kind == "set":
        return _set_value(definition, value)
    if kind == "int":
        if isinstance(value, bool) or not isinstance(value, int | str):
            raise PropertyValueError(name, "must be an integer")
        try:
            number = int(value)
        except ValueError as exc:
            raise PropertyValueError(name, "must be an integer") from exc
        if abs(number) > 2**63 - 1:
            raise PropertyValueError(name, "is out of range")
        return number
    if kind == "money":
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise PropertyValueError(name, "must be a number")
        try:
            amount = Decimal(str(value))
        except InvalidOperation as exc:
            raise PropertyValueError(name, "must be a number") from exc
        if not amount.is_finite():
            raise PropertyValueError(name, "must be a finite number")
        return float(amount)
    if not isinstance(value, str):
        raise PropertyValueError(name, "must be a string")
    if not storable_text(value):
        raise PropertyValueError(name, "must be text without NUL characters")
    if kind in ("date", "birthdate"):
        try:
            return date.fromisoformat(value).isoformat()
        except ValueError as exc:
            raise PropertyValueError(name, "must be a date as YYYY-MM-DD") from exc
    if kind == "dateTime":
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00")).isoformat()
        except ValueError as exc:
            raise PropertyValueError(name, "must be an ISO 8601 date and time") from exc
    if kind == "gender":
        if value.upper() not in _GENDERS:
            raise PropertyValueError(name, "must be M, F or U")
        return value.upper()
    if kind == "mobNr":
        if not _MOBILE.match(value.strip()):
            raise PropertyValueError(name, "must be a phone number such as +31612345678")
        return value.strip()
    if len(value) > MAX_STRING:
        raise PropertyValueError(name, f"must be at most {MAX_STRING} characters")
    return value


def merge_properties(
    definitions: dict[str, Definition],
    current: dict[str, Any],
    given: dict[str, Any],
    purge: bool,
) -> dict[str, Any]:
    """The properties after a write: given values validated and merged into the current ones
    (set entries merged bit by bit); with purge, what was not given is removed."""
    result: dict[str, Any] = {} if purge else dict(current)
    for name, raw in given.items():
        definition = definitions.get(name)
        if definition is None:
            raise PropertyValueError(name, "is not a property of this account")
        value = normalize_value(definition, raw)
        if value is None:
            result.pop(name, None)
            continue
        if definition.type == "set" and not purge and isinstance(current.get(name), list):
            bits = {e["bit"]: e["enabled"] for e in current[name]}
            bits.update({e["bit"]: e["enabled"] for e in value})
            value = [{"bit": b, "enabled": e} for b, e in sorted(bits.items())]
        result[name] = value
    return result
