"""Shared rules for identifiers and names that clients choose."""

import hashlib
import re
import unicodedata
from typing import Annotated

from pydantic import AfterValidator, Field

MAX_ID_LENGTH = 255
# Unicode's control characters (category Cc), as a JSON Schema pattern: what
# has_control_characters refuses (it also refuses lone surrogates, which no pattern can name).
NO_CONTROL_CHARACTERS = "^[^\\x00-\\x1F\\x7F-\\x9F]*$"
# Text PostgreSQL can store (storable_text also refuses lone surrogates).
NO_NUL = "^[^\\x00]*$"
# A name: no control characters, and not blank.
PLAIN_NAME = "^(?=.*\\S)[^\\x00-\\x1F\\x7F-\\x9F]*$"


# Unicode's control characters (category Cc) and lone surrogates (Cs), as one character class:
# a regular expression scans an id in one call, where a category lookup a character cost bulk
# imports a few microseconds a contact.
_CONTROL_OR_SURROGATE = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")


def has_control_characters(value: str) -> bool:
    return _CONTROL_OR_SURROGATE.search(value) is not None


def valid_external_id(value: str | None, *, allow_slash: bool = True) -> bool:
    """1 to 255 characters, not blank, no control characters (and no '/' where it is a path
    segment)."""
    if value is None or not value.strip() or len(value) > MAX_ID_LENGTH:
        return False
    if not allow_slash and "/" in value:
        return False
    return not has_control_characters(value)


def echoed(value: str) -> str:
    """An id as an error echoes it: whole up to MAX_ID_LENGTH (any id that can exist), else
    cut there and marked with "…", so a client's 5 MB id does not come back whole."""
    return value if len(value) <= MAX_ID_LENGTH else value[:MAX_ID_LENGTH] + "…"


# NFKC can make one character eighteen (U+FDFA): a folded key longer than this is kept as its
# digest, so it always fits a btree index entry (about 2700 bytes).
MAX_KEY_BYTES = 1000


def name_key(name: str) -> str:
    """What makes two names the same name: Unicode compatibility normalisation (NFKC) and case
    folding, in Python so every database agrees (`Café` NFC and NFD, `Straße` and `STRASSE`)."""
    folded = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", name).casefold())
    encoded = folded.encode("utf-8", "surrogatepass")
    if len(encoded) > MAX_KEY_BYTES:
        return "sha256:" + hashlib.sha256(encoded).hexdigest()
    return folded


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


def _reference(value: str) -> str:
    if has_control_characters(value) or not storable_text(value):
        raise ValueError("must not contain control characters")
    return value


IdReference = Annotated[
    str,
    Field(max_length=MAX_ID_LENGTH, json_schema_extra={"pattern": NO_CONTROL_CHARACTERS}),
    AfterValidator(_reference),
]
"""An id that names something (an audience, a folder, a trigger): no id holds a control
character or is longer than 255, so such a value is refused (400) before it is looked up."""
