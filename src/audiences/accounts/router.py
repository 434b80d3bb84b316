"""Checking credentials (extension)."""

from fastapi import APIRouter

from audiences.accounts import repository
from audiences.accounts.schemas import Ping
from audiences.api.routing import ApiRoute
from audiences.auth.dependencies import CurrentPrincipal
from audiences.core.db import SessionDep
from audiences.core.openapi import errors

router = APIRouter(tags=["Account"], route_class=ApiRoute)


@router.get("/ping", response_model=Ping, responses=errors())
async def ping(session: SessionDep, principal: CurrentPrincipal) -> Ping:
    """Check credentials and signing: answers the account they belong to (any product)."""
    await repository.ping(session)
    return Ping(
        status="ok",
        account_id=principal.account_id,
        consumer_key=principal.consumer_key,
        products=list(principal.products),
    )
