"""The case register in PostgreSQL: the coordinators' view of every case, and the once-only ledger of effects.

Three kinds of rows, each written by one activity:

- ``vastleggen`` records a :class:`~workflows.effects.Vastlegging`: the case's latest state (``cases``), its
  phase history (``case_events``), the tasks per role, open and finished (``tasks``), the escalations
  (``escalations``) and, from contract version 2, what people decided: the dossier and documents (``case_dossier``).
- ``registreren`` claims, finishes or fails a registration call (``registrations``), keyed by its ``sleutel``.
- ``berichten`` does the same for notifications (``notifications``).

Every write is idempotent, so an activity that is retried after a crash changes nothing the second time.
Schema changes are numbered SQL files in ``thuiszitters/register/migrations``, applied by :meth:`Register.migrate`.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import asyncpg
from pydantic import BaseModel, ConfigDict, Field
from pydantic_core import to_jsonable_python

from workflows.calendar import amsterdam_date, amsterdam_offset
from workflows.contract import AfgerondeTaak, Document, Dossier, Escalatie, Taak
from workflows.effects import Bericht, Registratie, RegistratieUitkomst, Vastlegging

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
_MIGRATION_NAME = re.compile(r"^(\d{3,})_([a-z0-9_]+)\.sql$")
# Any fixed number will do, as long as nothing else in the database takes the same advisory lock.
_MIGRATION_LOCK = 7_361_402_915_001


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str


def load_migrations(directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    """The numbered migrations in ``directory``, in order; a bad file name or a doubled number is an error."""
    migrations: list[Migration] = []
    for path in sorted(directory.glob("*.sql")):
        match = _MIGRATION_NAME.match(path.name)
        if match is None:
            raise ValueError(f"migratie {path.name}: naam moet de vorm 001_naam.sql hebben")
        migrations.append(Migration(int(match.group(1)), path.stem, path.read_text(encoding="utf-8")))
    versions = [m.version for m in migrations]
    if len(set(versions)) != len(versions):
        raise ValueError(f"migraties in {directory}: een versienummer komt twee keer voor")
    return sorted(migrations, key=lambda m: m.version)


# ----------------------------------------------------------------------------------------------- read models


class _Row(BaseModel):
    model_config = ConfigDict(frozen=True)


class CaseRow(_Row):
    case_id: str
    workflow_id: str
    leerling_ref: str
    sector: str
    regio: str
    school_brin: str | None
    leerplichtig: bool
    startdatum: date
    fase: int
    regiehouder: str
    escalatie: str
    route: str | None
    wachtlijst: bool
    afgesloten: bool
    uitkomst: str | None
    laatste_volgnummer: int
    geopend_op: datetime
    afgesloten_op: datetime | None
    bijgewerkt_op: datetime
    # Version 2 (migration 003; version-1 cases keep these defaults)
    contract_versie: int = 1
    contactrol: str | None = None
    leerplichtig_vanaf: date | None = None
    check_stand: str | None = None
    check_uiterlijk: date | None = None
    check_herbeoordeling_op: date | None = None
    kerngroep_bespreking_op: date | None = None
    op_kerngroep_lijst: bool = False
    toegewezen: dict[str, str] = Field(default_factory=dict)


class EventRow(_Row):
    case_id: str
    volgnummer: int
    tijd: datetime
    gebeurtenis: str
    door: str | None
    fase: int
    regiehouder: str
    escalatie: str


class TaskRow(_Row):
    """A task of a case, open (``gesloten_op`` None) or closed. Version-1 tasks have no ``taak_id`` and none of
    the fields after it; a version-2 task that fell away without being finished has ``door`` and ``via`` None."""

    case_id: str
    rol: str
    taak: str
    uiterlijk: date | None
    geopend_op: datetime
    gesloten_op: datetime | None
    taak_id: str | None = None
    omschrijving: str | None = None
    toegewezen_aan: str | None = None
    te_laat: bool = False
    door: str | None = None
    via: str | None = None
    toelichting: str | None = None


class OpenTaskRow(_Row):
    """An open task on a work list across cases, with what the list shows of its case."""

    id: int
    case_id: str
    workflow_id: str
    leerling_ref: str
    sector: str
    regio: str
    school_brin: str | None
    fase: int
    startdatum: date
    taak_id: str | None
    rol: str
    taak: str
    omschrijving: str | None
    uiterlijk: date | None
    te_laat: bool
    toegewezen_aan: str | None
    geopend_op: datetime


class DossierRow(_Row):
    """The latest dossier and documents of a case (version 2): texts written by people."""

    case_id: str
    dossier: Dossier
    documenten: list[Document]
    bijgewerkt_op: datetime


class RegistrationRow(_Row):
    sleutel: str
    case_id: str
    systeem: str
    actie: str
    gegevens: dict[str, Any]
    status: str
    antwoord_status: int | None
    kenmerk: str | None
    fout: str | None
    pogingen: int
    aangemaakt_op: datetime
    verzonden_op: datetime | None


class NotificationRow(_Row):
    sleutel: str
    case_id: str
    rol: str
    sjabloon: str
    kanaal: str
    onderwerp: str
    status: str
    fout: str | None
    pogingen: int
    aangemaakt_op: datetime
    verzonden_op: datetime | None


class EffectCounts(_Row):
    """How many rows a case has per table: tests and reports use it to see that nothing happened twice."""

    events: int
    open_tasks: int
    closed_tasks: int
    registrations: int
    notifications: int
    escalations: int


# -------------------------------------------------------------------------------------------------- register


def _encode_json(value: Any) -> str:
    return json.dumps(to_jsonable_python(value), ensure_ascii=False)


async def _init_connection(connection: asyncpg.Connection[asyncpg.Record]) -> None:
    await connection.set_type_codec("jsonb", encoder=_encode_json, decoder=json.loads, schema="pg_catalog")


_CLOSED_REGISTRATION = ("verzonden", "niet_verzonden")

_TODAY = "COALESCE(${}::date, (now() AT TIME ZONE 'Europe/Amsterdam')::date)"
"""SQL for the day that counts as today: the parameter of that number, else today in Amsterdam (the calendar the
cases follow), whatever time zone the database session has."""

# Register.record in one statement. Each part runs exactly once, whatever the final SELECT reads; the parts after
# ``event`` act only when the line is new, and most only when it is also the newest. No row is changed by two parts
# (PostgreSQL would keep only one change): the task parts work on disjoint tasks, by the lists record() builds.
#   $1-$17   the case row; $18-$19: gebeurtenis, door; $23: escalated;
#   $20-$22  the open tasks without id (version 1): rol, taak, uiterlijk;
#   $24-$32  the case row, version 2: contract_versie, contactrol, leerplichtig_vanaf, check_stand, check_uiterlijk,
#            check_herbeoordeling_op, kerngroep_bespreking_op, op_kerngroep_lijst, toegewezen;
#   $33      the open tasks with an id (jsonb list), $34 the finished ones (jsonb list, not among the open ones),
#   $35      the ids of both (a task with an id that is in neither falls away);
#   $36-$37  the dossier and the documents (jsonb, NULL when the line does not carry them).
_RECORD = """
WITH upsert AS (
    INSERT INTO cases AS c (
        case_id, workflow_id, leerling_ref, sector, regio, school_brin, leerplichtig, startdatum,
        fase, regiehouder, escalatie, route, wachtlijst, afgesloten, uitkomst, laatste_volgnummer,
        geopend_op, afgesloten_op, bijgewerkt_op,
        contract_versie, contactrol, leerplichtig_vanaf, check_stand, check_uiterlijk, check_herbeoordeling_op,
        kerngroep_bespreking_op, op_kerngroep_lijst, toegewezen)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16,
            $17, CASE WHEN $14 THEN $17::timestamptz END, $17,
            $24, $25, $26, $27, $28, $29, $30, $31, $32)
    ON CONFLICT (case_id) DO UPDATE SET
        workflow_id = EXCLUDED.workflow_id,
        leerling_ref = EXCLUDED.leerling_ref,
        sector = EXCLUDED.sector,
        regio = EXCLUDED.regio,
        school_brin = EXCLUDED.school_brin,
        leerplichtig = EXCLUDED.leerplichtig,
        startdatum = EXCLUDED.startdatum,
        fase = EXCLUDED.fase,
        regiehouder = EXCLUDED.regiehouder,
        escalatie = EXCLUDED.escalatie,
        route = EXCLUDED.route,
        wachtlijst = EXCLUDED.wachtlijst,
        afgesloten = EXCLUDED.afgesloten,
        uitkomst = EXCLUDED.uitkomst,
        laatste_volgnummer = EXCLUDED.laatste_volgnummer,
        geopend_op = LEAST(c.geopend_op, EXCLUDED.geopend_op),
        afgesloten_op = CASE WHEN EXCLUDED.afgesloten
                             THEN COALESCE(c.afgesloten_op, EXCLUDED.bijgewerkt_op) END,
        bijgewerkt_op = EXCLUDED.bijgewerkt_op,
        contract_versie = EXCLUDED.contract_versie,
        contactrol = EXCLUDED.contactrol,
        leerplichtig_vanaf = EXCLUDED.leerplichtig_vanaf,
        check_stand = EXCLUDED.check_stand,
        check_uiterlijk = EXCLUDED.check_uiterlijk,
        check_herbeoordeling_op = EXCLUDED.check_herbeoordeling_op,
        kerngroep_bespreking_op = EXCLUDED.kerngroep_bespreking_op,
        op_kerngroep_lijst = EXCLUDED.op_kerngroep_lijst,
        toegewezen = EXCLUDED.toegewezen
    WHERE c.laatste_volgnummer < EXCLUDED.laatste_volgnummer
    RETURNING true
), event AS (
    INSERT INTO case_events (case_id, volgnummer, tijd, gebeurtenis, door, fase, regiehouder, escalatie)
    VALUES ($1, $16, $17, $18, $19, $9, $10, $11)
    ON CONFLICT (case_id, volgnummer) DO NOTHING
    RETURNING true
), closed_tasks AS (
    UPDATE tasks SET gesloten_op = $17
    WHERE case_id = $1 AND gesloten_op IS NULL
      AND CASE WHEN taak_id IS NULL
               THEN (rol, taak) NOT IN (SELECT * FROM unnest($20::text[], $21::text[]))
               ELSE taak_id <> ALL ($35::text[]) END
      AND EXISTS (SELECT FROM upsert) AND EXISTS (SELECT FROM event)
    RETURNING true
), open_tasks AS (
    INSERT INTO tasks (case_id, rol, taak, uiterlijk, geopend_op)
    SELECT $1, t.rol, t.taak, t.uiterlijk, $17
    FROM unnest($20::text[], $21::text[], $22::date[]) AS t (rol, taak, uiterlijk)
    WHERE EXISTS (SELECT FROM upsert) AND EXISTS (SELECT FROM event)
    ON CONFLICT (case_id, rol, taak) WHERE gesloten_op IS NULL AND taak_id IS NULL
    DO UPDATE SET uiterlijk = EXCLUDED.uiterlijk
    RETURNING true
), open_tasks_v2 AS (
    INSERT INTO tasks AS t (case_id, taak_id, rol, taak, omschrijving, uiterlijk, toegewezen_aan, geopend_op)
    SELECT $1, o.id, o.rol, o.taak, o.omschrijving, o.uiterlijk, o.toegewezen_aan, $17
    FROM jsonb_to_recordset($33::jsonb)
        AS o (id text, rol text, taak text, omschrijving text, uiterlijk date, toegewezen_aan text)
    WHERE EXISTS (SELECT FROM upsert) AND EXISTS (SELECT FROM event)
    ON CONFLICT (case_id, taak_id) WHERE taak_id IS NOT NULL
    DO UPDATE SET rol = EXCLUDED.rol, taak = EXCLUDED.taak, omschrijving = EXCLUDED.omschrijving,
                  uiterlijk = EXCLUDED.uiterlijk, toegewezen_aan = EXCLUDED.toegewezen_aan,
                  gesloten_op = NULL, door = NULL, via = NULL, toelichting = NULL
    RETURNING true
), finished_tasks AS (
    INSERT INTO tasks AS t (
        case_id, taak_id, rol, taak, omschrijving, uiterlijk, geopend_op, gesloten_op, door, via, toelichting)
    SELECT $1, f.id, f.rol, f.taak, f.omschrijving, f.uiterlijk, LEAST($17, f.gesloten_op), f.gesloten_op, f.door,
           f.via, f.toelichting
    FROM jsonb_to_recordset($34::jsonb) AS f (
        id text, rol text, taak text, omschrijving text, uiterlijk date, gesloten_op timestamptz, door text,
        via text, toelichting text)
    WHERE EXISTS (SELECT FROM upsert) AND EXISTS (SELECT FROM event)
    ON CONFLICT (case_id, taak_id) WHERE taak_id IS NOT NULL
    DO UPDATE SET gesloten_op = EXCLUDED.gesloten_op, door = EXCLUDED.door, via = EXCLUDED.via,
                  toelichting = EXCLUDED.toelichting, omschrijving = COALESCE(t.omschrijving, EXCLUDED.omschrijving),
                  uiterlijk = COALESCE(t.uiterlijk, EXCLUDED.uiterlijk)
    RETURNING true
), finished_late AS (
    -- An older line arriving late: who finished a task, and how, is a fact of its own. It completes a task that a
    -- newer line already closed without saying so (or adds one never seen open), and changes nothing else.
    INSERT INTO tasks AS t (
        case_id, taak_id, rol, taak, omschrijving, uiterlijk, geopend_op, gesloten_op, door, via, toelichting)
    SELECT $1, f.id, f.rol, f.taak, f.omschrijving, f.uiterlijk, f.gesloten_op, f.gesloten_op, f.door, f.via,
           f.toelichting
    FROM jsonb_to_recordset($34::jsonb) AS f (
        id text, rol text, taak text, omschrijving text, uiterlijk date, gesloten_op timestamptz, door text,
        via text, toelichting text)
    WHERE NOT EXISTS (SELECT FROM upsert) AND EXISTS (SELECT FROM event)
    ON CONFLICT (case_id, taak_id) WHERE taak_id IS NOT NULL
    DO UPDATE SET gesloten_op = EXCLUDED.gesloten_op, door = EXCLUDED.door, via = EXCLUDED.via,
                  toelichting = EXCLUDED.toelichting, omschrijving = COALESCE(t.omschrijving, EXCLUDED.omschrijving),
                  uiterlijk = COALESCE(t.uiterlijk, EXCLUDED.uiterlijk)
    WHERE t.gesloten_op IS NOT NULL AND t.via IS NULL
    RETURNING true
), dossier AS (
    -- Each part of the dossier from the highest-numbered line that carried it, whatever order lines arrive in.
    INSERT INTO case_dossier AS d (
        case_id, dossier, dossier_volgnummer, documenten, documenten_volgnummer, bijgewerkt_op)
    SELECT $1, COALESCE($36::jsonb, '{}'::jsonb), CASE WHEN $36::jsonb IS NOT NULL THEN $16::integer END,
           COALESCE($37::jsonb, '[]'::jsonb), CASE WHEN $37::jsonb IS NOT NULL THEN $16::integer END, $17
    WHERE ($36::jsonb IS NOT NULL OR $37::jsonb IS NOT NULL) AND EXISTS (SELECT FROM event)
    ON CONFLICT (case_id) DO UPDATE SET
        dossier = CASE WHEN EXCLUDED.dossier_volgnummer > COALESCE(d.dossier_volgnummer, 0)
                       THEN EXCLUDED.dossier ELSE d.dossier END,
        dossier_volgnummer = GREATEST(d.dossier_volgnummer, EXCLUDED.dossier_volgnummer),
        documenten = CASE WHEN EXCLUDED.documenten_volgnummer > COALESCE(d.documenten_volgnummer, 0)
                          THEN EXCLUDED.documenten ELSE d.documenten END,
        documenten_volgnummer = GREATEST(d.documenten_volgnummer, EXCLUDED.documenten_volgnummer),
        bijgewerkt_op = GREATEST(d.bijgewerkt_op, EXCLUDED.bijgewerkt_op)
    RETURNING true
), late AS (
    UPDATE cases SET geopend_op = LEAST(geopend_op, $17)
    WHERE case_id = $1 AND NOT EXISTS (SELECT FROM upsert) AND EXISTS (SELECT FROM event)
    RETURNING true
), escalated AS (
    INSERT INTO escalations AS e (case_id, niveau, tijd)
    SELECT $1, $11, $17 WHERE $23 AND EXISTS (SELECT FROM event)
    ON CONFLICT (case_id, niveau) DO UPDATE SET tijd = LEAST(e.tijd, EXCLUDED.tijd)
    RETURNING true
)
SELECT EXISTS (SELECT FROM event)
"""


def _open_task(t: Taak) -> dict[str, Any]:
    return {
        "id": t.id,
        "rol": t.rol.value,
        "taak": t.taak,
        "omschrijving": t.omschrijving,
        "uiterlijk": t.uiterlijk,
        "toegewezen_aan": t.toegewezen_aan,
    }


def _finished_task(a: AfgerondeTaak, v: Vastlegging) -> dict[str, Any]:
    return {
        "id": a.id,
        "rol": a.rol.value,
        "taak": a.taak,
        "omschrijving": a.omschrijving or None,
        "uiterlijk": a.uiterlijk.isoformat() if a.uiterlijk else None,
        "gesloten_op": finished_at(a.afgerond_op, v.tijd),
        "door": a.door,
        "via": a.via or v.gebeurtenis,
        "toelichting": a.toelichting,
    }


def finished_at(afgerond_op: date, tijd: datetime) -> datetime:
    """When a task finished on ``afgerond_op`` closes, for a line at ``tijd``: the line's moment when that is the
    same (Amsterdam) day, else that day at the line's Amsterdam time of day."""
    if afgerond_op == amsterdam_date(tijd):
        return tijd
    local: time = (tijd.astimezone(UTC) + amsterdam_offset(tijd)).time()
    guess = datetime.combine(afgerond_op, local, tzinfo=UTC)
    return guess - amsterdam_offset(guess - timedelta(hours=1))


class Register:
    """The case register over an asyncpg pool."""

    def __init__(self, pool: asyncpg.Pool[asyncpg.Record]) -> None:
        self.pool = pool

    @classmethod
    async def connect(cls, dsn: str, *, max_size: int = 10) -> Register:
        pool = await asyncpg.create_pool(dsn, min_size=1, max_size=max_size, init=_init_connection)
        return cls(pool)

    async def close(self) -> None:
        await self.pool.close()

    # ------------------------------------------------------------------------------------------- migrations

    async def migrate(self) -> list[str]:
        """Apply the migrations this database lacks, in order, in one transaction under an advisory lock (so
        workers that start together do not collide); return the names of those applied."""
        migrations = load_migrations()
        applied: list[str] = []
        async with self.pool.acquire() as connection, connection.transaction():
            await connection.execute("SELECT pg_advisory_xact_lock($1)", _MIGRATION_LOCK)
            await connection.execute(
                """
                CREATE TABLE IF NOT EXISTS schema_migrations (
                    version    integer PRIMARY KEY,
                    name       text        NOT NULL,
                    applied_at timestamptz NOT NULL DEFAULT now()
                )
                """
            )
            done = {
                row["version"]: row["name"]
                for row in await connection.fetch("SELECT version, name FROM schema_migrations")
            }
            for migration in migrations:
                if migration.version in done:
                    if done[migration.version] != migration.name:
                        raise RuntimeError(
                            f"migratie {migration.version}: in de database heet zij "
                            f"{done[migration.version]}, in de code {migration.name}; "
                            "een toegepaste migratie mag niet veranderen"
                        )
                    continue
                await connection.execute(migration.sql)
                await connection.execute(
                    "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)",
                    migration.version,
                    migration.name,
                )
                applied.append(migration.name)
        return applied

    async def pending_migrations(self) -> list[str]:
        """Names of the migrations not yet applied (empty when the schema is up to date)."""
        migrations = load_migrations()
        async with self.pool.acquire() as connection:
            if await connection.fetchval("SELECT to_regclass('schema_migrations')") is None:
                return [m.name for m in migrations]
            done = {row["version"] for row in await connection.fetch("SELECT version FROM schema_migrations")}
        return [m.name for m in migrations if m.version not in done]

    # ----------------------------------------------------------------------------------------- vastleggen

    async def record(self, v: Vastlegging) -> bool:
        """Record one Vastlegging. Idempotent by ``(case_id, volgnummer)``: returns False when it was already
        recorded. The case row, and the open tasks, follow only a Vastlegging newer than what is stored, so a
        late retry of an older one never turns the case back.

        One statement (:data:`_RECORD`), so one round trip and all or nothing: the case row (only when newer),
        the phase line (only once), and what follows from a line recorded for the first time: the open tasks
        replaced (when it is the newest), the first-seen moment moved back (when an older one arrives late), the
        escalation noted.

        Tasks without an id (version 1) are keyed by role and code, exactly as before. Tasks with an id (version 2)
        are keyed by it: the open ones are inserted or brought up to date (a closed one listed open again is open
        again); those in ``afgeronde_taken`` are closed with who finished them, through which event (the line's,
        unless the task names another) and the note, at their ``afgerond_op`` (:func:`finished_at`); any other open
        task falls away (closed at the line's time, without ``door`` and ``via``). A task listed both open and
        finished is open: the line's state after the event wins. Who finished a task is kept from an older line
        arriving late too, for a task a newer line closed without saying so. The dossier and the documents are kept
        from the highest-numbered line that carried them: a line without them leaves them as they are."""
        v1_tasks = {(t.rol.value, t.taak): t.uiterlijk for t in v.open_taken if t.id is None}
        v2_tasks = {t.id: t for t in v.open_taken if t.id is not None}
        finished = {a.id: a for a in v.afgeronde_taken if a.id not in v2_tasks}
        check = v.twaalf_weken_check
        is_new = await self.pool.fetchval(
            _RECORD,
            v.case_id,
            v.workflow_id,
            v.leerling_ref,
            v.sector.value,
            v.regio.value,
            v.school_brin,
            v.leerplichtig,
            v.startdatum,
            v.fase,
            v.regiehouder.value,
            v.escalatie.value,
            v.route,
            v.wachtlijst,
            v.afgesloten,
            v.uitkomst.value if v.uitkomst is not None else None,
            v.volgnummer,
            v.tijd,
            v.gebeurtenis,
            v.door,
            [rol for rol, _ in v1_tasks],
            [taak for _, taak in v1_tasks],
            list(v1_tasks.values()),
            v.escalatie is not Escalatie.GEEN,
            v.contract_versie,
            v.contactrol.value if v.contactrol is not None else None,
            v.leerplichtig_vanaf,
            check.stand if check is not None else None,
            check.uiterlijk if check is not None else None,
            check.herbeoordeling_op if check is not None else None,
            v.kerngroep_bespreking_op,
            v.op_kerngroep_lijst,
            v.toegewezen,
            [_open_task(t) for t in v2_tasks.values()],
            [_finished_task(a, v) for a in finished.values()],
            [*v2_tasks, *finished],
            v.dossier,
            v.documenten,
        )
        return bool(is_new)

    # ---------------------------------------------------------------------------------------- registreren

    async def claim_registration(self, r: Registratie) -> RegistratieUitkomst | None:
        """Claim a registration call before sending it. Returns the stored outcome when the call was already
        made (then nothing must be sent), else None: send it, then :meth:`finish_registration`.

        One statement in the usual case: the insert of a new claim, or the new attempt on an open one, counts
        the attempt; a closed call is left as it is (its row stays locked for the statement) and read back."""
        claimed = await self.pool.fetchval(
            """
            INSERT INTO registrations AS r (sleutel, case_id, systeem, actie, gegevens, pogingen, status)
            VALUES ($1, $2, $3, $4, $5, 1, 'in_behandeling')
            ON CONFLICT (sleutel) DO UPDATE SET pogingen = r.pogingen + 1, status = 'in_behandeling'
            WHERE r.status NOT IN ('verzonden', 'niet_verzonden')
            RETURNING true
            """,
            r.sleutel,
            r.case_id,
            r.systeem.value,
            r.actie.value,
            r.gegevens,
        )
        if claimed:
            return None
        row = await self.pool.fetchrow(
            "SELECT status, antwoord_status, kenmerk FROM registrations WHERE sleutel = $1", r.sleutel
        )
        assert row is not None and row["status"] in _CLOSED_REGISTRATION
        return RegistratieUitkomst(
            sleutel=r.sleutel,
            verzonden=row["status"] == "verzonden",
            antwoord_status=row["antwoord_status"],
            kenmerk=row["kenmerk"],
        )

    async def finish_registration(self, sleutel: str, uitkomst: RegistratieUitkomst) -> None:
        await self.pool.execute(
            """
            UPDATE registrations
            SET status = $2, antwoord_status = $3, kenmerk = $4, fout = NULL,
                verzonden_op = CASE WHEN $2 = 'verzonden' THEN now() END
            WHERE sleutel = $1
            """,
            sleutel,
            "verzonden" if uitkomst.verzonden else "niet_verzonden",
            uitkomst.antwoord_status,
            uitkomst.kenmerk,
        )

    async def fail_registration(self, sleutel: str, fout: str, *, definitief: bool = True) -> None:
        """Note why a call failed. ``definitief``: it will not be retried (status 'mislukt'); otherwise the
        row stays 'in_behandeling' and only shows the last error."""
        await self.pool.execute(
            """
            UPDATE registrations
            SET fout = $2, status = CASE WHEN $3 THEN 'mislukt' ELSE status END
            WHERE sleutel = $1 AND status NOT IN ('verzonden', 'niet_verzonden')
            """,
            sleutel,
            fout[:1000],
            definitief,
        )

    # ------------------------------------------------------------------------------------------ berichten

    async def claim_notification(self, b: Bericht, kanaal: str, onderwerp: str) -> bool:
        """Claim a notification before sending it; returns True when it was already sent (send nothing).

        One statement: the insert of a new claim, or the new attempt on one not yet sent, counts the attempt
        (with the channel and subject of this attempt); a sent notification is left as it is."""
        claimed = await self.pool.fetchval(
            """
            INSERT INTO notifications AS n (sleutel, case_id, rol, sjabloon, kanaal, onderwerp, pogingen, status)
            VALUES ($1, $2, $3, $4, $5, $6, 1, 'in_behandeling')
            ON CONFLICT (sleutel) DO UPDATE
            SET pogingen = n.pogingen + 1, status = 'in_behandeling', kanaal = EXCLUDED.kanaal,
                onderwerp = EXCLUDED.onderwerp
            WHERE n.status <> 'verzonden'
            RETURNING true
            """,
            b.sleutel,
            b.case_id,
            b.rol.value,
            b.sjabloon.value,
            kanaal,
            onderwerp,
        )
        return not claimed

    async def finish_notification(self, sleutel: str) -> None:
        await self.pool.execute(
            """
            UPDATE notifications SET status = 'verzonden', fout = NULL, verzonden_op = now()
            WHERE sleutel = $1
            """,
            sleutel,
        )

    async def fail_notification(self, sleutel: str, fout: str, *, definitief: bool = True) -> None:
        await self.pool.execute(
            """
            UPDATE notifications
            SET fout = $2, status = CASE WHEN $3 THEN 'mislukt' ELSE status END
            WHERE sleutel = $1 AND status <> 'verzonden'
            """,
            sleutel,
            fout[:1000],
            definitief,
        )

    # ------------------------------------------------------------------------------------------------ reading

    async def case(self, case_id: str) -> CaseRow | None:
        row = await self.pool.fetchrow("SELECT * FROM cases WHERE case_id = $1", case_id)
        return CaseRow.model_validate(dict(row)) if row is not None else None

    async def open_cases(self, regio: str | None = None) -> list[CaseRow]:
        """Every open case (of one region, when given), longest at home first: the coordinators' overview."""
        rows = await self.pool.fetch(
            """
            SELECT * FROM cases WHERE NOT afgesloten AND ($1::text IS NULL OR regio = $1)
            ORDER BY startdatum, case_id
            """,
            regio,
        )
        return [CaseRow.model_validate(dict(row)) for row in rows]

    async def events_for(self, case_id: str) -> list[EventRow]:
        rows = await self.pool.fetch("SELECT * FROM case_events WHERE case_id = $1 ORDER BY volgnummer", case_id)
        return [EventRow.model_validate(dict(row)) for row in rows]

    async def tasks_for(self, case_id: str, *, open_only: bool = True, op: date | None = None) -> list[TaskRow]:
        """The tasks of a case in the order they were first recorded; ``te_laat``: open and due before ``op``
        (default: today in Amsterdam)."""
        rows = await self.pool.fetch(
            f"""
            SELECT case_id, rol, taak, uiterlijk, geopend_op, gesloten_op, taak_id, omschrijving, toegewezen_aan,
                   COALESCE(gesloten_op IS NULL AND uiterlijk < {_TODAY.format(3)}, false) AS te_laat,
                   door, via, toelichting
            FROM tasks
            WHERE case_id = $1 AND (NOT $2 OR gesloten_op IS NULL)
            ORDER BY id
            """,
            case_id,
            open_only,
            op,
        )
        return [TaskRow.model_validate(dict(row)) for row in rows]

    async def open_tasks_across(
        self,
        *,
        rol: str | None = None,
        school_brin: str | None = None,
        regio: str | None = None,
        te_laat: bool | None = None,
        toegewezen_aan: str | None = None,
        limit: int = 200,
        op: date | None = None,
        where: Callable[[list[Any]], str] | None = None,
    ) -> list[OpenTaskRow]:
        """Open tasks of open cases, for work lists: of one role, school, region or person, only those overdue
        (``te_laat=True``) or only those not (``False``). Overdue first, then by due date (the same order, as the
        overdue ones are due earliest), tasks without a due date last. ``op`` is the day that counts as today
        (default: today in Amsterdam); overdue means due before it, and is never stored. ``where``: one more
        condition on the task ``t`` and its case ``c``, given the query's arguments so far to add its own values to
        (a person's scope: :func:`thuiszitters.register.werkbak.scope_sql`).

        One query, with only the filters given (so each list gets a plan of its own): per role along
        ``tasks_open_per_role_idx``, per person along ``tasks_open_assignee_idx``, per school from
        ``cases_open_school_idx`` to the case's tasks."""
        if limit < 1:
            raise ValueError("limit moet minstens 1 zijn")
        conditions = ["t.gesloten_op IS NULL", "NOT c.afgesloten"]
        arguments: list[Any] = [op]
        today = _TODAY.format(1)
        for column, value in (
            ("t.rol", rol),
            ("c.school_brin", school_brin),
            ("c.regio", regio),
            ("t.toegewezen_aan", toegewezen_aan),
        ):
            if value is not None:
                arguments.append(value)
                conditions.append(f"{column} = ${len(arguments)}")
        if te_laat is True:
            conditions.append(f"t.uiterlijk < {today}")
        elif te_laat is False:
            conditions.append(f"(t.uiterlijk IS NULL OR t.uiterlijk >= {today})")
        if where is not None:
            conditions.append(where(arguments))
        arguments.append(limit)
        rows = await self.pool.fetch(
            f"""
            SELECT t.id, t.case_id, c.workflow_id, c.leerling_ref, c.sector, c.regio, c.school_brin, c.fase,
                   c.startdatum, t.taak_id, t.rol, t.taak, t.omschrijving, t.uiterlijk,
                   COALESCE(t.uiterlijk < {today}, false) AS te_laat, t.toegewezen_aan, t.geopend_op
            FROM tasks t JOIN cases c ON c.case_id = t.case_id
            WHERE {" AND ".join(conditions)}
            ORDER BY t.uiterlijk NULLS LAST, t.id
            LIMIT ${len(arguments)}
            """,
            *arguments,
        )
        return [OpenTaskRow.model_validate(dict(row)) for row in rows]

    async def dossier_for(self, case_id: str) -> DossierRow | None:
        """The latest dossier and documents of a case; None when no line carried them (every version-1 case)."""
        row = await self.pool.fetchrow(
            "SELECT case_id, dossier, documenten, bijgewerkt_op FROM case_dossier WHERE case_id = $1", case_id
        )
        return DossierRow.model_validate(dict(row)) if row is not None else None

    async def registrations_for(self, case_id: str) -> list[RegistrationRow]:
        rows = await self.pool.fetch(
            "SELECT * FROM registrations WHERE case_id = $1 ORDER BY aangemaakt_op, sleutel", case_id
        )
        return [RegistrationRow.model_validate(dict(row)) for row in rows]

    async def registration(self, sleutel: str) -> RegistrationRow | None:
        row = await self.pool.fetchrow("SELECT * FROM registrations WHERE sleutel = $1", sleutel)
        return RegistrationRow.model_validate(dict(row)) if row is not None else None

    async def notifications_for(self, case_id: str) -> list[NotificationRow]:
        rows = await self.pool.fetch(
            "SELECT * FROM notifications WHERE case_id = $1 ORDER BY aangemaakt_op, sleutel", case_id
        )
        return [NotificationRow.model_validate(dict(row)) for row in rows]

    async def notification(self, sleutel: str) -> NotificationRow | None:
        row = await self.pool.fetchrow("SELECT * FROM notifications WHERE sleutel = $1", sleutel)
        return NotificationRow.model_validate(dict(row)) if row is not None else None

    async def escalations_for(self, case_id: str) -> dict[str, datetime]:
        rows = await self.pool.fetch("SELECT niveau, tijd FROM escalations WHERE case_id = $1 ORDER BY tijd", case_id)
        return {row["niveau"]: row["tijd"] for row in rows}

    async def count_effects(self, case_id: str) -> EffectCounts:
        row = await self.pool.fetchrow(
            """
            SELECT
                (SELECT count(*) FROM case_events WHERE case_id = $1) AS events,
                (SELECT count(*) FROM tasks WHERE case_id = $1 AND gesloten_op IS NULL) AS open_tasks,
                (SELECT count(*) FROM tasks WHERE case_id = $1 AND gesloten_op IS NOT NULL) AS closed_tasks,
                (SELECT count(*) FROM registrations WHERE case_id = $1) AS registrations,
                (SELECT count(*) FROM notifications WHERE case_id = $1) AS notifications,
                (SELECT count(*) FROM escalations WHERE case_id = $1) AS escalations
            """,
            case_id,
        )
        assert row is not None
        return EffectCounts.model_validate(dict(row))


class RegisterFout(Exception):
    """The register cannot be used by a tool: unreachable, unreadable or not brought up to date; ``str`` is Dutch."""


async def open_current(dsn: str | None, *, max_size: int) -> Register:
    """The register at ``dsn``, brought up to date by the worker (the tools never migrate it themselves).

    Raises :class:`RegisterFout` with a Dutch reason when there is no ``dsn``, it cannot be reached or read, or a
    migration is missing (the register's connection is closed then)."""
    if not dsn:
        raise RegisterFout(
            "DATABASE_URL ontbreekt: geef de verbinding met het zaakregister op, "
            "bijvoorbeeld DATABASE_URL=postgresql://gebruiker@host:5432/thuiszitters"
        )
    try:
        register = await asyncio.wait_for(Register.connect(dsn, max_size=max_size), timeout=15)
    except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError, ValueError) as error:
        raise RegisterFout(f"Kan het zaakregister niet bereiken: {type(error).__name__}") from None
    try:
        pending = await register.pending_migrations()
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
        await register.close()
        raise RegisterFout(f"Kan het zaakregister niet lezen: {type(error).__name__}") from None
    if pending:
        await register.close()
        raise RegisterFout(
            f"Het zaakregister is niet bijgewerkt (ontbrekende migraties: {', '.join(pending)}); "
            "de worker werkt het bij wanneer hij start"
        )
    return register
