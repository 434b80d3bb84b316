"""All SQL about folders and the dynamic-lists overview."""

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncSession

from audiences.core.validation import contains_pattern
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


async def name_taken(
    session: AsyncSession,
    account_id: int,
    parent_id: int | None,
    name: str,
    except_folder_id: int | None = None,
) -> bool:
    """Whether a sibling already has this name, in any case (the unique index's rule)."""
    query = select(Folder.folder_id).where(
        Folder.account_id == account_id,
        func.coalesce(Folder.parent_id, 0) == (parent_id or 0),
        func.lower(Folder.name) == func.lower(name),
    )
    if except_folder_id is not None:
        query = query.where(Folder.folder_id != except_folder_id)
    return (await session.scalar(query.limit(1))) is not None


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


# The overview's sort keys; the audience id breaks ties, so pages never overlap.
LIST_ORDER = {
    "name": "lower(a.name) {dir}, a.audience_id {dir}",
    "members": "a.member_count {dir}, a.audience_id {dir}",
    "sync": "a.last_sync_at {dir} NULLS {nulls}, a.audience_id {dir}",
    "created": "a.audience_id {dir}",
}


def _list_filter(folder_id: int | None, search: str | None) -> tuple[str, dict[str, Any]]:
    where = "a.account_id = :account_id"
    params: dict[str, Any] = {}
    if folder_id is not None:
        where += " AND a.folder_id = :folder_id"
        params["folder_id"] = folder_id
    if search:
        where += " AND (a.name ILIKE :pattern OR a.external_id ILIKE :pattern)"
        params["pattern"] = contains_pattern(search)
    return where, params


async def search_lists(
    session: AsyncSession,
    account_id: int,
    folder_id: int | None,
    search: str | None,
    sort: str,
    descending: bool,
    offset: int,
    limit: int,
) -> tuple[Sequence[Row[Any]], int]:
    """A page of the overview's audiences matching `search` (part of the name or id, any
    case) in the order asked for, and how many match in all."""
    where, params = _list_filter(folder_id, search)
    params.update(account_id=account_id, offset=offset, limit=limit)
    order = LIST_ORDER[sort].format(
        dir="DESC" if descending else "ASC", nulls="LAST" if descending else "FIRST"
    )
    total = await session.scalar(text(f"SELECT count(*) FROM audiences a WHERE {where}"), params)
    rows = await session.execute(
        text(
            f"""
            SELECT a.audience_id, a.external_id, a.name, a.member_count, a.created_at,
                   a.last_sync_at, f.public_id AS folder, f.name AS folder_name
            FROM audiences a
            LEFT JOIN folders f ON f.account_id = a.account_id AND f.folder_id = a.folder_id
            WHERE {where}
            ORDER BY {order}
            OFFSET :offset LIMIT :limit
            """
        ),
        params,
    )
    return rows.all(), int(total or 0)
