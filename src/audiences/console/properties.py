"""The console's contact properties page: the standard ones and the account's own, a form to
define one (a set with its entries), a set's entries changed (such as the permissions), and an
account-defined property removed with its values."""

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError

from audiences.console.pages import problem
from audiences.console.rendering import back, render
from audiences.console.session import ConsolePrincipal, check_csrf, flash
from audiences.contacts import definitions as contact_definitions
from audiences.contacts.properties import PROPERTY_TYPES, SET
from audiences.contacts.schemas import PropertyCreate, PropertyUpdate, SetEntryIn
from audiences.core.db import SessionDep
from audiences.core.errors import DomainError

router = APIRouter(prefix="/console", include_in_schema=False)
PAGE = "/console/properties"


def parse_entries(text: str) -> list[SetEntryIn]:
    """One entry a line, as `BIT=Description` (or `BIT Description`)."""
    entries = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        bit, _, description = line.strip().replace("=", " ", 1).partition(" ")
        if not bit.isdecimal() or len(bit) > 10:
            raise ValueError(f"Entry line {number}: write it as 1=Newsletter")
        entries.append(SetEntryIn(bit=int(bit), description=description.strip()))
    return entries


def entries_text(entries: list[dict[str, object]] | None) -> str:
    return "\n".join(f"{e['bit']}={e['description']}" for e in entries or ())


@router.get("/properties", response_class=HTMLResponse)
async def properties_page(
    request: Request, session: SessionDep, principal: ConsolePrincipal
) -> HTMLResponse:
    """Every contact property of the account, and a form to define one."""
    items = await contact_definitions.list_properties(session, principal.account_id)
    return render(
        request,
        "properties.html",
        principal,
        section="properties",
        properties=items,
        types=PROPERTY_TYPES,
        entries_text=lambda p: entries_text([e.model_dump() for e in p.entries or ()]),
    )


@router.post("/properties")
async def create_property(
    request: Request,
    session: SessionDep,
    principal: ConsolePrincipal,
    name: Annotated[str, Form()],
    type: Annotated[str, Form()],
    description: Annotated[str, Form()] = "",
    entries: Annotated[str, Form()] = "",
    csrf: Annotated[str, Form()] = "",
) -> Response:
    check_csrf(request, csrf)
    try:
        body = PropertyCreate(
            name=name.strip(),
            type=type,
            description=description.strip() or None,
            entries=parse_entries(entries) if type == SET else None,
        )
        created = await contact_definitions.add_property(session, principal.account_id, body)
        flash(request, "ok", f"Property “{created.name}” ({created.type}) added.")
    except (DomainError, ValidationError, ValueError) as error:
        flash(request, "error", problem(error))
    return back(PAGE)


@router.post("/properties/{name}/entries")
async def update_entries(
    request: Request,
    name: str,
    session: SessionDep,
    principal: ConsolePrincipal,
    entries: Annotated[str, Form()],
    csrf: Annotated[str, Form()] = "",
) -> Response:
    """Replaces a set's entries; a bit left out is removed from every contact."""
    check_csrf(request, csrf)
    try:
        body = PropertyUpdate(entries=parse_entries(entries))
        await contact_definitions.update_property(session, principal.account_id, name, body)
        flash(request, "ok", f"The options of “{name}” were saved.")
    except (DomainError, ValidationError, ValueError) as error:
        flash(request, "error", problem(error))
    return back(PAGE)


@router.post("/properties/{name}/delete")
async def delete_property(
    request: Request,
    name: str,
    session: SessionDep,
    principal: ConsolePrincipal,
    csrf: Annotated[str, Form()] = "",
) -> Response:
    check_csrf(request, csrf)
    try:
        await contact_definitions.remove_property(session, principal.account_id, name)
        flash(request, "ok", f"Property “{name}” and its values were removed.")
    except DomainError as error:
        flash(request, "error", error.message)
    return back(PAGE)
