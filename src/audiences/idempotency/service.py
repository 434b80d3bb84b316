"""Idempotent retries: a write sent with an `Idempotency-Key` header is done once; a retry with
the same key (within 24 hours) answers the stored response without doing the work again, and
the same key with a different request is refused."""

import hashlib

from fastapi import Request, Response
from fastapi.responses import StreamingResponse
from sqlalchemy.ext.asyncio import AsyncConnection

from audiences.auth.dependencies import CurrentPrincipal
from audiences.core.basepath import client_path
from audiences.core.commit import before_commit
from audiences.core.db import SessionDep
from audiences.core.errors import DomainError
from audiences.core.routing import route_facts
from audiences.core.validation import has_control_characters, storable_text
from audiences.idempotency import repository

HEADER = "idempotency-key"
RETENTION_SECONDS = 24 * 3600
WRITE_METHODS = ("POST", "PUT", "DELETE", "PATCH")


class ReplayedResponse(Exception):
    """The stored response of the first request made with this key."""

    def __init__(self, status: int, content_type: str | None, body: bytes) -> None:
        self.status = status
        self.content_type = content_type
        self.body = body


class IdempotencyKeyReused(DomainError):
    status = 400
    error_type = "INVALID_PARAMS"
    message = "This Idempotency-Key was already used for a different request"


class IdempotencyKeyInvalid(DomainError):
    status = 400
    error_type = "INVALID_PARAMS"
    message = "Idempotency-Key must be 1 to 255 printable characters"


async def _fingerprint(request: Request) -> str:
    digest = hashlib.sha256()
    for part in (request.method, client_path(request), str(request.query_params)):
        digest.update(part.encode() + b"\x00")
    if route_facts(request.scope).streams_body:
        # A streamed upload cannot be read twice: its declared size and type stand in for it.
        for header in ("content-type", "content-length"):
            digest.update(request.headers.get(header, "").encode() + b"\x00")
    else:
        digest.update(await request.body())
    return digest.hexdigest()


async def idempotency_guard(
    request: Request,
    session: SessionDep,
    principal: CurrentPrincipal,
) -> None:
    """Claims the request's Idempotency-Key, or answers the response stored under it."""
    key = request.headers.get(HEADER)
    if key is None or request.method not in WRITE_METHODS:
        return
    if not key or len(key) > 255 or has_control_characters(key) or not storable_text(key):
        raise IdempotencyKeyInvalid()
    fingerprint = await _fingerprint(request)
    account_id = principal.account_id
    if await repository.claim(session, account_id, key, fingerprint, RETENTION_SECONDS):

        async def store(response: Response) -> None:
            if 200 <= response.status_code < 300 and not isinstance(response, StreamingResponse):
                content_type = response.headers.get("content-type")
                await repository.store(
                    session,
                    account_id,
                    key,
                    response.status_code,
                    content_type,
                    bytes(response.body),
                )

        before_commit(request, store)
        return
    stored = await repository.stored(session, account_id, key)
    if stored is None or stored.fingerprint != fingerprint:
        raise IdempotencyKeyReused()
    if stored.status is None:
        raise DomainError(
            "A request with this Idempotency-Key is still being processed",
            status=409,
            error_type="INVALID_STATE",
        )
    raise ReplayedResponse(stored.status, stored.content_type, stored.body or b"")


async def replayed_response(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ReplayedResponse)
    return Response(
        content=exc.body,
        status_code=exc.status,
        media_type=exc.content_type,
        headers={"Idempotent-Replayed": "true"},
    )


async def purge_expired(connection: AsyncConnection) -> None:
    """Keys are kept for a day."""
    await repository.purge(connection, RETENTION_SECONDS)
