"""The worker process's own duties: health check, metrics endpoint, graceful stop."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from temporalio.worker import PollerBehaviorSimpleMaximum

from devtools.devstack import free_port
from tests.cases import eventually, pupil
from tests.fixtures.postgres import fresh_database
from thuiszitters.register.store import load_migrations
from thuiszitters.settings import Settings, SettingsError
from thuiszitters.temporal import worker
from workflows.calendar import amsterdam_date
from workflows.contract import CaseStatus


def dev_address(dev_env) -> str:
    return str(dev_env.client.service_client.config.target_host)


async def test_health_check_reports_ok_and_names_what_is_wrong(dev_env, register, test_settings, monkeypatch):
    monkeypatch.setenv("TEMPORAL_ADDRESS", dev_address(dev_env))
    async with fresh_database(test_settings.database_url or "", migrate=False) as database:
        settings = test_settings.model_copy(update={"database_url": database.dsn})
        problems = await worker.check(settings)
        names = [migration.name for migration in load_migrations()]
        assert names[:5] == [
            "001_case_register",
            "002_bewaartermijn",
            "003_taken_en_dossier",
            "004_personen",
            "005_audit",
        ]
        assert problems == ["migraties niet bijgewerkt: " + ", ".join(names)]
        await database.register.migrate()
        assert await worker.check(settings) == []

        broken = settings.model_copy(update={"database_url": "postgresql://postgres@127.0.0.1:1/thuiszitters"})
        problems = await worker.check(broken)
        assert len(problems) == 1 and problems[0].startswith("PostgreSQL niet bereikbaar")

        monkeypatch.setenv("TEMPORAL_ADDRESS", f"127.0.0.1:{free_port()}")
        problems = await worker.check(settings)
        assert [p.split(":")[0] for p in problems] == ["Temporal niet bereikbaar"]


async def test_worker_serves_metrics_and_stops_gracefully(dev_env, register, test_settings, monkeypatch):
    monkeypatch.setenv("TEMPORAL_ADDRESS", dev_address(dev_env))
    port = free_port()
    settings: Settings = test_settings.model_copy(
        update={"metrics_address": f"127.0.0.1:{port}", "task_queue": f"metrics-{port}"}
    )
    stop = asyncio.Event()
    running = asyncio.create_task(worker.run(settings, stop=stop))
    try:
        from thuiszitters.cases import start_case

        aanmelding = pupil(amsterdam_date(datetime.now(UTC)) - timedelta(days=3))
        handle = await start_case(dev_env.client, aanmelding, settings.task_queue)
        await handle.execute_update(
            "passende_plek", {"uitkomst": "terug_op_school", "door": "school"}, result_type=CaseStatus
        )
        await handle.execute_update(
            "afronden", {"toelichting": "terug op school", "door": "scp"}, result_type=CaseStatus
        )
        await handle.result()

        async def metrics() -> str:
            async with httpx.AsyncClient() as http:
                return (await http.get(f"http://127.0.0.1:{port}/metrics")).text

        text = await eventually(metrics, lambda body: "thuiszitters_zaken_afgesloten" in body)
        assert "thuiszitters_zaken_gestart{" in text
        assert 'uitkomst="terug_op_school"' in text
        assert "temporal_workflow_completed" in text  # the SDK's own metrics on the same endpoint
    finally:
        stop.set()
        await asyncio.wait_for(running, timeout=60)
    assert running.done() and running.exception() is None


def test_tuning_from_the_environment_and_its_refusals() -> None:
    options = worker.WorkerTuning.from_env({}).worker_options()
    assert options["max_cached_workflows"] == worker.DEFAULT_MAX_CACHED_WORKFLOWS
    sdk_defaults = {"max_concurrent_activities", "max_concurrent_workflow_tasks", "workflow_task_poller_behavior"}
    assert not sdk_defaults & set(options)

    tuned = worker.WorkerTuning.from_settings(
        Settings.from_env(
            {
                "THUISZITTERS_MAX_CACHED_WORKFLOWS": "250",
                "THUISZITTERS_MAX_CONCURRENT_ACTIVITIES": "40",
                "THUISZITTERS_WORKFLOW_TASK_POLLS": "8",
            }
        )
    )
    options = tuned.worker_options()
    assert (options["max_cached_workflows"], options["max_concurrent_activities"]) == (250, 40)
    assert options["workflow_task_poller_behavior"] == PollerBehaviorSimpleMaximum(8)

    for variable, value, message in [
        ("THUISZITTERS_MAX_CACHED_WORKFLOWS", "0", "moet 1 of meer zijn, niet '0'"),
        ("THUISZITTERS_MAX_CONCURRENT_WORKFLOW_TASKS", "veel", "moet een geheel getal zijn, niet 'veel'"),
        ("THUISZITTERS_WORKFLOW_TASK_POLLS", "1", "moet 2 of meer zijn, niet '1'"),
    ]:
        with pytest.raises(SettingsError, match=f"^{variable}: {message}$"):
            worker.WorkerTuning.from_env({variable: value})
