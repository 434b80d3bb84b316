"""The vendor's /audience calls: statuses, error types and messages, on both base paths."""

import time

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from audiences.audiences.models import Audience
from tests.conftest import Tenant, make_tenant
from tests.factories import add_members, make_audience, make_contacts


class TestCreateAudience:
    async def test_answers_the_audience_with_dates_in_epoch_ms(self, tenant: Tenant, base: str):
        before = int(time.time() * 1000) - 1000
        response = await tenant.client.post(
            f"{base}/audience",
            json={"externalId": "top-100", "name": "Top 100", "description": "Best customers"},
        )
        assert response.status_code == 200
        body = response.json()
        assert body["externalId"] == "top-100"
        assert body["name"] == "Top 100"
        assert body["description"] == "Best customers"
        assert before <= body["createDate"] <= int(time.time() * 1000) + 1000
        assert body["changeDate"] == body["createDate"]
        assert body["lastContactAddedAt"] is None
        assert body["lastContactRemovedAt"] is None
        assert body["lastSyncDate"] is None

    async def test_description_is_optional(self, tenant: Tenant, base: str):
        response = await tenant.client.post(
            f"{base}/audience", json={"externalId": "a", "name": "A"}
        )
        assert response.status_code == 200
        assert response.json()["description"] is None

    @pytest.mark.parametrize(
        ("body", "message"),
        [
            (
                {"externalId": "a", "name": ""},
                "Audience name can not be empty or more than 255 characters",
            ),
            (
                {"externalId": "a", "name": "   "},
                "Audience name can not be empty or more than 255 characters",
            ),
            ({"externalId": "a"}, "Audience name can not be empty or more than 255 characters"),
            (
                {"externalId": "a", "name": "n" * 256},
                "Audience name can not be empty or more than 255 characters",
            ),
            (
                {"externalId": "", "name": "A"},
                "Audience id can not be empty or more than 255 characters",
            ),
            ({"name": "A"}, "Audience id can not be empty or more than 255 characters"),
            (
                {"externalId": "i" * 256, "name": "A"},
                "Audience id can not be empty or more than 255 characters",
            ),
            (
                {"externalId": "a/b", "name": "A"},
                "Audience id can not contain '/' or control characters",
            ),
            (
                {"externalId": "a\nb", "name": "A"},
                "Audience id can not contain '/' or control characters",
            ),
            (
                {"externalId": "a\x00b", "name": "A"},
                "Audience id can not contain '/' or control characters",
            ),
            (
                {"externalId": "a", "name": "A\x00"},
                "Audience name can not contain control characters",
            ),
            (
                {"externalId": ".", "name": "A"},
                "Audience id can not be '.' or '..': clients cannot put them in a path",
            ),
            (
                {"externalId": "..", "name": "A"},
                "Audience id can not be '.' or '..': clients cannot put them in a path",
            ),
        ],
    )
    async def test_refuses_invalid_ids_and_names_with_417(
        self, tenant: Tenant, base: str, body: dict[str, str], message: str
    ):
        response = await tenant.client.post(f"{base}/audience", json=body)
        assert response.status_code == 417
        assert response.json() == {"errorType": "INVALID_PARAMS", "message": message}

    async def test_accepts_255_characters(self, tenant: Tenant, base: str):
        response = await tenant.client.post(
            f"{base}/audience", json={"externalId": "i" * 255, "name": "n" * 255}
        )
        assert response.status_code == 200

    async def test_refuses_a_name_in_use_whatever_its_case(self, tenant: Tenant, base: str):
        await make_audience(tenant.client, "a", "Top Customers", base=base)
        response = await tenant.client.post(
            f"{base}/audience", json={"externalId": "b", "name": "TOP customers"}
        )
        assert response.status_code == 417
        assert response.json() == {
            "errorType": "NAME_ALREADY_IN_USE",
            "message": "Audience name must be unique",
        }

    async def test_refuses_an_id_in_use(self, tenant: Tenant, base: str):
        await make_audience(tenant.client, "a", "First", base=base)
        response = await tenant.client.post(
            f"{base}/audience", json={"externalId": "a", "name": "Second"}
        )
        assert response.status_code == 417
        assert response.json() == {
            "errorType": "ID_NOTUNIQUE",
            "message": "Audience id must be unique",
        }

    async def test_ids_are_case_sensitive(self, tenant: Tenant, base: str):
        await make_audience(tenant.client, "abc", "First", base=base)
        response = await tenant.client.post(
            f"{base}/audience", json={"externalId": "ABC", "name": "Second"}
        )
        assert response.status_code == 200

    async def test_refuses_beyond_the_per_account_limit(self, tenant: Tenant, base: str, app):
        app.state.settings = app.state.settings.model_copy(update={"max_audiences_per_account": 2})
        await make_audience(tenant.client, "a", base=base)
        await make_audience(tenant.client, "b", base=base)
        response = await tenant.client.post(
            f"{base}/audience", json={"externalId": "c", "name": "C"}
        )
        assert response.status_code == 417
        assert response.json()["message"] == "Maximum of audiences exceeded"

    async def test_wrong_types_are_a_400_naming_the_field(self, tenant: Tenant, base: str):
        # A number is taken as a string (as the vendor does); a list is not a name.
        response = await tenant.client.post(
            f"{base}/audience", json={"externalId": "a", "name": ["A"]}
        )
        assert response.status_code == 400
        assert response.json()["errorType"] == "INVALID_PARAMS"
        assert "name" in response.json()["message"]

    async def test_malformed_json_is_a_400(self, tenant: Tenant, base: str):
        response = await tenant.client.post(
            f"{base}/audience", content=b"{nope", headers={"content-type": "application/json"}
        )
        assert response.status_code == 400
        assert response.json()["errorType"] == "INVALID_PARAMS"
        assert "Malformed JSON" in response.json()["message"]


class TestGetAudience:
    async def test_answers_the_audience(self, tenant: Tenant, base: str):
        created = await make_audience(tenant.client, "a", "A", base=base, description="d")
        response = await tenant.client.get(f"{base}/audience/a")
        assert response.status_code == 200
        assert response.json() == created

    async def test_unknown_is_404(self, tenant: Tenant, base: str):
        response = await tenant.client.get(f"{base}/audience/nope")
        assert response.status_code == 404
        assert response.json() == {
            "errorType": "RESOURCE_NOT_FOUND",
            "message": "Audience not found",
        }

    async def test_ids_with_spaces_and_unicode_round_trip(self, tenant: Tenant, base: str):
        await make_audience(tenant.client, "zomer 2026 \u2013 België", base=base)
        response = await tenant.client.get(f"{base}/audience/zomer 2026 \u2013 België")
        assert response.status_code == 200
        assert response.json()["externalId"] == "zomer 2026 \u2013 België"


class TestUpdateAudience:
    async def test_renames_and_answers_the_audience(self, tenant: Tenant, base: str):
        created = await make_audience(tenant.client, "a", "Old", base=base, description="d")
        response = await tenant.client.put(
            f"{base}/audience/a", json={"externalId": "a", "name": "New", "description": "e"}
        )
        assert response.status_code == 200
        body = response.json()
        assert body["name"] == "New"
        assert body["description"] == "e"
        assert body["createDate"] == created["createDate"]
        assert body["changeDate"] >= created["changeDate"]
        assert (await tenant.client.get(f"{base}/audience/a")).json()["name"] == "New"

    async def test_a_description_left_out_is_kept_and_null_clears_it(
        self, tenant: Tenant, base: str
    ):
        await make_audience(tenant.client, "a", "A", base=base, description="keep me")
        kept = await tenant.client.put(f"{base}/audience/a", json={"externalId": "a", "name": "B"})
        assert kept.json()["description"] == "keep me"
        cleared = await tenant.client.put(
            f"{base}/audience/a", json={"externalId": "a", "name": "B", "description": None}
        )
        assert cleared.json()["description"] is None

    async def test_path_and_body_ids_must_match(self, tenant: Tenant, base: str):
        await make_audience(tenant.client, "a", base=base)
        response = await tenant.client.put(
            f"{base}/audience/a", json={"externalId": "b", "name": "B"}
        )
        assert response.status_code == 400
        assert response.json() == {
            "errorType": "INVALID_PARAMS",
            "message": "Path id doesn't match audience id",
        }

    async def test_unknown_is_404(self, tenant: Tenant, base: str):
        response = await tenant.client.put(
            f"{base}/audience/x", json={"externalId": "x", "name": "X"}
        )
        assert response.status_code == 404
        assert response.json()["message"] == "Audience not found"

    async def test_refuses_a_name_of_another_audience(self, tenant: Tenant, base: str):
        await make_audience(tenant.client, "a", "Alpha", base=base)
        await make_audience(tenant.client, "b", "Beta", base=base)
        response = await tenant.client.put(
            f"{base}/audience/b", json={"externalId": "b", "name": "ALPHA"}
        )
        assert response.status_code == 417
        assert response.json()["errorType"] == "NAME_ALREADY_IN_USE"

    async def test_may_keep_or_recase_its_own_name(self, tenant: Tenant, base: str):
        await make_audience(tenant.client, "a", "Alpha", base=base)
        response = await tenant.client.put(
            f"{base}/audience/a", json={"externalId": "a", "name": "ALPHA"}
        )
        assert response.status_code == 200
        assert response.json()["name"] == "ALPHA"

    async def test_refuses_an_empty_name(self, tenant: Tenant, base: str):
        await make_audience(tenant.client, "a", base=base)
        response = await tenant.client.put(
            f"{base}/audience/a", json={"externalId": "a", "name": ""}
        )
        assert response.status_code == 417
        assert response.json()["errorType"] == "INVALID_PARAMS"


class TestDeleteAudience:
    async def test_deletes_with_204(self, tenant: Tenant, base: str):
        await make_audience(tenant.client, "a", base=base)
        response = await tenant.client.delete(f"{base}/audience/a")
        assert response.status_code == 204
        assert response.content == b""
        assert (await tenant.client.get(f"{base}/audience/a")).status_code == 404

    async def test_deletes_its_memberships_but_not_the_contacts(
        self, tenant: Tenant, base: str, session: AsyncSession
    ):
        await make_contacts(tenant.client, ["c1", "c2"], base=base)
        await make_audience(tenant.client, "a", base=base)
        await add_members(tenant.client, "a", ["c1", "c2"], base=base)
        assert (await tenant.client.delete(f"{base}/audience/a")).status_code == 204
        left = await session.scalar(
            text("SELECT count(*) FROM audience_members WHERE account_id = :a"),
            {"a": tenant.account_id},
        )
        assert left == 0
        assert (await tenant.client.get(f"{base}/contact/c1")).status_code == 200

    async def test_unknown_is_404(self, tenant: Tenant, base: str):
        response = await tenant.client.delete(f"{base}/audience/nope")
        assert response.status_code == 404
        assert response.json()["message"] == "Audience not found"

    async def test_the_id_and_name_can_be_used_again(self, tenant: Tenant, base: str):
        await make_audience(tenant.client, "a", "A", base=base)
        await tenant.client.delete(f"{base}/audience/a")
        response = await tenant.client.post(
            f"{base}/audience", json={"externalId": "a", "name": "A"}
        )
        assert response.status_code == 200


class TestProductGating:
    @pytest.mark.parametrize(
        ("method", "path", "body"),
        [
            ("POST", "/audience", {"externalId": "a", "name": "A"}),
            ("GET", "/audience/a", None),
            ("PUT", "/audience/a", {"externalId": "a", "name": "A"}),
            ("DELETE", "/audience/a", None),
            ("POST", "/audience/a/contact", {"contacts": ["c"]}),
            ("DELETE", "/audience/a/contact", None),
        ],
    )
    async def test_professional_only_accounts_get_403(
        self, session: AsyncSession, app, base: str, method: str, path: str, body: object
    ):
        tenant = await make_tenant(session, app, products=("professional",))
        async with tenant.client:
            response = await tenant.client.request(method, f"{base}{path}", json=body)
        assert response.status_code == 403
        assert response.json() == {
            "errorType": "PRODUCT_NOTFOUND",
            "message": "Only Automation or eCommerce products can use this call",
        }

    async def test_ecommerce_accounts_may_use_audiences(
        self, session: AsyncSession, app, base: str
    ):
        tenant = await make_tenant(session, app, products=("ecommerce",))
        async with tenant.client:
            response = await tenant.client.post(
                f"{base}/audience", json={"externalId": "a", "name": "A"}
            )
        assert response.status_code == 200

    async def test_professional_accounts_may_still_use_contacts(
        self, session: AsyncSession, app, base: str
    ):
        tenant = await make_tenant(session, app, products=("professional",))
        async with tenant.client:
            response = await tenant.client.get(f"{base}/contact/properties/list")
        assert response.status_code == 200


class TestTenancy:
    async def test_accounts_with_the_same_ids_never_see_each_other(
        self, tenant: Tenant, other_tenant: Tenant, base: str
    ):
        await make_contacts(tenant.client, ["c1"], base=base)
        await make_contacts(other_tenant.client, ["c1", "c2"], base=base)
        await make_audience(tenant.client, "same", "Same name", base=base)
        await make_audience(other_tenant.client, "same", "Same name", base=base)
        await add_members(tenant.client, "same", ["c1"], base=base)
        await add_members(other_tenant.client, "same", ["c1", "c2"], base=base)

        await tenant.client.put(
            f"{base}/audience/same", json={"externalId": "same", "name": "Mine"}
        )
        await tenant.client.delete(f"{base}/audience/same/contact")
        assert (await other_tenant.client.get(f"{base}/audience/same")).json()[
            "name"
        ] == "Same name"
        assert (await tenant.client.delete(f"{base}/audience/same")).status_code == 204
        assert (await other_tenant.client.get(f"{base}/audience/same")).status_code == 200

    async def test_another_accounts_audience_is_not_found(
        self, tenant: Tenant, other_tenant: Tenant, base: str
    ):
        await make_audience(tenant.client, "mine", base=base)
        for method, path in [("GET", "/audience/mine"), ("DELETE", "/audience/mine")]:
            response = await other_tenant.client.request(method, f"{base}{path}")
            assert response.status_code == 404
        response = await other_tenant.client.put(
            f"{base}/audience/mine", json={"externalId": "mine", "name": "Stolen"}
        )
        assert response.status_code == 404
        response = await other_tenant.client.post(
            f"{base}/audience/mine/contact", json={"contacts": []}
        )
        assert response.status_code == 404
        assert (await tenant.client.get(f"{base}/audience/mine")).status_code == 200


API = "/integrationservice"


class TestNameFolding:
    """One name is one name whatever its Unicode form or case, on every database."""

    @pytest.mark.parametrize(
        ("first", "second"),
        [
            ("Caf\u00e9", "Cafe\u0301"),
            ("Cafe\u0301", "CAF\u00c9"),
            ("Stra\u00dfe", "STRASSE"),
            ("\ufb01nance", "FINANCE"),
        ],
    )
    async def test_names_the_same_after_folding_are_taken(
        self, tenant: Tenant, first: str, second: str
    ):
        await make_audience(tenant.client, "a", first)
        created = await tenant.client.post(
            f"{API}/audience", json={"externalId": "b", "name": second}
        )
        assert created.status_code == 417
        assert created.json()["errorType"] == "NAME_ALREADY_IN_USE"
        await make_audience(tenant.client, "c", "Something else")
        renamed = await tenant.client.put(
            f"{API}/audience/c", json={"externalId": "c", "name": second}
        )
        assert renamed.status_code == 417
        assert renamed.json()["errorType"] == "NAME_ALREADY_IN_USE"

    async def test_an_audience_may_take_another_form_of_its_own_name(self, tenant: Tenant):
        await make_audience(tenant.client, "a", "Stra\u00dfe")
        renamed = await tenant.client.put(
            f"{API}/audience/a", json={"externalId": "a", "name": "STRASSE"}
        )
        assert renamed.status_code == 200
        assert renamed.json()["name"] == "STRASSE"

    async def test_the_database_refuses_a_second_audience_of_the_same_key(
        self, tenant: Tenant, session: AsyncSession
    ):
        session.add(Audience(account_id=tenant.account_id, external_id="x", name="Caf\u00e9"))
        session.add(Audience(account_id=tenant.account_id, external_id="y", name="Cafe\u0301"))
        with pytest.raises(IntegrityError, match="uq_audiences_account_id_name_key"):
            await session.flush()

    async def test_a_name_that_folds_past_the_index_limit_is_compared_by_its_digest(
        self, tenant: Tenant, session: AsyncSession
    ):
        # U+FDFA folds to eighteen characters: 255 of them are ~9 KB, past a btree entry.
        await make_audience(tenant.client, "a", "\ufdfa" * 255)
        await make_audience(tenant.client, "b", "\ufdfa" * 254 + "\ufdfb")
        again = await tenant.client.post(
            f"{API}/audience", json={"externalId": "c", "name": "\ufdfa" * 255}
        )
        assert again.status_code == 417
        assert again.json()["errorType"] == "NAME_ALREADY_IN_USE"
        key = await session.scalar(
            text("SELECT name_key FROM audiences WHERE account_id = :a AND external_id = 'a'"),
            {"a": tenant.account_id},
        )
        assert key.startswith("sha256:") and len(key) == 71
