"""The defects of issue 16 that live in the rules: each has a test that failed on the code before version 2.

Version 1 keeps the old rules for the cases started under it, so each test also runs on a case of version 1, where
it must fail with an assertion (``xfail(strict=True, raises=AssertionError)``): that shows the defect as it was, and
that the test catches it. Defects in the start input (ages) hold for every case: their tests were run against the
code before this step by hand (see the report of the change).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from tests.workflows.rules.build import LATER, aanmelding, queued
from tests.workflows.rules.v2.build_v2 import (
    TASKFORCE,
    by,
    drained,
    go,
    in_phase,
    moment,
    on_route,
    opened,
    to_coordinator,
    to_taskforce,
)
from workflows import rules
from workflows.contract import Aanmelding, CaseStatus, Escalatie, NieuweAanmelding, Taak
from workflows.effects import Registratie
from workflows.rules import CaseState

OLD_RULES = pytest.mark.xfail(strict=True, raises=AssertionError, reason="the defect, as version 1 keeps it")
VERSIONS = [pytest.param(2, id="v2"), pytest.param(1, id="v1-defect", marks=OLD_RULES)]
TWELVE_WEEKS = date(2025, 4, 28)
CHECK_DUE = date(2025, 5, 13)


def status(state: CaseState, day: date) -> CaseStatus:
    return rules.status(state, moment(day, state) + timedelta(hours=1))


def open_task(state: CaseState, taak: str, day: date) -> Taak | None:
    found = [t for t in status(state, day).open_taken if t.taak == taak]
    assert len(found) <= 1
    return found[0] if found else None


def accepted(before: CaseState, after: CaseState) -> bool:
    return after.afgewezen_totaal == before.afgewezen_totaal


def fire(state: CaseState, day: date) -> CaseState:
    return rules.fire_due_terms(drained(state), moment(day, state))


# ------------------------------------------------------------------ a due date disappears when it becomes overdue


@pytest.mark.parametrize("versie", VERSIONS)
def test_a_task_keeps_its_due_date_when_it_becomes_overdue(versie: int) -> None:
    state = in_phase(1, versie=versie)
    assert open_task(state, "lba_registreren", date(2025, 3, 3)).uiterlijk == date(2025, 3, 10)  # type: ignore[union-attr]

    reminded = fire(state, date(2025, 3, 10))  # the LBA reminder: the task is due today
    on_the_day = open_task(reminded, "lba_registreren", date(2025, 3, 10))
    assert on_the_day is not None and on_the_day.uiterlijk == date(2025, 3, 10) and not on_the_day.te_laat
    overdue = open_task(reminded, "lba_registreren", date(2025, 3, 11))
    assert overdue is not None and overdue.uiterlijk == date(2025, 3, 10) and overdue.te_laat


@pytest.mark.parametrize("versie", VERSIONS)
def test_every_open_task_has_a_due_date(versie: int) -> None:
    state = go(in_phase(3, versie=versie), "wachtlijst", {"op_wachtlijst": True}, "school")
    state = go(state, "route", {"route": "3.4"}, "school")
    state = fire(state, date(2025, 3, 20))
    assert all(t.uiterlijk is not None for t in status(state, date(2025, 3, 20)).open_taken)


# ----------------------------------------------------------------------------- tasks that could never close


def _closed_by(state: CaseState, taak: str, name: str, payload: dict[str, Any], door: str) -> CaseState:
    before = status(state, date(2025, 3, 3))
    (task_before,) = [t for t in before.open_taken if t.taak == taak]
    if name == "taak_afgerond":
        payload = {**payload, "taak_id": task_before.id}
    after = rules.receive(state, name, by(door, payload, versie=state.versie), LATER)
    assert accepted(state, after), after.afgewezen[-1].reden
    now = status(after, date(2025, 3, 3))
    assert task_before.id is not None and task_before.id in {t.id for t in now.afgeronde_taken}
    assert task_before.id not in {t.id for t in now.open_taken}
    return after


@pytest.mark.parametrize("versie", VERSIONS)
def test_the_coordinators_taskforce_question_closes_when_the_answer_is_no(versie: int) -> None:
    state = to_coordinator(versie=versie)
    payload = {"uitzicht": "Plaatsing op SBO per mei.", "herbeoordeling_op": "2025-04-01"}
    after = _closed_by(state, "besluit_taskforce", "beoordeling", payload, "coordinator")
    assert after.escalatie is Escalatie.COORDINATOR


@pytest.mark.parametrize("versie", VERSIONS)
@pytest.mark.parametrize(
    ("route", "variant", "taak", "door"),
    [
        ("3.3", "tlv_so", "tlv_onderbouwing", "scp"),
        ("3.3", "arrangement", "arrangement_inzetten", "scp"),
        ("3.1", None, "passend_aanbod", "school"),
    ],
    ids=["tlv-onderbouwing", "arrangement", "passend-aanbod"],
)
def test_a_task_without_an_event_of_its_own_closes_by_hand(
    versie: int, route: str, variant: str | None, taak: str, door: str
) -> None:
    state = on_route(route, variant, versie=versie)
    _closed_by(state, taak, "taak_afgerond", {"toelichting": "Gedaan."}, door)


@pytest.mark.parametrize("versie", VERSIONS)
def test_the_progress_task_closes_with_each_progress_report(versie: int) -> None:
    _closed_by(in_phase(3, versie=versie), "voortgang_melden", "voortgang", {"toelichting": "Stand."}, "school")


# ----------------------------------------------------------------------------- a pupil of 4 who turns 5


@pytest.mark.parametrize("versie", VERSIONS)
def test_a_pupil_of_4_becomes_leerplichtig_on_the_first_school_day_of_the_month_after_the_fifth_birthday(
    versie: int,
) -> None:
    state = drained(opened(versie=versie, geboortedatum=date(2020, 3, 15)))  # 5 on Saturday 15 March 2025
    assert not status(state, date(2025, 3, 3)).leerplichtig
    day = date(2025, 4, 1)  # Tuesday: the first school day of April

    before = rules.fire_due_terms(state, moment(day, state) - timedelta(seconds=1))
    assert not status(before, day).leerplichtig
    after = rules.fire_due_terms(drained(before), moment(day, state))
    assert status(after, day).leerplichtig
    assert "registratie leerplicht.melding_volledig_verzuim" in queued(drained(before), after)
    assert open_task(after, "lba_registreren", day) is not None


@pytest.mark.parametrize("versie", VERSIONS)
def test_a_taskforce_escalation_of_a_pupil_of_4_does_not_ask_for_agreement_with_leerplicht(versie: int) -> None:
    state = to_coordinator(age=4, versie=versie)
    payload = by("coordinator", {**TASKFORCE, "afgestemd_met_leerplicht": False}, versie=versie)
    after = rules.receive(state, "opschalen", payload, LATER)
    assert accepted(state, after) and after.escalatie is Escalatie.TASKFORCE


# ------------------------------------------------------------------------------------------- ages at intake


@pytest.mark.parametrize(
    ("sector", "age", "says"),
    [
        ("PO", 16, "ouder dan 13 jaar (PO: 4 tot en met 13 jaar)"),
        ("PO", 14, "ouder dan 13 jaar"),
        ("PO", 3, "jonger dan 4 jaar"),
        ("VO", 6, "jonger dan 10 jaar (VO: 10 tot en met 18 jaar)"),
        ("VO", 9, "jonger dan 10 jaar"),
        ("VO", 19, "ouder dan 18 jaar"),
    ],
)
def test_the_intake_refuses_a_pupil_outside_the_ages_of_the_sector(sector: str, age: int, says: str) -> None:
    with pytest.raises(ValueError, match="geboortedatum") as refused:
        aanmelding(sector=sector, age=age, model=NieuweAanmelding)
    assert says in str(refused.value)


@pytest.mark.parametrize(("sector", "age"), [("PO", 4), ("PO", 13), ("VO", 10), ("VO", 18)])
def test_the_intake_accepts_the_ages_at_the_bounds(sector: str, age: int) -> None:
    assert isinstance(aanmelding(sector=sector, age=age, model=NieuweAanmelding), Aanmelding)


@pytest.mark.parametrize(("sector", "age"), [("PO", 15), ("VO", 6)])
def test_a_running_case_of_version_1_keeps_reading_its_start_input(sector: str, age: int) -> None:
    # version 1 took a PO pupil of 15 and a VO pupil of 6: their start input and state go through replay and
    # continue-as-new as JSON, and must still be read; only new cases are held to the ages of the sector
    state = opened(versie=1, sector=sector, age=age)
    again = CaseState.model_validate_json(state.model_dump_json())
    assert again.aanmelding == state.aanmelding and again.versie == 1
    assert state.aanmelding.leeftijd_fout() is not None


# ------------------------------------------------------------------------- what people decided is not kept


@pytest.mark.parametrize("versie", VERSIONS)
def test_the_home_visit_report_and_the_taskforce_decision_are_kept(versie: int) -> None:
    state = go(to_taskforce(versie=versie), "huisbezoek", {"samenvatting": "Gesprek thuis met ouders."}, "taskforce")
    state = go(state, "taskforce_besluit", {"besluit": "Plaatsing op SO De Brug."}, "taskforce")
    dossier = status(state, date(2025, 3, 3)).dossier
    assert dossier.huisbezoek is not None and dossier.huisbezoek.samenvatting == "Gesprek thuis met ouders."
    assert [b.besluit for b in dossier.besluiten] == ["Plaatsing op SO De Brug."]


# ---------------------------------------------------------------------------------- anyone may do anything


@pytest.mark.parametrize("versie", VERSIONS)
@pytest.mark.parametrize(
    ("setup", "name", "payload", "door"),
    [
        (lambda v: on_route("3.4", versie=v), "vrijstelling", {"status": "aangevraagd"}, "school"),
        (
            lambda v: go(on_route("3.4", versie=v), "vrijstelling", {"status": "aangevraagd"}, "ouders"),
            "vrijstelling",
            {"status": "verleend"},
            "ouders",
        ),
        (
            lambda v: in_phase(1, versie=v),
            "startdatum_correctie",
            {"startdatum": "2025-01-27", "reden": "Zegt de school."},
            "school",
        ),
        (lambda v: to_taskforce(versie=v), "huisbezoek", {"samenvatting": "Verslag."}, "school"),
    ],
    ids=["vrijstelling-requested-by-school", "vrijstelling-granted-by-parents", "startdatum-by-school", "huisbezoek"],
)
def test_only_the_role_that_decides_may_send_it(
    versie: int, setup: Any, name: str, payload: dict[str, Any], door: str
) -> None:
    state = setup(versie)
    after = rules.receive(state, name, by(door, payload, versie=versie), LATER)
    assert not accepted(state, after)
    assert "mag dit niet doen" in after.afgewezen[-1].reden


@pytest.mark.parametrize("versie", VERSIONS)
@pytest.mark.parametrize(
    ("sector", "deelnemers"),
    [("PO", ["school", "ouders", "koersloket"]), ("VO", ["school", "ouders", "scp"])],
)
def test_the_oudergesprek_needs_the_contact_of_the_pupils_own_sector(
    versie: int, sector: str, deelnemers: list[str]
) -> None:
    state = in_phase(1, sector=sector, versie=versie)
    after = rules.receive(state, "oudergesprek", by("school", {"deelnemers": deelnemers}, versie=versie), LATER)
    assert not accepted(state, after) and after.fase == 1


# ------------------------------------------------------------------------------- VO through PPO's machinery


@pytest.mark.parametrize("versie", VERSIONS)
def test_a_vo_case_gets_no_kindkans_sisa_or_ppo_ouderfunctionaris(versie: int) -> None:
    state = opened(sector="VO", versie=versie)
    effects = [e.sleutel.rsplit(":", 1)[-1] for e in state.openstaand]
    assert effects == ["leerplicht.melding_volledig_verzuim", "koersloket.melding_thuiszitter", "vastlegging"]


@pytest.mark.parametrize("versie", VERSIONS)
@pytest.mark.parametrize("variant", ["tlv_sbo", "tlv_so", "arrangement"])
def test_a_vo_case_takes_no_ppo_route_and_no_centrale_aanmeldroute(versie: int, variant: str) -> None:
    state = in_phase(3, sector="VO", versie=versie)
    after = rules.receive(state, "route", by("koersloket", {"route": "3.3", "variant": variant}, versie=versie), LATER)
    assert not accepted(state, after) and after.route is None
    assert not [
        e for e in after.openstaand if isinstance(e, Registratie) and e.systeem.value == "centrale_aanmeldroute"
    ]


@pytest.mark.parametrize("versie", VERSIONS)
def test_a_vo_case_is_not_escalated_to_the_ppo_coordinator_at_twelve_weeks(versie: int) -> None:
    """At twelve weeks the Koersloket gets a decision task, due ten working days later; left undecided, the
    Koersloket is reminded and the Taskforce's Kerngroep puts the case on its list. No PPO coordinator anywhere."""
    state = in_phase(3, sector="VO", versie=versie)
    checked = fire(state, TWELVE_WEEKS)
    effects = queued(drained(state), checked)
    assert checked.escalatie is Escalatie.GEEN and not [line for line in effects if "coordinator" in line]
    decision = open_task(checked, "twaalf_weken_besluit", TWELVE_WEEKS)
    assert decision is not None and (decision.rol.value, decision.uiterlijk) == ("koersloket", CHECK_DUE)

    late = fire(checked, CHECK_DUE + timedelta(days=1))
    effects = queued(drained(checked), late)
    assert late.escalatie is Escalatie.GEEN and status(late, CHECK_DUE).op_kerngroep_lijst
    assert {"bericht koersloket.twaalf_weken_check_verlopen", "bericht taskforce.twaalf_weken_check_verlopen"} <= set(
        effects
    )
    assert not [line for line in effects if "coordinator" in line]
    still = open_task(late, "twaalf_weken_besluit", CHECK_DUE + timedelta(days=1))
    assert still is not None and still.te_laat  # it never falls through silently


@pytest.mark.parametrize("versie", VERSIONS)
def test_a_po_case_is_decided_by_the_scp_at_twelve_weeks_and_escalates_only_when_undecided(versie: int) -> None:
    state = in_phase(3, versie=versie)
    checked = fire(state, TWELVE_WEEKS)
    assert checked.escalatie is Escalatie.GEEN
    decision = open_task(checked, "twaalf_weken_besluit", TWELVE_WEEKS)
    assert decision is not None and (decision.rol.value, decision.uiterlijk) == ("scp", CHECK_DUE)
    assert {"bericht scp.twaalf_weken_check", "bericht coordinator.twaalf_weken_check_gemeld"} <= set(
        queued(drained(state), checked)
    )
    on_time = fire(checked, CHECK_DUE)
    assert on_time.escalatie is Escalatie.GEEN

    late = fire(on_time, CHECK_DUE + timedelta(days=1))
    assert late.escalatie is Escalatie.COORDINATOR
    message = [e for e in late.openstaand if getattr(e, "sjabloon", None) == "escalatie_coordinator"]
    assert [m.gegevens["reden_code"] for m in message] == ["check_niet_beslist"]  # type: ignore[union-attr]
    assert open_task(late, "besluit_taskforce", CHECK_DUE + timedelta(days=1)) is not None


# -------------------------------------------------------------------------------- closing before the checks


@pytest.mark.parametrize("versie", VERSIONS)
def test_a_passende_plek_does_not_close_the_case_before_the_checks_of_phase_4(versie: int) -> None:
    state = on_route("3.2", versie=versie)
    after = go(state, "passende_plek", {"uitkomst": "ingeschreven_andere_school", "school_brin": "34CD"}, "school")
    assert after.fase == 4 and not after.afgesloten
    assert "registratie kindkans.hulpvraag_afsluiten" not in queued(state, after)


@pytest.mark.parametrize("versie", VERSIONS)
def test_leerplicht_absoluut_verzuim_is_not_asked_to_check_at_a_school(versie: int) -> None:
    state = opened(uit_buitenland=True, versie=versie)
    reminded = fire(state, date(2025, 3, 10))
    (line,) = [r for r in reminded.tijdlijn if r.gebeurtenis == "lba_herinnering"]
    assert "school" not in str(line.toelichting)


def test_the_checks_before_closing_are_named_and_only_then_afronden_closes() -> None:
    state = go(
        on_route("3.2"), "passende_plek", {"uitkomst": "ingeschreven_andere_school", "school_brin": "34CD"}, "scp"
    )
    refused = rules.receive(state, "afronden", by("scp", {"toelichting": "Klaar."}), LATER)
    assert "nog open: de uitschrijving door de oude school" in refused.afgewezen[-1].reden
    state = go(state, "uitschrijving", {"uitgeschreven_op": "2025-03-01"}, "school")
    assert go(state, "afronden", {"toelichting": "Klaar."}, "scp").afgesloten
