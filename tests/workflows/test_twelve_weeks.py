"""The twelve-week term on the time-skipping server: escalation to the coordinator on its day, once."""

from __future__ import annotations

from datetime import timedelta

from tests.cases import eventually, pupil, start, status_of
from tests.fixtures.temporal import case_worker
from workflows.calendar import amsterdam_date, amsterdam_moment
from workflows.contract import Escalatie


async def test_case_without_place_is_escalated_exactly_at_twelve_weeks(time_env, register, test_settings):
    async with case_worker(time_env, register, test_settings) as worker:
        now = await time_env.get_current_time()
        today = amsterdam_date(now)
        handle = await start(worker.client, pupil(today), worker.task_queue)
        term_day = today + timedelta(weeks=12)
        fires_at = amsterdam_moment(term_day, _term_hour())

        await time_env.sleep(fires_at - now - timedelta(hours=2))
        before = await status_of(handle)
        assert before.escalatie is Escalatie.GEEN
        assert before.deadline_12_weken == term_day
        assert before.weken_thuis == 12  # the day has begun; the term fires at the start of working hours

        await time_env.sleep(timedelta(hours=3))
        after = await eventually(lambda: status_of(handle), lambda s: s.escalatie is Escalatie.COORDINATOR)
        escalation = [regel for regel in after.tijdlijn if regel.gebeurtenis == "opschalen"]
        assert len(escalation) == 1
        assert amsterdam_date(escalation[0].tijd) == term_day
        assert escalation[0].door == "systeem"
        assert any(t.rol.value == "coordinator" and t.taak == "besluit_taskforce" for t in after.open_taken)

        # a further month passes: the term does not fire again
        await time_env.sleep(timedelta(weeks=4))
        later = await status_of(handle)
        assert [r.gebeurtenis for r in later.tijdlijn].count("opschalen") == 1
        escalations = await register.escalations_for(f"{handle.id}:{handle.result_run_id}")
        assert list(escalations) == ["coordinator"]
        await handle.terminate("test klaar")  # a running case without a worker would hold the shared clock


def _term_hour() -> int:
    from workflows.policy import DEFAULT_BELEID

    return DEFAULT_BELEID.termijn_uur
