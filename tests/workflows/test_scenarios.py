"""Whole cases as the procedure describes them (version 2), driven by updates on the real dev server, checked in the
register. Each event names who acted; where the role matters the test names it, else ``tests.cases`` adds the role
that usually sends it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest

from tests.cases import events, open_case, pupil
from tests.fixtures.temporal import CaseWorker, case_worker
from thuiszitters.register.store import Register
from thuiszitters.settings import Settings
from workflows.calendar import amsterdam_date
from workflows.contract import Escalatie, Regiehouder, Uitkomst

pytestmark = pytest.mark.asyncio(loop_scope="session")


@pytest.fixture
async def worker(dev_env: Any, register: Register, test_settings: Settings) -> AsyncIterator[CaseWorker]:
    async with case_worker(dev_env, register, test_settings) as running:
        yield running


async def test_po_case_enrolled_at_another_school(worker: CaseWorker) -> None:
    start_day = amsterdam_date(await _now(worker)) - timedelta(days=30)
    case = await open_case(worker.client, pupil(start_day, sector="PO", regio="Zuid"), worker.task_queue)
    await case.update("leerplicht_registratie", lba_geregistreerd_op=start_day + timedelta(days=3), door="leerplicht")
    await case.update("oudergesprek", deelnemers=["school", "ouders", "scp", "smw"], door="school")
    await case.update("plan_van_aanpak", in_opp=True, instemming_ouders=True, door="school")
    status = await case.update("route", route="3.2", door="school")
    assert {t.taak for t in status.open_taken} >= {"passende_school_zoeken", "schriftelijk_aanmelden"}
    status = await case.update("aanmelding_andere_school", school_brin="34CD", door="ouders")
    task = next(t for t in status.open_taken if t.taak == "besluit_ontvangende_school")
    assert task.uiterlijk == amsterdam_date(await _now(worker)) + timedelta(weeks=6)
    status = await case.update("zorgplicht_verlengd", door="school")
    task = next(t for t in status.open_taken if t.taak == "besluit_ontvangende_school")
    assert task.uiterlijk == amsterdam_date(await _now(worker)) + timedelta(weeks=10)
    # a second extension, asked by another person of the school (the same event twice would change nothing)
    assert "maar één keer" in await case.refused("zorgplicht_verlengd", door="school", persoon="mentor-2")

    # Phase 4: the place is found, the old school deregisters, then the SCP checks and closes.
    status = await case.update("passende_plek", uitkomst="ingeschreven_andere_school", school_brin="34CD", door="scp")
    assert (status.fase, status.afgesloten) == (4, False)
    assert {(t.rol.value, t.taak) for t in status.open_taken} == {
        ("school", "uitschrijven"),
        ("leerplicht", "verzuim_volgen"),
        ("scp", "passende_plek_afronden"),
        ("scp", "hulpvraag_controleren"),
    }
    assert "uitschrijving" in await case.refused("afronden", toelichting="klaar", door="scp")
    message = await case.refused("uitschrijving", uitgeschreven_op=start_day.isoformat(), door="scp")
    assert "mag dit niet doen" in message and "dat doet de school" in message  # only the school deregisters
    status = await case.update("uitschrijving", uitgeschreven_op=amsterdam_date(await _now(worker)), door="school")
    assert status.uitgeschreven_op is not None and not status.afgesloten
    message = await case.refused("afronden", toelichting="klaar", door="school")
    assert "mag dit niet doen" in message and "schoolcontactpersoon" in message  # the SCP closes (PO)
    await case.update("afronden", toelichting="uitschrijving gecontroleerd, hulpvraag sluit", door="scp")

    final = await case.result()
    assert (final.fase, final.uitkomst, final.regiehouder) == (
        4,
        Uitkomst.INGESCHREVEN_ANDERE_SCHOOL,
        Regiehouder.SCHOOL,
    )
    assert final.afgesloten and final.open_taken == []
    assert events(final) == [
        "melding",
        "leerplicht_registratie",
        "oudergesprek",
        "plan_van_aanpak",
        "route",
        "aanmelding_andere_school",
        "zorgplicht_verlengd",
        "passende_plek",
        "uitschrijving",
        "afronden",
    ]
    assert [
        line.door for line in final.tijdlijn if line.gebeurtenis in ("passende_plek", "uitschrijving", "afronden")
    ] == [
        "scp",
        "school",
        "scp",
    ]
    rows = await worker.register.registrations_for(case.case_id)
    calls = [(r.systeem, r.actie) for r in rows]
    assert calls[0] == ("leerplicht", "melding_volledig_verzuim")
    assert ("kindkans", "hulpvraag_aanmaken") in calls and ("sisa", "signaal") in calls
    # the hulpvraag closes only when the SCP closes the case, after the deregistration
    assert calls[-1] == ("kindkans", "hulpvraag_afsluiten"), [(r.sleutel, r.aangemaakt_op) for r in rows]
    assert calls.count(("kindkans", "hulpvraag_afsluiten")) == 1
    assert len(calls) == len(set(r.sleutel for r in await worker.register.registrations_for(case.case_id)))


async def test_vo_case_escalated_to_the_taskforce(worker: CaseWorker) -> None:
    start_day = amsterdam_date(await _now(worker)) - timedelta(weeks=10)
    case = await open_case(worker.client, pupil(start_day, age=14, sector="VO", regio="Noord"), worker.task_queue)
    # VO has no PPO coordinator, whoever asks: the Koersloket decides on the Taskforce itself
    for door in ("school", "koersloket"):
        message = await case.refused(
            "opschalen", niveau="coordinator", reden_code="geen_passende_plek", reden="geen plek", door=door
        )
        assert "VO kent geen PPO-coördinator" in message
    taskforce = {"niveau": "taskforce", "reden_code": "geen_plaats_reguliere_scholen", "reden": "vastgelopen"}
    message = await case.refused("opschalen", **taskforce, afgestemd_met_leerplicht=True, door="koersloket")
    assert "afgestemd_met_school" in message
    message = await case.refused(
        "opschalen", **taskforce, afgestemd_met_leerplicht=True, afgestemd_met_school=True, door="coordinator"
    )
    assert "het Koersloket" in message  # in VO not the coordinator
    status = await case.update(
        "opschalen", **taskforce, afgestemd_met_leerplicht=True, afgestemd_met_school=True, door="koersloket"
    )
    assert (status.escalatie, status.regiehouder) == (Escalatie.TASKFORCE, Regiehouder.TASKFORCE)
    assert status.kerngroep_bespreking_op is not None
    assert [t.taak for t in status.open_taken if t.rol.value == "taskforce"] == ["huisbezoek"]
    assert ("school", "ouders_informeren_taskforce") in {(t.rol.value, t.taak) for t in status.open_taken}
    assert "huisbezoek" in await case.refused("taskforce_besluit", besluit="plaatsing", door="taskforce")
    assert "Taskforce" in await case.refused("huisbezoek", samenvatting="verslag", door="koersloket")
    await case.update("huisbezoek", samenvatting="gesprek met ouders en jongere", door="taskforce")
    status = await case.update("taskforce_besluit", besluit="plaatsing op school met arrangement", door="taskforce")
    assert not any(t.rol.value == "taskforce" for t in status.open_taken)
    status = await case.update("passende_plek", uitkomst="terug_op_school", door="taskforce")
    assert status.fase == 4 and not status.afgesloten
    await case.update("afronden", toelichting="terug op school, aanwezigheid hervat", door="koersloket")

    final = await case.result()
    assert final.escalatie is Escalatie.TASKFORCE and final.uitkomst is Uitkomst.TERUG_OP_SCHOOL
    assert "koersloket" in {b.rol for b in await worker.register.notifications_for(case.case_id)}
    calls = [(r.systeem, r.actie) for r in await worker.register.registrations_for(case.case_id)]
    assert calls.count(("taskforce", "aanmelding")) == 1
    assert "kindkans" not in {systeem for systeem, _ in calls}  # VO runs through Koers VO, not PPO's Kindkans
    assert set(await worker.register.escalations_for(case.case_id)) == {"taskforce"}


async def test_vo_pupil_outside_rotterdam_is_not_brought_to_the_taskforce(worker: CaseWorker) -> None:
    start_day = amsterdam_date(await _now(worker)) - timedelta(weeks=13)
    aanmelding = pupil(start_day, age=15, sector="VO", woont_in_rotterdam=False)
    case = await open_case(worker.client, aanmelding, worker.task_queue)
    message = await case.refused(
        "opschalen",
        niveau="taskforce",
        reden_code="overig",
        reden="x",
        afgestemd_met_leerplicht=True,
        afgestemd_met_school=True,
        door="koersloket",
    )
    assert "Rotterdam" in message
    await case.handle.terminate("klaar")


async def test_care_case_with_wijkteam_ending_in_vrijstelling(worker: CaseWorker) -> None:
    start_day = amsterdam_date(await _now(worker)) - timedelta(weeks=5)
    case = await open_case(worker.client, pupil(start_day, age=11), worker.task_queue)
    await case.update("oudergesprek", deelnemers=["school", "ouders", "scp", "wijkteam"])
    await case.update("plan_van_aanpak", in_opp=True, instemming_ouders=True)
    status = await case.update("route", route="3.4", variant="zorgtraject", door="wijkteam")
    assert status.regiehouder is Regiehouder.WIJKTEAM
    assert {(t.rol.value, t.taak) for t in status.open_taken} >= {
        ("wijkteam", "zorgarrangement_kiezen"),
        ("school", "huiswerkpakketten"),
    }
    assert "verleend" in await case.refused("passende_plek", uitkomst="vrijstelling", door="wijkteam")
    assert "Leerplicht" in await case.refused("vrijstelling", status="aangevraagd", door="school")
    status = await case.update("vrijstelling", status="aangevraagd", door="ouders")
    assert ("leerplicht", "vrijstelling_doorzetten") in {(t.rol.value, t.taak) for t in status.open_taken}
    assert "Leerplicht" in await case.refused("vrijstelling", status="verleend", door="ouders")
    await case.update("vrijstelling", status="verleend", door="leerplicht")
    status = await case.update("passende_plek", uitkomst="vrijstelling", door="wijkteam")
    assert status.fase == 4 and not status.afgesloten
    assert ("school", "uitschrijven") in {(t.rol.value, t.taak) for t in status.open_taken}
    await case.update("uitschrijving", uitgeschreven_op=amsterdam_date(await _now(worker)), door="school")
    await case.update("afronden", toelichting="vrijstelling en uitschrijving gecontroleerd", door="scp")

    final = await case.result()
    assert (final.uitkomst, final.vrijstelling, final.regiehouder) == (
        Uitkomst.VRIJSTELLING,
        "verleend",
        Regiehouder.WIJKTEAM,
    )
    roles = {b.rol for b in await worker.register.notifications_for(case.case_id)}
    assert {"wijkteam", "leerplicht", "ouders"} <= roles


async def test_pupil_of_four_runs_the_procedure_without_leerplicht(worker: CaseWorker) -> None:
    start_day = amsterdam_date(await _now(worker)) - timedelta(days=10)
    case = await open_case(worker.client, pupil(start_day, age=4), worker.task_queue)
    status = await case.update("voortgang", toelichting="gesprek gepland")
    assert status.leerplichtig is False
    assert status.leerplichtig_vanaf is not None and status.leerplichtig_vanaf > start_day
    assert not any(t.rol.value == "leerplicht" for t in status.open_taken)
    assert "niet leerplichtig" in await case.refused("leerplicht_registratie", lba_geregistreerd_op=start_day)
    assert "niet leerplichtig" in await case.refused("vrijstelling", status="aangevraagd")
    await case.update("oudergesprek", deelnemers=["school", "ouders", "scp"])
    await case.update("plan_van_aanpak", in_opp=True, instemming_ouders=True)
    await case.update("route", route="3.3", variant="arrangement", door="scp")
    await case.update("passende_plek", uitkomst="terug_op_school")
    await case.update("afronden", toelichting="terug op school", door="scp")

    final = await case.result()
    assert final.uitkomst is Uitkomst.TERUG_OP_SCHOOL
    calls = {r.systeem for r in await worker.register.registrations_for(case.case_id)}
    assert "leerplicht" not in calls and "kindkans" in calls
    assert "leerplicht" not in {b.rol for b in await worker.register.notifications_for(case.case_id)}


async def test_pupil_from_abroad_is_held_by_leerplicht_absoluut_verzuim(worker: CaseWorker) -> None:
    start_day = amsterdam_date(await _now(worker)) - timedelta(days=20)
    case = await open_case(worker.client, pupil(start_day, age=10, uit_buitenland=True), worker.task_queue)
    status = await case.update(
        "leerplicht_registratie", lba_geregistreerd_op=start_day + timedelta(days=2), door="leerplicht_absoluut_verzuim"
    )
    assert status.regiehouder is Regiehouder.LEERPLICHT_ABSOLUUT_VERZUIM
    assert status.contactrol is not None and status.contactrol.value == "leerplicht_absoluut_verzuim"
    assert [t.taak for t in status.open_taken] == ["school_zoeken"]
    assert "buitenland" in await case.refused("oudergesprek", deelnemers=["school", "ouders", "scp"])
    assert "buitenland" in await case.refused("passende_plek", uitkomst="terug_op_school")
    status = await case.update("passende_plek", uitkomst="ingeschreven_andere_school", school_brin="56EF")
    assert status.fase == 4 and not status.afgesloten
    assert "uitschrijving" in await case.refused("uitschrijving", uitgeschreven_op=start_day.isoformat())
    assert "Leerplicht absoluut verzuim" in await case.refused("afronden", toelichting="ingeschreven", door="scp")
    await case.update("afronden", toelichting="ingeschreven op 56EF", door="leerplicht_absoluut_verzuim")

    final = await case.result()
    assert final.uitkomst is Uitkomst.INGESCHREVEN_ANDERE_SCHOOL
    calls = {r.systeem for r in await worker.register.registrations_for(case.case_id)}
    assert calls == set()  # no school, so no Kindkans hulpvraag, no SISA signal
    roles = {b.rol for b in await worker.register.notifications_for(case.case_id)}
    assert "leerplicht_absoluut_verzuim" in roles and "school" not in roles


async def _now(worker: CaseWorker) -> Any:
    from datetime import UTC, datetime

    return datetime.now(UTC)
