import re
from typing import Annotated, Literal

from pydantic import AfterValidator, ConfigDict, Field, model_validator

from audiences.core import examples
from audiences.core.examples import dated
from audiences.core.schemas import ApiModel, NumbersAsStrings, WholeNumber
from audiences.core.validation import IdReference
from audiences.platform.schemas import Moment, Name

_DURATION = re.compile(
    r"^P(?!$)(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?"
    r"(?:T(?=\d)(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$"
)


# Days in a year, month, week, day, hour, minute, second: the mean Gregorian lengths, so a
# period's length is the same whatever date it is added to (near enough for a bound).
_UNIT_DAYS = (365.2425, 30.436875, 7, 1, 1 / 24, 1 / 1440, 1 / 86400)
MAX_PERIOD_YEARS = 100


def checked_period(value: str) -> str:
    match = _DURATION.match(value)
    if not match:
        raise ValueError("must be an ISO 8601 duration such as P3D, PT12H or P1M")
    days = sum(
        float(part) * unit for part, unit in zip(match.groups(), _UNIT_DAYS, strict=True) if part
    )
    if days <= 0:
        raise ValueError("must be longer than zero")
    # Longer would push `added + period` past the dates PostgreSQL and Python can hold.
    if days > MAX_PERIOD_YEARS * _UNIT_DAYS[0]:
        raise ValueError(f"must be at most {MAX_PERIOD_YEARS} years")
    return value


Duration = Annotated[
    str,
    Field(max_length=64, json_schema_extra={"format": "duration", "pattern": _DURATION.pattern}),
    AfterValidator(checked_period),
]


class AutomailerCreate(NumbersAsStrings):
    """Mails each contact added to the audience after `firstSendingMoment`, `period` after it
    was added, until `lastSendingMoment`."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra=dated(
            lambda: {
                "name": "Thank you after 3 days",
                "audienceExternalId": examples.AUDIENCE,
                "permissionBit": 1,
                "firstSendingMoment": examples.moment(days=0, hour=0),
                "period": "P3D",
                "lastSendingMoment": examples.moment(days=365, hour=0),
            }
        ),
    )

    name: Name
    audience_external_id: IdReference
    permission_bit: WholeNumber
    first_sending_moment: Moment
    period: Duration = Field(
        description="ISO 8601 duration, e.g. P3D; longer than zero, at most 100 years"
    )
    last_sending_moment: Moment

    @model_validator(mode="after")
    def _window(self) -> "AutomailerCreate":
        if self.last_sending_moment <= self.first_sending_moment:
            raise ValueError("lastSendingMoment must be after firstSendingMoment")
        return self


class AutomailerUpdate(AutomailerCreate):
    """The automailer's new fields."""


class AutomailerRead(ApiModel):
    id: str
    name: str
    audience_external_id: str
    target_group: str
    permission_bit: int
    first_sending_moment: Moment
    period: str
    last_sending_moment: Moment
    status: Literal["active", "stopped"]


class DueContact(ApiModel):
    external_id: str
    encrypted_id: str
    added_at: Moment
    due_at: Moment = Field(description="addedAt + period")


class DueContacts(ApiModel):
    at: Moment
    count: int
    contacts: list[DueContact]


class RunRequest(ApiModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra=dated(lambda: {"at": examples.moment(days=3)})
    )

    at: Moment | None = Field(default=None, description="The run's moment; default now")
