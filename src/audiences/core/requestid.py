"""A request id on every response (`X-Request-Id`) and in every log line; the access line and
the request's metrics, where a client that left before its answer was complete is a 499."""

import logging
import re
import time
import uuid
from contextvars import ContextVar

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from audiences.core.metrics import observe_request

access_logger = logging.getLogger("audiences.access")
logger = logging.getLogger("audiences.requests")
_request_id: ContextVar[str] = ContextVar("request_id", default="-")
# Set (in the request's own task) when the service cut off a client that stopped reading: the
# server then reports an incomplete response, which is the client's doing, not an error.
_abandoned: ContextVar[bool] = ContextVar("abandoned", default=False)
# nginx's code for "the client closed the request": not an answer anybody received.
CLIENT_GONE = 499
# An incoming id is echoed only when it is short and plain, so logs cannot be forged through it.
_ACCEPTABLE = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def current_request_id() -> str:
    return _request_id.get()


def abandon_response() -> None:
    """Marks this request's response as cut off because its client stopped reading."""
    _abandoned.set(True)


class AbandonedResponseFilter(logging.Filter):
    """Drops the server's "returned without completing response" error for a response the
    service cut off on purpose (already logged as a warning)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (_abandoned.get() and "without completing response" in str(record.msg))


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = _request_id.get()
        return True


class RequestIdMiddleware:
    """Takes the caller's X-Request-Id if plain, else makes one; sets it for logs and echoes it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = ""
        for name, value in scope.get("headers", []):
            if name == b"x-request-id":
                incoming = value.decode("latin-1")
                break
        request_id = incoming if _ACCEPTABLE.match(incoming) else uuid.uuid4().hex
        token = _request_id.set(request_id)
        started = time.perf_counter()
        status = 500
        gone = completed = False

        async def watching_receive() -> Message:
            nonlocal gone
            message = await receive()
            if message["type"] == "http.disconnect":
                gone = True
            return message

        async def send_with_id(message: Message) -> None:
            nonlocal status, completed
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", request_id.encode("latin-1")))
                message["headers"] = headers
            elif message["type"] == "http.response.body" and not message.get("more_body"):
                completed = True
            await send(message)

        try:
            await self.app(scope, watching_receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            if not completed and (gone or _abandoned.get()):
                status = CLIENT_GONE
                logger.info(
                    "the client went away before the response was complete%s",
                    " (it stopped reading)" if _abandoned.get() else "",
                )
            template = getattr(scope.get("route"), "path", "unmatched")
            observe_request(scope["method"], template, status, elapsed)
            client = scope.get("client")
            access_logger.info(
                "%s %s %s",
                scope["method"],
                scope["path"],
                status,
                extra={
                    "method": scope["method"],
                    "path": scope["path"],
                    "status": status,
                    "duration_ms": round(elapsed * 1000, 2),
                    "client": client[0] if client else None,
                },
            )
            _request_id.reset(token)
