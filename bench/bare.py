"""The bare baseline: a workflow with the case workflow's shape and none of its work.

``BareWorkflow`` receives the same signals and updates (by name) as ``ThuiszitterWorkflow``, runs the same number
of activities for each (no-op bodies, side by side like the case's effects), waits between events on one timer the
same way, and completes on the same closing events; no rules, no PostgreSQL, no encryption, no search attributes,
plain JSON payloads. How many activities follow each event is handed in as a :class:`BarePlan`, which ``bench.run``
derives from the project's own rules, so the two always do the same number of round trips.

    python -m bench.bare worker --task-queue bench-bare
    python -m bench.bare start bare.csv --task-queue bench-bare --plan plan.json [--concurrency 16]

The worker takes the same tuning variables as ``worker.py`` (``THUISZITTERS_MAX_CACHED_WORKFLOWS``, ...); ``start``
starts one workflow per CSV row (``leerling_ref`` column) with the given concurrency and prints a line per row in
file order, like ``starter.py``.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from temporalio import activity, workflow
from temporalio.common import RawValue, RetryPolicy

BARE_WORKFLOW_TYPE = "BareWorkflow"
NOOP_ACTIVITY = "noop"
ACTIVITY_TIMEOUT = timedelta(seconds=30)
ACTIVITY_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=5),
    maximum_attempts=0,
)
IDLE_WAIT = timedelta(days=7)
"""What the case workflow waits for at most between events (its next week boundary): one timer per wait."""


@dataclass
class BarePlan:
    """How many activities the case workflow runs at its start and after each event, and which events close it."""

    at_start: int
    per_event: dict[str, int]
    closing: list[str]
    row: dict[str, Any] = field(default_factory=dict)
    """The intake row, carried as the case carries its Aanmelding (only for a comparable payload)."""


@activity.defn(name=NOOP_ACTIVITY)
async def noop(key: str) -> None:
    """Does nothing: the baseline pays only Temporal's cost of an activity."""


@workflow.defn(name=BARE_WORKFLOW_TYPE)
class BareWorkflow:
    SUMMARIES = False
    """Whether the activities and the timer carry a summary, as the case's do (see BareWorkflowWithSummaries)."""

    @workflow.init
    def __init__(self, plan: BarePlan) -> None:
        self._plan = plan
        self._queued = plan.at_start
        self._events = 0
        self._changed = False
        self._closed = False

    @workflow.run
    async def run(self, plan: BarePlan) -> dict[str, int]:
        done = 0
        while True:
            while self._queued:  # side by side, as the case runs the effects one event queues
                batch, self._queued = self._queued, 0
                await asyncio.gather(
                    *(
                        workflow.execute_activity(
                            NOOP_ACTIVITY,
                            f"{workflow.info().workflow_id}:{done + number}",
                            start_to_close_timeout=ACTIVITY_TIMEOUT,
                            retry_policy=ACTIVITY_RETRY,
                            summary=f"effect {done + number}" if self.SUMMARIES else None,
                        )
                        for number in range(1, batch + 1)
                    )
                )
                done += batch
            if self._closed:
                return {"events": self._events, "activities": done}
            if self._changed:
                self._changed = False
                continue
            with contextlib.suppress(asyncio.TimeoutError):
                await workflow.wait_condition(
                    lambda: self._changed,
                    timeout=IDLE_WAIT,
                    timeout_summary="volgende week" if self.SUMMARIES else None,
                )

    @workflow.signal(dynamic=True)
    def on_signal(self, name: str, args: Sequence[RawValue]) -> None:
        self._receive(name)

    @workflow.update(dynamic=True)
    def on_update(self, name: str, args: Sequence[RawValue]) -> dict[str, int]:
        self._receive(name)
        return {"events": self._events, "queued": self._queued}

    @workflow.query(name="status")
    def status(self) -> dict[str, int]:
        return {"events": self._events, "queued": self._queued}

    def _receive(self, name: str) -> None:
        if self._closed:
            return
        self._events += 1
        self._queued += self._plan.per_event.get(name, 0)
        self._closed = name in self._plan.closing
        self._changed = True


@workflow.defn(name=BARE_WORKFLOW_TYPE)
class BareWorkflowWithSummaries(BareWorkflow):
    """The bare workflow with a summary on every activity and on its timer, as the procedure asks of the case (Web
    UI). Summaries are not part of what a replay checks, so this replays the bare workflow's own histories: with
    the project's encrypting converter it is the case's required workload without the case's own code."""

    SUMMARIES = True

    @workflow.run
    async def run(self, plan: BarePlan) -> dict[str, int]:
        return await super().run(plan)


# ------------------------------------------------------------------------------------------ worker and starter


def bare_workflow_id(leerling_ref: str) -> str:
    return f"bare-{leerling_ref}"


async def _connect() -> Any:
    from temporalio.client import Client
    from temporalio.envconfig import ClientConfig

    config = ClientConfig.load_client_connect_config()
    config.setdefault("target_host", "localhost:7233")
    return await Client.connect(**config)


async def run_worker(task_queue: str) -> None:
    import signal

    from temporalio.worker import Worker

    from thuiszitters.temporal.worker import WorkerTuning

    client = await _connect()
    tuning = WorkerTuning.from_env()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with Worker(
        client,
        task_queue=task_queue,
        workflows=[BareWorkflow],
        activities=[noop],
        **tuning.worker_options(),
    ):
        print(f"bare worker polling {task_queue}", flush=True)
        await stop.wait()


async def start_all(path: str, task_queue: str, plan: BarePlan, concurrency: int) -> int:
    """Start one BareWorkflow per row, ``concurrency`` at a time, reporting in file order; 1 when any failed."""
    import sys
    from collections import deque

    from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
    from temporalio.exceptions import WorkflowAlreadyStartedError

    client = await _connect()
    window: deque[tuple[int, str, asyncio.Task[str]]] = deque()
    failed = 0

    async def start(row: dict[str, Any]) -> str:
        workflow_id = bare_workflow_id(row["leerling_ref"])
        try:
            await client.start_workflow(
                BARE_WORKFLOW_TYPE,
                BarePlan(plan.at_start, plan.per_event, plan.closing, row),
                id=workflow_id,
                task_queue=task_queue,
                id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
                id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
            )
        except WorkflowAlreadyStartedError:
            return "al open"
        return "gestart"

    async def report(down_to: int) -> None:
        nonlocal failed
        while len(window) > down_to:
            line, ref, task = window.popleft()
            outcome = await task
            failed += outcome != "gestart"
            print(f"regel {line:>4}  {ref:<20} {outcome:<10} {bare_workflow_id(ref)}", flush=True)

    for line, row in _csv_rows(path):
        window.append((line, row["leerling_ref"], asyncio.create_task(start(row))))
        await report(concurrency - 1)
    await report(0)
    sys.stdout.flush()
    return 1 if failed else 0


def _csv_rows(path: str) -> Iterator[tuple[int, dict[str, Any]]]:
    import csv

    with open(path, encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        for row in reader:
            yield reader.line_num, dict(row)


def main(argv: list[str] | None = None) -> int:
    import argparse
    import json
    import os
    import sys

    parser = argparse.ArgumentParser(prog="python -m bench.bare", description="The bare Temporal baseline.")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("worker", help="run the bare worker until SIGINT/SIGTERM")
    run.add_argument("--task-queue", required=True)
    start = commands.add_parser("start", help="start one bare workflow per CSV row")
    start.add_argument("file")
    start.add_argument("--task-queue", required=True)
    start.add_argument("--plan", required=True, help="JSON file with the BarePlan")
    start.add_argument("--concurrency", type=int, default=1)
    args = parser.parse_args(argv)
    if args.command == "worker":
        asyncio.run(run_worker(args.task_queue))
        return 0
    with open(args.plan, encoding="utf-8") as handle:
        plan = BarePlan(**json.load(handle))
    code = asyncio.run(start_all(args.file, args.task_queue, plan, max(1, args.concurrency)))
    sys.stdout.flush()
    os._exit(code)  # as starter.py: no teardown of the client runtime's threads at interpreter exit


if __name__ == "__main__":
    raise SystemExit(main())
