"""The web forms of the contract's events, derived from the pydantic models of :mod:`workflows.contract`.

What a field is (text, date, yes/no, a choice), whether it is required and how long it may be all come from the
model, so a change in the contract shows up in its form. What a person reads (titles, labels, help texts, the Dutch
names of choices) is written out below, per event; a field without a label is an error, not a raw identifier.

Three functions serve a page: :func:`formulier` describes the form (the macro ``_formulier.html`` renders it),
:func:`inhoud` turns what was submitted into the event's payload, and :func:`fouten` turns the model's refusal into a
Dutch message per field. ``door`` and ``persoon`` are never in a form: the application sets them from the login
(:func:`thuiszitters.people.policy.with_sender`), except the ``persoon`` of ``toewijzen``, who is the person being
assigned.
"""

from __future__ import annotations

import inspect
import re
import types
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from enum import Enum
from functools import cache
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import annotated_types
import pydantic
from pydantic import BaseModel, StringConstraints
from pydantic.fields import FieldInfo

from thuiszitters.people.policy import ORGANISATION_SECTOR, ActorRole
from workflows.contract import (
    EVENTS,
    ROUTE_33_VARIANTEN_PER_SECTOR,
    Deelnemer,
    DocumentSoort,
    Door,
    Gebeurtenis,
    InterventieSoort,
    RedenCode,
    Regio,
    Sector,
    Toewijzen,
)

Soort = Literal["tekst", "tekstvak", "datum", "ja_nee", "keuze", "meerkeuze", "vinkje"]


@dataclass(frozen=True)
class Keuze:
    """One choice of a field: the value sent, and what the person reads."""

    waarde: str
    label: str


@dataclass(frozen=True)
class Veld:
    """One field of a form. ``naam`` is the HTML name: the model's field name, or ``<list>-<row>-<field>`` for a
    row of a list of objects (``acties-0-rol``)."""

    naam: str
    label: str
    soort: Soort
    verplicht: bool
    hulp: str | None = None
    keuzes: tuple[Keuze, ...] = ()
    max_lengte: int | None = None
    groep: str | None = None


@dataclass(frozen=True)
class Formulier:
    """The form of one event: what it is called, what it does, and its fields in order."""

    gebeurtenis: str
    titel: str
    uitleg: str
    knop: str
    velden: tuple[Veld, ...]


SENDER_FIELDS = ("door", "persoon")
"""Fields the application sets from the login, never shown (but see ``toewijzen``)."""

TEKSTVAK_VANAF = 200
"""Text that may be longer than this many characters gets a text area instead of a one-line field."""

SELECT_VANAF = 5
"""A choice of this many options or more is a drop-down list; fewer are radio buttons."""

RIJEN = 3
"""Rows offered for a list of objects (the actions of a Taskforce decision), at most what the model allows."""

JA, NEE = "ja", "nee"

# ---------------------------------------------------------------------------------------------- the Dutch texts

_GEBEURTENISSEN: dict[str, tuple[str, str, str]] = {
    # event: (title, what it does in the procedure, the button)
    "melding": (
        "Thuiszitter melden",
        "De school meldt dat de leerling volledig verzuimt. De zaak gaat daarmee van het voortraject naar fase 1, "
        "melding thuiszitter.",
        "Thuiszitter melden",
    ),
    "leerplicht_registratie": (
        "Registratie in het LBA vastleggen",
        "Leerplicht bevestigt dat de leerling als thuiszitter in de Leerling Basis Administratie (LBA) staat. Niet "
        "voor een leerling van 4 jaar: die is nog niet leerplichtig.",
        "Registratie vastleggen",
    ),
    "startdatum_correctie": (
        "Startdatum corrigeren",
        "Leerplicht stelt de formele startdatum van het thuiszitten vast: de eerste dag dat de leerling niet op "
        "school verscheen. Alle termijnen van de zaak schuiven mee.",
        "Startdatum corrigeren",
    ),
    "oudergesprek": (
        "Oudergesprek vastleggen",
        "Het gesprek van de school met de ouders over hun wensen, de mogelijke oplossingen en de afspraken. Wat u "
        "hier invult, blijft in de zaak bewaard.",
        "Oudergesprek vastleggen",
    ),
    "plan_van_aanpak": (
        "Plan van aanpak vastleggen",
        "Het plan van aanpak hoort in het ontwikkelingsperspectiefplan (OPP), en de ouders moeten instemmen met het "
        "handelingsdeel. Als beide zo zijn, gaat de zaak naar fase 3: oplossingen realiseren.",
        "Plan van aanpak vastleggen",
    ),
    "route": (
        "Route kiezen",
        "De oplossing die in fase 3 gekozen is. Bij route 3.4, een oplossing in de zorg, neemt het wijkteam de "
        "regie samen met de ouders.",
        "Route vastleggen",
    ),
    "aanmelding_andere_school": (
        "Aanmelding bij een andere school vastleggen",
        "Route 3.2: de ouders hebben de leerling schriftelijk bij een andere school aangemeld. Vanaf nu loopt de "
        "zorgplichttermijn van die school: 6 weken, één keer met 4 weken te verlengen.",
        "Aanmelding vastleggen",
    ),
    "zorgplicht_verlengd": (
        "Zorgplichttermijn verlengen",
        "De school die de aanmelding ontving, verlengt haar zorgplichttermijn met 4 weken. Dat kan één keer.",
        "Termijn verlengen",
    ),
    "wachtlijst": (
        "Wachtlijst bijwerken",
        "Geef aan of de leerling op een wachtlijst voor een plek staat. Zorg in die tussentijd voor een passend "
        "programma.",
        "Wachtlijst bijwerken",
    ),
    "voortgang": (
        "Voortgang doorgeven",
        "Een korte stand van zaken van het plan van aanpak. De betrokkenen bij de zaak krijgen die door.",
        "Voortgang doorgeven",
    ),
    "opschalen": (
        "Opschalen",
        "Loopt het proces vast of gaat het te traag? Schaal dan op naar de thuiszitterscoördinator (PO) of naar de "
        "Taskforce Thuiszitters. Opschalen naar de Taskforce stemt u altijd eerst af met de leerplichtambtenaar en "
        "de school.",
        "Opschalen",
    ),
    "beoordeling": (
        "Nu niet opschalen",
        "Er is uitzicht op een duurzame oplossing, dus de zaak gaat nu niet naar de Taskforce. Leg uit waarom, en "
        "kies wanneer de zaak opnieuw wordt bekeken.",
        "Beoordeling vastleggen",
    ),
    "huisbezoek": (
        "Verslag van het huisbezoek",
        "De Taskforce legt vast wat het huisbezoek opleverde. De Kerngroep hoort dit verslag bij de bespreking van "
        "de zaak.",
        "Verslag vastleggen",
    ),
    "taskforce_besluit": (
        "Besluit van de Taskforce vastleggen",
        "Het besluit van de Taskforce Thuiszitters. Elke actie die u noemt, wordt een taak voor die rol, met de "
        "datum waarop die klaar moet zijn.",
        "Besluit vastleggen",
    ),
    "vrijstelling": (
        "Vrijstelling van de leerplicht",
        "Een vrijstelling is de keuze van de ouders; zij kunnen er niet toe verplicht worden. De ouders vragen haar "
        "aan (Leerplicht kan dat namens hen vastleggen), Leerplicht verleent of wijst af.",
        "Vrijstelling vastleggen",
    ),
    "passende_plek": (
        "Passende onderwijsplek vastleggen",
        "De leerling heeft een plek: terug op school, ingeschreven op een andere school, of met een vrijstelling. De "
        "zaak gaat naar fase 4; daarna volgen nog de controles en het afronden.",
        "Passende plek vastleggen",
    ),
    "uitschrijving": (
        "Uitschrijving vastleggen",
        "De oude school heeft de leerling uitgeschreven, na inschrijving op een andere school of nadat een "
        "vrijstelling is verleend.",
        "Uitschrijving vastleggen",
    ),
    "afronden": (
        "Zaak afronden",
        "De laatste stap, na de controles van fase 4: de uitschrijving of de vrijstelling is nagegaan. Daarmee "
        "wordt de zaak gesloten.",
        "Zaak afronden",
    ),
    "taak_afgerond": (
        "Taak afronden",
        "Een open taak die gedaan is, markeert u hier als klaar, met een korte toelichting.",
        "Taak afronden",
    ),
    "toewijzen": (
        "Persoon toewijzen",
        "De gekozen persoon krijgt de taken van die rol in deze zaak.",
        "Toewijzen",
    ),
    "document_toegevoegd": (
        "Document toevoegen",
        "Leg vast waar een document over de leerling staat, zoals het OPP of een TLV-onderbouwing. U voegt een "
        "verwijzing toe, niet het bestand zelf.",
        "Document toevoegen",
    ),
    "gegevens_wijzigen": (
        "Gegevens van de aanmelding wijzigen",
        "Corrigeer de gegevens van de aanmelding; vul alleen in wat verandert. Bij een andere sector gaat de zaak "
        "naar de andere organisatie: PPO Rotterdam of Koers VO.",
        "Gegevens wijzigen",
    ),
    "leerplicht_interventie": (
        "Interventie van Leerplicht vastleggen",
        "Leerplicht spreekt ouders aan die niet meewerken of de aanpak belemmeren, en legt waar nodig een sanctie "
        "op. Leg hier vast wat er gebeurde.",
        "Interventie vastleggen",
    ),
    "intrekken": (
        "Melding intrekken",
        "Trek een zaak in die ten onrechte als thuiszitter is gemeld. De zaak wordt daarmee gesloten.",
        "Melding intrekken",
    ),
}

_DATUM = ("Datum", "Alleen invullen als het niet vandaag was.")

_LABELS: dict[str, dict[str, tuple[str, str | None]]] = {
    # event: {field (a row's field as "list.field"): (label, help text)}; "datum" falls back to _DATUM
    "melding": {
        "gemeld_bij_leerplicht": (
            "Is het verzuim gemeld bij Leerplicht?",
            "Vanaf 5 jaar meldt de school volledig verzuim ook bij Leerplicht, met de startdatum van het thuiszitten.",
        ),
    },
    "leerplicht_registratie": {"lba_geregistreerd_op": ("Geregistreerd in het LBA op", None)},
    "startdatum_correctie": {
        "startdatum": ("Startdatum van het thuiszitten", "De eerste dag dat de leerling niet op school verscheen."),
        "reden": ("Reden van de correctie", None),
    },
    "oudergesprek": {
        "deelnemers": ("Wie waren bij het gesprek?", None),
        "wensen_ouders": ("Wensen en behoeften van de ouders", None),
        "besproken_opties": ("Besproken opties en hun gevolgen", None),
        "afspraken": ("Gemaakte afspraken", None),
        "datum": ("Datum van het gesprek", _DATUM[1]),
    },
    "plan_van_aanpak": {
        "in_opp": ("Staat het plan van aanpak in het OPP?", "OPP: het ontwikkelingsperspectiefplan van de leerling."),
        "instemming_ouders": ("Stemmen de ouders in met het handelingsdeel van het OPP?", None),
    },
    "route": {
        "route": ("Route", None),
        "variant": ("Oplossing bij route 3.3", "Alleen nodig bij route 3.3."),
    },
    "aanmelding_andere_school": {
        "school_brin": (
            "BRIN-code van de andere school",
            "Vier cijfers of hoofdletters, soms gevolgd door nog twee, zoals 12AB of 12AB01.",
        ),
    },
    "zorgplicht_verlengd": {},
    "wachtlijst": {"op_wachtlijst": ("Staat de leerling op een wachtlijst?", None)},
    "voortgang": {
        "toelichting": ("Stand van zaken", None),
        "afgehandelde_taken": (
            "Afgehandelde taken (zaken die vóór versie 2 begonnen)",
            "De codes van handmatige taken die nu klaar zijn, gescheiden door komma's. Taken van nieuwere zaken rondt "
            "u af met ‘Taak afronden’.",
        ),
    },
    "opschalen": {
        "niveau": ("Opschalen naar", None),
        "reden_code": ("Reden", None),
        "reden": ("Toelichting op de reden", None),
        "afgestemd_met_leerplicht": (
            "Afgestemd met de leerplichtambtenaar",
            "Nodig voor opschalen naar de Taskforce.",
        ),
        "afgestemd_met_school": ("Afgestemd met de school", "Nodig voor opschalen naar de Taskforce."),
    },
    "beoordeling": {
        "uitzicht": (
            "Uitzicht op een duurzame oplossing",
            "Welke oplossing is in zicht, en waarom is opschalen nu niet nodig?",
        ),
        "herbeoordeling_op": ("Opnieuw bekijken op", "Na vandaag en hoogstens zes weken vooruit."),
    },
    "huisbezoek": {"samenvatting": ("Samenvatting van het huisbezoek", None)},
    "taskforce_besluit": {
        "besluit": ("Besluit", None),
        "acties": ("Actie", None),
        "acties.rol": ("Wie voert de actie uit?", None),
        "acties.omschrijving": ("Wat moet er gebeuren?", None),
        "acties.uiterlijk": ("Uiterlijk klaar op", None),
    },
    "vrijstelling": {"status": ("Stand van de vrijstelling", None)},
    "passende_plek": {
        "uitkomst": ("Uitkomst", None),
        "school_brin": (
            "BRIN-code van de nieuwe school",
            "Nodig bij inschrijving op een andere school. Vier cijfers of hoofdletters, soms gevolgd door nog twee.",
        ),
    },
    "uitschrijving": {"uitgeschreven_op": ("Uitgeschreven op", None)},
    "afronden": {
        "toelichting": ("Toelichting bij het afronden", "Wat is nagegaan, en hoe gaat het nu met de leerling?"),
    },
    "taak_afgerond": {
        "taak_id": ("Taak", None),
        "toelichting": ("Wat is er gedaan?", None),
    },
    "toewijzen": {
        "rol": ("Rol", None),
        "persoon": ("Persoon", "Deze persoon krijgt de taken van de gekozen rol in deze zaak."),
    },
    "document_toegevoegd": {
        "soort": ("Soort document", None),
        "verwijzing": (
            "Verwijzing naar het document",
            "Waar het document staat, bijvoorbeeld een kenmerk of een nummer in het dossier. Niet het bestand zelf.",
        ),
        "omschrijving": ("Omschrijving", None),
    },
    "gegevens_wijzigen": {
        "school_brin": (
            "BRIN-code van de school",
            "Vier cijfers of hoofdletters, soms gevolgd door nog twee, zoals 12AB of 12AB01.",
        ),
        "regio": ("Regio", None),
        "sector": ("Sector", None),
        "woont_in_rotterdam": ("Woont de leerling in Rotterdam?", None),
    },
    "leerplicht_interventie": {
        "soort": ("Soort interventie", None),
        "toelichting": ("Toelichting", None),
    },
    "intrekken": {"reden": ("Waarom wordt de melding ingetrokken?", None)},
}

_ENUM_LABELS: dict[type[Enum], dict[str, str]] = {
    Door: {
        "school": "School",
        "scp": "Schoolcontactpersoon (PPO)",
        "koersloket": "Koersloket (Koers VO)",
        "leerplicht": "Leerplicht",
        "leerplicht_absoluut_verzuim": "Leerplicht absoluut verzuim",
        "ouders": "Ouders",
        "coordinator": "Thuiszitterscoördinator (PPO)",
        "wijkteam": "Wijkteam",
        "taskforce": "Taskforce Thuiszitters",
    },
    Deelnemer: {
        "school": "School",
        "ouders": "Ouders",
        "scp": "Schoolcontactpersoon (PPO)",
        "koersloket": "Koersloket (Koers VO)",
        "smw": "Schoolmaatschappelijk werk (SMW)",
        "wijkteam": "Wijkteam",
        "leerling": "De leerling zelf",
    },
    RedenCode: {
        "geen_passende_plek": "Na de plaatsingsoverleggen en opschaling nog geen passende onderwijsplek",
        "geen_plaats_reguliere_scholen": "Reguliere scholen hebben geen plaats (meer)",
        "partijen_niet_eens": "De betrokken partijen komen er samen niet uit",
        "ouders_niet_eens": "Ouders of leerling zitten niet op één lijn met de school over de oplossing",
        "proces_loopt_vast": "Het proces loopt vast of gaat te traag",
        "overig": "Een andere reden",
    },
    DocumentSoort: {
        "opp": "Ontwikkelingsperspectiefplan (OPP)",
        "plan_van_aanpak": "Plan van aanpak",
        "tlv_onderbouwing": "Onderbouwing van de toelaatbaarheidsverklaring (TLV)",
        "huisbezoekverslag": "Verslag van het huisbezoek",
        "besluit": "Besluit",
        "overig": "Ander document",
    },
    InterventieSoort: {
        "gesprek": "Gesprek met de ouders",
        "waarschuwing": "Waarschuwing",
        "proces_verbaal": "Proces-verbaal",
    },
    Regio: {"Noord": "Noord", "Zuid": "Zuid"},
    Sector: {"PO": "Primair onderwijs (PO)", "VO": "Voortgezet onderwijs (VO)"},
}
"""The Dutch name of every member of the contract's enums, wherever they are offered."""

_LITERAL_LABELS: dict[tuple[str, str], dict[str, str]] = {
    ("route", "route"): {
        "3.1": "3.1 De leerling blijft op of keert terug naar de eigen school, met een passend aanbod",
        "3.2": "3.2 De leerling gaat naar een andere school",
        "3.3": "3.3 Andere reguliere school, arrangement, TLV-route of zorgarrangement",
        "3.4": "3.4 Oplossing in de zorg: het wijkteam heeft de regie",
    },
    ("opschalen", "niveau"): {
        "coordinator": "De thuiszitterscoördinator van PPO",
        "taskforce": "De Taskforce Thuiszitters",
    },
    ("vrijstelling", "status"): {
        "aangevraagd": "Aangevraagd door de ouders",
        "verleend": "Verleend",
        "afgewezen": "Afgewezen",
    },
    ("passende_plek", "uitkomst"): {
        "terug_op_school": "Terug op de eigen school",
        "ingeschreven_andere_school": "Ingeschreven op een andere school",
        "vrijstelling": "Vrijstelling van de leerplicht",
    },
}
"""The Dutch name of each value of a field typed as a ``Literal``."""

VARIANT_LABELS: dict[str, str] = {
    "andere_reguliere_school": "Een andere reguliere basisschool",
    "arrangement": "Een arrangement van PPO, zoals Herstart",
    "tlv_sbo": "Een TLV-route naar het SBO",
    "tlv_so": "Een TLV-route naar het SO",
    "zorgarrangement": "Een zorgarrangement, in overleg met het wijkteam",
    "andere_vo_school": "Een andere school voor voortgezet onderwijs",
    "tlv_vso": "Een TLV-route naar het VSO, via Koers VO",
}
"""The variants of route 3.3 (``ROUTE_33_VARIANTEN_PER_SECTOR``), in Dutch."""

_JA_NEE = (Keuze(JA, "Ja"), Keuze(NEE, "Nee"))

_GEEN_KEUZE: dict[tuple[str, str], str] = {
    ("route", "variant"): "Geen: een andere route dan 3.3",
    ("gegevens_wijzigen", "regio"): "Niet wijzigen",
    ("gegevens_wijzigen", "sector"): "Niet wijzigen",
    ("gegevens_wijzigen", "woont_in_rotterdam"): "Niet wijzigen",
}
"""The label of the empty choice of an optional choice field; "Geen keuze" where none is given here."""

_CHOICES_FROM_CALLER: dict[tuple[str, str], str] = {
    ("route", "variant"): "varianten",
    ("taak_afgerond", "taak_id"): "taken",
    ("toewijzen", "persoon"): "personen",
}
"""Text fields of the model that a form offers as a choice: the variants of the case's sector, the open tasks,
the people who may be assigned."""

_PATROON_FOUTEN: dict[str, str] = {
    "school_brin": "Vul een BRIN-code in van vier cijfers of hoofdletters, soms gevolgd door nog twee (zoals 12AB01).",
    "taak_id": "Kies een van de taken.",
    "persoon": "Kies een van de personen.",
}
"""The message for a value that does not fit a field's pattern, where the field's name says what it is."""


# -------------------------------------------------------------------------------------- reading the models


@dataclass(frozen=True)
class _Invoer:
    """One HTML field as the model defines it, before labels and sector-dependent choices are added."""

    naam: str
    pad: tuple[str | int, ...]
    sleutel: str
    soort: Soort
    verplicht: bool
    max_lengte: int | None = None
    waarden: tuple[str, ...] = ()
    enum: type[Enum] | None = None
    lijst: bool = False
    rij: int | None = None


def _unwrap(annotation: Any, metadata: Sequence[Any] = ()) -> tuple[Any, list[Any]]:
    """The type under ``Optional`` and ``Annotated``, with every constraint found along the way."""
    found: list[Any] = list(metadata)
    while True:
        origin = get_origin(annotation)
        if origin is Annotated:
            annotation, *extra = get_args(annotation)
            found.extend(extra)
        elif origin in (Union, types.UnionType):
            rest = [a for a in get_args(annotation) if a is not type(None)]
            if len(rest) != 1:
                raise TypeError(f"no form field for a union of {rest}")
            annotation = rest[0]
        else:
            break
    flat: list[Any] = []
    for item in found:
        flat.extend(item.metadata if isinstance(item, FieldInfo) else [item])
    return annotation, flat


def _max_length(constraints: Sequence[Any]) -> int | None:
    for item in constraints:
        if isinstance(item, StringConstraints) and item.max_length is not None:
            return item.max_length
        if isinstance(item, annotated_types.MaxLen):
            return item.max_length
    return None


def _choice_values(tp: Any) -> tuple[tuple[str, ...], type[Enum] | None] | None:
    if isinstance(tp, type) and issubclass(tp, Enum):
        return tuple(str(m.value) for m in tp), tp
    if get_origin(tp) is Literal:
        return tuple(str(v) for v in get_args(tp)), None
    return None


def _scalar(
    naam: str,
    pad: tuple[str | int, ...],
    sleutel: str,
    tp: Any,
    constraints: list[Any],
    *,
    verplicht: bool,
    default: Any,
) -> _Invoer:
    """The field for one value of type ``tp``."""
    if tp is bool:
        soort: Soort = "vinkje" if default is False else "ja_nee"
        return _Invoer(naam, pad, sleutel, soort, verplicht, waarden=(JA, NEE))
    if tp is date:
        return _Invoer(naam, pad, sleutel, "datum", verplicht)
    if (choice := _choice_values(tp)) is not None:
        return _Invoer(naam, pad, sleutel, "keuze", verplicht, waarden=choice[0], enum=choice[1])
    if tp is str:
        lengte = _max_length(constraints)
        soort = "tekstvak" if lengte is not None and lengte > TEKSTVAK_VANAF else "tekst"
        return _Invoer(naam, pad, sleutel, soort, verplicht, max_lengte=lengte)
    raise TypeError(f"no form field for {sleutel}: {tp!r}")


def _field_order(model: type[Gebeurtenis]) -> list[str]:
    """The event's own fields in the order its classes declare them, then the common ones (``datum``)."""
    own: list[str] = []
    for cls in reversed(model.__mro__):
        if isinstance(cls, type) and issubclass(cls, Gebeurtenis) and cls is not Gebeurtenis:
            own.extend(f for f in inspect.get_annotations(cls) if f in model.model_fields)
    own = list(dict.fromkeys(own))
    return own + [f for f in model.model_fields if f not in own]


def _shown(model: type[Gebeurtenis], field: str) -> bool:
    if field == "persoon" and issubclass(model, Toewijzen):
        return True
    return field not in SENDER_FIELDS


@cache
def _invoer(naam: str) -> tuple[_Invoer, ...]:
    """The HTML fields of event ``naam``, read from its model. ``KeyError`` for an unknown event."""
    model = EVENTS[naam]
    fields: list[_Invoer] = []
    for field in _field_order(model):
        if not _shown(model, field):
            continue
        info = model.model_fields[field]
        verplicht = info.is_required()
        if (naam, field) in _CHOICES_FROM_CALLER:
            fields.append(_Invoer(field, (field,), field, "keuze", verplicht))
            continue
        tp, constraints = _unwrap(info.annotation, info.metadata)
        if get_origin(tp) is list:
            (item,) = get_args(tp)
            item_tp, _ = _unwrap(item)
            max_items = _max_length(constraints)
            if isinstance(item_tp, type) and issubclass(item_tp, BaseModel):
                rijen = min(RIJEN, max_items) if max_items is not None else RIJEN
                for rij in range(rijen):
                    for sub, sub_info in item_tp.model_fields.items():
                        sub_tp, sub_constraints = _unwrap(sub_info.annotation, sub_info.metadata)
                        scalar = _scalar(
                            f"{field}-{rij}-{sub}",
                            (field, rij, sub),
                            f"{field}.{sub}",
                            sub_tp,
                            sub_constraints,
                            verplicht=False,
                            default=sub_info.default,
                        )
                        fields.append(_with_row(scalar, rij))
            elif (choice := _choice_values(item_tp)) is not None:
                fields.append(
                    _Invoer(field, (field,), field, "meerkeuze", verplicht, waarden=choice[0], enum=choice[1])
                )
            elif item_tp is str:
                fields.append(_Invoer(field, (field,), field, "tekst", verplicht, lijst=True))
            else:
                raise TypeError(f"no form field for {naam}.{field}: {tp!r}")
            continue
        fields.append(_scalar(field, (field,), field, tp, constraints, verplicht=verplicht, default=info.default))
    return tuple(fields)


def _with_row(invoer: _Invoer, rij: int) -> _Invoer:
    return _Invoer(
        invoer.naam,
        invoer.pad,
        invoer.sleutel,
        invoer.soort,
        invoer.verplicht,
        invoer.max_lengte,
        invoer.waarden,
        invoer.enum,
        invoer.lijst,
        rij,
    )


# --------------------------------------------------------------------------------------------------- the form


def _label(naam: str, sleutel: str) -> tuple[str, str | None]:
    labels = _LABELS[naam]
    if sleutel in labels:
        return labels[sleutel]
    if sleutel == "datum":
        return _DATUM
    raise KeyError(f"{naam}: no Dutch label for field {sleutel!r}")


def _for_sector(waarde: str, sector: Sector) -> bool:
    """Whether a choice fits a case of ``sector``: a value that names a role of one organisation (the SCP and the
    coordinator of PPO Rotterdam, the Koersloket of Koers VO) is offered in that sector's cases only."""
    try:
        rol = ActorRole(waarde)
    except ValueError:
        return True
    return ORGANISATION_SECTOR.get(rol, sector) == sector


def _choices(
    naam: str, invoer: _Invoer, sector: Sector, taken: Sequence[Keuze], personen: Sequence[Keuze]
) -> tuple[Keuze, ...]:
    bron = _CHOICES_FROM_CALLER.get((naam, invoer.sleutel))
    keuzes: tuple[Keuze, ...]
    if bron == "varianten":
        keuzes = tuple(Keuze(v, VARIANT_LABELS[v]) for v in ROUTE_33_VARIANTEN_PER_SECTOR[sector])
    elif bron == "taken":
        keuzes = tuple(taken)
    elif bron == "personen":
        keuzes = tuple(personen)
    elif invoer.soort == "ja_nee":
        keuzes = _JA_NEE
    elif invoer.soort not in ("keuze", "meerkeuze"):
        keuzes = ()
    else:
        labels = _ENUM_LABELS[invoer.enum] if invoer.enum is not None else _LITERAL_LABELS[(naam, invoer.sleutel)]
        keuzes = tuple(Keuze(w, labels[w]) for w in invoer.waarden if _for_sector(w, sector))
    if invoer.soort in ("keuze", "ja_nee") and not invoer.verplicht and invoer.rij is None:
        keuzes = (Keuze("", _GEEN_KEUZE.get((naam, invoer.sleutel), "Geen keuze")), *keuzes)
    return keuzes


def formulier(naam: str, *, sector: Sector, taken: Sequence[Keuze] = (), personen: Sequence[Keuze] = ()) -> Formulier:
    """The form of event ``naam`` for a case of ``sector``. ``taken``: the open tasks this person may finish (the
    choices of ``taak_afgerond``); ``personen``: the people who may be assigned (``toewijzen``). ``KeyError`` for an
    unknown event."""
    titel, uitleg, knop = _GEBEURTENISSEN[naam]
    velden: list[Veld] = []
    for invoer in _invoer(naam):
        label, hulp = _label(naam, invoer.sleutel)
        groep = None
        if invoer.rij is not None:
            groep = f"{_label(naam, str(invoer.pad[0]))[0]} {invoer.rij + 1}"
        velden.append(
            Veld(
                naam=invoer.naam,
                label=label,
                soort=invoer.soort,
                verplicht=invoer.verplicht,
                hulp=hulp,
                keuzes=_choices(naam, invoer, sector, taken, personen),
                max_lengte=invoer.max_lengte,
                groep=groep,
            )
        )
    return Formulier(gebeurtenis=naam, titel=titel, uitleg=uitleg, knop=knop, velden=tuple(velden))


# ------------------------------------------------------------------------------------------ what was submitted


def _one(velden: Mapping[str, str | list[str]], naam: str) -> str:
    value = velden.get(naam, "")
    if isinstance(value, list):
        value = next((v for v in value if v.strip()), "")
    return value


def _many(velden: Mapping[str, str | list[str]], naam: str) -> list[str]:
    value = velden.get(naam, [])
    values = [value] if isinstance(value, str) else value
    return [v for v in values if v.strip()]


def _is_ticked(value: str) -> bool:
    return value.strip() not in ("", NEE)


def _value(invoer: _Invoer, velden: Mapping[str, str | list[str]]) -> Any:
    """The payload value of one field, or None when it was left empty."""
    if invoer.soort == "meerkeuze":
        return _many(velden, invoer.naam) or None
    raw = _one(velden, invoer.naam)
    if invoer.soort == "vinkje":
        return _is_ticked(raw)
    if not raw.strip():
        return None
    if invoer.lijst:
        return [part.strip() for part in re.split(r"[,\n]", raw) if part.strip()] or None
    if invoer.soort == "ja_nee":
        return {JA: True, NEE: False}.get(raw.strip().lower(), raw)
    return raw


def _filled_rows(naam: str, velden: Mapping[str, str | list[str]]) -> dict[str, list[int]]:
    """Per list of objects, the rows of the form that hold anything (a fully empty row is left out)."""
    rows: dict[str, list[int]] = {}
    for invoer in _invoer(naam):
        if invoer.rij is None:
            continue
        lijst = rows.setdefault(str(invoer.pad[0]), [])
        if _one(velden, invoer.naam).strip() and invoer.rij not in lijst:
            lijst.append(invoer.rij)
    return {k: sorted(v) for k, v in rows.items()}


def inhoud(naam: str, velden: Mapping[str, str | list[str]]) -> dict[str, Any]:
    """The payload of event ``naam`` from a submitted form (field name to value, or to the list of values of a
    multiple choice). Empty optional fields are left out, "ja"/"nee" become booleans, a checkbox is True when sent,
    the rows of a list of objects become a list of dicts without the fully empty rows. Fields that the form does not
    have (``csrf``, ``token``, ``door``) are ignored. Not validated: the caller adds ``door`` and ``persoon`` and
    validates with ``EVENTS[naam]``."""
    payload: dict[str, Any] = {}
    rows = _filled_rows(naam, velden)
    lists: dict[str, dict[int, dict[str, Any]]] = {lijst: {rij: {} for rij in filled} for lijst, filled in rows.items()}
    for invoer in _invoer(naam):
        value = _value(invoer, velden)
        if invoer.rij is not None:
            lijst, rij, sub = str(invoer.pad[0]), invoer.rij, str(invoer.pad[2])
            if rij in lists[lijst] and value is not None:
                lists[lijst][rij][sub] = value
        elif value is not None:
            payload[invoer.naam] = value
    for lijst, per_row in lists.items():
        if per_row:
            payload[lijst] = [per_row[rij] for rij in sorted(per_row)]
    return payload


# --------------------------------------------------------------------------------------------------- the errors


def _message(invoer: _Invoer, error: Mapping[str, Any]) -> str:
    kind = str(error["type"])
    ctx = error.get("ctx") or {}
    if kind == "value_error":
        return _strip_prefix(str(error["msg"]))
    if kind == "string_too_long":
        return f"Maximaal {ctx.get('max_length', invoer.max_lengte)} tekens."
    if kind == "too_long":
        return f"Kies of noem er hoogstens {ctx.get('max_length')}."
    if kind == "string_pattern_mismatch":
        if invoer.sleutel in _PATROON_FOUTEN:
            return _PATROON_FOUTEN[invoer.sleutel]
        if invoer.soort == "tekst":
            return "Gebruik geen tabs, regeleinden of andere stuurtekens."
        return "Deze tekst bevat tekens die niet zijn toegestaan."
    if invoer.soort == "datum":
        return "Vul een datum in." if kind == "missing" else "Vul een bestaande datum in (dag, maand en jaar)."
    if invoer.soort == "ja_nee":
        return "Kies ja of nee."
    if invoer.soort == "meerkeuze":
        if kind in ("missing", "too_short"):
            return "Kies ten minste één van de mogelijkheden."
        return "Kies alleen uit de mogelijkheden."
    if invoer.soort == "keuze":
        return "Kies een van de mogelijkheden."
    if kind in ("missing", "string_too_short"):
        return "Vul dit veld in."
    return "Dit is niet goed ingevuld."


def _strip_prefix(msg: str) -> str:
    return msg.removeprefix("Value error, ")


def _general_message(error: Mapping[str, Any]) -> str:
    loc = ".".join(str(part) for part in error["loc"])
    if error["type"] == "value_error":
        return _strip_prefix(str(error["msg"]))
    if error["loc"] and error["loc"][0] in SENDER_FIELDS:
        return f"Uw gegevens als afzender kloppen niet ({loc}). Meld u opnieuw aan, of vraag de beheerder om hulp."
    if error["type"] == "extra_forbidden":
        return f"Het formulier bevat een onbekend veld ({loc})."
    return f"Dit is niet goed ingevuld: {loc}."


def fouten(
    naam: str, error: pydantic.ValidationError, *, velden: Mapping[str, str | list[str]] | None = None
) -> dict[str, str]:
    """Per HTML field name, a Dutch message for the model's refusal of the payload that :func:`inhoud` made; what
    belongs to no field (a model validator's rule) under ``""``, in the validator's own words. Pass the submitted
    ``velden`` when the form has rows (``acties``), so that an error in a row after an empty one lands on the row the
    person filled in; without them the rows are taken as filled from the top."""
    by_pad = {invoer.pad: invoer for invoer in _invoer(naam)}
    rows = _filled_rows(naam, velden) if velden is not None else {}
    result: dict[str, str] = {}
    for item in error.errors(include_url=False):
        loc = tuple(item["loc"])
        invoer: _Invoer | None = None
        if len(loc) >= 3 and isinstance(loc[1], int) and (str(loc[0]), 0, str(loc[2])) in by_pad:
            filled = rows.get(str(loc[0]))
            rij = filled[loc[1]] if filled is not None and loc[1] < len(filled) else loc[1]
            invoer = by_pad.get((str(loc[0]), rij, str(loc[2])))
        elif loc:
            invoer = by_pad.get((str(loc[0]),))
        if invoer is None:
            result.setdefault("", _general_message(item))
        else:
            result.setdefault(invoer.naam, _message(invoer, item))
    return result
