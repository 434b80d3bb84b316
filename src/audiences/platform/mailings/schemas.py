from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from audiences.core import examples
from audiences.core.examples import dated
from audiences.core.paging import Paging
from audiences.core.validation import IdReference
from audiences.platform.schemas import ContactLookup, Moment, Name

MailingType = Literal["EMAIL", "SMS"]
MailingStatus = Literal["draft", "scheduled", "sending", "sent", "cancelled"]


class MailingCreate(BaseModel):
    """A mailing to an audience, mailed with one permission."""

    model_config = ConfigDict(
        coerce_numbers_to_str=True,
        extra="forbid",
        json_schema_extra=dated(
            lambda: {
                "name": "Newsletter",
                "type": "EMAIL",
                "audienceExternalId": examples.AUDIENCE,
                "permissionBit": 1,
                "scheduledStartDate": examples.moment(days=7),
            }
        ),
    )

    name: Name
    type: MailingType
    audienceExternalId: IdReference = Field(description="The target group")
    permissionBit: int = Field(description="The permission to mail with (a bit of `permissions`)")
    scheduledStartDate: Moment | None = Field(default=None, description="ISO 8601")


class MailingUpdate(MailingCreate):
    """The mailing's new fields (a draft or scheduled mailing only)."""


class MailingSchedule(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra=dated(lambda: {"scheduledStartDate": examples.moment(days=7)}),
    )

    scheduledStartDate: Moment


class MailingRead(BaseModel):
    model_config = ConfigDict(
        json_schema_extra=dated(
            lambda: {
                "encryptedId": "9i1Lk3yq0dK2zQ4p",
                "name": "Newsletter",
                "type": "EMAIL",
                "targetGroup": examples.AUDIENCE_NAME,
                "audienceExternalId": examples.AUDIENCE,
                "permissionBit": 1,
                "status": "scheduled",
                "scheduledStartDate": examples.moment(days=7),
                "sentCount": 0,
            }
        )
    )

    encryptedId: str
    name: str
    type: MailingType
    targetGroup: str = Field(description="The audience's name")
    audienceExternalId: str
    permissionBit: int
    status: MailingStatus
    scheduledStartDate: Moment | None
    sentCount: int


class MailingRecipient(BaseModel):
    contactIdentifier: ContactLookup


class MailingRecipients(BaseModel):
    paging: Paging
    recipients: list[MailingRecipient]


class RecipientCount(BaseModel):
    count: int
