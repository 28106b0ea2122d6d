"""The case system measured against bare Temporal on the same machine (see docs/performance.md).

    python -m bench.run [--cases N] [--open M] [--updates U] [--repeats R] [--quick] [--scenarios a,b]
                        [--max-wait S] [--profile DIR] [--keep-logs DIR] [--keep-histories DIR]

Starts its own dev stack (PostgreSQL, Temporal dev server, the project's worker; no demo, no codec server) in a
temporary folder on free ports, and a second worker for the bare baseline (``bench.bare``: the same signals, timers
and activities with no-op bodies, no PostgreSQL, no encryption, no search attributes; the same worker tuning).
Then, for each scenario, the project and the baseline one after the other:

- intake: ``starter.py`` on a CSV of N rows, as a user runs it, against ``bench.bare start`` on the same file with
  the same concurrency: starts per second (from the first reported row to the last), the mean of two rounds of
  which the second starts with the baseline;
- lifecycle: N cases driven through every phase with signals (melding, oudergesprek, plan, route 3.2,
  aanmelding_andere_school, voortgang, passende_plek, uitschrijving, afronden; contract version 2, each event from
  the role that sends it), every activity and register write: cases per second until all are completed;
- latency: an event sent as an update (``execute_update``) and the status back, one after the other, p50 and p99;
- replay: a finished case's history replayed with ``Replayer`` (median over repeats): the lifecycle case recorded
  in this run, on the worker's runner (the SDK's unsandboxed runner) and in the SDK's sandbox, each against the
  bare history on the same runner (also replayed with a summary on every activity and timer and encrypted
  payloads, which the case must have), and the recorded fixtures in ``tests/histories``;
- rules: the cost of one event in the pure rules (``rules.receive`` and handing its effects to the workflow, as the
  workflow's signal handler does) at the 10th, 100th and 1,000th ``voortgang`` of a case, each of the largest size
  the contract allows: the 1,000th may cost at most 1.5 times the 10th (no Temporal involved);
- scale: M open cases (voortraject) idle on one worker: worker memory (VmRSS and VmHWM of the process) and the
  update round trip with all of them open;
- werkbak: the web application (its own process, over HTTP): an action from the case page's form to the updated
  page with 1,000 open cases (``--action-cases``), then "Mijn taken" and the case page with 10,000 open cases and
  60,000 task rows in the register (``--open``), as a school, an SCP, a coordinator and Leerplicht load them
  (:mod:`bench.werkbak`). Run it on its own (``--scenarios werkbak``): it writes straight into the register;
- api: the API for other services (the same server process): an event as a direct update and through the API,
  alternately, with 1,000 open cases (``--action-cases``), p50 and p99 of both (the API at most 1.15 times the
  direct update); then 20 clients at once sending 2,000 events in all, none refused (:mod:`bench.api`).

For intake and lifecycle it also notes the CPU time each process spent per case (Temporal, worker, PostgreSQL, the
intake process). With ``--profile DIR`` py-spy samples the workers (and the intake processes) per scenario into
collapsed-stack files for a flame graph viewer.

Before measuring it waits (up to ten minutes, with a notice) until the 1-minute load average is below 1.0, and it
prints the load with the results. The benchmark never fails on a number; it is not part of the test suite.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import csv
import json
import os
import random
import resource
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowHandle, WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import DataConverter
from temporalio.worker import Replayer
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner

from bench import api as api_bench
from bench import werkbak
from bench.bare import BARE_WORKFLOW_TYPE, BarePlan, BareWorkflow, BareWorkflowWithSummaries, bare_workflow_id
from devtools.devstack import Child, DevStack, StackConfig
from thuiszitters import intake
from thuiszitters.cases import start_case
from thuiszitters.settings import Settings
from thuiszitters.temporal.converter import build_data_converter
from thuiszitters.temporal.worker import WorkerTuning
from workflows import policy, rules
from workflows.calendar import amsterdam_date
from workflows.contract import WORKFLOW_TYPE, Aanmelding, CaseStatus, workflow_id_for
from workflows.thuiszitter import ThuiszitterWorkflow

REPO = Path(__file__).resolve().parent.parent
HISTORIES = REPO / "tests" / "histories"
BARE_QUEUE = "bench-bare"
SCENARIOS = ("rules", "intake", "lifecycle", "latency", "scale", "replay", "werkbak", "api")
RULES_MARKS = (10, 100, 1_000)
"""The events of a case at which the rules' cost per event is reported."""
QUIET_LOAD = 1.0
QUIET_WAIT_SECONDS = 600.0
CLIENT_CONCURRENCY = 32
"""How many cases the benchmark drives at once in the lifecycle and latency scenarios (project and baseline)."""

SECTORS = ("PO", "VO")
UPDATE_EVENT = "voortgang"
UPDATE_PAYLOAD: dict[str, Any] = {"toelichting": "x", "door": "school"}
CLOSING = ["afronden", "intrekken"]
"""The events that close a case (contract version 2): ``passende_plek`` opens phase 4, ``afronden`` closes."""


def lifecycle(sector: str) -> list[tuple[str, dict[str, Any]]]:
    """A case through every phase (contract version 2), each event from the role that sends it: the place found,
    the old school deregisters, and the SCP (PO) or the Koersloket (VO) checks and closes."""
    contact = "scp" if sector == "PO" else "koersloket"
    return [
        ("melding", {"gemeld_bij_leerplicht": True, "door": "school"}),
        ("oudergesprek", {"deelnemers": ["school", "ouders", contact], "door": "school"}),
        ("plan_van_aanpak", {"in_opp": True, "instemming_ouders": True, "door": "school"}),
        ("route", {"route": "3.2", "door": "school"}),
        ("aanmelding_andere_school", {"school_brin": "34CD", "door": "ouders"}),
        ("voortgang", {"toelichting": "Kennismaking op de nieuwe school gepland.", "door": "school"}),
        ("passende_plek", {"uitkomst": "ingeschreven_andere_school", "school_brin": "34CD", "door": "school"}),
        ("uitschrijving", {"uitgeschreven_op": today().isoformat(), "door": "school"}),
        ("afronden", {"toelichting": "Uitschrijving gecontroleerd.", "door": contact}),
    ]


CSV_FIELDS = ["leerling_ref", "geboortedatum", "sector", "regio", "school_brin", "startdatum", "fase"]


def say(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


# ------------------------------------------------------------------------------------------------ the machine


def load_average() -> float:
    return float(Path("/proc/loadavg").read_text().split()[0])


def wait_until_quiet(limit: float = QUIET_LOAD, most: float = QUIET_WAIT_SECONDS) -> float:
    """Wait until the 1-minute load average is below ``limit`` (at most ``most`` seconds); return it."""
    begun = time.monotonic()
    told = -1e9
    while (load := load_average()) >= limit:
        waited = time.monotonic() - begun
        if waited >= most:
            say(f"load is still {load:.2f} after {waited / 60:.0f} minutes; measuring anyway (noted in the results)")
            return load
        if waited - told >= 60:
            say(f"machine busy (1-minute load {load:.2f} >= {limit}); waiting for it to quiet down ...")
            told = waited
        time.sleep(5)
    return load


def memory_kib(pid: int) -> tuple[int, int]:
    """(VmRSS, VmHWM) of a process in KiB: its resident memory now, and the peak."""
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            values[key] = int(rest.split()[0])
    return values["VmRSS"], values["VmHWM"]


def _stat(pid: int) -> list[str]:
    return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()


def cpu_seconds(pid: int, *, reaped_children: bool = False) -> float:
    """CPU time of a process (all its threads); with its children that ended when asked (a postmaster's)."""
    fields = _stat(pid)
    ticks = int(fields[11]) + int(fields[12])
    if reaped_children:
        ticks += int(fields[13]) + int(fields[14])
    return ticks / os.sysconf("SC_CLK_TCK")


def children_of(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int(_stat(int(entry.name))[1]) == pid:
                    found.append(int(entry.name))
            except (OSError, IndexError, ValueError):
                continue
    return found


def cpu_text(spent: dict[str, float], per: int, what: str) -> str:
    shown = ", ".join(f"{name} {seconds * 1000 / per:.0f} ms" for name, seconds in spent.items() if seconds > 0)
    return f"CPU per {what}: {shown}"


async def settle(pid: int, *, what: str, quiet_share: float = 0.03, window: float = 3.0, most: float = 900) -> None:
    """Wait until the process has used less than ``quiet_share`` of a core over ``window`` seconds."""
    begun = time.monotonic()
    told = begun
    while True:
        before = cpu_seconds(pid)
        await asyncio.sleep(window)
        used = cpu_seconds(pid) - before
        if used < quiet_share * window:
            return
        if time.monotonic() - begun > most:
            say(f"{what}: still busy after {most:.0f} s ({used / window:.0%} of a core); going on")
            return
        if time.monotonic() - told > 30:
            say(f"{what}: worker still busy ({used / window:.0%} of a core) ...")
            told = time.monotonic()


# ------------------------------------------------------------------------------------------------ the results


@dataclass
class Figure:
    name: str
    unit: str
    project: float | None
    baseline: float | None = None
    target: str = ""
    met: bool | None = None

    @property
    def ratio(self) -> float | None:
        if self.project is None or not self.baseline:
            return None
        return self.project / self.baseline


@dataclass
class Results:
    command: str
    figures: list[Figure] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, figure: Figure) -> None:
        self.figures.append(figure)
        ratio = f", ratio {figure.ratio:.2f}" if figure.ratio is not None else ""
        base = f", baseline {_number(figure.baseline)}" if figure.baseline is not None else ""
        say(f"RESULT {figure.name}: {_number(figure.project)} {figure.unit}{base}{ratio}")

    def table(self) -> str:
        header = ("figure", "project", "baseline", "ratio", "target")
        rows = [
            (
                f"{f.name} ({f.unit})",
                _number(f.project),
                _number(f.baseline),
                f"{f.ratio:.2f}" if f.ratio is not None else "-",
                f"{f.target} {'ok' if f.met else 'NOT MET'}" if f.met is not None else f.target,
            )
            for f in self.figures
        ]
        widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]

        def line(cells: Sequence[str]) -> str:
            first = cells[0].ljust(widths[0])
            rest = [cell.rjust(width) for cell, width in zip(cells[1:4], widths[1:4], strict=True)]
            return "| " + " | ".join([first, *rest, cells[4].ljust(widths[4])]) + " |"

        separator = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
        return "\n".join([line(header), separator, *(line(row) for row in rows)])


def _number(value: float | None) -> str:
    if value is None:
        return "-"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def percentile(values: Sequence[float], share: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))
    return ordered[index]


# ------------------------------------------------------------------------------------------------- the rules


def rules_cost_per_event(rounds: int, events: int = RULES_MARKS[-1], window: int = 9) -> dict[int, float]:
    """Milliseconds one ``voortgang`` costs in the rules at each mark of ``RULES_MARKS``: per round a fresh case takes
    ``events`` reports of the contract's largest size; at each mark, the median of the ``window`` events up to it,
    then the median over the rounds."""
    row = intake_row("BENCHRULES", 1)
    now = datetime.now(UTC)
    per_mark: dict[int, list[float]] = {mark: [] for mark in RULES_MARKS}
    for _ in range(rounds):
        state = rules.open_case(aanmelding(row), case_id="bench:rules", workflow_id="thuiszitter-bench", now=now)
        rules.take_effects(state)
        spent: list[float] = []
        for number in range(1, events + 1):
            head = f"voortgang {number}: "
            # the largest the contract allows: 4,000 characters of text, from the school, with a person id of 64
            payload = {"toelichting": head + "x" * (4000 - len(head)), "door": "school", "persoon": "p" * 64}
            begun = time.perf_counter()
            state = rules.receive(state, "voortgang", payload, now)
            rules.take_effects(state)
            spent.append(time.perf_counter() - begun)
        assert state.afgewezen_totaal == 0, state.afgewezen
        for mark in RULES_MARKS:
            per_mark[mark].append(statistics.median(spent[max(0, mark - window) : mark]))
    return {mark: statistics.median(values) * 1000 for mark, values in per_mark.items()}


# ------------------------------------------------------------------------------------------------- the cases


def today() -> date:
    return amsterdam_date(datetime.now(UTC))


def intake_row(ref: str, number: int, *, fase: int = 1) -> dict[str, Any]:
    """A pupil of a PO (odd ``number``) or VO school (even), of an age that fits the sector (PO 4 to 13, VO 10 to 18
    on the start date)."""
    start = today() - timedelta(days=3)
    sector = "PO" if number % 2 else "VO"
    age = (6 if sector == "PO" else 12) + number % 6
    return {
        "leerling_ref": ref,
        "geboortedatum": date(start.year - age, 1 + number % 12, 15).isoformat(),
        "sector": sector,
        "regio": "Noord" if number % 3 else "Zuid",
        "school_brin": f"{10 + number % 80}AB",
        "startdatum": start.isoformat(),
        "fase": fase,
    }


def write_csv(path: Path, rows: Sequence[dict[str, Any]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.DictWriter(out, fieldnames=CSV_FIELDS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return path


def aanmelding(row: dict[str, Any]) -> Aanmelding:
    return Aanmelding.model_validate(row)


def effect_counts(row: dict[str, Any], events: Sequence[tuple[str, dict[str, Any]]]) -> tuple[int, list[int]]:
    """How many activities the case workflow runs at its start and after each event, by the project's rules."""
    now = datetime.now(UTC)
    opened = aanmelding(row).model_copy(update={"beleid": policy.DEFAULT_BELEID})
    state = rules.fire_due_terms(rules.open_case(opened, case_id="c", workflow_id="w", now=now), now)
    at_start = len(state.openstaand)
    counts = []
    for name, payload in events:
        state = state.model_copy(update={"openstaand": []})
        state = rules.receive(state, name, payload, now)
        if state.afgewezen:
            raise RuntimeError(f"the rules refuse {name}: {state.afgewezen[-1].reden}")
        counts.append(len(state.openstaand))
    return at_start, counts


def bare_plan(fase: int, events: Sequence[tuple[str, dict[str, Any]]], sector: str = "PO") -> BarePlan:
    """What the case workflow does for a pupil of ``sector`` (VO runs through Koers VO: fewer calls than PO)."""
    at_start, counts = effect_counts(intake_row("plan", 1 if sector == "PO" else 2, fase=fase), events)
    per_event: dict[str, int] = {}
    for (name, _), count in zip(events, counts, strict=True):
        if per_event.setdefault(name, count) != count:
            raise RuntimeError(f"{name} has no fixed number of activities")
    return BarePlan(at_start=at_start, per_event=per_event, closing=CLOSING)


def history_shape(history: WorkflowHistory) -> str:
    counts = Counter(event.event_type for event in history.events)
    parts = {
        "signals": EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED,
        "activities": EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED,
        "timers": EventType.EVENT_TYPE_TIMER_STARTED,
        "workflow tasks": EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED,
    }
    shown = ", ".join(f"{label} {counts[kind]}" for label, kind in parts.items())
    return f"{shown}, events {len(history.events)}"


# --------------------------------------------------------------------------------------------- the benchmark


@dataclass
class Bench:
    stack: DevStack
    work: Path
    project: Client
    bare: Client
    bare_worker: Child
    results: Results
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex[:6])
    lifecycle_histories: dict[str, WorkflowHistory] = field(default_factory=dict)
    profile_dir: Path | None = None
    scenario: str = ""

    @property
    def py_spy(self) -> str:
        return str(Path(sys.executable).parent / "py-spy")

    @contextlib.asynccontextmanager
    async def profiled(self, scenario: str) -> AsyncIterator[None]:
        """With ``--profile DIR``: py-spy samples both workers during the scenario (collapsed stacks in DIR)."""
        self.scenario = scenario
        if self.profile_dir is None:
            yield
            return
        spy = self.py_spy
        samplers = [
            await asyncio.create_subprocess_exec(
                spy,
                "record",
                "--pid",
                str(pid),
                "--format",
                "raw",
                "--rate",
                "200",
                "--nonblocking",
                "--output",
                str(self.profile_dir / f"{scenario}-{who}.txt"),
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            for who, pid in (("worker", self.worker_pid), ("bare", self.bare_worker.pid))
        ]
        try:
            yield
        finally:
            for sampler in samplers:
                sampler.send_signal(signal.SIGINT)
            for sampler in samplers:
                await sampler.wait()

    @property
    def worker_pid(self) -> int:
        return next(child.pid for child in self.stack.children if child.label == "Worker")

    def cpu(self) -> dict[str, float]:
        """CPU seconds used so far by each part of the stack."""
        used = {"temporal": 0.0, "worker": 0.0, "postgres": 0.0, "bare worker": 0.0}
        with contextlib.suppress(OSError, StopIteration):
            used["temporal"] = cpu_seconds(next(c.pid for c in self.stack.children if c.label == "Temporal"))
        with contextlib.suppress(OSError):
            used["worker"] = cpu_seconds(self.worker_pid)
        with contextlib.suppress(OSError):
            used["bare worker"] = cpu_seconds(self.bare_worker.pid)
        if self.stack.postgres is not None:
            with contextlib.suppress(OSError, ValueError):
                pid_file = self.stack.postgres.pgdata / "postmaster.pid"
                postmaster = int(pid_file.read_text().split()[0])
                used["postgres"] = cpu_seconds(postmaster, reaped_children=True) + sum(
                    cpu_seconds(child) for child in children_of(postmaster)
                )
        return used

    @staticmethod
    def spent(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
        return {name: after[name] - before[name] for name in after}

    def ref(self, scenario: str, number: int) -> str:
        return f"B{scenario}-{self.run_id}-{number:05d}"

    async def project_pool(self) -> asyncpg.Connection[asyncpg.Record]:
        assert self.stack.database_url is not None
        return await asyncpg.connect(self.stack.database_url)

    async def registered(self, prefix: str) -> int:
        """How many cases of this scenario the register has (the last effect of an intake is its register line)."""
        connection = await self.project_pool()
        try:
            count: int = await connection.fetchval(
                "SELECT count(*) FROM cases WHERE leerling_ref LIKE $1", f"{prefix}%"
            )
        finally:
            await connection.close()
        return count

    # ---------------------------------------------------------------------------------------------- intake

    async def run_intake(self, label: str, command: list[str], rows: int) -> tuple[float, float, int, float]:
        """Run an intake process; (starts per second between the first and the last reported row, wall seconds,
        rows reported as started, CPU seconds of the process)."""
        if self.profile_dir is not None:  # sampled too (its CPU then includes py-spy's)
            output = self.profile_dir / f"{self.scenario}-{label}.txt"
            command = [
                self.py_spy,
                "record",
                "--format",
                "raw",
                "--rate",
                "200",
                "--output",
                str(output),
                "--",
                *command,
            ]
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        begun = time.perf_counter()
        process = await asyncio.create_subprocess_exec(
            *command,
            cwd=REPO,
            env=self.stack.env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        assert process.stdout is not None
        first = last = 0.0
        reported = started = 0
        step = max(1, rows // 10)
        tail: list[str] = []
        async for raw in process.stdout:
            text = raw.decode(errors="replace").rstrip()
            if not text.startswith("regel"):
                tail = [*tail[-5:], text]
                continue
            now = time.perf_counter()
            first = first or now
            last = now
            reported += 1
            started += " gestart " in text
            if reported % step == 0 and rows >= 500:
                say(f"{label}: {reported}/{rows} rows")
        code = await process.wait()
        wall = time.perf_counter() - begun
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        client = after.ru_utime + after.ru_stime - children.ru_utime - children.ru_stime
        if code != 0 or started != rows:
            say(f"{label}: exit code {code}, {started} of {rows} started; last lines: {tail}")
        rate = (reported - 1) / (last - first) if reported > 1 and last > first else 0.0
        return rate, wall, started, client

    async def intake(self, rows: int, scenario: str, *, fase: int = 1, bare_first: bool = False) -> tuple[float, float]:
        """Start ``rows`` cases with starter.py and as many bare workflows with bench.bare, from one CSV; the
        project's side first unless ``bare_first``."""
        cases = [intake_row(self.ref(scenario, i), i, fase=fase) for i in range(rows)]
        path = write_csv(self.work / f"{scenario}.csv", cases)
        plan_file = self.work / f"plan_{scenario}.json"
        plan_file.write_text(json.dumps(asdict(bare_plan(fase, [(UPDATE_EVENT, UPDATE_PAYLOAD)]))))
        concurrency = str(getattr(intake, "DEFAULT_CONCURRENCY", 1))
        bare_command = [sys.executable, "-m", "bench.bare", "start", str(path), "--task-queue", BARE_QUEUE]
        bare_command += ["--plan", str(plan_file), "--concurrency", concurrency]
        sides = {
            "project": ("starter.py", [sys.executable, "starter.py", str(path)], self.worker_pid, "cases"),
            "bare": ("bench.bare start", bare_command, self.bare_worker.pid, "workflows"),
        }
        rates: dict[str, float] = {}
        for side in ("bare", "project") if bare_first else ("project", "bare"):
            label, command, worker_pid, what = sides[side]
            say(f"{scenario}: {label} on {rows} rows (concurrency {concurrency}) ...")
            before = self.cpu()
            rate, wall, started, client = await self.run_intake(label.split()[0], command, rows)
            await settle(worker_pid, what=f"{scenario} ({side})")
            spent = {label: client, **self.spent(before, self.cpu())}
            self.results.notes.append(f"{scenario}, {side}: " + cpu_text(spent, rows, "case started"))
            say(self.results.notes[-1])
            say(f"{scenario}: {label} started {started} {what} in {wall:.1f} s (process included), {rate:.1f} starts/s")
            rates[side] = rate
        return rates["project"], rates["bare"]

    async def scenario_intake(self, rows: int) -> None:
        """Two rounds, the second with the baseline first, so neither side always meets the busier server."""
        first = await self.intake(rows, "intake")
        second = await self.intake(rows, "intake-b", bare_first=True)
        project_rate, bare_rate = statistics.mean((first[0], second[0])), statistics.mean((first[1], second[1]))
        say(f"intake: project {first[0]:.1f} and {second[0]:.1f} starts/s, bare {first[1]:.1f} and {second[1]:.1f}")
        figure = Figure(f"intake, 2 x {rows} rows", "starts/s", project_rate, bare_rate, target=">= 0.8 x bare")
        figure.met = figure.ratio is not None and figure.ratio >= 0.8
        self.results.add(figure)

    # ------------------------------------------------------------------------------------------- lifecycle

    async def scenario_lifecycle(self, cases: int) -> None:
        plans = {sector: bare_plan(0, lifecycle(sector), sector) for sector in SECTORS}
        say(
            f"lifecycle: {cases} cases through {len(lifecycle('PO'))} events, "
            + ", ".join(f"{s} {p.at_start + sum(p.per_event.values())}" for s, p in plans.items())
            + " activities each ..."
        )
        before = self.cpu()
        project_seconds, project_history = await self._lifecycle(cases, self._project_case)
        await settle(self.worker_pid, what="lifecycle")
        middle = self.cpu()
        say(f"lifecycle: project {cases} cases in {project_seconds:.1f} s; {history_shape(project_history)}")
        bare_seconds, bare_history = await self._lifecycle(cases, lambda n: self._bare_case(n, plans))
        await settle(self.bare_worker.pid, what="lifecycle (bare)")
        after = self.cpu()
        say(f"lifecycle: bare    {cases} cases in {bare_seconds:.1f} s; {history_shape(bare_history)}")
        for side, spent in (("project", self.spent(before, middle)), ("bare", self.spent(middle, after))):
            self.results.notes.append(f"lifecycle, {side}: " + cpu_text(spent, cases, "case"))
            say(self.results.notes[-1])
        self.lifecycle_histories = {"project": project_history, "bare": bare_history}
        figure = Figure(
            f"lifecycle, {cases} cases", "cases/s", cases / project_seconds, cases / bare_seconds, ">= 0.7 x bare"
        )
        figure.met = figure.ratio is not None and figure.ratio >= 0.7
        self.results.add(figure)

    async def _lifecycle(
        self, cases: int, drive: Callable[[int], Awaitable[WorkflowHandle[Any, Any]]]
    ) -> tuple[float, WorkflowHistory]:
        gate = asyncio.Semaphore(CLIENT_CONCURRENCY)

        async def one(number: int) -> WorkflowHandle[Any, Any]:
            async with gate:
                handle = await drive(number)
            await handle.result()
            return handle

        begun = time.perf_counter()
        handles = await asyncio.gather(*(one(number) for number in range(cases)))
        seconds = time.perf_counter() - begun
        return seconds, await handles[-1].fetch_history()

    async def _project_case(self, number: int) -> WorkflowHandle[Any, Any]:
        row = intake_row(self.ref("cycle", number), number, fase=0)
        handle = await start_case(self.project, aanmelding(row), self.stack.task_queue)
        for name, payload in lifecycle(row["sector"]):
            await handle.signal(name, payload)
        return handle

    async def _bare_case(self, number: int, plans: dict[str, BarePlan]) -> WorkflowHandle[Any, Any]:
        row = intake_row(self.ref("cycle", number), number, fase=0)
        plan = plans[row["sector"]]
        handle = await self.bare.start_workflow(
            BARE_WORKFLOW_TYPE,
            BarePlan(plan.at_start, plan.per_event, plan.closing, row),
            id=bare_workflow_id(row["leerling_ref"]),
            task_queue=BARE_QUEUE,
        )
        for name, payload in lifecycle(row["sector"]):
            await handle.signal(name, payload)
        return handle

    # --------------------------------------------------------------------------------------------- latency

    async def latencies(
        self, project_refs: Sequence[str], bare_refs: Sequence[str], updates: int
    ) -> tuple[list[float], list[float]]:
        """Sequential update round trips (ms): ``updates`` voortgang events spread over the given cases."""
        project_handles = [self.project.get_workflow_handle(workflow_id_for(ref)) for ref in project_refs]
        bare_handles = [self.bare.get_workflow_handle(bare_workflow_id(ref)) for ref in bare_refs]

        async def measure(handles: Sequence[WorkflowHandle[Any, Any]], result_type: type) -> list[float]:
            times = []
            for number in range(updates):
                handle = handles[number % len(handles)]
                payload = {"toelichting": f"Voortgang {number}: gesprek met ouders gevoerd.", "door": "school"}
                begun = time.perf_counter()
                await handle.execute_update(UPDATE_EVENT, payload, result_type=result_type)
                times.append((time.perf_counter() - begun) * 1000)
            return times

        project = await measure(project_handles, CaseStatus)
        await settle(self.worker_pid, what="latency")
        bare = await measure(bare_handles, dict)
        await settle(self.bare_worker.pid, what="latency (bare)")
        return project, bare

    def add_latency(self, label: str, project: list[float], bare: list[float], target_p99: float | None) -> None:
        self.results.add(Figure(f"{label} p50", "ms", percentile(project, 0.5), percentile(bare, 0.5)))
        figure = Figure(f"{label} p99", "ms", percentile(project, 0.99), percentile(bare, 0.99))
        if target_p99 is not None:
            figure.target = f"< {target_p99:.0f} ms"
            figure.met = percentile(project, 0.99) < target_p99
        self.results.add(figure)

    async def scenario_latency(self, updates: int, cases: int = 50) -> None:
        refs = [self.ref("lat", number) for number in range(cases)]
        rows = [intake_row(ref, number) for number, ref in enumerate(refs)]
        plan = bare_plan(1, [(UPDATE_EVENT, UPDATE_PAYLOAD)])
        say(f"latency: {cases} fresh cases each side, then {updates} sequential updates per side ...")
        for row in rows:
            await start_case(self.project, aanmelding(row), self.stack.task_queue)
            await self.bare.start_workflow(
                BARE_WORKFLOW_TYPE,
                BarePlan(plan.at_start, plan.per_event, plan.closing, row),
                id=bare_workflow_id(row["leerling_ref"]),
                task_queue=BARE_QUEUE,
            )
        await settle(self.worker_pid, what="latency")
        await settle(self.bare_worker.pid, what="latency (bare)")
        project, bare = await self.latencies(refs, refs, updates)
        open_now = await self.open_cases()
        self.add_latency(f"update round trip, {open_now[0]:,} open", project, bare, None)

    # ----------------------------------------------------------------------------------------------- scale

    async def open_cases(self) -> tuple[int, int]:
        project = await self.project.count_workflows(f'WorkflowType="{WORKFLOW_TYPE}" AND ExecutionStatus="Running"')
        bare = await self.bare.count_workflows(f'WorkflowType="{BARE_WORKFLOW_TYPE}" AND ExecutionStatus="Running"')
        return project.count, bare.count

    async def scenario_scale(self, open_cases: int, updates: int) -> None:
        worker_before = memory_kib(self.worker_pid)
        bare_before = memory_kib(self.bare_worker.pid)
        say(
            f"scale: worker RSS before {worker_before[0] / 1024:.0f} MiB "
            f"(bare {bare_before[0] / 1024:.0f} MiB); starting {open_cases:,} cases each side ..."
        )
        # Voortraject cases (fase 0): one register line each at the start, then waiting for their melding and
        # the four-week term; a melding at intake would add five more calls and messages per case to the start.
        project_rate, bare_rate = await self.intake(open_cases, "scale", fase=0)
        self.results.add(Figure(f"intake, {open_cases:,} rows", "starts/s", project_rate, bare_rate))
        prefix = f"Bscale-{self.run_id}-"
        begun = time.monotonic()
        while (done := await self.registered(prefix)) < open_cases:
            if time.monotonic() - begun > 1800:
                say(f"scale: only {done:,} of {open_cases:,} cases registered after 30 minutes; going on")
                break
            say(f"scale: {done:,} of {open_cases:,} cases have done their first activities ...")
            await asyncio.sleep(15)
        await settle(self.worker_pid, what="scale")
        await settle(self.bare_worker.pid, what="scale (bare)")
        project_open, bare_open = await self.open_cases()
        worker_memory = memory_kib(self.worker_pid)
        bare_memory = memory_kib(self.bare_worker.pid)
        say(f"scale: open now: project {project_open:,}, bare {bare_open:,}")
        self.results.add(Figure("open cases on one worker", "cases", project_open, bare_open))
        peak = Figure("worker memory, peak (VmHWM)", "MiB", worker_memory[1] / 1024, bare_memory[1] / 1024, "< 1024")
        peak.met = worker_memory[1] / 1024 < 1024
        self.results.add(peak)
        self.results.add(
            Figure("worker memory, all open (VmRSS)", "MiB", worker_memory[0] / 1024, bare_memory[0] / 1024)
        )
        chosen = random.Random(7).sample(range(open_cases), min(updates, open_cases))
        refs = [self.ref("scale", number) for number in chosen]
        say(f"scale: {len(refs)} sequential updates per side, each to a different open case ...")
        project, bare = await self.latencies(refs, refs, len(refs))
        self.add_latency(f"update round trip, {project_open:,} open", project, bare, 100)
        after = memory_kib(self.worker_pid)
        bare_after = memory_kib(self.bare_worker.pid)
        self.results.add(
            Figure("worker memory after the updates (VmRSS)", "MiB", after[0] / 1024, bare_after[0] / 1024)
        )

    # --------------------------------------------------------------------------------------------- werkbak

    async def scenario_werkbak(self, open_cases: int, action_cases: int, rounds: int) -> None:
        url = self.stack.web_url
        if url is None:
            say("werkbak: the stack runs no web application; skipped")
            return
        assert self.stack.database_url is not None
        pool = await asyncpg.create_pool(self.stack.database_url, min_size=1, max_size=4)
        try:
            await werkbak.prepare_people(pool, [*werkbak.PAGE_READERS, werkbak.ACTOR])
            refs = await self.open_cases_at_99aa(pool, action_cases)
            case_ids: list[str] = [
                row["case_id"]
                for row in await pool.fetch(
                    "SELECT case_id FROM cases WHERE leerling_ref = ANY($1::text[]) AND NOT afgesloten", refs
                )
            ]
            open_now = await pool.fetchval("SELECT count(*) FROM cases WHERE NOT afgesloten")
            actions = await werkbak.measure_actions(url, case_ids, rounds, say)
            self._werkbak_figure(f"action round trip, {open_now:,} open p50", actions.p50, None)
            self._werkbak_figure(f"action round trip, {open_now:,} open p95", actions.p95, 300)
            seeded = max(0, open_cases - open_now)
            say(f"werkbak: writing {seeded:,} open cases with their tasks into the register ...")
            await werkbak.seed(pool, seeded, 6, f"Bwbp-{self.run_id}-")
            figures = await pool.fetchrow(
                "SELECT (SELECT count(*) FROM cases WHERE NOT afgesloten) AS cases, "
                "(SELECT count(*) FROM tasks) AS tasks"
            )
            assert figures is not None
            say(f"werkbak: register holds {figures['cases']:,} open cases and {figures['tasks']:,} task rows")
            tasks, case, sizes = await werkbak.measure_pages(url, pool, f"Bwbp-{self.run_id}-", rounds, say)
            label = f"{figures['cases']:,} open, {figures['tasks']:,} tasks"
            self._werkbak_figure(f"mijn taken, {label} p50", tasks.p50, None)
            self._werkbak_figure(f"mijn taken, {label} p95", tasks.p95, 100)
            self._werkbak_figure(f"case page, {label} p50", case.p50, None)
            self._werkbak_figure(f"case page, {label} p95", case.p95, 150)
            self.results.notes.append(
                "werkbak: open tasks per reader: " + ", ".join(f"{who} {n:,}" for who, n in sizes.items())
            )
        finally:
            await pool.close()

    async def open_cases_at_99aa(self, pool: asyncpg.Pool[asyncpg.Record], count: int) -> list[str]:
        """``count`` open cases at school 99AA in the register (started now when there are fewer); their refs."""
        have: list[str] = [
            row["leerling_ref"]
            for row in await pool.fetch(
                "SELECT leerling_ref FROM cases WHERE school_brin = '99AA' AND NOT afgesloten "
                "AND workflow_id = 'thuiszitter-' || leerling_ref AND case_id NOT LIKE '%:run'"
            )
        ]
        missing = count - len(have)
        if missing > 0:
            say(f"starting {missing:,} cases at school 99AA ...")
            refs = [self.ref("open", number) for number in range(missing)]
            gate = asyncio.Semaphore(CLIENT_CONCURRENCY)

            async def start(number: int, ref: str) -> None:
                row = {**intake_row(ref, 1 + 2 * number), "school_brin": "99AA", "regio": "Noord"}
                async with gate:
                    await start_case(self.project, aanmelding(row), self.stack.task_queue)

            await asyncio.gather(*(start(number, ref) for number, ref in enumerate(refs)))
            prefix = f"Bopen-{self.run_id}-"
            begun = time.monotonic()
            while (done := await self.registered(prefix)) < missing and time.monotonic() - begun < 600:
                say(f"{done:,} of {missing:,} cases registered ...")
                await asyncio.sleep(2)
            await settle(self.worker_pid, what="open cases")
            have += refs
        return have[:count]

    async def scenario_api(self, cases: int, rounds: int, clients: int = 20, events: int = 2_000) -> None:
        url = self.stack.web_url
        if url is None:
            say("api: the stack runs no web application; skipped")
            return
        assert self.stack.database_url is not None
        pool = await asyncpg.create_pool(self.stack.database_url, min_size=1, max_size=4)
        try:
            client_ids = await api_bench.prepare_clients(pool, clients)
            refs = await self.open_cases_at_99aa(pool, cases)
            open_now = await pool.fetchval("SELECT count(*) FROM cases WHERE NOT afgesloten")
            say(f"api: {rounds} round trips each way with {open_now:,} open cases ...")
            trips = await api_bench.round_trips(url, self.project, refs, rounds, say)
            for share, name in ((0.5, "p50"), (0.99, "p99")):
                figure = Figure(
                    f"event round trip, API vs direct update, {open_now:,} open {name}",
                    "ms",
                    percentile(trips.api, share),
                    percentile(trips.direct, share),
                    "<= 1.15 x direct",
                )
                figure.met = percentile(trips.api, share) <= 1.15 * percentile(trips.direct, share)
                self.results.add(figure)
                self.results.add(
                    Figure(
                        f"event round trip, API with httpx as the client vs direct update, {open_now:,} open {name}",
                        "ms",
                        percentile(trips.api_httpx, share),
                        percentile(trips.direct, share),
                    )
                )
            say(f"api: {clients} clients at once, {events:,} events in all ...")
            ok, failed, seconds = await api_bench.concurrent(url, client_ids, refs, events, say)
            figure = Figure(f"API, {clients} clients at once: events answered 200 of {events:,}", "events", ok)
            figure.target = "all, none refused"
            figure.met = ok == events and failed == 0
            self.results.add(figure)
            self.results.add(Figure(f"API, {clients} clients at once: events per second", "events/s", ok / seconds))
        finally:
            await pool.close()

    def _werkbak_figure(self, name: str, value: float, target_ms: float | None) -> None:
        figure = Figure(name, "ms", value)
        if target_ms is not None:
            figure.target = f"< {target_ms:.0f} ms"
            figure.met = value < target_ms
        self.results.add(figure)

    # ---------------------------------------------------------------------------------------------- replay

    async def scenario_rules(self, rounds: int) -> None:
        say(f"rules: {RULES_MARKS[-1]:,} reports of the largest size on a fresh case, {rounds} rounds ...")
        cost = rules_cost_per_event(rounds)
        first = cost[RULES_MARKS[0]]
        for mark in RULES_MARKS:
            last = mark == RULES_MARKS[-1]
            self.results.add(
                Figure(
                    f"rules, event {mark:,} of a case",
                    "ms",
                    cost[mark],
                    first if mark != RULES_MARKS[0] else None,
                    target=f"<= 1.5 x event {RULES_MARKS[0]}" if last else "",
                    met=cost[mark] <= 1.5 * first if last else None,
                )
            )

    async def scenario_replay(self, repeats: int) -> None:
        # The worker's runner (the SDK's unsandboxed runner), so a replay here costs what a cache miss costs the
        # worker; the lifecycle case also in the SDK's sandbox, both against the bare workflow on the same runner.
        converter = build_data_converter(Settings.from_env(self.stack.env))
        if self.lifecycle_histories:
            events = len(self.lifecycle_histories["project"].events)
            for sandbox in (False, True):
                project = await replay_median(
                    Replayer(workflows=[ThuiszitterWorkflow], **runner(sandbox, converter)),
                    self.lifecycle_histories["project"],
                    repeats,
                )
                bare = await replay_median(
                    Replayer(workflows=[BareWorkflow], **runner(sandbox)), self.lifecycle_histories["bare"], repeats
                )
                # The engine's cost for what the procedure requires of a case, without the case's own code: the
                # bare history replayed with a summary on every activity and timer, and encrypted payloads.
                required = await replay_median(
                    Replayer(workflows=[BareWorkflowWithSummaries], **runner(sandbox, converter)),
                    self.lifecycle_histories["bare"],
                    repeats,
                )
                where = "in the SDK's sandbox" if sandbox else "worker's runner"
                figure = Figure(f"replay, lifecycle case ({events} events), {where}", "ms", project, bare)
                if not sandbox:
                    figure.target = "<= 1.4 x bare"
                    figure.met = figure.ratio is not None and figure.ratio <= 1.4
                self.results.add(figure)
                self.results.add(Figure(f"replay, bare with summaries and encryption, {where}", "ms", required, bare))
        fixtures = Replayer(workflows=[ThuiszitterWorkflow], **runner(False, pydantic_data_converter))
        for path in sorted(HISTORIES.glob("*.json")):
            history = WorkflowHistory.from_json(f"thuiszitter-{path.stem}", json.loads(path.read_text()))
            median = await replay_median(fixtures, history, repeats)
            self.results.add(Figure(f"replay, fixture {path.stem} ({len(history.events)} events)", "ms", median))


def runner(sandbox: bool, converter: DataConverter = DataConverter.default) -> dict[str, Any]:
    """``Replayer`` keyword arguments: the data converter, and the worker's runner (the SDK's unsandboxed runner) or
    the SDK's sandbox."""
    workflow_runner = SandboxedWorkflowRunner() if sandbox else WorkerTuning().worker_options()["workflow_runner"]
    return {"data_converter": converter, "workflow_runner": workflow_runner}


async def replay_median(replayer: Replayer, history: WorkflowHistory, repeats: int) -> float | None:
    """Median milliseconds to replay ``history``; None (with a notice) when it does not replay on this code."""
    warm = await replayer.replay_workflow(history, raise_on_replay_failure=False)  # imports, first sandbox
    if warm.replay_failure is not None:
        say(f"replay of {history.workflow_id} fails on this code: {warm.replay_failure}")
        return None
    times = []
    for _ in range(repeats):
        begun = time.perf_counter()
        await replayer.replay_workflow(history)
        times.append((time.perf_counter() - begun) * 1000)
    return statistics.median(times)


# ------------------------------------------------------------------------------------------------- the command


def machine() -> str:
    cpu = "?"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    memory = Path("/proc/meminfo").read_text().splitlines()[0].split()[1]
    return f"nproc {os.cpu_count()}, {cpu}, {int(memory) / 1024 / 1024:.1f} GiB RAM"


async def run(args: argparse.Namespace, command: str) -> Results:
    results = Results(command)
    chosen = [name.strip() for name in args.scenarios.split(",") if name.strip()]
    unknown = sorted(set(chosen) - set(SCENARIOS))
    if unknown:
        raise SystemExit(f"unknown scenario(s): {', '.join(unknown)}; choose from {', '.join(SCENARIOS)}")
    results.notes.append(f"machine: {machine()}")
    load = wait_until_quiet(most=args.max_wait)
    results.notes.append(f"1-minute load average before: {load:.2f}")
    with tempfile.TemporaryDirectory(prefix="thuiszitters-bench-") as folder:
        work = Path(folder)
        base_env = {key: value for key, value in os.environ.items() if key != "DATABASE_URL"}
        base_env.pop("THUISZITTERS_TASK_QUEUE", None)
        config = StackConfig.on_free_ports(
            work / "stack", codec_server=False, demo=False, web=bool({"werkbak", "api"} & set(chosen))
        )
        stack = DevStack(config, base_env=base_env, say=say)
        with stack:
            bare_worker = Child(
                "Bare worker",
                [sys.executable, "-m", "bench.bare", "worker", "--task-queue", BARE_QUEUE],
                stack.log_dir / "bare-worker.log",
                env=stack.env,
                cwd=REPO,
                stop_timeout=15,
            )
            try:
                await _wait_for_log(bare_worker, "bare worker polling")
                settings = Settings.from_env(stack.env)
                project = await Client.connect(
                    stack.temporal_address, namespace="default", data_converter=build_data_converter(settings)
                )
                bare = await Client.connect(stack.temporal_address, namespace="default")
                bench = Bench(stack, work, project, bare, bare_worker, results)
                bench.profile_dir = args.profile
                say(f"stack up: Temporal {stack.temporal_address}; logs in {stack.log_dir}")
                # Replay uses the lifecycle's histories; scale goes last, as it leaves 10,000 cases open.
                runs: dict[str, Callable[[], Awaitable[None]]] = {
                    "rules": lambda: bench.scenario_rules(args.repeats),
                    "intake": lambda: bench.scenario_intake(args.cases),
                    "lifecycle": lambda: bench.scenario_lifecycle(args.cases),
                    "latency": lambda: bench.scenario_latency(args.updates),
                    "replay": lambda: bench.scenario_replay(args.repeats),
                    "scale": lambda: bench.scenario_scale(args.open, args.updates),
                    "werkbak": lambda: bench.scenario_werkbak(args.open, args.action_cases, args.page_rounds),
                    "api": lambda: bench.scenario_api(args.action_cases, args.updates),
                }
                for name, scenario in runs.items():
                    if name in chosen:
                        async with bench.profiled(name):
                            await scenario()
                if args.keep_logs:
                    copy_logs(stack.log_dir, args.keep_logs)
                if args.keep_histories:
                    keep_histories(bench.lifecycle_histories, args.keep_histories)
            finally:
                bare_worker.stop()
    results.notes.append(f"1-minute load average after: {load_average():.2f}")
    return results


def copy_logs(source: Path, target: Path) -> None:
    target.mkdir(parents=True, exist_ok=True)
    for log in source.glob("*.log"):
        (target / log.name).write_bytes(log.read_bytes())


def keep_histories(histories: dict[str, WorkflowHistory], target: Path) -> None:
    """The lifecycle cases' histories as JSON (``project.json`` is encrypted with the stack's codec keys)."""
    if not histories:
        say("no lifecycle histories to keep: the lifecycle scenario did not run")
        return
    target.mkdir(parents=True, exist_ok=True)
    for side, history in histories.items():
        (target / f"{side}.json").write_text(history.to_json())
    say(f"lifecycle histories written to {target}")
    if not os.environ.get("THUISZITTERS_CODEC_KEYS"):
        say(
            "project.json is encrypted with this run's own key, which goes with the stack: set "
            "THUISZITTERS_CODEC_KEYS before the run to replay it later"
        )


async def _wait_for_log(child: Child, text: str, most: float = 60) -> None:
    deadline = time.monotonic() + most
    while time.monotonic() < deadline:
        if not child.alive():
            raise RuntimeError(f"{child.label} stopped:\n{child.tail()}")
        if child.log_file.exists() and text in child.log_file.read_text(errors="replace"):
            return
        await asyncio.sleep(0.3)
    raise RuntimeError(f"{child.label} did not start within {most:.0f} s:\n{child.tail()}")


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=300, help="cases for intake and lifecycle (default 300)")
    parser.add_argument("--open", type=int, default=10_000, help="open cases for the scale scenario (10,000)")
    parser.add_argument("--updates", type=int, default=500, help="updates per latency measurement (500)")
    parser.add_argument("--repeats", type=int, default=20, help="replays per history (20)")
    parser.add_argument("--action-cases", type=int, default=1_000, help="open cases for the werkbak's actions (1,000)")
    parser.add_argument("--page-rounds", type=int, default=200, help="loads of each werkbak page per person (200)")
    parser.add_argument("--quick", action="store_true", help="small numbers: a check that everything runs")
    parser.add_argument("--scenarios", default=",".join(SCENARIOS), help="comma-separated subset to run")
    parser.add_argument(
        "--max-wait", type=float, default=QUIET_WAIT_SECONDS, help="seconds to wait for a quiet machine (600)"
    )
    parser.add_argument("--profile", metavar="DIR", help="sample both workers with py-spy per scenario into DIR")
    parser.add_argument("--keep-logs", metavar="DIR", help="copy the stack's logs here at the end")
    parser.add_argument(
        "--keep-histories", metavar="DIR", help="write the lifecycle cases' histories here (project.json, bare.json)"
    )
    args = parser.parse_args(argv)
    if args.profile:
        args.profile = Path(args.profile).absolute()
        args.profile.mkdir(parents=True, exist_ok=True)
    if args.keep_logs:
        args.keep_logs = Path(args.keep_logs).absolute()
    if args.keep_histories:
        args.keep_histories = Path(args.keep_histories).absolute()
    if args.quick:
        args.cases, args.open, args.updates, args.repeats = min(args.cases, 40), min(args.open, 500), 100, 5
        args.action_cases, args.page_rounds = min(args.action_cases, 50), min(args.page_rounds, 20)
    for signum in (signal.SIGINT, signal.SIGTERM):  # stop the stack cleanly, also when started in the background
        signal.signal(signum, _interrupt)
    command = "python -m bench.run " + " ".join(argv if argv is not None else sys.argv[1:])
    begun = time.monotonic()
    results = asyncio.run(run(args, command.strip()))
    print()
    print(f"command: {results.command}")
    for note in results.notes:
        print(note)
    print(f"took {(time.monotonic() - begun) / 60:.1f} minutes")
    print()
    print(results.table(), flush=True)
    sys.stdout.flush()
    os._exit(0)  # as starter.py: no teardown of the client runtimes' threads at interpreter exit


if __name__ == "__main__":
    raise SystemExit(main())
