"""The recurring work, each a small workflow that a Temporal Schedule starts (``thuiszitters/temporal/schedules.py``),
so that it is visible, pausable and triggerable in the Web UI rather than somebody's cron job:

- :class:`BewaartermijnWorkflow` (every night): anonymise the closed cases past the retention period;
- :class:`WeekrapportWorkflow` (every Monday morning): each region's coordinators get the report of their region.

Each does its work in activities (declared in :mod:`workflows.activities`, implemented by
``activities.scheduled.ScheduledActivities``) and returns a summary of counts, which the Web UI shows as the result.
Like everything under ``workflows/``, they decide the same way on every replay: the moment is the run's own
``workflow.now()`` (the schedule's time), never a clock.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from workflows import activities
    from workflows.calendar import amsterdam_date
    from workflows.contract import Regio
    from workflows.scheduled_work import (
        Bewaartermijn,
        BewaartermijnSamenvatting,
        BewaartermijnStart,
        RegioRapport,
        WeekrapportRegio,
        WeekrapportSamenvatting,
        WeekrapportStart,
    )

RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=5),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=10),
    maximum_attempts=10,
)
"""An hour or so of tries: the register or the mail server may be away for a while; after that the run fails and
shows so in the Web UI (and the schedule's next run tries again)."""
RETENTION_TIMEOUT = timedelta(minutes=30)
"""One transaction over every case due: generous, since the first run after a long pause may have many."""
REPORT_TIMEOUT = timedelta(minutes=2)
WEEKRAPPORT_NIET_BEZORGD = "WeekrapportNietBezorgd"


@workflow.defn
class BewaartermijnWorkflow:
    """The retention period of the case register, applied once (``thuiszitters-bewaartermijn``)."""

    @workflow.run
    async def run(self, start: BewaartermijnStart | None = None) -> BewaartermijnSamenvatting:
        start = start or BewaartermijnStart()
        return await workflow.execute_activity(
            activities.bewaartermijn_toepassen,
            Bewaartermijn(moment=workflow.now(), na_dagen=start.na_dagen, proefdraai=start.proefdraai),
            start_to_close_timeout=RETENTION_TIMEOUT,
            retry_policy=RETRY,
        )


@workflow.defn
class WeekrapportWorkflow:
    """The coordinators' weekly report, one per region, each delivered once (``thuiszitters-weekrapport``)."""

    @workflow.run
    async def run(self, start: WeekrapportStart | None = None) -> WeekrapportSamenvatting:
        start = start or WeekrapportStart()
        per = start.per or amsterdam_date(workflow.now()) - timedelta(days=1)
        orders = [
            WeekrapportRegio(sleutel=f"weekrapport:{per.isoformat()}:{regio.value}", per=per, regio=regio)
            for regio in Regio
        ]
        outcomes = await asyncio.gather(
            *(
                workflow.execute_activity(
                    activities.weekrapport_versturen,
                    order,
                    start_to_close_timeout=REPORT_TIMEOUT,
                    retry_policy=RETRY,
                )
                for order in orders
            ),
            return_exceptions=True,
        )
        for outcome in outcomes:
            if isinstance(outcome, asyncio.CancelledError):
                raise outcome
        sent = [outcome for outcome in outcomes if isinstance(outcome, RegioRapport)]
        summary = WeekrapportSamenvatting(
            per=per,
            regios=sent,
            open_zaken=sum(report.open_zaken for report in sent),
            over_termijn=sum(report.over_termijn for report in sent),
        )
        failed = [
            (order.regio.value, outcome)
            for order, outcome in zip(orders, outcomes, strict=True)
            if isinstance(outcome, BaseException)
        ]
        if failed:
            # Every region that could be reached has its report; the run fails, naming the others, so that the Web UI
            # shows what is missing (and the summary of what went, as the failure's details).
            reasons = "; ".join(f"regio {regio}: {_reason(error)}" for regio, error in failed)
            raise ApplicationError(
                f"Weekrapport niet bezorgd ({reasons})", summary, type=WEEKRAPPORT_NIET_BEZORGD, non_retryable=True
            )
        return summary


def _reason(error: BaseException) -> str:
    """The activity's own message (its ``ApplicationError``), not the SDK's wrapper around it."""
    cause = error.cause if isinstance(error, ActivityError) else None
    return str(cause or error)
