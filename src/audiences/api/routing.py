"""The route classes of the API. Every API route is declared with one of them (a router's
`route_class`), and the class is all there is to how its requests are handled, in this order:

1. method: OPTIONS answers the path's methods; HEAD runs the GET without sending a body; any
   other method the path lacks is a 405 that lists them (`Allow`);
2. negotiation: an Accept that admits only XML is a 406; a JSON route refuses an XML (or other
   non-JSON) body with 415, a body declared larger than `max_json_body_bytes` with 413, and two
   Content-Type headers with 400;
3. authentication (auth/service.py), before any of the body is read: a stranger's upload is
   never read. Only a form-encoded body is read first (bounded), for the OAuth parameters it
   may carry. On an ephemeral service, the caller's injected faults (testing/) are met here;
4. a JSON body is read whole, up to `max_json_body_bytes` (413 past it), and parsed as JSON
   whatever text type it came with; an upload route's body is left to its handler, which
   streams it to the database;
5. FastAPI: dependencies (the session, the Idempotency-Key guard of a write), the body's
   validation, the handler;
6. callbacks registered for before the commit (an idempotent answer stored with the work),
   then the session's commit (its dependency), then the response.

A new route needs nothing here: it picks `ApiRoute` (a JSON body, if any) or `UploadRoute`."""

import asyncio
import hashlib
from collections.abc import Callable, Sequence
from typing import Any, ClassVar, TypeVar

from fastapi import APIRouter, Depends, Request, Response
from fastapi.params import Depends as DependsParam
from fastapi.responses import StreamingResponse
from fastapi.routing import APIRoute
from starlette.datastructures import Headers
from starlette.types import Message, Receive, Scope, Send

from audiences.auth import service as auth_service
from audiences.auth.dependencies import CurrentPrincipal
from audiences.auth.repository import CREDENTIAL, CredentialQuery
from audiences.core import routing
from audiences.core.commit import run_before_commit
from audiences.core.credentials import secret_box
from audiences.core.db import SessionDep, claim_slot, database_of
from audiences.core.errors import BodyTooLarge, DomainError, MethodNotAllowed
from audiences.core.routing import JSON_BODY, RouteFacts
from audiences.core.settings import SettingsDep, app_settings
from audiences.idempotency.service import HEADER as IDEMPOTENCY_HEADER
from audiences.idempotency.service import WRITE_METHODS, idempotency_guard


class ApiRoute(APIRoute):
    """An API route whose body, if any, is JSON."""

    facts: ClassVar[RouteFacts] = JSON_BODY
    # The credential look-up; a route may extend it with a statement of its own (one round
    # trip for both), whose parameters come from the path.
    credential_query: ClassVar[CredentialQuery] = CREDENTIAL
    # An ephemeral service's injected faults (testing/) apply to the route's calls.
    meets_faults: ClassVar[bool] = True

    def credential_params(self, path_params: dict[str, Any]) -> dict[str, Any] | None:
        return None

    def __init__(
        self,
        path: str,
        endpoint: Callable[..., Any],
        *,
        methods: set[str] | list[str] | None = None,
        dependencies: Sequence[DependsParam] | None = None,
        **kwargs: Any,
    ) -> None:
        if methods and set(methods) & set(WRITE_METHODS):
            # Only a write can carry an Idempotency-Key: reads do not resolve the guard at all.
            dependencies = [Depends(idempotency_guard), *(dependencies or ())]
        super().__init__(path, endpoint, methods=methods, dependencies=dependencies, **kwargs)
        if self.methods and "GET" in self.methods:
            self.methods.add("HEAD")

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        method = scope["method"]
        if method not in (self.methods or ()):
            allowed = routing.allowed_methods(scope, ApiRoute)
            if method == "OPTIONS":
                await Response(status_code=204, headers={"Allow": allowed})(scope, receive, send)
                return
            raise MethodNotAllowed(Request(scope), allowed)
        headers = Headers(scope=scope)
        routing.refuse_unacceptable(headers)
        routing.refuse_repeated_query(scope)
        request = Request(scope)
        settings = app_settings(request)
        takes_json = self.body_field is not None and not self.facts.streams_body
        media = routing.single_content_type(scope)
        limit = settings.max_json_body_bytes
        if takes_json:
            if not routing.json_media_type(media):
                raise routing.UnsupportedMediaType()
            declared = routing.declared_length(headers)
            if declared is not None and declared > limit:
                raise BodyTooLarge(f"The request body exceeds {limit} bytes")
        form_body = None
        if media == routing.FORM and not self.facts.streams_body:
            form_body = await routing.read_body(receive, limit)
            if form_body is None:
                return  # the client went away
            receive = routing.replay_body(_json_part(form_body), receive)
        found = await auth_service.authenticate(
            request,
            database_of(request).auth_connect,
            settings,
            secret_box(request),
            form_body,
            self.credential_query,
            self.credential_params(scope.get("path_params", {})),
        )
        state = scope.setdefault("state", {})
        state["authenticated"] = found
        inject_fault = getattr(request.app.state, "inject_fault", None)
        if inject_fault is not None and self.meets_faults:
            # Only in ephemeral mode (app.py): one indexed look-up, consumed atomically.
            await inject_fault(request, found)
        if self.facts.streams_body and headers.get(IDEMPOTENCY_HEADER) is not None:
            # A retry's upload is told from another one by its bytes, hashed as they stream.
            state["body_digest"] = digest = hashlib.sha256()
            receive = routing.hashing(receive, digest)
        if takes_json:
            if form_body is None:
                body = await routing.read_body(receive, limit)
                if body is None:
                    return
                receive = routing.replay_body(body, receive)
            scope = routing.as_json_request(scope)
        if method == "HEAD":
            send = _without_body(send)
        elif self.facts.streams_response:
            send = routing.send_timeout(send, settings.export_send_timeout)
        await super().handle(scope, receive, send)

    def get_route_handler(self) -> Callable[[Request], Any]:
        handler = super().get_route_handler()

        async def run(request: Request) -> Response:
            response: Response = await handler(request)
            await run_before_commit(request, response)
            if request.method == "HEAD" and isinstance(response, StreamingResponse):
                # Answered without running the stream (an export would read every member),
                # which is closed at once (it may hold a connection).
                aclose = getattr(response.body_iterator, "aclose", None)
                if aclose is not None:
                    await aclose()
                head = Response(status_code=response.status_code)
                head.raw_headers = routing.without_body(response.raw_headers)
                return head
            if isinstance(response, StreamingResponse):
                return routing.ClosingStream(response)
            return response

        return run


class DownloadRoute(ApiRoute):
    """An API route whose response is a download streamed as the client reads it (an
    export): a client that leaves it unread for `export_send_timeout` seconds is cut off, so
    the connection behind the stream goes back to its pool. It may lag (the replica serves it
    when one is configured and fresh)."""

    facts: ClassVar[RouteFacts] = RouteFacts(streams_response=True, may_lag=True)


class LaggingReadRoute(ApiRoute):
    """An API read that may lag behind the caller's own writes by up to `read_replica_max_lag`
    seconds (a member listing): served by the read replica when one is configured and fresh."""

    facts: ClassVar[RouteFacts] = RouteFacts(may_lag=True)


class TooManyUploads(DomainError):
    status = 429
    error_type = "INVALID_STATE"
    message = "Too many uploads of this account at once; try again when one has finished"

    def __init__(self, limit: int) -> None:
        super().__init__(
            f"At most {limit} uploads of an account run at once; try again when one has finished",
            headers={"Retry-After": "5"},
        )


class UploadStalled(DomainError):
    status = 408
    error_type = "INVALID_PARAMS"

    def __init__(self, seconds: float) -> None:
        super().__init__(f"The upload sent nothing for {seconds:g} seconds; nothing was changed")


_UPLOAD_SLOTS = 0x55  # the advisory-lock namespace of upload slots


async def upload_slot(
    session: SessionDep, principal: CurrentPrincipal, settings: SettingsDep
) -> None:
    """An account runs at most `max_concurrent_uploads_per_account` uploads at once, across
    every worker: one client cannot hold every upload connection. A further upload waits up
    to `upload_slot_wait` seconds for a slot (most uploads take milliseconds), then is 429."""
    limit = settings.max_concurrent_uploads_per_account
    deadline = asyncio.get_running_loop().time() + settings.upload_slot_wait
    pause = 0.02
    while not await claim_slot(session, _UPLOAD_SLOTS, principal.account_id, limit):
        left = deadline - asyncio.get_running_loop().time()
        if left <= 0:
            raise TooManyUploads(limit)
        await asyncio.sleep(min(pause, left))
        pause = min(pause * 2, 0.5)


class UploadRoute(ApiRoute):
    """An API route whose body is an upload (ids or contacts, millions of lines): its handler
    streams it to the database in one transaction, on the upload pool (core/db.py), one of a
    few per account at once; no JSON limit applies (the handler's own line limit does), and an
    upload that sends nothing for `upload_idle_timeout` seconds is abandoned (408)."""

    facts: ClassVar[RouteFacts] = RouteFacts(streams_body=True)

    def __init__(
        self,
        path: str,
        endpoint: Callable[..., Any],
        *,
        dependencies: Sequence[DependsParam] | None = None,
        **kwargs: Any,
    ) -> None:
        dependencies = [Depends(upload_slot), *(dependencies or ())]
        super().__init__(path, endpoint, dependencies=dependencies, **kwargs)

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        seconds = app_settings(Request(scope)).upload_idle_timeout
        await super().handle(scope, _idle_timeout(receive, seconds), send)


def _idle_timeout(receive: Receive, seconds: float) -> Receive:
    """A `receive` that gives up on a body that sends nothing for `seconds` (until the body is
    complete: then it waits as `receive` does)."""
    complete = False

    async def timed() -> Message:
        nonlocal complete
        if complete:
            return await receive()
        try:
            message = await asyncio.wait_for(receive(), seconds)
        except TimeoutError as exc:
            raise UploadStalled(seconds) from exc
        complete = message["type"] != "http.request" or not message.get("more_body", False)
        return message

    return timed


def _json_part(form_body: bytes) -> bytes:
    """What a form-encoded body gives the JSON parser: the body itself when it holds JSON
    (curl -d), nothing when it held only OAuth parameters."""
    stripped = form_body.lstrip()
    if stripped[:1] in (b"{", b"["):
        return form_body
    return b""


def _without_body(send: Send) -> Send:
    """An answer to HEAD: the GET's status and headers, no body."""

    async def head(message: Message) -> None:
        if message["type"] == "http.response.body":
            if message.get("more_body", False):
                return
            message = {"type": "http.response.body", "body": b"", "more_body": False}
        await send(message)

    return head


Endpoint = TypeVar("Endpoint", bound=Callable[..., Any])


def route(
    router: APIRouter, path: str, route_class: type[ApiRoute], *, methods: list[str], **kwargs: Any
) -> Callable[[Endpoint], Endpoint]:
    """Declares a route of `router` with a route class of its own (an upload, a route with its
    own credential statement), as `@router.get` declares one with the router's."""

    def declare(endpoint: Endpoint) -> Endpoint:
        router.add_api_route(
            path, endpoint, methods=methods, route_class_override=route_class, **kwargs
        )
        return endpoint

    return declare
