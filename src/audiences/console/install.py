"""Mounting the console on the app: its pages, its static files, its session cookie and what
happens when a visitor is not signed in or a form lacks its CSRF token."""

from urllib.parse import urlencode

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles

from audiences.console import audience_pages, blockers, pages, properties, router
from audiences.console.rendering import STATIC, page_of, render
from audiences.console.session import ConsoleSessionMiddleware, CsrfRejected, SignInRequired
from audiences.core.settings import Settings


async def _sign_in(request: Request, _exc: Exception) -> RedirectResponse:
    """To the sign-in page, which comes back to the page asked for (a form's page is not
    known, so a form goes back to the overview)."""
    asked = page_of(request) if request.method == "GET" else "/console/"
    query = "" if asked == "/console/" else f"?{urlencode({'next': asked})}"
    return RedirectResponse(f"/console/login{query}", status_code=303)


async def _csrf(request: Request, _exc: Exception) -> HTMLResponse:
    response = render(
        request,
        "problem.html",
        title="This form has expired",
        message="Please go back, reload the page and try again.",
    )
    response.status_code = 400
    return response


def install_console(app: FastAPI, settings: Settings) -> None:
    for module in (router, audience_pages, blockers, pages, properties):
        app.include_router(module.router)
    app.mount("/console/static", StaticFiles(directory=STATIC), name="console-static")
    app.add_exception_handler(SignInRequired, _sign_in)
    app.add_exception_handler(CsrfRejected, _csrf)
    assert settings.secret_key
    app.add_middleware(
        ConsoleSessionMiddleware,
        secret_key=settings.secret_key,
        secure=settings.console_secure_cookie,
    )
