"""What the scheduled workflows (:mod:`workflows.scheduled`) hand to their activities and return.

Two pieces of recurring work run as workflows that a Temporal Schedule starts (``thuiszitters/temporal/schedules.py``):
the retention period of the case register, every night, and the coordinators' weekly report, every Monday. Their
results are small summaries of counts, shown in the Web UI as the workflow's result: no pupil reference, no name,
nothing that identifies a pupil or a person.

The activities' inputs and results are recorded in the workflows' histories: new fields need defaults.
"""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

from workflows.contract import Regio, Sector

WEEKRAPPORT_SECTOR = Sector.PO
"""The coordinators are PPO Rotterdam's (primary education): each region's report holds the PO cases of that region,
the cases the authorisation policy lets a coordinator of the region see."""


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True)


# ----------------------------------------------------------------------------------------------- retention


class BewaartermijnStart(_Model):
    """How a run of :class:`~workflows.scheduled.BewaartermijnWorkflow` goes; the schedule starts it with the
    defaults."""

    na_dagen: int | None = Field(
        default=None, ge=1, description="The period in days; None: the worker's THUISZITTERS_BEWAARTERMIJN_DAGEN."
    )
    proefdraai: bool = Field(default=False, description="Only count what would change, change nothing.")


class Bewaartermijn(_Model):
    """The activity's order: anonymise what closed more than the period before ``moment`` (the run's own time, so
    a retried attempt draws the same line)."""

    moment: datetime
    na_dagen: int | None = Field(default=None, ge=1)
    proefdraai: bool = False


class BewaartermijnSamenvatting(_Model):
    """What one run did (a dry run: would have done): counts only."""

    bewaartermijn_dagen: int
    afgesloten_voor: date = Field(description="Cases closed before this Amsterdam day were due.")
    proefdraai: bool
    geanonimiseerd: int
    per_sector: dict[str, int] = Field(default_factory=dict)
    per_regio: dict[str, int] = Field(default_factory=dict)
    registraties: int = 0
    berichten: int = 0
    dossiers: int = 0
    auditregels: int = 0
    open_zaken: int = 0
    binnen_termijn: int = 0
    al_geanonimiseerd: int = 0


# ------------------------------------------------------------------------------------------ weekly report


class WeekrapportStart(_Model):
    """How a run of :class:`~workflows.scheduled.WeekrapportWorkflow` goes; the schedule starts it with the
    defaults."""

    per: date | None = Field(
        default=None, description="The per-date; None: the Amsterdam day before the run (Sunday for Monday's run)."
    )


class WeekrapportRegio(_Model):
    """The activity's order: the report of one region as of ``per``, to that region's coordinators, once."""

    sleutel: str = Field(description="'weekrapport:<per>:<regio>': one report per region and per-date.")
    per: date
    regio: Regio
    sector: Sector = WEEKRAPPORT_SECTOR


class RegioRapport(_Model):
    """What one region's report said and where it went: counts and the channel, no case references."""

    regio: Regio
    sector: Sector
    open_zaken: int
    over_termijn: int = Field(description="Open cases past the twelve-week term.")
    over_termijn_niet_opgeschaald: int
    opgeschaald: int = Field(description="Open cases escalated to the coordinator or the Taskforce.")
    kanaal: str


class WeekrapportSamenvatting(_Model):
    """What one run sent: the per-date and each region's counts."""

    per: date
    regios: list[RegioRapport]
    open_zaken: int
    over_termijn: int
