from typing import Annotated

from pydantic import AfterValidator, ConfigDict, Field

from audiences.core import examples
from audiences.core.schemas import ApiModel, NumbersAsStrings
from audiences.core.validation import NO_NUL, IdReference, storable_text
from audiences.platform.schemas import Name


def _text(value: str) -> str:
    if not storable_text(value):
        raise ValueError("must not contain NUL characters")
    return value


Content = Annotated[
    str, Field(max_length=100_000, json_schema_extra={"pattern": NO_NUL}), AfterValidator(_text)
]


class BlockIn(NumbersAsStrings):
    model_config = ConfigDict(extra="forbid")

    name: Name
    content: Content
    audience_external_id: IdReference | None = Field(
        default=None, description="Dynamic block: shown only to this audience's members"
    )


class MessageCreate(ApiModel):
    """A message of content blocks; a block with an audience is dynamic content."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "example": {
                "name": "December newsletter",
                "blocks": [
                    {"name": "Intro", "content": "<p>Hello!</p>"},
                    {
                        "name": "VIP offer",
                        "content": "<p>20% off</p>",
                        "audienceExternalId": examples.AUDIENCE,
                    },
                ],
            }
        },
    )

    name: Name
    blocks: list[BlockIn] = Field(default_factory=list, max_length=200)


class MessageUpdate(MessageCreate):
    """Replaces the name and the blocks."""


class BlockRead(ApiModel):
    id: str
    name: str
    content: str
    audience_external_id: str | None


class MessageRead(ApiModel):
    id: str
    name: str
    blocks: list[BlockRead]


class RenderedBlock(ApiModel):
    id: str
    name: str
    content: str


class Rendering(ApiModel):
    contact: str
    blocks: list[RenderedBlock] = Field(description="The blocks this contact sees, in order")
