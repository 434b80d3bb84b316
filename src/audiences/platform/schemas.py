"""Pieces shared by the objects that reference audiences."""

from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator, Field

from audiences.core.schemas import ApiModel
from audiences.core.validation import has_control_characters, storable_text


def _assume_utc(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


Moment = Annotated[datetime, AfterValidator(_assume_utc)]
"""An ISO 8601 date and time; without an offset it is taken as UTC."""


def _plain_name(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be blank")
    if has_control_characters(value) or not storable_text(value):
        raise ValueError("must not contain control characters")
    return value


Name = Annotated[str, Field(min_length=1, max_length=255), AfterValidator(_plain_name)]
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
