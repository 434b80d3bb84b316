from typing import Any, Literal

from pydantic import ConfigDict, Field

from audiences.core.paging import Paging
from audiences.core.schemas import ApiModel

Operation = Literal[
    "create",
    "update",
    "delete",
    "add_members",
    "remove_members",
    "empty",
    "import",
    "replace",
    "move",
]


class Event(ApiModel):
    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "id": 42,
                "at": 1764284400000,
                "operation": "empty",
                "consumerKey": "HNCMFxqOMwMyFKm6rbJs8OHt",
                "requestId": "4bf92f3577b34da6a3ce929d0e0e4736",
                "details": {"removed": 1200},
            }
        }
    )

    id: int
    at: int = Field(description="Epoch milliseconds")
    operation: Operation
    consumer_key: str | None = Field(description="The key that made the change")
    request_id: str | None = Field(description="The request's X-Request-Id (also in the logs)")
    details: dict[str, Any] = Field(description="What changed, with counts")


class History(ApiModel):
    paging: Paging
    events: list[Event]
