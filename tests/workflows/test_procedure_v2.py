"""The acceptance points of version 2 of the procedure (issue 16), each on a real server with a real worker and the
real case register.

- A PO case through phase 4: the place is found, the old school deregisters, the SCP checks and closes (`afronden`).
- A VO case through the Koersloket to the Taskforce, with its Kerngroep meeting (`kerngroep_bespreking_op`).
- The twelve-week check answered with a `beoordeling` comes back on its date (time-skipping).
- An undecided PO check escalates to the coordinator when its due date passes (time-skipping).
- A pupil of 4 becomes leerplichtig on the first school day of the month after the fifth birthday (time-skipping).
- A PO case corrected to VO (`gegevens_wijzigen`) moves to Koers VO.

Every event names who acted (``door``): these tests are about who may do what, so they name it each time. On the
time-skipping server events go as signals (waiting on an update does not move the clock); on the dev server as
updates, which return the new status or a refusal.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import suppress
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from temporalio.client import WorkflowFailureError
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment

from tests.cases import Case, end_when_idle, eventually, open_case, pupil, task
from tests.fixtures.temporal import CaseWorker, case_worker
from thuiszitters.cases import start_case
from thuiszitters.register.store import Register
from thuiszitters.settings import Settings
from workflows.calendar import add_working_days, amsterdam_date, amsterdam_moment, dutch_public_holidays
from workflows.contract import Aanmelding, CaseStatus, Escalatie, Regiehouder, Sector, Uitkomst
from workflows.policy import DEFAULT_BELEID

pytestmark = pytest.mark.asyncio(loop_scope="session")

HOUR = DEFAULT_BELEID.termijn_uur
SYSTEEM = "systeem"


@pytest.fixture
async def dev_worker(dev_env: WorkflowEnvironment, register: Register, test_settings: Settings) -> AsyncIterator[Any]:
    async with case_worker(dev_env, register, test_settings) as running:
        yield running


class TimeCases:
    """Cases on the time-skipping server with a worker of their own; every case still running is ended after the
    test (a running case would hold the shared clock for the tests after it)."""

    def __init__(self, env: WorkflowEnvironment, worker: CaseWorker) -> None:
        self.env = env
        self.worker = worker
        self.register = worker.register
        self.opened: list[Case] = []

    async def open(self, aanmelding: Aanmelding) -> Case:
        case = await open_case(self.worker.client, aanmelding, self.worker.task_queue)
        self.opened.append(case)
        return case

    async def end_running(self) -> None:
        for case in self.opened:
            with suppress(Exception):
                await end_when_idle(case.handle)


@pytest.fixture
async def time_cases(
    time_env: WorkflowEnvironment, register: Register, test_settings: Settings
) -> AsyncIterator[TimeCases]:
    async with case_worker(time_env, register, test_settings) as running:
        cases = TimeCases(time_env, running)
        try:
            yield cases
        finally:
            await cases.end_running()


def today() -> date:
    """The dev server runs on real time."""
    return amsterdam_date(datetime.now(UTC))


def open_tasks(status: CaseStatus) -> set[tuple[str, str]]:
    return {(t.rol.value, t.taak) for t in status.open_taken}


def system_lines(status: CaseStatus, gebeurtenis: str) -> list[Any]:
    return [line for line in status.tijdlijn if line.gebeurtenis == gebeurtenis and line.door == SYSTEEM]


async def sleep_until(env: WorkflowEnvironment, moment: datetime) -> None:
    delta = moment - await env.get_current_time()
    assert delta > timedelta(0), f"{moment.isoformat()} has passed already"
    await env.sleep(delta)


async def signalled(case: Case, name: str, **payload: Any) -> CaseStatus:
    """Send an event as a signal (time-skipping server) and wait until the case applied it (one more line of that
    event in its timeline, by that role) or refused it (a line in ``afgewezen``)."""
    before = await case.status()
    door = payload.get("door")

    def lines(s: CaseStatus) -> int:
        return sum(1 for line in s.tijdlijn if line.gebeurtenis == name and line.door == door)

    def taken(s: CaseStatus) -> bool:
        return lines(s) > lines(before) or s.afgewezen_totaal > before.afgewezen_totaal

    await case.signal(name, **payload)
    after = await eventually(case.status, taken)
    assert after.afgewezen_totaal == before.afgewezen_totaal, f"{name} refused: {after.afgewezen[-1].reden}"
    return after


async def signal_refused(case: Case, name: str, **payload: Any) -> str:
    before = (await case.status()).afgewezen_totaal
    await case.signal(name, **payload)
    after = await eventually(case.status, lambda s: s.afgewezen_totaal == before + 1)
    return after.afgewezen[-1].reden


async def sent(register: Register, case: Case, sjabloon: str) -> list[str]:
    """The roles that got a notification with this template, sorted."""
    return sorted(row.rol for row in await register.notifications_for(case.case_id) if row.sjabloon == sjabloon)


# ------------------------------------------------------------------------------------------ PO through phase 4


async def test_po_case_goes_through_phase_4_and_the_scp_closes_it(dev_worker: CaseWorker) -> None:
    start_day = today() - timedelta(days=40)
    case = await open_case(dev_worker.client, pupil(start_day, age=8, sector="PO"), dev_worker.task_queue)
    register = dev_worker.register
    await case.update("leerplicht_registratie", lba_geregistreerd_op=start_day, door="leerplicht")
    await case.update(
        "oudergesprek",
        deelnemers=["school", "ouders", "scp"],
        wensen_ouders="een kleinere klas",
        afspraken="school zoekt twee scholen",
        door="school",
    )
    await case.update("plan_van_aanpak", in_opp=True, instemming_ouders=True, door="school")
    await case.update("route", route="3.2", door="scp")
    await case.update("aanmelding_andere_school", school_brin="34CD", door="ouders")

    # passende_plek opens phase 4 with its checks; it does not close the case
    status = await case.update(
        "passende_plek", uitkomst="ingeschreven_andere_school", school_brin="34CD", door="school"
    )
    assert (status.fase, status.fase_naam, status.afgesloten) == (4, "Passende onderwijsplek", False)
    assert status.uitkomst is Uitkomst.INGESCHREVEN_ANDERE_SCHOOL
    assert {("school", "uitschrijven"), ("scp", "passende_plek_afronden"), ("leerplicht", "verzuim_volgen")} <= (
        open_tasks(status)
    )
    uitschrijven = task(status, "uitschrijven")
    assert uitschrijven.id and uitschrijven.uiterlijk is not None and not uitschrijven.te_laat
    await eventually(lambda: sent(register, case, "uitschrijven"), lambda roles: roles == ["school"])
    await eventually(lambda: sent(register, case, "passende_plek"), lambda roles: roles == ["scp"])
    # nothing escalates any more, and no second place
    assert "passende plek" in await case.refused(
        "opschalen", niveau="coordinator", reden_code="overig", reden="x", door="scp"
    )
    assert "al een passende plek" in await case.refused("passende_plek", uitkomst="terug_op_school", door="scp")

    # afronden waits for the deregistration, and names it
    message = await case.refused("afronden", toelichting="klaar", door="scp")
    assert "nog open" in message and "uitschrijving" in message
    status = await case.update("uitschrijving", uitgeschreven_op=today(), door="school")
    assert status.uitgeschreven_op == today() and not status.afgesloten
    finished = next(t for t in status.afgeronde_taken if t.id == uitschrijven.id)  # the same task, by its id
    assert (finished.taak, finished.via, finished.door) == ("uitschrijven", "uitschrijving", "school")
    # the checks are done: the SCP is told it may close
    await eventually(lambda: sent(register, case, "afronden"), lambda roles: roles == ["scp"])

    # only the SCP closes a PO case
    for door in ("school", "koersloket", "leerplicht_absoluut_verzuim"):
        assert "mag dit niet doen" in await case.refused("afronden", toelichting="klaar", door=door)
    closed = await case.update("afronden", toelichting="uitschrijving gecontroleerd; hulpvraag sluit", door="scp")
    assert closed.afgesloten and closed.fase == 4

    final = await case.result()
    assert final.afgesloten and final.open_taken == []
    assert final.dossier.afronding == "uitschrijving gecontroleerd; hulpvraag sluit"
    assert final.dossier.oudergesprek is not None and final.dossier.oudergesprek.wensen_ouders == "een kleinere klas"
    assert [line.gebeurtenis for line in final.tijdlijn][-3:] == ["passende_plek", "uitschrijving", "afronden"]
    calls = [(r.systeem, r.actie) for r in await register.registrations_for(case.case_id)]
    assert calls.count(("kindkans", "hulpvraag_afsluiten")) == 1 and calls[-1] == ("kindkans", "hulpvraag_afsluiten")
    assert {"ouders", "school", "scp", "leerplicht"} <= set(await sent(register, case, "afgesloten"))
    row = await register.case(case.case_id)
    assert row is not None and row.afgesloten and row.uitkomst == "ingeschreven_andere_school"


# ----------------------------------------------------------------------- VO through the Koersloket to the Taskforce


def next_kerngroep(after: date) -> date:
    """The Kerngroep meets every two weeks from its first meeting (the policy); a case escalated today is on the
    agenda of the first meeting at least five working days ahead (time for the home visit)."""
    meeting = DEFAULT_BELEID.kerngroep_eerste_vergadering
    earliest = add_working_days(after, DEFAULT_BELEID.kerngroep_voorbereiding_werkdagen)
    while meeting < earliest:
        meeting += timedelta(days=DEFAULT_BELEID.kerngroep_interval_dagen)
    return meeting


async def test_vo_case_goes_through_the_koersloket_to_the_taskforce_with_a_kerngroep_date(
    dev_worker: CaseWorker,
) -> None:
    start_day = today() - timedelta(weeks=11)
    case = await open_case(
        dev_worker.client, pupil(start_day, age=14, sector="VO", regio="Noord"), dev_worker.task_queue
    )
    register = dev_worker.register
    status = await case.status()
    assert status.contactrol is not None and status.contactrol.value == "koersloket"
    await case.update("oudergesprek", deelnemers=["school", "ouders", "koersloket"], door="koersloket")
    await case.update("plan_van_aanpak", in_opp=True, instemming_ouders=True, door="school")
    await case.update("route", route="3.3", variant="andere_vo_school", door="koersloket")

    escalation = {
        "niveau": "taskforce",
        "reden_code": "geen_plaats_reguliere_scholen",
        "reden": "na twee plaatsingsoverleggen geen plaats",
        "afgestemd_met_leerplicht": True,
        "afgestemd_met_school": True,
    }
    assert "reden_code" in await case.refused("opschalen", **{**escalation, "reden_code": None}, door="koersloket")
    assert "mag dit niet doen" in await case.refused("opschalen", **escalation, door="school")
    assert "mag dit niet doen" in await case.refused("opschalen", **escalation, door="coordinator")
    escalated_on = today()
    status = await case.update("opschalen", **escalation, door="koersloket")
    meeting = next_kerngroep(escalated_on)
    assert meeting.weekday() == DEFAULT_BELEID.kerngroep_eerste_vergadering.weekday()
    assert (status.escalatie, status.regiehouder, status.kerngroep_bespreking_op) == (
        Escalatie.TASKFORCE,
        Regiehouder.TASKFORCE,
        meeting,
    )
    [reden] = status.dossier.escalaties
    assert (reden.niveau, reden.reden_code, reden.door) == ("taskforce", "geen_plaats_reguliere_scholen", "koersloket")
    huisbezoek = task(status, "huisbezoek")
    assert (huisbezoek.rol.value, huisbezoek.uiterlijk) == ("taskforce", meeting - timedelta(days=1))
    informeren = task(status, "ouders_informeren_taskforce")
    assert informeren.rol.value == "school"
    rows = await eventually(
        lambda: register.registrations_for(case.case_id),
        lambda rows: any((r.systeem, r.actie) == ("taskforce", "aanmelding") for r in rows),
    )
    [aanmelding] = [r for r in rows if (r.systeem, r.actie) == ("taskforce", "aanmelding")]
    assert aanmelding.gegevens["bespreking_op"] == meeting.isoformat()
    assert aanmelding.gegevens["reden_code"] == "geen_plaats_reguliere_scholen"

    # the school has told the parents: it finishes its task by hand, by the task's id
    assert "mag dit niet doen" in await case.refused(
        "taak_afgerond", taak_id=informeren.id, toelichting="gebeld", door="koersloket"
    )
    status = await case.update("taak_afgerond", taak_id=informeren.id, toelichting="ouders gebeld", door="school")
    assert informeren.id not in {t.id for t in status.open_taken}

    status = await case.update("huisbezoek", samenvatting="gesprek met ouders en jongere thuis", door="taskforce")
    besluit = task(status, "besluit_nemen")
    assert (besluit.rol.value, besluit.uiterlijk) == ("taskforce", meeting)
    actie = {
        "rol": "koersloket",
        "omschrijving": "Plaatsingsoverleg met twee scholen",
        "uiterlijk": meeting + timedelta(14),
    }
    status = await case.update(
        "taskforce_besluit", besluit="plaatsing via plaatsingsoverleg", acties=[actie], door="taskforce"
    )
    [plaatsing] = [t for t in status.open_taken if t.taak == "taskforce_actie"]
    assert (plaatsing.rol.value, plaatsing.uiterlijk) == ("koersloket", meeting + timedelta(days=14))
    await case.update("taak_afgerond", taak_id=plaatsing.id, toelichting="overleg gehouden", door="koersloket")

    await case.update("passende_plek", uitkomst="ingeschreven_andere_school", school_brin="56EF", door="taskforce")
    await case.update("uitschrijving", uitgeschreven_op=today(), door="school")
    assert "mag dit niet doen" in await case.refused("afronden", toelichting="klaar", door="scp")
    await case.update("afronden", toelichting="ingeschreven, uitschrijving gecontroleerd", door="koersloket")

    final = await case.result()
    assert final.afgesloten and final.escalatie is Escalatie.TASKFORCE
    assert final.dossier.huisbezoek is not None and final.dossier.besluiten[0].acties == [plaatsing.id]
    assert set(await register.escalations_for(case.case_id)) == {"taskforce"}  # never via a coordinator
    calls = {(r.systeem, r.actie) for r in await register.registrations_for(case.case_id)}
    assert not any(systeem in ("kindkans", "sisa", "centrale_aanmeldroute") for systeem, _ in calls)  # not PPO's
    assert await sent(register, case, "escalatie_taskforce") == ["taskforce"]
    assert {"koersloket", "school", "ouders", "taskforce"} <= set(await sent(register, case, "afgesloten"))
    roles = {r.rol for r in await register.notifications_for(case.case_id)}
    assert "scp" not in roles and "ouderfunctionaris" not in roles
    # VO has no PPO coordinator: nobody there hears of this case, not even that it closed
    assert "coordinator" not in roles, [
        r.sjabloon for r in await register.notifications_for(case.case_id) if r.rol == "coordinator"
    ]


# ------------------------------------------------------------------------ the twelve-week check (time-skipping)


async def test_a_check_answered_with_a_beoordeling_comes_back_on_its_date(
    time_env: WorkflowEnvironment, time_cases: TimeCases
) -> None:
    now = await time_env.get_current_time()
    start_day = amsterdam_date(now)
    case = await time_cases.open(pupil(start_day, sector="PO", regio="Noord"))
    register = time_cases.register
    twelve = start_day + timedelta(weeks=12)
    await sleep_until(time_env, amsterdam_moment(twelve, HOUR) + timedelta(hours=2))
    opened = await eventually(case.status, lambda s: s.twaalf_weken_check is not None)
    first_task = task(opened, "twaalf_weken_besluit")
    first_due = add_working_days(twelve, 10)
    assert first_task.rol.value == "scp" and first_task.uiterlijk == first_due

    back_on = twelve + timedelta(weeks=3)
    assert "6 weken" in await signal_refused(
        case, "beoordeling", uitzicht="x", herbeoordeling_op=(twelve + timedelta(days=43)).isoformat(), door="scp"
    )
    assert "mag dit niet doen" in await signal_refused(
        case, "beoordeling", uitzicht="x", herbeoordeling_op=back_on.isoformat(), door="school"
    )
    answered = await signalled(
        case,
        "beoordeling",
        uitzicht="aanmelding bij een andere school loopt; plaatsing verwacht",
        herbeoordeling_op=back_on.isoformat(),
        door="scp",
    )
    check = answered.twaalf_weken_check
    assert check is not None and (check.stand, check.herbeoordeling_op) == ("uitzicht", back_on)
    assert first_task.id not in {t.id for t in answered.open_taken}
    done = next(t for t in answered.afgeronde_taken if t.id == first_task.id)
    assert (done.via, done.door) == ("beoordeling", "scp")

    # the first due date passes: a check with a prospect does not escalate
    await sleep_until(time_env, amsterdam_moment(add_working_days(first_due, 1), HOUR) + timedelta(hours=1))
    quiet = await case.status()
    assert quiet.escalatie is Escalatie.GEEN and quiet.twaalf_weken_check is not None
    assert quiet.twaalf_weken_check.stand == "uitzicht"

    # on its date the check comes back, once, with a new decision task for the SCP
    await sleep_until(time_env, amsterdam_moment(back_on, HOUR) - timedelta(minutes=1))
    assert (await case.status()).twaalf_weken_check.stand == "uitzicht"  # type: ignore[union-attr]
    await sleep_until(time_env, amsterdam_moment(back_on, HOUR) + timedelta(minutes=1))
    back = await eventually(case.status, lambda s: s.twaalf_weken_check.stand == "open")  # type: ignore[union-attr]
    check = back.twaalf_weken_check
    assert check is not None and check.uiterlijk == add_working_days(back_on, 10)
    (line,) = system_lines(back, "herbeoordeling_1")
    assert amsterdam_date(line.tijd) == back_on and "komt terug" in (line.toelichting or "")
    second_task = task(back, "twaalf_weken_besluit")
    assert second_task.id != first_task.id and second_task.uiterlijk == check.uiterlijk
    assert back.escalatie is Escalatie.GEEN
    await eventually(lambda: sent(register, case, "twaalf_weken_check"), lambda roles: roles == ["scp", "scp"])
    assert await sent(register, case, "twaalf_weken_check_gemeld") == ["coordinator", "coordinator"]


async def test_an_undecided_po_check_escalates_to_the_coordinator_when_its_due_date_passes(
    time_env: WorkflowEnvironment, time_cases: TimeCases
) -> None:
    now = await time_env.get_current_time()
    start_day = amsterdam_date(now)
    case = await time_cases.open(pupil(start_day, sector="PO", regio="Zuid"))
    register = time_cases.register
    twelve = start_day + timedelta(weeks=12)
    due = add_working_days(twelve, 10)
    passes_at = amsterdam_moment(add_working_days(due, 1), HOUR)  # the first working day after it

    await sleep_until(time_env, amsterdam_moment(due, 23))  # the last evening of the due date: still the SCP's
    before = await case.status()
    assert before.twaalf_weken_check is not None and before.twaalf_weken_check.stand == "open"
    assert before.escalatie is Escalatie.GEEN
    decision = task(before, "twaalf_weken_besluit")
    assert decision.uiterlijk == due
    await sleep_until(time_env, passes_at - timedelta(minutes=1))
    assert (await case.status()).escalatie is Escalatie.GEEN

    await sleep_until(time_env, passes_at + timedelta(minutes=1))
    after = await eventually(case.status, lambda s: s.escalatie is Escalatie.COORDINATOR)
    (line,) = [r for r in after.tijdlijn if r.gebeurtenis == "opschalen"]
    assert line.door == SYSTEEM and passes_at <= line.tijd < passes_at + timedelta(minutes=1)
    assert after.twaalf_weken_check is not None and after.twaalf_weken_check.stand == "opgeschaald"
    assert after.regiehouder is Regiehouder.SCHOOL
    assert ("coordinator", "besluit_taskforce") in open_tasks(after)
    assert decision.id not in {t.id for t in after.open_taken}
    [reden] = after.dossier.escalaties
    assert (reden.niveau, reden.door) == ("coordinator", SYSTEEM)
    escalations = await eventually(lambda: register.escalations_for(case.case_id), lambda rows: bool(rows))
    assert list(escalations) == ["coordinator"] and amsterdam_date(escalations["coordinator"]) == add_working_days(
        due, 1
    )
    await eventually(lambda: sent(register, case, "escalatie_coordinator"), lambda roles: roles == ["coordinator"])

    # the coordinator's question: a "not now" needs a reason, and is theirs now, not the SCP's
    assert "coördinator" in await signal_refused(
        case, "beoordeling", uitzicht="x", herbeoordeling_op=(due + timedelta(days=14)).isoformat(), door="scp"
    )
    await time_env.sleep(timedelta(weeks=4))  # nothing escalates twice
    later = await case.status()
    assert [r.gebeurtenis for r in later.tijdlijn].count("opschalen") == 1
    assert list(await register.escalations_for(case.case_id)) == ["coordinator"]


# --------------------------------------------------------------------- a pupil of 4 becomes leerplichtig


def first_school_day_of_month_after(birthday: date, regio: str) -> date:
    """Leerplichtwet art. 3: the first school day of the month after the fifth birthday; no weekend, public holiday
    or school holiday of the region (the policy's table)."""
    year, month = birthday.year + 5, birthday.month + 1
    if month > 12:
        year, month = year + 1, 1
    day = date(year, month, 1)
    holidays = DEFAULT_BELEID.vakanties(regio)
    while (
        day.weekday() >= 5
        or day in dutch_public_holidays(day.year)
        or any(first <= day <= last for first, last in holidays)
    ):
        day += timedelta(days=1)
    return day


async def test_a_pupil_of_four_becomes_leerplichtig_on_the_right_day(
    time_env: WorkflowEnvironment, time_cases: TimeCases
) -> None:
    now = await time_env.get_current_time()
    start_day = amsterdam_date(now)
    fifth = start_day + timedelta(days=5)
    born = fifth.replace(year=fifth.year - 5) if (fifth.month, fifth.day) != (2, 29) else date(fifth.year - 5, 3, 1)
    aanmelding = pupil(start_day, sector="PO", regio="Noord", geboortedatum=born)
    case = await time_cases.open(aanmelding)
    register = time_cases.register
    begins = first_school_day_of_month_after(born, "Noord")
    assert begins > start_day

    status = await case.status()
    assert (status.leerplichtig, status.leerplichtig_vanaf) == (False, begins)
    assert not any(t.rol.value == "leerplicht" for t in status.open_taken)
    message = await signal_refused(
        case, "leerplicht_registratie", lba_geregistreerd_op=start_day.isoformat(), door="leerplicht"
    )
    assert "niet leerplichtig" in message and begins.isoformat() in message

    await sleep_until(time_env, amsterdam_moment(begins, HOUR) - timedelta(minutes=1))
    still = await case.status()
    assert not still.leerplichtig and system_lines(still, "leerplichtig") == []
    assert not any(r.systeem == "leerplicht" for r in await register.registrations_for(case.case_id))

    await sleep_until(time_env, amsterdam_moment(begins, HOUR) + timedelta(minutes=1))
    now_leerplichtig = await eventually(case.status, lambda s: s.leerplichtig)
    (line,) = system_lines(now_leerplichtig, "leerplichtig")
    assert amsterdam_date(line.tijd) == begins
    assert ("leerplicht", "lba_registreren") in open_tasks(now_leerplichtig)  # the Leerplicht steps apply now
    rows = await eventually(
        lambda: register.registrations_for(case.case_id),
        lambda rows: any((r.systeem, r.actie) == ("leerplicht", "melding_volledig_verzuim") for r in rows),
    )
    assert [r.actie for r in rows if r.systeem == "leerplicht"] == ["melding_volledig_verzuim"]
    await eventually(
        lambda: sent(register, case, "leerplichtig_geworden"), lambda roles: roles == ["leerplicht", "school", "scp"]
    )
    registered = await signalled(
        case, "leerplicht_registratie", lba_geregistreerd_op=begins.isoformat(), door="leerplicht"
    )
    assert ("leerplicht", "lba_registreren") not in open_tasks(registered)


# --------------------------------------------------------------------------------- a PO case corrected to VO


async def test_a_po_case_corrected_to_vo_moves_to_koers_vo(dev_worker: CaseWorker) -> None:
    start_day = today() - timedelta(weeks=6)
    case = await open_case(dev_worker.client, pupil(start_day, age=12, sector="PO"), dev_worker.task_queue)
    register = dev_worker.register
    await case.update("oudergesprek", deelnemers=["school", "ouders", "scp"], door="school")
    await case.update("plan_van_aanpak", in_opp=True, instemming_ouders=True, door="school")
    await case.update("route", route="3.3", variant="tlv_so", door="scp")
    status = await case.update(
        "opschalen", niveau="coordinator", reden_code="proces_loopt_vast", reden="geen SO-plek", door="scp"
    )
    assert status.escalatie is Escalatie.COORDINATOR
    assert ("scp", "hulpvraag_controleren") in open_tasks(status)

    assert "mag dit niet doen" in await case.refused("gegevens_wijzigen", sector="VO", door="ouders")
    status = await case.update("gegevens_wijzigen", sector="VO", door="coordinator")
    assert (status.sector, status.contactrol and status.contactrol.value) == (Sector.VO, "koersloket")
    assert status.escalatie is Escalatie.GEEN  # VO has no PPO coordinator
    assert (status.route, status.route_variant) == (None, None)  # tlv_so does not exist in VO: choose again
    assert not any(t.rol.value == "scp" for t in status.open_taken)
    assert not any(t.rol.value == "coordinator" for t in status.open_taken)
    assert ("school", "route_kiezen") in open_tasks(status)
    assert next(line.door for line in status.tijdlijn if line.gebeurtenis == "gegevens_wijzigen") == "coordinator"
    rows = await eventually(
        lambda: register.registrations_for(case.case_id),
        lambda rows: any((r.systeem, r.actie) == ("kindkans", "hulpvraag_intrekken") for r in rows),
    )
    assert [(r.systeem, r.actie) for r in rows].count(("kindkans", "hulpvraag_intrekken")) == 1
    await eventually(lambda: sent(register, case, "sector_gewijzigd"), lambda roles: roles == ["koersloket"])

    # from now on the case runs through Koers VO
    assert "tlv_so" in await case.refused("route", route="3.3", variant="tlv_so", door="koersloket")
    assert "mag dit niet doen" in await case.refused("route", route="3.3", variant="tlv_vso", door="scp")
    status = await case.update("route", route="3.3", variant="tlv_vso", door="koersloket")
    assert ("koersloket", "tlv_onderbouwing") in open_tasks(status)
    assert "VO kent geen PPO-coördinator" in await case.refused(
        "opschalen", niveau="coordinator", reden_code="overig", reden="x", door="school"
    )
    await case.update("passende_plek", uitkomst="terug_op_school", door="koersloket")
    assert "mag dit niet doen" in await case.refused("afronden", toelichting="klaar", door="scp")
    await case.update("afronden", toelichting="terug op school", door="koersloket")

    final = await case.result()
    assert final.afgesloten and final.sector is Sector.VO
    calls = [(r.systeem, r.actie) for r in await register.registrations_for(case.case_id)]
    assert ("kindkans", "hulpvraag_afsluiten") not in calls  # withdrawn at the move, not closed again
    assert calls.count(("kindkans", "hulpvraag_intrekken")) == 1
    assert await sent(register, case, "afgesloten") == sorted(["koersloket", "leerplicht", "ouders", "school"])


# --------------------------------------------------------------------------------- ages of the sector at start


async def test_a_new_case_outside_the_ages_of_its_sector_fails_with_the_reason(dev_worker: CaseWorker) -> None:
    # the intake refuses it before it starts (``NieuweAanmelding``); a service that starts the workflow itself gets
    # the same reason as the case's failure, and no case is opened in the register
    aanmelding = pupil(today() - timedelta(days=30), age=15, sector="PO")
    handle = await start_case(dev_worker.client, aanmelding, dev_worker.task_queue)
    with pytest.raises(WorkflowFailureError) as failed:
        await handle.result()
    cause = failed.value.cause
    assert isinstance(cause, ApplicationError) and cause.type == "OngeldigeAanmelding"
    assert "ouder dan 13 jaar (PO: 4 tot en met 13 jaar)" in cause.message
    assert await dev_worker.register.events_for(f"{handle.id}:{handle.result_run_id}") == []
