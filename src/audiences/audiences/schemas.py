from typing import Any

from pydantic import ConfigDict, Field

from audiences.core import examples
from audiences.core.paging import Paging
from audiences.core.schemas import ApiModel, NumbersAsStrings, required_text
from audiences.core.validation import MAX_ID_LENGTH, NO_NUL, PLAIN_NAME

MAX_DESCRIPTION = 4000

_ID_RULES: dict[str, Any] = {
    "minLength": 1,
    "maxLength": MAX_ID_LENGTH,
    "pattern": "^(?!\\.\\.?$)(?=.*\\S)[^/\\x00-\\x1F\\x7F-\\x9F]*$",
}
_NAME_RULES: dict[str, Any] = {"minLength": 1, "maxLength": MAX_ID_LENGTH, "pattern": PLAIN_NAME}
_EXAMPLE: dict[str, Any] = {
    "externalId": examples.AUDIENCE,
    "name": examples.AUDIENCE_NAME,
    "description": "Computed nightly in the CDP",
}


class AudienceCreate(NumbersAsStrings):
    """An audience to synchronize: a unique id and a unique name chosen by the caller.
    Read-only fields sent back (dates) are ignored."""

    # Both are required, but a missing one is answered as the vendor does (417, like an empty
    # one), not by the model: the schema states it, the service refuses it.
    model_config = ConfigDict(
        extra="ignore", json_schema_extra={"example": _EXAMPLE, "required": ["externalId", "name"]}
    )

    external_id: str | None = Field(
        default=None,
        description="Your unique id for the audience (1-255 characters, no '/' or control "
        "characters, not '.' or '..')",
        # Documents the rule the service applies (417 INVALID_PARAMS, as the vendor answers).
        json_schema_extra=required_text(_ID_RULES),
    )
    name: str | None = Field(
        default=None,
        description="Unique name (1-255 characters, not blank, no control characters, compared "
        "case-insensitively)",
        json_schema_extra=required_text(_NAME_RULES),
    )
    description: str | None = Field(
        default=None,
        description=f"At most {MAX_DESCRIPTION} characters",
        json_schema_extra={"maxLength": MAX_DESCRIPTION, "pattern": NO_NUL},
    )


class AudienceUpdate(AudienceCreate):
    """The audience's new name and description; externalId, if given, must match the path.
    A description left out is kept; `null` clears it."""

    model_config = ConfigDict(json_schema_extra={"example": _EXAMPLE, "required": ["name"]})

    external_id: str | None = Field(
        default=None,
        description="The path's id (or left out)",
        json_schema_extra=_ID_RULES,
    )


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
