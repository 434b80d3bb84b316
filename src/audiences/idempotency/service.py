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
from audiences.core.routing import body_digest
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


def _request_digest(request: Request) -> "hashlib._Hash":
    digest = hashlib.sha256()
    for part in (request.method, client_path(request), str(request.query_params)):
        digest.update(part.encode() + b"\x00")
    return digest


def _with_body(request_digest: "hashlib._Hash", body_digest: "hashlib._Hash") -> str:
    combined = request_digest.copy()
    combined.update(body_digest.digest())
    return combined.hexdigest()


async def idempotency_guard(
    request: Request,
    session: SessionDep,
    principal: CurrentPrincipal,
) -> None:
    """Claims the request's Idempotency-Key, or answers the response stored under it. The key
    is bound to the request: method, path, query and body (an upload's body as it streamed)."""
    key = request.headers.get(HEADER)
    if key is None or request.method not in WRITE_METHODS:
        return
    if not key or len(key) > 255 or has_control_characters(key) or not storable_text(key):
        raise IdempotencyKeyInvalid()
    account_id = principal.account_id
    streamed = body_digest(request.scope)
    if streamed is None:
        fingerprint = _with_body(_request_digest(request), hashlib.sha256(await request.body()))
    else:
        # The upload has not been read yet: the key is claimed with a placeholder, and the
        # fingerprint of the whole upload is stored once it has streamed through.
        placeholder = _request_digest(request)
        placeholder.update(b"\x00streaming")
        fingerprint = placeholder.hexdigest()
    if await repository.claim(session, account_id, key, fingerprint, RETENTION_SECONDS):

        async def store(response: Response) -> None:
            if 200 <= response.status_code < 300 and not isinstance(response, StreamingResponse):
                final = None
                if streamed is not None:
                    final = _with_body(_request_digest(request), streamed)
                await repository.store(
                    session,
                    account_id,
                    key,
                    response.status_code,
                    response.headers.get("content-type"),
                    bytes(response.body),
                    final,
                )

        before_commit(request, store)
        return
    stored = await repository.stored(session, account_id, key)
    if stored is not None and stored.status is None:
        raise DomainError(
            "A request with this Idempotency-Key is still being processed",
            status=409,
            error_type="INVALID_STATE",
        )
    if streamed is not None:
        async for _chunk in request.stream():  # read through: the pipeline hashes it
            pass
        fingerprint = _with_body(_request_digest(request), streamed)
    if stored is None or stored.fingerprint != fingerprint:
        raise IdempotencyKeyReused()
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
