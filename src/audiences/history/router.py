"""The audience history (extension)."""

from fastapi import APIRouter, Request

from audiences.api.params import ExternalIdPath
from audiences.api.routing import ApiRoute
from audiences.audiences import service as audiences_service
from audiences.audiences.errors import AudienceNotFound
from audiences.auth.dependencies import AudiencePrincipal
from audiences.core.db import SessionDep
from audiences.core.errors import ProductNotFound
from audiences.core.openapi import errors
from audiences.core.paging import AfterParam, PageSizeParam, next_paging
from audiences.history import service
from audiences.history.schemas import History

router = APIRouter(prefix="/audience", tags=["Audiences"], route_class=ApiRoute)


@router.get(
    "/{externalId}/history",
    response_model=History,
    responses=errors(ProductNotFound, AudienceNotFound),
)
async def audience_history(
    external_id: ExternalIdPath,
    request: Request,
    session: SessionDep,
    principal: AudiencePrincipal,
    after: AfterParam = None,
    page_size: PageSizeParam = 100,
) -> History:
    """Who changed the audience or its members, when, how and how much (newest first)."""
    audience = await audiences_service.get_audience(session, principal.account_id, external_id)
    events, last = await service.list_events(session, audience, after, page_size)
    return History(paging=next_paging(request, last, len(events) == page_size), events=events)
