"""The team views over a real register: the coordinator's region (and its CSV export), the Kerngroep's agenda and
list, and Leerplicht's list. One world of cases is written straight into the register's tables; each test logs a
person in with a local account and reads the page as a browser would, table by table.

The world (days relative to today in Amsterdam; PO Noord is the coordinator's region):

=====  ========  ======  =====  ====  ======================================================================
case   sector    regio   school fase  what it is for
=====  ========  ======  =====  ====  ======================================================================
N1     PO        Noord   99AA   2     check open, decision 3 days late; escalated to the coordinator
N2     PO        Noord   99AB   1     check open, decision due in 5 days
N3     PO        Noord   99AA   1     20 days at home: within the term
N4     PO        Noord   99AB   3     120 days, no check in the register, not escalated (version 1)
N5     PO        Noord   99AA   2     130 days, decided: uitzicht
N6     PO        Noord   99AA   -     closed two days ago (check still 'open' in its last row)
N7     PO        Noord   99AB   4     check open but phase 4: no longer a twelve-week question
Z1     PO        Zuid    99ZA   1     like N1, in the other region
V1     VO        Noord   99BA   1     like N1, in VO
K1-K6  PO/VO     Zuid    ...          escalated to the Taskforce (the Kerngroep's agenda)
L1-L6  PO        Zuid    99LA/B       Leerplicht's work
=====  ========  ======  =====  ====  ======================================================================
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from html.parser import HTMLParser
from typing import Any

import httpx
import pytest

from tests.thuiszitters.web.helpers import FAST_HASHER, MakeApp, client_for, local_login, persoon, store, text_of
from thuiszitters.people.directory import RolScope
from thuiszitters.register import teams as register_teams
from thuiszitters.register.store import Register
from thuiszitters.web.accounts import LocalAccounts
from workflows.calendar import amsterdam_date, amsterdam_moment

TODAY = amsterdam_date(datetime.now(UTC))
PASSWORD = "een-lang-wachtwoord-voor-teams-1"
SECRET_TEXT = "Moeder vertelde over de angst van haar zoon"
"""Free text written by people, kept in the dossier and a task's note: it must never reach the export."""

COORDINATOR_NOORD = persoon(
    "coordinator-noord-01", "Demo Coördinator Noord", RolScope(rol="coordinator", regio="Noord")
)
SCHOOL = persoon("school-99aa-01", "Demo School 99AA", RolScope(rol="school", scholen=("99AA",)))
TASKFORCE = persoon("taskforce-01", "Demo Taskforce", RolScope(rol="taskforce", alle=True))
LEERPLICHT = persoon("leerplicht-01", "Demo Leerplicht", RolScope(rol="leerplicht", scholen=("99LA", "99LB")))
LEERPLICHT_STAD = persoon("leerplicht-stad-01", "Demo Leerplicht Stad", RolScope(rol="leerplicht", alle=True))
LAV = persoon("lav-01", "Demo Absoluut Verzuim", RolScope(rol="leerplicht_absoluut_verzuim", alle=True))
PEOPLE = (COORDINATOR_NOORD, SCHOOL, TASKFORCE, LEERPLICHT, LEERPLICHT_STAD, LAV)


def day(offset: int) -> date:
    return TODAY + timedelta(days=offset)


def dutch(offset: int) -> str:
    return day(offset).strftime("%d-%m-%Y")


# ----------------------------------------------------------------------------------------------------- the world


@dataclass
class World:
    register: Register
    next_event: dict[str, int] = field(default_factory=dict)

    async def case(
        self,
        ref: str,
        *,
        start: int,
        sector: str = "PO",
        regio: str = "Noord",
        school: str | None = "99AA",
        fase: int = 1,
        escalatie: str = "geen",
        closed_days_ago: int | None = None,
        check: str | None = None,
        check_due: int | None = None,
        meeting: int | None = None,
        on_list: bool = False,
        leerplichtig_vanaf: int | None = None,
        version: int = 2,
    ) -> None:
        opened = amsterdam_moment(day(start), 10)
        closed = amsterdam_moment(day(-closed_days_ago), 11) if closed_days_ago is not None else None
        await self.register.pool.execute(
            """
            INSERT INTO cases (case_id, workflow_id, leerling_ref, sector, regio, school_brin, leerplichtig,
                startdatum, fase, regiehouder, escalatie, route, wachtlijst, afgesloten, uitkomst,
                laatste_volgnummer, geopend_op, afgesloten_op, bijgewerkt_op, contract_versie, check_stand,
                check_uiterlijk, kerngroep_bespreking_op, op_kerngroep_lijst, leerplichtig_vanaf)
            VALUES ($1, $2, $3, $4, $5, $6, true, $7, $8, 'school', $9, NULL, false, $10, $11, 1, $12, $13, $12,
                $14, $15, $16, $17, $18, $19)
            """,
            f"zaak-{ref}",
            f"thuiszitter-{ref}",
            f"LL-{ref}",
            sector,
            regio,
            school,
            day(start),
            fase,
            escalatie,
            closed is not None,
            "terug_op_school" if closed is not None else None,
            opened,
            closed,
            version,
            check,
            day(check_due) if check_due is not None else None,
            day(meeting) if meeting is not None else None,
            on_list,
            day(leerplichtig_vanaf) if leerplichtig_vanaf is not None else None,
        )
        self.next_event[ref] = 1

    async def task(
        self,
        ref: str,
        rol: str,
        taak: str,
        *,
        due: int | None = None,
        assignee: str | None = None,
        closed: bool = False,
        omschrijving: str | None = None,
    ) -> None:
        count = await self.register.pool.fetchval("SELECT count(*) FROM tasks WHERE case_id = $1", f"zaak-{ref}")
        await self.register.pool.execute(
            """
            INSERT INTO tasks (case_id, rol, taak, uiterlijk, geopend_op, gesloten_op, taak_id, omschrijving,
                toegewezen_aan, toelichting)
            VALUES ($1, $2, $3, $4, now() - interval '30 days', $5, $6, $7, $8, $9)
            """,
            f"zaak-{ref}",
            rol,
            taak,
            day(due) if due is not None else None,
            datetime.now(UTC) if closed else None,
            f"T{count + 1}",
            omschrijving,
            assignee,
            SECRET_TEXT if closed else None,
        )

    async def event(self, ref: str, gebeurtenis: str, *, days_ago: int, door: str = "leerplicht") -> None:
        number = self.next_event[ref]
        self.next_event[ref] = number + 1
        await self.register.pool.execute(
            """
            INSERT INTO case_events (case_id, volgnummer, tijd, gebeurtenis, door, fase, regiehouder, escalatie)
            VALUES ($1, $2, $3, $4, $5, 1, 'school', 'geen')
            """,
            f"zaak-{ref}",
            number,
            amsterdam_moment(day(-days_ago), 14),
            gebeurtenis,
            door,
        )

    async def dossier(self, ref: str, dossier: dict[str, Any]) -> None:
        await self.register.pool.execute(
            "INSERT INTO case_dossier (case_id, dossier, dossier_volgnummer, bijgewerkt_op) VALUES ($1, $2, 1, now())",
            f"zaak-{ref}",
            dossier,
        )


@pytest.fixture
async def world(register: Register) -> World:
    w = World(register)
    # the coordinator's region, and the cases just outside it
    await w.case("N1", start=-100, school="99AA", fase=2, escalatie="coordinator", check="open", check_due=-3)
    await w.case("N2", start=-90, school="99AB", fase=1, check="open", check_due=5, on_list=True)
    await w.case("N3", start=-20, school="99AA", fase=1)
    await w.case("N4", start=-120, school="99AB", fase=3, version=1)
    await w.case("N5", start=-130, school="99AA", fase=2, check="uitzicht")
    await w.case("N6", start=-200, school="99AA", fase=3, check="open", check_due=-60, closed_days_ago=2)
    await w.case("N7", start=-100, school="99AB", fase=4, check="open", check_due=-10)
    await w.case("Z1", start=-100, regio="Zuid", school="99ZA", check="open", check_due=-3)
    await w.case("V1", start=-100, sector="VO", school="99BA", check="open", check_due=-3)
    await w.task("N1", "school", "oudergesprek_organiseren", due=-2)
    await w.task("N1", "scp", "hulpvraag_controleren", due=3, assignee="scp-99aa-01")
    await w.task("N1", "coordinator", "besluit_taskforce", due=-3, omschrijving="Besluit of de zaak naar de Taskforce")
    await w.task("N1", "school", "voortgang_melden", due=-20, closed=True)
    await w.task("N2", "school", "passende_school_zoeken")
    await w.task("N2", "ouders", "schriftelijk_aanmelden")
    await w.task("N6", "school", "voortgang_melden", due=-5)
    await w.task("Z1", "school", "oudergesprek_organiseren", due=-2)
    await w.task("V1", "koersloket", "twaalf_weken_besluit", due=-3)
    await w.dossier("N1", {"huisbezoek": {"op": day(-4).isoformat(), "samenvatting": SECRET_TEXT}, "besluiten": []})
    # the Kerngroep: cases escalated to the Taskforce
    await w.case("K1", start=-150, regio="Zuid", school="99ZA", escalatie="taskforce", meeting=7, on_list=True)
    await w.case("K2", start=-100, regio="Zuid", sector="VO", school="99ZB", escalatie="taskforce", meeting=7)
    await w.case("K3", start=-200, regio="Zuid", school="99ZA", escalatie="taskforce", meeting=21)
    await w.case("K4", start=-300, regio="Zuid", school="99ZC", escalatie="taskforce")
    await w.case("K5", start=-110, regio="Zuid", school="99ZA", escalatie="taskforce", meeting=-7)
    await w.case("K6", start=-400, regio="Zuid", school="99ZA", escalatie="taskforce", meeting=7, closed_days_ago=1)
    await w.dossier("K1", {"huisbezoek": {"op": day(-2).isoformat(), "samenvatting": "Bezocht"}, "besluiten": []})
    await w.task("K1", "taskforce", "besluit_nemen", due=7)
    await w.task("K2", "taskforce", "huisbezoek", due=6)
    await w.dossier(
        "K3",
        {
            "huisbezoek": {"op": day(-20).isoformat(), "samenvatting": "Bezocht"},
            "besluiten": [{"op": day(-1).isoformat(), "besluit": "Een plek op school X", "acties": []}],
        },
    )
    await w.task("K5", "taskforce", "besluit_nemen", due=-7)
    await w.dossier("K5", {"huisbezoek": {"op": day(-9).isoformat(), "samenvatting": "Bezocht"}})
    # Leerplicht
    await w.case("L1", start=-30, regio="Zuid", school="99LA")
    await w.case("L2", start=-25, regio="Zuid", school="99LB")
    await w.case("L3", start=-40, regio="Zuid", school="99LZ")
    await w.case("L4", start=-15, regio="Zuid", school=None)
    await w.case("L5", start=-10, regio="Zuid", school="99LA", fase=0, leerplichtig_vanaf=30)
    await w.case("L6", start=-50, regio="Zuid", school="99LA", leerplichtig_vanaf=-10)
    await w.task("L1", "leerplicht", "lba_registreren", due=-1)
    await w.task("L2", "leerplicht", "lba_registreren", due=4)
    await w.task("L3", "leerplicht", "lba_registreren", due=-6)
    await w.task("L4", "leerplicht_absoluut_verzuim", "lba_registreren", due=2)
    await w.task("L6", "leerplicht", "lba_registreren", due=-9, closed=True)
    await w.task("L2", "leerplicht", "vrijstelling_doorzetten")
    await w.event("L1", "start", days_ago=30, door="school")
    await w.event("L1", "startdatum_correctie", days_ago=3)
    await w.event("L2", "startdatum_correctie", days_ago=100)
    await w.event("L3", "startdatum_correctie", days_ago=1)
    await w.event("L2", "vrijstelling", days_ago=5)
    await store(register, *PEOPLE)
    accounts = LocalAccounts(register.pool, FAST_HASHER)
    for p in PEOPLE:
        await accounts.set_password(p.persoon_id, PASSWORD)
    return w


@asynccontextmanager
async def logged_in(make_app: MakeApp, persoon_id: str) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(make_app()) as http:
        response = await local_login(http, persoon_id, PASSWORD)
        assert response.status_code == 303, response.text
        yield http


# ---------------------------------------------------------------------------------------------- reading pages


class _Tables(HTMLParser):
    """Every table of a page: its caption and the cell texts of each body row (headers and data alike)."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: list[tuple[str, list[list[str]]]] = []
        self._caption: list[str] | None = None
        self._row: list[str] | None = None
        self._cell: list[str] | None = None
        self._section = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self.tables.append(("", []))
        elif tag == "caption":
            self._caption = []
        elif tag in ("thead", "tbody", "tfoot"):
            self._section = tag
        elif tag == "tr":
            self._row = []
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "caption" and self._caption is not None:
            self.tables[-1] = (" ".join("".join(self._caption).split()), self.tables[-1][1])
            self._caption = None
        elif tag in ("td", "th") and self._cell is not None and self._row is not None:
            self._row.append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "tr" and self._row is not None:
            if self._section == "tbody":
                self.tables[-1][1].append(self._row)
            self._row = None

    def handle_data(self, data: str) -> None:
        for part in (self._cell, self._caption):
            if part is not None:
                part.append(data)


def tables(page: httpx.Response) -> dict[str, list[list[str]]]:
    parser = _Tables()
    parser.feed(page.text)
    return dict(parser.tables)


def table(page: httpx.Response, caption_start: str) -> list[list[str]]:
    found = [rows for caption, rows in tables(page).items() if caption.startswith(caption_start)]
    assert len(found) == 1, f"geen tabel '{caption_start}' in {list(tables(page))}"
    return found[0]


def caption(page: httpx.Response, caption_start: str) -> str:
    found = [c for c in tables(page) if c.startswith(caption_start)]
    assert len(found) == 1, f"geen tabel '{caption_start}' in {list(tables(page))}"
    return found[0]


def refs(rows: list[list[str]]) -> list[str]:
    return [row[0] for row in rows]


async def audit(register: Register) -> list[tuple[str, str, str, str | None, str]]:
    rows = await register.pool.fetch(
        "SELECT persoon_id, actie, resultaat, case_id, coalesce(reden, '') AS reden FROM audit_log "
        "WHERE actie <> 'inloggen' ORDER BY id"
    )
    return [(r["persoon_id"], r["actie"], r["resultaat"], r["case_id"], r["reden"]) for r in rows]


# ------------------------------------------------------------------------------------------------------ region


async def test_the_region_shows_the_coordinators_cases_and_tasks_and_nothing_else(
    world: World, make_app: MakeApp
) -> None:
    async with logged_in(make_app, COORDINATOR_NOORD.persoon_id) as http:
        page = await http.get("/regio")
    assert page.status_code == 200, page.text
    text = text_of(page)
    assert "Mijn regio: Noord" in text
    for outside in ("LL-Z1", "LL-V1", "LL-K1", "LL-L1", "99ZA", "99BA", "99LA"):
        assert outside not in text
    # past twelve weeks without a decision: late first (N1 by its due date, then N4 without a check), then N2
    rows = table(page, "3 zaken, besluit te laat eerst")
    assert refs(rows) == ["LL-N1", "LL-N4", "LL-N2"]
    assert rows[0] == [
        "LL-N1",
        "99AA",
        "2",
        f"{dutch(-100)} (14 weken)",
        "Besluit nodig",
        f"{dutch(-3)} te laat",
        "Coördinator",
    ]
    assert rows[1][4:] == ["Check niet geopend", "geen datum te laat", "Nee"]
    assert rows[2][4:] == ["Besluit nodig", dutch(5), "Nee"]
    assert "3 waarvan 2 met het besluit te laat" in text
    # open tasks per school: closed tasks, closed cases and other regions do not count; parents' tasks are never
    # "not assigned"
    assert table(page, "Open taken per school") == [["99AA", "3", "2", "2"], ["99AB", "2", "1", "0"]]
    # the report's figures over the region
    assert table(page, "Open zaken per fase") == [
        ["0: Voortraject", "0"],
        ["1: Melding thuiszitter", "2"],
        ["2: Oudergesprek en plan van aanpak", "2"],
        ["3: Oplossingen realiseren", "1"],
        ["4: Passende onderwijsplek", "1"],
    ]
    assert table(page, "Open zaken en de twaalfwekentermijn") == [
        ["Binnen de termijn", "1"],
        ["Verstreken, opgeschaald", "1"],
        ["Verstreken, niet opgeschaald", "4"],
    ]
    weeks = table(page, "Per week")
    assert len(weeks) == register_teams.TREND_WEEKS
    assert weeks[-1][-1] == "6"  # open at the end of this week: N1-N5 and N7
    assert sum(int(row[2]) for row in weeks) == 1  # closed in the last twelve weeks: N6
    # the charts are the report's, with a title, and only of this region
    assert page.text.count("<svg") == 3
    assert "<title>Open zaken per fase en regio</title>" in page.text
    assert 'data-regio="Noord"' in page.text and 'data-regio="Zuid"' not in page.text
    assert await audit(world.register) == [("coordinator-noord-01", "rapport", "toegestaan", None, "")]


async def test_the_export_holds_the_open_cases_of_the_region_and_no_text_of_people(
    world: World, make_app: MakeApp
) -> None:
    async with logged_in(make_app, COORDINATOR_NOORD.persoon_id) as http:
        response = await http.get("/regio/export.csv")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"] == (
        f'attachment; filename="open-zaken-regio-noord-{TODAY.isoformat()}.csv"'
    )
    body = response.content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(body), delimiter=";"))
    assert rows[0] == [
        "leerling_ref",
        "school",
        "sector",
        "regio",
        "fase",
        "startdatum",
        "weken_thuis",
        "escalatie",
        "check_stand",
        "check_uiterlijk",
    ]
    assert [row[0] for row in rows[1:]] == ["LL-N5", "LL-N1", "LL-N3", "LL-N4", "LL-N7", "LL-N2"]
    assert rows[2] == [
        "LL-N1",
        "99AA",
        "PO",
        "Noord",
        "2",
        day(-100).isoformat(),
        "14",
        "coordinator",
        "open",
        day(-3).isoformat(),
    ]
    assert rows[4] == ["LL-N4", "99AB", "PO", "Noord", "3", day(-120).isoformat(), "17", "geen", "", ""]
    for private in (SECRET_TEXT, "Besluit of de zaak", "Demo", "scp-99aa-01", "LL-Z1", "LL-V1", "LL-N6"):
        assert private not in body
    assert await audit(world.register) == [("coordinator-noord-01", "export", "toegestaan", None, "")]


async def test_a_school_may_not_see_the_region_nor_export_it_and_the_refusals_are_audited(
    world: World, make_app: MakeApp
) -> None:
    async with logged_in(make_app, SCHOOL.persoon_id) as http:
        page = await http.get("/regio")
        export = await http.get("/regio/export.csv")
    assert page.status_code == 403 and export.status_code == 403
    assert "Geen toegang tot deze pagina" in text_of(page)
    assert "mag rapportages over zaken niet opvragen" in text_of(page)
    assert "LL-" not in page.text and "LL-" not in export.text
    assert "content-disposition" not in export.headers
    rows = await audit(world.register)
    assert [(r[0], r[1], r[2]) for r in rows] == [
        ("school-99aa-01", "rapport", "geweigerd"),
        ("school-99aa-01", "export", "geweigerd"),
    ]
    assert "rapportages over zaken" in rows[0][4]


async def test_a_role_the_page_is_not_for_is_refused_even_when_it_may_report(world: World, make_app: MakeApp) -> None:
    async with logged_in(make_app, TASKFORCE.persoon_id) as http:
        page = await http.get("/regio")
        leerplicht = await http.get("/leerplicht")
    assert page.status_code == 403 and leerplicht.status_code == 403
    assert "ze is voor de thuiszitterscoördinator" in text_of(page)
    assert [(r[1], r[2]) for r in await audit(world.register)] == [
        ("rapport", "geweigerd"),
        ("zaken_lijst", "geweigerd"),
    ]


# --------------------------------------------------------------------------------------------------- Kerngroep


async def test_the_kerngroep_agenda_is_the_next_meeting_first_then_later_past_and_undated(
    world: World, make_app: MakeApp
) -> None:
    async with logged_in(make_app, TASKFORCE.persoon_id) as http:
        page = await http.get("/kerngroep")
    assert page.status_code == 200, page.text
    assert f"Agenda van de volgende bespreking: {dutch(7)}" in text_of(page)
    agenda = table(page, f"2 opgeschaalde zaken op de agenda van {dutch(7)}")
    assert agenda == [
        [
            "LL-K1",
            "99ZA PO, Zuid",
            "1",
            f"{dutch(-150)} (21 weken)",
            f"Ja, huisbezoek op {dutch(-2)}",
            f"Nog te nemen, uiterlijk {dutch(7)}",
        ],
        ["LL-K2", "99ZB VO, Zuid", "1", f"{dutch(-100)} (14 weken)", "Nee, nog geen verslag", "Na het huisbezoek"],
    ]
    others = table(page, "3 zaken: eerst latere besprekingen")
    assert [(row[0], row[2], row[5]) for row in others] == [
        ("LL-K3", dutch(21), f"Genomen op {dutch(-1)}"),
        ("LL-K5", f"{dutch(-7)} verstreken", f"Nog te nemen, uiterlijk {dutch(-7)} te laat"),
        ("LL-K4", "geen datum", "Na het huisbezoek"),
    ]
    assert "LL-K6" not in page.text  # closed
    assert "Een plek op school X" not in page.text  # the decision's text is in the case, not on the agenda


async def test_the_kerngroep_follows_every_open_case_page_by_page(
    world: World, make_app: MakeApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(register_teams, "KERNGROEP_PAGE", 8)
    open_cases = await world.register.pool.fetch(
        "SELECT leerling_ref FROM cases WHERE NOT afgesloten ORDER BY startdatum, case_id"
    )
    expected = [row["leerling_ref"] for row in open_cases]
    assert len(expected) == 19
    async with logged_in(make_app, TASKFORCE.persoon_id) as http:
        pages = [await http.get(f"/kerngroep?pagina={n}") for n in (1, 2, 3)]
        only_list = await http.get("/kerngroep?lijst=ja")
        beyond = await http.get("/kerngroep?pagina=9")
    seen = [refs(table(page, f"Zaken {1 + 8 * i} tot en met")) for i, page in enumerate(pages)]
    assert [len(s) for s in seen] == [8, 8, 3]
    assert [ref for s in seen for ref in s] == expected
    assert caption(pages[0], "Zaken 1") == "Zaken 1 tot en met 8 van 19, langst thuis eerst"
    first = table(pages[0], "Zaken 1")[0]
    assert first == ["LL-K4", "99ZC", "PO", "Zuid", "1", "42 weken", "Taskforce", "Nee"]
    assert 'href="/kerngroep?pagina=2#gevolgd-kop"' in pages[0].text and "Pagina 1 van 3" in text_of(pages[0])
    assert 'href="/kerngroep?pagina=2#gevolgd-kop"' in pages[2].text and "pagina=4" not in pages[2].text
    assert refs(table(only_list, "Zaken 1 tot en met 2 van 2 op de lijst")) == ["LL-K1", "LL-N2"]
    assert "Deze pagina bestaat niet" in text_of(beyond)
    rows = await audit(world.register)
    assert rows == [("taskforce-01", "zaken_lijst", "toegestaan", None, "")] * 5


# -------------------------------------------------------------------------------------------------- Leerplicht


async def test_leerplicht_sees_its_lba_registrations_due_and_its_start_date_and_vrijstelling_work(
    world: World, make_app: MakeApp
) -> None:
    async with logged_in(make_app, LEERPLICHT.persoon_id) as http:
        page = await http.get("/leerplicht")
    assert page.status_code == 200, page.text
    assert "LBA-registraties te doen 2 waarvan 1 te laat" in text_of(page)
    # L3 is not of its schools, L4's task is Leerplicht absoluut verzuim's, L6's is done
    assert table(page, "2 registraties, te laat eerst") == [
        [f"{dutch(-1)} te laat", "LL-L1", "99LA PO, Zuid", f"{dutch(-30)} (4 weken)", "niemand"],
        [dutch(4), "LL-L2", "99LB PO, Zuid", f"{dutch(-25)} (3 weken)", "niemand"],
    ]
    assert table(page, "1 leerling, eerstvolgende eerst") == [
        [dutch(30), "LL-L5", "99LA", dutch(-10), "0: Voortraject"]
    ]
    corrections = table(page, f"1 correctie sinds {dutch(-55)}")
    assert [(row[0][:10], row[1], row[3]) for row in corrections] == [(dutch(-3), "LL-L1", "Leerplicht")]
    assert table(page, "1 aanvraag, te laat eerst") == [
        ["geen datum", "LL-L2", "99LB PO, Zuid", f"{dutch(-25)} (3 weken)", "niemand"]
    ]
    assert [row[1] for row in table(page, "1 keer vrijstelling vastgelegd")] == ["LL-L2"]
    for outside in ("LL-L3", "LL-L4", "LL-L6", "LL-N1", "LL-K1"):
        assert outside not in page.text
    assert await audit(world.register) == [("leerplicht-01", "zaken_lijst", "toegestaan", None, "")]


async def test_city_wide_leerplicht_and_absoluut_verzuim_see_the_tasks_of_their_own_role(
    world: World, make_app: MakeApp
) -> None:
    async with logged_in(make_app, LEERPLICHT_STAD.persoon_id) as http:
        stad = await http.get("/leerplicht")
    async with logged_in(make_app, LAV.persoon_id) as http:
        lav = await http.get("/leerplicht")
    assert refs(table(stad, "3 registraties")) == [f"{dutch(-6)} te laat", f"{dutch(-1)} te laat", dutch(4)]
    assert [row[1] for row in table(stad, "3 registraties")] == ["LL-L3", "LL-L1", "LL-L2"]
    assert [row[1] for row in table(lav, "1 registratie,")] == ["LL-L4"]
    assert [row[1] for row in table(stad, "2 correcties")] == ["LL-L3", "LL-L1"]


async def test_the_pages_need_a_login(client: httpx.AsyncClient) -> None:
    for path in ("/regio", "/regio/export.csv", "/kerngroep", "/leerplicht"):
        response = await client.get(path)
        assert response.status_code in (302, 303) and response.headers["location"] == "/inloggen"
