from pydantic import BaseModel, ConfigDict


class Ping(BaseModel):
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
    accountId: int
    consumerKey: str
    products: list[str]
