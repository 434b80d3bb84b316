"""What every console page shares: the templates and their filters, flashes, redirects, and
running an action so that a refusal becomes a message on the page, never a raw error."""

import re
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates
from markupsafe import Markup, escape
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from audiences.console.session import csrf_token, flash, take_flashes
from audiences.core.errors import DomainError, translate_integrity_error
from audiences.core.timeutil import from_epoch_ms

templates = Jinja2Templates(directory=Path(__file__).resolve().parent / "templates")
STATIC = Path(__file__).resolve().parent / "static"
HOME = "/console/"
T = TypeVar("T")


def moment(value: int | datetime | None) -> Markup:
    """A time in UTC, marked up so that console.js shows it in the browser's time zone."""
    if value is None:
        return Markup('<span class="muted">never</span>')
    at = (from_epoch_ms(value) if isinstance(value, int) else value).astimezone(UTC)
    iso = at.isoformat(timespec="seconds").replace("+00:00", "Z")
    shown = at.strftime("%d %b %Y, %H:%M UTC")
    return Markup('<time datetime="{}">{}</time>').format(iso, shown)


ISO_MOMENT = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2})")


def with_times(text: str) -> Markup:
    """Text from the API (a blocker's detail) with its ISO 8601 times shown as `moment`s."""
    parts: list[Markup] = []
    done = 0
    for found in ISO_MOMENT.finditer(text):
        parts.append(escape(text[done : found.start()]))
        parts.append(moment(datetime.fromisoformat(found[0].replace("Z", "+00:00"))))
        done = found.end()
    parts.append(escape(text[done:]))
    return Markup("").join(parts)


def count(value: int) -> str:
    return f"{value:,}"


templates.env.filters["moment"] = moment
templates.env.filters["count"] = count
templates.env.filters["with_times"] = with_times


def render(request: Request, name: str, principal: Any = None, **context: Any) -> HTMLResponse:
    context.update(
        principal=principal,
        csrf=csrf_token(request),
        notices=take_flashes(request),
    )
    return templates.TemplateResponse(request, name, context)


def problem(request: Request, principal: Any, title: str, message: str) -> HTMLResponse:
    """A page that says what went wrong, with the way back."""
    return render(request, "problem.html", principal, title=title, message=message)


def back(path: str) -> RedirectResponse:
    return RedirectResponse(path, status_code=303)


def safe_path(value: str | None) -> str:
    """A console path to return to; anything else (another site, a scheme) is the overview."""
    if value and re.fullmatch(r"/console/[^\s\\]*", value) and "//" not in value:
        return value
    return HOME


def page_of(request: Request) -> str:
    """This request's path and query, to come back to after an action or a sign-in."""
    query = request.url.query
    return request.url.path + (f"?{query}" if query else "")


def whole_number(value: str | None, default: int, *, lowest: int = 0) -> int:
    """A query parameter typed into the address bar: a bad one is the default, not an error."""
    try:
        number = int(value or "")
    except ValueError:
        return default
    return number if lowest <= number <= 2**63 - 1 else default


async def attempt(
    request: Request, session: AsyncSession, action: Callable[[], Awaitable[T]]
) -> T | None:
    """Runs `action` in a savepoint. A refusal, also one that only a constraint catches (a
    concurrent request took the name first), is flashed and undone; None is returned."""
    try:
        async with session.begin_nested():
            return await action()
    except IntegrityError as exc:
        error = translate_integrity_error(exc)
        if not isinstance(error, DomainError):
            raise
        flash(request, "error", error.message)
    except DomainError as error:
        flash(request, "error", error.message)
    return None
