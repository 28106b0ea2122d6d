"""The fault suite's harness: a real stack, real worker processes, batches of live cases, and the check that after a
fault every case ended as its events call for, with each effect in the register exactly once.

- :class:`FaultStack`: the development stack of ``python3 dev.py up`` (PostgreSQL, the Temporal dev server on its
  database file), started once for the suite in a temporary folder on free ports, without its own worker; the
  tests start ``python worker.py`` processes themselves (:meth:`FaultStack.start_worker`) so they can kill them,
  and can stop PostgreSQL (:meth:`FaultStack.postgres_outage`) or restart Temporal
  (:meth:`FaultStack.restart_temporal`).
- The moment of a fault is arranged, not hoped for: each worker sends its registration calls to the stand-in
  partner systems on a URL of its own (:func:`partner_env`), the partners hold the answers to some calls of the
  worker to be hit (``PartnerSystems.hold``), and the fault strikes once they hold them (:func:`held_requests`):
  those calls are in flight at that moment, whatever the speed of the machine.
- :class:`Batch`: a batch of cases, each driven by a fixed :class:`Script` of events sent as signals.
- :func:`expected_state`: what a case must look like after the signals it received, from the pure rules
  (:mod:`workflows.rules`) fed the same events: the final status, and every effect (register line,
  registration call, notification) by its key.
- :meth:`Batch.verify`: compares each case's result and its rows in the case register with that, and counts the
  effects that are there twice or missing. Each scenario's :class:`Outcome` is printed in a table at the end of
  the run (see ``conftest.py``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import signal
import sys
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar, cast

import aiohttp
import asyncpg
from temporalio.api.enums.v1 import EventType, PendingActivityState, WorkflowTaskFailedCause
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import Client, WorkflowExecutionStatus, WorkflowHandle
from temporalio.service import RPCError

from devtools.devstack import HOST, NAMESPACE, Child, DevStack, free_port, port_free
from tests.outside import PartnerSystems, Receipt
from thuiszitters.cases import start_case
from thuiszitters.settings import Settings
from thuiszitters.temporal.converter import build_data_converter
from workflows import rules
from workflows.calendar import amsterdam_date
from workflows.contract import Aanmelding, CaseStatus, workflow_id_for
from workflows.effects import Bericht, Registratie, Systeem, Vastlegging
from workflows.policy import DEFAULT_BELEID
from workflows.rules import CaseState

ROOT = Path(__file__).resolve().parents[2]
T = TypeVar("T")

CONCURRENCY = 25
"""Requests to Temporal in flight at once when starting cases and sending events."""
FINISHED_REGISTRATION = {"verzonden", "niet_verzonden"}
FINISHED_NOTIFICATION = {"verzonden"}
TURNED_BACK = WorkflowTaskFailedCause.Name(WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_UNHANDLED_COMMAND)
"""The cause of a workflow task the server turns back because an event came in while the task ended the run."""
FORCE_CLOSED = WorkflowTaskFailedCause.Name(WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_FORCE_CLOSE_COMMAND)
"""The cause of a workflow task the server closes by force because more events came in while it ran than the server
buffers for one workflow (``history.maximumBufferedEventsBatch``, ``history.maximumBufferedEventsSizeInBytes``): a
flood of signals, or a very large one. The events stay; the next task carries them at once, and the worker, whose
completion then finds its task gone ("Task not found when completing"), replays the case from its history."""


def through_the_case(failures: Counter[str]) -> Counter[str]:
    """Of failed workflow tasks by cause, those through the case. Left out, as Temporal's doing and not the case's: a
    task the server turned back because an event came in while the task ended the run (:data:`TURNED_BACK`), and one
    it closed by force as too many events came in while it ran (:data:`FORCE_CLOSED`); either way the case is asked
    again at once with the new events."""
    return Counter({cause: n for cause, n in failures.items() if cause not in (TURNED_BACK, FORCE_CLOSED)})


HELD_PATH = "/kindkans/hulpvraag_bijwerken"
"""The registration call whose answer the partners hold to arrange a strike: a case makes it in the middle of its
story (after the oudergesprek, the plan and the route), so a case held there has effects behind and ahead of it."""
PARTNER_TIMEOUT_SECONDS = 20
"""How long a worker waits for a partner's answer: the longest the settings allow, so that a held answer comes well
before the worker gives up (a strike comes within seconds of the first hold)."""


# ----------------------------------------------------------------------------------------------------- scripts


TODAY = "__vandaag__"
"""Stands for today's date in a script's payload."""


@dataclass(frozen=True)
class Script:
    """A case's fixed story: the pupil, and the events sent to it as signals, in order."""

    name: str
    sector: str
    age: int
    events: tuple[tuple[str, dict[str, Any]], ...]
    regio: str = "Noord"
    uit_buitenland: bool = False


SCRIPTS: tuple[Script, ...] = (
    # Contract version 2: every event names the role that acted; a place found opens phase 4, where the old school
    # deregisters where needed and the SCP (PO), the Koersloket (VO) or Leerplicht absoluut verzuim closes.
    Script(
        "terug_op_school",
        "PO",
        9,
        (
            ("oudergesprek", {"deelnemers": ["school", "ouders", "scp"], "door": "school"}),
            ("plan_van_aanpak", {"in_opp": True, "instemming_ouders": True, "door": "school"}),
            ("route", {"route": "3.1", "door": "school"}),
            ("passende_plek", {"uitkomst": "terug_op_school", "door": "school"}),
            ("afronden", {"toelichting": "Terug op school, aanwezigheid hervat.", "door": "scp"}),
        ),
    ),
    Script(
        "tlv_vso",
        "VO",
        13,
        (
            ("oudergesprek", {"deelnemers": ["school", "ouders", "koersloket"], "door": "school", "persoon": "mentor"}),
            ("plan_van_aanpak", {"in_opp": True, "instemming_ouders": True, "door": "school"}),
            ("route", {"route": "3.3", "variant": "tlv_vso", "door": "koersloket"}),
            ("passende_plek", {"uitkomst": "ingeschreven_andere_school", "school_brin": "34CD", "door": "koersloket"}),
            ("uitschrijving", {"uitgeschreven_op": TODAY, "door": "school"}),
            ("afronden", {"toelichting": "Ingeschreven in het VSO.", "door": "koersloket"}),
        ),
        regio="Zuid",
    ),
    Script(
        "zorgroute_vier_jaar",
        "PO",
        4,
        (
            ("oudergesprek", {"deelnemers": ["school", "ouders", "scp", "wijkteam"], "door": "school"}),
            ("plan_van_aanpak", {"in_opp": True, "instemming_ouders": True, "door": "school"}),
            ("route", {"route": "3.4", "door": "wijkteam"}),
            (
                "opschalen",
                {
                    "niveau": "coordinator",
                    "reden_code": "geen_passende_plek",
                    "reden": "Geen zicht op een plek.",
                    "door": "scp",
                },
            ),
            ("passende_plek", {"uitkomst": "terug_op_school", "door": "wijkteam"}),
            ("afronden", {"toelichting": "Terug op school.", "door": "scp"}),
        ),
    ),
    Script(
        "vrijstelling",
        "VO",
        15,
        (
            ("leerplicht_registratie", {"lba_geregistreerd_op": TODAY, "door": "leerplicht"}),
            ("oudergesprek", {"deelnemers": ["school", "ouders", "koersloket"], "door": "koersloket"}),
            ("vrijstelling", {"status": "aangevraagd", "door": "ouders"}),
            ("vrijstelling", {"status": "verleend", "door": "leerplicht"}),
            ("passende_plek", {"uitkomst": "vrijstelling", "door": "koersloket"}),
            ("uitschrijving", {"uitgeschreven_op": TODAY, "door": "school"}),
            ("afronden", {"toelichting": "Vrijstelling en uitschrijving gecontroleerd.", "door": "koersloket"}),
        ),
        regio="Zuid",
    ),
    Script("ingetrokken", "PO", 7, (("intrekken", {"reden": "Ten onrechte gemeld.", "door": "scp"}),)),
    Script(
        "uit_buitenland",
        "VO",
        12,
        (
            ("leerplicht_registratie", {"lba_geregistreerd_op": TODAY, "door": "leerplicht_absoluut_verzuim"}),
            ("voortgang", {"toelichting": "Een school in Zuid heeft plaats.", "door": "leerplicht_absoluut_verzuim"}),
            ("passende_plek", {"uitkomst": "ingeschreven_andere_school", "school_brin": "56EF", "door": "school"}),
            ("afronden", {"toelichting": "Ingeschreven op 56EF.", "door": "leerplicht_absoluut_verzuim"}),
        ),
        regio="Zuid",
        uit_buitenland=True,
    ),
)
"""The stories of the batches' cases; each ends closed (a check in :meth:`Batch.verify` compares with the rules)."""


def script_events(script: Script, today: str) -> list[tuple[str, dict[str, Any]]]:
    """The script's events as sent on ``today``."""
    return [
        (name, {key: (today if value == TODAY else value) for key, value in payload.items()})
        for name, payload in script.events
    ]


def aanmelding_for(script: Script, ref: str, startdatum: Any) -> Aanmelding:
    """A pupil of the script's age on ``startdatum`` (born on 15 January), with the policy the starter gives."""
    year = startdatum.year - script.age - (1 if (startdatum.month, startdatum.day) < (1, 15) else 0)
    fields: dict[str, Any] = {
        "leerling_ref": ref,
        "geboortedatum": f"{year}-01-15",
        "sector": script.sector,
        "regio": script.regio,
        "startdatum": startdatum,
        "beleid": DEFAULT_BELEID,
    }
    if script.uit_buitenland:
        fields["uit_buitenland"] = True  # no school of registration: Leerplicht absoluut verzuim has the case
    else:
        fields["school_brin"] = "12AB"
    return Aanmelding.model_validate(fields)


# ---------------------------------------------------------------------------------------------------- outcome


@dataclass
class Outcome:
    """One scenario's line in the fault table."""

    scenario: str
    driven: int
    correct: int
    duplicated: int
    lost: int
    seconds: float = 0.0
    note: str = ""
    problems: list[str] = field(default_factory=list)

    def assert_clean(self) -> None:
        detail = "\n".join(self.problems[:15])
        assert self.duplicated == 0, f"{self.scenario}: {self.duplicated} effecten dubbel\n{detail}"
        assert self.lost == 0, f"{self.scenario}: {self.lost} effecten kwijt\n{detail}"
        assert self.correct == self.driven, (
            f"{self.scenario}: {self.driven - self.correct} van {self.driven} zaken niet goed afgerond\n{detail}"
        )


REPORT: list[Outcome] = []
"""Every scenario's outcome in this session, printed by ``conftest.pytest_terminal_summary``."""


def table(outcomes: Sequence[Outcome]) -> str:
    header = ("scenario", "cases driven", "finished correctly", "effects duplicated", "effects lost", "seconds", "")
    rows = [
        (o.scenario, str(o.driven), str(o.correct), str(o.duplicated), str(o.lost), f"{o.seconds:.0f}", o.note)
        for o in outcomes
    ]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip() for row in [header, *rows]]
    lines.insert(1, "  ".join("-" * w for w in widths[:-1]))
    return "\n".join(lines)


# ------------------------------------------------------------------------------------------------------ oracle


class Unreadable:
    """Stands, among a case's signals, for a payload the case cannot read: not JSON, or encrypted under a key it
    does not have. The case refuses it with a reason that says so."""

    def __repr__(self) -> str:
        return "UNREADABLE"


UNREADABLE = Unreadable()
UNREADABLE_REASON = "<de inhoud is niet te lezen>"


def expected_state(aanmelding: Aanmelding, case_id: str, signals: Iterable[tuple[str, Any]]) -> CaseState:
    """The case after ``signals``, as the pure rules have it; its ``openstaand`` holds every effect it queued (the
    rules never take effects off: only the workflow does, once they are carried out)."""
    now = datetime.now(UTC)
    workflow_id = workflow_id_for(aanmelding.leerling_ref)
    state = rules.open_case(aanmelding, case_id=case_id, workflow_id=workflow_id, now=now)
    for name, payload in signals:
        if payload is UNREADABLE:
            state = rules.refuse(state, name, UNREADABLE_REASON, now)
        else:
            state = rules.receive(state, name, payload, now)
        state = rules.fire_due_terms(state, now)
    return rules.fire_due_terms(state, now)


def status_view(status: CaseStatus) -> dict[str, Any]:
    """What a case's outcome is made of; times and dates of the run left out."""
    return {
        "fase": status.fase,
        "afgesloten": status.afgesloten,
        "uitkomst": status.uitkomst,
        "regiehouder": status.regiehouder,
        "escalatie": status.escalatie,
        "route": (status.route, status.route_variant),
        "wachtlijst": status.wachtlijst,
        "vrijstelling": status.vrijstelling,
        "leerplichtig": status.leerplichtig,
        "tijdlijn": [regel.gebeurtenis for regel in status.tijdlijn],
        "afgewezen": [
            (a.gebeurtenis, UNREADABLE_REASON if ": de inhoud is niet te lezen" in a.reden else a.reden)
            for a in status.afgewezen
        ],
    }


def effect_label(effect: Registratie | Bericht | Vastlegging) -> tuple[str, str]:
    """(table, what) of an effect: the register line of an event, a registration call, or a notification."""
    if isinstance(effect, Vastlegging):
        return "case_events", f"{effect.volgnummer}:{effect.gebeurtenis}"
    if isinstance(effect, Registratie):
        return "registrations", f"{effect.systeem.value}.{effect.actie}"
    return "notifications", f"{effect.rol.value}.{effect.sjabloon}"


# --------------------------------------------------------------------------------------------------- processes


class WorkerProcess:
    """One ``python worker.py`` process, its JSON log in a file of its own."""

    def __init__(
        self, name: str, process: asyncio.subprocess.Process, log: Path, metrics_address: str | None = None
    ) -> None:
        self.name = name
        self.process = process
        self.log = log
        self.metrics_address = metrics_address

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def returncode(self) -> int | None:
        return self.process.returncode

    def logged(self, event: str) -> list[dict[str, Any]]:
        found = []
        for line in self.log.read_text(encoding="utf-8", errors="replace").splitlines():
            with contextlib.suppress(ValueError):
                entry = json.loads(line)
                if isinstance(entry, dict) and entry.get("event") == event:
                    found.append(entry)
        return found

    def logged_containing(self, text: str) -> list[str]:
        """Log lines whose message contains ``text`` (for messages of the SDK, which carry their details inline)."""
        return [line for line in self.log.read_text(encoding="utf-8", errors="replace").splitlines() if text in line]

    def tail(self, lines: int = 30) -> str:
        text = self.log.read_text(encoding="utf-8", errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    async def ready(self, within: float = 60) -> None:
        """Until the worker says it polls its task queue; fail with its log when it dies first."""
        deadline = time.monotonic() + within
        while not self.logged("worker gestart"):
            if self.process.returncode is not None:
                raise AssertionError(
                    f"{self.name} stopte bij het opstarten ({self.process.returncode}):\n{self.tail()}"
                )
            if time.monotonic() > deadline:
                raise AssertionError(f"{self.name} was na {within:.0f} s niet gestart:\n{self.tail()}")
            await asyncio.sleep(0.1)

    async def stopping(self, within: float = 10) -> None:
        """Until the worker says it stops (after SIGTERM): from then on it polls no more and finishes what it runs."""
        deadline = time.monotonic() + within
        while not self.logged_containing("worker stopt"):
            if self.process.returncode is not None or time.monotonic() > deadline:
                raise AssertionError(f"{self.name} zei niet dat hij stopt:\n{self.tail()}")
            await asyncio.sleep(0.05)

    async def metric(self, name: str, **labels: str) -> float | None:
        """The sum of the series of ``name`` with ``labels`` on the worker's Prometheus endpoint (None: no such
        series); the worker must have been started with ``metrics=True``."""
        assert self.metrics_address is not None, f"{self.name} is gestart zonder metrics"
        async with (
            aiohttp.ClientSession() as session,
            session.get(f"http://{self.metrics_address}/metrics", timeout=aiohttp.ClientTimeout(total=5)) as response,
        ):
            text = await response.text()
        return prometheus_value(text, name, labels)

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)

    def terminate(self) -> None:
        self.process.send_signal(signal.SIGTERM)

    async def wait(self, within: float) -> int:
        return await asyncio.wait_for(self.process.wait(), timeout=within)

    async def stop(self) -> None:
        if self.process.returncode is not None:
            return
        self.terminate()
        try:
            await self.wait(40)
        except TimeoutError:
            self.kill()
            await self.process.wait()


class FaultStack:
    """The running stack of the fault suite and the faults it can suffer."""

    def __init__(self, stack: DevStack, client: Client) -> None:
        self.stack = stack
        self.client = client
        self.workers: list[WorkerProcess] = []
        self._temporal = next(child for child in stack.children if child.label == "Temporal")
        self._restarted: list[Child] = []
        self._numbers = iter(range(1, 10_000))

    @classmethod
    async def connect(cls, stack: DevStack) -> FaultStack:
        client = await Client.connect(
            stack.temporal_address,
            namespace=NAMESPACE,
            data_converter=build_data_converter(Settings.from_env(stack.env)),
        )
        return cls(stack, client)

    @property
    def env(self) -> dict[str, str]:
        """What ``worker.py`` and ``starter.py`` get: the stack's settings, JSON logs."""
        return self.stack.env | {"THUISZITTERS_LOG_FORMAT": "json"}

    @property
    def task_queue(self) -> str:
        return self.stack.task_queue

    @property
    def database_url(self) -> str:
        assert self.stack.database_url is not None
        return self.stack.database_url

    async def start_worker(self, *, env: dict[str, str] | None = None, metrics: bool = False) -> WorkerProcess:
        """``python worker.py`` with the stack's settings (and ``env``), waited for until it polls; with ``metrics``,
        serving its Prometheus metrics on a free port (:meth:`WorkerProcess.metric`)."""
        name = f"worker-{next(self._numbers)}"
        log = self.stack.log_dir / f"{name}.log"
        metrics_address = f"{HOST}:{free_port()}" if metrics else None
        extra = {"THUISZITTERS_METRICS_ADDRESS": metrics_address} if metrics_address else {}
        with log.open("wb") as out:
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                "worker.py",
                cwd=ROOT,
                env=self.env | (env or {}) | extra,
                stdout=out,
                stderr=asyncio.subprocess.STDOUT,
                start_new_session=True,
            )
        worker = WorkerProcess(name, process, log, metrics_address)
        self.workers.append(worker)
        await worker.ready()
        return worker

    async def stop_workers(self) -> None:
        for worker in self.workers:
            await worker.stop()
        self.workers.clear()

    # ------------------------------------------------------------------------------------------------ faults

    async def postgres_outage(self, seconds: float, *, meanwhile: Awaitable[Any] | None = None) -> None:
        """Stop PostgreSQL at once (as a crash does: no checkpoint, every connection cut), keep it down for
        ``seconds`` (doing ``meanwhile``), then start it again on the same data folder and port."""
        postgres = self.stack.postgres
        assert postgres is not None, "de foutensuite draait op een eigen PostgreSQL"
        await asyncio.to_thread(postgres.stop, "immediate")
        assert not await asyncio.to_thread(postgres.is_running)
        down_until = time.monotonic() + seconds
        if meanwhile is not None:
            await meanwhile
        await asyncio.sleep(max(0.0, down_until - time.monotonic()))  # the outage itself
        await asyncio.to_thread(postgres.start)

    async def restart_temporal(self, *, down_seconds: float, meanwhile: Callable[[], Any] | None = None) -> None:
        """Stop the Temporal dev server (SIGTERM to its process group), keep it down for ``down_seconds`` (calling
        ``meanwhile`` once it is down), and start it again with the same command: the same port and the same
        database file."""
        old = self._temporal
        args = [str(part) for part in cast(Sequence[str], old.process.args)]
        assert "--db-filename" in args
        await asyncio.to_thread(old.stop)
        port = self.stack.config.temporal_port

        async def port_is_free() -> bool:
            return port_free(port)

        await until(port_is_free, within=20, what=f"poort {port} vrij na het stoppen van Temporal")
        if meanwhile is not None:
            meanwhile()
        await asyncio.sleep(down_seconds)  # the outage itself
        new = Child(
            "Temporal", args, old.log_file, env=self.stack.env, cwd=self.stack.root, stop_timeout=old.stop_timeout
        )
        self._temporal = new
        self._restarted.append(new)
        await until(self._temporal_answers, within=60, what="Temporal antwoordt na de herstart")

    async def _temporal_answers(self) -> bool:
        if not self._temporal.alive():
            raise AssertionError(f"Temporal stopte na de herstart:\n{self._temporal.tail()}")
        try:
            await asyncio.wait_for(self.client.count_workflows(), timeout=5)
        except (RPCError, TimeoutError):
            return False
        return True

    async def close(self) -> None:
        await self.stop_workers()
        for child in self._restarted:
            await asyncio.to_thread(child.stop)

    async def terminate_open_cases(self) -> None:
        """End every case still running: after a failed test, so that it does not burden the next one."""
        with contextlib.suppress(RPCError):
            async for execution in self.client.list_workflows("ExecutionStatus = 'Running'"):
                with contextlib.suppress(RPCError):
                    await self.client.get_workflow_handle(execution.id, run_id=execution.run_id).terminate(
                        "opgeruimd na de test"
                    )


async def until(probe: Callable[[], Awaitable[bool]], *, within: float, what: str, every: float = 0.2) -> None:
    """Poll ``probe`` until it says yes; fail naming ``what`` when the time is up."""
    deadline = time.monotonic() + within
    while not await probe():
        if time.monotonic() > deadline:
            raise AssertionError(f"niet bereikt binnen {within:.0f} s: {what}")
        await asyncio.sleep(every)


async def bounded(jobs: Iterable[Awaitable[T]], limit: int = CONCURRENCY) -> list[T]:
    """Run ``jobs`` concurrently, at most ``limit`` at a time, in order of their results."""
    semaphore = asyncio.Semaphore(limit)

    async def one(job: Awaitable[T]) -> T:
        async with semaphore:
            return await job

    return await asyncio.gather(*(one(job) for job in jobs))


def partner_env(partners: PartnerSystems, caller: str | None = None) -> dict[str, str]:
    """Worker settings that send every registration call to the stand-in partner systems; with ``caller``, on URLs of
    that worker's own, so that the partners know (and can hold) the calls of that worker."""
    env: dict[str, str] = {}
    for systeem in Systeem:
        env[f"THUISZITTERS_{systeem.value.upper()}_URL"] = partners.url_of(systeem.value, caller=caller)
        env[f"THUISZITTERS_{systeem.value.upper()}_TIMEOUT"] = str(PARTNER_TIMEOUT_SECONDS)
    return env


async def held_requests(partners: PartnerSystems, count: int, within: float = 60) -> list[Receipt]:
    """Until the partners hold at least ``count`` requests: the moment to strike, with those calls in flight."""
    try:
        return await asyncio.wait_for(partners.held(count), timeout=within)
    except TimeoutError:
        raise AssertionError(
            f"de partners hielden na {within:.0f} s {len(partners.holding)} van de {count} verzoeken vast "
            f"waarop de storing wacht"
        ) from None


def longest_hold(held: Iterable[Receipt]) -> float:
    """Seconds the longest-held of these requests had waited for its answer by now."""
    now = time.monotonic()
    return max((now - receipt.held_since for receipt in held if receipt.held_since is not None), default=0.0)


def prometheus_value(text: str, name: str, labels: dict[str, str]) -> float | None:
    """The sum of the series of ``name`` whose labels include ``labels``, in Prometheus' text format."""
    found: float | None = None
    for line in text.splitlines():
        if line.startswith("#") or not line.startswith(name):
            continue
        series, _, value = line.rpartition(" ")
        metric, _, label_text = series.partition("{")
        if metric != name:
            continue
        have = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', label_text))
        if all(have.get(key) == wanted for key, wanted in labels.items()):
            found = (found or 0.0) + float(value)
    return found


def child_env() -> dict[str, str]:
    """The test's environment without anything that would point the stack elsewhere: no DATABASE_URL (the suite
    stops its own PostgreSQL), no project or Temporal settings of the surrounding shell."""
    return {
        key: value
        for key, value in os.environ.items()
        if key != "DATABASE_URL" and not key.startswith(("THUISZITTERS_", "TEMPORAL_"))
    }


# ------------------------------------------------------------------------------------------------------- batch


@dataclass
class DrivenCase:
    script: Script
    aanmelding: Aanmelding
    handle: WorkflowHandle[Any, CaseStatus] | None = None
    run_id: str | None = None
    signals: list[tuple[str, Any]] = field(default_factory=list)
    """Every signal that reached the case's handlers, as they received it, in the order sent."""
    final: CaseStatus | None = None

    @property
    def workflow_id(self) -> str:
        return workflow_id_for(self.aanmelding.leerling_ref)

    @property
    def case_id(self) -> str:
        assert self.run_id is not None
        return f"{self.workflow_id}:{self.run_id}"


class Batch:
    """``size`` live cases of one scenario, the scripts taken in turn. ``may_continue_as_new``: a case may end in a
    later run than its first (a case that receives very many events); otherwise it must end in its first."""

    def __init__(
        self,
        faults: FaultStack,
        scenario: str,
        size: int,
        scripts: Sequence[Script] = SCRIPTS,
        *,
        may_continue_as_new: bool = False,
    ) -> None:
        self.faults = faults
        self.scenario = scenario
        self.may_continue_as_new = may_continue_as_new
        self.started_at = time.monotonic()
        today = amsterdam_date(datetime.now(UTC))
        self.today = today.isoformat()
        # A few days at home: no term of the procedure falls due while the suite runs.
        startdatum = today - timedelta(days=3)
        prefix = "F-" + "".join(c for c in scenario if c.isalnum())[:16] + "-" + uuid.uuid4().hex[:6]
        in_turn = [scripts[i % len(scripts)] for i in range(size)]
        self.cases = [
            DrivenCase(script, aanmelding_for(script, f"{prefix}-{i:03d}", startdatum))
            for i, script in enumerate(in_turn)
        ]
        # In the table from the start, so that a scenario that fails before its verification still shows.
        self.outcome = Outcome(scenario, size, 0, 0, 0, note="FOUT: niet tot de controle gekomen")
        REPORT.append(self.outcome)

    @property
    def client(self) -> Client:
        return self.faults.client

    def halves(self) -> tuple[list[DrivenCase], list[DrivenCase]]:
        middle = len(self.cases) // 2
        return self.cases[:middle], self.cases[middle:]

    # -------------------------------------------------------------------------------------------- driving

    async def start(self) -> None:
        async def one(case: DrivenCase) -> None:
            handle = await start_case(self.client, case.aanmelding, self.faults.task_queue)
            case.handle, case.run_id = handle, handle.first_execution_run_id

        await bounded(one(case) for case in self.cases)

    async def adopt(self) -> None:
        """Take on cases that were started elsewhere (by the intake script)."""

        async def one(case: DrivenCase) -> None:
            handle: WorkflowHandle[Any, CaseStatus] = self.client.get_workflow_handle(
                case.workflow_id, result_type=CaseStatus
            )
            description = await handle.describe()
            case.handle = handle
            case.run_id = description.run_id

        await bounded(one(case) for case in self.cases)

    async def signal(self, case: DrivenCase, name: str, payload: Any) -> None:
        assert case.handle is not None
        await case.handle.signal(name, payload)
        case.signals.append((name, payload))

    async def first_half_in_flight(self, partners: PartnerSystems, holding: int) -> list[DrivenCase]:
        """Start every case, play the scripts of the first half and wait for the moment to strike: the partners hold
        ``holding`` calls (as told by ``partners.hold``), so those are in flight, the rest of the first half's
        effects before or behind them. Returns the second half, to play during or after the fault."""
        await self.start()
        early, late = self.halves()
        await self.play(early)
        await held_requests(partners, holding)
        return late

    async def play(self, cases: Sequence[DrivenCase] | None = None) -> None:
        """Send each case its script, event after event; the cases side by side."""

        async def one(case: DrivenCase) -> None:
            for name, payload in script_events(case.script, self.today):
                await self.signal(case, name, payload)

        await bounded(one(case) for case in (self.cases if cases is None else cases))

    async def finish(self, within: float) -> None:
        """Wait for every case's result; a Temporal that is away for a moment is asked again."""

        async def one(case: DrivenCase) -> None:
            assert case.handle is not None
            while True:
                try:
                    case.final = await case.handle.result()
                    return
                except RPCError:
                    await asyncio.sleep(0.5)

        try:
            await asyncio.wait_for(asyncio.gather(*(one(case) for case in self.cases)), timeout=within)
        except TimeoutError:
            open_cases = [case.workflow_id for case in self.cases if case.final is None]
            with contextlib.suppress(Exception):  # the table shows what became of the batch all the same
                await self.verify(note=f"FOUT: {len(open_cases)} zaken niet afgerond binnen {within:.0f} s")
            raise AssertionError(
                f"{self.scenario}: {len(open_cases)} zaken niet afgerond binnen {within:.0f} s, o.a. {open_cases[:5]}"
            ) from None

    # ----------------------------------------------------------------------------------------- progress

    async def recorded_rows(self) -> int:
        """Rows the batch has in the register so far (0 while PostgreSQL is away)."""
        ids = [case.case_id for case in self.cases if case.run_id is not None]
        try:
            connection = await asyncpg.connect(self.faults.database_url, timeout=5)
        except (OSError, asyncpg.PostgresError):
            return 0
        try:
            value = await connection.fetchval(
                """
                SELECT (SELECT count(*) FROM case_events WHERE case_id = ANY($1))
                     + (SELECT count(*) FROM registrations WHERE case_id = ANY($1))
                     + (SELECT count(*) FROM notifications WHERE case_id = ANY($1))
                """,
                ids,
            )
            return int(value)
        finally:
            await connection.close()

    async def activities_held_by(self, worker: WorkerProcess) -> int:
        """Activities Temporal holds as started by ``worker`` (the SDK's identity is ``pid@host``): after a kill,
        those the dead worker was running; after a graceful stop, those it left unfinished."""

        async def one(case: DrivenCase) -> int:
            assert case.handle is not None
            description = await case.handle.describe()
            return sum(
                1
                for activity in description.raw_description.pending_activities
                if activity.state == PendingActivityState.PENDING_ACTIVITY_STATE_STARTED
                and activity.last_worker_identity.startswith(f"{worker.pid}@")
            )

        return sum(await bounded(one(case) for case in self.cases))

    async def activities_retrying(self) -> int:
        """Activities Temporal holds for another attempt after one failed: those that met the fault."""

        async def one(case: DrivenCase) -> int:
            assert case.handle is not None
            description = await case.handle.describe()
            return sum(1 for activity in description.raw_description.pending_activities if activity.attempt > 1)

        return sum(await bounded(one(case) for case in self.cases))

    async def check_partners(self, partners: PartnerSystems) -> int:
        """Every registration reached its partner under one key and was processed once, with the reference the
        register holds; returns how many requests the partners saw again (a retry after the fault)."""
        rows = await self.registration_rows()
        kenmerken = {receipt.idempotency_key: receipt.kenmerk for receipt in partners.received}
        assert {row["sleutel"]: row["kenmerk"] for row in rows} == kenmerken
        assert all(row["status"] == "verzonden" for row in rows)
        return len(partners.raw) - len(partners.received)

    async def registration_rows(self) -> list[asyncpg.Record]:
        """The batch's registration calls as the register has them."""
        connection = await asyncpg.connect(self.faults.database_url)
        try:
            return await connection.fetch(
                "SELECT sleutel, status, kenmerk, pogingen FROM registrations WHERE case_id = ANY($1)",
                [case.case_id for case in self.cases],
            )
        finally:
            await connection.close()

    async def runs(self, case: DrivenCase) -> list[list[HistoryEvent]]:
        """The history of every run of the case, from its first, following continue-as-new."""
        histories: list[list[HistoryEvent]] = []
        run_id: str | None = case.run_id
        while run_id:
            handle = self.client.get_workflow_handle(case.workflow_id, run_id=run_id)
            history = [event async for event in handle.fetch_history_events()]
            histories.append(history)
            last = history[-1] if history else None
            run_id = None
            if last is not None and last.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW:
                run_id = last.workflow_execution_continued_as_new_event_attributes.new_execution_run_id
        return histories

    async def history_count(self, wanted: Callable[[HistoryEvent], bool]) -> int:
        """Events of the cases' histories (every run of each) that ``wanted`` picks."""

        async def one(case: DrivenCase) -> int:
            return sum(1 for history in await self.runs(case) for event in history if wanted(event))

        return sum(await bounded(one(case) for case in self.cases))

    async def retried_activities(self) -> int:
        """Activities that completed only on a later attempt (the history records the attempt that completed)."""
        return await self.history_count(
            lambda event: (
                event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED
                and event.activity_task_started_event_attributes.attempt > 1
            )
        )

    async def workflow_task_failures(self) -> Counter[str]:
        """Workflow tasks that failed, in every run of every case, by cause."""

        async def one(case: DrivenCase) -> Counter[str]:
            return Counter(
                WorkflowTaskFailedCause.Name(event.workflow_task_failed_event_attributes.cause)
                for history in await self.runs(case)
                for event in history
                if event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED
            )

        return sum(await bounded(one(case) for case in self.cases), Counter[str]())

    async def failed_workflow_tasks(self) -> Counter[str]:
        """Workflow tasks that failed through the case, in any run, by cause (:func:`through_the_case`)."""
        return through_the_case(await self.workflow_task_failures())

    # -------------------------------------------------------------------------------------------- verify

    async def verify(self, note: str = "") -> Outcome:
        """Each case against the rules: its final status, and its rows in the register by key and by kind."""
        ids = [case.case_id for case in self.cases]
        connection = await asyncpg.connect(self.faults.database_url)
        try:
            rows: dict[str, dict[str, dict[str, tuple[str, str | None]]]] = {
                case_id: {"case_events": {}, "registrations": {}, "notifications": {}} for case_id in ids
            }
            for row in await connection.fetch(
                "SELECT case_id, volgnummer, gebeurtenis FROM case_events WHERE case_id = ANY($1)", ids
            ):
                key = f"{row['case_id']}:{row['volgnummer']}:vastlegging"
                rows[row["case_id"]]["case_events"][key] = (f"{row['volgnummer']}:{row['gebeurtenis']}", None)
            for row in await connection.fetch(
                "SELECT case_id, sleutel, systeem, actie, status FROM registrations WHERE case_id = ANY($1)", ids
            ):
                label = f"{row['systeem']}.{row['actie']}"
                rows[row["case_id"]]["registrations"][row["sleutel"]] = (label, row["status"])
            for row in await connection.fetch(
                "SELECT case_id, sleutel, rol, sjabloon, status FROM notifications WHERE case_id = ANY($1)", ids
            ):
                label = f"{row['rol']}.{row['sjabloon']}"
                rows[row["case_id"]]["notifications"][row["sleutel"]] = (label, row["status"])
            register_cases = {
                row["case_id"]: row
                for row in await connection.fetch(
                    "SELECT case_id, afgesloten, uitkomst, laatste_volgnummer FROM cases WHERE case_id = ANY($1)", ids
                )
            }
        finally:
            await connection.close()

        descriptions = await bounded(case.handle.describe() for case in self.cases if case.handle is not None)
        statuses = {d.id: (d.status, d.run_id) for d in descriptions}

        outcome = self.outcome
        outcome.correct = outcome.duplicated = outcome.lost = 0
        outcome.note, outcome.problems = note, []
        for case in self.cases:
            problems = self._compare(case, rows[case.case_id], register_cases.get(case.case_id), statuses, outcome)
            if problems:
                outcome.problems += [f"{case.workflow_id} ({case.script.name}): {p}" for p in problems]
            else:
                outcome.correct += 1
        outcome.seconds = time.monotonic() - self.started_at
        return outcome

    def _compare(
        self,
        case: DrivenCase,
        found: dict[str, dict[str, tuple[str, str | None]]],
        register_case: asyncpg.Record | None,
        statuses: dict[str, tuple[WorkflowExecutionStatus | None, str]],
        outcome: Outcome,
    ) -> list[str]:
        problems: list[str] = []
        state = expected_state(case.aanmelding, case.case_id, case.signals)
        expected: dict[str, dict[str, str]] = {"case_events": {}, "registrations": {}, "notifications": {}}
        for effect in state.openstaand:
            table_name, label = effect_label(effect)
            expected[table_name][effect.sleutel] = label

        # Effects by kind: more than expected is a duplicate, fewer (or not finished) is lost.
        for table_name, wanted in expected.items():
            have = Counter(label for label, _ in found[table_name].values())
            want = Counter(wanted.values())
            extra, missing = have - want, want - have
            unfinished = [
                label
                for label, status in found[table_name].values()
                if status is not None
                and status not in (FINISHED_REGISTRATION if table_name == "registrations" else FINISHED_NOTIFICATION)
            ]
            outcome.duplicated += sum(extra.values())
            outcome.lost += sum(missing.values()) + len(unfinished)
            if extra:
                problems.append(f"{table_name} dubbel: {dict(extra)}")
            if missing:
                problems.append(f"{table_name} ontbreekt: {dict(missing)}")
            if unfinished:
                problems.append(f"{table_name} niet afgerond: {unfinished}")
            if set(found[table_name]) != set(wanted) and not (extra or missing):
                problems.append(f"{table_name}: andere sleutels dan verwacht")

        if case.final is None:
            problems.append("geen resultaat")
        elif (view := status_view(case.final)) != (want_view := status_view(rules.status(state, datetime.now(UTC)))):
            diff = {key: (view[key], want_view[key]) for key in view if view[key] != want_view[key]}
            problems.append(f"eindstatus wijkt af (gevonden, verwacht): {diff}")
        status, run_id = statuses.get(case.workflow_id, (None, ""))
        if status is not WorkflowExecutionStatus.COMPLETED:
            problems.append(f"workflow {status} (run {run_id}), verwacht afgerond")
        elif run_id != case.run_id and not self.may_continue_as_new:
            problems.append(f"workflow afgerond in run {run_id}, verwacht in de eerste run")
        if register_case is None:
            problems.append("geen zaak in het register")
        elif (
            register_case["afgesloten"] is not True
            or register_case["uitkomst"] != (state.uitkomst.value if state.uitkomst else None)
            or register_case["laatste_volgnummer"] != state.volgnummer
        ):
            problems.append(f"zaak in het register: {dict(register_case)}, verwacht volgnummer {state.volgnummer}")
        return problems
