"""The web console for marketers: signing in and out, and the dynamic-lists overview with its
folders. Server-rendered; every form carries the session's CSRF token and answers with a
redirect (so a reload never posts twice)."""

import logging
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError

from audiences.audiences import service as audiences_service
from audiences.auth.service import SignInThrottled, check_secret, client_address
from audiences.console.rendering import (
    HOME,
    attempt,
    back,
    page_of,
    render,
    safe_path,
    whole_number,
)
from audiences.console.session import (
    ConsolePrincipal,
    check_csrf,
    end_session,
    flash,
    start_session,
)
from audiences.core.credentials import secret_box
from audiences.core.db import SessionDep, database_of
from audiences.core.errors import DomainError
from audiences.core.settings import app_settings
from audiences.folders import service as folders_service
from audiences.folders.errors import FolderNotEmpty
from audiences.folders.schemas import FolderMove, FolderRead, FolderWrite

router = APIRouter(prefix="/console", include_in_schema=False)
logger = logging.getLogger("audiences.console")
PAGE = 50
# Column -> (its heading, the direction a first click sorts in).
SORTS = {
    "name": ("Name", "asc"),
    "members": ("Members", "desc"),
    "sync": ("Last sync", "desc"),
    "created": ("Created", "desc"),
}
MAX_SEARCH = 255


@router.get("/login", response_class=HTMLResponse)
async def login_page(
    request: Request, next_page: Annotated[str | None, Query(alias="next")] = None
) -> HTMLResponse:
    return render(request, "login.html", next=safe_path(next_page))


@router.post("/login")
async def login(
    request: Request,
    key: Annotated[str, Form()],
    secret: Annotated[str, Form()],
    csrf: Annotated[str, Form()] = "",
    next_page: Annotated[str, Form(alias="next")] = HOME,
) -> Response:
    """Signs in with a consumer key and secret (throttled like HTTP Basic), then goes on to
    the page that was asked for."""
    check_csrf(request, csrf)
    settings = app_settings(request)
    address = client_address(request, settings.trust_proxy)
    try:
        found = await check_secret(
            database_of(request).auth_connect, key, secret, address, settings, secret_box(request)
        )
    except DomainError as error:
        throttled = isinstance(error, SignInThrottled)
        logger.warning(
            "console sign-in refused: %s",
            "too many failed attempts" if throttled else "key and secret do not match",
            extra={"client": address},
        )
        message = error.message if throttled else "That key and secret do not match."
        response = render(request, "login.html", error=message, key=key, next=safe_path(next_page))
        response.status_code = 401
        return response
    await start_session(request, found.principal)
    logger.info("console sign-in of account %s", found.principal.account_id)
    return back(safe_path(next_page))


@router.post("/logout")
async def logout(request: Request, csrf: Annotated[str, Form()] = "") -> Response:
    check_csrf(request, csrf)
    await end_session(request)
    return back("/console/login")


def overview_url(
    folder: str | None = None, q: str = "", sort: str = "name", dir: str = "asc", page: int = 1
) -> str:
    """The overview's address for these choices; defaults are left out, so links stay short."""
    query = {
        "folder": folder,
        "q": q,
        "sort": sort if (sort, dir) != ("name", "asc") else None,
        "dir": dir if dir != SORTS[sort][1] else None,
        "page": page if page != 1 else None,
    }
    shown = {name: value for name, value in query.items() if value}
    return HOME + (f"?{urlencode(shown)}" if shown else "")


@router.get("/", response_class=HTMLResponse)
async def overview(
    request: Request,
    session: SessionDep,
    principal: ConsolePrincipal,
    folder: str | None = None,
    q: str = "",
    sort: str = "name",
    dir: str = "",
    page: str | None = None,
) -> Response:
    """The dynamic-lists overview: audiences found by name or id, sorted, page by page."""
    account = principal.account_id
    q = q.strip()[:MAX_SEARCH]
    sort = sort if sort in SORTS else "name"
    direction = dir if dir in ("asc", "desc") else SORTS[sort][1]
    number = whole_number(page, 1, lowest=1)
    folders = await folders_service.list_folders(session, account)
    current = next((f for f in folders if f.id == folder), None)
    if folder and current is None:
        return back(HOME)
    items, total = await folders_service.search_lists(
        session, account, folder, q, sort, direction == "desc", (number - 1) * PAGE, PAGE
    )
    if not items and number > 1:  # past the end (lists were deleted): the last page
        last_page = max(1, -(-total // PAGE))
        return back(overview_url(folder, q, sort, direction, last_page))

    choices: dict[str, Any] = {"folder": folder, "q": q, "sort": sort, "dir": direction}

    def url(**changes: Any) -> str:
        return overview_url(**{**choices, "page": number, **changes})

    def sort_url(column: str) -> str:
        if column == sort:
            return url(dir="asc" if direction == "desc" else "desc", page=1)
        return url(sort=column, dir=SORTS[column][1], page=1)

    first = (number - 1) * PAGE + 1
    return render(
        request,
        "overview.html",
        principal,
        section="lists",
        folders=folders,
        folder=current,
        items=items,
        q=q,
        sort=sort,
        direction=direction,
        sorts=SORTS,
        sort_url=sort_url,
        first=first,
        last=first + len(items) - 1,
        total=total,
        all_lists=await audiences_service.count_audiences(session, account),
        clear_url=url(q="", page=1),
        previous_url=url(page=number - 1) if number > 1 else None,
        next_url=url(page=number + 1) if first + len(items) - 1 < total else None,
        here=page_of(request),
    )


@router.post("/folders")
async def create_folder(
    request: Request,
    session: SessionDep,
    principal: ConsolePrincipal,
    name: Annotated[str, Form()],
    parent: Annotated[str, Form()] = "",
    csrf: Annotated[str, Form()] = "",
) -> Response:
    check_csrf(request, csrf)
    body = _folder_write(request, name, parent or None)
    if body is None:
        return back(HOME)
    created = await attempt(
        request, session, lambda: folders_service.create_folder(session, principal.account_id, body)
    )
    if created is None:
        return back(HOME)
    flash(request, "ok", f"Folder “{created.name}” created.")
    return back(overview_url(created.id))


def _folder_write(request: Request, name: str, parent: str | None) -> FolderWrite | None:
    try:
        return FolderWrite(name=name.strip() or name, parent_id=parent)
    except ValidationError as error:
        wrong = {str(e["loc"][0]) for e in error.errors() if e["loc"]}
        if wrong & {"parentId", "parent_id"}:
            flash(request, "error", "That parent folder does not exist.")
        else:
            flash(request, "error", "A folder name is 1 to 255 characters of text.")
        return None


async def _folder(session: Any, account_id: int, folder_id: str) -> FolderRead | None:
    folders = await folders_service.list_folders(session, account_id)
    return next((f for f in folders if f.id == folder_id), None)


@router.post("/folders/{folder_id}/rename")
async def rename_folder(
    request: Request,
    folder_id: str,
    session: SessionDep,
    principal: ConsolePrincipal,
    name: Annotated[str, Form()],
    csrf: Annotated[str, Form()] = "",
) -> Response:
    """Renames a folder where it is (a subfolder stays in its parent)."""
    check_csrf(request, csrf)
    folder = await _folder(session, principal.account_id, folder_id)
    if folder is None:
        flash(request, "error", "That folder no longer exists.")
        return back(HOME)
    body = _folder_write(request, name, folder.parent_id)
    if body is None:
        return back(overview_url(folder_id))
    renamed = await attempt(
        request,
        session,
        lambda: folders_service.update_folder(session, principal.account_id, folder_id, body),
    )
    if renamed is not None:
        flash(request, "ok", f"Folder “{folder.name}” renamed to “{renamed.name}”.")
    return back(overview_url(folder_id))


@router.post("/folders/{folder_id}/delete")
async def delete_folder(
    request: Request,
    folder_id: str,
    session: SessionDep,
    principal: ConsolePrincipal,
    csrf: Annotated[str, Form()] = "",
) -> Response:
    """Deletes an empty folder; for one that is not, says what to move out first."""
    check_csrf(request, csrf)
    folder = await _folder(session, principal.account_id, folder_id)
    if folder is None:
        flash(request, "error", "That folder no longer exists.")
        return back(HOME)
    try:
        await folders_service.delete_folder(session, principal.account_id, folder_id)
    except FolderNotEmpty:
        flash(
            request,
            "error",
            f"Folder “{folder.name}” is not empty: it holds {folder.audience_count} list(s) and "
            f"{folder.folder_count} folder(s). Move them out first, then delete it.",
        )
        return back(overview_url(folder_id))
    flash(request, "ok", f"Folder “{folder.name}” deleted.")
    return back(HOME)


@router.post("/audiences/{external_id}/folder")
async def move_audience(
    request: Request,
    external_id: str,
    session: SessionDep,
    principal: ConsolePrincipal,
    folder: Annotated[str, Form()] = "",
    next_page: Annotated[str, Form(alias="next")] = HOME,
    csrf: Annotated[str, Form()] = "",
) -> Response:
    check_csrf(request, csrf)
    account = principal.account_id
    try:
        folder_id = FolderMove(folder_id=folder or None).folder_id
    except ValidationError:
        flash(request, "error", "That folder does not exist.")
        return back(safe_path(next_page))
    moved = await attempt(
        request,
        session,
        lambda: folders_service.move_audience(session, account, external_id, folder_id),
    )
    if moved is not None:
        target = await _folder(session, account, folder) if folder else None
        where = f"moved to {target.name}" if target else "moved out of its folder"
        flash(request, "ok", f"“{moved.name}” {where}.")
    return back(safe_path(next_page))
