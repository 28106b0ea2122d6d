"""Building cases for the pure rules: pupils, a case at each phase, and reading what an event queued.

Every moment is explicit: the rules take ``now`` and read no clock, so these helpers pass fixed datetimes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from workflows import rules
from workflows.contract import Aanmelding
from workflows.effects import Bericht, Registratie, Vastlegging
from workflows.rules import CaseState

LEERLING = "LL0001"
WORKFLOW_ID = f"thuiszitter-{LEERLING}"
CASE_ID = f"{WORKFLOW_ID}:run-1"
START = date(2025, 2, 3)  # a Monday: the first day of not appearing
OPENED = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)  # Monday 10:00 in Amsterdam, four weeks after START
LATER = OPENED + timedelta(hours=2)

CONTACT = {"PO": "scp", "VO": "koersloket"}
VALID_MEETING = {"PO": ["school", "ouders", "scp"], "VO": ["school", "ouders", "koersloket"]}
TASKFORCE = {
    "niveau": "taskforce",
    "reden": "Geen passende plek na de plaatsingsoverleggen.",
    "afgestemd_met_leerplicht": True,
    "afgestemd_met_school": True,
}


def born(age: int, on: date = START) -> date:
    """A birth date that makes the pupil ``age`` on ``on`` (1 January, so the age holds through the year)."""
    return date(on.year - age, 1, 1)


AGE = {"PO": 9, "VO": 13}
"""The age of a pupil unless told otherwise: one the intake accepts for the sector (PO 4 to 13, VO 10 to 18)."""


def aanmelding(
    *,
    age: int | None = None,
    sector: str = "PO",
    regio: str = "Noord",
    fase: int = 1,
    startdatum: date = START,
    model: type[Aanmelding] = Aanmelding,
    **fields: Any,
) -> Aanmelding:
    values: dict[str, Any] = {
        "leerling_ref": LEERLING,
        "geboortedatum": born(AGE[sector] if age is None else age, startdatum),
        "sector": sector,
        "regio": regio,
        "school_brin": "12AB",
        "startdatum": startdatum,
        "fase": fase,
    }
    if fields.get("uit_buitenland"):
        values.pop("school_brin")
    values.update(fields)
    return model.model_validate(values)


VERSIE = 1
"""The contract version of the cases these helpers build unless told otherwise: the tests that use them hold the
rules of version 1, which cases started before version 2 keep (``tests/workflows/rules/v2/`` holds version 2)."""


def opened(*, at: datetime = OPENED, versie: int | None = None, **fields: Any) -> CaseState:
    """A new case (phase 1 unless ``fase=0``), as the workflow opens it."""
    return rules.open_case(
        aanmelding(**fields), case_id=CASE_ID, workflow_id=WORKFLOW_ID, now=at, versie=versie or VERSIE
    )


def go(state: CaseState, name: str, payload: dict[str, Any] | None = None, *, at: datetime = OPENED) -> CaseState:
    """Apply an event that must be accepted (a refusal fails the test with its reason)."""
    try:
        return rules.apply(state, name, rules.parse(name, payload or {}, state.versie), at)
    except rules.Weigering as refusal:
        pytest.fail(f"{name} refused: {refusal.reden}")


def in_phase(fase: int, **fields: Any) -> CaseState:
    """A case brought to ``fase`` (0 to 3) through the events the procedure takes."""
    state = opened(fase=0 if fase == 0 else 1, **fields)
    sector = state.aanmelding.sector.value
    if fase >= 2:
        state = go(state, "oudergesprek", {"deelnemers": VALID_MEETING[sector]})
    if fase >= 3:
        state = go(state, "plan_van_aanpak", {"in_opp": True, "instemming_ouders": True})
    assert state.fase == fase
    return state


def on_route(route: str, variant: str | None = None, **fields: Any) -> CaseState:
    return go(in_phase(3, **fields), "route", {"route": route, "variant": variant})


def escalated_to_taskforce(**fields: Any) -> CaseState:
    return go(in_phase(3, **fields), "opschalen", TASKFORCE)


def new_effects(before: CaseState, after: CaseState) -> list[Registratie | Bericht | Vastlegging]:
    """What an event queued: the effects after those that were already waiting."""
    assert after.openstaand[: len(before.openstaand)] == before.openstaand
    return list(after.openstaand[len(before.openstaand) :])


def describe(effect: Registratie | Bericht | Vastlegging) -> str:
    """An effect as a line a reader of the procedure recognises: whom it reaches and what it is."""
    if isinstance(effect, Registratie):
        return f"registratie {effect.systeem.value}.{effect.actie}"
    if isinstance(effect, Bericht):
        return f"bericht {effect.rol.value}.{effect.sjabloon}"
    return f"vastlegging {effect.gebeurtenis}"


def queued(before: CaseState, after: CaseState) -> list[str]:
    return [describe(effect) for effect in new_effects(before, after)]


def tasks(state: CaseState) -> set[tuple[str, str]]:
    """The open tasks as (role, task code)."""
    return {(t.rol.value, t.taak) for t in rules.open_tasks(state)}


def task(state: CaseState, taak: str) -> Any:
    found = [t for t in rules.open_tasks(state) if t.taak == taak]
    assert len(found) == 1, f"task {taak} open {len(found)} times"
    return found[0]


def term_days(state: CaseState) -> dict[str, date]:
    return {t.sleutel: t.op for t in rules.terms(state)}


def refusal(state: CaseState, name: str, payload: Any, *, at: datetime = OPENED) -> str:
    """The Dutch reason an event is refused for, checked on both paths: the update's (``parse``/``apply`` raise)
    and the signal's (``receive`` records it in ``afgewezen`` and changes nothing else)."""
    with pytest.raises(rules.Weigering) as refused:
        rules.apply(state, name, rules.parse(name, payload, state.versie), at)
    reden = refused.value.reden
    after = rules.receive(state, name, payload, at)
    assert after.afgewezen[-1].reden == reden
    assert after.afgewezen[-1].tijd == at
    assert after.afgewezen_totaal == state.afgewezen_totaal + 1
    unchanged = {"afgewezen", "afgewezen_totaal"}
    assert after.model_dump(exclude=unchanged) == state.model_dump(exclude=unchanged)
    return reden


def rollen(effects: list[str]) -> set[str]:
    """The roles that a list of described effects sends a message to."""
    return {line.split(" ", 1)[1].split(".", 1)[0] for line in effects if line.startswith("bericht ")}


@dataclass(frozen=True)
class Scenario:
    """One event, accepted in a state built for it: used by the tests that hold for every event."""

    name: str
    setup: Callable[[], CaseState]
    payload: dict[str, Any]
    label: str = ""

    @property
    def id(self) -> str:
        return self.label or self.name


def _requested_vrijstelling() -> CaseState:
    return go(on_route("3.4"), "vrijstelling", {"status": "aangevraagd"})


def _applied_elsewhere() -> CaseState:
    return go(on_route("3.2"), "aanmelding_andere_school", {"school_brin": "34CD"})


SCENARIOS: list[Scenario] = [
    Scenario("melding", lambda: in_phase(0), {"gemeld_bij_leerplicht": False, "door": "school"}),
    Scenario("leerplicht_registratie", lambda: in_phase(1), {"lba_geregistreerd_op": "2025-02-20"}),
    Scenario("startdatum_correctie", lambda: in_phase(1), {"startdatum": "2025-01-27", "reden": "LBA-gegevens"}),
    Scenario("oudergesprek", lambda: in_phase(1), {"deelnemers": ["school", "ouders", "scp", "smw"]}),
    Scenario("plan_van_aanpak", lambda: in_phase(2), {"in_opp": True, "instemming_ouders": True}),
    Scenario("route", lambda: in_phase(3), {"route": "3.3", "variant": "tlv_so"}),
    Scenario("aanmelding_andere_school", lambda: on_route("3.2"), {"school_brin": "34CD"}),
    Scenario("zorgplicht_verlengd", _applied_elsewhere, {}),
    Scenario("wachtlijst", lambda: in_phase(3), {"op_wachtlijst": True}),
    Scenario("voortgang", lambda: in_phase(3), {"toelichting": "Twee ochtenden per week op school."}),
    Scenario("opschalen", lambda: in_phase(2), {"niveau": "coordinator", "reden": "Geen voortgang."}),
    Scenario("opschalen", lambda: in_phase(3), TASKFORCE, "opschalen-taskforce"),
    Scenario("huisbezoek", escalated_to_taskforce, {"samenvatting": "Gesprek thuis met ouders en leerling."}),
    Scenario(
        "taskforce_besluit",
        lambda: go(escalated_to_taskforce(), "huisbezoek", {"samenvatting": "Verslag."}),
        {"besluit": "Plaatsing op een SO-school."},
    ),
    Scenario("vrijstelling", lambda: on_route("3.4"), {"status": "aangevraagd"}),
    Scenario("vrijstelling", _requested_vrijstelling, {"status": "verleend"}, "vrijstelling-verleend"),
    Scenario("vrijstelling", _requested_vrijstelling, {"status": "afgewezen"}, "vrijstelling-afgewezen"),
    Scenario("passende_plek", lambda: on_route("3.1"), {"uitkomst": "terug_op_school"}),
    Scenario("intrekken", lambda: in_phase(1), {"reden": "Ten onrechte gemeld: de leerling is verhuisd."}),
]
"""Every event of the contract, each accepted once from a state that fits it."""
