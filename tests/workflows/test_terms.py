"""Every term fires on its day, at its hour, once; never for a closed case; and it moves with the start date.

The terms (``rules.terms``): ``vier_weken`` (phase 0), the warnings at eight and ten weeks, ``twaalf_weken`` (contract
version 2: it opens the twelve-week check; the case escalates only when the check's due date passes undecided, see
``test_procedure_v2``), the reminders ``lba_herinnering``, ``oudergesprek_herinnering`` and ``plan_herinnering``
(working days), and the zorgplicht term of route 3.2 with its one extension. A term whose message goes to the school
(the four weeks, the warnings, the reminders of the oudergesprek and the plan) waits for a school day: not in a
weekend, on a public holiday or in the school holidays of the region (:func:`school_day`, computed here from the
policy's table, independently of ``workflows.terms``).

The cases run on the time-skipping test server with one worker for the module; each test reads the server's clock
first and moves it on with ``time_env.sleep``. A term fires at ``Beleid.termijn_uur`` Amsterdam time on its day: each
test looks one minute before that moment (nothing yet) and one minute after (the term, once), and checks the hour
against the time-zone database, independently of ``workflows.calendar``.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from itertools import pairwise
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import pytest_asyncio
from temporalio.client import WorkflowExecutionStatus, WorkflowHandle
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.case_activities import CaseActivities
from tests.cases import eventually, pupil, start, status_of
from tests.fixtures.postgres import fresh_database
from tests.fixtures.temporal import CaseWorker, case_worker
from thuiszitters.register.store import Register
from thuiszitters.settings import Settings
from workflows import events, policy, rules
from workflows.calendar import add_working_days, amsterdam_date, amsterdam_moment, dutch_public_holidays
from workflows.contract import Aanmelding, CaseStatus, Escalatie, Taak, TijdlijnRegel, Uitkomst
from workflows.policy import DEFAULT_BELEID, Beleid, Vakantie
from workflows.thuiszitter import ThuiszitterWorkflow

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
SYSTEEM = rules.SYSTEEM
HOUR = DEFAULT_BELEID.termijn_uur
DAY = timedelta(days=1)

# What the register's notifications carry per term (sjabloon) and what the timeline calls it when it fires.
SJABLOON = {
    "vier_weken": "vier_weken_thuis",
    "waarschuwing_56": "termijn_waarschuwing",
    "waarschuwing_70": "termijn_waarschuwing",
    "twaalf_weken": "twaalf_weken_check",
    "lba_herinnering": "lba_herinnering",
    "oudergesprek_herinnering": "oudergesprek_herinnering",
    "plan_herinnering": "plan_herinnering",
    "zorgplicht": "zorgplicht_verlopen",
    "zorgplicht_verlengd": "zorgplicht_verlopen",
}
TIMELINE: dict[str, str] = {}  # what a term shows as in the timeline, where that is not its key


def school_day(day: date, regio: str = "Noord", beleid: Beleid = DEFAULT_BELEID) -> date:
    """The day a term for the school falls on: ``day`` itself when the schools are open, else the first school day
    after it (no weekend, public holiday or school holiday of the region)."""
    holidays = beleid.vakanties(regio)
    while day.weekday() >= 5 or day in dutch_public_holidays(day.year) or any(a <= day <= b for a, b in holidays):
        day += DAY
    return day


def reminder_day(task: Taak, regio: str = "Noord") -> date:
    """When an open task's overdue reminder falls: the first working day after its due date (for the school: the
    first school day)."""
    assert task.uiterlijk is not None
    day = add_working_days(task.uiterlijk, 1)
    return school_day(day, regio) if task.rol.value == "school" else day


def in_order(*days: date) -> bool:
    return all(a < b for a, b in pairwise(days))


# ---------------------------------------------------------------------------------------------------- fixtures


@asynccontextmanager
async def own_register(dsn: str) -> AsyncIterator[Register]:
    """A migrated register on a database of its own, dropped afterwards (as the ``register`` fixture, per module)."""
    async with fresh_database(dsn) as database:
        yield database.register


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def worker(
    time_env: WorkflowEnvironment, postgres_dsn: str, test_settings: Settings
) -> AsyncIterator[CaseWorker]:
    async with own_register(postgres_dsn) as register, case_worker(time_env, register, test_settings) as running:
        yield running


@dataclass
class Cases:
    """The cases of one test on the shared worker, and the test server's clock."""

    env: WorkflowEnvironment
    worker: CaseWorker
    handles: list[WorkflowHandle[Any, CaseStatus]] = field(default_factory=list)

    @property
    def register(self) -> Register:
        return self.worker.register

    async def now(self) -> datetime:
        return await self.env.get_current_time()

    async def sleep_until(self, moment: datetime) -> None:
        delta = moment - await self.now()
        assert delta > timedelta(0), f"{moment.isoformat()} has passed already"
        await self.env.sleep(delta)

    async def morning(self, hour: int = 9, where: Callable[[date], bool] = lambda day: True) -> date:
        """Move the clock to ``hour``:00 Amsterdam time on the first day from tomorrow that fits ``where``."""
        day = amsterdam_date(await self.now()) + DAY
        while not where(day):
            day += DAY
        await self.sleep_until(amsterdam_moment(day, hour))
        return day

    async def at(self, day: date, hour: int = 12) -> None:
        await self.sleep_until(amsterdam_moment(day, hour))

    async def start(self, aanmelding: Aanmelding, task_queue: str | None = None) -> WorkflowHandle[Any, CaseStatus]:
        handle = await start(self.worker.client, aanmelding, task_queue or self.worker.task_queue)
        self.handles.append(handle)
        await eventually(lambda: status_of(handle), lambda s: bool(s.tijdlijn))
        return handle

    async def signal(self, handle: WorkflowHandle[Any, Any], name: str, payload: dict[str, Any]) -> CaseStatus:
        """Send an event as other services do (a signal) and wait until the case has taken it."""
        before = len(event_lines(await status_of(handle), name))
        await handle.signal(name, payload)
        return await eventually(lambda: status_of(handle), lambda s: len(event_lines(s, name)) == before + 1)

    async def refused(self, handle: WorkflowHandle[Any, Any], name: str, payload: dict[str, Any]) -> str:
        before = len((await status_of(handle)).afgewezen)
        await handle.signal(name, payload)
        after = await eventually(lambda: status_of(handle), lambda s: len(s.afgewezen) == before + 1)
        return after.afgewezen[-1].reden

    async def recorded(self, handle: WorkflowHandle[Any, Any], sleutel: str) -> list[date]:
        """The days on which the register recorded this term for the case (a line by the case itself)."""
        rows = await self.register.events_for(case_id(handle))
        return [amsterdam_date(row.tijd) for row in rows if row.gebeurtenis == sleutel and row.door == SYSTEEM]

    async def sent(self, handle: WorkflowHandle[Any, Any], sjabloon: str) -> list[str]:
        """The roles that got a notification with this template, sorted (a role twice: sent twice)."""
        rows = await self.register.notifications_for(case_id(handle))
        return sorted(row.rol for row in rows if row.sjabloon == sjabloon)

    async def expect_fires(
        self, handle: WorkflowHandle[Any, Any], sleutel: str, day: date, *, hour: int = HOUR, shown_as: str = ""
    ) -> CaseStatus:
        """The term is not there a minute before ``hour``:00 on ``day`` and is there, once, a minute after."""
        moment = amsterdam_moment(day, hour)
        name = shown_as or TIMELINE.get(sleutel, sleutel)
        await self.sleep_until(moment - timedelta(minutes=1))
        before = await status_of(handle)
        assert system_lines(before, name) == [], f"{sleutel} fired before {moment.isoformat()}"
        assert await self.recorded(handle, sleutel) == []
        await self.sleep_until(moment + timedelta(minutes=1))
        after = await eventually(lambda: status_of(handle), lambda s: len(system_lines(s, name)) == 1)
        (line,) = system_lines(after, name)
        assert moment <= line.tijd < moment + timedelta(minutes=1)
        local = line.tijd.astimezone(AMSTERDAM)
        assert (local.date(), local.hour) == (day, hour)
        # the register line comes after the term's notifications: once it is there, they have been sent
        await eventually(lambda: self.recorded(handle, sleutel), lambda days: days == [day])
        return after

    async def terminate_open(self) -> None:
        """A case left running would hold the test server's clock for every later test: end them all."""
        for handle in self.handles:
            with suppress(Exception):
                if (await handle.describe()).status is WorkflowExecutionStatus.RUNNING:
                    await handle.terminate("einde test")


@pytest.fixture
async def cases(time_env: WorkflowEnvironment, worker: CaseWorker) -> AsyncIterator[Cases]:
    running = Cases(time_env, worker)
    try:
        yield running
    finally:
        await running.terminate_open()


def case_id(handle: WorkflowHandle[Any, Any]) -> str:
    return f"{handle.id}:{handle.result_run_id}"


def term_lines(status: CaseStatus, sleutel: str) -> list[TijdlijnRegel]:
    """Timeline lines the case wrote by itself for this term."""
    return system_lines(status, TIMELINE.get(sleutel, sleutel))


def system_lines(status: CaseStatus, name: str) -> list[TijdlijnRegel]:
    return [line for line in status.tijdlijn if line.gebeurtenis == name and line.door == SYSTEEM]


def event_lines(status: CaseStatus, name: str) -> list[TijdlijnRegel]:
    """Timeline lines of events that people (other services) sent."""
    return [line for line in status.tijdlijn if line.gebeurtenis == name and line.door != SYSTEEM]


def tasks(status: CaseStatus) -> dict[tuple[str, str], date | None]:
    return {(t.rol.value, t.taak): t.uiterlijk for t in status.open_taken}


GESPREK = {"deelnemers": ["school", "ouders", "scp"], "door": "school"}
PLAN = {"in_opp": True, "instemming_ouders": True, "door": "school"}
# Version 2: a place found opens phase 4, and the SCP closes the case after its checks.
CLOSE_RETURNED = [
    ("passende_plek", {"uitkomst": "terug_op_school", "door": "school"}),
    ("afronden", {"toelichting": "terug op school, gecontroleerd", "door": "scp"}),
]
CLOSE_WITHDRAWN = [("intrekken", {"reden": "ten onrechte gemeld", "door": "leerplicht"})]


def four_for_a_while(day: date, days: int = 150, **fields: Any) -> Aanmelding:
    """A pupil of 4 on ``day`` whose fifth birthday lies ``days`` ahead: not leerplichtig during the test."""
    fifth = day + timedelta(days=days)
    return pupil(day, geboortedatum=date(fifth.year - 5, fifth.month, min(fifth.day, 28)), **fields)


async def to_route_32(cases: Cases, handle: WorkflowHandle[Any, Any], *, sector: str = "PO") -> None:
    contact = "scp" if sector == "PO" else "koersloket"
    await cases.signal(handle, "oudergesprek", {**GESPREK, "deelnemers": ["school", "ouders", contact]})
    await cases.signal(handle, "plan_van_aanpak", PLAN)
    await cases.signal(handle, "route", {"route": "3.2", "door": "school"})


# ----------------------------------------------------------------------------------- four weeks (phase 0)


async def test_four_weeks_in_the_voortraject_fires_on_its_day_once(cases):
    day = await cases.morning()
    handle = await cases.start(pupil(day, fase=0))
    term_day = school_day(day + timedelta(days=DEFAULT_BELEID.thuiszitter_na_dagen))
    first = await status_of(handle)
    # the next term: the four weeks, unless a task of the voortraject falls overdue first
    assert {("school", "voortraject_bespreken"), ("scp", "preventie_bespreken")} <= set(tasks(first))
    assert first.volgende_termijn_op == min([term_day, *(reminder_day(t) for t in first.open_taken)])

    after = await cases.expect_fires(handle, "vier_weken", term_day)
    assert ("school", "thuiszitter_melden") in tasks(after)
    assert after.fase == 0
    assert await cases.sent(handle, "vier_weken_thuis") == ["school", "scp"]

    await cases.at(term_day + timedelta(days=21))  # three weeks on: still once
    later = await status_of(handle)
    assert len(term_lines(later, "vier_weken")) == 1
    assert await cases.recorded(handle, "vier_weken") == [term_day]
    assert await cases.sent(handle, "vier_weken_thuis") == ["school", "scp"]


async def test_four_weeks_do_not_fire_once_the_thuiszitter_is_reported(cases):
    day = await cases.morning()
    handle = await cases.start(pupil(day, fase=0))
    await cases.at(day + timedelta(days=10))
    await cases.signal(handle, "melding", {"gemeld_bij_leerplicht": True, "door": "school"})

    await cases.at(day + timedelta(days=DEFAULT_BELEID.thuiszitter_na_dagen + 7))
    s = await status_of(handle)
    assert term_lines(s, "vier_weken") == []
    assert ("school", "thuiszitter_melden") not in tasks(s)
    assert await cases.sent(handle, "vier_weken_thuis") == []


# ------------------------------------------------------------------------------ warnings and twelve weeks


async def test_warnings_at_eight_and_ten_weeks_then_the_check_at_twelve_each_once(cases):
    # a start day whose warnings fall before the twelve weeks, also once moved to a school day
    day = await cases.morning(
        where=lambda d: in_order(school_day(d + 56 * DAY), school_day(d + 70 * DAY), d + 84 * DAY)
    )
    handle = await cases.start(pupil(day))

    eight = await cases.expect_fires(handle, "waarschuwing_56", school_day(day + timedelta(days=56)))
    assert "8 weken" in (term_lines(eight, "waarschuwing_56")[0].toelichting or "")
    assert eight.escalatie is Escalatie.GEEN
    ten = await cases.expect_fires(handle, "waarschuwing_70", school_day(day + timedelta(days=70)))
    assert "10 weken" in (term_lines(ten, "waarschuwing_70")[0].toelichting or "")
    assert await cases.sent(handle, "termijn_waarschuwing") == ["school", "school", "scp", "scp"]

    assert ten.deadline_12_weken == day + timedelta(days=84)
    twelve = await cases.expect_fires(handle, "twaalf_weken", day + timedelta(days=84))
    due = add_working_days(day + timedelta(days=84), DEFAULT_BELEID.check_besluit_werkdagen)
    assert twelve.twaalf_weken_check is not None
    assert (twelve.twaalf_weken_check.stand, twelve.twaalf_weken_check.uiterlijk) == ("open", due)
    assert twelve.escalatie is Escalatie.GEEN  # the term opens a decision; it escalates nothing by itself
    assert tasks(twelve)[("scp", "twaalf_weken_besluit")] == due
    assert await cases.sent(handle, "twaalf_weken_check") == ["scp"]
    assert await cases.sent(handle, "twaalf_weken_check_gemeld") == ["coordinator"]
    assert await cases.register.escalations_for(case_id(handle)) == {}

    await cases.at(day + timedelta(days=84 + 42))  # six more weeks: nothing fires again
    later = await status_of(handle)
    for sleutel in ("waarschuwing_56", "waarschuwing_70", "twaalf_weken"):
        assert len(term_lines(later, sleutel)) == 1, sleutel
        assert len(await cases.recorded(handle, sleutel)) == 1, sleutel
    assert await cases.sent(handle, "termijn_waarschuwing") == ["school", "school", "scp", "scp"]
    assert await cases.sent(handle, "twaalf_weken_check") == ["scp"]
    # meanwhile the check's due date passed undecided: one escalation, by the case (see test_procedure_v2)
    assert [line.door for line in later.tijdlijn if line.gebeurtenis == "opschalen"] == [SYSTEEM]
    assert await cases.sent(handle, "escalatie_coordinator") == ["coordinator"]


async def test_a_warning_moved_past_a_holiday_never_comes_after_the_twelve_weeks_it_warns_of(cases):
    # The ten-week warning goes to the school and waits for a school day; when a holiday runs past the twelve
    # weeks, it would come after the twelve-week check opened: too late to mean anything, it must not come.
    day = await cases.morning()
    holiday = Vakantie(naam="lange vakantie", van=day + timedelta(days=66), tot_en_met=day + timedelta(days=88))
    beleid = DEFAULT_BELEID.model_copy(update={"schoolvakanties": (holiday,)})
    handle = await cases.start(pupil(day, beleid=beleid))
    assert school_day(day + timedelta(days=70), beleid=beleid) > day + timedelta(days=84)

    twelve = await cases.expect_fires(handle, "twaalf_weken", day + timedelta(days=84))
    (opened,) = term_lines(twelve, "twaalf_weken")
    await cases.at(day + timedelta(days=95))
    later = await status_of(handle)
    warned = [line for line in later.tijdlijn if line.gebeurtenis.startswith("waarschuwing")]
    assert [line.gebeurtenis for line in warned if line.tijd > opened.tijd] == [], "a warning after the twelve weeks"


async def test_warnings_are_not_sent_for_a_case_already_escalated(cases):
    day = await cases.morning()
    handle = await cases.start(pupil(day))
    await cases.at(day + timedelta(days=7))
    opschalen = {
        "niveau": "coordinator",
        "reden_code": "partijen_niet_eens",
        "reden": "school en ouders komen er niet uit",
        "door": "scp",
    }
    await cases.signal(handle, "opschalen", opschalen)

    after = await cases.expect_fires(handle, "twaalf_weken", day + timedelta(days=84))
    assert [line.gebeurtenis for line in after.tijdlijn].count("opschalen") == 1  # the SCP's, not a second one
    assert term_lines(after, "waarschuwing_56") == term_lines(after, "waarschuwing_70") == []
    assert await cases.sent(handle, "termijn_waarschuwing") == []
    assert await cases.sent(handle, "escalatie_coordinator") == ["coordinator"]
    assert after.escalatie is Escalatie.COORDINATOR
    # the case is with the coordinator: the twelve-week decision is theirs ("to the Taskforce or not")
    due = add_working_days(day + timedelta(days=84), DEFAULT_BELEID.check_besluit_werkdagen)
    assert tasks(after)[("coordinator", "besluit_taskforce")] == due
    assert ("scp", "twaalf_weken_besluit") not in tasks(after)
    assert await cases.sent(handle, "twaalf_weken_check") == ["coordinator"]
    assert await cases.sent(handle, "twaalf_weken_check_gemeld") == []


# -------------------------------------------------------------------------------- reminders (working days)


async def test_lba_and_oudergesprek_reminders_fall_on_working_days_after_the_melding(cases):
    # A melding on a Monday: five calendar days on is a Saturday; five working days on is the next Monday.
    day = await cases.morning(where=lambda d: d.weekday() == 0)
    handle = await cases.start(pupil(day))
    lba_day = add_working_days(day, DEFAULT_BELEID.lba_herinnering_werkdagen)
    gesprek_day = school_day(add_working_days(day, DEFAULT_BELEID.oudergesprek_herinnering_werkdagen))
    assert lba_day.weekday() < 5 and lba_day > day + timedelta(days=5)
    first = await status_of(handle)
    assert tasks(first)[("leerplicht", "lba_registreren")] == lba_day
    assert tasks(first)[("school", "oudergesprek_organiseren")] == gesprek_day

    lba = await cases.expect_fires(handle, "lba_herinnering", lba_day)
    assert ("scp", "leerplichtmelding_controleren") in tasks(lba)
    assert await cases.sent(handle, "lba_herinnering") == ["scp"]
    gesprek = await cases.expect_fires(handle, "oudergesprek_herinnering", gesprek_day)
    assert gesprek.fase == 1
    assert await cases.sent(handle, "oudergesprek_herinnering") == ["school", "scp"]

    await cases.at(gesprek_day + timedelta(days=14))
    later = await status_of(handle)
    assert len(term_lines(later, "lba_herinnering")) == len(term_lines(later, "oudergesprek_herinnering")) == 1
    assert await cases.sent(handle, "lba_herinnering") == ["scp"]
    assert await cases.sent(handle, "oudergesprek_herinnering") == ["school", "scp"]


def _holiday_within(day: date, working_days: int) -> bool:
    """``day`` is a working day and a public holiday on a weekday lies within the next ``working_days``."""
    end = add_working_days(day, working_days)
    holidays = dutch_public_holidays(day.year) | dutch_public_holidays(day.year + 1)
    return day.weekday() < 5 and day not in holidays and any(day < h <= end and h.weekday() < 5 for h in holidays)


async def test_reminders_skip_a_public_holiday(cases):
    # The next melding day whose five working days span a public holiday (Kerst, Koningsdag, Paasmaandag, ...).
    day = await cases.morning(where=lambda d: _holiday_within(d, DEFAULT_BELEID.lba_herinnering_werkdagen))
    handle = await cases.start(pupil(day))
    lba_day = add_working_days(day, DEFAULT_BELEID.lba_herinnering_werkdagen)
    holidays = dutch_public_holidays(day.year) | dutch_public_holidays(day.year + 1)
    skipped = [day + timedelta(days=i) for i in range(1, (lba_day - day).days) if day + timedelta(days=i) in holidays]
    assert skipped, "the case was chosen so that a holiday lies in between"
    # counted by hand: the weekdays between the melding and the reminder, without the holidays, are four
    between = [day + timedelta(days=i) for i in range(1, (lba_day - day).days)]
    assert len([d for d in between if d.weekday() < 5 and d not in holidays]) == 4

    await cases.expect_fires(handle, "lba_herinnering", lba_day)
    await cases.expect_fires(
        handle,
        "oudergesprek_herinnering",
        school_day(add_working_days(day, DEFAULT_BELEID.oudergesprek_herinnering_werkdagen)),
    )


async def test_no_lba_reminder_once_leerplicht_confirms_nor_for_a_pupil_of_four(cases):
    day = await cases.morning()
    confirmed = await cases.start(pupil(day))
    four = await cases.start(four_for_a_while(day))
    await cases.at(day + DAY)
    await cases.signal(
        confirmed, "leerplicht_registratie", {"lba_geregistreerd_op": day.isoformat(), "door": "leerplicht"}
    )

    lba_day = add_working_days(day, DEFAULT_BELEID.lba_herinnering_werkdagen)
    await cases.at(lba_day + timedelta(days=7))
    for handle in (confirmed, four):
        s = await status_of(handle)
        assert term_lines(s, "lba_herinnering") == []
        assert ("leerplicht", "lba_registreren") not in tasks(s)
        assert await cases.sent(handle, "lba_herinnering") == []
    assert not (await status_of(four)).leerplichtig


async def test_plan_reminder_ten_working_days_after_the_oudergesprek_not_after_the_melding(cases):
    day = await cases.morning()
    handle = await cases.start(pupil(day))
    # the meeting was two working days after the melding; the school reports it three days later
    gesprek_op = add_working_days(day, 2)
    await cases.at(gesprek_op + timedelta(days=3))
    s = await cases.signal(handle, "oudergesprek", {**GESPREK, "datum": gesprek_op.isoformat()})
    plan_day = school_day(add_working_days(gesprek_op, DEFAULT_BELEID.plan_herinnering_werkdagen))
    assert s.fase == 2
    assert tasks(s)[("school", "plan_van_aanpak_opstellen")] == plan_day

    after = await cases.expect_fires(handle, "plan_herinnering", plan_day)
    assert term_lines(after, "oudergesprek_herinnering") == []  # the meeting took place: no reminder for it
    assert await cases.sent(handle, "plan_herinnering") == ["school", "scp"]
    assert await cases.sent(handle, "oudergesprek_herinnering") == []

    await cases.at(plan_day + timedelta(days=14))
    assert len(term_lines(await status_of(handle), "plan_herinnering")) == 1
    assert await cases.sent(handle, "plan_herinnering") == ["school", "scp"]


async def test_plan_reminder_only_while_the_plan_is_not_complete(cases):
    day = await cases.morning()
    complete = await cases.start(pupil(day))
    incomplete = await cases.start(pupil(day))
    for handle in (complete, incomplete):
        await cases.signal(handle, "oudergesprek", GESPREK)
    await cases.signal(complete, "plan_van_aanpak", PLAN)
    await cases.signal(incomplete, "plan_van_aanpak", {**PLAN, "instemming_ouders": False})

    plan_day = school_day(add_working_days(day, DEFAULT_BELEID.plan_herinnering_werkdagen))
    after = await cases.expect_fires(incomplete, "plan_herinnering", plan_day)
    assert after.fase == 2
    assert ("school", "instemming_ouders_vragen") in tasks(after)
    s = await status_of(complete)
    assert s.fase == 3
    assert term_lines(s, "plan_herinnering") == []
    assert await cases.sent(complete, "plan_herinnering") == []


# ------------------------------------------------------------------------------------------ zorgplicht (3.2)


async def test_zorgplicht_term_six_weeks_after_the_aanmelding_at_another_school(cases):
    day = await cases.morning()
    handle = await cases.start(pupil(day, age=13, sector="VO"))
    await to_route_32(cases, handle, sector="VO")
    await cases.at(day + timedelta(days=3))
    s = await cases.signal(handle, "aanmelding_andere_school", {"school_brin": "34CD", "door": "ouders"})
    term_day = day + timedelta(days=3 + DEFAULT_BELEID.zorgplicht_dagen)
    assert tasks(s)[("school", "besluit_ontvangende_school")] == term_day

    await cases.expect_fires(handle, "zorgplicht", term_day)
    assert await cases.sent(handle, "zorgplicht_verlopen") == ["koersloket"]  # VO: no PPO coordinator

    await cases.at(term_day + timedelta(days=35))
    assert len(term_lines(await status_of(handle), "zorgplicht")) == 1
    assert await cases.sent(handle, "zorgplicht_verlopen") == ["koersloket"]


async def test_zorgplicht_extension_moves_the_term_by_four_weeks_once(cases):
    day = await cases.morning()
    handle = await cases.start(pupil(day))
    await to_route_32(cases, handle)
    await cases.signal(handle, "aanmelding_andere_school", {"school_brin": "34CD", "door": "ouders"})
    await cases.at(day + timedelta(days=20))
    s = await cases.signal(handle, "zorgplicht_verlengd", {"door": "school"})
    old_day = day + timedelta(days=DEFAULT_BELEID.zorgplicht_dagen)
    new_day = old_day + timedelta(days=DEFAULT_BELEID.zorgplicht_verlenging_dagen)
    assert tasks(s)[("school", "besluit_ontvangende_school")] == new_day
    # a second extension, asked by another person of the school (the same event twice would change nothing)
    second = {"door": "school", "persoon": "intern-begeleider"}
    assert "maar één keer" in await cases.refused(handle, "zorgplicht_verlengd", second)

    await cases.at(old_day + DAY)  # the old day passes without the term
    passed = await status_of(handle)
    assert term_lines(passed, "zorgplicht") == []
    assert await cases.sent(handle, "zorgplicht_verlopen") == []

    await cases.expect_fires(handle, "zorgplicht_verlengd", new_day)
    assert await cases.sent(handle, "zorgplicht_verlopen") == ["coordinator", "scp"]
    await cases.at(new_day + timedelta(days=28))
    later = await status_of(handle)
    assert len(term_lines(later, "zorgplicht_verlengd")) == 1
    assert term_lines(later, "zorgplicht") == []
    assert await cases.sent(handle, "zorgplicht_verlopen") == ["coordinator", "scp"]


async def test_a_second_school_gets_its_own_zorgplicht_term(cases):
    # The first school let its term pass; the parents apply at the second school the SCP found.
    day = await cases.morning()
    handle = await cases.start(pupil(day))
    await to_route_32(cases, handle)
    await cases.signal(handle, "aanmelding_andere_school", {"school_brin": "34CD", "door": "ouders"})
    first_day = day + timedelta(days=DEFAULT_BELEID.zorgplicht_dagen)
    await cases.expect_fires(handle, "zorgplicht", first_day)

    second_on = first_day + timedelta(days=2)
    await cases.at(second_on)
    s = await cases.signal(handle, "aanmelding_andere_school", {"school_brin": "56EF", "door": "ouders"})
    second_day = second_on + timedelta(days=DEFAULT_BELEID.zorgplicht_dagen)
    assert tasks(s)[("school", "besluit_ontvangende_school")] == second_day

    await cases.at(second_day + DAY)
    s = await status_of(handle)
    lapsed = [
        amsterdam_date(line.tijd) for line in s.tijdlijn if line.door == SYSTEEM and "zorgplicht" in line.gebeurtenis
    ]
    assert lapsed == [first_day, second_day], "the second school's zorgplicht term did not fire"
    rows = await cases.register.events_for(case_id(handle))
    assert [amsterdam_date(r.tijd) for r in rows if r.door == SYSTEEM and "zorgplicht" in r.gebeurtenis] == lapsed
    assert await cases.sent(handle, "zorgplicht_verlopen") == ["coordinator", "coordinator", "scp", "scp"]


# ------------------------------------------------------------------------------ no term for a closed case


@dataclass(frozen=True)
class Pending:
    """A case with one term ahead: how to bring it there, and the term's day counted from the start day."""

    sleutel: str
    prepare: Callable[[Cases, date], Awaitable[WorkflowHandle[Any, CaseStatus]]]
    term_day: Callable[[date], date]


async def _fase0(cases: Cases, day: date) -> WorkflowHandle[Any, CaseStatus]:
    return await cases.start(pupil(day, fase=0))


async def _reported(cases: Cases, day: date) -> WorkflowHandle[Any, CaseStatus]:
    return await cases.start(pupil(day))


async def _only_ten_week_warning(cases: Cases, day: date) -> WorkflowHandle[Any, CaseStatus]:
    return await cases.start(pupil(day, beleid=Beleid(waarschuwingen_dagen=(70,))))


async def _after_gesprek(cases: Cases, day: date) -> WorkflowHandle[Any, CaseStatus]:
    handle = await cases.start(pupil(day))
    await cases.signal(handle, "oudergesprek", GESPREK)
    return handle


async def _applied(cases: Cases, day: date) -> WorkflowHandle[Any, CaseStatus]:
    handle = await cases.start(pupil(day))
    await to_route_32(cases, handle)
    await cases.signal(handle, "aanmelding_andere_school", {"school_brin": "34CD", "door": "ouders"})
    return handle


async def _extended(cases: Cases, day: date) -> WorkflowHandle[Any, CaseStatus]:
    handle = await _applied(cases, day)
    await cases.signal(handle, "zorgplicht_verlengd", {"door": "school"})
    return handle


PENDING = [
    Pending("vier_weken", _fase0, lambda d: school_day(d + timedelta(days=28))),
    Pending("waarschuwing_56", _reported, lambda d: school_day(d + timedelta(days=56))),
    Pending("waarschuwing_70", _only_ten_week_warning, lambda d: school_day(d + timedelta(days=70))),
    Pending("twaalf_weken", _reported, lambda d: d + timedelta(days=84)),
    Pending("lba_herinnering", _reported, lambda d: add_working_days(d, 5)),
    Pending("oudergesprek_herinnering", _reported, lambda d: school_day(add_working_days(d, 10))),
    Pending("plan_herinnering", _after_gesprek, lambda d: school_day(add_working_days(d, 10))),
    Pending("zorgplicht", _applied, lambda d: d + timedelta(days=42)),
    Pending("zorgplicht_verlengd", _extended, lambda d: d + timedelta(days=70)),
]


@pytest.mark.parametrize(
    ("pending", "close"),
    [(p, CLOSE_RETURNED if i % 2 else CLOSE_WITHDRAWN) for i, p in enumerate(PENDING)],
    ids=[p.sleutel for p in PENDING],
)
async def test_a_term_does_not_fire_for_a_case_closed_before_it(cases, pending, close):
    day = await cases.morning()
    closed = await pending.prepare(cases, day)
    control = await pending.prepare(cases, day)  # the same case, left open: there the term fires
    term_day = pending.term_day(day)

    await cases.at(term_day - DAY)
    for name, payload in close:
        await cases.signal(closed, name, payload)
    await eventually(closed.describe, lambda d: d.status is WorkflowExecutionStatus.COMPLETED)
    final: CaseStatus = await closed.result()
    assert final.afgesloten
    assert final.uitkomst is (Uitkomst.INGETROKKEN if close is CLOSE_WITHDRAWN else Uitkomst.TERUG_OP_SCHOOL)

    await cases.at(term_day + timedelta(days=2))
    assert term_lines(await status_of(closed), pending.sleutel) == []
    assert await cases.recorded(closed, pending.sleutel) == []
    assert await cases.sent(closed, SJABLOON[pending.sleutel]) == []
    row = await cases.register.case(case_id(closed))
    assert row is not None and row.afgesloten

    fired = await eventually(lambda: cases.recorded(control, pending.sleutel), lambda days: days == [term_day])
    assert fired == [term_day]
    assert len(term_lines(await status_of(control), pending.sleutel)) == 1
    assert await cases.sent(control, SJABLOON[pending.sleutel]) != []


# ----------------------------------------------------------------------------- correcting the start date


async def test_correction_to_an_earlier_date_past_twelve_weeks_opens_the_check_at_once(cases):
    day = await cases.morning()
    handle = await cases.start(pupil(day))
    formal = day - timedelta(days=90)
    s = await cases.signal(
        handle,
        "startdatum_correctie",
        {"startdatum": formal.isoformat(), "reden": "LBA: eerste dag van niet verschijnen", "door": "leerplicht"},
    )
    corrected_at = event_lines(s, "startdatum_correctie")[0].tijd

    after = await eventually(lambda: status_of(handle), lambda x: x.twaalf_weken_check is not None)
    (opened,) = term_lines(after, "twaalf_weken")
    assert opened.tijd - corrected_at < timedelta(minutes=1)
    assert after.deadline_12_weken == formal + timedelta(days=84)
    assert after.weken_thuis == 90 // 7
    due = add_working_days(formal + timedelta(days=84), DEFAULT_BELEID.check_besluit_werkdagen)
    assert due >= day, "the check's due date still lies ahead"
    assert tasks(after)[("scp", "twaalf_weken_besluit")] == due
    assert after.escalatie is Escalatie.GEEN
    await eventually(lambda: cases.recorded(handle, "twaalf_weken"), lambda days: days == [day])
    assert await cases.register.escalations_for(case_id(handle)) == {}
    await eventually(lambda: cases.sent(handle, "twaalf_weken_check"), lambda roles: roles == ["scp"])
    assert await cases.sent(handle, "twaalf_weken_check_gemeld") == ["coordinator"]
    # the eight- and ten-week warnings lie in the past too: they no longer mean anything
    assert term_lines(after, "waarschuwing_56") == term_lines(after, "waarschuwing_70") == []
    assert await cases.sent(handle, "termijn_waarschuwing") == []
    assert await cases.sent(handle, "startdatum_gecorrigeerd") == ["school", "scp"]

    # the reminders hang on the melding, not on the start date: they stay where they were
    await cases.expect_fires(handle, "lba_herinnering", add_working_days(day, DEFAULT_BELEID.lba_herinnering_werkdagen))
    assert len(term_lines(await status_of(handle), "twaalf_weken")) == 1


async def test_correction_to_a_date_past_the_checks_due_date_escalates_at_once(cases):
    # Every date hangs on the start date: corrected back so far that the check's due date has passed too, the
    # check opens and, undecided, goes to the coordinator at once (PO).
    day = await cases.morning()
    handle = await cases.start(pupil(day))
    formal = day - timedelta(days=120)
    assert add_working_days(formal + timedelta(days=84), DEFAULT_BELEID.check_besluit_werkdagen) < day
    s = await cases.signal(
        handle, "startdatum_correctie", {"startdatum": formal.isoformat(), "reden": "LBA", "door": "leerplicht"}
    )
    corrected_at = event_lines(s, "startdatum_correctie")[0].tijd

    after = await eventually(lambda: status_of(handle), lambda x: x.escalatie is Escalatie.COORDINATOR)
    (opened,) = term_lines(after, "twaalf_weken")
    (escalation,) = [line for line in after.tijdlijn if line.gebeurtenis == "opschalen"]
    assert escalation.door == SYSTEEM
    assert opened.tijd - corrected_at < timedelta(minutes=1) and escalation.tijd - corrected_at < timedelta(minutes=1)
    assert after.twaalf_weken_check is not None and after.twaalf_weken_check.stand == "opgeschaald"
    assert ("coordinator", "besluit_taskforce") in tasks(after)
    escalations = await eventually(
        lambda: cases.register.escalations_for(case_id(handle)), lambda found: list(found) == ["coordinator"]
    )
    assert amsterdam_date(escalations["coordinator"]) == day
    await eventually(lambda: cases.sent(handle, "escalatie_coordinator"), lambda roles: roles == ["coordinator"])
    assert await cases.sent(handle, "termijn_waarschuwing") == []


def _forward_in_order(day: date) -> bool:
    """Corrected back two weeks: the terms of the new start date, moved to school days, still come in order, after
    today."""
    formal = day - timedelta(days=14)
    days = [school_day(formal + timedelta(days=n)) for n in (28, 56, 70)]
    return days[0] > day and in_order(*days, formal + timedelta(days=84))


async def test_correction_to_an_earlier_date_brings_every_start_date_term_forward(cases):
    day = await cases.morning(where=_forward_in_order)
    handle = await cases.start(pupil(day, fase=0))
    formal = day - timedelta(days=14)
    s = await cases.signal(
        handle, "startdatum_correctie", {"startdatum": formal.isoformat(), "reden": "LBA", "door": "leerplicht"}
    )
    assert s.startdatum == formal
    assert s.deadline_12_weken == formal + timedelta(days=84)

    await cases.expect_fires(handle, "vier_weken", school_day(formal + timedelta(days=28)))
    await cases.expect_fires(handle, "waarschuwing_56", school_day(formal + timedelta(days=56)))
    await cases.expect_fires(handle, "waarschuwing_70", school_day(formal + timedelta(days=70)))
    after = await cases.expect_fires(handle, "twaalf_weken", formal + timedelta(days=84))
    assert after.twaalf_weken_check is not None and after.twaalf_weken_check.stand == "open"

    await cases.at(day + timedelta(days=84 + 7))  # the days of the old start date pass: nothing fires again
    later = await status_of(handle)
    for sleutel in ("vier_weken", "waarschuwing_56", "waarschuwing_70", "twaalf_weken"):
        assert len(term_lines(later, sleutel)) == 1, sleutel
    assert await cases.sent(handle, "twaalf_weken_check") == ["scp"]


def _later_in_order(day: date) -> bool:
    """Reported three weeks back, corrected to one week back: each term's old day (moved to a school day) comes
    before its new day, and after the new day of the term before it."""
    reported, formal = day - timedelta(days=21), day - timedelta(days=7)
    moments: list[tuple[date, int]] = []
    for days in (28, 56, 70):
        old, new = school_day(reported + timedelta(days=days)), school_day(formal + timedelta(days=days))
        moments += [(old, HOUR + 2), (new, HOUR)]
    moments += [(reported + timedelta(days=84), HOUR + 2), (formal + timedelta(days=84), HOUR)]
    return moments[0][0] > day and in_order(*(amsterdam_moment(d, h) for d, h in moments))


async def test_correction_to_a_later_date_lets_the_old_days_pass_and_fires_on_the_new_ones(cases):
    day = await cases.morning(where=_later_in_order)
    reported = day - timedelta(days=21)
    handle = await cases.start(pupil(reported, fase=0))
    formal = day - timedelta(days=7)
    s = await cases.signal(
        handle, "startdatum_correctie", {"startdatum": formal.isoformat(), "reden": "LBA", "door": "leerplicht"}
    )
    # the next term: the four weeks from the new date, unless a task of the voortraject falls overdue first
    assert s.volgende_termijn_op == min([school_day(formal + timedelta(days=28)), *map(reminder_day, s.open_taken)])

    for sleutel, days in (("vier_weken", 28), ("waarschuwing_56", 56), ("waarschuwing_70", 70), ("twaalf_weken", 84)):
        old_day, new_day = reported + timedelta(days=days), formal + timedelta(days=days)
        if sleutel != "twaalf_weken":
            old_day, new_day = school_day(old_day), school_day(new_day)
        await cases.at(old_day, hour=HOUR + 2)
        assert term_lines(await status_of(handle), sleutel) == [], f"{sleutel} fired on the old day"
        await cases.expect_fires(handle, sleutel, new_day)

    checked = await status_of(handle)
    assert checked.twaalf_weken_check is not None and checked.twaalf_weken_check.stand == "open"
    assert checked.escalatie is Escalatie.GEEN
    assert await cases.recorded(handle, "twaalf_weken") == [formal + timedelta(days=84)]


# ---------------------------------------------------------------------------------------------------- policy

SHORT = Beleid(
    thuiszitter_na_dagen=3,
    escalatie_termijn_dagen=14,
    waarschuwingen_dagen=(7, 10),
    lba_herinnering_werkdagen=1,
    oudergesprek_herinnering_werkdagen=2,
    plan_herinnering_werkdagen=2,
    zorgplicht_dagen=5,
    zorgplicht_verlenging_dagen=3,
    termijn_uur=10,
)


def _short_terms_in_order(day: date) -> bool:
    return in_order(*(school_day(day + timedelta(days=n), beleid=SHORT) for n in (3, 7, 10)), day + timedelta(days=14))


async def test_a_case_runs_its_own_policy_at_its_own_hour(cases):
    day = await cases.morning(hour=11, where=_short_terms_in_order)
    short = await cases.start(pupil(day, fase=0, beleid=SHORT))
    default = await cases.start(pupil(day, fase=0))
    for sleutel, days in (("vier_weken", 3), ("waarschuwing_7", 7), ("waarschuwing_10", 10)):
        on = school_day(day + timedelta(days=days), beleid=SHORT)
        await cases.expect_fires(short, sleutel, on, hour=SHORT.termijn_uur)
    checked = await cases.expect_fires(short, "twaalf_weken", day + timedelta(days=14), hour=SHORT.termijn_uur)
    assert checked.deadline_12_weken == day + timedelta(days=14)
    assert checked.twaalf_weken_check is not None and checked.twaalf_weken_check.stand == "open"

    s = await status_of(default)  # the case next to it, on the default policy, has seen none of this
    assert s.escalatie is Escalatie.GEEN and s.deadline_12_weken == day + timedelta(days=84)
    assert [line.gebeurtenis for line in s.tijdlijn if line.door == SYSTEEM] == []


@asynccontextmanager
async def worker_on(cases: Cases, task_queue: str, **options: Any) -> AsyncIterator[None]:
    activities = CaseActivities(cases.worker.settings, cases.register)
    async with Worker(
        cases.worker.client,
        task_queue=task_queue,
        workflows=[ThuiszitterWorkflow],
        activities=activities.all(),
        **options,
    ):
        yield


async def idle(handle: WorkflowHandle[Any, Any]) -> None:
    """The case waits for its next term: no activity or workflow task is in flight."""

    async def probe() -> bool:
        raw = (await handle.describe()).raw_description
        return not raw.pending_activities and not raw.HasField("pending_workflow_task")

    await eventually(probe, bool)


async def test_a_case_keeps_its_own_policy_when_its_history_is_replayed(cases):
    # A worker without a cache replays the case from its whole history at every step, as a restarted worker does.
    task_queue = f"policy-{uuid.uuid4().hex[:8]}"
    async with worker_on(cases, task_queue, max_cached_workflows=0):
        day = await cases.morning()
        handle = await cases.start(pupil(day, beleid=SHORT), task_queue)
        after = await cases.expect_fires(handle, "twaalf_weken", day + timedelta(days=14), hour=SHORT.termijn_uur)
        assert after.deadline_12_weken == day + timedelta(days=14)


async def test_a_running_case_keeps_the_default_policy_it_started_with_when_a_release_changes_it(cases, monkeypatch):
    # A worker without a cache replays the case from its whole history at every step, as a restarted worker does.
    task_queue = f"policy-{uuid.uuid4().hex[:8]}"
    async with worker_on(cases, task_queue, max_cached_workflows=0):
        day = await cases.morning()
        running = await cases.start(pupil(day), task_queue)  # no policy of its own: the release's default
        assert (await status_of(running)).deadline_12_weken == day + timedelta(days=84)
        await idle(running)

        # a new release shortens the default escalation term; the running case is replayed by the new code
        shorter = Beleid(escalatie_termijn_dagen=14, waarschuwingen_dagen=(7,))
        monkeypatch.setattr(policy, "DEFAULT_BELEID", shorter)
        monkeypatch.setattr(events, "DEFAULT_BELEID", shorter)  # where open_case reads it
        newer = await cases.start(pupil(day), task_queue)
        await cases.expect_fires(newer, "twaalf_weken", day + timedelta(days=14))
        s = await status_of(running)
        assert s.deadline_12_weken == day + timedelta(days=84), "the running case took the new default term"
        assert s.escalatie is Escalatie.GEEN
        assert term_lines(s, "waarschuwing_7") == []


# ------------------------------------------------------------------- reminders on working days, pure level


def _opened(melding_op: date) -> rules.CaseState:
    return rules.open_case(pupil(melding_op), case_id="c", workflow_id="w", now=amsterdam_moment(melding_op, 9))


def _terms_of(state: rules.CaseState) -> dict[str, date]:
    return {t.sleutel: t.op for t in rules.terms(state)}


@pytest.mark.parametrize(
    ("melding_op", "lba", "gesprek"),
    [
        ("2026-11-16", "2026-11-23", "2026-11-30"),  # Monday: five days on is a Saturday
        ("2026-11-17", "2026-11-24", "2026-12-01"),  # Tuesday: five days on is a Sunday
        ("2026-04-20", "2026-04-28", "2026-05-06"),  # Koningsdag Monday 27 April, 5 mei
        ("2027-04-20", "2027-04-28", "2027-05-07"),  # Koningsdag Tuesday 27 April, 5 mei, Hemelvaart 6 mei
        ("2027-03-22", "2027-03-30", "2027-04-06"),  # Paasmaandag 29 March
        ("2026-03-30", "2026-04-07", "2026-04-14"),  # Goede Vrijdag counts, Paasmaandag 6 April does not
        ("2025-04-21", "2025-04-28", "2025-05-06"),  # melding on Paasmaandag; Koningsdag on Saturday 26 April; 5 mei
        ("2026-12-21", "2026-12-29", "2027-01-06"),  # Kerst and Nieuwjaarsdag
    ],
)
def test_reminder_days_skip_weekends_and_holidays(melding_op, lba, gesprek):
    ahead = _terms_of(_opened(date.fromisoformat(melding_op)))
    assert ahead["lba_herinnering"] == date.fromisoformat(lba)
    assert ahead["oudergesprek_herinnering"] == date.fromisoformat(gesprek)


def test_plan_reminder_day_skips_kerst_and_nieuwjaarsdag():
    state = _opened(date(2026, 12, 14))
    gesprek = rules.parse("oudergesprek", GESPREK)
    state = rules.apply(state, "oudergesprek", gesprek, amsterdam_moment(date(2026, 12, 22), 14))
    assert _terms_of(state)["plan_herinnering"] == date(2027, 1, 7)


@pytest.mark.parametrize(("started", "formal"), [(0, -20), (-30, -10)], ids=["earlier", "later"])
def test_a_start_date_correction_moves_every_start_date_term_at_the_pure_level(started, formal):
    today = date(2026, 11, 16)
    state = rules.open_case(
        pupil(today + timedelta(days=started), fase=0), case_id="c", workflow_id="w", now=amsterdam_moment(today, 9)
    )
    before = _terms_of(state)
    correctie = {"startdatum": (today + timedelta(days=formal)).isoformat(), "reden": "LBA", "door": "leerplicht"}
    event = rules.parse("startdatum_correctie", correctie)
    after = _terms_of(rules.apply(state, "startdatum_correctie", event, amsterdam_moment(today, 10)))
    for sleutel, days in (("vier_weken", 28), ("waarschuwing_56", 56), ("waarschuwing_70", 70), ("twaalf_weken", 84)):
        for terms_, offset in ((before, started), (after, formal)):
            on = today + timedelta(days=offset + days)
            assert terms_[sleutel] == (on if sleutel == "twaalf_weken" else school_day(on)), sleutel
