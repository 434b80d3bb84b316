"""The /testing calls of `audiences serve --ephemeral` (extension): a fresh account per test, a
reset, and injected faults. Mounted only in ephemeral mode: anywhere else they do not exist."""

from typing import ClassVar

from fastapi import APIRouter, Request, Response

from audiences.api.routing import ApiRoute
from audiences.auth.dependencies import CurrentPrincipal
from audiences.core.credentials import secret_box
from audiences.core.db import SessionDep
from audiences.core.openapi import errors
from audiences.testing import service
from audiences.testing.errors import TooManyFaults
from audiences.testing.models import Fault
from audiences.testing.schemas import (
    FaultCreate,
    FaultRead,
    Faults,
    NewAccountRead,
    NewAccountRequest,
)


class TestingRoute(ApiRoute):
    """A /testing call: never meets an injected fault (a fault on `*` cannot lock a test out
    of clearing it)."""

    meets_faults: ClassVar[bool] = False


router = APIRouter(prefix="/testing", tags=["Testing"], route_class=TestingRoute)


@router.post("/accounts", status_code=201, response_model=NewAccountRead, responses=errors())
async def create_test_account(
    body: NewAccountRequest, request: Request, session: SessionDep, _caller: CurrentPrincipal
) -> NewAccountRead:
    """Create a fresh account for one test and answer its credential (ephemeral service
    only); any account's credential may ask."""
    issued = await service.create_account(
        session, secret_box(request), body.name, list(body.products)
    )
    return NewAccountRead(
        accountId=issued.account_id,
        name=issued.account_name,
        products=issued.products,
        consumerKey=issued.consumer_key,
        consumerSecret=issued.consumer_secret,
    )


@router.post("/reset", status_code=204, responses=errors())
async def reset_account(session: SessionDep, principal: CurrentPrincipal) -> Response:
    """Delete everything of the caller's account (audiences, contacts, mailings, automailers,
    campaigns, messages, folders, history, idempotency records, faults), keeping its
    credential; no other account is touched."""
    await service.reset_account(session, principal.account_id)
    return Response(status_code=204)


def _fault_read(fault: Fault) -> FaultRead:
    return FaultRead(
        id=fault.fault_id,
        method=fault.method,
        path=fault.path,
        status=fault.status,
        errorType=fault.error_type,
        delayMs=fault.delay_ms,
        remaining=fault.remaining,
    )


@router.post("/faults", status_code=201, response_model=FaultRead, responses=errors(TooManyFaults))
async def add_fault(
    body: FaultCreate, session: SessionDep, principal: CurrentPrincipal
) -> FaultRead:
    """Make the caller's next calls of a method and path fail with a status (and Retry-After
    for 429 and 503), or answer slowly; the path is matched after the base path, a `*`
    segment matching any one segment."""
    return _fault_read(await service.add_fault(session, principal.account_id, body))


@router.get("/faults", response_model=Faults, responses=errors())
async def list_faults(session: SessionDep, principal: CurrentPrincipal) -> Faults:
    """List the caller's faults with the calls each has left."""
    found = await service.list_faults(session, principal.account_id)
    return Faults(faults=[_fault_read(f) for f in found])


@router.delete("/faults", status_code=204, responses=errors())
async def clear_faults(session: SessionDep, principal: CurrentPrincipal) -> Response:
    """Clear the caller's faults: its calls are answered as usual again."""
    await service.clear_faults(session, principal.account_id)
    return Response(status_code=204)
