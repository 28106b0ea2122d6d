"""The Temporal Schedules of the recurring work: visible, pausable and triggerable in the Web UI (Schedules).

- ``thuiszitters-bewaartermijn``: :class:`~workflows.scheduled.BewaartermijnWorkflow` every night at 02:30;
- ``thuiszitters-weekrapport``: :class:`~workflows.scheduled.WeekrapportWorkflow` every Monday at 07:00;

both in Amsterdam time (the schedule follows summer and winter time), on the worker's task queue, a run that is still
busy when the next is due skipping that one (overlap ``SKIP``), and a time missed while Temporal was away made up
within a day at most.

:func:`ensure_schedules` creates them, or updates an existing one to this definition; it never makes a second one
(the schedule id is unique in a namespace) and keeps a paused schedule paused, with the note its pauser wrote. The
worker calls it at start (``THUISZITTERS_SCHEDULES``, default ``aan``), so every release brings the schedules up
to date; ``thuiszitters-schema`` (:mod:`thuiszitters.tools.schedules`) shows, pauses, resumes and triggers them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Literal

from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleCalendarSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleRange,
    ScheduleSpec,
    ScheduleState,
    ScheduleUpdate,
    ScheduleUpdateInput,
)

from workflows.scheduled import BewaartermijnWorkflow, WeekrapportWorkflow

TIME_ZONE = "Europe/Amsterdam"
CATCHUP_WINDOW = timedelta(days=1)
"""A run missed while Temporal was down is made up when it is back within this window; older ones are let go (the
next one comes anyway)."""

Outcome = Literal["aangemaakt", "bijgewerkt"]


@dataclass(frozen=True)
class ScheduleDefinition:
    """One schedule: its id (also the prefix of its workflows' ids: ``<id>-<time>``), when it runs, what it starts,
    and the note (Dutch) the Web UI shows with it."""

    schedule_id: str
    name: str
    """The short name the CLI takes (``bewaartermijn``)."""
    workflow: Callable[..., Any]
    calendar: ScheduleCalendarSpec
    when: str
    """When it runs, in Dutch."""
    note: str
    summary: str
    """Shown in the Web UI with each workflow the schedule starts."""
    execution_timeout: timedelta

    def schedule(self, task_queue: str, *, state: ScheduleState | None = None) -> Schedule:
        return Schedule(
            action=ScheduleActionStartWorkflow(
                self.workflow,
                id=self.schedule_id,
                task_queue=task_queue,
                execution_timeout=self.execution_timeout,
                static_summary=self.summary,
            ),
            spec=ScheduleSpec(calendars=[self.calendar], time_zone_name=TIME_ZONE),
            policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP, catchup_window=CATCHUP_WINDOW),
            state=state or ScheduleState(note=self.note),
        )


BEWAARTERMIJN = ScheduleDefinition(
    schedule_id="thuiszitters-bewaartermijn",
    name="bewaartermijn",
    workflow=BewaartermijnWorkflow.run,
    calendar=ScheduleCalendarSpec(hour=[ScheduleRange(2)], minute=[ScheduleRange(30)], comment="elke nacht 02:30"),
    when="elke nacht om 02:30 (Amsterdamse tijd)",
    note=(
        "Bewaartermijn: anonimiseert elke nacht de afgesloten zaken in het zaakregister waarvan de bewaartermijn "
        "(THUISZITTERS_BEWAARTERMIJN_DAGEN) voorbij is; de aantallen voor rapportages blijven gelijk. "
        "Zelf draaien: thuiszitters-bewaartermijn --dry-run."
    ),
    summary="Bewaartermijn van het zaakregister toepassen",
    execution_timeout=timedelta(hours=6),
)
WEEKRAPPORT = ScheduleDefinition(
    schedule_id="thuiszitters-weekrapport",
    name="weekrapport",
    workflow=WeekrapportWorkflow.run,
    calendar=ScheduleCalendarSpec(
        day_of_week=[ScheduleRange(1)], hour=[ScheduleRange(7)], minute=[ScheduleRange(0)], comment="maandag 07:00"
    ),
    when="elke maandag om 07:00 (Amsterdamse tijd)",
    note=(
        "Weekrapport: stuurt elke maandagochtend de thuiszitterscoördinatoren van elke regio het rapport van hun "
        "regio (PO) met de stand per zondag: aantallen en zaakverwijzingen, geen namen. "
        "Zelf maken: thuiszitters-rapport."
    ),
    summary="Weekrapport aan de coördinatoren per regio",
    execution_timeout=timedelta(hours=6),
)
SCHEDULES: tuple[ScheduleDefinition, ...] = (BEWAARTERMIJN, WEEKRAPPORT)


def definition(name_or_id: str) -> ScheduleDefinition | None:
    """The schedule a person names, by its short name or its id."""
    return next((d for d in SCHEDULES if name_or_id in (d.name, d.schedule_id)), None)


async def ensure_schedules(
    client: Client, task_queue: str, definitions: Sequence[ScheduleDefinition] = SCHEDULES
) -> dict[str, Outcome]:
    """Create each schedule, or update the existing one to its definition; a paused schedule stays paused with its
    note. Safe to call from any number of workers at once: the id is unique in the namespace, so a second create is
    refused and becomes an update."""
    outcomes: dict[str, Outcome] = {}
    for schedule in definitions:
        try:
            await client.create_schedule(schedule.schedule_id, schedule.schedule(task_queue))
            outcomes[schedule.schedule_id] = "aangemaakt"
        except ScheduleAlreadyRunningError:
            await client.get_schedule_handle(schedule.schedule_id).update(_updater(schedule, task_queue))
            outcomes[schedule.schedule_id] = "bijgewerkt"
    return outcomes


def _updater(schedule: ScheduleDefinition, task_queue: str) -> Callable[[ScheduleUpdateInput], ScheduleUpdate]:
    def update(current: ScheduleUpdateInput) -> ScheduleUpdate:
        state = current.description.schedule.state
        kept = ScheduleState(note=state.note, paused=True) if state.paused else ScheduleState(note=schedule.note)
        return ScheduleUpdate(schedule=schedule.schedule(task_queue, state=kept))

    return update
