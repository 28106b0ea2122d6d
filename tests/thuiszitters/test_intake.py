"""The intake script against the real dev server with a real worker: it starts the good rows, reports every row
(gestart / al open / GEWEIGERD with the field and the Dutch reason), goes on after a bad row, and exits non-zero
when a row was refused."""

from __future__ import annotations

import io
import json
import re
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.service import RPCError, RPCStatusCode

from tests.cases import status_of
from tests.fixtures.temporal import CaseWorker, case_worker
from thuiszitters import intake
from workflows import search_attributes as sa
from workflows.calendar import amsterdam_date
from workflows.contract import WORKFLOW_TYPE, CaseStatus, Uitkomst, workflow_id_for

HEADER = "leerling_ref,geboortedatum,sector,regio,school_brin,startdatum,fase,woont_in_rotterdam,uit_buitenland"


@pytest.fixture
async def worker(dev_env, register, test_settings, monkeypatch) -> AsyncIterator[CaseWorker]:
    """A real worker on its own task queue; the intake script finds it through THUISZITTERS_TASK_QUEUE."""
    async with case_worker(dev_env, register, test_settings) as running:
        monkeypatch.setenv("THUISZITTERS_TASK_QUEUE", running.task_queue)
        yield running


def today() -> date:
    return amsterdam_date(datetime.now(UTC))


def ref(label: str) -> str:
    return f"{label}-{uuid.uuid4().hex[:10]}"


def born(age: int) -> str:
    return date(today().year - age, 1, 15).isoformat()


def csv_row(leerling_ref: str, **fields: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "leerling_ref": leerling_ref,
        "geboortedatum": born(9),
        "sector": "PO",
        "regio": "Noord",
        "school_brin": "12AB",
        "startdatum": (today() - timedelta(days=14)).isoformat(),
        "fase": "1",
        "woont_in_rotterdam": "ja",
        "uit_buitenland": "nee",
    }
    values.update(fields)
    return values


def write_csv(path: Path, rows: list[dict[str, Any]], columns: str = HEADER) -> Path:
    names = columns.split(",")
    lines = [columns] + [",".join(str(row.get(name, "")) for name in names) for row in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


async def run_intake_cli(client: Client, *args: str) -> tuple[int, dict[int, str], str]:
    """Run the script; its exit code, its report per line of the file, and the whole output."""
    out = io.StringIO()
    code = await intake.main(list(args), client=client, out=out)
    text = out.getvalue()
    per_line = {int(m.group(1)): m.group(2) for m in re.finditer(r"^regel\s+(\d+)\s+(.*)$", text, flags=re.M)}
    return code, per_line, text


async def is_started(client: Client, leerling_ref: str) -> bool:
    try:
        await client.get_workflow_handle(workflow_id_for(leerling_ref)).describe()
    except RPCError as error:
        if error.status == RPCStatusCode.NOT_FOUND:
            return False
        raise
    return True


async def case_status(client: Client, leerling_ref: str) -> CaseStatus:
    return await status_of(client.get_workflow_handle(workflow_id_for(leerling_ref)))


async def test_intake_starts_good_rows_reports_every_row_and_goes_on_after_bad_ones(worker, tmp_path):
    client = worker.client
    earlier, second_earlier = ref("OPEN"), ref("OPEN2")

    # An earlier run of an all-good file: both start, exit 0.
    first = write_csv(
        tmp_path / "eerder.csv", [csv_row(earlier), csv_row(second_earlier, sector="VO", geboortedatum=born(13))]
    )
    code, report, _ = await run_intake_cli(client, str(first))
    assert code == 0
    assert "gestart" in report[2] and "gestart" in report[3]
    open_run = (await client.get_workflow_handle(workflow_id_for(earlier)).describe()).run_id

    good_po, good_vo = ref("PO"), ref("VO")
    missing, future, sector, malformed, extra, no_school, too_old = (
        ref(x) for x in ("ZONDER", "TOEKOMST", "MBO", "DATUM", "KOLOM", "GEENSCHOOL", "TEOUD")
    )
    rows = [
        csv_row(good_po),  # line 2
        csv_row(good_po),  # line 3: the same pupil twice in the file
        csv_row(earlier),  # line 4: already open from the earlier run
        csv_row(missing, startdatum=""),  # line 5
        csv_row(future, startdatum=(today() + timedelta(days=10)).isoformat()),  # line 6
        csv_row(sector, sector="MBO"),  # line 7
        csv_row(malformed, geboortedatum="14-03-2017"),  # line 8
        csv_row(extra, opmerking="belt morgen terug"),  # line 9: a value in a column the contract does not know
        csv_row(no_school, school_brin=""),  # line 10: a rule over several fields (school unless from abroad)
        csv_row(too_old, geboortedatum=born(15)),  # line 11: a PO pupil of 15 (PO is 4 to 13)
        csv_row(
            good_vo, sector="VO", geboortedatum=born(13), regio="Zuid", fase="0", woont_in_rotterdam="nee"
        ),  # line 12
    ]
    path = write_csv(tmp_path / "aanmeldingen.csv", rows, columns=HEADER + ",opmerking")
    code, report, text = await run_intake_cli(client, str(path))

    assert code == 1
    assert sorted(report) == list(range(2, 13))
    assert good_po in report[2] and "gestart" in report[2] and workflow_id_for(good_po) in report[2]
    assert good_po in report[3] and "al open" in report[3]
    assert earlier in report[4] and "al open" in report[4]
    refusals = {
        5: (missing, "veld 'startdatum'", "ontbreekt"),
        6: (future, "veld 'startdatum'", "ligt in de toekomst"),
        7: (sector, "veld 'sector'", "moet een van"),
        8: (malformed, "veld 'geboortedatum'", "geen geldige datum"),
        9: (extra, "veld 'opmerking'", "onbekend veld"),
        10: (no_school, "veld 'school_brin'", "verplicht, behalve voor een leerling uit het buitenland"),
        11: (too_old, "veld 'geboortedatum'", "ouder dan 13 jaar (PO: 4 tot en met 13 jaar)"),
    }
    for line, (who, field, reason) in refusals.items():
        assert who in report[line] and "GEWEIGERD" in report[line], report[line]
        assert field in report[line] and reason in report[line], report[line]
        assert not await is_started(client, who)
    assert good_vo in report[12] and "gestart" in report[12]
    assert "2 gestart, 2 al open, 7 GEWEIGERD" in text

    # The started cases run on the worker's task queue and answer the status query.
    for who, sector_value, regio, fase in ((good_po, "PO", "Noord", 1), (good_vo, "VO", "Zuid", 0)):
        description = await client.get_workflow_handle(workflow_id_for(who)).describe()
        assert description.status == WorkflowExecutionStatus.RUNNING
        assert description.workflow_type == WORKFLOW_TYPE
        assert description.task_queue == worker.task_queue
        assert description.typed_search_attributes.get(sa.SECTOR) == sector_value
        assert description.typed_search_attributes.get(sa.REGIO) == regio
        status = await case_status(client, who)
        assert (status.leerling_ref, status.sector.value, status.regio.value) == (who, sector_value, regio)
        assert status.fase == fase and not status.afgesloten
        assert status.startdatum == today() - timedelta(days=14)

    # The pupil already open keeps the case of the earlier run.
    assert (await client.get_workflow_handle(workflow_id_for(earlier)).describe()).run_id == open_run


async def test_json_lines_input(worker, tmp_path):
    client = worker.client
    good, also_good, bad = ref("JSON"), ref("JSON2"), ref("JSONFOUT")
    startdatum = (today() - timedelta(days=7)).isoformat()
    base = {"geboortedatum": born(13), "sector": "VO", "regio": "Zuid", "school_brin": "34CD", "startdatum": startdatum}
    lines = [
        json.dumps({"leerling_ref": good, **base}),
        "{dit is geen json",
        json.dumps([good]),
        json.dumps({"leerling_ref": bad, **base, "regio": "Oost"}),
        "",
        json.dumps({"leerling_ref": also_good, **base, "uit_buitenland": True, "school_brin": None}),
        json.dumps({"leerling_ref": "Jan de Vries", **base}),  # a name where the pseudonymous reference belongs
    ]
    path = tmp_path / "aanmeldingen.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")

    code, report, _ = await run_intake_cli(client, str(path))

    assert code == 1
    assert "gestart" in report[1] and good in report[1]
    assert "GEWEIGERD" in report[2] and "geen geldige JSON" in report[2]
    assert "GEWEIGERD" in report[3] and "JSON-object" in report[3]
    assert "GEWEIGERD" in report[4] and "veld 'regio'" in report[4]
    assert 5 not in report  # an empty line is no row
    assert "gestart" in report[6] and also_good in report[6]
    assert "GEWEIGERD" in report[7] and "veld 'leerling_ref'" in report[7]
    assert "Jan" not in report[7] and "Vries" not in report[7]
    assert not await is_started(client, bad)
    status = await case_status(client, good)
    assert (status.sector.value, status.regio.value, status.fase) == ("VO", "Zuid", 1)
    from_abroad = await case_status(client, also_good)
    assert from_abroad.uit_buitenland and from_abroad.regiehouder.value == "leerplicht_absoluut_verzuim"


async def test_dry_run_starts_nothing_and_still_reports_each_row(worker, tmp_path):
    client = worker.client
    first, second, bad = ref("DROOG"), ref("DROOG2"), ref("DROOGFOUT")
    path = write_csv(
        tmp_path / "aanmeldingen.csv",
        [csv_row(first), csv_row(second, sector="VO", geboortedatum=born(13)), csv_row(first), csv_row(bad, regio="")],
    )

    code, report, _ = await run_intake_cli(client, str(path), "--dry-run")

    assert code == 1
    assert "geldig" in report[2] and "niet gestart" in report[2]
    assert "geldig" in report[3]
    assert "al open" in report[4] and "regel 2" in report[4]
    assert "GEWEIGERD" in report[5] and "veld 'regio'" in report[5] and "ontbreekt" in report[5]
    for who in (first, second, bad):
        assert not await is_started(client, who)

    all_good = write_csv(tmp_path / "goed.csv", [csv_row(first)])
    code, report, _ = await run_intake_cli(client, str(all_good), "--dry-run")
    assert code == 0 and "geldig" in report[2]
    assert not await is_started(client, first)


async def test_missing_file_exits_2_with_a_dutch_message(tmp_path, capsys):
    out = io.StringIO()
    code = await intake.main([str(tmp_path / "bestaat-niet.csv")], out=out)
    assert code == 2
    assert "Bestand niet gevonden" in capsys.readouterr().err
    assert out.getvalue() == ""


async def test_a_closed_case_pupil_can_be_started_again(worker, tmp_path):
    client = worker.client
    who = ref("OPNIEUW")
    path = write_csv(tmp_path / "aanmelding.csv", [csv_row(who)])

    code, report, _ = await run_intake_cli(client, str(path))
    assert code == 0 and "gestart" in report[2]
    handle = client.get_workflow_handle(workflow_id_for(who))
    first_run = (await handle.describe()).run_id
    await handle.execute_update(
        "intrekken", {"reden": "Ten onrechte gemeld.", "door": "school"}, result_type=CaseStatus
    )
    closed = await client.get_workflow_handle(workflow_id_for(who), run_id=first_run, result_type=CaseStatus).result()
    assert closed.afgesloten and closed.uitkomst is Uitkomst.INGETROKKEN

    code, report, _ = await run_intake_cli(client, str(path))

    assert code == 0 and "gestart" in report[2]
    description = await handle.describe()
    assert description.status == WorkflowExecutionStatus.RUNNING
    assert description.run_id != first_run
    status = await case_status(client, who)
    assert not status.afgesloten and status.uitkomst is None
    assert [regel.gebeurtenis for regel in status.tijdlijn] == ["melding"]
