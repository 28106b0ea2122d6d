"""The events of contract version 2 (CONTRACT.md): who may send them, may they happen now, and what follows.

Version 2 keeps every rule of version 1 (:mod:`workflows.events`) that the seeds confirm and changes the rest:
``door`` is required and checked against the permission table (:mod:`workflows.permissions`); PO runs through
PPO Rotterdam and VO through Koers VO; the twelve-week check is a decision (``beoordeling`` or ``opschalen``);
``passende_plek`` opens phase 4 and ``afronden`` closes the case after its checks; tasks are kept and finished
(:mod:`workflows.work`); what people decided is kept in the dossier.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta

from pydantic import ValidationError

from workflows import events as v1
from workflows.contract import (
    ESCALATIE_NIVEAU,
    ROL_NAMEN,
    ROUTE_33_VARIANTEN_PER_SECTOR,
    Aanmelding,
    Afronden,
    Beoordeling,
    Besluit,
    Deelnemer,
    Document,
    DocumentToegevoegd,
    Door,
    Escalatie,
    Gebeurtenis,
    GegevensWijzigen,
    Huisbezoek,
    HuisbezoekVerslag,
    Interventie,
    LeerplichtInterventie,
    NieuweAanmelding,
    Opschalen,
    Oudergesprek,
    OudergesprekVerslag,
    PassendePlek,
    Rol,
    Route,
    Sector,
    TaakAfgerond,
    TaskforceBesluit,
    Toewijzen,
    Uitkomst,
    Uitschrijving,
    Voortgang,
    Vrijstelling,
)
from workflows.effects import Actie, Sjabloon, Systeem
from workflows.outbox import call, send
from workflows.permissions import allowed_roles
from workflows.state import (
    BYTES_BESLUITEN,
    BYTES_DOCUMENTEN,
    BYTES_INTERVENTIES,
    MAX_BESLUITEN,
    MAX_DOCUMENTEN,
    MAX_INTERVENTIES,
    MAX_OPEN_ACTIES,
    SYSTEEM,
    CaseState,
    Weigering,
    contact_of,
    keep_latest,
    log,
    school_and_contact,
    school_of,
    short,
)
from workflows.steps import close, escalate, kindkans_effects
from workflows.work import BY_HAND, FULFILLED_BY, Step, finish_by_hand, open_task, phase_4_checks, uitschrijving_needed


def check_door(state: CaseState, name: str, event: Gebeurtenis) -> None:
    """Refuse an event from a role that may not send it, naming the role."""
    task_role = None
    if isinstance(event, TaakAfgerond):
        taak = next((t for t in state.taken if t.id == event.taak_id), None)
        if taak is None:
            raise Weigering(f"taak_afgerond: er is geen open taak met id '{short(event.taak_id)}'")
        task_role = taak.rol.value
    allowed = allowed_roles(
        name, event, sector=state.aanmelding.sector, uit_buitenland=state.uit_buitenland, task_role=task_role
    )
    if event.door not in allowed:
        wie = " of ".join(ROL_NAMEN[r.value] for r in allowed) if allowed else "geen enkele rol"
        raise Weigering(
            f"{name}: {ROL_NAMEN[event.door.value]} mag dit niet doen"
            + (f" in een {state.aanmelding.sector.value}-zaak" if name in _PER_SECTOR else "")
            + f"; dat doet {wie}"
        )


_PER_SECTOR = frozenset({"melding", "oudergesprek", "wachtlijst", "route", "beoordeling", "afronden", "opschalen"})


def check(state: CaseState, name: str, event: Gebeurtenis, today: date) -> None:
    if isinstance(event, Opschalen) and event.niveau == "coordinator" and state.aanmelding.sector is Sector.VO:
        raise Weigering("opschalen: VO kent geen PPO-coördinator; het Koersloket beslist over de Taskforce")
    check_door(state, name, event)
    own = _CHECKS.get(name)
    if own is not None:
        own(state, event, today)
    else:
        v1._CHECKS[name](state, event, today)


def _check_oudergesprek(state: CaseState, event: Gebeurtenis, today: date) -> None:
    assert isinstance(event, Oudergesprek)
    v1._no_school_steps(state, "oudergesprek")
    if state.fase < 1:
        raise Weigering("oudergesprek: eerst de melding thuiszitter (fase 1)")
    deelnemers = set(event.deelnemers)
    contact = Deelnemer.SCP if state.aanmelding.sector is Sector.PO else Deelnemer.KOERSLOKET
    missing = [d.value for d in (Deelnemer.SCHOOL, Deelnemer.OUDERS, contact) if d not in deelnemers]
    if missing:
        raise Weigering("oudergesprek: veld 'deelnemers' mist " + ", ".join(missing))
    other = Deelnemer.KOERSLOKET if contact is Deelnemer.SCP else Deelnemer.SCP
    if other in deelnemers:
        raise Weigering(
            f"oudergesprek: veld 'deelnemers' noemt {other.value}, maar die hoort niet bij een "
            f"{state.aanmelding.sector.value}-zaak"
        )


def _check_route(state: CaseState, event: Gebeurtenis, today: date) -> None:
    assert isinstance(event, Route)
    v1._check_route(state, event, today)
    sector = state.aanmelding.sector
    if event.route == "3.3" and event.variant not in ROUTE_33_VARIANTEN_PER_SECTOR[sector]:
        raise Weigering(
            f"route: variant '{short(event.variant or '')}' hoort niet bij {sector.value}; bij route 3.3 een van "
            + ", ".join(ROUTE_33_VARIANTEN_PER_SECTOR[sector])
        )


def _check_opschalen(state: CaseState, event: Gebeurtenis, today: date) -> None:
    assert isinstance(event, Opschalen)
    niveau = Escalatie(event.niveau)
    if state.fase >= 4:
        raise Weigering("opschalen: er is al een passende plek (fase 4)")
    if niveau is Escalatie.COORDINATOR and state.aanmelding.sector is Sector.VO:
        raise Weigering("opschalen: VO kent geen PPO-coördinator; het Koersloket beslist over de Taskforce")
    if ESCALATIE_NIVEAU[niveau] <= ESCALATIE_NIVEAU[state.escalatie]:
        raise Weigering(f"opschalen: de zaak is al opgeschaald naar {state.escalatie.value}")
    if niveau is Escalatie.TASKFORCE:
        missing = []
        if state.leerplichtig and not event.afgestemd_met_leerplicht:
            missing.append("afgestemd_met_leerplicht")
        if not state.uit_buitenland and not event.afgestemd_met_school:
            missing.append("afgestemd_met_school")
        if missing:
            raise Weigering(
                "opschalen: naar de Taskforce alleen na afstemming vooraf met "
                + ("de leerplichtambtenaar en de school" if len(missing) == 2 else _afstemming(missing[0]))
                + "; veld "
                + " en ".join(f"'{m}'" for m in missing)
                + " moet true zijn"
            )
        if state.aanmelding.sector is Sector.VO and not state.aanmelding.woont_in_rotterdam:
            raise Weigering(
                "opschalen: Koers VO brengt alleen leerlingen die in Rotterdam wonen in bij de Taskforce "
                "(woont_in_rotterdam is false)"
            )


def _afstemming(veld: str) -> str:
    return "de leerplichtambtenaar" if veld == "afgestemd_met_leerplicht" else "de school"


def _check_beoordeling(state: CaseState, event: Gebeurtenis, today: date) -> None:
    assert isinstance(event, Beoordeling)
    if state.fase >= 4:
        raise Weigering("beoordeling: er is al een passende plek (fase 4)")
    if state.escalatie is Escalatie.TASKFORCE:
        raise Weigering("beoordeling: de zaak is al bij de Taskforce")
    if event.door.value == "coordinator" and state.escalatie is not Escalatie.COORDINATOR:
        raise Weigering("beoordeling: de coördinator beoordeelt pas als de zaak naar hem of haar is opgeschaald")
    if event.door.value != "coordinator" and state.escalatie is Escalatie.COORDINATOR:
        raise Weigering("beoordeling: de zaak is opgeschaald; nu beslist de thuiszitterscoördinator")
    if event.herbeoordeling_op <= today:
        raise Weigering("beoordeling: veld 'herbeoordeling_op' moet na vandaag liggen")
    if event.herbeoordeling_op > today + timedelta(days=state.beleid.herbeoordeling_max_dagen):
        raise Weigering(
            "beoordeling: veld 'herbeoordeling_op' ligt verder dan "
            f"{state.beleid.herbeoordeling_max_dagen // 7} weken vooruit"
        )


def _check_huisbezoek(state: CaseState, event: Gebeurtenis, today: date) -> None:
    v1._check_huisbezoek(state, event, today)


_OTHER_ORGANISATION: dict[Sector, frozenset[Door]] = {
    Sector.PO: frozenset({Door.KOERSLOKET}),
    Sector.VO: frozenset({Door.SCP, Door.COORDINATOR}),
}
"""Roles of the other sector's organisation: a decision in a case cannot give them an action."""


def _check_taskforce_besluit(state: CaseState, event: Gebeurtenis, today: date) -> None:
    assert isinstance(event, TaskforceBesluit)
    v1._check_taskforce_besluit(state, event, today)
    open_acties = sum(t.taak == "taskforce_actie" for t in state.taken)
    if open_acties + len(event.acties) > MAX_OPEN_ACTIES:
        raise Weigering(
            f"taskforce_besluit: er staan al {open_acties} acties van de Taskforce open; met deze "
            f"{len(event.acties)} worden het er meer dan {MAX_OPEN_ACTIES}. Meld eerst afgeronde acties af met "
            "taak_afgerond"
        )
    sector = state.aanmelding.sector
    for nummer, actie in enumerate(event.acties):
        if actie.rol in _OTHER_ORGANISATION[sector]:
            raise Weigering(
                f"taskforce_besluit: veld 'acties.{nummer}.rol': {ROL_NAMEN[actie.rol.value]} hoort niet bij een "
                f"{sector.value}-zaak"
            )


def _check_vrijstelling(state: CaseState, event: Gebeurtenis, today: date) -> None:
    assert isinstance(event, Vrijstelling)
    if not state.leerplichtig:
        raise Weigering("vrijstelling: de leerling is (nog) niet leerplichtig; er is geen vrijstelling nodig")
    v1._check_vrijstelling(state, event, today)


def _check_leerplicht_registratie(state: CaseState, event: Gebeurtenis, today: date) -> None:
    if not state.leerplichtig:
        vanaf = state.leerplichtig_vanaf
        raise Weigering(
            "leerplicht_registratie: de leerling is nog niet leerplichtig"
            + (f" (leerplichtig vanaf {vanaf.isoformat()})" if vanaf else "")
            + "; Leerplicht registreert dan niet in de LBA"
        )
    v1._check_leerplicht_registratie(state, event, today)


def _check_passende_plek(state: CaseState, event: Gebeurtenis, today: date) -> None:
    if state.fase >= 4:
        raise Weigering(f"passende_plek: er is al een passende plek ({state.uitkomst.value if state.uitkomst else ''})")
    v1._check_passende_plek(state, event, today)


def _check_uitschrijving(state: CaseState, event: Gebeurtenis, today: date) -> None:
    assert isinstance(event, Uitschrijving)
    if state.fase < 4:
        raise Weigering("uitschrijving: eerst de passende plek (passende_plek, fase 4)")
    if not uitschrijving_needed(state):
        raise Weigering("uitschrijving: bij deze uitkomst blijft de leerling op de eigen school ingeschreven")
    if state.uitgeschreven_op is not None:
        raise Weigering("uitschrijving: de uitschrijving is al vastgelegd")
    if event.uitgeschreven_op > today:
        raise Weigering("uitschrijving: veld 'uitgeschreven_op' ligt in de toekomst")


def _check_afronden(state: CaseState, event: Gebeurtenis, today: date) -> None:
    if state.fase < 4:
        raise Weigering("afronden: eerst de passende plek (passende_plek, fase 4)")
    if missing := phase_4_checks(state):
        raise Weigering("afronden: nog open: " + "; ".join(missing))


def _check_taak_afgerond(state: CaseState, event: Gebeurtenis, today: date) -> None:
    assert isinstance(event, TaakAfgerond)
    taak = next(t for t in state.taken if t.id == event.taak_id)  # check_door found it
    fulfilled = FULFILLED_BY.get(taak.taak, (BY_HAND,))
    if BY_HAND not in fulfilled:
        raise Weigering(
            f"taak_afgerond: taak {taak.id} wordt afgerond door de gebeurtenis "
            + " of ".join(f"'{e}'" for e in fulfilled)
            + "; stuur die"
        )


def _check_toewijzen(state: CaseState, event: Gebeurtenis, today: date) -> None:
    assert isinstance(event, Toewijzen)
    if state.toegewezen.get(event.rol.value) == event.persoon:
        raise Weigering("toewijzen: deze persoon heeft die rol al in deze zaak")


def _check_document(state: CaseState, event: Gebeurtenis, today: date) -> None:
    assert isinstance(event, DocumentToegevoegd)
    if any(d.verwijzing == event.verwijzing and d.soort == event.soort.value for d in state.documenten):
        raise Weigering("document_toegevoegd: dit document staat al in de zaak")


def _check_gegevens_wijzigen(state: CaseState, event: Gebeurtenis, today: date) -> None:
    assert isinstance(event, GegevensWijzigen)
    changes = _changes(state, event)
    if not changes:
        raise Weigering("gegevens_wijzigen: de gegevens zijn al zo")
    if "school_brin" in changes and state.uit_buitenland:
        raise Weigering("gegevens_wijzigen: een leerling uit het buitenland heeft geen school van inschrijving")
    if "sector" in changes and state.fase >= 4:
        raise Weigering("gegevens_wijzigen: de sector verandert niet meer na de passende plek (fase 4)")
    _corrected(state, changes)


def _changes(state: CaseState, event: GegevensWijzigen) -> dict[str, object]:
    current = state.aanmelding
    return {
        field: getattr(event, field)
        for field in ("school_brin", "regio", "sector", "woont_in_rotterdam")
        if getattr(event, field) is not None and getattr(event, field) != getattr(current, field)
    }


def _corrected(state: CaseState, changes: dict[str, object]) -> Aanmelding:
    try:
        checked = NieuweAanmelding.model_validate({**state.aanmelding.model_dump(), **changes})
        return Aanmelding.model_validate(checked.model_dump())
    except ValidationError as error:
        raise Weigering(f"gegevens_wijzigen: {v1.describe_validation_error(error)}") from None


def _check_interventie(state: CaseState, event: Gebeurtenis, today: date) -> None:
    if not state.leerplichtig:
        raise Weigering("leerplicht_interventie: de leerling is (nog) niet leerplichtig")
    if state.fase < 1:
        raise Weigering("leerplicht_interventie: eerst de melding thuiszitter (fase 1)")


def _check_nothing(state: CaseState, event: Gebeurtenis, today: date) -> None:
    return None


_CHECKS: dict[str, Callable[[CaseState, Gebeurtenis, date], None]] = {
    "oudergesprek": _check_oudergesprek,
    "route": _check_route,
    "opschalen": _check_opschalen,
    "beoordeling": _check_beoordeling,
    "taskforce_besluit": _check_taskforce_besluit,
    "vrijstelling": _check_vrijstelling,
    "leerplicht_registratie": _check_leerplicht_registratie,
    "passende_plek": _check_passende_plek,
    "uitschrijving": _check_uitschrijving,
    "afronden": _check_afronden,
    "taak_afgerond": _check_taak_afgerond,
    "toewijzen": _check_toewijzen,
    "document_toegevoegd": _check_document,
    "gegevens_wijzigen": _check_gegevens_wijzigen,
    "leerplicht_interventie": _check_interventie,
}


# ------------------------------------------------------------------------------------------------------ apply


def apply(state: CaseState, name: str, event: Gebeurtenis, day: date, now: datetime) -> None:
    own = _APPLY.get(name)
    if own is not None:
        own(state, event, day, now)
    else:
        v1._APPLY[name](state, event, day, now)


def _keep(state: CaseState, **changes: object) -> None:
    state.dossier = state.dossier.model_copy(update=changes)
    state.dossier_gewijzigd = True


def _apply_oudergesprek(state: CaseState, event: Gebeurtenis, day: date, now: datetime) -> None:
    assert isinstance(event, Oudergesprek)
    v1._apply_oudergesprek(state, event, day, now)
    _keep(
        state,
        oudergesprek=OudergesprekVerslag(
            op=day,
            deelnemers=state.deelnemers,
            wensen_ouders=event.wensen_ouders,
            besproken_opties=event.besproken_opties,
            afspraken=event.afspraken,
        ),
    )


def _apply_voortgang(state: CaseState, event: Gebeurtenis, day: date, now: datetime) -> None:
    """Progress goes to the parents and the SCP or Koersloket, and from the school also to Leerplicht and the
    wijkteam where it takes part (a care route, or the oudergesprek): the seeds' school keeps them informed."""
    assert isinstance(event, Voortgang)
    ontvangers = [Rol.OUDERS, contact_of(state)]
    if event.door is Door.SCHOOL:
        if state.leerplichtig and state.melding_op is not None:
            ontvangers.append(state.leerplichtrol)
        if state.route == "3.4" or state.route_variant == "zorgarrangement" or Rol.WIJKTEAM.value in state.deelnemers:
            ontvangers.append(Rol.WIJKTEAM)
    ontvangers = [rol for rol in dict.fromkeys(ontvangers) if rol.value != event.door.value]
    log(
        state,
        now,
        "voortgang",
        event.door,
        "Voortgang doorgegeven aan " + ", ".join(ROL_NAMEN[r.value] for r in ontvangers) + ".",
    )
    for rol in ontvangers:
        send(state, rol, Sjabloon.VOORTGANG, toelichting=event.toelichting)
    if state.kindkans_hulpvraag:
        call(state, Systeem.KINDKANS, Actie.HULPVRAAG_BIJWERKEN, gebeurtenis="voortgang", fase=state.fase)


def _apply_opschalen(state: CaseState, event: Gebeurtenis, day: date, now: datetime) -> None:
    assert isinstance(event, Opschalen)
    escalate(state, Escalatie(event.niveau), now, event.door, reden_code=event.reden_code.value, reden=event.reden)


def _apply_beoordeling(state: CaseState, event: Gebeurtenis, day: date, now: datetime) -> None:
    assert isinstance(event, Beoordeling)
    state.check_stand = "uitzicht"
    state.check_ronde = max(state.check_ronde, 1)
    state.check_herbeoordeling_op = event.herbeoordeling_op
    state.check_uitzicht = event.uitzicht
    log(
        state,
        now,
        "beoordeling",
        event.door,
        "Uitzicht op een duurzame oplossing; de check komt terug op " + event.herbeoordeling_op.isoformat() + ".",
    )


def _apply_huisbezoek(state: CaseState, event: Gebeurtenis, day: date, now: datetime) -> None:
    assert isinstance(event, Huisbezoek)
    state.huisbezoek_op = day
    _keep(state, huisbezoek=HuisbezoekVerslag(op=day, samenvatting=event.samenvatting, door=event.door))
    log(state, now, "huisbezoek", event.door, "Verslag van het huisbezoek vastgelegd voor de Kerngroep.")


def _apply_taskforce_besluit(state: CaseState, event: Gebeurtenis, day: date, now: datetime) -> None:
    assert isinstance(event, TaskforceBesluit)
    state.taskforce_besluiten += 1
    ids = []
    per_rol: dict[Rol, list[tuple[str, date, str]]] = {}
    for nummer, actie in enumerate(event.acties, start=1):
        rol = Rol(actie.rol.value)
        taak = open_task(
            state,
            Step(
                f"taskforce_actie_{state.taskforce_besluiten}_{nummer}",
                rol,
                "taskforce_actie",
                actie.omschrijving,
                actie.uiterlijk,
            ),
            day,
            los=True,
        )
        ids.append(taak.id)
        per_rol.setdefault(rol, []).append((actie.omschrijving, actie.uiterlijk, taak.id))
    for rol, acties in per_rol.items():  # one message per role: a message's key names the role and the template
        send(
            state,
            rol,
            Sjabloon.TASKFORCE_ACTIE,
            omschrijving="; ".join(omschrijving for omschrijving, _, _ in acties),
            uiterlijk=min(uiterlijk for _, uiterlijk, _ in acties).isoformat(),
            taak_id=", ".join(taak_id for _, _, taak_id in acties),
        )
    besluiten = keep_latest(
        [*state.dossier.besluiten, Besluit(op=day, besluit=event.besluit, acties=ids)], MAX_BESLUITEN, BYTES_BESLUITEN
    )
    _keep(state, besluiten=besluiten)
    log(
        state,
        now,
        "taskforce_besluit",
        event.door,
        "Besluit van de Taskforce vastgelegd" + (f", met {len(ids)} actie(s): " + ", ".join(ids) if ids else "") + ".",
    )
    for rol in school_and_contact(state):
        send(state, rol, Sjabloon.TASKFORCE_BESLUIT, aantal_acties=len(ids) or None)


_UITKOMST_TEKST = {
    "terug_op_school": "Passende plek: de leerling is terug op school.",
    "ingeschreven_andere_school": "Passende plek: ingeschreven op school {school}; de oude school schrijft uit.",
    "vrijstelling": "Passende plek: vrijstelling van de leerplicht; de school schrijft uit.",
}


def _apply_passende_plek(state: CaseState, event: Gebeurtenis, day: date, now: datetime) -> None:
    assert isinstance(event, PassendePlek)
    state.fase = 4
    state.uitkomst = Uitkomst(event.uitkomst)
    log(state, now, "passende_plek", event.door, _UITKOMST_TEKST[event.uitkomst].format(school=event.school_brin))
    if state.kindkans_hulpvraag:
        call(state, Systeem.KINDKANS, Actie.HULPVRAAG_BIJWERKEN, gebeurtenis="passende_plek", fase=4)
    controles = [*phase_4_checks(state), "de controle en afronding door " + ROL_NAMEN[contact_of(state).value]]
    send(
        state,
        contact_of(state),
        Sjabloon.PASSENDE_PLEK,
        uitkomst=event.uitkomst,
        school_brin=event.school_brin,
        controles=controles,
    )
    if uitschrijving_needed(state):
        send(state, school_of(state), Sjabloon.UITSCHRIJVEN, uitkomst=event.uitkomst, school_brin=event.school_brin)
    if state.leerplichtig and state.melding_op is not None and event.uitkomst != "vrijstelling":
        send(
            state, state.leerplichtrol, Sjabloon.VERZUIM_VOLGEN, uitkomst=event.uitkomst, school_brin=event.school_brin
        )


def _apply_uitschrijving(state: CaseState, event: Gebeurtenis, day: date, now: datetime) -> None:
    assert isinstance(event, Uitschrijving)
    state.uitgeschreven_op = event.uitgeschreven_op
    log(
        state,
        now,
        "uitschrijving",
        event.door,
        f"De oude school heeft de leerling uitgeschreven op {event.uitgeschreven_op.isoformat()}.",
    )
    if not phase_4_checks(state):
        send(state, contact_of(state), Sjabloon.AFRONDEN, uitkomst=state.uitkomst.value if state.uitkomst else None)


def _apply_afronden(state: CaseState, event: Gebeurtenis, day: date, now: datetime) -> None:
    assert isinstance(event, Afronden)
    _keep(state, afronding=event.toelichting)
    log(state, now, "afronden", event.door, "De zaak is gecontroleerd en afgerond.")
    close(state, now, afsluiten_actie=Actie.HULPVRAAG_AFSLUITEN)


def _apply_taak_afgerond(state: CaseState, event: Gebeurtenis, day: date, now: datetime) -> None:
    assert isinstance(event, TaakAfgerond)
    taak = finish_by_hand(state, event.taak_id, day, event.door.value, event.toelichting)
    log(state, now, "taak_afgerond", event.door, f"Taak {taak.id} ({taak.taak}) afgerond.")


def _apply_toewijzen(state: CaseState, event: Gebeurtenis, day: date, now: datetime) -> None:
    assert isinstance(event, Toewijzen)
    state.toegewezen[event.rol.value] = event.persoon
    log(state, now, "toewijzen", event.door, f"De taken van {event.rol.value} zijn toegewezen aan {event.persoon}.")


def _apply_document(state: CaseState, event: Gebeurtenis, day: date, now: datetime) -> None:
    assert isinstance(event, DocumentToegevoegd)
    document = Document(
        soort=event.soort.value,
        verwijzing=event.verwijzing,
        omschrijving=event.omschrijving,
        toegevoegd_op=day,
        door=event.door.value,
    )
    state.documenten = keep_latest([*state.documenten, document], MAX_DOCUMENTEN, BYTES_DOCUMENTEN)
    state.dossier_gewijzigd = True
    log(state, now, "document_toegevoegd", event.door, f"Document toegevoegd: {event.soort.value.replace('_', ' ')}.")


def _apply_gegevens_wijzigen(state: CaseState, event: Gebeurtenis, day: date, now: datetime) -> None:
    assert isinstance(event, GegevensWijzigen)
    changes = _changes(state, event)
    oude_sector = state.aanmelding.sector
    state.aanmelding = _corrected(state, changes)
    log(
        state,
        now,
        "gegevens_wijzigen",
        event.door,
        "Gegevens van de aanmelding gecorrigeerd: " + ", ".join(sorted(changes)) + ".",
    )
    if state.aanmelding.sector is oude_sector:
        return
    _moved_sector(state, oude_sector, now)


def _moved_sector(state: CaseState, oude_sector: Sector, now: datetime) -> None:
    """PO to VO: the case leaves PPO (its Kindkans hulpvraag is withdrawn, no PPO coordinator); VO to PO: PPO's
    part of the melding is done now."""
    state.toegewezen.pop(Rol.SCP.value if oude_sector is Sector.PO else Rol.KOERSLOKET.value, None)
    if state.route == "3.3" and state.route_variant not in ROUTE_33_VARIANTEN_PER_SECTOR[state.aanmelding.sector]:
        state.route = None
        state.route_variant = None
        log(
            state,
            now,
            "gegevens_wijzigen",
            SYSTEEM,
            "De gekozen variant van route 3.3 bestaat niet in de nieuwe sector: kies opnieuw.",
        )
    if oude_sector is Sector.PO:
        if state.kindkans_hulpvraag:
            call(state, Systeem.KINDKANS, Actie.HULPVRAAG_INTREKKEN, uitkomst="naar_vo")
            state.kindkans_hulpvraag = False
        if state.escalatie is Escalatie.COORDINATOR:
            state.escalatie = Escalatie.GEEN
            if state.check_stand == "opgeschaald":
                state.check_stand = "open"
    elif state.fase >= 1 and not state.uit_buitenland:
        kindkans_effects(state)
    if not state.uit_buitenland:
        send(
            state,
            state.contactrol,
            Sjabloon.SECTOR_GEWIJZIGD,
            sector=state.aanmelding.sector.value,
            startdatum=state.startdatum.isoformat(),
        )


def _apply_interventie(state: CaseState, event: Gebeurtenis, day: date, now: datetime) -> None:
    assert isinstance(event, LeerplichtInterventie)
    interventies = keep_latest(
        [*state.dossier.interventies, Interventie(op=day, soort=event.soort.value, toelichting=event.toelichting)],
        MAX_INTERVENTIES,
        BYTES_INTERVENTIES,
    )
    _keep(state, interventies=interventies)
    log(
        state,
        now,
        "leerplicht_interventie",
        event.door,
        f"Leerplicht heeft de ouders aangesproken ({event.soort.value.replace('_', ' ')}).",
    )


_APPLY: dict[str, Callable[[CaseState, Gebeurtenis, date, datetime], None]] = {
    "oudergesprek": _apply_oudergesprek,
    "voortgang": _apply_voortgang,
    "opschalen": _apply_opschalen,
    "beoordeling": _apply_beoordeling,
    "huisbezoek": _apply_huisbezoek,
    "taskforce_besluit": _apply_taskforce_besluit,
    "passende_plek": _apply_passende_plek,
    "uitschrijving": _apply_uitschrijving,
    "afronden": _apply_afronden,
    "taak_afgerond": _apply_taak_afgerond,
    "toewijzen": _apply_toewijzen,
    "document_toegevoegd": _apply_document,
    "gegevens_wijzigen": _apply_gegevens_wijzigen,
    "leerplicht_interventie": _apply_interventie,
}
