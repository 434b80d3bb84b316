"""Console pages about the objects that use audiences: mailings and automailers (created here,
with an audience as target group and the permission to mail with), and the audiences that
campaigns, automations and messages use."""

from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError
from pydantic.alias_generators import to_camel

from audiences.audiences import service as audiences_service
from audiences.console.rendering import back, render
from audiences.console.session import ConsolePrincipal, check_csrf, flash
from audiences.contacts import definitions as contact_definitions
from audiences.contacts.properties import PERMISSIONS
from audiences.core.db import SessionDep
from audiences.core.errors import DomainError
from audiences.platform.automailers import service as automailers_service
from audiences.platform.automailers.schemas import AutomailerCreate
from audiences.platform.flows import service as flows_service
from audiences.platform.mailings import service as mailings_service
from audiences.platform.mailings.schemas import MailingCreate
from audiences.platform.messages import service as messages_service

router = APIRouter(prefix="/console", include_in_schema=False)


async def _audiences(session: Any, account_id: int) -> list[Any]:
    items, _ = await audiences_service.list_audiences(session, account_id, 0, 1000, None)
    return items


async def _permissions(session: Any, account_id: int) -> list[Any]:
    properties = await contact_definitions.list_properties(session, account_id)
    return next((p.entries or [] for p in properties if p.name == PERMISSIONS), [])


def problem(error: Exception) -> str:
    if isinstance(error, DomainError):
        return error.message
    if isinstance(error, ValidationError):
        first = error.errors()[0]
        # Named as the API names the field (the console builds its models by Python name).
        where = ".".join(to_camel(p) if isinstance(p, str) else str(p) for p in first["loc"])
        return f"{where}: {first['msg']}"
    return str(error)


@router.get("/mailings", response_class=HTMLResponse)
async def mailings_page(
    request: Request, session: SessionDep, principal: ConsolePrincipal
) -> HTMLResponse:
    """Mailings and automailers, each with its target group; mailings with their recipients."""
    account = principal.account_id
    permissions = await _permissions(session, account)
    today = datetime.now(UTC).date()
    return render(
        request,
        "mailings.html",
        principal,
        section="mailings",
        audiences=await _audiences(session, account),
        permissions=permissions,
        permission_names={p.bit: p.description for p in permissions},
        mailings=await mailings_service.list_mailings(session, account),
        automailers=await automailers_service.list_automailers(session, account),
        today=today.isoformat(),
        next_year=(today + timedelta(days=365)).isoformat(),
    )


@router.post("/mailings")
async def create_mailing(
    request: Request,
    session: SessionDep,
    principal: ConsolePrincipal,
    name: Annotated[str, Form()],
    type: Annotated[str, Form()],
    audience: Annotated[str, Form()],
    permission: Annotated[int, Form()],
    csrf: Annotated[str, Form()] = "",
) -> Response:
    check_csrf(request, csrf)
    try:
        body = MailingCreate(
            name=name,
            type=type,
            audience_external_id=audience,
            permission_bit=permission,
        )
        created = await mailings_service.create_mailing(session, principal.account_id, body)
        flash(request, "ok", f"Draft mailing “{created.name}” created for {created.target_group}.")
    except (DomainError, ValidationError) as error:
        flash(request, "error", problem(error))
    return back("/console/mailings")


@router.post("/automailers")
async def create_automailer(
    request: Request,
    session: SessionDep,
    principal: ConsolePrincipal,
    name: Annotated[str, Form()],
    audience: Annotated[str, Form()],
    permission: Annotated[int, Form()],
    days: Annotated[int, Form()],
    first: Annotated[date, Form()],
    last: Annotated[date, Form()],
    csrf: Annotated[str, Form()] = "",
) -> Response:
    check_csrf(request, csrf)
    try:
        body = AutomailerCreate(
            name=name,
            audience_external_id=audience,
            permission_bit=permission,
            period=f"P{days}D",
            first_sending_moment=datetime(first.year, first.month, first.day, tzinfo=UTC),
            last_sending_moment=datetime(last.year, last.month, last.day, tzinfo=UTC),
        )
        created = await automailers_service.create_automailer(session, principal.account_id, body)
        flash(request, "ok", f"Automailer “{created.name}” created for {created.target_group}.")
    except (DomainError, ValidationError) as error:
        flash(request, "error", problem(error))
    return back("/console/mailings")


@router.get("/usage", response_class=HTMLResponse)
async def usage_page(
    request: Request, session: SessionDep, principal: ConsolePrincipal
) -> HTMLResponse:
    """Which audiences campaigns, automations and messages use."""
    account = principal.account_id

    async def flows(kind: str) -> list[dict[str, Any]]:
        return [
            {
                "id": flow.id,
                "name": flow.name,
                "status": flow.status,
                "nodes": [("trigger", n) for n in flow.triggers]
                + [("step", n) for n in flow.steps],
            }
            for flow in await flows_service.list_flows(session, account, kind)
        ]

    return render(
        request,
        "usage.html",
        principal,
        section="usage",
        campaigns=await flows("campaign"),
        automations=await flows("automation"),
        messages=await messages_service.list_messages(session, account),
        names={a.external_id: a.name for a in await _audiences(session, account)},
    )
