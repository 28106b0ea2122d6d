"""Any sequence of events from any role keeps the invariants of contract version 2 (hypothesis, pure rules).

Random pupils (PO and VO at the ages the intake accepts, pupils of 4, pupils from abroad, with or without a shortened
policy) receive random sequences of version-2 events through the signal path (``rules.receive``, as live signals
arrive), each with a random ``door``, interleaved with time passing and the terms that come due. Most steps are the
procedure's next step sent by a role that may send it, so that the examples reach every phase, the twelve-week check,
both escalations and phase 4; the rest are any event from any role, malformed events, repeats and closures. After
every step:

- every open task has a stable id of its own and a due date, and is overdue exactly when that date has passed;
- a closed case has no open tasks and no terms ahead, and stays closed;
- a VO case never has a PPO role (scp, ouderfunctionaris, coordinator) in a task or a message, nor a Kindkans, SISA
  or Centrale AanmeldRoute registration;
- a case closes only by ``afronden`` after its phase-4 checks, or by ``intrekken``; no term closes a case;
- the case reaches the Taskforce only by an accepted ``opschalen`` from the role that may make it (the coordinator in
  PO, the Koersloket in VO) with the afstemmingen it needs; it reaches the coordinator only from the school or the SCP
  of a PO case, or when a PO check went undecided;
- a refused event changes nothing but ``afgewezen``; the phase never goes back; effect keys are unique and the
  register lines numbered without gaps; the state and its status survive JSON.
"""

from __future__ import annotations

import functools
import os
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from tests.workflows.rules.build import OPENED
from tests.workflows.rules.v2.build_v2 import CASE_ID, ROLES, opened_with
from workflows import rules
from workflows.calendar import amsterdam_date
from workflows.contract import (
    ESCALATIE_NIVEAU,
    EVENTS,
    LEEFTIJDEN,
    ROUTE_33_VARIANTEN_PER_SECTOR,
    Aanmelding,
    CaseStatus,
    Escalatie,
    Rol,
    Sector,
)
from workflows.effects import Bericht, Registratie, Systeem, Vastlegging
from workflows.policy import Beleid
from workflows.rules import CaseState

SCALE = max(1, int(os.environ.get("THUISZITTERS_FUZZ_SCALE", "1")))
"""Multiplies the example count for a deeper run (``THUISZITTERS_FUZZ_SCALE=20``)."""
PPO_ROLES = {Rol.SCP, Rol.OUDERFUNCTIONARIS, Rol.COORDINATOR}
PPO_SYSTEMS = {Systeem.KINDKANS, Systeem.SISA, Systeem.CENTRALE_AANMELDROUTE}
BRINS = ["12AB", "34CD", "56EF", "78GH01"]
TASK_ID = re.compile(r"^T[0-9]+$")

# ------------------------------------------------------------------------------------------------- strategies
#
# The strategies are built once (building them anew at every step costs more than the rules themselves). What
# depends on the case is drawn as a marker and filled in when the event is sent (:func:`resolve`): a date some days
# ahead of today (``Ahead``), a start date some days from the current one (``Shift``), one of the open tasks
# (``OpenTask``).


@dataclass(frozen=True)
class Ahead:
    days: int


@dataclass(frozen=True)
class Shift:
    days: int


@dataclass(frozen=True)
class OpenTask:
    index: int


def iso(day: date) -> str:
    return day.isoformat()


days = st.dates(min_value=date(2024, 6, 1), max_value=date(2025, 9, 1)).map(iso)  # some lie in the future
text = st.sampled_from(["Stand van zaken.", "Geen plek gevonden.", "Gesprek thuis.", "Besluit van de Kerngroep."])
roles = st.sampled_from(ROLES)
likely = st.booleans() | st.just(True)
all_variants = sorted({v for vs in ROUTE_33_VARIANTEN_PER_SECTOR.values() for v in vs})

PAYLOADS: dict[str, st.SearchStrategy[dict[str, Any]]] = {
    "melding": st.fixed_dictionaries({"gemeld_bij_leerplicht": st.booleans()}),
    "leerplicht_registratie": st.fixed_dictionaries({"lba_geregistreerd_op": days}),
    "startdatum_correctie": st.fixed_dictionaries(
        {"startdatum": st.one_of(days, st.integers(-200, 30).map(Shift)), "reden": text}
    ),
    "oudergesprek": st.fixed_dictionaries(
        {
            "deelnemers": st.lists(
                st.sampled_from(["school", "ouders", "scp", "koersloket", "smw", "wijkteam", "leerling"]),
                min_size=1,
                max_size=5,
            )
        },
        optional={"wensen_ouders": text, "besproken_opties": text, "afspraken": text},
    ),
    "plan_van_aanpak": st.fixed_dictionaries({"in_opp": likely, "instemming_ouders": likely}),
    "route": st.one_of(
        st.fixed_dictionaries({"route": st.sampled_from(["3.1", "3.2", "3.4"])}),
        st.fixed_dictionaries({"route": st.just("3.3"), "variant": st.sampled_from(all_variants)}),
    ),
    "aanmelding_andere_school": st.fixed_dictionaries({"school_brin": st.sampled_from(BRINS)}),
    "zorgplicht_verlengd": st.just({}),
    "wachtlijst": st.fixed_dictionaries({"op_wachtlijst": st.booleans()}),
    "voortgang": st.fixed_dictionaries({"toelichting": text}),
    "opschalen": st.fixed_dictionaries(
        {
            "niveau": st.sampled_from(["coordinator", "taskforce"]),
            "reden_code": st.sampled_from(["geen_passende_plek", "partijen_niet_eens", "overig"]),
            "reden": text,
            "afgestemd_met_leerplicht": likely,
            "afgestemd_met_school": likely,
        }
    ),
    "beoordeling": st.fixed_dictionaries(
        {"uitzicht": text, "herbeoordeling_op": st.integers(-2, 50).map(Ahead)}  # now and then too near or far
    ),
    "huisbezoek": st.fixed_dictionaries({"samenvatting": text}),
    "taskforce_besluit": st.fixed_dictionaries(
        {"besluit": text},
        optional={
            "acties": st.lists(
                st.fixed_dictionaries({"rol": roles, "omschrijving": text, "uiterlijk": days}), max_size=3
            )
        },
    ),
    "vrijstelling": st.fixed_dictionaries({"status": st.sampled_from(["aangevraagd", "verleend", "afgewezen"])}),
    "passende_plek": st.one_of(
        st.fixed_dictionaries({"uitkomst": st.sampled_from(["terug_op_school", "vrijstelling"])}),
        st.fixed_dictionaries(
            {"uitkomst": st.just("ingeschreven_andere_school"), "school_brin": st.sampled_from(BRINS)}
        ),
    ),
    "uitschrijving": st.fixed_dictionaries({"uitgeschreven_op": st.one_of(days, st.just(Ahead(0)))}),
    "afronden": st.fixed_dictionaries({"toelichting": text}),
    "taak_afgerond": st.fixed_dictionaries(
        {"taak_id": st.one_of(st.integers(0, 20).map(OpenTask), st.sampled_from(["T1", "T999"])), "toelichting": text}
    ),
    "toewijzen": st.fixed_dictionaries({"rol": roles, "persoon": st.sampled_from(["p-1", "p-2", "mentor-7"])}),
    "document_toegevoegd": st.fixed_dictionaries(
        {
            "soort": st.sampled_from(["opp", "plan_van_aanpak", "tlv_onderbouwing", "besluit", "overig"]),
            "verwijzing": st.sampled_from(["dms://1", "dms://2", "dms://3"]),
        }
    ),
    "gegevens_wijzigen": st.one_of(
        st.fixed_dictionaries({"sector": st.sampled_from(["PO", "VO"])}),
        st.fixed_dictionaries({"regio": st.sampled_from(["Noord", "Zuid"])}),
        st.fixed_dictionaries({"woont_in_rotterdam": st.booleans()}),
        st.fixed_dictionaries({"school_brin": st.sampled_from(BRINS)}),
    ),
    "leerplicht_interventie": st.fixed_dictionaries(
        {"soort": st.sampled_from(["gesprek", "waarschuwing", "proces_verbaal"]), "toelichting": text}
    ),
    "intrekken": st.fixed_dictionaries({"reden": text}),
}
"""A payload (without ``door``) for every event of version 2, valid by the contract: whether the case accepts it
depends on where it stands."""
assert set(PAYLOADS) == set(EVENTS)

CLOSING = ("afronden", "intrekken")


@dataclass(frozen=True)
class Send:
    name: str
    payload: Any


def resolve(send: Send, state: CaseState, now: datetime) -> Send:
    """Fill in the markers of ``send`` for the case as it stands."""
    if not isinstance(send.payload, dict):
        return send
    payload = dict(send.payload)
    for key, value in payload.items():
        if isinstance(value, Ahead):
            payload[key] = iso(amsterdam_date(now) + timedelta(days=value.days))
        elif isinstance(value, Shift):
            payload[key] = iso(state.startdatum + timedelta(days=value.days))
        elif isinstance(value, OpenTask):
            taak = state.taken[value.index % len(state.taken)] if state.taken else None
            payload[key] = taak.id if taak else "T1"
            if payload.get("door") == "*":  # the task's own role
                payload["door"] = taak.rol.value if taak else "school"
    return Send(send.name, payload)


def sent_by(name: str, door: st.SearchStrategy[str], payload: st.SearchStrategy[Any] | None = None) -> Any:
    """``name`` with its payload, from ``door``, now and then with a ``datum`` (which may lie in the future)."""
    body = PAYLOADS[name] if payload is None else payload
    return st.tuples(body, door, st.one_of(st.none(), st.none(), st.none(), days)).map(
        lambda t: Send(name, {**t[0], "door": t[1], **({"datum": t[2]} if t[2] else {})})
    )


ANY_EVENT = st.one_of(*(sent_by(name, roles) for name in sorted(set(EVENTS) - set(CLOSING))))
"""Any event of version 2 from any role (not a closing one)."""
CLOSING_EVENT = st.one_of(*(sent_by(name, roles) for name in CLOSING))
junk = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=12), st.just("x" * 5000), st.just("\x00"))
MALFORMED_EVENT = st.tuples(ANY_EVENT, st.sampled_from(["field", "no_door", "unknown"]), st.integers(0, 9), junk).map(
    lambda t: Send(
        t[0].name,
        {**t[0].payload, sorted(t[0].payload)[t[2] % len(t[0].payload)]: t[3]}
        if t[1] == "field"
        else {k: v for k, v in t[0].payload.items() if k != "door"}
        if t[1] == "no_door"
        else {**t[0].payload, "bsn": t[3]},
    )
)
"""An event as a careless or hostile sender might send it: a broken field, no door, an unknown field."""


def next_steps(state: CaseState) -> st.SearchStrategy[Send]:
    """Events that carry the case forward, from a role that may send them (mostly)."""
    po = state.aanmelding.sector is Sector.PO
    return _next_steps(
        po,
        state.fase,
        state.escalatie,
        state.route is not None,
        state.wachtlijst,
        state.vrijstelling,
        state.uit_buitenland,
        bool(state.taken),
    )


@functools.cache
def _next_steps(
    po: bool,
    fase: int,
    escalatie: Escalatie,
    has_route: bool,
    wachtlijst: bool,
    vrijstelling: str | None,
    abroad: bool,
    has_tasks: bool,
) -> st.SearchStrategy[Send]:
    contact = "scp" if po else "koersloket"
    by_contact = st.sampled_from(["school", contact])
    forward: list[st.SearchStrategy[Send]] = []
    extra: list[st.SearchStrategy[Send]] = [
        sent_by("voortgang", roles),
        sent_by("wachtlijst", by_contact, st.just({"op_wachtlijst": not wachtlijst})),
        sent_by("document_toegevoegd", roles),
        sent_by("toewijzen", st.sampled_from(["school", contact, "coordinator", "leerplicht"])),
        sent_by(
            "startdatum_correctie",
            st.just("leerplicht"),
            st.integers(-200, 30).map(lambda n: {"startdatum": Shift(n), "reden": "Volgens de LBA."}),
        ),
        sent_by("gegevens_wijzigen", st.sampled_from(["school", contact])),
        sent_by("leerplicht_interventie", st.just("leerplicht")),
    ]
    if has_tasks:  # a task finished by its own role (which the rules refuse where an event finishes it)
        extra.append(
            st.integers(0, 20).map(
                lambda i: Send("taak_afgerond", {"taak_id": OpenTask(i), "toelichting": "Gedaan.", "door": "*"})
            )
        )
    if fase == 0:
        forward.append(sent_by("melding", by_contact))
    if fase >= 1:
        extra.append(sent_by("leerplicht_registratie", st.sampled_from(["leerplicht", "leerplicht_absoluut_verzuim"])))
    if fase == 1:
        forward.append(sent_by("oudergesprek", by_contact, st.just({"deelnemers": ["school", "ouders", contact]})))
    if fase == 2:
        forward.append(sent_by("plan_van_aanpak", st.just("school")))
    if fase == 3:
        (extra if has_route else forward).append(sent_by("route", by_contact))
        forward.append(sent_by("aanmelding_andere_school", st.sampled_from(["school", "ouders"])))
        extra.append(sent_by("zorgplicht_verlengd", st.just("school")))
        forward.append(sent_by("passende_plek", st.sampled_from(["school", contact, "wijkteam", "taskforce"])))
    if fase < 4:
        decider = "coordinator" if escalatie is Escalatie.COORDINATOR else contact
        extra.append(sent_by("beoordeling", st.just(decider)))
        niveau = "taskforce" if escalatie is Escalatie.COORDINATOR or not po else "coordinator"
        who = {"coordinator": ["school", "scp"], "taskforce": ["coordinator" if po else "koersloket"]}[niveau]
        escalation = PAYLOADS["opschalen"].flatmap(
            lambda p: st.sampled_from([niveau, p["niveau"]]).map(lambda n: {**p, "niveau": n})
        )
        forward.append(sent_by("opschalen", st.sampled_from(who) | roles, escalation))
    if escalatie is Escalatie.TASKFORCE:
        forward.append(sent_by("huisbezoek", st.just("taskforce")))
        forward.append(sent_by("taskforce_besluit", st.just("taskforce")))
    if vrijstelling in (None, "afgewezen"):
        extra.append(
            sent_by("vrijstelling", st.sampled_from(["ouders", "leerplicht"]), st.just({"status": "aangevraagd"}))
        )
    if vrijstelling == "aangevraagd":
        decision = st.sampled_from([{"status": "verleend"}, {"status": "afgewezen"}])
        extra.append(sent_by("vrijstelling", st.just("leerplicht"), decision))
    if fase == 4:
        forward.append(sent_by("uitschrijving", st.just("school"), st.just({"uitgeschreven_op": Ahead(0)})))
        forward.append(sent_by("afronden", st.just("leerplicht_absoluut_verzuim" if abroad else contact)))
    return st.one_of(*forward, *forward, *forward, *extra) if forward else st.one_of(*extra)


@st.composite
def beleid(draw: st.DrawFn) -> Beleid | None:
    if draw(st.booleans()):
        return None
    term = draw(st.integers(min_value=10, max_value=120))
    return Beleid(
        thuiszitter_na_dagen=draw(st.integers(min_value=1, max_value=60)),
        escalatie_termijn_dagen=term,
        waarschuwingen_dagen=tuple(draw(st.lists(st.integers(1, term - 1), max_size=2, unique=True))),
        check_besluit_werkdagen=draw(st.integers(min_value=1, max_value=15)),
        herbeoordeling_max_dagen=draw(st.integers(min_value=7, max_value=60)),
        taak_werkdagen=draw(st.integers(min_value=1, max_value=15)),
        termijn_uur=draw(st.integers(min_value=0, max_value=23)),
    )


@st.composite
def pupils(draw: st.DrawFn) -> Aanmelding:
    startdatum = OPENED.date() - timedelta(days=draw(st.integers(min_value=0, max_value=150)))
    age = draw(st.sampled_from([4, 4, 5, 6, 9, 10, 12, 13, 15, 17]))
    sector = draw(st.sampled_from([s for s in Sector if LEEFTIJDEN[s][0] <= age <= LEEFTIJDEN[s][1]]))
    anniversary = date(startdatum.year - age, startdatum.month, min(startdatum.day, 28))
    geboortedatum = anniversary - timedelta(days=draw(st.one_of(st.integers(0, 3), st.integers(300, 360))))
    abroad = draw(st.integers(min_value=0, max_value=6)) == 0
    return Aanmelding(
        leerling_ref="LL0001",
        geboortedatum=geboortedatum,
        sector=sector,
        regio=draw(st.sampled_from(["Noord", "Zuid"])),
        school_brin=None if abroad else "12AB",
        startdatum=startdatum,
        fase=1 if abroad else draw(st.sampled_from([0, 1, 1])),
        woont_in_rotterdam=draw(st.booleans()),
        uit_buitenland=abroad,
        beleid=draw(beleid()),
    )


# ------------------------------------------------------------------------------------------------- the checks


@dataclass
class Observed:
    state: CaseState
    now: datetime
    keys: set[str] = field(default_factory=set)
    volgnummer: int = 0
    ids: dict[str, tuple[str, str]] = field(default_factory=dict)
    last_accepted: Send | None = None


def take_effects(seen: Observed, before: CaseState, after: CaseState) -> CaseState:
    """Check what was queued, then take it away as the workflow does once it carried it out."""
    vo_throughout = before.aanmelding.sector is Sector.VO and after.aanmelding.sector is Sector.VO
    for effect in after.openstaand:
        assert effect.case_id == CASE_ID and effect.sleutel.startswith(f"{CASE_ID}:")
        assert effect.sleutel not in seen.keys, f"effect key used twice: {effect.sleutel}"
        seen.keys.add(effect.sleutel)
        if isinstance(effect, Vastlegging):
            assert effect.volgnummer == seen.volgnummer + 1, "register lines numbered with a gap"
            seen.volgnummer = effect.volgnummer
            if effect.sector is Sector.VO:
                assert not {t.rol for t in effect.open_taken} & PPO_ROLES, "a VO register line with a PPO task"
        if isinstance(effect, Bericht) and effect.sector is Sector.VO:
            assert effect.rol not in PPO_ROLES, f"a VO case sends {effect.rol.value}.{effect.sjabloon.value}"
        if isinstance(effect, Registratie) and vo_throughout:
            assert effect.systeem not in PPO_SYSTEMS, f"a VO case calls {effect.systeem.value}.{effect.actie.value}"
        if isinstance(effect, Registratie) and effect.systeem is Systeem.LEERPLICHT:
            assert after.leerplichtig, "a registration call to Leerplicht for a pupil who is not leerplichtig"
    assert seen.volgnummer == after.volgnummer
    return after.model_copy(update={"openstaand": []}) if after.openstaand else after


def phase_4_checks_done(state: CaseState) -> bool:
    if state.fase != 4 or state.uitkomst is None:
        return False
    deregisters = not state.uit_buitenland and state.uitkomst.value in ("ingeschreven_andere_school", "vrijstelling")
    granted = state.uitkomst.value != "vrijstelling" or state.vrijstelling == "verleend"
    return (not deregisters or state.uitgeschreven_op is not None) and granted


def check_invariants(seen: Observed, before: CaseState, after: CaseState, sent: Send | None) -> None:
    now = seen.now
    status = rules.status(after, now)
    today = amsterdam_date(now)
    assert after.fase >= before.fase, f"phase went back from {before.fase} to {after.fase}"
    moved_to_vo = before.aanmelding.sector is Sector.PO and after.aanmelding.sector is Sector.VO
    if not moved_to_vo:  # a case that leaves PPO leaves its coordinator too
        assert ESCALATIE_NIVEAU[after.escalatie] >= ESCALATIE_NIVEAU[before.escalatie]

    # every open task has an id of its own and a due date; overdue exactly when that has passed
    ids = [t.id for t in status.open_taken]
    assert len(ids) == len(set(ids))
    for taak in status.open_taken:
        assert taak.id is not None and TASK_ID.match(taak.id), taak
        assert taak.uiterlijk is not None, f"task {taak.id} ({taak.taak}) has no due date"
        assert taak.te_laat is (taak.uiterlijk < today)
        assert seen.ids.setdefault(taak.id, (taak.rol.value, taak.taak)) == (taak.rol.value, taak.taak)
        assert taak.toegewezen_aan == after.toegewezen.get(taak.rol.value)

    # a closed case has no open tasks, no terms, and stays closed
    if before.afgesloten:
        assert after.afgesloten and after.uitkomst == before.uitkomst
    if after.afgesloten:
        assert status.open_taken == [] and rules.terms(after) == [] and after.uitkomst is not None

    # a case closes only by afronden after its phase-4 checks, or by intrekken
    if after.afgesloten and not before.afgesloten:
        assert sent is not None, "a term closed the case"
        assert sent.name in CLOSING, f"{sent.name} closed the case"
        if sent.name == "afronden":
            assert phase_4_checks_done(before), "afronden closed a case before its phase-4 checks"

    # a VO case: no PPO role in a task
    if after.aanmelding.sector is Sector.VO:
        roles = {t.rol for t in status.open_taken}
        assert not roles & PPO_ROLES, f"a VO case has tasks for {sorted(r.value for r in roles & PPO_ROLES)}"
        assert status.contactrol in (Rol.KOERSLOKET, Rol.LEERPLICHT_ABSOLUUT_VERZUIM)

    # escalation only from a role that may make it
    if after.escalatie is Escalatie.TASKFORCE and before.escalatie is not Escalatie.TASKFORCE:
        assert sent is not None and sent.name == "opschalen", "the case reached the Taskforce without opschalen"
        payload = sent.payload
        po = before.aanmelding.sector is Sector.PO
        assert payload["door"] == ("coordinator" if po else "koersloket"), f"Taskforce escalation by {payload['door']}"
        assert payload["afgestemd_met_school"] or before.uit_buitenland
        assert payload["afgestemd_met_leerplicht"] or not before.leerplichtig
        assert po or before.aanmelding.woont_in_rotterdam
    if after.escalatie is Escalatie.COORDINATOR and before.escalatie is Escalatie.GEEN:
        assert after.aanmelding.sector is Sector.PO, "a VO case went to the PPO coordinator"
        if sent is not None:
            assert sent.name == "opschalen" and sent.payload["door"] in ("school", "scp")
        else:
            assert after.dossier.escalaties[-1].reden_code == "check_niet_beslist"

    assert CaseState.model_validate_json(after.model_dump_json()).model_dump() == after.model_dump()
    assert CaseStatus.model_validate_json(status.model_dump_json()) == status


def send(seen: Observed, sent: Send) -> None:
    before = seen.state
    given_state = before.model_dump()
    after = rules.receive(before, sent.name, sent.payload, seen.now)
    assert before.model_dump() == given_state, f"{sent.name} changed the state it was given"
    if after.afgewezen_totaal > before.afgewezen_totaal:
        ignore = {"afgewezen", "afgewezen_totaal"}
        assert after.model_dump(exclude=ignore) == before.model_dump(exclude=ignore), "a refusal changed the case"
        event(f"refused {sent.name}")
    elif after is not before:
        seen.last_accepted = sent
        event(f"accepted {sent.name}")
    check_invariants(seen, before, after, sent if after is not before else None)
    seen.state = take_effects(seen, before, after)


def pass_time(seen: Observed, hours: int) -> None:
    seen.now += timedelta(hours=hours)
    before = seen.state
    after = rules.fire_due_terms(before, seen.now)
    assert rules.fire_due_terms(after, seen.now) is after, "a term fired twice at the same moment"
    for sleutel in after.gevuurd[len(before.gevuurd) :]:
        event(f"term {sleutel.rstrip('_0123456789T')}")
    check_invariants(seen, before, after, None)
    seen.state = take_effects(seen, before, after)


KINDS = ["next"] * 20 + ["any"] * 3 + ["malformed"] * 2 + ["wait"] * 5 + ["repeat", "close"]
"""How a step is chosen: mostly the procedure's next step, now and then any event from any role, a malformed one,
time passing, a repeat, or a closure (rarely, so that most examples get far)."""


@settings(
    max_examples=100 * SCALE, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)
@given(pupil=pupils(), data=st.data())
def test_any_sequence_of_events_from_any_role_keeps_the_invariants_of_version_2(
    pupil: Aanmelding, data: st.DataObject
) -> None:
    state = opened_with(pupil)
    seen = Observed(state=state, now=OPENED)
    seen.state = take_effects(seen, state, state)
    check_invariants(seen, state, state, None)
    pass_time(seen, 0)
    for _ in range(data.draw(st.integers(min_value=0, max_value=60), label="steps")):
        kind = data.draw(st.sampled_from(KINDS), label="kind")
        if kind == "wait":
            pass_time(seen, data.draw(st.integers(min_value=0, max_value=24 * 21), label="hours"))
            continue
        if kind == "repeat":
            if seen.last_accepted is not None:
                again = rules.receive(seen.state, seen.last_accepted.name, seen.last_accepted.payload, seen.now)
                assert again is seen.state, f"{seen.last_accepted.name} sent twice changed the case"
            continue
        strategy = {
            "next": next_steps(seen.state),
            "any": ANY_EVENT,
            "malformed": MALFORMED_EVENT,
            "close": CLOSING_EVENT,
        }[kind]
        send(seen, resolve(data.draw(strategy, label=kind), seen.state, seen.now))
        pass_time(seen, 0)  # the workflow fires what came due right after each event
        event(f"reached phase {seen.state.fase}")
        if seen.state.afgesloten:
            event("closed")
