"""The terms as pure rules: each fires on its day at the policy's hour, once, and does what the procedure asks."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from tests.workflows.rules.build import OPENED, START, go, in_phase, opened, queued, tasks, term_days
from workflows import firing, rules
from workflows.calendar import amsterdam_moment
from workflows.contract import Escalatie
from workflows.rules import CaseState, Termijn, Termijnsoort


def at_term(state: CaseState, sleutel: str) -> datetime:
    return amsterdam_moment(term_days(state)[sleutel], state.beleid.termijn_uur)


def drained(state: CaseState) -> CaseState:
    """The state after the workflow carried out what was queued."""
    return state.model_copy(update={"openstaand": []})


@pytest.mark.parametrize(
    ("setup", "sleutel", "day", "effects"),
    [
        (
            lambda: in_phase(0),
            "vier_weken",
            date(2025, 3, 3),
            ["bericht school.vier_weken_thuis", "bericht scp.vier_weken_thuis", "vastlegging vier_weken"],
        ),
        (
            lambda: in_phase(1),
            "lba_herinnering",
            date(2025, 3, 10),
            ["bericht scp.lba_herinnering", "vastlegging lba_herinnering"],
        ),
        (
            lambda: in_phase(1),
            "oudergesprek_herinnering",
            date(2025, 3, 17),
            [
                "bericht school.oudergesprek_herinnering",
                "bericht scp.oudergesprek_herinnering",
                "vastlegging oudergesprek_herinnering",
            ],
        ),
        (
            lambda: in_phase(2),
            "plan_herinnering",
            date(2025, 3, 17),
            ["bericht school.plan_herinnering", "bericht scp.plan_herinnering", "vastlegging plan_herinnering"],
        ),
        (
            lambda: in_phase(3),
            "waarschuwing_56",
            date(2025, 3, 31),
            ["bericht school.termijn_waarschuwing", "bericht scp.termijn_waarschuwing", "vastlegging waarschuwing_56"],
        ),
        (
            lambda: in_phase(3),
            "twaalf_weken",
            date(2025, 4, 28),
            ["bericht coordinator.escalatie_coordinator", "vastlegging twaalf_weken"],
        ),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_a_term_fires_on_its_day_once(setup, sleutel: str, day: date, effects: list[str]) -> None:
    state = drained(setup())
    if sleutel != "vier_weken":
        state = state.model_copy(update={"gevuurd": [k for k in term_days(state) if term_days(state)[k] < day]})
    assert term_days(state)[sleutel] == day
    moment = at_term(state, sleutel)
    assert rules.fire_due_terms(state, moment - timedelta(seconds=1)) is state

    fired = rules.fire_due_terms(state, moment)
    assert queued(state, fired) == effects
    assert sleutel in fired.gevuurd and sleutel not in term_days(fired)
    assert rules.fire_due_terms(fired, moment + timedelta(weeks=1, seconds=1)).gevuurd.count(sleutel) == 1
    assert rules.fire_due_terms(fired, moment) is fired


def test_every_kind_of_term_does_something_when_it_passes() -> None:
    assert set(firing._FIRE) == set(Termijnsoort)


def test_each_term_has_its_kind_and_the_key_running_cases_keep() -> None:
    """What a term does follows from its kind; its key is kept in ``gevuurd`` by running cases, so it never changes
    (the zorgplicht terms' keys are followed through their events in test_events.py)."""
    found = {t.sleutel: t.soort for state in (in_phase(0), in_phase(1), in_phase(2)) for t in rules.terms(state)}
    assert found == {
        "vier_weken": Termijnsoort.VIER_WEKEN,
        "waarschuwing_56": Termijnsoort.WAARSCHUWING,
        "waarschuwing_70": Termijnsoort.WAARSCHUWING,
        "twaalf_weken": Termijnsoort.TWAALF_WEKEN,
        "lba_herinnering": Termijnsoort.LBA_HERINNERING,
        "oudergesprek_herinnering": Termijnsoort.OUDERGESPREK_HERINNERING,
        "plan_herinnering": Termijnsoort.PLAN_HERINNERING,
    }
    day = START + timedelta(weeks=6)
    assert [Termijn.of(Termijnsoort.ZORGPLICHT, day, "", *extra).sleutel for extra in ((), ("verlengd", 2))] == [
        "zorgplicht",
        "zorgplicht_verlengd_2",
    ]


def test_four_weeks_without_melding_opens_the_melding_task_for_the_school() -> None:
    state = drained(in_phase(0))
    fired = rules.fire_due_terms(state, at_term(state, "vier_weken"))
    assert ("school", "thuiszitter_melden") in tasks(fired)


def test_twelve_weeks_escalate_to_the_coordinator_by_the_system() -> None:
    state = drained(in_phase(3))
    fired = rules.fire_due_terms(state, OPENED + timedelta(weeks=9))
    assert fired.escalatie is Escalatie.COORDINATOR
    line = next(regel for regel in fired.tijdlijn if regel.gebeurtenis == "opschalen")
    assert line.door == rules.SYSTEEM and line.toelichting is not None and "twaalfwekentermijn" in line.toelichting
    message = next(e for e in fired.openstaand if e.sleutel.endswith("coordinator.escalatie_coordinator"))
    assert message.gegevens["reden_code"] == "termijn_verstreken"  # type: ignore[union-attr]
    assert ("coordinator", "besluit_taskforce") in tasks(fired)


def test_twelve_weeks_passing_on_an_escalated_case_only_note_it() -> None:
    state = drained(go(in_phase(3), "opschalen", {"niveau": "coordinator", "reden": "Traag."}))
    fired = rules.fire_due_terms(state, OPENED + timedelta(weeks=9))
    assert queued(state, fired)[-1] == "vastlegging twaalf_weken"
    assert not any(line.startswith("bericht coordinator") for line in queued(state, fired))
    assert fired.escalatie is Escalatie.COORDINATOR


def test_warnings_that_come_due_with_the_term_itself_are_not_sent() -> None:
    state = drained(opened(startdatum=START - timedelta(weeks=13)))
    fired = rules.fire_due_terms(state, OPENED)
    assert {"waarschuwing_56", "waarschuwing_70", "twaalf_weken"} <= set(fired.gevuurd)
    assert not any("termijn_waarschuwing" in line for line in queued(state, fired))
    assert fired.escalatie is Escalatie.COORDINATOR


def test_a_corrected_start_date_moves_terms_still_ahead_but_never_fires_one_twice() -> None:
    state = drained(in_phase(3))
    fired = rules.fire_due_terms(state, OPENED + timedelta(weeks=9))
    assert "twaalf_weken" in fired.gevuurd
    later = go(
        fired, "startdatum_correctie", {"startdatum": "2025-02-24", "reden": "LBA."}, at=OPENED + timedelta(weeks=9)
    )
    assert "twaalf_weken" not in term_days(later)
    again = rules.fire_due_terms(drained(later), OPENED + timedelta(weeks=20))
    assert again.gevuurd.count("twaalf_weken") == 1


def test_the_next_term_is_the_earliest_ahead() -> None:
    state = in_phase(1)
    termijn = rules.next_term(state)
    assert termijn is not None and termijn.sleutel == "lba_herinnering" and termijn.op == date(2025, 3, 10)
    assert rules.status(state, OPENED).volgende_termijn_op == date(2025, 3, 10)
