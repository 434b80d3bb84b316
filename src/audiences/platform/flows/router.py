"""Campaigns and automations whose triggers and steps filter on audiences (extension)."""

from typing import Annotated

from fastapi import APIRouter, Query, Response

from audiences.api.params import StepIdPath
from audiences.api.routing import ApiRoute
from audiences.audiences.errors import AudienceNotFound
from audiences.auth.dependencies import AudiencePrincipal
from audiences.contacts.errors import ContactNotFound
from audiences.core.db import SessionDep
from audiences.core.errors import ProductNotFound
from audiences.core.openapi import errors
from audiences.platform.flows import service
from audiences.platform.flows.errors import FlowNotFound, StepNotFound
from audiences.platform.flows.schemas import Admission, FlowCreate, FlowRead, FlowUpdate

_UNKNOWN_AUDIENCE = AudienceNotFound("Audience not found: top-100", audience_external_id="top-100")


def flow_router(kind: str) -> APIRouter:
    """The calls of one kind of flow (campaign or automation); both behave the same."""
    router = APIRouter(prefix=f"/{kind}", tags=[f"{kind.capitalize()}s"], route_class=ApiRoute)
    not_found = FlowNotFound(kind)

    @router.post(
        "",
        status_code=201,
        response_model=FlowRead,
        name=f"create_{kind}",
        responses=errors(ProductNotFound, _UNKNOWN_AUDIENCE),
    )
    async def create(
        body: FlowCreate, session: SessionDep, principal: AudiencePrincipal
    ) -> FlowRead:
        """Create it with triggers and steps; each may filter on audiences."""
        return await service.create_flow(session, principal.account_id, kind, body)

    @router.get(
        "/{id}",
        response_model=FlowRead,
        name=f"get_{kind}",
        responses=errors(ProductNotFound, not_found),
    )
    async def get(id: str, session: SessionDep, principal: AudiencePrincipal) -> FlowRead:
        """Get it with its triggers, steps and their audience filters."""
        return await service.read_flow(session, principal.account_id, kind, id)

    @router.put(
        "/{id}",
        response_model=FlowRead,
        name=f"update_{kind}",
        responses=errors(ProductNotFound, not_found, _UNKNOWN_AUDIENCE),
    )
    async def update(
        id: str, body: FlowUpdate, session: SessionDep, principal: AudiencePrincipal
    ) -> FlowRead:
        """Replace its name, status, triggers and steps (filters left out stop blocking)."""
        return await service.update_flow(session, principal.account_id, kind, id, body)

    @router.delete(
        "/{id}",
        status_code=204,
        response_class=Response,
        name=f"delete_{kind}",
        responses=errors(ProductNotFound, not_found),
    )
    async def delete(id: str, session: SessionDep, principal: AudiencePrincipal) -> Response:
        """Delete it; its audience filters stop blocking."""
        await service.delete_flow(session, principal.account_id, kind, id)
        return Response(status_code=204)

    @router.get(
        "/{id}/steps/{stepId}/admits",
        response_model=Admission,
        name=f"{kind}_step_admits",
        responses=errors(ProductNotFound, not_found, StepNotFound, ContactNotFound),
    )
    async def step_admits(
        id: str,
        step_id: StepIdPath,
        session: SessionDep,
        principal: AudiencePrincipal,
        contact: Annotated[str, Query(description="The contact's externalId")],
    ) -> Admission:
        """Whether a contact passes the step's (or trigger's) audience filters."""
        return await service.admits(session, principal.account_id, kind, id, step_id, contact)

    return router


campaign_router = flow_router("campaign")
automation_router = flow_router("automation")
