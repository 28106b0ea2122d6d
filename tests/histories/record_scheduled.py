"""Record the histories of the scheduled workflows (retention, the weekly report) for the replay test.

    .venv/bin/python -m tests.histories.record_scheduled       (re)write tests/histories/scheduled/*.json

Each workflow runs once on the time-skipping test server with a real worker and a real case register (a PostgreSQL
of its own in a temporary folder) holding one case closed three years ago and two open ones, so the retention
anonymises one case and each region's report counts something. Encryption is off, as for the cases' recordings. The
same rule holds: record when a workflow gains behaviour worth protecting, never to make a failing replay pass.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.scheduled import ScheduledActivities
from devtools.binaries import temporal_test_server
from devtools.pgserver import LocalPostgres
from thuiszitters.register.store import Register
from thuiszitters.settings import Settings
from thuiszitters.temporal.converter import build_data_converter
from workflows.contract import Regio, Sector
from workflows.scheduled import BewaartermijnWorkflow, WeekrapportWorkflow
from workflows.scheduled_work import WeekrapportStart

HERE = Path(__file__).resolve().parent / "scheduled"
SETTINGS = Settings(encryptie="uit")
TASK_QUEUE = "histories-scheduled"


async def seed(register: Register) -> None:
    """One case closed long ago (due for retention), an open PO case past twelve weeks in Noord, one in Zuid."""
    from tests.thuiszitters.tools.test_retention import record_case

    now = datetime.now(UTC)
    await record_case(
        register,
        "REC-bewaartermijn",
        sector=Sector.PO,
        regio=Regio.NOORD,
        startdatum=(now - timedelta(days=1100)).date(),
        opened=now - timedelta(days=1095),
        closed=now - timedelta(days=1000),
    )
    for ref, regio in (("REC-noord", Regio.NOORD), ("REC-zuid", Regio.ZUID)):
        await record_case(
            register,
            ref,
            sector=Sector.PO,
            regio=regio,
            startdatum=(now - timedelta(days=120)).date(),
            opened=now - timedelta(days=118),
            closed=None,
        )


async def history_json(client: Client, workflow_id: str) -> str:
    history = await client.get_workflow_handle(workflow_id).fetch_history()
    return json.dumps(json.loads(history.to_json()), indent=1, sort_keys=True) + "\n"


async def record(directory: Path = HERE) -> list[Path]:
    data = Path(tempfile.mkdtemp(prefix="thuiszitters-record-"))
    postgres = LocalPostgres(data / "pg")
    postgres.start()
    written: list[Path] = []
    try:
        register = await Register.connect(postgres.dsn)
        await register.migrate()
        await seed(register)
        env = await WorkflowEnvironment.start_time_skipping(
            test_server_existing_path=str(temporal_test_server()), data_converter=build_data_converter(SETTINGS)
        )
        runs: list[tuple[str, Any, Any]] = [
            ("bewaartermijn", BewaartermijnWorkflow.run, None),
            ("weekrapport", WeekrapportWorkflow.run, WeekrapportStart()),
        ]
        async with (
            env,
            Worker(
                env.client,
                task_queue=TASK_QUEUE,
                workflows=[BewaartermijnWorkflow, WeekrapportWorkflow],
                activities=ScheduledActivities(SETTINGS, register).all(),
            ),
        ):
            for name, run, argument in runs:
                workflow_id = f"thuiszitters-{name}-opname"
                args = [] if argument is None else [argument]
                await env.client.execute_workflow(run, args=args, id=workflow_id, task_queue=TASK_QUEUE)
                path = directory / f"{name}.json"
                path.write_text(await history_json(env.client, workflow_id))
                written.append(path)
                print(f"opgenomen: {path.name}", flush=True)
        await register.close()
    finally:
        postgres.stop("immediate")
        shutil.rmtree(data, ignore_errors=True)
    return written


def main() -> int:
    HERE.mkdir(parents=True, exist_ok=True)
    asyncio.run(record())
    return 0


if __name__ == "__main__":
    sys.exit(main())
