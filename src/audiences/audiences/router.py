"""Audience calls, as the vendor's /audience resource."""

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from audiences.api.params import ExternalIdPath
from audiences.api.routing import ApiRoute
from audiences.audiences import service
from audiences.audiences.errors import (
    AudienceIdInvalid,
    AudienceIdMismatch,
    AudienceIdTaken,
    AudienceInUse,
    AudienceLimitReached,
    AudienceNameInvalid,
    AudienceNameTaken,
    AudienceNotFound,
)
from audiences.audiences.schemas import (
    AudienceCreate,
    AudienceRead,
    AudiencesPage,
    AudienceUpdate,
)
from audiences.auth.dependencies import AudiencePrincipal
from audiences.core.db import SessionDep
from audiences.core.errors import ProductNotFound
from audiences.core.openapi import errors
from audiences.core.paging import AfterParam, PageSizeParam, next_paging
from audiences.core.settings import SettingsDep
from audiences.folders.errors import FolderNotFound
from audiences.platform.schemas import References

router = APIRouter(prefix="/audience", tags=["Audiences"], route_class=ApiRoute)

_EXAMPLE_REFERENCES = [
    {
        "type": "mailing",
        "id": "9i1Lk3yq0dK2zQ4p",
        "name": "December newsletter",
        "detail": "Scheduled for 2026-12-01T09:00:00+00:00",
    },
    {
        "type": "campaign",
        "id": "Qm2Xc8Lr5Tt0Aa1b",
        "name": "Win-back",
        "detail": "Audience filter on step 'Reminder mail'",
    },
]


@router.post(
    "",
    response_model=AudienceRead,
    responses=errors(
        ProductNotFound,
        AudienceNameInvalid,
        AudienceIdInvalid,
        AudienceNameTaken,
        AudienceIdTaken,
        AudienceLimitReached,
    ),
)
async def create_audience(
    body: AudienceCreate,
    session: SessionDep,
    settings: SettingsDep,
    principal: AudiencePrincipal,
) -> AudienceRead:
    """Synchronize (add) an audience with a unique id and a unique name."""
    limit = settings.max_audiences_per_account
    return await service.create_audience(session, principal.account_id, body, limit)


@router.get("", response_model=AudiencesPage, responses=errors(ProductNotFound, FolderNotFound))
async def list_audiences(
    request: Request,
    session: SessionDep,
    principal: AudiencePrincipal,
    after: AfterParam = None,
    page_size: PageSizeParam = 100,
    name: Annotated[str | None, Query(description="Part of the name, any case")] = None,
    folder: Annotated[str | None, Query(description="Only the audiences in this folder")] = None,
) -> AudiencesPage:
    """List the audiences with their member counts (vendor paging)."""
    items, last = await service.list_audiences(
        session, principal.account_id, after or 0, page_size, name, folder
    )
    return AudiencesPage(
        paging=next_paging(request, last, len(items) == page_size), audiences=items
    )


@router.get(
    "/{externalId}",
    response_model=AudienceRead,
    responses=errors(ProductNotFound, AudienceNotFound),
)
async def get_audience(
    external_id: ExternalIdPath, session: SessionDep, principal: AudiencePrincipal
) -> AudienceRead:
    """Get an audience."""
    return await service.read_audience(session, principal.account_id, external_id)


@router.put(
    "/{externalId}",
    response_model=AudienceRead,
    responses=errors(
        ProductNotFound,
        AudienceIdMismatch,
        AudienceNotFound,
        AudienceNameInvalid,
        AudienceNameTaken,
    ),
)
async def update_audience(
    external_id: ExternalIdPath,
    body: AudienceUpdate,
    session: SessionDep,
    principal: AudiencePrincipal,
) -> AudienceRead:
    """Change an audience's name or description."""
    return await service.update_audience(session, principal.account_id, external_id, body)


@router.get(
    "/{externalId}/usage",
    response_model=References,
    responses=errors(ProductNotFound, AudienceNotFound),
)
async def audience_usage(
    external_id: ExternalIdPath, session: SessionDep, principal: AudiencePrincipal
) -> References:
    """What uses the audience and so blocks its deletion (nothing is deleted)."""
    return await service.usage(session, principal.account_id, external_id)


@router.delete(
    "/{externalId}",
    status_code=204,
    response_class=Response,
    responses=errors(ProductNotFound, AudienceNotFound, AudienceInUse(_EXAMPLE_REFERENCES)),
)
async def delete_audience(
    external_id: ExternalIdPath, session: SessionDep, principal: AudiencePrincipal
) -> Response:
    """Delete an audience, unless it is in use (the answer lists what uses it)."""
    await service.delete_audience(session, principal.account_id, external_id)
    return Response(status_code=204)
