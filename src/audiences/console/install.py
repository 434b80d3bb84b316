"""Mounting the console on the app: its pages, its static files, its session cookie and what
happens when a visitor is not signed in or a form lacks its CSRF token."""

import hashlib

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles

from audiences.console import pages, properties, router
from audiences.console.session import ConsoleSessionMiddleware, CsrfRejected, SignInRequired
from audiences.core.settings import Settings


async def _sign_in(_request: Request, _exc: Exception) -> RedirectResponse:
    return RedirectResponse("/console/login", status_code=303)


async def _csrf(request: Request, _exc: Exception) -> HTMLResponse:
    response = router.render(
        request,
        "problem.html",
        title="This form has expired",
        message="Please go back, reload the page and try again.",
    )
    response.status_code = 400
    return response


def install_console(app: FastAPI, settings: Settings) -> None:
    app.include_router(router.router)
    app.include_router(pages.router)
    app.include_router(properties.router)
    app.mount("/console/static", StaticFiles(directory=router.STATIC), name="console-static")
    app.add_exception_handler(SignInRequired, _sign_in)
    app.add_exception_handler(CsrfRejected, _csrf)
    # Its own key, derived from the server key: signing sessions is not encrypting secrets.
    assert settings.secret_key
    cookie_key = hashlib.sha256(b"console-session:" + settings.secret_key.encode()).hexdigest()
    app.add_middleware(
        ConsoleSessionMiddleware, secret_key=cookie_key, secure=settings.console_secure_cookie
    )
