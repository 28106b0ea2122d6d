"""A property-based contract test of the API, generated from its own OpenAPI document by schemathesis.

The API runs for real, as in :mod:`tests.thuiszitters.api.helpers`: the one server of web application and API over a
fresh register with the demo people and clients, a real worker and the session's Temporal dev server, here served by
uvicorn on 127.0.0.1. The schemathesis command loads the document from the live ``/api/openapi.json`` and calls the
API as another service would, in all its phases: coverage (boundaries, missing and unexpected parts, other methods),
fuzzing (random valid and invalid data) and stateful sequences (start a case, then read and change it). Each call
carries a real bearer token of a demo client; half of the pupil references name a case seeded through the API
(:mod:`tests.thuiszitters.api.contract_hooks`). Every check schemathesis has runs, each answer must be documented
(status, content type, headers, schema) and none may be a server error. A fixed seed, one worker and a bounded number
of examples per operation keep the run the same in CI and well within two minutes.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from collections.abc import AsyncIterator
from datetime import date, timedelta
from pathlib import Path
from typing import Final

import pytest
from temporalio.testing import WorkflowEnvironment

from tests.cases import pupil
from tests.fixtures.werkbak import free_socket, serve
from tests.paths import REPO
from tests.thuiszitters.api.helpers import ApiStack, api_stack, demo_clients, secret_of
from tests.thuiszitters.web.helpers import FAST_HASHER
from thuiszitters.api.clients import ApiClients
from thuiszitters.settings import Settings

pytestmark = pytest.mark.asyncio(loop_scope="session")

SEED: Final = 20240914
MAX_EXAMPLES: Final = 25
"""Examples per operation and phase (fuzzing); the coverage phase adds its own for each boundary it finds."""
WORKERS: Final = 1
"""One: with more, Hypothesis describes strategies in several threads at once, and Python 3.11's parser can fail on
that (``AST constructor recursion depth mismatch``), an error of the tools that would fail the run at random."""
RUN_TIMEOUT_SECONDS: Final = 300


@pytest.fixture
async def stack(dev_env: WorkflowEnvironment, postgres_dsn: str, test_settings: Settings) -> AsyncIterator[ApiStack]:
    async with api_stack(dev_env, postgres_dsn, test_settings) as running:
        # a contract run sends far more requests a minute than any client would; the limit has a test of its own
        store = ApiClients(running.register.pool, FAST_HASHER)
        for client in running.clients:
            await store.upsert(client.model_copy(update={"per_minuut": 100_000}), secret_of(client.client_id))
        yield running


async def seeded(stack: ApiStack) -> tuple[str, ...]:
    """A few cases started through the API (by leerplicht and by schools, in both sectors); one has had a parents'
    meeting, so that its status and timeline are more than a start."""
    refs: list[str] = []
    startdatum = date.today() - timedelta(weeks=5)
    for client_id, school, aanmelding in (
        ("lba-leerplicht", "99AA", pupil(startdatum, school_brin="99AA")),
        ("las-99aa", "99AA", pupil(startdatum, school_brin="99AA")),
        ("las-99ba", "99BA", pupil(startdatum, school_brin="99BA", sector="VO", age=12)),
    ):
        body = aanmelding.model_dump(mode="json", exclude={"beleid"})
        async with stack.as_client(client_id) as http:
            response = await http.post("/api/v1/zaken", json=body)
        # 201: the register has the case, so its status URL answers at once
        assert response.status_code == 201, (school, response.text)
        refs.append(aanmelding.leerling_ref)
    async with stack.as_client("las-99aa") as http:
        response = await http.post(
            f"/api/v1/zaken/{refs[1]}/oudergesprek",
            json={"deelnemers": ["school", "ouders", "scp"], "afspraken": "Twee ochtenden per week naar school."},
        )
        assert response.status_code == 200, response.text
    return tuple(refs)


def configuration(base_url: str) -> str:
    """The run's schemathesis.toml: where the API is, the hooks, the seed and bounds, and the checks."""
    return "\n".join(
        [
            f"seed = {SEED}",
            f"base-url = {json.dumps(base_url + '/api')}",
            'hooks = "tests.thuiszitters.api.contract_hooks"',
            "[generation]",
            f"max-examples = {MAX_EXAMPLES}",
            'database = "none"',
            # every check runs (--checks all); but a request that fits the document may still be refused with 422:
            # by the rules of the procedure ("afgewezen"), by a rule across fields (a birth date after the start
            # date), or because its Idempotency-Key was used before for another request; other refusals of valid
            # data still fail the run
            "[checks.positive_data_acceptance]",
            "expected-statuses = [200, 201, 202, 401, 403, 404, 409, 422, 429]",
            "",
        ]
    )


async def contract_run(
    base_url: str, refs: tuple[str, ...], client_id: str, operations: str | None, folder: Path
) -> tuple[int, str, float]:
    """One schemathesis run against the live API as ``client_id``, over the ``operations`` whose path matches (all:
    None): its exit code, its output and its duration."""
    config = folder / "schemathesis.toml"
    config.write_text(configuration(base_url), encoding="utf-8")
    environment = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "CONTRACT_API_URL": f"{base_url}/api",
        "CONTRACT_CLIENT_ID": client_id,
        "CONTRACT_CLIENT_SECRET": secret_of(client_id),
        "CONTRACT_REFS": ",".join(refs),
    }
    arguments = ["--checks", "all"] + (["--include-path-regex", operations] if operations is not None else [])
    began = time.monotonic()
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "schemathesis.cli",
        "--config-file",
        str(config),
        "--no-color",
        "run",
        f"{base_url}/api/openapi.json",
        *arguments,
        "--workers",
        str(WORKERS),
        "--report",
        "junit",
        "--report-dir",
        str(folder),
        cwd=folder,
        env=environment,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        async with asyncio.timeout(RUN_TIMEOUT_SECONDS):
            output, _ = await process.communicate()
    except TimeoutError:
        process.kill()
        await process.wait()
        raise
    return process.returncode or 0, output.decode(errors="replace"), time.monotonic() - began


def events_of(client_id: str) -> str:
    """The operations of the events a demo client may send, as a path pattern for ``--include-path-regex``."""
    client = next(c for c in demo_clients() if c.client_id == client_id)
    return r"^/v1/zaken/\{leerling_ref\}/(" + "|".join(sorted(client.gebeurtenissen)) + ")$"


@pytest.mark.parametrize(
    ("client_id", "operations"),
    [
        # leerplicht with access to every case: the broadest demo client, over every operation
        pytest.param("lba-leerplicht", None, id="lba-leerplicht"),
        # a school, over the events that only a school sends (the first run is refused those with 403)
        pytest.param("las-99aa", events_of("las-99aa"), id="las-99aa"),
    ],
)
async def test_every_answer_of_the_live_api_matches_its_openapi_document(
    stack: ApiStack, client_id: str, operations: str | None, tmp_path: Path
) -> None:
    refs = await seeded(stack)
    listener = free_socket()
    try:
        async with serve(stack.app, listener) as base_url:
            code, output, seconds = await contract_run(base_url, refs, client_id, operations, tmp_path)
    finally:
        listener.close()
    print(f"schemathesis als {client_id}: {seconds:.0f} s")
    assert code == 0, output
    assert "API Operations:" in output, output
