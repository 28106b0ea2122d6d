"""A burst of events, as an integrating service replaying its backlog after an outage might send it: one case
receives 1,000 ``voortgang`` signals of the largest size the contract allows, while 20 other cases receive 100
each, all sent at once.

A ``voortgang`` of the largest size: a ``toelichting`` of 4,000 characters (the bound of ``FreeText``), sent by
the school (contract version 2: ``door`` is a role) with a ``persoon`` of 64 (the bound of ``PersoonId``), with a
``datum``. Its ``afgehandelde_taken`` stays empty: it may only name open
manual tasks, and these cases have none, so any code there would get the event refused. Each payload is different
(a number in its text): an event equal to the last one of its name would be a duplicate that changes nothing.

Throughout, from before the first signal until every case has taken all of its events, a poller asks each case for
its status, again and again, and every case answers each question within :data:`ANSWER_WITHIN` seconds (the fault
table reports the slowest answer, and the server's own share: its slowest ``describe`` of the largest case and of a
small one). Then:

- every event was applied or refused exactly once: the case's ``voortgang`` lines in the register plus its count of
  refusals (``afgewezen_totaal``) equal the number sent;
- no workflow task failed through the case's code, in any run of any case (a case may continue as new during the
  burst, at a quiet moment); tasks that the server turned back or closed by force are counted in the table;
- the worker's workflow task slots are all free again (a task stuck in a worker keeps its slot for good);
- each case, withdrawn afterwards (``intrekken``), ended as the rules fed the same events say, with each effect in
  the register exactly once (:meth:`tests.faults.Batch.verify`).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import asyncpg
import pytest
from temporalio.client import WorkflowQueryFailedError, WorkflowQueryRejectedError
from temporalio.service import RPCError, RPCStatusCode

from tests.faults import (
    FORCE_CLOSED,
    TURNED_BACK,
    Batch,
    DrivenCase,
    FaultStack,
    Script,
    WorkerProcess,
    bounded,
    through_the_case,
    until,
)
from workflows.contract import CaseStatus

pytestmark = [pytest.mark.fault, pytest.mark.asyncio(loop_scope="session")]

LARGE = 1_000
"""Signals to the one case that gets the most."""
SMALL = 100
OTHERS = 20
SEND_CONCURRENCY = 20
"""Signals in flight at once. The dev server takes every signal of one workflow under that workflow's lock, one by
one, and writes it to SQLite: what a sender has in flight beyond what the server takes waits in that queue, and so
does a question to the same case. With 20 in flight the server takes some 125 to 150 signals a second (some 40 a
second to the largest case, several times Temporal's guidance for one workflow) and needs 0.4 to 0.9 s to describe
the largest case; with 50 in flight it takes some 150 to 210 a second, a third of them queued at once for the largest
case, and the describe alone takes 0.8 to 1.8 s: the limit on an answer would measure the server's queue, not the
case (figures in docs/performance.md, "A burst of events"). Through the project's API a service sends at most 600
events a minute."""
ANSWER_WITHIN = 2.0
"""Seconds a case may take to answer a status query, during the burst as at any time."""
GIVE_UP_ASKING = 10.0
"""Seconds after which a query counts as unanswered."""
ASK_PAUSE = 1.0
"""Between one answer of a case and the next question to it: each question costs the worker a workflow task, so
the poller asks about 20 a second in all, a load beside the burst rather than a burst of its own."""
PROCESSED_WITHIN = 240
"""Seconds the worker may take to carry out the whole burst after it was sent: 15,000 effects, which go out
together per receiver (``effecten-gebundeld``: some 300 activities for the largest case's 5,000, 70 to 110 for a
small case's 500) and took 6 to 10 s on two cores; one activity each, as before, 85 to 110 s."""
STALLED_AFTER = 30
"""Seconds without any event taken, by any case, after which the burst has stalled."""
SILENT_AT_MOST = 60
"""Seconds a case may go without answering a status query, reported first, as the plainest sign of a stuck case (as
before, when a burst put a case's workflow task into a deadlock for good: silent to the end)."""
TOELICHTING_MAX = 4_000
PERSOON_MAX = 64

BURST_SCRIPT = Script("voortgang_burst", "PO", 9, ())
"""A pupil of nine on a school: an open case whose every ``voortgang`` from the school informs the parents, the SCP
and Leerplicht and updates the hulpvraag in Kindkans (five effects each, with the register line)."""
TEXT = (
    "De leerling was deze week twee ochtenden op school; de mentor heeft met de ouders het plan van aanpak "
    "besproken, en de zorgcoördinator zoekt samen met het wijkteam naar één vaste begeleider voor de middag. "
)


def largest(prefix: str, length: int) -> str:
    """``prefix`` and then ordinary Dutch text, ``length`` characters in all, with no white space at either end (the
    contract strips it, which would make the text shorter)."""
    text = (prefix + TEXT * (length // len(TEXT) + 1))[:length]
    return text[:-1] + "." if text[-1].isspace() else text


def voortgang(case_number: int, number: int, today: str) -> dict[str, Any]:
    """The ``number``-th progress report to a case, as large as the contract allows and unlike any other."""
    return {
        "toelichting": largest(f"Voortgang {number} van zaak {case_number}: ", TOELICHTING_MAX),
        "door": "school",
        "persoon": f"team-thuiszitters.zaak-{case_number}.medewerker-{number}.".ljust(PERSOON_MAX, "x"),
        "datum": today,
    }


def burst(cases: Sequence[DrivenCase], counts: Sequence[int], today: str) -> list[tuple[DrivenCase, dict[str, Any]]]:
    """Every signal of the burst, the cases' signals interleaved so that each case's are spread over the whole
    burst (the largest case gets one in every few throughout)."""
    signals = [
        (n / count, index, case, voortgang(index, n + 1, today))
        for index, (case, count) in enumerate(zip(cases, counts, strict=True))
        for n in range(count)
    ]
    signals.sort(key=lambda signal: (signal[0], signal[1]))
    return [(case, payload) for _, _, case, payload in signals]


# ------------------------------------------------------------------------------------------------------ asking


@dataclass
class Answers:
    """What the poller saw: the slowest answer, the questions that went unanswered, each case's latest status."""

    asked: int = 0
    slowest: float = 0.0
    late: list[tuple[float, str]] = field(default_factory=list)
    """(seconds, what) of each question not answered within :data:`ANSWER_WITHIN`."""
    late_after_sending: list[tuple[float, str]] = field(default_factory=list)
    """Those of them asked once every signal of the burst had been accepted by Temporal."""
    sent_at: float | None = None
    """When the last signal was accepted (``time.monotonic``)."""
    last_answer: dict[str, float] = field(default_factory=dict)
    longest_silence: float = 0.0
    """The longest time any case went without answering, from the start of the burst: a case that is stuck (as
    before, when a burst put its workflow task into a deadlock for good) stays silent until the end."""
    latest: dict[str, CaseStatus] = field(default_factory=dict)
    began: float = field(default_factory=time.monotonic)
    slowest_description: dict[str, float] = field(default_factory=dict)
    """The slowest ``describe`` of the largest case and of a small one: the server's share of a slow answer (it
    involves no worker), where the burst is heaviest and where it is light."""

    def record(self, case: DrivenCase, seconds: float, answered: bool, what: str) -> None:
        self.asked += 1
        self.slowest = max(self.slowest, seconds)
        now = time.monotonic()
        self.longest_silence = max(self.longest_silence, now - self.last_answer.get(case.workflow_id, self.began))
        if answered:
            self.last_answer[case.workflow_id] = now
        if not answered or seconds > ANSWER_WITHIN:
            asked = time.monotonic() - seconds
            outcome = ("antwoord" + (f" ({what})" if what else "")) if answered else what
            late = (
                seconds,
                f"{case.workflow_id} (gevraagd op {asked - self.began:.0f} s): {outcome} na {seconds:.1f} s",
            )
            self.late.append(late)
            if self.sent_at is not None and asked >= self.sent_at:
                self.late_after_sending.append(late)

    def worst(self, count: int = 8) -> list[str]:
        return [what for _, what in sorted(self.late, reverse=True)[:count]]

    def server_share(self) -> str:
        """The slowest descriptions, of the largest case and of a small one."""
        largest, small = [*self.slowest_description.values(), 0.0, 0.0][:2]  # in the order keep_asking set
        return f"describe {largest:.1f} s, bij een kleine zaak {small:.1f} s"


async def ask(case: DrivenCase) -> tuple[CaseStatus | None, str]:
    """The case's status, asked until it answers (a run that continued as new answers once its first task is done)
    or :data:`GIVE_UP_ASKING` has passed; and what happened on the way (empty when the first question was
    answered)."""
    assert case.handle is not None
    deadline = time.monotonic() + GIVE_UP_ASKING
    again: list[str] = []
    while (left := deadline - time.monotonic()) > 0:
        try:
            status = await asyncio.wait_for(
                case.handle.query("status", result_type=CaseStatus, rpc_timeout=timedelta(seconds=left)), left
            )
            return status, f"opnieuw gevraagd na {again[:3]}" if again else ""
        except TimeoutError:
            break
        except (WorkflowQueryFailedError, WorkflowQueryRejectedError) as error:
            return None, f"{type(error).__name__}: {error}"
        except RPCError as error:
            if error.status not in (RPCStatusCode.FAILED_PRECONDITION, RPCStatusCode.UNAVAILABLE):
                return None, f"{error.status.name}: {error.message[:200]}"
            again.append(f"{error.status.name}: {error.message[:80]}")
            await asyncio.sleep(0.05)  # the run is not ready for queries yet
    return None, "geen antwoord" + (f", opnieuw gevraagd na {again[:3]}" if again else "")


async def keep_asking(cases: Sequence[DrivenCase], answers: Answers, stop: asyncio.Event) -> None:
    """Ask every case for its status, each again as soon as it answered (after a short pause), until ``stop``; and
    the server to describe the first case (the largest) and the last, to tell the server's share in a slow answer."""

    async def one(case: DrivenCase, offset: float) -> None:
        await asyncio.sleep(offset)
        while not stop.is_set():
            began = time.monotonic()
            status, what = await ask(case)
            answers.record(case, time.monotonic() - began, status is not None, what)
            if status is not None:
                answers.latest[case.workflow_id] = status
            await asyncio.sleep(ASK_PAUSE)

    async def describe(case: DrivenCase) -> None:
        assert case.handle is not None
        while not stop.is_set():
            began = time.monotonic()
            with contextlib.suppress(RPCError, TimeoutError):
                await asyncio.wait_for(case.handle.describe(), GIVE_UP_ASKING)
            seconds = time.monotonic() - began
            answers.slowest_description[case.workflow_id] = max(
                answers.slowest_description.get(case.workflow_id, 0.0), seconds
            )
            await asyncio.sleep(ASK_PAUSE)

    answers.slowest_description = {cases[0].workflow_id: 0.0, cases[-1].workflow_id: 0.0}  # largest first
    # The cases' questions spread over the pause, as people's are: about 20 a second, not 21 at one moment.
    offsets = [index * ASK_PAUSE / len(cases) for index in range(len(cases))]
    await asyncio.gather(
        describe(cases[0]),
        describe(cases[-1]),
        *(one(case, offset) for case, offset in zip(cases, offsets, strict=True)),
    )


# ---------------------------------------------------------------------------------------------------- register


async def voortgang_rows(batch: Batch) -> dict[str, int]:
    """The ``voortgang`` lines in the register per case (0 while PostgreSQL does not answer)."""
    ids = [case.case_id for case in batch.cases]
    try:
        connection = await asyncpg.connect(batch.faults.database_url, timeout=5)
    except (OSError, asyncpg.PostgresError):
        return {}
    try:
        rows = await connection.fetch(
            "SELECT case_id, count(*) AS n FROM case_events WHERE case_id = ANY($1) AND gebeurtenis = 'voortgang' "
            "GROUP BY case_id",
            ids,
        )
    finally:
        await connection.close()
    return {row["case_id"]: int(row["n"]) for row in rows}


async def until_taken(batch: Batch, sent: dict[str, int], answers: Answers) -> float:
    """Until every case has taken each of its events, applied (its line in the register) or refused (counted in the
    status the poller saw last); fails when nothing moves for :data:`STALLED_AFTER` seconds. Returns the seconds
    it took."""
    began = time.monotonic()
    progress, moved_at = -1, began
    while True:
        rows = await voortgang_rows(batch)
        refused = {
            case.case_id: s.afgewezen_totaal for case in batch.cases if (s := answers.latest.get(case.workflow_id))
        }
        taken = {case_id: rows.get(case_id, 0) + refused.get(case_id, 0) for case_id in sent}
        if taken == sent:
            return time.monotonic() - began
        now = time.monotonic()
        if sum(taken.values()) != progress:
            progress, moved_at = sum(taken.values()), now
        behind = {case_id: f"{taken[case_id]}/{n}" for case_id, n in sent.items() if taken[case_id] != n}
        if now - moved_at > STALLED_AFTER or now - began > PROCESSED_WITHIN:
            what = "vastgelopen" if now - moved_at > STALLED_AFTER else f"niet klaar na {PROCESSED_WITHIN} s"
            raise AssertionError(
                f"burst {what}: {sum(taken.values())} van {sum(sent.values())} gebeurtenissen verwerkt; achter: "
                f"{dict(list(behind.items())[:5])}; traagste antwoord {answers.slowest:.1f} s, "
                f"{len(answers.late)} te laat of niet: {answers.worst()}"
            )
        await asyncio.sleep(1)


async def slots_free(worker: WorkerProcess, within: float = 30) -> float:
    """Until no workflow task slot of the worker is in use; returns the slots available then."""
    used: float | None = None

    async def free() -> bool:
        nonlocal used
        used = await worker.metric("temporal_worker_task_slots_used", worker_type="WorkflowWorker")
        assert used is not None, "de worker meldt geen temporal_worker_task_slots_used voor WorkflowWorker"
        return used == 0

    try:
        await until(free, within=within, what="alle workflowslots van de worker vrij", every=0.5)
    except AssertionError as error:
        raise AssertionError(f"{error}: nog {used} in gebruik") from None
    available = await worker.metric("temporal_worker_task_slots_available", worker_type="WorkflowWorker")
    return available or 0.0


# -------------------------------------------------------------------------------------------------------- test


async def test_a_burst_of_large_events_stops_no_case_and_every_event_counts_once(faults: FaultStack) -> None:
    batch = Batch(faults, "burst", 1 + OTHERS, scripts=(BURST_SCRIPT,), may_continue_as_new=True)
    worker = await faults.start_worker(metrics=True)
    await batch.start()
    # Each case up and answering before the burst: what the poller measures is the burst, not a case's first task.
    first = await bounded(ask(case) for case in batch.cases)
    assert all(status is not None for status, _ in first), [what for _, what in first if what]
    counts = [LARGE] + [SMALL] * OTHERS
    sent = {case.case_id: count for case, count in zip(batch.cases, counts, strict=True)}
    signals = burst(batch.cases, counts, batch.today)

    answers, stop = Answers(), asyncio.Event()
    asking = asyncio.create_task(keep_asking(batch.cases, answers, stop))
    try:
        began = time.monotonic()
        await bounded((batch.signal(case, "voortgang", payload) for case, payload in signals), SEND_CONCURRENCY)
        answers.sent_at = time.monotonic()
        sending = answers.sent_at - began
        processing = await until_taken(batch, sent, answers)
    except AssertionError as error:
        batch.outcome.note = (
            f"FOUT: {str(error).split(';')[0]}; traagste statusantwoord {answers.slowest:.1f} s "
            f"({len(answers.late)} van {answers.asked} te laat; {answers.server_share()}); "
            f"{len(worker.logged_containing('TMPRL1101'))} deadlockmeldingen"
        )
        batch.outcome.seconds = time.monotonic() - batch.started_at
        raise
    finally:
        stop.set()
        await asyncio.wait_for(asking, timeout=2 * GIVE_UP_ASKING)

    for case in batch.cases:  # withdrawn, so that each case ends and can be checked against the rules
        await batch.signal(
            case, "intrekken", {"reden": "Einde van de proef met een stroom gebeurtenissen.", "door": "scp"}
        )
    await batch.finish(within=120)
    rows = await voortgang_rows(batch)
    failures = await batch.workflow_task_failures()
    failed = through_the_case(failures)
    runs = len(await batch.runs(batch.cases[0]))
    available = await slots_free(worker)
    deadlocks = len(worker.logged_containing("TMPRL1101"))
    outcome = await batch.verify(
        note=f"{sum(counts)} signalen in {sending:.0f} s, verwerkt na {processing:.0f} s; traagste statusantwoord "
        f"{answers.slowest:.2f} s ({len(answers.late)} van {answers.asked} boven {ANSWER_WITHIN:.0f} s, "
        f"{len(answers.late_after_sending)} na het versturen; {answers.server_share()}); langst zonder antwoord "
        f"{answers.longest_silence:.0f} s; grootste zaak {runs} runs; "
        f"{failed.total()} taken mislukt ({failures[TURNED_BACK]} teruggestuurd, {failures[FORCE_CLOSED]} door de "
        f"server afgebroken: te veel gebeurtenissen tijdens de taak), {deadlocks} deadlockmeldingen; "
        f"{available:.0f} workflowslots vrij" + (f"; traagste: {'; '.join(answers.worst(3))}" if answers.late else "")
    )
    outcome.assert_clean()

    # Every event counted once: applied (a line in the register) or refused (in afgewezen_totaal).
    for case in batch.cases:
        assert case.final is not None
        assert rows.get(case.case_id, 0) + case.final.afgewezen_totaal == sent[case.case_id], case.workflow_id
    # No task may fail through the case's code (an error, nondeterminism, a deadlock). Two causes are Temporal's and
    # are reported above (through_the_case leaves them out): the server turning a task back because a signal
    # came in as it ended the run, and closing one by force as more signals came in while it ran than it buffers; both
    # are tried again at once and change nothing in the case.
    assert not failed, f"mislukte taken: {failures}"
    assert worker.returncode is None, worker.tail()
    # No case is stuck: each answers again and again, all through the burst.
    assert answers.longest_silence <= SILENT_AT_MOST, (
        f"een zaak gaf {answers.longest_silence:.0f} s geen antwoord: {answers.worst()}"
    )
    # And every question was answered within the limit, during the burst as at any time.
    assert not answers.late, (
        f"{len(answers.late)} van {answers.asked} vragen niet binnen {ANSWER_WITHIN:.0f} s beantwoord "
        f"({answers.server_share()}): {answers.worst()}"
    )
