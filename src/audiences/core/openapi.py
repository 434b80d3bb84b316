"""OpenAPI details: declared error responses, servers for both base paths, offline Swagger UI."""

import re
import warnings
from pathlib import Path
from typing import Any

import fastapi_offline
from fastapi import APIRouter, FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from audiences.core.basepath import BASE_PATHS
from audiences.core.errors import (
    BackendUnavailable,
    DomainError,
    ErrorResponse,
    InvalidParams,
    NotAuthorized,
    TransientConflict,
)
from audiences.core.validation import NO_NUL

SWAGGER_STATIC = Path(fastapi_offline.__file__).resolve().parent / "static"
STATIC_URL = "/static-docs"


def errors(*kinds: type[DomainError] | DomainError, auth: bool = True) -> dict[int | str, Any]:
    """The `responses=` of a route: each error it can answer, as examples of the envelope.
    Malformed input (400) is added from the route's own body and parameters when the document
    is built."""
    declared: list[DomainError] = [k if isinstance(k, DomainError) else k() for k in kinds]
    if auth:
        declared.append(NotAuthorized())
    # Any call may meet a database outage, or a conflict that persisted through the retries.
    declared.extend([BackendUnavailable(), TransientConflict()])
    by_status: dict[int | str, Any] = {}
    for error in declared:
        entry = by_status.setdefault(error.status, {"model": ErrorResponse})
        _add_example(entry, error)
    return by_status


def _add_example(entry: dict[str, Any], error: DomainError) -> None:
    """Adds the error to a response entry, as an example of the envelope and to its text."""
    content = entry.setdefault("content", {}).setdefault("application/json", {})
    examples = content.setdefault("examples", {})
    key = f"{error.error_type}: {error.message}"[:60]
    examples.setdefault(key, {"summary": error.message, "value": error.body()})
    description = entry.get("description")
    if not description:
        entry["description"] = error.message
    elif error.message not in description:
        entry["description"] = f"{description}; {error.message}"


def install_openapi(
    app: FastAPI, api: APIRouter, title: str, version: str, description: str
) -> None:
    """The document describes the API once, with both base paths as servers."""

    def build() -> dict[str, Any]:
        if app.openapi_schema is None:
            with warnings.catch_warnings():
                # HEAD is served for every GET (as GET without a body) and left out of the
                # document; its operations would repeat the GETs' ids.
                warnings.filterwarnings("ignore", "Duplicate Operation ID")
                document = get_openapi(
                    title=title,
                    version=version,
                    description=description,
                    routes=api.routes,
                    servers=[{"url": base} for base in BASE_PATHS],
                    tags=TAGS,
                )
            for item in document.get("paths", {}).values():
                item.pop("head", None)
            # A tag without operations (Testing, outside ephemeral mode) is not shown.
            used = {t for op in _operations(document) for t in op.get("tags", [])}
            document["tags"] = [t for t in document.get("tags", []) if t["name"] in used]
            app.openapi_schema = document
            _summaries_from_docstrings(app.openapi_schema)
            _declare_input_errors(app.openapi_schema)
            _declare_parameter_rules(app.openapi_schema)
            _declare_security(app.openapi_schema)
            _order_by_tags(app.openapi_schema)
        return app.openapi_schema

    app.openapi = build  # type: ignore[method-assign]


def _operations(document: dict[str, Any]) -> list[dict[str, Any]]:
    return [op for item in document.get("paths", {}).values() for op in item.values()]


def first_sentence(docstring: str) -> str:
    """The first sentence of a docstring's first paragraph, however its lines are wrapped."""
    paragraph = " ".join(docstring.strip().split("\n\n")[0].split())
    return re.split(r"(?<=[.!?])\s+(?=[A-Z`(])", paragraph)[0].rstrip(".")


def _summaries_from_docstrings(document: dict[str, Any]) -> None:
    """Each operation's summary is the first sentence of its handler's docstring, and
    FastAPI's 422 is dropped: validation errors are answered as 400 INVALID_PARAMS."""
    for operation in _operations(document):
        description = operation.get("description") or ""
        if description:
            operation["summary"] = first_sentence(description)
        operation.get("responses", {}).pop("422", None)
    schemas = document.get("components", {}).get("schemas", {})
    schemas.pop("HTTPValidationError", None)
    schemas.pop("ValidationError", None)


def _input_errors(document: dict[str, Any], operation: dict[str, Any]) -> list[DomainError]:
    """The 400s an operation's own input can cause, worded as the handler words them."""
    found: list[DomainError] = []
    body = operation.get("requestBody", {}).get("content", {}).get("application/json")
    if body is not None:
        found.append(InvalidParams("Malformed JSON body: Expecting value"))
        reference = body.get("schema", {}).get("$ref", "")
        schema = document["components"]["schemas"].get(reference.rsplit("/", 1)[-1], {})
        required = schema.get("required") or []
        if required:
            found.append(InvalidParams(f"Invalid field '{required[0]}': Field required"))
    for parameter in operation.get("parameters", []):
        if parameter.get("in") != "query":
            continue
        problem = _invalid_value(parameter.get("schema", {}))
        if parameter.get("required"):
            problem = "Field required"
        if problem:
            found.append(InvalidParams(f"Invalid query parameter '{parameter['name']}': {problem}"))
    return found


def _invalid_value(schema: dict[str, Any]) -> str | None:
    """What the handler says about a bad value of a query parameter of this schema."""
    for option in [schema, *schema.get("anyOf", [])]:
        if "enum" in option:
            values = [f"'{v}'" for v in option["enum"]]
            listed = ", ".join(values[:-1]) + f" or {values[-1]}" if len(values) > 1 else values[0]
            return f"Input should be {listed}"
        if option.get("format") == "date-time":
            return "Input should be a valid datetime or date, input is too short"
        if option.get("type") == "integer":
            return "Input should be a valid integer, unable to parse string as an integer"
        if option.get("type") == "boolean":
            return "Input should be a valid boolean, unable to interpret input"
    return None


def _declare_input_errors(document: dict[str, Any]) -> None:
    """Each operation with input declares the 400s that input can cause, and only those: a
    DELETE without a body has none."""
    reference = {"$ref": "#/components/schemas/ErrorResponse"}
    for operation in _operations(document):
        for error in _input_errors(document, operation):
            responses = operation.setdefault("responses", {})
            entry = responses.setdefault("400", {})
            entry.setdefault("content", {}).setdefault("application/json", {}).setdefault(
                "schema", reference
            )
            _add_example(entry, error)


# A parameter the handler checks itself (so that a missing one gets the vendor's message)
# says it is required with this mark in its schema.
REQUIRED = "x-required"


def _declare_parameter_rules(document: dict[str, Any]) -> None:
    """Every text parameter states that it holds no NUL (the pipeline refuses one in any path
    or query, InputGuardMiddleware), and a parameter marked REQUIRED is required."""
    for operation in _operations(document):
        for parameter in operation.get("parameters", []):
            schema = parameter.get("schema", {})
            if schema.pop(REQUIRED, False):
                parameter["required"] = True
            for option in [schema, *schema.get("anyOf", [])]:
                if option.get("type") == "string" and not {"pattern", "enum", "format"} & set(
                    option
                ):
                    option["pattern"] = NO_NUL


# Swagger UI cannot sign OAuth 1.0a requests (every request needs its own nonce, timestamp and
# signature), and shows an `http` scheme it does not know as broken. OAuth is described as the
# header it is, and Basic is what "Try it out" uses.
SECURITY_SCHEMES = {
    "basicAuth": {
        "type": "http",
        "scheme": "basic",
        "description": (
            "HTTP Basic: the consumer key as user name, the consumer secret as password. "
            'Use this for "Try it out" and curl.'
        ),
    },
    "oauth1": {
        "type": "apiKey",
        "in": "header",
        "name": "Authorization",
        "description": (
            "OAuth 1.0a one-legged, HMAC-SHA1 (RFC 5849), as Spotler client libraries sign "
            'every request: `Authorization: OAuth oauth_consumer_key="...", '
            'oauth_nonce="...", oauth_signature_method="HMAC-SHA1", '
            'oauth_timestamp="...", oauth_version="1.0", oauth_signature="..."`; no '
            "token; the JSON body is not signed. A signature is good for one request only, so "
            "leave this empty here and use Basic to try calls on this page."
        ),
    },
}


def _declare_security(document: dict[str, Any]) -> None:
    """Every API operation accepts either scheme."""
    document.setdefault("components", {})["securitySchemes"] = SECURITY_SCHEMES
    for operation in _operations(document):
        operation["security"] = [{"basicAuth": []}, {"oauth1": []}]


def _order_by_tags(document: dict[str, Any]) -> None:
    """Paths in the order of their tags (the vendor's calls first), as the page shows them."""
    rank = {tag["name"]: index for index, tag in enumerate(TAGS)}

    def first_tag(item: dict[str, Any]) -> int:
        tags = [t for op in item.values() for t in op.get("tags", [])]
        return min((rank.get(t, len(rank)) for t in tags), default=len(rank))

    paths = document.get("paths", {})
    document["paths"] = dict(sorted(paths.items(), key=lambda kv: first_tag(kv[1])))


def install_docs(app: FastAPI) -> None:
    """Swagger UI at /docs, its assets served from the installed package (no CDN)."""
    app.mount(STATIC_URL, StaticFiles(directory=SWAGGER_STATIC), name="static-docs")

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title="audiences API",
            swagger_js_url=f"{STATIC_URL}/swagger-ui-bundle.js",
            swagger_css_url=f"{STATIC_URL}/swagger-ui.css",
            swagger_favicon_url=f"{STATIC_URL}/favicon.png",
            # The credential stays in the page: never written to localStorage.
            swagger_ui_parameters={"persistAuthorization": False, "tryItOutEnabled": True},
        )


# The vendor's calls first, in the order of the walkthrough: contacts exist before they join.
TAGS = [
    {"name": "Contacts", "description": "Spotler-compatible contact calls."},
    {"name": "Audiences", "description": "Spotler-compatible audience calls."},
    {"name": "Audience contacts", "description": "Spotler-compatible membership calls."},
    {
        "name": "Contact properties",
        "description": "Extension: properties the account defines, and a set's entries (such "
        "as the permissions).",
    },
    {"name": "Organisation", "description": "Extension: folders and the dynamic-lists overview."},
    {"name": "Mailings", "description": "Extension: mailings with an audience as target group."},
    {"name": "Automailers", "description": "Extension: automailers on an audience."},
    {
        "name": "Campaigns",
        "description": "Extension: campaigns whose triggers and steps filter on audiences.",
    },
    {"name": "Automations", "description": "Extension: automations, as campaigns."},
    {
        "name": "Messages",
        "description": "Extension: messages with dynamic content blocks per audience.",
    },
    {"name": "Account", "description": "Extension: check credentials and request signing."},
    {
        "name": "Testing",
        "description": "Extension, on `audiences serve --ephemeral` only: an account per test, "
        "a reset, and injected faults (docs/ci.md).",
    },
]
