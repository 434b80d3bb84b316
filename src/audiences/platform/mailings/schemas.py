from typing import Literal

from pydantic import ConfigDict, Field

from audiences.core import examples
from audiences.core.examples import dated
from audiences.core.paging import Paging
from audiences.core.schemas import ApiModel, NumbersAsStrings, WholeNumber
from audiences.core.validation import IdReference
from audiences.platform.schemas import ContactLookup, Moment, Name

MailingType = Literal["EMAIL", "SMS"]
MailingStatus = Literal["draft", "scheduled", "sending", "sent", "cancelled"]


class MailingCreate(NumbersAsStrings):
    """A mailing to an audience, mailed with one permission."""

    model_config = ConfigDict(
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
    audience_external_id: IdReference = Field(description="The target group")
    permission_bit: WholeNumber = Field(
        description="The permission to mail with (a bit of `permissions`)"
    )
    scheduled_start_date: Moment | None = Field(default=None, description="ISO 8601")


class MailingUpdate(MailingCreate):
    """The mailing's new fields (a draft or scheduled mailing only)."""


class MailingSchedule(ApiModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra=dated(lambda: {"scheduledStartDate": examples.moment(days=7)}),
    )

    scheduled_start_date: Moment


class MailingRead(ApiModel):
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

    encrypted_id: str
    name: str
    type: MailingType
    target_group: str = Field(description="The audience's name")
    audience_external_id: str
    permission_bit: int
    status: MailingStatus
    scheduled_start_date: Moment | None
    sent_count: int


class MailingRecipient(ApiModel):
    contact_identifier: ContactLookup


class MailingRecipients(ApiModel):
    paging: Paging
    recipients: list[MailingRecipient]


class RecipientCount(ApiModel):
    count: int
