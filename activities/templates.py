"""The Dutch texts of the notifications, one template per ``Sjabloon`` code.

A template reads only ``bericht.gegevens`` plus the pupil reference, region and sector; a missing optional
field leaves out the sentence that needs it, and a template that fails on odd data gives a general message.
:func:`render` never raises, so a text problem can never stop a case. Dates are written the Dutch way
("3 maart 2025").
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from workflows.contract import Rol, Sector
from workflows.effects import Bericht, Sjabloon

_MAANDEN = (
    "januari",
    "februari",
    "maart",
    "april",
    "mei",
    "juni",
    "juli",
    "augustus",
    "september",
    "oktober",
    "november",
    "december",
)

_AANHEF: dict[Rol, str] = {
    Rol.SCHOOL: "Beste school",
    Rol.SCP: "Beste schoolcontactpersoon",
    Rol.KOERSLOKET: "Beste medewerker van het Koersloket",
    Rol.LEERPLICHT: "Beste leerplichtambtenaar",
    Rol.LEERPLICHT_ABSOLUUT_VERZUIM: "Beste leerplichtambtenaar absoluut verzuim",
    Rol.OUDERS: "Beste ouder of verzorger",
    Rol.OUDERFUNCTIONARIS: "Beste ouderfunctionaris",
    Rol.COORDINATOR: "Beste thuiszitterscoördinator",
    Rol.WIJKTEAM: "Beste medewerker van het wijkteam",
    Rol.TASKFORCE: "Beste leden van de Taskforce Thuiszitters",
}

_AFZENDER = "Dit bericht is verstuurd door het casussysteem thuiszitters Rotterdam."
_VRAGEN: dict[Rol, str | None] = {
    Rol.OUDERS: "Vragen? Neem contact op met de school van uw kind.",
    Rol.COORDINATOR: None,
    Rol.TASKFORCE: None,
}
_VRAGEN_ANDERS = "Vragen? Neem contact op met de thuiszitterscoördinator van uw regio."

_ROUTES = {
    "3.1": "de leerling blijft op of keert terug naar de eigen school, met een passend programma",
    "3.2": "de leerling gaat naar een andere school",
    "3.3": "een andere reguliere school, een arrangement, een TLV voor SBO of SO, of een zorgarrangement",
    "3.4": "een zorgoplossing; het wijkteam neemt de regie samen met de ouders",
}

_VARIANTEN = {
    "andere_reguliere_school": "een andere reguliere school",
    "arrangement": "een arrangement (zoals Herstart) om de onderwijsbehoeften in kaart te brengen",
    "tlv_sbo": "een toelaatbaarheidsverklaring (TLV) voor het speciaal basisonderwijs (SBO)",
    "tlv_so": "een toelaatbaarheidsverklaring (TLV) voor het speciaal onderwijs (SO)",
    "zorgarrangement": "een zorgarrangement met het wijkteam",
}

_UITKOMSTEN = {
    "terug_op_school": "de leerling gaat weer naar school",
    "ingeschreven_andere_school": "de leerling is ingeschreven op een andere school",
    "vrijstelling": "de leerling heeft een vrijstelling van de leerplicht",
    "ingetrokken": "de melding is ingetrokken (ten onrechte gedaan)",
}

_VRIJSTELLING = {
    "aangevraagd": "is aangevraagd",
    "verleend": "is verleend",
    "afgewezen": "is afgewezen",
}

_SYSTEMEN = {
    "kindkans": "Kindkans",
    "sisa": "SISA",
    "leerplicht": "de leerlingadministratie van Leerplicht (LBA)",
    "centrale_aanmeldroute": "de Centrale AanmeldRoute",
    "taskforce": "de aanmelding bij de Taskforce Thuiszitters",
}


@dataclass(frozen=True)
class _Context:
    """What a template may use: the pupil reference, region, sector and the message's own data."""

    leerling: str
    regio: str
    sector: Sector
    gegevens: Mapping[str, Any]

    @property
    def samenwerkingsverband(self) -> str:
        return "PPO Rotterdam" if self.sector is Sector.PO else "Koers VO"

    @property
    def contactpersoon(self) -> str:
        return "de schoolcontactpersoon (SCP) van PPO" if self.sector is Sector.PO else "het Koersloket"

    def text(self, key: str) -> str | None:
        value = self.gegevens.get(key)
        if value is None:
            return None
        text = str(value).strip()
        return text or None

    def date(self, key: str) -> str | None:
        return _dutch_date(self.gegevens.get(key))

    def number(self, key: str) -> int | None:
        value = self.gegevens.get(key)
        if isinstance(value, bool):
            return None
        if isinstance(value, int):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, str) and value.strip().isdigit():
            return int(value.strip())
        return None

    def flag(self, key: str) -> bool | None:
        value = self.gegevens.get(key)
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        return None


def _dutch_date(value: Any) -> str | None:
    if value is None:
        return None
    day: date | None = None
    if isinstance(value, datetime):
        day = value.date()
    elif isinstance(value, date):
        day = value
    elif isinstance(value, str):
        try:
            day = date.fromisoformat(value.strip()[:10])
        except ValueError:
            text = value.strip()
            return text or None
    if day is None:
        return str(value)
    return f"{day.day} {_MAANDEN[day.month - 1]} {day.year}"


def _sentences(*parts: str | None) -> str:
    return "\n\n".join(part for part in parts if part)


def _since(c: _Context) -> str:
    startdatum = c.date("startdatum")
    if startdatum:
        return f"Leerling {c.leerling} zit sinds {startdatum} thuis en gaat niet naar school."
    return f"Leerling {c.leerling} zit thuis en gaat niet naar school."


def _capitalised(text: str) -> str:
    return text[:1].upper() + text[1:]


def _school(c: _Context, key: str = "school_brin") -> str:
    brin = c.text(key)
    return f"de school met BRIN-code {brin}" if brin else "de school"


# -------------------------------------------------------------------------------------------------- templates

Template = Callable[[_Context], tuple[str, str]]


def _vier_weken_thuis(c: _Context) -> tuple[str, str]:
    termijn = c.date("termijn_op")
    return (
        f"Leerling {c.leerling} zit vier weken thuis",
        _sentences(
            _since(c),
            "De leerling is nu vier weken aaneengesloten afwezig en geldt daarmee als thuiszitter.",
            f"De wettelijke termijn van twaalf weken loopt tot {termijn}." if termijn else None,
            "Zorg dat de melding bij Leerplicht en bij "
            f"{c.contactpersoon} is gedaan en dat er een oudergesprek wordt gepland.",
        ),
    )


def _melding_thuiszitter(c: _Context) -> tuple[str, str]:
    startdatum = c.date("startdatum")
    return (
        f"Melding thuiszitter: leerling {c.leerling}",
        _sentences(
            f"{_capitalised(_school(c))} meldt leerling {c.leerling} als thuiszitter "
            f"(regio {c.regio}, {c.samenwerkingsverband}).",
            f"De eerste dag van niet verschijnen is {startdatum}." if startdatum else None,
            "Wilt u een hulpvraag thuiszitter registreren in Kindkans, het formulier volledig invullen "
            "met de juiste startdatum, de status op 'thuiszitter' zetten, een SISA-signaal afgeven en de "
            "ouderfunctionaris informeren? Controleer ook bij de school of Leerplicht op de hoogte is.",
        ),
    )


def _ouderfunctionaris_informeren(c: _Context) -> tuple[str, str]:
    return (
        f"Nieuwe thuiszitter: leerling {c.leerling}",
        _sentences(
            _since(c),
            f"De leerling is gemeld als thuiszitter bij {c.samenwerkingsverband} (regio {c.regio}).",
            "U kunt de ouders ondersteunen bij de gesprekken met school en de andere betrokkenen.",
        ),
    )


def _toegang_kindkans(c: _Context) -> tuple[str, str]:
    return (
        f"U heeft toegang tot het dossier in Kindkans: leerling {c.leerling}",
        _sentences(
            f"Uw kind (leerling {c.leerling}) is gemeld als thuiszitter.",
            "U heeft nu toegang tot het dossier in Kindkans. Daarin ziet u de afspraken en de stappen die "
            "school en de schoolcontactpersoon zetten.",
            "Heeft u vragen of wilt u ondersteuning? De ouderfunctionaris van PPO Rotterdam helpt u graag.",
        ),
    )


def _melding_uit_buitenland(c: _Context) -> tuple[str, str]:
    return (
        f"Leerling uit het buitenland zonder school: {c.leerling}",
        _sentences(
            f"Leerling {c.leerling} komt uit het buitenland en staat niet ingeschreven op een school.",
            f"De leerling gaat sinds {c.date('startdatum')} niet naar school." if c.date("startdatum") else None,
            f"De verantwoordelijkheid ligt bij de leerplichtambtenaren absoluut verzuim (regio {c.regio}). "
            "Wilt u de zaak oppakken en zorgen dat de leerling een passende school vindt?",
        ),
    )


def _lba_herinnering(c: _Context) -> tuple[str, str]:
    melding = c.date("melding_op")
    return (
        f"Herinnering: registratie in de LBA voor leerling {c.leerling}",
        _sentences(
            f"Leerling {c.leerling} is op {melding} gemeld als thuiszitter."
            if melding
            else f"Leerling {c.leerling} is gemeld als thuiszitter.",
            "Leerplicht heeft de registratie in de Leerling Basis Administratie (LBA) nog niet bevestigd. Wilt u "
            "bij de school nagaan of de leerling met de juiste startdatum bij Leerplicht is gemeld?",
        ),
    )


def _oudergesprek_herinnering(c: _Context) -> tuple[str, str]:
    melding = c.date("melding_op")
    return (
        f"Herinnering: oudergesprek voor leerling {c.leerling}",
        _sentences(
            f"Leerling {c.leerling} is op {melding} gemeld als thuiszitter."
            if melding
            else f"Leerling {c.leerling} is gemeld als thuiszitter.",
            "Er is nog geen gesprek geweest met de ouders. Wilt u een gesprek organiseren met de ouders en "
            f"{c.contactpersoon} (zo nodig met schoolmaatschappelijk werk of het wijkteam)?",
        ),
    )


def _plan_herinnering(c: _Context) -> tuple[str, str]:
    gesprek = c.date("oudergesprek_op")
    return (
        f"Herinnering: plan van aanpak voor leerling {c.leerling}",
        _sentences(
            f"Het oudergesprek over leerling {c.leerling} was op {gesprek}."
            if gesprek
            else f"Het oudergesprek over leerling {c.leerling} heeft plaatsgevonden.",
            "Het plan van aanpak staat nog niet in het ontwikkelingsperspectief (OPP), of de ouders "
            "hebben nog niet ingestemd met het handelingsdeel. Wilt u dit afronden?",
        ),
    )


def _termijn_waarschuwing(c: _Context) -> tuple[str, str]:
    weken = c.number("weken")
    deadline = c.date("deadline")
    return (
        f"Let op: leerling {c.leerling} zit {weken} weken thuis"
        if weken is not None
        else f"Let op: de termijn voor leerling {c.leerling} loopt af",
        _sentences(
            _since(c),
            f"De wettelijke termijn van twaalf weken verloopt op {deadline}." if deadline else None,
            "Is er nog geen zicht op een duurzame oplossing? Overweeg dan op te schalen naar de "
            f"thuiszitterscoördinator van regio {c.regio}.",
        ),
    )


def _escalatie_coordinator(c: _Context) -> tuple[str, str]:
    reden = c.text("reden_code")
    weken = c.number("weken")
    deadline = c.date("deadline")
    if reden == "termijn_verstreken":
        waarom = "De wettelijke termijn van twaalf weken is verstreken zonder duurzame oplossing."
    elif reden == "opgeschaald":
        waarom = "De zaak is bij u opgeschaald omdat het proces vastloopt of te langzaam gaat."
    else:
        waarom = "De zaak is bij u opgeschaald."
    return (
        f"Escalatie naar de thuiszitterscoördinator: leerling {c.leerling}",
        _sentences(
            f"Leerling {c.leerling} (regio {c.regio}, {c.samenwerkingsverband}) zit {weken} weken thuis."
            if weken is not None
            else _since(c),
            waarom,
            (
                f"De termijn van twaalf weken liep tot {deadline}."
                if reden == "termijn_verstreken"
                else f"De termijn van twaalf weken loopt tot {deadline}."
            )
            if deadline
            else None,
            "Wilt u de zaak beoordelen en zo nodig opschalen naar de Taskforce Thuiszitters?",
        ),
    )


def _escalatie_taskforce(c: _Context) -> tuple[str, str]:
    return (
        f"Nieuwe Taskforce-casus: leerling {c.leerling}",
        _sentences(
            f"Leerling {c.leerling} (regio {c.regio}, {c.samenwerkingsverband}) is formeel aangemeld als "
            "Taskforce-casus. De Taskforce Thuiszitters neemt de casusregie over.",
            "De opschaling is vooraf afgestemd met de leerplichtambtenaar en de school.",
            "Wilt u de casus agenderen voor de Kerngroep en een huisbezoek plannen?",
        ),
    )


def _ouders_informeren_taskforce(c: _Context) -> tuple[str, str]:
    return (
        f"Ouders informeren: leerling {c.leerling} naar de Taskforce",
        _sentences(
            f"De zaak van leerling {c.leerling} is aangemeld bij de Taskforce Thuiszitters.",
            "Wilt u de ouders hierover informeren? De Taskforce neemt contact met hen op voor een huisbezoek.",
        ),
    )


def _taskforce_besluit(c: _Context) -> tuple[str, str]:
    return (
        f"Besluit van de Taskforce: leerling {c.leerling}",
        _sentences(
            f"De Taskforce Thuiszitters heeft een besluit genomen over leerling {c.leerling}.",
            "Het besluit staat in het dossier. Wilt u de afgesproken stappen uitvoeren?",
        ),
    )


def _route_gekozen(c: _Context) -> tuple[str, str]:
    route = c.text("route")
    variant = c.text("variant")
    omschrijving = _ROUTES.get(route or "")
    variant_tekst = _VARIANTEN.get(variant or "")  # only known codes: a free variant text is not repeated
    if route == "3.3" and variant in _VARIANTEN:
        keuze = f"Voor leerling {c.leerling} is een oplossing gekozen: route 3.3, {_VARIANTEN[variant]}."
        variant_tekst = None
    elif route and omschrijving:
        keuze = f"Voor leerling {c.leerling} is een oplossing gekozen: route {route}, {omschrijving}."
    elif route:
        keuze = f"Voor leerling {c.leerling} is een oplossing gekozen: route {route}."
    else:
        keuze = f"Voor leerling {c.leerling} is een oplossing gekozen."
    return (
        f"Gekozen oplossing voor leerling {c.leerling}" + (f": route {route}" if route else ""),
        _sentences(
            keuze,
            f"Uitwerking: {variant_tekst}." if variant_tekst else None,
            f"De school houdt de ouders en {c.contactpersoon} op de hoogte van de voortgang.",
        ),
    )


def _regie_wijkteam(c: _Context) -> tuple[str, str]:
    return (
        f"Regie bij het wijkteam: leerling {c.leerling}",
        _sentences(
            f"Voor leerling {c.leerling} is gekozen voor een zorgoplossing (route 3.4).",
            "Het wijkteam neemt de regie, samen met de ouders, en kiest met hen een passend arrangement. "
            "De leerling blijft ingeschreven op de school van herkomst.",
        ),
    )


def _huiswerkpakketten(c: _Context) -> tuple[str, str]:
    return (
        f"Huiswerkpakketten blijven nodig: leerling {c.leerling}",
        _sentences(
            f"Leerling {c.leerling} blijft bij uw school ingeschreven terwijl het wijkteam de regie heeft.",
            "De school blijft verantwoordelijk voor het leveren van huiswerkpakketten aan de leerling.",
        ),
    )


def _tlv_onderbouwing(c: _Context) -> tuple[str, str]:
    variant = c.text("variant")
    soort = {"tlv_sbo": " voor het SBO", "tlv_so": " voor het SO"}.get(variant or "", "")
    return (
        f"TLV-onderbouwing schrijven: leerling {c.leerling}",
        _sentences(
            f"Voor leerling {c.leerling} is gekozen voor een toelaatbaarheidsverklaring (TLV){soort}.",
            "Wilt u de onderbouwing van de TLV schrijven en de leerling tegelijk aanmelden bij de Centrale "
            "AanmeldRoute?",
        ),
    )


def _aanmelding_andere_school(c: _Context) -> tuple[str, str]:
    termijn = c.date("termijn_op")
    return (
        f"Aanmelding bij een andere school: leerling {c.leerling}",
        _sentences(
            f"Leerling {c.leerling} is schriftelijk aangemeld bij {_school(c)}.",
            f"De ontvangende school heeft tot {termijn} om over de toelating te beslissen "
            "(zes weken, eenmaal met vier weken te verlengen)."
            if termijn
            else "De ontvangende school heeft zes weken om over de toelating te beslissen "
            "(eenmaal met vier weken te verlengen).",
            "Tot de inschrijving houdt de school van herkomst de zorgplicht.",
        ),
    )


def _zorgplicht_verlopen(c: _Context) -> tuple[str, str]:
    termijn = c.date("termijn_op")
    return (
        f"Termijn zorgplicht verlopen: leerling {c.leerling}",
        _sentences(
            f"De termijn voor de aanmelding van leerling {c.leerling} bij een andere school is verlopen"
            + (f" ({termijn})." if termijn else "."),
            "Is de leerling nog niet toegelaten? Bespreek dan met de ouders en "
            f"{c.contactpersoon} wat de volgende stap is, en schaal zo nodig op.",
        ),
    )


def _wachtlijst(c: _Context) -> tuple[str, str]:
    op_wachtlijst = c.flag("op_wachtlijst")
    if op_wachtlijst is False:
        return (
            f"Leerling {c.leerling} staat niet meer op een wachtlijst",
            _sentences(f"Leerling {c.leerling} staat niet meer op een wachtlijst voor een plek."),
        )
    return (
        f"Leerling {c.leerling} staat op een wachtlijst",
        _sentences(
            f"Leerling {c.leerling} wacht op een plek (tussenfase wachtlijst).",
            "Zorg in de tussentijd voor een passend tijdelijk programma voor de leerling.",
        ),
    )


def _voortgang(c: _Context) -> tuple[str, str]:
    toelichting = c.text("toelichting")
    return (
        f"Voortgang voor leerling {c.leerling}",
        _sentences(
            f"Er is nieuws over de aanpak voor leerling {c.leerling}.",
            f"Toelichting:\n{toelichting}" if toelichting else None,
        ),
    )


def _vrijstelling_aangevraagd(c: _Context) -> tuple[str, str]:
    return (
        f"Aanvraag vrijstelling: leerling {c.leerling}",
        _sentences(
            f"De ouders van leerling {c.leerling} hebben een vrijstelling van de leerplicht aangevraagd "
            "(artikel 5 onder a).",
            "Wilt u de aanvraag doorsturen naar de SMA-arts voor advies?",
        ),
    )


def _vrijstelling_besluit(c: _Context) -> tuple[str, str]:
    status = c.text("status")
    uitkomst = _VRIJSTELLING.get(status or "")
    return (
        f"Vrijstelling voor leerling {c.leerling}" + (f" {uitkomst}" if uitkomst else ""),
        _sentences(
            f"De vrijstelling van de leerplicht voor leerling {c.leerling} {uitkomst}."
            if uitkomst
            else f"Er is een besluit over de vrijstelling van de leerplicht voor leerling {c.leerling}.",
            "Bekijk het dossier voor de volgende stappen.",
        ),
    )


def _startdatum_gecorrigeerd(c: _Context) -> tuple[str, str]:
    startdatum = c.date("startdatum")
    deadline = c.date("deadline")
    return (
        f"Startdatum aangepast: leerling {c.leerling}",
        _sentences(
            f"Leerplicht heeft de startdatum van leerling {c.leerling} vastgesteld op {startdatum}."
            if startdatum
            else f"Leerplicht heeft de startdatum van leerling {c.leerling} aangepast.",
            f"De termijn van twaalf weken loopt nu tot {deadline}." if deadline else None,
            "Alle termijnen en herinneringen schuiven mee.",
        ),
    )


def _handmatige_actie(c: _Context) -> tuple[str, str]:
    systeem_code = c.text("systeem")
    systeem = _SYSTEMEN.get(systeem_code or "", systeem_code or "een extern systeem")
    actie = c.text("actie")
    fout = c.text("fout")
    return (
        f"Handmatige actie nodig: leerling {c.leerling}",
        _sentences(
            f"Een registratie in {systeem}"
            + (f" ({actie.replace('_', ' ')})" if actie else "")
            + f" voor leerling {c.leerling} is niet gelukt.",
            f"Reden: {fout}" if fout else None,
            "Wilt u de registratie met de hand uitvoeren of het probleem laten oplossen?",
        ),
    )


def _afgesloten(c: _Context) -> tuple[str, str]:
    uitkomst_code = c.text("uitkomst")
    uitkomst = _UITKOMSTEN.get(uitkomst_code or "")
    return (
        f"Zaak afgesloten: leerling {c.leerling}",
        _sentences(
            f"De zaak van leerling {c.leerling} is afgesloten" + (f": {uitkomst}." if uitkomst else "."),
            "Wilt u als schoolcontactpersoon de uitschrijving of vrijstelling controleren en de hulpvraag in "
            "Kindkans afsluiten?"
            if c.sector is Sector.PO
            else None,
        ),
    )


def _algemeen(c: _Context, sjabloon: Sjabloon) -> tuple[str, str]:
    return (
        f"Bericht over leerling {c.leerling}",
        _sentences(
            f"Er is een ontwikkeling in de zaak van leerling {c.leerling} (regio {c.regio}, "
            f"{c.samenwerkingsverband}): {sjabloon.value.replace('_', ' ')}.",
            "Bekijk het dossier voor de details.",
        ),
    )


TEMPLATES: dict[Sjabloon, Template] = {
    Sjabloon.VIER_WEKEN_THUIS: _vier_weken_thuis,
    Sjabloon.MELDING_THUISZITTER: _melding_thuiszitter,
    Sjabloon.OUDERFUNCTIONARIS_INFORMEREN: _ouderfunctionaris_informeren,
    Sjabloon.TOEGANG_KINDKANS: _toegang_kindkans,
    Sjabloon.MELDING_UIT_BUITENLAND: _melding_uit_buitenland,
    Sjabloon.LBA_HERINNERING: _lba_herinnering,
    Sjabloon.OUDERGESPREK_HERINNERING: _oudergesprek_herinnering,
    Sjabloon.PLAN_HERINNERING: _plan_herinnering,
    Sjabloon.TERMIJN_WAARSCHUWING: _termijn_waarschuwing,
    Sjabloon.ESCALATIE_COORDINATOR: _escalatie_coordinator,
    Sjabloon.ESCALATIE_TASKFORCE: _escalatie_taskforce,
    Sjabloon.OUDERS_INFORMEREN_TASKFORCE: _ouders_informeren_taskforce,
    Sjabloon.TASKFORCE_BESLUIT: _taskforce_besluit,
    Sjabloon.ROUTE_GEKOZEN: _route_gekozen,
    Sjabloon.REGIE_WIJKTEAM: _regie_wijkteam,
    Sjabloon.HUISWERKPAKKETTEN: _huiswerkpakketten,
    Sjabloon.TLV_ONDERBOUWING: _tlv_onderbouwing,
    Sjabloon.AANMELDING_ANDERE_SCHOOL: _aanmelding_andere_school,
    Sjabloon.ZORGPLICHT_VERLOPEN: _zorgplicht_verlopen,
    Sjabloon.WACHTLIJST: _wachtlijst,
    Sjabloon.VOORTGANG: _voortgang,
    Sjabloon.VRIJSTELLING_AANGEVRAAGD: _vrijstelling_aangevraagd,
    Sjabloon.VRIJSTELLING_BESLUIT: _vrijstelling_besluit,
    Sjabloon.STARTDATUM_GECORRIGEERD: _startdatum_gecorrigeerd,
    Sjabloon.HANDMATIGE_ACTIE: _handmatige_actie,
    Sjabloon.AFGESLOTEN: _afgesloten,
}
"""Every template by its code: one for each ``Sjabloon``, none without one."""


def render(bericht: Bericht) -> tuple[str, str]:
    """The subject and body of a notification, in Dutch. Never raises: data a template cannot use gives a general
    message instead."""
    context = _Context(
        leerling=bericht.leerling_ref,
        regio=bericht.regio.value,
        sector=bericht.sector,
        gegevens=bericht.gegevens,
    )
    try:
        onderwerp, kern = TEMPLATES[bericht.sjabloon](context)
    except Exception:
        onderwerp, kern = _algemeen(context, bericht.sjabloon)
    aanhef = _AANHEF.get(bericht.rol, "Beste lezer")
    slot = " ".join(part for part in (_AFZENDER, _VRAGEN.get(bericht.rol, _VRAGEN_ANDERS)) if part)
    return onderwerp, f"{aanhef},\n\n{kern}\n\n{slot}\n"
