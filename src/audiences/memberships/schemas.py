from typing import Annotated, Literal

from fastapi import Query
from pydantic import ConfigDict, Field

from audiences.core.paging import Paging
from audiences.core.schemas import ApiModel

FormulasParam = Annotated[
    Literal["neutralise", "raw"],
    Query(
        description="`neutralise` (default): an id or e-mail that starts with `=`, `+`, `-`, `@`, "
        "a tab or a carriage return is written with a leading `'`, so a spreadsheet shows it "
        "as text instead of running it as a formula. `raw`: every value exactly as stored, for "
        "programs that read the CSV."
    ),
]

UnknownSample = Annotated[
    list[str],
    Field(
        description="The first 1000 unknown ids, in upload order; an id longer than 255 "
        "characters (which no contact can have) is cut there and ends in …"
    ),
]


class ChangeContactsAudienceRequest(ApiModel):
    """Contact externalIds to add or remove (at most 2500 per call)."""

    model_config = ConfigDict(
        coerce_numbers_to_str=True,
        json_schema_extra={"example": {"contacts": ["crm-1001", "crm-1002"]}},
    )

    contacts: list[str] = Field(description="List of contact externalIds")


class ImportReport(ApiModel):
    """What a bulk import did."""

    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "received": 1000000,
                "added": 999000,
                "alreadyMember": 990,
                "unknown": 10,
                "unknownSample": ["crm-404"],
            }
        }
    )

    received: int = Field(description="Non-empty lines received (duplicates included)")
    added: int = Field(description="Contacts that became members")
    already_member: int = Field(description="Distinct ids that were members already")
    unknown: int = Field(description="Distinct ids that name no contact")
    unknown_sample: UnknownSample


class ReplaceReport(ApiModel):
    """What a replace did (or, with dryRun, would do)."""

    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "added": 100000,
                "removed": 100000,
                "unchanged": 900000,
                "unknown": 0,
                "unknownSample": [],
                "dryRun": False,
            }
        }
    )

    added: int
    removed: int
    unchanged: int
    unknown: int
    unknown_sample: UnknownSample
    dry_run: bool


class Member(ApiModel):
    external_id: str
    email: str | None
    added_at: int = Field(description="Epoch milliseconds")


class MembersPage(ApiModel):
    paging: Paging
    contacts: list[Member]
