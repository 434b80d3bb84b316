"""Rules for campaigns and automations: triggers and steps with audience filters."""

from sqlalchemy import func
from sqlalchemy.ext.asyncio import AsyncSession

from audiences.audiences import service as audiences_service
from audiences.contacts import repository as contacts_repository
from audiences.contacts.errors import ContactNotFound
from audiences.core.errors import InvalidParams
from audiences.core.ids import new_public_id
from audiences.platform.flows import repository
from audiences.platform.flows.errors import FlowNotFound, StepNotFound
from audiences.platform.flows.models import Flow
from audiences.platform.flows.schemas import (
    Admission,
    FlowCreate,
    FlowRead,
    FlowUpdate,
    NodeIn,
    NodeRead,
)


async def to_read(session: AsyncSession, flow: Flow) -> FlowRead:
    nodes = await repository.nodes_with_filters(session, flow)
    triggers = [
        NodeRead(id=n.public_id, name=n.name, audience_filters=n.filters)
        for n in nodes
        if n.role == "trigger"
    ]
    steps = [
        NodeRead(id=n.public_id, name=n.name, audience_filters=n.filters)
        for n in nodes
        if n.role == "step"
    ]
    return FlowRead(
        id=flow.public_id, name=flow.name, status=flow.status, triggers=triggers, steps=steps
    )


async def get_flow(
    session: AsyncSession, account_id: int, kind: str, public_id: str, *, lock: bool = False
) -> Flow:
    flow = await repository.get_flow(session, account_id, kind, public_id, lock=lock)
    if flow is None:
        raise FlowNotFound(kind)
    return flow


async def _write_nodes(session: AsyncSession, flow: Flow, body: FlowCreate, keep: set[str]) -> None:
    """Resolves (and locks against deletion) every filter audience, then replaces the nodes.
    Ids given for nodes are kept only when they were this flow's."""
    given = [n.id for n in (*body.triggers, *body.steps) if n.id]
    if len(given) != len(set(given)):
        raise InvalidParams("A trigger or step id appears twice")
    nodes = []
    for role, items in (("trigger", body.triggers), ("step", body.steps)):
        for position, node in enumerate(items):
            nodes.append(
                {
                    "public_id": node.id if node.id in keep else new_public_id(),
                    "role": role,
                    "position": position,
                    "name": node.name,
                    "audience_ids": await _audience_ids(session, flow.account_id, node),
                }
            )
    await repository.replace_nodes(session, flow, nodes)


async def _audience_ids(session: AsyncSession, account_id: int, node: NodeIn) -> list[int]:
    ids: list[int] = []
    for external_id in dict.fromkeys(node.audience_filters):
        audience = await audiences_service.audience_to_reference(session, account_id, external_id)
        ids.append(audience.audience_id)
    return ids


async def create_flow(
    session: AsyncSession, account_id: int, kind: str, body: FlowCreate
) -> FlowRead:
    """A campaign or automation; every audience it filters on is blocked from deletion."""
    flow = await repository.insert_flow(
        session,
        {
            "account_id": account_id,
            "kind": kind,
            "public_id": new_public_id(),
            "name": body.name,
            "status": body.status,
        },
    )
    await _write_nodes(session, flow, body, keep=set())
    return await to_read(session, flow)


async def read_flow(session: AsyncSession, account_id: int, kind: str, public_id: str) -> FlowRead:
    return await to_read(session, await get_flow(session, account_id, kind, public_id))


async def update_flow(
    session: AsyncSession, account_id: int, kind: str, public_id: str, body: FlowCreate
) -> FlowRead:
    """Replaces name, status, triggers and steps; filters no longer listed stop blocking."""
    flow = await get_flow(session, account_id, kind, public_id, lock=True)
    keep = await repository.node_ids(session, flow)
    flow.name = body.name
    flow.status = body.status
    flow.changed_at = func.now()
    await session.flush()
    await _write_nodes(session, flow, body, keep=keep)
    return await to_read(session, flow)


async def delete_flow(session: AsyncSession, account_id: int, kind: str, public_id: str) -> None:
    await repository.delete_flow(
        session, await get_flow(session, account_id, kind, public_id, lock=True)
    )


async def admits(
    session: AsyncSession, account_id: int, kind: str, public_id: str, node_id: str, contact: str
) -> Admission:
    """Whether the contact passes the trigger's or step's filters: it must be a member of
    every audience listed (no filter admits everyone)."""
    flow = await get_flow(session, account_id, kind, public_id)
    found = await contacts_repository.get_contact(session, account_id, contact)
    if found is None:
        raise ContactNotFound()
    missing = await repository.missing_filters(session, flow, node_id, found.contact_id)
    if missing is None:
        raise StepNotFound()
    return Admission(admitted=not missing, contact=contact, missing_audiences=missing)


async def list_flows(session: AsyncSession, account_id: int, kind: str) -> list[FlowRead]:
    return [
        await to_read(session, flow)
        for flow in await repository.list_flows(session, account_id, kind)
    ]


async def remove_audience_filter(
    session: AsyncSession, account_id: int, kind: str, public_id: str, audience_external_id: str
) -> FlowRead:
    """Takes the audience out of every trigger and step filter of the flow (the rest stays),
    so that it no longer blocks the audience's deletion."""
    # Locked before it is read: a concurrent change is not overwritten with what was read.
    flow = await to_read(session, await get_flow(session, account_id, kind, public_id, lock=True))

    def without(nodes: list[NodeRead]) -> list[NodeIn]:
        return [
            NodeIn(
                id=n.id,
                name=n.name,
                audience_filters=[a for a in n.audience_filters if a != audience_external_id],
            )
            for n in nodes
        ]

    body = FlowUpdate(
        name=flow.name,
        status=flow.status,
        triggers=without(flow.triggers),
        steps=without(flow.steps),
    )
    return await update_flow(session, account_id, kind, public_id, body)
