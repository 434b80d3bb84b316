"""Folders, moving audiences, and the dynamic-lists overview (extension)."""

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from audiences.api.params import ExternalIdPath
from audiences.api.routing import ApiRoute
from audiences.audiences.errors import AudienceNotFound
from audiences.audiences.schemas import AudienceRead
from audiences.auth.dependencies import AudiencePrincipal
from audiences.core.db import SessionDep
from audiences.core.errors import ProductNotFound
from audiences.core.openapi import errors
from audiences.core.paging import AfterParam, PageSizeParam, next_paging
from audiences.folders import service
from audiences.folders.errors import FolderNameTaken, FolderNotEmpty, FolderNotFound, FolderTooDeep
from audiences.folders.schemas import DynamicLists, FolderMove, FolderRead, Folders, FolderWrite

router = APIRouter(tags=["Organisation"], route_class=ApiRoute)


@router.get("/folder", response_model=Folders, responses=errors(ProductNotFound))
async def list_folders(session: SessionDep, principal: AudiencePrincipal) -> Folders:
    """List the folders with how many audiences and subfolders each holds."""
    return Folders(folders=await service.list_folders(session, principal.account_id))


@router.post(
    "/folder",
    status_code=201,
    response_model=FolderRead,
    responses=errors(ProductNotFound, FolderNotFound, FolderTooDeep, FolderNameTaken),
)
async def create_folder(
    body: FolderWrite, session: SessionDep, principal: AudiencePrincipal
) -> FolderRead:
    """Create a folder (in a top-level folder when parentId is given)."""
    return await service.create_folder(session, principal.account_id, body)


@router.put(
    "/folder/{id}",
    response_model=FolderRead,
    responses=errors(ProductNotFound, FolderNotFound, FolderTooDeep, FolderNameTaken),
)
async def update_folder(
    id: str, body: FolderWrite, session: SessionDep, principal: AudiencePrincipal
) -> FolderRead:
    """Rename or move a folder."""
    return await service.update_folder(session, principal.account_id, id, body)


@router.delete(
    "/folder/{id}",
    status_code=204,
    response_class=Response,
    responses=errors(ProductNotFound, FolderNotFound, FolderNotEmpty()),
)
async def delete_folder(id: str, session: SessionDep, principal: AudiencePrincipal) -> Response:
    """Delete an empty folder."""
    await service.delete_folder(session, principal.account_id, id)
    return Response(status_code=204)


@router.put(
    "/audience/{externalId}/folder",
    response_model=AudienceRead,
    responses=errors(ProductNotFound, AudienceNotFound, FolderNotFound),
)
async def move_audience(
    external_id: ExternalIdPath, body: FolderMove, session: SessionDep, principal: AudiencePrincipal
) -> AudienceRead:
    """Move an audience to a folder (or, with null, out of any)."""
    return await service.move_audience(session, principal.account_id, external_id, body.folder_id)


@router.get(
    "/dynamic-list", response_model=DynamicLists, responses=errors(ProductNotFound, FolderNotFound)
)
async def dynamic_lists(
    request: Request,
    session: SessionDep,
    principal: AudiencePrincipal,
    after: AfterParam = None,
    page_size: PageSizeParam = 100,
    folder: Annotated[str | None, Query(description="Only the lists in this folder")] = None,
) -> DynamicLists:
    """The dynamic-lists overview: each audience an item of kind `audience`."""
    items, last = await service.dynamic_lists(
        session, principal.account_id, after or 0, page_size, folder
    )
    return DynamicLists(paging=next_paging(request, last, len(items) == page_size), items=items)
