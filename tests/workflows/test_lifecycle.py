"""A case driven through every phase with updates on the real dev server, recorded once in the real register."""

from __future__ import annotations

import asyncio
from typing import Any, ClassVar

import pytest
from temporalio import activity
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError

from activities.case_activities import CaseActivities
from tests.cases import events, pupil, start
from tests.fixtures.temporal import case_worker
from workflows.calendar import amsterdam_date
from workflows.contract import CaseStatus, Uitkomst
from workflows.effects import Vastlegging


class CrashAfterRecording(CaseActivities):
    """Records, then fails the first attempt of every register line: Temporal retries what already happened."""

    crashed: ClassVar[set[str]] = set()

    @activity.defn(name="vastleggen")
    async def vastleggen(self, v: Vastlegging) -> None:
        await super().vastleggen(v)
        if v.sleutel not in self.crashed:
            self.crashed.add(v.sleutel)
            raise ApplicationError("verbinding verbroken na vastleggen (test)")


async def update(handle: Any, name: str, payload: dict[str, Any] | None = None) -> CaseStatus:
    result: CaseStatus = await handle.execute_update(name, payload or {}, result_type=CaseStatus)
    return result


async def test_case_through_every_phase_is_recorded_exactly_once(dev_env, register, test_settings):
    from temporalio.worker import Worker

    from workflows.thuiszitter import ThuiszitterWorkflow

    activities = CrashAfterRecording(test_settings, register)
    task_queue = "lifecycle-retry"
    async with Worker(
        dev_env.client, task_queue=task_queue, workflows=[ThuiszitterWorkflow], activities=activities.all()
    ):
        today = amsterdam_date(await dev_env.get_current_time())
        aanmelding = pupil(today, fase=0)
        handle = await start(dev_env.client, aanmelding, task_queue)

        s = await update(handle, "melding", {"gemeld_bij_leerplicht": True, "door": "school"})
        assert (s.fase, s.fase_naam) == (1, "Melding thuiszitter")
        s = await update(handle, "oudergesprek", {"deelnemers": ["school", "ouders", "scp"], "door": "school"})
        assert s.fase == 2
        s = await update(handle, "plan_van_aanpak", {"in_opp": True, "instemming_ouders": True, "door": "school"})
        assert s.fase == 3
        s = await update(handle, "route", {"route": "3.1", "door": "school"})
        assert s.route == "3.1"
        s = await update(handle, "passende_plek", {"uitkomst": "terug_op_school", "door": "school"})
        assert s.fase == 4 and not s.afgesloten  # phase 4 is a phase: the SCP checks and closes
        s = await update(handle, "afronden", {"toelichting": "terug op school, gecontroleerd", "door": "scp"})
        assert s.afgesloten and s.fase == 4

        final: CaseStatus = await handle.result()
        assert final.afgesloten and final.uitkomst is Uitkomst.TERUG_OP_SCHOOL
        steps = ["voortraject", "melding", "oudergesprek", "plan_van_aanpak", "route", "passende_plek", "afronden"]
        assert events(final) == steps

        case_id = f"{handle.id}:{handle.result_run_id}"
        case_events = await register.events_for(case_id)
        assert [e.gebeurtenis for e in case_events] == steps
        assert [e.fase for e in case_events] == [0, 1, 2, 3, 3, 4, 4]
        assert len(activities.crashed) == len(case_events)  # every line was retried once, and recorded once
        row = await register.case(case_id)
        assert row is not None and row.afgesloten and row.uitkomst == "terug_op_school"
        counts = await register.count_effects(case_id)
        assert counts.registrations == len(await register.registrations_for(case_id))


async def test_update_out_of_phase_is_refused_naming_the_missing_step(dev_env, register, test_settings):
    async with case_worker(dev_env, register, test_settings) as worker:
        today = amsterdam_date(await dev_env.get_current_time())
        handle = await start(worker.client, pupil(today), worker.task_queue)
        with pytest.raises(WorkflowUpdateFailedError) as refused:
            await update(handle, "route", {"route": "3.2", "door": "school"})
        assert isinstance(refused.value.cause, ApplicationError)
        assert "eerst het oudergesprek" in refused.value.cause.message
        with pytest.raises(WorkflowUpdateFailedError) as bad:
            await update(handle, "oudergesprek", {"deelnemers": "iedereen", "door": "school"})
        assert isinstance(bad.value.cause, ApplicationError)
        assert "deelnemers" in bad.value.cause.message
        s = await handle.query("status", result_type=CaseStatus)
        assert s.fase == 1 and s.afgewezen == []  # a refused update changes nothing, not even afgewezen
        await handle.terminate("test klaar")


async def test_the_effects_of_one_event_are_scheduled_together(dev_env, register, test_settings):
    """The melding's register line, registrations and messages leave in one workflow task and all complete; a
    case that ran them one by one would need a workflow task per effect."""
    async with case_worker(dev_env, register, test_settings) as worker:
        today = amsterdam_date(await dev_env.get_current_time())
        handle = await start(worker.client, pupil(today, fase=0), worker.task_queue)
        await update(handle, "melding", {"gemeld_bij_leerplicht": True, "door": "school"})
        for _ in range(200):
            history = await handle.fetch_history()
            accepted = next(
                e.event_id for e in history.events if e.HasField("workflow_execution_update_accepted_event_attributes")
            )
            scheduled = {
                e.event_id: e.activity_task_scheduled_event_attributes
                for e in history.events
                if e.event_id > accepted
                and e.HasField("activity_task_scheduled_event_attributes")
                and e.activity_task_scheduled_event_attributes.activity_type.name != "verantwoordelijken"  # no effect
            }
            completed = [
                e for e in history.events if e.activity_task_completed_event_attributes.scheduled_event_id in scheduled
            ]
            if scheduled and len(completed) == len(scheduled):
                break
            await asyncio.sleep(0.05)
        names = {a.activity_type.name for a in scheduled.values()}
        assert "berichten" in names
        assert names & {"vastleggen", "uitvoeren"}  # the register line, alone or with the line before it
        assert len(scheduled) >= 3
        assert len({a.workflow_task_completed_event_id for a in scheduled.values()}) == 1
        assert len(completed) == len(scheduled)
        await handle.terminate("test klaar")
