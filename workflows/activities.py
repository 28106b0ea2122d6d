"""The activities the workflows call, declared once: each one's name, argument and result.

The workflow calls them by these references (``workflow.execute_activity(activities.vastleggen, effect, ...)``), so
the SDK takes the name and the result type from here and mypy checks what is passed in, while the workflow never
imports the side-effect code (:mod:`activities.case_activities`, with the register and HTTP clients). That module
implements the case's names with exactly these types, as methods of ``CaseActivities``; the scheduled work's (the
last section, called by :mod:`workflows.scheduled`) are methods of ``ScheduledActivities``
(:mod:`activities.scheduled`). A test holds the declarations and the two classes together
(``tests/activities/test_case_activities.py``).

The names are recorded in every case's history: running cases and replays depend on them, so never change one.
"""

from __future__ import annotations

from temporalio import activity

from workflows.effects import Bericht, Portie, Registratie, RegistratieUitkomst, Vastlegging, Verantwoordelijken
from workflows.policy import Beleid
from workflows.scheduled_work import Bewaartermijn, BewaartermijnSamenvatting, RegioRapport, WeekrapportRegio

_DECLARATION_ONLY = "a declaration: the worker runs CaseActivities' implementation (activities/case_activities.py)"
_SCHEDULED_ONLY = "a declaration: the worker runs ScheduledActivities' implementation (activities/scheduled.py)"


@activity.defn(name="vastleggen")
async def vastleggen(vastlegging: Vastlegging) -> None:
    """Record one numbered line of the case register."""
    raise NotImplementedError(_DECLARATION_ONLY)


@activity.defn(name="registreren")
async def registreren(registratie: Registratie) -> RegistratieUitkomst:
    """Make a registration call to an outside system once, and say what became of it."""
    raise NotImplementedError(_DECLARATION_ONLY)


@activity.defn(name="berichten")
async def berichten(bericht: Bericht) -> None:
    """Write a notification from its Dutch template and deliver it to its role once."""
    raise NotImplementedError(_DECLARATION_ONLY)


@activity.defn(name="uitvoeren")
async def uitvoeren(portie: Portie) -> list[str | None]:
    """Carry out effects for one receiver in their order, each exactly once as the three above do; per effect None
    when done, or the reason an outside system refused it for good (the register never refuses: its failure, like
    any failure that may pass, fails the activity, which is tried again and skips what was done)."""
    raise NotImplementedError(_DECLARATION_ONLY)


@activity.defn(name="huidig_beleid")
async def huidig_beleid() -> Beleid:
    """The policy of this release, for a case started without one (a local activity: recorded once in its history,
    so the case keeps it when a later release changes the defaults)."""
    raise NotImplementedError(_DECLARATION_ONLY)


@activity.defn(name="verantwoordelijken")
async def verantwoordelijken(vraag: Verantwoordelijken) -> dict[str, str]:
    """The people responsible for a new case, per role, from the directory of people (an empty answer when the
    directory knows nobody for it)."""
    raise NotImplementedError(_DECLARATION_ONLY)


# ------------------------------------------------------------------ scheduled work (workflows/scheduled.py)


@activity.defn(name="bewaartermijn_toepassen")
async def bewaartermijn_toepassen(opdracht: Bewaartermijn) -> BewaartermijnSamenvatting:
    """Anonymise the closed cases of the register that are past the retention period, in one transaction, and say
    how many (``thuiszitters.tools.retention``)."""
    raise NotImplementedError(_SCHEDULED_ONLY)


@activity.defn(name="weekrapport_versturen")
async def weekrapport_versturen(opdracht: WeekrapportRegio) -> RegioRapport:
    """Build one region's weekly report from the register and deliver it to the region's coordinators once."""
    raise NotImplementedError(_SCHEDULED_ONLY)
