"""Determinism across versions: recorded histories of finished cases must replay on today's code.

A change to the workflow or the case rules that would break cases already running fails here. Such a change goes
behind ``workflow.patched`` (see docs/versioning.md); the last test shows both sides of that on a real history.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from temporalio import workflow
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer
from temporalio.workflow import NondeterminismError

from thuiszitters import rules
from thuiszitters.converter import build_data_converter
from thuiszitters.models import Rol
from thuiszitters.settings import Settings
from workflows.thuiszitter import ThuiszitterWorkflow

HISTORIES = sorted((Path(__file__).parent.parent / "histories").glob("*.json"))
CONVERTER = build_data_converter(Settings(encryptie="uit"))


def load(path: Path) -> WorkflowHistory:
    return WorkflowHistory.from_json(f"thuiszitter-{path.stem}", json.loads(path.read_text()))


def replayer() -> Replayer:
    return Replayer(workflows=[ThuiszitterWorkflow], data_converter=CONVERTER)


def test_every_kind_of_case_is_recorded() -> None:
    names = {path.stem for path in HISTORIES}
    assert {
        "po_route_32",
        "vo_taskforce",
        "care_34_vrijstelling",
        "tlv_and_correction",
        "pupil_of_four_withdrawn",
        "pupil_from_abroad",
        "continued_as_new_first_run",
        "continued_as_new_last_run",
    } <= names


@pytest.mark.parametrize("path", HISTORIES, ids=[p.stem for p in HISTORIES])
async def test_recorded_history_replays(path: Path) -> None:
    result = await replayer().replay_workflow(load(path), raise_on_replay_failure=False)
    assert result.replay_failure is None, f"{path.name}: {result.replay_failure}"


async def test_a_continued_history_ends_in_continue_as_new() -> None:
    history = load(Path(__file__).parent.parent / "histories" / "continued_as_new_first_run.json")
    last = history.events[-1]
    assert last.HasField("workflow_execution_continued_as_new_event_attributes")


def _melding_with_extra_message(original: Any, guarded: bool) -> Any:
    """A changed rule: the melding also informs the coordinator. Guarded: only for cases that start after it."""

    def changed(state: rules.CaseState, *, gemeld_bij_leerplicht: bool) -> None:
        original(state, gemeld_bij_leerplicht=gemeld_bij_leerplicht)
        if not guarded or workflow.patched("melding-informeert-coordinator"):
            rules._send(state, Rol.COORDINATOR, "melding_thuiszitter")

    return changed


@pytest.mark.parametrize("guarded", [False, True], ids=["without-patch", "with-patch"])
async def test_changing_a_rule_needs_a_patch(monkeypatch: pytest.MonkeyPatch, guarded: bool) -> None:
    monkeypatch.setattr(rules, "_melding_effects", _melding_with_extra_message(rules._melding_effects, guarded))
    history = load(Path(__file__).parent.parent / "histories" / "po_route_32.json")
    result = await replayer().replay_workflow(history, raise_on_replay_failure=False)
    if guarded:
        assert result.replay_failure is None
    else:
        assert isinstance(result.replay_failure, NondeterminismError)
