"""The rules for contact property values, by the vendor's property types: what a write may
give, how it is stored, and how a read answers it."""

import math
import re
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from email_validator import SPECIAL_USE_DOMAIN_NAMES, EmailNotValidError, validate_email
from pydantic_core import to_json

from audiences.contacts.properties import SET, Definition
from audiences.core.timeutil import from_epoch_ms
from audiences.core.validation import storable_text

_MOBILE = re.compile(r"\+?[0-9][0-9 ()-]{5,23}")
_POSTCODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9 -]{0,15}")
_MONEY_TEXT = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")
_GENDERS = {"M", "F", "U"}
MAX_STRING = 255
# Money is kept as exact decimal text: up to 18 digits before the point and 6 after.
MONEY_INTEGER_DIGITS = 18
MONEY_SCALE = 6
# A JSON number reaches us as a float, exact up to 15 significant digits; beyond that the
# client's digits may already be lost, so it must send the amount as a string.
FLOAT_DIGITS = 15
MAX_INT = 2**63 - 1
SET_ENTRY_KEYS = {"bit", "enabled", "description", "rank"}


class PropertyValueError(ValueError):
    """A property value that its definition does not allow."""

    def __init__(self, name: str, reason: str) -> None:
        self.name = name
        self.reason = reason
        super().__init__(f"{name}: {reason}")


# A plain ASCII address (dot-atom local part, letters-digits-hyphens labels, an alphabetic
# top-level domain, no IDNA label): valid as it is, the domain lowercased, which is what
# email_validator answers for it at a small fraction of its cost (it dominated bulk imports).
# Anything else goes through email_validator.
_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_PLAIN_EMAIL = re.compile(rf"({_ATEXT}(?:\.{_ATEXT})*)@((?:{_LABEL}\.)+[A-Za-z]{{2,63}})")
_SPECIAL_USE = tuple(SPECIAL_USE_DOMAIN_NAMES)
_SPECIAL_USE_SUFFIXES = tuple(f".{name}" for name in _SPECIAL_USE)


def _plain_email(value: str) -> str | None:
    match = _PLAIN_EMAIL.fullmatch(value)
    if match is None or len(value) > 254 or len(match[1]) > 64 or "--" in match[2]:
        return None
    domain = match[2].lower()
    if domain in _SPECIAL_USE or domain.endswith(_SPECIAL_USE_SUFFIXES):
        return None
    return f"{match[1]}@{domain}"


def normalize_email(value: Any, name: str = "email") -> str:
    if not isinstance(value, str):
        raise PropertyValueError(name, "must be a string")
    plain = _plain_email(value.strip())
    if plain is not None:
        return plain
    try:
        return validate_email(value.strip(), check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise PropertyValueError(name, str(exc)) from exc


def _set_value(definition: Definition, value: Any) -> list[dict[str, Any]]:
    """Entries as stored: {bit, enabled}, one per bit; a description given is ignored."""
    name = definition.name
    allowed = definition.entry_descriptions()
    if not isinstance(value, list):
        raise PropertyValueError(name, "must be a list of {bit, enabled}")
    result: dict[int, bool] = {}
    for item in value:
        if not isinstance(item, dict) or not item.keys() <= SET_ENTRY_KEYS:
            raise PropertyValueError(name, "each entry must be {bit, enabled}")
        bit, enabled = item.get("bit"), item.get("enabled", True)
        if type(bit) is not int or bit not in allowed:
            raise PropertyValueError(name, f"bit {bit!r} is not one of {sorted(allowed)}")
        if not isinstance(enabled, bool):
            raise PropertyValueError(name, "enabled must be true or false")
        result[bit] = enabled
    return [{"bit": b, "enabled": e} for b, e in sorted(result.items())]


def _money(name: str, value: Any) -> str:
    """Exact decimal text: never a float, never rounded."""
    if isinstance(value, bool):
        raise PropertyValueError(name, "must be a number such as 12.50")
    if isinstance(value, float):
        if not math.isfinite(value):
            raise PropertyValueError(name, "must be a finite number")
        amount = Decimal(repr(value))
        if len(amount.normalize().as_tuple().digits) > FLOAT_DIGITS:
            raise PropertyValueError(
                name,
                f"has more than {FLOAT_DIGITS} significant digits, more than a JSON number "
                'carries exactly; send it as a string such as "12345678901234567.89"',
            )
    elif isinstance(value, int | Decimal):
        amount = Decimal(value)
    elif isinstance(value, str) and _MONEY_TEXT.fullmatch(value.strip()):
        try:
            amount = Decimal(value.strip())
        except ArithmeticError as exc:  # an exponent beyond what Decimal can hold
            raise PropertyValueError(name, "must be a finite number") from exc
    else:
        raise PropertyValueError(name, "must be a number such as 12.50")
    if not amount.is_finite():
        raise PropertyValueError(name, "must be a finite number")
    if not amount.is_zero() and amount.adjusted() >= MONEY_INTEGER_DIGITS:
        raise PropertyValueError(
            name, f"must be less than 10^{MONEY_INTEGER_DIGITS} in absolute value"
        )
    exponent = amount.as_tuple().exponent
    if isinstance(exponent, int) and -exponent > MONEY_SCALE:
        raise PropertyValueError(name, f"has more than {MONEY_SCALE} decimals")
    if amount.is_zero():
        amount = abs(amount)
    return format(amount, "f")


def _int(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise PropertyValueError(name, "must be an integer")
    try:
        number = int(value.strip()) if isinstance(value, str) else value
    except ValueError as exc:
        raise PropertyValueError(name, "must be an integer") from exc
    if abs(number) > MAX_INT:
        raise PropertyValueError(name, "is out of range")
    return number


def _date(name: str, value: str) -> str:
    """A date; a date and time gives its date (so a value read as a datetime writes back)."""
    try:
        return date.fromisoformat(value.strip()).isoformat()
    except ValueError:
        pass
    try:
        return datetime.fromisoformat(value.strip().replace("Z", "+00:00")).date().isoformat()
    except ValueError as exc:
        raise PropertyValueError(name, "must be a date as YYYY-MM-DD") from exc


def _date_time(name: str, value: Any) -> str:
    """ISO 8601 with its offset; without one it is UTC. Epoch milliseconds are taken too."""
    if isinstance(value, int) and not isinstance(value, bool):
        try:
            return from_epoch_ms(value).isoformat()
        except (OverflowError, ValueError, OSError) as exc:
            raise PropertyValueError(name, "is out of range") from exc
    if not isinstance(value, str):
        raise PropertyValueError(name, "must be an ISO 8601 date and time")
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError as exc:
        raise PropertyValueError(name, "must be an ISO 8601 date and time") from exc
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).isoformat()


def _text(name: str, kind: str, value: Any) -> str:
    # The vendor's Java stack takes a number where text is expected; so do we (whole numbers).
    if isinstance(value, int) and not isinstance(value, bool) and kind == "string":
        value = str(value)
    if not isinstance(value, str):
        raise PropertyValueError(name, "must be a string")
    if not storable_text(value):
        raise PropertyValueError(name, "must be text without NUL characters")
    if kind in ("date", "birthdate"):
        return _date(name, value)
    if kind == "gender":
        if value.strip().upper() not in _GENDERS:
            raise PropertyValueError(name, "must be M, F or U")
        return value.strip().upper()
    if kind == "mobNr":
        if not _MOBILE.fullmatch(value.strip()):
            raise PropertyValueError(name, "must be a phone number such as +31612345678")
        return value.strip()
    if kind == "postcode":
        if not _POSTCODE.fullmatch(value.strip()):
            raise PropertyValueError(name, "must be a postal code such as 1234 AB")
        return value.strip().upper()
    if len(value) > MAX_STRING:
        raise PropertyValueError(name, f"must be at most {MAX_STRING} characters")
    return value


def normalize_value(definition: Definition, value: Any) -> Any:
    """The stored form of a property value, or PropertyValueError naming what is wrong."""
    name, kind = definition.name, definition.type
    if value is None:
        return None
    if kind == "email":
        return normalize_email(value, name)
    if kind == SET:
        return _set_value(definition, value)
    if kind == "int":
        return _int(name, value)
    if kind == "money":
        return _money(name, value)
    if kind == "dateTime":
        return _date_time(name, value)
    return _text(name, kind, value)


def bits_value(definition: Definition, text: str) -> list[dict[str, Any]]:
    """A set as a CSV cell gives it: its enabled bits, such as 1;3 (or 1,3)."""
    bits = [b.strip() for b in text.replace(",", ";").split(";") if b.strip()]
    if not all(b.isdecimal() and len(b) <= 10 for b in bits):
        raise PropertyValueError(definition.name, "lists bits such as 1;3")
    return _set_value(definition, [{"bit": int(b), "enabled": True} for b in bits])


# How many distinct values a bulk write remembers the stored form of.
MEMO_SIZE = 16384


class ValueNormalizer:
    """normalize_value for a bulk write: the stored form of a value seen before (a city, a
    gender, a country, a first name, a set's entries) is answered from memory, the same object
    each time (so it is not to be changed). E-mail addresses, nearly all distinct, are not
    remembered. For CSV, a set's cell lists its enabled bits (bits_value)."""

    def __init__(self, *, csv: bool = False) -> None:
        self._csv = csv
        self._memo: dict[tuple[str, str | bytes], Any] = {}

    def __call__(self, definition: Definition, value: Any) -> Any:
        kind = type(value)
        if kind is str:
            if definition.type == "email":
                return normalize_email(value, definition.name)
            key: tuple[str, str | bytes] = (definition.name, value)
        elif kind is list:
            key = (definition.name, to_json(value))
        else:
            return normalize_value(definition, value)
        stored = self._memo.get(key)
        if stored is None:
            if self._csv and definition.type == SET and kind is str:
                stored = bits_value(definition, value)
            else:
                stored = normalize_value(definition, value)
            if len(self._memo) < MEMO_SIZE:
                self._memo[key] = stored
        return stored


def merge_sets(current: list[dict[str, Any]], given: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Set entries merged bit by bit, the given ones winning."""
    bits = {e["bit"]: e["enabled"] for e in current}
    bits.update({e["bit"]: e["enabled"] for e in given})
    return [{"bit": b, "enabled": e} for b, e in sorted(bits.items())]


def merge_properties(
    definitions: dict[str, Definition],
    current: dict[str, Any],
    given: dict[str, Any],
    purge: bool,
    normalize: Callable[[Definition, Any], Any] = normalize_value,
) -> dict[str, Any]:
    """The properties after a write: given values validated and merged into the current ones
    (set entries merged bit by bit); with purge, what was not given is removed."""
    result: dict[str, Any] = {} if purge else dict(current)
    for name, raw in given.items():
        definition = definitions.get(name)
        if definition is None:
            raise PropertyValueError(name, "is not a property of this account")
        value = normalize(definition, raw)
        if value is None:
            result.pop(name, None)
            continue
        if definition.type == SET and not purge and isinstance(current.get(name), list):
            value = merge_sets(current[name], value)
        result[name] = value
    return result


def readable(definitions: dict[str, Definition], stored: dict[str, Any]) -> dict[str, Any]:
    """Properties as a contact read answers them: every set-type property present as a list
    of {bit, description, enabled} (empty when nothing is set), nothing the account does not
    define."""
    result = {name: value for name, value in stored.items() if name in definitions}
    for name, definition in definitions.items():
        if definition.type != SET:
            continue
        descriptions = definition.entry_descriptions()
        result[name] = [
            {
                "bit": e["bit"],
                "description": descriptions.get(e["bit"], ""),
                "enabled": e["enabled"],
            }
            for e in stored.get(name) or ()
            if isinstance(e, dict) and e.get("bit") in descriptions
        ]
    return result
