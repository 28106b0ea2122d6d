"""A worker process killed (SIGKILL) while a mail is in flight: the next worker finishes the case, nothing is lost and,
by Message-ID, nothing arrives twice.

The worker runs as the real ``python worker.py`` subprocess, configured only through its environment, against the
dev server, a database of its own on the test PostgreSQL, and the local SMTP server of ``tests/outside.py``. The
mail server has taken the first message but holds its answer to DATA; the worker is killed while it waits. Temporal
retries the activity when its start-to-close timeout (30 s) has passed, on the new worker.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from activities.adapters import message_id
from tests.cases import eventually, pupil, start
from tests.fixtures.postgres import fresh_database
from tests.outside import MailServer
from thuiszitters.register.store import Register
from thuiszitters.settings import Settings
from workflows.calendar import amsterdam_date
from workflows.contract import CaseStatus, Rol, Uitkomst

pytestmark = pytest.mark.asyncio(loop_scope="session")

ROOT = Path(__file__).resolve().parents[2]
AFZENDER = "thuiszitters@ppo-rotterdam.example"
ADRESSEN = {rol.value: f"{rol.value}@rotterdam.example" for rol in Rol}


@pytest.fixture
async def crash_register(postgres_dsn: str) -> AsyncIterator[tuple[str, Register]]:
    """A fresh, migrated database for the worker processes, and the register the test reads it with."""
    async with fresh_database(postgres_dsn, max_size=2) as database:
        yield database.dsn, database.register


def worker_environment(
    dev_env: WorkflowEnvironment, database_url: str, task_queue: str, settings: Settings, smtp_port: int
) -> dict[str, str]:
    """Only what ``worker.py`` reads; nothing of the surrounding shell's Temporal or project settings."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("THUISZITTERS_", "TEMPORAL_")) and key != "DATABASE_URL"
    }
    env.update(
        {
            "TEMPORAL_ADDRESS": dev_env.client.service_client.config.target_host,
            "TEMPORAL_NAMESPACE": "default",
            "DATABASE_URL": database_url,
            "THUISZITTERS_TASK_QUEUE": task_queue,
            "THUISZITTERS_SCHEDULES": "uit",  # one per namespace: the shared dev server's belong to test_schedules
            "THUISZITTERS_CODEC_KEYS": settings.codec_keys or "",
            "THUISZITTERS_LOG_FORMAT": "json",
            "PYTHONUNBUFFERED": "1",
            "THUISZITTERS_SMTP_HOST": "127.0.0.1",
            "THUISZITTERS_SMTP_PORT": str(smtp_port),
            "THUISZITTERS_SMTP_AFZENDER": AFZENDER,
        }
    )
    for rol in Rol:
        env[f"THUISZITTERS_KANAAL_{rol.value.upper()}"] = "smtp"
        env[f"THUISZITTERS_ADRES_{rol.value.upper()}"] = ADRESSEN[rol.value]
    return env


async def spawn_worker(env: dict[str, str], log: Path) -> asyncio.subprocess.Process:
    with log.open("wb") as out:
        return await asyncio.create_subprocess_exec(
            sys.executable, "worker.py", cwd=ROOT, env=env, stdout=out, stderr=asyncio.subprocess.STDOUT
        )


async def stop(process: asyncio.subprocess.Process) -> None:
    """SIGTERM (the worker's graceful stop), then SIGKILL when it does not end soon."""
    if process.returncode is not None:
        return
    process.terminate()
    try:
        await asyncio.wait_for(process.wait(), timeout=5)
    except TimeoutError:
        process.kill()
        await process.wait()


def logged(log: Path, event: str) -> list[dict[str, Any]]:
    lines = []
    for line in log.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if isinstance(entry, dict) and entry.get("event") == event:
            lines.append(entry)
    return lines


async def send(handle: WorkflowHandle[Any, Any], name: str, **payload: Any) -> CaseStatus:
    result: CaseStatus = await handle.execute_update(name, payload, result_type=CaseStatus)
    return result


async def finish(handle: WorkflowHandle[Any, Any]) -> CaseStatus:
    """The rest of the procedure, sent while the mail of the case is still waiting for its retry."""
    await send(handle, "oudergesprek", deelnemers=["school", "ouders", "scp"], door="school")
    await send(handle, "plan_van_aanpak", in_opp=True, instemming_ouders=True, door="school")
    await send(handle, "route", route="3.1", door="school")
    await send(handle, "passende_plek", uitkomst="terug_op_school", door="school")
    await send(handle, "afronden", toelichting="terug op school", door="scp")
    result: CaseStatus = await handle.result()
    return result


async def eventually_held(mail: MailServer, count: int) -> None:
    while len(mail.held) < count:
        await mail.wait_for_data(len(mail.raw) + 1)


async def only_one_activity_pending(handles: list[WorkflowHandle[Any, Any]]) -> None:
    for handle in handles:
        await eventually(handle.describe, lambda d: len(d.raw_description.pending_activities) == 1, within=30)


def case_id(handle: WorkflowHandle[Any, Any]) -> str:
    return f"{handle.id}:{handle.result_run_id}"


async def test_a_worker_killed_while_mailing_loses_nothing_and_sends_nothing_twice(
    dev_env: WorkflowEnvironment,
    crash_register: tuple[str, Register],
    test_settings: Settings,
    tmp_path: Path,
) -> None:
    database_url, register = crash_register
    task_queue = f"thuiszitters-crash-{uuid.uuid4().hex[:8]}"
    processes: list[asyncio.subprocess.Process] = []
    logs = [tmp_path / "worker-1.log", tmp_path / "worker-2.log"]
    start_day = amsterdam_date(datetime.now(UTC)) - timedelta(days=29)
    pupils = [pupil(start_day, regio="Noord"), pupil(start_day, regio="Zuid")]
    async with MailServer() as mail:
        # Two cases, each with its first mail in flight when the worker dies. The mail server keeps both senders
        # waiting for its answer to DATA: the first message it has already taken (the sender cannot know), the
        # second it takes only when it answers, so the lost connection leaves that one not accepted. The other
        # mails of a case, sent side by side with the held one, go through.
        mail.hold_next(120, accept_first=True, subject_contains=pupils[0].leerling_ref)
        mail.hold_next(120, accept_first=False, subject_contains=pupils[1].leerling_ref)
        env = worker_environment(dev_env, database_url, task_queue, test_settings, mail.port)
        try:
            processes.append(await spawn_worker(env, logs[0]))
            handles = [await start(dev_env.client, aanmelding, task_queue) for aanmelding in pupils]

            await asyncio.wait_for(eventually_held(mail, 2), timeout=30)
            # The other effects of both cases, run side by side with the held mail, are done and reported.
            await only_one_activity_pending(handles)
            # Held in the order of the holds: the first pupil's (taken by the server), then the second's.
            in_flight = sorted(mail.held, key=lambda m: pupils[1].leerling_ref in m.subject)
            processes[0].kill()
            assert await processes[0].wait() == -signal.SIGKILL
            for mail_in_flight in in_flight:  # the register knows these were started, not finished
                row = await register.notification(str(mail_in_flight.message["Idempotency-Key"]))
                assert row is not None and (row.status, row.pogingen) == ("in_behandeling", 1)

            processes.append(await spawn_worker(env, logs[1]))
            finals = await asyncio.wait_for(asyncio.gather(*(finish(handle) for handle in handles)), timeout=70)
        finally:
            for process in processes:
                await stop(process)
            for log in logs:
                if log.exists():  # shown when the test fails
                    print(f"--- {log.name}\n" + "\n".join(log.read_text(errors="replace").splitlines()[-40:]))

    assert all(final.afgesloten and final.uitkomst is Uitkomst.TERUG_OP_SCHOOL for final in finals)
    # Each case had exactly one mail in flight.
    sleutels = [str(mail.message["Idempotency-Key"]) for mail in in_flight]
    assert {sleutel.rpartition(":")[0].rpartition(":")[0] for sleutel in sleutels} == set(map(case_id, handles))
    taken_first, not_taken = (message_id(sleutel, AFZENDER) for sleutel in sleutels)

    for handle, aanmelding in zip(handles, pupils, strict=True):
        notifications = await register.notifications_for(case_id(handle))
        assert {row.sjabloon for row in notifications} >= {"melding_thuiszitter", "route_gekozen", "afgesloten"}
        # Nothing lost: every notification reached the mail server, once per Message-ID, as the register says.
        assert all(row.status == "verzonden" for row in notifications)
        ids = {message_id(row.sleutel, AFZENDER) for row in notifications}
        assert ids <= set(mail.messages)
        for row in notifications:
            message = mail.messages[message_id(row.sleutel, AFZENDER)]
            assert message.rcpt_tos == [ADRESSEN[row.rol]]
            assert message.subject == row.onderwerp and aanmelding.leerling_ref in message.subject
            # Only the mail that was in flight was tried twice; every other one once.
            assert row.pogingen == (2 if row.sleutel in sleutels else 1)
        # The register holds the case once, closed, with every event.
        case = await register.case(case_id(handle))  # the case completes only after its effects
        assert case is not None and case.afgesloten and case.uitkomst == "terug_op_school"
        assert [e.gebeurtenis for e in await register.events_for(case_id(handle))] == [
            "aanmelding",
            "oudergesprek",
            "plan_van_aanpak",
            "route",
            "passende_plek",
            "afronden",
        ]
    assert len(mail.messages) == sum([len(await register.notifications_for(case_id(h))) for h in handles])

    # What the mail server saw of the two mails in flight: the one it had taken arrived again from the new worker,
    # with the same Message-ID, so it is recognised as a repeat; the one it had not taken arrived once more and
    # only then counted. Every other mail went out once.
    assert [m.accepted for m in mail.raw_for(taken_first)] == [True, True]
    assert [m.accepted for m in mail.raw_for(not_taken)] == [False, True]
    assert all(len(mail.raw_for(mid)) == 1 for mid in mail.messages if mid not in (taken_first, not_taken))
    assert len(mail.raw) == len(mail.messages) + 2

    # The new worker sent both, on Temporal's second attempt; the first worker never saw them through (only the
    # mails sent side by side with them).
    held = set()
    for sleutel in sleutels:
        row = await register.notification(sleutel)
        assert row is not None
        held.add((row.case_id.partition(":")[0], row.rol, row.sjabloon))

    def sent(log: Path, attempt: int) -> set[tuple[str, str, str]]:
        return {
            (e["workflow_id"], e["rol"], e["sjabloon"])
            for e in logged(log, "bericht_verzonden")
            if e["attempt"] == attempt
        }

    assert sent(logs[1], 2) == held
    assert sent(logs[0], 1).isdisjoint(held)
    assert not sent(logs[0], 2)
