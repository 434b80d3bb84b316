"""Mailing recipients, deliveries and automailer runs on stale statistics: every join stays
linear (tests/plans.py)."""

from sqlalchemy.ext.asyncio import AsyncConnection

from tests.conftest import Tenant
from tests.factories import make_automailer, make_mailing, schedule
from tests.plans import StaleAccount, recorded_plans

API = "/integrationservice"


class TestAudienceWidePlans:
    async def test_recipients_counts_and_deliveries_are_linear(
        self, connection: AsyncConnection, tenant: Tenant, stale: StaleAccount
    ):
        mailing = await make_mailing(tenant.client, "big")
        mailing_url = f"{API}/mailing/{mailing['encryptedId']}"
        await schedule(tenant.client, mailing)
        with recorded_plans(connection, single_rows=frozenset({"a"})) as recorded:
            response = await tenant.client.get(
                f"{mailing_url}/recipients", params={"after": 10, "pageSize": 100}
            )
            assert response.status_code == 200, response.text
            assert len(response.json()["recipients"]) == 100
            response = await tenant.client.get(f"{mailing_url}/recipients/count")
            assert response.json() == {"count": stale.contacts}
            for step in ("start", "complete"):
                response = await tenant.client.post(f"{mailing_url}/{step}")
                assert response.status_code == 200, response.text
        assert recorded.of("INSERT INTO mailing_deliveries")

    async def test_automailer_runs_are_linear(
        self, connection: AsyncConnection, tenant: Tenant, stale: StaleAccount
    ):
        automailer = await make_automailer(tenant.client, "big", first="2000-01-01T00:00:00Z")
        url = f"{API}/automailer/{automailer['id']}"
        with recorded_plans(connection, single_rows=frozenset({"a"})) as recorded:
            response = await tenant.client.get(f"{url}/due", params={"at": "2098-01-01T00:00:00Z"})
            assert response.status_code == 200, response.text
            response = await tenant.client.post(f"{url}/runs", json={"at": "2098-01-01T00:00:00Z"})
            assert response.status_code == 200, response.text
        assert recorded.of("automailer_deliveries")

    async def test_the_deletion_guard_is_linear(
        self, connection: AsyncConnection, tenant: Tenant, stale: StaleAccount
    ):
        mailing = await make_mailing(tenant.client, "big")
        await schedule(tenant.client, mailing)
        await make_automailer(tenant.client, "big")
        with recorded_plans(connection) as recorded:
            response = await tenant.client.delete(f"{API}/audience/big")
            assert response.status_code == 417, response.text
            response = await tenant.client.post(f"{API}/mailing/{mailing['encryptedId']}/cancel")
            assert response.status_code == 200, response.text
        assert recorded.of("mailings")
