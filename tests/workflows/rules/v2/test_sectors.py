"""PO and VO are two organisations (PROCEDURE.md version 2): a VO case goes through Koers VO and never reaches PPO's
people or systems, and a case whose sector is corrected moves its work to the other organisation.

The hypothesis tests (``test_properties_v2.py``) hold these invariants over random sequences; the cases here are
the ones they found, or that are too rare to leave to chance.
"""

from __future__ import annotations

from datetime import date

import pytest

from tests.workflows.rules.build import LATER, queued, refusal
from tests.workflows.rules.v2.build_v2 import (
    MEETING,
    TASKFORCE,
    by,
    drained,
    finished,
    go,
    in_phase,
    moment,
    on_route,
    opened,
    task,
    tasks,
    term_days,
    to_taskforce,
)
from workflows import rules
from workflows.effects import Registratie

PPO_ROLES = {"scp", "ouderfunctionaris", "coordinator"}


def test_a_move_to_vo_in_the_voortraject_hands_the_preventive_step_to_the_koersloket() -> None:
    before = opened(fase=0, age=12)
    scp_task = task(before, "preventie_bespreken")
    assert scp_task.rol.value == "scp"
    after = go(before, "gegevens_wijzigen", {"sector": "VO"}, "school")

    moved = task(after, "preventie_bespreken")
    assert moved.rol.value == "koersloket" and moved.id != scp_task.id
    assert finished(after)[scp_task.id] == "gegevens_wijzigen"
    assert not {r for r, _ in tasks(after)} & PPO_ROLES


def test_a_move_to_vo_hands_an_open_twelve_week_check_to_the_koersloket() -> None:
    state = drained(in_phase(3, age=12))
    at = moment(date(2025, 4, 28), state)
    checked = drained(rules.fire_due_terms(state, at))
    assert task(checked, "twaalf_weken_besluit", at).rol.value == "scp"
    moved = go(checked, "gegevens_wijzigen", {"sector": "VO"}, "scp", at=at)
    assert task(moved, "twaalf_weken_besluit", at).rol.value == "koersloket"
    assert not {r for r, _ in tasks(moved, at)} & PPO_ROLES


def test_a_move_to_vo_finishes_the_ppo_handwork_of_a_refused_kindkans_call() -> None:
    state = in_phase(1, age=12)
    kindkans = next(e for e in state.openstaand if isinstance(e, Registratie) and e.systeem.value == "kindkans")
    state = rules.register_failure(state, kindkans, "HTTP 422", LATER)
    handwork = task(state, "handmatig_afhandelen", LATER)
    assert handwork.rol.value == "scp"
    moved = go(state, "gegevens_wijzigen", {"sector": "VO"}, "school", at=LATER)
    assert handwork.id in finished(moved) and not {r for r, _ in tasks(moved, LATER)} & PPO_ROLES


def test_the_zorgplicht_term_of_a_vo_case_goes_to_the_koersloket_alone() -> None:
    applied = go(on_route("3.2", sector="VO"), "aanmelding_andere_school", {"school_brin": "34CD"}, "school")
    day = term_days(applied)["zorgplicht"]
    before = drained(applied)
    after = rules.fire_due_terms(before, moment(day, before))
    effects = queued(before, after)
    assert "bericht koersloket.zorgplicht_verlopen" in effects
    assert not [line for line in effects if line.startswith(("bericht coordinator", "bericht scp"))]


def test_the_zorgplicht_term_of_a_po_case_still_tells_the_coordinator() -> None:
    applied = go(on_route("3.2"), "aanmelding_andere_school", {"school_brin": "34CD"}, "school")
    day = term_days(applied)["zorgplicht"]
    before = drained(applied)
    effects = queued(before, rules.fire_due_terms(before, moment(day, before)))
    assert {"bericht scp.zorgplicht_verlopen", "bericht coordinator.zorgplicht_verlopen"} <= set(effects)


@pytest.mark.parametrize(
    ("sector", "rol", "name"),
    [
        ("VO", "scp", "de schoolcontactpersoon (PPO)"),
        ("VO", "coordinator", "de thuiszitterscoördinator"),
        ("PO", "koersloket", "het Koersloket (Koers VO)"),
    ],
)
def test_a_taskforce_decision_gives_no_action_to_the_other_organisation(sector: str, rol: str, name: str) -> None:
    state = go(to_taskforce(sector), "huisbezoek", {"samenvatting": "Verslag."}, "taskforce")
    acties = [
        {"rol": "school", "omschrijving": "Zoek een plek.", "uiterlijk": "2025-03-20"},
        {"rol": rol, "omschrijving": "Denk mee.", "uiterlijk": "2025-03-20"},
    ]
    reden = refusal(state, "taskforce_besluit", by("taskforce", {"besluit": "Plaatsing.", "acties": acties}))
    assert reden == f"taskforce_besluit: veld 'acties.1.rol': {name} hoort niet bij een {sector}-zaak"


def test_a_vo_case_escalated_to_the_taskforce_involves_no_ppo_role_up_to_its_place() -> None:
    state = in_phase(3, sector="VO")
    start = len(state.openstaand)
    state = go(state, "opschalen", {**TASKFORCE, "reden_code": "ouders_niet_eens"}, "koersloket")
    state = go(state, "huisbezoek", {"samenvatting": "Verslag."}, "taskforce")
    state = go(state, "taskforce_besluit", {"besluit": "Plaatsing VSO."}, "taskforce")
    state = go(state, "route", {"route": "3.3", "variant": "tlv_vso"}, "koersloket")
    state = go(state, "passende_plek", {"uitkomst": "terug_op_school"}, "taskforce")
    messages = [line for line in queued(in_phase(3, sector="VO"), state) if line.startswith("bericht ")]
    assert len(state.openstaand) > start
    assert not [line for line in messages if line.split(" ")[1].split(".")[0] in PPO_ROLES], messages


def test_closing_an_escalated_vo_case_tells_no_ppo_coordinator() -> None:
    before = go(to_taskforce("VO"), "passende_plek", {"uitkomst": "terug_op_school"}, "taskforce")
    after = go(before, "afronden", {"toelichting": "Terug op school."}, "koersloket")
    effects = queued(before, after)
    assert "bericht koersloket.afgesloten" in effects and "bericht taskforce.afgesloten" in effects
    assert "bericht coordinator.afgesloten" not in effects


def test_vo_route_33_andere_vo_school_goes_through_the_application_at_another_school() -> None:
    state = on_route("3.3", "andere_vo_school", sector="VO")
    assert ("school", "passende_school_zoeken") in tasks(state)
    applied = go(state, "aanmelding_andere_school", {"school_brin": "34CD"}, "school")
    assert "zorgplicht" in term_days(applied)


def test_a_vo_case_from_abroad_is_closed_by_leerplicht_absoluut_verzuim() -> None:
    state = opened(uit_buitenland=True, sector="VO")
    state = go(state, "passende_plek", {"uitkomst": "ingeschreven_andere_school", "school_brin": "56EF"}, "school")
    closed = go(state, "afronden", {"toelichting": "Ingeschreven."}, "leerplicht_absoluut_verzuim", at=LATER)
    assert closed.afgesloten
    assert not [line for line in queued(state, closed) if line.startswith("registratie ")]


def test_the_meeting_of_a_vo_case_has_the_koersloket_and_never_the_scp() -> None:
    state = go(in_phase(1, sector="VO"), "oudergesprek", {"deelnemers": MEETING["VO"]}, "koersloket")
    assert state.deelnemers == ["koersloket", "ouders", "school"]
