"""What the system sends to outside systems, as models.

- :class:`RegistratieVerzoek`: the body of every registration call (``POST {endpoint}/{actie}``), which
  ``HttpRegistratieAdapter`` serialises; :data:`AANROEPEN` names the calls the procedure makes and, per call, the
  model of the ``gegevens`` it carries; :class:`RegistratieAntwoord` is what the adapter reads from an answer.
- :class:`BerichtEvent`: the CloudEvent the webhook channel posts for a notification, with only references in its
  ``data`` (:class:`BerichtVerwijzing`): never the message's text, names, dates of birth or free text.

``devtools/outbound_docs.py`` builds the outbound OpenAPI document (``docs/api/uitgaand.openapi.json``) from these
models, and the tests' partner systems validate every request they receive against that document, so a field the
workflow starts to send without a model here fails the tests. The models' docstrings and field descriptions are in
Dutch: they are the document's text, read by the partners' teams who build the receiving side.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr
from pydantic.json_schema import SkipJsonSchema

from workflows.contract import Regio, Rol, Sector
from workflows.effects import Actie, Bericht, Registratie, Sjabloon, Systeem

CLOUDEVENT_TYPE_PREFIX = "nl.rotterdam.thuiszitters.bericht."
"""The CloudEvent ``type`` of a notification: this prefix and the template code (``sjabloon``)."""

_LEERLING_REF = "Pseudoniem van de leerling (geen BSN, geen naam); hetzelfde in elke aanroep over deze leerling."
_CASE_ID = "De zaak in het thuiszitterssysteem (workflow-id en run-id); één leerling kan na elkaar meer zaken hebben."


class _Uitgaand(BaseModel):
    """Sent as it is: nothing but these fields. A field that may be absent is left out, never sent as null (unless
    its description says null)."""

    model_config = ConfigDict(extra="forbid", frozen=True)


# ------------------------------------------------------------------------------------------- registration calls


class RegistratieVerzoek(_Uitgaand):
    """De body van elke registratie-aanroep (JSON)."""

    leerling_ref: str = Field(description=_LEERLING_REF)
    case_id: str = Field(description=_CASE_ID)
    actie: Actie = Field(description="De actie; gelijk aan het laatste deel van het pad.")
    gegevens: dict[str, Any] = Field(
        default_factory=dict, description="Wat de actie nodig heeft; per actie hieronder beschreven."
    )

    model_config = ConfigDict(json_schema_extra={"required": ["leerling_ref", "case_id", "actie", "gegevens"]})

    @classmethod
    def of(cls, r: Registratie) -> RegistratieVerzoek:
        return cls(leerling_ref=r.leerling_ref, case_id=r.case_id, actie=r.actie, gegevens=r.gegevens)


class RegistratieAntwoord(BaseModel):
    """Wat het thuiszitterssysteem uit een 2xx-antwoord leest: alleen `kenmerk`; andere velden worden genegeerd."""

    model_config = ConfigDict(extra="allow")

    kenmerk: StrictStr | StrictInt | None = Field(
        default=None,
        description="Uw kenmerk van de registratie (tekst of geheel getal, hoogstens 200 tekens); het "
        "thuiszitterssysteem bewaart het bij de zaak. Een herhaalde aanroep met dezelfde Idempotency-Key krijgt "
        "bij voorkeur hetzelfde kenmerk terug.",
    )


_STARTDATUM = "Eerste dag van niet verschijnen (zoals Leerplicht die eventueel heeft gecorrigeerd)."
_SCHOOL_BRIN = "BRIN-code van de school van inschrijving; ontbreekt bij een leerling uit het buitenland."
_SECTOR = "`PO` (PPO Rotterdam) of `VO` (Koers VO)."


class MeldingVolledigVerzuim(_Uitgaand):
    """LBA (Leerplicht): melding van volledig verzuim van een leerplichtige leerling."""

    startdatum: date = Field(description=_STARTDATUM)
    school_brin: str | SkipJsonSchema[None] = Field(default=None, description=_SCHOOL_BRIN)
    sector: Sector = Field(description=_SECTOR)


class HulpvraagAanmaken(_Uitgaand):
    """Kindkans: een hulpvraag aanmaken voor een thuiszitter (PO)."""

    startdatum: date = Field(description=_STARTDATUM)
    status: Literal["thuiszitter"] = Field(description="Altijd `thuiszitter`.")
    school_brin: str | SkipJsonSchema[None] = Field(default=None, description=_SCHOOL_BRIN)
    sector: Sector = Field(description=_SECTOR)
    regio: Regio = Field(description="`Noord` of `Zuid`: de regio van de thuiszitterscoördinator.")


class HulpvraagStartdatum(_Uitgaand):
    """Kindkans: Leerplicht heeft de startdatum gecorrigeerd."""

    startdatum: date = Field(description="De gecorrigeerde eerste dag van niet verschijnen.")


class HulpvraagStap(_Uitgaand):
    """Kindkans: de zaak heeft een stap gezet."""

    gebeurtenis: Literal["oudergesprek", "plan_van_aanpak", "voortgang", "passende_plek"] = Field(
        description="De stap die is gezet."
    )
    fase: int = Field(ge=0, le=4, description="De fase waarin de zaak daarna staat (0 tot en met 4).")


class HulpvraagRoute(_Uitgaand):
    """Kindkans: de oplossingsroute van fase 3 is gekozen."""

    route: Literal["3.1", "3.2", "3.3", "3.4"] = Field(description="De gekozen route.")
    variant: str | SkipJsonSchema[None] = Field(
        default=None, description="De variant van route 3.3 (zoals `tlv_so`); ontbreekt als er geen is."
    )


HulpvraagBijwerken = Annotated[
    HulpvraagStartdatum | HulpvraagStap | HulpvraagRoute,
    Field(description="Precies één van drie vormen: een gecorrigeerde startdatum, een gezette stap, of de route."),
]


class HulpvraagAfsluiten(_Uitgaand):
    """Kindkans: de zaak is afgesloten of ingetrokken, of gaat over naar VO (de hulpvraag vervalt)."""

    uitkomst: Literal["terug_op_school", "ingeschreven_andere_school", "vrijstelling", "ingetrokken", "naar_vo"] = (
        Field(description="Hoe de zaak eindigde; `naar_vo` bij intrekken: de zaak loopt verder bij Koers VO.")
    )


class Signaal(_Uitgaand):
    """SISA: een signaal dat deze leerling een thuiszitterszaak heeft; zonder verdere gegevens."""


class TaskforceAanmelding(_Uitgaand):
    """Taskforce Thuiszitters: de zaak is opgeschaald naar de Taskforce, die de casusregie overneemt."""

    regio: Regio = Field(description="`Noord` of `Zuid`.")
    sector: Sector = Field(description=_SECTOR)
    weken_thuis: int = Field(ge=0, description="Hele weken thuis sinds de startdatum.")
    reden_code: str | SkipJsonSchema[None] = Field(
        default=None, description="Waarom, als code (zoals `geen_passende_plek`); ontbreekt in zaken van versie 1."
    )
    bespreking_op: date | SkipJsonSchema[None] = Field(
        default=None, description="De Kerngroep-bespreking van de zaak; ontbreekt in zaken van versie 1."
    )


class CentraleAanmelding(_Uitgaand):
    """Centrale AanmeldRoute: aanmelding voor een TLV (SBO of SO) in route 3.3."""

    soort_onderwijs: Literal["SBO", "SO"] = Field(description="Waarvoor de TLV wordt aangevraagd.")
    school_brin: str | SkipJsonSchema[None] = Field(default=None, description=_SCHOOL_BRIN)


@dataclass(frozen=True)
class Aanroep:
    """One registration call the procedure makes: what it means (Dutch, for the partner) and its ``gegevens``."""

    betekenis: str
    gegevens: Any
    """A model, or an annotated union of models."""


AANROEPEN: dict[tuple[Systeem, Actie], Aanroep] = {
    (Systeem.LEERPLICHT, Actie.MELDING_VOLLEDIG_VERZUIM): Aanroep(
        "Melding van volledig verzuim van een leerplichtige leerling die thuiszit (als de school die nog niet "
        "deed), bij de melding of zodra de leerling leerplichtig wordt.",
        MeldingVolledigVerzuim,
    ),
    (Systeem.KINDKANS, Actie.HULPVRAAG_AANMAKEN): Aanroep(
        "Een hulpvraag in Kindkans voor een thuiszitter in het PO, bij de melding.", HulpvraagAanmaken
    ),
    (Systeem.KINDKANS, Actie.HULPVRAAG_BIJWERKEN): Aanroep(
        "De hulpvraag bijwerken: een gecorrigeerde startdatum, een gezette stap (oudergesprek, plan van aanpak, "
        "voortgang, passende plek) of de gekozen route.",
        HulpvraagBijwerken,
    ),
    (Systeem.KINDKANS, Actie.HULPVRAAG_AFSLUITEN): Aanroep(
        "De hulpvraag afsluiten: de zaak is afgerond.", HulpvraagAfsluiten
    ),
    (Systeem.KINDKANS, Actie.HULPVRAAG_INTREKKEN): Aanroep(
        "De hulpvraag intrekken: de melding was onterecht, of de zaak gaat over naar het VO.", HulpvraagAfsluiten
    ),
    (Systeem.SISA, Actie.SIGNAAL): Aanroep("Een signaal in SISA bij de melding (PO).", Signaal),
    (Systeem.TASKFORCE, Actie.AANMELDING): Aanroep(
        "Aanmelding bij de Taskforce Thuiszitters na opschalen.", TaskforceAanmelding
    ),
    (Systeem.CENTRALE_AANMELDROUTE, Actie.AANMELDING): Aanroep(
        "Aanmelding bij de Centrale AanmeldRoute voor een TLV (SBO of SO) in route 3.3.", CentraleAanmelding
    ),
}
"""Every registration call the procedure makes (``workflows/steps.py``, ``events.py``, ``events_v2.py``,
``firing.py``), with the model of its ``gegevens``."""


# ------------------------------------------------------------------------------------------------- the webhook


class BerichtVerwijzing(_Uitgaand):
    """De `data` van het CloudEvent: alleen verwijzingen. Geen berichttekst, geen namen, geen BSN, geen
    geboortedatum, geen vrije tekst van mensen: wie het bericht mag lezen, opent de zaak in het
    thuiszitterssysteem (`dataref`)."""

    sleutel: str = Field(
        description="De eenmalige sleutel van het bericht in het register van de zaak (ook `id` van het event "
        "en `webhook-id`): hetzelfde bij elke nieuwe poging."
    )
    case_id: str = Field(description=_CASE_ID)
    leerling_ref: str = Field(description=_LEERLING_REF)
    rol: Rol = Field(description="De rol voor wie het bericht is.")
    sjabloon: Sjabloon = Field(description="Welk bericht: de code van het sjabloon (ook het laatste deel van `type`).")
    regio: Regio = Field(description="`Noord` of `Zuid`.")
    sector: Sector = Field(description=_SECTOR)
    ontvanger: str | None = Field(
        default=None,
        description="Het pseudonieme persoon-id van de medewerker die de rol in deze zaak heeft (geen naam, geen "
        "e-mailadres), als iemand is toegewezen; anders null.",
    )

    model_config = ConfigDict(
        json_schema_extra={
            "required": ["sleutel", "case_id", "leerling_ref", "rol", "sjabloon", "regio", "sector", "ontvanger"]
        }
    )

    @classmethod
    def of(cls, b: Bericht) -> BerichtVerwijzing:
        return cls(
            sleutel=b.sleutel,
            case_id=b.case_id,
            leerling_ref=b.leerling_ref,
            rol=b.rol,
            sjabloon=b.sjabloon,
            regio=b.regio,
            sector=b.sector,
            ontvanger=b.ontvanger,
        )


class BerichtEvent(_Uitgaand):
    """Het CloudEvent (versie 1.0, JSON, structured content mode) dat het thuiszitterssysteem per bericht
    verstuurt, volgens het NL GOV profile for CloudEvents waar dat past."""

    specversion: Literal["1.0"] = Field(description="Versie van de CloudEvents-specificatie: `1.0`.")
    id: str = Field(
        description="De eenmalige sleutel van het bericht (`data.sleutel`): een nieuwe poging is hetzelfde event, "
        "met dezelfde `id` en `source`. Een ontvanger mag een event met een bekende `source` en `id` overslaan."
    )
    source: str = Field(
        description="Het systeem dat het event uitgeeft, als URN in de naamruimte `nld` "
        "(instelling THUISZITTERS_WEBHOOK_BRON; standaard `urn:nld:gemeente-rotterdam.thuiszitters`)."
    )
    type: str = Field(
        pattern=r"^nl\.rotterdam\.thuiszitters\.bericht\.[a-z0-9_]+$",
        description=f"`{CLOUDEVENT_TYPE_PREFIX}<sjabloon>`, in omgekeerde domeinnaamnotatie; het laatste deel is "
        "de code van het sjabloon zoals het ook in `data.sjabloon` staat (met underscores).",
    )
    subject: str = Field(description="De zaak waar het bericht over gaat (`data.case_id`): pseudoniem.")
    time: datetime = Field(
        description="Het moment waarop de zaak het bericht ter verzending aanbood (RFC 3339, UTC); hetzelfde bij "
        "elke nieuwe poging. Het moment van deze poging staat in de header `webhook-timestamp`."
    )
    datacontenttype: Literal["application/json"] = Field(description="Altijd `application/json`.")
    dataref: str | SkipJsonSchema[None] = Field(
        default=None,
        description="Waar wie ertoe bevoegd is de zaak leest: de pagina van de zaak in de webapplicatie van het "
        "thuiszitterssysteem (inloggen vereist). Ontbreekt als het systeem geen publiek adres heeft ingesteld.",
    )
    data: BerichtVerwijzing

    def attributes(self) -> dict[str, Any]:
        """The context attributes, for the CloudEvents SDK (``dataref`` only when there is one)."""
        return self.model_dump(exclude={"data"}, exclude_none=True)
