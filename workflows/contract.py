"""The case contract (``CONTRACT.md``) that other services rely on: the start input, the events, the status.

Plain data, shared by the workflow, the activities and the tools. Field names follow the contract (Dutch domain
terms); what an event does is decided by :mod:`workflows.rules`. Changing a name here breaks other services.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, create_model, model_validator

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
PersoonId = Annotated[
    str,
    StringConstraints(strip_whitespace=True, pattern=r"^[A-Za-z0-9_.:-]{1,64}$"),
    Field(description="Pseudonymous id of a person in the directory (no name)."),
]
KeptText = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=1, max_length=2000, pattern=r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"
    ),
]
"""Text that the case keeps and shows (what was agreed, decided, reported): bounded tighter than ``FreeText``, so a
case's status stays small however many of them it holds."""
TaakId = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^T[0-9]{1,6}$")]

CONTRACT_VERSIE = 2
"""The contract version new cases follow (CONTRACT.md); cases started under version 1 keep version 1."""


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


class Door(StrEnum):
    """The roles that act in the procedure (``door`` of an event, CONTRACT.md version 2)."""

    SCHOOL = "school"
    SCP = "scp"
    KOERSLOKET = "koersloket"
    LEERPLICHT = "leerplicht"
    LEERPLICHT_ABSOLUUT_VERZUIM = "leerplicht_absoluut_verzuim"
    OUDERS = "ouders"
    COORDINATOR = "coordinator"
    WIJKTEAM = "wijkteam"
    TASKFORCE = "taskforce"


ROL_NAMEN: dict[str, str] = {
    "school": "de school",
    "scp": "de schoolcontactpersoon (PPO)",
    "koersloket": "het Koersloket (Koers VO)",
    "leerplicht": "Leerplicht",
    "leerplicht_absoluut_verzuim": "Leerplicht absoluut verzuim",
    "ouders": "de ouders",
    "ouderfunctionaris": "de ouderfunctionaris (PPO)",
    "coordinator": "de thuiszitterscoördinator",
    "wijkteam": "het wijkteam",
    "taskforce": "de Taskforce Thuiszitters",
}
"""Each role as a sentence names it, in Dutch."""


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

    def leeftijd_fout(self) -> str | None:
        """Why the pupil's age on the start date does not fit the sector (version 2), or None when it does.

        Not a validator of this model, which holds only version 1's bounds (4 to 18): cases started under version 1
        (a PO pupil of 15, say) carry their start input through replay and continue-as-new, and must go on reading
        it. New cases are held to it
        (``NieuweAanmelding``, and the workflow itself when it opens a case of version 2)."""
        leeftijd = leeftijd_op(self.geboortedatum, self.startdatum)
        laagste, hoogste = LEEFTIJDEN[self.sector]
        if leeftijd < laagste:
            return (
                f"geboortedatum: de leerling is op de startdatum jonger dan {laagste} jaar "
                f"({self.sector.value}: {laagste} tot en met {hoogste} jaar)"
            )
        if leeftijd > hoogste:
            return (
                f"geboortedatum: de leerling is op de startdatum ouder dan {hoogste} jaar "
                f"({self.sector.value}: {laagste} tot en met {hoogste} jaar)"
            )
        return None


class NieuweAanmelding(Aanmelding):
    """An ``Aanmelding`` for a case to start now: the pupil's age on the start date fits the sector (PO 4 to 13,
    VO 10 to 18). Intake, the API and corrections of the sector or date of birth validate with this model."""

    @model_validator(mode="after")
    def _leeftijd_past(self) -> NieuweAanmelding:
        if (fout := self.leeftijd_fout()) is not None:
            raise ValueError(fout)
        return self


LEEFTIJDEN: dict[Sector, tuple[int, int]] = {Sector.PO: (4, 13), Sector.VO: (10, 18)}
"""Ages on the start date (PROCEDURE.md version 2): a PO pupil is 4 to 13, a VO pupil 10 to 18."""


def leeftijd_op(geboortedatum: date, dag: date) -> int:
    """Age in whole years on ``dag``."""
    jaren = dag.year - geboortedatum.year
    if (dag.month, dag.day) < (geboortedatum.month, geboortedatum.day):
        jaren -= 1
    return jaren


# ------------------------------------------------------------------------------------------------------- events


class Gebeurtenis(Contract):
    """Fields every event carries: who acted (a role, and the person where known) and on which day."""

    door: Door = Field(description="The role that acted (CONTRACT.md version 2: required).")
    persoon: PersoonId | None = Field(default=None, description="The person who acted, where known.")
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
    wensen_ouders: KeptText | None = Field(default=None, description="The wishes and needs of the parents.")
    besproken_opties: KeptText | None = Field(default=None, description="The options and their consequences.")
    afspraken: KeptText | None = Field(default=None, description="What was agreed.")


class PlanVanAanpak(Gebeurtenis):
    in_opp: bool
    instemming_ouders: bool


RouteCode = Literal["3.1", "3.2", "3.3", "3.4"]
ROUTE_33_VARIANTEN = ("andere_reguliere_school", "arrangement", "tlv_sbo", "tlv_so", "zorgarrangement")
"""Version 1: the variants of route 3.3, for PO and VO alike."""
ROUTE_33_VARIANTEN_PER_SECTOR: dict[Sector, tuple[str, ...]] = {
    Sector.PO: ROUTE_33_VARIANTEN,
    Sector.VO: ("andere_vo_school", "tlv_vso", "zorgarrangement"),
}
"""Version 2: PPO's variants for PO, Koers VO's for VO; a variant of the other sector is refused by the rules."""
_ALLE_VARIANTEN = tuple(dict.fromkeys(v for vs in ROUTE_33_VARIANTEN_PER_SECTOR.values() for v in vs))


class Route(Gebeurtenis):
    route: RouteCode
    variant: ShortText | None = None

    @model_validator(mode="after")
    def _variant_fits(self) -> Route:
        if self.route == "3.3":
            if self.variant is None:
                raise ValueError("variant: verplicht bij route 3.3 (" + ", ".join(_ALLE_VARIANTEN) + ")")
            if self.variant not in _ALLE_VARIANTEN:
                raise ValueError("variant: bij route 3.3 een van " + ", ".join(_ALLE_VARIANTEN))
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
        description="Version 1: codes of manual tasks (handmatige_actie_N) that a person has now handled. "
        "Version 2 finishes any task with taak_afgerond.",
    )


class RedenCode(StrEnum):
    """Why a case is escalated: the seeds' examples (PROCEDURE.md), and ``overig`` with the text."""

    GEEN_PASSENDE_PLEK = "geen_passende_plek"
    GEEN_PLAATS_REGULIERE_SCHOLEN = "geen_plaats_reguliere_scholen"
    PARTIJEN_NIET_EENS = "partijen_niet_eens"
    OUDERS_NIET_EENS = "ouders_niet_eens"
    PROCES_LOOPT_VAST = "proces_loopt_vast"
    OVERIG = "overig"


class Opschalen(Gebeurtenis):
    niveau: Literal["coordinator", "taskforce"]
    reden_code: RedenCode
    reden: KeptText
    afgestemd_met_leerplicht: bool = False
    afgestemd_met_school: bool = False


class Beoordeling(Gebeurtenis):
    """The twelve-week check (or the coordinator's Taskforce question) answered "not now"."""

    uitzicht: KeptText = Field(description="The prospect of a lasting solution, and why.")
    herbeoordeling_op: date = Field(description="When the check comes back: at most six weeks ahead.")


class Huisbezoek(Gebeurtenis):
    samenvatting: KeptText


class BesluitActie(Contract):
    """An action a Taskforce decision names: it becomes a task for that role."""

    rol: Door
    omschrijving: ShortText
    uiterlijk: date


class TaskforceBesluit(Gebeurtenis):
    besluit: KeptText
    acties: list[BesluitActie] = Field(default_factory=list, max_length=5)


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


class Uitschrijving(Gebeurtenis):
    uitgeschreven_op: date


class Afronden(Gebeurtenis):
    toelichting: KeptText


class TaakAfgerond(Gebeurtenis):
    taak_id: TaakId
    toelichting: KeptText


class Toewijzen(Gebeurtenis):
    rol: Door
    persoon: PersoonId = Field(description="The person who now holds that role's tasks in this case.")


class DocumentSoort(StrEnum):
    OPP = "opp"
    PLAN_VAN_AANPAK = "plan_van_aanpak"
    TLV_ONDERBOUWING = "tlv_onderbouwing"
    HUISBEZOEKVERSLAG = "huisbezoekverslag"
    BESLUIT = "besluit"
    OVERIG = "overig"


class DocumentToegevoegd(Gebeurtenis):
    soort: DocumentSoort
    verwijzing: ShortText = Field(description="Where the document is kept: a reference, not the file.")
    omschrijving: ShortText | None = None


class GegevensWijzigen(Gebeurtenis):
    school_brin: Brin | None = None
    regio: Regio | None = None
    sector: Sector | None = None
    woont_in_rotterdam: bool | None = None

    @model_validator(mode="after")
    def _something_changes(self) -> GegevensWijzigen:
        if all(getattr(self, f) is None for f in ("school_brin", "regio", "sector", "woont_in_rotterdam")):
            raise ValueError("inhoud: noem ten minste een van school_brin, regio, sector, woont_in_rotterdam")
        return self


class InterventieSoort(StrEnum):
    GESPREK = "gesprek"
    WAARSCHUWING = "waarschuwing"
    PROCES_VERBAAL = "proces_verbaal"


class LeerplichtInterventie(Gebeurtenis):
    soort: InterventieSoort
    toelichting: KeptText


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
    "beoordeling": Beoordeling,
    "huisbezoek": Huisbezoek,
    "taskforce_besluit": TaskforceBesluit,
    "vrijstelling": Vrijstelling,
    "passende_plek": PassendePlek,
    "uitschrijving": Uitschrijving,
    "afronden": Afronden,
    "taak_afgerond": TaakAfgerond,
    "toewijzen": Toewijzen,
    "document_toegevoegd": DocumentToegevoegd,
    "gegevens_wijzigen": GegevensWijzigen,
    "leerplicht_interventie": LeerplichtInterventie,
    "intrekken": Intrekken,
}
"""Every event of the contract (version 2), by its signal and update name."""

EVENTS_V1 = (
    "melding",
    "leerplicht_registratie",
    "startdatum_correctie",
    "oudergesprek",
    "plan_van_aanpak",
    "route",
    "aanmelding_andere_school",
    "zorgplicht_verlengd",
    "wachtlijst",
    "voortgang",
    "opschalen",
    "huisbezoek",
    "taskforce_besluit",
    "vrijstelling",
    "passende_plek",
    "intrekken",
)
"""The events of version 1: a case started under version 1 knows only these."""


def _version_1(model: type[Gebeurtenis]) -> type[Gebeurtenis]:
    """The version-1 form of an event: ``door`` free text and optional, and no field that version 2 made required."""
    fields: dict[str, Any] = {"door": (ShortText | None, None)}
    if model is Opschalen:
        fields["reden_code"] = (RedenCode | None, None)
        fields["reden"] = (FreeText, ...)
    if model in (Huisbezoek, TaskforceBesluit):
        fields[("samenvatting" if model is Huisbezoek else "besluit")] = (FreeText, ...)
    v1: type[Gebeurtenis] = create_model(model.__name__ + "V1", __base__=model, **fields)
    return v1


EVENTS_VERSIE_1: dict[str, type[Gebeurtenis]] = {name: _version_1(EVENTS[name]) for name in EVENTS_V1}
"""The payloads of version 1, as cases started under it accept them: subclasses of the version-2 models, so the
rules read both alike."""

ADDED_IN_VERSIE_2: frozenset[str] = frozenset(
    {"persoon", "wensen_ouders", "besproken_opties", "afspraken", "reden_code", "acties"}
)
"""Fields that version-1 payloads did not have: a version-1 case refuses them as unknown, as it always did."""


# ------------------------------------------------------------------------------------------------------- status


class Taak(BaseModel):
    """An open task for one role: what must happen, and by when."""

    model_config = ConfigDict(frozen=True)

    id: str | None = Field(default=None, description="Stable for the life of the task (version 2), e.g. 'T3'.")
    rol: Rol
    taak: str = Field(description="Stable code of the kind of task, e.g. 'oudergesprek_organiseren'.")
    omschrijving: str = Field(description="The task in Dutch, as the role reads it.")
    uiterlijk: date | None = Field(default=None, description="Always a date in version 2.")
    te_laat: bool = Field(default=False, description="True once ``uiterlijk`` has passed.")
    toegewezen_aan: str | None = Field(default=None, description="The person who holds the task, once known.")


class AfgerondeTaak(BaseModel):
    """A finished task: by whom and when, and how (the event that fulfilled it, or by hand)."""

    model_config = ConfigDict(frozen=True)

    id: str
    rol: Rol
    taak: str
    omschrijving: str = ""
    afgerond_op: date
    door: str | None = None
    via: str = Field(default="", description="The event that finished it ('taak_afgerond' when done by hand).")
    toelichting: str | None = None
    uiterlijk: date | None = Field(default=None, description="The due date the task had.")


class TwaalfWekenCheck(BaseModel):
    """The twelve-week check: open (someone must decide), a prospect (it comes back), or escalated."""

    model_config = ConfigDict(frozen=True)

    stand: Literal["open", "uitzicht", "opgeschaald"]
    uiterlijk: date = Field(description="When the decision is due.")
    herbeoordeling_op: date | None = None
    uitzicht: str | None = None


class Document(BaseModel):
    model_config = ConfigDict(frozen=True)

    soort: str
    verwijzing: str
    omschrijving: str | None = None
    toegevoegd_op: date
    door: str | None = None


class OudergesprekVerslag(BaseModel):
    model_config = ConfigDict(frozen=True)

    op: date
    deelnemers: list[str]
    wensen_ouders: str | None = None
    besproken_opties: str | None = None
    afspraken: str | None = None


class EscalatieRegel(BaseModel):
    model_config = ConfigDict(frozen=True)

    op: date
    niveau: str
    reden_code: str
    reden: str | None = None
    door: str | None = None


class HuisbezoekVerslag(BaseModel):
    model_config = ConfigDict(frozen=True)

    op: date
    samenvatting: str
    door: str | None = None


class Besluit(BaseModel):
    model_config = ConfigDict(frozen=True)

    op: date
    besluit: str
    acties: list[str] = Field(default_factory=list, description="The ids of the tasks its actions became.")


class Interventie(BaseModel):
    model_config = ConfigDict(frozen=True)

    op: date
    soort: str
    toelichting: str


class Dossier(BaseModel):
    """What people decided and reported, kept in the case (bounded) and in the register."""

    model_config = ConfigDict(frozen=True)

    oudergesprek: OudergesprekVerslag | None = None
    escalaties: list[EscalatieRegel] = Field(default_factory=list)
    huisbezoek: HuisbezoekVerslag | None = None
    besluiten: list[Besluit] = Field(default_factory=list)
    interventies: list[Interventie] = Field(default_factory=list)
    afronding: str | None = None


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
    contract_versie: int = Field(default=1, description="The contract version the case follows (1 or 2).")
    afgeronde_taken: list[AfgerondeTaak] = Field(default_factory=list, description="The most recent finished tasks.")
    contactrol: Rol | None = Field(
        default=None, description="scp (PO), koersloket (VO) or leerplicht_absoluut_verzuim."
    )
    leerplichtig_vanaf: date | None = Field(
        default=None, description="When leerplicht begins; null when it began before the start date."
    )
    twaalf_weken_check: TwaalfWekenCheck | None = None
    toegewezen: dict[str, str] = Field(default_factory=dict, description="Per role, the person who holds it.")
    documenten: list[Document] = Field(default_factory=list)
    kerngroep_bespreking_op: date | None = None
    op_kerngroep_lijst: bool = Field(
        default=False, description="A VO check left undecided past its due date: the Kerngroep takes it up."
    )
    uitgeschreven_op: date | None = None
    woont_in_rotterdam: bool = True
    school_brin: str | None = None
    dossier: Dossier = Field(default_factory=Dossier)
