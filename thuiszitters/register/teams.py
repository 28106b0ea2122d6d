"""What the team views read from the case register: the coordinator's region, the Kerngroep's agenda and the list
of every thuiszitter it follows, and Leerplicht's list.

Every function takes the person's :class:`~thuiszitters.people.policy.ScopeFilter` and turns it into SQL with
:func:`~thuiszitters.register.werkbak.scope_sql`, so a view holds only cases the person may see. Each view is a few
queries in one read-only snapshot, never a question to the cases' workflows. The queries follow the register's
indexes: open tasks per role through ``tasks_open_per_role_idx``, the tasks of a case through ``tasks_case_idx``,
open cases through ``cases_open_idx``.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any, Final, Generic, TypeAlias, TypeVar

import asyncpg

from thuiszitters.people.policy import ScopeFilter
from thuiszitters.register.werkbak import scope_sql
from thuiszitters.tools.report import (
    TERM_DAYS,
    EscalationFacts,
    RegisterRows,
    Report,
    build_report,
    end_of_day,
    week_periods,
)
from thuiszitters.tools.report import CaseFacts as ReportCase
from workflows.calendar import amsterdam_moment

if TYPE_CHECKING:
    from asyncpg.pool import PoolConnectionProxy

    Connection: TypeAlias = PoolConnectionProxy[asyncpg.Record]

MAX_ROWS: Final = 200
"""The most rows one table of a team view shows; its caption says how many there are in all."""
KERNGROEP_PAGE: Final = 100
"""Cases per page of the Kerngroep's list of every thuiszitter it follows."""
TREND_WEEKS: Final = 12
"""Weeks in the region's trend (as the coordinators' report)."""
RECENT_DAYS: Final = 56
"""How far back Leerplicht's list shows start-date corrections and vrijstelling events: eight weeks."""
LBA_TASK: Final = "lba_registreren"
VRIJSTELLING_TASK: Final = "vrijstelling_doorzetten"
BESLUIT_TASK: Final = "besluit_nemen"
PARENTS_ROLE: Final = "ouders"
"""Tasks of this role go to the parents, who have no account here: they are never assigned to a person."""


T = TypeVar("T")


def _today(arguments: list[Any], op: date) -> str:
    arguments.append(op)
    return f"${len(arguments)}::date"


# ------------------------------------------------------------------------------------------------------ region


@dataclass(frozen=True)
class SchoolTaken:
    """The open tasks of the open cases of one school (None: pupils from abroad without a school)."""

    school_brin: str | None
    open: int
    niet_toegewezen: int
    te_laat: int


@dataclass(frozen=True)
class ZaakZonderBesluit:
    """An open case past its twelve weeks without a check decision."""

    case_id: str
    leerling_ref: str
    school_brin: str | None
    fase: int
    startdatum: date
    escalatie: str
    check_stand: str | None
    """'open': the check waits for a decision; None: the check has not opened in the register (a version-1 case,
    or a start date corrected back)."""
    check_uiterlijk: date | None
    te_laat: bool
    """The decision's due date has passed (or, without a check, the twelve weeks have)."""


@dataclass(frozen=True)
class Regiobeeld:
    scholen: list[SchoolTaken]
    zonder_besluit: list[ZaakZonderBesluit]
    zonder_besluit_totaal: int
    zonder_besluit_te_laat: int
    rapport: Report
    """The coordinators' report (:mod:`thuiszitters.tools.report`) over the cases of the scope, as of today."""


def _past_twelve_weeks(today: str, arguments: list[Any]) -> str:
    """Open cases before phase 4 past their twelve weeks without a decision: the check is open (it opens at twelve
    weeks and stays open until someone decides), or the register has no check although the start date lies more
    than the term back and nothing escalated the case."""
    arguments.append(TERM_DAYS)
    term = f"${len(arguments)}::integer"
    return (
        f"NOT c.afgesloten AND c.fase < 4 AND (c.check_stand = 'open' OR "
        f"(c.check_stand IS NULL AND c.escalatie = 'geen' AND c.startdatum + {term} < {today}))"
    )


async def region(pool: asyncpg.Pool[asyncpg.Record], scope: ScopeFilter, *, op: date) -> Regiobeeld:
    """The region page in one snapshot: open tasks per school, the cases past twelve weeks without a decision, and
    the report's figures over the scope (four queries). The report is computed in Python over some thousands of rows
    (about 0.1 s for a region of 3,000 open cases), so in a worker thread, not in the event loop."""
    async with pool.acquire() as connection, connection.transaction(isolation="repeatable_read", readonly=True):
        arguments: list[Any] = []
        today = _today(arguments, op)
        schools = await connection.fetch(
            f"""
            SELECT c.school_brin, count(*) AS open,
                   count(*) FILTER (WHERE t.toegewezen_aan IS NULL AND t.rol <> '{PARENTS_ROLE}') AS niet_toegewezen,
                   count(*) FILTER (WHERE t.uiterlijk < {today}) AS te_laat
            FROM cases c JOIN tasks t ON t.case_id = c.case_id AND t.gesloten_op IS NULL
            WHERE NOT c.afgesloten AND {scope_sql(scope, arguments)}
            GROUP BY c.school_brin
            ORDER BY 4 DESC, 3 DESC, c.school_brin NULLS LAST
            """,
            *arguments,
        )
        arguments = []
        today = _today(arguments, op)
        condition = _past_twelve_weeks(today, arguments)
        arguments.append(MAX_ROWS)
        limit = f"${len(arguments)}"
        late = f"COALESCE(c.check_uiterlijk < {today}, c.check_stand IS NULL)"  # no check: the term itself has passed
        unresolved = await connection.fetch(
            f"""
            SELECT c.case_id, c.leerling_ref, c.school_brin, c.fase, c.startdatum, c.escalatie, c.check_stand,
                   c.check_uiterlijk, {late} AS te_laat,
                   count(*) OVER () AS totaal, count(*) FILTER (WHERE {late}) OVER () AS totaal_te_laat
            FROM cases c
            WHERE {condition} AND {scope_sql(scope, arguments)}
            ORDER BY {late} DESC, c.check_uiterlijk NULLS LAST, c.startdatum, c.case_id
            LIMIT {limit}
            """,
            *arguments,
        )
        rows = await _report_rows(connection, scope, op)
    return Regiobeeld(
        scholen=[SchoolTaken(**dict(row)) for row in schools],
        zonder_besluit=[
            ZaakZonderBesluit(**{k: v for k, v in dict(row).items() if not k.startswith("totaal")})
            for row in unresolved
        ],
        zonder_besluit_totaal=int(unresolved[0]["totaal"]) if unresolved else 0,
        zonder_besluit_te_laat=int(unresolved[0]["totaal_te_laat"]) if unresolved else 0,
        rapport=await asyncio.to_thread(build_report, rows, op, weeks=TREND_WEEKS, months=0),
    )


async def _report_rows(connection: Connection, scope: ScopeFilter, per: date) -> RegisterRows:
    """The rows the report needs for the figures of today and the trend of :data:`TREND_WEEKS` weeks, within the
    scope: the cases open at some moment of that window, and the escalations reached in it.

    The report takes a case's phase, regiehouder and escalation at the per-date from ``case_events``; for today
    that is the case's own row, so no events are read (``states`` is empty and the report falls back to the row).
    """
    first_day = min(week_periods(per, TREND_WEEKS)[0][2], per - timedelta(days=27))
    start, end = amsterdam_moment(first_day, 0), end_of_day(per)
    arguments: list[Any] = [end, start]
    cases = await connection.fetch(
        f"""
        SELECT c.case_id, c.sector, c.regio, c.school_brin, c.startdatum, c.fase, c.regiehouder, c.escalatie,
               c.uitkomst, c.geopend_op, c.afgesloten_op
        FROM cases c
        WHERE c.geopend_op < $1 AND (c.afgesloten_op IS NULL OR c.afgesloten_op >= $2)
          AND {scope_sql(scope, arguments)}
        """,
        *arguments,
    )
    arguments = [end, start]
    escalations = await connection.fetch(
        f"""
        SELECT e.case_id, e.niveau, e.tijd FROM escalations e JOIN cases c ON c.case_id = e.case_id
        WHERE e.tijd < $1 AND e.tijd >= $2 AND {scope_sql(scope, arguments)}
        """,
        *arguments,
    )
    return RegisterRows(
        cases=[ReportCase.model_validate(dict(row)) for row in cases],
        states=[],
        escalations=[EscalationFacts.model_validate(dict(row)) for row in escalations],
    )


@dataclass(frozen=True)
class ExportRij:
    """One open case in the region's export: pseudonymous, no names and no text written by people."""

    leerling_ref: str
    school_brin: str | None
    sector: str
    regio: str
    fase: int
    startdatum: date
    escalatie: str
    check_stand: str | None
    check_uiterlijk: date | None


async def region_export(pool: asyncpg.Pool[asyncpg.Record], scope: ScopeFilter) -> list[ExportRij]:
    """Every open case of the scope, by school and start date."""
    arguments: list[Any] = []
    rows = await pool.fetch(
        f"""
        SELECT c.leerling_ref, c.school_brin, c.sector, c.regio, c.fase, c.startdatum, c.escalatie, c.check_stand,
               c.check_uiterlijk
        FROM cases c
        WHERE NOT c.afgesloten AND {scope_sql(scope, arguments)}
        ORDER BY c.school_brin NULLS LAST, c.startdatum, c.leerling_ref
        """,
        *arguments,
    )
    return [ExportRij(**dict(row)) for row in rows]


# --------------------------------------------------------------------------------------------------- Kerngroep


@dataclass(frozen=True)
class Agendapunt:
    """A case escalated to the Taskforce, as the Kerngroep's agenda shows it."""

    case_id: str
    leerling_ref: str
    school_brin: str | None
    sector: str
    regio: str
    fase: int
    startdatum: date
    kerngroep_bespreking_op: date | None
    huisbezoek_op: date | None
    """The date of the home visit report in the dossier; None: no report yet."""
    besluiten: int
    laatste_besluit_op: date | None
    besluit_open: bool
    """An open task to decide (``besluit_nemen``)."""
    besluit_uiterlijk: date | None


@dataclass(frozen=True)
class Gevolgd:
    """A thuiszitter on the Kerngroep's list of every case it follows."""

    case_id: str
    leerling_ref: str
    school_brin: str | None
    sector: str
    regio: str
    fase: int
    startdatum: date
    escalatie: str
    op_kerngroep_lijst: bool


@dataclass(frozen=True)
class Kerngroepbeeld:
    volgende_bespreking: date | None
    """The earliest meeting date on or after today among the escalated cases."""
    agenda: list[Agendapunt]
    """The cases of that meeting, by start date."""
    overige: list[Agendapunt]
    """The other escalated cases: later meetings first (by date), then dates already past, then undated."""
    gevolgd: list[Gevolgd]
    gevolgd_totaal: int
    """How many cases the list holds with the filter (the page shows :data:`KERNGROEP_PAGE` of them)."""
    open_totaal: int
    op_lijst_totaal: int
    opgeschaald_totaal: int


async def kerngroep(
    pool: asyncpg.Pool[asyncpg.Record],
    scope: ScopeFilter,
    *,
    op: date,
    pagina: int = 1,
    per_pagina: int = KERNGROEP_PAGE,
    alleen_lijst: bool = False,
) -> Kerngroepbeeld:
    """The Kerngroep's page in one snapshot: the agenda (cases escalated to the Taskforce with their meeting date,
    home visit report and decision), the counts, and one page of every open case in scope (longest at home first;
    ``alleen_lijst``: only those on the Kerngroep's list)."""
    async with pool.acquire() as connection, connection.transaction(isolation="repeatable_read", readonly=True):
        arguments: list[Any] = []
        besluiten = "d.dossier -> 'besluiten'"
        escalated = await connection.fetch(
            f"""
            SELECT c.case_id, c.leerling_ref, c.school_brin, c.sector, c.regio, c.fase, c.startdatum,
                   c.kerngroep_bespreking_op,
                   (d.dossier -> 'huisbezoek' ->> 'op')::date AS huisbezoek_op,
                   CASE WHEN jsonb_typeof({besluiten}) = 'array' THEN jsonb_array_length({besluiten}) ELSE 0 END
                       AS besluiten,
                   CASE WHEN jsonb_typeof({besluiten}) = 'array' THEN ({besluiten} -> -1 ->> 'op')::date END
                       AS laatste_besluit_op,
                   b.open > 0 AS besluit_open, b.uiterlijk AS besluit_uiterlijk
            FROM cases c
            LEFT JOIN case_dossier d ON d.case_id = c.case_id
            CROSS JOIN LATERAL (
                SELECT count(*) AS open, min(t.uiterlijk) AS uiterlijk FROM tasks t
                WHERE t.case_id = c.case_id AND t.gesloten_op IS NULL AND t.taak = '{BESLUIT_TASK}'
            ) b
            WHERE NOT c.afgesloten AND c.escalatie = 'taskforce' AND {scope_sql(scope, arguments)}
            ORDER BY c.kerngroep_bespreking_op NULLS LAST, c.startdatum, c.case_id
            """,
            *arguments,
        )
        arguments = []
        counts = await connection.fetchrow(
            f"""
            SELECT count(*) AS open, count(*) FILTER (WHERE c.op_kerngroep_lijst) AS op_lijst,
                   count(*) FILTER (WHERE c.escalatie = 'taskforce') AS opgeschaald
            FROM cases c WHERE NOT c.afgesloten AND {scope_sql(scope, arguments)}
            """,
            *arguments,
        )
        arguments = []
        condition = f"NOT c.afgesloten AND {scope_sql(scope, arguments)}"
        if alleen_lijst:
            condition += " AND c.op_kerngroep_lijst"
        arguments += [per_pagina, (max(pagina, 1) - 1) * per_pagina]
        followed = await connection.fetch(
            f"""
            SELECT c.case_id, c.leerling_ref, c.school_brin, c.sector, c.regio, c.fase, c.startdatum, c.escalatie,
                   c.op_kerngroep_lijst
            FROM cases c WHERE {condition}
            ORDER BY c.startdatum, c.case_id
            LIMIT ${len(arguments) - 1} OFFSET ${len(arguments)}
            """,
            *arguments,
        )
    items = [Agendapunt(**dict(row)) for row in escalated]
    upcoming = [
        i.kerngroep_bespreking_op for i in items if i.kerngroep_bespreking_op and i.kerngroep_bespreking_op >= op
    ]
    volgende = min(upcoming, default=None)

    def place(item: Agendapunt) -> tuple[int, date]:
        day = item.kerngroep_bespreking_op
        if day is None:
            return (3, date.max)
        if day < op:
            return (2, day)
        return (0 if day == volgende else 1, day)

    ordered = sorted(items, key=place)  # stable: within a date, by start date (the query's order)
    totaal = int(counts["op_lijst"] if alleen_lijst else counts["open"]) if counts else 0
    return Kerngroepbeeld(
        volgende_bespreking=volgende,
        agenda=[i for i in ordered if volgende is not None and i.kerngroep_bespreking_op == volgende],
        overige=[i for i in ordered if volgende is None or i.kerngroep_bespreking_op != volgende],
        gevolgd=[Gevolgd(**dict(row)) for row in followed],
        gevolgd_totaal=totaal,
        open_totaal=int(counts["open"]) if counts else 0,
        op_lijst_totaal=int(counts["op_lijst"]) if counts else 0,
        opgeschaald_totaal=int(counts["opgeschaald"]) if counts else 0,
    )


# -------------------------------------------------------------------------------------------------- Leerplicht


@dataclass(frozen=True)
class LeerplichtTaak:
    """An open task of Leerplicht's role in a case of the scope."""

    case_id: str
    leerling_ref: str
    school_brin: str | None
    sector: str
    regio: str
    fase: int
    startdatum: date
    taak_id: str | None
    uiterlijk: date | None
    te_laat: bool
    toegewezen_aan: str | None


@dataclass(frozen=True)
class LeerplichtigVanaf:
    """An open case whose pupil becomes leerplichtig on a day still ahead."""

    case_id: str
    leerling_ref: str
    school_brin: str | None
    fase: int
    startdatum: date
    leerplichtig_vanaf: date


@dataclass(frozen=True)
class Gebeurtenis:
    """A recent start-date correction or vrijstelling event in a case of the scope."""

    case_id: str
    leerling_ref: str
    school_brin: str | None
    gebeurtenis: str
    tijd: datetime
    door: str | None
    fase: int
    startdatum: date
    afgesloten: bool


@dataclass(frozen=True)
class Lijst(Generic[T]):
    """At most :data:`MAX_ROWS` rows of a table, and how many there are in all."""

    rijen: list[T]
    totaal: int
    te_laat: int = 0
    """For tasks: how many of all of them are overdue."""


@dataclass(frozen=True)
class Leerplichtbeeld:
    lba: Lijst[LeerplichtTaak]
    vrijstelling_taken: Lijst[LeerplichtTaak]
    leerplichtig_vanaf: Lijst[LeerplichtigVanaf]
    correcties: Lijst[Gebeurtenis]
    vrijstellingen: Lijst[Gebeurtenis]
    sinds: date
    """The first day of the recent events shown."""


async def leerplicht(pool: asyncpg.Pool[asyncpg.Record], rol: str, scope: ScopeFilter, *, op: date) -> Leerplichtbeeld:
    """Leerplicht's list in one snapshot: the open LBA registrations and vrijstelling requests of the role (due
    first), the pupils who become leerplichtig later, and the recent start-date corrections and vrijstelling events
    (five queries)."""
    since = op - timedelta(days=RECENT_DAYS - 1)
    async with pool.acquire() as connection, connection.transaction(isolation="repeatable_read", readonly=True):
        lba = await _role_tasks(connection, rol, LBA_TASK, scope, op)
        vrijstelling = await _role_tasks(connection, rol, VRIJSTELLING_TASK, scope, op)
        arguments: list[Any] = []
        today = _today(arguments, op)
        arguments.append(MAX_ROWS)
        later = await connection.fetch(
            f"""
            SELECT c.case_id, c.leerling_ref, c.school_brin, c.fase, c.startdatum, c.leerplichtig_vanaf,
                   count(*) OVER () AS totaal
            FROM cases c
            WHERE NOT c.afgesloten AND c.leerplichtig_vanaf > {today} AND {scope_sql(scope, arguments)}
            ORDER BY c.leerplichtig_vanaf, c.case_id
            LIMIT $2
            """,
            *arguments,
        )
        arguments = [amsterdam_moment(since, 0), MAX_ROWS, end_of_day(op)]
        events = await connection.fetch(
            f"""
            SELECT * FROM (
                SELECT c.case_id, c.leerling_ref, c.school_brin, e.gebeurtenis, e.tijd, e.door, c.fase, c.startdatum,
                       c.afgesloten,
                       row_number() OVER (PARTITION BY e.gebeurtenis ORDER BY e.tijd DESC, e.case_id) AS nummer,
                       count(*) OVER (PARTITION BY e.gebeurtenis) AS totaal
                FROM case_events e JOIN cases c ON c.case_id = e.case_id
                WHERE e.gebeurtenis IN ('startdatum_correctie', 'vrijstelling') AND e.tijd >= $1 AND e.tijd < $3
                  AND {scope_sql(scope, arguments)}
            ) recent
            WHERE nummer <= $2
            ORDER BY tijd DESC, case_id
            """,
            *arguments,
        )

    def of_kind(kind: str) -> Lijst[Gebeurtenis]:
        rows = [r for r in events if r["gebeurtenis"] == kind]
        return Lijst(
            [Gebeurtenis(**{k: v for k, v in dict(r).items() if k not in ("nummer", "totaal")}) for r in rows],
            int(rows[0]["totaal"]) if rows else 0,
        )

    return Leerplichtbeeld(
        lba=lba,
        vrijstelling_taken=vrijstelling,
        leerplichtig_vanaf=Lijst(
            [LeerplichtigVanaf(**{k: v for k, v in dict(r).items() if k != "totaal"}) for r in later],
            int(later[0]["totaal"]) if later else 0,
        ),
        correcties=of_kind("startdatum_correctie"),
        vrijstellingen=of_kind("vrijstelling"),
        sinds=since,
    )


async def _role_tasks(
    connection: Connection, rol: str, taak: str, scope: ScopeFilter, op: date
) -> Lijst[LeerplichtTaak]:
    """The open tasks of one kind of the role in open cases of the scope: by due date (overdue first), no date
    last."""
    arguments: list[Any] = [rol, taak]
    today = _today(arguments, op)
    arguments.append(MAX_ROWS)
    limit = f"${len(arguments)}"
    rows = await connection.fetch(
        f"""
        SELECT t.case_id, c.leerling_ref, c.school_brin, c.sector, c.regio, c.fase, c.startdatum, t.taak_id,
               t.uiterlijk, COALESCE(t.uiterlijk < {today}, false) AS te_laat, t.toegewezen_aan,
               count(*) OVER () AS totaal, count(*) FILTER (WHERE t.uiterlijk < {today}) OVER () AS totaal_te_laat
        FROM tasks t JOIN cases c ON c.case_id = t.case_id
        WHERE t.gesloten_op IS NULL AND t.rol = $1 AND t.taak = $2 AND NOT c.afgesloten
          AND {scope_sql(scope, arguments)}
        ORDER BY t.uiterlijk NULLS LAST, c.startdatum, t.id
        LIMIT {limit}
        """,
        *arguments,
    )
    return Lijst(
        [LeerplichtTaak(**{k: v for k, v in dict(r).items() if not k.startswith("totaal")}) for r in rows],
        int(rows[0]["totaal"]) if rows else 0,
        int(rows[0]["totaal_te_laat"]) if rows else 0,
    )
