"""OpenAPI details: declared error responses, servers for both base paths, offline Swagger UI."""

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

# Declared here rather than as dependencies, which would parse the header again on every
# request (the route pipeline authenticates, api/routing.py).
SECURITY_SCHEMES = {
    "basicAuth": {
        "type": "http",
        "scheme": "basic",
        "description": "HTTP Basic: the consumer key as user name, the secret as password.",
    },
    "oauth1": {
        "type": "http",
        "scheme": "OAuth",
        "description": (
            "OAuth 1.0a one-legged, HMAC-SHA1 (RFC 5849), as Spotler client libraries sign: "
            "`Authorization: OAuth oauth_consumer_key=..., oauth_nonce=..., "
            "oauth_signature_method=HMAC-SHA1, oauth_timestamp=..., oauth_version=1.0, "
            "oauth_signature=...`; no token. The JSON body is not signed."
        ),
    },
}
SWAGGER_STATIC = Path(fastapi_offline.__file__).resolve().parent / "static"
STATIC_URL = "/static-docs"


def errors(*kinds: type[DomainError] | DomainError, auth: bool = True) -> dict[int | str, Any]:
    """The `responses=` of a route: each error it can answer, as examples of the envelope."""
    declared: list[DomainError] = [k if isinstance(k, DomainError) else k() for k in kinds]
    declared.append(InvalidParams("Invalid field 'name': Input should be a valid string"))
    if auth:
        declared.append(NotAuthorized())
    # Any call may meet a database outage, or a conflict that persisted through the retries.
    declared.extend([BackendUnavailable(), TransientConflict()])
    by_status: dict[int, dict[str, Any]] = {}
    for error in declared:
        entry = by_status.setdefault(
            error.status,
            {
                "model": ErrorResponse,
                "description": error.message,
                "content": {"application/json": {"examples": {}}},
            },
        )
        examples = entry["content"]["application/json"]["examples"]
        key = f"{error.error_type}: {error.message}"[:60]
        examples.setdefault(key, {"summary": error.message, "value": error.body()})
        if error.message not in entry["description"]:
            entry["description"] += f"; {error.message}"
    return dict(by_status.items())


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
            app.openapi_schema = document
            _summaries_from_docstrings(app.openapi_schema)
            _declare_security(app.openapi_schema)
        return app.openapi_schema

    app.openapi = build  # type: ignore[method-assign]


def _summaries_from_docstrings(document: dict[str, Any]) -> None:
    """Each operation's summary is the first line of its handler's docstring, and FastAPI's
    422 is dropped: validation errors are answered as 400 INVALID_PARAMS."""
    for item in document.get("paths", {}).values():
        for operation in item.values():
            description = operation.get("description") or ""
            if description:
                operation["summary"] = description.split("\n")[0].rstrip(".")
            operation.get("responses", {}).pop("422", None)
    schemas = document.get("components", {}).get("schemas", {})
    schemas.pop("HTTPValidationError", None)
    schemas.pop("ValidationError", None)


def _declare_security(document: dict[str, Any]) -> None:
    """Every API operation accepts either scheme."""
    document.setdefault("components", {})["securitySchemes"] = SECURITY_SCHEMES
    for item in document.get("paths", {}).values():
        for operation in item.values():
            operation["security"] = [{"basicAuth": []}, {"oauth1": []}]


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
            swagger_ui_parameters={"persistAuthorization": True, "tryItOutEnabled": True},
        )


TAGS = [
    {"name": "Account", "description": "Extension: check credentials and request signing."},
    {"name": "Organisation", "description": "Extension: folders and the dynamic-lists overview."},
    {"name": "Audiences", "description": "Spotler-compatible audience calls."},
    {"name": "Audience contacts", "description": "Spotler-compatible membership calls."},
    {"name": "Contacts", "description": "Spotler-compatible contact calls."},
    {
        "name": "Contact properties",
        "description": "Extension: properties the account defines, and a set's entries (such "
        "as the permissions).",
    },
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
]
