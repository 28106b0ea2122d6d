"""The application runs as a member of ``thuiszitters_app``, not as the tables' owner: a real case, the directory of
people, the audit log and retention all work with the rights the migrations grant that role, and no more.

A login role of its own (member of ``thuiszitters_app``) on a fresh migrated database; the worker of a real case on
the time-skipping server records through it.
"""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import pytest
from temporalio.testing import WorkflowEnvironment

from tests.cases import end_when_idle, eventually, idle, pupil, start, status_of
from tests.fixtures.postgres import as_application_role, fresh_database
from tests.fixtures.temporal import case_worker
from thuiszitters.people.audit import AuditLog
from thuiszitters.people.directory import Directory
from thuiszitters.people.loader import load
from thuiszitters.register.store import Register
from thuiszitters.settings import Settings
from thuiszitters.tools.retention import apply_retention
from workflows.calendar import amsterdam_date

pytestmark = pytest.mark.asyncio(loop_scope="session")

DEMO_PEOPLE = Path(__file__).resolve().parents[3] / "examples" / "personen.csv"


@pytest.fixture
async def app_register(postgres_dsn: str) -> AsyncIterator[tuple[Register, str]]:
    """The register of a fresh database, connected as a login role that is only a member of thuiszitters_app."""
    async with (
        fresh_database(postgres_dsn) as database,
        as_application_role(postgres_dsn, database.dsn, "app_test") as dsn,
    ):
        register = await Register.connect(dsn)
        try:
            assert await register.pool.fetchval("SELECT current_user") != "postgres"
            yield register, dsn
        finally:
            await register.close()


async def test_a_case_the_directory_the_audit_log_and_retention_run_as_the_applications_role(
    time_env: WorkflowEnvironment, app_register: tuple[Register, str]
) -> None:
    register, dsn = app_register
    results = await load(DEMO_PEOPLE, directory=Directory(register.pool), dry_run=False, out=io.StringIO())
    assert results and all(r.outcome == "opgeslagen" for r in results), [r.detail for r in results]

    async with case_worker(time_env, register, Settings(encryptie="uit")) as worker:
        today = amsterdam_date(await time_env.get_current_time())
        handle = await start(
            worker.client, pupil(today - timedelta(days=3), school_brin="99AA", regio="Noord"), worker.task_queue
        )
        try:
            await eventually(lambda: idle(handle), bool, within=60)
            status = await status_of(handle)
            assert status.toegewezen.get("scp") == "scp-99aa-01"  # the directory was read at the start
            await handle.signal("intrekken", {"reden": "Ten onrechte gemeld.", "door": "school"})
            await eventually(lambda: handle.describe(), lambda d: d.close_time is not None, within=60)
        finally:
            await end_when_idle(handle)
    case_id = f"{handle.id}:{handle.first_execution_run_id}"
    lines = await register.events_for(case_id)
    assert [line.gebeurtenis for line in lines][-1] == "intrekken"
    assert await register.tasks_for(case_id, open_only=False)
    assert await register.notifications_for(case_id)

    audit = AuditLog(register.pool)
    await audit.record("scp-99aa-01", "scp", "cli", "zaak_lezen", case_id, "toegestaan")
    assert await audit.verify() is None

    connection: asyncpg.Connection[asyncpg.Record] = await asyncpg.connect(dsn)
    try:
        later = datetime.now(UTC) + timedelta(days=3650)  # the closed case is long past its retention period
        result = await apply_retention(connection, period_days=365, now=later)
    finally:
        await connection.close()
    assert result.anonymised == 1
    assert await audit.verify() is None
    assert await register.events_for(case_id) == []  # the case lives on under its anonymous id only
