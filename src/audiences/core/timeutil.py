import re
from datetime import UTC, datetime
from typing import Any

# An unencoded "+" of an offset arrives as a space: "2026-12-01T10:00:00 01:00".
_SPACED_OFFSET = re.compile(r"(T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?) (\d{2}(?::?\d{2})?)$")
# Epoch milliseconds: at most 14 digits (to the year 5138; later dates are written in ISO
# 8601), so that the document's pattern states exactly what is accepted.
MAX_EPOCH_DIGITS = 14
# A moment as a query parameter: epoch milliseconds or ISO 8601 (a date and time or a date).
MOMENT_SCHEMA: dict[str, Any] = {
    "anyOf": [
        {"type": "string", "pattern": f"^[0-9]{{1,{MAX_EPOCH_DIGITS}}}$"},
        {"type": "string", "format": "date-time"},
        {"type": "string", "format": "date"},
    ]
}
# The same, where an empty value means "not given".
OPTIONAL_MOMENT_SCHEMA: dict[str, Any] = {
    "anyOf": [*MOMENT_SCHEMA["anyOf"], {"type": "string", "maxLength": 0}]
}


def epoch_ms(moment: datetime | None) -> int | None:
    """Epoch milliseconds, as the vendor's JSON carries dates; None stays None."""
    if moment is None:
        return None
    return int(moment.timestamp() * 1000)


def from_epoch_ms(value: int) -> datetime:
    return datetime.fromtimestamp(value / 1000, tz=UTC)


def parse_moment(text: str) -> datetime:
    """Epoch milliseconds (ASCII digits) or ISO 8601 (a date alone is its midnight; without an
    offset, UTC); ValueError for anything else, out-of-range dates included."""
    text = text.strip()
    try:
        if text.isascii() and text.isdigit():
            if len(text) > MAX_EPOCH_DIGITS:
                raise ValueError("out of range")
            return from_epoch_ms(int(text))
        moment = datetime.fromisoformat(_SPACED_OFFSET.sub(r"\1+\2", text).replace("Z", "+00:00"))
    except (OverflowError, OSError) as exc:
        raise ValueError("out of range") from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
