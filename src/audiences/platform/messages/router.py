"""Messages with dynamic content blocks shown to audiences (extension)."""

from typing import Annotated

from fastapi import APIRouter, Query, Response

from audiences.api.routing import ApiRoute
from audiences.audiences.errors import AudienceNotFound
from audiences.auth.dependencies import AudiencePrincipal
from audiences.contacts.errors import ContactNotFound
from audiences.core.db import SessionDep
from audiences.core.errors import ProductNotFound
from audiences.core.openapi import errors
from audiences.platform.messages import service
from audiences.platform.messages.errors import MessageNotFound
from audiences.platform.messages.schemas import MessageCreate, MessageRead, MessageUpdate, Rendering

router = APIRouter(prefix="/message", tags=["Messages"], route_class=ApiRoute)

_UNKNOWN_AUDIENCE = AudienceNotFound("Audience not found: top-100", audience_external_id="top-100")


@router.post(
    "",
    status_code=201,
    response_model=MessageRead,
    responses=errors(ProductNotFound, _UNKNOWN_AUDIENCE),
)
async def create_message(
    body: MessageCreate, session: SessionDep, principal: AudiencePrincipal
) -> MessageRead:
    """Create a message; blocks with an audience are dynamic content."""
    return await service.create_message(session, principal.account_id, body)


@router.get("/{id}", response_model=MessageRead, responses=errors(ProductNotFound, MessageNotFound))
async def get_message(id: str, session: SessionDep, principal: AudiencePrincipal) -> MessageRead:
    """Get a message with its blocks."""
    return await service.read_message(session, principal.account_id, id)


@router.put(
    "/{id}",
    response_model=MessageRead,
    responses=errors(ProductNotFound, MessageNotFound, _UNKNOWN_AUDIENCE),
)
async def update_message(
    id: str, body: MessageUpdate, session: SessionDep, principal: AudiencePrincipal
) -> MessageRead:
    """Replace a message's name and blocks."""
    return await service.update_message(session, principal.account_id, id, body)


@router.delete(
    "/{id}",
    status_code=204,
    response_class=Response,
    responses=errors(ProductNotFound, MessageNotFound),
)
async def delete_message(id: str, session: SessionDep, principal: AudiencePrincipal) -> Response:
    """Delete a message; its dynamic blocks stop blocking their audiences."""
    await service.delete_message(session, principal.account_id, id)
    return Response(status_code=204)


@router.get(
    "/{id}/render",
    response_model=Rendering,
    responses=errors(ProductNotFound, MessageNotFound, ContactNotFound),
)
async def render_message(
    id: str,
    session: SessionDep,
    principal: AudiencePrincipal,
    contact: Annotated[str, Query(description="The contact's externalId")],
) -> Rendering:
    """The blocks a contact sees."""
    return await service.render(session, principal.account_id, id, contact)
