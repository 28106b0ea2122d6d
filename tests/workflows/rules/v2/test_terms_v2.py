"""The terms that version 2 adds (``leerplichtig``, ``check_besluit``, ``herbeoordeling``, ``te_laat``) and how the
old ones behave in a case of version 2 (school holidays): each fires on its day at the policy's hour, once."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from tests.workflows.rules.build import queued
from tests.workflows.rules.v2.build_v2 import (
    drained,
    go,
    in_phase,
    moment,
    open_tasks,
    opened,
    task,
    tasks,
    term_days,
    to_coordinator,
    to_taskforce,
)
from workflows import rules
from workflows.contract import Escalatie
from workflows.effects import Registratie
from workflows.rules import CaseState

BIRTHDAY_IN_MARCH = date(2020, 3, 15)  # 5 on Saturday 15 March 2025
LEERPLICHTIG = date(2025, 4, 1)  # Tuesday: the first school day of April


def fired(state: CaseState, day: date, *, hour_offset: timedelta = timedelta(0)) -> tuple[CaseState, list[str]]:
    before = drained(state)
    after = rules.fire_due_terms(before, moment(day, before) + hour_offset)
    return after, queued(before, after)


# --------------------------------------------------------------------------------------------------- leerplichtig


def test_a_pupil_of_4_has_a_leerplichtig_term_on_the_first_school_day_of_the_month_after_the_fifth_birthday() -> None:
    state = opened(geboortedatum=BIRTHDAY_IN_MARCH)
    assert term_days(state)["leerplichtig"] == LEERPLICHTIG
    assert rules.status(state, moment(LEERPLICHTIG, state)).leerplichtig_vanaf == LEERPLICHTIG


def test_the_leerplichtig_term_waits_for_the_first_school_day_after_a_holiday() -> None:
    # 5 on 10 December 2025: leerplichtig from the first school day of January 2026, after the Christmas holiday
    state = opened(
        geboortedatum=date(2020, 12, 10), startdatum=date(2025, 11, 3), at=datetime(2025, 12, 1, 9, tzinfo=UTC)
    )
    assert term_days(state)["leerplichtig"] == date(2026, 1, 5)


def test_becoming_leerplichtig_reports_to_leerplicht_and_opens_the_lba_task_with_a_due_date_ahead() -> None:
    state = opened(geboortedatum=BIRTHDAY_IN_MARCH)
    assert ("leerplicht", "lba_registreren") not in tasks(state)
    after, effects = fired(state, LEERPLICHTIG)

    assert after.leerplichtig and after.leerplicht_begonnen
    start = effects.index("registratie leerplicht.melding_volledig_verzuim")
    assert effects[start : start + 5] == [
        "registratie leerplicht.melding_volledig_verzuim",
        "bericht leerplicht.leerplichtig_geworden",
        "bericht school.leerplichtig_geworden",
        "bericht scp.leerplichtig_geworden",
        "vastlegging leerplichtig",
    ]
    melding = next(e for e in after.openstaand if isinstance(e, Registratie))
    assert melding.gegevens["startdatum"] == "2025-02-03"
    at = moment(LEERPLICHTIG, after)
    lba = task(after, "lba_registreren", at)
    assert lba.uiterlijk == date(2025, 4, 8) and not lba.te_laat  # five working days after Leerplicht heard of it
    assert "bericht scp.lba_herinnering" not in effects  # nobody is reminded of what could not be done before
    assert term_days(after)["lba_herinnering"] == date(2025, 4, 8)


def test_a_pupil_who_becomes_leerplichtig_in_the_voortraject_is_reported_at_the_melding() -> None:
    state = opened(geboortedatum=BIRTHDAY_IN_MARCH, fase=0)
    after, effects = fired(state, LEERPLICHTIG)
    assert after.leerplichtig and not [line for line in effects if line.startswith("registratie ")]
    melding = go(after, "melding", {"gemeld_bij_leerplicht": False}, "school", at=moment(LEERPLICHTIG, after))
    assert "registratie leerplicht.melding_volledig_verzuim" in queued(after, melding)


def test_after_becoming_leerplichtig_a_taskforce_escalation_needs_leerplicht_again() -> None:
    state, _ = fired(to_coordinator(geboortedatum=BIRTHDAY_IN_MARCH), LEERPLICHTIG)
    at = moment(LEERPLICHTIG, state)
    payload = {
        "niveau": "taskforce",
        "reden_code": "geen_passende_plek",
        "reden": "Geen plek.",
        "afgestemd_met_leerplicht": False,
        "afgestemd_met_school": True,
    }
    refused = rules.receive(state, "opschalen", {**payload, "door": "coordinator"}, at)
    assert "veld 'afgestemd_met_leerplicht' moet true zijn" in refused.afgewezen[-1].reden


# ------------------------------------------------------------------------------------ check_besluit, herbeoordeling


def test_an_undecided_check_fires_once_the_day_after_its_due_date() -> None:
    checked, _ = fired(in_phase(3), date(2025, 4, 28))
    assert term_days(checked)["check_besluit_1"] == date(2025, 5, 14)
    on_the_day, effects = fired(checked, date(2025, 5, 13))
    assert on_the_day.escalatie is Escalatie.GEEN and "check_besluit_1" not in on_the_day.gevuurd
    late, effects = fired(on_the_day, date(2025, 5, 14))
    assert late.escalatie is Escalatie.COORDINATOR and effects[0] == "bericht coordinator.escalatie_coordinator"
    assert rules.fire_due_terms(drained(late), moment(date(2025, 5, 20), late)).gevuurd.count("check_besluit_1") == 1


def test_a_check_due_on_a_friday_escalates_on_the_monday_after_not_on_the_saturday() -> None:
    friday_start = date(2025, 1, 3)
    checked, _ = fired(in_phase(3, startdatum=friday_start), friday_start + timedelta(weeks=12))
    assert checked.twaalf_weken_check is not None
    due = checked.twaalf_weken_check.uiterlijk
    assert due.weekday() == 4, f"the check is due on {due:%A}; this test needs a Friday"
    monday = due + timedelta(days=3)
    assert term_days(checked)["check_besluit_1"] == monday
    weekend, effects = fired(checked, due + timedelta(days=1))
    assert weekend.escalatie is Escalatie.GEEN and effects == []
    late, effects = fired(weekend, monday)
    assert late.escalatie is Escalatie.COORDINATOR and "bericht coordinator.escalatie_coordinator" in effects


def test_an_overdue_task_reminds_on_the_first_working_day_after_its_due_date() -> None:
    friday = date(2025, 3, 14)
    actie = {"rol": "wijkteam", "omschrijving": "Gezinsplan opstellen.", "uiterlijk": friday.isoformat()}
    visited = go(to_taskforce(), "huisbezoek", {"samenvatting": "Gesprek thuis met de ouders."}, "taskforce")
    decided = go(visited, "taskforce_besluit", {"besluit": "Zorg eerst.", "acties": [actie]}, "taskforce")
    taak = task(decided, "taskforce_actie")
    assert taak.uiterlijk == friday
    assert term_days(decided)[f"te_laat_{taak.id}"] == date(2025, 3, 17)
    weekend, effects = fired(decided, date(2025, 3, 15))
    assert "bericht wijkteam.taak_te_laat" not in effects
    _, effects = fired(weekend, date(2025, 3, 17))
    assert "bericht wijkteam.taak_te_laat" in effects


def test_a_check_decided_in_time_never_escalates() -> None:
    checked, _ = fired(in_phase(3), date(2025, 4, 28))
    at = moment(date(2025, 5, 12), checked)
    decided = go(
        checked, "beoordeling", {"uitzicht": "Plek per juni.", "herbeoordeling_op": "2025-06-02"}, "scp", at=at
    )
    after, effects = fired(decided, date(2025, 5, 20))
    assert after.escalatie is Escalatie.GEEN and "check_besluit_1" not in after.gevuurd
    assert not [line for line in effects if "coordinator" in line]


def test_a_start_date_corrected_back_puts_the_check_in_the_past_and_what_follows_happens_at_once() -> None:
    state = go(
        in_phase(3), "startdatum_correctie", {"startdatum": "2024-11-04", "reden": "Volgens de LBA."}, "leerplicht"
    )
    after, effects = fired(state, date(2025, 3, 3), hour_offset=timedelta(hours=3))
    # twelve weeks from 4 November 2024 fell on 27 January 2025; the check was due on 10 February: both passed
    assert {"twaalf_weken", "check_besluit_1"} <= set(after.gevuurd)
    assert after.escalatie is Escalatie.COORDINATOR
    assert "bericht scp.twaalf_weken_check" in effects and "bericht coordinator.escalatie_coordinator" in effects


def test_a_corrected_start_date_moves_the_due_date_of_the_open_check() -> None:
    checked, _ = fired(in_phase(3), date(2025, 4, 28))
    at = moment(date(2025, 4, 29), checked)
    before = task(checked, "twaalf_weken_besluit", at)
    moved = go(checked, "startdatum_correctie", {"startdatum": "2025-02-10", "reden": "LBA."}, "leerplicht", at=at)
    after = task(moved, "twaalf_weken_besluit", at)
    assert after.id == before.id and after.uiterlijk == date(2025, 5, 19)  # 5 May, then ten working days


# -------------------------------------------------------------------------------------------------------- te_laat


def test_an_overdue_task_reminds_its_role_once_and_stays_open_with_its_due_date() -> None:
    state = in_phase(1)
    hulpvraag = task(state, "hulpvraag_controleren")
    assert (hulpvraag.rol.value, hulpvraag.uiterlijk) == ("scp", date(2025, 3, 10))
    assert term_days(state)[f"te_laat_{hulpvraag.id}"] == date(2025, 3, 11)

    on_the_day, effects = fired(state, date(2025, 3, 10))
    assert "bericht scp.taak_te_laat" not in effects
    late, effects = fired(on_the_day, date(2025, 3, 11))
    assert effects.count("bericht scp.taak_te_laat") == 1
    still = task(late, "hulpvraag_controleren", moment(date(2025, 3, 11), late))
    assert (still.id, still.uiterlijk, still.te_laat) == (hulpvraag.id, date(2025, 3, 10), True)
    _, effects = fired(late, date(2025, 3, 20))
    assert "bericht scp.taak_te_laat" not in effects  # once


def test_a_task_whose_term_reminds_already_gets_no_second_reminder() -> None:
    state = in_phase(1)
    lba = task(state, "lba_registreren")
    assert f"te_laat_{lba.id}" not in term_days(state) and "lba_herinnering" in term_days(state)


def test_a_reminder_to_a_school_waits_for_the_end_of_the_holiday() -> None:
    opened_at = datetime(2025, 10, 6, 9, tzinfo=UTC)  # Monday; the autumn holiday runs 18 to 26 October
    state = opened(at=opened_at, startdatum=date(2025, 9, 8))
    meeting = task(state, "oudergesprek_organiseren", opened_at)
    assert meeting.uiterlijk == date(2025, 10, 27)  # ten working days fall on 20 October: the school is closed
    assert term_days(state)["oudergesprek_herinnering"] == date(2025, 10, 27)
    assert [t for t in open_tasks(state, opened_at) if t.rol.value == "school"]
