"""Who may send which event (CONTRACT.md version 2, "Who acted"): every row of the table, both ways.

For each row, in a case where the event fits, every role the table allows is accepted (the register line names it
as ``door``), and every other role is refused: on the update's path with a Dutch reason that names the role and who
may do it instead, on the signal's path recorded in ``afgewezen`` with nothing else changed
(:func:`tests.workflows.rules.build.refusal`). Rows that differ for PO and VO are tested for both.

The table is written out here from CONTRACT.md, not read from :mod:`workflows.permissions`, so that a change to the
code's table that the contract does not make fails here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from tests.workflows.rules.build import new_effects, refusal
from tests.workflows.rules.v2.build_v2 import (
    COORDINATOR,
    MEETING,
    ROLE_NAMES,
    ROLES,
    TASKFORCE,
    by,
    go,
    in_phase,
    on_route,
    opened,
    placed,
    ready_to_close,
    task,
    to_coordinator,
    to_taskforce,
)
from workflows.contract import EVENTS
from workflows.effects import Vastlegging
from workflows.rules import CaseState

ANY = frozenset(ROLES)
PEOPLE = frozenset({"school", "scp", "koersloket", "leerplicht", "coordinator"})
"""``toewijzen``, ``gegevens_wijzigen`` and ``intrekken``."""


@dataclass(frozen=True)
class Row:
    """One row of the table for one sector, with a case in which the event fits."""

    event: str
    sector: str
    allowed: frozenset[str]
    setup: Callable[[], CaseState]
    payload: dict[str, Any]
    label: str = ""
    accepted_here: frozenset[str] | None = None
    """The allowed roles that this case accepts (``beoordeling``: the SCP before escalation, the coordinator after)."""

    @property
    def id(self) -> str:
        return f"{self.label or self.event}-{self.sector}"


def _taskforce_visited(sector: str) -> CaseState:
    return go(to_taskforce(sector), "huisbezoek", {"samenvatting": "Gesprek thuis."}, "taskforce")


def _applied_elsewhere(sector: str) -> CaseState:
    return go(on_route("3.2", sector=sector), "aanmelding_andere_school", {"school_brin": "34CD"}, "school")


def _requested(sector: str) -> CaseState:
    return go(on_route("3.4", sector=sector), "vrijstelling", {"status": "aangevraagd"}, "ouders")


def _with_action_for(rol: str) -> Callable[[], CaseState]:
    def setup() -> CaseState:
        besluit = {
            "besluit": "Plaatsing met begeleiding.",
            "acties": [{"rol": rol, "omschrijving": "Regel de begeleiding.", "uiterlijk": "2025-03-20"}],
        }
        return go(_taskforce_visited("PO"), "taskforce_besluit", besluit, "taskforce")

    return setup


def _abroad_requested() -> CaseState:
    return go(opened(uit_buitenland=True), "vrijstelling", {"status": "aangevraagd"}, "ouders")


def _abroad_placed() -> CaseState:
    state = opened(uit_buitenland=True)
    return go(state, "passende_plek", {"uitkomst": "ingeschreven_andere_school", "school_brin": "56EF"}, "school")


def _per_sector(
    event: str,
    po: frozenset[str],
    vo: frozenset[str],
    setup: Callable[[str], CaseState],
    payload: Any,
    label: str = "",
) -> list[Row]:
    return [
        Row(event, "PO", po, lambda: setup("PO"), payload, label),
        Row(event, "VO", vo, lambda: setup("VO"), payload, label),
    ]


def _alike(
    event: str, allowed: frozenset[str], setup: Callable[[str], CaseState], payload: Any, label: str = ""
) -> list[Row]:
    return _per_sector(event, allowed, allowed, setup, payload, label)


CONTACT_OR_SCHOOL = {"PO": frozenset({"school", "scp"}), "VO": frozenset({"school", "koersloket"})}
PO_CONTACT, VO_CONTACT = CONTACT_OR_SCHOOL["PO"], CONTACT_OR_SCHOOL["VO"]
LEERPLICHT = frozenset({"leerplicht", "leerplicht_absoluut_verzuim"})

ROWS: list[Row] = [
    # melding, oudergesprek, wachtlijst: school, scp (PO), koersloket (VO)
    *_per_sector(
        "melding",
        PO_CONTACT,
        VO_CONTACT,
        lambda s: in_phase(0, sector=s),
        {"gemeld_bij_leerplicht": False},
    ),
    Row("oudergesprek", "PO", CONTACT_OR_SCHOOL["PO"], lambda: in_phase(1), {"deelnemers": MEETING["PO"]}),
    Row(
        "oudergesprek",
        "VO",
        CONTACT_OR_SCHOOL["VO"],
        lambda: in_phase(1, sector="VO"),
        {"deelnemers": MEETING["VO"]},
    ),
    *_per_sector("wachtlijst", PO_CONTACT, VO_CONTACT, lambda s: in_phase(3, sector=s), {"op_wachtlijst": True}),
    # leerplicht_registratie, startdatum_correctie: leerplicht, leerplicht_absoluut_verzuim
    *_alike(
        "leerplicht_registratie",
        LEERPLICHT,
        lambda s: in_phase(1, sector=s),
        {"lba_geregistreerd_op": "2025-02-20"},
    ),
    *_alike(
        "startdatum_correctie",
        LEERPLICHT,
        lambda s: in_phase(1, sector=s),
        {"startdatum": "2025-01-27", "reden": "Volgens de LBA."},
    ),
    # plan_van_aanpak, zorgplicht_verlengd, uitschrijving: school
    *_alike(
        "plan_van_aanpak",
        frozenset({"school"}),
        lambda s: in_phase(2, sector=s),
        {"in_opp": True, "instemming_ouders": True},
    ),
    *_alike("zorgplicht_verlengd", frozenset({"school"}), _applied_elsewhere, {}),
    *_alike(
        "uitschrijving",
        frozenset({"school"}),
        lambda s: placed("ingeschreven_andere_school", sector=s),
        {"uitgeschreven_op": "2025-03-01"},
    ),
    # route: school, scp (PO), koersloket (VO); also wijkteam for 3.4
    *_per_sector("route", PO_CONTACT, VO_CONTACT, lambda s: in_phase(3, sector=s), {"route": "3.1"}),
    *_per_sector(
        "route",
        CONTACT_OR_SCHOOL["PO"] | {"wijkteam"},
        CONTACT_OR_SCHOOL["VO"] | {"wijkteam"},
        lambda s: in_phase(3, sector=s),
        {"route": "3.4"},
        "route-3.4",
    ),
    # aanmelding_andere_school: school, ouders
    *_alike(
        "aanmelding_andere_school",
        frozenset({"school", "ouders"}),
        lambda s: on_route("3.2", sector=s),
        {"school_brin": "34CD"},
    ),
    # voortgang, document_toegevoegd: any role
    *_alike("voortgang", ANY, lambda s: in_phase(3, sector=s), {"toelichting": "Twee ochtenden per week op school."}),
    *_alike(
        "document_toegevoegd",
        ANY,
        lambda s: in_phase(3, sector=s),
        {"soort": "opp", "verwijzing": "dms://opp/2025/17", "omschrijving": "OPP met plan van aanpak"},
    ),
    # opschalen to coordinator (PO only): school, scp; to taskforce: coordinator (PO), koersloket (VO)
    *_per_sector(
        "opschalen",
        frozenset({"school", "scp"}),
        frozenset(),
        lambda s: in_phase(3, sector=s),
        COORDINATOR,
        "opschalen-coordinator",
    ),
    Row("opschalen", "PO", frozenset({"coordinator"}), to_coordinator, TASKFORCE, "opschalen-taskforce"),
    Row(
        "opschalen",
        "VO",
        frozenset({"koersloket"}),
        lambda: in_phase(3, sector="VO"),
        TASKFORCE,
        "opschalen-taskforce",
    ),
    # beoordeling: scp, coordinator (PO); koersloket (VO)
    Row(
        "beoordeling",
        "PO",
        frozenset({"scp", "coordinator"}),
        lambda: in_phase(3),
        {"uitzicht": "Plaatsing op een SBO-school in april.", "herbeoordeling_op": "2025-04-01"},
        "beoordeling-check",
        accepted_here=frozenset({"scp"}),
    ),
    Row(
        "beoordeling",
        "PO",
        frozenset({"scp", "coordinator"}),
        to_coordinator,
        {"uitzicht": "Plaatsing op een SBO-school in april.", "herbeoordeling_op": "2025-04-01"},
        "beoordeling-coordinator",
        accepted_here=frozenset({"coordinator"}),
    ),
    Row(
        "beoordeling",
        "VO",
        frozenset({"koersloket"}),
        lambda: in_phase(3, sector="VO"),
        {"uitzicht": "Plaatsing via het plaatsingsoverleg.", "herbeoordeling_op": "2025-04-01"},
    ),
    # huisbezoek, taskforce_besluit: taskforce
    *_alike("huisbezoek", frozenset({"taskforce"}), to_taskforce, {"samenvatting": "Gesprek thuis met ouders."}),
    *_alike("taskforce_besluit", frozenset({"taskforce"}), _taskforce_visited, {"besluit": "Plaatsing op een SO."}),
    # vrijstelling aangevraagd: ouders, leerplicht; verleend / afgewezen, leerplicht_interventie: leerplicht
    *_alike(
        "vrijstelling",
        frozenset({"ouders", "leerplicht"}),
        lambda s: on_route("3.4", sector=s),
        {"status": "aangevraagd"},
        "vrijstelling-aangevraagd",
    ),
    *_alike("vrijstelling", frozenset({"leerplicht"}), _requested, {"status": "verleend"}, "vrijstelling-verleend"),
    *_alike("vrijstelling", frozenset({"leerplicht"}), _requested, {"status": "afgewezen"}, "vrijstelling-afgewezen"),
    *_alike(
        "leerplicht_interventie",
        frozenset({"leerplicht"}),
        lambda s: in_phase(1, sector=s),
        {"soort": "waarschuwing", "toelichting": "Ouders gewaarschuwd: leerplicht geldt."},
    ),
    # passende_plek: school, scp, koersloket, wijkteam, taskforce
    *_alike(
        "passende_plek",
        frozenset({"school", "scp", "koersloket", "wijkteam", "taskforce"}),
        lambda s: on_route("3.1", sector=s),
        {"uitkomst": "terug_op_school"},
    ),
    # afronden: scp (PO), koersloket (VO), leerplicht_absoluut_verzuim (pupil from abroad)
    *_per_sector(
        "afronden",
        frozenset({"scp"}),
        frozenset({"koersloket"}),
        lambda s: ready_to_close("ingeschreven_andere_school", sector=s),
        {"toelichting": "Uitschrijving gecontroleerd."},
    ),
    Row(
        "afronden",
        "PO",
        frozenset({"leerplicht_absoluut_verzuim"}),
        _abroad_placed,
        {"toelichting": "Ingeschreven op een school."},
        "afronden-buitenland",
    ),
    # toewijzen, gegevens_wijzigen, intrekken: school, scp, koersloket, leerplicht, coordinator
    *_alike("toewijzen", PEOPLE, lambda s: in_phase(1, sector=s), {"rol": "school", "persoon": "p-0042"}),
    *_alike("gegevens_wijzigen", PEOPLE, lambda s: in_phase(1, sector=s), {"regio": "Zuid"}),
    *_alike("intrekken", PEOPLE, lambda s: in_phase(1, sector=s), {"reden": "Ten onrechte gemeld."}),
]

# taak_afgerond: the role of that task (tasks of several roles, each finished by hand)
TASKS_BY_HAND: list[tuple[str, str, Callable[[], CaseState], str]] = [
    ("school", "PO", lambda: on_route("3.1"), "passend_aanbod"),
    ("scp", "PO", lambda: on_route("3.3", "arrangement"), "arrangement_inzetten"),
    ("koersloket", "VO", lambda: on_route("3.3", "tlv_vso", sector="VO"), "tlv_onderbouwing"),
    ("wijkteam", "PO", lambda: on_route("3.4"), "zorgarrangement_kiezen"),
    ("leerplicht", "VO", lambda: placed(sector="VO"), "verzuim_volgen"),
    ("ouders", "PO", _with_action_for("ouders"), "taskforce_actie"),
    ("coordinator", "PO", _with_action_for("coordinator"), "taskforce_actie"),
    ("taskforce", "PO", _with_action_for("taskforce"), "taskforce_actie"),
    ("leerplicht_absoluut_verzuim", "PO", _abroad_requested, "vrijstelling_doorzetten"),
]


for _rol, _sector, _setup, _taak in TASKS_BY_HAND:
    ROWS.append(
        Row(
            "taak_afgerond",
            _sector,
            frozenset({_rol}),
            _setup,
            {"taak": _taak, "toelichting": "Gedaan en besproken met de ouders."},
            f"taak_afgerond-{_taak}",
        )
    )


def payload_for(row: Row, state: CaseState) -> dict[str, Any]:
    """The row's payload; ``taak_afgerond`` names the id of the open task of its kind."""
    if row.event != "taak_afgerond":
        return dict(row.payload)
    payload = dict(row.payload)
    payload["taak_id"] = task(state, payload.pop("taak")).id
    return payload


ACCEPTED = [(row, role) for row in ROWS for role in sorted(row.accepted_here or row.allowed)]
REFUSED = [(row, role) for row in ROWS for role in ROLES if role not in row.allowed]


def test_the_table_has_a_row_for_every_event_of_version_2() -> None:
    assert {row.event for row in ROWS} == set(EVENTS)
    per_event: dict[str, set[str]] = {row.event: set() for row in ROWS}
    for row in ROWS:
        per_event[row.event].add(row.sector)
    assert all(sectors == {"PO", "VO"} for name, sectors in per_event.items() if name != "taak_afgerond")


@pytest.mark.parametrize(("row", "role"), ACCEPTED, ids=[f"{r.id}-{role}" for r, role in ACCEPTED])
def test_each_role_the_table_allows_is_accepted(row: Row, role: str) -> None:
    before = row.setup()
    after = go(before, row.event, payload_for(row, before), role)

    assert after is not before
    line = [e for e in new_effects(before, after) if isinstance(e, Vastlegging)][-1]
    assert (line.gebeurtenis, line.door) == (row.event, role)
    assert [regel.door for regel in after.tijdlijn if regel.gebeurtenis == row.event][-1] == role


@pytest.mark.parametrize(("row", "role"), REFUSED, ids=[f"{r.id}-{role}" for r, role in REFUSED])
def test_every_other_role_is_refused_with_a_reason_that_names_it(row: Row, role: str) -> None:
    state = row.setup()
    reden = refusal(state, row.event, by(role, payload_for(row, state)))

    if not row.allowed:  # nobody may: the reason says why not, whoever asks
        assert reden == NOBODY[row.id], reden
        return
    assert reden.startswith(f"{row.event}: {ROLE_NAMES[role]} mag dit niet doen"), reden
    for allowed in row.allowed:
        assert ROLE_NAMES[allowed] in reden, f"{reden!r} does not say who may"


NOBODY = {
    "opschalen-coordinator-VO": "opschalen: VO kent geen PPO-coördinator; het Koersloket beslist over de Taskforce",
}
"""The reason for a row that no role may send."""


def test_the_role_is_checked_before_anything_else_about_the_event() -> None:
    """A sender that may not send an event hears that, not what else is missing: the role is the first thing."""
    state = in_phase(0)  # a route is out of phase here, and escalation to the Taskforce lacks the coordinator
    assert refusal(state, "route", by("ouders", {"route": "3.1"})).startswith("route: de ouders mag dit niet doen")
    reden = refusal(state, "opschalen", by("school", {**TASKFORCE, "afgestemd_met_school": False}))
    assert reden.startswith("opschalen: de school mag dit niet doen")


def test_door_is_required_and_a_role_in_version_2() -> None:
    state = in_phase(3)
    assert refusal(state, "voortgang", {"toelichting": "x"}) == "voortgang: veld 'door': ontbreekt (verplicht)"
    reden = refusal(state, "voortgang", {"toelichting": "x", "door": "Jan de Vries"})
    assert reden.startswith("voortgang: veld 'door': moet een van") and "Jan" not in reden


def test_persoon_is_kept_with_the_role_and_names_nobody() -> None:
    state = go(in_phase(3), "voortgang", {"toelichting": "Stand.", "persoon": "scp-0007"}, "scp")
    assert state.tijdlijn[-1].door == "scp"
    reden = refusal(state, "voortgang", by("scp", {"toelichting": "x", "persoon": "Jan de Vries"}))
    assert "veld 'persoon': heeft niet de juiste vorm" in reden
