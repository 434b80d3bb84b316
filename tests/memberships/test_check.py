"""The membership check, the hottest read: its statement rides along with the credential
look-up (one round trip), and answers only for the signer's own account."""

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi.dependencies.models import Dependant
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from audiences.auth import repository as auth_repository
from audiences.core.statements import HotStatement
from audiences.memberships import bulk_repository
from audiences.memberships.router import router
from tests.conftest import Tenant, make_tenant
from tests.factories import add_members, make_audience, make_contacts
from tests.oauth import requests_oauthlib_header

HOST = "http://testserver"


@pytest.fixture
async def member(tenant: Tenant) -> Tenant:
    await make_contacts(tenant.client, ["c1", "c2"])
    await make_audience(tenant.client, "a")
    await add_members(tenant.client, "a", ["c1"])
    return tenant


@pytest.fixture
def no_second_statement(
    monkeypatch: pytest.MonkeyPatch, connection: AsyncConnection
) -> Iterator[list[str]]:
    """Fails the test if a check takes more than the credential look-up's one statement."""
    statements: list[str] = []
    first = HotStatement.first

    async def counted(self: HotStatement, *args: Any) -> Any:
        statements.append(self.sql)
        return await first(self, *args)

    def executed(*args: Any) -> None:
        statements.append(str(args[2]))

    monkeypatch.setattr(HotStatement, "first", counted)
    event.listen(connection.sync_engine, "before_cursor_execute", executed)
    yield statements
    event.remove(connection.sync_engine, "before_cursor_execute", executed)


async def signed_get(
    client: httpx.AsyncClient, tenant: Tenant, path: str, secret: str | None = None
) -> httpx.Response:
    url = f"{HOST}/integrationservice{path}"
    headers = requests_oauthlib_header("GET", url, tenant.key, secret or tenant.secret)
    return await client.get(url, headers=headers)


@pytest.mark.usefixtures("no_second_statement")
class TestOneRoundTrip:
    async def test_a_member_is_answered_from_the_credential_look_up(
        self, member: Tenant, anonymous: httpx.AsyncClient, no_second_statement: list[str]
    ):
        no_second_statement.clear()
        response = await signed_get(anonymous, member, "/audience/a/contact/c1")
        assert response.status_code == 200, response.text
        assert len(no_second_statement) == 1, no_second_statement
        body = response.json()
        assert body["externalId"] == "c1"
        assert body["email"] == "c1@example.com"
        assert body["addedAt"] > 0

    async def test_basic_authentication_rides_along_too(self, member: Tenant):
        response = await member.client.get("/integrationservice/audience/a/contact/c1")
        assert response.status_code == 200, response.text

    async def test_a_non_member_and_an_unknown_audience_are_404(
        self, member: Tenant, anonymous: httpx.AsyncClient
    ):
        stranger = await signed_get(anonymous, member, "/audience/a/contact/c2")
        assert stranger.status_code == 404
        assert stranger.json()["errorType"] == "CONTACT_NOT_FOUND"
        unknown_contact = await signed_get(anonymous, member, "/audience/a/contact/nobody")
        assert unknown_contact.status_code == 404
        assert unknown_contact.json()["errorType"] == "CONTACT_NOT_FOUND"
        unknown = await signed_get(anonymous, member, "/audience/zz/contact/c1")
        assert unknown.status_code == 404
        assert unknown.json()["message"] == "Audience not found"

    async def test_the_alias_base_path_works_too(
        self, member: Tenant, anonymous: httpx.AsyncClient
    ):
        url = f"{HOST}/integrationservice-1.1.0/audience/a/contact/c1"
        headers = requests_oauthlib_header("GET", url, member.key, member.secret)
        assert (await anonymous.get(url, headers=headers)).status_code == 200


class TestOnlyTheSignersAccount:
    async def test_a_wrong_signature_reveals_nothing(
        self, member: Tenant, anonymous: httpx.AsyncClient
    ):
        response = await signed_get(anonymous, member, "/audience/a/contact/c1", "not-the-secret")
        assert response.status_code == 401
        assert "c1" not in response.text

    async def test_another_account_with_the_same_ids_sees_its_own_audience(
        self,
        member: Tenant,
        other_tenant: Tenant,
        anonymous: httpx.AsyncClient,
    ):
        await make_contacts(other_tenant.client, ["c1"])
        await make_audience(other_tenant.client, "a")
        mine = await signed_get(anonymous, member, "/audience/a/contact/c1")
        theirs = await signed_get(anonymous, other_tenant, "/audience/a/contact/c1")
        assert mine.status_code == 200
        assert theirs.status_code == 404
        assert theirs.json()["errorType"] == "CONTACT_NOT_FOUND"

    async def test_an_account_without_the_product_is_refused(
        self, session: AsyncSession, app: Any, anonymous: httpx.AsyncClient
    ):
        basic_only = await make_tenant(session, app, products=("professional",), name="Pro")
        async with basic_only.client:
            response = await signed_get(anonymous, basic_only, "/audience/a/contact/c1")
        assert response.status_code == 403
        assert response.json()["errorType"] == "PRODUCT_NOTFOUND"

    async def test_a_replayed_check_is_refused(self, member: Tenant, anonymous: httpx.AsyncClient):
        url = f"{HOST}/integrationservice/audience/a/contact/c1"
        headers = requests_oauthlib_header("GET", url, member.key, member.secret)
        assert (await anonymous.get(url, headers=headers)).status_code == 200
        replay = await anonymous.get(url, headers=headers)
        assert replay.status_code == 401
        assert replay.json()["message"] == "OAuth nonce already used"


class TestRepository:
    async def test_the_membership_row_comes_with_the_credential(
        self, member: Tenant, connection: AsyncConnection
    ):
        params = bulk_repository.membership_params("a", "c1")
        found = await auth_repository.find_credential(
            connection,
            member.key,
            "a-nonce",
            query=bulk_repository.MEMBERSHIP_CHECK,
            extra_params=params,
        )
        assert found.credential is not None
        assert found.credential.account_id == member.account_id
        assert found.fresh
        membership = bulk_repository.membership_of(found.extra)
        assert membership is not None
        assert membership.external_id == "c1"
        assert membership.added_at is not None

    async def test_an_unknown_key_finds_no_membership(self, member: Tenant, connection):
        params = bulk_repository.membership_params("a", "c1")
        found = await auth_repository.find_credential(
            connection,
            "no-such-key",
            "a-nonce",
            query=bulk_repository.MEMBERSHIP_CHECK,
            extra_params=params,
        )
        assert found.credential is None
        assert bulk_repository.membership_of(found.extra) is None

    async def test_the_member_is_found_by_its_whole_key_whatever_the_statistics(
        self, member: Tenant, connection: AsyncConnection
    ):
        # A generic plan made while audience_members looks empty (never analyzed) must still
        # look the member up by account, audience and contact, not scan the audience.
        raw = await connection.get_raw_connection()
        driver: Any = raw.driver_connection
        params = {
            **bulk_repository.membership_params("a", "c1"),
            "consumer_key": member.key,
            "nonce": "plan",
        }
        async with driver.cursor() as cursor:
            await cursor.execute("SET LOCAL plan_cache_mode = force_generic_plan")
            await cursor.execute(
                "EXPLAIN (COSTS OFF) " + bulk_repository.MEMBERSHIP_CHECK.by_nonce.pyformat,
                params,
            )
            plan = "\n".join(row[0] for row in await cursor.fetchall())
        member_scan = plan[plan.index("audience_members") :]
        assert "Index Cond" in member_scan.split("\n")[1], plan
        assert "contact_id = ct.contact_id" in member_scan.split("\n")[1], plan


def test_the_check_resolves_two_dependencies():
    # FastAPI resolves each dependency of each request, level by level: the check has the
    # product check and its found row, and nothing else (its path's ids are declared by the
    # second, for the docs).
    (route,) = [r for r in router.routes if getattr(r, "name", None) == "check_member"]

    def names(dependant: Dependant) -> list[str]:
        found = []
        for sub in dependant.dependencies:
            found.append(getattr(sub.call, "__name__", "?"))
            found.extend(names(sub))
        return found

    assert sorted(names(route.dependant)) == ["checked_membership", "require_audience_product"]
