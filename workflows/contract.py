"""The case contract (``CONTRACT.md``) that other services rely on: the start input, the events, the status.

Plain data, shared by the workflow, the activities and the tools. Field names follow the contract (Dutch domain
terms); what an event does is decided by :mod:`workflows.rules`. Changing a name here breaks other services.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from workflows.policy import Beleid

LEERLING_REF_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"
WORKFLOW_TYPE = "ThuiszitterWorkflow"
WORKFLOW_ID_PREFIX = "thuiszitter-"

# Free text from people (reasons, summaries, progress notes) is bounded so that a hostile sender cannot bloat a
# case's history; short identifiers (who acted, a BRIN code) more tightly still. Control characters are refused:
# PostgreSQL cannot store a NUL in text, so one in ``door`` would block the case's register line for good; free
# text keeps tabs and line breaks.
ShortText = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200, pattern=r"^[^\x00-\x1f\x7f]*$")
]
FreeText = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=1, max_length=4000, pattern=r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"
    ),
]
Brin = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[0-9A-Z]{4}([0-9A-Z]{2})?$")]
LeerlingRef = Annotated[str, StringConstraints(pattern=LEERLING_REF_PATTERN)]


def workflow_id_for(leerling_ref: str) -> str:
    """The one workflow id of a pupil's open case (``thuiszitter-<leerling_ref>``)."""
    return f"{WORKFLOW_ID_PREFIX}{leerling_ref}"


class Contract(BaseModel):
    """Base of every contract payload: unknown fields are refused, so a typo never disappears silently."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Sector(StrEnum):
    PO = "PO"
    VO = "VO"


class Regio(StrEnum):
    NOORD = "Noord"
    ZUID = "Zuid"


FASE_NAMEN: dict[int, str] = {
    0: "Voortraject",
    1: "Melding thuiszitter",
    2: "Oudergesprek en plan van aanpak",
    3: "Oplossingen realiseren",
    4: "Passende onderwijsplek",
}


class Regiehouder(StrEnum):
    SCHOOL = "school"
    WIJKTEAM = "wijkteam"
    TASKFORCE = "taskforce"
    LEERPLICHT_ABSOLUUT_VERZUIM = "leerplicht_absoluut_verzuim"


class Escalatie(StrEnum):
    GEEN = "geen"
    COORDINATOR = "coordinator"
    TASKFORCE = "taskforce"


ESCALATIE_NIVEAU: dict[Escalatie, int] = {Escalatie.GEEN: 0, Escalatie.COORDINATOR: 1, Escalatie.TASKFORCE: 2}


class Rol(StrEnum):
    """Who receives a task or a message."""

    SCHOOL = "school"
    SCP = "scp"  # PPO schoolcontactpersoon (PO)
    KOERSLOKET = "koersloket"  # Koers VO (VO)
    LEERPLICHT = "leerplicht"
    LEERPLICHT_ABSOLUUT_VERZUIM = "leerplicht_absoluut_verzuim"
    OUDERS = "ouders"
    OUDERFUNCTIONARIS = "ouderfunctionaris"
    COORDINATOR = "coordinator"
    WIJKTEAM = "wijkteam"
    TASKFORCE = "taskforce"


class Uitkomst(StrEnum):
    TERUG_OP_SCHOOL = "terug_op_school"
    INGESCHREVEN_ANDERE_SCHOOL = "ingeschreven_andere_school"
    VRIJSTELLING = "vrijstelling"
    INGETROKKEN = "ingetrokken"


# --------------------------------------------------------------------------------------------------- start input


class Aanmelding(Contract):
    """The start input of a case: one pupil reported as (potential) thuiszitter."""

    leerling_ref: LeerlingRef
    geboortedatum: date
    sector: Sector
    regio: Regio
    school_brin: Brin | None = None
    startdatum: date
    fase: Literal[0, 1] = 1
    woont_in_rotterdam: bool = True
    uit_buitenland: bool = False
    beleid: Beleid | None = Field(
        default=None, description="Terms and reminder intervals; the defaults of the policy when left out."
    )

    @model_validator(mode="after")
    def _school_known(self) -> Aanmelding:
        if self.uit_buitenland and self.fase == 0:
            raise ValueError("fase: een leerling uit het buitenland heeft geen voortraject op school; gebruik fase 1")
        if self.school_brin is None and not self.uit_buitenland:
            raise ValueError("school_brin: verplicht, behalve voor een leerling uit het buitenland")
        if self.geboortedatum >= self.startdatum:
            raise ValueError("geboortedatum: moet voor de startdatum liggen")
        leeftijd = leeftijd_op(self.geboortedatum, self.startdatum)
        if leeftijd < 4:
            raise ValueError("geboortedatum: de leerling is op de startdatum jonger dan 4 jaar")
        if leeftijd > 18:
            raise ValueError("geboortedatum: de leerling is op de startdatum ouder dan 18 jaar")
        return self


def leeftijd_op(geboortedatum: date, dag: date) -> int:
    """Age in whole years on ``dag``."""
    jaren = dag.year - geboortedatum.year
    if (dag.month, dag.day) < (geboortedatum.month, geboortedatum.day):
        jaren -= 1
    return jaren


# ------------------------------------------------------------------------------------------------------- events


class Gebeurtenis(Contract):
    """Fields every event may carry: who acted and on which day."""

    door: ShortText | None = None
    datum: date | None = None


class Melding(Gebeurtenis):
    gemeld_bij_leerplicht: bool


class LeerplichtRegistratie(Gebeurtenis):
    lba_geregistreerd_op: date


class StartdatumCorrectie(Gebeurtenis):
    startdatum: date
    reden: FreeText


class Deelnemer(StrEnum):
    SCHOOL = "school"
    OUDERS = "ouders"
    SCP = "scp"
    KOERSLOKET = "koersloket"
    SMW = "smw"
    WIJKTEAM = "wijkteam"
    LEERLING = "leerling"


class Oudergesprek(Gebeurtenis):
    deelnemers: list[Deelnemer] = Field(min_length=1, max_length=10)


class PlanVanAanpak(Gebeurtenis):
    in_opp: bool
    instemming_ouders: bool


RouteCode = Literal["3.1", "3.2", "3.3", "3.4"]
ROUTE_33_VARIANTEN = ("andere_reguliere_school", "arrangement", "tlv_sbo", "tlv_so", "zorgarrangement")


class Route(Gebeurtenis):
    route: RouteCode
    variant: ShortText | None = None

    @model_validator(mode="after")
    def _variant_fits(self) -> Route:
        if self.route == "3.3":
            if self.variant is None:
                raise ValueError("variant: verplicht bij route 3.3 (" + ", ".join(ROUTE_33_VARIANTEN) + ")")
            if self.variant not in ROUTE_33_VARIANTEN:
                raise ValueError("variant: bij route 3.3 een van " + ", ".join(ROUTE_33_VARIANTEN))
        return self


class AanmeldingAndereSchool(Gebeurtenis):
    school_brin: Brin


class ZorgplichtVerlengd(Gebeurtenis):
    pass


class Wachtlijst(Gebeurtenis):
    op_wachtlijst: bool


class Voortgang(Gebeurtenis):
    toelichting: FreeText
    afgehandelde_taken: list[ShortText] = Field(
        default_factory=list,
        max_length=20,
        description="Codes of manual tasks (handmatige_actie_N in status.open_taken) that a person has now handled.",
    )


class Opschalen(Gebeurtenis):
    niveau: Literal["coordinator", "taskforce"]
    reden: FreeText
    afgestemd_met_leerplicht: bool = False
    afgestemd_met_school: bool = False


class Huisbezoek(Gebeurtenis):
    samenvatting: FreeText


class TaskforceBesluit(Gebeurtenis):
    besluit: FreeText


class Vrijstelling(Gebeurtenis):
    status: Literal["aangevraagd", "verleend", "afgewezen"]


class PassendePlek(Gebeurtenis):
    uitkomst: Literal["terug_op_school", "ingeschreven_andere_school", "vrijstelling"]
    school_brin: Brin | None = None

    @model_validator(mode="after")
    def _school_for_enrolment(self) -> PassendePlek:
        if self.uitkomst == "ingeschreven_andere_school" and self.school_brin is None:
            raise ValueError("school_brin: verplicht bij uitkomst ingeschreven_andere_school")
        return self


class Intrekken(Gebeurtenis):
    reden: FreeText


EVENTS: dict[str, type[Gebeurtenis]] = {
    "melding": Melding,
    "leerplicht_registratie": LeerplichtRegistratie,
    "startdatum_correctie": StartdatumCorrectie,
    "oudergesprek": Oudergesprek,
    "plan_van_aanpak": PlanVanAanpak,
    "route": Route,
    "aanmelding_andere_school": AanmeldingAndereSchool,
    "zorgplicht_verlengd": ZorgplichtVerlengd,
    "wachtlijst": Wachtlijst,
    "voortgang": Voortgang,
    "opschalen": Opschalen,
    "huisbezoek": Huisbezoek,
    "taskforce_besluit": TaskforceBesluit,
    "vrijstelling": Vrijstelling,
    "passende_plek": PassendePlek,
    "intrekken": Intrekken,
}
"""Every event of the contract, by its signal and update name."""


# ------------------------------------------------------------------------------------------------------- status


class Taak(BaseModel):
    """An open task for one role: what must happen, and by when."""

    model_config = ConfigDict(frozen=True)

    rol: Rol
    taak: str = Field(description="Stable code of the task, e.g. 'oudergesprek_organiseren'.")
    omschrijving: str = Field(description="The task in Dutch, as the role reads it.")
    uiterlijk: date | None = None


class TijdlijnRegel(BaseModel):
    model_config = ConfigDict(frozen=True)

    tijd: datetime
    gebeurtenis: str
    door: str | None = None
    toelichting: str | None = Field(default=None, description="What happened, in Dutch.")


class Afwijzing(BaseModel):
    model_config = ConfigDict(frozen=True)

    tijd: datetime
    gebeurtenis: str
    reden: str


class CaseStatus(BaseModel):
    """The answer of the ``status`` query and of every update, and the result of a closed case."""

    leerling_ref: str
    fase: int
    fase_naam: str
    sector: Sector
    regio: Regio
    regiehouder: Regiehouder
    leerplichtig: bool
    uit_buitenland: bool
    startdatum: date
    weken_thuis: int
    deadline_12_weken: date
    escalatie: Escalatie
    route: str | None
    route_variant: str | None
    wachtlijst: bool
    vrijstelling: str | None
    open_taken: list[Taak]
    tijdlijn: list[TijdlijnRegel]
    tijdlijn_totaal: int = Field(default=0, description="Entries the timeline has had; it shows the latest 200.")
    afgewezen: list[Afwijzing]
    afgewezen_totaal: int = Field(default=0, description="Events refused so far; 'afgewezen' shows the latest 100.")
    afgesloten: bool
    uitkomst: Uitkomst | None
    volgende_termijn: str | None = Field(default=None, description="The next term the case waits for, in Dutch.")
    volgende_termijn_op: date | None = None
