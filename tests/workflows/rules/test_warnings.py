"""Warnings before the twelve-week term: when a correction puts several in the past at once, only the latest counts."""

from __future__ import annotations

from datetime import timedelta

from tests.workflows.rules.build import OPENED, START, opened
from workflows import rules
from workflows.calendar import amsterdam_moment
from workflows.effects import Bericht


def warnings_sent(before: rules.CaseState, after: rules.CaseState) -> list[object]:
    new = after.openstaand[len(before.openstaand) :]
    return [e.gegevens.get("weken") for e in new if isinstance(e, Bericht) and e.sjabloon == "termijn_waarschuwing"]


def test_a_correction_past_both_warnings_sends_only_the_ten_week_warning() -> None:
    state = opened()
    correction = rules.parse(
        "startdatum_correctie", {"startdatum": (START - timedelta(days=45)).isoformat(), "reden": "LBA"}, state.versie
    )
    state = rules.apply(state, "startdatum_correctie", correction, OPENED)
    fired = rules.fire_due_terms(state, OPENED + timedelta(minutes=1))
    assert warnings_sent(state, fired) == [10, 10]  # school and contact person, once each, for ten weeks
    assert {"waarschuwing_56", "waarschuwing_70"} <= set(fired.gevuurd)
    assert "twaalf_weken" not in fired.gevuurd


def test_warnings_in_their_own_time_are_each_sent() -> None:
    state = opened()
    eight = rules.fire_due_terms(state, amsterdam_moment(START + timedelta(days=56), 8))
    ten = rules.fire_due_terms(eight, amsterdam_moment(START + timedelta(days=70), 8))
    assert warnings_sent(state, eight) == [8, 8]
    assert warnings_sent(eight, ten) == [10, 10]
