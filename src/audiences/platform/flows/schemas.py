from typing import Literal

from pydantic import ConfigDict, Field

from audiences.core import examples
from audiences.core.schemas import ApiModel
from audiences.core.validation import IdReference
from audiences.platform.schemas import Name

FlowStatus = Literal["draft", "active", "paused", "stopped"]


class NodeIn(ApiModel):
    model_config = ConfigDict(extra="forbid", coerce_numbers_to_str=True)

    id: IdReference | None = Field(
        default=None, description="Keep an existing trigger or step's id on PUT"
    )
    name: Name
    audience_filters: list[IdReference] = Field(
        default_factory=list, description="Audience externalIds; a contact must be in all of them"
    )


class FlowCreate(ApiModel):
    """Triggers and steps, each optionally filtered on audiences."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "example": {
                "name": "Win-back",
                "status": "active",
                "triggers": [{"name": "Cart abandoned", "audienceFilters": [examples.AUDIENCE]}],
                "steps": [{"name": "Reminder mail", "audienceFilters": [examples.AUDIENCE]}],
            }
        },
    )

    name: Name
    status: FlowStatus = "draft"
    triggers: list[NodeIn] = Field(default_factory=list, max_length=100)
    steps: list[NodeIn] = Field(default_factory=list, max_length=100)


class FlowUpdate(FlowCreate):
    """Replaces the name, status, triggers and steps."""


class NodeRead(ApiModel):
    id: str
    name: str
    audience_filters: list[str]


class FlowRead(ApiModel):
    id: str
    name: str
    status: FlowStatus
    triggers: list[NodeRead]
    steps: list[NodeRead]


class Admission(ApiModel):
    admitted: bool = Field(
        description="Whether the contact is in every audience the step filters on"
    )
    contact: str
    missing_audiences: list[str] = Field(description="Filter audiences the contact is not in")
