"""The vendor's paged contact answers (ContactsResponse, MailingHistoryResponse, ...)."""

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from audiences.contacts.schemas import ContactRead
from audiences.core.paging import Paging

BounceType = Literal["HARDBOUNCE", "SOFTBOUNCE"]


class ContactsResponse(BaseModel):
    """A page of contacts."""

    paging: Paging
    contacts: list[ContactRead]


class MailingSummary(BaseModel):
    encryptedId: str = Field(description="The mailing's (or automailer's) id")
    name: str
    scheduledStartDate: datetime | None = Field(description="ISO 8601")
    type: Literal["EMAIL", "SMS"]
    sentCount: int = Field(description="How many contacts it was sent to")


class MailingHistory(BaseModel):
    mailing: MailingSummary
    sentDate: datetime = Field(description="ISO 8601: when it was sent to this contact")
    opened: bool = Field(description="Always false: this service records no opens")
    clicked: bool = Field(description="Always false: this service records no clicks")


class MailingHistoryResponse(BaseModel):
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
    mailingHistories: list[MailingHistory]


class CampaignMailing(BaseModel):
    encryptedId: str
    name: str
    type: Literal["EMAIL", "SMS"]


class CampaignMailingHistory(BaseModel):
    campaignMailing: CampaignMailing
    campaignSubscriptionId: int
    sentDate: datetime
    opened: bool
    clicked: bool
    bounce: BounceType | None = None


class CampaignMailingHistoryResponse(BaseModel):
    """The campaign mailings a contact received (this service sends none: always empty)."""

    paging: Paging
    campaignMailingHistories: list[CampaignMailingHistory]


class Form(BaseModel):
    id: int
    name: str
    formSubType: Literal["normal", "subscribe", "unSubscribe", "editProfile"]
    formState: Literal["draft", "proof", "final"]


class FormHistory(BaseModel):
    form: Form
    formResultId: int
    submitDate: datetime
    completed: bool


class FormHistoryResponse(BaseModel):
    """The forms a contact submitted (this service has no forms: always empty)."""

    paging: Paging
    formHistories: list[FormHistory]


class ContactBounce(BaseModel):
    date: int = Field(description="Epoch milliseconds")
    type: BounceType
    contact: ContactRead
    encryptedActId: str | None = None


class BouncesResponse(BaseModel):
    """Bounced contacts (this service sends no e-mail, so records no bounces: always empty)."""

    paging: Paging
    bounces: list[ContactBounce]
