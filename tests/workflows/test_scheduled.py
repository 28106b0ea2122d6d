"""The scheduled work, triggered through its schedule on the real dev server, with a real worker (in the SDK's
sandbox) and a real case register: the retention anonymises what is due, the weekly report reaches each region's
coordinators over SMTP with counts and case references but no names, the Web UI gets a summary of counts, the runs'
ids and search attributes hold nothing of a pupil, and each run's history replays."""

from __future__ import annotations

import io
import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from temporalio.client import Client, WorkflowHandle
from temporalio.worker import Replayer, Worker

from activities.scheduled import ScheduledActivities
from tests.outside import MailServer
from tests.thuiszitters.temporal.test_schedules import delete_schedules
from tests.thuiszitters.tools.test_retention import Case, record_case, ref
from thuiszitters.register.store import Register
from thuiszitters.settings import Settings
from thuiszitters.temporal.schedules import ensure_schedules
from thuiszitters.tools import schedules as tool
from thuiszitters.tools.report import dutch_date
from workflows.calendar import amsterdam_date
from workflows.contract import Escalatie, Regio, Rol, Sector
from workflows.scheduled import BewaartermijnWorkflow, WeekrapportWorkflow
from workflows.scheduled_work import BewaartermijnSamenvatting, WeekrapportSamenvatting
from workflows.search_attributes import ALL_KEYS

NOW = datetime.now(UTC)
ADRESSEN = {
    "coordinator_noord": "coordinatoren.noord@ppo.example",
    "coordinator_zuid": "coordinatoren.zuid@ppo.example",
}
CASE_ATTRIBUTES = {key.name for key in ALL_KEYS}
"""The project's search attributes (phase, region, weeks at home, ...): a case's, never set on scheduled work."""


@dataclass
class Scheduled:
    client: Client
    register: Register
    mail: MailServer
    task_queue: str


@pytest.fixture
async def scheduled(dev_env, register: Register, test_settings: Settings) -> AsyncIterator[Scheduled]:
    """The schedules on a task queue of this test's own, served by a worker whose coordinators get e-mail."""
    task_queue = f"scheduled-{uuid.uuid4().hex[:8]}"
    async with MailServer() as mail:
        settings = test_settings.model_copy(
            update={
                "task_queue": task_queue,
                "kanalen": {Rol.COORDINATOR: "smtp"},
                "adressen": ADRESSEN,
                "smtp_host": "127.0.0.1",
                "smtp_port": mail.port,
                "smtp_afzender": "thuiszitters@test.example",
            }
        )
        await delete_schedules(dev_env.client)
        await ensure_schedules(dev_env.client, task_queue)
        try:
            async with Worker(
                dev_env.client,
                task_queue=task_queue,
                workflows=[BewaartermijnWorkflow, WeekrapportWorkflow],
                activities=ScheduledActivities(settings, register).all(),
            ):
                yield Scheduled(dev_env.client, register, mail, task_queue)
        finally:
            await delete_schedules(dev_env.client)


async def trigger(client: Client, name: str) -> tuple[str, dict[str, Any]]:
    """``thuiszitters-schema start <name> --wacht``: the run's workflow id and the summary it printed."""
    out = io.StringIO()
    assert await tool.main(["start", name, "--wacht"], client=client, out=out) == 0, out.getvalue()
    first, _, rest = out.getvalue().partition("\n")
    workflow_id = first.rpartition(": ")[2]
    return workflow_id, json.loads(rest)


async def assert_nothing_personal(handle: WorkflowHandle[Any, Any], schedule_id: str, *refs: str) -> None:
    description = await handle.describe()
    assert handle.id.startswith(f"{schedule_id}-")
    names = {pair.key.name for pair in description.typed_search_attributes}
    assert "TemporalScheduledById" in names and not names & CASE_ATTRIBUTES, names
    shown = f"{handle.id} {description.typed_search_attributes} {description.static_summary}"
    for leerling_ref in refs:
        assert leerling_ref not in shown


async def replays(client: Client, handle: WorkflowHandle[Any, Any]) -> None:
    history = await handle.fetch_history()
    replayer = Replayer(workflows=[BewaartermijnWorkflow, WeekrapportWorkflow], data_converter=client.data_converter)
    result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
    assert result.replay_failure is None


async def test_the_triggered_retention_anonymises_what_is_due_and_shows_its_counts(scheduled: Scheduled) -> None:
    due = await record_case(
        scheduled.register,
        ref(),
        sector=Sector.PO,
        regio=Regio.NOORD,
        startdatum=(NOW - timedelta(days=1100)).date(),
        opened=NOW - timedelta(days=1095),
        closed=NOW - timedelta(days=1000),
    )
    recent = await record_case(
        scheduled.register,
        ref(),
        sector=Sector.VO,
        regio=Regio.ZUID,
        startdatum=(NOW - timedelta(days=200)).date(),
        opened=NOW - timedelta(days=199),
        closed=NOW - timedelta(days=30),
    )

    workflow_id, summary = await trigger(scheduled.client, "bewaartermijn")
    handle = scheduled.client.get_workflow_handle_for(BewaartermijnWorkflow.run, workflow_id)
    result = await handle.result()
    assert isinstance(result, BewaartermijnSamenvatting)
    assert summary == result.model_dump(mode="json")
    assert (result.geanonimiseerd, result.per_sector, result.per_regio) == (1, {"PO": 1}, {"Noord": 1})
    assert (result.binnen_termijn, result.open_zaken, result.proefdraai, result.bewaartermijn_dagen) == (
        1,
        0,
        False,
        730,
    )

    cases = {row["case_id"]: row for row in await scheduled.register.pool.fetch("SELECT * FROM cases")}
    assert due.case_id not in cases and recent.case_id in cases
    [anonymised] = [row for row in cases.values() if row["geanonimiseerd_op"] is not None]
    assert anonymised["case_id"].startswith("geanonimiseerd-") and anonymised["regio"] == "Noord"

    # The next night's run finds nothing more to do.
    _, again = await trigger(scheduled.client, "bewaartermijn")
    assert (again["geanonimiseerd"], again["al_geanonimiseerd"]) == (0, 1)

    await assert_nothing_personal(handle, "thuiszitters-bewaartermijn", due.leerling_ref, recent.leerling_ref)
    await replays(scheduled.client, handle)


async def open_case(register: Register, sector: Sector, regio: Regio, days_at_home: int, **extra: Any) -> Case:
    return await record_case(
        register,
        ref(),
        sector=sector,
        regio=regio,
        startdatum=(NOW - timedelta(days=days_at_home)).date(),
        opened=NOW - timedelta(days=days_at_home - 2),
        closed=None,
        **extra,
    )


async def test_the_triggered_weekly_report_reaches_each_regions_coordinators(scheduled: Scheduled) -> None:
    register = scheduled.register
    overdue = await open_case(register, Sector.PO, Regio.NOORD, 120)
    escalated = await open_case(register, Sector.PO, Regio.NOORD, 130, escalatie=Escalatie.COORDINATOR)
    fresh = await open_case(register, Sector.PO, Regio.NOORD, 20)
    secondary = await open_case(register, Sector.VO, Regio.NOORD, 150)  # Koers VO's, not the PPO coordinators'
    south = await open_case(register, Sector.PO, Regio.ZUID, 40)

    workflow_id, summary = await trigger(scheduled.client, "weekrapport")
    handle = scheduled.client.get_workflow_handle_for(WeekrapportWorkflow.run, workflow_id)
    result = await handle.result()
    assert isinstance(result, WeekrapportSamenvatting)
    assert summary == result.model_dump(mode="json")
    per = amsterdam_date(datetime.now(UTC)) - timedelta(days=1)
    assert result.per == per
    counts = {
        r.regio: (r.open_zaken, r.over_termijn, r.over_termijn_niet_opgeschaald, r.opgeschaald) for r in result.regios
    }
    assert counts == {Regio.NOORD: (3, 2, 1, 1), Regio.ZUID: (1, 0, 0, 0)}
    assert {r.kanaal for r in result.regios} == {"smtp"} and (result.open_zaken, result.over_termijn) == (4, 2)

    mails = {mail.rcpt_tos[0]: mail for mail in scheduled.mail.messages.values()}
    assert sorted(mails) == sorted(ADRESSEN.values())
    noord, zuid = mails[ADRESSEN["coordinator_noord"]], mails[ADRESSEN["coordinator_zuid"]]
    assert noord.subject.strip() == f"Weekrapport thuiszitters PO Noord, stand per {dutch_date(per)}"
    assert "Over de twaalfwekentermijn en nog niet opgeschaald: 1 zaak" in noord.body
    assert f"  - thuiszitter-{overdue.leerling_ref}\n" in noord.body
    for elsewhere in (escalated, fresh, secondary, south):
        assert elsewhere.leerling_ref not in noord.body
    assert "Open zaken: 3" in noord.body and "Open zaken: 1" in zuid.body
    assert "Geen open zaak is over de twaalfwekentermijn zonder opschaling." in zuid.body
    for mail, regio in ((noord, "Noord"), (zuid, "Zuid")):
        assert "Jansen" not in mail.body  # who acted in a case (the register's 'door') is nobody's business here
        assert mail.message["Idempotency-Key"] == f"weekrapport:{per.isoformat()}:{regio}"

    # Triggered again the same day: the same keys, so the mail system drops the repeats.
    await trigger(scheduled.client, "weekrapport")
    assert len(scheduled.mail.messages) == 2 and len(scheduled.mail.raw) == 4

    await assert_nothing_personal(handle, "thuiszitters-weekrapport", overdue.leerling_ref, south.leerling_ref)
    await replays(scheduled.client, handle)


async def test_a_region_without_an_address_fails_the_run_and_the_other_region_still_gets_its_report(
    dev_env, register: Register, test_settings: Settings
) -> None:
    task_queue = f"scheduled-{uuid.uuid4().hex[:8]}"
    async with MailServer() as mail:
        settings = test_settings.model_copy(
            update={
                "kanalen": {Rol.COORDINATOR: "smtp"},
                "adressen": {"coordinator_noord": ADRESSEN["coordinator_noord"]},
                "smtp_host": "127.0.0.1",
                "smtp_port": mail.port,
            }
        )
        async with Worker(
            dev_env.client,
            task_queue=task_queue,
            workflows=[WeekrapportWorkflow],
            activities=ScheduledActivities(settings, register).all(),
        ):
            handle = await dev_env.client.start_workflow(
                WeekrapportWorkflow.run, id=f"weekrapport-test-{task_queue}", task_queue=task_queue
            )
            with pytest.raises(Exception) as failure:
                await handle.result()
    cause = failure.value.__cause__
    assert cause is not None and "Weekrapport niet bezorgd (regio Zuid: " in str(cause)
    assert "THUISZITTERS_ADRES_COORDINATOR_ZUID" in str(cause)
    assert [m.rcpt_tos for m in mail.messages.values()] == [[ADRESSEN["coordinator_noord"]]]
