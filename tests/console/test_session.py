"""Console sessions are server-side records: the cookie holds only a random token; signing
out, revoking the key and disabling the account end the session; messages stay server-side."""

import base64
import hashlib
import json
import re
from datetime import UTC, datetime, timedelta

import httpx
import itsdangerous
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from audiences.accounts import service as accounts_service
from audiences.console.session import COOKIE
from tests.conftest import SECRET_KEY, Tenant
from tests.console.test_properties import csrf_of, sign_in


def session_cookie(http: httpx.AsyncClient) -> str:
    return http.cookies[COOKIE]


async def stored_sessions(session: AsyncSession, account_id: int) -> int:
    return int(
        await session.scalar(
            text("SELECT count(*) FROM console_sessions WHERE account_id = :a"), {"a": account_id}
        )
        or 0
    )


class TestTheCookie:
    async def test_holds_a_random_token_whose_hash_alone_is_stored(
        self, tenant: Tenant, http: httpx.AsyncClient, session: AsyncSession
    ):
        await sign_in(http, tenant)
        token = session_cookie(http)
        assert re.fullmatch(r"[A-Za-z0-9_-]{43}", token)  # nothing readable: no key, no JSON
        assert tenant.key not in token
        stored = await session.scalar(
            text("SELECT token_hash FROM console_sessions WHERE account_id = :a"),
            {"a": tenant.account_id},
        )
        assert bytes(stored) == hashlib.sha256(token.encode()).digest()

    async def test_a_token_made_up_by_a_visitor_signs_nobody_in(
        self, tenant: Tenant, http: httpx.AsyncClient
    ):
        await sign_in(http, tenant)
        http.cookies.clear()
        page = await http.get("/console/", headers={"cookie": f"{COOKIE}={'A' * 43}"})
        assert page.status_code == 303 and page.headers["location"].startswith("/console/login")

    async def test_a_cookie_signed_with_the_server_key_is_no_session(
        self, tenant: Tenant, http: httpx.AsyncClient
    ):
        """What the cookie used to be (a signed `{"key": ...}`): whoever knows the server key
        could forge it for any consumer key."""
        signer = itsdangerous.TimestampSigner(
            hashlib.sha256(b"console-session:" + SECRET_KEY.encode()).hexdigest()
        )
        forged = signer.sign(base64.b64encode(json.dumps({"key": tenant.key}).encode())).decode()
        page = await http.get("/console/", headers={"cookie": f"{COOKIE}={forged}"})
        assert page.status_code == 303 and page.headers["location"].startswith("/console/login")

    async def test_the_token_before_sign_in_is_never_the_session_s(
        self, tenant: Tenant, http: httpx.AsyncClient
    ):
        await http.get("/console/login")
        before = session_cookie(http)
        await sign_in(http, tenant)
        assert session_cookie(http) != before


class TestEndingASession:
    async def test_signing_in_again_ends_the_session_before(
        self, tenant: Tenant, http: httpx.AsyncClient, session: AsyncSession
    ):
        await sign_in(http, tenant)
        first = session_cookie(http)
        await sign_in(http, tenant)
        assert session_cookie(http) != first
        assert await stored_sessions(session, tenant.account_id) == 1

    async def test_signing_out_ends_it_even_for_a_copy_of_the_cookie(
        self, tenant: Tenant, http: httpx.AsyncClient, session: AsyncSession
    ):
        csrf = await sign_in(http, tenant)
        copy = session_cookie(http)
        out = await http.post("/console/logout", data={"csrf": csrf})
        assert out.status_code == 303
        assert await stored_sessions(session, tenant.account_id) == 0
        http.cookies.clear()
        replayed = await http.get("/console/", headers={"cookie": f"{COOKIE}={copy}"})
        assert replayed.status_code == 303
        assert replayed.headers["location"].startswith("/console/login")

    async def test_revoking_the_key_ends_its_sessions(
        self, tenant: Tenant, http: httpx.AsyncClient, session: AsyncSession
    ):
        await sign_in(http, tenant)
        assert await stored_sessions(session, tenant.account_id) == 1
        assert await accounts_service.revoke_key(session, tenant.key)
        assert await stored_sessions(session, tenant.account_id) == 0
        assert (await http.get("/console/")).status_code == 303

    async def test_disabling_the_account_ends_them_and_enabling_does_not_bring_them_back(
        self, tenant: Tenant, http: httpx.AsyncClient, session: AsyncSession
    ):
        await sign_in(http, tenant)
        await accounts_service.set_disabled(session, tenant.account_id, True)
        assert await stored_sessions(session, tenant.account_id) == 0
        await accounts_service.set_disabled(session, tenant.account_id, False)
        assert (await http.get("/console/")).status_code == 303

    async def test_an_expired_session_signs_in_again_and_is_purged(
        self, tenant: Tenant, http: httpx.AsyncClient, session: AsyncSession
    ):
        await sign_in(http, tenant)
        await session.execute(
            # now() is the test transaction's start, as the service sees it.
            text(
                "UPDATE console_sessions SET expires_at = now() - interval '1 second'"
                " WHERE account_id = :a"
            ),
            {"a": tenant.account_id},
        )
        assert (await http.get("/console/")).status_code == 303
        await accounts_service.purge_expired_sessions(await session.connection())
        assert await stored_sessions(session, tenant.account_id) == 0

    async def test_a_page_moves_the_expiry_but_not_past_the_lifetime(
        self, tenant: Tenant, http: httpx.AsyncClient, session: AsyncSession
    ):
        await sign_in(http, tenant)
        row = (
            await session.execute(
                text("SELECT created_at, expires_at FROM console_sessions WHERE account_id = :a"),
                {"a": tenant.account_id},
            )
        ).one()
        assert row.expires_at <= row.created_at + timedelta(hours=8)
        assert row.expires_at > datetime.now(UTC) + timedelta(minutes=100)


async def test_a_long_refusal_stays_server_side_and_the_cookie_stays_small(
    tenant: Tenant, http: httpx.AsyncClient
):
    await sign_in(http, tenant)
    page = await http.get("/console/")
    csrf = csrf_of(page.text)
    # Many refusals in a row (in a cookie they would pile up): each answer stays small.
    for _ in range(20):
        refused = await http.post(
            "/console/audiences/missing/delete", data={"csrf": csrf, "confirm_name": "x" * 5000}
        )
        assert refused.status_code == 303
        assert len(refused.headers.get("set-cookie", "")) < 200
    shown = await http.get("/console/")
    assert "no longer exists" in shown.text
    assert len(shown.headers.get("set-cookie", "")) < 200


async def test_console_pages_carry_the_browser_protections(tenant: Tenant, http: httpx.AsyncClient):
    for path in ("/console/login", "/console/static/console.css"):
        response = await http.get(path)
        csp = response.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
        assert "unsafe-inline" not in csp
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] == "same-origin"
    await sign_in(http, tenant)
    page = await http.get("/console/")
    assert "<script>" not in page.text and " style=" not in page.text  # nothing inline to allow
    assert "content-security-policy" not in (await http.get("/healthz")).headers
