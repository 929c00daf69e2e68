"""A throwaway PostgreSQL cluster from Debian's ``postgresql`` package (``initdb`` + ``pg_ctl`` in
a temporary folder, on a free port of 127.0.0.1 and a Unix socket in that folder), for the tests
(through the fixtures of tests/pg.py) and the benchmarks (bench/_postgres.py). No pytest here.

As root (CI), ``initdb`` refuses to run: the cluster then belongs to the ``postgres`` user (or
``nobody``) and its programs run through ``runuser``.
"""

from __future__ import annotations

import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
import uuid
from pathlib import Path

USER = "render"
PASSWORD = "pg-test-secret"
INSTALL_HINT = (
    "PostgreSQL's server programs (initdb, pg_ctl) were not found in /usr/lib/postgresql/*/bin: "
    "install Debian's postgresql package (apt-get install -y postgresql), or set "
    "RENDER_TEST_PG_BIN to the folder that holds them"
)


def find_bin_dir() -> Path | None:
    """The folder of ``initdb`` and ``pg_ctl``: $RENDER_TEST_PG_BIN, else the newest
    /usr/lib/postgresql/<version>/bin, else the folder of ``initdb`` on PATH."""
    given = os.environ.get("RENDER_TEST_PG_BIN")
    if given:
        return Path(given) if (Path(given) / "initdb").exists() else None
    versions = []
    for candidate in Path("/usr/lib/postgresql").glob("*/bin/initdb"):
        version = candidate.parent.parent.name
        if re.fullmatch(r"\d+(\.\d+)?", version):
            versions.append((tuple(int(p) for p in version.split(".")), candidate.parent))
    if versions:
        return max(versions)[1]
    found = shutil.which("initdb")
    return Path(found).resolve().parent if found else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PostgresCluster:
    """One running cluster: ``url(name)`` for a database, ``create_database()`` for a new one."""

    def __init__(self, bin_dir: Path, *, durable: bool = False) -> None:
        self.bin_dir = bin_dir
        self.durable = durable  # fsync on (the benchmarks); off for the tests' speed
        self.root = Path(tempfile.mkdtemp(prefix="render-pg-"))
        self.data = self.root / "data"
        self.socket_dir = self.root / "sock"
        self.log = self.root / "server.log"
        self.port = 0
        self.host = "127.0.0.1"
        self._runas: list[str] = []
        if os.geteuid() == 0:  # initdb refuses root: the cluster belongs to an ordinary user
            owner = "postgres" if _user_exists("postgres") else "nobody"
            self._runas = ["runuser", "-u", owner, "--"]
            os.chmod(self.root, 0o755)
            shutil.chown(self.root, owner)
        self.socket_dir.mkdir()
        if self._runas:
            shutil.chown(self.socket_dir, self._runas[2])

    def _run(self, program: str, *args: str) -> subprocess.CompletedProcess[str]:
        command = [*self._runas, str(self.bin_dir / program), *args]
        return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)

    def start(self) -> None:
        pwfile = self.root / "pw"
        pwfile.write_text(PASSWORD + "\n")
        if self._runas:
            shutil.chown(pwfile, self._runas[2])
        done = self._run(
            "initdb", "-D", str(self.data), "-U", USER, f"--pwfile={pwfile}", "-E", "UTF8",
            "--locale=C", "--auth-local=trust", "--auth-host=scram-sha-256", "--no-sync",
        )  # fmt: skip
        pwfile.unlink()
        if done.returncode != 0:
            raise RuntimeError(f"initdb failed:\n{done.stdout}\n{done.stderr}")
        for _ in range(5):  # the free port may be taken before the server binds it
            self.port = _free_port()
            options = (
                f"-p {self.port} -k {self.socket_dir} -c listen_addresses={self.host} "
                "-c max_connections=300"
            )
            if not self.durable:
                options += " -c fsync=off -c full_page_writes=off"
            done = self._run(
                "pg_ctl", "-D", str(self.data), "-l", str(self.log), "-w", "-t", "60",
                "-o", options, "start",
            )  # fmt: skip
            if done.returncode == 0:
                return
        raise RuntimeError(f"pg_ctl start failed:\n{done.stderr}\n{self.server_log()}")

    def restart(self) -> None:
        """Stop the server (fast: sessions are ended) and start it again on the same port."""
        done = self._run(
            "pg_ctl", "-D", str(self.data), "-l", str(self.log), "-m", "fast", "-w", "-t", "60",
            "restart",
        )  # fmt: skip
        if done.returncode != 0:
            raise RuntimeError(f"pg_ctl restart failed:\n{done.stderr}\n{self.server_log()}")

    def stop(self) -> None:
        if self.data.exists():
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.root, ignore_errors=True)

    def server_log(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def url(self, dbname: str, password: str = PASSWORD) -> str:
        return f"postgresql://{USER}:{password}@{self.host}:{self.port}/{dbname}"

    def sql(self, statement: str, dbname: str = "postgres") -> str:
        """Run one statement with psql over the Unix socket; its output."""
        done = subprocess.run(
            [
                str(self.bin_dir / "psql"), "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1",
                "-h", str(self.socket_dir), "-p", str(self.port), "-U", USER, "-d", dbname,
                "-c", statement,
            ],
            capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
        if done.returncode != 0:
            raise RuntimeError(f"psql failed on {statement!r}: {done.stderr.strip()}")
        return done.stdout

    def create_database(self) -> str:
        """A new, empty database; its name."""
        name = "t_" + uuid.uuid4().hex[:16]
        self.sql(f"CREATE DATABASE {name}")
        return name

    def drop_database(self, name: str) -> None:
        self.sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def _user_exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True
