"""Plan shapes on stale statistics: EXPLAIN (FORMAT JSON) of a statement, the joins in it whose
work grows with the product of their inputs, and an account freshly filled after its tables
were last analyzed (as production runs, with autovacuum off).

A nested loop is linear when its inner side looks the outer row up (an index condition that
names the outer side); one that rescans its inner side for every outer row (a join filter over
a scan or a materialized set) multiplies the two sizes: on stale statistics that believe one
side has a row or two, it compares every staged row with every contact of the account."""

import json
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import TextClause, event, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

Plan = dict[str, Any]
_CONDITIONS = ("Index Cond", "Recheck Cond", "Hash Cond", "Merge Cond", "Filter", "Join Filter")
# Conditions by which an inner side looks the outer row up.
_LOOKUPS = ("Index Cond", "Recheck Cond", "TID Cond", "Function Call")


async def explain(
    session: AsyncSession | AsyncConnection,
    statement: str | TextClause,
    params: Mapping[str, Any] | None = None,
) -> Plan:
    """The plan PostgreSQL would run for the statement now (its top node)."""
    query = statement.text if isinstance(statement, TextClause) else statement
    result = await session.execute(text("EXPLAIN (FORMAT JSON) " + query), dict(params or {}))
    document = result.scalar_one()
    if isinstance(document, str):
        document = json.loads(document)
    plan: Plan = document[0]["Plan"]
    return plan


def nodes(plan: Plan) -> Iterator[Plan]:
    """Every node of the plan, the top first, subplans and CTEs included."""
    yield plan
    for child in plan.get("Plans", ()):
        yield from nodes(child)


def _aliases(plan: Plan) -> set[str]:
    return {n["Alias"] for n in nodes(plan) if "Alias" in n}


def _looks_up(plan: Plan, aliases: set[str]) -> bool:
    conditions = " ".join(str(n.get(k, "")) for n in nodes(plan) for k in _LOOKUPS)
    return any(re.search(rf"\b{re.escape(alias)}\.", conditions) for alias in aliases)


def describe(plan: Plan) -> str:
    """One line a node: its type, relation and conditions, indented by depth."""
    lines: list[str] = []

    def walk(node: Plan, depth: int) -> None:
        parts = [node["Node Type"], node.get("Join Type", ""), node.get("Relation Name", "")]
        conditions = [f"{k}: {node[k]}" for k in _CONDITIONS if k in node]
        lines.append("  " * depth + " ".join(p for p in parts if p) + " " + " ".join(conditions))
        for child in node.get("Plans", ()):
            walk(child, depth + 1)

    walk(plan, 0)
    return "\n".join(lines)


def quadratic_joins(plan: Plan, single_rows: frozenset[str] = frozenset()) -> list[str]:
    """The nested loops (and correlated subplans) that rescan their inner side for every outer
    row instead of looking it up; `single_rows` names aliases known to yield one row (a row
    read by its primary key), whose loops cost one pass."""
    found: list[str] = []
    for node in nodes(plan):
        if node["Node Type"] != "Nested Loop":
            continue
        outer = next(c for c in node["Plans"] if c.get("Parent Relationship") == "Outer")
        inner = next(c for c in node["Plans"] if c.get("Parent Relationship") == "Inner")
        outer_aliases = _aliases(outer)
        if outer_aliases and outer_aliases <= single_rows:
            continue
        if not outer_aliases and outer["Node Type"] in ("Result", "Aggregate"):
            continue  # a constant or a single aggregate row drives it
        if not _looks_up(inner, outer_aliases):
            found.append(describe(node))
    return found


async def forget_statistics(session: AsyncSession, *tables: str) -> None:
    """The tables look never analyzed, as after a fresh load with autovacuum off (until the
    test's transaction rolls back; needs a superuser, as the test server's is)."""
    for table in tables:
        params = {"table": table}
        await session.execute(
            text("DELETE FROM pg_statistic WHERE starelid = CAST(:table AS regclass)"), params
        )
        await session.execute(
            text(
                "UPDATE pg_class SET reltuples = -1, relpages = 0"
                " WHERE oid = CAST(:table AS regclass)"
            ),
            params,
        )


# Statements a plan is read for (not SET, ANALYZE, DDL, COPY, savepoints).
_PLANNED = re.compile(
    r"^\s*(SELECT|INSERT|UPDATE|DELETE|WITH|CREATE TEMP TABLE \w+ ON COMMIT DROP AS)\b", re.I
)


@dataclass
class Recorded:
    """The statements run through a connection, each with its plan, and those that were not
    linear (each refused before it ran: a cliff would otherwise run for minutes)."""

    plans: list[tuple[str, Plan]] = field(default_factory=list)
    quadratic: list[str] = field(default_factory=list)

    def of(self, fragment: str) -> list[Plan]:
        """The plans of the statements that contain `fragment`."""
        return [plan for statement, plan in self.plans if fragment in statement]


class Planned(Exception):
    """Raised instead of running the statement `recorded_plans` was told to stop at."""


@contextmanager
def recorded_plans(
    connection: AsyncConnection,
    single_rows: frozenset[str] = frozenset(),
    stop_at: str | None = None,
) -> Iterator[Recorded]:
    """Reads the plan of every statement run through the connection (by the code under test,
    as it runs it: with its settings and parameters) just before it runs; a statement with a
    quadratic join raises instead of running, and so does (with Planned) the first statement
    that contains `stop_at`, once its plan is read."""
    recorded = Recorded()
    sync = connection.sync_connection
    assert sync is not None

    def before(
        conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool
    ) -> None:
        if not _PLANNED.match(statement) or statement.lstrip().upper().startswith("EXPLAIN"):
            return
        if many and isinstance(parameters, list | tuple):
            parameters = parameters[0]  # a batch: every row runs the same plan as the first
        cursor.execute("EXPLAIN (FORMAT JSON) " + statement, parameters)
        document = cursor.fetchone()[0]
        plan: Plan = (json.loads(document) if isinstance(document, str) else document)[0]["Plan"]
        recorded.plans.append((statement, plan))
        found = quadratic_joins(plan, single_rows)
        if found:
            recorded.quadratic.append(statement + "\n" + describe(plan))
            raise AssertionError("quadratic plan:\n" + statement + "\n" + describe(plan))
        if stop_at is not None and stop_at in statement:
            raise Planned(statement)

    event.listen(sync, "before_cursor_execute", before)
    try:
        yield recorded
    finally:
        event.remove(sync, "before_cursor_execute", before)


@dataclass(frozen=True)
class StaleAccount:
    """An account whose contacts and members were added after the tables were analyzed."""

    account_id: int
    audience_id: int
    contacts: int


async def fill_after_analyze(
    session: AsyncSession,
    account_id: int,
    other_account_id: int,
    contacts: int = 20_000,
    *,
    never_analyzed: bool = False,
) -> StaleAccount:
    """Analyzes the tables while `account_id` holds no contact (and another account 2,000 in
    an audience), then gives it `contacts` contacts (c1...cN, every one reachable by e-mail
    with permission bit 1) and an audience 'big' holding them all, without analyzing again.
    With `never_analyzed`, the tables then look as if never analyzed at all."""
    properties = '{"permissions": [{"bit": 1, "enabled": true}]}'

    async def fill(account: int, prefix: str, first: int, last: int) -> None:
        await session.execute(
            text(
                """
                INSERT INTO contacts (account_id, external_id, encrypted_id, email, properties)
                SELECT :account, :prefix || i, 'e' || :prefix || i, :prefix || i || '@example.com',
                       CAST(:properties AS jsonb)
                FROM generate_series(CAST(:first AS int), :last) i
                """
            ),
            {
                "account": account,
                "prefix": prefix,
                "first": first,
                "last": last,
                "properties": properties,
            },
        )

    async def members(account: int, audience: int) -> None:
        await session.execute(
            text(
                """
                INSERT INTO audience_members (account_id, audience_id, contact_id)
                SELECT account_id, :audience, contact_id FROM contacts
                WHERE account_id = :account
                ON CONFLICT DO NOTHING
                """
            ),
            {"account": account, "audience": audience},
        )

    async def audience(account: int, name: str) -> int:
        return int(
            await session.scalar(
                text(
                    """
                    INSERT INTO audiences (account_id, external_id, name)
                    VALUES (:account, :name, :name) RETURNING audience_id
                    """
                ),
                {"account": account, "name": name},
            )
        )

    await fill(other_account_id, "o", 1, 2000)
    await members(other_account_id, await audience(other_account_id, "others"))
    big = await audience(account_id, "big")
    await session.execute(text("ANALYZE contacts, audience_members, audiences"))
    if never_analyzed:
        await forget_statistics(session, "contacts", "audience_members")
    await fill(account_id, "c", 1, contacts)
    await members(account_id, big)
    return StaleAccount(account_id, big, contacts)
