"""The rules of the thuiszitters procedure, as pure functions over one case-state model.

Nothing here does I/O or reads a clock: every function takes the moment it should reason about (``now``), so the
workflow can call them deterministically and tests can drive them without a Temporal server. The workflow wires
these rules to signals, updates, timers and activities; this module decides:

- may this event happen now (:func:`check`), and what follows from it (:func:`apply`);
- which terms of the procedure are still ahead and when they fall (:func:`terms`), and what a term does when it
  passes (:func:`fire_due_terms`);
- which tasks are open for which role (:func:`open_tasks`), derived from the state rather than stored twice;
- what the case looks like from outside (:func:`status`).

Effects (registration calls, notifications, register lines) are not carried out here: they are queued in
``CaseState.openstaand`` with an idempotency key derived from the case and the event, and the workflow runs them as
activities. Messages for people are in Dutch; they name fields and rules, never the values that were sent in.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from pydantic import BaseModel, Field, ValidationError, model_validator

from thuiszitters.calendar import add_working_days, amsterdam_date, amsterdam_moment
from thuiszitters.models import (
    ESCALATIE_NIVEAU,
    EVENTS,
    FASE_NAMEN,
    Aanmelding,
    AanmeldingAndereSchool,
    Afwijzing,
    Bericht,
    CaseStatus,
    Effect,
    Escalatie,
    Gebeurtenis,
    LeerplichtRegistratie,
    Melding,
    Opschalen,
    Oudergesprek,
    PassendePlek,
    PlanVanAanpak,
    Regiehouder,
    Registratie,
    Rol,
    Route,
    Sector,
    StartdatumCorrectie,
    Systeem,
    Taak,
    TaskforceBesluit,
    TijdlijnRegel,
    Uitkomst,
    Vastlegging,
    Voortgang,
    Vrijstelling,
    Wachtlijst,
    leeftijd_op,
)
from thuiszitters.policy import DEFAULT_BELEID, Beleid

SYSTEEM = "systeem"
"""``door`` of what the case does by itself (terms passing)."""

MAX_AFGEWEZEN = 100
"""Refusals kept in the state; older ones are counted, not kept, so hostile senders cannot bloat a case."""

MAX_TIJDLIJN = 200
"""Timeline entries kept in the state (CONTRACT.md version 2); older ones are counted in ``tijdlijn_totaal``. The case
register keeps every event, so the state, its status and what continue-as-new carries stay small however long a
case runs."""


class Weigering(Exception):
    """An event that may not happen now; ``reden`` says why in Dutch, naming the field or the missing step."""

    def __init__(self, reden: str) -> None:
        super().__init__(reden)
        self.reden = reden


class AndereSchool(BaseModel):
    """Route 3.2: the pupil is applied at a receiving school, which has a term to decide (zorgplicht)."""

    school_brin: str
    aangemeld_op: date
    verlengd: bool = False
    nummer: int = Field(default=1, description="Which application of the case this is: each has its own term.")


class CaseState(BaseModel):
    """Everything a case knows. Derived values (weeks at home, deadlines, open tasks) are computed from it."""

    case_id: str
    workflow_id: str
    aanmelding: Aanmelding
    beleid: Beleid
    geopend_op: datetime
    startdatum: date
    fase: int
    regiehouder: Regiehouder
    escalatie: Escalatie = Escalatie.GEEN
    route: str | None = None
    route_variant: str | None = None
    wachtlijst: bool = False
    gemeld_bij_leerplicht: bool = False
    melding_op: date | None = None
    lba_geregistreerd_op: date | None = None
    oudergesprek_op: date | None = None
    deelnemers: list[str] = Field(default_factory=list)
    plan_in_opp: bool = False
    plan_instemming_ouders: bool = False
    plan_op: date | None = None
    andere_school: AndereSchool | None = None
    aanmeldingen_andere_school: int = 0
    vrijstelling: str | None = None
    huisbezoek_op: date | None = None
    taskforce_besluiten: int = 0
    kindkans_hulpvraag: bool = False
    afgesloten_op: datetime | None = None
    uitkomst: Uitkomst | None = None
    handmatige_taken: list[Taak] = Field(default_factory=list)
    tijdlijn: list[TijdlijnRegel] = Field(default_factory=list)
    tijdlijn_totaal: int = 0
    afgewezen: list[Afwijzing] = Field(default_factory=list)
    afgewezen_totaal: int = 0
    gevuurd: list[str] = Field(default_factory=list)
    vingerafdrukken: dict[str, str] = Field(default_factory=dict)
    volgnummer: int = 0
    openstaand: list[Effect] = Field(default_factory=list)

    @model_validator(mode="after")
    def _count_timeline(self) -> CaseState:
        # A state carried over from before the timeline was bounded holds every entry and no count yet.
        if self.tijdlijn_totaal < len(self.tijdlijn):
            self.tijdlijn_totaal = len(self.tijdlijn)
        return self

    @property
    def afgesloten(self) -> bool:
        return self.afgesloten_op is not None

    @property
    def leerplichtig(self) -> bool:
        """Age on the (formal) start date decides: a pupil of 4 is not leerplichtig."""
        return leeftijd_op(self.aanmelding.geboortedatum, self.startdatum) >= 5

    @property
    def uit_buitenland(self) -> bool:
        return self.aanmelding.uit_buitenland

    @property
    def deadline_12_weken(self) -> date:
        return self.startdatum + timedelta(days=self.beleid.escalatie_termijn_dagen)

    @property
    def contactrol(self) -> Rol:
        """The SCP of PPO Rotterdam for primary education, the Koersloket of Koers VO for secondary."""
        return Rol.SCP if self.aanmelding.sector is Sector.PO else Rol.KOERSLOKET

    @property
    def leerplichtrol(self) -> Rol:
        return Rol.LEERPLICHT_ABSOLUUT_VERZUIM if self.uit_buitenland else Rol.LEERPLICHT


# ------------------------------------------------------------------------------------------------- opening a case


def open_case(aanmelding: Aanmelding, *, case_id: str, workflow_id: str, now: datetime) -> CaseState:
    """The state of a new case, with the effects of its first phase queued."""
    beleid = aanmelding.beleid or DEFAULT_BELEID
    state = CaseState(
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
        _log(state, now, "voortraject", None, "Potentiële thuiszitter in beeld (voortraject).")
    else:
        state.melding_op = amsterdam_date(now)
        _log(state, now, "melding", None, "Melding thuiszitter bij aanmelding van de zaak.")
        _melding_effects(state, gemeld_bij_leerplicht=False)
    _record(state, now, "aanmelding" if aanmelding.fase == 1 else "voortraject", None)
    return state


# ------------------------------------------------------------------------------------------------ parsing events


def parse(name: str, payload: Any) -> Gebeurtenis:
    """Turn a raw payload into the event's model, or refuse it naming the field and the rule."""
    model = EVENTS.get(name)
    if model is None:
        raise Weigering(f"onbekende gebeurtenis '{_short(name)}'")
    if payload is None:
        payload = {}
    if not isinstance(payload, dict):
        raise Weigering(f"{name}: de inhoud moet een JSON-object zijn")
    try:
        return model.model_validate(payload)
    except ValidationError as error:
        raise Weigering(f"{name}: {describe_validation_error(error)}") from None


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
        parts.append(f"veld '{_short(field)}': {rule}")
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
    body = json.dumps(event.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(f"{name}|{body}".encode()).hexdigest()[:24]


def is_duplicate(state: CaseState, name: str, event: Gebeurtenis) -> bool:
    """The same event with the same content as the last one of that name: it changes nothing."""
    return state.vingerafdrukken.get(name) == fingerprint(name, event)


# ------------------------------------------------------------------------------------------------ checking events


def check(state: CaseState, name: str, event: Gebeurtenis, now: datetime) -> None:
    """Refuse (``Weigering``) an event that may not happen now. A duplicate is not refused: it changes nothing."""
    if is_duplicate(state, name, event):
        return
    if state.afgesloten:
        raise Weigering(f"{name}: de zaak is al afgesloten ({_uitkomst_tekst(state)})")
    today = amsterdam_date(now)
    if event.datum is not None and event.datum > today:
        raise Weigering(f"{name}: veld 'datum' ligt in de toekomst")
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


def _no_school_steps(state: CaseState, name: str) -> None:
    if state.uit_buitenland:
        raise Weigering(
            f"{name}: leerling uit het buitenland zonder schoolinschrijving: geen schoolstappen, "
            "Leerplicht absoluut verzuim heeft de regie"
        )


def _check_oudergesprek(state: CaseState, event: Gebeurtenis, today: date) -> None:
    assert isinstance(event, Oudergesprek)
    _no_school_steps(state, "oudergesprek")
    if state.fase < 1:
        raise Weigering("oudergesprek: eerst de melding thuiszitter (fase 1)")
    deelnemers = {d.value for d in event.deelnemers}
    missing = [rol for rol in ("school", "ouders") if rol not in deelnemers]
    if not deelnemers & {"scp", "koersloket"}:
        missing.append("scp" if state.aanmelding.sector is Sector.PO else "koersloket")
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
    if not _route_andere_school(state):
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
            + ", ".join(_short(c) for c in unknown)
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


# ------------------------------------------------------------------------------------------------ applying events


def apply(state: CaseState, name: str, event: Gebeurtenis, now: datetime) -> CaseState:
    """The state after a checked event, with its effects queued. A duplicate returns the state unchanged."""
    if is_duplicate(state, name, event):
        return state
    check(state, name, event, now)
    new = _successor(state)
    new.vingerafdrukken[name] = fingerprint(name, event)
    day = event.datum or amsterdam_date(now)
    _APPLY[name](new, event, day, now)
    _record(new, now, name, event.door)
    return new


def receive(state: CaseState, name: str, payload: Any, now: datetime) -> CaseState:
    """The signal path: parse, check and apply, or record the refusal in ``afgewezen``. Never raises."""
    try:
        event = parse(name, payload)
        return apply(state, name, event, now)
    except Weigering as refusal:
        return refuse(state, name, refusal.reden, now)


def refuse(state: CaseState, name: str, reden: str, now: datetime) -> CaseState:
    new = state.model_copy()
    new.afgewezen = [*state.afgewezen, Afwijzing(tijd=now, gebeurtenis=_short(name), reden=reden)][-MAX_AFGEWEZEN:]
    new.afgewezen_totaal = state.afgewezen_totaal + 1
    return new


def _apply_melding(state: CaseState, event: Gebeurtenis, day: date, now: datetime) -> None:
    assert isinstance(event, Melding)
    state.fase = 1
    state.melding_op = day
    state.gemeld_bij_leerplicht = event.gemeld_bij_leerplicht
    _log(state, now, "melding", event.door, "Melding thuiszitter: fase 1.")
    _melding_effects(state, gemeld_bij_leerplicht=event.gemeld_bij_leerplicht)


def _melding_effects(state: CaseState, *, gemeld_bij_leerplicht: bool) -> None:
    startdatum = state.startdatum.isoformat()
    if state.uit_buitenland:
        _send(state, Rol.LEERPLICHT_ABSOLUUT_VERZUIM, "melding_uit_buitenland", startdatum=startdatum)
        return
    if state.leerplichtig and not gemeld_bij_leerplicht:
        _call(
            state,
            Systeem.LEERPLICHT,
            "melding_volledig_verzuim",
            startdatum=startdatum,
            school_brin=state.aanmelding.school_brin,
            sector=state.aanmelding.sector.value,
        )
    _send(
        state,
        state.contactrol,
        "melding_thuiszitter",
        startdatum=startdatum,
        school_brin=state.aanmelding.school_brin,
    )
    _call(
        state,
        Systeem.KINDKANS,
        "hulpvraag_aanmaken",
        startdatum=startdatum,
        status="thuiszitter",
        school_brin=state.aanmelding.school_brin,
        sector=state.aanmelding.sector.value,
        regio=state.aanmelding.regio.value,
    )
    state.kindkans_hulpvraag = True
    _call(state, Systeem.SISA, "signaal")
    _send(state, Rol.OUDERFUNCTIONARIS, "ouderfunctionaris_informeren", startdatum=startdatum)
    _send(state, Rol.OUDERS, "toegang_kindkans")


def _apply_leerplicht_registratie(state: CaseState, event: Gebeurtenis, day: date, now: datetime) -> None:
    assert isinstance(event, LeerplichtRegistratie)
    state.lba_geregistreerd_op = event.lba_geregistreerd_op
    _log(
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
    _log(
        state,
        now,
        "startdatum_correctie",
        event.door,
        f"Leerplicht stelt de startdatum vast op {event.startdatum.isoformat()} (was {oud.isoformat()}); "
        "alle termijnen schuiven mee.",
    )
    if state.kindkans_hulpvraag:
        _call(state, Systeem.KINDKANS, "hulpvraag_bijwerken", startdatum=event.startdatum.isoformat())
    for rol in _school_and_contact(state):
        _send(
            state,
            rol,
            "startdatum_gecorrigeerd",
            startdatum=event.startdatum.isoformat(),
            deadline=state.deadline_12_weken.isoformat(),
        )


def _apply_oudergesprek(state: CaseState, event: Gebeurtenis, day: date, now: datetime) -> None:
    assert isinstance(event, Oudergesprek)
    state.oudergesprek_op = day
    state.deelnemers = sorted({d.value for d in event.deelnemers})
    if state.fase == 1:
        state.fase = 2
    _log(
        state,
        now,
        "oudergesprek",
        event.door,
        "Oudergesprek gevoerd met " + ", ".join(state.deelnemers) + ".",
    )
    _call(state, Systeem.KINDKANS, "hulpvraag_bijwerken", gebeurtenis="oudergesprek", fase=state.fase)


def _apply_plan_van_aanpak(state: CaseState, event: Gebeurtenis, day: date, now: datetime) -> None:
    assert isinstance(event, PlanVanAanpak)
    state.plan_op = day
    state.plan_in_opp = event.in_opp
    state.plan_instemming_ouders = event.instemming_ouders
    if event.in_opp and event.instemming_ouders:
        state.fase = 3
        _log(
            state,
            now,
            "plan_van_aanpak",
            event.door,
            "Plan van aanpak in het OPP, ouders stemmen in: fase 3.",
        )
        _call(state, Systeem.KINDKANS, "hulpvraag_bijwerken", gebeurtenis="plan_van_aanpak", fase=3)
    else:
        missing = []
        if not event.in_opp:
            missing.append("opname in het OPP")
        if not event.instemming_ouders:
            missing.append("instemming van de ouders met het handelingsdeel")
        _log(
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
    if state.andere_school is not None and not _route_andere_school(state):
        state.andere_school = None
        # The application is gone with the route: applying (at the same school) again later is a new event.
        for name in ("aanmelding_andere_school", "zorgplicht_verlengd"):
            state.vingerafdrukken.pop(name, None)
    variant = f" ({event.variant})" if event.variant else ""
    change = f" (was {previous})" if previous and previous != event.route else ""
    _log(state, now, "route", event.door, f"Route {event.route}{variant} gekozen{change}.")
    _call(state, Systeem.KINDKANS, "hulpvraag_bijwerken", route=event.route, variant=event.variant)
    _send(state, Rol.OUDERS, "route_gekozen", route=event.route, variant=event.variant)
    if event.route == "3.3" and event.variant in ("tlv_sbo", "tlv_so"):
        _send(state, state.contactrol, "tlv_onderbouwing", route=event.route, variant=event.variant)
        _call(
            state,
            Systeem.CENTRALE_AANMELDROUTE,
            "aanmelding",
            soort_onderwijs="SBO" if event.variant == "tlv_sbo" else "SO",
            school_brin=state.aanmelding.school_brin,
        )
    if event.route == "3.4" or event.variant == "zorgarrangement":
        _send(state, Rol.WIJKTEAM, "regie_wijkteam", route=event.route, variant=event.variant)
    if event.route == "3.4":
        _send(state, Rol.SCHOOL, "huiswerkpakketten")


def _route_andere_school(state: CaseState) -> bool:
    return state.route == "3.2" or (state.route == "3.3" and state.route_variant == "andere_reguliere_school")


def _apply_aanmelding_andere_school(state: CaseState, event: Gebeurtenis, day: date, now: datetime) -> None:
    assert isinstance(event, AanmeldingAndereSchool)
    state.aanmeldingen_andere_school += 1
    state.andere_school = AndereSchool(
        school_brin=event.school_brin, aangemeld_op=day, nummer=state.aanmeldingen_andere_school
    )
    state.vingerafdrukken.pop("zorgplicht_verlengd", None)  # the new school's term may be extended once too
    termijn = zorgplicht_deadline(state)
    assert termijn is not None
    _log(
        state,
        now,
        "aanmelding_andere_school",
        event.door,
        f"Aangemeld bij school {event.school_brin}; die beslist uiterlijk {termijn.isoformat()} (zorgplicht).",
    )
    _send(
        state,
        state.contactrol,
        "aanmelding_andere_school",
        school_brin=event.school_brin,
        termijn_op=termijn.isoformat(),
    )


def _apply_zorgplicht_verlengd(state: CaseState, event: Gebeurtenis, day: date, now: datetime) -> None:
    assert state.andere_school is not None
    state.andere_school.verlengd = True
    termijn = zorgplicht_deadline(state)
    assert termijn is not None
    _log(
        state,
        now,
        "zorgplicht_verlengd",
        event.door,
        f"Zorgplichttermijn eenmaal verlengd tot {termijn.isoformat()}.",
    )
    _send(
        state,
        state.contactrol,
        "aanmelding_andere_school",
        school_brin=state.andere_school.school_brin,
        termijn_op=termijn.isoformat(),
    )


def _apply_wachtlijst(state: CaseState, event: Gebeurtenis, day: date, now: datetime) -> None:
    assert isinstance(event, Wachtlijst)
    state.wachtlijst = event.op_wachtlijst
    _log(
        state,
        now,
        "wachtlijst",
        event.door,
        "Op de wachtlijst (tussenfase); een tussenprogramma is geadviseerd."
        if event.op_wachtlijst
        else "Niet meer op de wachtlijst.",
    )
    _send(state, _contact(state), "wachtlijst", op_wachtlijst=event.op_wachtlijst)


def _apply_voortgang(state: CaseState, event: Gebeurtenis, day: date, now: datetime) -> None:
    assert isinstance(event, Voortgang)
    _log(
        state,
        now,
        "voortgang",
        event.door,
        "Voortgang doorgegeven aan ouders en " + _contact(state).value + ".",
    )
    if event.afgehandelde_taken:
        done = set(event.afgehandelde_taken)
        state.handmatige_taken = [taak for taak in state.handmatige_taken if taak.taak not in done]
        _log(state, now, "handmatige_actie_afgehandeld", event.door, "Afgehandeld: " + ", ".join(sorted(done)) + ".")
    for rol in (Rol.OUDERS, _contact(state)):
        _send(state, rol, "voortgang", toelichting=event.toelichting)
    if state.kindkans_hulpvraag:
        _call(state, Systeem.KINDKANS, "hulpvraag_bijwerken", gebeurtenis="voortgang", fase=state.fase)


def _apply_opschalen(state: CaseState, event: Gebeurtenis, day: date, now: datetime) -> None:
    assert isinstance(event, Opschalen)
    _escalate(state, Escalatie(event.niveau), now, event.door, reden_code="opgeschaald")


def _escalate(state: CaseState, niveau: Escalatie, now: datetime, door: str | None, *, reden_code: str) -> None:
    state.escalatie = niveau
    if niveau is Escalatie.COORDINATOR:
        _log(
            state,
            now,
            "opschalen",
            door,
            f"Opgeschaald naar de thuiszitterscoördinator {state.aanmelding.regio.value}"
            + (" (twaalfwekentermijn verstreken)." if reden_code == "termijn_verstreken" else "."),
        )
        _send(
            state,
            Rol.COORDINATOR,
            "escalatie_coordinator",
            reden_code=reden_code,
            weken=weeks_at_home(state, now),
            deadline=state.deadline_12_weken.isoformat(),
        )
    else:
        state.regiehouder = Regiehouder.TASKFORCE
        _log(
            state,
            now,
            "opschalen",
            door,
            "Opgeschaald naar de Taskforce Thuiszitters; die neemt de casusregie over.",
        )
        _call(
            state,
            Systeem.TASKFORCE,
            "aanmelding",
            regio=state.aanmelding.regio.value,
            sector=state.aanmelding.sector.value,
            weken_thuis=weeks_at_home(state, now),
        )
        _send(state, Rol.TASKFORCE, "escalatie_taskforce", weken=weeks_at_home(state, now))
        _send(state, _school(state), "ouders_informeren_taskforce")


def _apply_huisbezoek(state: CaseState, event: Gebeurtenis, day: date, now: datetime) -> None:
    state.huisbezoek_op = day
    _log(state, now, "huisbezoek", event.door, "Verslag van het huisbezoek vastgelegd voor de Kerngroep.")


def _apply_taskforce_besluit(state: CaseState, event: Gebeurtenis, day: date, now: datetime) -> None:
    assert isinstance(event, TaskforceBesluit)
    state.taskforce_besluiten += 1
    _log(state, now, "taskforce_besluit", event.door, "Besluit van de Taskforce vastgelegd.")
    for rol in _school_and_contact(state):
        _send(state, rol, "taskforce_besluit")


def _apply_vrijstelling(state: CaseState, event: Gebeurtenis, day: date, now: datetime) -> None:
    assert isinstance(event, Vrijstelling)
    state.vrijstelling = event.status
    teksten = {
        "aangevraagd": "Vrijstelling aangevraagd (keuze van de ouders); "
        "Leerplicht zet de aanvraag door naar de SMA-arts.",
        "verleend": "Vrijstelling van de leerplicht verleend.",
        "afgewezen": "Vrijstelling van de leerplicht afgewezen.",
    }
    _log(state, now, "vrijstelling", event.door, teksten[event.status])
    if event.status == "aangevraagd":
        _send(state, state.leerplichtrol, "vrijstelling_aangevraagd")
    else:
        for rol in (Rol.OUDERS, _contact(state)):
            _send(state, rol, "vrijstelling_besluit", status=event.status)


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
    _log(state, now, "passende_plek", event.door, teksten[event.uitkomst])
    _close(state, now, afsluiten_actie="hulpvraag_afsluiten")


def _apply_intrekken(state: CaseState, event: Gebeurtenis, day: date, now: datetime) -> None:
    state.uitkomst = Uitkomst.INGETROKKEN
    _log(state, now, "intrekken", event.door, "De melding is ingetrokken (ten onrechte gemeld).")
    _close(state, now, afsluiten_actie="hulpvraag_intrekken")


def _close(state: CaseState, now: datetime, *, afsluiten_actie: str) -> None:
    state.afgesloten_op = now
    assert state.uitkomst is not None
    if state.kindkans_hulpvraag:
        _call(state, Systeem.KINDKANS, afsluiten_actie, uitkomst=state.uitkomst.value)
    rollen: list[Rol] = [Rol.OUDERS]
    if not state.uit_buitenland:
        rollen += [Rol.SCHOOL, state.contactrol]
    if state.leerplichtig and state.melding_op is not None:  # Leerplicht only knows a case once it was reported
        rollen.append(state.leerplichtrol)
    if state.escalatie is not Escalatie.GEEN:
        rollen.append(Rol.COORDINATOR)
    if state.escalatie is Escalatie.TASKFORCE:
        rollen.append(Rol.TASKFORCE)
    if state.regiehouder is Regiehouder.WIJKTEAM:
        rollen.append(Rol.WIJKTEAM)
    for rol in dict.fromkeys(rollen):
        _send(state, rol, "afgesloten", uitkomst=state.uitkomst.value)


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
    new = _successor(state)
    if isinstance(effect, Registratie):
        wat, rol = f"{effect.systeem.value}: {effect.actie.replace('_', ' ')}", _contact(new)
        gegevens = {"systeem": effect.systeem.value, "actie": effect.actie}
    else:
        wat, rol = f"bericht aan {effect.rol.value} ({effect.sjabloon.replace('_', ' ')})", _contact(new)
        gegevens = {"systeem": "bericht", "actie": effect.sjabloon}
    new.handmatige_taken.append(
        Taak(
            rol=rol,
            taak=f"handmatige_actie_{new.volgnummer + 1}",
            omschrijving=f"Handmatig afhandelen: {wat} is geweigerd ({fout}). Meld het af met voortgang "
            f"(afgehandelde_taken).",
            uiterlijk=add_working_days(amsterdam_date(now), 1),
        )
    )
    _log(
        new,
        now,
        "handmatige_actie",
        SYSTEEM,
        f"{wat} is geweigerd; taak voor {rol.value}: handmatig afhandelen.",
    )
    if isinstance(effect, Registratie):
        _send(new, rol, "handmatige_actie", fout=fout, **gegevens)
    _record(new, now, "handmatige_actie", SYSTEEM)
    return new


# ------------------------------------------------------------------------------------------------------- terms


@dataclass(frozen=True)
class Termijn:
    """A term of the procedure: a key (each fires once), the day it falls on, and what it is, in Dutch."""

    sleutel: str
    op: date
    omschrijving: str


def zorgplicht_deadline(state: CaseState) -> date | None:
    if state.andere_school is None:
        return None
    days = state.beleid.zorgplicht_dagen + (
        state.beleid.zorgplicht_verlenging_dagen if state.andere_school.verlengd else 0
    )
    return state.andere_school.aangemeld_op + timedelta(days=days)


def terms(state: CaseState) -> list[Termijn]:
    """The terms still ahead of this case (not yet fired), earliest first. None for a closed case."""
    if state.afgesloten:
        return []
    beleid = state.beleid
    found: list[Termijn] = []
    if state.fase == 0:
        found.append(
            Termijn(
                "vier_weken",
                state.startdatum + timedelta(days=beleid.thuiszitter_na_dagen),
                "vier weken thuis zonder melding",
            )
        )
    if state.escalatie is Escalatie.GEEN:
        for dagen in sorted(set(beleid.waarschuwingen_dagen)):  # a day named twice in the policy warns once
            found.append(
                Termijn(
                    f"waarschuwing_{dagen}",
                    state.startdatum + timedelta(days=dagen),
                    f"waarschuwing na {_weken_tekst(dagen)}",
                )
            )
    found.append(Termijn("twaalf_weken", state.deadline_12_weken, "twaalfwekentermijn"))
    if state.fase >= 1 and state.melding_op is not None:
        if state.leerplichtig and state.lba_geregistreerd_op is None:
            found.append(
                Termijn(
                    "lba_herinnering",
                    add_working_days(state.melding_op, beleid.lba_herinnering_werkdagen),
                    "registratie in de LBA niet bevestigd",
                )
            )
        if state.fase == 1 and not state.uit_buitenland:
            found.append(
                Termijn(
                    "oudergesprek_herinnering",
                    add_working_days(state.melding_op, beleid.oudergesprek_herinnering_werkdagen),
                    "nog geen oudergesprek",
                )
            )
    if state.fase == 2 and state.oudergesprek_op is not None:
        found.append(
            Termijn(
                "plan_herinnering",
                add_working_days(state.oudergesprek_op, beleid.plan_herinnering_werkdagen),
                "nog geen plan van aanpak",
            )
        )
    if (deadline := zorgplicht_deadline(state)) is not None and _route_andere_school(state):
        assert state.andere_school is not None
        key = "zorgplicht_verlengd" if state.andere_school.verlengd else "zorgplicht"
        if state.andere_school.nummer > 1:  # a later application has a term of its own
            key += f"_{state.andere_school.nummer}"
        found.append(Termijn(key, deadline, "zorgplichttermijn ontvangende school"))
    return sorted((t for t in found if t.sleutel not in state.gevuurd), key=lambda t: (t.op, t.sleutel))


def moment_of(state: CaseState, termijn: Termijn) -> datetime:
    """When a term fires: at the policy's hour (Amsterdam time) on its day."""
    return amsterdam_moment(termijn.op, state.beleid.termijn_uur)


def next_term(state: CaseState) -> Termijn | None:
    ahead = terms(state)
    return ahead[0] if ahead else None


def fire_due_terms(state: CaseState, now: datetime) -> CaseState:
    """Fire every term whose moment has come, each once, in order. Returns the state unchanged when none is due."""
    due = [t for t in terms(state) if moment_of(state, t) <= now]
    if not due:
        return state
    new = _successor(state)
    keys = {t.sleutel for t in due}
    latest_warning = max((t.op for t in due if t.sleutel.startswith("waarschuwing_")), default=None)
    for termijn in due:
        new.gevuurd.append(termijn.sleutel)
        if termijn.sleutel.startswith("waarschuwing_") and ("twaalf_weken" in keys or termijn.op != latest_warning):
            continue  # a later warning, or the term itself, has passed too: this warning no longer means anything
        _FIRE[termijn.sleutel.split("_")[0]](new, termijn, now)
        _record(new, now, termijn.sleutel, SYSTEEM)
    return new


def _fire_vier(state: CaseState, termijn: Termijn, now: datetime) -> None:
    _log(
        state,
        now,
        "vier_weken",
        SYSTEEM,
        "Vier weken thuis zonder melding: school en SCP melden de thuiszitter.",
    )
    for rol in (Rol.SCHOOL, state.contactrol):
        _send(
            state,
            rol,
            "vier_weken_thuis",
            startdatum=state.startdatum.isoformat(),
            termijn_op=termijn.op.isoformat(),
        )


def _fire_waarschuwing(state: CaseState, termijn: Termijn, now: datetime) -> None:
    weken = (termijn.op - state.startdatum).days // 7
    _log(state, now, termijn.sleutel, SYSTEEM, f"{weken} weken thuis: waarschuwing voor de twaalfwekentermijn.")
    for rol in _school_and_contact(state):
        _send(state, rol, "termijn_waarschuwing", weken=weken, deadline=state.deadline_12_weken.isoformat())


def _fire_twaalf(state: CaseState, termijn: Termijn, now: datetime) -> None:
    if state.escalatie is Escalatie.GEEN:
        _escalate(state, Escalatie.COORDINATOR, now, SYSTEEM, reden_code="termijn_verstreken")
    else:
        _log(state, now, "twaalf_weken", SYSTEEM, "Twaalfwekentermijn verstreken; de zaak is al opgeschaald.")


def _fire_lba(state: CaseState, termijn: Termijn, now: datetime) -> None:
    _log(
        state,
        now,
        "lba_herinnering",
        SYSTEEM,
        "Registratie in de LBA niet bevestigd: PPO checkt bij de school.",
    )
    assert state.melding_op is not None
    _send(state, _contact(state), "lba_herinnering", melding_op=state.melding_op.isoformat())


def _fire_oudergesprek(state: CaseState, termijn: Termijn, now: datetime) -> None:
    _log(state, now, "oudergesprek_herinnering", SYSTEEM, "Herinnering: nog geen oudergesprek.")
    assert state.melding_op is not None
    for rol in (Rol.SCHOOL, state.contactrol):
        _send(state, rol, "oudergesprek_herinnering", melding_op=state.melding_op.isoformat())


def _fire_plan(state: CaseState, termijn: Termijn, now: datetime) -> None:
    _log(state, now, "plan_herinnering", SYSTEEM, "Herinnering: nog geen plan van aanpak.")
    assert state.oudergesprek_op is not None
    for rol in (Rol.SCHOOL, state.contactrol):
        _send(state, rol, "plan_herinnering", oudergesprek_op=state.oudergesprek_op.isoformat())


def _fire_zorgplicht(state: CaseState, termijn: Termijn, now: datetime) -> None:
    _log(
        state,
        now,
        termijn.sleutel,
        SYSTEEM,
        "Zorgplichttermijn verstreken zonder besluit van de ontvangende school.",
    )
    for rol in (state.contactrol, Rol.COORDINATOR):
        _send(state, rol, "zorgplicht_verlopen", termijn_op=termijn.op.isoformat())


_FIRE: dict[str, Callable[[CaseState, Termijn, datetime], None]] = {
    "vier": _fire_vier,
    "waarschuwing": _fire_waarschuwing,
    "twaalf": _fire_twaalf,
    "lba": _fire_lba,
    "oudergesprek": _fire_oudergesprek,
    "plan": _fire_plan,
    "zorgplicht": _fire_zorgplicht,
}


# --------------------------------------------------------------------------------------------------- open tasks


def open_tasks(state: CaseState) -> list[Taak]:
    """The tasks open for each role, derived from where the case stands."""
    if state.afgesloten:
        return []
    tasks: list[Taak] = []
    contact = state.contactrol

    def add(rol: Rol, taak: str, omschrijving: str, uiterlijk: date | None = None) -> None:
        tasks.append(Taak(rol=rol, taak=taak, omschrijving=omschrijving, uiterlijk=uiterlijk))

    ahead = {t.sleutel: t.op for t in terms(state)}
    if state.fase == 0:
        add(Rol.SCHOOL, "voortraject_bespreken", "Bespreek de leerling met de SCP en zet preventief in.")
        if "vier_weken" in state.gevuurd:
            add(
                Rol.SCHOOL,
                "thuiszitter_melden",
                "Meld de thuiszitter bij Leerplicht en de SCP (vier weken thuis).",
            )
    if state.uit_buitenland:
        add(
            Rol.LEERPLICHT_ABSOLUUT_VERZUIM,
            "school_zoeken",
            "Zoek met de ouders een school en zorg voor inschrijving (leerling uit het buitenland).",
        )
    if state.fase >= 1 and state.leerplichtig and state.lba_geregistreerd_op is None:
        add(
            state.leerplichtrol,
            "lba_registreren",
            "Registreer de thuiszitter in de LBA en bevestig de startdatum.",
            ahead.get("lba_herinnering"),
        )
        if "lba_herinnering" in state.gevuurd and not state.uit_buitenland:
            add(
                contact,
                "leerplichtmelding_controleren",
                "Check bij de school of de thuiszitter bij Leerplicht is gemeld.",
            )
    if state.fase == 1 and not state.uit_buitenland:
        add(
            Rol.SCHOOL,
            "oudergesprek_organiseren",
            "Organiseer een gesprek met ouders en " + ("SCP" if contact is Rol.SCP else "Koersloket") + ".",
            ahead.get("oudergesprek_herinnering"),
        )
    if state.fase == 2:
        uiterlijk = ahead.get("plan_herinnering")
        if state.plan_op is None:
            add(
                Rol.SCHOOL,
                "plan_van_aanpak_opstellen",
                "Stel het plan van aanpak op en neem het op in het OPP.",
                uiterlijk,
            )
        else:
            if not state.plan_in_opp:
                add(Rol.SCHOOL, "plan_in_opp_opnemen", "Neem het plan van aanpak op in het OPP.", uiterlijk)
            if not state.plan_instemming_ouders:
                add(
                    Rol.SCHOOL,
                    "instemming_ouders_vragen",
                    "Vraag de instemming van de ouders met het handelingsdeel van het OPP.",
                    uiterlijk,
                )
    if state.fase == 3:
        _route_tasks(state, add, ahead)
    if state.wachtlijst:
        add(
            _contact(state),
            "tussenprogramma_adviseren",
            "Adviseer over een passend tussenprogramma tijdens de wachtlijst.",
        )
    if state.escalatie is Escalatie.COORDINATOR:
        add(Rol.COORDINATOR, "besluit_taskforce", "Besluit of de zaak naar de Taskforce Thuiszitters gaat.")
    if state.escalatie is Escalatie.TASKFORCE:
        if state.huisbezoek_op is None:
            add(Rol.TASKFORCE, "huisbezoek", "Leg een huisbezoek af en breng verslag uit aan de Kerngroep.")
        elif state.taskforce_besluiten == 0:
            add(Rol.TASKFORCE, "besluit_nemen", "Bespreek de zaak in de Kerngroep en neem een besluit.")
    if state.vrijstelling == "aangevraagd" and state.leerplichtig:  # a corrected start date may end leerplicht
        add(
            state.leerplichtrol,
            "vrijstelling_doorzetten",
            "Zet de aanvraag voor vrijstelling door naar de SMA-arts.",
        )
    if state.vrijstelling == "verleend" and not state.uit_buitenland:
        add(Rol.SCHOOL, "uitschrijven", "Schrijf de leerling uit na de verleende vrijstelling.")
        add(contact, "hulpvraag_afronden", "Check de vrijstelling en rond de hulpvraag af in Kindkans.")
    tasks.extend(state.handmatige_taken)
    return tasks


def _route_tasks(state: CaseState, add: Callable[..., None], ahead: dict[str, date]) -> None:
    contact = state.contactrol
    add(Rol.SCHOOL, "voortgang_melden", "Informeer ouders en " + contact.value + " over de voortgang.")
    if state.route is None:
        add(
            Rol.SCHOOL,
            "route_kiezen",
            "Kies met ouders en " + contact.value + " een oplossingsroute (3.1 tot 3.4).",
        )
        return
    if state.route == "3.1":
        add(Rol.SCHOOL, "passend_aanbod", "Zorg voor een passend programma op de eigen school.")
    if _route_andere_school(state):
        if state.andere_school is None:
            add(
                Rol.SCHOOL,
                "passende_school_zoeken",
                "Zoek na afstemming met de ouders 1 of 2 passende scholen.",
            )
            add(Rol.OUDERS, "schriftelijk_aanmelden", "Meld uw kind schriftelijk aan bij één school.")
        else:
            add(
                Rol.SCHOOL,
                "besluit_ontvangende_school",
                "Volg het besluit van de ontvangende school; de school van herkomst houdt de zorgplicht.",
                zorgplicht_deadline(state),
            )
    if state.route == "3.3" and state.route_variant in ("tlv_sbo", "tlv_so"):
        add(
            contact,
            "tlv_onderbouwing",
            "Schrijf de TLV-onderbouwing; de aanmelding bij de Centrale AanmeldRoute loopt.",
        )
    if state.route == "3.3" and state.route_variant == "arrangement":
        add(contact, "arrangement_inzetten", "Zet een passend arrangement van PPO in (zoals Herstart).")
    if state.route == "3.4" or state.route_variant == "zorgarrangement":
        add(Rol.WIJKTEAM, "zorgarrangement_kiezen", "Kies samen met de ouders een passend zorgarrangement.")
    if state.route == "3.4":
        add(Rol.SCHOOL, "huiswerkpakketten", "Lever huiswerkpakketten aan; de leerling blijft ingeschreven.")


# ------------------------------------------------------------------------------------------------------- status


def weeks_at_home(state: CaseState, now: datetime) -> int:
    """Whole weeks since the (formal) start date; frozen at closure."""
    moment = state.afgesloten_op or now
    return max(0, (amsterdam_date(moment) - state.startdatum).days // 7)


def status(state: CaseState, now: datetime) -> CaseStatus:
    termijn = next_term(state)
    return CaseStatus(
        leerling_ref=state.aanmelding.leerling_ref,
        fase=state.fase,
        fase_naam=FASE_NAMEN[state.fase],
        sector=state.aanmelding.sector,
        regio=state.aanmelding.regio,
        regiehouder=state.regiehouder,
        leerplichtig=state.leerplichtig,
        uit_buitenland=state.uit_buitenland,
        startdatum=state.startdatum,
        weken_thuis=weeks_at_home(state, now),
        deadline_12_weken=state.deadline_12_weken,
        escalatie=state.escalatie,
        route=state.route,
        route_variant=state.route_variant,
        wachtlijst=state.wachtlijst,
        vrijstelling=state.vrijstelling,
        open_taken=open_tasks(state),
        tijdlijn=list(state.tijdlijn),
        tijdlijn_totaal=state.tijdlijn_totaal,
        afgewezen=list(state.afgewezen),
        afgewezen_totaal=state.afgewezen_totaal,
        afgesloten=state.afgesloten,
        uitkomst=state.uitkomst,
        volgende_termijn=termijn.omschrijving if termijn else None,
        volgende_termijn_op=termijn.op if termijn else None,
    )


def details_markdown(state: CaseState, now: datetime) -> str:
    """The case at a glance for the Web UI's current details: no names, dates of birth or free text."""
    termijn = next_term(state)
    lines = [
        f"**Fase {state.fase}: {FASE_NAMEN[state.fase]}**",
        "",
        f"- Weken thuis: {weeks_at_home(state, now)}",
        f"- Regie: {state.regiehouder.value}",
        f"- Escalatie: {state.escalatie.value}",
    ]
    if state.route:
        lines.append(f"- Route: {state.route}" + (f" ({state.route_variant})" if state.route_variant else ""))
    if state.afgesloten:
        lines.append(f"- Afgesloten: {_uitkomst_tekst(state)}")
    elif termijn:
        lines.append(f"- Volgende termijn: {termijn.omschrijving} op {termijn.op.isoformat()}")
    tasks = open_tasks(state)
    if tasks:
        lines += ["", "**Open taken**", *(f"- {t.rol.value}: {t.omschrijving}" for t in tasks[:8])]
        if len(tasks) > 8:
            lines.append(f"- … en nog {len(tasks) - 8}")
    return "\n".join(lines)


def static_summary(aanmelding: Aanmelding) -> str:
    """One line for the Web UI's case list: no personal data."""
    herkomst = "uit het buitenland" if aanmelding.uit_buitenland else (aanmelding.school_brin or "")
    return f"Thuiszitter {aanmelding.sector.value} {aanmelding.regio.value} {herkomst}".strip()


# ---------------------------------------------------------------------------------------------------- internals


def _successor(state: CaseState) -> CaseState:
    """A copy of the state that the rules may change, leaving ``state`` as it was.

    Only the containers the rules change are copied, each of bounded size (the timeline is capped, the effects are
    handed over to the workflow after every event), so one event costs the same on the thousandth event of a case
    as on its tenth; the values inside them (timeline entries, effects, tasks) are never changed in place."""
    return state.model_copy(
        update={
            "deelnemers": list(state.deelnemers),
            "andere_school": state.andere_school.model_copy() if state.andere_school is not None else None,
            "handmatige_taken": list(state.handmatige_taken),
            "tijdlijn": list(state.tijdlijn),
            "gevuurd": list(state.gevuurd),
            "vingerafdrukken": dict(state.vingerafdrukken),
            "openstaand": list(state.openstaand),
        }
    )


def _log(state: CaseState, now: datetime, gebeurtenis: str, door: str | None, toelichting: str) -> None:
    state.tijdlijn.append(TijdlijnRegel(tijd=now, gebeurtenis=gebeurtenis, door=door, toelichting=toelichting))
    state.tijdlijn_totaal += 1
    if len(state.tijdlijn) > MAX_TIJDLIJN:
        del state.tijdlijn[: len(state.tijdlijn) - MAX_TIJDLIJN]


def _next_key(state: CaseState, what: str) -> str:
    return f"{state.case_id}:{state.volgnummer + 1}:{what}"


def _call(state: CaseState, systeem: Systeem, actie: str, **gegevens: Any) -> None:
    state.openstaand.append(
        Registratie(
            sleutel=_next_key(state, f"{systeem.value}.{actie}"),
            case_id=state.case_id,
            leerling_ref=state.aanmelding.leerling_ref,
            systeem=systeem,
            actie=actie,
            gegevens={k: v for k, v in gegevens.items() if v is not None},
        )
    )


def _send(state: CaseState, rol: Rol, sjabloon: str, **gegevens: Any) -> None:
    state.openstaand.append(
        Bericht(
            sleutel=_next_key(state, f"{rol.value}.{sjabloon}"),
            case_id=state.case_id,
            leerling_ref=state.aanmelding.leerling_ref,
            rol=rol,
            sjabloon=sjabloon,
            regio=state.aanmelding.regio,
            sector=state.aanmelding.sector,
            gegevens={k: v for k, v in gegevens.items() if v is not None},
        )
    )


def _record(state: CaseState, now: datetime, gebeurtenis: str, door: str | None) -> None:
    """Close the event: one numbered register line with the case's state after it."""
    state.volgnummer += 1
    state.openstaand.append(
        Vastlegging(
            sleutel=f"{state.case_id}:{state.volgnummer}:vastlegging",
            case_id=state.case_id,
            volgnummer=state.volgnummer,
            leerling_ref=state.aanmelding.leerling_ref,
            workflow_id=state.workflow_id,
            tijd=now,
            gebeurtenis=gebeurtenis,
            door=door,
            sector=state.aanmelding.sector,
            regio=state.aanmelding.regio,
            school_brin=state.aanmelding.school_brin,
            leerplichtig=state.leerplichtig,
            startdatum=state.startdatum,
            fase=state.fase,
            regiehouder=state.regiehouder,
            escalatie=state.escalatie,
            route=state.route,
            wachtlijst=state.wachtlijst,
            afgesloten=state.afgesloten,
            uitkomst=state.uitkomst,
            open_taken=open_tasks(state),
        )
    )


def _school(state: CaseState) -> Rol:
    """The school of registration; a pupil from abroad has none, and Leerplicht absoluut verzuim acts instead."""
    return Rol.LEERPLICHT_ABSOLUUT_VERZUIM if state.uit_buitenland else Rol.SCHOOL


def _contact(state: CaseState) -> Rol:
    """The SCP or the Koersloket; a pupil from abroad has no school and so none: Leerplicht absoluut verzuim."""
    return Rol.LEERPLICHT_ABSOLUUT_VERZUIM if state.uit_buitenland else state.contactrol


def _school_and_contact(state: CaseState) -> tuple[Rol, ...]:
    """Who follows the case day to day and hears of its terms: each role once."""
    return tuple(dict.fromkeys((_school(state), _contact(state))))


def _uitkomst_tekst(state: CaseState) -> str:
    return state.uitkomst.value.replace("_", " ") if state.uitkomst else "open"


def _weken_tekst(dagen: int) -> str:
    return f"{dagen // 7} weken" if dagen % 7 == 0 else f"{dagen} dagen"


def _short(text: str) -> str:
    """A name or field that was sent in, fit to echo: at most 60 characters, control characters replaced."""
    text = text if len(text) <= 60 else text[:57] + "..."
    return "".join(c if c.isprintable() else "?" for c in text)


def effects_of(state: CaseState) -> Iterable[Effect]:
    return tuple(state.openstaand)


def take_effects(state: CaseState) -> list[Effect]:
    """Hand the effects queued in ``state`` over to the caller (the workflow, which runs them) and empty its queue.

    The workflow calls this after every rule it applies, so the state it keeps never holds a backlog of effects:
    copying a state for the next event stays cheap however many effects are waiting to be carried out."""
    effects, state.openstaand = state.openstaand, []
    return effects
