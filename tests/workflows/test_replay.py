"""Determinism across versions: recorded histories of finished cases must replay on today's code.

A change to the workflow or the case rules that would break cases already running fails here. Such a change goes
behind ``workflow.patched`` (see docs/versioning.md); the last test shows both sides of that on a real history.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from pydantic import TypeAdapter
from temporalio import activity, workflow
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer
from temporalio.workflow import NondeterminismError

from tests.histories.record import contract_version
from thuiszitters.settings import Settings
from thuiszitters.temporal.converter import build_data_converter
from thuiszitters.temporal.worker import WorkerTuning
from workflows import activities, events, outbox, rules, steps
from workflows.contract import Rol
from workflows.effects import Effect, Portie, Sjabloon, Verantwoordelijken
from workflows.scheduled import BewaartermijnWorkflow, WeekrapportWorkflow
from workflows.thuiszitter import EFFECT_BATCH, PORTIE_BATCH, ThuiszitterWorkflow

HISTORY_DIR = Path(__file__).parent.parent / "histories"
SCHEDULED_DIR = HISTORY_DIR / "scheduled"
HISTORIES = sorted(path for path in HISTORY_DIR.rglob("*.json") if SCHEDULED_DIR not in path.parents)
"""Today's recordings, and below them, per patch, the recordings of cases that started before it."""
SCHEDULED = sorted(SCHEDULED_DIR.glob("*.json"))
"""The scheduled workflows' recordings (``python -m tests.histories.record_scheduled``)."""
CURRENT = sorted(HISTORY_DIR.glob("*.json"))
CONVERTER = build_data_converter(Settings(encryptie="uit"))


def load(path: Path, *, prefix: str = "thuiszitter") -> WorkflowHistory:
    return WorkflowHistory.from_json(f"{prefix}-{path.stem}", json.loads(path.read_text()))


def replayer(runner: str = "sdk") -> Replayer:
    """``sdk``: the SDK's own sandbox, which imports the workflow module inside it and so stops a clock, randomness
    or I/O in workflow code. ``worker``: the runner the worker runs with."""
    if runner == "worker":
        options = WorkerTuning().worker_options()
        return Replayer(
            workflows=[ThuiszitterWorkflow], data_converter=CONVERTER, workflow_runner=options["workflow_runner"]
        )
    return Replayer(workflows=[ThuiszitterWorkflow], data_converter=CONVERTER)


@pytest.mark.parametrize("runner", ["sdk", "worker"])
@pytest.mark.parametrize("path", SCHEDULED, ids=[p.stem for p in SCHEDULED])
async def test_recorded_scheduled_workflow_replays(path: Path, runner: str) -> None:
    assert {p.stem for p in SCHEDULED} == {"bewaartermijn", "weekrapport"}
    options = WorkerTuning().worker_options() if runner == "worker" else {}
    scheduled = Replayer(
        workflows=[BewaartermijnWorkflow, WeekrapportWorkflow],
        data_converter=CONVERTER,
        **({"workflow_runner": options["workflow_runner"]} if options else {}),
    )
    result = await scheduled.replay_workflow(load(path, prefix="thuiszitters"), raise_on_replay_failure=False)
    assert result.replay_failure is None, f"{path.name}: {result.replay_failure}"


def test_every_kind_of_case_is_recorded() -> None:
    names = {path.stem for path in CURRENT}
    assert {
        "po_route_32",
        "vo_taskforce",
        "care_34_vrijstelling",
        "tlv_and_correction",
        "pupil_of_four_withdrawn",
        "pupil_from_abroad",
        "continued_as_new_first_run",
        "continued_as_new_last_run",
        "burst_first_run",
        "burst_last_run",
        "assigned_at_start",
    } <= names


@pytest.mark.parametrize("runner", ["sdk", "worker"])
@pytest.mark.parametrize("path", HISTORIES, ids=[str(p.relative_to(HISTORY_DIR).with_suffix("")) for p in HISTORIES])
async def test_recorded_history_replays(path: Path, runner: str) -> None:
    result = await replayer(runner).replay_workflow(load(path), raise_on_replay_failure=False)
    assert result.replay_failure is None, f"{path.name}: {result.replay_failure}"


@pytest.mark.parametrize("path", HISTORIES, ids=[str(p.relative_to(HISTORY_DIR).with_suffix("")) for p in HISTORIES])
def test_recorded_activities_are_the_declared_ones_with_the_inputs_they_had(path: Path) -> None:
    """Each activity a history scheduled is declared in ``workflows/activities.py`` under the name it was recorded
    with, and its input reads into today's effect models and writes back the same JSON: a field now typed as an enum
    (``Bericht.sjabloon``) keeps the string it was recorded with (fields added since, with their defaults, aside)."""
    soort_per_activity = {
        activity._Definition.must_from_callable(declared).name: soort
        for declared, soort in (
            (activities.vastleggen, "vastlegging"),
            (activities.registreren, "registratie"),
            (activities.berichten, "bericht"),
        )
    }
    effect = TypeAdapter[Effect](Effect)
    seen: set[str] = set()
    for event in load(path).events:
        if not event.HasField("activity_task_scheduled_event_attributes"):
            continue
        scheduled = event.activity_task_scheduled_event_attributes
        (recorded,) = CONVERTER.payload_converter.from_payloads(scheduled.input.payloads, [dict])
        if scheduled.activity_type.name == activity._Definition.must_from_callable(activities.verantwoordelijken).name:
            question = Verantwoordelijken.model_validate(recorded)  # not an effect: the directory's question
            assert question.model_dump(mode="json", exclude_unset=True) == recorded
            continue
        if scheduled.activity_type.name == activity._Definition.must_from_callable(activities.uitvoeren).name:
            portie = Portie.model_validate(recorded)  # effects for one receiver, in one activity
            assert portie.model_dump(mode="json", exclude_unset=True) == recorded
            seen.update(e.soort for e in portie.effecten)
            continue
        assert soort_per_activity[scheduled.activity_type.name] == recorded["soort"]
        assert effect.dump_python(effect.validate_python(recorded), mode="json", exclude_unset=True) == recorded
        seen.add(recorded["soort"])
    assert "bericht" in seen


def most_activities_in_one_task(history: WorkflowHistory) -> int:
    """The most activities one workflow task scheduled in this history."""
    per_task = Counter(
        e.activity_task_scheduled_event_attributes.workflow_task_completed_event_id
        for e in history.events
        if e.HasField("activity_task_scheduled_event_attributes")
    )
    return max(per_task.values(), default=0)


def test_both_paths_of_the_effects_patch_are_recorded() -> None:
    """Today's recordings run an event's effects side by side; the older ones, kept for cases started before the
    ``effecten-tegelijk`` patch, one by one. Both must keep replaying."""
    sequential = sorted((HISTORY_DIR / "sequential_effects").glob("*.json"))
    assert {p.stem for p in sequential} >= {"po_route_32", "vo_taskforce", "continued_as_new_first_run"}
    assert all(most_activities_in_one_task(load(p)) == 1 for p in sequential)
    assert all(most_activities_in_one_task(load(p)) >= 3 for p in CURRENT if p.stem != "continued_as_new_last_run")


async def test_a_continued_history_ends_in_continue_as_new() -> None:
    history = load(HISTORY_DIR / "continued_as_new_first_run.json")
    last = history.events[-1]
    assert last.HasField("workflow_execution_continued_as_new_event_attributes")


def effects_per_activity(history: WorkflowHistory) -> dict[int, list[list[dict[str, Any]]]]:
    """Per workflow task that scheduled effects: the effects of each activity it scheduled (one, or a portion)."""
    per_task: dict[int, list[list[dict[str, Any]]]] = {}
    for event in history.events:
        if not event.HasField("activity_task_scheduled_event_attributes"):
            continue
        scheduled = event.activity_task_scheduled_event_attributes
        (recorded,) = CONVERTER.payload_converter.from_payloads(scheduled.input.payloads, [dict])
        effects = recorded["effecten"] if scheduled.activity_type.name == "uitvoeren" else [recorded]
        if all("soort" in effect for effect in effects):  # not the directory's question
            per_task.setdefault(scheduled.workflow_task_completed_event_id, []).append(effects)
    return per_task


def receiver(effect: dict[str, Any]) -> str:
    """An outside system, a role (Leerplicht is both), or the register."""
    if "systeem" in effect:
        return f"systeem {effect['systeem']}"
    return f"rol {effect['rol']}" if "rol" in effect else "register"


def receivers_per_task(history: WorkflowHistory) -> list[list[str]]:
    """Per workflow task that scheduled activities: the receiver of each (an outside system or a role), register lines
    left out."""
    return [
        [receiver(effects[0]) for effects in scheduled if effects[0]["soort"] != "vastlegging"]
        for scheduled in effects_per_activity(history).values()
    ]


def assert_continued_with_effects_waiting(first: WorkflowHistory, last: WorkflowHistory) -> None:
    assert first.events[-1].HasField("workflow_execution_continued_as_new_event_attributes")
    started = last.events[0].workflow_execution_started_event_attributes
    _, carried = CONVERTER.payload_converter.from_payloads(started.input.payloads, [Any, rules.CaseState])
    assert isinstance(carried, rules.CaseState) and carried.openstaand, "nothing was waiting at continue-as-new"
    failed = [e for h in (first, last) for e in h.events if e.HasField("workflow_task_failed_event_attributes")]
    assert failed == []


def test_a_burst_before_portions_ran_one_activity_per_effect_in_order_per_receiver() -> None:
    """A backlog of signals at once, recorded before ``effecten-gebundeld`` (``effecten-in-porties``): no workflow
    task schedules more than ``EFFECT_BATCH`` activities, nor two calls to one system or two messages to one role (a
    later step never overtakes an earlier one); the run continues as new with effects still waiting, which the next
    run carries out."""
    folder = HISTORY_DIR / "single_activities"
    first, last = load(folder / "burst_first_run.json"), load(folder / "burst_last_run.json")
    assert max(most_activities_in_one_task(first), most_activities_in_one_task(last)) <= EFFECT_BATCH
    tasks = receivers_per_task(first) + receivers_per_task(last)
    assert all(len(receivers) == len(set(receivers)) for receivers in tasks)
    assert sum(len(receivers) for receivers in tasks) > len(tasks)  # and still side by side
    assert_continued_with_effects_waiting(first, last)


def test_a_burst_runs_one_activity_per_receiver_with_its_effects_in_order() -> None:
    """A backlog of signals at once (``effecten-gebundeld``): each workflow task schedules at most one activity per
    receiver (an outside system, a role, the register), carrying that receiver's effects in the order they were
    queued, at most ``PORTIE_BATCH`` effects in all; far fewer activities than effects. The run continues as new with
    effects still waiting, which the next run carries out."""
    first, last = load(HISTORY_DIR / "burst_first_run.json"), load(HISTORY_DIR / "burst_last_run.json")
    tasks = [*effects_per_activity(first).values(), *effects_per_activity(last).values()]
    effects = [effect for scheduled in tasks for portion in scheduled for effect in portion]
    for scheduled in tasks:
        receivers = [receiver(portion[0]) for portion in scheduled]
        assert len(receivers) == len(set(receivers))
        assert all({receiver(effect) for effect in portion} == {receiver(portion[0])} for portion in scheduled)
        assert sum(len(portion) for portion in scheduled) <= PORTIE_BATCH
    numbers = [int(effect["sleutel"].split(":")[-2]) for effect in effects]  # the event number in the key
    per_receiver: dict[str, list[int]] = {}
    for effect, number in zip(effects, numbers, strict=True):
        per_receiver.setdefault(receiver(effect), []).append(number)
    assert all(found == sorted(found) for found in per_receiver.values())  # nobody hears a later step first
    assert max(len(portion) for scheduled in tasks for portion in scheduled) > 1
    assert len(effects) > 10 * sum(len(scheduled) for scheduled in tasks)
    assert_continued_with_effects_waiting(first, last)


def _melding_with_extra_message(original: Any, guarded: bool) -> Any:
    """A changed rule: the melding also informs the coordinator. Guarded: only for cases that start after it."""

    def changed(state: rules.CaseState, *, gemeld_bij_leerplicht: bool) -> None:
        original(state, gemeld_bij_leerplicht=gemeld_bij_leerplicht)
        if not guarded or workflow.patched("melding-informeert-coordinator"):
            outbox.send(state, Rol.COORDINATOR, Sjabloon.MELDING_THUISZITTER)

    return changed


@pytest.mark.parametrize("guarded", [False, True], ids=["without-patch", "with-patch"])
async def test_changing_a_rule_needs_a_patch(monkeypatch: pytest.MonkeyPatch, guarded: bool) -> None:
    changed = _melding_with_extra_message(steps.melding_effects, guarded)
    monkeypatch.setattr(events, "melding_effects", changed)  # where open_case and the melding call it
    history = load(HISTORY_DIR / "po_route_32.json")
    result = await replayer().replay_workflow(history, raise_on_replay_failure=False)
    if guarded:
        assert result.replay_failure is None
    else:
        assert isinstance(result.replay_failure, NondeterminismError)


def test_recordings_of_both_contract_versions_are_kept() -> None:
    """Today's recordings follow version 2 (the ``contract-v2`` marker, or a state of version 2 carried into a
    continued run); those of cases that started under version 1 stay below ``contract_v1/`` and keep replaying,
    among them pupils whose age version 2 refuses for new cases (a PO pupil of 15, continued as new, and a VO pupil
    of 7)."""
    version_1 = sorted((HISTORY_DIR / "contract_v1").glob("*.json"))
    assert {p.stem for p in version_1} >= {
        "po_route_32",
        "vo_taskforce",
        "burst_first_run",
        "po_pupil_of_15_first_run",
        "po_pupil_of_15_last_run",
        "vo_pupil_of_7",
    }
    assert {contract_version(json.loads(p.read_text())) for p in version_1} == {1}
    assert CURRENT and {contract_version(json.loads(p.read_text())) for p in CURRENT} == {2}
