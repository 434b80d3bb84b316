"""The examples of the OpenAPI page tell one story that succeeds when tried top to bottom:
contacts crm-1001 and crm-1002 are created, join the audience top-100-customers, and a
mailing, an automailer, a campaign, an automation and a message use that audience. Dates are
computed when the document is built (at start-up), so an example never lies in the past."""

from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta
from typing import Any

from pydantic.config import JsonDict

AUDIENCE = "top-100-customers"
AUDIENCE_NAME = "Top 100 customers (turnover, last 6 months)"
CONTACTS = ["crm-1001", "crm-1002"]


def moment(days: int, hour: int = 9) -> str:
    """`hour` o'clock UTC, `days` from today, in ISO 8601."""
    day = datetime.now(UTC).date() + timedelta(days=days)
    return datetime.combine(day, time(hour), tzinfo=UTC).isoformat().replace("+00:00", "Z")


def dated(example: Callable[[], dict[str, Any]]) -> Callable[[JsonDict], None]:
    """A `json_schema_extra` whose example is made when the schema is generated."""

    def extra(schema: JsonDict) -> None:
        schema["example"] = example()

    return extra
