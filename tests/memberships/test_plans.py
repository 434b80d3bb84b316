"""Member statements on stale statistics: every join stays linear (tests/plans.py), whether
the tables were analyzed while the account was empty or never analyzed at all."""

import pytest
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from audiences.core.statements import driver_connection
from audiences.memberships import bulk_repository
from tests.conftest import Tenant
from tests.plans import StaleAccount, describe, explain, quadratic_joins, recorded_plans

API = "/integrationservice"


def ids(numbers: range, prefix: str = "c") -> bytes:
    return "".join(f"{prefix}{i}\n" for i in numbers).encode()


class TestBulkMemberPlans:
    async def test_an_import_with_unknown_ids_is_linear(
        self, connection: AsyncConnection, tenant: Tenant, stale: StaleAccount
    ):
        await tenant.client.post(f"{API}/audience", json={"externalId": "new", "name": "New"})
        for unknown in ("reject", "skip"):
            with recorded_plans(connection) as recorded:
                response = await tenant.client.post(
                    f"{API}/audience/new/contact/import",
                    params={"unknown": unknown},
                    content=ids(range(1, 20_001, 7)) + ids(range(30), "x"),
                    headers={"content-type": "text/plain"},
                )
            assert response.status_code in (200, 404), response.text
            assert recorded.of("upload_ids")

    async def test_a_small_import_into_a_big_audience_is_linear(
        self, connection: AsyncConnection, tenant: Tenant, stale: StaleAccount
    ):
        with recorded_plans(connection) as recorded:
            response = await tenant.client.post(
                f"{API}/audience/big/contact/import",
                content=ids(range(1, 40)),
                headers={"content-type": "text/plain"},
            )
        assert response.status_code == 200, response.text
        assert recorded.of("INSERT INTO audience_members")

    @pytest.mark.parametrize("dry_run", ["true", "false"])
    async def test_a_replace_is_linear(
        self, connection: AsyncConnection, tenant: Tenant, stale: StaleAccount, dry_run: str
    ):
        with recorded_plans(connection) as recorded:
            response = await tenant.client.put(
                f"{API}/audience/big/contact",
                params={"dryRun": dry_run},
                content=ids(range(2000, 20_001)),
                headers={"content-type": "text/plain"},
            )
        assert response.status_code == 200, response.text
        assert response.json()["removed"] == 1999
        assert recorded.of("replace_ids")

    async def test_a_removal_and_an_add_are_linear(
        self, connection: AsyncConnection, tenant: Tenant, stale: StaleAccount
    ):
        with recorded_plans(connection, single_rows=frozenset({"a"})) as recorded:
            response = await tenant.client.request(
                "DELETE", f"{API}/audience/big/contact", json={"contacts": ["c1", "c2"]}
            )
            assert response.status_code == 204, response.text
            response = await tenant.client.post(
                f"{API}/audience/big/contact", json={"contacts": ["c1", "c2"]}
            )
            assert response.status_code == 204, response.text
        assert recorded.of("DELETE FROM audience_members")

    async def test_emptying_and_listing_are_linear(
        self, connection: AsyncConnection, tenant: Tenant, stale: StaleAccount
    ):
        with recorded_plans(connection) as recorded:
            response = await tenant.client.get(
                f"{API}/audience/big/contact", params={"after": 5, "pageSize": 100}
            )
            assert response.status_code == 200, response.text
            assert len(response.json()["contacts"]) == 100
            response = await tenant.client.delete(f"{API}/audience/big/contact")
            assert response.status_code in (200, 204), response.text
        assert recorded.of("audience_members")

    async def test_the_export_is_linear(
        self, session: AsyncSession, tenant: Tenant, stale: StaleAccount
    ):
        # The export runs on a connection of its own (which cannot see the test's rows), so
        # its statement is planned here with the settings begin_export gives its transaction.
        driver = await driver_connection(session)
        await driver.execute(bulk_repository.EXPORT_SETTINGS, {"ms": "1000"})
        statement = (
            bulk_repository.export_query(True).split("COPY (", 1)[1].rsplit(") TO STDOUT", 1)[0]
        )
        plan = await explain(
            session,
            statement.replace("%(account_id)s", ":account_id").replace(
                "%(audience_id)s", ":audience_id"
            ),
            {"account_id": stale.account_id, "audience_id": stale.audience_id},
        )
        assert not quadratic_joins(plan), describe(plan)
