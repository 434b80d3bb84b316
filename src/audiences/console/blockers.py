"""Letting go of an audience from the console: cancel a mailing, stop an automailer, remove
the audience from a campaign's or automation's filters or from a message's dynamic content.
Each form is confirmed first (on the page) and comes back to the page it was sent from."""

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from audiences.console.rendering import attempt, back, safe_path
from audiences.console.session import ConsolePrincipal, check_csrf, flash
from audiences.core.db import SessionDep
from audiences.platform.automailers import service as automailers_service
from audiences.platform.flows import service as flows_service
from audiences.platform.mailings import service as mailings_service
from audiences.platform.messages import service as messages_service

router = APIRouter(prefix="/console", include_in_schema=False)
NextPage = Annotated[str, Form(alias="next")]
Csrf = Annotated[str, Form()]


async def _act(
    request: Request,
    session: Any,
    csrf: str,
    next_page: str,
    action: Callable[[], Awaitable[Any]],
    done: Callable[[Any], str],
) -> Response:
    check_csrf(request, csrf)
    result = await attempt(request, session, action)
    if result is not None:
        flash(request, "ok", done(result))
    return back(safe_path(next_page))


@router.post("/mailings/{encrypted_id}/cancel")
async def cancel_mailing(
    request: Request,
    encrypted_id: str,
    session: SessionDep,
    principal: ConsolePrincipal,
    csrf: Csrf = "",
    next_page: NextPage = "/console/mailings",
) -> Response:
    """Cancels a scheduled or sending mailing: it no longer holds its target group."""
    return await _act(
        request,
        session,
        csrf,
        next_page,
        lambda: mailings_service.transition(session, principal.account_id, encrypted_id, "cancel"),
        lambda m: f"Mailing “{m.name}” cancelled.",
    )


@router.post("/automailers/{public_id}/stop")
async def stop_automailer(
    request: Request,
    public_id: str,
    session: SessionDep,
    principal: ConsolePrincipal,
    csrf: Csrf = "",
    next_page: NextPage = "/console/mailings",
) -> Response:
    """Stops an automailer for good."""
    return await _act(
        request,
        session,
        csrf,
        next_page,
        lambda: automailers_service.stop_automailer(session, principal.account_id, public_id),
        lambda a: f"Automailer “{a.name}” stopped.",
    )


@router.post("/{kinds}/{public_id}/remove-filter")
async def remove_filter(
    request: Request,
    kinds: str,
    public_id: str,
    session: SessionDep,
    principal: ConsolePrincipal,
    audience: Annotated[str, Form()],
    csrf: Csrf = "",
    next_page: NextPage = "/console/usage",
) -> Response:
    """Takes the audience out of a campaign's or automation's trigger and step filters."""
    kind = {"campaigns": "campaign", "automations": "automation"}.get(kinds)
    if kind is None:
        check_csrf(request, csrf)
        return back(safe_path(next_page))
    return await _act(
        request,
        session,
        csrf,
        next_page,
        lambda: flows_service.remove_audience_filter(
            session, principal.account_id, kind, public_id, audience
        ),
        lambda f: f"The audience was removed from the filters of {kind} “{f.name}”.",
    )


@router.post("/messages/{public_id}/remove-blocks")
async def remove_blocks(
    request: Request,
    public_id: str,
    session: SessionDep,
    principal: ConsolePrincipal,
    audience: Annotated[str, Form()],
    csrf: Csrf = "",
    next_page: NextPage = "/console/usage",
) -> Response:
    """Removes a message's dynamic blocks shown to the audience."""
    return await _act(
        request,
        session,
        csrf,
        next_page,
        lambda: messages_service.remove_audience_blocks(
            session, principal.account_id, public_id, audience
        ),
        lambda m: f"The audience's dynamic content was removed from message “{m.name}”.",
    )
