"""The case register in PostgreSQL: the coordinators' view of every case, and the once-only ledger of effects.

Three kinds of rows, each written by one activity:

- ``vastleggen`` records a :class:`~thuiszitters.models.Vastlegging`: the case's latest state (``cases``), its
  phase history (``case_events``), the open tasks per role (``tasks``) and the escalations (``escalations``).
- ``registreren`` claims, finishes or fails a registration call (``registrations``), keyed by its ``sleutel``.
- ``berichten`` does the same for notifications (``notifications``).

Every write is idempotent, so an activity that is retried after a crash changes nothing the second time.
Schema changes are numbered SQL files in ``activities/migrations``, applied by :meth:`Register.migrate`.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias

import asyncpg
from pydantic import BaseModel, ConfigDict
from pydantic_core import to_jsonable_python

from thuiszitters.models import Bericht, Escalatie, Registratie, RegistratieUitkomst, Vastlegging

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
    case_id: str
    rol: str
    taak: str
    uiterlijk: date | None
    geopend_op: datetime
    gesloten_op: datetime | None


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

if TYPE_CHECKING:
    from asyncpg.pool import PoolConnectionProxy

    _Connection: TypeAlias = asyncpg.Connection[asyncpg.Record] | PoolConnectionProxy[asyncpg.Record]


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
        late retry of an older one never turns the case back."""
        async with self.pool.acquire() as connection, connection.transaction():
            newest = await connection.fetchval(
                """
                INSERT INTO cases AS c (
                    case_id, workflow_id, leerling_ref, sector, regio, school_brin, leerplichtig, startdatum,
                    fase, regiehouder, escalatie, route, wachtlijst, afgesloten, uitkomst, laatste_volgnummer,
                    geopend_op, afgesloten_op, bijgewerkt_op)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16,
                        $17, CASE WHEN $14 THEN $17::timestamptz END, $17)
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
                    bijgewerkt_op = EXCLUDED.bijgewerkt_op
                WHERE c.laatste_volgnummer < EXCLUDED.laatste_volgnummer
                RETURNING true
                """,
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
            )
            is_new = await connection.fetchval(
                """
                INSERT INTO case_events
                    (case_id, volgnummer, tijd, gebeurtenis, door, fase, regiehouder, escalatie)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
                ON CONFLICT (case_id, volgnummer) DO NOTHING
                RETURNING true
                """,
                v.case_id,
                v.volgnummer,
                v.tijd,
                v.gebeurtenis,
                v.door,
                v.fase,
                v.regiehouder.value,
                v.escalatie.value,
            )
            if not is_new:
                return False
            if newest:
                await self._replace_open_tasks(connection, v)
            else:
                # An older Vastlegging that arrives late: it only can tell when the case was first seen.
                await connection.execute(
                    "UPDATE cases SET geopend_op = LEAST(geopend_op, $2) WHERE case_id = $1",
                    v.case_id,
                    v.tijd,
                )
            if v.escalatie is not Escalatie.GEEN:
                await connection.execute(
                    """
                    INSERT INTO escalations AS e (case_id, niveau, tijd) VALUES ($1, $2, $3)
                    ON CONFLICT (case_id, niveau) DO UPDATE SET tijd = LEAST(e.tijd, EXCLUDED.tijd)
                    """,
                    v.case_id,
                    v.escalatie.value,
                    v.tijd,
                )
            return True

    @staticmethod
    async def _replace_open_tasks(connection: _Connection, v: Vastlegging) -> None:
        tasks = {(t.rol.value, t.taak): t.uiterlijk for t in v.open_taken}
        rollen = [rol for rol, _ in tasks]
        taken = [taak for _, taak in tasks]
        await connection.execute(
            """
            UPDATE tasks SET gesloten_op = $4
            WHERE case_id = $1 AND gesloten_op IS NULL
              AND (rol, taak) NOT IN (SELECT * FROM unnest($2::text[], $3::text[]))
            """,
            v.case_id,
            rollen,
            taken,
            v.tijd,
        )
        if tasks:
            await connection.execute(
                """
                INSERT INTO tasks (case_id, rol, taak, uiterlijk, geopend_op)
                SELECT $1, t.rol, t.taak, t.uiterlijk, $5
                FROM unnest($2::text[], $3::text[], $4::date[]) AS t (rol, taak, uiterlijk)
                ON CONFLICT (case_id, rol, taak) WHERE gesloten_op IS NULL
                DO UPDATE SET uiterlijk = EXCLUDED.uiterlijk
                """,
                v.case_id,
                rollen,
                taken,
                list(tasks.values()),
                v.tijd,
            )

    # ---------------------------------------------------------------------------------------- registreren

    async def claim_registration(self, r: Registratie) -> RegistratieUitkomst | None:
        """Claim a registration call before sending it. Returns the stored outcome when the call was already
        made (then nothing must be sent), else None: send it, then :meth:`finish_registration`."""
        async with self.pool.acquire() as connection, connection.transaction():
            await connection.execute(
                """
                INSERT INTO registrations (sleutel, case_id, systeem, actie, gegevens)
                VALUES ($1, $2, $3, $4, $5)
                ON CONFLICT (sleutel) DO NOTHING
                """,
                r.sleutel,
                r.case_id,
                r.systeem.value,
                r.actie,
                r.gegevens,
            )
            row = await connection.fetchrow(
                "SELECT status, antwoord_status, kenmerk FROM registrations WHERE sleutel = $1 FOR UPDATE",
                r.sleutel,
            )
            assert row is not None
            if row["status"] in _CLOSED_REGISTRATION:
                return RegistratieUitkomst(
                    sleutel=r.sleutel,
                    verzonden=row["status"] == "verzonden",
                    antwoord_status=row["antwoord_status"],
                    kenmerk=row["kenmerk"],
                )
            await connection.execute(
                """
                UPDATE registrations SET pogingen = pogingen + 1, status = 'in_behandeling'
                WHERE sleutel = $1
                """,
                r.sleutel,
            )
            return None

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
        """Claim a notification before sending it; returns True when it was already sent (send nothing)."""
        async with self.pool.acquire() as connection, connection.transaction():
            await connection.execute(
                """
                INSERT INTO notifications (sleutel, case_id, rol, sjabloon, kanaal, onderwerp)
                VALUES ($1, $2, $3, $4, $5, $6)
                ON CONFLICT (sleutel) DO NOTHING
                """,
                b.sleutel,
                b.case_id,
                b.rol.value,
                b.sjabloon,
                kanaal,
                onderwerp,
            )
            status = await connection.fetchval(
                "SELECT status FROM notifications WHERE sleutel = $1 FOR UPDATE", b.sleutel
            )
            if status == "verzonden":
                return True
            await connection.execute(
                """
                UPDATE notifications
                SET pogingen = pogingen + 1, status = 'in_behandeling', kanaal = $2, onderwerp = $3
                WHERE sleutel = $1
                """,
                b.sleutel,
                kanaal,
                onderwerp,
            )
            return False

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

    async def tasks_for(self, case_id: str, *, open_only: bool = True) -> list[TaskRow]:
        rows = await self.pool.fetch(
            """
            SELECT case_id, rol, taak, uiterlijk, geopend_op, gesloten_op FROM tasks
            WHERE case_id = $1 AND (NOT $2 OR gesloten_op IS NULL)
            ORDER BY id
            """,
            case_id,
            open_only,
        )
        return [TaskRow.model_validate(dict(row)) for row in rows]

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

    async def ping(self) -> None:
        """Raise when the database cannot be reached (for a health check)."""
        await self.pool.fetchval("SELECT 1")
