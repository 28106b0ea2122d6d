"""Nieuwe aanmelding in the web application (``thuiszitters.web.aanmelding``), on the real Temporal dev server with a
real worker and the real register: a person starts a case by form and lands on its page, is refused a case outside
their scope, reads the Dutch message next to a field that is wrong, hears that a case already runs; an intake file
is checked and started row by row as the intake script does it, within the upload's limits."""

from __future__ import annotations

import io
import json
import re
import uuid
from collections.abc import AsyncIterator
from contextlib import suppress
from datetime import UTC, date, datetime, timedelta
from html import unescape
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode
from temporalio.testing import WorkflowEnvironment

from tests.fixtures.temporal import CaseWorker, case_worker
from tests.thuiszitters.web.helpers import (
    FAST_HASHER,
    client_for,
    form_token,
    local_login,
    persoon,
    settings_for,
    store,
    text_of,
)
from thuiszitters import intake
from thuiszitters.people.directory import RolScope
from thuiszitters.register.store import Register
from thuiszitters.settings import Settings
from thuiszitters.web import aanmelding
from thuiszitters.web.accounts import LocalAccounts
from thuiszitters.web.app import create_app
from thuiszitters.web.auth import MAX_UPLOAD_BYTES
from workflows.calendar import amsterdam_date
from workflows.contract import workflow_id_for

pytestmark = pytest.mark.asyncio(loop_scope="session")

PASSWORD = "een-lang-wachtwoord-1"
OWN, OTHER = "11AA", "22BB"
SCHOOL = persoon("school-11aa-01", "Demo School", RolScope(rol="school", scholen=(OWN,)))
COORDINATOR = persoon("coord-noord-01", "Demo Coördinator", RolScope(rol="coordinator", regio="Noord"))
WIJKTEAM = persoon("wijkteam-noord-01", "Demo Wijkteam", RolScope(rol="wijkteam", regio="Noord"))
HEADER = "leerling_ref,geboortedatum,sector,regio,school_brin,startdatum,fase,woont_in_rotterdam,uit_buitenland"


def today() -> date:
    return amsterdam_date(datetime.now(UTC))


def ref(label: str) -> str:
    return f"{label}-{uuid.uuid4().hex[:10]}"


def born(age: int) -> str:
    return date(today().year - age, 1, 15).isoformat()


def form(leerling_ref: str, **changes: str) -> dict[str, str]:
    """The form of one PO pupil of 9 at the school OWN, at home since two weeks ago."""
    values = {
        "leerling_ref": leerling_ref,
        "geboortedatum": born(9),
        "sector": "PO",
        "regio": "Noord",
        "school_brin": OWN,
        "startdatum": (today() - timedelta(days=14)).isoformat(),
        "fase": "1",
        "woont_in_rotterdam": "ja",
    }
    values.update(changes)
    return {k: v for k, v in values.items() if v is not None}


@pytest.fixture
async def worker(
    dev_env: WorkflowEnvironment, register: Register, test_settings: Settings
) -> AsyncIterator[CaseWorker]:
    async with case_worker(dev_env, register, test_settings) as running:
        yield running


class Started:
    """The pupils a test may have started a case for: their workflows are ended after the test, so the shared dev
    server holds no case of it."""

    def __init__(self, client: Client) -> None:
        self.client = client
        self.refs: list[str] = []

    def __call__(self, label: str) -> str:
        self.refs.append(ref(label))
        return self.refs[-1]

    async def is_started(self, leerling_ref: str) -> bool:
        try:
            await self.client.get_workflow_handle(workflow_id_for(leerling_ref)).describe()
        except RPCError as error:
            if error.status == RPCStatusCode.NOT_FOUND:
                return False
            raise
        return True

    async def end(self) -> None:
        for leerling_ref in self.refs:
            with suppress(RPCError):
                await self.client.get_workflow_handle(workflow_id_for(leerling_ref)).terminate("einde van de test")


@pytest.fixture
async def pupils(worker: CaseWorker) -> AsyncIterator[Started]:
    started = Started(worker.client)
    try:
        yield started
    finally:
        await started.end()


async def logged_in(register: Register, http: httpx.AsyncClient, who: Any) -> None:
    await store(register, who)
    await LocalAccounts(register.pool, FAST_HASHER).set_password(who.persoon_id, PASSWORD)
    assert (await local_login(http, who.persoon_id, PASSWORD)).status_code == 303


@pytest.fixture
async def http(register: Register, worker: CaseWorker) -> AsyncIterator[httpx.AsyncClient]:
    """The application on this test's register and the worker's Temporal, with the school employee logged in."""
    app = create_app(settings_for(), register, hasher=FAST_HASHER, client=worker.client, task_queue=worker.task_queue)
    async with client_for(app) as client:
        await logged_in(register, client, SCHOOL)
        yield client


async def send(http: httpx.AsyncClient, fields: dict[str, str]) -> httpx.Response:
    token = form_token(await http.get("/aanmelden"))
    return await http.post("/aanmelden", data={"csrf": token, **fields})


async def audit(register: Register) -> list[tuple[str, str | None, str, str | None]]:
    rows = await register.pool.fetch(
        "SELECT actie, case_id, resultaat, reden FROM audit_log WHERE actie = 'aanmelden' ORDER BY id"
    )
    return [(r["actie"], r["case_id"], r["resultaat"], r["reden"]) for r in rows]


def error_of(page: httpx.Response, field: str) -> str:
    """The message next to ``field``, and that the field is marked invalid and described by it."""
    found = re.search(rf'<p class="fout" id="aanmelding-{field}-fout">(.*?)</p>', page.text, re.S)
    assert found, f"geen fout bij {field}:\n{text_of(page)}"
    assert re.search(rf'aria-describedby="[^"]*aanmelding-{field}-fout', page.text)
    assert 'aria-invalid="true"' in page.text
    return unescape(re.sub(r"<[^>]+>", "", found.group(1))).removeprefix("Fout: ")


# ---------------------------------------------------------------------------------------------------- one pupil


async def test_a_school_employee_starts_a_case_for_their_school_and_lands_on_its_page(
    http: httpx.AsyncClient, register: Register, pupils: Started
) -> None:
    page = await http.get("/aanmelden")
    assert page.status_code == 200
    text = text_of(page)
    assert "nooit de naam of het BSN" in text
    assert re.search(rf'name="school_brin" type="radio" value="{OWN}"[^>]* checked', page.text)  # its one school
    assert '<a href="/aanmelden" aria-current="page">Nieuwe aanmelding</a>' in page.text

    leerling = pupils("SCHOOL")
    response = await send(http, form(leerling))
    assert response.status_code == 303, text_of(response)
    row = await register.pool.fetchrow("SELECT * FROM cases WHERE leerling_ref = $1", leerling)
    assert row is not None, "de zaak staat niet in het register"
    assert (row["school_brin"], row["sector"], row["regio"], row["fase"]) == (OWN, "PO", "Noord", 1)
    assert response.headers["location"] == "/zaken/" + quote(row["case_id"], safe="")
    assert await pupils.is_started(leerling)

    case_page = await http.get(response.headers["location"])
    assert case_page.status_code == 200
    assert f"De zaak van leerling {leerling} is gestart." in text_of(case_page)
    assert await audit(register) == [("aanmelden", row["case_id"], "toegestaan", None)]


async def test_another_schools_pupil_is_refused_and_nothing_starts(
    http: httpx.AsyncClient, register: Register, pupils: Started
) -> None:
    leerling = pupils("ANDERE")
    response = await send(http, form(leerling, school_brin=OTHER))
    assert response.status_code == 403
    text = text_of(response)
    assert "De school mag voor deze leerling geen zaak starten: dat mag alleen de school van de leerling" in text
    assert f'value="{leerling}"' in response.text  # what was typed stays
    assert not await pupils.is_started(leerling)
    [(actie, case_id, resultaat, reden)] = await audit(register)
    assert (actie, case_id, resultaat) == ("aanmelden", None, "geweigerd")
    assert reden is not None and reden.startswith("De school mag voor deze leerling geen zaak starten")


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"geboortedatum": born(15)}, "geboortedatum", "ouder dan 13 jaar (PO: 4 tot en met 13 jaar)"),
        ({"startdatum": (today() + timedelta(days=3)).isoformat()}, "startdatum", "Ligt in de toekomst"),
        ({"school_brin": ""}, "school_brin", "Verplicht, behalve voor een leerling uit het buitenland"),
        ({"school_brin": "12-ab"}, "school_brin", "Vul een BRIN-code in van vier cijfers of hoofdletters"),
        ({"leerling_ref": "Jan de Vries"}, "leerling_ref", "geen naam of BSN"),
        ({"sector": ""}, "sector", "Kies PO of VO."),
        ({"geboortedatum": "31-02-2015"}, "geboortedatum", "Vul een bestaande datum in"),
    ],
)
async def test_a_wrong_field_gets_its_dutch_message_and_nothing_starts(
    http: httpx.AsyncClient, register: Register, pupils: Started, changes: dict[str, str], field: str, message: str
) -> None:
    leerling = pupils("FOUT")
    fields = form(leerling) | changes
    response = await send(http, fields)
    assert response.status_code == 422, text_of(response)
    assert message in error_of(response, field)
    assert 'role="alert"' in response.text and f'href="#aanmelding-{field}' in response.text
    if field != "leerling_ref":
        assert f'value="{leerling}"' in response.text
        assert not await pupils.is_started(leerling)
    assert await register.pool.fetchval("SELECT count(*) FROM cases") == 0
    assert await audit(register) == []


async def test_a_second_start_for_the_same_pupil_says_a_case_already_runs(
    http: httpx.AsyncClient, register: Register, pupils: Started
) -> None:
    leerling = pupils("TWEEMAAL")
    first = await send(http, form(leerling))
    assert first.status_code == 303
    again = await send(http, form(leerling, startdatum=(today() - timedelta(days=3)).isoformat()))
    assert again.status_code == 409
    assert "Voor deze leerling loopt al een zaak" in error_of(again, "leerling_ref")
    assert f'<a href="{first.headers["location"]}">Bekijk de zaak die al loopt</a>' in again.text
    case_id = await register.pool.fetchval("SELECT case_id FROM cases WHERE leerling_ref = $1", leerling)
    assert await audit(register) == [
        ("aanmelden", case_id, "toegestaan", None),
        ("aanmelden", case_id, "geweigerd", "er loopt al een zaak voor deze leerling"),
    ]


async def test_temporal_not_reachable_keeps_the_form_and_starts_nothing(register: Register) -> None:
    async with client_for(create_app(settings_for(), register, hasher=FAST_HASHER, client=None)) as http:
        await logged_in(register, http, SCHOOL)
        leerling = ref("WEG")
        response = await send(http, form(leerling))
    assert response.status_code == 503
    assert "niet bereikbaar" in text_of(response) and "Er is niets verloren gegaan" in text_of(response)
    assert f'value="{leerling}"' in response.text
    assert await audit(register) == [
        ("aanmelden", None, "geweigerd", "niet bereikbaar: geen verbinding met Temporal ingesteld")
    ]


async def test_a_case_whose_register_row_is_late_gets_a_page_with_its_link(
    register: Register, worker: CaseWorker, pupils: Started
) -> None:
    """No worker on the task queue: the case starts, but nobody records it in the register within the wait."""
    app = create_app(
        settings_for(), register, hasher=FAST_HASHER, client=worker.client, task_queue=f"zonder-worker-{uuid.uuid4()}"
    )
    async with client_for(app) as http:
        await logged_in(register, http, SCHOOL)
        leerling = pupils("LAAT")
        response = await send(http, form(leerling))
    assert response.status_code == 202
    text = text_of(response)
    assert f"De zaak van leerling {leerling} is gestart." in text
    assert "over een paar seconden in de lijst" in text
    [(_, case_id, resultaat, _)] = await audit(register)
    assert resultaat == "toegestaan" and case_id is not None
    assert f'href="/zaken/{quote(case_id, safe="")}"' in response.text


async def test_only_the_roles_that_report_a_thuiszitter_may_open_the_form(register: Register) -> None:
    async with client_for(create_app(settings_for(), register, hasher=FAST_HASHER)) as http:
        await logged_in(register, http, WIJKTEAM)
        for path in ("/aanmelden", "/aanmelden/bestand"):
            page = await http.get(path)
            assert page.status_code == 403
            assert "Het wijkteam mag een zaak niet starten" in text_of(page)
        token = form_token(await http.get("/"))
        refused = await http.post("/aanmelden", data={"csrf": token, **form(ref("WIJK"))})
        assert refused.status_code == 403
    assert [row[2] for row in await audit(register)] == ["geweigerd"] * 3


async def test_a_coordinator_types_the_school_and_starts_only_po_cases_of_their_region(
    register: Register, worker: CaseWorker, pupils: Started
) -> None:
    app = create_app(settings_for(), register, hasher=FAST_HASHER, client=worker.client, task_queue=worker.task_queue)
    async with client_for(app) as http:
        await logged_in(register, http, COORDINATOR)
        page = await http.get("/aanmelden")
        assert 'id="aanmelding-school_brin" name="school_brin" type="text"' in page.text
        assert re.search(r'name="regio" type="radio" value="Noord"[^>]* checked', page.text)
        started = await send(http, form(pupils("COORD"), school_brin=OTHER))
        assert started.status_code == 303
        vo = await send(http, form(pupils("COORDVO"), sector="VO", geboortedatum=born(13)))
        assert vo.status_code == 403
        assert "De thuiszitterscoördinator mag voor deze leerling geen zaak starten" in text_of(vo)


# ------------------------------------------------------------------------------------------------------ a file


def write_csv(path: Path, rows: list[dict[str, str]]) -> Path:
    names = HEADER.split(",")
    lines = [HEADER] + [",".join(row.get(name, "") for name in names) for row in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def csv_row(leerling_ref: str, **changes: str) -> dict[str, str]:
    row = form(leerling_ref, **changes)
    row["woont_in_rotterdam"] = "ja"
    row.setdefault("uit_buitenland", "nee")
    return row


async def upload(
    http: httpx.AsyncClient, content: bytes, *, name: str = "aanmeldingen.csv", dry_run: bool = False
) -> httpx.Response:
    token = form_token(await http.get("/aanmelden/bestand"))
    data = {"csrf": token, **({"alleen_controleren": "ja"} if dry_run else {})}
    return await http.post("/aanmelden/bestand", data=data, files={"bestand": (name, content, "text/csv")})


def rows_of(page: httpx.Response) -> list[tuple[int, str, str, str]]:
    """The result table: (line, pupil, outcome class, explanation) per row."""
    found = []
    for outcome, cells in re.findall(r'<tr class="uitkomst-(\w+)">(.*?)</tr>', page.text, re.S):
        line, who, _, detail = (
            " ".join(unescape(re.sub(r"<[^>]+>", " ", c)).split()) for c in re.findall(r"<td>(.*?)</td>", cells, re.S)
        )
        found.append((int(line), who, outcome, detail))
    return found


async def intake_dry_run(path: Path) -> list[intake.Result]:
    return await intake.run_intake(
        path, client=None, settings=Settings(), dry_run=True, out=io.StringIO(), concurrency=4
    )


async def test_an_upload_starts_the_good_rows_and_reports_every_row_as_the_intake_does(
    http: httpx.AsyncClient, register: Register, pupils: Started, tmp_path: Path
) -> None:
    good = [pupils("GOED1"), pupils("GOED2"), pupils("GOED3")]
    too_old, future = pupils("TEOUD"), pupils("TOEKOMST")
    path = write_csv(
        tmp_path / "aanmeldingen.csv",
        [
            csv_row(good[0]),  # line 2
            csv_row(too_old, geboortedatum=born(15)),  # line 3
            csv_row(good[1], sector="VO", geboortedatum=born(13)),  # line 4
            csv_row(future, startdatum=(today() + timedelta(days=5)).isoformat()),  # line 5
            csv_row(good[2], fase="0"),  # line 6
        ],
    )
    expected = await intake_dry_run(path)

    # only checked: every row as the intake script reports it in a dry run
    checked = await upload(http, path.read_bytes(), dry_run=True)
    assert checked.status_code == 200, text_of(checked)
    assert intake.summary(expected) == "Samenvatting: 2 GEWEIGERD, 3 geldig"
    assert intake.summary(expected) in text_of(checked)
    assert [(line, who, outcome) for line, who, outcome, _ in rows_of(checked)] == [
        (r.line, r.leerling_ref, r.outcome) for r in expected
    ]
    for (_, _, outcome, detail), result in zip(rows_of(checked), expected, strict=True):
        assert detail == (result.detail if outcome != "geldig" else "Klopt; niet gestart (alleen gecontroleerd)")
    assert not any([await pupils.is_started(leerling) for leerling in good])

    # started: the good rows, exactly; the refused ones with the intake's own words
    response = await upload(http, path.read_bytes())
    assert response.status_code == 200, text_of(response)
    shown = rows_of(response)
    assert [(line, who) for line, who, _, _ in shown] == [(r.line, r.leerling_ref) for r in expected]
    for (line, _, outcome, detail), result in zip(shown, expected, strict=True):
        if result.outcome == "geldig":
            assert outcome == "gestart", (line, detail)
            assert detail.startswith("Naar de zaak")
        else:
            assert (outcome, detail) == (result.outcome, result.detail)
    assert "Samenvatting: 3 gestart, 2 GEWEIGERD" in text_of(response)
    assert [await pupils.is_started(leerling) for leerling in (*good, too_old, future)] == [True] * 3 + [False] * 2
    started = [row for row in await audit(register) if row[2] == "toegestaan"]
    run_ids = [(await pupils.client.get_workflow_handle(workflow_id_for(r)).describe()).run_id for r in good]
    assert sorted(case_id or "" for _, case_id, _, _ in started) == sorted(
        f"{workflow_id_for(leerling)}:{run_id}" for leerling, run_id in zip(good, run_ids, strict=True)
    )


async def test_an_uploaded_row_outside_the_persons_scope_is_refused_on_its_own(
    http: httpx.AsyncClient, register: Register, pupils: Started
) -> None:
    mine, theirs = pupils("MIJN"), pupils("HUN")
    lines = [csv_row(mine), csv_row(theirs, school_brin=OTHER)]
    fields = ("leerling_ref", "geboortedatum", "sector", "regio", "school_brin", "startdatum")
    jsonl = "\n".join(json.dumps({name: row[name] for name in fields}) for row in lines)
    response = await upload(http, jsonl.encode(), name="aanmeldingen.jsonl")
    assert response.status_code == 200, text_of(response)
    [first, second] = rows_of(response)
    assert first[:3] == (1, mine, "gestart")
    assert second[:3] == (2, theirs, "geweigerd")
    assert second[3].startswith("De school mag voor deze leerling geen zaak starten")
    assert await pupils.is_started(mine) and not await pupils.is_started(theirs)
    assert [row[2] for row in await audit(register)] == ["geweigerd", "toegestaan"]


async def test_the_upload_is_bounded_with_a_dutch_message(
    http: httpx.AsyncClient, register: Register, pupils: Started
) -> None:
    too_large = (HEADER + "\n").encode() + b"x" * MAX_UPLOAD_BYTES
    response = await upload(http, too_large)
    assert response.status_code == 413
    assert "Het bestand is groter dan 1 MB" in text_of(response)

    names = HEADER.split(",")
    many = [HEADER] + [",".join(csv_row(f"VEEL-{i}")[name] for name in names) for i in range(aanmelding.MAX_ROWS + 1)]
    assert len("\n".join(many)) < MAX_UPLOAD_BYTES
    response = await upload(http, "\n".join(many).encode())
    assert response.status_code == 413
    assert "Het bestand heeft meer dan 2.000 aanmeldingen" in text_of(response)
    assert not await pupils.is_started("VEEL-0")

    far_too_large = b"x" * (3 * MAX_UPLOAD_BYTES)  # more than the body of any form may be
    response = await upload(http, far_too_large)
    assert response.status_code == 413
    assert "Te veel gegevens" in text_of(response)

    for content, name, message in [
        (b"", "", "Kies een bestand"),
        (b"", "leeg.csv", "geen aanmeldingen"),
        ("\ufeffleerling_ref\n".encode("utf-16"), "utf16.csv", "geen tekst in UTF-8"),
        ((HEADER + "\n").encode(), "kop.csv", "geen aanmeldingen"),
    ]:
        response = await upload(http, content, name=name)
        assert response.status_code == 422, (name, text_of(response))
        assert message in text_of(response), name
    assert await register.pool.fetchval("SELECT count(*) FROM cases") == 0
    assert await audit(register) == []
