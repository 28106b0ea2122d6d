"""Any sequence of events, valid or not, keeps a case's invariants (hypothesis, pure rules, no server): version 1.

Cases of contract version 1 (those started before version 2 keep it; ``v2/test_properties_v2.py`` holds version 2).
Random pupils (of 4 and older, PO and VO at ages the intake accepts for the sector, from abroad, with or without a
shortened policy) receive random sequences
of contract events through the signal path (``rules.receive``), interleaved with time passing and the terms that
come due (``rules.fire_due_terms``), exactly as the workflow drives them. After every step:

- the phase never goes back, and escalation never goes down;
- a refused event changes nothing but ``afgewezen``; the same event sent twice changes nothing the second time;
- a closed case has an outcome, no open tasks and no terms ahead, and stays closed;
- a pupil who is not leerplichtig has no task for Leerplicht and gets no registration call to Leerplicht;
- the case is with the Taskforce only after an accepted ``opschalen`` with both afstemmingen (and, for VO, a pupil
  living in Rotterdam), and then the Taskforce holds the regie;
- each term fires at most once;
- every queued effect belongs to the case, its key (``sleutel``) is unique across the whole case, and the register
  lines are numbered without gaps.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from workflows import rules
from workflows.contract import (
    ESCALATIE_NIVEAU,
    LEEFTIJDEN,
    ROUTE_33_VARIANTEN,
    Aanmelding,
    Escalatie,
    Regiehouder,
    Rol,
    Sector,
)
from workflows.contract import (
    EVENTS_VERSIE_1 as EVENTS,
)
from workflows.effects import Bericht, Registratie, Systeem, Vastlegging
from workflows.policy import Beleid
from workflows.rules import CaseState

OPENED = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
CASE_ID = "thuiszitter-LLPROP:run-1"
LEERPLICHT_TASKS = {"lba_registreren", "leerplichtmelding_controleren", "vrijstelling_doorzetten"}
BRINS = ["12AB", "34CD", "56EF", "78GH01"]

# ------------------------------------------------------------------------------------------------- strategies


def iso(day: date) -> str:
    return day.isoformat()


days = st.dates(min_value=date(2024, 6, 1), max_value=date(2025, 9, 1)).map(iso)  # some lie in the future
door = st.one_of(st.none(), st.sampled_from(["school", "scp", "koersloket", "leerplicht", "ouders", "taskforce"]))
text = st.sampled_from(["Stand van zaken.", "Geen plek gevonden.", "Gesprek thuis.", "Besluit van de Kerngroep."])


def with_common(payload: st.SearchStrategy[dict[str, Any]]) -> st.SearchStrategy[dict[str, Any]]:
    """An event payload with the optional ``door`` and ``datum`` now and then."""
    return st.tuples(payload, door, st.one_of(st.none(), st.none(), days)).map(
        lambda t: {
            **t[0],
            **({"door": t[1]} if t[1] else {}),
            **({"datum": t[2]} if t[2] else {}),
        }
    )


VALID_PAYLOADS: dict[str, st.SearchStrategy[dict[str, Any]]] = {
    "melding": st.fixed_dictionaries({"gemeld_bij_leerplicht": st.booleans()}),
    "leerplicht_registratie": st.fixed_dictionaries({"lba_geregistreerd_op": days}),
    "startdatum_correctie": st.fixed_dictionaries(
        {
            "startdatum": st.dates(min_value=date(2024, 6, 1), max_value=date(2025, 4, 1)).map(iso),
            "reden": text,
        }
    ),
    "oudergesprek": st.fixed_dictionaries(
        {
            "deelnemers": st.lists(
                st.sampled_from(["school", "ouders", "scp", "koersloket", "smw", "wijkteam", "leerling"]),
                min_size=1,
                max_size=5,
            )
        }
    ),
    "plan_van_aanpak": st.fixed_dictionaries({"in_opp": st.booleans(), "instemming_ouders": st.booleans()}),
    "route": st.one_of(
        st.fixed_dictionaries({"route": st.sampled_from(["3.1", "3.2", "3.4"])}),
        st.fixed_dictionaries({"route": st.just("3.3"), "variant": st.sampled_from(ROUTE_33_VARIANTEN)}),
    ),
    "aanmelding_andere_school": st.fixed_dictionaries({"school_brin": st.sampled_from(BRINS)}),
    "zorgplicht_verlengd": st.just({}),
    "wachtlijst": st.fixed_dictionaries({"op_wachtlijst": st.booleans()}),
    "voortgang": st.fixed_dictionaries({"toelichting": text}),
    "opschalen": st.fixed_dictionaries(
        {
            "niveau": st.sampled_from(["coordinator", "taskforce"]),
            "reden": text,
            "afgestemd_met_leerplicht": st.booleans(),
            "afgestemd_met_school": st.booleans(),
        }
    ),
    "huisbezoek": st.fixed_dictionaries({"samenvatting": text}),
    "taskforce_besluit": st.fixed_dictionaries({"besluit": text}),
    "vrijstelling": st.fixed_dictionaries({"status": st.sampled_from(["aangevraagd", "verleend", "afgewezen"])}),
    "passende_plek": st.one_of(
        st.fixed_dictionaries({"uitkomst": st.sampled_from(["terug_op_school", "vrijstelling"])}),
        st.fixed_dictionaries(
            {"uitkomst": st.just("ingeschreven_andere_school"), "school_brin": st.sampled_from(BRINS)}
        ),
    ),
    "intrekken": st.fixed_dictionaries({"reden": text}),
}
assert set(VALID_PAYLOADS) == set(EVENTS)

junk = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**12), max_value=10**12),
    st.floats(allow_nan=True),
    st.text(max_size=12),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=4), st.integers(), max_size=2),
    st.just("x" * 5000),
    st.just("\x00"),
)


@st.composite
def malformed_event(draw: st.DrawFn) -> tuple[str, Any]:
    """An event as a careless or hostile sender might send it."""
    name = draw(st.sampled_from(sorted(EVENTS)))
    kind = draw(st.sampled_from(["not_an_object", "random_object", "field_broken", "unknown_field", "unknown_name"]))
    if kind == "not_an_object":
        return name, draw(st.one_of(st.booleans(), st.integers(), st.text(max_size=10), st.lists(st.integers())))
    if kind == "random_object":
        return name, draw(st.dictionaries(st.text(max_size=10), junk, max_size=3))
    valid = draw(VALID_PAYLOADS[name])
    if kind == "field_broken" and valid:
        broken = draw(st.sampled_from(sorted(valid)))
        return name, {**valid, broken: draw(junk)}
    if kind == "unknown_name":
        return draw(st.text(max_size=30).filter(lambda n: n not in EVENTS)), valid
    return name, {**valid, draw(st.sampled_from(["bsn", "naam", "Door", "extra"])): draw(junk)}


@dataclass(frozen=True)
class Send:
    name: str
    payload: Any


CLOSING = ("passende_plek", "intrekken")
valid_event = st.sampled_from(sorted(set(EVENTS) - set(CLOSING))).flatmap(
    lambda name: with_common(VALID_PAYLOADS[name]).map(lambda payload: Send(name, payload))
)
closing_event = st.sampled_from(CLOSING).flatmap(
    lambda name: with_common(VALID_PAYLOADS[name]).map(lambda payload: Send(name, payload))
)


def next_steps(state: CaseState) -> st.SearchStrategy[Send]:
    """Events that carry the case forward from where it stands, as the people in the procedure would send them,
    so that the examples reach every phase, route and escalation rather than stopping at the first refusal."""
    contact = "scp" if state.aanmelding.sector is Sector.PO else "koersloket"
    options: list[st.SearchStrategy[Send]] = [
        st.builds(
            lambda leerplicht, school: Send(
                "opschalen",
                {
                    "niveau": "taskforce",
                    "reden": "Geen duurzame oplossing in zicht.",
                    "afgestemd_met_leerplicht": leerplicht,
                    "afgestemd_met_school": school,
                },
            ),
            st.booleans() | st.just(True),
            st.booleans() | st.just(True),
        ),
        st.just(Send("wachtlijst", {"op_wachtlijst": not state.wachtlijst})),
        st.one_of(st.integers(-3, 3), st.integers(-200, 60)).map(
            lambda shift: Send(
                "startdatum_correctie",
                {"startdatum": iso(state.startdatum + timedelta(days=shift)), "reden": "Volgens de LBA."},
            )
        ),
    ]
    forward: list[st.SearchStrategy[Send]] = []  # the step that moves the phase on, chosen more often
    if state.fase == 0:
        forward.append(st.builds(lambda g: Send("melding", {"gemeld_bij_leerplicht": g}), st.booleans()))
    if state.fase >= 1:
        options.append(st.just(Send("leerplicht_registratie", {"lba_geregistreerd_op": iso(state.startdatum)})))
    if state.fase == 1:
        extras = st.lists(st.sampled_from(["smw", "wijkteam", "leerling"]), max_size=2, unique=True)
        forward.append(extras.map(lambda e: Send("oudergesprek", {"deelnemers": ["school", "ouders", contact, *e]})))
    if state.fase == 2:
        forward.append(
            st.builds(
                lambda opp, ok: Send("plan_van_aanpak", {"in_opp": opp, "instemming_ouders": ok}),
                st.booleans() | st.just(True),
                st.booleans() | st.just(True),
            )
        )
    if state.fase == 3:
        (options if state.route else forward).append(VALID_PAYLOADS["route"].map(lambda p: Send("route", p)))
        applying = st.sampled_from(BRINS[1:]).map(lambda b: Send("aanmelding_andere_school", {"school_brin": b}))
        if state.route == "3.2" or state.route_variant == "andere_reguliere_school":
            (options if state.andere_school else forward).append(applying)
        options.append(st.just(Send("zorgplicht_verlengd", {})))
    if state.escalatie is Escalatie.TASKFORCE:
        options.append(st.just(Send("huisbezoek", {"samenvatting": "Verslag van het huisbezoek."})))
        options.append(st.just(Send("taskforce_besluit", {"besluit": "Besluit van de Kerngroep."})))
    if state.vrijstelling in (None, "afgewezen"):
        options.append(st.just(Send("vrijstelling", {"status": "aangevraagd"})))
    if state.vrijstelling == "aangevraagd":
        options.append(st.sampled_from(["verleend", "afgewezen"]).map(lambda v: Send("vrijstelling", {"status": v})))
    return st.one_of(*forward, *forward, *forward, *options)


@st.composite
def beleid(draw: st.DrawFn) -> Beleid | None:
    if draw(st.booleans()):
        return None
    term = draw(st.integers(min_value=10, max_value=120))
    warnings = draw(st.lists(st.integers(min_value=1, max_value=term - 1), max_size=3, unique=True))
    return Beleid(
        thuiszitter_na_dagen=draw(st.integers(min_value=1, max_value=60)),
        escalatie_termijn_dagen=term,
        waarschuwingen_dagen=tuple(warnings),
        zorgplicht_dagen=draw(st.integers(min_value=1, max_value=60)),
        zorgplicht_verlenging_dagen=draw(st.integers(min_value=1, max_value=40)),
        lba_herinnering_werkdagen=draw(st.integers(min_value=1, max_value=15)),
        oudergesprek_herinnering_werkdagen=draw(st.integers(min_value=1, max_value=15)),
        plan_herinnering_werkdagen=draw(st.integers(min_value=1, max_value=15)),
        termijn_uur=draw(st.integers(min_value=0, max_value=23)),
    )


@st.composite
def pupils(draw: st.DrawFn) -> Aanmelding:
    startdatum = OPENED.date() - timedelta(days=draw(st.integers(min_value=0, max_value=150)))
    age = draw(st.sampled_from([4, 4, 5, 5, 6, 9, 12, 15, 17]))
    sector = draw(st.sampled_from([s for s in Sector if LEEFTIJDEN[s][0] <= age <= LEEFTIJDEN[s][1]]))
    # Some pupils just had their birthday, others are about to have it: a corrected start date may cross it.
    anniversary = date(startdatum.year - age, startdatum.month, min(startdatum.day, 28))
    days_since_birthday = st.one_of(st.integers(0, 3), st.integers(357, 360), st.integers(0, 360))
    geboortedatum = anniversary - timedelta(days=draw(days_since_birthday))
    abroad = draw(st.integers(min_value=0, max_value=5)) == 0
    return Aanmelding(
        leerling_ref="LLPROP",
        geboortedatum=geboortedatum,
        sector=sector,
        regio=draw(st.sampled_from(["Noord", "Zuid"])),
        school_brin=None if abroad else "12AB",
        startdatum=startdatum,
        fase=1 if abroad else draw(st.sampled_from([0, 1])),
        woont_in_rotterdam=draw(st.booleans()),
        uit_buitenland=abroad,
        beleid=draw(beleid()),
    )


# ------------------------------------------------------------------------------------------------- the checks


@dataclass
class Observed:
    """What the test saw the case do, to check the next step against."""

    state: CaseState
    now: datetime
    keys: set[str] = field(default_factory=set)
    volgnummer: int = 0
    last_accepted: Send | None = None
    taskforce_allowed: bool = False


def take_effects(seen: Observed, state: CaseState) -> CaseState:
    """Check what was queued, then take it away as the workflow does once it carried it out."""
    for effect in state.openstaand:
        assert effect.case_id == CASE_ID and effect.leerling_ref == "LLPROP"
        assert effect.sleutel.startswith(f"{CASE_ID}:")
        assert effect.sleutel not in seen.keys, f"effect key used twice: {effect.sleutel}"
        seen.keys.add(effect.sleutel)
        if isinstance(effect, Vastlegging):
            assert effect.volgnummer == seen.volgnummer + 1, "register lines numbered with a gap"
            assert effect.workflow_id == "thuiszitter-LLPROP"
            seen.volgnummer = effect.volgnummer
        if isinstance(effect, Registratie) and effect.systeem is Systeem.LEERPLICHT:
            assert state.leerplichtig, "registration call to Leerplicht for a pupil who is not leerplichtig"
        if state.uit_buitenland:  # no school, so no school, SCP, Koersloket, Kindkans or SISA
            assert not isinstance(effect, Registratie) or effect.systeem not in (Systeem.KINDKANS, Systeem.SISA)
            assert not isinstance(effect, Bericht) or effect.rol not in (Rol.SCHOOL, Rol.SCP, Rol.KOERSLOKET)
        other_contact = Rol.KOERSLOKET if state.aanmelding.sector is Sector.PO else Rol.SCP
        assert not isinstance(effect, Bericht) or effect.rol is not other_contact
    assert seen.volgnummer == state.volgnummer
    return state.model_copy(update={"openstaand": []}) if state.openstaand else state


def check_invariants(before: CaseState, after: CaseState, now: datetime) -> None:
    assert after.fase >= before.fase, f"phase went back from {before.fase} to {after.fase}"
    assert 0 <= after.fase <= 4
    assert ESCALATIE_NIVEAU[after.escalatie] >= ESCALATIE_NIVEAU[before.escalatie]
    if before.afgesloten:
        assert after.afgesloten and after.uitkomst == before.uitkomst and after.fase == before.fase
    if after.afgesloten:
        assert after.uitkomst is not None
        assert rules.open_tasks(after) == [] and rules.terms(after) == []
    if after.fase == 4:
        assert after.afgesloten
    if not after.leerplichtig:
        leerplicht_tasks = [
            t.taak for t in rules.open_tasks(after) if t.rol is Rol.LEERPLICHT or t.taak in LEERPLICHT_TASKS
        ]
        assert leerplicht_tasks == [], f"not leerplichtig but Leerplicht has {leerplicht_tasks}"
    roles = {t.rol for t in rules.open_tasks(after)}
    assert (Rol.KOERSLOKET if after.aanmelding.sector is Sector.PO else Rol.SCP) not in roles
    if after.uit_buitenland:
        assert not roles & {Rol.SCHOOL, Rol.SCP, Rol.KOERSLOKET}, f"a pupil from abroad has tasks for {roles}"
    if after.escalatie is Escalatie.TASKFORCE:
        assert after.regiehouder is Regiehouder.TASKFORCE
    elif after.uit_buitenland:
        assert after.regiehouder is Regiehouder.LEERPLICHT_ABSOLUUT_VERZUIM
    else:
        assert after.regiehouder is (Regiehouder.WIJKTEAM if after.route == "3.4" else Regiehouder.SCHOOL)
    assert len(after.gevuurd) == len(set(after.gevuurd)), f"a term fired twice: {after.gevuurd}"
    assert after.gevuurd[: len(before.gevuurd)] == before.gevuurd
    assert after.afgewezen_totaal >= len(after.afgewezen)
    status = rules.status(after, now)
    assert status.weken_thuis >= 0 and status.fase == after.fase and status.afgesloten == after.afgesloten
    rules.details_markdown(after, now)


def send(seen: Observed, event: Send) -> None:
    before = seen.state
    given = before.model_dump()
    after = rules.receive(before, event.name, event.payload, seen.now)
    assert before.model_dump() == given, f"{event.name} changed the state it was given"
    refused = after.afgewezen_totaal > before.afgewezen_totaal
    if refused:
        ignore = {"afgewezen", "afgewezen_totaal"}
        assert after.model_dump(exclude=ignore) == before.model_dump(exclude=ignore), "a refusal changed the case"
        assert after.afgewezen[-1].tijd == seen.now and after.afgewezen[-1].reden
    elif after is not before:
        seen.last_accepted = event
        note(f"accepted {event.name}")
        now_taskforce = before.escalatie is not Escalatie.TASKFORCE and after.escalatie is Escalatie.TASKFORCE
        if event.name == "opschalen" and now_taskforce:
            assert event.payload["afgestemd_met_leerplicht"] and event.payload["afgestemd_met_school"]
            if after.aanmelding.sector is Sector.VO:
                assert after.aanmelding.woont_in_rotterdam
            seen.taskforce_allowed = True
    if after.escalatie is Escalatie.TASKFORCE:
        assert seen.taskforce_allowed, "escalated to the Taskforce without an accepted opschalen"
    check_invariants(before, after, seen.now)
    seen.state = take_effects(seen, after)


def note(what: str) -> None:
    """Shown by ``pytest --hypothesis-show-statistics``: which paths the examples took."""
    event(what)


def pass_time(seen: Observed, hours: int) -> None:
    seen.now += timedelta(hours=hours)
    before = seen.state
    given = before.model_dump()
    after = rules.fire_due_terms(before, seen.now)
    assert before.model_dump() == given, "a term changed the state it was given"
    for sleutel in after.gevuurd[len(before.gevuurd) :]:
        note(f"term {sleutel.split('_')[0]}")
    assert rules.fire_due_terms(after, seen.now) is after, "a term fired twice at the same moment"
    assert after.escalatie is not Escalatie.TASKFORCE or seen.taskforce_allowed
    check_invariants(before, after, seen.now)
    seen.state = take_effects(seen, after)


KINDS = ["next"] * 12 + ["valid"] * 2 + ["malformed"] * 3 + ["wait"] * 4 + ["repeat", "close"]
"""How a step is chosen: mostly the procedure's next step, now and then a random or malformed event, time passing,
a repeat, or a closure."""


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pupil=pupils(), data=st.data())
def test_any_sequence_of_events_keeps_the_case_invariants(pupil: Aanmelding, data: st.DataObject) -> None:
    state = rules.open_case(pupil, case_id=CASE_ID, workflow_id="thuiszitter-LLPROP", now=OPENED, versie=1)
    seen = Observed(state=state, now=OPENED)
    seen.state = take_effects(seen, state)
    pass_time(seen, 0)
    for _ in range(data.draw(st.integers(min_value=0, max_value=50), label="steps")):
        kind = data.draw(st.sampled_from(KINDS), label="kind")
        if kind == "wait":
            pass_time(seen, data.draw(st.integers(min_value=0, max_value=24 * 21), label="hours"))
        elif kind == "repeat":
            if seen.last_accepted is not None:
                before = seen.state
                again = rules.receive(before, seen.last_accepted.name, seen.last_accepted.payload, seen.now)
                assert again is before, f"{seen.last_accepted.name} sent twice changed the case"
        else:
            event = {
                "next": lambda: next_steps(seen.state),
                "valid": lambda: valid_event,
                "malformed": lambda: malformed_event().map(lambda t: Send(*t)),
                "close": lambda: closing_event,
            }[kind]()
            send(seen, data.draw(event, label=kind))
            pass_time(seen, 0)  # the workflow fires what came due right after each event
        if seen.state.afgesloten:
            note("closed")
        note(f"reached phase {seen.state.fase}")
