from typing import Any, Literal

from pydantic import ConfigDict, Field, StrictBool

from audiences.contacts.properties import (
    MAX_BIT,
    MAX_DESCRIPTION,
    MAX_ENTRIES,
    NAME_PATTERN,
    PropertyType,
)
from audiences.core.schemas import ApiModel, NumbersAsStrings, WholeNumber, required_text
from audiences.core.validation import MAX_ID_LENGTH, PLAIN_NAME


class Channel(ApiModel):
    name: Literal["EMAIL", "SMS"]
    value: StrictBool


class SetPropertyEntry(ApiModel):
    bit: int
    description: str
    rank: int


class PropertyRead(ApiModel):
    """A property a contact can have (`GET /contact/properties/list`): `entries` only for a
    set."""

    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "name": "permissions",
                "description": "Permissions",
                "type": "set",
                "entries": [{"bit": 1, "description": "Newsletter", "rank": 1}],
            }
        }
    )

    name: str
    description: str
    type: str
    entries: list[SetPropertyEntry] | None = None


# A description is stripped, then 1 to 255 characters of text.
_DESCRIPTION: dict[str, Any] = {"maxLength": MAX_DESCRIPTION, "pattern": "^(?=.*\\S)[^\\x00]*$"}
_ENTRIES: dict[str, Any] = {"maxItems": MAX_ENTRIES}
MAX_CONTACTS_PER_LIST = 100
_CONTACT_ID: dict[str, Any] = {"maxLength": MAX_ID_LENGTH, "pattern": PLAIN_NAME}


class SetEntryIn(ApiModel):
    """An option of a set: its bit, its label, and its place in lists (default: as given)."""

    model_config = ConfigDict(extra="forbid")

    # A boolean or a text is not read as a bit or a rank (true would be bit 1).
    bit: WholeNumber = Field(
        description="1 to 2147483647, unique within the set",
        json_schema_extra={"minimum": 1, "maximum": MAX_BIT},
    )
    description: str = Field(description="1 to 255 characters", json_schema_extra=_DESCRIPTION)
    rank: WholeNumber | None = Field(
        default=None, json_schema_extra={"minimum": 0, "maximum": MAX_BIT}
    )


class PropertyCreate(ApiModel):
    """A property the account defines beside the standard ones."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "example": {
                "name": "profileFields",
                "type": "set",
                "description": "Interests",
                "entries": [
                    {"bit": 1, "description": "Cycling"},
                    {"bit": 2, "description": "Running"},
                ],
            }
        },
    )

    name: str = Field(
        description="1 to 64 letters, digits or _, starting with a letter",
        json_schema_extra={"pattern": f"^{NAME_PATTERN}$"},
    )
    type: PropertyType
    description: str | None = Field(
        default=None, description="Default: the name", json_schema_extra=_DESCRIPTION
    )
    entries: list[SetEntryIn] | None = Field(
        default=None, description="A set's options", json_schema_extra=_ENTRIES
    )


class PropertyUpdate(ApiModel):
    """A property's new description and (for a set, such as `permissions`) its entries; what is
    left out stays. The name and type cannot change."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "example": {
                "entries": [
                    {"bit": 1, "description": "Newsletter"},
                    {"bit": 2, "description": "Offers"},
                    {"bit": 5, "description": "Webinars"},
                ]
            }
        },
    )

    name: str | None = Field(default=None, description="If given, must be the path's name")
    type: PropertyType | None = Field(default=None, description="If given, must be unchanged")
    description: str | None = Field(default=None, json_schema_extra=_DESCRIPTION)
    entries: list[SetEntryIn] | None = Field(
        default=None,
        description="The set's entries, all of them: bits left out are removed",
        json_schema_extra=_ENTRIES,
    )


class DefinedProperty(PropertyRead):
    """A property definition, with whether it is one of the standard ones."""

    standard: bool = Field(description="Standard properties cannot be removed")


class ContactIn(NumbersAsStrings):
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

    # Unconstrained here: a list or an import reports a bad one in its answer (and writes the
    # others); NewContact, a single contact to add, states the rules.
    external_id: str | None = Field(default=None, description="Your reference for the contact")
    test_group: StrictBool | None = None
    properties: dict[str, Any] | None = Field(
        default=None, description="Keys from GET /contact/properties/list"
    )
    channels: list[Channel] | None = None


class NewContact(ContactIn):
    """A contact to add: as ContactIn, with its externalId (required)."""

    model_config = ConfigDict(json_schema_extra={"required": ["externalId"]})

    external_id: str | None = Field(
        default=None,
        description="Your reference for the contact (1-255 characters, no control characters)",
        json_schema_extra=required_text(_CONTACT_ID),
    )


class ContactRequest(ApiModel):
    """A contact to add or change, with the vendor's update and purge flags."""

    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "update": True,
                "purge": False,
                "contact": {"externalId": "crm-1001", "properties": {"email": "ann@example.com"}},
            }
        }
    )

    contact: ContactIn
    update: StrictBool = Field(default=False, description="Update the contact if it already exists")
    purge: StrictBool = Field(
        default=False, description="Remove existing properties that are not set"
    )


class ListedContact(ContactIn):
    """A contact of a list to add: its externalId is required (a missing one refuses the
    list); any other fault is reported for that contact in the answer."""

    model_config = ConfigDict(json_schema_extra={"required": ["externalId"]})

    external_id: str | None = Field(
        default=None,
        description="Your reference for the contact",
        json_schema_extra=required_text({"minLength": 1}),
    )


class NewContactRequest(ContactRequest):
    """A contact to add (or with `update`, to update), with the vendor's update and purge
    flags."""

    contact: NewContact


class AddContactsRequest(ApiModel):
    """At most 100 contacts to add (or with `update`, to update)."""

    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "update": True,
                "contacts": [
                    {"externalId": "crm-1001", "properties": {"email": "ann@example.com"}},
                    {"externalId": "crm-1002", "properties": {"email": "bo@example.com"}},
                ],
            }
        }
    )

    contacts: list[ListedContact] = Field(
        description="Each checked on its own: a bad one is reported in the answer, the others "
        "are written",
        json_schema_extra={"maxItems": MAX_CONTACTS_PER_LIST},
    )
    update: StrictBool = False
    purge: StrictBool = False


class ContactRead(ApiModel):
    """A contact; dates are epoch milliseconds. Properties: those with a value, and every set
    (such as `permissions`) always, as `[{bit, description, enabled}]`, `[]` when empty."""

    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "externalId": "crm-1001",
                "created": 1764280800000,
                "lastChanged": 1764284400000,
                "encryptedId": "q3XbQ2Vd0v5bWn8pT1yZs4Kc",
                "testGroup": False,
                "temporary": False,
                "properties": {
                    "email": "ann@example.com",
                    "firstName": "Ann",
                    "turnover": "1250.50",
                    "permissions": [
                        {"bit": 1, "description": "Newsletter", "enabled": True},
                        {"bit": 2, "description": "Offers", "enabled": False},
                    ],
                },
                "channels": [{"name": "EMAIL", "value": True}, {"name": "SMS", "value": False}],
            }
        }
    )

    external_id: str
    created: int = Field(description="Epoch milliseconds")
    last_changed: int = Field(description="Epoch milliseconds")
    encrypted_id: str
    test_group: bool
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


class AddContactResponse(ApiModel):
    """The outcome for one contact of `POST /contact/list`."""

    model_config = ConfigDict(
        json_schema_extra={
            "example": {"externalId": "crm-1001", "code": "OK", "message": "Contact added"}
        }
    )

    external_id: str | None
    code: ContactResponseCode
    message: str


class ImportError(ApiModel):
    line: int
    external_id: str | None
    code: ContactResponseCode
    message: str


class ImportReport(ApiModel):
    """What a bulk contact import did; errors name the line (the first 1000 are listed)."""

    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "received": 3,
                "created": 1,
                "updated": 1,
                "failed": 1,
                "duplicates": 0,
                "errors": [
                    {
                        "line": 3,
                        "externalId": "crm-3",
                        "code": "PROPERTY_INVALID",
                        "message": "Email is invalid: email The email address is not valid.",
                    }
                ],
            }
        }
    )

    received: int = Field(description="Contacts (non-empty lines or records) received")
    created: int
    updated: int
    failed: int = Field(description="Lines refused (listed in errors)")
    duplicates: int = Field(
        description="Earlier lines of an externalId given again later (the last wins)"
    )
    errors: list[ImportError]
