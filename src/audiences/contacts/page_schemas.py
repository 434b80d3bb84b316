"""The vendor's paged contact answers (ContactsResponse, MailingHistoryResponse, ...)."""

from datetime import datetime
from typing import Literal

from pydantic import ConfigDict, Field

from audiences.contacts.schemas import ContactRead
from audiences.core.paging import Paging
from audiences.core.schemas import ApiModel

BounceType = Literal["HARDBOUNCE", "SOFTBOUNCE"]


class ContactsResponse(ApiModel):
    """A page of contacts."""

    paging: Paging
    contacts: list[ContactRead]


class MailingSummary(ApiModel):
    encrypted_id: str = Field(description="The mailing's (or automailer's) id")
    name: str
    scheduled_start_date: datetime | None = Field(description="ISO 8601")
    type: Literal["EMAIL", "SMS"]
    sent_count: int = Field(description="How many contacts it was sent to")


class MailingHistory(ApiModel):
    mailing: MailingSummary
    sent_date: datetime = Field(description="ISO 8601: when it was sent to this contact")
    opened: bool = Field(description="Always false: this service records no opens")
    clicked: bool = Field(description="Always false: this service records no clicks")


class MailingHistoryResponse(ApiModel):
    """The mailings a contact received, 50 a page, in the order they were sent."""

    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "paging": {"next": None, "after": None},
                "mailingHistories": [
                    {
                        "mailing": {
                            "encryptedId": "9i1Lk3yq0dK2zQ4p",
                            "name": "December newsletter",
                            "scheduledStartDate": "2026-12-01T09:00:00Z",
                            "type": "EMAIL",
                            "sentCount": 1250,
                        },
                        "sentDate": "2026-12-01T09:14:03Z",
                        "opened": False,
                        "clicked": False,
                    }
                ],
            }
        }
    )

    paging: Paging
    mailing_histories: list[MailingHistory]


class CampaignMailing(ApiModel):
    encrypted_id: str
    name: str
    type: Literal["EMAIL", "SMS"]


class CampaignMailingHistory(ApiModel):
    campaign_mailing: CampaignMailing
    campaign_subscription_id: int
    sent_date: datetime
    opened: bool
    clicked: bool
    bounce: BounceType | None = None


class CampaignMailingHistoryResponse(ApiModel):
    """The campaign mailings a contact received (this service sends none: always empty)."""

    paging: Paging
    campaign_mailing_histories: list[CampaignMailingHistory]


class Form(ApiModel):
    id: int
    name: str
    form_sub_type: Literal["normal", "subscribe", "unSubscribe", "editProfile"]
    form_state: Literal["draft", "proof", "final"]


class FormHistory(ApiModel):
    form: Form
    form_result_id: int
    submit_date: datetime
    completed: bool


class FormHistoryResponse(ApiModel):
    """The forms a contact submitted (this service has no forms: always empty)."""

    paging: Paging
    form_histories: list[FormHistory]


class ContactBounce(ApiModel):
    date: int = Field(description="Epoch milliseconds")
    type: BounceType
    contact: ContactRead
    encrypted_act_id: str | None = None


class BouncesResponse(ApiModel):
    """Bounced contacts (this service sends no e-mail, so records no bounces: always empty)."""

    paging: Paging
    bounces: list[ContactBounce]
