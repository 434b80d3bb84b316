"""Shared rules for identifiers and names that clients choose."""

import unicodedata

MAX_ID_LENGTH = 255


def has_control_characters(value: str) -> bool:
    return any(unicodedata.category(ch) in ("Cc", "Cs") for ch in value)


def valid_external_id(value: str | None, *, allow_slash: bool = True) -> bool:
    """1 to 255 characters, not blank, no control characters (and no '/' where it is a path
    segment)."""
    if value is None or not value.strip() or len(value) > MAX_ID_LENGTH:
        return False
    if not allow_slash and "/" in value:
        return False
    return not has_control_characters(value)


def storable_text(value: str) -> bool:
    """PostgreSQL text cannot hold NUL, and lone surrogates cannot be encoded as UTF-8."""
    if "\x00" in value:
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def contains_pattern(fragment: str) -> str:
    """An ILIKE pattern matching text that contains `fragment` literally (its % and _ too)."""
    escaped = fragment.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"
