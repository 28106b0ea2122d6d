"""A case that runs for two years keeps a short history: it continues as new, and nothing is lost or done twice.

Two years of simulated time on the time-skipping server, with a progress report (``voortgang``) every week and the
procedure's steps in between: the twelve-week check, left undecided, so that the case escalates to the coordinator
when its due date passes; route 3.2, whose tasks (finding a school, applying) go overdue; and, near the end, an
application at another school whose zorgplicht term is still ahead when the two years are over. The case's own
policy (a longer zorgplicht term and another hour for its terms) must come through every run.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta
from typing import Any

from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowHandle

from tests.cases import eventually, pupil, start, status_of
from tests.fixtures.temporal import case_worker
from workflows.calendar import add_working_days, amsterdam_date, amsterdam_moment
from workflows.contract import CaseStatus, Escalatie
from workflows.policy import Beleid
from workflows.thuiszitter import CONTINUE_AS_NEW_AFTER_EVENTS

WEEKS = 104
APPLIED_IN_WEEK = 100
POLICY = Beleid(zorgplicht_dagen=49, termijn_uur=8)
SYSTEEM = "systeem"
ONE_STEP = 50  # events of one step: a signal with its workflow task (4), four activities with theirs (4 x 6), a timer


async def runs_of(client: Client, workflow_id: str, first_run_id: str) -> list[tuple[str, int]]:
    """Every run of the case, oldest first, with the number of events in its history."""
    runs: list[tuple[str, int]] = []
    run_id: str | None = first_run_id
    while run_id is not None:
        history = [e async for e in client.get_workflow_handle(workflow_id, run_id=run_id).fetch_history_events()]
        runs.append((run_id, len(history)))
        last = history[-1]
        run_id = (
            last.workflow_execution_continued_as_new_event_attributes.new_execution_run_id
            if last.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW
            else None
        )
    return runs


async def send(handle: WorkflowHandle[Any, Any], name: str, payload: dict[str, Any]) -> CaseStatus:
    before = sum(1 for line in (await status_of(handle)).tijdlijn if line.gebeurtenis == name)
    await handle.signal(name, payload)
    return await eventually(
        lambda: status_of(handle),
        lambda s: sum(1 for line in s.tijdlijn if line.gebeurtenis == name) == before + 1,
    )


async def test_a_two_year_case_continues_as_new_and_keeps_everything(time_env, register, test_settings):
    async with case_worker(time_env, register, test_settings) as worker:
        day = amsterdam_date(await time_env.get_current_time()) + timedelta(days=1)
        await time_env.sleep(amsterdam_moment(day, 9) - await time_env.get_current_time())
        handle = await start(worker.client, pupil(day, beleid=POLICY), worker.task_queue)
        case_id = f"{handle.id}:{handle.result_run_id}"
        try:
            overdue = await _two_years(time_env, handle, day)
            applied_on = day + timedelta(weeks=APPLIED_IN_WEEK)
            term_day = applied_on + timedelta(days=POLICY.zorgplicht_dagen)

            # --- the history was continued as new, each run short
            assert handle.result_run_id is not None
            runs = await runs_of(worker.client, handle.id, handle.result_run_id)
            assert len(runs) >= 2, f"two years in one history of {runs[0][1]} events"
            lengths = [length for _, length in runs]
            # a run continues at its first quiet moment once it reached the bound: what one step (a signal and its
            # four activities, or a timer) adds, and the continuation itself, may come on top
            assert max(lengths) < CONTINUE_AS_NEW_AFTER_EVENTS + ONE_STEP, lengths
            assert all(length >= CONTINUE_AS_NEW_AFTER_EVENTS for length in lengths[:-1]), lengths

            # --- the status is whole: every event of the two years, the escalation, the open tasks, the next term
            s = await status_of(handle)
            expected = Counter(
                {
                    "melding": 1,
                    "leerplicht_registratie": 1,
                    "oudergesprek": 1,
                    "taak_afgerond": 1,
                    "plan_van_aanpak": 1,
                    "route": 1,
                    "voortgang": WEEKS,
                    "waarschuwing_56": 1,
                    "waarschuwing_70": 1,
                    "twaalf_weken": 1,  # the check opens ...
                    "opschalen": 1,  # ... and, undecided, escalates when its due date passes
                    "aanmelding_andere_school": 1,
                    # the tasks of route 3.2 went overdue (each reminded once) until the application in week 100
                    **{f"te_laat_{taak_id}": 1 for taak_id in overdue},
                }
            )
            assert Counter(line.gebeurtenis for line in s.tijdlijn) == expected
            assert len(s.tijdlijn) == sum(expected.values())
            assert [line.tijd for line in s.tijdlijn] == sorted(line.tijd for line in s.tijdlijn)
            (escalation,) = [line for line in s.tijdlijn if line.gebeurtenis == "opschalen"]
            check_due = add_working_days(day + timedelta(days=84), 10)
            assert escalation.door == SYSTEEM and amsterdam_date(escalation.tijd) == add_working_days(check_due, 1)
            assert s.escalatie is Escalatie.COORDINATOR
            assert (s.fase, s.route) == (3, "3.2")
            assert s.weken_thuis == WEEKS
            # the next term: the weekly report falls due (it stopped with the two years), before the zorgplicht term
            report = next(t for t in s.open_taken if t.taak == "voortgang_melden")
            assert report.uiterlijk is not None and report.uiterlijk < term_day
            assert s.volgende_termijn == f"taak {report.id} te laat" and s.volgende_termijn_op is not None
            assert report.uiterlijk < s.volgende_termijn_op < term_day
            open_tasks = {(t.rol.value, t.taak): t.uiterlijk for t in s.open_taken}
            assert open_tasks[("school", "besluit_ontvangende_school")] == term_day
            assert ("coordinator", "besluit_taskforce") in open_tasks
            assert ("school", "voortgang_melden") in open_tasks

            # --- the register has every event exactly once, numbered without gaps, under the first run's case id
            rows = await eventually(lambda: register.events_for(case_id), lambda rows: len(rows) >= len(s.tijdlijn))
            assert [row.volgnummer for row in rows] == list(range(1, len(s.tijdlijn) + 1))
            recorded = Counter(row.gebeurtenis for row in rows)
            assert recorded["voortgang"] == WEEKS
            assert recorded["twaalf_weken"] == recorded["waarschuwing_56"] == recorded["waarschuwing_70"] == 1
            assert all(recorded[f"te_laat_{taak_id}"] == 1 for taak_id in overdue)
            assert recorded["aanmelding"] == recorded["aanmelding_andere_school"] == 1
            notifications = await register.notifications_for(case_id)
            # the school's progress goes to the parents, the SCP and Leerplicht
            progress = Counter(n.rol for n in notifications if n.sjabloon == "voortgang")
            assert progress == {"ouders": WEEKS, "scp": WEEKS, "leerplicht": WEEKS}
            assert len({n.sleutel for n in notifications}) == len(notifications)
            row = await register.case(case_id)
            assert row is not None
            assert (row.laatste_volgnummer, row.escalatie, row.fase) == (len(rows), "coordinator", 3)
            open_in_register = {(t.rol, t.taak): t.uiterlijk for t in await register.tasks_for(case_id)}
            assert open_in_register == open_tasks

            # --- the term that was open when the history was continued fires in the new run, at the case's hour
            moment = amsterdam_moment(term_day, POLICY.termijn_uur)
            await time_env.sleep(moment - timedelta(minutes=1) - await time_env.get_current_time())
            assert "zorgplicht" not in {line.gebeurtenis for line in (await status_of(handle)).tijdlijn}
            await time_env.sleep(timedelta(minutes=2))
            fired = await eventually(
                lambda: status_of(handle), lambda x: any(line.gebeurtenis == "zorgplicht" for line in x.tijdlijn)
            )
            (lapsed,) = [line for line in fired.tijdlijn if line.gebeurtenis == "zorgplicht"]
            assert moment <= lapsed.tijd < moment + timedelta(minutes=1)
            await eventually(
                lambda: register.notifications_for(case_id),
                lambda rows: (
                    sorted(n.rol for n in rows if n.sjabloon == "zorgplicht_verlopen") == ["coordinator", "scp"]
                ),
            )
        finally:
            await handle.terminate("einde test")


async def _two_years(time_env: Any, handle: WorkflowHandle[Any, Any], day: date) -> list[str]:
    """A weekly progress report for two years, with the procedure's steps on their weeks. Returns the ids of the
    tasks that go overdue: finding a school and applying there, open from the choice of route 3.2 in week 2 until
    the application in week 100."""
    await send(handle, "leerplicht_registratie", {"lba_geregistreerd_op": day.isoformat(), "door": "leerplicht"})
    s = await send(handle, "oudergesprek", {"deelnemers": ["school", "ouders", "scp"], "door": "school"})
    # the SCP checks the Kindkans hulpvraag the system made, and says so
    (hulpvraag,) = [t for t in s.open_taken if t.taak == "hulpvraag_controleren"]
    s = await send(handle, "taak_afgerond", {"taak_id": hulpvraag.id, "toelichting": "formulier klopt", "door": "scp"})
    assert hulpvraag.id not in {t.id for t in s.open_taken}
    overdue: list[str] = []
    steps: dict[int, tuple[str, dict[str, Any]]] = {
        1: ("plan_van_aanpak", {"in_opp": True, "instemming_ouders": True, "door": "school"}),
        2: ("route", {"route": "3.2", "door": "school"}),
        APPLIED_IN_WEEK: ("aanmelding_andere_school", {"school_brin": "34CD", "door": "ouders"}),
    }
    for week in range(1, WEEKS + 1):
        target = amsterdam_moment(day + timedelta(weeks=week), 12)
        await time_env.sleep(target - await time_env.get_current_time())
        if week in steps:
            s = await send(handle, *steps[week])
            if steps[week][0] == "route":
                overdue = [
                    t.id
                    for t in s.open_taken
                    if t.taak in ("passende_school_zoeken", "schriftelijk_aanmelden") and t.id
                ]
                assert len(overdue) == 2
        await send(handle, "voortgang", {"toelichting": f"week {week}: contact met de ouders", "door": "school"})
    return overdue
