"""The worker: runs the case workflows and their activities on the ``thuiszitters`` task queue.

    python worker.py            run until SIGINT/SIGTERM, then shut down gracefully
    python worker.py --check    health check: Temporal reachable, PostgreSQL reachable, migrations current

Temporal connection settings come from ``temporalio.envconfig`` (``TEMPORAL_ADDRESS``, ``TEMPORAL_NAMESPACE``,
profiles); the rest from ``THUISZITTERS_*`` and ``DATABASE_URL`` (see ``docs/operations.md``).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import structlog
from temporalio.client import Client
from temporalio.converter import DataConverter
from temporalio.worker import UnsandboxedWorkflowRunner, Worker, WorkflowRunner
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from activities.case_activities import CaseActivities
from activities.register import Register
from thuiszitters.client import connect, metrics_runtime
from thuiszitters.logs import configure_logging
from thuiszitters.runner import ContextFreeRunner, uses_context
from thuiszitters.settings import Settings, SettingsError
from workflows.thuiszitter import ThuiszitterWorkflow

GRACEFUL_SHUTDOWN = timedelta(seconds=30)
log = structlog.get_logger("thuiszitters.worker")


TUNING_VARIABLES = {
    "THUISZITTERS_MAX_CACHED_WORKFLOWS": "max_cached_workflows",
    "THUISZITTERS_MAX_CONCURRENT_WORKFLOW_TASKS": "max_concurrent_workflow_tasks",
    "THUISZITTERS_MAX_CONCURRENT_ACTIVITIES": "max_concurrent_activities",
}
SHARED_MODULE_VARIABLE = "THUISZITTERS_SHARE_WORKFLOW_MODULE"
SANDBOX_VARIABLE = "THUISZITTERS_SANDBOX"
SKIP_CONTEXTS_VARIABLE = "THUISZITTERS_CONTEXT_OVERSLAAN"
DEFAULT_MAX_CACHED_WORKFLOWS = 4_000


@dataclass(frozen=True)
class WorkerTuning:
    """How much one worker process takes on at once; see docs/performance.md for the measurements behind the
    defaults. None: the SDK's default."""

    max_cached_workflows: int | None = DEFAULT_MAX_CACHED_WORKFLOWS
    """Cases kept in memory between their tasks (about 110 KiB each); a case not in the cache is replayed from
    its history when its next event or timer comes."""
    max_concurrent_workflow_tasks: int | None = None
    max_concurrent_activities: int | None = None
    share_workflow_module: bool = True
    """In the sandbox: import the workflow's own module once for the whole worker instead of once per case: half
    the memory per cached case and a faster first task or cache miss. The module holds no state; everything it
    uses (rules, models, policy) is passed through the sandbox anyway. A module passed through is not checked by
    the sandbox: the tests run the workflow in the SDK's own sandbox, which imports the module and does check it,
    and ``ruff`` (``banned-api``) keeps clocks, randomness and I/O out of all workflow-side modules."""
    sandbox: bool = True
    """Run the workflow code in Temporal's sandbox (isolated per case; see ``share_workflow_module`` for what it
    checks). Without it a case replays about a fifth faster, for the same memory (docs/performance.md)."""
    skip_unused_contexts: bool = True
    """Answer the SDK's per-payload questions for a serialization context outside the sandbox when the data converter
    uses none (:mod:`thuiszitters.runner`): half the replay time in the sandbox. ``nee`` gives the SDK's runner as
    it is."""

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> WorkerTuning:
        env = os.environ if env is None else env
        values: dict[str, Any] = {}
        for variable, name in TUNING_VARIABLES.items():
            text = env.get(variable, "").strip()
            if not text:
                continue
            if not text.isdigit() or int(text) < 1:
                raise SettingsError(f"instelling {variable}: moet een geheel getal van 1 of meer zijn")
            values[name] = int(text)
        for variable, name in (
            (SHARED_MODULE_VARIABLE, "share_workflow_module"),
            (SANDBOX_VARIABLE, "sandbox"),
            (SKIP_CONTEXTS_VARIABLE, "skip_unused_contexts"),
        ):
            text = env.get(variable, "").strip().lower()
            if text in ("ja", "true", "1"):
                values[name] = True
            elif text in ("nee", "false", "0"):
                values[name] = False
            elif text:
                raise SettingsError(f"instelling {variable}: moet 'ja' of 'nee' zijn")
        return cls(**values)

    def worker_options(self, workflows: Sequence[type], data_converter: DataConverter) -> dict[str, Any]:
        """The options to hand to ``Worker`` (or ``Replayer``) for these workflow classes and the data converter of
        the worker's client, which decides whether the contexts may be skipped."""
        options = {name: value for name in TUNING_VARIABLES.values() if (value := getattr(self, name)) is not None}
        runner: WorkflowRunner
        if not self.sandbox:
            runner = UnsandboxedWorkflowRunner()
        elif self.share_workflow_module:
            modules = sorted({workflow.__module__ for workflow in workflows})
            runner = SandboxedWorkflowRunner(
                restrictions=SandboxRestrictions.default.with_passthrough_modules(*modules)
            )
        else:
            runner = SandboxedWorkflowRunner()
        if self.skip_unused_contexts and not uses_context(data_converter):
            runner = ContextFreeRunner(runner)
        options["workflow_runner"] = runner
        return options


def build_worker(
    client: Client, settings: Settings, activities: CaseActivities, tuning: WorkerTuning | None = None
) -> Worker:
    return Worker(
        client,
        task_queue=settings.task_queue,
        workflows=[ThuiszitterWorkflow],
        activities=activities.all(),
        graceful_shutdown_timeout=GRACEFUL_SHUTDOWN,
        **(tuning or WorkerTuning.from_env()).worker_options([ThuiszitterWorkflow], client.data_converter),
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
            await stop.wait()
            log.info("worker stopt: lopende activiteiten krijgen tijd om af te ronden")
    finally:
        await activities.close()
    log.info("worker gestopt")


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
        WorkerTuning.from_env()  # a wrong tuning value stops the worker here, with its name
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
    asyncio.run(run(settings))
    return 0


if __name__ == "__main__":
    sys.exit(main())
