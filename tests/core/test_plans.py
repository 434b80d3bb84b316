"""core/plans.py and the plan reader the plan tests use (tests/plans.py)."""

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from audiences.core.plans import without_nested_loops
from tests.plans import quadratic_joins


def scan(alias: str, **conditions: str) -> dict[str, object]:
    return {"Node Type": "Index Scan", "Relation Name": alias, "Alias": alias, **conditions}


def loop(outer: dict[str, object], inner: dict[str, object], **extra: str) -> dict[str, object]:
    return {
        "Node Type": "Nested Loop",
        "Plans": [
            {**outer, "Parent Relationship": "Outer"},
            {**inner, "Parent Relationship": "Inner"},
        ],
        **extra,
    }


class TestQuadraticJoins:
    def test_a_loop_that_looks_the_outer_row_up_is_linear(self):
        plan = loop(scan("s"), scan("c", **{"Index Cond": "(external_id = s.external_id)"}))
        assert quadratic_joins(plan) == []

    def test_a_loop_that_rescans_its_inner_side_is_quadratic(self):
        inner = {
            "Node Type": "Materialize",
            "Plans": [
                {**scan("c", **{"Index Cond": "(account_id = 1)"}), "Parent Relationship": "Outer"}
            ],
        }
        plan = loop(scan("s"), inner, **{"Join Filter": "(c.external_id = s.external_id)"})
        assert len(quadratic_joins(plan)) == 1

    def test_a_filter_on_the_outer_row_is_no_lookup(self):
        inner = scan("c", **{"Index Cond": "(account_id = 1)", "Filter": "(x = s.x)"})
        assert len(quadratic_joins(loop(scan("s"), inner))) == 1

    def test_a_single_row_outer_side_may_drive_a_scan(self):
        plan = loop(scan("a"), scan("m", **{"Index Cond": "(audience_id = 1)"}))
        assert quadratic_joins(plan, single_rows=frozenset({"a"})) == []


class TestWithoutNestedLoops:
    async def test_the_setting_holds_inside_only(self, session: AsyncSession):
        async with without_nested_loops(session):
            assert await session.scalar(text("SHOW enable_nestloop")) == "off"
        assert await session.scalar(text("SHOW enable_nestloop")) == "on"
