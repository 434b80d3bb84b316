"""An audience in the console: its View (properties, members found by id or e-mail address,
what uses it, its history), its CSV export, and deleting it: asked first, by typing its name
when it is large, and when something still uses it, each user linked with the way to let go."""

import re
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response, StreamingResponse

from audiences.audiences import guards
from audiences.audiences import service as audiences_service
from audiences.audiences.errors import AudienceInUse
from audiences.audiences.models import Audience
from audiences.console.rendering import HOME, back, page_of, problem, render, whole_number
from audiences.console.session import ConsolePrincipal, check_csrf, flash
from audiences.core.db import SessionDep, database_of
from audiences.core.errors import DomainError
from audiences.core.routing import ClosingStream
from audiences.core.settings import app_settings
from audiences.folders import service as folders_service
from audiences.history import service as history_service
from audiences.memberships import bulk_service
from audiences.memberships.schemas import FormulasParam
from audiences.platform.schemas import Reference

router = APIRouter(prefix="/console", include_in_schema=False)
PAGE = 50
HISTORY = 10
MAX_SEARCH = 255
# From this many members on, deleting asks the marketer to type the audience's name.
CONFIRM_BY_NAME = 10_000


def audience_path(external_id: str, *rest: str) -> str:
    return "/".join(["/console/audiences", quote(external_id, safe=""), *rest])


async def _audience(session: Any, principal: Any, external_id: str) -> Audience | None:
    try:
        return await audiences_service.get_audience(session, principal.account_id, external_id)
    except DomainError:
        return None


def _not_found(request: Request, principal: Any) -> HTMLResponse:
    response = problem(
        request,
        principal,
        "Audience not found",
        "There is no audience with this id in your account (it may have been deleted).",
    )
    response.status_code = 404
    return response


@router.get("/audiences/{external_id}", response_class=HTMLResponse)
async def view_audience(
    request: Request,
    external_id: str,
    session: SessionDep,
    principal: ConsolePrincipal,
    q: str = "",
    after: str | None = None,
) -> Response:
    """An audience's properties, its contacts page by page (found by id or e-mail address),
    what uses it and what happened to it."""
    audience = await _audience(session, principal, external_id)
    if audience is None:
        return _not_found(request, principal)
    q = q.strip()[:MAX_SEARCH]
    members, last = await bulk_service.member_page(
        session, audience, whole_number(after, 0), PAGE, search=q or None
    )
    folder_name = await folders_service.folder_name(
        session, principal.account_id, audience.folder_id
    )
    events, _ = await history_service.list_events(session, audience, None, HISTORY)
    return render(
        request,
        "audience.html",
        principal,
        section="lists",
        audience=audiences_service.to_read(audience),
        path=audience_path(audience.external_id),
        member_count=audience.member_count,
        folder_name=folder_name,
        references=await guards.references(session, audience),
        members=members,
        q=q,
        next_after=last if len(members) == PAGE else None,
        events=events,
    )


@router.get("/audiences/{external_id}/export.csv")
async def export_audience(
    request: Request,
    external_id: str,
    session: SessionDep,
    principal: ConsolePrincipal,
    formulas: FormulasParam = "neutralise",
) -> Response:
    audience = await _audience(session, principal, external_id)
    if audience is None:
        return _not_found(request, principal)
    filename = re.sub(r"[^A-Za-z0-9._-]+", "_", external_id)[:100] or "audience"
    chunks = await bulk_service.export_members(
        database_of(request).exports(),
        audience,
        bulk_service.ExportLimits.of(app_settings(request)),
        neutralise=formulas == "neutralise",
    )
    return ClosingStream(
        StreamingResponse(
            chunks,
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{filename}.csv"'},
        )
    )


def blocker(reference: Reference) -> dict[str, Any]:
    """A reference as the delete page shows it: where it is, and the action that lets go."""
    kind = reference.type
    if kind == "mailing":
        return {
            "href": f"/console/mailings#mailing-{reference.id}",
            "action": f"/console/mailings/{quote(reference.id, safe='')}/cancel",
            "label": "Cancel the mailing",
            "question": f"Cancel mailing “{reference.name}”? It will not be sent.",
        }
    if kind == "automailer":
        return {
            "href": f"/console/mailings#automailer-{reference.id}",
            "action": f"/console/automailers/{quote(reference.id, safe='')}/stop",
            "label": "Stop the automailer",
            "question": f"Stop automailer “{reference.name}” for good? It will mail no one.",
        }
    if kind in ("campaign", "automation"):
        return {
            "href": f"/console/usage#{kind}-{reference.id}",
            "action": f"/console/{kind}s/{quote(reference.id, safe='')}/remove-filter",
            "label": "Remove the filter",
            "question": (
                f"Remove this audience from every filter of {kind} “{reference.name}”? "
                "Its triggers and steps then admit contacts without it."
            ),
        }
    return {
        "href": f"/console/usage#message-{reference.id}",
        "action": f"/console/messages/{quote(reference.id, safe='')}/remove-blocks",
        "label": "Remove the block",
        "question": (
            f"Remove the dynamic content shown to this audience from message "
            f"“{reference.name}”? Its other blocks stay."
        ),
    }


@router.get("/audiences/{external_id}/delete", response_class=HTMLResponse)
async def delete_page(
    request: Request, external_id: str, session: SessionDep, principal: ConsolePrincipal
) -> Response:
    """Asks before deleting; when something uses the audience, lists each user, linked, with
    the action that lets go of it."""
    audience = await _audience(session, principal, external_id)
    if audience is None:
        return _not_found(request, principal)
    references = await guards.references(session, audience)
    return render(
        request,
        "delete.html",
        principal,
        section="lists",
        audience=audiences_service.to_read(audience),
        path=audience_path(audience.external_id),
        member_count=audience.member_count,
        by_name=audience.member_count >= CONFIRM_BY_NAME,
        blockers=[(r, blocker(r)) for r in references],
        here=page_of(request),
    )


@router.post("/audiences/{external_id}/delete")
async def delete_audience(
    request: Request,
    external_id: str,
    session: SessionDep,
    principal: ConsolePrincipal,
    csrf: Annotated[str, Form()] = "",
    confirm_name: Annotated[str, Form()] = "",
) -> Response:
    """Deletes the audience once confirmed (a large one by its name typed), or goes back to
    the delete page, which says what keeps it."""
    check_csrf(request, csrf)
    audience = await _audience(session, principal, external_id)
    if audience is None:
        flash(request, "error", "That audience no longer exists.")
        return back(HOME)
    name = audience.name
    page = audience_path(external_id, "delete")
    if audience.member_count >= CONFIRM_BY_NAME and confirm_name.strip() != name:
        flash(request, "error", f"Type the audience's name, “{name}”, to delete it.")
        return back(page)
    try:
        await audiences_service.delete_audience(session, principal.account_id, external_id)
    except AudienceInUse as refusal:
        uses = len(refusal.extra.get("references", []))
        flash(
            request,
            "error",
            f"“{name}” cannot be deleted: it is in use by {uses} "
            f"{'object' if uses == 1 else 'objects'}. Let go of each below, then delete it.",
        )
        return back(page)
    except DomainError as error:
        flash(request, "error", error.message)
        return back(HOME)
    flash(request, "ok", f"Audience “{name}” deleted.")
    return back(HOME)
