"""A PgBouncer in transaction pooling mode (Debian's `pgbouncer`) in front of a PostgreSQL, for
the server-level tests that run the service through it as well as directly."""

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import make_url

PGBOUNCER = shutil.which("pgbouncer") or (
    "/usr/sbin/pgbouncer" if Path("/usr/sbin/pgbouncer").exists() else None
)
ROUTES = ("direct", "pgbouncer")
# The service's settings behind it (docs/scaling.md).
POOLING_ENV = {"AUDIENCES_DB_TRANSACTION_POOLING": "true"}

_CONFIG = """
[databases]
* = host={host} port={port}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {listen}
unix_socket_dir =
auth_type = trust
auth_file = {folder}/users.txt
pool_mode = transaction
max_client_conn = 1000
default_pool_size = 40
ignore_startup_parameters = extra_float_digits
query_wait_timeout = 5
server_login_retry = 1
server_connect_timeout = 3
logfile = {folder}/pgbouncer.log
pidfile = {folder}/pgbouncer.pid
"""


def require() -> str:
    """The pgbouncer binary; skips the test when it is not installed."""
    if PGBOUNCER is None:
        pytest.skip("pgbouncer is not installed (apt-get install -y pgbouncer; .ci/run does)")
    return PGBOUNCER


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def pgbouncer(server_url: str) -> Iterator[int]:
    """A PgBouncer in transaction pooling mode in front of the server of `server_url`, on a free
    port (answered); stopped at exit. Every database of the server is reachable through it."""
    binary = require()
    target = psycopg.conninfo.conninfo_to_dict(server_url)
    host, port = target.get("host") or "127.0.0.1", target.get("port") or 5432
    user = str(target.get("user") or "postgres")
    listen = _free_port()
    with tempfile.TemporaryDirectory(prefix="audiences-pgbouncer-") as name:
        folder = Path(name)
        (folder / "users.txt").write_text(f'"{user}" ""\n')
        (folder / "pgbouncer.ini").write_text(
            _CONFIG.format(host=host, port=port, listen=listen, folder=folder)
        )
        command = [binary, str(folder / "pgbouncer.ini")]
        if os.geteuid() == 0:
            # PgBouncer refuses to run as root: it runs as postgres, or, for a server on a Unix
            # socket (the embedded one), as the owner of the socket's folder.
            socket_folder = Path(str(host)) if str(host).startswith("/") else None
            owner = (
                pwd.getpwuid(socket_folder.stat().st_uid)
                if socket_folder is not None
                else pwd.getpwnam("postgres")
            )
            for path in (folder, *folder.iterdir()):
                os.chown(path, owner.pw_uid, owner.pw_gid)
            command += ["-u", owner.pw_name]
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        try:
            _wait_until_listening(listen, process, folder)
            yield listen
        except BaseException:
            # What PgBouncer saw, in the failed test's captured output.
            log = folder / "pgbouncer.log"
            print(log.read_text()[-5000:] if log.exists() else "no pgbouncer log")
            raise
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _wait_until_listening(port: int, process: subprocess.Popen[bytes], folder: Path) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if process.poll() is not None:
            log = folder / "pgbouncer.log"
            raise RuntimeError(f"pgbouncer exited:\n{log.read_text() if log.exists() else ''}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("pgbouncer did not listen")


def through(database_url: str, port: int) -> str:
    """The same database's URL through the PgBouncer listening on `port`."""
    url = make_url(database_url).set(host="127.0.0.1", port=port, query={})
    return url.render_as_string(hide_password=False)
