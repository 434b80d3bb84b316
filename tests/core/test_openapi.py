"""The OpenAPI document tells the truth, its examples tell one story that succeeds when tried
top to bottom, and its page works without internet."""

import re
from datetime import UTC, datetime
from typing import Any

import httpx

from audiences.core.openapi import BASE_PATHS, TAGS
from tests.conftest import BASE, Tenant

VENDOR_TAGS = ["Contacts", "Audiences", "Audience contacts"]


def schema_name(schema: dict[str, Any]) -> str:
    """The component a body's schema names (also when the body may be null)."""
    for option in [schema, *schema.get("anyOf", [])]:
        if "$ref" in option:
            return str(option["$ref"].rsplit("/", 1)[-1])
    raise AssertionError(f"no component in {schema}")


async def document_of(http: httpx.AsyncClient) -> dict[str, Any]:
    response = await http.get("/openapi.json")
    assert response.status_code == 200
    document: dict[str, Any] = response.json()
    return document


def operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """(method, path, operation) in the order the page shows them: by tag, then as listed."""
    listed = [
        (method, path, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
    ]
    rank = [tag["name"] for tag in document["tags"]]
    return sorted(listed, key=lambda o: rank.index(o[2]["tags"][0]))


async def test_documents_both_base_paths_and_both_auth_schemes(http: httpx.AsyncClient):
    document = await document_of(http)
    assert [s["url"] for s in document["servers"]] == list(BASE_PATHS)
    schemes = document["components"]["securitySchemes"]
    assert schemes["basicAuth"] == {**schemes["basicAuth"], "type": "http", "scheme": "basic"}
    # Swagger UI shows an `http` scheme "OAuth" as broken; the header is described instead.
    oauth = schemes["oauth1"]
    assert (oauth["type"], oauth["in"], oauth["name"]) == ("apiKey", "header", "Authorization")
    assert "HMAC-SHA1" in oauth["description"] and "Basic" in oauth["description"]
    for _, _, operation in operations(document):
        assert operation["security"] == [{"basicAuth": []}, {"oauth1": []}]


async def test_the_vendors_calls_come_first(http: httpx.AsyncClient):
    document = await document_of(http)
    names = [tag["name"] for tag in document["tags"]]
    assert names[:3] == VENDOR_TAGS
    assert all(t["description"].startswith("Extension") for t in document["tags"][3:])
    first_tags = [item[next(iter(item))]["tags"][0] for item in document["paths"].values()]
    assert first_tags == sorted(first_tags, key=names.index), "paths follow the tags' order"


async def test_every_summary_is_a_whole_sentence_of_its_description(http: httpx.AsyncClient):
    document = await document_of(http)
    listed = operations(document)
    assert len(listed) >= 12
    for method, path, operation in listed:
        summary, description = operation["summary"], " ".join(operation["description"].split())
        assert description.startswith(summary), (method, path)
        rest = description[len(summary) :]
        assert rest == "" or rest.startswith("."), (method, path, summary)
        assert summary.count("(") == summary.count(")"), (method, path, summary)


async def test_each_operation_declares_its_own_errors(http: httpx.AsyncClient):
    document = await document_of(http)
    for method, path, operation in operations(document):
        responses = operation["responses"]
        assert "401" in responses and "422" not in responses, (method, path)
        for status, response in responses.items():
            if status.startswith(("4", "5")):
                examples = response["content"]["application/json"]["examples"]
                assert all("errorType" in e["value"] for e in examples.values()), (method, path)
        messages = [
            e["value"]["message"]
            for e in responses.get("400", {})
            .get("content", {})
            .get("application/json", {})
            .get("examples", {})
            .values()
        ]
        body = operation.get("requestBody", {}).get("content", {}).get("application/json")
        fields: set[str] = set()
        if body is not None:
            name = schema_name(body["schema"])
            fields = set(document["components"]["schemas"][name].get("properties", {}))
        parameters = {p["name"] for p in operation.get("parameters", []) if p["in"] == "query"}
        for message in messages:
            named = re.match(r"Invalid (field|query parameter) '([^']+)'", message)
            if named and named[1] == "field":
                assert named[2] in fields, (method, path, message)
            elif named:
                assert named[2] in parameters, (method, path, message)
            if message.startswith("Malformed JSON"):
                assert body is not None, (method, path)
        if method in ("get", "delete") and not parameters and body is None:
            # No body or parameters to get wrong: a 400 there is a rule of its own.
            malformed = ("Invalid field", "Invalid query", "Malformed JSON", "A JSON request")
            assert not [m for m in messages if m.startswith(malformed)], (method, path)


async def test_the_audience_delete_documents_the_in_use_refusal(http: httpx.AsyncClient):
    document = await document_of(http)
    responses = document["paths"]["/audience/{externalId}"]["delete"]["responses"]
    refusal = responses["417"]
    values = [e["value"] for e in refusal["content"]["application/json"]["examples"].values()]
    assert values[0]["message"] == "Cannot delete audience, as it's in use"
    assert "400" not in responses  # no body, no parameters to get wrong


async def test_swagger_ui_is_served_from_local_assets_and_keeps_no_secret(
    http: httpx.AsyncClient,
):
    page = await http.get("/docs")
    assert page.status_code == 200
    assert "cdn" not in page.text.lower()
    assert "/static-docs/swagger-ui-bundle.js" in page.text
    assert '"persistAuthorization": false' in page.text
    bundle = await http.get("/static-docs/swagger-ui-bundle.js")
    assert bundle.status_code == 200
    assert len(bundle.content) > 500_000
    assert (await http.get("/static-docs/swagger-ui.css")).status_code == 200


async def test_request_and_response_bodies_carry_examples(http: httpx.AsyncClient):
    schemas = (await document_of(http))["components"]["schemas"]
    for name in (
        "AudienceCreate",
        "AudienceRead",
        "ContactRead",
        "ContactRequest",
        "AddContactsRequest",
        "AddContactResponse",
        "PropertyRead",
        "ChangeContactsAudienceRequest",
        "MailingCreate",
        "AutomailerCreate",
    ):
        assert "example" in schemas[name], name


async def test_example_dates_lie_in_the_future(http: httpx.AsyncClient):
    schemas = (await document_of(http))["components"]["schemas"]
    now = datetime.now(UTC)
    for name, field in [
        ("MailingCreate", "scheduledStartDate"),
        ("MailingSchedule", "scheduledStartDate"),
        ("AutomailerCreate", "lastSendingMoment"),
        ("RunRequest", "at"),
    ]:
        moment = datetime.fromisoformat(schemas[name]["example"][field].replace("Z", "+00:00"))
        assert moment > now, (name, field)


def request_example(document: dict[str, Any], operation: dict[str, Any]) -> tuple[str, Any]:
    """The content type and the body the page prefills for an operation."""
    content_type, content = next(iter(operation["requestBody"]["content"].items()))
    if "example" in content:
        return content_type, content["example"]
    name = schema_name(content["schema"])
    return content_type, document["components"]["schemas"][name]["example"]


async def test_the_examples_succeed_when_tried_top_to_bottom(tenant: Tenant):
    """Every operation the page prefills a body for, in the page's order, with the ids the
    story made so far in its path: each succeeds."""
    document = await document_of(tenant.client)
    schemas = document["components"]["schemas"]
    audience = schemas["AudienceCreate"]["example"]["externalId"]
    contact = schemas["AddContactsRequest"]["example"]["contacts"][0]["externalId"]
    made: dict[str, str] = {}  # collection path ("/mailing", ...) -> the id it answered
    tried = []
    for method, path, operation in operations(document):
        if "requestBody" not in operation:
            continue
        collection = path.split("/")[1]

        def fill(found: re.Match[str], collection: str = collection, path: str = path) -> str:
            if found[1] == "externalId":
                return contact if collection == "contact" else audience
            return made[path[: found.start()].rstrip("/")]

        url = BASE + re.sub(r"\{(\w+)\}", fill, path)
        content_type, example = request_example(document, operation)
        if isinstance(example, str):
            response = await tenant.client.request(
                method, url, content=example.encode(), headers={"content-type": content_type}
            )
        else:
            response = await tenant.client.request(method, url, json=example)
        assert response.status_code < 300, (method, path, response.text)
        tried.append(f"{method.upper()} {path}")
        answer = response.json() if response.content else {}
        if isinstance(answer, dict) and "{" not in path:
            made_id = answer.get("id") or answer.get("encryptedId") or answer.get("name")
            if made_id:
                made.setdefault(path, made_id)
    assert tried[:2] == ["POST /contact/list", "POST /contact/import"]
    assert {"POST /audience/{externalId}/contact", "POST /mailing", "POST /message"} <= set(tried)
    mailing = await tenant.client.get(f"{BASE}/mailing/{made['/mailing']}")
    assert mailing.json()["status"] == "scheduled"
    assert [t["name"] for t in TAGS][:3] == VENDOR_TAGS


def types_of(schema: dict[str, Any]) -> set[str]:
    """Every JSON type a property's schema admits."""
    found: set[str] = set()
    for option in [schema, *schema.get("anyOf", [])]:
        kind = option.get("type", [])
        found.update([kind] if isinstance(kind, str) else kind)
    return found


async def test_text_fields_that_take_numbers_say_so(http: httpx.AsyncClient):
    # The service reads `"externalId": 7` as "7" (the vendor's clients send numeric ids as
    # numbers); a document that says "string" only has a fuzzer report every accepted number.
    schemas = (await document_of(http))["components"]["schemas"]
    assert types_of(schemas["AudienceCreate"]["properties"]["name"]) == {"string", "number"}
    assert "number" in types_of(schemas["ContactIn"]["properties"]["externalId"])
    contacts = schemas["ChangeContactsAudienceRequest"]["properties"]["contacts"]
    assert "number" in types_of(contacts["items"])
    # Read shapes and dates are not widened.
    assert types_of(schemas["AudienceRead"]["properties"]["name"]) == {"string"}


def parameter(document: dict[str, Any], method: str, path: str, name: str) -> dict[str, Any]:
    listed = document["paths"][path][method]["parameters"]
    return next(p for p in listed if p["name"] == name)


async def test_the_document_states_the_input_rules(http: httpx.AsyncClient):
    # What the service refuses, the document says, so a client (and a fuzzer) knows before
    # sending: found missing by schemathesis' positive and negative checks.
    document = await document_of(http)
    schemas = document["components"]["schemas"]
    audience = schemas["AudienceCreate"]
    assert audience["required"] == ["externalId", "name"]
    assert audience["properties"]["name"]["pattern"] == "^(?=.*\\S)[^\\x00-\\x1F\\x7F-\\x9F]*$"
    assert schemas["AudienceUpdate"]["required"] == ["name"]
    assert schemas["NewContact"]["required"] == ["externalId"]
    assert schemas["ContactRequest"]["properties"]["purge"]["type"] == "boolean"
    assert schemas["SetEntryIn"]["properties"]["bit"]["minimum"] == 1
    assert schemas["PropertyCreate"]["properties"]["name"]["pattern"].startswith("^[A-Za-z]")
    assert schemas["AutomailerCreate"]["properties"]["period"]["format"] == "duration"
    assert "pattern" in schemas["FolderWrite"]["properties"]["name"]
    assert schemas["BlockIn"]["properties"]["content"]["pattern"] == "^[^\\x00]*$"
    from_date = parameter(document, "get", "/contact/updates/list", "fromDate")
    assert from_date["required"] is True
    assert from_date["schema"]["anyOf"][0]["pattern"] == "^[0-9]{1,14}$"
    # Any text in a path or query: no NUL (the pipeline refuses one everywhere).
    assert parameter(document, "get", "/audience", "folder")["schema"]["anyOf"][0]["pattern"] == (
        "^[^\\x00]*$"
    )
    search = parameter(document, "get", "/contact/search", "MPSearchQuery")["schema"]
    assert "=" in search["pattern"]
    # No body is an upload of no ids; NDJSON is a sequence of JSON values.
    upload = document["paths"]["/audience/{externalId}/contact"]["put"]["requestBody"]
    assert upload["required"] is False
    assert "items" in upload["content"]["application/x-ndjson"]["schema"]
