"""Serialized answers exactly what FastAPI would write for the route's response_model."""

import httpx
from fastapi import FastAPI, Response

from audiences.core.schemas import ApiModel, Serialized


class Item(ApiModel):
    external_id: str
    email: str | None
    added_at: int


ITEMS = [
    Item(external_id="crm-1", email=None, added_at=7),
    Item(external_id="é", email="a@b", added_at=0),
]


async def test_serialized_writes_what_the_response_model_would():
    app = FastAPI()

    @app.get("/model", response_model=list[Item])
    async def by_model() -> list[Item]:
        return ITEMS

    @app.get("/serialized", response_model=list[Item])
    async def serialized() -> Response:
        return Serialized(list[Item]).response(ITEMS)

    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://t"
    ) as client:
        expected = await client.get("/model")
        got = await client.get("/serialized")
    assert got.status_code == expected.status_code == 200
    assert got.headers["content-type"] == expected.headers["content-type"]
    assert got.json() == expected.json()
    assert got.json()[0] == {"externalId": "crm-1", "email": None, "addedAt": 7}
    # The OpenAPI document still describes the answer by its response_model.
    document = app.openapi()["paths"]
    answers = [document[p]["get"]["responses"]["200"]["content"] for p in ("/serialized", "/model")]
    for answer in answers:
        answer["application/json"]["schema"].pop("title")
    assert answers[0] == answers[1]
