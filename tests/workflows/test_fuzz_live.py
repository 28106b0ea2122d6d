"""Thousands of hostile signals and updates against live cases: no workflow task fails, the worker keeps going.

The strategies of ``tests/test_fuzz_inputs.py`` (arbitrary JSON values, near-valid payloads, contract names and
arbitrary names) drive real cases on the local dev server, with a real worker and the real case register. Hypothesis
draws batches in a thread of its own; the event loop sends each batch at once (updates at most a few at a time per
case, as the server allows). Then, per case:

- no workflow task ever failed, in any run of the case (continue-as-new included);
- every update either returned the new status or was refused with an ``ApplicationError`` of type ``Afgewezen``
  whose Dutch reason is bounded and echoes no long value; what the contract itself refuses is refused with exactly
  the reason the rules give;
- refused signals are in ``status.afgewezen``, which stays within ``rules.MAX_AFGEWEZEN``;
- the worker still processes: a last malformed signal is recorded, a last valid update is applied, and the case
  closes normally with its outcome;
- each run's history stays small.

Payloads the converter cannot read at all (a bogus encoding, broken JSON, a payload encrypted under a key the worker
does not have, tampered ciphertext) get tests of their own below.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from temporalio.api.common.v1 import Payload
from temporalio.api.enums.v1 import EventType, WorkflowTaskFailedCause
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import Client, WorkflowHandle, WorkflowUpdateFailedError
from temporalio.common import RawValue
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode
from temporalio.testing import WorkflowEnvironment

from tests.cases import eventually, pupil, start, status_of, with_door
from tests.fixtures.temporal import CaseWorker, case_worker
from tests.test_fuzz_inputs import (
    CONTRACT_NAMES,
    SCALE,
    assert_fit_to_show,
    event_names,
    json_values,
    payloads_for,
)
from thuiszitters.register.store import Register
from thuiszitters.settings import Settings
from thuiszitters.temporal.codec import ENCODING, KEY_ID_METADATA, generate_key
from thuiszitters.temporal.converter import build_data_converter
from workflows import rules
from workflows.calendar import amsterdam_date
from workflows.contract import EVENTS, CaseStatus, Uitkomst
from workflows.thuiszitter import CONTINUE_AS_NEW_AFTER_EVENTS, REFUSAL_TYPE

BATCH = 50
BATCHES = 50 * SCALE
UPDATES_IN_FLIGHT = 8
"""Per case: the server refuses more than ten updates in flight on one workflow."""
MAX_RUN_EVENTS = 2 * CONTINUE_AS_NEW_AFTER_EVENTS
MAX_RUN_BYTES = 8 * 1024 * 1024
"""A run continues as new after about a thousand events (what arrives meanwhile is the margin), and stays well below
Temporal's warning for a large history (10 MiB)."""
NO_SHRINKING = (Phase.explicit, Phase.reuse, Phase.generate)

UNREADABLE: list[Payload] = [
    Payload(metadata={"encoding": b"binary/onbekend"}, data=b"\x00\x01"),
    Payload(metadata={"encoding": b"json/plain"}, data=b'{"toelichting": '),
    Payload(metadata={"encoding": b"json/plain"}, data=b'{"toelichting": "\\ud800"}'),  # a lone surrogate
    Payload(metadata={"encoding": b"json/plain"}, data=b"[" * 5_000),
    Payload(metadata={"encoding": b"json/protobuf"}, data=b"geen protobuf"),
    Payload(metadata={}, data=b"{}"),
]
"""Payloads that the data converter cannot turn into a value (the codec passes them through untouched)."""

UNDECRYPTABLE: list[Payload] = [
    Payload(metadata={"encoding": ENCODING, KEY_ID_METADATA: b"onbekende-sleutel"}, data=bytes(64)),
    Payload(metadata={"encoding": ENCODING, KEY_ID_METADATA: b"test-1"}, data=bytes(64)),  # our key id, wrong tag
    Payload(metadata={"encoding": ENCODING, KEY_ID_METADATA: b"test-1"}, data=b"kort"),
    Payload(metadata={"encoding": ENCODING}, data=bytes(64)),  # no key id
    Payload(metadata={"encoding": ENCODING, KEY_ID_METADATA: b"\xff" * 500}, data=bytes(64)),
]
"""Payloads labelled as encrypted that the worker's key list cannot decrypt: a sender with another key, a forgery."""


@dataclass
class Case:
    handle: WorkflowHandle[Any, CaseStatus]
    first_run_id: str
    updates_in_flight: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(UPDATES_IN_FLIGHT))
    sent: Counter[str] = field(default_factory=Counter)  # per kind, and how often the server asked to retry
    surely_refused_signals: int = 0


@dataclass(frozen=True)
class Send:
    kind: str  # "signal", "signal_args", "signal_raw", "update"
    case: int
    name: str
    payload: Any

    def __repr__(self) -> str:  # short enough to read in a failure report
        payload = self.payload
        if isinstance(payload, Payload):
            payload = f"Payload({dict(payload.metadata)!r}, {payload.data[:40]!r})"
        return f"Send({self.kind}, case {self.case}, {self.name!r:.80}, {payload!r:.200})"


def predicted_refusal(name: str, payload: Any) -> str | None:
    """The reason the contract itself refuses an event for, whatever the case's state; None if it may be accepted.
    Judged on the payload as the worker receives it, after its way through JSON."""
    converter = pydantic_data_converter.payload_converter
    try:
        rules.parse(name, converter.from_payloads(converter.to_payloads([payload]))[0])
    except rules.Weigering as refused:
        return refused.reden
    return None


live_names = event_names.filter(bool)  # an empty name is refused by the server itself, before any case sees it


def sends(cases: int) -> st.SearchStrategy[Send]:
    """What other services send; never an event that may close the case (the fuzz goes on until the end)."""
    case = st.sampled_from(range(cases))
    signal = st.tuples(case, live_names).flatmap(
        lambda t: payloads_for(t[1], may_close=False).map(lambda p: Send("signal", t[0], t[1], p))
    )
    update = st.tuples(case, CONTRACT_NAMES).flatmap(
        lambda t: payloads_for(t[1], may_close=False).map(lambda p: Send("update", t[0], t[1], p))
    )
    signal_args = st.tuples(case, CONTRACT_NAMES, st.lists(json_values, min_size=2, max_size=3)).map(
        lambda t: Send("signal_args", t[0], t[1], t[2])
    )
    signal_raw = st.tuples(case, live_names, st.sampled_from(UNREADABLE)).map(
        lambda t: Send("signal_raw", t[0], t[1], t[2])
    )
    return st.one_of(signal, signal, signal, update, update, signal_args, signal_raw)


async def send_one(case: Case, item: Send) -> None:
    handle = case.handle
    case.sent[item.kind] += 1
    if item.kind == "signal":
        if item.name not in EVENTS or predicted_refusal(item.name, item.payload) is not None:
            case.surely_refused_signals += 1
        await handle.signal(item.name, item.payload)
    elif item.kind == "signal_args":
        case.surely_refused_signals += 1
        await handle.signal(item.name, args=item.payload)
    elif item.kind == "signal_raw":
        await handle.signal(item.name, RawValue(item.payload))
    else:
        async with case.updates_in_flight:
            case.sent["update_retried"] += await update_is_applied_or_refused(handle, item.name, item.payload)


def workflow_not_ready(error: RPCError) -> bool:
    """The server's answer to an update whose workflow task it had to retry (for instance because signals came in
    while the case continued as new): not a failure of the case, and the caller tries again."""
    return error.status == RPCStatusCode.FAILED_PRECONDITION and "workflow task failure" in error.message


async def update_is_applied_or_refused(handle: WorkflowHandle[Any, Any], name: str, payload: Any) -> int:
    """Send an update, check its outcome; how many times the server asked to try again."""
    predicted = predicted_refusal(name, payload)
    retries = 0
    while True:
        try:
            status = await handle.execute_update(name, payload, result_type=CaseStatus)
        except RPCError as error:
            if not workflow_not_ready(error) or retries >= 5:
                raise
            retries += 1
            await asyncio.sleep(0.2 * retries)
            continue
        except WorkflowUpdateFailedError as failed:
            cause = failed.cause
            assert isinstance(cause, ApplicationError), f"{name} {payload!r:.200}: {cause!r}"
            assert cause.type == REFUSAL_TYPE, f"{name} {payload!r:.200}: refused as {cause.type}: {cause.message}"
            assert_fit_to_show(cause.message, payload)
            if predicted is not None:
                assert cause.message == predicted
            return retries
        assert predicted is None, f"{name} {payload!r:.200} was applied, yet the contract refuses it: {predicted}"
        assert not status.afgesloten
        return retries


async def start_cases(worker: CaseWorker) -> list[Case]:
    today = amsterdam_date(datetime.now(UTC))
    pupils = [
        pupil(today - timedelta(days=10)),
        pupil(today - timedelta(days=40), age=14, sector="VO", fase=0, woont_in_rotterdam=False),
        pupil(today - timedelta(days=20), age=4),
        pupil(today - timedelta(days=5), uit_buitenland=True),
    ]
    cases = []
    for aanmelding in pupils:
        started = await start(worker.client, aanmelding, worker.task_queue)
        assert started.first_execution_run_id is not None
        # Signals and updates go to the case, whichever run it is in (it may continue as new meanwhile).
        case = worker.client.get_workflow_handle(started.id, result_type=CaseStatus)
        cases.append(Case(case, started.first_execution_run_id))
    return cases


async def runs(client: Client, workflow_id: str, first_run_id: str) -> AsyncIterator[list[HistoryEvent]]:
    """The history of each run of a case, following continue-as-new."""
    run_id: str | None = first_run_id
    while run_id:
        history = [e async for e in client.get_workflow_handle(workflow_id, run_id=run_id).fetch_history_events()]
        yield history
        last = history[-1]
        run_id = None
        if last.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW:
            run_id = last.workflow_execution_continued_as_new_event_attributes.new_execution_run_id


def failed_tasks(history: Sequence[HistoryEvent]) -> list[str]:
    """Workflow tasks that failed; a signal arriving while a run completes makes the server ask again: not ours."""
    return [
        f"{WorkflowTaskFailedCause.Name(e.workflow_task_failed_event_attributes.cause)}: "
        f"{e.workflow_task_failed_event_attributes.failure.message}"
        for e in history
        if e.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED
        and e.workflow_task_failed_event_attributes.cause
        != WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_UNHANDLED_COMMAND
    ]


async def assert_healthy_history(client: Client, case: Case) -> int:
    """No failed workflow task in any run, each run small; the number of runs."""
    count = 0
    async for history in runs(client, case.handle.id, case.first_run_id):
        count += 1
        assert not failed_tasks(history), failed_tasks(history)[:3]
        assert len(history) <= MAX_RUN_EVENTS, f"a run of {len(history)} events"
        size = sum(e.ByteSize() for e in history)
        assert size <= MAX_RUN_BYTES, f"a run of {size} bytes"
    return count


async def assert_still_processing_and_close(case: Case) -> CaseStatus:
    """A last malformed signal is recorded, a last valid update applied, and the case closes normally (withdrawn by
    a role that may, for the case's sector)."""
    await case.handle.signal(
        "voortgang", {"toelichting": "Stand van zaken.", "door": "school", "laatste_kenmerk": True}
    )
    await eventually(
        lambda: status_of(case.handle),
        lambda s: bool(s.afgewezen) and "laatste_kenmerk" in s.afgewezen[-1].reden,
        within=10,
    )
    status = await case.handle.execute_update(
        "voortgang", {"toelichting": "Laatste stand.", "door": "school"}, result_type=CaseStatus
    )
    assert status.tijdlijn[-1].gebeurtenis == "voortgang"
    intrekken = with_door(
        "intrekken", {"reden": "Einde van de proef."}, status.sector.value, uit_buitenland=status.uit_buitenland
    )
    await case.handle.execute_update("intrekken", intrekken, result_type=CaseStatus)
    result = await asyncio.wait_for(case.handle.result(), timeout=60)
    assert result.afgesloten and result.uitkomst is Uitkomst.INGETROKKEN
    return result


async def test_thousands_of_hostile_signals_and_updates_fail_no_task_and_the_cases_go_on(
    dev_env: WorkflowEnvironment, register: Register, test_settings: Settings
) -> None:
    async with case_worker(dev_env, register, test_settings) as worker:
        cases = await start_cases(worker)
        loop = asyncio.get_running_loop()

        async def send_batch(batch: list[Send]) -> None:
            await asyncio.gather(*(send_one(cases[item.case], item) for item in batch))

        # Hypothesis draws in a thread of its own (it does not run coroutines); the event loop sends each batch.
        # A failure names the event, so a batch is not shrunk (that would resend it over and over).
        @settings(
            max_examples=BATCHES,
            deadline=None,
            database=None,
            phases=NO_SHRINKING,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        )
        @given(batch=st.lists(sends(len(cases)), min_size=BATCH, max_size=BATCH))
        def fuzz(batch: list[Send]) -> None:
            asyncio.run_coroutine_threadsafe(send_batch(batch), loop).result(timeout=120)

        await asyncio.wait_for(asyncio.to_thread(fuzz), timeout=300)

        sent = sum((case.sent for case in cases), Counter[str]())
        retried = sent.pop("update_retried", 0)
        assert sent.total() == BATCHES * BATCH
        assert set(sent) == {"signal", "signal_args", "signal_raw", "update"} and min(sent.values()) > 0, sent
        assert retried < sent["update"] / 20, f"{retried} updates had to be sent again"
        for case in cases:
            status = await status_of(case.handle)
            assert len(status.afgewezen) <= rules.MAX_AFGEWEZEN
            assert len(status.afgewezen) >= min(rules.MAX_AFGEWEZEN, case.surely_refused_signals)
            for refusal in status.afgewezen:
                assert_fit_to_show(refusal.reden, None)
                assert len(refusal.gebeurtenis) <= 60 and refusal.gebeurtenis.isprintable()
            await assert_still_processing_and_close(case)
            await assert_healthy_history(worker.client, case)


# --------------------------------------------------------------------------------- payloads nobody can read


@pytest.fixture
async def one_case(
    dev_env: WorkflowEnvironment, register: Register, test_settings: Settings
) -> AsyncIterator[tuple[CaseWorker, Case]]:
    async with case_worker(dev_env, register, test_settings) as worker:
        today = amsterdam_date(datetime.now(UTC))
        started = await start(worker.client, pupil(today - timedelta(days=10)), worker.task_queue)
        assert started.first_execution_run_id is not None
        case = Case(
            worker.client.get_workflow_handle(started.id, result_type=CaseStatus), started.first_execution_run_id
        )
        yield worker, case


async def assert_refused_as_afgewezen(handle: WorkflowHandle[Any, Any], name: str, *args: Any) -> str:
    with pytest.raises(WorkflowUpdateFailedError) as failed:
        await handle.execute_update(name, args=list(args), result_type=CaseStatus)
    cause = failed.value.cause
    assert isinstance(cause, ApplicationError), repr(cause)
    assert cause.type == REFUSAL_TYPE, f"update {name!r:.80} refused as {cause.type}: {cause.message:.200}"
    assert_fit_to_show(cause.message, None)
    return cause.message


async def test_an_update_nobody_can_read_is_refused_as_afgewezen_and_a_signal_is_recorded(
    one_case: tuple[CaseWorker, Case],
) -> None:
    """Unknown update names, extra arguments and unreadable payloads: refused like any other bad event."""
    worker, case = one_case
    for name in ["bestaat_niet", "Melding", "x" * 200, "status"]:
        await assert_refused_as_afgewezen(case.handle, name, {})
    await assert_refused_as_afgewezen(case.handle, "voortgang", {"toelichting": "Stand."}, {"toelichting": "Nog een."})
    for payload in UNREADABLE:
        await assert_refused_as_afgewezen(case.handle, "voortgang", RawValue(payload))

    before = len((await status_of(case.handle)).afgewezen)
    for payload in UNREADABLE:
        await case.handle.signal("voortgang", RawValue(payload))
    status = await eventually(
        lambda: status_of(case.handle), lambda s: len(s.afgewezen) >= before + len(UNREADABLE), within=10
    )
    assert {a.gebeurtenis for a in status.afgewezen[before:]} == {"voortgang"}
    await assert_still_processing_and_close(case)
    await assert_healthy_history(worker.client, case)


async def test_a_payload_encrypted_under_a_key_the_worker_lacks_fails_no_task(
    dev_env: WorkflowEnvironment, one_case: tuple[CaseWorker, Case]
) -> None:
    """A service with another key, or none, or a forger: its signals are not applied, and the case goes on.
    (Payloads the worker once could read but no longer can are an operator's matter: see key rotation.)"""
    worker, case = one_case
    target = dev_env.client.service_client.config.target_host
    namespace = dev_env.client.namespace
    without_codec = await Client.connect(target, namespace=namespace, data_converter=pydantic_data_converter)
    other_key = await Client.connect(
        target,
        namespace=namespace,
        data_converter=build_data_converter(Settings(encryptie="aan", codec_keys=f"andere:{generate_key()}")),
    )
    forged = without_codec.get_workflow_handle(case.handle.id)

    for payload in UNDECRYPTABLE:
        await forged.signal("voortgang", RawValue(payload))
    await other_key.get_workflow_handle(case.handle.id).signal("voortgang", {"toelichting": "Met een andere sleutel."})
    # Whatever became of those signals, the case still answers and applies what it can read.
    await assert_still_processing_and_close(case)
    await assert_healthy_history(worker.client, case)


async def test_an_update_encrypted_under_a_key_the_worker_lacks_is_refused(
    dev_env: WorkflowEnvironment, one_case: tuple[CaseWorker, Case]
) -> None:
    worker, case = one_case
    target = dev_env.client.service_client.config.target_host
    without_codec = await Client.connect(
        target, namespace=dev_env.client.namespace, data_converter=pydantic_data_converter
    )
    forged = without_codec.get_workflow_handle(case.handle.id)

    for payload in UNDECRYPTABLE:
        with pytest.raises(WorkflowUpdateFailedError):
            await asyncio.wait_for(forged.execute_update("voortgang", RawValue(payload)), timeout=10)
    await assert_still_processing_and_close(case)
    await assert_healthy_history(worker.client, case)


def test_the_unreadable_payloads_are_unreadable_indeed() -> None:
    """The payloads above would otherwise test nothing: the converter refuses each of them."""
    converter = pydantic_data_converter.payload_converter
    for payload in UNREADABLE:
        with pytest.raises(Exception):  # noqa: B017 - any error: the point is that no value comes out
            converter.from_payloads([payload], [dict])
