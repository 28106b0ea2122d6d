"""Building cases of contract version 2 for the pure rules: every event names who acted (``door``), explicitly.

The pupils, dates and effect readers of :mod:`tests.workflows.rules.build` hold for both versions; this module adds
what version 2 needs: a case opened under version 2, :func:`go` with the acting role, cases at each phase up to phase
4, and the stored tasks (with their ids and due dates) read back by code.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import pytest

from tests.workflows.rules.build import OPENED, aanmelding, queued
from workflows import rules
from workflows.calendar import amsterdam_date, amsterdam_moment
from workflows.contract import ADDED_IN_VERSIE_2, Aanmelding, Taak
from workflows.effects import Bericht, Registratie
from workflows.rules import CaseState

VERSIE = 2
CASE_ID = "thuiszitter-LL0001:run-1"
ROLES = (
    "school",
    "scp",
    "koersloket",
    "leerplicht",
    "leerplicht_absoluut_verzuim",
    "ouders",
    "coordinator",
    "wijkteam",
    "taskforce",
)
"""Every role that may be named as ``door`` (CONTRACT.md version 2)."""

ROLE_NAMES = {
    "school": "de school",
    "scp": "de schoolcontactpersoon (PPO)",
    "koersloket": "het Koersloket (Koers VO)",
    "leerplicht": "Leerplicht",
    "leerplicht_absoluut_verzuim": "Leerplicht absoluut verzuim",
    "ouders": "de ouders",
    "coordinator": "de thuiszitterscoördinator",
    "wijkteam": "het wijkteam",
    "taskforce": "de Taskforce Thuiszitters",
}
"""How a refusal names each role, in Dutch."""

CONTACT = {"PO": "scp", "VO": "koersloket"}
MEETING = {"PO": ["school", "ouders", "scp"], "VO": ["school", "ouders", "koersloket"]}
TASKFORCE = {
    "niveau": "taskforce",
    "reden_code": "geen_passende_plek",
    "reden": "Geen passende plek na de plaatsingsoverleggen.",
    "afgestemd_met_leerplicht": True,
    "afgestemd_met_school": True,
}
COORDINATOR = {"niveau": "coordinator", "reden_code": "proces_loopt_vast", "reden": "Het gaat te langzaam."}
ESCALATES_TO_TASKFORCE = {"PO": "coordinator", "VO": "koersloket"}
"""Who brings a case to the Taskforce: the PPO coordinator (PO, after escalation to them) or the Koersloket (VO)."""


def opened(*, at: datetime = OPENED, versie: int = VERSIE, **fields: Any) -> CaseState:
    """A new case of version 2 (phase 1 unless ``fase=0``). ``versie=1`` builds the same case under the rules of
    version 1, to show what a defect that version 2 corrects looked like (version 1 keeps the old rules)."""
    return opened_with(aanmelding(**fields), at=at, versie=versie)


def opened_with(pupil: Aanmelding, *, at: datetime = OPENED, versie: int = VERSIE) -> CaseState:
    return rules.open_case(pupil, case_id=CASE_ID, workflow_id="thuiszitter-LL0001", now=at, versie=versie)


def go(state: CaseState, name: str, payload: dict[str, Any] | None, door: str, *, at: datetime = OPENED) -> CaseState:
    """Apply an event that ``door`` sends and that must be accepted, on the update's path: the validator
    (``check``) lets it through and the handler (``apply``) applies it. A refusal fails the test with its reason."""
    body = {**(payload or {}), "door": door}
    if state.versie < 2:  # the same event as version 1 knew it
        body = {field: value for field, value in body.items() if field not in ADDED_IN_VERSIE_2}
    try:
        event = rules.parse(name, body, state.versie)
        rules.check(state, name, event, at)
        return rules.apply(state, name, event, at)
    except rules.Weigering as refused:
        pytest.fail(f"{name} door {door} refused: {refused.reden}")


def by(door: str, payload: dict[str, Any] | None = None, *, versie: int = VERSIE) -> dict[str, Any]:
    """A payload as ``door`` sends it (for :func:`refusal` and ``rules.receive``), in the form of ``versie``."""
    body = {**(payload or {}), "door": door}
    return body if versie >= 2 else {k: v for k, v in body.items() if k not in ADDED_IN_VERSIE_2}


def in_phase(fase: int, *, at: datetime = OPENED, **fields: Any) -> CaseState:
    """A case brought to ``fase`` (0 to 3) by the school, as the procedure takes it."""
    state = opened(fase=0 if fase == 0 else 1, at=at, **fields)
    if fase >= 2:
        state = go(state, "oudergesprek", {"deelnemers": MEETING[state.aanmelding.sector.value]}, "school", at=at)
    if fase >= 3:
        state = go(state, "plan_van_aanpak", {"in_opp": True, "instemming_ouders": True}, "school", at=at)
    assert state.fase == fase
    return state


def on_route(route: str, variant: str | None = None, **fields: Any) -> CaseState:
    return go(in_phase(3, **fields), "route", {"route": route, "variant": variant}, "school")


def to_coordinator(**fields: Any) -> CaseState:
    """A PO case that the SCP escalated to the coordinator of its region."""
    return go(in_phase(3, **fields), "opschalen", COORDINATOR, "scp")


def to_taskforce(sector: str = "PO", **fields: Any) -> CaseState:
    """A case at the Taskforce: PO through the coordinator, VO by the Koersloket."""
    state = to_coordinator(**fields) if sector == "PO" else in_phase(3, sector=sector, **fields)
    return go(state, "opschalen", TASKFORCE, ESCALATES_TO_TASKFORCE[sector])


def placed(uitkomst: str = "terug_op_school", **fields: Any) -> CaseState:
    """A case in phase 4 with ``uitkomst`` (a vrijstelling granted first where that is the outcome)."""
    if uitkomst == "vrijstelling":
        state = go(on_route("3.4", **fields), "vrijstelling", {"status": "aangevraagd"}, "ouders")
        state = go(state, "vrijstelling", {"status": "verleend"}, "leerplicht")
        return go(state, "passende_plek", {"uitkomst": uitkomst}, "wijkteam")
    if uitkomst == "ingeschreven_andere_school":
        return go(on_route("3.2", **fields), "passende_plek", {"uitkomst": uitkomst, "school_brin": "34CD"}, "school")
    return go(on_route("3.1", **fields), "passende_plek", {"uitkomst": uitkomst}, "school")


def ready_to_close(uitkomst: str = "terug_op_school", **fields: Any) -> CaseState:
    """A case in phase 4 whose checks are done: only the contact's ``afronden`` remains."""
    state = placed(uitkomst, **fields)
    if uitkomst != "terug_op_school":
        state = go(state, "uitschrijving", {"uitgeschreven_op": "2025-03-01"}, "school")
    return state


# ------------------------------------------------------------------------------------------------- reading


def today(at: datetime = OPENED) -> date:
    return amsterdam_date(at)


def open_tasks(state: CaseState, at: datetime = OPENED) -> list[Taak]:
    return rules.open_tasks(state, today(at))


def tasks(state: CaseState, at: datetime = OPENED) -> set[tuple[str, str]]:
    """The open tasks as (role, task code)."""
    return {(t.rol.value, t.taak) for t in open_tasks(state, at)}


def task(state: CaseState, taak: str, at: datetime = OPENED) -> Taak:
    found = [t for t in open_tasks(state, at) if t.taak == taak]
    assert len(found) == 1, f"task {taak} open {len(found)} times: {sorted(tasks(state, at))}"
    return found[0]


def finished(state: CaseState) -> dict[str | None, str]:
    """The finished tasks kept in the case: id -> how they were finished (the event, or ``taak_afgerond``)."""
    return {t.id: t.via for t in state.afgeronde_taken}


def term_days(state: CaseState) -> dict[str, date]:
    return {t.sleutel: t.op for t in rules.terms(state)}


def moment(day: date, state: CaseState) -> datetime:
    """When the terms of ``day`` fire."""
    return amsterdam_moment(day, state.beleid.termijn_uur)


def drained(state: CaseState) -> CaseState:
    """The state after the workflow carried out what was queued."""
    return state.model_copy(update={"openstaand": []})


def fire_until(state: CaseState, until: datetime, *, start: datetime = OPENED) -> tuple[CaseState, list[str]]:
    """Let the terms up to ``until`` pass day by day, as the workflow's timer would; returns what they queued."""
    fired: list[str] = []
    at = start
    while at <= until:
        after = rules.fire_due_terms(state, at)
        fired += queued(state, after)
        state = after
        at += timedelta(days=1)
    after = rules.fire_due_terms(state, until)
    fired += queued(state, after)
    return after, fired


def registrations(effects: list[Registratie | Bericht | Any]) -> list[str]:
    return [f"{e.systeem.value}.{e.actie}" for e in effects if isinstance(e, Registratie)]


def messages(effects: list[Registratie | Bericht | Any]) -> list[str]:
    return [f"{e.rol.value}.{e.sjabloon}" for e in effects if isinstance(e, Bericht)]
