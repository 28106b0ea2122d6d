"""The effects a case hands to its activities: registration calls to outside systems, messages to people, and
numbered register lines. Each carries an idempotency key, so it is carried out exactly once however often it is
retried. Changing one of these models changes what running cases hand to the activities: add fields with defaults.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from workflows.contract import (
    AfgerondeTaak,
    Document,
    Dossier,
    Escalatie,
    Regiehouder,
    Regio,
    Rol,
    Sector,
    Taak,
    TwaalfWekenCheck,
    Uitkomst,
)


class Systeem(StrEnum):
    """Outside systems that receive registration calls."""

    KINDKANS = "kindkans"
    SISA = "sisa"
    LEERPLICHT = "leerplicht"
    CENTRALE_AANMELDROUTE = "centrale_aanmeldroute"
    TASKFORCE = "taskforce"


class Actie(StrEnum):
    """The registration calls a case makes, by the action they name (``POST {endpoint}/{actie}``). Running cases carry
    them in their queued effects: never change a value."""

    MELDING_VOLLEDIG_VERZUIM = "melding_volledig_verzuim"
    HULPVRAAG_AANMAKEN = "hulpvraag_aanmaken"
    HULPVRAAG_BIJWERKEN = "hulpvraag_bijwerken"
    HULPVRAAG_AFSLUITEN = "hulpvraag_afsluiten"
    HULPVRAAG_INTREKKEN = "hulpvraag_intrekken"
    SIGNAAL = "signaal"
    AANMELDING = "aanmelding"


class Sjabloon(StrEnum):
    """The Dutch notifications a case sends, by the code a ``Bericht`` carries; ``activities/templates.py`` has one
    template for each. Running cases carry these codes in their state and queued effects: never change a value."""

    VIER_WEKEN_THUIS = "vier_weken_thuis"
    MELDING_THUISZITTER = "melding_thuiszitter"
    OUDERFUNCTIONARIS_INFORMEREN = "ouderfunctionaris_informeren"
    TOEGANG_KINDKANS = "toegang_kindkans"
    MELDING_UIT_BUITENLAND = "melding_uit_buitenland"
    LBA_HERINNERING = "lba_herinnering"
    OUDERGESPREK_HERINNERING = "oudergesprek_herinnering"
    PLAN_HERINNERING = "plan_herinnering"
    TERMIJN_WAARSCHUWING = "termijn_waarschuwing"
    ESCALATIE_COORDINATOR = "escalatie_coordinator"
    ESCALATIE_TASKFORCE = "escalatie_taskforce"
    OUDERS_INFORMEREN_TASKFORCE = "ouders_informeren_taskforce"
    TASKFORCE_BESLUIT = "taskforce_besluit"
    ROUTE_GEKOZEN = "route_gekozen"
    REGIE_WIJKTEAM = "regie_wijkteam"
    HUISWERKPAKKETTEN = "huiswerkpakketten"
    TLV_ONDERBOUWING = "tlv_onderbouwing"
    AANMELDING_ANDERE_SCHOOL = "aanmelding_andere_school"
    ZORGPLICHT_VERLOPEN = "zorgplicht_verlopen"
    WACHTLIJST = "wachtlijst"
    VOORTGANG = "voortgang"
    VRIJSTELLING_AANGEVRAAGD = "vrijstelling_aangevraagd"
    VRIJSTELLING_BESLUIT = "vrijstelling_besluit"
    STARTDATUM_GECORRIGEERD = "startdatum_gecorrigeerd"
    HANDMATIGE_ACTIE = "handmatige_actie"
    AFGESLOTEN = "afgesloten"
    # Version 2 (CONTRACT.md)
    LEERPLICHTIG_GEWORDEN = "leerplichtig_geworden"
    TWAALF_WEKEN_CHECK = "twaalf_weken_check"
    TWAALF_WEKEN_CHECK_GEMELD = "twaalf_weken_check_gemeld"
    TWAALF_WEKEN_CHECK_VERLOPEN = "twaalf_weken_check_verlopen"
    TAAK_TE_LAAT = "taak_te_laat"
    PASSENDE_PLEK = "passende_plek"
    UITSCHRIJVEN = "uitschrijven"
    AFRONDEN = "afronden"
    VERZUIM_VOLGEN = "verzuim_volgen"
    TASKFORCE_ACTIE = "taskforce_actie"
    SECTOR_GEWIJZIGD = "sector_gewijzigd"


class Registratie(BaseModel):
    """A registration call to an outside system, made exactly once (keyed by ``sleutel``)."""

    model_config = ConfigDict(frozen=True)

    soort: Literal["registratie"] = "registratie"
    sleutel: str = Field(description="Idempotency key: case, event number and action.")
    case_id: str
    leerling_ref: str
    systeem: Systeem
    actie: Actie
    gegevens: dict[str, Any] = Field(default_factory=dict)

    @property
    def samenvatting(self) -> str:
        return f"{self.systeem.value}: {self.actie.value.replace('_', ' ')}"


class Bericht(BaseModel):
    """A notification to one role, written from a Dutch template, sent exactly once (keyed by ``sleutel``)."""

    model_config = ConfigDict(frozen=True)

    soort: Literal["bericht"] = "bericht"
    sleutel: str
    case_id: str
    leerling_ref: str
    rol: Rol
    sjabloon: Sjabloon
    regio: Regio
    sector: Sector
    gegevens: dict[str, Any] = Field(default_factory=dict)
    school_brin: str | None = Field(
        default=None, description="Version 2: the pupil's school, so the message reaches that school's people."
    )
    ontvanger: str | None = Field(
        default=None, description="Version 2: the person who holds the role in this case (toewijzen), if any."
    )
    contract_versie: int = Field(default=1, description="The contract version of the case the message is about.")

    @property
    def samenvatting(self) -> str:
        return f"bericht aan {self.rol.value}: {self.sjabloon.value.replace('_', ' ')}"


class Verantwoordelijken(BaseModel):
    """What the directory needs to find the people responsible for a new case (no personal data of the pupil)."""

    model_config = ConfigDict(frozen=True)

    sector: Sector
    regio: Regio
    school_brin: str | None = None
    uit_buitenland: bool = False


class Vastlegging(BaseModel):
    """One line of the case register: an event, phase change, escalation or task change, with the case's state."""

    model_config = ConfigDict(frozen=True)

    soort: Literal["vastlegging"] = "vastlegging"
    sleutel: str
    case_id: str
    volgnummer: int
    leerling_ref: str
    workflow_id: str
    tijd: datetime
    gebeurtenis: str
    door: str | None
    sector: Sector
    regio: Regio
    school_brin: str | None
    leerplichtig: bool
    startdatum: date
    fase: int
    regiehouder: Regiehouder
    escalatie: Escalatie
    route: str | None
    wachtlijst: bool
    afgesloten: bool
    uitkomst: Uitkomst | None
    open_taken: list[Taak]
    # Version 2 (defaults keep the lines of version-1 cases as they were)
    contract_versie: int = 1
    afgeronde_taken: list[AfgerondeTaak] = Field(
        default_factory=list, description="The tasks this event or term finished."
    )
    contactrol: Rol | None = None
    leerplichtig_vanaf: date | None = None
    twaalf_weken_check: TwaalfWekenCheck | None = None
    kerngroep_bespreking_op: date | None = None
    op_kerngroep_lijst: bool = False
    toegewezen: dict[str, str] = Field(default_factory=dict)
    dossier: Dossier | None = Field(
        default=None, description="What people decided and reported, only on the lines that changed it."
    )
    documenten: list[Document] | None = Field(default=None, description="Likewise, the documents referenced.")


Effect = Annotated[Registratie | Bericht | Vastlegging, Field(discriminator="soort")]


class Portie(BaseModel):
    """Effects for one receiver (one outside system, one role, or the register), carried out by one activity in this
    order, each exactly once by its own key: a burst of events then costs a few activities per workflow task instead
    of one per effect."""

    model_config = ConfigDict(frozen=True)

    effecten: list[Effect] = Field(min_length=1)

    @property
    def samenvatting(self) -> str:
        """What the Web UI shows for the activity: the receiver, how many, and of what (no personal data)."""
        first, count = self.effecten[0], len(self.effecten)
        if isinstance(first, Vastlegging):
            lines = [e.gebeurtenis for e in self.effecten if isinstance(e, Vastlegging)]
            return f"register: {count} regels ({_opsomming(lines)})"
        if isinstance(first, Registratie):
            calls = [e.actie.value.replace("_", " ") for e in self.effecten if isinstance(e, Registratie)]
            return f"{first.systeem.value}: {count} na elkaar ({_opsomming(calls)})"
        messages = [e.sjabloon.value.replace("_", " ") for e in self.effecten if isinstance(e, Bericht)]
        return f"{count} berichten aan {first.rol.value} ({_opsomming(messages)})"


def _opsomming(names: list[str]) -> str:
    distinct = list(dict.fromkeys(names))
    return ", ".join(distinct[:3]) + (", …" if len(distinct) > 3 else "")


class RegistratieUitkomst(BaseModel):
    """What became of a registration call."""

    sleutel: str
    verzonden: bool = Field(description="False when no endpoint is configured: the register entry is the outcome.")
    antwoord_status: int | None = None
    kenmerk: str | None = Field(default=None, description="The outside system's reference, if it gave one.")
