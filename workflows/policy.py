"""The policy of a case: every term, warning point and reminder interval of the procedure in one settings object.

The policy is passed to the workflow at start (``Aanmelding.beleid``) and kept in the case's state, so a running
case keeps the policy it started with, and tests can shorten terms.
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache

from pydantic import BaseModel, ConfigDict, Field, model_validator


class Vakantie(BaseModel):
    """A school holiday (first and last day, both included) of the schools of one or both regions."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    naam: str
    van: date
    tot_en_met: date
    regio: tuple[str, ...] = ("Noord", "Zuid")


SCHOOLVAKANTIES: tuple[Vakantie, ...] = (
    Vakantie(naam="herfstvakantie", van=date(2025, 10, 18), tot_en_met=date(2025, 10, 26)),
    Vakantie(naam="kerstvakantie", van=date(2025, 12, 20), tot_en_met=date(2026, 1, 4)),
    Vakantie(naam="voorjaarsvakantie", van=date(2026, 2, 14), tot_en_met=date(2026, 2, 22)),
    Vakantie(naam="meivakantie", van=date(2026, 4, 25), tot_en_met=date(2026, 5, 3)),
    Vakantie(naam="zomervakantie", van=date(2026, 7, 18), tot_en_met=date(2026, 8, 30)),
    Vakantie(naam="herfstvakantie", van=date(2026, 10, 17), tot_en_met=date(2026, 10, 25)),
    Vakantie(naam="kerstvakantie", van=date(2026, 12, 19), tot_en_met=date(2027, 1, 3)),
    Vakantie(naam="voorjaarsvakantie", van=date(2027, 2, 20), tot_en_met=date(2027, 2, 28)),
    Vakantie(naam="meivakantie", van=date(2027, 4, 24), tot_en_met=date(2027, 5, 2)),
    Vakantie(naam="zomervakantie", van=date(2027, 7, 17), tot_en_met=date(2027, 8, 29)),
)
"""The school holidays of Rotterdam's schools (regio Midden of the national holiday regions), per Rotterdam region
of the procedure. Policy data: the coordinators keep it current each school year (docs/operations.md)."""


class Beleid(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    thuiszitter_na_dagen: int = Field(
        default=28,
        ge=1,
        le=365,
        description="Phase 0: days without a melding after which school and SCP are told.",
    )
    escalatie_termijn_dagen: int = Field(
        default=84, ge=1, le=730, description="The legal term (twelve weeks) from the start date."
    )
    waarschuwingen_dagen: tuple[int, ...] = Field(
        default=(56, 70), description="Warnings to school and SCP before the term (eight and ten weeks)."
    )
    zorgplicht_dagen: int = Field(default=42, ge=1, le=365, description="Route 3.2: term of the receiving school.")
    zorgplicht_verlenging_dagen: int = Field(default=28, ge=1, le=365, description="Its one extension.")
    lba_herinnering_werkdagen: int = Field(
        default=5,
        ge=1,
        le=60,
        description="LBA registration not confirmed this many working days after the melding.",
    )
    oudergesprek_herinnering_werkdagen: int = Field(
        default=10, ge=1, le=60, description="No oudergesprek this many working days after the melding."
    )
    plan_herinnering_werkdagen: int = Field(
        default=10,
        ge=1,
        le=60,
        description="No plan van aanpak this many working days after the oudergesprek.",
    )
    termijn_uur: int = Field(
        default=7, ge=0, le=23, description="Hour (Amsterdam time) at which a term that falls on a day fires."
    )
    # Version 2 (PROCEDURE.md): decisions, tasks, the Kerngroep and school holidays.
    check_besluit_werkdagen: int = Field(
        default=10, ge=1, le=60, description="The twelve-week check is decided within this many working days."
    )
    herbeoordeling_max_dagen: int = Field(
        default=42, ge=1, le=365, description="A beoordeling brings the check back at most this many days ahead."
    )
    taak_werkdagen: int = Field(
        default=10, ge=1, le=120, description="Due date of a task for which the procedure names no term of its own."
    )
    taak_werkdagen_per_soort: dict[str, int] = Field(
        default_factory=lambda: {
            "ouders_informeren_taskforce": 3,
            "hulpvraag_controleren": 5,
            "uitschrijven": 5,
            "passende_plek_afronden": 10,
            "handmatig_afhandelen": 1,
        },
        description="Due dates per kind of task, in working days from the day the task opens.",
    )
    kerngroep_eerste_vergadering: date = Field(
        default=date(2025, 1, 9), description="A meeting of the Kerngroep; the others follow at the interval."
    )
    kerngroep_interval_dagen: int = Field(default=14, ge=1, le=91, description="Days between Kerngroep meetings.")
    kerngroep_voorbereiding_werkdagen: int = Field(
        default=5,
        ge=0,
        le=30,
        description="A case escalated to the Taskforce is on the agenda of the first meeting at least this many "
        "working days later (time for the home visit).",
    )
    schoolvakanties: tuple[Vakantie, ...] = Field(
        default=SCHOOLVAKANTIES, description="No reminder to a school falls in these; it waits for the next school day."
    )

    def vakanties(self, regio: str) -> tuple[tuple[date, date], ...]:
        """The school holidays of ``regio`` as (first, last) days."""
        return _periods(self.schoolvakanties, regio)

    def taak_werkdagen_voor(self, taak: str) -> int:
        return self.taak_werkdagen_per_soort.get(taak, self.taak_werkdagen)

    @model_validator(mode="after")
    def _holidays_are_periods(self) -> Beleid:
        for vakantie in self.schoolvakanties:
            if not 0 <= (vakantie.tot_en_met - vakantie.van).days <= 90:
                raise ValueError("schoolvakanties: elke vakantie duurt 1 tot 90 dagen (van voor tot_en_met)")
        return self

    @model_validator(mode="after")
    def _warnings_before_term(self) -> Beleid:
        if len(set(self.waarschuwingen_dagen)) != len(self.waarschuwingen_dagen):
            raise ValueError("waarschuwingen_dagen: elke waarschuwingsdag maar één keer")
        for dagen in self.waarschuwingen_dagen:
            if not 0 < dagen < self.escalatie_termijn_dagen:
                raise ValueError("waarschuwingen_dagen: elke waarschuwing moet voor de escalatietermijn liggen")
        return self


@lru_cache(maxsize=64)
def _periods(vakanties: tuple[Vakantie, ...], regio: str) -> tuple[tuple[date, date], ...]:
    return tuple((v.van, v.tot_en_met) for v in vakanties if regio in v.regio)


DEFAULT_BELEID = Beleid()
