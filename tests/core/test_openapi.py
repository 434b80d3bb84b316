"""The OpenAPI document tells the truth, and its page works without internet."""

import httpx

from audiences.core.openapi import BASE_PATHS


async def test_documents_both_base_paths_and_both_auth_schemes(http: httpx.AsyncClient):
    document = (await http.get("/openapi.json")).json()
    assert [s["url"] for s in document["servers"]] == list(BASE_PATHS)
    schemes = document["components"]["securitySchemes"]
    assert schemes["basicAuth"] == {**schemes["basicAuth"], "type": "http", "scheme": "basic"}
    assert schemes["oauth1"]["scheme"] == "OAuth"


async def test_every_operation_has_a_summary_and_declares_its_errors(http: httpx.AsyncClient):
    document = (await http.get("/openapi.json")).json()
    operations = [
        (path, method, op)
        for path, item in document["paths"].items()
        for method, op in item.items()
    ]
    assert len(operations) >= 12
    for path, method, operation in operations:
        assert operation.get("summary"), (method, path)
        assert operation["summary"] in operation["description"], (method, path)
        assert operation.get("description"), (method, path)
        responses = operation["responses"]
        assert "401" in responses, (method, path)
        assert "400" in responses, (method, path)
        assert "422" not in responses, (method, path)
        for status, response in responses.items():
            if status.startswith(("4", "5")):
                examples = response["content"]["application/json"]["examples"]
                assert all("errorType" in e["value"] for e in examples.values()), (method, path)
        assert operation.get("security"), (method, path)


async def test_the_audience_delete_documents_the_in_use_refusal(http: httpx.AsyncClient):
    document = (await http.get("/openapi.json")).json()
    refusal = document["paths"]["/audience/{externalId}"]["delete"]["responses"]["417"]
    values = [e["value"] for e in refusal["content"]["application/json"]["examples"].values()]
    assert values[0]["message"] == "Cannot delete audience, as it's in use"


async def test_swagger_ui_is_served_from_local_assets(http: httpx.AsyncClient):
    page = await http.get("/docs")
    assert page.status_code == 200
    assert "cdn" not in page.text.lower()
    assert "/static-docs/swagger-ui-bundle.js" in page.text
    bundle = await http.get("/static-docs/swagger-ui-bundle.js")
    assert bundle.status_code == 200
    assert len(bundle.content) > 500_000
    assert (await http.get("/static-docs/swagger-ui.css")).status_code == 200


async def test_request_and_response_bodies_carry_examples(http: httpx.AsyncClient):
    document = (await http.get("/openapi.json")).json()
    schemas = document["components"]["schemas"]
    for name in (
        "AudienceCreate",
        "AudienceRead",
        "ContactRead",
        "ContactRequest",
        "AddContactsRequest",
        "AddContactResponse",
        "PropertyRead",
        "ChangeContactsAudienceRequest",
    ):
        assert "example" in schemas[name], name
