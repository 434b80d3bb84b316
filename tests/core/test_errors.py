"""One error envelope everywhere, a request id on every response, and commits before 2xx."""

import logging

import httpx
import pytest
from fastapi import APIRouter
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncSession

from audiences.app import create_app
from audiences.audiences import repository
from audiences.core.db import SessionDep
from tests.conftest import Tenant


class TestEnvelope:
    async def test_unknown_routes_are_404_in_the_envelope(self, tenant: Tenant):
        response = await tenant.client.get("/integrationservice/nothing/here")
        assert response.status_code == 404
        assert response.json()["errorType"] == "RESOURCE_NOT_FOUND"
        assert "detail" not in response.json()

    async def test_wrong_methods_are_405_in_the_envelope(self, tenant: Tenant):
        response = await tenant.client.patch("/integrationservice/audience/a")
        assert response.status_code == 405
        assert response.json()["errorType"] == "INVALID_PARAMS"
        assert "PATCH" in response.json()["message"]

    async def test_json_bodies_over_the_limit_are_413(self, tenant: Tenant, app):
        app.state.settings = app.state.settings.model_copy(update={"max_json_body_bytes": 100})
        body = {"externalId": "a", "name": "n" * 200}
        # The limit is read when the app is built, so build the check against a fresh app.
        small = create_app(app.state.settings, app.state.database)
        small.dependency_overrides = app.dependency_overrides
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=small, raise_app_exceptions=False),
            base_url="http://testserver",
            auth=tenant.auth,
        ) as client:
            response = await client.post("/integrationservice/audience", json=body)
            assert response.status_code == 413
            assert response.json()["errorType"] == "INVALID_PARAMS"

            async def chunks():  # type: ignore[no-untyped-def]
                yield b'{"externalId": "a", "name": "'
                yield b"n" * 200
                yield b'"}'

            streamed = await client.post(
                "/integrationservice/audience",
                content=chunks(),
                headers={"content-type": "application/json"},
            )
            assert streamed.status_code == 413

    async def test_a_body_that_is_not_an_object_is_a_400(self, tenant: Tenant):
        response = await tenant.client.post("/integrationservice/audience", json=["a"])
        assert response.status_code == 400
        assert response.json()["errorType"] == "INVALID_PARAMS"

    async def test_nul_in_a_path_is_a_400(self, tenant: Tenant):
        response = await tenant.client.get("/integrationservice/audience/a%00b")
        assert response.status_code == 400
        assert response.json()["errorType"] == "INVALID_PARAMS"

    async def test_unexpected_errors_are_500_with_a_logged_request_id(
        self, tenant: Tenant, app, caplog: pytest.LogCaptureFixture
    ):
        router = APIRouter()

        @router.get("/integrationservice/boom")
        async def boom() -> None:
            raise RuntimeError("SELECT secret FROM somewhere")

        app.include_router(router)
        with caplog.at_level(logging.ERROR):
            response = await tenant.client.get("/integrationservice/boom")
        assert response.status_code == 500
        body = response.json()
        assert body["errorType"] == "BACKEND_EXCEPTION"
        assert "SELECT" not in response.text
        assert body["requestId"] == response.headers["x-request-id"]
        assert any(body["requestId"] in r.getMessage() for r in caplog.records)


class TestRequestId:
    async def test_every_response_has_one(self, tenant: Tenant):
        first = await tenant.client.get("/integrationservice/audience/nope")
        second = await tenant.client.get("/healthz")
        assert len(first.headers["x-request-id"]) >= 16
        assert first.headers["x-request-id"] != second.headers["x-request-id"]

    async def test_a_plain_incoming_id_is_echoed_and_a_strange_one_replaced(self, tenant: Tenant):
        kept = await tenant.client.get("/healthz", headers={"X-Request-Id": "abc-123"})
        assert kept.headers["x-request-id"] == "abc-123"
        replaced = await tenant.client.get("/healthz", headers={"X-Request-Id": "a b\tc"})
        assert replaced.headers["x-request-id"] != "a b\tc"


class TestTransactions:
    async def test_a_failing_commit_never_answers_2xx(
        self, tenant: Tenant, session: AsyncSession, monkeypatch
    ):
        async def failing_commit(_self: AsyncSession) -> None:
            raise OperationalError("COMMIT", {}, Exception("connection lost"))

        # The request's own session (the app makes it), not the test's.
        monkeypatch.setattr(AsyncSession, "commit", failing_commit)
        response = await tenant.client.post(
            "/integrationservice/audience", json={"externalId": "a", "name": "A"}
        )
        assert response.status_code >= 500
        assert response.json()["errorType"] == "BACKEND_EXCEPTION"

    async def test_an_error_after_a_write_rolls_the_write_back(self, tenant: Tenant, app):
        router = APIRouter()

        @router.post("/integrationservice/write-then-fail")
        async def write_then_fail(session: SessionDep) -> None:
            await repository.insert_audience(session, tenant.account_id, "ghost", "Ghost", None)
            raise RuntimeError("after the write")

        app.include_router(router)
        assert (await tenant.client.post("/integrationservice/write-then-fail")).status_code == 500
        assert (await tenant.client.get("/integrationservice/audience/ghost")).status_code == 404


class TestHealth:
    async def test_healthz_and_readyz(self, http: httpx.AsyncClient):
        assert (await http.get("/healthz")).json() == {"status": "ok"}
        ready = await http.get("/readyz")
        assert ready.status_code == 200
        assert ready.json()["status"] == "ready"

    async def test_the_database_probe_runs_select_1_without_credentials(
        self, http: httpx.AsyncClient
    ):
        response = await http.get("/healthz/database")
        assert response.status_code == 200
        assert response.json() == {"status": "ok", "database": "ok"}
