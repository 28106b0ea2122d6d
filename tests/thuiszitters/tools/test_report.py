"""The coordinators' report against a real PostgreSQL register holding a year of simulated cases.

The cases are written through ``Register.record`` as the workflow would write them (one Vastlegging at opening, one
per phase or escalation change, one at closure), and every figure of the report is checked against counts made
here from the simulation itself: the days it chose, not the rows or the report's code.
"""

from __future__ import annotations

import asyncio
import csv
import io
import os
import random
import re
import statistics
import sys
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pytest

from tests.fixtures.postgres import fresh_database
from tests.paths import REPO
from thuiszitters.register.store import Register
from thuiszitters.tools import report as report_module
from thuiszitters.tools.report import Report, build_report, fetch_rows, render_csv, render_html, render_table
from workflows.calendar import amsterdam_moment
from workflows.contract import FASE_NAMEN, Escalatie, Regiehouder, Regio, Sector, Uitkomst
from workflows.effects import Vastlegging

PER = date(2025, 7, 2)  # a Wednesday: the week and the month of the per-date are cut short by it
SIM_END = PER + timedelta(days=45)  # the register goes on after the per-date; the report must not see that
FIRST_START = PER - timedelta(days=400)  # a year of cases, and some who have been at home longer
SCHOOLS = ["12AB", "34CD", "56EF", "78GH", "90IJ", "11KL", "22MN", "33OP", "44QR", "55ST", "66UV", "77WX"]
# 00:30 in Amsterdam is the previous day in UTC: the report must count Amsterdam days, as people do.
HOURS = [0, 8, 9, 11, 14, 16, 23]
TERM = timedelta(days=84)
LEVELS = (Escalatie.COORDINATOR, Escalatie.TASKFORCE)


# ------------------------------------------------------------------------------------------------ simulation


@dataclass(frozen=True)
class Step:
    day: date
    hour: int
    gebeurtenis: str
    fase: int
    regiehouder: Regiehouder
    escalatie: Escalatie
    uitkomst: Uitkomst | None = None


@dataclass(frozen=True)
class SimCase:
    number: int
    sector: Sector
    regio: Regio
    school: str | None
    startdatum: date
    steps: tuple[Step, ...]

    @property
    def case_id(self) -> str:
        return f"thuiszitter-SIM{self.number:04d}:run-{self.number}"

    @property
    def opened(self) -> date:
        return self.steps[0].day

    @property
    def closed(self) -> date | None:
        return next((s.day for s in self.steps if s.uitkomst is not None), None)

    def is_open(self, day: date) -> bool:
        return self.opened <= day and (self.closed is None or self.closed > day)

    def on(self, day: date) -> Step:
        return [s for s in self.steps if s.day <= day][-1]

    def reached(self, level: Escalatie) -> date | None:
        return next((s.day for s in self.steps if s.escalatie is level), None)


def simulate(seed: int = 20250702, count: int = 330) -> list[SimCase]:
    rng = random.Random(seed)
    cases = []
    for number in range(count):
        startdatum = FIRST_START + timedelta(days=rng.randrange((SIM_END - FIRST_START).days - 3))
        opened = startdatum + timedelta(days=rng.choice([0, 0, 1, 2, 3, 7]))
        school = rng.choice(SCHOOLS) if rng.random() > 0.06 else None
        plan: list[tuple[int, str]] = []
        offset = 0
        for _ in range(rng.choice([0, 1, 1, 2, 2, 3, 4])):
            offset += rng.randint(6, 45)
            plan.append((offset, "fase"))
        to_term = (startdatum + TERM - opened).days
        if rng.random() < 0.4:
            plan.append((max(1, to_term + rng.randint(-30, 25)), "coordinator"))
        if rng.random() < 0.2:
            plan.append((max(1, to_term + rng.randint(-10, 70)), "taskforce"))
        if rng.random() < 0.6:
            plan.append((rng.randint(5, 220), "sluiten"))
        fase = rng.choice([0, 1, 1, 1])
        regiehouder = Regiehouder.LEERPLICHT_ABSOLUUT_VERZUIM if school is None else Regiehouder.SCHOOL
        escalatie = Escalatie.GEEN
        steps = [Step(opened, rng.choice(HOURS), "aanmelding", fase, regiehouder, escalatie)]
        for offset, what in sorted(plan):
            day = max(opened + timedelta(days=offset), steps[-1].day + timedelta(days=1))
            if day > SIM_END:
                break
            uitkomst = None
            if what == "fase" and fase < 4:
                fase += 1
                if fase == 3 and regiehouder is Regiehouder.SCHOOL and rng.random() < 0.25:
                    regiehouder = Regiehouder.WIJKTEAM
            elif what == "coordinator" and escalatie is Escalatie.GEEN:
                escalatie = Escalatie.COORDINATOR
            elif what == "taskforce" and escalatie is not Escalatie.TASKFORCE:
                escalatie, regiehouder = Escalatie.TASKFORCE, Regiehouder.TASKFORCE
            elif what == "sluiten":
                uitkomst = rng.choice(list(Uitkomst))
                fase = fase if uitkomst is Uitkomst.INGETROKKEN else 4
            else:
                continue
            gebeurtenis = {"fase": "voortgang", "sluiten": "passende_plek"}.get(what, "opschalen")
            steps.append(Step(day, rng.choice(HOURS), gebeurtenis, fase, regiehouder, escalatie, uitkomst))
            if uitkomst is not None:
                break
        sector = rng.choice(list(Sector))
        cases.append(SimCase(number, sector, rng.choice(list(Regio)), school, startdatum, tuple(steps)))
    return cases


def vastleggingen(case: SimCase) -> list[Vastlegging]:
    ref = f"SIM{case.number:04d}"
    return [
        Vastlegging(
            sleutel=f"{case.case_id}:{volgnummer}:vastlegging",
            case_id=case.case_id,
            volgnummer=volgnummer,
            leerling_ref=ref,
            workflow_id=f"thuiszitter-{ref}",
            tijd=amsterdam_moment(step.day, step.hour) + timedelta(minutes=30),
            gebeurtenis=step.gebeurtenis,
            door="school" if volgnummer == 1 else "coordinator",
            sector=case.sector,
            regio=case.regio,
            school_brin=case.school,
            leerplichtig=True,
            startdatum=case.startdatum,
            fase=step.fase,
            regiehouder=step.regiehouder,
            escalatie=step.escalatie,
            route=None,
            wachtlijst=False,
            afgesloten=step.uitkomst is not None,
            uitkomst=step.uitkomst,
            open_taken=[],
        )
        for volgnummer, step in enumerate(case.steps, start=1)
    ]


async def record_all(register: Register, cases: list[SimCase]) -> None:
    gate = asyncio.Semaphore(5)

    async def one(case: SimCase) -> None:
        async with gate:
            for v in vastleggingen(case):
                assert await register.record(v)

    await asyncio.gather(*(one(case) for case in cases))


@dataclass(frozen=True)
class Filled:
    register: Register
    dsn: str
    cases: list[SimCase]


@pytest.fixture(scope="module")
async def filled(postgres_dsn: str) -> AsyncIterator[Filled]:
    """One register with the simulated year for the whole module (the tests only read it)."""
    async with fresh_database(postgres_dsn) as database:
        cases = simulate()
        await record_all(database.register, cases)
        yield Filled(database.register, database.dsn, cases)


# -------------------------------------------------------------------------------------- counts from the sim


def weeks_of(per: date, count: int = 12) -> list[tuple[str, date, date]]:
    monday = per - timedelta(days=per.weekday())
    result = []
    for back in range(count - 1, -1, -1):
        first = monday - timedelta(days=7 * back)
        year, week, _ = first.isocalendar()
        result.append((f"{year}-W{week:02d}", first, min(first + timedelta(days=6), per)))
    return result


def months_of(per: date, count: int = 12) -> list[tuple[str, date, date]]:
    result = []
    year, month = per.year, per.month
    for _ in range(count):
        first = date(year, month, 1)
        following = date(year + 1, 1, 1) if month == 12 else date(year, month + 1, 1)
        result.append((f"{year}-{month:02d}", first, min(following - timedelta(days=1), per)))
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    return result[::-1]


@dataclass
class Expected:
    open_cases: list[SimCase]
    phase_region: Counter[tuple[int, str]]
    region: Counter[str]
    sector: Counter[str]
    school: Counter[str]
    regiehouder: Counter[str]
    overdue: int
    overdue_not_escalated: int
    overdue_region: Counter[str]
    weeks_home: list[int]
    open_escalated: Counter[str]
    recent: Counter[str]
    periods: dict[str, dict[str, object]]


def expected_at(cases: list[SimCase], per: date) -> Expected:
    open_cases = [c for c in cases if c.is_open(per)]
    overdue = [c for c in open_cases if c.startdatum + TERM < per]

    def period(first: date, last: date) -> dict[str, object]:
        return {
            "first": first,
            "last": last,
            "new": sum(1 for c in cases if first <= c.opened <= last),
            "closed": {
                u.value: sum(1 for c in cases if c.closed and first <= c.closed <= last and c.steps[-1].uitkomst is u)
                for u in Uitkomst
            },
            "escalations": {
                level.value: sum(1 for c in cases if (d := c.reached(level)) and first <= d <= last) for level in LEVELS
            },
            "open": sum(1 for c in cases if c.is_open(last)),
        }

    return Expected(
        open_cases=open_cases,
        phase_region=Counter((c.on(per).fase, c.regio.value) for c in open_cases),
        region=Counter(c.regio.value for c in open_cases),
        sector=Counter(c.sector.value for c in open_cases),
        school=Counter(c.school or "zonder school" for c in open_cases),
        regiehouder=Counter(c.on(per).regiehouder.value for c in open_cases),
        overdue=len(overdue),
        overdue_not_escalated=sum(1 for c in overdue if c.on(per).escalatie is Escalatie.GEEN),
        overdue_region=Counter(c.regio.value for c in overdue),
        weeks_home=[(per - c.startdatum).days // 7 for c in open_cases],
        open_escalated=Counter(
            c.on(per).escalatie.value for c in open_cases if c.on(per).escalatie is not Escalatie.GEEN
        ),
        recent=Counter(
            level.value
            for c in cases
            for level in LEVELS
            if (d := c.reached(level)) and per - timedelta(days=28) < d <= per
        ),
        periods={key: period(first, last) for key, first, last in [*weeks_of(per), *months_of(per)]},
    )


def as_dict(counts: list[report_module.Count]) -> dict[str, int]:
    return {c.key: c.value for c in counts if c.value}


async def report_at(filled: Filled, per: date) -> Report:
    return build_report(await fetch_rows(filled.register, per), per)


async def run_main(filled: Filled, monkeypatch: pytest.MonkeyPatch, *argv: str) -> tuple[int, str]:
    monkeypatch.setenv("DATABASE_URL", filled.dsn)
    out = io.StringIO()
    code = await report_module.main(list(argv), out=out)
    return code, out.getvalue()


# ------------------------------------------------------------------------------------------------------ tests


def test_the_simulation_is_rich_enough_to_test_the_report() -> None:
    cases = simulate()
    at_per = expected_at(cases, PER)
    assert 100 < len(at_per.open_cases) < 250
    assert at_per.overdue > at_per.overdue_not_escalated > 0
    assert all(at_per.open_escalated[level.value] > 0 for level in LEVELS)
    assert all(at_per.recent[level.value] > 0 for level in LEVELS)
    closed_before = [c.steps[-1].uitkomst for c in cases if c.closed and c.closed <= PER]
    assert set(closed_before) == set(Uitkomst)
    assert any(c.opened > PER for c in cases) and any(c.is_open(PER) and not c.is_open(SIM_END) for c in cases)
    assert any(c.on(PER).fase != c.steps[-1].fase for c in cases if c.is_open(PER))
    assert {c.on(PER).fase for c in at_per.open_cases} == set(FASE_NAMEN)


@pytest.mark.parametrize(
    "per",
    [PER, date(2025, 3, 30), SIM_END],
    ids=["mid-week", "summer-time-starts", "end-of-register"],
)
async def test_figures_match_the_cases_as_of_the_per_date(filled: Filled, per: date) -> None:
    report = await report_at(filled, per)
    want = expected_at(filled.cases, per)

    assert report.per == per
    assert report.open_total == len(want.open_cases)
    assert {(p.fase, r): n for p in report.per_phase for r, n in p.per_regio.items() if n} == dict(want.phase_region)
    assert [p.fase for p in report.per_phase] == sorted(FASE_NAMEN)
    assert [p.naam for p in report.per_phase] == [FASE_NAMEN[f] for f in sorted(FASE_NAMEN)]
    assert all(p.total == sum(p.per_regio.values()) for p in report.per_phase)
    assert as_dict(report.per_region) == dict(want.region)
    assert as_dict(report.per_sector) == dict(want.sector)
    assert as_dict(report.per_school) == dict(want.school)
    assert [c.value for c in report.per_school] == sorted(want.school.values(), reverse=True)
    assert as_dict(report.per_regiehouder) == dict(want.regiehouder)

    assert report.overdue == want.overdue
    assert report.overdue_not_escalated == want.overdue_not_escalated
    assert as_dict(report.overdue_per_region) == dict(want.overdue_region)
    assert report.weeks_median == statistics.median(want.weeks_home)
    assert report.weeks_longest == max(want.weeks_home)

    assert as_dict(report.open_escalated) == dict(want.open_escalated)
    assert as_dict(report.escalations_recent) == dict(want.recent)

    assert len(report.weeks) == 12 and len(report.months) == 12
    for p in [*report.weeks, *report.months]:
        period = want.periods[p.key]
        assert (p.first_day, p.last_day) == (period["first"], period["last"]), p.key
        assert p.new == period["new"], p.key
        assert p.closed == period["closed"], p.key
        assert p.closed_total == sum(p.closed.values())
        assert p.escalations == period["escalations"], p.key
        assert p.open_at_end == period["open"], p.key
    assert report.weeks[-1].open_at_end == report.months[-1].open_at_end == report.open_total
    assert [p.key for p in report.weeks] == [key for key, _, _ in weeks_of(per)]
    assert [p.key for p in report.months] == [key for key, _, _ in months_of(per)]


async def test_a_report_as_of_a_past_day_stays_the_same_while_the_register_grows(register: Register) -> None:
    """What happens after the per-date (new cases, phase changes, escalations, closures) leaves its report alone."""
    cases = simulate(seed=11, count=120)
    written = [v for case in cases for v in vastleggingen(case)]
    end = report_module.end_of_day(PER)
    for v in [v for v in written if v.tijd < end]:
        assert await register.record(v)
    before = build_report(await fetch_rows(register, PER), PER)
    later = [v for v in written if v.tijd >= end]
    assert any(v.afgesloten for v in later) and any(v.volgnummer == 1 for v in later)
    for v in later:
        assert await register.record(v)
    assert build_report(await fetch_rows(register, PER), PER) == before
    assert build_report(await fetch_rows(register, SIM_END), PER) == before, "later rows are ignored by the figures"
    assert before.open_total == len(expected_at(cases, PER).open_cases)
    after = build_report(await fetch_rows(register, SIM_END), SIM_END)
    assert after.open_total == len(expected_at(cases, SIM_END).open_cases)


async def test_the_command_prints_the_table(filled: Filled, monkeypatch: pytest.MonkeyPatch) -> None:
    code, text = await run_main(filled, monkeypatch, "--per", PER.isoformat(), "--top", "5", "--weken", "8")
    want = expected_at(filled.cases, PER)
    assert code == 0
    lines = text.splitlines()
    assert lines[0] == "Thuiszitters: stand per woensdag 2 juli 2025"
    assert f"Open zaken: {len(want.open_cases)}" in lines

    def figures(label: str) -> list[str]:
        """The figures on the one line that starts with ``label`` followed by figures only."""
        [found] = [m for line in lines if (m := re.fullmatch(re.escape(label) + r"((?: +[\d,*-]+)+)", line))]
        return found.group(1).split()

    for fase, naam in FASE_NAMEN.items():
        noord, zuid = want.phase_region[(fase, "Noord")], want.phase_region[(fase, "Zuid")]
        assert figures(f"  {fase} {naam}") == [str(noord), str(zuid), str(noord + zuid)]
    assert figures("  verstreken") == [str(want.overdue)]
    assert figures("  waarvan niet opgeschaald") == [str(want.overdue_not_escalated)]
    median = statistics.median(want.weeks_home)
    assert figures("  mediaan") == [str(median).replace(".", ",").removesuffix(",0")]
    assert figures("  langste") == [str(max(want.weeks_home))]
    assert figures("  coördinator") == [str(want.open_escalated["coordinator"]), str(want.recent["coordinator"])]

    top = want.school.most_common()
    assert figures(f"  overige {len(top) - 5} scholen") == [str(sum(n for _, n in top[5:]))]
    shown = {line.split()[0]: line.split()[1] for line in lines if line.split()[:1] and line.split()[0] in want.school}
    assert len(shown) == 5 and all(want.school[school] == int(n) for school, n in shown.items())
    assert sorted(map(int, shown.values()), reverse=True) == [n for _, n in top[:5]]
    assert len([line for line in lines if re.match(r"  \d{4}-W\d\d", line)]) == 8
    assert len([line for line in lines if re.match(rf"  ({'|'.join(report_module.MONTHS_SHORT)}) 20", line)]) == 12
    for key, first, _ in weeks_of(PER, 8):
        period = want.periods[key]
        mark = "*" if key == weeks_of(PER)[-1][0] else ""
        [row] = [line.split()[1:] for line in lines if line.startswith(f"  {key}{mark} ")]
        assert row[:2] == [str(first.day), report_module.MONTHS_SHORT[first.month - 1]]
        assert row[2] == str(period["new"]) and row[-1] == str(period["open"])
        assert row[4:8] == [str(n) for n in period["closed"].values()]  # type: ignore[attr-defined]
    assert "* = tot en met de peildatum." in text


async def test_the_csv_holds_the_same_figures(filled: Filled, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    path = tmp_path / "stand.csv"
    code, text = await run_main(filled, monkeypatch, "--per", PER.isoformat(), "--csv", str(path))
    assert code == 0 and f"CSV geschreven: {path}" in text
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # a BOM, so that Excel reads UTF-8
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline=""), delimiter=";"))
    assert rows[0] == ["sectie", "onderdeel", "waarde"]
    assert all(len(row) == 3 for row in rows)
    values = {(section, dimension): value for section, dimension, value in rows[1:]}
    assert len(values) == len(rows) - 1, "every (sectie, onderdeel) once"

    want = expected_at(filled.cases, PER)
    assert values[("peildatum", "datum")] == "2025-07-02"
    assert values[("open", "totaal")] == str(len(want.open_cases))
    for fase, naam in FASE_NAMEN.items():
        for regio in ("Noord", "Zuid"):
            assert values[(f"open_per_fase_{regio.lower()}", f"{fase} {naam}")] == str(want.phase_region[(fase, regio)])
    for school, n in want.school.items():
        assert values[("open_per_school", school)] == str(n)
    assert values[("twaalfwekentermijn", "verstreken")] == str(want.overdue)
    assert values[("twaalfwekentermijn", "verstreken_niet_opgeschaald")] == str(want.overdue_not_escalated)
    assert float(values[("weken_thuis", "mediaan")].replace(",", ".")) == statistics.median(want.weeks_home)
    assert values[("opgeschaald_laatste_28_dagen", "taskforce")] == str(want.recent["taskforce"])
    for key, period in want.periods.items():
        prefix = "week" if "-W" in key else "maand"
        assert values[(f"{prefix}_nieuw", key)] == str(period["new"])
        assert values[(f"{prefix}_open_einde", key)] == str(period["open"])
        for uitkomst, n in period["closed"].items():  # type: ignore[attr-defined]
            assert values[(f"{prefix}_afgesloten_{uitkomst}", key)] == str(n)
        for level, n in period["escalations"].items():  # type: ignore[attr-defined]
            assert values[(f"{prefix}_opgeschaald_{level}", key)] == str(n)
    assert raw.decode("utf-8-sig") == render_csv(await report_at(filled, PER))


async def test_the_chart_page_is_self_contained_and_draws_the_figures(
    filled: Filled, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    path = tmp_path / "stand.html"
    code, _ = await run_main(filled, monkeypatch, "--per", PER.isoformat(), "--grafiek", str(path))
    assert code == 0
    page = path.read_text(encoding="utf-8")
    want = expected_at(filled.cases, PER)

    assert page.startswith("<!DOCTYPE html>") and '<html lang="nl">' in page
    assert not re.search(r"""(?:src|href|action)\s*=\s*["']?\s*(?:https?:)?//""", page, re.IGNORECASE)
    assert not re.search(r"<script|<link|<iframe|<img|@import|url\(", page, re.IGNORECASE)
    assert page.count("<svg") == 4

    bars = re.findall(
        r'data-fase="(\d)" data-regio="(\w+)" data-waarde="(\d+)"><title>[^<]*</title></rect><text[^>]*>(\d+)</text>',
        page,
    )
    assert len(bars) == len(FASE_NAMEN) * 2
    assert {(int(f), r): int(v) for f, r, v, _ in bars} == {
        (f, r): want.phase_region[(f, r)] for f in FASE_NAMEN for r in ("Noord", "Zuid")
    }
    assert all(value == label for _, _, value, label in bars), "each bar carries its number"

    points = dict(re.findall(r'<circle[^>]*data-periode="([^"]+)" data-open="(\d+)"', page))
    assert points == {key: str(period["open"]) for key, period in want.periods.items()}
    bars_per_period = re.findall(r'data-periode="([^"]+)" data-soort="(nieuw|afgesloten)" data-waarde="(\d+)"', page)
    for key, kind, value in bars_per_period:
        period = want.periods[key]
        closed = sum(period["closed"].values())  # type: ignore[attr-defined]
        assert int(value) == (period["new"] if kind == "nieuw" else closed), (key, kind)
    assert len(bars_per_period) == 2 * len(want.periods)

    term = dict(re.findall(r'data-deel="(\w+)" data-waarde="(\d+)"', page))
    assert term == {
        "binnen": str(len(want.open_cases) - want.overdue),
        "verstreken_opgeschaald": str(want.overdue - want.overdue_not_escalated),
        "verstreken_niet_opgeschaald": str(want.overdue_not_escalated),
    }
    tile = re.search(
        r'<div class="tile (\w*)" data-kpi="over de twaalfwekentermijn"><div class="num">(\d+)</div>', page
    )
    assert tile is not None and tile.groups() == ("alert", str(want.overdue))
    assert f"waarvan {want.overdue_not_escalated} niet opgeschaald" in page
    assert "Open zaken per fase en regio" in page and "Nieuw en afgesloten per week" in page


async def test_an_empty_register_gives_a_report_of_zeros(register: Register) -> None:
    report = build_report(await fetch_rows(register, PER), PER, weeks=4, months=3)
    assert report.open_total == 0 and report.overdue == 0
    assert report.weeks_median is None and report.weeks_longest is None
    assert [p.key for p in report.weeks] == ["2025-W24", "2025-W25", "2025-W26", "2025-W27"]
    assert [p.key for p in report.months] == ["2025-05", "2025-06", "2025-07"]
    assert all(p.new == p.closed_total == p.open_at_end == 0 for p in [*report.weeks, *report.months])
    table = render_table(report)
    assert "Open zaken: 0" in table and re.search(r"^  mediaan +-$", table, re.MULTILINE)
    page = render_html(report)
    assert "geen open zaken" in page and "nan" not in page.lower() and "inf" not in page.lower()
    assert "weken_thuis;mediaan;\r\n" in render_csv(report)


async def test_the_command_refuses_with_a_dutch_message(monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "thuiszitters.tools.report",
        env=env,
        cwd=REPO,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode == 1
    assert stderr.decode().startswith("Fout: DATABASE_URL ontbreekt") and stdout == b""

    monkeypatch.setenv("DATABASE_URL", "postgresql://niemand@127.0.0.1:1/thuiszitters")
    code = await report_module.main(["--per", "2999-01-01"], out=io.StringIO())
    assert code == 1 and "Fout: de peildatum 2999-01-01 ligt in de toekomst" in capsys.readouterr().err
    code = await report_module.main(["--per", "2025-07-02"], out=io.StringIO())
    assert code == 1 and "Fout: kan het zaakregister niet bereiken" in capsys.readouterr().err
