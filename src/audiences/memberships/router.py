"""Membership calls, as the vendor's /audience/{externalId}/contact resource."""

from typing import Annotated

from fastapi import APIRouter, Body, Request, Response

from audiences.audiences.errors import AudienceNotFound
from audiences.core.auth import AudiencePrincipal
from audiences.core.db import SessionDep
from audiences.core.errors import ProductNotFound
from audiences.core.openapi import errors
from audiences.memberships import service
from audiences.memberships.errors import BatchTooLarge, ContactsNotFound
from audiences.memberships.schemas import ChangeContactsAudienceRequest

router = APIRouter(prefix="/audience", tags=["Audience contacts"])


@router.post(
    "/{externalId}/contact",
    status_code=204,
    response_class=Response,
    responses=errors(
        ProductNotFound, AudienceNotFound, ContactsNotFound(["crm-404"]), BatchTooLarge()
    ),
)
async def add_members(
    externalId: str,
    body: ChangeContactsAudienceRequest,
    request: Request,
    session: SessionDep,
    principal: AudiencePrincipal,
) -> Response:
    """Add contacts to an audience (at most 2500 ids). Atomic: if any contact is unknown,
    nothing is added and every unknown id is listed."""
    limit = request.app.state.settings.max_batch_ids
    await service.add_members(session, principal.account_id, externalId, body.contacts, limit)
    return Response(status_code=204)


@router.delete(
    "/{externalId}/contact",
    status_code=204,
    response_class=Response,
    responses=errors(ProductNotFound, AudienceNotFound, BatchTooLarge()),
)
async def remove_members(
    externalId: str,
    request: Request,
    session: SessionDep,
    principal: AudiencePrincipal,
    body: Annotated[
        ChangeContactsAudienceRequest | None,
        Body(description="Ids to remove. No body, an empty body or `null` empties the audience."),
    ] = None,
) -> Response:
    """Remove contacts from an audience (at most 2500 ids); without a body, empty it.
    Unknown ids and non-members are ignored."""
    limit = request.app.state.settings.max_batch_ids
    contacts = body.contacts if body is not None else None
    await service.remove_members(session, principal.account_id, externalId, contacts, limit)
    return Response(status_code=204)
