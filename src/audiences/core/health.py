"""Liveness and readiness, without authentication."""

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text

from audiences.core.db import SessionDep, database_of
from audiences.core.migrate import head_revision

router = APIRouter(include_in_schema=False)


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """The process is alive."""
    return {"status": "ok"}


@router.get("/healthz/database")
async def healthz_database(session: SessionDep) -> dict[str, str]:
    """The database answers a `SELECT 1` through the same session machinery as the API (the
    baseline of the membership-check benchmark)."""
    await session.execute(text("SELECT 1"))
    return {"status": "ok", "database": "ok"}


@router.get("/readyz")
async def readyz(request: Request) -> JSONResponse:
    """The database answers and its schema is at the migrations' head."""
    expected = request.app.state.schema_head
    try:
        async with database_of(request).read_sessions() as session:
            current = (
                await session.execute(text("SELECT version_num FROM alembic_version"))
            ).scalar()
    except Exception as exc:
        return JSONResponse(
            {"status": "not ready", "database": f"unavailable ({type(exc).__name__})"},
            status_code=503,
        )
    if current != expected:
        return JSONResponse(
            {"status": "not ready", "database": "ok", "schema": current, "expected": expected},
            status_code=503,
        )
    return JSONResponse({"status": "ready", "database": "ok", "schema": current})


def schema_head() -> str | None:
    return head_revision()
