"""Rules for folders: one level of nesting, unique names among siblings, deleted only when
empty; and moving audiences between them."""

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from audiences.audiences import service as audiences_service
from audiences.audiences.schemas import AudienceRead
from audiences.core.errors import InvalidParams
from audiences.core.ids import new_public_id
from audiences.core.timeutil import epoch_ms
from audiences.folders import repository
from audiences.folders.errors import (
    FolderNameTaken,
    FolderNotEmpty,
    FolderNotFound,
    FolderTooDeep,
)
from audiences.folders.models import Folder
from audiences.folders.schemas import DynamicList, FolderRead, FolderWrite
from audiences.history import service as history


async def get_folder(
    session: AsyncSession, account_id: int, public_id: str, *, lock: bool = False
) -> Folder:
    folder = await repository.get_folder(session, account_id, public_id, lock=lock)
    if folder is None:
        raise FolderNotFound()
    return folder


async def folder_name(session: AsyncSession, account_id: int, folder_id: int | None) -> str | None:
    """The name of the folder an audience is in (None: in no folder)."""
    if folder_id is None:
        return None
    found = await repository.get_folders_by_ids(session, account_id, [folder_id])
    folder = found.get(folder_id)
    return folder.name if folder else None


async def list_folders(session: AsyncSession, account_id: int) -> list[FolderRead]:
    rows = await repository.list_folders(session, account_id)
    return [
        FolderRead(
            id=r.public_id,
            name=r.name,
            parent_id=r.parent,
            audience_count=r.audiences,
            folder_count=r.folders,
        )
        for r in rows
    ]


async def _read(session: AsyncSession, folder: Folder) -> FolderRead:
    audiences, folders = await repository.contents(session, folder)
    parent = None
    if folder.parent_id is not None:
        found = await repository.get_folders_by_ids(session, folder.account_id, [folder.parent_id])
        parent = found[folder.parent_id].public_id
    return FolderRead(
        id=folder.public_id,
        name=folder.name,
        parent_id=parent,
        audience_count=audiences,
        folder_count=folders,
    )


async def _parent_id(
    session: AsyncSession, account_id: int, parent: str | None, moving: Folder | None = None
) -> int | None:
    if parent is None:
        return None
    found = await get_folder(session, account_id, parent)
    if found.parent_id is not None or (moving is not None and found.folder_id == moving.folder_id):
        raise FolderTooDeep()
    if moving is not None and (await repository.contents(session, moving))[1] > 0:
        raise FolderTooDeep("A folder with subfolders stays at the top level")
    return found.folder_id


async def create_folder(session: AsyncSession, account_id: int, body: FolderWrite) -> FolderRead:
    """A folder, at the top level or in a top-level folder."""
    parent_id = await _parent_id(session, account_id, body.parent_id)
    # The unique index is the guarantee; asking first keeps the transaction usable.
    if await repository.name_taken(session, account_id, parent_id, body.name):
        raise FolderNameTaken()
    folder = await repository.insert_folder(
        session,
        {
            "account_id": account_id,
            "public_id": new_public_id(),
            "name": body.name,
            "parent_id": parent_id,
        },
    )
    return await _read(session, folder)


async def update_folder(
    session: AsyncSession, account_id: int, public_id: str, body: FolderWrite
) -> FolderRead:
    """Renames a folder or moves it (one level of nesting at most)."""
    folder = await get_folder(session, account_id, public_id, lock=True)
    parent_id = await _parent_id(session, account_id, body.parent_id, moving=folder)
    if await repository.name_taken(
        session, account_id, parent_id, body.name, except_folder_id=folder.folder_id
    ):
        raise FolderNameTaken()
    folder.parent_id = parent_id
    folder.name = body.name
    await session.flush()
    return await _read(session, folder)


async def delete_folder(session: AsyncSession, account_id: int, public_id: str) -> None:
    """Deletes an empty folder; one with audiences or subfolders is refused, with the counts."""
    folder = await get_folder(session, account_id, public_id, lock=True)
    audiences, folders = await repository.contents(session, folder)
    if audiences or folders:
        raise FolderNotEmpty(audiences, folders)
    await repository.delete_folder(session, folder)


async def move_audience(
    session: AsyncSession, account_id: int, external_id: str, folder_id: str | None
) -> AudienceRead:
    """Puts an audience in a folder, or (null) in none."""
    audience = await audiences_service.get_audience(session, account_id, external_id, lock="write")
    folder = await get_folder(session, account_id, folder_id) if folder_id else None
    audience.folder_id = folder.folder_id if folder else None
    await session.flush()
    await history.record(session, audience, "move", folder=folder.name if folder else None)
    return audiences_service.to_read(audience)


async def dynamic_lists(
    session: AsyncSession, account_id: int, after: int, limit: int, folder_id: str | None
) -> tuple[list[DynamicList], int | None]:
    """The overview of dynamic lists: every audience, with its folder, members and last sync."""
    folder = await get_folder(session, account_id, folder_id) if folder_id else None
    rows = await repository.dynamic_lists(
        session, account_id, after, limit, folder.folder_id if folder else None
    )
    return [_item(r) for r in rows], rows[-1].audience_id if rows else None


def _item(row: Any) -> DynamicList:
    return DynamicList(
        kind="audience",
        external_id=row.external_id,
        name=row.name,
        folder_id=row.folder,
        folder_name=row.folder_name,
        member_count=row.member_count,
        create_date=epoch_ms(row.created_at) or 0,
        last_sync_date=epoch_ms(row.last_sync_at),
    )


async def search_lists(
    session: AsyncSession,
    account_id: int,
    folder_id: str | None,
    search: str | None,
    sort: str,
    descending: bool,
    offset: int,
    limit: int,
) -> tuple[list[DynamicList], int]:
    """A page of the overview found by part of a name or id, sorted by name, members, last
    sync or creation; and how many lists match in all."""
    if sort not in repository.LIST_ORDER:
        raise InvalidParams(f"sort must be one of {', '.join(repository.LIST_ORDER)}")
    folder = await get_folder(session, account_id, folder_id) if folder_id else None
    rows, total = await repository.search_lists(
        session,
        account_id,
        folder.folder_id if folder else None,
        search,
        sort,
        descending,
        offset,
        limit,
    )
    return [_item(r) for r in rows], total
