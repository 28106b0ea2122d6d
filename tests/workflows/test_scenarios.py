"""Whole cases as the procedure describes them, driven by updates on the real dev server, checked in the register."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError

from tests.cases import events, pupil, start
from tests.fixtures.temporal import CaseWorker, case_worker
from thuiszitters.register.store import Register
from thuiszitters.settings import Settings
from workflows.calendar import amsterdam_date
from workflows.contract import CaseStatus, Escalatie, Regiehouder, Uitkomst

pytestmark = pytest.mark.asyncio(loop_scope="session")


@pytest.fixture
async def worker(dev_env: Any, register: Register, test_settings: Settings) -> AsyncIterator[CaseWorker]:
    async with case_worker(dev_env, register, test_settings) as running:
        yield running


async def send(handle: WorkflowHandle[Any, Any], name: str, **payload: Any) -> CaseStatus:
    result: CaseStatus = await handle.execute_update(name, payload, result_type=CaseStatus)
    return result


async def refused(handle: WorkflowHandle[Any, Any], name: str, **payload: Any) -> str:
    with pytest.raises(WorkflowUpdateFailedError) as failure:
        await handle.execute_update(name, payload, result_type=CaseStatus)
    assert isinstance(failure.value.cause, ApplicationError)
    return failure.value.cause.message


def case_id(handle: WorkflowHandle[Any, Any]) -> str:
    return f"{handle.id}:{handle.result_run_id}"


async def test_po_case_enrolled_at_another_school(worker: CaseWorker) -> None:
    start_day = amsterdam_date(await _now(worker)) - timedelta(days=30)
    handle = await start(worker.client, pupil(start_day, sector="PO", regio="Zuid"), worker.task_queue)
    await send(handle, "leerplicht_registratie", lba_geregistreerd_op=start_day + timedelta(days=3), door="leerplicht")
    await send(handle, "oudergesprek", deelnemers=["school", "ouders", "scp", "smw"])
    await send(handle, "plan_van_aanpak", in_opp=True, instemming_ouders=True)
    status = await send(handle, "route", route="3.2")
    assert {t.taak for t in status.open_taken} >= {"passende_school_zoeken", "schriftelijk_aanmelden"}
    status = await send(handle, "aanmelding_andere_school", school_brin="34CD")
    task = next(t for t in status.open_taken if t.taak == "besluit_ontvangende_school")
    assert task.uiterlijk == amsterdam_date(await _now(worker)) + timedelta(weeks=6)
    status = await send(handle, "zorgplicht_verlengd")
    task = next(t for t in status.open_taken if t.taak == "besluit_ontvangende_school")
    assert task.uiterlijk == amsterdam_date(await _now(worker)) + timedelta(weeks=10)
    assert "maar één keer" in await refused(handle, "zorgplicht_verlengd", door="school")
    await send(handle, "passende_plek", uitkomst="ingeschreven_andere_school", school_brin="34CD")

    final: CaseStatus = await handle.result()
    assert (final.fase, final.uitkomst, final.regiehouder) == (
        4,
        Uitkomst.INGESCHREVEN_ANDERE_SCHOOL,
        Regiehouder.SCHOOL,
    )
    assert final.open_taken == []
    assert events(final) == [
        "melding",
        "leerplicht_registratie",
        "oudergesprek",
        "plan_van_aanpak",
        "route",
        "aanmelding_andere_school",
        "zorgplicht_verlengd",
        "passende_plek",
    ]
    rows = await worker.register.registrations_for(case_id(handle))
    calls = [(r.systeem, r.actie) for r in rows]
    assert calls[0] == ("leerplicht", "melding_volledig_verzuim")
    assert ("kindkans", "hulpvraag_aanmaken") in calls and ("sisa", "signaal") in calls
    # closed only after the enrolment elsewhere
    assert calls[-1] == ("kindkans", "hulpvraag_afsluiten"), [(r.sleutel, r.aangemaakt_op) for r in rows]
    assert len(calls) == len(set(r.sleutel for r in await worker.register.registrations_for(case_id(handle))))


async def test_vo_case_escalated_to_the_taskforce(worker: CaseWorker) -> None:
    start_day = amsterdam_date(await _now(worker)) - timedelta(weeks=10)
    handle = await start(worker.client, pupil(start_day, age=14, sector="VO", regio="Noord"), worker.task_queue)
    status = await send(handle, "opschalen", niveau="coordinator", reden="geen plek na plaatsingsoverleg")
    assert status.escalatie is Escalatie.COORDINATOR
    message = await refused(handle, "opschalen", niveau="taskforce", reden="vastgelopen", afgestemd_met_leerplicht=True)
    assert "afgestemd_met_school" in message
    status = await send(
        handle,
        "opschalen",
        niveau="taskforce",
        reden="regulier onderwijs heeft geen plaats",
        afgestemd_met_leerplicht=True,
        afgestemd_met_school=True,
    )
    assert (status.escalatie, status.regiehouder) == (Escalatie.TASKFORCE, Regiehouder.TASKFORCE)
    assert [t.taak for t in status.open_taken if t.rol.value == "taskforce"] == ["huisbezoek"]
    assert "huisbezoek" in await refused(handle, "taskforce_besluit", besluit="plaatsing")
    await send(handle, "huisbezoek", samenvatting="gesprek met ouders en jongere")
    status = await send(handle, "taskforce_besluit", besluit="plaatsing op school met arrangement")
    assert not any(t.rol.value == "taskforce" for t in status.open_taken)
    await send(handle, "passende_plek", uitkomst="terug_op_school")

    final: CaseStatus = await handle.result()
    assert final.escalatie is Escalatie.TASKFORCE and final.uitkomst is Uitkomst.TERUG_OP_SCHOOL
    assert "koersloket" in {b.rol for b in await worker.register.notifications_for(case_id(handle))}
    calls = [(r.systeem, r.actie) for r in await worker.register.registrations_for(case_id(handle))]
    assert calls.count(("taskforce", "aanmelding")) == 1
    assert set(await worker.register.escalations_for(case_id(handle))) == {"coordinator", "taskforce"}


async def test_vo_pupil_outside_rotterdam_is_not_brought_to_the_taskforce(worker: CaseWorker) -> None:
    start_day = amsterdam_date(await _now(worker)) - timedelta(weeks=13)
    aanmelding = pupil(start_day, age=15, sector="VO", woont_in_rotterdam=False)
    handle = await start(worker.client, aanmelding, worker.task_queue)
    message = await refused(
        handle, "opschalen", niveau="taskforce", reden="x", afgestemd_met_leerplicht=True, afgestemd_met_school=True
    )
    assert "Rotterdam" in message
    await handle.terminate("klaar")


async def test_care_case_with_wijkteam_ending_in_vrijstelling(worker: CaseWorker) -> None:
    start_day = amsterdam_date(await _now(worker)) - timedelta(weeks=5)
    handle = await start(worker.client, pupil(start_day, age=11), worker.task_queue)
    await send(handle, "oudergesprek", deelnemers=["school", "ouders", "scp", "wijkteam"])
    await send(handle, "plan_van_aanpak", in_opp=True, instemming_ouders=True)
    status = await send(handle, "route", route="3.4", variant="zorgtraject")
    assert status.regiehouder is Regiehouder.WIJKTEAM
    assert {(t.rol.value, t.taak) for t in status.open_taken} >= {
        ("wijkteam", "zorgarrangement_kiezen"),
        ("school", "huiswerkpakketten"),
    }
    assert "verleend" in await refused(handle, "passende_plek", uitkomst="vrijstelling")
    status = await send(handle, "vrijstelling", status="aangevraagd", door="ouders")
    assert ("leerplicht", "vrijstelling_doorzetten") in {(t.rol.value, t.taak) for t in status.open_taken}
    await send(handle, "vrijstelling", status="verleend", door="leerplicht")
    await send(handle, "passende_plek", uitkomst="vrijstelling")

    final: CaseStatus = await handle.result()
    assert (final.uitkomst, final.vrijstelling, final.regiehouder) == (
        Uitkomst.VRIJSTELLING,
        "verleend",
        Regiehouder.WIJKTEAM,
    )
    roles = {b.rol for b in await worker.register.notifications_for(case_id(handle))}
    assert {"wijkteam", "leerplicht", "ouders"} <= roles


async def test_pupil_of_four_runs_the_procedure_without_leerplicht(worker: CaseWorker) -> None:
    start_day = amsterdam_date(await _now(worker)) - timedelta(days=10)
    handle = await start(worker.client, pupil(start_day, age=4), worker.task_queue)
    status = await send(handle, "voortgang", toelichting="gesprek gepland")
    assert status.leerplichtig is False
    assert not any(t.rol.value == "leerplicht" for t in status.open_taken)
    assert "niet leerplichtig" in await refused(handle, "leerplicht_registratie", lba_geregistreerd_op=start_day)
    assert "niet leerplichtig" in await refused(handle, "vrijstelling", status="aangevraagd")
    await send(handle, "oudergesprek", deelnemers=["school", "ouders", "scp"])
    await send(handle, "plan_van_aanpak", in_opp=True, instemming_ouders=True)
    await send(handle, "route", route="3.3", variant="arrangement")
    await send(handle, "passende_plek", uitkomst="terug_op_school")

    final: CaseStatus = await handle.result()
    assert final.uitkomst is Uitkomst.TERUG_OP_SCHOOL
    calls = {r.systeem for r in await worker.register.registrations_for(case_id(handle))}
    assert "leerplicht" not in calls and "kindkans" in calls
    assert "leerplicht" not in {b.rol for b in await worker.register.notifications_for(case_id(handle))}


async def test_pupil_from_abroad_is_held_by_leerplicht_absoluut_verzuim(worker: CaseWorker) -> None:
    start_day = amsterdam_date(await _now(worker)) - timedelta(days=20)
    handle = await start(worker.client, pupil(start_day, age=10, uit_buitenland=True), worker.task_queue)
    status = await send(handle, "leerplicht_registratie", lba_geregistreerd_op=start_day + timedelta(days=2))
    assert status.regiehouder is Regiehouder.LEERPLICHT_ABSOLUUT_VERZUIM
    assert [t.taak for t in status.open_taken] == ["school_zoeken"]
    assert "buitenland" in await refused(handle, "oudergesprek", deelnemers=["school", "ouders", "scp"])
    assert "buitenland" in await refused(handle, "passende_plek", uitkomst="terug_op_school")
    await send(handle, "passende_plek", uitkomst="ingeschreven_andere_school", school_brin="56EF")

    final: CaseStatus = await handle.result()
    assert final.uitkomst is Uitkomst.INGESCHREVEN_ANDERE_SCHOOL
    calls = {r.systeem for r in await worker.register.registrations_for(case_id(handle))}
    assert calls == set()  # no school, so no Kindkans hulpvraag, no SISA signal
    roles = {b.rol for b in await worker.register.notifications_for(case_id(handle))}
    assert "leerplicht_absoluut_verzuim" in roles and "school" not in roles


async def _now(worker: CaseWorker) -> Any:
    from datetime import UTC, datetime

    return datetime.now(UTC)
