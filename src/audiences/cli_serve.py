"""`audiences serve`: apply the migrations and serve; with `--ephemeral`, on a throwaway
database removed when the process ends, for other teams' CI."""

import contextlib
import importlib
import json
import os
import signal
import socket
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from sqlalchemy.engine import make_url

from audiences.accounts import service as accounts_service
from audiences.accounts.errors import BootstrapRefused
from audiences.accounts.service import IssuedCredential
from audiences.cli_support import (
    console,
    describe_database,
    errors,
    fail,
    in_transaction,
    one_line_errors,
    resolved_settings,
    secret_box,
    show_credential,
)
from audiences.core import ephemeral as ephemeral_db
from audiences.core import migrate, server
from audiences.core.credentials import SecretBox, new_server_key
from audiences.core.logs import LOG_FORMAT_ENV, configure_logging
from audiences.core.settings import PRODUCTS, Settings, parse_products


class LogFormat(StrEnum):
    auto = "auto"
    human = "human"
    json = "json"


def _bootstrap(settings: Settings, box: SecretBox, embedded: bool) -> IssuedCredential | None:
    """Applies the bootstrap credential, and on a first embedded start makes a development
    account whose credential is returned for printing."""
    if bool(settings.bootstrap_key) != bool(settings.bootstrap_secret):
        fail("Set both AUDIENCES_BOOTSTRAP_KEY and AUDIENCES_BOOTSTRAP_SECRET.", code=2)

    async def work(session: Any) -> IssuedCredential | None:
        if settings.bootstrap_key and settings.bootstrap_secret:
            try:
                await accounts_service.ensure_credential(
                    session,
                    box,
                    settings.bootstrap_key,
                    settings.bootstrap_secret,
                    parse_products(settings.bootstrap_products),
                )
            except BootstrapRefused as refused:
                # The service still starts for every other account; this one stays refused.
                errors.print(f"[yellow]{refused.message}[/yellow]")
        if embedded:
            return await accounts_service.ensure_development_account(session, box)
        return None

    return in_transaction(settings, work)


def _check_port(host: str, port: int) -> None:
    """Fails with one line when the address cannot be listened on (before anything is
    printed or started); a plain socket, which another server's shared port also refuses."""
    with contextlib.closing(_listener(host, port, workers=1)):
        pass


def _listener(host: str, port: int, workers: int) -> socket.socket:
    """The server's socket bound to the address (port 0: a free port, known before the server
    starts), or one line and exit."""
    try:
        return server.bind(host, port, workers)
    except OSError as exc:
        reason = (
            "the port is already in use (is another `audiences serve` running?); "
            "stop it or choose another port with --port"
            if exc.errno == 98
            else exc.strerror
        )
        fail(f"Cannot listen on {host}:{port}: {reason}.")


@contextlib.contextmanager
def _ephemeral_database(settings: Settings) -> Iterator[tuple[Settings, str]]:
    """A throwaway database for the settings (embedded, or on the configured server), with a
    server key of its own unless one is set; removed when the block ends, however it ends.
    Exported, so server workers see the same settings."""
    made = _start_ephemeral(settings.database_url)
    try:
        key = settings.secret_key or new_server_key()
        settings = settings.model_copy(
            update={"database_url": made.url, "secret_key": key, "ephemeral": True}
        )
        os.environ.update(
            AUDIENCES_DATABASE_URL=made.url, AUDIENCES_SECRET_KEY=key, AUDIENCES_EPHEMERAL="1"
        )
        yield settings, made.data_dir
    finally:
        made.remove()


def _start_ephemeral(server_url: str | None) -> ephemeral_db.Ephemeral:
    """The throwaway database, started while this process imports the application (which the
    server does next): the two take about as long, and the database mostly waits on programs
    (a copy, pg_ctl), so a start takes the longer of the two instead of both."""
    with ThreadPoolExecutor(1, "ephemeral-start") as pool:
        if server_url:
            future = pool.submit(ephemeral_db.start_database_ephemeral, server_url)
        else:
            future = pool.submit(ephemeral_db.start_embedded_ephemeral)
        try:
            importlib.import_module(server.APP.partition(":")[0])
            return future.result()
        except BaseException:
            # A stop (SIGTERM) while the database starts: it is removed once it is made.
            with contextlib.suppress(Exception):
                future.result().remove()
            raise


def _ephemeral_credential(settings: Settings, box: SecretBox) -> tuple[str, str]:
    """The bootstrap credential when one is set, otherwise a new account's with every
    product."""
    _bootstrap(settings, box, embedded=False)
    if settings.bootstrap_key and settings.bootstrap_secret:
        return settings.bootstrap_key, settings.bootstrap_secret
    issued = in_transaction(
        settings,
        lambda s: accounts_service.create_account(s, box, "Ephemeral", list(PRODUCTS)),
    )
    return issued.consumer_key, issued.consumer_secret


def write_ready_file(path: Path, content: dict[str, Any]) -> None:
    """Written whole or not at all: a reader never sees half of it."""
    partial = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    partial.write_text(json.dumps(content) + "\n")
    os.replace(partial, path)


def _announce_when_ready(base: str, ready_file: Path, content: dict[str, Any]) -> None:
    """Writes the ready file once the server answers /healthz (from a thread: the server runs
    in this one)."""

    def wait() -> None:
        while True:
            try:
                with urllib.request.urlopen(f"{base}/healthz", timeout=2) as answer:  # noqa: S310
                    if answer.status == 200:
                        break
            except OSError:
                pass
            time.sleep(0.02)
        write_ready_file(ready_file, content)

    threading.Thread(target=wait, name="ready-file", daemon=True).start()


@one_line_errors
def serve(
    host: Annotated[str | None, typer.Option(help="Address to listen on.")] = None,
    port: Annotated[
        int | None, typer.Option(help="Port to listen on (0: a free one; see --ready-file).")
    ] = None,
    workers: Annotated[int | None, typer.Option(help="Worker processes.")] = None,
    log_format: Annotated[
        LogFormat | None,
        typer.Option(
            "--log-format",
            help="human (readable lines), json (a JSON object a line) or auto: human on a "
            "terminal, JSON otherwise (AUDIENCES_LOG_FORMAT).",
            show_default=False,
        ),
    ] = None,
    ephemeral: Annotated[
        bool,
        typer.Option(
            "--ephemeral",
            envvar="AUDIENCES_EPHEMERAL",
            help="A throwaway database (an embedded PostgreSQL in a temporary folder, or a "
            "new database on AUDIENCES_DATABASE_URL's server) removed on exit, and the "
            "/testing calls: a Spotler stand-in for CI.",
        ),
    ] = False,
    ready_file: Annotated[
        Path | None,
        typer.Option(
            "--ready-file",
            help='Once the service answers, write {"url", "consumerKey", "consumerSecret", '
            '"dataDir"} to this file (atomically); removed on exit.',
            dir_okay=False,
        ),
    ] = None,
) -> None:
    """Apply migrations, then serve the API (on an embedded PostgreSQL when no database URL
    is set)."""
    # uvicorn re-raises SIGTERM after its graceful shutdown; exiting through SystemExit instead
    # runs the `finally` blocks and exit handlers, which stop the embedded PostgreSQL and
    # remove an ephemeral database. Set first: a stop during start-up cleans up too.
    signal.signal(signal.SIGTERM, _exit_on_signal)
    if ready_file is not None:
        if not ready_file.parent.is_dir():
            fail(f"--ready-file {ready_file}: no folder {ready_file.parent}.", code=2)
        # A previous run's file must not announce this one.
        ready_file.unlink(missing_ok=True)
    if log_format is not None:
        # Exported: the workers log the same way.
        os.environ[LOG_FORMAT_ENV] = log_format.value
    base_settings = Settings()
    configure_logging(base_settings.log_level)
    host = host or base_settings.host
    port = base_settings.port if port is None else port
    workers = workers or base_settings.workers
    if port != 0:
        _check_port(host, port)
    # Bound now when its port is to be known, or when the workers share it by SO_REUSEPORT
    # (which another of our servers on the port would accept: the check above would not).
    listener = _listener(host, port, workers) if port == 0 or workers > 1 else None
    if listener is not None:
        port = int(listener.getsockname()[1])
    everywhere = host in ("0.0.0.0", "::")  # noqa: S104
    shown_host = "127.0.0.1" if everywhere else host
    base = f"http://{shown_host}:{port}"
    if not base_settings.public_url and not everywhere:
        # `paging.next` links are absolute under the address served (exported: the workers
        # read it); on every interface the public address is unknown, and they are relative.
        os.environ["AUDIENCES_PUBLIC_URL"] = base
    with contextlib.ExitStack() as stack:
        if listener is not None:
            stack.enter_context(listener)
        if ready_file is not None:
            stack.callback(ready_file.unlink, missing_ok=True)
        if ephemeral:
            settings, data_dir = stack.enter_context(_ephemeral_database(base_settings))
            key, secret = _ephemeral_credential(settings, secret_box(settings))
            console.print(f"Database: ephemeral, {data_dir} (removed on exit)")
            console.print(
                f"Credential: consumer key [bold]{escape(key)}[/bold], "
                f"secret [bold]{escape(secret)}[/bold]"
            )
            ready: dict[str, Any] = {"consumerKey": key, "consumerSecret": secret}
        else:
            settings, data_dir, ready = _persistent()
        console.print(f"API:  {base}/integrationservice  (also {base}/integrationservice-1.1.0)")
        console.print(f"Docs: {base}/docs")
        console.print(f"Console: {base}/console/")
        if ready_file is not None:
            _announce_when_ready(base, ready_file, {"url": base, **ready, "dataDir": data_dir})
        server.serve(
            host,
            port,
            workers,
            settings.trust_proxy,
            settings.log_level,
            listener,
        )


def _persistent() -> tuple[Settings, str, dict[str, Any]]:
    """The configured (or the embedded) database, migrated and bootstrapped; what the ready
    file says of it."""
    settings, embedded = resolved_settings(create=True)
    box = secret_box(settings)
    assert settings.database_url
    migrate.upgrade(settings.database_url)
    development = _bootstrap(settings, box, embedded)
    console.print(f"Database: {describe_database(settings, embedded)}")
    if development is not None:
        console.print("A development account was created:")
        show_credential(development, as_json=False)
    credential = (
        (settings.bootstrap_key, settings.bootstrap_secret)
        if settings.bootstrap_key
        else (development.consumer_key, development.consumer_secret)
        if development is not None
        else (None, None)
    )
    data_dir = str(settings.data_dir) if embedded else str(make_url(settings.database_url).database)
    return settings, data_dir, {"consumerKey": credential[0], "consumerSecret": credential[1]}


def _exit_on_signal(signum: int, _frame: object) -> None:
    sys.exit(128 + signum)
