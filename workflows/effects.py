"""The effects a case hands to its activities: registration calls to outside systems, messages to people, and
numbered register lines. Each carries an idempotency key, so it is carried out exactly once however often it is
retried. Changing one of these models changes what running cases hand to the activities: add fields with defaults.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from workflows.contract import Escalatie, Regiehouder, Regio, Rol, Sector, Taak, Uitkomst


class Systeem(StrEnum):
    """Outside systems that receive registration calls."""

    KINDKANS = "kindkans"
    SISA = "sisa"
    LEERPLICHT = "leerplicht"
    CENTRALE_AANMELDROUTE = "centrale_aanmeldroute"
    TASKFORCE = "taskforce"


class Registratie(BaseModel):
    """A registration call to an outside system, made exactly once (keyed by ``sleutel``)."""

    model_config = ConfigDict(frozen=True)

    soort: Literal["registratie"] = "registratie"
    sleutel: str = Field(description="Idempotency key: case, event number and action.")
    case_id: str
    leerling_ref: str
    systeem: Systeem
    actie: str
    gegevens: dict[str, Any] = Field(default_factory=dict)

    @property
    def samenvatting(self) -> str:
        return f"{self.systeem.value}: {self.actie.replace('_', ' ')}"


class Bericht(BaseModel):
    """A notification to one role, written from a Dutch template, sent exactly once (keyed by ``sleutel``)."""

    model_config = ConfigDict(frozen=True)

    soort: Literal["bericht"] = "bericht"
    sleutel: str
    case_id: str
    leerling_ref: str
    rol: Rol
    sjabloon: str
    regio: Regio
    sector: Sector
    gegevens: dict[str, Any] = Field(default_factory=dict)

    @property
    def samenvatting(self) -> str:
        return f"bericht aan {self.rol.value}: {self.sjabloon.replace('_', ' ')}"


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


Effect = Annotated[Registratie | Bericht | Vastlegging, Field(discriminator="soort")]


class RegistratieUitkomst(BaseModel):
    """What became of a registration call."""

    sleutel: str
    verzonden: bool = Field(description="False when no endpoint is configured: the register entry is the outcome.")
    antwoord_status: int | None = None
    kenmerk: str | None = Field(default=None, description="The outside system's reference, if it gave one.")
