"""The state of one case, carried through continue-as-new, and the small facts derived from it.

Its fields must stay compatible: a running case hands its state to the next run as JSON, and a newer worker reads
it. Add fields with defaults; never rename or retype one.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import TypeVar

from pydantic import BaseModel, Field, model_validator

from workflows.calendar import add_working_days, amsterdam_date, leerplicht_begins
from workflows.contract import (
    Aanmelding,
    AfgerondeTaak,
    Afwijzing,
    Document,
    Dossier,
    Escalatie,
    Regiehouder,
    Rol,
    Sector,
    Taak,
    TijdlijnRegel,
    TwaalfWekenCheck,
    Uitkomst,
    leeftijd_op,
)
from workflows.effects import Effect
from workflows.policy import Beleid

SYSTEEM = "systeem"
"""``door`` of what the case does by itself (terms passing)."""

MAX_AFGEWEZEN = 100
"""Refusals kept in the state; older ones are counted, not kept, so hostile senders cannot bloat a case."""

MAX_TIJDLIJN = 200
"""Timeline entries kept in the state (CONTRACT.md version 2); older ones are counted in ``tijdlijn_totaal``. The case
register keeps every event, so the state, its status and what continue-as-new carries stay small however long a
case runs."""


class Weigering(Exception):
    """An event that may not happen now; ``reden`` says why in Dutch, naming the field or the missing step."""

    def __init__(self, reden: str) -> None:
        super().__init__(reden)
        self.reden = reden


class AndereSchool(BaseModel):
    """Route 3.2: the pupil is applied at a receiving school, which has a term to decide (zorgplicht)."""

    school_brin: str
    aangemeld_op: date
    verlengd: bool = False
    nummer: int = Field(default=1, description="Which application of the case this is: each has its own term.")


MAX_AFGERONDE_TAKEN = 50
"""Finished tasks kept in the state (the register keeps them all)."""
MAX_DOCUMENTEN = 50
MAX_INTERVENTIES = 20
MAX_BESLUITEN = 10
MAX_ESCALATIES = 10
MAX_OPEN_ACTIES = 25
"""Open Taskforce actions a case may hold: a decision that would pass it is refused until actions are finished."""

BYTES_AFGERONDE_TAKEN = 40_000
BYTES_DOCUMENTEN = 20_000
BYTES_INTERVENTIES = 20_000
BYTES_BESLUITEN = 20_000
BYTES_ESCALATIES = 16_000
"""What the lists of what people wrote may take in the status, as UTF-8 JSON. Their texts are bounded in
characters, and a character takes up to four bytes: the lists keep their latest entries by count *and* by size, so
the status stays under 256 KB whatever the texts hold (``tests/workflows/rules/v2/test_bounded_status.py``)."""

_Kept = TypeVar("_Kept", bound=BaseModel)


def keep_latest(items: list[_Kept], count: int, budget: int) -> list[_Kept]:
    """The latest ``count`` of ``items``, fewer where their JSON would pass ``budget`` bytes (the newest always)."""
    kept: list[_Kept] = []
    size = 0
    for item in reversed(items[-count:]):
        size += len(item.model_dump_json().encode())
        if kept and size > budget:
            break
        kept.append(item)
    kept.reverse()
    return kept


class TaakRecord(BaseModel):
    """An open task of a version-2 case, kept until the event that fulfils it arrives or a person finishes it.

    ``sleutel`` says which step of the procedure it is (derived tasks: the code, with the round or application
    where a step comes back); tasks that no step derives (a Taskforce action, a refused call to handle by hand) are
    ``los``: only ``taak_afgerond`` (or the case closing) finishes them."""

    id: str
    sleutel: str
    rol: Rol
    taak: str
    omschrijving: str
    uiterlijk: date
    geopend_op: date
    herinnerd: bool = False
    los: bool = False


class CaseState(BaseModel):
    """Everything a case knows. Derived values (weeks at home, deadlines, open tasks) are computed from it."""

    case_id: str
    workflow_id: str
    aanmelding: Aanmelding
    beleid: Beleid
    geopend_op: datetime
    startdatum: date
    fase: int
    regiehouder: Regiehouder
    escalatie: Escalatie = Escalatie.GEEN
    route: str | None = None
    route_variant: str | None = None
    wachtlijst: bool = False
    gemeld_bij_leerplicht: bool = False
    melding_op: date | None = None
    lba_geregistreerd_op: date | None = None
    oudergesprek_op: date | None = None
    deelnemers: list[str] = Field(default_factory=list)
    plan_in_opp: bool = False
    plan_instemming_ouders: bool = False
    plan_op: date | None = None
    andere_school: AndereSchool | None = None
    aanmeldingen_andere_school: int = 0
    vrijstelling: str | None = None
    huisbezoek_op: date | None = None
    taskforce_besluiten: int = 0
    kindkans_hulpvraag: bool = False
    afgesloten_op: datetime | None = None
    uitkomst: Uitkomst | None = None
    handmatige_taken: list[Taak] = Field(default_factory=list)
    tijdlijn: list[TijdlijnRegel] = Field(default_factory=list)
    tijdlijn_totaal: int = 0
    afgewezen: list[Afwijzing] = Field(default_factory=list)
    afgewezen_totaal: int = 0
    gevuurd: list[str] = Field(default_factory=list)
    vingerafdrukken: dict[str, str] = Field(default_factory=dict)
    volgnummer: int = 0
    openstaand: list[Effect] = Field(default_factory=list)
    # Version 2 (CONTRACT.md): every field has a default, so a state of version 1 reads as it was.
    versie: int = Field(default=1, description="The contract version the case follows; fixed when it opens.")
    taken: list[TaakRecord] = Field(default_factory=list)
    afgeronde_taken: list[AfgerondeTaak] = Field(default_factory=list)
    net_afgerond: list[AfgerondeTaak] = Field(
        default_factory=list, description="Tasks finished since the last register line (it carries them)."
    )
    afgerond_sleutels: list[str] = Field(default_factory=list, description="Steps a person finished by hand.")
    taak_teller: int = 0
    toegewezen: dict[str, str] = Field(default_factory=dict)
    documenten: list[Document] = Field(default_factory=list)
    dossier: Dossier = Field(default_factory=Dossier)
    dossier_gewijzigd: bool = False
    check_stand: str | None = Field(
        default=None, description="open, uitzicht or opgeschaald; None before twelve weeks."
    )
    check_ronde: int = 0
    check_basis: date | None = Field(default=None, description="The day a returning check opened again.")
    check_herbeoordeling_op: date | None = None
    check_uitzicht: str | None = None
    op_kerngroep_lijst: bool = False
    kerngroep_bespreking_op: date | None = None
    uitgeschreven_op: date | None = None
    leerplicht_begonnen: bool = False

    @model_validator(mode="after")
    def _count_timeline(self) -> CaseState:
        # A state carried over from before the timeline was bounded holds every entry and no count yet.
        if self.tijdlijn_totaal < len(self.tijdlijn):
            self.tijdlijn_totaal = len(self.tijdlijn)
        return self

    @property
    def afgesloten(self) -> bool:
        return self.afgesloten_op is not None

    @property
    def leerplichtig(self) -> bool:
        """Version 1: age on the (formal) start date decides (a pupil of 4 is not leerplichtig). Version 2:
        leerplicht begins on the first school day of the month after the fifth birthday; a pupil for whom that
        day lies after the start date becomes leerplichtig when it comes (a term of the case)."""
        if self.versie < 2:
            return leeftijd_op(self.aanmelding.geboortedatum, self.startdatum) >= 5
        return self.leerplichtig_vanaf is None or self.leerplicht_begonnen

    @property
    def leerplichtig_vanaf(self) -> date | None:
        """The day leerplicht begins, when that lies after the start date (version 2); else None."""
        if self.versie < 2:
            return None
        begint = leerplicht_begins(self.aanmelding.geboortedatum, self.beleid.vakanties(self.aanmelding.regio.value))
        return begint if begint > self.startdatum else None

    @property
    def twaalf_weken_check(self) -> TwaalfWekenCheck | None:
        if self.check_stand is None:
            return None
        basis = self.check_basis or self.deadline_12_weken
        return TwaalfWekenCheck(
            stand=self.check_stand,
            uiterlijk=add_working_days(basis, self.beleid.check_besluit_werkdagen),
            herbeoordeling_op=self.check_herbeoordeling_op,
            uitzicht=self.check_uitzicht,
        )

    @property
    def uit_buitenland(self) -> bool:
        return self.aanmelding.uit_buitenland

    @property
    def deadline_12_weken(self) -> date:
        return self.startdatum + timedelta(days=self.beleid.escalatie_termijn_dagen)

    @property
    def contactrol(self) -> Rol:
        """The SCP of PPO Rotterdam for primary education, the Koersloket of Koers VO for secondary."""
        return Rol.SCP if self.aanmelding.sector is Sector.PO else Rol.KOERSLOKET

    @property
    def leerplichtrol(self) -> Rol:
        return Rol.LEERPLICHT_ABSOLUUT_VERZUIM if self.uit_buitenland else Rol.LEERPLICHT


def weeks_at_home(state: CaseState, now: datetime) -> int:
    """Whole weeks since the (formal) start date; frozen at closure."""
    moment = state.afgesloten_op or now
    return max(0, (amsterdam_date(moment) - state.startdatum).days // 7)


def successor(state: CaseState) -> CaseState:
    """A copy of the state that the rules may change, leaving ``state`` as it was.

    Only the containers the rules change are copied, each of bounded size (the timeline is capped, the effects are
    handed over to the workflow after every event), so one event costs the same on the thousandth event of a case
    as on its tenth; the values inside them (timeline entries, effects, tasks) are never changed in place."""
    return state.model_copy(
        update={
            "deelnemers": list(state.deelnemers),
            "andere_school": state.andere_school.model_copy() if state.andere_school is not None else None,
            "handmatige_taken": list(state.handmatige_taken),
            "tijdlijn": list(state.tijdlijn),
            "gevuurd": list(state.gevuurd),
            "vingerafdrukken": dict(state.vingerafdrukken),
            "openstaand": list(state.openstaand),
            "taken": list(state.taken),
            "afgeronde_taken": list(state.afgeronde_taken),
            "net_afgerond": list(state.net_afgerond),
            "afgerond_sleutels": list(state.afgerond_sleutels),
            "toegewezen": dict(state.toegewezen),
            "documenten": list(state.documenten),
        }
    )


def log(state: CaseState, now: datetime, gebeurtenis: str, door: str | None, toelichting: str) -> None:
    state.tijdlijn.append(TijdlijnRegel(tijd=now, gebeurtenis=gebeurtenis, door=door, toelichting=toelichting))
    state.tijdlijn_totaal += 1
    if len(state.tijdlijn) > MAX_TIJDLIJN:
        del state.tijdlijn[: len(state.tijdlijn) - MAX_TIJDLIJN]


def school_of(state: CaseState) -> Rol:
    """The school of registration; a pupil from abroad has none, and Leerplicht absoluut verzuim acts instead."""
    return Rol.LEERPLICHT_ABSOLUUT_VERZUIM if state.uit_buitenland else Rol.SCHOOL


def contact_of(state: CaseState) -> Rol:
    """The SCP or the Koersloket; a pupil from abroad has no school and so none: Leerplicht absoluut verzuim."""
    return Rol.LEERPLICHT_ABSOLUUT_VERZUIM if state.uit_buitenland else state.contactrol


def school_and_contact(state: CaseState) -> tuple[Rol, ...]:
    """Who follows the case day to day and hears of its terms: each role once."""
    return tuple(dict.fromkeys((school_of(state), contact_of(state))))


def route_andere_school(state: CaseState) -> bool:
    return state.route == "3.2" or (
        state.route == "3.3" and state.route_variant in ("andere_reguliere_school", "andere_vo_school")
    )


def uitkomst_tekst(state: CaseState) -> str:
    return state.uitkomst.value.replace("_", " ") if state.uitkomst else "open"


def weken_tekst(dagen: int) -> str:
    return f"{dagen // 7} weken" if dagen % 7 == 0 else f"{dagen} dagen"


def short(text: str) -> str:
    """A name or field that was sent in, fit to echo: at most 60 characters, control characters replaced."""
    text = text if len(text) <= 60 else text[:57] + "..."
    return "".join(c if c.isprintable() else "?" for c in text)
