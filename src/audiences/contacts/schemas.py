from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class Channel(BaseModel):
    name: Literal["EMAIL", "SMS"]
    value: bool


class SetPropertyEntry(BaseModel):
    bit: int
    description: str
    rank: int


class PropertyRead(BaseModel):
    """A property a contact can have (`GET /contact/properties/list`)."""

    name: str
    description: str
    type: str
    entries: list[SetPropertyEntry] | None = None


class ContactIn(BaseModel):
    """A contact as written. Read-only fields (created, lastChanged, encryptedId, temporary)
    are accepted and ignored, so a contact read can be written back."""

    model_config = ConfigDict(
        extra="ignore",
        json_schema_extra={
            "example": {
                "externalId": "crm-1001",
                "testGroup": False,
                "properties": {
                    "email": "ann@example.com",
                    "firstName": "Ann",
                    "permissions": [{"bit": 1, "enabled": True}],
                },
                "channels": [{"name": "EMAIL", "value": True}],
            }
        },
    )

    externalId: str | None = Field(default=None, description="Your reference for the contact")
    testGroup: bool | None = None
    properties: dict[str, Any] | None = Field(
        default=None, description="Keys from GET /contact/properties/list"
    )
    channels: list[Channel] | None = None


class ContactRequest(BaseModel):
    contact: ContactIn
    update: bool = Field(default=False, description="Update the contact if it already exists")
    purge: bool = Field(default=False, description="Remove existing properties that are not set")


class AddContactsRequest(BaseModel):
    contacts: list[ContactIn]
    update: bool = False
    purge: bool = False


class ContactRead(BaseModel):
    externalId: str
    created: int = Field(description="Epoch milliseconds")
    lastChanged: int = Field(description="Epoch milliseconds")
    encryptedId: str
    testGroup: bool
    temporary: bool
    properties: dict[str, Any]
    channels: list[Channel]


ContactResponseCode = Literal[
    "OK",
    "PROPERTY_INVALID",
    "CONTACT_ALREADY_EXISTS",
    "CONTACT_UNKNOWN",
    "CONTACT_OPTOUT",
    "NO_ACTIVE_CHANNEL",
    "ERROR",
]


class AddContactResponse(BaseModel):
    externalId: str | None
    code: ContactResponseCode
    message: str
