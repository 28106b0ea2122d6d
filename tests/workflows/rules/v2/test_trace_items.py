"""Items of the seeds that no other test of version 2 proved: each test here is named in ``docs/procedure-trace.md``
for the item it proves, and asserts what the item asks (who gets which task or message, which registration happens,
what the case holds), so it fails when the rules stop carrying it.

Every case is of contract version 2 and every event names who sent it (``door``), as the permission table allows.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from tests.workflows.rules.build import LATER, START, new_effects, queued, refusal, rollen
from tests.workflows.rules.v2.build_v2 import (
    by,
    drained,
    finished,
    fire_until,
    go,
    in_phase,
    moment,
    on_route,
    opened,
    task,
    tasks,
    term_days,
)
from workflows import rules
from workflows.contract import Regiehouder
from workflows.effects import Bericht, Registratie, Vastlegging
from workflows.rules import CaseState

CONTACT = {"PO": "scp", "VO": "koersloket"}
CONTACT_NAME = {"PO": "de SCP", "VO": "het Koersloket"}
IN_VIEW = datetime(2025, 2, 10, 9, 0, tzinfo=UTC)  # a week after START the school opens the voortraject
FOUR_WEEKS = date(2025, 3, 3)  # START + 28 days, a Monday and a school day
PLAN_REMINDER = date(2025, 3, 17)  # ten working days after the oudergesprek of 3 March 2025
ZORGPLICHT = date(2025, 4, 14)  # six weeks after the application of 3 March 2025


def sent(before: CaseState, after: CaseState, rol: str, sjabloon: str) -> list[dict[str, object]]:
    """The data of each message with ``sjabloon`` that the step queued for ``rol``."""
    return [
        e.gegevens
        for e in new_effects(before, after)
        if isinstance(e, Bericht) and (e.rol.value, e.sjabloon.value) == (rol, sjabloon)
    ]


def registered(before: CaseState, after: CaseState, systeem: str, actie: str) -> list[dict[str, object]]:
    """The data of each registration call ``systeem.actie`` that the step queued."""
    return [
        e.gegevens
        for e in new_effects(before, after)
        if isinstance(e, Registratie) and (e.systeem.value, e.actie.value) == (systeem, actie)
    ]


# ----------------------------------------------------------------------------------------- phase 0: voortraject


def test_the_school_opens_a_case_in_the_voortraject_before_any_melding() -> None:
    """The school has seen that things go wrong: the case opens in phase 0, the school holds the regie, and nothing is
    reported yet (no Leerplicht, no Kindkans, no message to anyone)."""
    state = opened(fase=0)

    assert (state.fase, state.regiehouder, state.melding_op) == (0, Regiehouder.SCHOOL, None)
    assert [(line.gebeurtenis, line.toelichting) for line in state.tijdlijn] == [
        ("voortraject", "Potentiële thuiszitter in beeld (voortraject).")
    ]
    [line] = state.openstaand  # only the register line: no call, no message
    assert isinstance(line, Vastlegging) and (line.gebeurtenis, line.fase) == ("voortraject", 0)
    assert ("school", "voortraject_bespreken") in tasks(state)
    assert not {rol for rol, _ in tasks(state)} & {"leerplicht", "ouders"}

    reported = go(drained(state), "melding", {"gemeld_bij_leerplicht": False}, "school", at=LATER)
    assert reported.fase == 1 and reported.melding_op == LATER.date()


@pytest.mark.parametrize("sector", ["PO", "VO"])
def test_four_weeks_at_home_without_a_melding_ask_the_school_to_report_the_thuiszitter(sector: str) -> None:
    """More than four weeks in a row at home makes a thuiszitter: in the voortraject the four-week term falls 28 days
    after the start date, tells the school and its contact once, and gives the school the task to report the
    thuiszitter, which the melding finishes. A pupil reported before then has no four-week term."""
    state = drained(opened(fase=0, sector=sector, at=IN_VIEW))
    contact = CONTACT[sector]
    assert term_days(state)["vier_weken"] == FOUR_WEEKS == START + timedelta(days=28)

    before, fired = fire_until(state, moment(FOUR_WEEKS, state) - timedelta(minutes=1), start=IN_VIEW)
    assert not [line for line in fired if "vier_weken" in line]
    assert ("school", "thuiszitter_melden") not in tasks(before, IN_VIEW)

    at = moment(FOUR_WEEKS, before)
    after = rules.fire_due_terms(drained(before), at)
    data = {"startdatum": "2025-02-03", "termijn_op": "2025-03-03"}
    for rol in ("school", contact):
        assert sent(drained(before), after, rol, "vier_weken_thuis") == [data]
    report = task(after, "thuiszitter_melden", at)
    assert (report.rol.value, report.omschrijving) == (
        "school",
        f"Meld de thuiszitter bij Leerplicht en {CONTACT_NAME[sector]} (vier weken thuis).",
    )
    assert after.fase == 0 and "vier_weken" not in term_days(after)
    contact_text = "SCP" if sector == "PO" else "Koersloket"
    assert after.tijdlijn[-1].toelichting == (
        f"Vier weken thuis zonder melding: school en {contact_text} melden de thuiszitter."
    )

    week_later = at + timedelta(days=7)
    _, again = fire_until(drained(after), week_later, start=at)
    assert not [line for line in again if "vier_weken" in line]
    reported = go(after, "melding", {"gemeld_bij_leerplicht": True}, "school", at=week_later)
    assert finished(reported)[report.id] == "melding"

    early = go(state, "melding", {"gemeld_bij_leerplicht": True}, "school", at=IN_VIEW)
    assert "vier_weken" not in term_days(early)


@pytest.mark.parametrize("sector", ["PO", "VO"])
def test_in_the_voortraject_the_school_discusses_the_pupil_with_its_contact(sector: str) -> None:
    """Phase 0: the school discusses the pupil with the SCP of PPO (VO: the Koersloket), and the contact looks at
    prevention with the school; both tasks end with the melding."""
    state = opened(fase=0, sector=sector)
    school = task(state, "voortraject_bespreken")
    contact = task(state, "preventie_bespreken")

    assert school.rol.value == "school"
    assert school.omschrijving == f"Bespreek de leerling met {CONTACT_NAME[sector]} en zet preventief in."
    assert contact.rol.value == CONTACT[sector]
    assert contact.omschrijving == "Bekijk met de school wat preventief kan (voortraject)."

    reported = go(state, "melding", {"gemeld_bij_leerplicht": False}, "school", at=LATER)
    assert finished(reported)[school.id] == "melding" and finished(reported)[contact.id] == "melding"


# -------------------------------------------------------------------------------------------- phase 1: melding


@pytest.mark.parametrize("gemeld_bij_leerplicht", [True, False], ids=["leerplicht-told", "leerplicht-not-told"])
def test_the_melding_of_a_po_case_reports_the_thuiszitter_to_ppo(gemeld_bij_leerplicht: bool) -> None:
    """The school reports the complete absence to PPO Rotterdam, whether or not it told Leerplicht itself: the SCP
    gets the melding with the start date, and PPO's hulpvraag thuiszitter is created in Kindkans with its SISA
    signal and the ouderfunctionaris told."""
    before = drained(opened(fase=0))
    after = go(before, "melding", {"gemeld_bij_leerplicht": gemeld_bij_leerplicht}, "school", at=LATER)

    assert sent(before, after, "scp", "melding_thuiszitter") == [{"startdatum": "2025-02-03", "school_brin": "12AB"}]
    [hulpvraag] = registered(before, after, "kindkans", "hulpvraag_aanmaken")
    assert (hulpvraag["status"], hulpvraag["startdatum"], hulpvraag["sector"]) == ("thuiszitter", "2025-02-03", "PO")
    assert registered(before, after, "sisa", "signaal") == [{}]
    assert "bericht ouderfunctionaris.ouderfunctionaris_informeren" in queued(before, after)
    assert after.fase == 1 and after.kindkans_hulpvraag
    assert task(after, "hulpvraag_controleren", LATER).rol.value == "scp"


@pytest.mark.parametrize(("age", "leerplichtig"), [(4, False), (9, True)])
def test_a_pupil_from_4_is_reported_to_the_scp_with_the_start_date(age: int, leerplichtig: bool) -> None:
    """The SCP hears of every thuiszitter from 4 years, with the start date of staying at home; Leerplicht only of a
    pupil who is leerplichtig."""
    before = drained(opened(fase=0, age=age))
    after = go(before, "melding", {"gemeld_bij_leerplicht": False}, "school", at=LATER)

    [melding] = sent(before, after, "scp", "melding_thuiszitter")
    assert melding["startdatum"] == START.isoformat() == "2025-02-03"
    assert bool(registered(before, after, "leerplicht", "melding_volledig_verzuim")) is leerplichtig
    assert (("leerplicht", "lba_registreren") in tasks(after, LATER)) is leerplichtig
    assert ("scp", "hulpvraag_controleren") in tasks(after, LATER)


# --------------------------------------------------------------------------------- phase 2: the plan in the OPP


def _incomplete_plan(payload: dict[str, bool], taak: str, omschrijving: str, missing: str) -> None:
    """A plan van aanpak that lacks ``missing``: the case stays in phase 2, the school gets ``taak`` due on the day
    of the plan reminder, and no route may be chosen; the complete plan then opens phase 3 and finishes the task."""
    before = in_phase(2)
    state = go(before, "plan_van_aanpak", payload, "school", at=LATER)

    assert state.fase == 2
    open_task = task(state, taak, LATER)
    assert (open_task.rol.value, open_task.omschrijving) == ("school", omschrijving)
    assert open_task.uiterlijk == PLAN_REMINDER == term_days(state)["plan_herinnering"]
    assert state.tijdlijn[-1].toelichting == f"Plan van aanpak vastgelegd; nog nodig: {missing}"
    assert not registered(before, state, "kindkans", "hulpvraag_bijwerken")
    assert refusal(state, "route", by("school", {"route": "3.1"}), at=LATER) == (
        "route: eerst het plan van aanpak in het OPP, met instemming van de ouders (fase 3)"
    )

    complete = go(state, "plan_van_aanpak", {"in_opp": True, "instemming_ouders": True}, "school", at=LATER)
    assert complete.fase == 3
    assert finished(complete)[open_task.id] == "plan_van_aanpak"
    [update] = registered(state, complete, "kindkans", "hulpvraag_bijwerken")
    assert update == {"gebeurtenis": "plan_van_aanpak", "fase": 3}


def test_a_plan_that_is_not_in_the_opp_keeps_the_case_in_phase_2() -> None:
    _incomplete_plan(
        {"in_opp": False, "instemming_ouders": True},
        "plan_in_opp_opnemen",
        "Neem het plan van aanpak op in het OPP.",
        "opname in het OPP",
    )


def test_without_the_parents_consent_to_the_handelingsdeel_the_case_stays_in_phase_2() -> None:
    _incomplete_plan(
        {"in_opp": True, "instemming_ouders": False},
        "instemming_ouders_vragen",
        "Vraag de instemming van de ouders met het handelingsdeel van het OPP.",
        "instemming van de ouders met het handelingsdeel",
    )


# ---------------------------------------------------------------------------------------- phase 3: the routes


@pytest.mark.parametrize(
    ("sector", "route", "variant", "age", "informed"),
    [
        ("PO", "3.1", None, 9, {"ouders", "scp", "leerplicht"}),
        ("PO", "3.4", None, 9, {"ouders", "scp", "leerplicht", "wijkteam"}),
        ("PO", "3.3", "zorgarrangement", 9, {"ouders", "scp", "leerplicht", "wijkteam"}),
        ("PO", "3.4", None, 4, {"ouders", "scp", "wijkteam"}),
        ("VO", "3.4", None, 13, {"ouders", "koersloket", "leerplicht", "wijkteam"}),
    ],
    ids=["own-school", "care", "care-arrangement", "pupil-of-4", "vo-care"],
)
def test_the_schools_progress_reaches_everyone_it_keeps_informed(
    sector: str, route: str, variant: str | None, age: int, informed: set[str]
) -> None:
    """The school keeps the parties informed: the parents and the SCP (VO: the Koersloket), Leerplicht for a pupil
    who is leerplichtig, and the wijkteam in a care route."""
    before = drained(on_route(route, variant, sector=sector, age=age))
    text = "Twee ochtenden per week op school; gesprek over uitbreiding op 20 maart."
    after = go(before, "voortgang", {"toelichting": text}, "school", at=LATER)

    assert rollen(queued(before, after)) == informed
    for rol in informed:
        assert sent(before, after, rol, "voortgang") == [{"toelichting": text}]
    line = after.tijdlijn[-1]
    assert line.gebeurtenis == "voortgang" and line.toelichting is not None
    assert ("Leerplicht" in line.toelichting) is ("leerplicht" in informed)
    assert ("het wijkteam" in line.toelichting) is ("wijkteam" in informed)
    assert bool(registered(before, after, "kindkans", "hulpvraag_bijwerken")) is (sector == "PO")


def test_route_3_3_to_another_regular_primary_school_runs_the_search_and_the_receiving_schools_term() -> None:
    """Route 3.3 to another regular basisschool: the school searches, the parents apply in writing, and the receiving
    school has its zorgplicht term; the school of origin keeps the regie. A PPO arrangement in route 3.3 does not."""
    state = on_route("3.3", "andere_reguliere_school")
    assert {("school", "passende_school_zoeken"), ("ouders", "schriftelijk_aanmelden")} <= tasks(state)
    search = [task(state, "passende_school_zoeken"), task(state, "schriftelijk_aanmelden")]

    applied = go(drained(state), "aanmelding_andere_school", {"school_brin": "34CD"}, "ouders", at=LATER)
    assert sent(drained(state), applied, "scp", "aanmelding_andere_school") == [
        {"school_brin": "34CD", "termijn_op": ZORGPLICHT.isoformat()}
    ]
    decision = task(applied, "besluit_ontvangende_school", LATER)
    assert (decision.rol.value, decision.uiterlijk) == ("school", ZORGPLICHT)
    assert term_days(applied)["zorgplicht"] == ZORGPLICHT
    assert all(finished(applied)[t.id] == "aanmelding_andere_school" for t in search)
    assert applied.regiehouder is Regiehouder.SCHOOL

    arrangement = on_route("3.3", "arrangement")
    assert not {taak for _, taak in tasks(arrangement)} & {"passende_school_zoeken", "schriftelijk_aanmelden"}
    assert refusal(arrangement, "aanmelding_andere_school", by("ouders", {"school_brin": "34CD"})) == (
        "aanmelding_andere_school: eerst route 3.2 (of 3.3 andere reguliere school)"
    )


@pytest.mark.parametrize("sector", ["PO", "VO"])
def test_on_the_waiting_list_the_contact_advises_an_interim_programme(sector: str) -> None:
    """Tussenfase wachtlijst: the SCP (VO: the Koersloket) hears of it and advises an interim programme, a task that
    ends when the advice is given or the pupil leaves the waiting list."""
    contact = CONTACT[sector]
    before = drained(in_phase(3, sector=sector))
    waiting = go(before, "wachtlijst", {"op_wachtlijst": True}, "school", at=LATER)

    assert waiting.wachtlijst
    assert sent(before, waiting, contact, "wachtlijst") == [{"op_wachtlijst": True}]
    advice = task(waiting, "tussenprogramma_adviseren", LATER)
    assert (advice.rol.value, advice.omschrijving) == (
        contact,
        "Adviseer over een passend tussenprogramma tijdens de wachtlijst.",
    )
    [line] = [e for e in new_effects(before, waiting) if isinstance(e, Vastlegging)]
    assert line.gebeurtenis == "wachtlijst" and line.wachtlijst

    advised = go(
        waiting,
        "taak_afgerond",
        {"taak_id": advice.id, "toelichting": "Tussenprogramma: twee ochtenden per week bij Herstart."},
        contact,
        at=LATER,
    )
    assert finished(advised)[advice.id] == "taak_afgerond"
    assert advised.wachtlijst and "tussenprogramma_adviseren" not in {taak for _, taak in tasks(advised, LATER)}

    placed = go(waiting, "wachtlijst", {"op_wachtlijst": False}, contact, at=LATER)
    assert not placed.wachtlijst and finished(placed)[advice.id] == "wachtlijst"


def test_after_four_weeks_the_school_reports_a_pupil_of_4_to_the_scp_only() -> None:
    """A pupil of 4 is not leerplichtig: Leerplicht plays no role, so the school's task names only the SCP."""
    state = drained(opened(fase=0, age=4, at=IN_VIEW))
    assert not state.leerplichtig
    at = moment(FOUR_WEEKS, state)
    after = rules.fire_due_terms(state, at)
    report = task(after, "thuiszitter_melden", at)
    assert report.omschrijving == "Meld de thuiszitter bij de SCP (vier weken thuis)."


def test_the_wijkteam_that_took_part_in_the_oudergesprek_hears_the_schools_progress_on_any_route() -> None:
    """The school keeps the wijkteam informed where it is involved: in a care route, and where it sat at the table
    of the oudergesprek, whatever route follows."""
    state = opened()
    state = go(state, "oudergesprek", {"deelnemers": ["school", "ouders", "scp", "wijkteam"]}, "school")
    state = go(state, "plan_van_aanpak", {"in_opp": True, "instemming_ouders": True}, "school")
    before = drained(go(state, "route", {"route": "3.1"}, "school"))
    after = go(before, "voortgang", {"toelichting": "Drie ochtenden op school."}, "school", at=LATER)
    assert "wijkteam" in rollen(queued(before, after))

    without = drained(on_route("3.1"))
    after_without = go(without, "voortgang", {"toelichting": "Drie ochtenden op school."}, "school", at=LATER)
    assert "wijkteam" not in rollen(queued(without, after_without))
