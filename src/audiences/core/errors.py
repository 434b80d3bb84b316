"""One error envelope for every failure: `{"errorType", "message", ...extra}`."""

import json
import logging
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from psycopg_pool import PoolTimeout as ExportPoolTimeout
from pydantic import ConfigDict
from pydantic.alias_generators import to_camel
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from audiences.core.basepath import client_path
from audiences.core.requestid import abandon_response, current_request_id
from audiences.core.schemas import ApiModel

logger = logging.getLogger("audiences.errors")


class DomainError(Exception):
    """A refusal the client can act on, carrying the vendor's status and errorType."""

    status = 400
    error_type = "INVALID_PARAMS"
    message = "Invalid parameters"

    def __init__(
        self,
        message: str | None = None,
        *,
        status: int | None = None,
        error_type: str | None = None,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        self.message = message or self.message
        if status is not None:
            self.status = status
        if error_type is not None:
            self.error_type = error_type
        self.headers = headers
        # Extra members of the envelope are named in Python's way and sent in the wire's.
        self.extra = {to_camel(name): value for name, value in extra.items()}
        super().__init__(self.message)

    def body(self) -> dict[str, Any]:
        return {"errorType": self.error_type, "message": self.message, **self.extra}


class InvalidParams(DomainError):
    status = 400
    error_type = "INVALID_PARAMS"


class NotAuthorized(DomainError):
    status = 401
    error_type = "NOT_AUTHORIZED"
    message = "Not authorized"


class ProductNotFound(DomainError):
    status = 403
    error_type = "PRODUCT_NOTFOUND"
    message = "Only Automation or eCommerce products can use this call"


class ResourceNotFound(DomainError):
    status = 404
    error_type = "RESOURCE_NOT_FOUND"
    message = "Resource not found"


class BodyTooLarge(DomainError):
    status = 413
    error_type = "INVALID_PARAMS"
    message = "Request body too large"


class BackendUnavailable(DomainError):
    status = 503
    error_type = "BACKEND_EXCEPTION"
    message = "The database is unavailable; try again shortly"

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message, headers={"Retry-After": "1"})


# deadlock_detected, serialization_failure: PostgreSQL rolled the transaction back, and running
# it again will do.
TRANSIENT_SQLSTATES = ("40P01", "40001")


class TransientConflict(DomainError):
    status = 503
    error_type = "BACKEND_EXCEPTION"
    message = "The request conflicted with a concurrent one and was rolled back; retry it"

    def __init__(self) -> None:
        super().__init__(headers={"Retry-After": "1"})


def is_transient(exc: BaseException) -> bool:
    """A deadlock or serialization failure: nothing was done, and the same work may succeed."""
    return isinstance(exc, DBAPIError) and (
        getattr(exc.orig, "sqlstate", None) in TRANSIENT_SQLSTATES
    )


class ErrorResponse(ApiModel):
    """The error envelope (fields beyond these are named per error)."""

    model_config = ConfigDict(extra="allow")
    error_type: str
    message: str


# Constraint name -> domain error. Features register the constraints they own, so a violation
# that slips past a pre-check still reaches the client as the same refusal.
_CONSTRAINT_ERRORS: dict[str, Callable[[], DomainError]] = {}


def register_constraint(name: str, error: Callable[[], DomainError]) -> None:
    _CONSTRAINT_ERRORS[name] = error


def translate_integrity_error(exc: IntegrityError) -> Exception:
    """The domain error registered for the violated constraint, else the original error."""
    name = getattr(getattr(exc.orig, "diag", None), "constraint_name", None)
    factory = _CONSTRAINT_ERRORS.get(name or "")
    if factory is None:
        return exc
    return factory()


class EnvelopeResponse(JSONResponse):
    """JSON with non-ASCII escaped: an error may echo input that cannot be encoded as UTF-8
    (a lone surrogate in an id), and the answer must still go out."""

    def render(self, content: Any) -> bytes:
        return json.dumps(content, ensure_ascii=True, separators=(",", ":")).encode("ascii")


def error_response(error: DomainError) -> JSONResponse:
    return EnvelopeResponse(error.body(), status_code=error.status, headers=error.headers)


def _field_path(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) if parts else "body"


def validation_message(exc: RequestValidationError) -> str:
    """A message that names the field (or says the JSON is malformed)."""
    messages = []
    for err in exc.errors():
        if err.get("type") == "json_invalid":
            ctx = err.get("ctx") or {}
            return f"Malformed JSON body: {ctx.get('error', 'cannot be parsed')}"
        loc = tuple(err.get("loc", ()))
        where = loc[0] if loc else "body"
        field = _field_path(loc)
        if err.get("type") == "missing" and field == "body":
            messages.append("A JSON request body is required")
            continue
        if where == "body":
            messages.append(f"Invalid field '{field}': {err.get('msg')}")
        else:
            messages.append(f"Invalid {where} parameter '{field}': {err.get('msg')}")
    return "; ".join(messages) or "Invalid parameters"


async def _domain_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DomainError)
    return error_response(exc)


async def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return error_response(InvalidParams(validation_message(exc)))


class MethodNotAllowed(DomainError):
    """A method the path's resource does not serve (its `Allow` header lists those it does)."""

    status = 405

    def __init__(self, request: Request, allowed: str | None = None) -> None:
        super().__init__(
            f"Method {request.method} is not allowed on {client_path(request)}",
            headers={"Allow": allowed} if allowed else None,
        )


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    headers = dict(exc.headers or {})
    if exc.status_code == 404:
        error: DomainError = ResourceNotFound(
            f"No such resource: {request.method} {client_path(request)}"
        )
    elif exc.status_code == 405:
        error = MethodNotAllowed(request)
    elif exc.status_code == 401:
        error = NotAuthorized()
    else:
        error = InvalidParams(str(exc.detail), status=exc.status_code)
    error.headers = headers or None
    return error_response(error)


async def _database_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DBAPIError)
    if exc.connection_invalidated or _is_connection_error(exc):
        logger.warning("database unavailable: %s", type(exc.orig).__name__)
        return error_response(BackendUnavailable())
    if is_transient(exc):
        logger.warning("transient conflict: %s", type(exc.orig).__name__)
        return error_response(TransientConflict())
    return await _unexpected_error(_request, exc)


def _is_connection_error(exc: DBAPIError) -> bool:
    sqlstate = getattr(exc.orig, "sqlstate", None) or ""
    # Class 08: connection exception; 57P01-57P03: admin shutdown, crash shutdown, cannot connect.
    return (
        exc.orig is not None
        and (sqlstate.startswith("08") or sqlstate in ("57P01", "57P02", "57P03") or not sqlstate)
        and type(exc.orig).__name__ in ("OperationalError", "InterfaceError")
    )


async def _pool_exhausted(_request: Request, exc: Exception) -> JSONResponse:
    logger.warning("no database connection free within the pool timeout")
    return error_response(
        BackendUnavailable("Every database connection is busy; try again shortly")
    )


async def _unexpected_error(_request: Request, exc: Exception) -> JSONResponse:
    return unexpected_error_response(exc)


def unexpected_error_response(exc: BaseException) -> JSONResponse:
    """A 500 that names the request id and nothing of the failure; the log has the rest."""
    request_id = current_request_id()
    logger.error("unexpected error in request %s", request_id, exc_info=exc)
    return JSONResponse(
        {
            "errorType": "BACKEND_EXCEPTION",
            "message": f"Internal error; quote request id {request_id} when reporting it",
            "requestId": request_id,
        },
        status_code=500,
    )


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(DomainError, _domain_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(DBAPIError, _database_error)
    app.add_exception_handler(PoolTimeout, _pool_exhausted)
    app.add_exception_handler(ExportPoolTimeout, _pool_exhausted)
    app.add_exception_handler(Exception, _unexpected_error)


class SendTimedOut(Exception):
    """A client left a streamed response unread too long; its connection is closed."""


class CatchAllMiddleware:
    """Answers unexpected exceptions inside the request-id scope (Starlette's outermost
    handler would answer them without the request id). A client that went away, or stopped
    reading a download, is the client's doing: no error, and nothing left to answer (the
    request is counted as a 499)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except ClientDisconnect:
            return  # its transaction was rolled back on the way out
        except SendTimedOut as exc:
            logger.warning("response cut off: %s", exc)
            abandon_response()
        except Exception as exc:
            if started:
                logger.error("error after the response started", exc_info=exc)
                raise
            await unexpected_error_response(exc)(scope, receive, send)
