"""The tasks open for each role, derived from where the case stands (not stored twice)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from workflows import work
from workflows.contract import Escalatie, Rol, Taak
from workflows.state import CaseState, contact_of, route_andere_school
from workflows.terms import Termijnsoort, terms, zorgplicht_deadline


def open_tasks(state: CaseState, today: date | None = None) -> list[Taak]:
    """The tasks open for each role: version 2 keeps them (:mod:`workflows.work`; overdue against ``today``),
    version 1 derives them from where the case stands."""
    if state.versie >= 2:
        return work.open_tasks(state, today)
    if state.afgesloten:
        return []
    tasks: list[Taak] = []
    contact = state.contactrol

    def add(rol: Rol, taak: str, omschrijving: str, uiterlijk: date | None = None) -> None:
        tasks.append(Taak(rol=rol, taak=taak, omschrijving=omschrijving, uiterlijk=uiterlijk))

    ahead = {t.soort: t.op for t in terms(state)}  # the kinds tasks wait for fall once at a time
    if state.fase == 0:
        add(Rol.SCHOOL, "voortraject_bespreken", "Bespreek de leerling met de SCP en zet preventief in.")
        if Termijnsoort.VIER_WEKEN.value in state.gevuurd:
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
            "Organiseer een gesprek met ouders en " + ("SCP" if contact is Rol.SCP else "Koersloket") + ".",
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
        _route_tasks(state, add)
    if state.wachtlijst:
        add(
            contact_of(state),
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


def _route_tasks(state: CaseState, add: Callable[..., None]) -> None:
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
    if route_andere_school(state):
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
