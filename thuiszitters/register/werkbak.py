"""What the werkbak (the web application's work pages) reads from the case register: a person's open tasks with
their counts, one case with its tasks, timeline and dossier, and the scope of step 12 as a register query.

Every list here is one query over the register, never a question to the cases' workflows; every query takes the
person's :class:`~thuiszitters.people.policy.ScopeFilter`, so a list holds only cases the person may see, and a
filter narrows within that.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any, Final

import asyncpg
from pydantic import ValidationError

from thuiszitters.people.policy import CaseFacts, ScopeClause, ScopeFilter
from thuiszitters.register.store import (
    _TODAY,
    CaseRow,
    DossierRow,
    EventRow,
    OpenTaskRow,
    Register,
    TaskRow,
)

MAX_TASKS: Final = 200
"""The most tasks one page of "Mijn taken" shows; the counts always cover them all."""
TIMELINE_PAGE: Final = 25


# ------------------------------------------------------------------------------------------------------ scope


def scope_sql(scope: ScopeFilter, arguments: list[Any], case: str = "c") -> str:
    """The scope as a SQL condition on the register's ``cases`` row aliased ``case``; its values are appended to
    ``arguments`` (numbered from there). No clause: no case; an empty clause: every case."""
    if scope.geen:
        return "false"
    parts = [_clause_sql(clause, arguments, case) for clause in scope.clauses]
    return "(" + " OR ".join(parts) + ")"


def _clause_sql(clause: ScopeClause, arguments: list[Any], c: str) -> str:
    conditions: list[str] = []

    def value(v: Any) -> str:
        arguments.append(v)
        return f"${len(arguments)}"

    if clause.scholen is not None:
        scholen = value(sorted(clause.scholen))
        conditions.append(f"({c}.school_brin = ANY({scholen}::text[]) OR left({c}.school_brin, 4) = ANY({scholen}))")
    if clause.uit_buitenland is not None:
        conditions.append(f"(({c}.school_brin IS NULL) = {value(clause.uit_buitenland)}::boolean)")
    for column, wanted in (
        ("sector", clause.sector),
        ("regio", clause.regio),
        ("escalatie", clause.escalatie),
        ("route", clause.route),
    ):
        if wanted is not None:
            conditions.append(f"{c}.{column} = {value(str(wanted))}::text")
    if clause.toegewezen is not None:
        rol, persoon = clause.toegewezen
        conditions.append(f"{c}.toegewezen ->> {value(rol)}::text = {value(persoon)}::text")
    if clause.open_taak_voor is not None:
        conditions.append(
            f"EXISTS (SELECT 1 FROM tasks ot WHERE ot.case_id = {c}.case_id AND ot.gesloten_op IS NULL "
            f"AND ot.rol = {value(clause.open_taak_voor)}::text)"
        )
    return "(" + " AND ".join(conditions) + ")" if conditions else "true"


POLICY_COLUMNS: Final = ("sector", "regio", "school_brin", "toegewezen", "escalatie", "afgesloten", "route")
"""The columns of ``cases`` the policy reads (:class:`~thuiszitters.people.policy.CaseFacts`)."""


def facts_of_row(case: CaseRow | asyncpg.Record, open_taken: dict[str, str] | None = None) -> CaseFacts | None:
    """What the policy needs of a case, from its register row (as a model or as a record with at least
    :data:`POLICY_COLUMNS`) and its open tasks (id -> role); None when the row does not say enough to decide (then
    nobody but the case's workflow may act on it)."""
    values = {column: getattr(case, column) if isinstance(case, CaseRow) else case[column] for column in POLICY_COLUMNS}
    try:
        return CaseFacts(**values, open_taken=open_taken or {})
    except ValidationError:
        return None


# ------------------------------------------------------------------------------------------------- my tasks


@dataclass(frozen=True)
class TaakFilter:
    """What a person narrows their task list to; None: no narrowing."""

    school: str | None = None
    regio: str | None = None
    fase: int | None = None
    soort: str | None = None
    alleen_te_laat: bool = False


@dataclass(frozen=True)
class Telling:
    """The counts of a person's open tasks, over all of them (before the filter): what the filters can choose."""

    totaal: int = 0
    te_laat: int = 0
    per_school: dict[str, int] = field(default_factory=dict)
    per_regio: dict[str, int] = field(default_factory=dict)
    per_fase: dict[int, int] = field(default_factory=dict)
    per_soort: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class MijnTaken:
    taken: list[OpenTaskRow]
    telling: Telling
    getoond_van: int
    """How many tasks the filter leaves (the page shows at most :data:`MAX_TASKS` of them)."""


def _mine(persoon_id: str, rol: str, scope: ScopeFilter, arguments: list[Any]) -> str:
    """Open tasks of open cases for this person: of their role, assigned to them, or to nobody in a case of their
    scope. A task assigned to someone else is theirs, not this person's."""
    arguments.extend([rol, persoon_id])
    rol_arg, persoon_arg = f"${len(arguments) - 1}", f"${len(arguments)}"
    return (
        f"t.gesloten_op IS NULL AND NOT c.afgesloten AND t.rol = {rol_arg} AND "
        f"(t.toegewezen_aan = {persoon_arg} OR (t.toegewezen_aan IS NULL AND {scope_sql(scope, arguments)}))"
    )


async def my_tasks(
    pool: asyncpg.Pool[asyncpg.Record],
    persoon_id: str,
    rol: str,
    scope: ScopeFilter,
    wanted: TaakFilter,
    *,
    op: date | None = None,
    limit: int = MAX_TASKS,
) -> MijnTaken:
    """The open tasks of a person in one role: overdue first, then by due date (no date last), with the counts of
    all of them per school, region, phase and kind. Two queries: the counts and the filtered page."""
    arguments: list[Any] = [op]
    today = _TODAY.format(1)
    mine = _mine(persoon_id, rol, scope, arguments)
    counts = await pool.fetch(
        f"""
        SELECT c.school_brin, c.regio, c.fase, t.taak, COALESCE(t.uiterlijk < {today}, false) AS te_laat,
               count(*) AS n
        FROM tasks t JOIN cases c ON c.case_id = t.case_id
        WHERE {mine}
        GROUP BY 1, 2, 3, 4, 5
        """,
        *arguments,
    )
    telling = _count(counts)
    conditions = [mine]
    for column, value in (
        ("c.school_brin", wanted.school),
        ("c.regio", wanted.regio),
        ("c.fase", wanted.fase),
        ("t.taak", wanted.soort),
    ):
        if value is not None:
            arguments.append(value)
            conditions.append(f"{column} = ${len(arguments)}")
    if wanted.alleen_te_laat:
        conditions.append(f"t.uiterlijk < {today}")
    arguments.append(limit)
    rows = await pool.fetch(
        f"""
        SELECT t.id, t.case_id, c.workflow_id, c.leerling_ref, c.sector, c.regio, c.school_brin, c.fase,
               c.startdatum, t.taak_id, t.rol, t.taak, t.omschrijving, t.uiterlijk,
               COALESCE(t.uiterlijk < {today}, false) AS te_laat, t.toegewezen_aan, t.geopend_op,
               count(*) OVER () AS gevonden
        FROM tasks t JOIN cases c ON c.case_id = t.case_id
        WHERE {" AND ".join(conditions)}
        ORDER BY t.uiterlijk NULLS LAST, t.id
        LIMIT ${len(arguments)}
        """,
        *arguments,
    )
    found = rows[0]["gevonden"] if rows else 0
    return MijnTaken(
        [OpenTaskRow.model_validate({k: v for k, v in dict(r).items() if k != "gevonden"}) for r in rows],
        telling,
        found,
    )


def _count(rows: list[asyncpg.Record]) -> Telling:
    per_school: dict[str, int] = {}
    per_regio: dict[str, int] = {}
    per_fase: dict[int, int] = {}
    per_soort: dict[str, int] = {}
    totaal = te_laat = 0
    for row in rows:
        n = int(row["n"])
        totaal += n
        te_laat += n if row["te_laat"] else 0
        school = row["school_brin"] or "buitenland"
        per_school[school] = per_school.get(school, 0) + n
        per_regio[row["regio"]] = per_regio.get(row["regio"], 0) + n
        per_fase[row["fase"]] = per_fase.get(row["fase"], 0) + n
        per_soort[row["taak"]] = per_soort.get(row["taak"], 0) + n
    return Telling(
        totaal,
        te_laat,
        dict(sorted(per_school.items())),
        dict(sorted(per_regio.items())),
        dict(sorted(per_fase.items())),
        dict(sorted(per_soort.items())),
    )


# ---------------------------------------------------------------------------------------------------- a case


@dataclass(frozen=True)
class Zaakbeeld:
    """One case as the register holds it: the row, its tasks (open and finished), one page of the timeline and
    the dossier."""

    zaak: CaseRow
    open_taken: list[TaskRow]
    afgeronde_taken: list[TaskRow]
    tijdlijn: list[EventRow]
    tijdlijn_totaal: int
    dossier: DossierRow | None


async def case_row(pool: asyncpg.Pool[asyncpg.Record], case_id: str) -> CaseRow | None:
    row = await pool.fetchrow("SELECT * FROM cases WHERE case_id = $1", case_id)
    return CaseRow.model_validate(dict(row)) if row is not None else None


async def case_view(
    pool: asyncpg.Pool[asyncpg.Record],
    case: CaseRow,
    *,
    pagina: int = 1,
    per_pagina: int = TIMELINE_PAGE,
    op: date | None = None,
) -> Zaakbeeld:
    """The case page's data in one connection: tasks (finished ones newest first), the timeline newest first from
    page ``pagina`` (1-based), and the dossier."""
    async with pool.acquire() as connection:
        tasks = await connection.fetch(
            f"""
            SELECT case_id, rol, taak, uiterlijk, geopend_op, gesloten_op, taak_id, omschrijving, toegewezen_aan,
                   COALESCE(gesloten_op IS NULL AND uiterlijk < {_TODAY.format(2)}, false) AS te_laat,
                   door, via, toelichting
            FROM tasks WHERE case_id = $1
            ORDER BY gesloten_op DESC NULLS FIRST, uiterlijk NULLS LAST, id
            """,
            case.case_id,
            op,
        )
        events = await connection.fetch(
            """
            SELECT *, count(*) OVER () AS totaal FROM case_events WHERE case_id = $1
            ORDER BY volgnummer DESC LIMIT $2 OFFSET $3
            """,
            case.case_id,
            per_pagina,
            (max(pagina, 1) - 1) * per_pagina,
        )
        totaal = (
            events[0]["totaal"]
            if events
            else await connection.fetchval("SELECT count(*) FROM case_events WHERE case_id = $1", case.case_id)
        )
        dossier = await connection.fetchrow(
            "SELECT case_id, dossier, documenten, bijgewerkt_op FROM case_dossier WHERE case_id = $1", case.case_id
        )
    rows = [TaskRow.model_validate(dict(t)) for t in tasks]
    return Zaakbeeld(
        zaak=case,
        open_taken=[t for t in rows if t.gesloten_op is None],
        afgeronde_taken=[t for t in rows if t.gesloten_op is not None and t.door is not None],
        tijdlijn=[EventRow.model_validate({k: v for k, v in dict(e).items() if k != "totaal"}) for e in events],
        tijdlijn_totaal=int(totaal or 0),
        dossier=DossierRow.model_validate(dict(dossier)) if dossier is not None else None,
    )


# ------------------------------------------------------------------------------------------- tasks for the API


async def tasks_in_scope(
    pool: asyncpg.Pool[asyncpg.Record],
    scope: ScopeFilter,
    *,
    rol: str | None = None,
    school: str | None = None,
    te_laat: bool | None = None,
    limit: int = MAX_TASKS,
    op: date | None = None,
) -> list[OpenTaskRow]:
    """Open tasks of open cases within ``scope``: of one role or school, only overdue ones (``te_laat=True``) or
    only those not overdue (False); overdue first, then by due date."""
    return await Register(pool).open_tasks_across(
        rol=rol,
        school_brin=school,
        te_laat=te_laat,
        limit=limit,
        op=op,
        where=lambda arguments: scope_sql(scope, arguments),
    )


def latest_case_sql(columns: str) -> str:
    """A query of ``columns`` of the pupil's (``$1``) latest case: an open one, else the last closed one."""
    return f"SELECT {columns} FROM cases WHERE leerling_ref = $1 ORDER BY afgesloten, geopend_op DESC LIMIT 1"


async def latest_case_of(pool: asyncpg.Pool[asyncpg.Record], leerling_ref: str) -> CaseRow | None:
    """The pupil's latest case in the register (an open one, else the last closed one)."""
    row = await pool.fetchrow(latest_case_sql("*"), leerling_ref)
    return CaseRow.model_validate(dict(row)) if row is not None else None


async def timeline_page(
    pool: asyncpg.Pool[asyncpg.Record], case_id: str, *, pagina: int, per_pagina: int
) -> tuple[list[EventRow], int]:
    """One page of a case's timeline, newest first, and the number of lines in all."""
    rows = await pool.fetch(
        """
        SELECT *, count(*) OVER () AS totaal FROM case_events WHERE case_id = $1
        ORDER BY volgnummer DESC LIMIT $2 OFFSET $3
        """,
        case_id,
        per_pagina,
        (max(pagina, 1) - 1) * per_pagina,
    )
    if rows:
        totaal = int(rows[0]["totaal"])
    else:
        totaal = int(await pool.fetchval("SELECT count(*) FROM case_events WHERE case_id = $1", case_id) or 0)
    return [EventRow.model_validate({k: v for k, v in dict(r).items() if k != "totaal"}) for r in rows], totaal
