"""The schedules of the recurring work on the command line (``thuiszitters-schema``, or
``python -m thuiszitters.tools.schedules``): what the Web UI's Schedules page does, for operators and scripts.

    thuiszitters-schema [toon]                                  each schedule: active or paused, when, last and next run
    thuiszitters-schema pauzeer bewaartermijn [--reden TEKST]   pause one (the reason becomes its note)
    thuiszitters-schema hervat bewaartermijn                    resume it
    thuiszitters-schema start weekrapport [--wacht]             run it now, once (and wait for its summary)
    thuiszitters-schema inrichten                               create or update both, as the worker does at start

A schedule is named by its short name (``bewaartermijn``, ``weekrapport``) or its id (``thuiszitters-...``). A pause
lasts until someone resumes it, a worker's restart included. Connection settings come from Temporal's environment
configuration (``TEMPORAL_ADDRESS``, profiles: ``--profile``), the task queue for ``inrichten`` from
``THUISZITTERS_TASK_QUEUE``. The old commands (``thuiszitters-bewaartermijn``, ``thuiszitters-rapport``) still run the
same work by hand.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Sequence
from datetime import datetime
from typing import TextIO
from zoneinfo import ZoneInfo

from pydantic import BaseModel
from temporalio.client import (
    Client,
    ScheduleActionExecution,
    ScheduleActionExecutionStartWorkflow,
    ScheduleDescription,
    WorkflowFailureError,
)
from temporalio.service import RPCError, RPCStatusCode

from thuiszitters.settings import Settings, SettingsError
from thuiszitters.temporal.client import ConnectError, connect
from thuiszitters.temporal.schedules import SCHEDULES, ScheduleDefinition, definition, ensure_schedules

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
PAUSED_BY_CLI = "gepauzeerd met thuiszitters-schema"
STARTED_WITHIN_SECONDS = 15.0


class ScheduleToolError(Exception):
    """A problem to tell the user, in Dutch; exit code 1."""


def _time(moment: datetime) -> str:
    return moment.astimezone(AMSTERDAM).strftime("%Y-%m-%d %H:%M")


def _workflow_id(execution: ScheduleActionExecution) -> str:
    return execution.workflow_id if isinstance(execution, ScheduleActionExecutionStartWorkflow) else "-"


def _runs(description: ScheduleDescription) -> list[tuple[str, str]]:
    """The schedule's recent and running runs, oldest first: workflow id and first run id (a run triggered in the same
    second as the one before gets the same workflow id)."""
    recent = sorted(description.info.recent_actions, key=lambda action: action.scheduled_at)
    executions = [action.action for action in recent] + list(description.info.running_actions)
    runs = [
        (e.workflow_id, e.first_execution_run_id)
        for e in executions
        if isinstance(e, ScheduleActionExecutionStartWorkflow)
    ]
    return list(dict.fromkeys(runs))


def describe_lines(schedule: ScheduleDefinition, description: ScheduleDescription | None) -> list[str]:
    """What ``toon`` prints for one schedule, in Dutch."""
    if description is None:
        return [
            f"{schedule.schedule_id}: ontbreekt (de worker maakt het bij de start, of: thuiszitters-schema inrichten)"
        ]
    state = description.schedule.state
    info = description.info
    lines = [f"{schedule.schedule_id}: {'GEPAUZEERD' if state.paused else 'actief'}, {schedule.when}"]
    if state.paused:
        lines.append(f"  reden:    {state.note or '-'}")
    else:
        lines.append(f"  volgende: {_time(info.next_action_times[0]) if info.next_action_times else '-'}")
    if info.recent_actions:
        last = max(info.recent_actions, key=lambda action: action.scheduled_at)
        lines.append(f"  laatste:  {_time(last.started_at)} ({_workflow_id(last.action)})")
    else:
        lines.append("  laatste:  nog niet gedraaid")
    if info.running_actions:
        lines.append(f"  loopt nu: {', '.join(_workflow_id(action) for action in info.running_actions)}")
    return lines


async def _describe(client: Client, schedule: ScheduleDefinition) -> ScheduleDescription | None:
    try:
        return await client.get_schedule_handle(schedule.schedule_id).describe()
    except RPCError as error:
        if error.status == RPCStatusCode.NOT_FOUND:
            return None
        raise


def _chosen(name: str) -> ScheduleDefinition:
    found = definition(name)
    if found is None:
        known = ", ".join(d.name for d in SCHEDULES)
        raise ScheduleToolError(f"onbekend schema '{name}'; kies uit {known}")
    return found


async def _existing(client: Client, schedule: ScheduleDefinition) -> ScheduleDescription:
    description = await _describe(client, schedule)
    if description is None:
        raise ScheduleToolError(
            f"schema {schedule.schedule_id} bestaat nog niet; start de worker of draai 'thuiszitters-schema inrichten'"
        )
    return description


async def start_now(client: Client, schedule: ScheduleDefinition, *, wait: bool, out: TextIO) -> None:
    """Trigger the schedule once and name the workflow it started; with ``wait``, print its summary too."""
    seen = set(_runs(await _existing(client, schedule)))
    await client.get_schedule_handle(schedule.schedule_id).trigger()
    started = await _started(client, schedule, seen)
    if started is None:
        print(f"{schedule.schedule_id} gestart; de run verschijnt zo in de Web UI.", file=out)
        return
    workflow_id, run_id = started
    print(f"{schedule.schedule_id} gestart: {workflow_id}", file=out)
    if wait:
        handle = client.get_workflow_handle_for(schedule.workflow, workflow_id, first_execution_run_id=run_id)
        try:
            result = await handle.result()
        except WorkflowFailureError as error:
            raise ScheduleToolError(f"{workflow_id} is mislukt: {error.cause}") from None
        shown = result.model_dump(mode="json") if isinstance(result, BaseModel) else result
        print(json.dumps(shown, ensure_ascii=False, indent=2), file=out)


async def _started(client: Client, schedule: ScheduleDefinition, seen: set[tuple[str, str]]) -> tuple[str, str] | None:
    """The run the trigger started (not one of ``seen``), once the schedule shows it."""
    deadline = asyncio.get_running_loop().time() + STARTED_WITHIN_SECONDS
    while asyncio.get_running_loop().time() < deadline:
        if new := [run for run in _runs(await _existing(client, schedule)) if run not in seen]:
            return new[-1]
        await asyncio.sleep(0.2)
    return None


def parser() -> argparse.ArgumentParser:
    names = ", ".join(d.name for d in SCHEDULES)
    top = argparse.ArgumentParser(
        prog="thuiszitters-schema",
        description=(
            "De schema's van het terugkerende werk (bewaartermijn, weekrapport) in Temporal: tonen, pauzeren, "
            "hervatten en nu starten."
        ),
    )
    top.add_argument("--profile", help="profiel uit temporal.toml (standaard: TEMPORAL_PROFILE of 'default')")
    commands = top.add_subparsers(dest="opdracht", metavar="OPDRACHT")
    commands.add_parser("toon", help="elk schema: actief of gepauzeerd, wanneer, laatste en volgende run")
    pause = commands.add_parser("pauzeer", help="pauzeer een schema tot iemand het hervat")
    pause.add_argument("schema", help=names)
    pause.add_argument("--reden", default=PAUSED_BY_CLI, help="waarom (wordt de notitie van het schema)")
    resume = commands.add_parser("hervat", help="hervat een gepauzeerd schema")
    resume.add_argument("schema", help=names)
    start = commands.add_parser("start", help="draai een schema nu, eenmalig")
    start.add_argument("schema", help=names)
    start.add_argument("--wacht", action="store_true", help="wacht tot de run klaar is en toon de samenvatting")
    commands.add_parser("inrichten", help="maak de schema's of werk ze bij, zoals de worker bij de start doet")
    return top


async def run(args: argparse.Namespace, client: Client, settings: Settings, out: TextIO) -> None:
    command = args.opdracht or "toon"
    if command == "toon":
        for schedule in SCHEDULES:
            print("\n".join(describe_lines(schedule, await _describe(client, schedule))), file=out)
    elif command == "inrichten":
        for schedule_id, outcome in (await ensure_schedules(client, settings.task_queue)).items():
            print(f"{schedule_id}: {outcome} (taakwachtrij {settings.task_queue})", file=out)
    elif command == "pauzeer":
        schedule = _chosen(args.schema)
        await _existing(client, schedule)
        await client.get_schedule_handle(schedule.schedule_id).pause(note=args.reden)
        print(f"{schedule.schedule_id} gepauzeerd: {args.reden}", file=out)
    elif command == "hervat":
        schedule = _chosen(args.schema)
        await _existing(client, schedule)
        await client.get_schedule_handle(schedule.schedule_id).unpause(note=schedule.note)
        print(f"{schedule.schedule_id} hervat: {schedule.when}", file=out)
    elif command == "start":
        await start_now(client, _chosen(args.schema), wait=args.wacht, out=out)


async def main(argv: Sequence[str] | None = None, *, client: Client | None = None, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    args = parser().parse_args(argv)
    try:
        settings = Settings.from_env()
        client = client or await connect(settings, profile=args.profile)
        await run(args, client, settings, out)
    except SettingsError as error:
        print(f"Fout in de instellingen: {error}", file=sys.stderr)
        return 2
    except (ScheduleToolError, ConnectError) as error:
        print(f"Fout: {error}", file=sys.stderr)
        return 1
    except RPCError as error:
        print(f"Fout: Temporal weigerde het verzoek ({error.status.name}): {error.message}", file=sys.stderr)
        return 1
    return 0


def cli() -> None:
    """The ``thuiszitters-schema`` command."""
    sys.exit(asyncio.run(main()))


if __name__ == "__main__":
    cli()
