"""The web console for marketers: the dynamic-lists overview, an audience's View, mailings and
automailers, and what campaigns and messages use. Server-rendered; every form carries the
session's CSRF token and answers with a redirect (so a reload never posts twice)."""

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse
from fastapi.templating import Jinja2Templates

from audiences.audiences import guards
from audiences.audiences import repository as audiences_repository
from audiences.audiences import service as audiences_service
from audiences.audiences.errors import AudienceInUse
from audiences.auth.service import SignInThrottled, check_secret, client_address
from audiences.console.session import (
    ConsolePrincipal,
    check_csrf,
    csrf_token,
    flash,
    take_flashes,
)
from audiences.core.credentials import secret_box
from audiences.core.db import SessionDep, database_of
from audiences.core.errors import DomainError
from audiences.core.routing import ClosingStream
from audiences.core.settings import app_settings
from audiences.core.timeutil import from_epoch_ms
from audiences.folders import repository as folders_repository
from audiences.folders import service as folders_service
from audiences.folders.schemas import FolderWrite
from audiences.memberships import bulk_service

router = APIRouter(prefix="/console", include_in_schema=False)
templates = Jinja2Templates(directory=Path(__file__).resolve().parent / "templates")
STATIC = Path(__file__).resolve().parent / "static"
PAGE = 50
Cursor = Annotated[int, Query(ge=0, le=2**63 - 1)]


def _moment(value: int | datetime | None) -> str:
    if value is None:
        return "never"
    moment = from_epoch_ms(value) if isinstance(value, int) else value
    return moment.astimezone(UTC).strftime("%d %b %Y, %H:%M UTC")


templates.env.filters["moment"] = _moment


def render(request: Request, name: str, principal: Any = None, **context: Any) -> HTMLResponse:
    context.update(
        principal=principal,
        csrf=csrf_token(request),
        notices=take_flashes(request),
    )
    return templates.TemplateResponse(request, name, context)


def back(path: str) -> RedirectResponse:
    return RedirectResponse(path, status_code=303)


def _safe_path(value: str) -> str:
    return value if re.fullmatch(r"/console/[^\s]*", value) and "//" not in value else "/console/"


@router.get("/login", response_class=HTMLResponse)
async def login_page(request: Request) -> HTMLResponse:
    return render(request, "login.html")


@router.post("/login")
async def login(
    request: Request,
    key: Annotated[str, Form()],
    secret: Annotated[str, Form()],
    csrf: Annotated[str, Form()] = "",
) -> Response:
    """Signs in with a consumer key and secret (throttled like HTTP Basic)."""
    check_csrf(request, csrf)
    settings = app_settings(request)
    address = client_address(request, settings.trust_proxy)
    try:
        found = await check_secret(
            database_of(request).auth_connect, key, secret, address, settings, secret_box(request)
        )
    except DomainError as error:
        throttled = isinstance(error, SignInThrottled)
        message = error.message if throttled else "That key and secret do not match."
        return render(request, "login.html", error=message, key=key)
    request.session.clear()
    request.session["key"] = found.principal.consumer_key
    return back("/console/")


@router.post("/logout")
async def logout(request: Request, csrf: Annotated[str, Form()] = "") -> Response:
    check_csrf(request, csrf)
    request.session.clear()
    return back("/console/login")


@router.get("/", response_class=HTMLResponse)
async def overview(
    request: Request,
    session: SessionDep,
    principal: ConsolePrincipal,
    folder: str | None = None,
    after: Cursor = 0,
) -> Response:
    """The dynamic-lists overview: audiences with their folder, members and last sync."""
    account = principal.account_id
    folders = await folders_service.list_folders(session, account)
    try:
        items, last = await folders_service.dynamic_lists(session, account, after, PAGE, folder)
    except DomainError:
        return back("/console/")
    return render(
        request,
        "overview.html",
        principal,
        section="lists",
        folders=folders,
        items=items,
        current_folder=folder,
        folder_name=next((f.name for f in folders if f.id == folder), None),
        total=await audiences_repository.count_audiences(session, account),
        next_after=last if len(items) == PAGE else None,
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
    try:
        body = FolderWrite(name=name.strip() or name, parentId=parent or None)
        created = await folders_service.create_folder(session, principal.account_id, body)
        flash(request, "ok", f"Folder “{created.name}” created.")
    except (DomainError, ValueError) as error:
        flash(request, "error", getattr(error, "message", "The folder name is not valid."))
    return back("/console/")


@router.post("/audiences/{external_id}/folder")
async def move_audience(
    request: Request,
    external_id: str,
    session: SessionDep,
    principal: ConsolePrincipal,
    folder: Annotated[str, Form()] = "",
    next_page: Annotated[str, Form(alias="next")] = "/console/",
    csrf: Annotated[str, Form()] = "",
) -> Response:
    check_csrf(request, csrf)
    try:
        moved = await folders_service.move_audience(
            session, principal.account_id, external_id, folder or None
        )
        flash(request, "ok", f"“{moved.name}” moved.")
    except DomainError as error:
        flash(request, "error", error.message)
    return back(_safe_path(next_page))


@router.get("/audiences/{external_id}", response_class=HTMLResponse)
async def view_audience(
    request: Request,
    external_id: str,
    session: SessionDep,
    principal: ConsolePrincipal,
    after: Cursor = 0,
) -> Response:
    """An audience's properties, its contacts page by page, and what uses it."""
    try:
        audience = await audiences_service.get_audience(session, principal.account_id, external_id)
    except DomainError:
        return render(
            request,
            "problem.html",
            principal,
            title="Audience not found",
            message="There is no audience with this id in your account.",
        )
    members, last = await bulk_service.member_page(session, audience, after, PAGE)
    folder = None
    if audience.folder_id is not None:
        found = await folders_repository.get_folders_by_ids(
            session, principal.account_id, [audience.folder_id]
        )
        folder = found.get(audience.folder_id)
    return render(
        request,
        "audience.html",
        principal,
        section="lists",
        audience=audiences_service.to_read(audience),
        member_count=audience.member_count,
        folder_name=folder.name if folder else None,
        references=await guards.references(session, audience),
        members=members,
        next_after=last if len(members) == PAGE else None,
    )


@router.get("/audiences/{external_id}/export.csv")
async def export_audience(
    request: Request, external_id: str, session: SessionDep, principal: ConsolePrincipal
) -> Response:
    audience = await audiences_service.get_audience(session, principal.account_id, external_id)
    filename = re.sub(r"[^A-Za-z0-9._-]+", "_", external_id)[:100] or "audience"
    chunks = await bulk_service.export_members(
        database_of(request).exports(),
        audience,
        bulk_service.ExportLimits.of(app_settings(request)),
    )
    return ClosingStream(
        StreamingResponse(
            chunks,
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{filename}.csv"'},
        )
    )


@router.post("/audiences/{external_id}/delete")
async def delete_audience(
    request: Request,
    external_id: str,
    session: SessionDep,
    principal: ConsolePrincipal,
    csrf: Annotated[str, Form()] = "",
) -> Response:
    """Deletes the audience, or says in plain words what keeps it."""
    check_csrf(request, csrf)
    try:
        await audiences_service.delete_audience(session, principal.account_id, external_id)
    except AudienceInUse as refusal:
        references = refusal.extra.get("references", [])
        users = "; ".join(
            f"{r['type'].replace('_', ' ')} “{r['name']}” ({r['detail']})" for r in references
        )
        flash(
            request,
            "error",
            f"This audience cannot be deleted because it is in use by: {users}. "
            "Remove it from these first, then try again.",
        )
        return back(f"/console/audiences/{external_id}")
    except DomainError as error:
        flash(request, "error", error.message)
        return back("/console/")
    flash(request, "ok", "The audience was deleted.")
    return back("/console/")
