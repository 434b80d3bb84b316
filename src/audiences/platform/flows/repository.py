"""All SQL about campaigns and automations and their audience filters."""

from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, insert, select, text
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncSession

from audiences.core.plans import without_nested_loops
from audiences.platform.flows.models import Flow, FlowNode, FlowNodeAudience


async def insert_flow(session: AsyncSession, values: dict[str, Any]) -> Flow:
    flow = Flow(**values)
    session.add(flow)
    await session.flush()
    return flow


async def get_flow(
    session: AsyncSession, account_id: int, kind: str, public_id: str, *, lock: bool = False
) -> Flow | None:
    query = select(Flow).where(
        Flow.account_id == account_id, Flow.kind == kind, Flow.public_id == public_id
    )
    if lock:
        query = query.with_for_update()
    return await session.scalar(query)


async def delete_flow(session: AsyncSession, flow: Flow) -> None:
    await session.delete(flow)
    await session.flush()


async def node_ids(session: AsyncSession, flow: Flow) -> set[str]:
    rows = await session.scalars(
        select(FlowNode.public_id).where(
            FlowNode.account_id == flow.account_id, FlowNode.flow_id == flow.flow_id
        )
    )
    return set(rows.all())


async def replace_nodes(session: AsyncSession, flow: Flow, nodes: list[dict[str, Any]]) -> None:
    """Replaces the flow's triggers and steps; each node dict has public_id, role, position,
    name and audience_ids (in filter order)."""
    await session.execute(
        delete(FlowNode).where(
            FlowNode.account_id == flow.account_id, FlowNode.flow_id == flow.flow_id
        )
    )
    if not nodes:
        return
    rows = await session.execute(
        insert(FlowNode).returning(FlowNode.node_id, FlowNode.public_id),
        [
            {
                "account_id": flow.account_id,
                "flow_id": flow.flow_id,
                "public_id": n["public_id"],
                "role": n["role"],
                "position": n["position"],
                "name": n["name"],
            }
            for n in nodes
        ],
    )
    by_public = {public_id: node_id for node_id, public_id in rows}
    filters = [
        {
            "account_id": flow.account_id,
            "node_id": by_public[n["public_id"]],
            "audience_id": a,
            "position": i,
        }
        for n in nodes
        for i, a in enumerate(n["audience_ids"])
    ]
    if filters:
        await session.execute(insert(FlowNodeAudience), filters)


async def nodes_with_filters(session: AsyncSession, flow: Flow) -> Sequence[Row[Any]]:
    """(public_id, role, name, [audience external ids]) in position order."""
    rows = await session.execute(
        text(
            """
            SELECT n.public_id, n.role, n.name,
                   coalesce(array_agg(a.external_id ORDER BY f.position)
                            FILTER (WHERE a.external_id IS NOT NULL), '{}') AS filters
            FROM flow_nodes n
            LEFT JOIN flow_node_audiences f ON f.account_id = n.account_id AND f.node_id = n.node_id
            LEFT JOIN audiences a ON a.account_id = f.account_id AND a.audience_id = f.audience_id
            WHERE n.account_id = :account_id AND n.flow_id = :flow_id
            GROUP BY n.account_id, n.node_id
            ORDER BY n.role DESC, n.position
            """
        ),
        {"account_id": flow.account_id, "flow_id": flow.flow_id},
    )
    return rows.all()


async def missing_filters(
    session: AsyncSession, flow: Flow, node_public_id: str, contact_id: int
) -> list[str] | None:
    """The node's filter audiences the contact is not in; None when the node is unknown."""
    row = (
        await session.execute(
            text(
                """
                SELECT coalesce(array_agg(a.external_id ORDER BY f.position)
                                FILTER (WHERE a.external_id IS NOT NULL AND m.contact_id IS NULL),
                                '{}')
                FROM flow_nodes n
                LEFT JOIN flow_node_audiences f
                       ON f.account_id = n.account_id AND f.node_id = n.node_id
                LEFT JOIN audiences a
                       ON a.account_id = f.account_id AND a.audience_id = f.audience_id
                LEFT JOIN audience_members m
                       ON m.account_id = f.account_id AND m.audience_id = f.audience_id
                      AND m.contact_id = :contact_id
                WHERE n.account_id = :account_id AND n.flow_id = :flow_id
                  AND n.public_id = :node
                GROUP BY n.account_id, n.node_id
                """
            ),
            {
                "account_id": flow.account_id,
                "flow_id": flow.flow_id,
                "node": node_public_id,
                "contact_id": contact_id,
            },
        )
    ).first()
    return None if row is None else list(row[0])


async def blocking_filters(
    session: AsyncSession, account_id: int, audience_id: int
) -> Sequence[Row[Any]]:
    """Every trigger or step that filters on the audience: (kind, flow id, flow name, role,
    node name)."""
    async with without_nested_loops(session):
        rows = await session.execute(
            text(
                """
                SELECT fl.kind, fl.public_id, fl.name, n.role, n.name AS node_name
                FROM flow_node_audiences f
                JOIN flow_nodes n ON n.account_id = f.account_id AND n.node_id = f.node_id
                JOIN flows fl ON fl.account_id = n.account_id AND fl.flow_id = n.flow_id
                WHERE f.account_id = :account_id AND f.audience_id = :audience_id
                ORDER BY fl.flow_id, n.role DESC, n.position
                """
            ),
            {"account_id": account_id, "audience_id": audience_id},
        )
    return rows.all()


async def list_flows(session: AsyncSession, account_id: int, kind: str) -> Sequence[Flow]:
    query = (
        select(Flow)
        .where(Flow.account_id == account_id, Flow.kind == kind)
        .order_by(Flow.flow_id.desc())
    )
    return (await session.scalars(query)).all()
