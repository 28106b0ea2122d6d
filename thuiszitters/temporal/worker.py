"""The worker: runs the case workflows, the scheduled work and their activities on the ``thuiszitters`` task queue.

    thuiszitters-worker            run until SIGINT/SIGTERM, then shut down gracefully (or: python worker.py)
    thuiszitters-worker --check    health check: Temporal reachable, PostgreSQL reachable, migrations current

Temporal connection settings come from ``temporalio.envconfig`` (``TEMPORAL_ADDRESS``, ``TEMPORAL_NAMESPACE``,
profiles); the rest from ``THUISZITTERS_*`` and ``DATABASE_URL`` (see ``docs/operations.md``). At start it creates
or updates the Temporal Schedules of the recurring work (:mod:`thuiszitters.temporal.schedules`) unless
``THUISZITTERS_SCHEDULES=uit``. With ``OTEL_EXPORTER_OTLP_ENDPOINT`` set it traces (:mod:`thuiszitters.tracing`):
the client carries Temporal's tracing interceptor, and the worker takes it from the client.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import structlog
from temporalio.client import Client
from temporalio.service import RPCError
from temporalio.worker import PollerBehaviorSimpleMaximum, UnsandboxedWorkflowRunner, Worker

from activities.case_activities import CaseActivities
from activities.scheduled import ScheduledActivities
from thuiszitters.logs import configure_logging
from thuiszitters.register.store import Register
from thuiszitters.settings import DEFAULT_MAX_CACHED_WORKFLOWS as DEFAULT_MAX_CACHED_WORKFLOWS
from thuiszitters.settings import Settings, SettingsError
from thuiszitters.temporal.client import connect, metrics_runtime
from thuiszitters.temporal.schedules import ensure_schedules
from thuiszitters.tracing import WORKER, configure_tracing
from workflows.scheduled import BewaartermijnWorkflow, WeekrapportWorkflow
from workflows.thuiszitter import ThuiszitterWorkflow

GRACEFUL_SHUTDOWN = timedelta(seconds=30)
log = structlog.get_logger("thuiszitters.worker")


TUNING_VARIABLES = {
    Settings.variable(name): name
    for name in (
        "max_cached_workflows",
        "max_concurrent_workflow_tasks",
        "max_concurrent_activities",
        "workflow_task_polls",
    )
}


@dataclass(frozen=True)
class WorkerTuning:
    """How much one worker process takes on at once; see docs/performance.md for the measurements behind the
    defaults. None: the SDK's default."""

    max_cached_workflows: int | None = DEFAULT_MAX_CACHED_WORKFLOWS
    """Cases kept in memory between their tasks (about 110 KiB each); a case not in the cache is replayed from
    its history when its next event or timer comes."""
    max_concurrent_workflow_tasks: int | None = None
    max_concurrent_activities: int | None = None
    workflow_task_polls: int | None = None
    """Polls for workflow tasks open at once (the SDK's default is 5), most of them on the worker's sticky queue,
    where a status query is handed only to a waiting poll (docs/performance.md, "A burst of events")."""

    @classmethod
    def from_settings(cls, settings: Settings) -> WorkerTuning:
        return cls(**{name: getattr(settings, name) for name in TUNING_VARIABLES.values()})

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> WorkerTuning:
        """The tuning part of :meth:`Settings.from_env`, for scripts that build a worker of their own."""
        return cls.from_settings(Settings.from_env(env))

    def worker_options(self) -> dict[str, Any]:
        """The options to hand to ``Worker`` (or ``Replayer``): the tuning, and the workflow runner.

        The worker runs the workflow with the SDK's unsandboxed runner: a replay costs less than half of what it costs
        in the sandbox (docs/performance.md). Determinism is guarded without it: ``ruff`` refuses clocks, randomness,
        the environment and I/O everywhere under ``workflows/`` (``banned-api`` in ``pyproject.toml``), the tests'
        workers and the replay tests run the workflow in the SDK's own sandbox, which stops any of them at run time,
        and every recorded history replays on both runners."""
        options: dict[str, Any] = {
            name: value
            for name in TUNING_VARIABLES.values()
            if (value := getattr(self, name)) is not None and name != "workflow_task_polls"
        }
        if self.workflow_task_polls is not None:
            options["workflow_task_poller_behavior"] = PollerBehaviorSimpleMaximum(self.workflow_task_polls)
        options["workflow_runner"] = UnsandboxedWorkflowRunner()
        return options


def build_worker(
    client: Client, settings: Settings, activities: CaseActivities, tuning: WorkerTuning | None = None
) -> Worker:
    """The cases and the scheduled work on one task queue, the scheduled activities sharing the case activities'
    register. Interceptors come from the client (a tracing one, when :func:`connect` made it in a process that
    traces)."""
    scheduled = ScheduledActivities(settings, activities.register)
    return Worker(
        client,
        task_queue=settings.task_queue,
        workflows=[ThuiszitterWorkflow, BewaartermijnWorkflow, WeekrapportWorkflow],
        activities=[*activities.all(), *scheduled.all()],
        graceful_shutdown_timeout=GRACEFUL_SHUTDOWN,
        **(tuning or WorkerTuning.from_settings(settings)).worker_options(),
    )


async def run(settings: Settings, *, client: Client | None = None, stop: asyncio.Event | None = None) -> None:
    """Run the worker until ``stop`` is set (or SIGINT/SIGTERM when it is not given)."""
    client = client or await connect(settings, runtime=metrics_runtime(settings))
    activities = await CaseActivities.create(settings)
    stop = stop or _stop_on_signals()
    try:
        worker = build_worker(client, settings, activities)
        async with worker:
            log.info(
                "worker gestart",
                task_queue=settings.task_queue,
                namespace=client.namespace,
                metrics=f"http://{settings.metrics_address}/metrics" if settings.metrics_address else None,
            )
            if settings.schedules == "aan":
                await _ensure_schedules(client, settings.task_queue)
            await stop.wait()
            log.info("worker stopt: lopende activiteiten krijgen tijd om af te ronden")
    finally:
        await activities.close()
    log.info("worker gestopt")


async def _ensure_schedules(client: Client, task_queue: str) -> None:
    """The schedules of the recurring work, up to date; a failure is logged, and the cases run on regardless."""
    try:
        outcomes = await ensure_schedules(client, task_queue)
    except RPCError as error:
        log.error("schema's niet ingericht", fout=f"{type(error).__name__}: {error}")
        return
    log.info("schema's ingericht", schemas=outcomes)


async def check(settings: Settings) -> list[str]:
    """What is wrong with the stack, in Dutch; empty when all is well."""
    problems: list[str] = []
    try:
        client = await asyncio.wait_for(connect(settings), timeout=10)
        await asyncio.wait_for(client.service_client.check_health(), timeout=10)
    except Exception as error:
        problems.append(f"Temporal niet bereikbaar: {type(error).__name__}: {error}")
    if not settings.database_url:
        problems.append("DATABASE_URL is niet ingesteld")
        return problems
    try:
        register = await asyncio.wait_for(Register.connect(settings.database_url, max_size=1), timeout=10)
    except Exception as error:
        problems.append(f"PostgreSQL niet bereikbaar: {type(error).__name__}")
        return problems
    try:
        if pending := await register.pending_migrations():
            problems.append("migraties niet bijgewerkt: " + ", ".join(pending))
    finally:
        await register.close()
    return problems


def _stop_on_signals() -> asyncio.Event:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    return stop


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Worker van het thuiszitterssysteem.")
    parser.add_argument("--check", action="store_true", help="controleer Temporal, PostgreSQL en migraties")
    args = parser.parse_args(argv)
    try:
        settings = Settings.from_env()
        configure_logging(settings)
    except SettingsError as error:
        print(f"Fout in de instellingen: {error}", file=sys.stderr)
        return 2
    if args.check:
        problems = asyncio.run(check(settings))
        for problem in problems:
            print(f"NIET GOED: {problem}", file=sys.stderr)
        if not problems:
            print("Alles in orde: Temporal en PostgreSQL bereikbaar, migraties bijgewerkt.")
        return 1 if problems else 0
    if not settings.database_url:
        print("Fout in de instellingen: DATABASE_URL is niet ingesteld", file=sys.stderr)
        return 2
    configure_tracing(WORKER)  # the provider sends the spans still waiting in its batch when the process ends
    asyncio.run(run(settings))
    return 0


if __name__ == "__main__":
    sys.exit(main())
