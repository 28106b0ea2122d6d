"""A call refused for good becomes a task for a person, who reports it done with a progress event."""

from __future__ import annotations

import pytest

from tests.workflows.rules.build import LATER, opened
from workflows import rules
from workflows.effects import Registratie


def refused_twice() -> rules.CaseState:
    state = opened()
    calls = [effect for effect in state.openstaand if isinstance(effect, Registratie)]
    for call in calls[:2]:
        state = rules.register_failure(state, call, "HTTP 422", LATER)
    return state


def manual(state: rules.CaseState) -> list[str]:
    return [t.taak for t in rules.open_tasks(state) if t.taak.startswith("handmatige_actie_")]


def test_each_refused_call_is_its_own_task() -> None:
    state = refused_twice()
    codes = manual(state)
    assert len(codes) == 2 and len(set(codes)) == 2  # distinct codes: both stay visible, also in the register


def test_a_progress_event_marks_a_manual_task_done() -> None:
    state = refused_twice()
    first, second = manual(state)
    event = rules.parse("voortgang", {"toelichting": "handmatig gemeld", "afgehandelde_taken": [first]}, state.versie)
    after = rules.apply(state, "voortgang", event, LATER)
    assert manual(after) == [second]
    assert after.tijdlijn[-1].gebeurtenis == "handmatige_actie_afgehandeld"


@pytest.mark.parametrize("code", ["handmatige_actie_999", "oudergesprek_organiseren"])
def test_only_open_manual_tasks_can_be_marked_done(code: str) -> None:
    state = refused_twice()
    event = rules.parse("voortgang", {"toelichting": "klaar", "afgehandelde_taken": [code]}, state.versie)
    with pytest.raises(rules.Weigering, match="afgehandelde_taken"):
        rules.check(state, "voortgang", event, LATER)
