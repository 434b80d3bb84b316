from typing import Any

from pydantic import ConfigDict, Field

from audiences.core import examples
from audiences.core.paging import Paging
from audiences.core.schemas import ApiModel
from audiences.core.validation import MAX_ID_LENGTH

_EXAMPLE: dict[str, Any] = {
    "externalId": examples.AUDIENCE,
    "name": examples.AUDIENCE_NAME,
    "description": "Computed nightly in the CDP",
}


class AudienceCreate(ApiModel):
    """An audience to synchronize: a unique id and a unique name chosen by the caller.
    Read-only fields sent back (dates) are ignored."""

    model_config = ConfigDict(
        extra="ignore", coerce_numbers_to_str=True, json_schema_extra={"example": _EXAMPLE}
    )

    external_id: str | None = Field(
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


class AudienceRead(ApiModel):
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

    external_id: str
    name: str
    description: str | None
    create_date: int
    change_date: int
    last_contact_added_at: int | None = Field(description="Last time a contact was added")
    last_contact_removed_at: int | None = Field(description="Last time a contact was removed")
    last_sync_date: int | None = Field(
        description="Last time the members were changed through the API"
    )


class AudienceListItem(AudienceRead):
    """An audience in the overview, with its member count (kept by every write)."""

    member_count: int
    folder_id: str | None = Field(description="The folder it is in, if any")


class AudiencesPage(ApiModel):
    paging: Paging
    audiences: list[AudienceListItem]
