"""Registrations and notifications reach the outside systems and people exactly once, end to end.

A real worker on the dev server, the real case register, every system's endpoint on a local HTTP partner server
and every role's mail on a local SMTP server (``tests/outside.py``). What arrived there must match the register's
once-only ledger row for row, also when a partner fails for a while or refuses for good.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment

from activities.adapters import message_id
from tests.cases import eventually, pupil, start, status_of
from tests.fixtures.temporal import CaseWorker, case_worker
from tests.outside import Fault, MailServer, PartnerSystems
from thuiszitters.register.store import NotificationRow, Register, RegistrationRow
from thuiszitters.settings import Endpoint, Settings
from workflows.calendar import amsterdam_date
from workflows.contract import CaseStatus, Rol, Uitkomst
from workflows.effects import Systeem

pytestmark = pytest.mark.asyncio(loop_scope="session")

AFZENDER = "thuiszitters@ppo-rotterdam.example"
TOKENS = {systeem: f"token-{systeem.value}-7f3a" for systeem in Systeem}
ADRESSEN = {rol.value: f"{rol.value}@rotterdam.example" for rol in Rol} | {
    "coordinator_noord": "coordinator.noord@ppo-rotterdam.example",
    "coordinator_zuid": "coordinator.zuid@ppo-rotterdam.example",
}


@dataclass
class Delivery:
    """A running worker whose registrations and notifications go to the local stand-ins."""

    worker: CaseWorker
    partners: PartnerSystems
    mail: MailServer
    settings: Settings

    @property
    def register(self) -> Register:
        return self.worker.register


def delivery_settings(
    base: Settings, partners: PartnerSystems, mail: MailServer, *, endpoint_timeout: float
) -> Settings:
    return base.model_copy(
        update={
            "endpoints": {
                systeem: Endpoint(
                    url=partners.url_of(systeem.value), token=TOKENS[systeem], timeout_seconds=endpoint_timeout
                )
                for systeem in Systeem
            },
            "kanalen": dict.fromkeys(Rol, "smtp"),
            "adressen": ADRESSEN,
            "smtp_host": "127.0.0.1",
            "smtp_port": mail.port,
            "smtp_afzender": AFZENDER,
        }
    )


@asynccontextmanager
async def delivering(
    env: WorkflowEnvironment, register: Register, base: Settings, *, endpoint_timeout: float
) -> AsyncIterator[Delivery]:
    async with PartnerSystems(slow_seconds=endpoint_timeout + 1.0) as partners, MailServer() as mail:
        settings = delivery_settings(base, partners, mail, endpoint_timeout=endpoint_timeout)
        async with case_worker(env, register, settings) as worker:
            yield Delivery(worker, partners, mail, settings)


@pytest.fixture
async def delivery(
    dev_env: WorkflowEnvironment, register: Register, test_settings: Settings
) -> AsyncIterator[Delivery]:
    """Endpoints with a generous timeout: nothing may be retried unless a partner misbehaves on purpose."""
    async with delivering(dev_env, register, test_settings, endpoint_timeout=10.0) as running:
        yield running


@pytest.fixture
async def impatient_delivery(
    dev_env: WorkflowEnvironment, register: Register, test_settings: Settings
) -> AsyncIterator[Delivery]:
    """Endpoints that give up after one second, so a partner that answers too late costs little time."""
    async with delivering(dev_env, register, test_settings, endpoint_timeout=1.0) as running:
        yield running


async def send(handle: WorkflowHandle[Any, Any], name: str, **payload: Any) -> CaseStatus:
    result: CaseStatus = await handle.execute_update(name, payload, result_type=CaseStatus)
    return result


def case_id(handle: WorkflowHandle[Any, Any]) -> str:
    return f"{handle.id}:{handle.result_run_id}"


def today() -> date:
    """The dev server runs on real time."""
    return amsterdam_date(datetime.now(UTC))


def registration(rows: list[RegistrationRow], systeem: Systeem, actie: str) -> RegistrationRow | None:
    return next((row for row in rows if row.systeem == systeem.value and row.actie == actie), None)


def assert_registrations_arrived_once(delivery: Delivery, rows: list[RegistrationRow], leerling_ref: str) -> None:
    """Every register row was received by its system exactly once (after deduplication), as the row says."""
    cid = rows[0].case_id
    received = {receipt.idempotency_key: receipt for receipt in delivery.partners.received_for(case_id=cid)}
    assert len(received) == len(delivery.partners.received_for(case_id=cid))  # a request without a key shows here
    assert set(received) == {row.sleutel for row in rows}
    for row in rows:
        receipt = received[row.sleutel]
        assert receipt.path == f"/{row.systeem}/{row.actie}"
        assert receipt.authorization == f"Bearer {TOKENS[Systeem(row.systeem)]}"
        assert receipt.body == {
            "leerling_ref": leerling_ref,
            "case_id": cid,
            "actie": row.actie,
            "gegevens": row.gegevens,
        }
        assert (row.status, row.kenmerk, row.antwoord_status, row.fout) == ("verzonden", receipt.kenmerk, 201, None)
        assert row.verzonden_op is not None


def assert_notifications_arrived_once(delivery: Delivery, rows: list[NotificationRow], leerling_ref: str) -> None:
    """Every notification row was mailed to its role's address exactly once (per Message-ID), in Dutch."""
    mails = {
        mid: mail
        for mid, mail in delivery.mail.messages.items()
        if str(mail.message["Idempotency-Key"]).startswith(f"{rows[0].case_id}:")
    }
    assert set(mails) == {message_id(row.sleutel, AFZENDER) for row in rows}
    for row in rows:
        mail = mails[message_id(row.sleutel, AFZENDER)]
        adres = delivery.settings.adres(Rol(row.rol), "Noord")
        assert adres is not None
        assert mail.rcpt_tos == [adres]
        assert mail.message["To"] == adres
        assert mail.message["Idempotency-Key"] == row.sleutel
        assert mail.subject == row.onderwerp
        assert leerling_ref in mail.subject
        assert leerling_ref in mail.body
        assert mail.body.startswith("Beste ")
        assert (row.status, row.kanaal, row.fout) == ("verzonden", "smtp", None)
        assert row.verzonden_op is not None


async def test_a_whole_case_calls_every_system_and_mails_every_role_exactly_once(delivery: Delivery) -> None:
    start_day = today() - timedelta(days=30)
    aanmelding = pupil(start_day, fase=0, sector="PO", regio="Noord")
    ref = aanmelding.leerling_ref
    handle = await start(delivery.worker.client, aanmelding, delivery.worker.task_queue)

    await send(handle, "melding", gemeld_bij_leerplicht=False, door="school")
    await send(handle, "oudergesprek", deelnemers=["school", "ouders", "scp"], door="school")
    await send(handle, "plan_van_aanpak", in_opp=True, instemming_ouders=True, door="school")
    await send(handle, "route", route="3.3", variant="tlv_sbo", door="scp")
    await send(
        handle, "opschalen", niveau="coordinator", reden_code="geen_passende_plek", reden="geen SBO-plek", door="scp"
    )
    status = await send(
        handle,
        "opschalen",
        niveau="taskforce",
        reden_code="geen_passende_plek",
        reden="geen passende plek binnen de termijn",
        afgestemd_met_leerplicht=True,
        afgestemd_met_school=True,
        door="coordinator",
    )
    assert status.fase == 3
    await send(handle, "huisbezoek", samenvatting="gesprek met ouders en leerling thuis", door="taskforce")
    status = await send(handle, "passende_plek", uitkomst="terug_op_school", door="school")
    assert status.fase == 4 and not status.afgesloten
    await send(handle, "afronden", toelichting="terug op school", door="scp")
    final: CaseStatus = await handle.result()
    assert final.afgesloten and final.uitkomst is Uitkomst.TERUG_OP_SCHOOL

    cid = case_id(handle)
    registrations = await delivery.register.registrations_for(cid)
    notifications = await delivery.register.notifications_for(cid)

    # Every system took its part of the procedure, with the data it needs.
    calls = {(row.systeem, row.actie) for row in registrations}
    assert {
        ("leerplicht", "melding_volledig_verzuim"),
        ("kindkans", "hulpvraag_aanmaken"),
        ("sisa", "signaal"),
        ("centrale_aanmeldroute", "aanmelding"),
        ("taskforce", "aanmelding"),
        ("kindkans", "hulpvraag_afsluiten"),
    } <= calls
    for systeem, actie in [(Systeem.LEERPLICHT, "melding_volledig_verzuim"), (Systeem.KINDKANS, "hulpvraag_aanmaken")]:
        row = registration(registrations, systeem, actie)
        assert row is not None and row.gegevens["startdatum"] == start_day.isoformat()
    centrale = registration(registrations, Systeem.CENTRALE_AANMELDROUTE, "aanmelding")
    assert centrale is not None and centrale.gegevens["soort_onderwijs"] == "SBO"
    sent = {(row.rol, row.sjabloon) for row in notifications}
    assert {
        ("scp", "melding_thuiszitter"),
        ("ouderfunctionaris", "ouderfunctionaris_informeren"),
        ("ouders", "toegang_kindkans"),
        ("scp", "tlv_onderbouwing"),
        ("coordinator", "escalatie_coordinator"),
        ("taskforce", "escalatie_taskforce"),
        ("school", "ouders_informeren_taskforce"),
        ("coordinator", "afgesloten"),
        ("leerplicht", "afgesloten"),
    } <= sent

    # What arrived outside is exactly the register's ledger: nothing missing, nothing twice, not even raw.
    assert len(delivery.partners.raw_for(case_id=cid)) == len(registrations)
    assert_registrations_arrived_once(delivery, registrations, ref)
    assert all(row.pogingen == 1 for row in registrations)
    assert len(delivery.mail.raw) == len(notifications)
    assert_notifications_arrived_once(delivery, notifications, ref)
    assert all(row.pogingen == 1 for row in notifications)
    coordinator_mail = delivery.mail.messages[
        message_id(next(r.sleutel for r in notifications if r.rol == "coordinator"), AFZENDER)
    ]
    assert coordinator_mail.rcpt_tos == ["coordinator.noord@ppo-rotterdam.example"]  # the pupil's region


async def test_a_system_that_fails_for_a_while_gets_the_call_once_and_the_case_goes_on(
    impatient_delivery: Delivery,
) -> None:
    delivery = impatient_delivery
    path = "/kindkans/hulpvraag_aanmaken"
    delivery.partners.fail_next(path, Fault.UNAVAILABLE, Fault.SLOW, Fault.DROP)
    aanmelding = pupil(today() - timedelta(days=29))
    handle = await start(delivery.worker.client, aanmelding, delivery.worker.task_queue)
    cid = case_id(handle)

    rows = await eventually(
        lambda: delivery.register.registrations_for(cid),
        lambda rows: (
            (row := registration(rows, Systeem.KINDKANS, "hulpvraag_aanmaken")) is not None
            and row.status == "verzonden"
        ),
        within=30,
    )
    hulpvraag = registration(rows, Systeem.KINDKANS, "hulpvraag_aanmaken")
    assert hulpvraag is not None

    raw = delivery.partners.raw_for(path=path, case_id=cid)
    assert [receipt.outcome for receipt in raw] == ["503", "te_laat", "verbroken", "herhaling"]
    assert {receipt.idempotency_key for receipt in raw} == {hulpvraag.sleutel}
    [received] = delivery.partners.received_for(path=path, case_id=cid)
    assert received.outcome == "te_laat"  # processed once, on the attempt whose answer came too late
    assert (hulpvraag.pogingen, hulpvraag.kenmerk) == (4, received.kenmerk)

    # The case goes on: the effects queued behind the call, and the next phase with its own call.
    status = await send(handle, "oudergesprek", deelnemers=["school", "ouders", "scp"], door="school")
    assert status.fase == 2 and not any(t.taak == "handmatig_afhandelen" for t in status.open_taken)
    await eventually(
        lambda: delivery.register.registrations_for(cid),
        lambda rows: (
            [r.actie for r in rows if r.systeem == "kindkans" and r.status == "verzonden"]
            == ["hulpvraag_aanmaken", "hulpvraag_bijwerken"]
        ),
    )
    await send(handle, "passende_plek", uitkomst="terug_op_school", door="school")
    await send(handle, "afronden", toelichting="terug op school", door="scp")
    final: CaseStatus = await handle.result()
    assert final.afgesloten

    registrations = await delivery.register.registrations_for(cid)
    assert ("sisa", "signaal") in {(r.systeem, r.actie) for r in registrations}
    assert_registrations_arrived_once(delivery, registrations, aanmelding.leerling_ref)
    assert [r.pogingen for r in registrations if r.sleutel != hulpvraag.sleutel] == [1] * (len(registrations) - 1)
    notifications = await delivery.register.notifications_for(cid)
    assert_notifications_arrived_once(delivery, notifications, aanmelding.leerling_ref)


async def test_a_refusal_is_not_retried_and_becomes_a_task_for_a_person(delivery: Delivery) -> None:
    path = "/leerplicht/melding_volledig_verzuim"
    delivery.partners.fail_next(path, Fault.REFUSE)
    aanmelding = pupil(today() - timedelta(days=29))
    handle = await start(delivery.worker.client, aanmelding, delivery.worker.task_queue)
    cid = case_id(handle)

    status = await eventually(
        lambda: status_of(handle), lambda s: any(t.taak == "handmatig_afhandelen" for t in s.open_taken)
    )
    [taak] = [t for t in status.open_taken if t.taak == "handmatig_afhandelen"]
    assert taak.rol is Rol.SCP and taak.id is not None and taak.uiterlijk is not None
    assert "leerplicht" in taak.omschrijving and "422" in taak.omschrijving
    assert not status.afgesloten

    [refused] = delivery.partners.raw_for(path=path, case_id=cid)  # one attempt: no retry of a refusal
    assert refused.outcome == "422"
    assert delivery.partners.received_for(path=path, case_id=cid) == []
    row = registration(await delivery.register.registrations_for(cid), Systeem.LEERPLICHT, "melding_volledig_verzuim")
    assert row is not None
    assert (row.status, row.pogingen, row.verzonden_op) == ("mislukt", 1, None)
    assert row.fout is not None and "422" in row.fout

    # The register shows the task too, and the SCP is told why by mail.
    await eventually(
        lambda: delivery.register.tasks_for(cid),
        lambda tasks: ("scp", taak.taak, taak.id) in {(t.rol, t.taak, t.taak_id) for t in tasks},
    )
    notifications = await eventually(
        lambda: delivery.register.notifications_for(cid),
        lambda rows: any(r.sjabloon == "handmatige_actie" and r.status == "verzonden" for r in rows),
    )
    handmatig = next(r for r in notifications if r.sjabloon == "handmatige_actie")
    mail = delivery.mail.messages[message_id(handmatig.sleutel, AFZENDER)]
    assert mail.rcpt_tos == [ADRESSEN["scp"]]
    assert "422" in mail.body and aanmelding.leerling_ref in mail.body

    # The case is not failed: it goes on to the next phase and can be closed.
    status = await send(handle, "oudergesprek", deelnemers=["school", "ouders", "scp"], door="school")
    assert status.fase == 2 and taak.id in {t.id for t in status.open_taken}
    # The SCP handles it by hand and marks the task done (version 2: taak_afgerond, by the task's role).
    assert taak.id is not None
    with pytest.raises(WorkflowUpdateFailedError) as not_theirs:  # the task is the SCP's, not the school's
        await send(handle, "taak_afgerond", taak_id=taak.id, toelichting="gedaan", door="school")
    assert (
        isinstance(not_theirs.value.cause, ApplicationError) and "mag dit niet doen" in not_theirs.value.cause.message
    )
    status = await send(
        handle, "taak_afgerond", taak_id=taak.id, toelichting="melding bij Leerplicht telefonisch gedaan", door="scp"
    )
    assert taak.id not in {t.id for t in status.open_taken}
    done = next(t for t in status.afgeronde_taken if t.id == taak.id)
    assert (done.via, done.door) == ("taak_afgerond", "scp")
    await eventually(lambda: delivery.register.tasks_for(cid), lambda tasks: taak.id not in {t.taak_id for t in tasks})
    await send(handle, "passende_plek", uitkomst="terug_op_school", door="school")
    await send(handle, "afronden", toelichting="terug op school", door="scp")
    final: CaseStatus = await handle.result()
    assert final.afgesloten and final.uitkomst is Uitkomst.TERUG_OP_SCHOOL
    assert "handmatige_actie" in [regel.gebeurtenis for regel in final.tijdlijn]

    registrations = await delivery.register.registrations_for(cid)
    after = [r for r in registrations if r.sleutel != row.sleutel]
    assert {(r.systeem, r.actie) for r in after} >= {("kindkans", "hulpvraag_aanmaken"), ("sisa", "signaal")}
    assert_registrations_arrived_once(delivery, after, aanmelding.leerling_ref)
    still = await delivery.register.registration(row.sleutel)
    assert still is not None and (still.status, still.pogingen) == ("mislukt", 1)
    assert_notifications_arrived_once(delivery, await delivery.register.notifications_for(cid), aanmelding.leerling_ref)
