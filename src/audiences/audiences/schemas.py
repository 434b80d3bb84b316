from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from audiences.core import examples
from audiences.core.paging import Paging
from audiences.core.validation import MAX_ID_LENGTH

_EXAMPLE: dict[str, Any] = {
    "externalId": examples.AUDIENCE,
    "name": examples.AUDIENCE_NAME,
    "description": "Computed nightly in the CDP",
}


class AudienceCreate(BaseModel):
    """An audience to synchronize: a unique id and a unique name chosen by the caller.
    Read-only fields sent back (dates) are ignored."""

    model_config = ConfigDict(
        extra="ignore", coerce_numbers_to_str=True, json_schema_extra={"example": _EXAMPLE}
    )

    externalId: str | None = Field(
        default=None,
        description="Your unique id for the audience (1-255 characters, no '/' or control "
        "characters, not '.' or '..')",
        # Documents the rule the service applies (417 INVALID_PARAMS, as the vendor answers).
        json_schema_extra={
            "minLength": 1,
            "maxLength": MAX_ID_LENGTH,
            "pattern": "^(?!\\.\\.?$)(?=.*\\S)[^/\\x00-\\x1F\\x7F-\\x9F]*$",
        },
    )
    name: str | None = Field(
        default=None, description="Unique name (1-255 characters, compared case-insensitively)"
    )
    description: str | None = None


class AudienceUpdate(AudienceCreate):
    """The audience's new name and description; externalId, if given, must match the path.
    A description left out is kept; `null` clears it."""


class AudienceRead(BaseModel):
    """An audience. Dates are epoch milliseconds, null when it never happened."""

    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                **_EXAMPLE,
                "createDate": 1764280800000,
                "changeDate": 1764280800000,
                "lastContactAddedAt": 1764284400000,
                "lastContactRemovedAt": None,
                "lastSyncDate": 1764284400000,
            }
        }
    )

    externalId: str
    name: str
    description: str | None
    createDate: int
    changeDate: int
    lastContactAddedAt: int | None = Field(description="Last time a contact was added")
    lastContactRemovedAt: int | None = Field(description="Last time a contact was removed")
    lastSyncDate: int | None = Field(
        description="Last time the members were changed through the API"
    )


class AudienceListItem(AudienceRead):
    """An audience in the overview, with its member count (kept by every write)."""

    memberCount: int
    folderId: str | None = Field(description="The folder it is in, if any")


class AudiencesPage(BaseModel):
    paging: Paging
    audiences: list[AudienceListItem]
