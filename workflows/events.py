"""The events of the contract: may this event happen now (:func:`check`), and what follows from it
(:func:`apply`). Messages for people are in Dutch; they name fields and rules, never the values that were sent in."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from pydantic import ValidationError

from workflows import events_v2, work
from workflows.calendar import add_working_days, amsterdam_date
from workflows.contract import (
    ADDED_IN_VERSIE_2,
    CONTRACT_VERSIE,
    ESCALATIE_NIVEAU,
    EVENTS,
    EVENTS_VERSIE_1,
    ROL_NAMEN,
    ROUTE_33_VARIANTEN,
    Aanmelding,
    AanmeldingAndereSchool,
    Afwijzing,
    Deelnemer,
    Door,
    Escalatie,
    Gebeurtenis,
    LeerplichtRegistratie,
    Melding,
    Opschalen,
    Oudergesprek,
    PassendePlek,
    PlanVanAanpak,
    Regiehouder,
    Rol,
    Route,
    Sector,
    StartdatumCorrectie,
    Taak,
    TaskforceBesluit,
    Uitkomst,
    Voortgang,
    Vrijstelling,
    Wachtlijst,
    leeftijd_op,
)
from workflows.effects import Actie, Bericht, Registratie, Sjabloon, Systeem, Verantwoordelijken
from workflows.outbox import call, record, send
from workflows.policy import DEFAULT_BELEID
from workflows.state import (
    MAX_AFGEWEZEN,
    SYSTEEM,
    AndereSchool,
    CaseState,
    Weigering,
    contact_of,
    log,
    route_andere_school,
    school_and_contact,
    short,
    successor,
    uitkomst_tekst,
)
from workflows.steps import close, escalate, melding_effects
from workflows.terms import zorgplicht_deadline


def open_case(
    aanmelding: Aanmelding, *, case_id: str, workflow_id: str, now: datetime, versie: int = CONTRACT_VERSIE
) -> CaseState:
    """The state of a new case, with the effects of its first phase queued. ``versie`` is the contract version the
    case follows for its whole life (the workflow passes 1 for the histories of cases started before version 2).

    Raises :class:`Weigering` for a case of version 2 whose pupil's age does not fit the sector (version 1 took
    them, and its histories replay with them)."""
    if versie >= 2 and (fout := aanmelding.leeftijd_fout()) is not None:
        raise Weigering(f"aanmelding: {fout}")
    beleid = aanmelding.beleid or DEFAULT_BELEID
    state = CaseState(
        versie=versie,
        case_id=case_id,
        workflow_id=workflow_id,
        aanmelding=aanmelding,
        beleid=beleid,
        geopend_op=now,
        startdatum=aanmelding.startdatum,
        fase=aanmelding.fase,
        regiehouder=(Regiehouder.LEERPLICHT_ABSOLUUT_VERZUIM if aanmelding.uit_buitenland else Regiehouder.SCHOOL),
    )
    if aanmelding.fase == 0:
        log(state, now, "voortraject", None, "Potentiële thuiszitter in beeld (voortraject).")
    else:
        state.melding_op = amsterdam_date(now)
        log(state, now, "melding", None, "Melding thuiszitter bij aanmelding van de zaak.")
        melding_effects(state, gemeld_bij_leerplicht=False)
    record(state, now, "aanmelding" if aanmelding.fase == 1 else "voortraject", None)
    return state


def parse(name: str, payload: Any, versie: int = CONTRACT_VERSIE) -> Gebeurtenis:
    """Turn a raw payload into the event's model of contract ``versie``, or refuse it naming the field and rule."""
    model = (EVENTS if versie >= 2 else EVENTS_VERSIE_1).get(name)
    if model is None:
        raise Weigering(f"onbekende gebeurtenis '{short(name)}'")
    if payload is None:
        payload = {}
    if not isinstance(payload, dict):
        raise Weigering(f"{name}: de inhoud moet een JSON-object zijn")
    if versie < 2 and (unknown := sorted(k for k in payload if k in ADDED_IN_VERSIE_2)):
        raise Weigering(f"{name}: veld '{short(str(unknown[0]))}': onbekend veld (niet in het contract)")
    try:
        event = model.model_validate(payload)
    except ValidationError as error:
        raise Weigering(f"{name}: {describe_validation_error(error)}") from None
    if versie < 2 and isinstance(event, Route) and event.route == "3.3" and event.variant not in ROUTE_33_VARIANTEN:
        raise Weigering("route: veld 'variant': bij route 3.3 een van " + ", ".join(ROUTE_33_VARIANTEN))
    return event


def describe_validation_error(error: ValidationError) -> str:
    """The first problem of a pydantic error in Dutch: the field and the rule, never the value that was sent."""
    parts = []
    for detail in error.errors(include_url=False, include_input=False)[:3]:
        field = ".".join(str(part) for part in detail["loc"])
        rule = _dutch_rule(detail)
        if not field:
            # A rule over the whole payload (a model validator) names its field first: "variant: verplicht bij ...".
            named, sep, _ = str((detail.get("ctx") or {}).get("error", "")).partition(": ")
            field = named if sep and named.isidentifier() else "inhoud"
        parts.append(f"veld '{short(field)}': {rule}")
    return "; ".join(parts)


def _dutch_rule(detail: Any) -> str:
    kind = detail["type"]
    ctx = detail.get("ctx") or {}
    if kind == "missing":
        return "ontbreekt (verplicht)"
    if kind == "extra_forbidden":
        return "onbekend veld (niet in het contract)"
    if kind.startswith("date"):
        return "geen geldige datum (JJJJ-MM-DD)"
    if kind.startswith("bool"):
        return "moet true of false zijn"
    if kind.startswith("int"):
        return "moet een geheel getal zijn"
    if kind in ("literal_error", "enum"):
        # pydantic lists the choices in English ("'a', 'b' or 'c'", "0 or 1"); the message is Dutch.
        expected = str(ctx.get("expected", "de toegestane waarden")).replace(" or ", " of ")
        return f"moet een van {expected} zijn"
    if kind == "string_too_long":
        return f"te lang (hoogstens {ctx.get('max_length')} tekens)"
    if kind == "string_too_short":
        return "mag niet leeg zijn"
    if kind == "string_pattern_mismatch":
        return "heeft niet de juiste vorm"
    if kind in ("string_type", "list_type", "dict_type", "model_type"):
        return "heeft het verkeerde type"
    if kind in ("too_short", "too_long"):
        return "heeft een ongeldig aantal elementen"
    if kind == "value_error":
        message = str(ctx.get("error", detail.get("msg", "")))
        return message.split(": ", 1)[-1] if ": " in message else message
    if kind == "greater_than_equal" or kind == "less_than_equal":
        return "buiten het toegestane bereik"
    return "ongeldig"


def fingerprint(name: str, event: Gebeurtenis) -> str:
    """The event's content as a short hash. Fields added in version 2 count only when given, so a version-1 event
    has the fingerprint it always had (a case carries them through continue-as-new)."""
    absent = {f for f in ADDED_IN_VERSIE_2 if getattr(event, f, None) in (None, [])}
    body = json.dumps(event.model_dump(mode="json", exclude=absent), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(f"{name}|{body}".encode()).hexdigest()[:24]


def is_duplicate(state: CaseState, name: str, event: Gebeurtenis) -> bool:
    """The same event with the same content as the last one of that name: it changes nothing."""
    return state.vingerafdrukken.get(name) == fingerprint(name, event)


def check(state: CaseState, name: str, event: Gebeurtenis, now: datetime) -> None:
    """Refuse (``Weigering``) an event that may not happen now. A duplicate is not refused: it changes nothing."""
    if not is_duplicate(state, name, event):
        _check_new(state, name, event, now)


def _check_new(state: CaseState, name: str, event: Gebeurtenis, now: datetime) -> None:
    """:func:`check` for an event that is not a duplicate."""
    if state.afgesloten:
        raise Weigering(f"{name}: de zaak is al afgesloten ({uitkomst_tekst(state)})")
    today = amsterdam_date(now)
    if event.datum is not None and event.datum > today:
        raise Weigering(f"{name}: veld 'datum' ligt in de toekomst")
    if state.versie >= 2:
        events_v2.check(state, name, event, today)
        return
    _CHECKS[name](state, event, today)


def _check_melding(state: CaseState, event: Gebeurtenis, today: date) -> None:
    if state.fase >= 1:
        raise Weigering("melding: de thuiszitter is al gemeld (fase 1 of verder)")


def _check_leerplicht_registratie(state: CaseState, event: Gebeurtenis, today: date) -> None:
    assert isinstance(event, LeerplichtRegistratie)
    if not state.leerplichtig:
        raise Weigering(
            "leerplicht_registratie: een leerling van 4 jaar is niet leerplichtig; "
            "Leerplicht registreert niet in de LBA"
        )
    if state.fase < 1:
        raise Weigering("leerplicht_registratie: eerst de melding (fase 1), dan de registratie in de LBA")
    if event.lba_geregistreerd_op > today:
        raise Weigering("leerplicht_registratie: veld 'lba_geregistreerd_op' ligt in de toekomst")
    if state.lba_geregistreerd_op is not None:
        raise Weigering("leerplicht_registratie: de registratie in de LBA is al bevestigd")


def _check_startdatum_correctie(state: CaseState, event: Gebeurtenis, today: date) -> None:
    assert isinstance(event, StartdatumCorrectie)
    if event.startdatum > today:
        raise Weigering("startdatum_correctie: veld 'startdatum' ligt in de toekomst")
    if event.startdatum == state.startdatum:
        raise Weigering("startdatum_correctie: de startdatum is al deze datum")
    age = leeftijd_op(state.aanmelding.geboortedatum, event.startdatum)
    if age < 4:
        raise Weigering("startdatum_correctie: op die startdatum is de leerling jonger dan 4 jaar")


def _check_oudergesprek(state: CaseState, event: Gebeurtenis, today: date) -> None:
    assert isinstance(event, Oudergesprek)
    _no_school_steps(state, "oudergesprek")
    if state.fase < 1:
        raise Weigering("oudergesprek: eerst de melding thuiszitter (fase 1)")
    deelnemers = set(event.deelnemers)
    missing = [d.value for d in (Deelnemer.SCHOOL, Deelnemer.OUDERS) if d not in deelnemers]
    if not deelnemers & {Deelnemer.SCP, Deelnemer.KOERSLOKET}:
        missing.append(Deelnemer.SCP.value if state.aanmelding.sector is Sector.PO else Deelnemer.KOERSLOKET.value)
    if missing:
        raise Weigering("oudergesprek: veld 'deelnemers' mist " + ", ".join(missing))


def _check_plan_van_aanpak(state: CaseState, event: Gebeurtenis, today: date) -> None:
    _no_school_steps(state, "plan_van_aanpak")
    if state.fase < 2:
        raise Weigering("plan_van_aanpak: eerst het oudergesprek (fase 2)")
    if state.fase >= 3:
        raise Weigering("plan_van_aanpak: het plan van aanpak is al vastgesteld (fase 3)")


def _check_route(state: CaseState, event: Gebeurtenis, today: date) -> None:
    assert isinstance(event, Route)
    _no_school_steps(state, "route")
    if state.fase < 3:
        if state.fase < 2:
            raise Weigering("route: eerst het oudergesprek en het plan van aanpak")
        raise Weigering("route: eerst het plan van aanpak in het OPP, met instemming van de ouders (fase 3)")


def _check_aanmelding_andere_school(state: CaseState, event: Gebeurtenis, today: date) -> None:
    assert isinstance(event, AanmeldingAndereSchool)
    _no_school_steps(state, "aanmelding_andere_school")
    if not route_andere_school(state):
        raise Weigering("aanmelding_andere_school: eerst route 3.2 (of 3.3 andere reguliere school)")
    if event.school_brin == state.aanmelding.school_brin:
        raise Weigering("aanmelding_andere_school: veld 'school_brin' is de school van inschrijving zelf")


def _check_zorgplicht_verlengd(state: CaseState, event: Gebeurtenis, today: date) -> None:
    _no_school_steps(state, "zorgplicht_verlengd")
    if state.andere_school is None:
        raise Weigering("zorgplicht_verlengd: eerst de aanmelding bij een andere school")
    if state.andere_school.verlengd:
        raise Weigering("zorgplicht_verlengd: de termijn is al eenmaal verlengd; dat kan maar één keer")


def _check_wachtlijst(state: CaseState, event: Gebeurtenis, today: date) -> None:
    assert isinstance(event, Wachtlijst)
    if event.op_wachtlijst == state.wachtlijst:
        raise Weigering(
            "wachtlijst: de leerling staat al op de wachtlijst"
            if state.wachtlijst
            else "wachtlijst: de leerling staat niet op de wachtlijst"
        )


def _check_any_open(state: CaseState, event: Gebeurtenis, today: date) -> None:
    return None


def _check_voortgang(state: CaseState, event: Gebeurtenis, today: date) -> None:
    assert isinstance(event, Voortgang)
    open_codes = {taak.taak for taak in state.handmatige_taken}
    if unknown := [code for code in event.afgehandelde_taken if code not in open_codes]:
        raise Weigering(
            "voortgang: veld 'afgehandelde_taken' noemt geen open handmatige taak: "
            + ", ".join(short(c) for c in unknown)
        )


def _check_opschalen(state: CaseState, event: Gebeurtenis, today: date) -> None:
    assert isinstance(event, Opschalen)
    niveau = Escalatie(event.niveau)
    if ESCALATIE_NIVEAU[niveau] <= ESCALATIE_NIVEAU[state.escalatie]:
        raise Weigering(f"opschalen: de zaak is al opgeschaald naar {state.escalatie.value}")
    if niveau is Escalatie.TASKFORCE:
        missing = []
        if not event.afgestemd_met_leerplicht:
            missing.append("afgestemd_met_leerplicht")
        if not event.afgestemd_met_school:
            missing.append("afgestemd_met_school")
        if missing:
            raise Weigering(
                "opschalen: naar de Taskforce alleen na afstemming met de leerplichtambtenaar en de school; "
                "veld " + " en ".join(f"'{m}'" for m in missing) + " moet true zijn"
            )
        if state.aanmelding.sector is Sector.VO and not state.aanmelding.woont_in_rotterdam:
            raise Weigering(
                "opschalen: Koers VO brengt alleen leerlingen die in Rotterdam wonen in bij de Taskforce "
                "(woont_in_rotterdam is false)"
            )


def _check_huisbezoek(state: CaseState, event: Gebeurtenis, today: date) -> None:
    if state.escalatie is not Escalatie.TASKFORCE:
        raise Weigering("huisbezoek: eerst de opschaling naar de Taskforce")
    if state.huisbezoek_op is not None:
        raise Weigering("huisbezoek: het verslag van het huisbezoek is al vastgelegd")


def _check_taskforce_besluit(state: CaseState, event: Gebeurtenis, today: date) -> None:
    if state.escalatie is not Escalatie.TASKFORCE:
        raise Weigering("taskforce_besluit: eerst de opschaling naar de Taskforce")
    if state.huisbezoek_op is None:
        raise Weigering("taskforce_besluit: eerst het verslag van het huisbezoek (huisbezoek)")


def _check_vrijstelling(state: CaseState, event: Gebeurtenis, today: date) -> None:
    assert isinstance(event, Vrijstelling)
    if not state.leerplichtig:
        raise Weigering("vrijstelling: een leerling van 4 jaar is niet leerplichtig; er is geen vrijstelling nodig")
    if event.status == "aangevraagd":
        if state.vrijstelling in ("aangevraagd", "verleend"):
            raise Weigering(f"vrijstelling: de vrijstelling is al {state.vrijstelling}")
    elif state.vrijstelling != "aangevraagd":
        raise Weigering(f"vrijstelling: eerst de aanvraag (status aangevraagd), dan {event.status}")


def _check_passende_plek(state: CaseState, event: Gebeurtenis, today: date) -> None:
    assert isinstance(event, PassendePlek)
    if event.uitkomst == "vrijstelling" and state.vrijstelling != "verleend":
        raise Weigering("passende_plek: uitkomst vrijstelling kan pas als de vrijstelling is verleend")
    if event.uitkomst == "terug_op_school" and state.uit_buitenland:
        raise Weigering(
            "passende_plek: een leerling uit het buitenland heeft geen school van inschrijving; "
            "gebruik ingeschreven_andere_school"
        )
    if (
        event.uitkomst == "ingeschreven_andere_school"
        and event.school_brin is not None
        and event.school_brin == state.aanmelding.school_brin
    ):
        raise Weigering("passende_plek: veld 'school_brin' is de school van inschrijving; gebruik terug_op_school")


def _no_school_steps(state: CaseState, name: str) -> None:
    if state.uit_buitenland:
        raise Weigering(
            f"{name}: leerling uit het buitenland zonder schoolinschrijving: geen schoolstappen, "
            "Leerplicht absoluut verzuim heeft de regie"
        )


_CHECKS: dict[str, Callable[[CaseState, Gebeurtenis, date], None]] = {
    "melding": _check_melding,
    "leerplicht_registratie": _check_leerplicht_registratie,
    "startdatum_correctie": _check_startdatum_correctie,
    "oudergesprek": _check_oudergesprek,
    "plan_van_aanpak": _check_plan_van_aanpak,
    "route": _check_route,
    "aanmelding_andere_school": _check_aanmelding_andere_school,
    "zorgplicht_verlengd": _check_zorgplicht_verlengd,
    "wachtlijst": _check_wachtlijst,
    "voortgang": _check_voortgang,
    "opschalen": _check_opschalen,
    "huisbezoek": _check_huisbezoek,
    "taskforce_besluit": _check_taskforce_besluit,
    "vrijstelling": _check_vrijstelling,
    "passende_plek": _check_passende_plek,
    "intrekken": _check_any_open,
}


def apply(state: CaseState, name: str, event: Gebeurtenis, now: datetime) -> CaseState:
    """The state after a checked event, with its effects queued. A duplicate returns the state unchanged."""
    content = fingerprint(name, event)  # once: on a large event it is most of the cost of applying it
    if state.vingerafdrukken.get(name) == content:
        return state
    _check_new(state, name, event, now)
    new = successor(state)
    new.vingerafdrukken[name] = content
    day = event.datum or amsterdam_date(now)
    if new.versie >= 2:
        events_v2.apply(new, name, event, day, now)
    else:
        _APPLY[name](new, event, day, now)
    record(new, now, name, event.door)
    return new


def responsible_question(state: CaseState) -> Verantwoordelijken:
    """What the directory of people is asked at the start of a case: who is responsible for it."""
    aanmelding = state.aanmelding
    return Verantwoordelijken(
        sector=aanmelding.sector,
        regio=aanmelding.regio,
        school_brin=aanmelding.school_brin,
        uit_buitenland=aanmelding.uit_buitenland,
    )


def assign(state: CaseState, found: dict[str, str], now: datetime) -> CaseState:
    """Version 2: the people the directory found responsible for a new case hold their roles' tasks from the start
    (as ``toewijzen`` would, by the system). Roles already assigned, roles no event names and ids that are not
    person ids are left out; with nothing left, the state is returned as it was."""
    kept = {
        rol: persoon
        for rol, persoon in sorted(found.items())
        if rol in _DOORS and rol not in state.toegewezen and _PERSOON_ID.fullmatch(persoon)
    }
    if state.versie < 2 or not kept:
        return state
    new = successor(state)
    new.toegewezen.update(kept)
    names = ", ".join(f"{ROL_NAMEN[rol]} aan {persoon}" for rol, persoon in kept.items())
    log(new, now, "toewijzen", SYSTEEM, f"Bij de start toegewezen uit de personenlijst: {names}.")
    record(new, now, "toewijzen", SYSTEEM)
    return new


_DOORS = frozenset(door.value for door in Door)
_PERSOON_ID = re.compile(r"[A-Za-z0-9_.:-]{1,64}")


def receive(state: CaseState, name: str, payload: Any, now: datetime) -> CaseState:
    """The signal path: parse, check and apply, or record the refusal in ``afgewezen``. Never raises."""
    try:
        event = parse(name, payload, state.versie)
        return apply(state, name, event, now)
    except Weigering as refusal:
        return refuse(state, name, refusal.reden, now)


def refuse(state: CaseState, name: str, reden: str, now: datetime) -> CaseState:
    new = state.model_copy()
    new.afgewezen = [*state.afgewezen, Afwijzing(tijd=now, gebeurtenis=short(name), reden=reden)][-MAX_AFGEWEZEN:]
    new.afgewezen_totaal = state.afgewezen_totaal + 1
    return new


def _apply_melding(state: CaseState, event: Gebeurtenis, day: date, now: datetime) -> None:
    assert isinstance(event, Melding)
    state.fase = 1
    state.melding_op = day
    state.gemeld_bij_leerplicht = event.gemeld_bij_leerplicht
    log(state, now, "melding", event.door, "Melding thuiszitter: fase 1.")
    melding_effects(state, gemeld_bij_leerplicht=event.gemeld_bij_leerplicht)


def _apply_leerplicht_registratie(state: CaseState, event: Gebeurtenis, day: date, now: datetime) -> None:
    assert isinstance(event, LeerplichtRegistratie)
    state.lba_geregistreerd_op = event.lba_geregistreerd_op
    log(
        state,
        now,
        "leerplicht_registratie",
        event.door,
        "Leerplicht heeft de thuiszitter in de LBA geregistreerd.",
    )


def _apply_startdatum_correctie(state: CaseState, event: Gebeurtenis, day: date, now: datetime) -> None:
    assert isinstance(event, StartdatumCorrectie)
    oud = state.startdatum
    state.startdatum = event.startdatum
    log(
        state,
        now,
        "startdatum_correctie",
        event.door,
        f"Leerplicht stelt de startdatum vast op {event.startdatum.isoformat()} (was {oud.isoformat()}); "
        "alle termijnen schuiven mee.",
    )
    if state.kindkans_hulpvraag:
        call(state, Systeem.KINDKANS, Actie.HULPVRAAG_BIJWERKEN, startdatum=event.startdatum.isoformat())
    for rol in school_and_contact(state):
        send(
            state,
            rol,
            Sjabloon.STARTDATUM_GECORRIGEERD,
            startdatum=event.startdatum.isoformat(),
            deadline=state.deadline_12_weken.isoformat(),
        )


def _apply_oudergesprek(state: CaseState, event: Gebeurtenis, day: date, now: datetime) -> None:
    assert isinstance(event, Oudergesprek)
    state.oudergesprek_op = day
    state.deelnemers = sorted({d.value for d in event.deelnemers})
    if state.fase == 1:
        state.fase = 2
    log(
        state,
        now,
        "oudergesprek",
        event.door,
        "Oudergesprek gevoerd met " + ", ".join(state.deelnemers) + ".",
    )
    if state.kindkans_hulpvraag:  # PO (in version 1 every case that reaches this step has one)
        call(state, Systeem.KINDKANS, Actie.HULPVRAAG_BIJWERKEN, gebeurtenis="oudergesprek", fase=state.fase)


def _apply_plan_van_aanpak(state: CaseState, event: Gebeurtenis, day: date, now: datetime) -> None:
    assert isinstance(event, PlanVanAanpak)
    state.plan_op = day
    state.plan_in_opp = event.in_opp
    state.plan_instemming_ouders = event.instemming_ouders
    if event.in_opp and event.instemming_ouders:
        state.fase = 3
        log(
            state,
            now,
            "plan_van_aanpak",
            event.door,
            "Plan van aanpak in het OPP, ouders stemmen in: fase 3.",
        )
        if state.kindkans_hulpvraag:  # PO (in version 1 every case that reaches this step has one)
            call(state, Systeem.KINDKANS, Actie.HULPVRAAG_BIJWERKEN, gebeurtenis="plan_van_aanpak", fase=3)
    else:
        missing = []
        if not event.in_opp:
            missing.append("opname in het OPP")
        if not event.instemming_ouders:
            missing.append("instemming van de ouders met het handelingsdeel")
        log(
            state,
            now,
            "plan_van_aanpak",
            event.door,
            "Plan van aanpak vastgelegd; nog nodig: " + " en ".join(missing),
        )


def _apply_route(state: CaseState, event: Gebeurtenis, day: date, now: datetime) -> None:
    assert isinstance(event, Route)
    previous = state.route
    state.route = event.route
    state.route_variant = event.variant
    if state.regiehouder is not Regiehouder.TASKFORCE:
        state.regiehouder = Regiehouder.WIJKTEAM if event.route == "3.4" else Regiehouder.SCHOOL
    if state.andere_school is not None and not route_andere_school(state):
        state.andere_school = None
        # The application is gone with the route: applying (at the same school) again later is a new event.
        for name in ("aanmelding_andere_school", "zorgplicht_verlengd"):
            state.vingerafdrukken.pop(name, None)
    variant = f" ({event.variant})" if event.variant else ""
    change = f" (was {previous})" if previous and previous != event.route else ""
    log(state, now, "route", event.door, f"Route {event.route}{variant} gekozen{change}.")
    if state.kindkans_hulpvraag:  # PO (in version 1 every case that reaches this step has one)
        call(state, Systeem.KINDKANS, Actie.HULPVRAAG_BIJWERKEN, route=event.route, variant=event.variant)
    send(state, Rol.OUDERS, Sjabloon.ROUTE_GEKOZEN, route=event.route, variant=event.variant)
    if event.route == "3.3" and event.variant in ("tlv_sbo", "tlv_so"):
        send(state, state.contactrol, Sjabloon.TLV_ONDERBOUWING, route=event.route, variant=event.variant)
        call(
            state,
            Systeem.CENTRALE_AANMELDROUTE,
            Actie.AANMELDING,
            soort_onderwijs="SBO" if event.variant == "tlv_sbo" else "SO",
            school_brin=state.aanmelding.school_brin,
        )
    if event.route == "3.3" and event.variant == "tlv_vso":  # version 2, VO: the TLV for VSO runs through Koers VO
        send(state, Rol.KOERSLOKET, Sjabloon.TLV_ONDERBOUWING, route=event.route, variant=event.variant)
    if event.route == "3.4" or event.variant == "zorgarrangement":
        send(state, Rol.WIJKTEAM, Sjabloon.REGIE_WIJKTEAM, route=event.route, variant=event.variant)
    if event.route == "3.4":
        send(state, Rol.SCHOOL, Sjabloon.HUISWERKPAKKETTEN)


def _apply_aanmelding_andere_school(state: CaseState, event: Gebeurtenis, day: date, now: datetime) -> None:
    assert isinstance(event, AanmeldingAndereSchool)
    state.aanmeldingen_andere_school += 1
    state.andere_school = AndereSchool(
        school_brin=event.school_brin, aangemeld_op=day, nummer=state.aanmeldingen_andere_school
    )
    state.vingerafdrukken.pop("zorgplicht_verlengd", None)  # the new school's term may be extended once too
    termijn = zorgplicht_deadline(state)
    assert termijn is not None
    log(
        state,
        now,
        "aanmelding_andere_school",
        event.door,
        f"Aangemeld bij school {event.school_brin}; die beslist uiterlijk {termijn.isoformat()} (zorgplicht).",
    )
    send(
        state,
        state.contactrol,
        Sjabloon.AANMELDING_ANDERE_SCHOOL,
        school_brin=event.school_brin,
        termijn_op=termijn.isoformat(),
    )


def _apply_zorgplicht_verlengd(state: CaseState, event: Gebeurtenis, day: date, now: datetime) -> None:
    assert state.andere_school is not None
    state.andere_school.verlengd = True
    termijn = zorgplicht_deadline(state)
    assert termijn is not None
    log(
        state,
        now,
        "zorgplicht_verlengd",
        event.door,
        f"Zorgplichttermijn eenmaal verlengd tot {termijn.isoformat()}.",
    )
    send(
        state,
        state.contactrol,
        Sjabloon.AANMELDING_ANDERE_SCHOOL,
        school_brin=state.andere_school.school_brin,
        termijn_op=termijn.isoformat(),
    )


def _apply_wachtlijst(state: CaseState, event: Gebeurtenis, day: date, now: datetime) -> None:
    assert isinstance(event, Wachtlijst)
    state.wachtlijst = event.op_wachtlijst
    log(
        state,
        now,
        "wachtlijst",
        event.door,
        "Op de wachtlijst (tussenfase); een tussenprogramma is geadviseerd."
        if event.op_wachtlijst
        else "Niet meer op de wachtlijst.",
    )
    send(state, contact_of(state), Sjabloon.WACHTLIJST, op_wachtlijst=event.op_wachtlijst)


def _apply_voortgang(state: CaseState, event: Gebeurtenis, day: date, now: datetime) -> None:
    assert isinstance(event, Voortgang)
    log(
        state,
        now,
        "voortgang",
        event.door,
        "Voortgang doorgegeven aan ouders en " + contact_of(state).value + ".",
    )
    if event.afgehandelde_taken:
        done = set(event.afgehandelde_taken)
        state.handmatige_taken = [taak for taak in state.handmatige_taken if taak.taak not in done]
        log(state, now, "handmatige_actie_afgehandeld", event.door, "Afgehandeld: " + ", ".join(sorted(done)) + ".")
    for rol in (Rol.OUDERS, contact_of(state)):
        send(state, rol, Sjabloon.VOORTGANG, toelichting=event.toelichting)
    if state.kindkans_hulpvraag:
        call(state, Systeem.KINDKANS, Actie.HULPVRAAG_BIJWERKEN, gebeurtenis="voortgang", fase=state.fase)


def _apply_opschalen(state: CaseState, event: Gebeurtenis, day: date, now: datetime) -> None:
    assert isinstance(event, Opschalen)
    escalate(state, Escalatie(event.niveau), now, event.door, reden_code="opgeschaald")


def _apply_huisbezoek(state: CaseState, event: Gebeurtenis, day: date, now: datetime) -> None:
    state.huisbezoek_op = day
    log(state, now, "huisbezoek", event.door, "Verslag van het huisbezoek vastgelegd voor de Kerngroep.")


def _apply_taskforce_besluit(state: CaseState, event: Gebeurtenis, day: date, now: datetime) -> None:
    assert isinstance(event, TaskforceBesluit)
    state.taskforce_besluiten += 1
    log(state, now, "taskforce_besluit", event.door, "Besluit van de Taskforce vastgelegd.")
    for rol in school_and_contact(state):
        send(state, rol, Sjabloon.TASKFORCE_BESLUIT)


def _apply_vrijstelling(state: CaseState, event: Gebeurtenis, day: date, now: datetime) -> None:
    assert isinstance(event, Vrijstelling)
    state.vrijstelling = event.status
    teksten = {
        "aangevraagd": "Vrijstelling aangevraagd (keuze van de ouders); "
        "Leerplicht zet de aanvraag door naar de SMA-arts.",
        "verleend": "Vrijstelling van de leerplicht verleend.",
        "afgewezen": "Vrijstelling van de leerplicht afgewezen.",
    }
    log(state, now, "vrijstelling", event.door, teksten[event.status])
    if event.status == "aangevraagd":
        send(state, state.leerplichtrol, Sjabloon.VRIJSTELLING_AANGEVRAAGD)
    else:
        for rol in (Rol.OUDERS, contact_of(state)):
            send(state, rol, Sjabloon.VRIJSTELLING_BESLUIT, status=event.status)


def _apply_passende_plek(state: CaseState, event: Gebeurtenis, day: date, now: datetime) -> None:
    assert isinstance(event, PassendePlek)
    state.fase = 4
    state.uitkomst = Uitkomst(event.uitkomst)
    teksten = {
        "terug_op_school": "Passende plek: de leerling is terug op school.",
        "ingeschreven_andere_school": f"Passende plek: ingeschreven op school {event.school_brin}; "
        "de school van herkomst schrijft uit.",
        "vrijstelling": "Passende plek: vrijstelling van de leerplicht; de school schrijft uit.",
    }
    log(state, now, "passende_plek", event.door, teksten[event.uitkomst])
    close(state, now, afsluiten_actie=Actie.HULPVRAAG_AFSLUITEN)


def _apply_intrekken(state: CaseState, event: Gebeurtenis, day: date, now: datetime) -> None:
    state.uitkomst = Uitkomst.INGETROKKEN
    log(state, now, "intrekken", event.door, "De melding is ingetrokken (ten onrechte gemeld).")
    close(state, now, afsluiten_actie=Actie.HULPVRAAG_INTREKKEN)


_APPLY: dict[str, Callable[[CaseState, Gebeurtenis, date, datetime], None]] = {
    "melding": _apply_melding,
    "leerplicht_registratie": _apply_leerplicht_registratie,
    "startdatum_correctie": _apply_startdatum_correctie,
    "oudergesprek": _apply_oudergesprek,
    "plan_van_aanpak": _apply_plan_van_aanpak,
    "route": _apply_route,
    "aanmelding_andere_school": _apply_aanmelding_andere_school,
    "zorgplicht_verlengd": _apply_zorgplicht_verlengd,
    "wachtlijst": _apply_wachtlijst,
    "voortgang": _apply_voortgang,
    "opschalen": _apply_opschalen,
    "huisbezoek": _apply_huisbezoek,
    "taskforce_besluit": _apply_taskforce_besluit,
    "vrijstelling": _apply_vrijstelling,
    "passende_plek": _apply_passende_plek,
    "intrekken": _apply_intrekken,
}


def register_failure(state: CaseState, effect: Registratie | Bericht, fout: str, now: datetime) -> CaseState:
    """A call or message that the outside system refused for good becomes a task for a person."""
    new = successor(state)
    rol = contact_of(new)
    if new.versie >= 2:
        _manual_task_v2(new, effect, fout, now, rol)
        return new
    if isinstance(effect, Registratie):
        wat = effect.samenvatting
    else:
        wat = f"bericht aan {effect.rol.value} ({effect.sjabloon.value.replace('_', ' ')})"
    new.handmatige_taken.append(
        Taak(
            rol=rol,
            taak=f"handmatige_actie_{new.volgnummer + 1}",
            omschrijving=f"Handmatig afhandelen: {wat} is geweigerd ({fout}). Meld het af met voortgang "
            f"(afgehandelde_taken).",
            uiterlijk=add_working_days(amsterdam_date(now), 1),
        )
    )
    log(
        new,
        now,
        "handmatige_actie",
        SYSTEEM,
        f"{wat} is geweigerd; taak voor {rol.value}: handmatig afhandelen.",
    )
    if isinstance(effect, Registratie):
        send(new, rol, Sjabloon.HANDMATIGE_ACTIE, fout=fout, systeem=effect.systeem.value, actie=effect.actie.value)
    record(new, now, "handmatige_actie", SYSTEEM)
    return new


def _manual_task_v2(state: CaseState, effect: Registratie | Bericht, fout: str, now: datetime, rol: Rol) -> None:
    if isinstance(effect, Registratie):
        wat = effect.samenvatting
    else:
        wat = f"bericht aan {effect.rol.value} ({effect.sjabloon.value.replace('_', ' ')})"
    today = amsterdam_date(now)
    taak = work.open_task(
        state,
        work.Step(
            f"handmatig_afhandelen_{state.volgnummer + 1}",
            rol,
            "handmatig_afhandelen",
            f"Handmatig afhandelen: {wat} is geweigerd ({fout}). Meld het af met taak_afgerond.",
        ),
        today,
        los=True,
    )
    log(state, now, "handmatige_actie", SYSTEEM, f"{wat} is geweigerd; taak {taak.id} voor {rol.value}.")
    if isinstance(effect, Registratie):
        send(state, rol, Sjabloon.HANDMATIGE_ACTIE, fout=fout, systeem=effect.systeem.value, actie=effect.actie.value)
    record(state, now, "handmatige_actie", SYSTEEM)
