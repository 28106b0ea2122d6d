"""The activities a case calls, declared once: each one's name, argument and result.

The workflow calls them by these references (``workflow.execute_activity(activities.vastleggen, effect, ...)``), so
the SDK takes the name and the result type from here and mypy checks what is passed in, while the workflow never
imports the side-effect code (:mod:`activities.case_activities`, with the register and HTTP clients). That module
implements exactly these names with exactly these types, as methods of ``CaseActivities``; a test holds the two
together (``tests/activities/test_case_activities.py``).

The names are recorded in every case's history: running cases and replays depend on them, so never change one.
"""

from __future__ import annotations

from temporalio import activity

from workflows.effects import Bericht, Registratie, RegistratieUitkomst, Vastlegging, Verantwoordelijken
from workflows.policy import Beleid

_DECLARATION_ONLY = "a declaration: the worker runs CaseActivities' implementation (activities/case_activities.py)"


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
