"""Mailings that target audiences (extension)."""

from fastapi import APIRouter, Request, Response

from audiences.api.params import EncryptedIdPath
from audiences.api.routing import ApiRoute
from audiences.audiences.errors import AudienceNotFound
from audiences.auth.dependencies import AudiencePrincipal
from audiences.core.db import SessionDep
from audiences.core.errors import InvalidParams, ProductNotFound
from audiences.core.openapi import errors
from audiences.core.paging import AfterParam, PageSizeParam, next_paging
from audiences.platform.mailings import service
from audiences.platform.mailings.errors import (
    MailingAudienceGone,
    MailingNotFound,
    MailingStateInvalid,
)
from audiences.platform.mailings.schemas import (
    MailingCreate,
    MailingRead,
    MailingRecipients,
    MailingSchedule,
    MailingUpdate,
    RecipientCount,
)

router = APIRouter(prefix="/mailing", tags=["Mailings"], route_class=ApiRoute)

_UNKNOWN_AUDIENCE = AudienceNotFound("Audience not found: top-100", audience_external_id="top-100")
_BAD_BIT = InvalidParams("permissionBit 9 is not a permission of this account; choose one of [1]")
_STATE = MailingStateInvalid("A sent mailing cannot schedule")


@router.post(
    "",
    status_code=201,
    response_model=MailingRead,
    responses=errors(ProductNotFound, _UNKNOWN_AUDIENCE, _BAD_BIT),
)
async def create_mailing(
    body: MailingCreate, session: SessionDep, principal: AudiencePrincipal
) -> MailingRead:
    """Create a draft mailing with an audience as target group."""
    return await service.create_mailing(session, principal.account_id, body)


@router.get(
    "/{encryptedId}", response_model=MailingRead, responses=errors(ProductNotFound, MailingNotFound)
)
async def get_mailing(
    encrypted_id: EncryptedIdPath, session: SessionDep, principal: AudiencePrincipal
) -> MailingRead:
    """Get a mailing."""
    return await service.read_mailing(session, principal.account_id, encrypted_id)


@router.put(
    "/{encryptedId}",
    response_model=MailingRead,
    responses=errors(ProductNotFound, MailingNotFound, _UNKNOWN_AUDIENCE, _BAD_BIT, _STATE),
)
async def update_mailing(
    encrypted_id: EncryptedIdPath,
    body: MailingUpdate,
    session: SessionDep,
    principal: AudiencePrincipal,
) -> MailingRead:
    """Change a draft or scheduled mailing."""
    return await service.update_mailing(session, principal.account_id, encrypted_id, body)


@router.delete(
    "/{encryptedId}",
    status_code=204,
    response_class=Response,
    responses=errors(ProductNotFound, MailingNotFound, _STATE),
)
async def delete_mailing(
    encrypted_id: EncryptedIdPath, session: SessionDep, principal: AudiencePrincipal
) -> Response:
    """Delete a draft or cancelled mailing."""
    await service.delete_mailing(session, principal.account_id, encrypted_id)
    return Response(status_code=204)


_TRANSITION_ERRORS = errors(ProductNotFound, MailingNotFound, _STATE, MailingAudienceGone)


@router.post("/{encryptedId}/schedule", response_model=MailingRead, responses=_TRANSITION_ERRORS)
async def schedule_mailing(
    encrypted_id: EncryptedIdPath,
    body: MailingSchedule,
    session: SessionDep,
    principal: AudiencePrincipal,
) -> MailingRead:
    """Schedule a draft (or reschedule a scheduled) mailing; it now blocks its audience's
    deletion."""
    return await service.transition(
        session, principal.account_id, encrypted_id, "schedule", body.scheduled_start_date
    )


@router.post("/{encryptedId}/cancel", response_model=MailingRead, responses=_TRANSITION_ERRORS)
async def cancel_mailing(
    encrypted_id: EncryptedIdPath, session: SessionDep, principal: AudiencePrincipal
) -> MailingRead:
    """Cancel a scheduled or sending mailing; it no longer blocks its audience."""
    return await service.transition(session, principal.account_id, encrypted_id, "cancel")


@router.post("/{encryptedId}/start", response_model=MailingRead, responses=_TRANSITION_ERRORS)
async def start_mailing(
    encrypted_id: EncryptedIdPath, session: SessionDep, principal: AudiencePrincipal
) -> MailingRead:
    """Start sending a scheduled mailing."""
    return await service.transition(session, principal.account_id, encrypted_id, "start")


@router.post("/{encryptedId}/complete", response_model=MailingRead, responses=_TRANSITION_ERRORS)
async def complete_mailing(
    encrypted_id: EncryptedIdPath, session: SessionDep, principal: AudiencePrincipal
) -> MailingRead:
    """Mark a sending mailing as sent (sentCount is its recipients count); it no longer
    blocks its audience.

    Its recipients are recorded then: each contact's GET /contact/{externalId}/mailings lists
    it, dated now."""
    return await service.transition(session, principal.account_id, encrypted_id, "complete")


@router.get(
    "/{encryptedId}/recipients",
    response_model=MailingRecipients,
    responses=errors(ProductNotFound, MailingNotFound),
)
async def list_recipients(
    encrypted_id: EncryptedIdPath,
    request: Request,
    session: SessionDep,
    principal: AudiencePrincipal,
    after: AfterParam = None,
    page_size: PageSizeParam = 100,
) -> MailingRecipients:
    """The contacts the mailing reaches: members of its audience with the permission enabled,
    the channel active, not anonymized (vendor paging)."""
    page, last = await service.recipients(
        session, principal.account_id, encrypted_id, after or 0, page_size
    )
    paging = next_paging(request, last, len(page) == page_size)
    return MailingRecipients(paging=paging, recipients=page)


@router.get(
    "/{encryptedId}/recipients/count",
    response_model=RecipientCount,
    responses=errors(ProductNotFound, MailingNotFound),
)
async def count_recipients(
    encrypted_id: EncryptedIdPath, session: SessionDep, principal: AudiencePrincipal
) -> RecipientCount:
    """How many contacts the mailing reaches."""
    count = await service.count_recipients(session, principal.account_id, encrypted_id)
    return RecipientCount(count=count)
