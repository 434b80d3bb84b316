"""Automailers that mail audience members a period after they were added (extension)."""

from typing import Annotated

from fastapi import APIRouter, Query, Response

from audiences.api.routing import ApiRoute
from audiences.audiences.errors import AudienceNotFound
from audiences.auth.dependencies import AudiencePrincipal
from audiences.core.db import SessionDep
from audiences.core.errors import ProductNotFound
from audiences.core.openapi import errors
from audiences.platform.automailers import service
from audiences.platform.automailers.errors import (
    AutomailerNotFound,
    AutomailerPeriodOutOfRange,
    AutomailerStopped,
)
from audiences.platform.automailers.schemas import (
    AutomailerCreate,
    AutomailerRead,
    AutomailerUpdate,
    DueContacts,
    RunRequest,
)
from audiences.platform.schemas import Moment

router = APIRouter(prefix="/automailer", tags=["Automailers"], route_class=ApiRoute)

_UNKNOWN_AUDIENCE = AudienceNotFound("Audience not found: top-100", audience_external_id="top-100")


@router.post(
    "",
    status_code=201,
    response_model=AutomailerRead,
    responses=errors(ProductNotFound, _UNKNOWN_AUDIENCE),
)
async def create_automailer(
    body: AutomailerCreate, session: SessionDep, principal: AudiencePrincipal
) -> AutomailerRead:
    """Create an active automailer for an audience."""
    return await service.create_automailer(session, principal.account_id, body)


@router.get(
    "/{id}", response_model=AutomailerRead, responses=errors(ProductNotFound, AutomailerNotFound)
)
async def get_automailer(
    id: str, session: SessionDep, principal: AudiencePrincipal
) -> AutomailerRead:
    """Get an automailer."""
    return await service.read_automailer(session, principal.account_id, id)


@router.put(
    "/{id}",
    response_model=AutomailerRead,
    responses=errors(ProductNotFound, AutomailerNotFound, _UNKNOWN_AUDIENCE),
)
async def update_automailer(
    id: str, body: AutomailerUpdate, session: SessionDep, principal: AudiencePrincipal
) -> AutomailerRead:
    """Change an automailer."""
    return await service.update_automailer(session, principal.account_id, id, body)


@router.delete(
    "/{id}",
    status_code=204,
    response_class=Response,
    responses=errors(ProductNotFound, AutomailerNotFound),
)
async def delete_automailer(id: str, session: SessionDep, principal: AudiencePrincipal) -> Response:
    """Delete an automailer (and the record of whom it mailed)."""
    await service.delete_automailer(session, principal.account_id, id)
    return Response(status_code=204)


@router.post(
    "/{id}/stop",
    response_model=AutomailerRead,
    responses=errors(ProductNotFound, AutomailerNotFound),
)
async def stop_automailer(
    id: str, session: SessionDep, principal: AudiencePrincipal
) -> AutomailerRead:
    """Stop an automailer; it no longer blocks its audience's deletion."""
    return await service.stop_automailer(session, principal.account_id, id)


@router.get(
    "/{id}/due",
    response_model=DueContacts,
    responses=errors(ProductNotFound, AutomailerNotFound, AutomailerPeriodOutOfRange),
)
async def due_contacts(
    id: str,
    session: SessionDep,
    principal: AudiencePrincipal,
    at: Annotated[Moment | None, Query(description="ISO 8601; default now")] = None,
) -> DueContacts:
    """The contacts a run at `at` would mail: added after the first sending moment, added +
    period at or before `at`, with the permission, not yet mailed by this automailer."""
    return await service.due_contacts(session, principal.account_id, id, at)


@router.post(
    "/{id}/runs",
    response_model=DueContacts,
    responses=errors(
        ProductNotFound, AutomailerNotFound, AutomailerStopped, AutomailerPeriodOutOfRange
    ),
)
async def run_automailer(
    id: str, session: SessionDep, principal: AudiencePrincipal, body: RunRequest | None = None
) -> DueContacts:
    """Mail the contacts due at `at`: records and answers them, each contact exactly once."""
    return await service.run_automailer(
        session, principal.account_id, id, body.at if body else None
    )
