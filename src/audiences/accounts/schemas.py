from pydantic import ConfigDict

from audiences.core.schemas import ApiModel


class Ping(ApiModel):
    """Who the credentials belong to; the database answered."""

    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "status": "ok",
                "accountId": 1,
                "consumerKey": "HNCMFxqO",
                "products": ["automation"],
            }
        }
    )

    status: str
    account_id: int
    consumer_key: str
    products: list[str]
