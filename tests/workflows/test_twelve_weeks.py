"""The twelve-week term on the time-skipping server (version 2): it opens the twelve-week check on its day, once, and
escalates nothing by itself. The party that may escalate gets the decision (the SCP in PO, the Koersloket in VO), due
ten working days later; what happens when that passes undecided is in ``test_procedure_v2`` (PO) and below (VO)."""

from __future__ import annotations

from datetime import timedelta

from tests.cases import end_when_idle, eventually, pupil, start, status_of, task
from tests.fixtures.temporal import case_worker
from workflows.calendar import add_working_days, amsterdam_date, amsterdam_moment
from workflows.contract import CaseStatus, Escalatie
from workflows.policy import DEFAULT_BELEID

HOUR = DEFAULT_BELEID.termijn_uur


def check_lines(status: CaseStatus) -> list[str]:
    return [r.gebeurtenis for r in status.tijdlijn if r.door == "systeem" and r.gebeurtenis == "twaalf_weken"]


async def test_twelve_weeks_open_the_check_for_the_scp_exactly_on_the_day_without_escalating(
    time_env, register, test_settings
):
    async with case_worker(time_env, register, test_settings) as worker:
        now = await time_env.get_current_time()
        today = amsterdam_date(now)
        handle = await start(worker.client, pupil(today, sector="PO", regio="Zuid"), worker.task_queue)
        term_day = today + timedelta(weeks=12)
        fires_at = amsterdam_moment(term_day, HOUR)

        await time_env.sleep(fires_at - now - timedelta(hours=2))
        before = await status_of(handle)
        assert before.deadline_12_weken == term_day
        assert before.weken_thuis == 12  # the day has begun; the term fires at the start of working hours
        assert before.twaalf_weken_check is None and check_lines(before) == []

        await time_env.sleep(timedelta(hours=3))
        after = await eventually(lambda: status_of(handle), lambda s: s.twaalf_weken_check is not None)
        due = add_working_days(term_day, 10)
        assert after.twaalf_weken_check is not None
        assert (after.twaalf_weken_check.stand, after.twaalf_weken_check.uiterlijk) == ("open", due)
        assert after.escalatie is Escalatie.GEEN  # version 2: the term opens a decision, it does not escalate
        decision = task(after, "twaalf_weken_besluit")
        assert (decision.rol.value, decision.uiterlijk, decision.te_laat) == ("scp", due, False)
        (line,) = [r for r in after.tijdlijn if r.gebeurtenis == "twaalf_weken"]
        assert line.door == "systeem" and amsterdam_date(line.tijd) == term_day
        assert "opschalen" not in [r.gebeurtenis for r in after.tijdlijn]

        case_id = f"{handle.id}:{handle.result_run_id}"
        sent = await eventually(
            lambda: register.notifications_for(case_id),
            lambda rows: {"twaalf_weken_check", "twaalf_weken_check_gemeld"} <= {r.sjabloon for r in rows},
        )
        assert sorted((r.rol, r.sjabloon) for r in sent if r.sjabloon.startswith("twaalf_weken")) == [
            ("coordinator", "twaalf_weken_check_gemeld"),  # the PO coordinator of the region is told
            ("scp", "twaalf_weken_check"),
        ]

        # a week on, before the due date: the check is still open and has not come again
        await time_env.sleep(timedelta(weeks=1))
        later = await status_of(handle)
        assert later.twaalf_weken_check is not None and later.twaalf_weken_check.stand == "open"
        assert len(check_lines(later)) == 1 and later.escalatie is Escalatie.GEEN
        assert await register.escalations_for(case_id) == {}
        await end_when_idle(handle)  # a running case without a worker would hold the shared clock


async def test_an_undecided_vo_check_goes_to_the_kerngroep_list_and_never_to_a_coordinator(
    time_env, register, test_settings
):
    async with case_worker(time_env, register, test_settings) as worker:
        now = await time_env.get_current_time()
        today = amsterdam_date(now)
        handle = await start(worker.client, pupil(today, age=14, sector="VO"), worker.task_queue)
        term_day = today + timedelta(weeks=12)
        due = add_working_days(term_day, 10)

        await time_env.sleep(amsterdam_moment(term_day, HOUR) + timedelta(hours=1) - now)
        opened = await eventually(lambda: status_of(handle), lambda s: s.twaalf_weken_check is not None)
        assert task(opened, "twaalf_weken_besluit").rol.value == "koersloket"
        assert opened.twaalf_weken_check is not None and opened.twaalf_weken_check.uiterlijk == due

        passes_at = amsterdam_moment(add_working_days(due, 1), HOUR)
        await time_env.sleep(passes_at - await time_env.get_current_time() - timedelta(hours=1))
        assert not (await status_of(handle)).op_kerngroep_lijst
        await time_env.sleep(timedelta(hours=2))
        listed = await eventually(lambda: status_of(handle), lambda s: s.op_kerngroep_lijst)
        assert listed.escalatie is Escalatie.GEEN  # VO never goes to a coordinator
        assert task(listed, "twaalf_weken_besluit").te_laat  # still the Koersloket's decision, now overdue
        case_id = f"{handle.id}:{handle.result_run_id}"
        sent = await eventually(
            lambda: register.notifications_for(case_id),
            lambda rows: any(r.sjabloon == "twaalf_weken_check_verlopen" for r in rows),
        )
        assert sorted(r.rol for r in sent if r.sjabloon == "twaalf_weken_check_verlopen") == ["koersloket", "taskforce"]
        assert "coordinator" not in {r.rol for r in sent}
        assert await register.escalations_for(case_id) == {}
        await end_when_idle(handle)
