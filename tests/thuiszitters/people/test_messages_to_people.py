"""Messages reach people: a new case is assigned from the directory of people, and its messages go to the assigned
person or to the role's address for the pupil's school, region or sector, never to a role-wide inbox.

On the time-skipping server with a real worker, the real case register (with ``examples/personen.csv`` loaded as the
directory) and a real SMTP server (aiosmtpd) that keeps the envelope of every message. Every role mails; every role
also has a role-wide inbox configured (``THUISZITTERS_ADRES_<ROL>``), which no message may reach.
"""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from temporalio.testing import WorkflowEnvironment

from tests.activities import test_notifications
from tests.activities.test_notifications import MailServer
from tests.cases import end_when_idle, eventually, idle, pupil, start, status_of
from tests.fixtures.temporal import CaseWorker, case_worker
from thuiszitters.people.directory import Directory
from thuiszitters.people.loader import load
from thuiszitters.register.store import Register
from thuiszitters.settings import Settings
from workflows.calendar import amsterdam_date
from workflows.contract import Rol

pytestmark = pytest.mark.asyncio(loop_scope="session")

DEMO_PEOPLE = Path(__file__).resolve().parents[3] / "examples" / "personen.csv"
mail_server = test_notifications.mail_server  # the same real SMTP server (aiosmtpd) as the notification tests
ROLE_WIDE = {rol.value: f"iedereen.{rol.value}@rol-breed.example" for rol in Rol}
"""A city-wide inbox per role: configured, so that a message falling back to it would be seen."""


@pytest.fixture
async def people_worker(
    time_env: WorkflowEnvironment, register: Register, mail_server: MailServer
) -> AsyncIterator[CaseWorker]:
    results = await load(DEMO_PEOPLE, directory=Directory(register.pool), dry_run=False, out=io.StringIO())
    assert results and all(r.outcome == "opgeslagen" for r in results), [r.detail for r in results]
    settings = Settings(
        encryptie="uit",
        adressering="personen",
        kanalen=dict.fromkeys(Rol, "smtp"),
        adressen=ROLE_WIDE,
        smtp_host="127.0.0.1",
        smtp_port=mail_server.port,
    )
    async with case_worker(time_env, register, settings) as worker:
        yield worker


def recipients(mail_server: MailServer) -> list[str]:
    return sorted(address for rcpt_tos, _ in mail_server.received for address in rcpt_tos)


async def test_a_po_case_at_school_a_reaches_school_a_and_its_scp_and_no_one_at_school_b(
    time_env: WorkflowEnvironment, people_worker: CaseWorker, mail_server: MailServer
) -> None:
    today = amsterdam_date(await time_env.get_current_time())
    handle = await start(
        people_worker.client,
        pupil(today - timedelta(days=3), sector="PO", regio="Noord", school_brin="99AA"),
        people_worker.task_queue,
    )
    try:
        await eventually(lambda: idle(handle), bool, within=60)
        status = await status_of(handle)
        # assigned from the directory at the start: school A's people, the coordinator of Noord, Leerplicht
        assert status.toegewezen == {
            "school": "school-99aa-01",
            "scp": "scp-99aa-01",
            "coordinator": "coordinator-noord-01",
            "leerplicht": "leerplicht-noord-01",
        }
        assert {t.rol.value: t.toegewezen_aan for t in status.open_taken}["scp"] == "scp-99aa-01"
        sent = recipients(mail_server)
        assert "scp.99aa@ppo.example" in sent  # the SCP assigned to school A: the melding
        assert "zorg@school-99aa.example" in sent  # the parents' messages go through school A
        assert not [a for a in sent if "99ab" in a], sent  # nobody at school B
        assert not set(sent) & set(ROLE_WIDE.values()), sent  # no role-wide inbox
        assert not [a for a in sent if "koersvo" in a], sent  # a PO case has no Koers VO
    finally:
        await end_when_idle(handle)


async def test_a_vo_case_reaches_the_koersloket_and_no_ppo_role(
    time_env: WorkflowEnvironment, people_worker: CaseWorker, mail_server: MailServer
) -> None:
    today = amsterdam_date(await time_env.get_current_time())
    handle = await start(
        people_worker.client,
        pupil(today - timedelta(days=3), age=13, sector="VO", regio="Noord", school_brin="99BA"),
        people_worker.task_queue,
    )
    try:
        await eventually(lambda: idle(handle), bool, within=60)
        status = await status_of(handle)
        assert status.toegewezen["koersloket"] == "koersloket-01"
        assert not {"scp", "coordinator", "ouderfunctionaris"} & set(status.toegewezen)
        sent = recipients(mail_server)
        assert "koersloket.medewerker@koersvo.example" in sent
        assert not [a for a in sent if "ppo.example" in a], sent
        assert not set(sent) & set(ROLE_WIDE.values()), sent
    finally:
        await end_when_idle(handle)


async def test_without_anyone_in_the_directory_a_message_becomes_a_task_not_a_mail_to_everyone(
    time_env: WorkflowEnvironment, people_worker: CaseWorker, mail_server: MailServer
) -> None:
    today = amsterdam_date(await time_env.get_current_time())
    handle = await start(
        people_worker.client,
        pupil(today - timedelta(days=3), sector="PO", regio="Zuid", school_brin="77ZZ"),  # a school nobody holds
        people_worker.task_queue,
    )
    try:
        await eventually(lambda: idle(handle), bool, within=60)
        status = await status_of(handle)
        assert "scp" not in status.toegewezen and status.toegewezen.get("coordinator") == "coordinator-zuid-01"
        manual = [t for t in status.open_taken if t.taak == "handmatig_afhandelen"]
        assert manual and all("personenlijst" in t.omschrijving for t in manual)
        assert not set(recipients(mail_server)) & set(ROLE_WIDE.values())
    finally:
        await end_when_idle(handle)
