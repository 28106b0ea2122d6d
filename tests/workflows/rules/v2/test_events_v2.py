"""What the new and changed events of contract version 2 do, and each way they are refused.

Every refusal is checked on both paths (:func:`tests.workflows.rules.build.refusal`: the update raises with the
Dutch reason, the signal records it in ``afgewezen`` and changes nothing else). Who may send an event is the subject
of ``test_permissions.py``; here the sender is always one the table allows.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import pytest

from tests.workflows.rules.build import LATER, OPENED, queued, refusal
from tests.workflows.rules.v2.build_v2 import (
    COORDINATOR,
    MEETING,
    TASKFORCE,
    by,
    drained,
    finished,
    go,
    in_phase,
    moment,
    on_route,
    open_tasks,
    opened,
    placed,
    ready_to_close,
    task,
    tasks,
    term_days,
    to_coordinator,
    to_taskforce,
)
from workflows import rules
from workflows.contract import CaseStatus, Escalatie, Regiehouder, Uitkomst
from workflows.effects import Registratie
from workflows.rules import CaseState

TWELVE_WEEKS = date(2025, 4, 28)  # START + 84 days
CHECK_DUE = date(2025, 5, 13)  # ten working days later (Bevrijdingsdag, 5 May 2025, is a public holiday)


def at_twelve_weeks(state: CaseState) -> CaseState:
    """The case once the twelve-week term has passed: the check is open."""
    return drained(rules.fire_due_terms(drained(state), moment(TWELVE_WEEKS, state)))


def status(state: CaseState, at: datetime = OPENED) -> CaseStatus:
    return rules.status(state, at)


# ------------------------------------------------------------------------------------------------- beoordeling

PROSPECT = "Plaatsing op SBO De Regenboog per 1 juni; kennismaking gepland."


@pytest.mark.parametrize(("sector", "decider"), [("PO", "scp"), ("VO", "koersloket")])
def test_beoordeling_answers_the_twelve_week_check_and_the_check_comes_back_on_its_date(
    sector: str, decider: str
) -> None:
    checked = at_twelve_weeks(in_phase(3, sector=sector))
    at = moment(TWELVE_WEEKS, checked) + timedelta(hours=2)
    first = task(checked, "twaalf_weken_besluit", at)
    assert (first.rol.value, first.uiterlijk) == (decider, CHECK_DUE)

    answered = go(checked, "beoordeling", {"uitzicht": PROSPECT, "herbeoordeling_op": "2025-05-26"}, decider, at=at)
    assert finished(answered)[first.id] == "beoordeling"
    assert ("twaalf_weken_besluit" not in {t for _, t in tasks(answered, at)}) and answered.fase == 3
    check = status(answered, at).twaalf_weken_check
    assert check is not None
    assert (check.stand, check.herbeoordeling_op, check.uitzicht) == ("uitzicht", date(2025, 5, 26), PROSPECT)
    assert term_days(answered)["herbeoordeling_1"] == date(2025, 5, 26)
    assert not any(key.startswith("check_besluit") for key in term_days(answered))  # nothing escalates meanwhile

    back_at = moment(date(2025, 5, 26), answered)
    assert rules.fire_due_terms(answered, back_at - timedelta(seconds=1)).check_stand == "uitzicht"
    back = rules.fire_due_terms(answered, back_at)
    assert f"bericht {decider}.twaalf_weken_check" in queued(answered, back)
    assert back.check_ronde == 2 and status(back, back_at).twaalf_weken_check.stand == "open"  # type: ignore[union-attr]
    second = task(back, "twaalf_weken_besluit", back_at)
    assert second.id != first.id and second.rol.value == decider
    assert second.uiterlijk == date(2025, 6, 11)  # ten working days later (Hemelvaart 29 May, Pinksteren 9 June)
    assert term_days(back)["check_besluit_2"] == date(2025, 6, 12)


def test_beoordeling_may_come_before_the_twelve_weeks_and_sets_the_date_the_check_returns() -> None:
    state = go(in_phase(3), "beoordeling", {"uitzicht": PROSPECT, "herbeoordeling_op": "2025-04-14"}, "scp")
    assert state.check_stand == "uitzicht" and term_days(state)["herbeoordeling_1"] == date(2025, 4, 14)
    back = rules.fire_due_terms(drained(state), moment(date(2025, 4, 14), state))
    assert task(back, "twaalf_weken_besluit", moment(date(2025, 4, 14), state)).uiterlijk == date(2025, 4, 29)


def test_the_coordinators_taskforce_question_closes_with_a_beoordeling() -> None:
    escalated = to_coordinator()
    question = task(escalated, "besluit_taskforce")
    answered = go(escalated, "beoordeling", {"uitzicht": PROSPECT, "herbeoordeling_op": "2025-04-01"}, "coordinator")
    assert finished(answered)[question.id] == "beoordeling"
    assert ("coordinator", "besluit_taskforce") not in tasks(answered)
    assert answered.escalatie is Escalatie.COORDINATOR  # still with the coordinator, who gets the check back

    back_at = moment(date(2025, 4, 1), answered)
    back = rules.fire_due_terms(drained(answered), back_at)
    assert "bericht coordinator.twaalf_weken_check" in queued(drained(answered), back)
    again = task(back, "besluit_taskforce", back_at)
    assert again.id != question.id and again.rol.value == "coordinator"


def test_the_check_comes_back_after_every_beoordeling_whatever_rounds_went_before() -> None:
    """A round that came back once, went unanswered to the coordinator and reopened at twelve weeks: the
    coordinator's beoordeling still brings the check back on its date (each round has a term of its own)."""
    state = go(in_phase(3), "beoordeling", {"uitzicht": PROSPECT, "herbeoordeling_op": "2025-03-20"}, "scp")
    for day in (date(2025, 3, 20), date(2025, 4, 4), TWELVE_WEEKS):  # back; undecided: to the coordinator; 12 weeks
        state = drained(rules.fire_due_terms(state, moment(day, state)))
    assert state.escalatie is Escalatie.COORDINATOR and state.check_stand == "open"
    at = moment(date(2025, 5, 1), state)
    state = go(state, "beoordeling", {"uitzicht": PROSPECT, "herbeoordeling_op": "2025-05-20"}, "coordinator", at=at)

    assert date(2025, 5, 20) in term_days(state).values()
    back = rules.fire_due_terms(state, moment(date(2025, 5, 20), state))
    assert back.check_stand == "open" and "bericht coordinator.twaalf_weken_check" in queued(state, back)


@pytest.mark.parametrize(
    ("herbeoordeling_op", "says"),
    [
        ("2025-03-03", "veld 'herbeoordeling_op' moet na vandaag liggen"),
        ("2025-02-28", "veld 'herbeoordeling_op' moet na vandaag liggen"),
        ("2025-04-15", "veld 'herbeoordeling_op' ligt verder dan 6 weken vooruit"),
    ],
)
def test_beoordeling_is_refused_for_a_date_not_after_today_or_beyond_six_weeks(
    herbeoordeling_op: str, says: str
) -> None:
    reden = refusal(
        in_phase(3), "beoordeling", by("scp", {"uitzicht": PROSPECT, "herbeoordeling_op": herbeoordeling_op})
    )
    assert reden == f"beoordeling: {says}"


def test_beoordeling_six_weeks_ahead_is_the_limit_itself() -> None:
    state = go(in_phase(3), "beoordeling", {"uitzicht": PROSPECT, "herbeoordeling_op": "2025-04-14"}, "scp")
    assert state.check_herbeoordeling_op == OPENED.date() + timedelta(weeks=6)


@pytest.mark.parametrize(
    ("setup", "door", "says"),
    [
        (
            lambda: in_phase(3),
            "coordinator",
            "de coördinator beoordeelt pas als de zaak naar hem of haar is opgeschaald",
        ),
        (to_coordinator, "scp", "de zaak is opgeschaald; nu beslist de thuiszitterscoördinator"),
        (to_taskforce, "coordinator", "de zaak is al bij de Taskforce"),
        (lambda: to_taskforce("VO"), "koersloket", "de zaak is al bij de Taskforce"),
        (lambda: placed(), "scp", "er is al een passende plek (fase 4)"),
    ],
    ids=["coordinator-before-escalation", "scp-after-escalation", "po-taskforce", "vo-taskforce", "phase-4"],
)
def test_beoordeling_is_refused_where_nobody_may_answer_it_that_way(setup: Any, door: str, says: str) -> None:
    reden = refusal(setup(), "beoordeling", by(door, {"uitzicht": PROSPECT, "herbeoordeling_op": "2025-04-01"}))
    assert reden == f"beoordeling: {says}"


@pytest.mark.parametrize(
    ("payload", "says"),
    [
        ({"herbeoordeling_op": "2025-04-01"}, "veld 'uitzicht': ontbreekt (verplicht)"),
        ({"uitzicht": PROSPECT}, "veld 'herbeoordeling_op': ontbreekt (verplicht)"),
        ({"uitzicht": " ", "herbeoordeling_op": "2025-04-01"}, "veld 'uitzicht': mag niet leeg zijn"),
        ({"uitzicht": "x" * 2001, "herbeoordeling_op": "2025-04-01"}, "veld 'uitzicht': te lang (hoogstens 2000"),
    ],
    ids=["no-uitzicht", "no-date", "empty-uitzicht", "long-uitzicht"],
)
def test_beoordeling_needs_a_reason_and_a_date(payload: dict[str, Any], says: str) -> None:
    assert says in refusal(in_phase(3), "beoordeling", by("scp", payload))


# ------------------------------------------------------------------------------------------ passende_plek (fase 4)


@pytest.mark.parametrize("sector", ["PO", "VO"])
@pytest.mark.parametrize("uitkomst", ["terug_op_school", "ingeschreven_andere_school", "vrijstelling"])
def test_passende_plek_opens_phase_4_and_does_not_close_the_case(sector: str, uitkomst: str) -> None:
    state = placed(uitkomst, sector=sector)
    contact = "scp" if sector == "PO" else "koersloket"

    assert (state.fase, state.afgesloten, state.uitkomst) == (4, False, Uitkomst(uitkomst))
    shown = status(state)
    assert (shown.fase, shown.fase_naam, shown.afgesloten) == (4, "Passende onderwijsplek", False)
    assert (contact, "passende_plek_afronden") in tasks(state)
    assert (("school", "uitschrijven") in tasks(state)) is (uitkomst != "terug_op_school")
    assert (("leerplicht", "verzuim_volgen") in tasks(state)) is (uitkomst != "vrijstelling")


def test_a_case_in_phase_4_gets_no_more_warnings_or_checks_of_the_twelve_week_term() -> None:
    """The pupil has a place: nobody is warned that the twelve weeks are running out, and no check opens."""
    state = drained(placed())
    assert not any(key.startswith(("twaalf_weken", "waarschuwing", "check_besluit")) for key in term_days(state))
    for day in (date(2025, 3, 31), date(2025, 4, 14), TWELVE_WEEKS, CHECK_DUE + timedelta(days=1)):
        after = rules.fire_due_terms(state, moment(day, state))
        assert not [line for line in queued(state, after) if "waarschuwing" in line or "twaalf_weken" in line]
        state = drained(after)
    assert state.twaalf_weken_check is None and state.fase == 4 and not state.afgesloten


def test_passende_plek_tells_the_contact_what_to_check_and_the_old_school_to_deregister() -> None:
    before = on_route("3.2")
    after = go(before, "passende_plek", {"uitkomst": "ingeschreven_andere_school", "school_brin": "34CD"}, "school")
    assert queued(before, after) == [
        "registratie kindkans.hulpvraag_bijwerken",
        "bericht scp.passende_plek",
        "bericht school.uitschrijven",
        "bericht leerplicht.verzuim_volgen",
        "vastlegging passende_plek",
    ]
    assert not [line for line in queued(before, after) if line.endswith(("afgesloten", "hulpvraag_afsluiten"))]


def test_passende_plek_is_refused_once_there_is_one() -> None:
    reden = refusal(
        placed(), "passende_plek", by("scp", {"uitkomst": "ingeschreven_andere_school", "school_brin": "34CD"})
    )
    assert reden == "passende_plek: er is al een passende plek (terug_op_school)"


# ------------------------------------------------------------------------------------------------ uitschrijving


@pytest.mark.parametrize("uitkomst", ["ingeschreven_andere_school", "vrijstelling"])
def test_uitschrijving_records_the_deregistration_and_finishes_the_schools_task(uitkomst: str) -> None:
    before = placed(uitkomst)
    open_task = task(before, "uitschrijven")
    after = go(before, "uitschrijving", {"uitgeschreven_op": "2025-03-01"}, "school")

    assert after.uitgeschreven_op == date(2025, 3, 1) and status(after).uitgeschreven_op == date(2025, 3, 1)
    assert finished(after)[open_task.id] == "uitschrijving"
    assert queued(before, after) == ["bericht scp.afronden", "vastlegging uitschrijving"]  # nothing else to check
    assert not after.afgesloten


@pytest.mark.parametrize(
    ("setup", "payload", "says"),
    [
        (lambda: on_route("3.2"), {"uitgeschreven_op": "2025-03-01"}, "eerst de passende plek (passende_plek, fase 4)"),
        (placed, {"uitgeschreven_op": "2025-03-01"}, "bij deze uitkomst blijft de leerling op de eigen school"),
        (
            lambda: placed("ingeschreven_andere_school"),
            {"uitgeschreven_op": "2025-03-04"},
            "veld 'uitgeschreven_op' ligt in de toekomst",
        ),
        (
            lambda: ready_to_close("ingeschreven_andere_school"),
            {"uitgeschreven_op": "2025-02-28"},
            "de uitschrijving is al vastgelegd",
        ),
    ],
    ids=["before-phase-4", "back-at-own-school", "in-the-future", "twice"],
)
def test_uitschrijving_is_refused_naming_why(setup: Any, payload: dict[str, Any], says: str) -> None:
    reden = refusal(setup(), "uitschrijving", by("school", payload))
    assert reden.startswith("uitschrijving: ") and says in reden


# ---------------------------------------------------------------------------------------------------- afronden


@pytest.mark.parametrize(
    ("setup", "says"),
    [
        (lambda: in_phase(3), "afronden: eerst de passende plek (passende_plek, fase 4)"),
        (
            lambda: placed("ingeschreven_andere_school"),
            "afronden: nog open: de uitschrijving door de oude school (uitschrijving)",
        ),
        (lambda: placed("vrijstelling"), "afronden: nog open: de uitschrijving door de oude school (uitschrijving)"),
    ],
    ids=["before-phase-4", "not-deregistered", "vrijstelling-not-deregistered"],
)
def test_afronden_is_refused_naming_the_open_phase_4_checks(setup: Any, says: str) -> None:
    state = setup()
    assert refusal(state, "afronden", by("scp", {"toelichting": "Gecontroleerd."})) == says
    assert not state.afgesloten


@pytest.mark.parametrize("uitkomst", ["terug_op_school", "ingeschreven_andere_school", "vrijstelling"])
def test_afronden_closes_a_po_case_and_with_it_the_kindkans_hulpvraag(uitkomst: str) -> None:
    before = ready_to_close(uitkomst)
    after = go(before, "afronden", {"toelichting": "Uitschrijving en inschrijving gecontroleerd."}, "scp", at=LATER)

    assert after.afgesloten and after.afgesloten_op == LATER and after.uitkomst is Uitkomst(uitkomst)
    assert rules.open_tasks(after, LATER.date()) == [] and rules.terms(after) == []
    effects = queued(before, after)
    assert effects[0] == "registratie kindkans.hulpvraag_afsluiten" and effects[-1] == "vastlegging afronden"
    closing = [e for e in after.openstaand[len(before.openstaand) :] if isinstance(e, Registratie)]
    assert closing[0].gegevens == {"uitkomst": uitkomst}
    assert status(after, LATER).dossier.afronding == "Uitschrijving en inschrijving gecontroleerd."
    assert {t.via for t in after.afgeronde_taken if t.taak == "passende_plek_afronden"} == {"afronden"}


def test_afronden_closes_a_vo_case_without_any_ppo_system() -> None:
    before = ready_to_close("ingeschreven_andere_school", sector="VO")
    after = go(before, "afronden", {"toelichting": "Gecontroleerd."}, "koersloket", at=LATER)
    assert after.afgesloten
    effects = queued(before, after)
    assert not [line for line in effects if line.startswith("registratie ")]
    assert {"bericht ouders.afgesloten", "bericht school.afgesloten", "bericht koersloket.afgesloten"} <= set(effects)


def test_a_closed_case_refuses_every_event_and_intrekken_still_closes_from_phase_4() -> None:
    closed = go(ready_to_close(), "afronden", {"toelichting": "Klaar."}, "scp")
    assert refusal(closed, "voortgang", by("school", {"toelichting": "x"})) == (
        "voortgang: de zaak is al afgesloten (terug op school)"
    )
    withdrawn = go(placed(), "intrekken", {"reden": "Dubbel gemeld."}, "scp")
    assert withdrawn.afgesloten and withdrawn.uitkomst is Uitkomst.INGETROKKEN and rules.open_tasks(withdrawn) == []


# ----------------------------------------------------------------------------------------------- taak_afgerond


@pytest.mark.parametrize(
    ("setup", "taak", "door"),
    [
        (lambda: on_route("3.1"), "passend_aanbod", "school"),
        (lambda: on_route("3.3", "tlv_sbo"), "tlv_onderbouwing", "scp"),
        (lambda: on_route("3.3", "arrangement"), "arrangement_inzetten", "scp"),
        (lambda: on_route("3.4"), "huiswerkpakketten", "school"),
        (lambda: to_taskforce(), "ouders_informeren_taskforce", "school"),
        (lambda: in_phase(1), "hulpvraag_controleren", "scp"),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_taak_afgerond_finishes_a_task_by_hand_for_good(setup: Any, taak: str, door: str) -> None:
    before = setup()
    open_task = task(before, taak)
    after = go(before, "taak_afgerond", {"taak_id": open_task.id, "toelichting": "Gedaan."}, door, at=LATER)

    assert taak not in {t for _, t in tasks(after, LATER)}
    done = status(after, LATER).afgeronde_taken[0]  # the most recent first
    assert (done.id, done.taak, done.via, done.door, done.toelichting) == (
        open_task.id,
        taak,
        "taak_afgerond",
        door,
        "Gedaan.",
    )
    later = go(after, "voortgang", {"toelichting": "Stand van zaken."}, "school", at=LATER + timedelta(days=1))
    assert taak not in {t for _, t in tasks(later, LATER)}  # the step does not come back


@pytest.mark.parametrize(
    ("setup", "taak", "door", "event"),
    [
        (lambda: in_phase(3), "voortgang_melden", "school", "'voortgang'"),
        (lambda: in_phase(1), "oudergesprek_organiseren", "school", "'oudergesprek'"),
        (lambda: in_phase(1), "lba_registreren", "leerplicht", "'leerplicht_registratie'"),
        (lambda: at_twelve_weeks(in_phase(3)), "twaalf_weken_besluit", "scp", "'opschalen' of 'beoordeling'"),
        (to_coordinator, "besluit_taskforce", "coordinator", "'opschalen' of 'beoordeling'"),
        (lambda: placed("ingeschreven_andere_school"), "uitschrijven", "school", "'uitschrijving'"),
        (placed, "passende_plek_afronden", "scp", "'afronden'"),
        (to_taskforce, "huisbezoek", "taskforce", "'huisbezoek'"),
    ],
    ids=lambda v: v if isinstance(v, str) and not v.startswith("'") else None,
)
def test_taak_afgerond_is_refused_for_a_task_that_an_event_finishes_naming_it(
    setup: Any, taak: str, door: str, event: str
) -> None:
    state = setup()
    open_task = task(state, taak, moment(TWELVE_WEEKS, state))
    reden = refusal(state, "taak_afgerond", by(door, {"taak_id": open_task.id, "toelichting": "Klaar."}))
    assert reden == f"taak_afgerond: taak {open_task.id} wordt afgerond door de gebeurtenis {event}; stuur die"


def test_taak_afgerond_is_refused_for_a_task_that_is_not_open() -> None:
    state = on_route("3.1")
    done_id = task(state, "passend_aanbod").id
    done = go(state, "taak_afgerond", {"taak_id": done_id, "toelichting": "Gedaan."}, "school")
    for taak_id in (done_id, "T999"):
        reden = refusal(done, "taak_afgerond", by("school", {"taak_id": taak_id, "toelichting": "Nog eens."}))
        assert reden == f"taak_afgerond: er is geen open taak met id '{taak_id}'"
    assert "veld 'taak_id': heeft niet de juiste vorm" in refusal(
        done, "taak_afgerond", by("school", {"taak_id": "passend_aanbod", "toelichting": "x"})
    )


# ---------------------------------------------------------------------------------------------------- toewijzen


def test_toewijzen_gives_a_roles_tasks_to_a_person_now_and_later() -> None:
    before = in_phase(1)
    after = go(before, "toewijzen", {"rol": "school", "persoon": "mentor-17"}, "school")

    shown = status(after)
    assert shown.toegewezen == {"school": "mentor-17"}
    assert {t.taak: t.toegewezen_aan for t in shown.open_taken if t.rol.value == "school"} == {
        "oudergesprek_organiseren": "mentor-17"
    }
    assert all(t.toegewezen_aan is None for t in shown.open_taken if t.rol.value != "school")
    later = go(after, "oudergesprek", {"deelnemers": MEETING["PO"]}, "school")
    assert task(later, "plan_van_aanpak_opstellen").toegewezen_aan == "mentor-17"  # a task opened after it

    other = go(after, "toewijzen", {"rol": "school", "persoon": "ib-03"}, "coordinator", at=LATER)
    assert task(other, "oudergesprek_organiseren").toegewezen_aan == "ib-03"


def test_toewijzen_is_refused_when_the_person_already_holds_the_role() -> None:
    state = go(in_phase(1), "toewijzen", {"rol": "scp", "persoon": "scp-9"}, "scp")
    reden = refusal(state, "toewijzen", by("coordinator", {"rol": "scp", "persoon": "scp-9"}))
    assert reden == "toewijzen: deze persoon heeft die rol al in deze zaak"
    assert "veld 'persoon': ontbreekt" in refusal(state, "toewijzen", by("scp", {"rol": "scp"}))
    assert "veld 'rol': moet een van" in refusal(state, "toewijzen", by("scp", {"rol": "mentor", "persoon": "x"}))


# ------------------------------------------------------------------------------------------- document_toegevoegd


def test_document_toegevoegd_lists_a_reference_not_the_file() -> None:
    before = in_phase(2)
    payload = {"soort": "plan_van_aanpak", "verwijzing": "dms://2025/LL0001/pva-1", "omschrijving": "Concept"}
    after = go(before, "document_toegevoegd", payload, "school", at=LATER)

    (document,) = status(after, LATER).documenten
    assert (document.soort, document.verwijzing, document.omschrijving, document.toegevoegd_op) == (
        "plan_van_aanpak",
        "dms://2025/LL0001/pva-1",
        "Concept",
        LATER.date(),
    )
    assert queued(before, after) == ["vastlegging document_toegevoegd"]
    line = after.openstaand[-1]
    assert getattr(line, "documenten", None) == after.documenten  # the register keeps the list
    assert after.fase == before.fase


def test_document_toegevoegd_is_refused_for_the_same_document_twice_and_an_unknown_kind() -> None:
    state = go(in_phase(2), "document_toegevoegd", {"soort": "opp", "verwijzing": "dms://opp/1"}, "school")
    reden = refusal(state, "document_toegevoegd", by("scp", {"soort": "opp", "verwijzing": "dms://opp/1"}))
    assert reden == "document_toegevoegd: dit document staat al in de zaak"
    assert "veld 'soort': moet een van" in refusal(
        state, "document_toegevoegd", by("school", {"soort": "foto", "verwijzing": "dms://1"})
    )
    assert "veld 'verwijzing': te lang (hoogstens 200 tekens)" in refusal(
        state, "document_toegevoegd", by("school", {"soort": "overig", "verwijzing": "x" * 201})
    )
    again = go(state, "document_toegevoegd", {"soort": "opp", "verwijzing": "dms://opp/2"}, "school")
    assert [d.verwijzing for d in again.documenten] == ["dms://opp/1", "dms://opp/2"]


def test_documents_are_bounded_and_keep_the_latest() -> None:
    state = in_phase(2)
    for number in range(60):
        payload = {"soort": "overig", "verwijzing": f"dms://{number}"}
        state = go(state, "document_toegevoegd", payload, "school", at=OPENED + timedelta(minutes=number))
    kept = [d.verwijzing for d in status(state).documenten]
    assert len(kept) == 50 and kept[-1] == "dms://59" and kept[0] == "dms://10"


# ----------------------------------------------------------------------------------------------- gegevens_wijzigen


def test_gegevens_wijzigen_po_to_vo_withdraws_the_kindkans_hulpvraag_and_leaves_ppo() -> None:
    before = in_phase(1, age=12)
    after = go(before, "gegevens_wijzigen", {"sector": "VO"}, "school")

    assert queued(before, after) == [
        "registratie kindkans.hulpvraag_intrekken",
        "bericht koersloket.sector_gewijzigd",
        "vastlegging gegevens_wijzigen",
    ]
    assert (after.aanmelding.sector.value, after.contactrol.value, after.kindkans_hulpvraag) == (
        "VO",
        "koersloket",
        False,
    )
    assert status(after).contactrol.value == "koersloket"  # type: ignore[union-attr]
    assert not {r for r, _ in tasks(after)} & {"scp", "ouderfunctionaris", "coordinator"}
    assert finished(after)[task(before, "hulpvraag_controleren").id] == "gegevens_wijzigen"

    later = go(after, "oudergesprek", {"deelnemers": MEETING["VO"]}, "koersloket", at=LATER)
    later = go(later, "plan_van_aanpak", {"in_opp": True, "instemming_ouders": True}, "school", at=LATER)
    later = go(later, "voortgang", {"toelichting": "Stand."}, "school", at=LATER)
    effects = queued(after, later)
    assert not [line for line in effects if line.startswith(("registratie kindkans", "bericht scp"))], effects


def test_gegevens_wijzigen_po_to_vo_undoes_an_escalation_to_the_ppo_coordinator() -> None:
    before = to_coordinator(age=12)
    after = go(before, "gegevens_wijzigen", {"sector": "VO"}, "coordinator")
    assert after.escalatie is Escalatie.GEEN
    assert not {r for r, _ in tasks(after)} & {"scp", "ouderfunctionaris", "coordinator"}
    assert after.dossier.escalaties[-1].niveau == "coordinator"  # what happened stays in the dossier


def test_gegevens_wijzigen_po_to_vo_drops_a_route_variant_vo_does_not_know() -> None:
    after = go(on_route("3.3", "tlv_sbo", age=12), "gegevens_wijzigen", {"sector": "VO"}, "school")
    assert (after.route, after.route_variant) == (None, None)
    assert ("school", "route_kiezen") in tasks(after) and ("scp", "tlv_onderbouwing") not in tasks(after)


def test_gegevens_wijzigen_vo_to_po_brings_in_ppo() -> None:
    before = in_phase(1, sector="VO", age=12)
    after = go(before, "gegevens_wijzigen", {"sector": "PO"}, "koersloket")
    assert queued(before, after) == [
        "registratie kindkans.hulpvraag_aanmaken",
        "registratie sisa.signaal",
        "bericht ouderfunctionaris.ouderfunctionaris_informeren",
        "bericht ouders.toegang_kindkans",
        "bericht scp.sector_gewijzigd",
        "vastlegging gegevens_wijzigen",
    ]
    assert ("scp", "hulpvraag_controleren") in tasks(after)


def test_gegevens_wijzigen_corrects_school_regio_and_residence() -> None:
    before = in_phase(3, sector="VO", woont_in_rotterdam=False)
    assert "in Rotterdam wonen" in refusal(before, "opschalen", by("koersloket", TASKFORCE))
    after = go(
        before, "gegevens_wijzigen", {"woont_in_rotterdam": True, "regio": "Zuid", "school_brin": "56EF"}, "school"
    )
    shown = status(after)
    assert (shown.woont_in_rotterdam, shown.regio.value, shown.school_brin) == (True, "Zuid", "56EF")
    assert go(after, "opschalen", TASKFORCE, "koersloket").escalatie is Escalatie.TASKFORCE


@pytest.mark.parametrize(
    ("setup", "payload", "says"),
    [
        (lambda: in_phase(1), {"sector": "VO"}, "veld 'geboortedatum': de leerling is op de startdatum jonger dan 10"),
        (
            lambda: in_phase(1, sector="VO", age=15),
            {"sector": "PO"},
            "veld 'geboortedatum': de leerling is op de startdatum ouder dan 13",
        ),
        (lambda: in_phase(1), {"regio": "Noord", "sector": "PO"}, "de gegevens zijn al zo"),
        (lambda: placed(age=12), {"sector": "VO"}, "de sector verandert niet meer na de passende plek (fase 4)"),
        (
            lambda: opened(uit_buitenland=True),
            {"school_brin": "12AB"},
            "een leerling uit het buitenland heeft geen school van inschrijving",
        ),
        (lambda: in_phase(1), {}, "veld 'inhoud': noem ten minste een van school_brin, regio, sector"),
    ],
    ids=["po-pupil-of-9-to-vo", "vo-pupil-of-15-to-po", "nothing-changes", "after-phase-4", "abroad-school", "empty"],
)
def test_gegevens_wijzigen_is_refused_naming_why(setup: Any, payload: dict[str, Any], says: str) -> None:
    reden = refusal(setup(), "gegevens_wijzigen", by("school", payload))
    assert reden.startswith("gegevens_wijzigen: ") and says in reden


# ------------------------------------------------------------------------------------------ leerplicht_interventie


def test_leerplicht_interventie_is_kept_in_the_dossier() -> None:
    before = in_phase(2)
    after = go(
        before,
        "leerplicht_interventie",
        {"soort": "proces_verbaal", "toelichting": "Ouders werken niet mee aan het plan."},
        "leerplicht",
        at=LATER,
    )
    (kept,) = status(after, LATER).dossier.interventies
    assert (kept.soort, kept.toelichting, kept.op) == (
        "proces_verbaal",
        "Ouders werken niet mee aan het plan.",
        LATER.date(),
    )
    assert queued(before, after) == ["vastlegging leerplicht_interventie"] and after.fase == 2


@pytest.mark.parametrize(
    ("setup", "payload", "says"),
    [
        (
            lambda: in_phase(1, age=4),
            {"soort": "gesprek", "toelichting": "x"},
            "de leerling is (nog) niet leerplichtig",
        ),
        (lambda: in_phase(0), {"soort": "gesprek", "toelichting": "x"}, "eerst de melding thuiszitter (fase 1)"),
        (lambda: in_phase(1), {"soort": "boete", "toelichting": "x"}, "veld 'soort': moet een van"),
        (lambda: in_phase(1), {"soort": "gesprek"}, "veld 'toelichting': ontbreekt (verplicht)"),
    ],
    ids=["pupil-of-4", "voortraject", "unknown-kind", "no-text"],
)
def test_leerplicht_interventie_is_refused_naming_why(setup: Any, payload: dict[str, Any], says: str) -> None:
    assert says in refusal(setup(), "leerplicht_interventie", by("leerplicht", payload))


# ------------------------------------------------------------------------------------------------- oudergesprek


@pytest.mark.parametrize("sector", ["PO", "VO"])
def test_oudergesprek_keeps_the_wishes_options_and_agreements(sector: str) -> None:
    texts = {
        "wensen_ouders": "Een kleine klas, dicht bij huis.",
        "besproken_opties": "Eigen school met begeleiding, of een andere school.",
        "afspraken": "School zoekt twee scholen; gesprek over drie weken.",
    }
    contact = "scp" if sector == "PO" else "koersloket"
    state = go(in_phase(1, sector=sector), "oudergesprek", {"deelnemers": MEETING[sector], **texts}, contact)
    kept = status(state).dossier.oudergesprek
    assert kept is not None
    assert (kept.wensen_ouders, kept.besproken_opties, kept.afspraken) == tuple(texts.values())
    assert kept.deelnemers == sorted(MEETING[sector]) and state.fase == 2


@pytest.mark.parametrize(
    ("sector", "deelnemers", "says"),
    [
        ("PO", ["school", "ouders", "koersloket"], "veld 'deelnemers' mist scp"),
        ("PO", ["school", "ouders", "scp", "koersloket"], "noemt koersloket, maar die hoort niet bij een PO-zaak"),
        ("VO", ["school", "ouders", "scp"], "veld 'deelnemers' mist koersloket"),
        ("VO", ["school", "ouders", "koersloket", "scp"], "noemt scp, maar die hoort niet bij een VO-zaak"),
        ("VO", ["school", "koersloket"], "veld 'deelnemers' mist ouders"),
    ],
)
def test_oudergesprek_needs_the_contact_of_its_own_sector(sector: str, deelnemers: list[str], says: str) -> None:
    assert says in refusal(in_phase(1, sector=sector), "oudergesprek", by("school", {"deelnemers": deelnemers}))


def test_oudergesprek_texts_are_bounded() -> None:
    payload = {"deelnemers": MEETING["PO"], "afspraken": "y" * 2001}
    assert "veld 'afspraken': te lang (hoogstens 2000 tekens)" in refusal(
        in_phase(1), "oudergesprek", by("scp", payload)
    )
    go(in_phase(1), "oudergesprek", {**payload, "afspraken": "y" * 2000}, "scp")


# -------------------------------------------------------------------------------------------------------- route


@pytest.mark.parametrize(
    ("sector", "variant", "allowed"),
    [
        ("PO", "andere_vo_school", "andere_reguliere_school, arrangement, tlv_sbo, tlv_so, zorgarrangement"),
        ("PO", "tlv_vso", "andere_reguliere_school, arrangement, tlv_sbo, tlv_so, zorgarrangement"),
        ("VO", "andere_reguliere_school", "andere_vo_school, tlv_vso, zorgarrangement"),
        ("VO", "arrangement", "andere_vo_school, tlv_vso, zorgarrangement"),
        ("VO", "tlv_sbo", "andere_vo_school, tlv_vso, zorgarrangement"),
        ("VO", "tlv_so", "andere_vo_school, tlv_vso, zorgarrangement"),
    ],
)
def test_route_refuses_a_variant_of_the_other_sector(sector: str, variant: str, allowed: str) -> None:
    reden = refusal(in_phase(3, sector=sector), "route", by("school", {"route": "3.3", "variant": variant}))
    assert reden == f"route: variant '{variant}' hoort niet bij {sector}; bij route 3.3 een van {allowed}"


def test_route_tlv_vso_is_koers_vos_and_goes_to_no_centrale_aanmeldroute() -> None:
    before = in_phase(3, sector="VO")
    after = go(before, "route", {"route": "3.3", "variant": "tlv_vso"}, "koersloket")
    assert queued(before, after) == [
        "bericht ouders.route_gekozen",
        "bericht koersloket.tlv_onderbouwing",
        "vastlegging route",
    ]
    assert ("koersloket", "tlv_onderbouwing") in tasks(after)


@pytest.mark.parametrize("variant", ["tlv_sbo", "tlv_so"])
def test_route_tlv_in_po_registers_at_the_centrale_aanmeldroute_and_asks_the_scp_for_the_onderbouwing(
    variant: str,
) -> None:
    before = in_phase(3)
    after = go(before, "route", {"route": "3.3", "variant": variant}, "scp")
    effects = queued(before, after)
    assert "registratie centrale_aanmeldroute.aanmelding" in effects and "bericht scp.tlv_onderbouwing" in effects
    assert ("scp", "tlv_onderbouwing") in tasks(after)


def test_route_34_may_come_from_the_wijkteam_which_then_holds_the_regie() -> None:
    after = go(in_phase(3), "route", {"route": "3.4"}, "wijkteam")
    assert after.regiehouder is Regiehouder.WIJKTEAM and ("wijkteam", "zorgarrangement_kiezen") in tasks(after)
    assert refusal(in_phase(3), "route", by("wijkteam", {"route": "3.1"})).startswith(
        "route: het wijkteam mag dit niet doen"
    )


# ---------------------------------------------------------------------------------------------------- opschalen


@pytest.mark.parametrize("reden_code", [None, "te_traag"])
def test_opschalen_needs_a_reason_code_of_the_seeds(reden_code: str | None) -> None:
    payload = {k: v for k, v in COORDINATOR.items() if k != "reden_code"}
    if reden_code:
        payload["reden_code"] = reden_code
    reden = refusal(in_phase(3), "opschalen", by("scp", payload))
    assert "veld 'reden_code': " + ("ontbreekt (verplicht)" if reden_code is None else "moet een van") in reden


def test_opschalen_keeps_the_reason_code_and_text() -> None:
    state = to_taskforce()
    kept = [(e.niveau, e.reden_code, e.reden, e.door) for e in status(state).dossier.escalaties]
    assert kept == [
        ("coordinator", "proces_loopt_vast", "Het gaat te langzaam.", "scp"),
        ("taskforce", "geen_passende_plek", "Geen passende plek na de plaatsingsoverleggen.", "coordinator"),
    ]


def test_opschalen_to_the_coordinator_opens_the_coordinators_question() -> None:
    before = in_phase(3, regio="Zuid")
    after = go(before, "opschalen", COORDINATOR, "school")
    assert after.escalatie is Escalatie.COORDINATOR and after.regiehouder is Regiehouder.SCHOOL
    assert queued(before, after) == ["bericht coordinator.escalatie_coordinator", "vastlegging opschalen"]
    question = task(after, "besluit_taskforce")
    assert question.rol.value == "coordinator" and question.uiterlijk == date(2025, 3, 17)


@pytest.mark.parametrize("door", ["school", "koersloket", "coordinator"])
def test_vo_cannot_escalate_to_a_coordinator(door: str) -> None:
    reden = refusal(in_phase(3, sector="VO"), "opschalen", by(door, COORDINATOR))
    assert reden == "opschalen: VO kent geen PPO-coördinator; het Koersloket beslist over de Taskforce"


@pytest.mark.parametrize(("sector", "door"), [("PO", "coordinator"), ("VO", "koersloket")])
def test_opschalen_to_the_taskforce_sets_the_kerngroep_meeting_and_asks_the_school_to_inform_the_parents(
    sector: str, door: str
) -> None:
    before = to_coordinator() if sector == "PO" else in_phase(3, sector=sector)
    after = go(before, "opschalen", TASKFORCE, door)

    assert after.escalatie is Escalatie.TASKFORCE and after.regiehouder is Regiehouder.TASKFORCE
    # the first meeting (every other Thursday from 9 January 2025) at least five working days ahead
    assert status(after).kerngroep_bespreking_op == date(2025, 3, 20)
    assert queued(before, after) == [
        "registratie taskforce.aanmelding",
        "bericht taskforce.escalatie_taskforce",
        "bericht school.ouders_informeren_taskforce",
        "vastlegging opschalen",
    ]
    registration = next(e for e in after.openstaand[len(before.openstaand) :] if isinstance(e, Registratie))
    assert registration.gegevens["reden_code"] == "geen_passende_plek"
    assert registration.gegevens["bespreking_op"] == "2025-03-20"
    inform = task(after, "ouders_informeren_taskforce")
    assert inform.rol.value == "school" and inform.uiterlijk == date(2025, 3, 6)
    assert task(after, "huisbezoek").uiterlijk == date(2025, 3, 19)  # the day before the meeting


@pytest.mark.parametrize("sector", ["PO", "VO"])
def test_opschalen_to_the_taskforce_of_a_leerplichtig_pupil_needs_both_afstemmingen(sector: str) -> None:
    state = to_coordinator() if sector == "PO" else in_phase(3, sector=sector)
    door = "coordinator" if sector == "PO" else "koersloket"
    for missing in ("afgestemd_met_leerplicht", "afgestemd_met_school"):
        reden = refusal(state, "opschalen", by(door, {**TASKFORCE, missing: False}))
        assert f"veld '{missing}' moet true zijn" in reden


def test_opschalen_to_the_taskforce_of_a_pupil_of_4_needs_no_afstemming_with_leerplicht() -> None:
    state = go(to_coordinator(age=4), "opschalen", {**TASKFORCE, "afgestemd_met_leerplicht": False}, "coordinator")
    assert state.escalatie is Escalatie.TASKFORCE
    reden = refusal(to_coordinator(age=4), "opschalen", by("coordinator", {**TASKFORCE, "afgestemd_met_school": False}))
    assert "veld 'afgestemd_met_school' moet true zijn" in reden and "leerplicht" not in reden


def test_opschalen_to_the_taskforce_is_refused_for_a_vo_pupil_outside_rotterdam() -> None:
    reden = refusal(in_phase(3, sector="VO", woont_in_rotterdam=False), "opschalen", by("koersloket", TASKFORCE))
    assert "alleen leerlingen die in Rotterdam wonen" in reden


def test_opschalen_is_refused_in_phase_4_and_when_already_there() -> None:
    assert refusal(placed(), "opschalen", by("scp", COORDINATOR)) == "opschalen: er is al een passende plek (fase 4)"
    assert "al opgeschaald naar coordinator" in refusal(to_coordinator(), "opschalen", by("school", COORDINATOR))


# --------------------------------------------------------------------------------------- huisbezoek, besluit


def test_huisbezoek_is_kept_for_the_kerngroep() -> None:
    before = to_taskforce()
    after = go(before, "huisbezoek", {"samenvatting": "Gesprek thuis met ouders en leerling."}, "taskforce", at=LATER)
    kept = status(after, LATER).dossier.huisbezoek
    assert kept is not None and (kept.samenvatting, kept.op, kept.door) == (
        "Gesprek thuis met ouders en leerling.",
        LATER.date(),
        "taskforce",
    )
    assert ("taskforce", "besluit_nemen") in tasks(after) and task(after, "besluit_nemen").uiterlijk == date(
        2025, 3, 20
    )


def test_taskforce_besluit_turns_each_action_into_a_task_for_its_role_with_its_date() -> None:
    before = go(to_taskforce(), "huisbezoek", {"samenvatting": "Verslag."}, "taskforce")
    acties = [
        {"rol": "school", "omschrijving": "Meld de leerling aan bij SO De Brug.", "uiterlijk": "2025-03-14"},
        {"rol": "wijkteam", "omschrijving": "Start begeleiding thuis.", "uiterlijk": "2025-03-21"},
        {"rol": "leerplicht", "omschrijving": "Spreek de ouders aan.", "uiterlijk": "2025-03-10"},
    ]
    after = go(before, "taskforce_besluit", {"besluit": "Plaatsing SO met begeleiding.", "acties": acties}, "taskforce")

    new = [t for t in open_tasks(after) if t.taak == "taskforce_actie"]
    assert [(t.rol.value, t.omschrijving, t.uiterlijk.isoformat()) for t in new] == [  # type: ignore[union-attr]
        (a["rol"], a["omschrijving"], a["uiterlijk"]) for a in acties
    ]
    (besluit,) = status(after).dossier.besluiten
    assert besluit.besluit == "Plaatsing SO met begeleiding." and besluit.acties == [t.id for t in new]
    assert queued(before, after) == [
        "bericht school.taskforce_actie",
        "bericht wijkteam.taskforce_actie",
        "bericht leerplicht.taskforce_actie",
        "bericht school.taskforce_besluit",
        "bericht scp.taskforce_besluit",
        "vastlegging taskforce_besluit",
    ]
    assert ("taskforce", "besluit_nemen") not in tasks(after)


def test_taskforce_besluit_with_two_actions_for_one_role_tells_that_role_once_of_both() -> None:
    """Each message is sent exactly once under a key of the case, the event, the role and the template: two
    actions for one role are one message (two would share the key, and the second would never be sent)."""
    before = go(to_taskforce(), "huisbezoek", {"samenvatting": "Verslag."}, "taskforce")
    acties = [
        {"rol": "school", "omschrijving": "Meld aan bij SO De Brug.", "uiterlijk": "2025-03-21"},
        {"rol": "school", "omschrijving": "Stel een OPP op.", "uiterlijk": "2025-03-14"},
    ]
    after = go(before, "taskforce_besluit", {"besluit": "Plaatsing SO.", "acties": acties}, "taskforce")

    first, second = (t for t in open_tasks(after) if t.taak == "taskforce_actie")
    assert (first.uiterlijk, second.uiterlijk) == (date(2025, 3, 21), date(2025, 3, 14))  # each its own task
    new = after.openstaand[len(before.openstaand) :]
    keys = [e.sleutel for e in new]
    assert len(keys) == len(set(keys))
    (message,) = [e for e in new if getattr(e, "sjabloon", None) == "taskforce_actie"]
    assert message.gegevens == {  # type: ignore[union-attr]
        "omschrijving": "Meld aan bij SO De Brug.; Stel een OPP op.",
        "uiterlijk": "2025-03-14",
        "taak_id": f"{first.id}, {second.id}",
    }


def test_taskforce_besluit_actions_stay_open_until_finished_by_hand() -> None:
    before = go(to_taskforce(), "huisbezoek", {"samenvatting": "Verslag."}, "taskforce")
    actie = {"rol": "wijkteam", "omschrijving": "Start begeleiding thuis.", "uiterlijk": "2025-03-21"}
    state = go(before, "taskforce_besluit", {"besluit": "Begeleiding.", "acties": [actie]}, "taskforce")
    state = go(state, "voortgang", {"toelichting": "Stand."}, "school", at=LATER)
    state = go(state, "taskforce_besluit", {"besluit": "Aanvullend besluit."}, "taskforce", at=LATER)
    open_action = task(state, "taskforce_actie")
    done = go(state, "taak_afgerond", {"taak_id": open_action.id, "toelichting": "Loopt."}, "wijkteam", at=LATER)
    assert ("wijkteam", "taskforce_actie") not in tasks(done)


@pytest.mark.parametrize(
    ("payload", "says"),
    [
        (
            {"besluit": "x", "acties": [{"rol": "school", "omschrijving": "a", "uiterlijk": "2025-03-14"}] * 6},
            "veld 'acties'",
        ),
        ({"besluit": "x", "acties": [{"rol": "school", "omschrijving": "a"}]}, "veld 'acties.0.uiterlijk': ontbreekt"),
        (
            {"besluit": "x", "acties": [{"rol": "buurman", "omschrijving": "a", "uiterlijk": "2025-03-14"}]},
            "acties.0.rol",
        ),
        ({"besluit": "y" * 2001}, "veld 'besluit': te lang (hoogstens 2000 tekens)"),
    ],
    ids=["six-actions", "no-date", "unknown-role", "long-text"],
)
def test_taskforce_besluit_payload_is_checked(payload: dict[str, Any], says: str) -> None:
    state = go(to_taskforce(), "huisbezoek", {"samenvatting": "Verslag."}, "taskforce")
    assert says in refusal(state, "taskforce_besluit", by("taskforce", payload))


def test_huisbezoek_and_besluit_are_refused_before_the_taskforce_and_in_order() -> None:
    assert "eerst de opschaling naar de Taskforce" in refusal(
        to_coordinator(), "huisbezoek", by("taskforce", {"samenvatting": "x"})
    )
    assert "eerst het verslag van het huisbezoek" in refusal(
        to_taskforce(), "taskforce_besluit", by("taskforce", {"besluit": "x"})
    )


# ------------------------------------------------------------------------------------ leerplicht and vrijstelling


def test_a_pupil_of_4_is_refused_the_leerplicht_steps_naming_the_day_leerplicht_begins() -> None:
    state = opened(geboortedatum=date(2020, 3, 15))  # 5 on 15 March 2025: leerplichtig from Tuesday 1 April
    assert status(state).leerplichtig_vanaf == date(2025, 4, 1) and not status(state).leerplichtig
    reden = refusal(state, "leerplicht_registratie", by("leerplicht", {"lba_geregistreerd_op": "2025-02-20"}))
    assert reden == (
        "leerplicht_registratie: de leerling is nog niet leerplichtig (leerplichtig vanaf 2025-04-01); "
        "Leerplicht registreert dan niet in de LBA"
    )
    assert refusal(state, "vrijstelling", by("ouders", {"status": "aangevraagd"})) == (
        "vrijstelling: de leerling is (nog) niet leerplichtig; er is geen vrijstelling nodig"
    )


def test_a_leerplichtig_pupil_has_no_leerplichtig_vanaf() -> None:
    assert status(opened()).leerplichtig_vanaf is None and status(opened()).leerplichtig


def test_vrijstelling_verleend_leads_to_deregistration_in_phase_4() -> None:
    state = go(on_route("3.4"), "vrijstelling", {"status": "aangevraagd"}, "ouders")
    assert ("leerplicht", "vrijstelling_doorzetten") in tasks(state)
    state = go(state, "vrijstelling", {"status": "verleend"}, "leerplicht")
    assert ("leerplicht", "vrijstelling_doorzetten") not in tasks(state)
    state = go(state, "passende_plek", {"uitkomst": "vrijstelling"}, "wijkteam")
    assert ("school", "uitschrijven") in tasks(state) and ("leerplicht", "verzuim_volgen") not in tasks(state)


def test_the_start_of_a_case_for_a_pupil_of_4_asks_nothing_of_leerplicht() -> None:
    state = opened(age=4)
    assert not [e for e in state.openstaand if isinstance(e, Registratie) and e.systeem.value == "leerplicht"]
    assert not {r for r, _ in tasks(state)} & {"leerplicht"}
