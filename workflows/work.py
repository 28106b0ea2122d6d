"""Tasks as work (CONTRACT.md version 2): each step a person must take is a task with a stable id, a role, a due
date and, once known, an assignee. It stays open until the event that fulfils it arrives (:data:`FULFILLED_BY`), or
the person finishes it by hand (``taak_afgerond``) where no event does; finished tasks are kept.

Which steps are due follows from where the case stands (:func:`due_steps`, pure); :func:`sync` turns that into the
case's stored tasks after every event and term: a step that is due and has no task gets one, a task whose step is
no longer due is finished by the event at hand. Cases of version 1 derive their tasks anew each time
(:mod:`workflows.tasks`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Protocol

from workflows.calendar import add_working_days
from workflows.contract import AfgerondeTaak, Escalatie, Rol, Sector, Taak
from workflows.state import (
    BYTES_AFGERONDE_TAKEN,
    MAX_AFGERONDE_TAKEN,
    CaseState,
    TaakRecord,
    contact_of,
    keep_latest,
    route_andere_school,
    school_of,
)
from workflows.terms import Termijnsoort, terms, zorgplicht_deadline

BY_HAND = "taak_afgerond"

FULFILLED_BY: dict[str, tuple[str, ...]] = {
    "voortraject_bespreken": ("melding",),
    "preventie_bespreken": ("melding", BY_HAND),
    "thuiszitter_melden": ("melding",),
    "hulpvraag_controleren": (BY_HAND,),
    "lba_registreren": ("leerplicht_registratie",),
    "leerplichtmelding_controleren": ("leerplicht_registratie", BY_HAND),
    "school_zoeken": ("passende_plek",),
    "oudergesprek_organiseren": ("oudergesprek",),
    "plan_van_aanpak_opstellen": ("plan_van_aanpak",),
    "plan_in_opp_opnemen": ("plan_van_aanpak",),
    "instemming_ouders_vragen": ("plan_van_aanpak",),
    "voortgang_melden": ("voortgang",),
    "route_kiezen": ("route",),
    "passend_aanbod": (BY_HAND,),
    "passende_school_zoeken": ("aanmelding_andere_school",),
    "schriftelijk_aanmelden": ("aanmelding_andere_school",),
    "besluit_ontvangende_school": ("passende_plek", "aanmelding_andere_school"),
    "tlv_onderbouwing": (BY_HAND,),
    "arrangement_inzetten": (BY_HAND,),
    "zorgarrangement_kiezen": (BY_HAND,),
    "huiswerkpakketten": (BY_HAND,),
    "tussenprogramma_adviseren": ("wachtlijst", BY_HAND),
    "twaalf_weken_besluit": ("opschalen", "beoordeling"),
    "besluit_taskforce": ("opschalen", "beoordeling"),
    "ouders_informeren_taskforce": (BY_HAND,),
    "huisbezoek": ("huisbezoek",),
    "besluit_nemen": ("taskforce_besluit",),
    "vrijstelling_doorzetten": ("vrijstelling", BY_HAND),
    "uitschrijven": ("uitschrijving",),
    "verzuim_volgen": (BY_HAND,),
    "passende_plek_afronden": ("afronden",),
    "taskforce_actie": (BY_HAND,),
    "handmatig_afhandelen": (BY_HAND,),
}
"""Which event finishes each kind of task (``taak_afgerond``: a person finishes it by hand). Every task also ends
when the case closes (``afronden``, ``intrekken``), and a step the case no longer needs (a route changed, the
case escalated past it) ends with the event that made it so."""

FREE_TEXT: dict[str, str] = {
    "taskforce_actie": "Actie uit het besluit van de Taskforce",
    "handmatig_afhandelen": "Handmatig afhandelen na een geweigerde registratie of bericht",
}
"""Tasks whose description holds what people or outside systems wrote: the status shows it (encrypted), anything
unencrypted (the Web UI's details) shows this fixed label instead."""

REMINDED_BY_TERM = frozenset(
    {
        "lba_registreren",
        "oudergesprek_organiseren",
        "plan_van_aanpak_opstellen",
        "plan_in_opp_opnemen",
        "instemming_ouders_vragen",
        "twaalf_weken_besluit",
        "besluit_taskforce",
        "besluit_ontvangende_school",
        "thuiszitter_melden",
    }
)
"""Tasks whose due date is a term of the procedure that already reminds (or escalates): no second reminder."""


@dataclass(frozen=True)
class Step:
    """A step that is due: a task is kept for it while it is."""

    sleutel: str
    rol: Rol
    taak: str
    omschrijving: str
    uiterlijk: date | None = None


def due_steps(state: CaseState) -> list[Step]:
    """The steps people must take now, from where the case stands (pure)."""
    if state.afgesloten:
        return []
    steps: list[Step] = []
    contact = contact_of(state)
    contact_name = "de SCP" if state.contactrol is Rol.SCP else "het Koersloket"
    ahead = {t.soort: t.op for t in terms(state)}

    def add(rol: Rol, taak: str, omschrijving: str, uiterlijk: date | None = None, *, sleutel: str = "") -> None:
        steps.append(Step(sleutel or taak, rol, taak, omschrijving, uiterlijk))

    if state.fase == 0:
        add(Rol.SCHOOL, "voortraject_bespreken", f"Bespreek de leerling met {contact_name} en zet preventief in.")
        add(
            state.contactrol,
            "preventie_bespreken",
            "Bekijk met de school wat preventief kan (voortraject).",
        )
        if Termijnsoort.VIER_WEKEN.value in state.gevuurd:
            add(
                Rol.SCHOOL,
                "thuiszitter_melden",
                f"Meld de thuiszitter bij {'Leerplicht en ' if state.leerplichtig else ''}{contact_name} "
                "(vier weken thuis).",
            )
    if state.uit_buitenland and state.fase < 4:
        add(
            Rol.LEERPLICHT_ABSOLUUT_VERZUIM,
            "school_zoeken",
            "Zoek met de ouders een school en zorg voor inschrijving (leerling uit het buitenland).",
        )
    if state.fase >= 1 and state.kindkans_hulpvraag:
        add(
            Rol.SCP,
            "hulpvraag_controleren",
            "Controleer de hulpvraag thuiszitter in Kindkans (formulier volledig, juiste startdatum, status "
            "'thuiszitter') en het SISA-signaal; het systeem heeft ze aangemaakt.",
        )
    if state.fase >= 1 and state.leerplichtig and state.lba_geregistreerd_op is None:
        add(
            state.leerplichtrol,
            "lba_registreren",
            "Registreer de thuiszitter in de LBA en bevestig de startdatum.",
            ahead.get(Termijnsoort.LBA_HERINNERING),
        )
        if Termijnsoort.LBA_HERINNERING.value in state.gevuurd and not state.uit_buitenland:
            add(
                contact,
                "leerplichtmelding_controleren",
                "Check bij de school of de thuiszitter bij Leerplicht is gemeld.",
            )
    if state.fase == 1 and not state.uit_buitenland:
        add(
            Rol.SCHOOL,
            "oudergesprek_organiseren",
            f"Organiseer een gesprek met ouders en {contact_name}.",
            ahead.get(Termijnsoort.OUDERGESPREK_HERINNERING),
        )
    if state.fase == 2:
        uiterlijk = ahead.get(Termijnsoort.PLAN_HERINNERING)
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
        _route_steps(state, add, contact_name)
    if state.wachtlijst and state.fase < 4:
        add(contact, "tussenprogramma_adviseren", "Adviseer over een passend tussenprogramma tijdens de wachtlijst.")
    check = state.twaalf_weken_check
    if state.fase < 4 and check is not None and check.stand == "open":
        if state.escalatie is Escalatie.COORDINATOR:
            add(
                Rol.COORDINATOR,
                "besluit_taskforce",
                "Besluit of de zaak naar de Taskforce Thuiszitters gaat (opschalen), of leg vast welk uitzicht er is "
                "(beoordeling).",
                check.uiterlijk,
                sleutel=f"besluit_taskforce_{state.check_ronde}",
            )
        elif state.escalatie is Escalatie.GEEN:
            add(
                state.contactrol,
                "twaalf_weken_besluit",
                "Twaalfwekencheck: schaal op, of leg vast welk uitzicht er is op een duurzame oplossing (beoordeling).",
                check.uiterlijk,
                sleutel=f"twaalf_weken_besluit_{state.check_ronde}",
            )
    elif state.fase < 4 and state.escalatie is Escalatie.COORDINATOR and state.check_stand != "uitzicht":
        add(
            Rol.COORDINATOR,
            "besluit_taskforce",
            "Besluit of de zaak naar de Taskforce Thuiszitters gaat (opschalen), of leg vast welk uitzicht er is "
            "(beoordeling).",
            sleutel="besluit_taskforce_opgeschaald",
        )
    if state.escalatie is Escalatie.TASKFORCE and state.fase < 4:
        bespreking = state.kerngroep_bespreking_op
        if state.huisbezoek_op is None:
            add(
                Rol.TASKFORCE,
                "huisbezoek",
                "Leg een huisbezoek af en breng verslag uit aan de Kerngroep.",
                bespreking - timedelta(days=1) if bespreking else None,
            )
        elif state.taskforce_besluiten == 0:
            add(Rol.TASKFORCE, "besluit_nemen", "Bespreek de zaak in de Kerngroep en neem een besluit.", bespreking)
    if state.vrijstelling == "aangevraagd" and state.leerplichtig:
        add(state.leerplichtrol, "vrijstelling_doorzetten", "Zet de aanvraag voor vrijstelling door naar de SMA-arts.")
    if state.fase == 4:
        _phase_4_steps(state, add, contact)
    return steps


def _route_steps(state: CaseState, add: _Add, contact_name: str) -> None:
    school = school_of(state)
    add(school, "voortgang_melden", f"Informeer ouders, {contact_name}, Leerplicht en het wijkteam over de voortgang.")
    if state.route is None:
        add(school, "route_kiezen", f"Kies met ouders en {contact_name} een oplossingsroute (3.1 tot 3.4).")
        return
    if state.route == "3.1":
        add(school, "passend_aanbod", "Zorg voor een passend programma op de eigen school.")
    if route_andere_school(state):
        if state.andere_school is None:
            add(school, "passende_school_zoeken", "Zoek na afstemming met de ouders 1 of 2 passende scholen.")
            add(Rol.OUDERS, "schriftelijk_aanmelden", "Meld uw kind schriftelijk aan bij één school.")
        else:
            add(
                school,
                "besluit_ontvangende_school",
                "Volg het besluit van de ontvangende school; de school van herkomst houdt de zorgplicht.",
                zorgplicht_deadline(state),
                sleutel=f"besluit_ontvangende_school_{state.andere_school.nummer}",
            )
    variant = state.route_variant
    if state.route == "3.3" and variant in ("tlv_sbo", "tlv_so", "tlv_vso"):
        add(
            state.contactrol,
            "tlv_onderbouwing",
            "Schrijf de TLV-onderbouwing; de aanmelding bij de Centrale AanmeldRoute loopt."
            if state.aanmelding.sector is Sector.PO
            else "Vraag de TLV voor het VSO aan bij Koers VO en schrijf de onderbouwing.",
        )
    if state.route == "3.3" and variant == "arrangement":
        add(Rol.SCP, "arrangement_inzetten", "Zet een passend arrangement van PPO in (zoals Herstart).")
    if state.route == "3.4" or variant == "zorgarrangement":
        add(Rol.WIJKTEAM, "zorgarrangement_kiezen", "Kies samen met de ouders een passend zorgarrangement.")
    if state.route == "3.4":
        add(school, "huiswerkpakketten", "Lever huiswerkpakketten aan; de leerling blijft ingeschreven.")


def phase_4_checks(state: CaseState) -> list[str]:
    """What must still happen before the case may close (``afronden``), in Dutch, naming the event."""
    missing = []
    if uitschrijving_needed(state) and state.uitgeschreven_op is None:
        missing.append("de uitschrijving door de oude school (uitschrijving)")
    if state.uitkomst is not None and state.uitkomst.value == "vrijstelling" and state.vrijstelling != "verleend":
        missing.append("het besluit van Leerplicht over de vrijstelling (vrijstelling)")
    return missing


def uitschrijving_needed(state: CaseState) -> bool:
    """The old school deregisters after enrolment elsewhere or a granted vrijstelling; a pupil from abroad has none."""
    return (
        not state.uit_buitenland
        and state.uitkomst is not None
        and state.uitkomst.value in ("ingeschreven_andere_school", "vrijstelling")
    )


def _phase_4_steps(state: CaseState, add: _Add, contact: Rol) -> None:
    if uitschrijving_needed(state) and state.uitgeschreven_op is None:
        add(Rol.SCHOOL, "uitschrijven", "Schrijf de leerling uit en bevestig dat (uitschrijving).")
    if state.leerplichtig and state.uitkomst is not None and state.uitkomst.value != "vrijstelling":
        add(state.leerplichtrol, "verzuim_volgen", "Volg de (hervatte) aanwezigheid van de leerling.")
    add(
        contact,
        "passende_plek_afronden",
        "Check de uitschrijving of vrijstelling en rond de zaak af (afronden)"
        + (", dat sluit de hulpvraag in Kindkans." if state.kindkans_hulpvraag else "."),
    )


class _Add(Protocol):
    def __call__(
        self, rol: Rol, taak: str, omschrijving: str, uiterlijk: date | None = None, *, sleutel: str = ""
    ) -> None: ...


def sync(state: CaseState, today: date, via: str, door: str | None) -> None:
    """Make the stored tasks follow the due steps: finish what is no longer due (by ``via``), open what is new.

    ``voortgang`` finishes the open progress task before a new one opens: it comes back after each report."""
    steps = {step.sleutel: step for step in due_steps(state)}
    kept: list[TaakRecord] = []
    for taak in state.taken:
        done = (
            (not taak.los and taak.sleutel not in steps)
            or (not taak.los and steps[taak.sleutel].rol is not taak.rol)  # the sector moved: the new contact's now
            or (taak.los and state.afgesloten)
            or (taak.los and state.aanmelding.sector is Sector.VO and taak.rol in _PPO_ROLES)  # the case left PPO
            or (via == "voortgang" and taak.taak == "voortgang_melden")  # it comes back with a new term
        )
        if done:
            finish(state, taak, today, via, door)
            continue
        step = steps.get(taak.sleutel)
        if step is not None and step.uiterlijk is not None and step.uiterlijk != taak.uiterlijk:
            taak = taak.model_copy(update={"uiterlijk": step.uiterlijk})  # its term moved (a corrected start date)
        kept.append(taak)
    state.taken = kept
    open_keys = {t.sleutel for t in kept}
    for sleutel, step in steps.items():
        if sleutel in open_keys or sleutel in state.afgerond_sleutels:
            continue
        open_task(state, step, today)


_PPO_ROLES = frozenset({Rol.SCP, Rol.OUDERFUNCTIONARIS, Rol.COORDINATOR})


def open_task(state: CaseState, step: Step, today: date, *, los: bool = False) -> TaakRecord:
    state.taak_teller += 1
    werkdagen = state.beleid.taak_werkdagen_voor(step.taak)
    taak = TaakRecord(
        id=f"T{state.taak_teller}",
        sleutel=step.sleutel,
        rol=step.rol,
        taak=step.taak,
        omschrijving=step.omschrijving,
        uiterlijk=step.uiterlijk or add_working_days(today, werkdagen),
        geopend_op=today,
        herinnerd=step.taak in REMINDED_BY_TERM,
        los=los,
    )
    state.taken.append(taak)
    return taak


def finish(
    state: CaseState, taak: TaakRecord, today: date, via: str, door: str | None, toelichting: str | None = None
) -> None:
    """Finish ``taak`` (it must already be out of ``state.taken`` or be removed by the caller)."""
    done = AfgerondeTaak(
        id=taak.id,
        rol=taak.rol,
        taak=taak.taak,
        omschrijving=taak.omschrijving,
        afgerond_op=today,
        door=door,
        via=via,
        toelichting=toelichting,
        uiterlijk=taak.uiterlijk,
    )
    state.afgeronde_taken = keep_latest([*state.afgeronde_taken, done], MAX_AFGERONDE_TAKEN, BYTES_AFGERONDE_TAKEN)
    state.net_afgerond.append(done)


def finish_by_hand(state: CaseState, taak_id: str, today: date, door: str | None, toelichting: str) -> TaakRecord:
    taak = next(t for t in state.taken if t.id == taak_id)
    state.taken = [t for t in state.taken if t.id != taak_id]
    if not taak.los:
        state.afgerond_sleutels.append(taak.sleutel)
    finish(state, taak, today, BY_HAND, door, toelichting)
    return taak


def open_tasks(state: CaseState, today: date | None) -> list[Taak]:
    """The open tasks as the status shows them: overdue once ``uiterlijk`` has passed, with the assignee."""
    return [
        Taak(
            id=t.id,
            rol=t.rol,
            taak=t.taak,
            omschrijving=t.omschrijving,
            uiterlijk=t.uiterlijk,
            te_laat=today is not None and t.uiterlijk < today,
            toegewezen_aan=state.toegewezen.get(t.rol.value),
        )
        for t in state.taken
    ]
