"""What each event of the contract does to a case: its state, the tasks it opens and closes, the calls and messages
it queues (each with its idempotency key), and the line it adds to the register."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from tests.workflows.rules.build import (
    CASE_ID,
    LATER,
    LEERLING,
    OPENED,
    SCENARIOS,
    START,
    TASKFORCE,
    WORKFLOW_ID,
    Scenario,
    escalated_to_taskforce,
    go,
    in_phase,
    new_effects,
    on_route,
    opened,
    queued,
    rollen,
    task,
    tasks,
    term_days,
)
from workflows import rules
from workflows.calendar import amsterdam_date
from workflows.contract import Escalatie, Regiehouder, Uitkomst
from workflows.effects import Bericht, Registratie, Vastlegging
from workflows.rules import CaseState

MELDING_EFFECTS = [
    "registratie leerplicht.melding_volledig_verzuim",
    "bericht scp.melding_thuiszitter",
    "registratie kindkans.hulpvraag_aanmaken",
    "registratie sisa.signaal",
    "bericht ouderfunctionaris.ouderfunctionaris_informeren",
    "bericht ouders.toegang_kindkans",
]


def registratie(before: CaseState, after: CaseState, systeem: str, actie: str) -> Registratie:
    found = [
        e
        for e in new_effects(before, after)
        if isinstance(e, Registratie) and (e.systeem.value, e.actie) == (systeem, actie)
    ]
    assert len(found) == 1
    return found[0]


def bericht(before: CaseState, after: CaseState, rol: str, sjabloon: str) -> Bericht:
    found = [
        e for e in new_effects(before, after) if isinstance(e, Bericht) and (e.rol.value, e.sjabloon) == (rol, sjabloon)
    ]
    assert len(found) == 1
    return found[0]


def timeline(state: CaseState) -> list[str]:
    return [regel.gebeurtenis for regel in state.tijdlijn]


# ---------------------------------------------------------------------------------------------- every event


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.id)
def test_every_accepted_event_is_numbered_and_keyed_for_exactly_once_delivery(scenario: Scenario) -> None:
    before = scenario.setup()
    after = go(before, scenario.name, scenario.payload, at=LATER)

    assert after is not before and before.volgnummer + 1 == after.volgnummer
    *calls_and_messages, line = new_effects(before, after)
    assert isinstance(line, Vastlegging)
    assert line.sleutel == f"{CASE_ID}:{after.volgnummer}:vastlegging"
    assert (line.volgnummer, line.gebeurtenis, line.tijd, line.fase) == (
        after.volgnummer,
        scenario.name,
        LATER,
        after.fase,
    )
    assert line.open_taken == rules.open_tasks(after)
    assert (line.case_id, line.workflow_id, line.leerling_ref) == (CASE_ID, WORKFLOW_ID, LEERLING)
    for effect in calls_and_messages:
        assert isinstance(effect, Registratie | Bericht)
        what = (
            f"{effect.systeem.value}.{effect.actie}"
            if isinstance(effect, Registratie)
            else f"{effect.rol.value}.{effect.sjabloon}"
        )
        assert effect.sleutel == f"{CASE_ID}:{after.volgnummer}:{what}"
        assert (effect.case_id, effect.leerling_ref) == (CASE_ID, LEERLING)
    keys = [e.sleutel for e in after.openstaand]
    assert len(keys) == len(set(keys))
    assert after.tijdlijn[-1].gebeurtenis == scenario.name and after.tijdlijn[-1].tijd == LATER
    assert len(after.tijdlijn) == len(before.tijdlijn) + 1


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.id)
def test_the_same_event_twice_changes_nothing_the_second_time(scenario: Scenario) -> None:
    once = go(scenario.setup(), scenario.name, scenario.payload)

    event = rules.parse(scenario.name, scenario.payload, once.versie)
    assert rules.apply(once, scenario.name, event, LATER) is once
    assert rules.receive(once, scenario.name, scenario.payload, LATER) is once
    rules.check(once, scenario.name, event, LATER)  # the update's validator lets it through: it is no error


def test_the_same_content_is_new_again_after_another_value() -> None:
    first = go(in_phase(3), "wachtlijst", {"op_wachtlijst": True})
    off = go(first, "wachtlijst", {"op_wachtlijst": False}, at=LATER)
    again = go(off, "wachtlijst", {"op_wachtlijst": True}, at=LATER + timedelta(days=7))
    assert again.wachtlijst and queued(off, again) == ["bericht scp.wachtlijst", "vastlegging wachtlijst"]


# ------------------------------------------------------------------------------------------------ opening


def test_a_case_opened_at_the_melding_registers_the_thuiszitter_everywhere_once() -> None:
    state = opened()
    assert [e.sleutel.removeprefix(f"{CASE_ID}:") for e in state.openstaand] == [
        "1:leerplicht.melding_volledig_verzuim",
        "1:scp.melding_thuiszitter",
        "1:kindkans.hulpvraag_aanmaken",
        "1:sisa.signaal",
        "1:ouderfunctionaris.ouderfunctionaris_informeren",
        "1:ouders.toegang_kindkans",
        "1:vastlegging",
    ]
    kindkans = state.openstaand[2]
    assert isinstance(kindkans, Registratie)
    assert kindkans.gegevens["status"] == "thuiszitter" and kindkans.gegevens["startdatum"] == "2025-02-03"
    assert (state.fase, state.regiehouder, state.melding_op) == (1, Regiehouder.SCHOOL, date(2025, 3, 3))
    assert tasks(state) == {("leerplicht", "lba_registreren"), ("school", "oudergesprek_organiseren")}
    assert task(state, "lba_registreren").uiterlijk == date(2025, 3, 10)  # five working days
    assert task(state, "oudergesprek_organiseren").uiterlijk == date(2025, 3, 17)  # ten working days


def test_a_case_opened_in_the_voortraject_waits_for_the_melding() -> None:
    state = opened(fase=0)
    assert [e.sleutel.removeprefix(f"{CASE_ID}:") for e in state.openstaand] == ["1:vastlegging"]
    assert tasks(state) == {("school", "voortraject_bespreken")}
    assert term_days(state)["vier_weken"] == START + timedelta(weeks=4)
    assert state.melding_op is None and not state.kindkans_hulpvraag


# ------------------------------------------------------------------------------------------------ melding


def test_melding_moves_the_voortraject_to_phase_1_and_reports_to_leerplicht_and_kindkans() -> None:
    before = in_phase(0)
    after = go(before, "melding", {"gemeld_bij_leerplicht": False, "door": "school"})

    assert (after.fase, after.melding_op, after.kindkans_hulpvraag) == (1, date(2025, 3, 3), True)
    assert queued(before, after) == [*MELDING_EFFECTS, "vastlegging melding"]
    assert tasks(after) == {("leerplicht", "lba_registreren"), ("school", "oudergesprek_organiseren")}
    assert "vier_weken" not in term_days(after)
    assert after.tijdlijn[-1].door == "school"


def test_melding_already_made_at_leerplicht_is_not_sent_there_again() -> None:
    before = in_phase(0)
    after = go(before, "melding", {"gemeld_bij_leerplicht": True, "datum": "2025-02-28"})
    assert queued(before, after) == [*MELDING_EFFECTS[1:], "vastlegging melding"]
    assert after.melding_op == date(2025, 2, 28)
    assert task(after, "lba_registreren").uiterlijk == date(2025, 3, 7)  # five working days after the melding


# ------------------------------------------------------------------------------------ leerplicht_registratie


def test_leerplicht_registratie_closes_the_lba_task_and_its_reminder() -> None:
    before = in_phase(1)
    after = go(before, "leerplicht_registratie", {"lba_geregistreerd_op": "2025-02-20", "door": "leerplicht"})
    assert after.lba_geregistreerd_op == date(2025, 2, 20)
    assert queued(before, after) == ["vastlegging leerplicht_registratie"]
    assert ("leerplicht", "lba_registreren") not in tasks(after)
    assert "lba_herinnering" in term_days(before) and "lba_herinnering" not in term_days(after)


# -------------------------------------------------------------------------------------- startdatum_correctie


def test_startdatum_correctie_moves_every_deadline_and_tells_kindkans_school_and_scp() -> None:
    before = in_phase(1)
    after = go(before, "startdatum_correctie", {"startdatum": "2025-01-27", "reden": "Volgens de LBA."})

    assert after.startdatum == date(2025, 1, 27)
    assert after.deadline_12_weken == date(2025, 4, 21)
    assert term_days(after)["twaalf_weken"] == date(2025, 4, 21)
    assert term_days(after)["waarschuwing_56"] == date(2025, 3, 24)
    assert rules.weeks_at_home(after, OPENED) == 5
    assert queued(before, after) == [
        "registratie kindkans.hulpvraag_bijwerken",
        "bericht school.startdatum_gecorrigeerd",
        "bericht scp.startdatum_gecorrigeerd",
        "vastlegging startdatum_correctie",
    ]
    assert registratie(before, after, "kindkans", "hulpvraag_bijwerken").gegevens == {"startdatum": "2025-01-27"}
    assert bericht(before, after, "scp", "startdatum_gecorrigeerd").gegevens["deadline"] == "2025-04-21"


def test_startdatum_correctie_in_the_voortraject_moves_the_four_weeks_without_kindkans() -> None:
    before = in_phase(0)
    after = go(before, "startdatum_correctie", {"startdatum": "2025-02-10", "reden": "Eerder nog aanwezig."})
    assert term_days(after)["vier_weken"] == date(2025, 3, 10)
    assert "registratie kindkans.hulpvraag_bijwerken" not in queued(before, after)


# ------------------------------------------------------------------------------------------- oudergesprek


@pytest.mark.parametrize(("sector", "contact"), [("PO", "scp"), ("VO", "koersloket")])
def test_oudergesprek_moves_to_phase_2_and_asks_the_school_for_the_plan(sector: str, contact: str) -> None:
    before = in_phase(1, sector=sector)
    after = go(before, "oudergesprek", {"deelnemers": ["ouders", "school", contact, "wijkteam"]})

    assert (after.fase, after.oudergesprek_op) == (2, date(2025, 3, 3))
    assert after.deelnemers == sorted(["ouders", "school", contact, "wijkteam"])
    assert queued(before, after) == ["registratie kindkans.hulpvraag_bijwerken", "vastlegging oudergesprek"]
    assert registratie(before, after, "kindkans", "hulpvraag_bijwerken").gegevens == {
        "gebeurtenis": "oudergesprek",
        "fase": 2,
    }
    assert ("school", "oudergesprek_organiseren") not in tasks(after)
    assert task(after, "plan_van_aanpak_opstellen").uiterlijk == date(2025, 3, 17)
    assert "oudergesprek_herinnering" not in term_days(after) and "plan_herinnering" in term_days(after)


def test_a_second_oudergesprek_is_recorded_without_moving_the_phase() -> None:
    state = go(in_phase(3), "oudergesprek", {"deelnemers": ["school", "ouders", "scp", "smw"]})
    assert state.fase == 3 and state.deelnemers == ["ouders", "school", "scp", "smw"]


# ------------------------------------------------------------------------------------------ plan_van_aanpak


def test_plan_van_aanpak_in_the_opp_with_consent_moves_to_phase_3() -> None:
    before = in_phase(2)
    after = go(before, "plan_van_aanpak", {"in_opp": True, "instemming_ouders": True})

    assert after.fase == 3
    assert queued(before, after) == ["registratie kindkans.hulpvraag_bijwerken", "vastlegging plan_van_aanpak"]
    assert tasks(after) == {
        ("leerplicht", "lba_registreren"),
        ("school", "voortgang_melden"),
        ("school", "route_kiezen"),
    }
    assert "plan_herinnering" not in term_days(after)


@pytest.mark.parametrize(
    ("in_opp", "instemming", "open_task"),
    [
        (True, False, "instemming_ouders_vragen"),
        (False, True, "plan_in_opp_opnemen"),
    ],
)
def test_plan_van_aanpak_without_opp_or_consent_stays_in_phase_2(
    in_opp: bool, instemming: bool, open_task: str
) -> None:
    before = in_phase(2)
    after = go(before, "plan_van_aanpak", {"in_opp": in_opp, "instemming_ouders": instemming})

    assert after.fase == 2
    assert queued(before, after) == ["vastlegging plan_van_aanpak"]
    school_tasks = {t for r, t in tasks(after) if r == "school"}
    assert school_tasks == {open_task}
    done = go(after, "plan_van_aanpak", {"in_opp": True, "instemming_ouders": True}, at=LATER)
    assert done.fase == 3


# ---------------------------------------------------------------------------------------------------- route


@pytest.mark.parametrize(
    ("route", "variant", "regie", "extra_effects", "route_tasks"),
    [
        ("3.1", None, "school", [], {("school", "passend_aanbod")}),
        ("3.2", None, "school", [], {("school", "passende_school_zoeken"), ("ouders", "schriftelijk_aanmelden")}),
        (
            "3.3",
            "andere_reguliere_school",
            "school",
            [],
            {("school", "passende_school_zoeken"), ("ouders", "schriftelijk_aanmelden")},
        ),
        ("3.3", "arrangement", "school", [], {("scp", "arrangement_inzetten")}),
        (
            "3.3",
            "tlv_sbo",
            "school",
            ["bericht scp.tlv_onderbouwing", "registratie centrale_aanmeldroute.aanmelding"],
            {("scp", "tlv_onderbouwing")},
        ),
        (
            "3.3",
            "tlv_so",
            "school",
            ["bericht scp.tlv_onderbouwing", "registratie centrale_aanmeldroute.aanmelding"],
            {("scp", "tlv_onderbouwing")},
        ),
        (
            "3.3",
            "zorgarrangement",
            "school",
            ["bericht wijkteam.regie_wijkteam"],
            {("wijkteam", "zorgarrangement_kiezen")},
        ),
        (
            "3.4",
            None,
            "wijkteam",
            ["bericht wijkteam.regie_wijkteam", "bericht school.huiswerkpakketten"],
            {("wijkteam", "zorgarrangement_kiezen"), ("school", "huiswerkpakketten")},
        ),
    ],
    ids=lambda v: str(v) if isinstance(v, str) else None,
)
def test_route_records_the_solution_with_its_tasks_and_calls(
    route: str, variant: str | None, regie: str, extra_effects: list[str], route_tasks: set[tuple[str, str]]
) -> None:
    before = in_phase(3)
    after = go(before, "route", {"route": route, "variant": variant, "door": "scp"})

    assert (after.route, after.route_variant, after.regiehouder.value, after.fase) == (route, variant, regie, 3)
    assert queued(before, after) == [
        "registratie kindkans.hulpvraag_bijwerken",
        "bericht ouders.route_gekozen",
        *extra_effects,
        "vastlegging route",
    ]
    assert registratie(before, after, "kindkans", "hulpvraag_bijwerken").gegevens == (
        {"route": route, "variant": variant} if variant else {"route": route}
    )
    assert tasks(after) == {("leerplicht", "lba_registreren"), ("school", "voortgang_melden"), *route_tasks}
    if variant in ("tlv_sbo", "tlv_so"):
        aanmelding = registratie(before, after, "centrale_aanmeldroute", "aanmelding")
        assert aanmelding.gegevens == {"soort_onderwijs": variant.removeprefix("tlv_").upper(), "school_brin": "12AB"}


@pytest.mark.parametrize("route", ["3.1", "3.2", "3.4"])
def test_route_other_than_33_keeps_any_variant_it_is_given(route: str) -> None:
    """Version 1 checks the variant of route 3.3 only: another route keeps what the sender wrote."""
    state = go(in_phase(3), "route", {"route": route, "variant": "met ambulante begeleiding"})
    assert (state.route, state.route_variant) == (route, "met ambulante begeleiding")


@pytest.mark.parametrize("variant", ["andere_vo_school", "tlv_vso"])
def test_route_33_knows_no_variant_of_version_2(variant: str) -> None:
    with pytest.raises(rules.Weigering) as refused:
        rules.parse("route", {"route": "3.3", "variant": variant}, in_phase(3).versie)
    assert refused.value.reden == (
        "route: veld 'variant': bij route 3.3 een van andere_reguliere_school, arrangement, tlv_sbo, tlv_so, "
        "zorgarrangement"
    )


def test_route_34_gives_the_wijkteam_the_regie_and_the_school_keeps_the_homework() -> None:
    state = on_route("3.4")
    assert state.regiehouder is Regiehouder.WIJKTEAM
    assert ("school", "huiswerkpakketten") in tasks(state)
    assert rules.status(state, OPENED).regiehouder is Regiehouder.WIJKTEAM

    back = go(state, "route", {"route": "3.1"}, at=LATER)
    assert back.regiehouder is Regiehouder.SCHOOL
    assert ("school", "huiswerkpakketten") not in tasks(back) and ("wijkteam", "zorgarrangement_kiezen") not in tasks(
        back
    )
    assert back.tijdlijn[-1].toelichting is not None and "(was 3.4)" in back.tijdlijn[-1].toelichting


def test_leaving_the_route_to_another_school_drops_the_application_and_its_term() -> None:
    applied = go(on_route("3.2"), "aanmelding_andere_school", {"school_brin": "34CD"})
    assert "zorgplicht" in term_days(applied)
    other = go(applied, "route", {"route": "3.1"}, at=LATER)
    assert other.andere_school is None and "zorgplicht" not in term_days(other)


# ------------------------------------------------------------------------- aanmelding_andere_school, zorgplicht


@pytest.mark.parametrize(("route", "variant"), [("3.2", None), ("3.3", "andere_reguliere_school")])
def test_aanmelding_andere_school_starts_the_six_week_zorgplicht_term(route: str, variant: str | None) -> None:
    before = on_route(route, variant)
    after = go(before, "aanmelding_andere_school", {"school_brin": "34CD", "door": "ouders"})

    deadline = date(2025, 3, 3) + timedelta(weeks=6)
    assert after.andere_school is not None and after.andere_school.school_brin == "34CD"
    assert term_days(after)["zorgplicht"] == deadline
    assert queued(before, after) == ["bericht scp.aanmelding_andere_school", "vastlegging aanmelding_andere_school"]
    assert bericht(before, after, "scp", "aanmelding_andere_school").gegevens == {
        "school_brin": "34CD",
        "termijn_op": deadline.isoformat(),
    }
    assert task(after, "besluit_ontvangende_school").uiterlijk == deadline
    assert {("school", "passende_school_zoeken"), ("ouders", "schriftelijk_aanmelden")}.isdisjoint(tasks(after))


def test_zorgplicht_verlengd_extends_the_term_once_by_four_weeks() -> None:
    before = go(on_route("3.2"), "aanmelding_andere_school", {"school_brin": "34CD"})
    after = go(before, "zorgplicht_verlengd", {"door": "34CD"}, at=LATER)

    deadline = date(2025, 3, 3) + timedelta(weeks=10)
    assert after.andere_school is not None and after.andere_school.verlengd
    assert "zorgplicht" not in term_days(after)
    assert term_days(after)["zorgplicht_verlengd"] == deadline
    assert task(after, "besluit_ontvangende_school").uiterlijk == deadline
    assert queued(before, after) == ["bericht scp.aanmelding_andere_school", "vastlegging zorgplicht_verlengd"]
    assert bericht(before, after, "scp", "aanmelding_andere_school").gegevens["termijn_op"] == deadline.isoformat()


def test_the_zorgplicht_term_tells_the_scp_and_the_coordinator_when_it_passes() -> None:
    applied = go(on_route("3.2"), "aanmelding_andere_school", {"school_brin": "34CD"})
    day = term_days(applied)["zorgplicht"]
    before = applied.model_copy(update={"openstaand": []})
    termijn = rules.Termijn.of(rules.Termijnsoort.ZORGPLICHT, day, "")
    after = rules.fire_due_terms(before, rules.moment_of(before, termijn))
    assert "zorgplicht" in after.gevuurd
    assert {"bericht scp.zorgplicht_verlopen", "bericht coordinator.zorgplicht_verlopen"} <= set(queued(before, after))
    assert "vastlegging zorgplicht" in queued(before, after)


def test_a_second_application_elsewhere_gets_its_own_term_and_extension() -> None:
    first = go(on_route("3.2"), "aanmelding_andere_school", {"school_brin": "34CD"})
    first = go(first, "zorgplicht_verlengd", {})
    passed = rules.fire_due_terms(first, OPENED + timedelta(weeks=11))
    assert "zorgplicht_verlengd" in passed.gevuurd

    at = OPENED + timedelta(weeks=11, hours=1)
    second = go(passed, "aanmelding_andere_school", {"school_brin": "56EF"}, at=at)
    deadline = amsterdam_date(at) + timedelta(weeks=6)
    assert term_days(second)["zorgplicht_2"] == deadline
    assert task(second, "besluit_ontvangende_school").uiterlijk == deadline
    extended = go(second, "zorgplicht_verlengd", {}, at=at)  # the same (empty) content, but for the new school
    assert term_days(extended)["zorgplicht_verlengd_2"] == deadline + timedelta(weeks=4)

    before = extended.model_copy(update={"openstaand": []})
    fired = rules.fire_due_terms(before, at + timedelta(weeks=11))
    assert "zorgplicht_verlengd_2" in fired.gevuurd
    assert "bericht coordinator.zorgplicht_verlopen" in queued(before, fired)


def test_applying_again_at_the_same_school_after_a_change_of_route_is_no_duplicate() -> None:
    applied = go(on_route("3.2"), "aanmelding_andere_school", {"school_brin": "34CD"})
    state = go(applied, "route", {"route": "3.1"}, at=LATER)
    state = go(state, "route", {"route": "3.2"}, at=LATER + timedelta(days=1))
    again = go(state, "aanmelding_andere_school", {"school_brin": "34CD"}, at=LATER + timedelta(days=2))
    assert again is not state and again.andere_school is not None
    assert again.andere_school.aangemeld_op == amsterdam_date(LATER + timedelta(days=2))
    assert "zorgplicht_2" in term_days(again)


# -------------------------------------------------------------------------------------------------- wachtlijst


def test_wachtlijst_opens_the_interim_programme_task_until_a_place_is_free() -> None:
    before = in_phase(3)
    waiting = go(before, "wachtlijst", {"op_wachtlijst": True})
    assert waiting.wachtlijst and ("scp", "tussenprogramma_adviseren") in tasks(waiting)
    assert queued(before, waiting) == ["bericht scp.wachtlijst", "vastlegging wachtlijst"]
    assert bericht(before, waiting, "scp", "wachtlijst").gegevens == {"op_wachtlijst": True}

    off = go(waiting, "wachtlijst", {"op_wachtlijst": False}, at=LATER)
    assert not off.wachtlijst and ("scp", "tussenprogramma_adviseren") not in tasks(off)


@pytest.mark.parametrize("fase", [0, 1, 2, 3])
def test_wachtlijst_voortgang_and_opschalen_fit_any_open_phase(fase: int) -> None:
    state = in_phase(fase)
    state = go(state, "wachtlijst", {"op_wachtlijst": True})
    state = go(state, "voortgang", {"toelichting": "Stand van zaken."})
    state = go(state, "opschalen", {"niveau": "coordinator", "reden": "Het gaat te langzaam."})
    state = go(state, "startdatum_correctie", {"startdatum": "2025-01-20", "reden": "LBA."})
    assert state.fase == fase and state.wachtlijst and state.escalatie is Escalatie.COORDINATOR


# --------------------------------------------------------------------------------------------------- voortgang


def test_voortgang_is_passed_on_to_parents_and_scp_and_kindkans() -> None:
    before = in_phase(3)
    after = go(before, "voortgang", {"toelichting": "Twee ochtenden per week op school.", "door": "school"})
    assert queued(before, after) == [
        "bericht ouders.voortgang",
        "bericht scp.voortgang",
        "registratie kindkans.hulpvraag_bijwerken",
        "vastlegging voortgang",
    ]
    assert bericht(before, after, "ouders", "voortgang").gegevens == {
        "toelichting": "Twee ochtenden per week op school."
    }
    assert after.fase == before.fase


def test_voortgang_before_the_melding_has_no_kindkans_file_to_update() -> None:
    before = in_phase(0)
    after = go(before, "voortgang", {"toelichting": "Leerling komt weer af en toe."})
    assert queued(before, after) == ["bericht ouders.voortgang", "bericht scp.voortgang", "vastlegging voortgang"]


# ---------------------------------------------------------------------------------------------------- opschalen


def test_opschalen_to_the_coordinator_of_the_region() -> None:
    before = in_phase(2, regio="Zuid")
    after = go(before, "opschalen", {"niveau": "coordinator", "reden": "Geen voortgang.", "door": "scp"})

    assert after.escalatie is Escalatie.COORDINATOR and after.regiehouder is Regiehouder.SCHOOL
    assert queued(before, after) == ["bericht coordinator.escalatie_coordinator", "vastlegging opschalen"]
    message = bericht(before, after, "coordinator", "escalatie_coordinator")
    assert message.regio.value == "Zuid" and message.gegevens["reden_code"] == "opgeschaald"
    assert message.gegevens["weken"] == 4 and message.gegevens["deadline"] == "2025-04-28"
    assert ("coordinator", "besluit_taskforce") in tasks(after)
    assert not any(key.startswith("waarschuwing_") for key in term_days(after))
    assert after.tijdlijn[-1].toelichting is not None and "Zuid" in after.tijdlijn[-1].toelichting


@pytest.mark.parametrize("via_coordinator", [False, True])
def test_opschalen_to_the_taskforce_hands_it_the_casusregie(via_coordinator: bool) -> None:
    before = in_phase(3)
    if via_coordinator:
        before = go(before, "opschalen", {"niveau": "coordinator", "reden": "Traag."})
    after = go(before, "opschalen", TASKFORCE, at=LATER)

    assert after.escalatie is Escalatie.TASKFORCE and after.regiehouder is Regiehouder.TASKFORCE
    assert queued(before, after) == [
        "registratie taskforce.aanmelding",
        "bericht taskforce.escalatie_taskforce",
        "bericht school.ouders_informeren_taskforce",
        "vastlegging opschalen",
    ]
    assert registratie(before, after, "taskforce", "aanmelding").gegevens == {
        "regio": "Noord",
        "sector": "PO",
        "weken_thuis": 4,
    }
    assert ("taskforce", "huisbezoek") in tasks(after) and ("coordinator", "besluit_taskforce") not in tasks(after)


def test_taskforce_keeps_the_regie_when_a_route_is_chosen_after_escalation() -> None:
    state = go(escalated_to_taskforce(), "route", {"route": "3.4"}, at=LATER)
    assert state.regiehouder is Regiehouder.TASKFORCE


def test_vo_pupil_living_in_rotterdam_goes_to_the_taskforce() -> None:
    state = go(in_phase(3, sector="VO", woont_in_rotterdam=True), "opschalen", TASKFORCE)
    assert state.escalatie is Escalatie.TASKFORCE


# ------------------------------------------------------------------------------------- huisbezoek, besluit


def test_huisbezoek_report_brings_the_case_to_the_kerngroep() -> None:
    before = escalated_to_taskforce()
    after = go(before, "huisbezoek", {"samenvatting": "Gesprek thuis.", "datum": "2025-03-01"}, at=LATER)
    assert after.huisbezoek_op == date(2025, 3, 1)
    assert queued(before, after) == ["vastlegging huisbezoek"]
    assert ("taskforce", "huisbezoek") not in tasks(after) and ("taskforce", "besluit_nemen") in tasks(after)


def test_taskforce_besluit_is_sent_to_school_and_scp() -> None:
    before = go(escalated_to_taskforce(), "huisbezoek", {"samenvatting": "Gesprek thuis."})
    after = go(before, "taskforce_besluit", {"besluit": "Plaatsing op een SO-school."}, at=LATER)
    assert after.taskforce_besluiten == 1
    assert queued(before, after) == [
        "bericht school.taskforce_besluit",
        "bericht scp.taskforce_besluit",
        "vastlegging taskforce_besluit",
    ]
    assert not {t for r, t in tasks(after) if r == "taskforce"}
    again = go(after, "taskforce_besluit", {"besluit": "Aanvullend: ambulante begeleiding."}, at=LATER)
    assert again.taskforce_besluiten == 2


# -------------------------------------------------------------------------------------------------- vrijstelling


def test_vrijstelling_aangevraagd_goes_to_leerplicht_for_the_sma_arts() -> None:
    before = on_route("3.4")
    after = go(before, "vrijstelling", {"status": "aangevraagd", "door": "ouders"})
    assert after.vrijstelling == "aangevraagd"
    assert queued(before, after) == ["bericht leerplicht.vrijstelling_aangevraagd", "vastlegging vrijstelling"]
    assert ("leerplicht", "vrijstelling_doorzetten") in tasks(after)


@pytest.mark.parametrize(
    ("besluit", "follow_up"),
    [
        ("verleend", {("school", "uitschrijven"), ("scp", "hulpvraag_afronden")}),
        ("afgewezen", set()),
    ],
)
def test_vrijstelling_besluit_is_told_to_parents_and_scp(besluit: str, follow_up: set[tuple[str, str]]) -> None:
    before = go(on_route("3.4"), "vrijstelling", {"status": "aangevraagd"})
    after = go(before, "vrijstelling", {"status": besluit}, at=LATER)
    assert after.vrijstelling == besluit
    assert queued(before, after) == [
        "bericht ouders.vrijstelling_besluit",
        "bericht scp.vrijstelling_besluit",
        "vastlegging vrijstelling",
    ]
    assert bericht(before, after, "ouders", "vrijstelling_besluit").gegevens == {"status": besluit}
    assert ("leerplicht", "vrijstelling_doorzetten") not in tasks(after)
    assert follow_up <= tasks(after)
    assert not ({("school", "uitschrijven"), ("scp", "hulpvraag_afronden")} - follow_up) & tasks(after)


def test_a_refused_vrijstelling_may_be_requested_again() -> None:
    state = go(on_route("3.4"), "vrijstelling", {"status": "aangevraagd"})
    state = go(state, "vrijstelling", {"status": "afgewezen"}, at=LATER)
    state = go(state, "vrijstelling", {"status": "aangevraagd", "door": "ouders"}, at=LATER + timedelta(days=30))
    assert state.vrijstelling == "aangevraagd"


# ------------------------------------------------------------------------------------------------ passende_plek


def _with_vrijstelling() -> CaseState:
    state = go(on_route("3.4"), "vrijstelling", {"status": "aangevraagd"})
    return go(state, "vrijstelling", {"status": "verleend"})


@pytest.mark.parametrize(
    ("setup", "payload"),
    [
        (lambda: on_route("3.1"), {"uitkomst": "terug_op_school"}),
        (lambda: on_route("3.2"), {"uitkomst": "ingeschreven_andere_school", "school_brin": "34CD"}),
        (_with_vrijstelling, {"uitkomst": "vrijstelling"}),
        (lambda: in_phase(0), {"uitkomst": "terug_op_school"}),
        (lambda: in_phase(1), {"uitkomst": "ingeschreven_andere_school", "school_brin": "34CD"}),
        (lambda: in_phase(2), {"uitkomst": "terug_op_school"}),
    ],
    ids=["route-3.1", "route-3.2", "vrijstelling", "from-phase-0", "from-phase-1", "from-phase-2"],
)
def test_passende_plek_closes_the_case_from_any_open_phase(setup, payload) -> None:
    before = setup()
    after = go(before, "passende_plek", {**payload, "door": "scp"}, at=LATER)

    assert after.afgesloten and after.afgesloten_op == LATER and after.fase == 4
    assert after.uitkomst is Uitkomst(payload["uitkomst"])
    assert rules.open_tasks(after) == [] and rules.terms(after) == [] and rules.next_term(after) is None
    effects = queued(before, after)
    assert effects[-1] == "vastlegging passende_plek"
    assert ("registratie kindkans.hulpvraag_afsluiten" in effects) is before.kindkans_hulpvraag
    assert {"ouders", "school", "scp"} <= rollen(effects)
    assert ("leerplicht" in rollen(effects)) is (before.fase >= 1)  # Leerplicht heard of the case at the melding
    assert all(line.endswith(".afgesloten") for line in effects if line.startswith("bericht "))
    status = rules.status(after, LATER + timedelta(weeks=10))
    assert (status.afgesloten, status.fase, status.fase_naam) == (True, 4, "Passende onderwijsplek")
    assert status.weken_thuis == rules.weeks_at_home(after, LATER)  # frozen at closure
    far = LATER + timedelta(weeks=52)
    assert rules.fire_due_terms(after, far) is after


def test_closing_an_escalated_case_informs_the_coordinator_and_the_taskforce() -> None:
    before = escalated_to_taskforce()
    after = go(before, "passende_plek", {"uitkomst": "terug_op_school"}, at=LATER)
    assert {"coordinator", "taskforce"} <= rollen(queued(before, after))


def test_closing_a_case_in_the_care_route_informs_the_wijkteam() -> None:
    before = on_route("3.4")
    after = go(before, "passende_plek", {"uitkomst": "terug_op_school"}, at=LATER)
    assert "wijkteam" in rollen(queued(before, after))


def test_passende_plek_closure_registers_the_outcome_in_kindkans() -> None:
    before = on_route("3.2")
    after = go(before, "passende_plek", {"uitkomst": "ingeschreven_andere_school", "school_brin": "34CD"}, at=LATER)
    assert registratie(before, after, "kindkans", "hulpvraag_afsluiten").gegevens == {
        "uitkomst": "ingeschreven_andere_school"
    }


# ----------------------------------------------------------------------------------------------------- intrekken


@pytest.mark.parametrize("fase", [0, 1, 2, 3])
def test_intrekken_closes_a_case_reported_in_error_where_it_stood(fase: int) -> None:
    before = in_phase(fase)
    after = go(before, "intrekken", {"reden": "Ten onrechte gemeld.", "door": "leerplicht"}, at=LATER)

    assert after.afgesloten and after.uitkomst is Uitkomst.INGETROKKEN and after.fase == fase
    assert rules.open_tasks(after) == [] and rules.terms(after) == []
    effects = queued(before, after)
    assert ("registratie kindkans.hulpvraag_intrekken" in effects) is (fase >= 1)
    assert "ouders" in rollen(effects) and effects[-1] == "vastlegging intrekken"
    assert timeline(after)[-1] == "intrekken"
