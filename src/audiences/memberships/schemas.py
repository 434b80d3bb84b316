from pydantic import BaseModel, ConfigDict, Field


class ChangeContactsAudienceRequest(BaseModel):
    """Contact externalIds to add or remove (at most 2500 per call)."""

    model_config = ConfigDict(json_schema_extra={"example": {"contacts": ["crm-1001", "crm-1002"]}})

    contacts: list[str] = Field(description="List of contact externalIds")
