"""A throwaway PostgreSQL server for the tests, from Debian's `postgresql` package (scripts/test
installs it where missing), listening on 127.0.0.1 on a free port, with its data in a temporary
folder that is removed when it stops. PostgreSQL refuses to run as root, so as root the server
runs as the package's `postgres` user."""

from __future__ import annotations

import itertools
import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path

from processes import free_port
from sqlalchemy.engine import URL


def _binaries() -> Path:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/postgres"), key=lambda p: p.parent)
    if not found:
        raise RuntimeError("PostgreSQL is not installed: scripts/test installs Debian's package")
    return found[-1].parent


class PostgresServer:
    def __init__(self) -> None:
        self._bin = _binaries()
        self._folder = Path(tempfile.mkdtemp(prefix="alliance-postgres-"))
        self._data = self._folder / "data"
        self.port = free_port()
        self._names = itertools.count()
        self._as_owner: list[str] = []
        if os.geteuid() == 0:
            owner = pwd.getpwnam("postgres")
            os.chown(self._folder, owner.pw_uid, owner.pw_gid)
            self._as_owner = ["runuser", "-u", "postgres", "--"]

    def _run(self, *command: str) -> None:
        subprocess.run([*self._as_owner, *command], check=True, capture_output=True, text=True)

    def start(self) -> PostgresServer:
        """Start the server; its data folder is made the first time."""
        if not self._data.exists():
            self._run(
                str(self._bin / "initdb"),
                *("-D", str(self._data), "-U", "postgres", "--auth=trust", "-E", "UTF8"),
            )
        options = f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self._folder}"
        self._run(
            str(self._bin / "pg_ctl"),
            *("-D", str(self._data), "-l", str(self._folder / "server.log"), "-o", options),
            *("-w", "start"),
        )
        return self

    def url(self, database: str, password: str | None = None) -> str:
        """The SQLAlchemy URL of `database` for asyncpg over 127.0.0.1 (the server trusts
        every local connection, so a password is accepted and ignored)."""
        return URL.create(
            "postgresql+asyncpg",
            "postgres",
            password,
            host="127.0.0.1",
            port=self.port,
            database=database,
        ).render_as_string(hide_password=False)

    def create_database(self, name: str) -> None:
        self._run(
            "psql",
            *("-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-q"),
            *("-c", f"CREATE DATABASE {name}"),
        )

    def new_database(self) -> str:
        """A fresh, empty database; its URL."""
        name = f"test_{next(self._names)}"
        self.create_database(name)
        return self.url(name)

    def stop(self, keep_data: bool = False) -> None:
        """Stop the server (fast shutdown); its data folder goes too unless `keep_data`."""
        try:
            self._run(str(self._bin / "pg_ctl"), "-D", str(self._data), "-m", "fast", "stop")
        finally:
            if not keep_data:
                shutil.rmtree(self._folder, ignore_errors=True)
