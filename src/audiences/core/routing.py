"""What a route declares about its requests (`RouteFacts`, read from `scope["route"]`), and the
plain HTTP rules the API's route classes apply with them: methods and `Allow`, content
negotiation, bounded bodies."""

import asyncio
import hashlib
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import parse_qsl

from fastapi.routing import iter_route_contexts
from starlette._utils import get_route_path
from starlette.datastructures import Headers
from starlette.responses import Response, StreamingResponse
from starlette.types import Message, Receive, Scope, Send

from audiences.core.errors import BodyTooLarge, DomainError, InvalidParams, SendTimedOut
from audiences.core.validation import echoed


@dataclass(frozen=True)
class RouteFacts:
    """How a route's requests are handled. `streams_body`: the body is an upload that goes to
    the database as it arrives (no size limit but the route's own); otherwise a body is JSON,
    parsed whole and capped by `max_json_body_bytes`."""

    streams_body: bool = False
    # The response is a download streamed as the client reads it: a client that leaves a
    # chunk unread for `export_send_timeout` seconds is cut off.
    streams_response: bool = False
    # A read that may lag behind the caller's own writes (by up to `read_replica_max_lag`
    # seconds): served by the read replica when one is configured and fresh.
    may_lag: bool = False


JSON_BODY = RouteFacts()


def route_facts(scope: Scope) -> RouteFacts:
    """The facts of the route a request matched (JSON_BODY before routing)."""
    facts = getattr(scope.get("route"), "facts", JSON_BODY)
    return facts if isinstance(facts, RouteFacts) else JSON_BODY


_METHOD_ORDER = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def allowed_methods(scope: Scope, route_classes: type | tuple[type, ...]) -> str:
    """The `Allow` header of the request's path: the methods of its resource, that is of every
    route (one per method) declared with the path template that serves the path with the
    fewest parameters, the first in routing order among equals (`/contact/list` and
    `/contact/properties` are resources of their own, not contacts, wherever they are routed)."""
    path = get_route_path(scope)
    by_template: dict[str, set[str]] = {}
    for context in iter_route_contexts(scope["app"].routes):
        regex = getattr(context, "path_regex", None)
        template = context.path
        if not isinstance(context.original_route, route_classes) or regex is None or not template:
            continue
        if template in by_template or regex.match(path):
            by_template.setdefault(template, set()).update(context.methods or ())
    methods = {"OPTIONS"}
    if by_template:
        methods.update(by_template[min(by_template, key=lambda t: t.count("{"))])
    return ", ".join(sorted(methods, key=_METHOD_ORDER.index))


class NotAcceptable(DomainError):
    status = 406
    error_type = "INVALID_PARAMS"
    message = "This service answers in JSON only (Accept: application/json)"


class UnsupportedMediaType(DomainError):
    status = 415
    error_type = "INVALID_PARAMS"
    message = "This service speaks JSON: send the request body as application/json"


def _media_types(value: str) -> list[str]:
    return [part.split(";")[0].strip().lower() for part in value.split(",") if part.strip()]


def refuse_repeated_query(scope: Scope) -> None:
    """A query parameter given twice is refused: which one counts would be a guess (the
    handler would read the last, a proxy or a cache key may use the first)."""
    query = scope.get("query_string", b"").decode("latin-1")
    counted = Counter(name for name, _ in parse_qsl(query, keep_blank_values=True))
    repeated = [name for name, count in counted.items() if count > 1]
    if repeated:
        raise InvalidParams(f"Query parameter '{echoed(repeated[0])}' is given more than once")


def refuse_unacceptable(headers: Headers) -> None:
    """An Accept header that admits only XML cannot be answered: 406."""
    accepted = _media_types(headers.get("accept", ""))
    if accepted and all("xml" in media for media in accepted):
        raise NotAcceptable()


def single_content_type(scope: Scope) -> str:
    """The request's one media type, lower case ("" when none); two Content-Type headers are
    refused, since one reader could use one and another the other."""
    values = [value for name, value in scope.get("headers", ()) if name == b"content-type"]
    if len(values) > 1:
        raise InvalidParams("Send one Content-Type header, not several")
    if not values:
        return ""
    value: bytes = values[0]
    return value.decode("latin-1").split(";")[0].strip().lower()


FORM = "application/x-www-form-urlencoded"
# Bodies that real clients send with JSON in them: no type at all (a TypeScript client), a text
# type (browsers' fetch sends text/plain for a string), form encoding (curl -d, PHP's curl) and
# octet-stream. They are read as JSON.
_JSON_BY_CONTENT = ("", "text/plain", "text/json", "text/x-json", FORM, "application/octet-stream")


def json_media_type(media: str) -> bool:
    """Whether a body of this media type is read as JSON (XML and others are refused)."""
    if "xml" in media:
        return False
    return (
        media in _JSON_BY_CONTENT
        or media == "application/json"
        or media.endswith("+json")
        or media.startswith("text/")
    )


def as_json_request(scope: Scope) -> Scope:
    """The scope with its Content-Type made application/json (FastAPI parses JSON only then)."""
    headers = [(name, value) for name, value in scope["headers"] if name != b"content-type"]
    headers.append((b"content-type", b"application/json"))
    return {**scope, "headers": headers}


def declared_length(headers: Headers) -> int | None:
    value = headers.get("content-length")
    return int(value) if value is not None and value.isdigit() and len(value) < 20 else None


async def read_body(receive: Receive, limit: int) -> bytes | None:
    """The whole body, refused (413) as soon as it passes `limit`; None if the client left."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge(f"The request body exceeds {limit} bytes")
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def replay_body(body: bytes, receive: Receive) -> Receive:
    """A `receive` that hands over `body` whole, then waits on the client as `receive` does."""
    delivered = False

    async def replay() -> Message:
        nonlocal delivered
        if not delivered:
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


def hashing(receive: Receive, digest: "hashlib._Hash") -> Receive:
    """A `receive` that feeds every body chunk to `digest` as it passes (an upload's
    fingerprint, computed at streaming speed without keeping the body)."""

    async def feed() -> Message:
        message = await receive()
        if message["type"] == "http.request":
            digest.update(message.get("body", b""))
        return message

    return feed


def send_timeout(send: Send, seconds: float) -> Send:
    """A `send` that gives up when the client does not take a message within `seconds`."""

    async def timed(message: Message) -> None:
        try:
            await asyncio.wait_for(send(message), seconds)
        except TimeoutError as exc:
            raise SendTimedOut(f"the client read nothing for {seconds:g} seconds") from exc

    return timed


def body_digest(scope: Scope) -> "hashlib._Hash | None":
    """The running digest of a streamed body, when the route pipeline keeps one."""
    digest = scope.get("state", {}).get("body_digest")
    return digest if digest is not None else None


def without_body(headers: Iterable[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """Response headers for an answer to HEAD made from a streamed GET (no length known)."""
    return [(name, value) for name, value in headers if name not in (b"content-length",)]


class ClosingStream(Response):
    """A streamed response whose stream is closed however the response ends (completed, the
    client gone, a send that timed out): a stream may hold a pooled connection, and an
    abandoned async generator is otherwise closed only when the collector gets to it."""

    def __init__(self, inner: StreamingResponse) -> None:
        self.inner = inner
        self.status_code = inner.status_code
        self.background = None
        self.raw_headers = inner.raw_headers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await self.inner(scope, receive, send)
        finally:
            aclose = getattr(self.inner.body_iterator, "aclose", None)
            if aclose is not None:
                await aclose()
