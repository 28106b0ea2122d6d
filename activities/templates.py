"""The Dutch texts of the notifications, one template per ``Sjabloon`` code.

A template reads only ``bericht.gegevens`` plus the pupil reference, the receiving role, region and sector; a
missing optional field leaves out the sentence that needs it, and a template that fails on odd data gives a general
message. :func:`render` never raises, so a text problem can never stop a case. Dates are written the Dutch way
("3 maart 2025").

Every text must be true for the case it is sent in (PROCEDURE.md, version 2):

- PO runs through PPO Rotterdam (the schoolcontactpersoon, Kindkans, the PPO thuiszitterscoördinator Noord/Zuid,
  the ouderfunctionaris); VO runs through Koers VO (the Koersloket, the plaatsingsoverleggen, the schoolbestuur).
  A VO text names none of PPO's machinery; a PO-only code rendered for VO gives the general message.
- A pupil from abroad has no school: Leerplicht absoluut verzuim acts, and a text to that role never sends anyone
  "bij de school".
- A pupil of 4 is not leerplichtig. Where a PO text names a Leerplicht step it says that it is for a pupil of 5
  and older, unless the optional ``leerplichtig`` flag in the gegevens tells which case this is.
- Each date is named for what it is: the four-week date, the twelve-week date, the due date of a decision, ...
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
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
_GEEN_VRAGENREGEL = (Rol.COORDINATOR, Rol.TASKFORCE, Rol.KOERSLOKET, Rol.LEERPLICHT_ABSOLUUT_VERZUIM)
_VRAGEN_OUDERS = (
    "Vragen? Neem contact op met de school van uw kind; heeft uw kind (nog) geen school, dan met Leerplicht."
)

_SECTOR_NAAM = {Sector.PO: "primair onderwijs", Sector.VO: "voortgezet onderwijs"}

_PO_ALLEEN = frozenset(
    {
        Sjabloon.OUDERFUNCTIONARIS_INFORMEREN,
        Sjabloon.TOEGANG_KINDKANS,
        Sjabloon.ESCALATIE_COORDINATOR,
        Sjabloon.TWAALF_WEKEN_CHECK_GEMELD,
    }
)
"""Codes that belong to PPO Rotterdam's machinery: in a VO case they give the general message (and name nothing
of PPO)."""

_ROUTES = {
    "3.1": "de leerling blijft op of keert terug naar de eigen school, met een passend programma",
    "3.2": "de leerling gaat naar een andere school",
    "3.4": "een oplossing in de zorg; het wijkteam heeft de regie en kiest samen met de ouders een passend arrangement",
}

_VARIANTEN: dict[Sector, dict[str, str]] = {
    Sector.PO: {
        "andere_reguliere_school": "de leerling gaat naar een andere reguliere basisschool",
        "arrangement": "een passend arrangement van PPO Rotterdam (zoals Herstart) om de onderwijsbehoeften in kaart "
        "te brengen",
        "tlv_sbo": "een toelaatbaarheidsverklaring (TLV) voor het speciaal basisonderwijs (SBO)",
        "tlv_so": "een toelaatbaarheidsverklaring (TLV) voor het speciaal onderwijs (SO)",
        "zorgarrangement": "in overleg met het wijkteam een zorgarrangement; de school houdt de regie",
    },
    Sector.VO: {
        "andere_vo_school": "de leerling gaat naar een andere school voor voortgezet onderwijs",
        "tlv_vso": "een toelaatbaarheidsverklaring (TLV) voor het voortgezet speciaal onderwijs (VSO), via Koers VO",
        "zorgarrangement": "in overleg met het wijkteam een zorgarrangement; de school houdt de regie",
    },
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

_REDENEN: dict[str, str] = {
    "geen_passende_plek": "er is nog geen passende onderwijsplek voor de leerling",
    "geen_plaats_reguliere_scholen": "reguliere scholen stellen geen plaats (meer) te hebben",
    "partijen_niet_eens": "de betrokken partijen komen er samen niet uit, waardoor een oplossing uitblijft",
    "ouders_niet_eens": "de ouders en/of de leerling zitten niet op dezelfde lijn als de school en/of andere "
    "betrokkenen over de oplossingsrichting",
    "proces_loopt_vast": "het proces loopt vast of verloopt te traag",
    "overig": "een andere reden; de toelichting staat in het dossier",
    "check_niet_beslist": "bij de twaalfwekencheck is niet op tijd besloten of de zaak wordt opgeschaald of dat er "
    "uitzicht is op een duurzame oplossing",
    "termijn_verstreken": "de wettelijke termijn van twaalf weken is verstreken zonder duurzame oplossing",
    "opgeschaald": "het proces loopt vast of verloopt te traag",
}
"""Each escalation reason code (``RedenCode``, the automatic ``check_niet_beslist``, and the version-1 codes) as a
Dutch phrase."""

_AUTOMATISCH = ("check_niet_beslist", "termijn_verstreken")
"""Reason codes of an escalation that the case made itself, when a term passed without a decision."""

_REDEN_GEEN_PLEK_VO = (
    "de leerling heeft na bespreking in de plaatsingsoverleggen van Koers VO en opschaling bij een schoolbestuur nog "
    "geen passende onderwijsplek"
)


@dataclass(frozen=True)
class _Context:
    """What a template may use: the pupil reference, the receiving role, region, sector and the message's data."""

    leerling: str
    regio: str
    sector: Sector
    gegevens: Mapping[str, Any]
    rol: Rol | None = None

    @property
    def po(self) -> bool:
        return self.sector is Sector.PO

    @property
    def samenwerkingsverband(self) -> str:
        return "PPO Rotterdam" if self.po else "Koers VO"

    @property
    def contactpersoon(self) -> str:
        return "de schoolcontactpersoon (SCP) van PPO Rotterdam" if self.po else "het Koersloket van Koers VO"

    @property
    def coordinator(self) -> str:
        """PO only: the PPO thuiszitterscoördinator of the pupil's region."""
        return f"de thuiszitterscoördinator van PPO Rotterdam voor regio {self.regio}"

    @property
    def absoluut_verzuim(self) -> bool:
        """The message goes to Leerplicht absoluut verzuim: a pupil from abroad, without a school."""
        return self.rol is Rol.LEERPLICHT_ABSOLUUT_VERZUIM

    @property
    def contact(self) -> bool:
        """The message goes to the case's contact: the SCP (PO) or the Koersloket (VO)."""
        return self.rol in (Rol.SCP, Rol.KOERSLOKET)

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

    def strings(self, key: str) -> list[str] | None:
        value = self.gegevens.get(key)
        if not isinstance(value, list | tuple):
            return None
        return [str(item).strip() for item in value if isinstance(item, str) and item.strip()]


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


def _leerplicht(c: _Context, altijd: str, vanaf_vijf: str) -> str | None:
    """A Leerplicht step. A pupil of 4 is not leerplichtig: without the optional ``leerplichtig`` flag a PO text
    says the step is for a pupil of 5 and older (``vanaf_vijf``); VO pupils are always of that age."""
    leerplichtig = c.flag("leerplichtig")
    if leerplichtig is False:
        return None
    if leerplichtig or not c.po:
        return altijd
    return vanaf_vijf


def _reden(c: _Context) -> str | None:
    code = c.text("reden_code")
    if code == "geen_passende_plek" and not c.po:
        return _REDEN_GEEN_PLEK_VO
    return _REDENEN.get(code or "")


def _bullets(items: list[str]) -> str:
    return "\n".join(f"- {item}" for item in items)


# -------------------------------------------------------------------------------------------------- templates

Template = Callable[[_Context], tuple[str, str]]


def _vier_weken_thuis(c: _Context) -> tuple[str, str]:
    vier_weken = c.date("termijn_op")
    twaalf_weken = c.date("deadline")
    if c.rol is Rol.SCHOOL:
        actie = _sentences(
            f"Meld de leerling nu als thuiszitter bij {c.contactpersoon}, met de eerste dag van niet verschijnen "
            "als startdatum.",
            _leerplicht(
                c,
                "Meld het volledige verzuim ook bij Leerplicht, met dezelfde startdatum.",
                "Is de leerling 5 jaar of ouder (leerplichtig), meld het volledige verzuim dan ook bij Leerplicht, "
                "met dezelfde startdatum.",
            ),
            f"Organiseer daarna een gesprek met de ouders en {c.contactpersoon}."
            if c.po
            else f"Organiseer daarna een gesprek met de ouders (zo nodig met {c.contactpersoon}).",
        )
    else:
        actie = _sentences(
            "De school heeft de leerling nog niet als thuiszitter gemeld. Wilt u met de school nagaan dat de "
            "melding wordt gedaan, met de eerste dag van niet verschijnen als startdatum?",
            _leerplicht(
                c,
                "Ga ook na of de school het verzuim bij Leerplicht meldt.",
                "Is de leerling 5 jaar of ouder (leerplichtig), ga dan ook na of de school het verzuim bij "
                "Leerplicht meldt.",
            ),
        )
    return (
        f"Leerling {c.leerling} zit vier weken thuis",
        _sentences(
            _since(c),
            f"De grens van vier weken aaneengesloten afwezigheid is bereikt op {vier_weken}."
            if vier_weken
            else "De leerling is nu vier weken aaneengesloten afwezig.",
            "Wie langer dan vier weken achter elkaar niet naar school gaat, is een thuiszitter.",
            f"De wettelijke termijn van twaalf weken, richtinggevend voor opschaling, loopt tot {twaalf_weken}."
            if twaalf_weken
            else None,
            actie,
        ),
    )


def _melding_thuiszitter(c: _Context) -> tuple[str, str]:
    startdatum = c.date("startdatum")
    kop = _sentences(
        f"{_capitalised(_school(c))} meldt leerling {c.leerling} als thuiszitter "
        f"(regio {c.regio}, {c.samenwerkingsverband}).",
        f"De eerste dag van niet verschijnen is {startdatum}." if startdatum else None,
    )
    if c.po:
        actie = _sentences(
            "Het casussysteem maakt de hulpvraag thuiszitter in Kindkans aan, geeft het SISA-signaal af en "
            "informeert de ouderfunctionaris van PPO Rotterdam.",
            "Wilt u in Kindkans controleren of het formulier 'thuiszitter' volledig is ingevuld met de juiste "
            "startdatum (de eerste dag van niet verschijnen) en of de status van de hulpvraag op 'thuiszitter' "
            "staat? Vul het formulier aan of verbeter het waar dat nodig is.",
            _leerplicht(
                c,
                "Check bij de school of de leerling als thuiszitter bij Leerplicht is gemeld.",
                "Is de leerling 5 jaar of ouder (leerplichtig), check dan bij de school of de leerling als "
                "thuiszitter bij Leerplicht is gemeld.",
            ),
        )
    else:
        actie = _sentences(
            "Wilt u de melding met de school oppakken en nagaan of de school de leerling met deze startdatum bij "
            "Leerplicht heeft gemeld?",
            "De leerplichtambtenaar bepaalt of de leerling formeel thuiszitter is en per wanneer, en legt dat vast "
            "in de Leerling Basis Administratie (LBA).",
        )
    return (f"Melding thuiszitter: leerling {c.leerling}", _sentences(kop, actie))


def _ouderfunctionaris_informeren(c: _Context) -> tuple[str, str]:
    return (
        f"Nieuwe thuiszitter: leerling {c.leerling}",
        _sentences(
            _since(c),
            f"De leerling is gemeld als thuiszitter bij PPO Rotterdam (regio {c.regio}).",
            "U kunt de ouders ondersteunen bij de gesprekken met school en de andere betrokkenen.",
        ),
    )


def _toegang_kindkans(c: _Context) -> tuple[str, str]:
    return (
        f"U heeft toegang tot het dossier in Kindkans: leerling {c.leerling}",
        _sentences(
            f"Uw kind (leerling {c.leerling}) is gemeld als thuiszitter bij PPO Rotterdam.",
            "U heeft nu toegang tot het dossier in Kindkans. Daarin ziet u de documenten over uw kind, de "
            "afspraken en de stappen die school en de schoolcontactpersoon zetten.",
            "Heeft u vragen of wilt u ondersteuning? De ouderfunctionaris van PPO Rotterdam helpt u graag.",
        ),
    )


def _melding_uit_buitenland(c: _Context) -> tuple[str, str]:
    startdatum = c.date("startdatum")
    return (
        f"Leerling uit het buitenland zonder school: {c.leerling}",
        _sentences(
            f"Leerling {c.leerling} komt uit het buitenland en staat niet ingeschreven op een school.",
            f"De leerling gaat sinds {startdatum} niet naar school." if startdatum else None,
            f"De verantwoordelijkheid ligt bij de leerplichtambtenaren absoluut verzuim (regio {c.regio}). "
            "Wilt u de leerling registreren in de Leerling Basis Administratie (LBA), de zaak oppakken en zorgen "
            "dat de leerling een passende school vindt?",
        ),
    )


def _lba_herinnering(c: _Context) -> tuple[str, str]:
    melding = c.date("melding_op")
    gemeld = (
        f"Leerling {c.leerling} is op {melding} gemeld als thuiszitter."
        if melding
        else f"Leerling {c.leerling} is gemeld als thuiszitter."
    )
    if c.absoluut_verzuim:
        actie = (
            "De registratie van de leerling in de Leerling Basis Administratie (LBA) is nog niet bevestigd. Wilt u "
            "de leerling met de juiste startdatum in de LBA registreren en de registratie bevestigen in het "
            "casussysteem (leerplicht_registratie)?"
        )
    else:
        actie = (
            "Leerplicht heeft de registratie in de Leerling Basis Administratie (LBA) nog niet bevestigd. Wilt u "
            "bij de school nagaan of de leerling met de juiste startdatum bij Leerplicht is gemeld?"
        )
    return (f"Herinnering: registratie in de LBA voor leerling {c.leerling}", _sentences(gemeld, actie))


def _oudergesprek_herinnering(c: _Context) -> tuple[str, str]:
    melding = c.date("melding_op")
    if c.rol is Rol.SCHOOL and c.po:
        actie = (
            "Er is nog geen gesprek geweest met de ouders. Wilt u een gesprek organiseren met de ouders en "
            f"{c.contactpersoon} (zo nodig met schoolmaatschappelijk werk of het wijkteam)?"
        )
    elif c.rol is Rol.SCHOOL:
        actie = (
            "Er is nog geen gesprek geweest met de ouders. Wilt u een gesprek met de ouders organiseren (zo nodig "
            f"met {c.contactpersoon}, schoolmaatschappelijk werk of het wijkteam)?"
        )
    elif c.absoluut_verzuim:
        actie = "Er is nog geen gesprek geweest met de ouders. Wilt u een gesprek met de ouders organiseren?"
    else:
        actie = (
            "Er is nog geen gesprek geweest met de ouders. Wilt u met de school nagaan wanneer het gesprek met de "
            "ouders plaatsvindt?" + (" U bent bij dat gesprek aanwezig." if c.rol is Rol.SCP else "")
        )
    return (
        f"Herinnering: oudergesprek voor leerling {c.leerling}",
        _sentences(
            f"Leerling {c.leerling} is op {melding} gemeld als thuiszitter."
            if melding
            else f"Leerling {c.leerling} is gemeld als thuiszitter.",
            actie,
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
            "hebben nog niet ingestemd met het handelingsdeel.",
            "Wilt u dit afronden?" if c.rol is Rol.SCHOOL else "Wilt u de school helpen dit af te ronden?",
        ),
    )


def _termijn_waarschuwing(c: _Context) -> tuple[str, str]:
    weken = c.number("weken")
    deadline = c.date("deadline")
    if c.absoluut_verzuim:
        actie = (
            "Is er binnen twaalf weken geen uitzicht op een duurzame oplossing, dan is de zaak een kandidaat voor "
            "de Taskforce Thuiszitters."
        )
    elif c.po:
        actie = (
            "Is er nog geen uitzicht op een duurzame oplossing, terug naar school? Overweeg dan op te schalen naar "
            f"{c.coordinator}."
        )
    elif c.rol is Rol.KOERSLOKET:
        actie = (
            "Is er nog geen uitzicht op een duurzame oplossing, terug naar school? Overweeg dan de zaak in te "
            "brengen bij de Taskforce Thuiszitters Rotterdam: alleen als de leerling in Rotterdam woont, en altijd "
            "vooraf afgestemd met de leerplichtambtenaar en de school."
        )
    else:
        actie = (
            "Is er nog geen uitzicht op een duurzame oplossing, terug naar school? Bespreek dan met het Koersloket "
            "van Koers VO of de zaak wordt opgeschaald naar de Taskforce Thuiszitters Rotterdam."
        )
    return (
        f"Let op: leerling {c.leerling} zit {weken} weken thuis"
        if weken is not None
        else f"Let op: de termijn voor leerling {c.leerling} loopt af",
        _sentences(
            _since(c),
            f"De wettelijke termijn van twaalf weken, richtinggevend voor opschaling, loopt tot {deadline}."
            if deadline
            else None,
            actie,
        ),
    )


def _escalatie_coordinator(c: _Context) -> tuple[str, str]:
    code = c.text("reden_code")
    reden = _reden(c)
    weken = c.number("weken")
    deadline = c.date("deadline")
    uiterlijk = c.date("uiterlijk")
    verstreken = code in _AUTOMATISCH
    return (
        f"Escalatie naar de thuiszitterscoördinator: leerling {c.leerling}",
        _sentences(
            f"Leerling {c.leerling} (regio {c.regio}, PPO Rotterdam) zit {weken} weken thuis."
            if weken is not None
            else _since(c),
            f"De zaak is {'automatisch ' if verstreken else ''}bij u opgeschaald: {reden}."
            if reden
            else "De zaak is bij u opgeschaald.",
            f"Het besluit bij de twaalfwekencheck was uiterlijk {uiterlijk} nodig." if uiterlijk else None,
            (
                f"De wettelijke termijn van twaalf weken liep af op {deadline}."
                if verstreken
                else f"Einddatum van de wettelijke termijn van twaalf weken: {deadline}."
            )
            if deadline
            else None,
            "Wilt u de zaak beoordelen en besluiten of u de leerling aanmeldt bij de Taskforce Thuiszitters "
            "(opschalen)? Besluit u dat nu niet te doen, leg dan een beoordeling vast met de reden.",
        ),
    )


def _escalatie_taskforce(c: _Context) -> tuple[str, str]:
    weken = c.number("weken")
    reden = _reden(c)
    bespreking = c.date("bespreking_op")
    if c.po:
        aanmelding = f"Leerling {c.leerling} (regio {c.regio}, PPO Rotterdam) is formeel aangemeld als Taskforce-casus."
        afstemming = None
    else:
        aanmelding = (
            f"Het Koersloket van Koers VO heeft leerling {c.leerling} (regio {c.regio}) ingebracht bij de Taskforce "
            "Thuiszitters Rotterdam."
        )
        afstemming = (
            "Koers VO brengt een leerling alleen in als die in Rotterdam woont, en altijd na afstemming met de "
            "leerplichtambtenaar en de school."
        )
    return (
        f"Nieuwe Taskforce-casus: leerling {c.leerling}",
        _sentences(
            aanmelding,
            "De Taskforce Thuiszitters neemt de casusregie over.",
            f"De leerling zit {weken} weken thuis." if weken is not None else None,
            f"Reden van de opschaling: {reden}." if reden else None,
            afstemming,
            f"De Kerngroep bespreekt de casus op {bespreking}." if bespreking else None,
            "Wilt u een huisbezoek plannen, zodat het verslag bij die bespreking klaar is?"
            if bespreking
            else "Wilt u de casus agenderen voor de Kerngroep en een huisbezoek plannen?",
        ),
    )


def _ouders_informeren_taskforce(c: _Context) -> tuple[str, str]:
    bespreking = c.date("bespreking_op")
    if c.po or c.absoluut_verzuim:
        aanmelding = f"De zaak van leerling {c.leerling} is aangemeld bij de Taskforce Thuiszitters Rotterdam."
    else:
        aanmelding = (
            f"Koers VO heeft de zaak van leerling {c.leerling} ingebracht bij de Taskforce Thuiszitters Rotterdam, "
            "na afstemming met de leerplichtambtenaar en uw school."
        )
    return (
        f"Ouders informeren: leerling {c.leerling} naar de Taskforce",
        _sentences(
            aanmelding,
            "De Taskforce neemt de casusregie over.",
            f"De Kerngroep van de Taskforce bespreekt de zaak op {bespreking}." if bespreking else None,
            "Wilt u de ouders hierover informeren? De Taskforce neemt contact met hen op voor een huisbezoek.",
        ),
    )


def _taskforce_besluit(c: _Context) -> tuple[str, str]:
    aantal = c.number("aantal_acties")
    if aantal is None:
        vervolg = "Wilt u de afgesproken stappen uitvoeren?"
    elif aantal == 0:
        vervolg = "Het besluit noemt geen acties."
    else:
        vervolg = (
            f"Het besluit noemt {aantal} {'actie' if aantal == 1 else 'acties'}; elke actie is een taak met een "
            "uiterste datum voor wie haar uitvoert."
        )
    return (
        f"Besluit van de Taskforce: leerling {c.leerling}",
        _sentences(
            f"De Taskforce Thuiszitters heeft een besluit genomen over leerling {c.leerling}.",
            "Het besluit staat in het dossier.",
            vervolg,
        ),
    )


def _route_gekozen(c: _Context) -> tuple[str, str]:
    route = c.text("route")
    variant = c.text("variant")
    varianten = _VARIANTEN[c.sector]
    if route == "3.3" and variant in varianten:
        keuze = f"Voor leerling {c.leerling} is een oplossing gekozen: route 3.3, {varianten[variant]}."
    elif route in _ROUTES:
        keuze = f"Voor leerling {c.leerling} is een oplossing gekozen: route {route}, {_ROUTES[route]}."
    elif route:
        keuze = f"Voor leerling {c.leerling} is een oplossing gekozen: route {route}."
    else:
        keuze = f"Voor leerling {c.leerling} is een oplossing gekozen."
    return (
        f"Gekozen oplossing voor leerling {c.leerling}" + (f": route {route}" if route else ""),
        _sentences(
            keuze,
            "In principe blijft de leerling ingeschreven op de school van herkomst." if route == "3.4" else None,
            f"De school houdt de ouders en {c.contactpersoon} op de hoogte van de voortgang.",
        ),
    )


def _regie_wijkteam(c: _Context) -> tuple[str, str]:
    route = c.text("route")
    variant = c.text("variant")
    if route == "3.3" and variant == "zorgarrangement":
        return (
            f"Zorgarrangement gevraagd: leerling {c.leerling}",
            _sentences(
                f"Voor leerling {c.leerling} is route 3.3 gekozen: in overleg met het wijkteam gaat de leerling naar "
                "een zorgarrangement.",
                "De school van inschrijving houdt de regie. Het wijkteam wordt gevraagd om, samen met de school en "
                "de ouders, een passend zorgarrangement te vinden.",
            ),
        )
    if route == "3.4":
        return (
            f"Regie bij het wijkteam: leerling {c.leerling}",
            _sentences(
                f"Voor leerling {c.leerling} is gekozen voor een oplossing in de zorg (route 3.4).",
                "Het wijkteam neemt de regie, samen met de ouders, en kiest met hen een passend arrangement. "
                "In principe blijft de leerling ingeschreven op de school van herkomst; die blijft "
                "verantwoordelijk voor huiswerkpakketten.",
                _leerplicht(
                    c,
                    "Bij een langduriger zorgtraject kan een vrijstelling van de leerplicht worden overwogen. Dat is "
                    "een keuze van de ouders; zij kunnen daartoe niet worden verplicht.",
                    "Bij een langduriger zorgtraject kan, voor een leerling van 5 jaar of ouder, een vrijstelling van "
                    "de leerplicht worden overwogen. Dat is een keuze van de ouders; zij kunnen daartoe niet worden "
                    "verplicht.",
                ),
            ),
        )
    return (
        f"Het wijkteam wordt betrokken: leerling {c.leerling}",
        _sentences(f"Voor de oplossing van leerling {c.leerling} wordt het wijkteam betrokken."),
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
    if not c.po:
        return (
            f"TLV voor het VSO: leerling {c.leerling}",
            _sentences(
                f"Voor leerling {c.leerling} is gekozen voor een toelaatbaarheidsverklaring (TLV) voor het voortgezet "
                "speciaal onderwijs (VSO). De TLV loopt via Koers VO.",
                "Wilt u zorgen dat de onderbouwing van de TLV wordt opgesteld, en die als document aan het dossier "
                "toevoegen?",
            ),
        )
    soort = {"tlv_sbo": " voor het SBO", "tlv_so": " voor het SO"}.get(variant or "", "")
    return (
        f"TLV-onderbouwing schrijven: leerling {c.leerling}",
        _sentences(
            f"Voor leerling {c.leerling} is gekozen voor een toelaatbaarheidsverklaring (TLV){soort}.",
            "Wilt u de onderbouwing van de TLV schrijven? Het casussysteem meldt de leerling tegelijk aan bij de "
            "Centrale AanmeldRoute.",
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
            None if c.absoluut_verzuim else "Tot de inschrijving houdt de school van herkomst de zorgplicht.",
        ),
    )


def _zorgplicht_verlopen(c: _Context) -> tuple[str, str]:
    termijn = c.date("termijn_op")
    if c.rol is Rol.COORDINATOR and c.po:
        actie = "Wilt u met de schoolcontactpersoon bekijken wat de volgende stap is?"
    elif c.po:
        actie = (
            "Is de leerling nog niet toegelaten? Bespreek dan met de school en de ouders wat de volgende stap is, "
            f"en schaal zo nodig op naar {c.coordinator}."
        )
    else:
        actie = (
            "Is de leerling nog niet toegelaten? Bespreek dan met de school en de ouders wat de volgende stap is: "
            "bespreking in de plaatsingsoverleggen van Koers VO of opschaling bij het schoolbestuur."
        )
    return (
        f"Termijn zorgplicht verlopen: leerling {c.leerling}",
        _sentences(
            f"De termijn voor de aanmelding van leerling {c.leerling} bij een andere school is verlopen"
            + (f" ({termijn})." if termijn else "."),
            actie,
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
            "In de tussentijd is een passend tijdelijk programma voor de leerling nodig. "
            + ("Wilt u daarvoor zorgen?" if c.absoluut_verzuim else "Wilt u daarover meedenken en adviseren?"),
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
            "Wilt u de aanvraag doorsturen naar de SMA-arts voor advies, en daarna uw besluit vastleggen?",
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
            f"Einddatum van de wettelijke termijn van twaalf weken is nu {deadline}." if deadline else None,
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
    code = c.text("uitkomst")
    uitkomst = _uitkomst_zin(c)
    ingetrokken = code == "ingetrokken"
    if c.rol is Rol.OUDERS:
        kern = (
            f"De melding van uw kind (leerling {c.leerling}) als thuiszitter is ingetrokken; die was ten onrechte "
            "gedaan. De aanpak is daarmee gestopt."
            if ingetrokken
            else f"De aanpak voor uw kind (leerling {c.leerling}) is afgerond" + (f": {uitkomst}." if uitkomst else ".")
        )
    elif c.rol is Rol.TASKFORCE:
        kern = f"De Taskforce-casus van leerling {c.leerling} is afgesloten" + (f": {uitkomst}." if uitkomst else ".")
    else:
        kern = f"De zaak van leerling {c.leerling} is afgesloten" + (f": {uitkomst}." if uitkomst else ".")
    kindkans = None
    if c.po and c.rol is Rol.SCP:
        kindkans = (
            "Stond er een hulpvraag thuiszitter in Kindkans, dan trekt het casussysteem die in."
            if ingetrokken
            else "Het casussysteem sluit daarmee ook de hulpvraag thuiszitter in Kindkans af."
        )
    return (f"Zaak afgesloten: leerling {c.leerling}", _sentences(kern, kindkans))


def _leerplichtig_geworden(c: _Context) -> tuple[str, str]:
    vanaf = c.date("leerplichtig_vanaf")
    if c.rol in (Rol.LEERPLICHT, Rol.LEERPLICHT_ABSOLUUT_VERZUIM):
        actie = _sentences(
            f"De leerling staat ingeschreven op {_school(c)}." if c.text("school_brin") else None,
            "Wilt u de leerling als thuiszitter registreren in de Leerling Basis Administratie (LBA) en de "
            "registratie bevestigen in het casussysteem (leerplicht_registratie)?",
            "U stelt ook vast of de leerling formeel thuiszitter is en per wanneer.",
        )
    elif c.rol is Rol.SCHOOL:
        actie = (
            "Vanaf die datum hoort het volledige verzuim ook bij Leerplicht gemeld te zijn, met de eerste dag van "
            "niet verschijnen als startdatum. Wilt u nagaan dat die melding er is, en Leerplicht voortaan ook op de "
            "hoogte houden van de voortgang?"
        )
    else:
        actie = (
            "Vanaf die datum hoort het verzuim ook bij Leerplicht gemeld te zijn. Wilt u bij de school nagaan of de "
            "leerling bij Leerplicht is gemeld?"
        )
    return (
        f"Leerling {c.leerling} is leerplichtig geworden",
        _sentences(
            _since(c),
            "De leerling was bij de start 4 jaar en viel nog niet onder de leerplicht.",
            f"De leerling is leerplichtig vanaf {vanaf}: de eerste schooldag van de maand na de vijfde verjaardag."
            if vanaf
            else "De leerling is nu leerplichtig: de leerplicht begint op de eerste schooldag van de maand na de "
            "vijfde verjaardag.",
            actie,
        ),
    )


def _twaalf_weken_check(c: _Context) -> tuple[str, str]:
    deadline = c.date("deadline")
    uiterlijk = c.date("uiterlijk")
    weken = c.number("weken")
    terugkomst = c.flag("terugkomst") is True
    coordinator = c.rol is Rol.COORDINATOR
    if coordinator:
        keuze = (
            "meld de leerling aan bij de Taskforce Thuiszitters (opschalen), of leg een beoordeling vast: er is "
            "uitzicht op een duurzame oplossing, terug naar school, met de reden en een datum van hoogstens zes "
            "weken vooruit waarop de vraag terugkomt"
        )
    else:
        keuze = (
            "schaal de zaak op (opschalen), of leg een beoordeling vast: er is uitzicht op een duurzame oplossing, "
            "terug naar school, met de reden en een datum van hoogstens zes weken vooruit waarop de check terugkomt"
        )
    if coordinator:
        gevolg = None
        opschalen = None
    elif c.po:
        opschalen = f"Opschalen gaat naar {c.coordinator}."
        gevolg = (
            f"Is er uiterlijk {uiterlijk} geen besluit, dan gaat de zaak automatisch naar de thuiszitterscoördinator."
            if uiterlijk
            else "Komt er niet op tijd een besluit, dan gaat de zaak automatisch naar de thuiszitterscoördinator."
        )
    else:
        opschalen = (
            "Opschalen is de zaak inbrengen bij de Taskforce Thuiszitters Rotterdam: alleen als de leerling in "
            "Rotterdam woont, en altijd vooraf afgestemd met de leerplichtambtenaar en de school."
        )
        gevolg = (
            f"Is er uiterlijk {uiterlijk} geen besluit, dan neemt de Kerngroep van de Taskforce de zaak op."
            if uiterlijk
            else "Komt er niet op tijd een besluit, dan neemt de Kerngroep van de Taskforce de zaak op."
        )
    return (
        ("Twaalfwekencheck komt terug" if terugkomst else "Twaalfwekencheck") + f": leerling {c.leerling}",
        _sentences(
            f"Leerling {c.leerling} (regio {c.regio}, {c.samenwerkingsverband}) zit {weken} weken thuis."
            if weken is not None
            else f"Leerling {c.leerling} (regio {c.regio}, {c.samenwerkingsverband}) zit thuis.",
            f"Einddatum van de wettelijke termijn van twaalf weken: {deadline}." if deadline else None,
            "Na de eerdere beoordeling komt de vraag nu terug: is er nog uitzicht op een duurzame oplossing?"
            if terugkomst
            else None,
            f"Wilt u uiterlijk {uiterlijk} besluiten: {keuze}?" if uiterlijk else f"Wilt u besluiten: {keuze}?",
            opschalen,
            gevolg,
        ),
    )


def _twaalf_weken_check_gemeld(c: _Context) -> tuple[str, str]:
    deadline = c.date("deadline")
    uiterlijk = c.date("uiterlijk")
    weken = c.number("weken")
    return (
        f"Ter informatie: twaalfwekencheck voor leerling {c.leerling}",
        _sentences(
            f"Leerling {c.leerling} (regio {c.regio}, PPO Rotterdam) zit {weken} weken thuis."
            if weken is not None
            else f"Leerling {c.leerling} (regio {c.regio}, PPO Rotterdam) zit thuis.",
            f"Einddatum van de wettelijke termijn van twaalf weken: {deadline}." if deadline else None,
            (
                f"De schoolcontactpersoon besluit uiterlijk {uiterlijk} of de zaak wordt opgeschaald, of dat er "
                "uitzicht is op een duurzame oplossing (beoordeling)."
            )
            if uiterlijk
            else "De schoolcontactpersoon besluit of de zaak wordt opgeschaald, of dat er uitzicht is op een "
            "duurzame oplossing (beoordeling).",
            "Komt er niet op tijd een besluit, dan komt de zaak automatisch bij u. U hoeft nu niets te doen.",
        ),
    )


def _twaalf_weken_check_verlopen(c: _Context) -> tuple[str, str]:
    uiterlijk = c.date("uiterlijk")
    weken = c.number("weken")
    niet_beslist = (
        f"Het besluit bij de twaalfwekencheck was uiterlijk {uiterlijk} nodig en is niet genomen."
        if uiterlijk
        else "Het besluit bij de twaalfwekencheck is niet op tijd genomen."
    )
    if c.rol is Rol.TASKFORCE:
        actie = "De zaak staat daarom op de lijst van de Kerngroep, die de zaak kan oppakken."
    else:
        actie = _sentences(
            "De zaak staat daarom op de lijst van de Kerngroep van de Taskforce.",
            "Wilt u alsnog besluiten: opschalen, of een beoordeling met het uitzicht op een duurzame oplossing?",
        )
    return (
        f"Twaalfwekencheck niet beslist: leerling {c.leerling}",
        _sentences(
            f"Leerling {c.leerling} (regio {c.regio}, {c.samenwerkingsverband}) zit {weken} weken thuis."
            if weken is not None
            else f"Leerling {c.leerling} (regio {c.regio}, {c.samenwerkingsverband}) zit thuis.",
            niet_beslist,
            actie,
        ),
    )


def _taak_te_laat(c: _Context) -> tuple[str, str]:
    taak_id = c.text("taak_id")
    omschrijving = c.text("omschrijving")
    uiterlijk = c.date("uiterlijk")
    taak = f"taak {taak_id}" if taak_id else "een taak"
    return (
        f"Herinnering: {taak} voor leerling {c.leerling} is te laat",
        _sentences(
            f"In de zaak van leerling {c.leerling} staat {taak} voor u open.",
            f"De taak: {omschrijving}" if omschrijving else None,
            f"De uiterste datum was {uiterlijk}." if uiterlijk else None,
            "Wilt u de taak alsnog uitvoeren? Is die al gedaan, meld de taak dan af in het casussysteem, met een "
            "toelichting.",
        ),
    )


def _uitkomst_zin(c: _Context) -> str | None:
    code = c.text("uitkomst")
    if code == "ingeschreven_andere_school" and c.text("school_brin"):
        return f"de leerling is ingeschreven op {_school(c)}"
    if c.absoluut_verzuim and code == "terug_op_school":
        return "de leerling gaat naar school"
    if c.absoluut_verzuim and code == "ingeschreven_andere_school":
        return "de leerling is ingeschreven op een school"
    return _UITKOMSTEN.get(code or "")


def _passende_plek(c: _Context) -> tuple[str, str]:
    # A vrijstelling may still await Leerplicht's decision (one of the checks): the outcome is named, not claimed.
    vrijstelling = c.text("uitkomst") == "vrijstelling"
    uitkomst = "de uitkomst is een vrijstelling van de leerplicht" if vrijstelling else _uitkomst_zin(c)
    controles = c.strings("controles")
    if controles:
        open_staat = "Voordat de zaak kan worden afgesloten, moet nog gebeuren:\n" + _bullets(controles)
    elif controles is not None:
        open_staat = "Er staan geen controles meer open."
    else:
        open_staat = None
    return (
        f"Passende onderwijsplek: leerling {c.leerling}",
        _sentences(
            f"De zaak van leerling {c.leerling} is in fase 4 (passende onderwijsplek)"
            + (f": {uitkomst}." if uitkomst else "."),
            "De zaak is nog niet afgesloten.",
            open_staat,
        ),
    )


def _uitschrijven(c: _Context) -> tuple[str, str]:
    code = c.text("uitkomst")
    if code == "ingeschreven_andere_school":
        reden = f"Leerling {c.leerling} is ingeschreven op " + (
            f"{_school(c)}." if c.text("school_brin") else "een andere school."
        )
    elif code == "vrijstelling":
        reden = f"Voor leerling {c.leerling} is een vrijstelling van de leerplicht afgegeven."
    else:
        reden = f"Voor leerling {c.leerling} is een passende onderwijsplek gevonden."
    return (
        f"Uitschrijven: leerling {c.leerling}",
        _sentences(
            reden,
            "Wilt u de leerling uitschrijven bij uw school en de uitschrijving bevestigen in het casussysteem "
            "(uitschrijving, met de datum van uitschrijving)?",
            "Daarna kan de zaak worden afgerond.",
        ),
    )


def _afronden(c: _Context) -> tuple[str, str]:
    uitkomst = _uitkomst_zin(c)
    return (
        f"Zaak afronden: leerling {c.leerling}",
        _sentences(
            f"De controles van fase 4 voor leerling {c.leerling} zijn gedaan"
            + (f" ({uitkomst})." if uitkomst else "."),
            "Wilt u de zaak controleren en afsluiten in het casussysteem (afronden, met een toelichting)?",
            "Het casussysteem sluit daarmee ook de hulpvraag thuiszitter in Kindkans af."
            if c.po and c.rol is Rol.SCP
            else None,
        ),
    )


def _verzuim_volgen(c: _Context) -> tuple[str, str]:
    code = c.text("uitkomst")
    uitkomst = _uitkomst_zin(c)
    return (
        f"Schoolgang volgen: leerling {c.leerling}",
        _sentences(
            f"De zaak van leerling {c.leerling} is in fase 4 (passende onderwijsplek)"
            + (f": {uitkomst}." if uitkomst else "."),
            None if code == "vrijstelling" else "Wilt u de (hervatte) schoolgang van de leerling volgen?",
        ),
    )


def _taskforce_actie(c: _Context) -> tuple[str, str]:
    omschrijving = c.text("omschrijving")
    uiterlijk = c.date("uiterlijk")
    taak_id = c.text("taak_id")
    return (
        f"Actie uit het besluit van de Taskforce: leerling {c.leerling}",
        _sentences(
            f"De Taskforce Thuiszitters heeft een besluit genomen over leerling {c.leerling}. Daarin staat een "
            "actie voor u.",
            f"De actie: {omschrijving}" if omschrijving else None,
            f"Wilt u de actie uiterlijk {uiterlijk} uitvoeren?" if uiterlijk else "Wilt u de actie uitvoeren?",
            f"Meld de taak ({taak_id}) daarna af in het casussysteem, met een toelichting."
            if taak_id
            else "Meld de taak daarna af in het casussysteem, met een toelichting.",
        ),
    )


def _sector_gewijzigd(c: _Context) -> tuple[str, str]:
    nieuw = c.text("sector")
    if nieuw in ("PO", "VO"):
        c = replace(c, sector=Sector(nieuw))
    return (
        f"Zaak overgedragen aan {c.samenwerkingsverband}: leerling {c.leerling}",
        _sentences(
            _since(c),
            f"De zaak valt nu onder het {_SECTOR_NAAM[c.sector]}: {c.samenwerkingsverband} (regio {c.regio}).",
            f"{_capitalised(c.contactpersoon)} is vanaf nu het aanspreekpunt. Wilt u de zaak met de school oppakken?",
        ),
    )


def _algemeen(c: _Context, sjabloon: Sjabloon) -> tuple[str, str]:
    wat = "" if sjabloon in _PO_ALLEEN and not c.po else f": {sjabloon.value.replace('_', ' ')}"
    return (
        f"Bericht over leerling {c.leerling}",
        _sentences(
            f"Er is een ontwikkeling in de zaak van leerling {c.leerling} (regio {c.regio}, "
            f"{c.samenwerkingsverband}){wat}.",
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
    Sjabloon.LEERPLICHTIG_GEWORDEN: _leerplichtig_geworden,
    Sjabloon.TWAALF_WEKEN_CHECK: _twaalf_weken_check,
    Sjabloon.TWAALF_WEKEN_CHECK_GEMELD: _twaalf_weken_check_gemeld,
    Sjabloon.TWAALF_WEKEN_CHECK_VERLOPEN: _twaalf_weken_check_verlopen,
    Sjabloon.TAAK_TE_LAAT: _taak_te_laat,
    Sjabloon.PASSENDE_PLEK: _passende_plek,
    Sjabloon.UITSCHRIJVEN: _uitschrijven,
    Sjabloon.AFRONDEN: _afronden,
    Sjabloon.VERZUIM_VOLGEN: _verzuim_volgen,
    Sjabloon.TASKFORCE_ACTIE: _taskforce_actie,
    Sjabloon.SECTOR_GEWIJZIGD: _sector_gewijzigd,
}
"""Every template by its code: one for each ``Sjabloon``, none without one."""


def _vragen(c: _Context) -> str | None:
    """Where a reader with questions goes: the parents to the school (or Leerplicht), others to the PPO coordinator
    (PO) or the Koersloket (VO); the coordinator, the Taskforce and the Koersloket are that place themselves."""
    if c.rol is Rol.OUDERS:
        return _VRAGEN_OUDERS
    if c.rol in _GEEN_VRAGENREGEL:
        return None
    if c.po:
        return f"Vragen? Neem contact op met {c.coordinator}."
    return "Vragen? Neem contact op met het Koersloket van Koers VO."


def render(bericht: Bericht) -> tuple[str, str]:
    """The subject and body of a notification, in Dutch. Never raises: data a template cannot use gives a general
    message instead."""
    context = _Context(
        leerling=bericht.leerling_ref,
        regio=bericht.regio.value,
        sector=bericht.sector,
        gegevens=bericht.gegevens,
        rol=bericht.rol,
    )
    try:
        if bericht.sjabloon in _PO_ALLEEN and not context.po:
            raise LookupError("a PPO message in a Koers VO case")
        onderwerp, kern = TEMPLATES[bericht.sjabloon](context)
    except Exception:
        onderwerp, kern = _algemeen(context, bericht.sjabloon)
    aanhef = _AANHEF.get(bericht.rol, "Beste lezer")
    slot = " ".join(part for part in (_AFZENDER, _vragen(context)) if part)
    return onderwerp, f"{aanhef},\n\n{kern}\n\n{slot}\n"
