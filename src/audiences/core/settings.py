"""Settings, read from the environment (prefix `AUDIENCES_`) only when asked for."""

from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit

import platformdirs
from fastapi import Depends, Request
from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PRODUCTS = ("professional", "automation", "ecommerce")


def default_data_dir() -> Path:
    return Path(platformdirs.user_data_dir("audiences", appauthor=False))


class Settings(BaseSettings):
    """Everything the service can be told; see the README's settings table."""

    model_config = SettingsConfigDict(env_prefix="AUDIENCES_", extra="ignore")

    database_url: str | None = None
    data_dir: Path = Field(default_factory=default_data_dir)
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1
    secret_key: str | None = None

    bootstrap_key: str | None = None
    bootstrap_secret: str | None = None
    bootstrap_products: str = "automation"

    max_audiences_per_account: int = 1000
    max_batch_ids: int = 2500
    max_upload_lines: int = 20_000_000
    # Uploads of one account at once (across every worker), how long a further upload waits
    # for one of them to finish before it is refused (429), and how long an upload may send
    # nothing before it is abandoned (408, rolled back).
    max_concurrent_uploads_per_account: int = 2
    upload_slot_wait: float = 10.0
    upload_idle_timeout: float = 30.0
    max_json_body_bytes: int = 10 * 1024 * 1024
    # A request's line and headers together; past it, 431 before the head is held whole.
    max_header_bytes: int = 64 * 1024
    oauth_timestamp_window: int = 300
    # Failed Basic sign-ins allowed per consumer key and per client address in one window.
    basic_auth_max_failures: int = 10
    basic_auth_failure_window: int = 300
    # Requests a minute per consumer key, shared by every worker; 0 turns the limit off.
    rate_limit_per_minute: int = 0
    trust_proxy: bool = False
    # Where clients reach the service (scheme, host, any path prefix a proxy adds): links the
    # service hands out (`paging.next`) start with it. Unset, they are relative (a path), never
    # built from a Host header a client chose.
    public_url: str | None = None
    # Send the console's session cookie over HTTPS only (set it when served over TLS).
    console_secure_cookie: bool = False
    # Connections per worker: the request pool, and the auth pool. Every request holds an auth
    # connection for its credential look-up, and the membership check does all its work on it:
    # a smaller auth pool than the request pool queues the hottest read (with 8, a saturated
    # check's p99 was 200 to 600 ms; with 20, about the `SELECT 1` baseline's). Overflow
    # connections are closed after use, and opening one costs more than waiting a little for
    # a pooled one, so the pools do not overflow by default.
    db_pool_size: int = 20
    db_max_overflow: int = 0
    db_auth_pool_size: int = 20
    # Uploads and exports hold a connection for as long as the client sends or reads: they
    # have pools of their own, so that slow ones never take the connections others need.
    db_upload_pool_size: int = 4
    db_export_pool_size: int = 4
    # Exports of one account at once (across every worker); how long a client may leave a
    # chunk of an export unread before it is cut off; how long its query may run.
    max_concurrent_exports_per_account: int = 2
    export_send_timeout: float = 60.0
    export_statement_timeout_ms: int = 600_000
    db_pool_timeout: float = 5.0
    # A streaming replica for exports and member listings (reads that may lag), used while it
    # is up and at most `read_replica_max_lag` seconds behind; checked every interval.
    read_replica_url: str | None = None
    read_replica_max_lag: float = 10.0
    read_replica_check_interval: float = 1.0
    db_statement_timeout_ms: int = 0
    # Behind PgBouncer in transaction pooling mode, consecutive transactions of one client
    # connection may run on different server connections: nothing may outlive a transaction.
    # Set it, and no statement is prepared on the server, and no session setting is sent (no
    # startup options, no SET on connect: set them on the database role, docs/scaling.md).
    db_transaction_pooling: bool = False
    log_level: str = "INFO"
    # Set by `audiences serve --ephemeral` (a throwaway database): mounts the /testing calls
    # (accounts, reset, injected faults), which exist nowhere else.
    ephemeral: bool = False

    @field_validator("bootstrap_products")
    @classmethod
    def _known_products(cls, value: str) -> str:
        products = parse_products(value)
        return ",".join(products)

    @field_validator("public_url")
    @classmethod
    def _absolute_url(cls, value: str | None) -> str | None:
        if not value:
            return None
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.query:
            raise ValueError("must be an http(s) URL such as https://api.example.com")
        return value.rstrip("/")

    @property
    def embedded(self) -> bool:
        return not self.database_url


def parse_products(value: str) -> list[str]:
    """A comma list of products, each one of PRODUCTS."""
    products = [p.strip().lower() for p in value.split(",") if p.strip()]
    unknown = [p for p in products if p not in PRODUCTS]
    if unknown:
        raise ValueError(
            f"unknown product(s) {', '.join(unknown)}; choose from {', '.join(PRODUCTS)}"
        )
    if not products:
        raise ValueError("at least one product is required")
    return products


MIN_SECRET_KEY_LENGTH = 32
# Strings that this project's compose file, README or docs have shown as a server key: anyone
# can read them, so a server started with one protects nothing.
PUBLISHED_SECRET_KEYS = frozenset(
    {
        "change-me-to-a-long-random-string",
        "<a long random string>",
        "a long random string",
        "set audiences_secret_key to a long random string",
        "any long random string",
    }
)
_PLACEHOLDER_WORDS = ("change-me", "changeme", "change_me", "replace-me", "your-secret")


def secret_key_problem(value: str | None) -> str | None:
    """Why a server key cannot be used (None when it can): it is unset, shorter than 32
    characters, a string this project has published, a placeholder, or a few characters
    repeated. It encrypts the consumer secrets and guards the console's sessions."""
    advice = (
        "make one with `python3 -c 'import secrets; print(secrets.token_urlsafe(32))'` and keep it"
    )
    if not value:
        return f"AUDIENCES_SECRET_KEY is not set (it encrypts consumer secrets); {advice}"
    folded = value.strip().lower()
    if len(value) < MIN_SECRET_KEY_LENGTH:
        return (
            f"AUDIENCES_SECRET_KEY is {len(value)} characters; it must be at least "
            f"{MIN_SECRET_KEY_LENGTH} characters of random text: {advice}"
        )
    if folded in PUBLISHED_SECRET_KEYS or any(word in folded for word in _PLACEHOLDER_WORDS):
        return f"AUDIENCES_SECRET_KEY is a published placeholder, not a secret: {advice}"
    if len(set(value)) < 10:
        return f"AUDIENCES_SECRET_KEY repeats a few characters; it must be random: {advice}"
    return None


def app_settings(request: Request) -> Settings:
    """The settings the application was made with."""
    settings: Settings = request.app.state.settings
    return settings


async def _settings_dependency(request: Request) -> Settings:
    # A dependency declared `async def`: FastAPI runs a plain `def` one in a thread of the pool,
    # and that hop on every request showed as checks stalled for up to 2 s under load.
    return app_settings(request)


SettingsDep = Annotated[Settings, Depends(_settings_dependency)]
