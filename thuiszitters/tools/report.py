"""The coordinators' report: how many thuiszitters there are, where, how long, and where the trend goes.

    python -m thuiszitters.tools.report [--per 2025-07-02] [--csv stand.csv] [--grafiek stand.html]
                                  [--weken 12] [--maanden 12] [--top 10]

Reads the case register (``DATABASE_URL``) and prints a table in Dutch; ``--csv`` writes the same figures as rows
for a spreadsheet, ``--grafiek`` a self-contained HTML page with charts (inline SVG, nothing fetched from anywhere).

Everything is computed *as of* a day (``--per``, default today in Amsterdam), so a report can be made again later
with the same figures: a case counts as opened or closed on the Amsterdam day of its first and its closing
Vastlegging, and its phase, regiehouder and escalation are those of its newest Vastlegging up to that day (from
``case_events``). Sector, region, school and start date are the case's latest known values.

Three layers, so the figures can be tested without rendering and the renderers without a database:
:func:`fetch_rows` reads the rows, :func:`build_report` computes a :class:`Report` from them (pure), and
:func:`render_table`, :func:`render_csv` and :func:`render_html` present it.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import math
import statistics
import sys
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, date, datetime, timedelta
from html import escape
from pathlib import Path
from typing import TextIO

import asyncpg
from pydantic import BaseModel, ConfigDict

from thuiszitters.register.store import Register
from thuiszitters.settings import Settings, SettingsError
from workflows.calendar import amsterdam_date, amsterdam_moment
from workflows.contract import FASE_NAMEN, Escalatie, Regiehouder, Regio, Sector, Uitkomst
from workflows.policy import Beleid

TERM_DAYS: int = Beleid().escalatie_termijn_dagen
"""The twelve-week term of the policy's defaults (84 days); the register does not keep a case's own policy."""
RECENT_DAYS = 28
"""'Recent' escalations: those reached in the four weeks up to and including the per-date."""
NO_SCHOOL = "zonder school"

MONTHS: tuple[str, ...] = ("januari", "februari", "maart", "april", "mei", "juni")
MONTHS += ("juli", "augustus", "september", "oktober", "november", "december")
MONTHS_SHORT = ("jan", "feb", "mrt", "apr", "mei", "jun", "jul", "aug", "sep", "okt", "nov", "dec")
WEEKDAYS = ("maandag", "dinsdag", "woensdag", "donderdag", "vrijdag", "zaterdag", "zondag")

UITKOMST_NAMEN: dict[str, str] = {
    Uitkomst.TERUG_OP_SCHOOL: "terug op school",
    Uitkomst.INGESCHREVEN_ANDERE_SCHOOL: "ingeschreven op andere school",
    Uitkomst.VRIJSTELLING: "vrijstelling",
    Uitkomst.INGETROKKEN: "ingetrokken",
}
REGIEHOUDER_NAMEN: dict[str, str] = {
    Regiehouder.SCHOOL: "school",
    Regiehouder.WIJKTEAM: "wijkteam",
    Regiehouder.TASKFORCE: "taskforce",
    Regiehouder.LEERPLICHT_ABSOLUUT_VERZUIM: "leerplicht (absoluut verzuim)",
}
ESCALATIE_NAMEN: dict[str, str] = {Escalatie.COORDINATOR: "coördinator", Escalatie.TASKFORCE: "taskforce"}
LEVELS = (Escalatie.COORDINATOR.value, Escalatie.TASKFORCE.value)


class ReportError(Exception):
    """A problem to tell the user, in Dutch; exit code 1."""


# ----------------------------------------------------------------------------------------------------- rows


class _Row(BaseModel):
    model_config = ConfigDict(frozen=True)


class CaseFacts(_Row):
    """What the report needs of a ``cases`` row (its latest state is only a fallback: see :class:`StateFacts`)."""

    case_id: str
    sector: str
    regio: str
    school_brin: str | None
    startdatum: date
    fase: int
    regiehouder: str
    escalatie: str
    uitkomst: str | None
    geopend_op: datetime
    afgesloten_op: datetime | None


class StateFacts(_Row):
    """A ``case_events`` row: the case's phase, regiehouder and escalation after one Vastlegging."""

    case_id: str
    volgnummer: int
    tijd: datetime
    fase: int
    regiehouder: str
    escalatie: str


class EscalationFacts(_Row):
    """An ``escalations`` row: the first moment a case reached a level."""

    case_id: str
    niveau: str
    tijd: datetime


class RegisterRows(_Row):
    cases: list[CaseFacts]
    states: list[StateFacts]
    escalations: list[EscalationFacts]


def end_of_day(day: date) -> datetime:
    """The first moment after ``day`` in Amsterdam (UTC): rows before it happened on or before that day."""
    return amsterdam_moment(day + timedelta(days=1), 0)


async def fetch_rows(register: Register, per: date) -> RegisterRows:
    """The rows of the register up to the end of ``per`` (Amsterdam), read in one snapshot."""
    end = end_of_day(per)
    async with (
        register.pool.acquire() as connection,
        connection.transaction(isolation="repeatable_read", readonly=True),
    ):
        cases = await connection.fetch(
            """
            SELECT case_id, sector, regio, school_brin, startdatum, fase, regiehouder, escalatie, uitkomst,
                   geopend_op, afgesloten_op
            FROM cases WHERE geopend_op < $1
            """,
            end,
        )
        states = await connection.fetch(
            """
            SELECT case_id, volgnummer, tijd, fase, regiehouder, escalatie
            FROM case_events WHERE tijd < $1
            """,
            end,
        )
        escalations = await connection.fetch("SELECT case_id, niveau, tijd FROM escalations WHERE tijd < $1", end)
    return RegisterRows(
        cases=[CaseFacts.model_validate(dict(row)) for row in cases],
        states=[StateFacts.model_validate(dict(row)) for row in states],
        escalations=[EscalationFacts.model_validate(dict(row)) for row in escalations],
    )


# --------------------------------------------------------------------------------------------------- report


class Count(_Row):
    key: str
    """Stable code: a phase number, region, sector, BRIN, regiehouder or escalation level."""
    label: str
    """The same in Dutch, for people."""
    value: int


class PhaseCount(_Row):
    fase: int
    naam: str
    per_regio: dict[str, int]
    total: int


class Period(_Row):
    """One week or month of the trend."""

    key: str
    """ISO week (``2025-W27``) or month (``2025-07``)."""
    label: str
    first_day: date
    last_day: date
    """Inclusive: the period's last day, or the per-date for the period that holds it."""
    partial: bool
    new: int
    closed: dict[str, int]
    """Per uitkomst (every uitkomst present, zero when none)."""
    closed_total: int
    escalations: dict[str, int]
    """Escalations reached in the period, per level (coordinator, taskforce)."""
    open_at_end: int


class Report(_Row):
    per: date
    term_days: int
    recent_days: int
    open_total: int
    per_phase: list[PhaseCount]
    per_region: list[Count]
    per_sector: list[Count]
    per_school: list[Count]
    """Every school with open cases, most first."""
    per_regiehouder: list[Count]
    overdue: int
    """Open cases whose start date lies more than ``term_days`` before the per-date."""
    overdue_not_escalated: int
    overdue_per_region: list[Count]
    weeks_median: float | None
    weeks_longest: int | None
    open_escalated: list[Count]
    """Open cases per current escalation level."""
    escalations_recent: list[Count]
    """Escalations reached in the ``recent_days`` up to and including the per-date, per level."""
    weeks: list[Period]
    months: list[Period]


def weeks_at_home(startdatum: date, per: date) -> int:
    """Whole weeks from the start date to ``per`` (as the case's own status counts them)."""
    return max(0, (per - startdatum).days // 7)


def week_periods(per: date, count: int) -> list[tuple[str, str, date, date]]:
    """The ``count`` ISO weeks (Monday to Sunday) up to the one holding ``per``: key, label, first and last day."""
    monday = per - timedelta(days=per.weekday())
    periods = []
    for back in range(count - 1, -1, -1):
        first = monday - timedelta(weeks=back)
        year, week, _ = first.isocalendar()
        label = f"wk {week} ({_short_date(first)})"
        periods.append((f"{year}-W{week:02d}", label, first, first + timedelta(days=6)))
    return periods


def month_periods(per: date, count: int) -> list[tuple[str, str, date, date]]:
    """The ``count`` calendar months up to the one holding ``per``: key, label, first and last day."""
    periods = []
    for back in range(count - 1, -1, -1):
        index = per.year * 12 + per.month - 1 - back
        year, month = divmod(index, 12)
        first = date(year, month + 1, 1)
        following = date(year + (month + 1) // 12, (month + 1) % 12 + 1, 1)
        label = f"{MONTHS_SHORT[month]} {year}"
        periods.append((f"{year}-{month + 1:02d}", label, first, following - timedelta(days=1)))
    return periods


def _counts(counter: Counter[str], keys: Iterable[str], names: Callable[[str], str]) -> list[Count]:
    """The given keys in order (zero included), then any other key found, most first."""
    ordered = list(keys)
    rest = sorted((k for k in counter if k not in ordered), key=lambda k: (-counter[k], k))
    return [Count(key=k, label=names(k), value=counter[k]) for k in ordered + rest]


def build_report(rows: RegisterRows, per: date, *, weeks: int = 12, months: int = 12) -> Report:
    """The report as of the end of ``per`` (Amsterdam), from the register's rows; rows after it are ignored."""
    opened = {c.case_id: amsterdam_date(c.geopend_op) for c in rows.cases}
    closed = {c.case_id: amsterdam_date(c.afgesloten_op) if c.afgesloten_op else None for c in rows.cases}

    def is_open(case_id: str, day: date) -> bool:
        closing = closed[case_id]
        return opened[case_id] <= day and (closing is None or closing > day)

    state: dict[str, StateFacts] = {}
    for row in rows.states:
        if amsterdam_date(row.tijd) <= per and (
            (known := state.get(row.case_id)) is None or row.volgnummer > known.volgnummer
        ):
            state[row.case_id] = row
    open_cases = [c for c in rows.cases if is_open(c.case_id, per)]

    def phase(c: CaseFacts) -> int:
        return state[c.case_id].fase if c.case_id in state else c.fase

    def regiehouder(c: CaseFacts) -> str:
        return state[c.case_id].regiehouder if c.case_id in state else c.regiehouder

    def escalatie(c: CaseFacts) -> str:
        return state[c.case_id].escalatie if c.case_id in state else c.escalatie

    regions = [r.value for r in Regio]
    regions += sorted({c.regio for c in open_cases} - set(regions))
    per_phase = []
    for fase in sorted(set(FASE_NAMEN) | {phase(c) for c in open_cases}):
        in_phase = Counter(c.regio for c in open_cases if phase(c) == fase)
        per_phase.append(
            PhaseCount(
                fase=fase,
                naam=FASE_NAMEN.get(fase, f"fase {fase}"),
                per_regio={r: in_phase[r] for r in regions},
                total=sum(in_phase.values()),
            )
        )
    overdue = [c for c in open_cases if c.startdatum + timedelta(days=TERM_DAYS) < per]
    weeks_home = [weeks_at_home(c.startdatum, per) for c in open_cases]
    recent_from = per - timedelta(days=RECENT_DAYS - 1)
    escalation_days = [(e.niveau, amsterdam_date(e.tijd)) for e in rows.escalations]

    def periods(bounds: list[tuple[str, str, date, date]]) -> list[Period]:
        result = []
        for key, label, first, full_last in bounds:
            last = min(full_last, per)
            closing = Counter(
                c.uitkomst or "onbekend"
                for c in rows.cases
                if (day := closed[c.case_id]) is not None and first <= day <= last
            )
            reached = Counter(niveau for niveau, day in escalation_days if first <= day <= last)
            result.append(
                Period(
                    key=key,
                    label=label,
                    first_day=first,
                    last_day=last,
                    partial=last < full_last,
                    new=sum(1 for c in rows.cases if first <= opened[c.case_id] <= last),
                    closed={u.value: closing[u.value] for u in Uitkomst},
                    closed_total=sum(closing.values()),
                    escalations={level: reached[level] for level in LEVELS},
                    open_at_end=sum(1 for c in rows.cases if is_open(c.case_id, last)),
                )
            )
        return result

    return Report(
        per=per,
        term_days=TERM_DAYS,
        recent_days=RECENT_DAYS,
        open_total=len(open_cases),
        per_phase=per_phase,
        per_region=_counts(Counter(c.regio for c in open_cases), regions, str),
        per_sector=_counts(Counter(c.sector for c in open_cases), [s.value for s in Sector], str),
        per_school=_counts(Counter(c.school_brin or NO_SCHOOL for c in open_cases), [], str),
        per_regiehouder=_counts(
            Counter(regiehouder(c) for c in open_cases),
            [r.value for r in Regiehouder],
            lambda k: REGIEHOUDER_NAMEN.get(k, k),
        ),
        overdue=len(overdue),
        overdue_not_escalated=sum(1 for c in overdue if escalatie(c) == Escalatie.GEEN.value),
        overdue_per_region=_counts(Counter(c.regio for c in overdue), regions, str),
        weeks_median=float(statistics.median(weeks_home)) if weeks_home else None,
        weeks_longest=max(weeks_home) if weeks_home else None,
        open_escalated=_counts(
            Counter(e for c in open_cases if (e := escalatie(c)) != Escalatie.GEEN.value),
            LEVELS,
            lambda k: ESCALATIE_NAMEN.get(k, k),
        ),
        escalations_recent=_counts(
            Counter(niveau for niveau, day in escalation_days if recent_from <= day <= per),
            LEVELS,
            lambda k: ESCALATIE_NAMEN.get(k, k),
        ),
        weeks=periods(week_periods(per, weeks)),
        months=periods(month_periods(per, months)),
    )


# ---------------------------------------------------------------------------------------------- formatting


def dutch_date(day: date, *, weekday: bool = False) -> str:
    text = f"{day.day} {MONTHS[day.month - 1]} {day.year}"
    return f"{WEEKDAYS[day.weekday()]} {text}" if weekday else text


def dutch_number(value: float | None) -> str:
    """``7,5`` for 7.5, ``7`` for 7.0, ``-`` for nothing."""
    if value is None:
        return "-"
    if float(value).is_integer():
        return str(int(value))
    return f"{value:.1f}".replace(".", ",")


def _grid(header: Sequence[str], rows: Sequence[Sequence[str]], indent: str = "  ") -> list[str]:
    """Columns aligned: the first to the left, the others (figures) to the right."""
    widths = [max(len(cell) for cell in column) for column in zip(header, *rows, strict=True)]

    def line(cells: Sequence[str]) -> str:
        parts = [cells[0].ljust(widths[0])] + [c.rjust(w) for c, w in zip(cells[1:], widths[1:], strict=True)]
        return (indent + "  ".join(parts)).rstrip()

    return [line(header), *(line(row) for row in rows)]


def _short_date(day: date) -> str:
    return f"{day.day} {MONTHS_SHORT[day.month - 1]}"


def _phase_label(p: PhaseCount) -> str:
    return f"{p.fase} {p.naam}"


def _school_rows(report: Report, top: int) -> tuple[list[Count], int, int]:
    """The first ``top`` schools, and how many other schools with how many open cases."""
    shown = report.per_school[:top]
    rest = report.per_school[top:]
    return shown, len(rest), sum(c.value for c in rest)


def render_table(report: Report, *, top: int = 10) -> str:
    """The report as text for a terminal, in Dutch."""
    regions = list(report.per_phase[0].per_regio) if report.per_phase else []
    title = f"Thuiszitters: stand per {dutch_date(report.per, weekday=True)}"
    lines = [title, "=" * len(title), "", f"Open zaken: {report.open_total}", ""]

    lines.append("Open zaken per fase")
    phase_rows = [[_phase_label(p), *(str(p.per_regio[r]) for r in regions), str(p.total)] for p in report.per_phase]
    phase_rows.append(
        ["totaal", *(str(c.value) for c in report.per_region if c.key in regions), str(report.open_total)]
    )
    lines += _grid(["fase", *regions, "totaal"], phase_rows)
    lines.append("")

    for dimension, counts in (
        ("regio", report.per_region),
        ("sector", report.per_sector),
        ("regiehouder", report.per_regiehouder),
    ):
        lines.append(f"Open zaken per {dimension}")
        lines += _grid([dimension, "aantal"], [[c.label, str(c.value)] for c in counts])
        lines.append("")

    shown, other_schools, other_cases = _school_rows(report, top)
    lines.append(f"Open zaken per school (BRIN; de {top} met de meeste zaken)")
    school_rows = [[c.label, str(c.value)] for c in shown]
    if other_schools:
        school_rows.append([f"overige {other_schools} scholen", str(other_cases)])
    lines += _grid(["school", "aantal"], school_rows) if school_rows else ["  geen"]
    lines.append("")

    lines.append(f"Twaalfwekentermijn: open zaken met startdatum meer dan {report.term_days} dagen voor de peildatum")
    lines += _grid(
        ["termijn", "aantal"],
        [
            ["verstreken", str(report.overdue)],
            ["waarvan niet opgeschaald", str(report.overdue_not_escalated)],
            *([f"verstreken in {c.label}", str(c.value)] for c in report.overdue_per_region),
        ],
    )
    lines.append("")

    lines.append("Weken thuis (open zaken, vanaf de startdatum)")
    lines += _grid(
        ["open zaken", "weken"],
        [["mediaan", dutch_number(report.weeks_median)], ["langste", dutch_number(report.weeks_longest)]],
    )
    lines.append("")

    recent = {c.key: c.value for c in report.escalations_recent}
    lines.append("Opschaling")
    lines += _grid(
        ["niveau", "open zaken", f"bereikt in de laatste {report.recent_days // 7} weken"],
        [[c.label, str(c.value), str(recent.get(c.key, 0))] for c in report.open_escalated],
    )
    lines.append("")

    figures = ["nieuw", "afgesl.", "terug", "andere", "vrijst.", "ingetr.", ">coörd.", ">taskf.", "open"]

    def trend(p: Period) -> list[str]:
        return [
            str(p.new),
            str(p.closed_total),
            *(str(p.closed[u.value]) for u in Uitkomst),
            *(str(p.escalations[level]) for level in LEVELS),
            str(p.open_at_end),
        ]

    mark = {True: "*", False: ""}
    lines.append(f"Per week (laatste {len(report.weeks)} weken)")
    lines += _grid(
        ["week", "vanaf", *figures],
        [[p.key + mark[p.partial], _short_date(p.first_day), *trend(p)] for p in report.weeks],
    )
    lines.append("")
    lines.append(f"Per maand (laatste {len(report.months)} maanden)")
    lines += _grid(["maand", *figures], [[p.label + mark[p.partial], *trend(p)] for p in report.months])
    lines.append("")
    lines += [
        "nieuw = geopend; afgesl. = afgesloten, waarvan terug (op school), andere (school ingeschreven),",
        "vrijst(elling), ingetr(okken); >coörd./>taskf. = opgeschaald naar coördinator/taskforce;",
        "open = open aan het eind van de periode; * = tot en met de peildatum.",
    ]
    return "\n".join(lines)


# ------------------------------------------------------------------------------------------------------- csv

CSV_SEPARATOR = ";"
CSV_HEADER = ("sectie", "onderdeel", "waarde")


def csv_rows(report: Report) -> list[tuple[str, str, str]]:
    """The report as (sectie, onderdeel, waarde) rows; see docs/report.md for each section."""
    rows: list[tuple[str, str, str]] = [("peildatum", "datum", report.per.isoformat())]
    rows.append(("open", "totaal", str(report.open_total)))
    rows += [("open_per_fase", _phase_label(p), str(p.total)) for p in report.per_phase]
    for regio in report.per_phase[0].per_regio if report.per_phase else {}:
        rows += [(f"open_per_fase_{regio.lower()}", _phase_label(p), str(p.per_regio[regio])) for p in report.per_phase]
    rows += [("open_per_regio", c.key, str(c.value)) for c in report.per_region]
    rows += [("open_per_sector", c.key, str(c.value)) for c in report.per_sector]
    rows += [("open_per_school", c.key, str(c.value)) for c in report.per_school]
    rows += [("open_per_regiehouder", c.key, str(c.value)) for c in report.per_regiehouder]
    rows.append(("twaalfwekentermijn", "verstreken", str(report.overdue)))
    rows.append(("twaalfwekentermijn", "verstreken_niet_opgeschaald", str(report.overdue_not_escalated)))
    rows += [("twaalfwekentermijn_per_regio", c.key, str(c.value)) for c in report.overdue_per_region]
    median = "" if report.weeks_median is None else dutch_number(report.weeks_median)
    rows.append(("weken_thuis", "mediaan", median))
    rows.append(("weken_thuis", "langste", "" if report.weeks_longest is None else str(report.weeks_longest)))
    rows += [("opgeschaald_open", c.key, str(c.value)) for c in report.open_escalated]
    rows += [
        (f"opgeschaald_laatste_{report.recent_days}_dagen", c.key, str(c.value)) for c in report.escalations_recent
    ]
    for prefix, periods in (("week", report.weeks), ("maand", report.months)):
        for p in periods:
            rows.append((f"{prefix}_nieuw", p.key, str(p.new)))
            rows.append((f"{prefix}_afgesloten", p.key, str(p.closed_total)))
            rows += [(f"{prefix}_afgesloten_{u}", p.key, str(n)) for u, n in p.closed.items()]
            rows += [(f"{prefix}_opgeschaald_{level}", p.key, str(n)) for level, n in p.escalations.items()]
            rows.append((f"{prefix}_open_einde", p.key, str(p.open_at_end)))
    return rows


def _cell(text: str) -> str:
    """Text a spreadsheet will not take for a formula."""
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


def render_csv(report: Report) -> str:
    """The CSV text: separator ';', a header row, CRLF line ends. Write it as UTF-8 with BOM (:func:`write_csv`)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=CSV_SEPARATOR, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    writer.writerows((section, _cell(dimension), value) for section, dimension, value in csv_rows(report))
    return buffer.getvalue()


def write_csv(report: Report, path: Path) -> None:
    # The BOM makes Excel read the file as UTF-8 (ö in coördinator); LibreOffice and Python's utf-8-sig accept it.
    path.write_text(render_csv(report), encoding="utf-8-sig", newline="")


# ------------------------------------------------------------------------------------------------------ html

COLOURS = {"Noord": "#0072B2", "Zuid": "#E69F00"}
EXTRA_COLOURS = ("#56B4E9", "#CC79A7", "#009E73")
NEW_COLOUR = "#56B4E9"
CLOSED_COLOUR = "#009E73"
LINE_COLOUR = "#1B3A5C"
OVERDUE_COLOUR = "#C0392B"
OVERDUE_ESCALATED_COLOUR = "#E69F00"
WITHIN_TERM_COLOUR = "#9DB4C8"
WIDTH = 1040


def _ticks(maximum: int, target: int = 5, minimum: int = 0) -> list[int]:
    """Round gridline values from ``minimum`` (rounded down) to at least ``maximum``; two at the least."""
    raw = max(1, maximum - minimum) / target
    magnitude = 10 ** math.floor(math.log10(raw))
    step = max(1, math.ceil(next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)))
    low = minimum // step * step
    high = max(low + step, math.ceil(maximum / step) * step)
    return list(range(low, high + 1, step))


def _text(x: float, y: float, content: str, *, anchor: str = "middle", size: int = 13, **attrs: str) -> str:
    extra = "".join(f' {k.replace("_", "-")}="{escape(v)}"' for k, v in attrs.items())
    return f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" font-size="{size}"{extra}>{escape(content)}</text>'


def _wrap(text: str, width: int) -> list[str]:
    lines: list[str] = []
    for word in text.split():
        if lines and len(lines[-1]) + 1 + len(word) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return lines


def _y_axis(ticks: list[int], left: float, right: float, y: Callable[[float], float]) -> list[str]:
    parts = []
    for tick in ticks:
        parts.append(f'<line x1="{left:.1f}" x2="{right:.1f}" y1="{y(tick):.1f}" y2="{y(tick):.1f}" class="grid"/>')
        parts.append(_text(left - 8, y(tick) + 4, str(tick), anchor="end", size=12, class_="axis"))
    return parts


def _svg(height: int, label: str, parts: list[str]) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" width="100%" role="img" '
        f'aria-label="{escape(label)}"><title>{escape(label)}</title>' + "".join(parts) + "</svg>"
    )


def _region_colour(index: int, regio: str) -> str:
    return COLOURS.get(regio, EXTRA_COLOURS[index % len(EXTRA_COLOURS)])


def svg_phase_region(report: Report) -> str:
    """Grouped bars: open cases per phase, one bar per region."""
    height, left, right, top, bottom = 380, 56, 16, 48, 82
    regions = list(report.per_phase[0].per_regio) if report.per_phase else []
    ticks = _ticks(max((n for p in report.per_phase for n in p.per_regio.values()), default=0))
    plot_h = height - top - bottom

    def y(v: float) -> float:
        return top + plot_h - v / ticks[-1] * plot_h

    parts = _y_axis(ticks, left, WIDTH - right, y)
    group = (WIDTH - left - right) / max(1, len(report.per_phase))
    bar = min(56.0, group * 0.7 / max(1, len(regions)))
    gap = 6.0
    for i, p in enumerate(report.per_phase):
        centre = left + group * (i + 0.5)
        start = centre - (len(regions) * bar + (len(regions) - 1) * gap) / 2
        for j, regio in enumerate(regions):
            value = p.per_regio[regio]
            x = start + j * (bar + gap)
            parts.append(
                f'<rect x="{x:.1f}" y="{y(value):.1f}" width="{bar:.1f}" height="{y(0) - y(value):.1f}" '
                f'fill="{_region_colour(j, regio)}" data-fase="{p.fase}" data-regio="{escape(regio)}" '
                f'data-waarde="{value}"><title>{escape(f"{regio}, fase {p.fase} {p.naam}: {value}")}</title></rect>'
            )
            parts.append(_text(x + bar / 2, y(value) - 6, str(value), size=14, font_weight="600"))
        label = _wrap(f"{p.fase} {p.naam}", 22)
        for k, line in enumerate(label):
            parts.append(_text(centre, y(0) + 22 + 17 * k, line, size=14, font_weight="600"))
        parts.append(_text(centre, y(0) + 24 + 17 * len(label), f"totaal {p.total}", size=13, class_="muted"))
    parts.append(f'<line x1="{left}" x2="{WIDTH - right}" y1="{y(0):.1f}" y2="{y(0):.1f}" class="baseline"/>')
    x = float(left)
    for j, regio in enumerate(regions):
        total = sum(p.per_regio[regio] for p in report.per_phase)
        parts.append(f'<rect x="{x:.1f}" y="14" width="16" height="16" fill="{_region_colour(j, regio)}"/>')
        parts.append(_text(x + 22, 27, f"{regio} ({total})", anchor="start", size=14))
        x += 150
    return _svg(height, "Open zaken per fase en regio", parts)


def svg_term(report: Report) -> str:
    """One stacked bar: open cases within the twelve-week term, past it and escalated, past it and not escalated."""
    height, left, right = 120, 16, 16
    escalated = report.overdue - report.overdue_not_escalated
    segments = [
        ("binnen de termijn", report.open_total - report.overdue, WITHIN_TERM_COLOUR, "binnen"),
        ("verstreken, opgeschaald", escalated, OVERDUE_ESCALATED_COLOUR, "verstreken_opgeschaald"),
        ("verstreken, niet opgeschaald", report.overdue_not_escalated, OVERDUE_COLOUR, "verstreken_niet_opgeschaald"),
    ]
    width = WIDTH - left - right
    parts: list[str] = []
    x = float(left)
    for label, value, colour, key in segments:
        w = width * value / report.open_total if report.open_total else 0
        parts.append(
            f'<rect x="{x:.1f}" y="10" width="{w:.1f}" height="48" fill="{colour}" data-deel="{key}" '
            f'data-waarde="{value}"><title>{escape(f"{label}: {value}")}</title></rect>'
        )
        if w >= 36:
            fill = "#ffffff" if colour == OVERDUE_COLOUR else "#1a1a1a"
            parts.append(_text(x + w / 2, 40, str(value), size=18, font_weight="700", fill=fill))
        x += w
    if not report.open_total:
        parts.append(f'<rect x="{left}" y="10" width="{width}" height="48" fill="#eeeeee"/>')
        parts.append(_text(WIDTH / 2, 40, "geen open zaken", size=15, class_="muted"))
    x = float(left)
    for label, value, colour, _ in segments:
        parts.append(f'<rect x="{x:.1f}" y="80" width="16" height="16" fill="{colour}"/>')
        parts.append(_text(x + 22, 93, f"{label}: {value}", anchor="start", size=14))
        x += 320
    return _svg(height, "Open zaken en de twaalfwekentermijn", parts)


def svg_trend(periods: Sequence[Period], unit: str) -> str:
    """Open cases at the end of each period (line), with new and closed cases per period (bars) below."""
    height, left, right = 500, 56, 16
    line_top, line_bottom, bar_top, bar_bottom = 44, 236, 290, 420
    n = max(1, len(periods))
    step = (WIDTH - left - right) / n

    def cx(i: int) -> float:
        return left + step * (i + 0.5)

    show_values = step >= 30
    label_every = max(1, math.ceil(64 / step))
    highest = max((p.open_at_end for p in periods), default=0)
    lowest = min((p.open_at_end for p in periods), default=0)
    # A line need not start at zero: when the number open hardly moves, a zero axis would hide the trend.
    open_ticks = _ticks(highest, minimum=lowest - (highest - lowest) // 4 if lowest > highest // 2 else 0)

    def y_open(v: float) -> float:
        low, high = open_ticks[0], open_ticks[-1]
        return line_bottom - (v - low) / (high - low) * (line_bottom - line_top)

    bar_ticks = _ticks(max((max(p.new, p.closed_total) for p in periods), default=0), target=3)

    def y_bar(v: float) -> float:
        return bar_bottom - v / bar_ticks[-1] * (bar_bottom - bar_top)

    title = f"Open zaken aan het eind van de {unit}"
    if open_ticks[0]:
        title += f" (let op: de verticale as begint bij {open_ticks[0]})"
    parts = [_text(left, 24, title, anchor="start", size=15, font_weight="600")]
    parts += _y_axis(open_ticks, left, WIDTH - right, y_open)
    points = " ".join(f"{cx(i):.1f},{y_open(p.open_at_end):.1f}" for i, p in enumerate(periods))
    parts.append(f'<polyline points="{points}" fill="none" stroke="{LINE_COLOUR}" stroke-width="3"/>')
    for i, p in enumerate(periods):
        parts.append(
            f'<circle cx="{cx(i):.1f}" cy="{y_open(p.open_at_end):.1f}" r="5" fill="{LINE_COLOUR}" '
            f'data-periode="{p.key}" data-open="{p.open_at_end}"><title>{escape(f"{p.label}: {p.open_at_end} open")}'
            "</title></circle>"
        )
        if show_values or i == len(periods) - 1:
            parts.append(_text(cx(i), y_open(p.open_at_end) - 11, str(p.open_at_end), size=13, font_weight="600"))

    title = f"Nieuw en afgesloten per {unit}"
    parts.append(_text(left, bar_top - 18, title, anchor="start", size=15, font_weight="600"))
    legend_x = WIDTH - right - 230
    for label, colour in (("nieuw", NEW_COLOUR), ("afgesloten", CLOSED_COLOUR)):
        parts.append(f'<rect x="{legend_x}" y="{bar_top - 31}" width="14" height="14" fill="{colour}"/>')
        parts.append(_text(legend_x + 20, bar_top - 19, label, anchor="start", size=14))
        legend_x += 120
    parts += _y_axis(bar_ticks, left, WIDTH - right, y_bar)
    bar = min(26.0, step * 0.36)
    for i, p in enumerate(periods):
        bars = ((-1, "nieuw", p.new, NEW_COLOUR), (0, "afgesloten", p.closed_total, CLOSED_COLOUR))
        for offset, kind, value, colour in bars:
            x = cx(i) + offset * bar + (1 if offset == 0 else -1)
            parts.append(
                f'<rect x="{x:.1f}" y="{y_bar(value):.1f}" width="{bar:.1f}" height="{y_bar(0) - y_bar(value):.1f}" '
                f'fill="{colour}" data-periode="{p.key}" data-soort="{kind}" data-waarde="{value}">'
                f"<title>{escape(f'{p.label}: {value} {kind}')}</title></rect>"
            )
            if show_values and (value or step >= 50):
                parts.append(_text(x + bar / 2, y_bar(value) - 4, str(value), size=11))
        if (len(periods) - 1 - i) % label_every == 0:
            name, _, when = p.label.partition(" (")
            parts.append(_text(cx(i), bar_bottom + 20, name + ("*" if p.partial else ""), size=13))
            if when:
                parts.append(_text(cx(i), bar_bottom + 37, when.rstrip(")"), size=12, class_="muted"))
    parts.append(
        f'<line x1="{left}" x2="{WIDTH - right}" y1="{bar_bottom}" y2="{bar_bottom}" class="baseline"/>'
        f'<line x1="{left}" x2="{WIDTH - right}" y1="{line_bottom}" y2="{line_bottom}" '
        f'class="{"grid" if open_ticks[0] else "baseline"}"/>'
    )
    if any(p.partial for p in periods):
        note = "* tot en met de peildatum"
        parts.append(_text(WIDTH - right, height - 12, note, anchor="end", size=12, class_="muted"))
    return _svg(height, f"Open, nieuwe en afgesloten zaken per {unit}", parts)


def _html_table(header: Sequence[str], rows: Sequence[Sequence[str | int]], caption: str) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{escape(str(c))}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><caption>{escape(caption)}</caption><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


_STYLE = """
:root { color-scheme: light; }
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1a1a1a; margin: 0;
       background: #f4f6f8; }
main { max-width: 1100px; margin: 0 auto; padding: 24px 28px 48px; }
h1 { font-size: 28px; margin: 0 0 4px; }
h2 { font-size: 20px; margin: 0 0 12px; }
p.sub { color: #555; margin: 0 0 20px; }
.tiles { display: grid; grid-template-columns: repeat(4, 1fr); gap: 14px; margin-bottom: 20px; }
.tile { background: #fff; border-radius: 10px; padding: 14px 16px; border: 1px solid #dde3e9; }
.tile .num { font-size: 40px; font-weight: 700; line-height: 1.1; }
.tile .what { font-size: 15px; color: #333; }
.tile .more { font-size: 14px; color: #555; margin-top: 4px; }
.tile.alert { background: #fdecea; border-color: #C0392B; }
.tile.alert .num { color: #C0392B; }
section { background: #fff; border-radius: 10px; border: 1px solid #dde3e9; padding: 16px 18px; margin-bottom: 20px; }
svg text { fill: #1a1a1a; font-family: inherit; }
svg text.muted, svg text.axis { fill: #666; }
svg .grid { stroke: #e3e7eb; stroke-width: 1; }
svg .baseline { stroke: #555; stroke-width: 1.5; }
.tables { display: grid; grid-template-columns: repeat(2, 1fr); gap: 16px 28px; align-items: start; }
table { border-collapse: collapse; font-size: 14px; width: 100%; }
caption { text-align: left; font-weight: 600; padding-bottom: 6px; font-size: 15px; }
th, td { padding: 3px 8px; border-bottom: 1px solid #e6e9ec; text-align: right; }
th:first-child, td:first-child { text-align: left; white-space: nowrap; }
th { color: #444; font-weight: 600; }
.wide { grid-column: 1 / -1; }
footer { color: #666; font-size: 13px; }
@media print { body { background: #fff; } section, .tile { break-inside: avoid; } }
"""


def render_html(report: Report, *, top: int = 10) -> str:
    """A self-contained page (inline CSS and SVG, no scripts, nothing loaded from elsewhere), in Dutch."""
    esc = {c.key: c.value for c in report.open_escalated}
    recent = {c.key: c.value for c in report.escalations_recent}
    overdue_regions = ", ".join(f"{c.label} {c.value}" for c in report.overdue_per_region)
    tiles = [
        ("", str(report.open_total), "open zaken", ", ".join(f"{c.label} {c.value}" for c in report.per_region)),
        (
            "alert" if report.overdue else "",
            str(report.overdue),
            "over de twaalfwekentermijn",
            f"waarvan {report.overdue_not_escalated} niet opgeschaald ({overdue_regions})",
        ),
        (
            "",
            dutch_number(report.weeks_median),
            "weken thuis (mediaan)",
            f"langste: {dutch_number(report.weeks_longest)} weken" if report.weeks_longest is not None else "",
        ),
        (
            "",
            str(sum(esc.values())),
            "opgeschaald, nog open",
            f"coördinator {esc.get('coordinator', 0)}, taskforce {esc.get('taskforce', 0)}; "
            f"laatste {report.recent_days // 7} weken bereikt: {sum(recent.values())}",
        ),
    ]
    tile_html = "".join(
        f'<div class="tile {cls}" data-kpi="{escape(what)}"><div class="num">{escape(num)}</div>'
        f'<div class="what">{escape(what)}</div><div class="more">{escape(more)}</div></div>'
        for cls, num, what, more in tiles
    )
    regions = list(report.per_phase[0].per_regio) if report.per_phase else []
    shown, other_schools, other_cases = _school_rows(report, top)
    school_rows: list[list[str | int]] = [[c.label, c.value] for c in shown]
    if other_schools:
        school_rows.append([f"overige {other_schools} scholen", other_cases])

    def trend_rows(periods: Sequence[Period]) -> list[list[str | int]]:
        return [
            [
                p.label + (" *" if p.partial else ""),
                p.new,
                p.closed_total,
                *(p.closed[u.value] for u in Uitkomst),
                *(p.escalations[level] for level in LEVELS),
                p.open_at_end,
            ]
            for p in periods
        ]

    trend_header = [
        "periode",
        "nieuw",
        "afgesloten",
        *(UITKOMST_NAMEN[u] for u in Uitkomst),
        "naar coördinator",
        "naar taskforce",
        "open aan eind",
    ]
    tables = [
        _html_table(
            ["fase", *regions, "totaal"],
            [[_phase_label(p), *(p.per_regio[r] for r in regions), p.total] for p in report.per_phase],
            "Open zaken per fase",
        ),
        _html_table(["sector", "aantal"], [[c.label, c.value] for c in report.per_sector], "Open zaken per sector"),
        _html_table(
            ["regiehouder", "aantal"],
            [[c.label, c.value] for c in report.per_regiehouder],
            "Open zaken per regiehouder",
        ),
        _html_table(["school (BRIN)", "aantal"], school_rows, f"Open zaken per school (top {top})"),
    ]
    wide_tables = [
        _html_table(trend_header, trend_rows(report.weeks), f"Per week (laatste {len(report.weeks)} weken)"),
        _html_table(trend_header, trend_rows(report.months), f"Per maand (laatste {len(report.months)} maanden)"),
    ]
    title = f"Thuiszitters: stand per {dutch_date(report.per)}"
    return "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="nl">',
            "<head>",
            '<meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>{escape(title)}</title>",
            f"<style>{_STYLE}</style>",
            "</head>",
            "<body><main>",
            f"<h1>{escape(title)}</h1>",
            f'<p class="sub">Peildatum {escape(dutch_date(report.per, weekday=True))}: open zijn de zaken die tot '
            "en met die dag zijn geopend en toen nog niet waren afgesloten. Bron: het zaakregister.</p>",
            f'<div class="tiles">{tile_html}</div>',
            f"<section><h2>Open zaken en de twaalfwekentermijn ({report.term_days} dagen na de startdatum)</h2>"
            f"{svg_term(report)}</section>",
            f"<section><h2>Open zaken per fase en regio</h2>{svg_phase_region(report)}</section>",
            f"<section><h2>Per week</h2>{svg_trend(report.weeks, 'week')}</section>",
            f"<section><h2>Per maand</h2>{svg_trend(report.months, 'maand')}</section>",
            '<section class="tables">'
            + "".join(tables)
            + "".join(f'<div class="wide">{t}</div>' for t in wide_tables)
            + "</section>",
            "<footer>Open aan het eind van een periode: geopend op of voor de laatste dag en toen nog niet afgesloten. "
            "Fase, regiehouder en opschaling zijn die van de laatste vastlegging tot en met de peildatum.</footer>",
            "</main></body></html>",
            "",
        ]
    )


# ------------------------------------------------------------------------------------------------------ main


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is geen datum; gebruik JJJJ-MM-DD") from None


def _positive(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 520:
        raise argparse.ArgumentTypeError(f"'{text}' is geen aantal van 1 tot en met 520")
    return int(text)


async def load_report(dsn: str, per: date, *, weeks: int, months: int) -> Report:
    """Connect, check that the register is up to date, read it and compute the report."""
    try:
        register = await asyncio.wait_for(Register.connect(dsn, max_size=2), timeout=15)
    except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError, ValueError) as error:
        raise ReportError(f"kan het zaakregister niet bereiken: {error or type(error).__name__}") from None
    try:
        if pending := await register.pending_migrations():
            raise ReportError("het zaakregister is niet bijgewerkt (ontbrekende migraties: " + ", ".join(pending) + ")")
        rows = await fetch_rows(register, per)
    except asyncpg.PostgresError as error:
        raise ReportError(f"het zaakregister gaf een fout: {error}") from None
    finally:
        await register.close()
    return build_report(rows, per, weeks=weeks, months=months)


async def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    parser = argparse.ArgumentParser(
        prog="python -m thuiszitters.tools.report",
        description="Stand en trend van de thuiszitters voor de coördinatoren, uit het zaakregister (DATABASE_URL).",
    )
    parser.add_argument("--per", type=_day, help="peildatum JJJJ-MM-DD (standaard: vandaag)")
    parser.add_argument("--csv", type=Path, metavar="PAD", help="schrijf de cijfers ook als CSV (';', UTF-8)")
    parser.add_argument("--grafiek", type=Path, metavar="PAD.html", help="schrijf een HTML-pagina met grafieken")
    parser.add_argument("--weken", type=_positive, default=12, metavar="N", help="aantal weken in de trend (12)")
    parser.add_argument("--maanden", type=_positive, default=12, metavar="N", help="aantal maanden in de trend (12)")
    parser.add_argument("--top", type=_positive, default=10, metavar="N", help="aantal scholen in de tabel (10)")
    args = parser.parse_args(argv)
    try:
        settings = Settings.from_env()
        if not settings.database_url:
            raise ReportError(
                "DATABASE_URL ontbreekt: geef de verbinding met het zaakregister op, "
                "bijvoorbeeld DATABASE_URL=postgresql://gebruiker@host:5432/thuiszitters"
            )
        today = amsterdam_date(datetime.now(UTC))
        per: date = args.per or today
        if per > today:
            raise ReportError(f"de peildatum {per.isoformat()} ligt in de toekomst")
        report = await load_report(settings.database_url, per, weeks=args.weken, months=args.maanden)
        print(render_table(report, top=args.top), file=out)
        try:
            if args.csv:
                write_csv(report, args.csv)
                print(f"\nCSV geschreven: {args.csv}", file=out)
            if args.grafiek:
                args.grafiek.write_text(render_html(report, top=args.top), encoding="utf-8")
                print(f"Grafieken geschreven: {args.grafiek}", file=out)
        except OSError as error:
            raise ReportError(f"kan {error.filename or 'het bestand'} niet schrijven: {error.strerror}") from None
    except (ReportError, SettingsError) as error:
        print(f"Fout: {error}", file=sys.stderr)
        return 1
    return 0


def cli() -> None:
    """The ``thuiszitters-rapport`` command (and ``python -m thuiszitters.tools.report``)."""
    sys.exit(asyncio.run(main()))


if __name__ == "__main__":
    cli()
