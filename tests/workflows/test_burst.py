"""A burst of events cannot stop a case: 500 signals at once are each applied exactly once, the case keeps
answering, its history stays bounded, and every run of it replays.

On the time-skipping server, as an integrating service would send a backlog after an outage: 500 ``voortgang``
signals of the largest size the contract allows, sent side by side. The case continues as new while effects are
still waiting; they go along and are carried out in the next run, each once.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from datetime import timedelta
from typing import Any

from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer

from tests.cases import eventually, idle, pupil, start, status_of
from tests.fixtures.temporal import case_worker
from tests.workflows.test_continue_as_new import runs_of
from thuiszitters.temporal.converter import build_data_converter
from workflows.calendar import amsterdam_date
from workflows.thuiszitter import CONTINUE_AS_NEW_FORCED_AT, EFFECT_BATCH, ThuiszitterWorkflow

SIGNALS = 500
SENT_AT_ONCE = 100
TOELICHTING = 4000  # the contract's largest free text
PERSOON = 64  # the contract's longest person id (version 2: ``door`` is a role, ``persoon`` names who)
HISTORY_BOUND = CONTINUE_AS_NEW_FORCED_AT + EFFECT_BATCH * 3 + SIGNALS * 4
"""A run that never falls quiet continues as new between two batches of effects once its history reaches the forced
length: past it come at most the batch under way (three events per activity) and the signals that arrive meanwhile,
each with at most one workflow task of its own (three events); how many arrive depends on how busy the machine is,
so the bound counts every signal of the burst. Temporal's own limit is 51,200 events."""


def largest_voortgang(number: int) -> dict[str, Any]:
    """A progress report of the largest size the contract allows; each one different (an identical one would be a
    duplicate that changes nothing)."""
    head = f"bericht {number}: "
    return {"toelichting": head + "x" * (TOELICHTING - len(head)), "door": "school", "persoon": "p" * PERSOON}


async def test_500_signals_at_once_are_applied_once_each_and_every_run_replays(time_env, register, test_settings):
    async with case_worker(time_env, register, test_settings) as worker:
        day = amsterdam_date(await time_env.get_current_time())
        handle = await start(worker.client, pupil(day - timedelta(days=3)), worker.task_queue)
        case_id = f"{handle.id}:{handle.result_run_id}"
        try:
            gate = asyncio.Semaphore(SENT_AT_ONCE)

            async def send(number: int) -> None:
                async with gate:
                    await handle.signal("voortgang", largest_voortgang(number))

            await asyncio.gather(*(send(number) for number in range(SIGNALS)))

            # --- every signal applied exactly once: in the register, in the messages, in the status
            rows = await eventually(
                lambda: register.events_for(case_id),
                lambda rows: sum(row.gebeurtenis == "voortgang" for row in rows) >= SIGNALS,
                within=240,
            )
            assert [row.volgnummer for row in rows] == list(range(1, len(rows) + 1))
            assert Counter(row.gebeurtenis for row in rows)["voortgang"] == SIGNALS
            # the school's progress goes to the parents, the SCP and Leerplicht
            notifications = await eventually(
                lambda: register.notifications_for(case_id),
                lambda found: sum(n.sjabloon == "voortgang" for n in found) >= 3 * SIGNALS,
                within=120,
            )
            progress = Counter(n.rol for n in notifications if n.sjabloon == "voortgang")
            assert progress == {"ouders": SIGNALS, "scp": SIGNALS, "leerplicht": SIGNALS}
            assert len({n.sleutel for n in notifications}) == len(notifications)
            status = await status_of(handle)
            assert status.afgewezen_totaal == 0, status.afgewezen
            # the timeline holds the latest 200 entries and counts them all: the melding and each report
            assert status.tijdlijn_totaal == len(rows) == SIGNALS + 1
            assert len(status.tijdlijn) == 200
            assert [line.gebeurtenis for line in status.tijdlijn].count("voortgang") == 200

            # --- the history stayed bounded: the case continued as new, with effects still waiting
            assert handle.result_run_id is not None
            runs = await runs_of(worker.client, handle.id, handle.result_run_id)
            assert len(runs) >= 2, f"500 signals in one history of {runs[0][1]} events"
            assert all(length < HISTORY_BOUND for _, length in runs), runs

            # --- no workflow task failed, and every run replays on today's code
            replayer = Replayer(workflows=[ThuiszitterWorkflow], data_converter=build_data_converter(test_settings))
            for run_id, _ in runs:
                run = worker.client.get_workflow_handle(handle.id, run_id=run_id)
                events = [event async for event in run.fetch_history_events()]
                failed = [e for e in events if e.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED]
                assert not failed, failed[0].workflow_task_failed_event_attributes
                result = await replayer.replay_workflow(
                    WorkflowHistory(handle.id, events), raise_on_replay_failure=False
                )
                assert result.replay_failure is None, f"run {run_id}: {result.replay_failure}"
        finally:
            with contextlib.suppress(AssertionError):  # the test server may lock its clock for a busy case ended
                await eventually(lambda: idle(handle), bool, within=60)
            await handle.terminate("einde test")
