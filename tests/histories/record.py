"""Record the histories of finished cases as JSON fixtures for the replay test.

    .venv/bin/python -m tests.histories.record            (re)write tests/histories/*.json
    .venv/bin/python -m tests.histories.record burst      only the named scenario(s)

Each scenario runs a whole case on the time-skipping test server with a real worker and a real case register (a
PostgreSQL of its own in a temporary folder), so terms fire as they would in months of real time. Histories are
recorded with encryption off: they hold only made-up pupils, and the replay test must not depend on a key. Record
new histories when the workflow gains behaviour worth protecting; never re-record to make a failing replay pass —
that failure means running cases would break (use ``workflow.patched`` instead, see ``docs/versioning.md``).
"""

from __future__ import annotations

import asyncio
import json
import shutil
import sys
import tempfile
import uuid
from collections.abc import Awaitable, Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from temporalio.client import Client, WorkflowHandle
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.case_activities import CaseActivities
from devtools.binaries import temporal_test_server
from devtools.pgserver import LocalPostgres
from tests.cases import eventually
from thuiszitters.cases import start_case
from thuiszitters.register.store import Register
from thuiszitters.settings import Settings
from thuiszitters.temporal.converter import build_data_converter
from workflows.calendar import amsterdam_date
from workflows.contract import Aanmelding
from workflows.policy import Beleid
from workflows.thuiszitter import CONTINUE_AS_NEW_AFTER_EVENTS, ThuiszitterWorkflow

HERE = Path(__file__).resolve().parent
SETTINGS = Settings(encryptie="uit")
TASK_QUEUE = "histories"

Handle = WorkflowHandle[Any, Any]
Scenario = Callable[[WorkflowEnvironment, date], Awaitable[list[tuple[str, Handle, str | None]]]]


def aanmelding(startdatum: date, **fields: Any) -> Aanmelding:
    values: dict[str, Any] = {
        "leerling_ref": f"REC-{uuid.uuid4().hex[:8]}",
        "geboortedatum": date(startdatum.year - 9, 3, 1),
        "sector": "PO",
        "regio": "Noord",
        "school_brin": "12AB",
        "startdatum": startdatum,
    }
    values.update(fields)
    if values.get("uit_buitenland"):
        values.pop("school_brin", None)
    return Aanmelding.model_validate(values)


async def signals(handle: Handle, *events: tuple[str, dict[str, Any]]) -> None:
    for name, payload in events:
        await handle.signal(name, payload)


PLAN: list[tuple[str, dict[str, Any]]] = [
    ("oudergesprek", {"deelnemers": ["school", "ouders", "scp"]}),
    ("plan_van_aanpak", {"in_opp": True, "instemming_ouders": True}),
]


async def po_route_32(env: WorkflowEnvironment, today: date) -> list[tuple[str, Handle, str | None]]:
    handle = await start_case(env.client, aanmelding(today, regio="Zuid"), TASK_QUEUE)
    await signals(handle, ("leerplicht_registratie", {"lba_geregistreerd_op": today.isoformat()}), *PLAN)
    await signals(handle, ("route", {"route": "3.2"}), ("aanmelding_andere_school", {"school_brin": "34CD"}))
    await env.sleep(timedelta(weeks=7))  # the receiving school's term passes without a decision
    await signals(handle, ("passende_plek", {"uitkomst": "ingeschreven_andere_school", "school_brin": "34CD"}))
    return [("po_route_32", handle, None)]


async def vo_taskforce(env: WorkflowEnvironment, today: date) -> list[tuple[str, Handle, str | None]]:
    pupil = aanmelding(today, sector="VO", geboortedatum=date(today.year - 14, 5, 1))
    handle = await start_case(env.client, pupil, TASK_QUEUE)
    await env.sleep(timedelta(weeks=12, days=1))  # the twelve-week term escalates to the coordinator
    await signals(
        handle,
        (
            "opschalen",
            {
                "niveau": "taskforce",
                "reden": "geen plaats",
                "afgestemd_met_leerplicht": True,
                "afgestemd_met_school": True,
            },
        ),
        ("huisbezoek", {"samenvatting": "verslag"}),
        ("taskforce_besluit", {"besluit": "plaatsing"}),
        ("passende_plek", {"uitkomst": "terug_op_school"}),
    )
    return [("vo_taskforce", handle, None)]


async def care_34_vrijstelling(env: WorkflowEnvironment, today: date) -> list[tuple[str, Handle, str | None]]:
    handle = await start_case(env.client, aanmelding(today - timedelta(days=20)), TASK_QUEUE)
    await signals(handle, *PLAN, ("route", {"route": "3.4"}), ("wachtlijst", {"op_wachtlijst": True}))
    await signals(handle, ("vrijstelling", {"status": "aangevraagd"}), ("vrijstelling", {"status": "verleend"}))
    await signals(handle, ("passende_plek", {"uitkomst": "vrijstelling"}))
    return [("care_34_vrijstelling", handle, None)]


async def tlv_and_correction(env: WorkflowEnvironment, today: date) -> list[tuple[str, Handle, str | None]]:
    handle = await start_case(env.client, aanmelding(today, fase=0), TASK_QUEUE)
    await env.sleep(timedelta(weeks=4, days=1))  # four weeks without a melding
    await signals(handle, ("melding", {"gemeld_bij_leerplicht": False}))
    await signals(
        handle,
        ("startdatum_correctie", {"startdatum": (today - timedelta(days=14)).isoformat(), "reden": "LBA"}),
        *PLAN,
        ("route", {"route": "3.3", "variant": "tlv_sbo"}),
        ("route", {"route": "3.3"}),  # refused: a 3.3 route needs its variant
    )
    await env.sleep(timedelta(weeks=3))
    await signals(handle, ("passende_plek", {"uitkomst": "ingeschreven_andere_school", "school_brin": "78GH"}))
    return [("tlv_and_correction", handle, None)]


async def four_and_abroad(env: WorkflowEnvironment, today: date) -> list[tuple[str, Handle, str | None]]:
    four = await start_case(env.client, aanmelding(today, geboortedatum=date(today.year - 4, 1, 2)), TASK_QUEUE)
    await signals(four, ("leerplicht_registratie", {"lba_geregistreerd_op": today.isoformat()}))  # refused
    await signals(four, ("intrekken", {"reden": "ten onrechte gemeld"}))
    abroad = await start_case(env.client, aanmelding(today, uit_buitenland=True), TASK_QUEUE)
    await env.sleep(timedelta(weeks=2))
    await signals(abroad, ("passende_plek", {"uitkomst": "ingeschreven_andere_school", "school_brin": "90IJ"}))
    return [("pupil_of_four_withdrawn", four, None), ("pupil_from_abroad", abroad, None)]


async def continued_as_new(env: WorkflowEnvironment, today: date) -> list[tuple[str, Handle, str | None]]:
    beleid = Beleid(escalatie_termijn_dagen=700, waarschuwingen_dagen=())
    handle = await start_case(env.client, aanmelding(today, beleid=beleid), TASK_QUEUE)
    week = 0
    while True:
        week += 1
        await signals(handle, ("voortgang", {"toelichting": f"week {week}"}))
        await env.sleep(timedelta(days=7))
        description = await handle.describe()
        if description.run_id != handle.first_execution_run_id or week > 200:
            break
    first_run = handle.first_execution_run_id
    await signals(handle, ("passende_plek", {"uitkomst": "terug_op_school"}))
    return [("continued_as_new_first_run", handle, first_run), ("continued_as_new_last_run", handle, "last")]


BURST = 120


async def burst(env: WorkflowEnvironment, today: date) -> list[tuple[str, Handle, str | None]]:
    """A backlog sent at once: the effects run in batches and the case continues as new with some still waiting."""
    handle = await start_case(env.client, aanmelding(today), TASK_QUEUE)
    await asyncio.gather(
        *(handle.signal("voortgang", {"toelichting": f"achterstand {n}", "door": "school"}) for n in range(BURST))
    )
    await eventually(handle.describe, lambda described: described.run_id != handle.first_execution_run_id, within=120)
    first_run = handle.first_execution_run_id
    await signals(handle, ("intrekken", {"reden": "ten onrechte gemeld"}))
    return [("burst_first_run", handle, first_run), ("burst_last_run", handle, "last")]


SCENARIOS: list[Scenario] = [po_route_32, vo_taskforce, care_34_vrijstelling, tlv_and_correction, four_and_abroad]
ALL: list[Scenario] = [*SCENARIOS, continued_as_new, burst]


async def history_json(client: Client, handle: Handle, run: str | None) -> str:
    run_id: str | None = run
    if run == "last":
        await handle.result()
        run_id = (await handle.describe()).run_id
    target = client.get_workflow_handle(handle.id, run_id=run_id)
    if run is None:
        await target.result()
    history = await target.fetch_history()
    return json.dumps(json.loads(history.to_json()), indent=1, sort_keys=True) + "\n"


async def record(directory: Path = HERE, chosen: list[Scenario] = ALL) -> list[Path]:
    data = Path(tempfile.mkdtemp(prefix="thuiszitters-record-"))
    postgres = LocalPostgres(data / "pg")
    postgres.start()
    written: list[Path] = []
    try:
        register = await Register.connect(postgres.dsn)
        await register.migrate()
        env = await WorkflowEnvironment.start_time_skipping(
            test_server_existing_path=str(temporal_test_server()), data_converter=build_data_converter(SETTINGS)
        )
        from tests.fixtures.temporal import register_search_attributes

        await register_search_attributes(env.client)
        activities = CaseActivities(SETTINGS, register)
        async with (
            env,
            Worker(env.client, task_queue=TASK_QUEUE, workflows=[ThuiszitterWorkflow], activities=activities.all()),
        ):
            today = amsterdam_date(await env.get_current_time())
            for scenario in chosen:
                for name, handle, run in await scenario(env, today):
                    path = directory / f"{name}.json"
                    path.write_text(await history_json(env.client, handle, run))
                    written.append(path)
                    print(f"opgenomen: {path.name}", flush=True)
        await register.close()
    finally:
        postgres.stop("immediate")
        shutil.rmtree(data, ignore_errors=True)
    return written


def main(names: list[str]) -> int:
    known = {scenario.__name__: scenario for scenario in ALL}
    if unknown := [name for name in names if name not in known]:
        print(f"Onbekend scenario: {', '.join(unknown)}; kies uit {', '.join(known)}.", file=sys.stderr)
        return 2
    chosen = [known[name] for name in names] if names else ALL
    print(f"Geschiedenissen opnemen (nieuwe geschiedenis na {CONTINUE_AS_NEW_AFTER_EVENTS} events) ...", flush=True)
    asyncio.run(record(chosen=chosen))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
