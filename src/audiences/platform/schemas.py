"""Pieces shared by the objects that reference audiences."""

import re
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field

from audiences.core.schemas import ApiModel
from audiences.core.validation import PLAIN_NAME, has_control_characters, storable_text


def _assume_utc(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


_ISO_DATE = re.compile(r"\d{4}-")


def _iso_text(value: Any) -> Any:
    # pydantic would also read a number (or a string of digits) as seconds since 1970; the
    # document says ISO 8601, and a number here is more likely a mistake than a moment.
    if (isinstance(value, str) and _ISO_DATE.match(value)) or isinstance(value, datetime):
        return value
    raise ValueError("must be an ISO 8601 date and time, such as 2026-12-10T09:00:00Z")


Moment = Annotated[datetime, BeforeValidator(_iso_text), AfterValidator(_assume_utc)]
"""An ISO 8601 date and time; without an offset it is taken as UTC."""


def _plain_name(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be blank")
    if has_control_characters(value) or not storable_text(value):
        raise ValueError("must not contain control characters")
    return value


Name = Annotated[
    str,
    Field(min_length=1, max_length=255, json_schema_extra={"pattern": PLAIN_NAME}),
    AfterValidator(_plain_name),
]
"""A display name: 1 to 255 characters, not blank, no control characters."""


class Reference(ApiModel):
    """Something that uses an audience and blocks its deletion."""

    type: str = Field(description="mailing, automailer, campaign, automation or content_block")
    id: str
    name: str
    detail: str


class References(ApiModel):
    references: list[Reference]


class ContactLookup(ApiModel):
    external_id: str
    encrypted_id: str
