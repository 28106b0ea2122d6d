"""Record the histories of finished cases as JSON fixtures for the replay test.

    .venv/bin/python -m tests.histories.record            (re)write tests/histories/*.json
    .venv/bin/python -m tests.histories.record burst      only the named scenario(s)

Each scenario runs a whole case on the time-skipping test server with a real worker and a real case register (a
PostgreSQL of its own in a temporary folder), so terms fire as they would in months of real time. Histories are
recorded with encryption off: they hold only made-up pupils, and the replay test must not depend on a key. Record
new histories when the workflow gains behaviour worth protecting; never re-record to make a failing replay pass —
that failure means running cases would break (use ``workflow.patched`` instead, see ``docs/versioning.md``).

The scenarios follow contract version 2: every event names the role that acted (``door``), an escalation its
``reden_code``; a place found opens phase 4, the old school deregisters where needed and the SCP (PO), the
Koersloket (VO) or Leerplicht absoluut verzuim closes (``afronden``); the twelve weeks open a check. The recordings
made before version 2 stay as they are: move them to ``tests/histories/contract_v1/`` before recording (the recorder
refuses to write over a recording that has no ``contract-v2`` marker). Each scenario checks that the case refused
exactly the events it was meant to refuse, so a recording never holds a story that went astray.
"""

from __future__ import annotations

import asyncio
import base64
import io
import json
import shutil
import sys
import tempfile
import uuid
from collections.abc import Awaitable, Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowHandle
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.case_activities import CaseActivities
from devtools.binaries import temporal_test_server
from devtools.pgserver import LocalPostgres
from tests.cases import eventually
from thuiszitters.cases import start_case
from thuiszitters.people.directory import Directory
from thuiszitters.people.loader import load as load_people
from thuiszitters.register.store import Register
from thuiszitters.settings import Settings
from thuiszitters.temporal.converter import build_data_converter
from workflows.calendar import amsterdam_date
from workflows.contract import Aanmelding, CaseStatus
from workflows.policy import Beleid
from workflows.thuiszitter import CONTINUE_AS_NEW_AFTER_EVENTS, PATCH_CONTRACT_V2, ThuiszitterWorkflow

HERE = Path(__file__).resolve().parent
SETTINGS = Settings(encryptie="uit")
TASK_QUEUE = "histories"

Handle = WorkflowHandle[Any, Any]
SIGNALED = EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED
TASK_COMPLETED = EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED
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


async def settled(handle: Handle, *, refused: int = 0) -> CaseStatus:
    """The case once it has taken every signal sent so far (a workflow task completed after the last one); it
    refused exactly ``refused`` of them in all."""

    async def quiet() -> bool:
        events = [event async for event in handle.fetch_history_events()]
        last_signal = max((e.event_id for e in events if e.event_type == SIGNALED), default=0)
        last_task = max((e.event_id for e in events if e.event_type == TASK_COMPLETED), default=0)
        return last_task > last_signal

    await eventually(quiet, bool, within=60)
    status: CaseStatus = await handle.query("status", result_type=CaseStatus)
    if status.afgewezen_totaal != refused:
        raise RuntimeError(f"{handle.id}: refused {[a.reden for a in status.afgewezen]}, expected {refused}")
    return status


async def open_task(handle: Handle, taak: str) -> str:
    """The id of the case's open task of kind ``taak`` (waits until it is there)."""

    async def status() -> CaseStatus:
        found: CaseStatus = await handle.query("status", result_type=CaseStatus)
        return found

    found = await eventually(status, lambda s: any(t.taak == taak for t in s.open_taken))
    return next(t.id for t in found.open_taken if t.taak == taak and t.id)


async def today_on(env: WorkflowEnvironment) -> str:
    return amsterdam_date(await env.get_current_time()).isoformat()


PLAN: list[tuple[str, dict[str, Any]]] = [
    (
        "oudergesprek",
        {
            "deelnemers": ["school", "ouders", "scp"],
            "wensen_ouders": "Een kleinere groep.",
            "afspraken": "De school zoekt met de SCP een passend aanbod.",
            "door": "school",
        },
    ),
    ("plan_van_aanpak", {"in_opp": True, "instemming_ouders": True, "door": "school"}),
]


async def po_route_32(env: WorkflowEnvironment, today: date) -> list[tuple[str, Handle, str | None]]:
    handle = await start_case(env.client, aanmelding(today, regio="Zuid"), TASK_QUEUE)
    registratie = {"lba_geregistreerd_op": today.isoformat(), "door": "leerplicht"}
    await signals(handle, ("leerplicht_registratie", registratie), *PLAN)
    await signals(
        handle,
        ("route", {"route": "3.2", "door": "school"}),
        ("aanmelding_andere_school", {"school_brin": "34CD", "door": "ouders"}),
    )
    await env.sleep(timedelta(weeks=7))  # the receiving school's term passes without a decision
    plek = {"uitkomst": "ingeschreven_andere_school", "school_brin": "34CD", "door": "school"}
    await signals(handle, ("passende_plek", plek))
    await signals(handle, ("uitschrijving", {"uitgeschreven_op": await today_on(env), "door": "school"}))
    await signals(handle, ("afronden", {"toelichting": "Uitschrijving gecontroleerd.", "door": "scp"}))
    await settled(handle)
    return [("po_route_32", handle, None)]


async def assigned_at_start(env: WorkflowEnvironment, today: date) -> list[tuple[str, Handle, str | None]]:
    """A PO case at a school of the demo directory: its people are assigned at the start (``toewijzen-bij-start``)."""
    handle = await start_case(env.client, aanmelding(today, school_brin="99AA"), TASK_QUEUE)
    await signals(handle, *PLAN, ("route", {"route": "3.1", "door": "school"}))
    await signals(handle, ("passende_plek", {"uitkomst": "terug_op_school", "door": "school"}))
    await signals(handle, ("afronden", {"toelichting": "Weer op school, aanwezigheid gevolgd.", "door": "scp"}))
    status = await settled(handle)
    if status.toegewezen.get("scp") != "scp-99aa-01":
        raise RuntimeError(f"{handle.id}: not assigned from the directory: {status.toegewezen}")
    return [("assigned_at_start", handle, None)]


async def vo_taskforce(env: WorkflowEnvironment, today: date) -> list[tuple[str, Handle, str | None]]:
    pupil = aanmelding(today, sector="VO", geboortedatum=date(today.year - 14, 5, 1))
    handle = await start_case(env.client, pupil, TASK_QUEUE)
    await env.sleep(timedelta(weeks=12, days=1))  # the twelve-week check opens for the Koersloket
    opschalen = {
        "niveau": "taskforce",
        "reden_code": "geen_plaats_reguliere_scholen",
        "reden": "Geen plaats na twee plaatsingsoverleggen.",
        "afgestemd_met_leerplicht": True,
        "afgestemd_met_school": True,
        "door": "koersloket",
    }
    await signals(handle, ("opschalen", opschalen))
    informeren = await open_task(handle, "ouders_informeren_taskforce")
    await signals(
        handle,
        ("taak_afgerond", {"taak_id": informeren, "toelichting": "Ouders gebeld.", "door": "school"}),
        ("huisbezoek", {"samenvatting": "Gesprek met ouders en jongere thuis.", "door": "taskforce"}),
    )
    actie = {"rol": "koersloket", "omschrijving": "Plaatsingsoverleg beleggen.", "uiterlijk": await today_on(env)}
    await signals(
        handle,
        ("taskforce_besluit", {"besluit": "Plaatsing via plaatsingsoverleg.", "acties": [actie], "door": "taskforce"}),
    )
    await env.sleep(timedelta(days=3))  # the action falls overdue
    await signals(
        handle,
        ("passende_plek", {"uitkomst": "terug_op_school", "door": "taskforce"}),
        ("afronden", {"toelichting": "Terug op school.", "door": "koersloket"}),
    )
    await settled(handle)
    return [("vo_taskforce", handle, None)]


async def care_34_vrijstelling(env: WorkflowEnvironment, today: date) -> list[tuple[str, Handle, str | None]]:
    handle = await start_case(env.client, aanmelding(today - timedelta(days=20)), TASK_QUEUE)
    await signals(
        handle,
        *PLAN,
        ("route", {"route": "3.4", "door": "wijkteam"}),
        ("wachtlijst", {"op_wachtlijst": True, "door": "school"}),
    )
    await signals(
        handle,
        ("vrijstelling", {"status": "aangevraagd", "door": "ouders"}),
        ("vrijstelling", {"status": "verleend", "door": "leerplicht"}),
    )
    await signals(
        handle,
        ("passende_plek", {"uitkomst": "vrijstelling", "door": "wijkteam"}),
        ("uitschrijving", {"uitgeschreven_op": await today_on(env), "door": "school"}),
        ("afronden", {"toelichting": "Vrijstelling en uitschrijving gecontroleerd.", "door": "scp"}),
    )
    await settled(handle)
    return [("care_34_vrijstelling", handle, None)]


async def tlv_and_correction(env: WorkflowEnvironment, today: date) -> list[tuple[str, Handle, str | None]]:
    handle = await start_case(env.client, aanmelding(today, fase=0), TASK_QUEUE)
    await env.sleep(timedelta(weeks=4, days=1))  # four weeks without a melding
    await signals(handle, ("melding", {"gemeld_bij_leerplicht": False, "door": "school"}))
    correctie = {"startdatum": (today - timedelta(days=14)).isoformat(), "reden": "LBA", "door": "leerplicht"}
    await signals(
        handle,
        ("startdatum_correctie", correctie),
        *PLAN,
        ("route", {"route": "3.3", "variant": "tlv_sbo", "door": "scp"}),
        ("route", {"route": "3.3", "door": "scp"}),  # refused: a 3.3 route needs its variant
        ("document_toegevoegd", {"soort": "tlv_onderbouwing", "verwijzing": "dms://tlv/1", "door": "scp"}),
    )
    await env.sleep(timedelta(weeks=3))
    plek = {"uitkomst": "ingeschreven_andere_school", "school_brin": "78GH", "door": "school"}
    await signals(
        handle,
        ("passende_plek", plek),
        ("uitschrijving", {"uitgeschreven_op": await today_on(env), "door": "school"}),
        ("afronden", {"toelichting": "Ingeschreven in het SBO.", "door": "scp"}),
    )
    await settled(handle, refused=1)
    return [("tlv_and_correction", handle, None)]


async def four_and_abroad(env: WorkflowEnvironment, today: date) -> list[tuple[str, Handle, str | None]]:
    four = await start_case(env.client, aanmelding(today, geboortedatum=date(today.year - 4, 1, 2)), TASK_QUEUE)
    registratie = {"lba_geregistreerd_op": today.isoformat(), "door": "leerplicht"}
    await signals(four, ("leerplicht_registratie", registratie))  # refused: not leerplichtig yet
    await signals(four, ("intrekken", {"reden": "ten onrechte gemeld", "door": "scp"}))
    await settled(four, refused=1)
    abroad = await start_case(env.client, aanmelding(today, uit_buitenland=True), TASK_QUEUE)
    await env.sleep(timedelta(weeks=2))
    plek = {"uitkomst": "ingeschreven_andere_school", "school_brin": "90IJ", "door": "school"}
    await signals(
        abroad,
        ("passende_plek", plek),
        ("afronden", {"toelichting": "Ingeschreven.", "door": "leerplicht_absoluut_verzuim"}),
    )
    await settled(abroad)
    return [("pupil_of_four_withdrawn", four, None), ("pupil_from_abroad", abroad, None)]


async def twelve_week_check(env: WorkflowEnvironment, today: date) -> list[tuple[str, Handle, str | None]]:
    """The check answered with a beoordeling, back on its date, then left undecided: PO goes to the coordinator."""
    handle = await start_case(env.client, aanmelding(today), TASK_QUEUE)
    await env.sleep(timedelta(weeks=12, days=1))
    terug = (amsterdam_date(await env.get_current_time()) + timedelta(weeks=3)).isoformat()
    beoordeling = {"uitzicht": "Aanmelding elders loopt.", "herbeoordeling_op": terug, "door": "scp"}
    await signals(handle, ("beoordeling", beoordeling))
    await env.sleep(timedelta(weeks=7))  # the check comes back, and its new due date passes undecided
    await signals(handle, ("intrekken", {"reden": "Einde van het scenario.", "door": "coordinator"}))
    status = await settled(handle)
    if "opschalen" not in [line.gebeurtenis for line in status.tijdlijn]:
        raise RuntimeError(f"{handle.id}: the undecided check did not go to the coordinator")
    return [("twelve_week_check", handle, None)]


async def pupil_becomes_leerplichtig(env: WorkflowEnvironment, today: date) -> list[tuple[str, Handle, str | None]]:
    """A pupil of 4 whose fifth birthday is ten days ahead: leerplichtig on the first school day of the month after."""
    fifth = today + timedelta(days=10)
    born = date(fifth.year - 5, fifth.month, min(fifth.day, 28))
    handle = await start_case(env.client, aanmelding(today, geboortedatum=born), TASK_QUEUE)
    await env.sleep(timedelta(weeks=8))
    registratie = {"lba_geregistreerd_op": await today_on(env), "door": "leerplicht"}
    await signals(handle, ("leerplicht_registratie", registratie), *PLAN, ("route", {"route": "3.1", "door": "school"}))
    await signals(
        handle,
        ("passende_plek", {"uitkomst": "terug_op_school", "door": "school"}),
        ("afronden", {"toelichting": "Terug op school.", "door": "scp"}),
    )
    await settled(handle)
    return [("pupil_becomes_leerplichtig", handle, None)]


async def po_to_vo(env: WorkflowEnvironment, today: date) -> list[tuple[str, Handle, str | None]]:
    """A PO case corrected to VO: it leaves PPO (the hulpvraag withdrawn, no coordinator) for Koers VO."""
    handle = await start_case(env.client, aanmelding(today, geboortedatum=date(today.year - 12, 3, 1)), TASK_QUEUE)
    opschalen = {"niveau": "coordinator", "reden_code": "proces_loopt_vast", "reden": "Geen SO-plek.", "door": "scp"}
    await signals(
        handle, *PLAN, ("route", {"route": "3.3", "variant": "tlv_so", "door": "scp"}), ("opschalen", opschalen)
    )
    await signals(handle, ("gegevens_wijzigen", {"sector": "VO", "door": "coordinator"}))
    await signals(
        handle,
        ("route", {"route": "3.3", "variant": "tlv_vso", "door": "koersloket"}),
        ("passende_plek", {"uitkomst": "terug_op_school", "door": "koersloket"}),
        ("afronden", {"toelichting": "Terug op school.", "door": "koersloket"}),
    )
    await settled(handle)
    return [("po_to_vo", handle, None)]


async def continued_as_new(env: WorkflowEnvironment, today: date) -> list[tuple[str, Handle, str | None]]:
    beleid = Beleid(escalatie_termijn_dagen=700, waarschuwingen_dagen=())
    handle = await start_case(env.client, aanmelding(today, beleid=beleid), TASK_QUEUE)
    week = 0
    while True:
        week += 1
        await signals(handle, ("voortgang", {"toelichting": f"week {week}", "door": "school"}))
        await env.sleep(timedelta(days=7))
        description = await handle.describe()
        if description.run_id != handle.first_execution_run_id or week > 200:
            break
    first_run = handle.first_execution_run_id
    await signals(
        handle,
        ("passende_plek", {"uitkomst": "terug_op_school", "door": "school"}),
        ("afronden", {"toelichting": "Terug op school.", "door": "scp"}),
    )
    await settled(handle)
    return [("continued_as_new_first_run", handle, first_run), ("continued_as_new_last_run", handle, "last")]


BURST = 700


async def burst(env: WorkflowEnvironment, today: date) -> list[tuple[str, Handle, str | None]]:
    """A backlog sent at once: the effects run in batches and the case continues as new with some still waiting."""
    handle = await start_case(env.client, aanmelding(today), TASK_QUEUE)
    await asyncio.gather(
        *(handle.signal("voortgang", {"toelichting": f"achterstand {n}", "door": "school"}) for n in range(BURST))
    )
    await eventually(handle.describe, lambda described: described.run_id != handle.first_execution_run_id, within=120)
    first_run = handle.first_execution_run_id
    await signals(handle, ("intrekken", {"reden": "ten onrechte gemeld", "door": "scp"}))
    await settled(handle)
    return [("burst_first_run", handle, first_run), ("burst_last_run", handle, "last")]


SCENARIOS: list[Scenario] = [
    po_route_32,
    vo_taskforce,
    care_34_vrijstelling,
    tlv_and_correction,
    four_and_abroad,
    twelve_week_check,
    pupil_becomes_leerplichtig,
    po_to_vo,
    assigned_at_start,
]
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
        people = HERE.parents[1] / "examples" / "personen.csv"  # the demo directory: cases at its schools get people
        await load_people(people, directory=Directory(register.pool), dry_run=False, out=io.StringIO())
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
            for scenario in chosen:
                today = amsterdam_date(await env.get_current_time())
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


def patches_of(history: dict[str, Any]) -> set[str]:
    """The ids of the ``workflow.patched`` markers in a recorded history."""
    return {
        json.loads(base64.b64decode(payload["data"]))["id"]
        for event in history["events"]
        if event.get("markerRecordedEventAttributes", {}).get("markerName") == "core_patch"
        for payload in event["markerRecordedEventAttributes"]["details"]["patch-data"]["payloads"]
    }


def contract_version(history: dict[str, Any]) -> int:
    """The contract version a recorded case follows: 2 with the ``contract-v2`` marker; a continued run has no
    markers of its own and carries the version in the state it started with."""
    if PATCH_CONTRACT_V2 in patches_of(history):
        return 2
    started = history["events"][0]["workflowExecutionStartedEventAttributes"]
    payloads = started.get("input", {}).get("payloads", [])
    if len(payloads) > 1:
        return int(json.loads(base64.b64decode(payloads[1]["data"])).get("versie", 1))
    return 1


def version_1_recordings(directory: Path = HERE) -> list[Path]:
    """Recordings in ``directory`` of cases under contract version 1: recording over them would lose the only
    histories of version-1 cases; they move to ``contract_v1/`` first."""
    return sorted(path for path in directory.glob("*.json") if contract_version(json.loads(path.read_text())) < 2)


def main(names: list[str]) -> int:
    known = {scenario.__name__: scenario for scenario in ALL}
    if unknown := [name for name in names if name not in known]:
        print(f"Onbekend scenario: {', '.join(unknown)}; kies uit {', '.join(known)}.", file=sys.stderr)
        return 2
    if old := version_1_recordings():
        print(
            f"{len(old)} opnamen van vóór contractversie 2 in {HERE} (o.a. {old[0].name}): verplaats ze eerst naar "
            f"{HERE / 'contract_v1'} (zie docs/versioning.md); ze worden niet overschreven.",
            file=sys.stderr,
        )
        return 2
    chosen = [known[name] for name in names] if names else ALL
    print(f"Geschiedenissen opnemen (nieuwe geschiedenis na {CONTINUE_AS_NEW_AFTER_EVENTS} events) ...", flush=True)
    asyncio.run(record(chosen=chosen))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
