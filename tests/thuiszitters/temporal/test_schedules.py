"""The schedules of the recurring work on the real dev server: one of each however often they are set up, the
definition they promise, a pause that survives the worker's restart, and the command line that shows, pauses,
resumes and triggers them.

Schedule ids are unique in a namespace, so every test here starts and ends without them (``no_schedules``)."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from temporalio.client import Client, ScheduleActionStartWorkflow, ScheduleDescription, ScheduleOverlapPolicy
from temporalio.service import RPCError, RPCStatusCode

from tests.cases import eventually
from thuiszitters.temporal import worker
from thuiszitters.temporal.schedules import BEWAARTERMIJN, SCHEDULES, TIME_ZONE, WEEKRAPPORT, ensure_schedules
from thuiszitters.tools import schedules as tool


async def delete_schedules(client: Client) -> None:
    for schedule in SCHEDULES:
        try:
            await client.get_schedule_handle(schedule.schedule_id).delete()
        except RPCError as error:
            if error.status != RPCStatusCode.NOT_FOUND:
                raise


@pytest.fixture
async def no_schedules(dev_env) -> AsyncIterator[Client]:
    """The dev server's client, without the two schedules before and after the test."""
    await delete_schedules(dev_env.client)
    try:
        yield dev_env.client
    finally:
        await delete_schedules(dev_env.client)


async def describe(client: Client, schedule_id: str) -> ScheduleDescription:
    return await client.get_schedule_handle(schedule_id).describe()


def ranges(values: Any) -> list[tuple[int, int]]:
    """A calendar field as (first, last) pairs: the server writes a single value's end out."""
    return [(r.start, max(r.end, r.start)) for r in values]


async def command(client: Client, *argv: str) -> tuple[int, str]:
    out = io.StringIO()
    code = await tool.main(list(argv), client=client, out=out)
    return code, out.getvalue()


async def test_ensure_schedules_twice_gives_one_schedule_of_each_with_its_definition(no_schedules: Client) -> None:
    client = no_schedules
    assert await ensure_schedules(client, "thuiszitters-schema-test") == {
        "thuiszitters-bewaartermijn": "aangemaakt",
        "thuiszitters-weekrapport": "aangemaakt",
    }
    assert await ensure_schedules(client, "thuiszitters-schema-test") == {
        "thuiszitters-bewaartermijn": "bijgewerkt",
        "thuiszitters-weekrapport": "bijgewerkt",
    }

    async def listed() -> list[str]:
        return [entry.id async for entry in await client.list_schedules() if entry.id.startswith("thuiszitters-")]

    ids = await eventually(listed, lambda found: len(found) >= 2)
    await asyncio.sleep(1)  # a duplicate would show by now as well
    assert sorted(await listed()) == ["thuiszitters-bewaartermijn", "thuiszitters-weekrapport"] == sorted(ids)

    nightly = await describe(client, "thuiszitters-bewaartermijn")
    weekly = await describe(client, "thuiszitters-weekrapport")
    for description, workflow_type in ((nightly, "BewaartermijnWorkflow"), (weekly, "WeekrapportWorkflow")):
        action = description.schedule.action
        assert isinstance(action, ScheduleActionStartWorkflow)
        assert (action.workflow, action.task_queue) == (workflow_type, "thuiszitters-schema-test")
        assert action.id == description.id  # its runs are '<schedule id>-<time>': no pupil in sight
        assert description.schedule.spec.time_zone_name == TIME_ZONE == "Europe/Amsterdam"
        assert description.schedule.policy.overlap == ScheduleOverlapPolicy.SKIP
        assert not description.schedule.state.paused
        assert description.info.next_action_times
    [night] = nightly.schedule.spec.calendars
    assert (ranges(night.hour), ranges(night.minute), ranges(night.day_of_week)) == ([(2, 2)], [(30, 30)], [(0, 6)])
    [monday] = weekly.schedule.spec.calendars
    assert (ranges(monday.hour), ranges(monday.minute), ranges(monday.day_of_week)) == ([(7, 7)], [(0, 0)], [(1, 1)])
    assert nightly.schedule.state.note == BEWAARTERMIJN.note and "anonimiseert" in BEWAARTERMIJN.note
    assert weekly.schedule.state.note == WEEKRAPPORT.note and "coördinatoren" in WEEKRAPPORT.note

    # The next runs fall at 02:30 and on Monday 07:00 in Amsterdam, summer or winter.
    for moment in nightly.info.next_action_times:
        assert moment.astimezone(tool.AMSTERDAM).strftime("%H:%M") == "02:30"
    for moment in weekly.info.next_action_times:
        assert moment.astimezone(tool.AMSTERDAM).strftime("%a %H:%M") == "Mon 07:00"
    assert weekly.info.next_action_times[1] - weekly.info.next_action_times[0] in (
        timedelta(days=7),
        timedelta(days=7, hours=1),
        timedelta(days=7, hours=-1),
    )


async def test_an_update_changes_the_definition_and_a_pause_survives_it(no_schedules: Client) -> None:
    client = no_schedules
    await ensure_schedules(client, "oude-wachtrij")
    code, said = await command(client, "pauzeer", "bewaartermijn", "--reden", "onderhoud aan de database")
    assert (code, said) == (0, "thuiszitters-bewaartermijn gepauzeerd: onderhoud aan de database\n")

    await ensure_schedules(client, "nieuwe-wachtrij")
    paused = await describe(client, "thuiszitters-bewaartermijn")
    assert paused.schedule.state.paused
    assert paused.schedule.state.note == "onderhoud aan de database"
    other = await describe(client, "thuiszitters-weekrapport")
    assert not other.schedule.state.paused
    for description in (paused, other):
        action = description.schedule.action
        assert isinstance(action, ScheduleActionStartWorkflow) and action.task_queue == "nieuwe-wachtrij"

    code, shown = await command(client, "toon")
    assert code == 0
    assert "thuiszitters-bewaartermijn: GEPAUZEERD, elke nacht om 02:30 (Amsterdamse tijd)" in shown
    assert "  reden:    onderhoud aan de database" in shown
    assert "thuiszitters-weekrapport: actief, elke maandag om 07:00 (Amsterdamse tijd)" in shown
    assert "  volgende: " in shown and "nog niet gedraaid" in shown

    code, said = await command(client, "hervat", "bewaartermijn")
    assert (code, said) == (0, "thuiszitters-bewaartermijn hervat: elke nacht om 02:30 (Amsterdamse tijd)\n")
    resumed = await describe(client, "thuiszitters-bewaartermijn")
    assert not resumed.schedule.state.paused and resumed.schedule.state.note == BEWAARTERMIJN.note


async def test_the_worker_sets_up_the_schedules_at_start_and_a_pause_outlasts_its_restart(
    no_schedules: Client, register, test_settings
) -> None:
    client = no_schedules
    settings = test_settings.model_copy(update={"schedules": "aan", "task_queue": "schema-worker"})

    async def started_worker() -> tuple[asyncio.Event, asyncio.Task[None]]:
        stop = asyncio.Event()
        return stop, asyncio.create_task(worker.run(settings, client=client, stop=stop))

    async def schedule_or_none(schedule_id: str) -> ScheduleDescription | None:
        try:
            return await describe(client, schedule_id)
        except RPCError:
            return None

    stop, running = await started_worker()
    try:
        created = await eventually(
            lambda: schedule_or_none("thuiszitters-weekrapport"), lambda found: found is not None
        )
        assert created is not None and isinstance(created.schedule.action, ScheduleActionStartWorkflow)
        assert created.schedule.action.task_queue == "schema-worker"
        await client.get_schedule_handle("thuiszitters-weekrapport").pause(note="vakantie")
    finally:
        stop.set()
        await asyncio.wait_for(running, timeout=60)

    before = (await describe(client, "thuiszitters-weekrapport")).info.last_updated_at
    stop, running = await started_worker()
    try:
        updated = await eventually(
            lambda: describe(client, "thuiszitters-weekrapport"), lambda d: d.info.last_updated_at != before
        )
        assert updated.schedule.state.paused and updated.schedule.state.note == "vakantie"
    finally:
        stop.set()
        await asyncio.wait_for(running, timeout=60)

    # Switched off, the worker leaves the schedules as they are.
    await delete_schedules(client)
    off = settings.model_copy(update={"schedules": "uit"})
    stop = asyncio.Event()
    running = asyncio.create_task(worker.run(off, client=client, stop=stop))
    await asyncio.sleep(2)
    stop.set()
    await asyncio.wait_for(running, timeout=60)
    assert await schedule_or_none("thuiszitters-bewaartermijn") is None


async def test_the_command_line_names_what_it_cannot_do(no_schedules: Client, capsys, monkeypatch) -> None:
    client = no_schedules
    monkeypatch.delenv("THUISZITTERS_TASK_QUEUE", raising=False)
    code, _ = await command(client, "pauzeer", "bewaartermijn")
    assert code == 1
    assert "Fout: schema thuiszitters-bewaartermijn bestaat nog niet" in capsys.readouterr().err
    code, shown = await command(client)
    assert code == 0 and shown.count("ontbreekt") == 2
    code, said = await command(client, "inrichten")
    assert code == 0 and "thuiszitters-bewaartermijn: aangemaakt (taakwachtrij thuiszitters)" in said
    code, _ = await command(client, "start", "vakantierooster")
    assert code == 1
    assert "Fout: onbekend schema 'vakantierooster'; kies uit bewaartermijn, weekrapport" in capsys.readouterr().err
