"""Pupils for whom the procedure differs: a pupil of 4 (not leerplichtig), a pupil from abroad (Leerplicht absoluut
verzuim holds the case, no school), and secondary education (Koers VO and its Koersloket)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import pytest

from tests.workflows.rules.build import (
    LATER,
    OPENED,
    START,
    TASKFORCE,
    aanmelding,
    describe,
    go,
    in_phase,
    new_effects,
    on_route,
    opened,
    queued,
    refusal,
    rollen,
    tasks,
    term_days,
)
from workflows import rules
from workflows.calendar import amsterdam_date
from workflows.contract import Aanmelding, Escalatie, Regiehouder, Rol
from workflows.effects import Bericht, Registratie, Systeem
from workflows.rules import CaseState

LEERPLICHT_TASKS = {"lba_registreren", "leerplichtmelding_controleren", "vrijstelling_doorzetten"}


def run_terms(state: CaseState, until: datetime) -> tuple[CaseState, list[str]]:
    """Let every term up to ``until`` pass, day by day, as the workflow's timer would; returns what they queued."""
    fired: list[str] = []
    moment = OPENED
    while moment <= until:
        after = rules.fire_due_terms(state, moment)
        fired += queued(state, after)
        state = after
        moment += timedelta(days=1)
    return state, fired


def leerplicht_traces(state: CaseState) -> list[str]:
    """Everything in a case that involves Leerplicht: open tasks for it and registration calls to it."""
    found = [t.taak for t in rules.open_tasks(state) if t.rol is Rol.LEERPLICHT or t.taak in LEERPLICHT_TASKS]
    found += [
        f"{e.systeem.value}.{e.actie}"
        for e in state.openstaand
        if isinstance(e, Registratie) and e.systeem is Systeem.LEERPLICHT
    ]
    return found


# ---------------------------------------------------------------------------------------------- pupil of 4


def test_a_pupil_of_4_is_reported_without_leerplicht() -> None:
    state = opened(age=4)
    assert not state.leerplichtig and not rules.status(state, OPENED).leerplichtig
    effects = [describe(e) for e in state.openstaand]
    assert effects == [
        describe(e)
        for e in opened(age=9).openstaand
        if describe(e) != "registratie leerplicht.melding_volledig_verzuim"
    ]
    assert {"registratie kindkans.hulpvraag_aanmaken", "registratie sisa.signaal"} <= set(effects)
    assert leerplicht_traces(state) == []
    assert tasks(state) == {("school", "oudergesprek_organiseren")}
    assert "lba_herinnering" not in term_days(state)


def test_a_pupil_of_4_reported_from_the_voortraject_is_not_reported_to_leerplicht_either() -> None:
    before = in_phase(0, age=4)
    after = go(before, "melding", {"gemeld_bij_leerplicht": False})
    assert not any(line.startswith("registratie leerplicht.") for line in queued(before, after))
    assert leerplicht_traces(after) == []


def test_leerplicht_registratie_and_vrijstelling_are_refused_for_a_pupil_of_4() -> None:
    state = on_route("3.4", age=4)
    reden = refusal(state, "leerplicht_registratie", {"lba_geregistreerd_op": "2025-02-20"})
    assert "leerling van 4 jaar is niet leerplichtig" in reden
    for status in ("aangevraagd", "verleend", "afgewezen"):
        assert "leerling van 4 jaar is niet leerplichtig" in refusal(state, "vrijstelling", {"status": status})


def test_a_pupil_of_4_never_gets_a_leerplicht_task_or_call_through_a_whole_case() -> None:
    state = in_phase(0, age=4)
    state, fired = run_terms(state, OPENED + timedelta(days=3))
    state = go(state, "melding", {"gemeld_bij_leerplicht": False}, at=OPENED + timedelta(days=4))
    state = go(state, "opschalen", TASKFORCE, at=OPENED + timedelta(days=5))
    state, more = run_terms(state, OPENED + timedelta(weeks=14))
    assert leerplicht_traces(state) == []
    assert "leerplicht" not in rollen(fired + more)
    closed = go(state, "passende_plek", {"uitkomst": "terug_op_school"}, at=OPENED + timedelta(weeks=14))
    assert "leerplicht" not in rollen(queued(state, closed))
    assert not any(isinstance(e, Registratie) and e.systeem is Systeem.LEERPLICHT for e in closed.openstaand)


@pytest.mark.parametrize(
    ("geboortedatum", "leerplichtig"),
    [
        (date(2020, 2, 4), False),  # fifth birthday the day after the start date
        (date(2020, 2, 3), True),  # fifth birthday on the start date
        (date(2021, 2, 3), False),  # fourth birthday on the start date
    ],
)
def test_the_age_on_the_start_date_decides_leerplicht(geboortedatum: date, leerplichtig: bool) -> None:
    state = opened(geboortedatum=geboortedatum)
    assert state.leerplichtig is leerplichtig
    assert ("leerplicht", "lba_registreren") in tasks(state) if leerplichtig else leerplicht_traces(state) == []


def test_a_pupil_younger_than_4_is_no_case() -> None:
    with pytest.raises(ValueError, match="jonger dan 4 jaar"):
        aanmelding(geboortedatum=date(2021, 2, 4))


# ------------------------------------------------------------------------------------------ pupil from abroad


def abroad(**fields: object) -> CaseState:
    return opened(uit_buitenland=True, **fields)  # type: ignore[arg-type]


def test_a_pupil_from_abroad_is_held_by_leerplicht_absoluut_verzuim_without_school_or_kindkans() -> None:
    state = abroad()
    assert state.regiehouder is Regiehouder.LEERPLICHT_ABSOLUUT_VERZUIM
    assert [e.sleutel.split(":")[-1] for e in state.openstaand] == [
        "leerplicht_absoluut_verzuim.melding_uit_buitenland",
        "vastlegging",
    ]
    assert tasks(state) == {
        ("leerplicht_absoluut_verzuim", "school_zoeken"),
        ("leerplicht_absoluut_verzuim", "lba_registreren"),
    }
    assert "oudergesprek_herinnering" not in term_days(state)
    assert rules.status(state, OPENED).regiehouder is Regiehouder.LEERPLICHT_ABSOLUUT_VERZUIM


def test_a_pupil_from_abroad_has_no_voortraject_at_a_school() -> None:
    with pytest.raises(ValueError, match="fase"):
        Aanmelding.model_validate(
            {
                "leerling_ref": "LL0002",
                "geboortedatum": "2015-01-01",
                "sector": "PO",
                "regio": "Zuid",
                "startdatum": START,
                "uit_buitenland": True,
                "fase": 0,
            }
        )


@pytest.mark.parametrize(
    ("name", "payload"),
    [
        ("oudergesprek", {"deelnemers": ["school", "ouders", "scp"]}),
        ("plan_van_aanpak", {"in_opp": True, "instemming_ouders": True}),
        ("route", {"route": "3.1"}),
        ("aanmelding_andere_school", {"school_brin": "34CD"}),
        ("zorgplicht_verlengd", {}),
        ("passende_plek", {"uitkomst": "terug_op_school"}),
    ],
)
def test_a_pupil_from_abroad_takes_no_school_steps(name: str, payload: dict[str, object]) -> None:
    assert "buitenland" in refusal(abroad(), name, payload)


def test_a_pupil_from_abroad_is_closed_when_enrolled_at_a_school() -> None:
    before = go(abroad(), "leerplicht_registratie", {"lba_geregistreerd_op": "2025-02-20"})
    assert tasks(before) == {("leerplicht_absoluut_verzuim", "school_zoeken")}
    after = go(before, "passende_plek", {"uitkomst": "ingeschreven_andere_school", "school_brin": "56EF"}, at=LATER)
    effects = queued(before, after)
    assert after.afgesloten and not any(line.startswith("registratie ") for line in effects)
    assert rollen(effects) == {"ouders", "leerplicht_absoluut_verzuim"}


def test_a_pupil_from_abroad_is_never_sent_to_a_school_or_its_contact_nor_to_kindkans_or_sisa() -> None:
    state = abroad(sector="VO")
    at = OPENED
    state, fired = run_terms(state, at + timedelta(days=8))  # the LBA reminder
    steps: list[tuple[str, dict[str, Any]]] = [
        ("startdatum_correctie", {"startdatum": "2025-01-27", "reden": "LBA."}),
        ("voortgang", {"toelichting": "Gesprek met ouders over een school."}),
        ("wachtlijst", {"op_wachtlijst": True}),
        ("opschalen", {"niveau": "coordinator", "reden": "Geen plek."}),
        ("opschalen", TASKFORCE),
        ("huisbezoek", {"samenvatting": "Verslag."}),
        ("taskforce_besluit", {"besluit": "Plaatsing ISK."}),
        ("vrijstelling", {"status": "aangevraagd"}),
        ("vrijstelling", {"status": "afgewezen"}),
    ]
    sent = list(fired)
    for name, payload in steps:
        at += timedelta(days=1)
        after = go(state, name, payload, at=at)
        sent += queued(state, after)
        state = after
    state, fired = run_terms(state, OPENED + timedelta(weeks=14))
    sent += fired
    assert state.regiehouder is Regiehouder.TASKFORCE
    assert not rollen(sent) & {"school", "scp", "koersloket"}, sorted(rollen(sent))
    assert not [line for line in sent if line.startswith(("registratie kindkans", "registratie sisa"))]
    assert not {r for r, _ in tasks(state)} & {"school", "scp", "koersloket"}
    assert {"leerplicht_absoluut_verzuim", "coordinator", "taskforce", "ouders"} <= rollen(sent)


def test_a_vrijstelling_for_a_pupil_from_abroad_goes_to_leerplicht_absoluut_verzuim() -> None:
    before = abroad()
    after = go(before, "vrijstelling", {"status": "aangevraagd"})
    assert rollen(queued(before, after)) == {"leerplicht_absoluut_verzuim"}
    assert ("leerplicht_absoluut_verzuim", "vrijstelling_doorzetten") in tasks(after)
    granted = go(after, "vrijstelling", {"status": "verleend"}, at=LATER)
    assert not {r for r, _ in tasks(granted)} & {"school", "scp", "koersloket"}


# --------------------------------------------------------------------------------------------------------- VO


def test_vo_uses_the_koersloket_where_po_uses_the_scp() -> None:
    state = opened(sector="VO")
    assert state.contactrol is Rol.KOERSLOKET
    assert "koersloket.melding_thuiszitter" in [e.sleutel.split(":")[-1] for e in state.openstaand]
    state = go(state, "oudergesprek", {"deelnemers": ["school", "ouders", "koersloket"]})
    state = go(state, "plan_van_aanpak", {"in_opp": True, "instemming_ouders": True})
    before = state
    state = go(state, "route", {"route": "3.3", "variant": "tlv_sbo"})
    assert "bericht koersloket.tlv_onderbouwing" in queued(before, state)
    assert ("koersloket", "tlv_onderbouwing") in tasks(state)
    before = state
    state = go(state, "voortgang", {"toelichting": "Observatie loopt."}, at=LATER)
    assert rollen(queued(before, state)) == {"ouders", "koersloket"}
    assert not any(isinstance(e, Bericht) and e.rol is Rol.SCP for e in state.openstaand)


def test_vo_pupil_outside_rotterdam_goes_to_the_coordinator_but_not_the_taskforce() -> None:
    state = in_phase(3, sector="VO", woont_in_rotterdam=False)
    state = go(state, "opschalen", {"niveau": "coordinator", "reden": "Geen plek."})
    assert state.escalatie is Escalatie.COORDINATOR
    assert "in Rotterdam wonen" in refusal(state, "opschalen", TASKFORCE)


def test_po_pupil_outside_rotterdam_may_go_to_the_taskforce() -> None:
    state = go(in_phase(3, sector="PO", woont_in_rotterdam=False), "opschalen", TASKFORCE)
    assert state.escalatie is Escalatie.TASKFORCE and state.regiehouder is Regiehouder.TASKFORCE


# ------------------------------------------------------------------------------------------------- regie


def test_regie_moves_from_school_to_wijkteam_to_taskforce_and_stays() -> None:
    state = in_phase(3)
    assert state.regiehouder is Regiehouder.SCHOOL
    state = go(state, "route", {"route": "3.4"})
    assert state.regiehouder is Regiehouder.WIJKTEAM and ("school", "huiswerkpakketten") in tasks(state)
    state = go(state, "opschalen", TASKFORCE, at=LATER)
    assert state.regiehouder is Regiehouder.TASKFORCE
    state = go(state, "route", {"route": "3.1"}, at=LATER + timedelta(hours=1))
    assert state.regiehouder is Regiehouder.TASKFORCE
    assert new_effects(state, state) == []


def test_weeks_at_home_count_from_the_start_date_in_amsterdam_days() -> None:
    state = opened()
    assert rules.weeks_at_home(state, OPENED) == 4
    assert amsterdam_date(OPENED) == date(2025, 3, 3)
    assert rules.weeks_at_home(state, OPENED + timedelta(days=6, hours=13)) == 4
    assert rules.weeks_at_home(state, OPENED + timedelta(days=6, hours=14)) == 5  # midnight in Amsterdam
