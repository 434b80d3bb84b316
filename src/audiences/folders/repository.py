"""All SQL about folders and the dynamic-lists overview."""

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncSession

from audiences.folders.models import Folder


async def insert_folder(session: AsyncSession, values: dict[str, Any]) -> Folder:
    folder = Folder(**values)
    session.add(folder)
    await session.flush()
    return folder


async def get_folder(
    session: AsyncSession, account_id: int, public_id: str, *, lock: bool = False
) -> Folder | None:
    query = select(Folder).where(Folder.account_id == account_id, Folder.public_id == public_id)
    if lock:
        query = query.with_for_update()
    return await session.scalar(query)


async def get_folders_by_ids(
    session: AsyncSession, account_id: int, folder_ids: list[int]
) -> dict[int, Folder]:
    if not folder_ids:
        return {}
    query = select(Folder).where(Folder.account_id == account_id, Folder.folder_id.in_(folder_ids))
    return {f.folder_id: f for f in (await session.scalars(query)).all()}


async def delete_folder(session: AsyncSession, folder: Folder) -> None:
    await session.delete(folder)
    await session.flush()


async def list_folders(session: AsyncSession, account_id: int) -> Sequence[Row[Any]]:
    """Every folder with its parent's id and how many audiences and subfolders it holds."""
    rows = await session.execute(
        text(
            """
            SELECT f.folder_id, f.public_id, f.name, p.public_id AS parent,
                   (SELECT count(*) FROM audiences a
                    WHERE a.account_id = f.account_id AND a.folder_id = f.folder_id) AS audiences,
                   (SELECT count(*) FROM folders s
                    WHERE s.account_id = f.account_id AND s.parent_id = f.folder_id) AS folders
            FROM folders f
            LEFT JOIN folders p ON p.account_id = f.account_id AND p.folder_id = f.parent_id
            WHERE f.account_id = :account_id
            ORDER BY coalesce(p.name, f.name), f.parent_id NULLS FIRST, f.name
            """
        ),
        {"account_id": account_id},
    )
    return rows.all()


async def contents(session: AsyncSession, folder: Folder) -> tuple[int, int]:
    """(audiences, subfolders) in the folder."""
    row = (
        await session.execute(
            text(
                """
                SELECT (SELECT count(*) FROM audiences
                        WHERE account_id = :a AND folder_id = :f) AS audiences,
                       (SELECT count(*) FROM folders
                        WHERE account_id = :a AND parent_id = :f) AS folders
                """
            ),
            {"a": folder.account_id, "f": folder.folder_id},
        )
    ).one()
    return int(row.audiences), int(row.folders)


async def dynamic_lists(
    session: AsyncSession, account_id: int, after: int, limit: int, folder_id: int | None
) -> Sequence[Row[Any]]:
    """The overview's audience items in creation order, optionally of one folder."""
    query = """
        SELECT a.audience_id, a.external_id, a.name, a.member_count, a.created_at,
               a.last_sync_at, f.public_id AS folder, f.name AS folder_name
        FROM audiences a
        LEFT JOIN folders f ON f.account_id = a.account_id AND f.folder_id = a.folder_id
        WHERE a.account_id = :account_id AND a.audience_id > :after
    """
    params: dict[str, Any] = {"account_id": account_id, "after": after, "limit": limit}
    if folder_id is not None:
        query += " AND a.folder_id = :folder_id"
        params["folder_id"] = folder_id
    rows = await session.execute(text(query + " ORDER BY a.audience_id LIMIT :limit"), params)
    return rows.all()
