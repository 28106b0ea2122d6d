"""The retention period (bewaartermijn) of the case register: closed cases are anonymised once it has passed.

    python -m thuiszitters.tools.retention                 anonymise what is due
    python -m thuiszitters.tools.retention --dry-run       only show what would change
    python -m thuiszitters.tools.retention --na-dagen 365  another period than THUISZITTERS_BEWAARTERMIJN_DAGEN

A case is due when it was closed (``cases.afgesloten``) longer ago than the period
(``THUISZITTERS_BEWAARTERMIJN_DAGEN``, default 730 days). Anonymising it removes what identifies the pupil, and
keeps what reporting needs:

- the pupil reference, and the case and workflow id that contain it, become ``geanonimiseerd-<n>`` (a new number per
  case, so two cases of one pupil can no longer be linked), in every table;
- the idempotency keys of registrations and notifications (``<case id>:<n>:<action>``) get the same new case id, so
  they stay unique and consistent with each other;
- the start date is rounded down to the first of its month; the weeks at home are kept in ``weken_thuis`` first;
- the data sent in registration calls (``gegevens``), the outside systems' references (``kenmerk``) and error texts
  are emptied; the pupil reference in notification subjects is replaced; who acted (``case_events.door``) is
  removed; task deadlines (derived from the start date) are rounded to their month;
- what people wrote (contract version 2, migration ``003_taken_en_dossier``): the case's dossier and documents
  (``case_dossier``) are deleted; of its tasks the description, the note of who finished one by hand
  (``toelichting``), who finished it and who held it are emptied, as is who holds each role (``cases.toegewezen``);
  the day leerplicht began (it gives away the month of birth) is removed, and the dates of the twelve-week check
  and the Kerngroep meeting (derived from the start date) are rounded to their month;
- the audit log (migration ``005_audit``): the case's rows get the new case id, and who looked or acted becomes a
  pseudonym that holds only within the case (``geanonimiseerd-persoon-<k>``); their hash chain still verifies
  (``audit_anonimiseer_zaak``, see :mod:`thuiszitters.people.audit`);
- kept: sector, region, school (BRIN, not personal), phase, regie, escalation, route, outcome, the phase history and
  its moments, so counts per month by sector, region, phase, outcome, escalation and weeks at home do not change.

Every run is one transaction under an advisory lock; a dry run makes the same changes and rolls them back. Running
twice changes nothing the second time: an anonymised case carries ``geanonimiseerd_op``. The two columns this needs
(``cases.weken_thuis``, ``cases.geanonimiseerd_op``) come from migration ``002_bewaartermijn``; the tables and
columns of version 2 from ``003_taken_en_dossier``, so run it on a register the worker has brought up to date.

The Temporal side: a closed workflow's history stays on the server for the namespace's retention period; keep that
no longer than this period (``temporal operator namespace update --retention``). Histories hold personal data only
encrypted, so retiring a key (removing it from ``THUISZITTERS_CODEC_KEYS`` and destroying it) once every history it
encrypted is past this period makes those histories unreadable for good.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import sys
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, TypeAlias

import asyncpg

from thuiszitters.settings import DEFAULT_PERIOD_DAYS as DEFAULT_PERIOD_DAYS
from thuiszitters.settings import Settings, SettingsError
from workflows.calendar import amsterdam_date

if TYPE_CHECKING:
    from asyncpg.pool import PoolConnectionProxy

    Connection: TypeAlias = asyncpg.Connection[asyncpg.Record] | PoolConnectionProxy[asyncpg.Record]

PERIOD_VARIABLE = Settings.variable("bewaartermijn_dagen")
ANONYMOUS_PREFIX = "geanonimiseerd-"
TIME_ZONE = "Europe/Amsterdam"
# Any fixed number will do, as long as nothing else in the database takes the same advisory lock.
_RETENTION_LOCK = 7_361_402_915_002

_WEEKS_AT_HOME = f"GREATEST(0, ((c.afgesloten_op AT TIME ZONE '{TIME_ZONE}')::date - c.startdatum) / 7)"
"""Whole weeks from the start date to the (Amsterdam) day of closure, as the workflow counts them."""


@dataclass(frozen=True)
class RetentionResult:
    """What one run did (or, in a dry run, would have done)."""

    period_days: int
    cutoff: datetime
    dry_run: bool
    anonymised: int = 0
    per_sector: Mapping[str, int] = field(default_factory=dict)
    per_regio: Mapping[str, int] = field(default_factory=dict)
    registrations: int = 0
    notifications: int = 0
    dossiers: int = 0
    audit_rows: int = 0
    open_cases: int = 0
    within_period: int = 0
    already_anonymised: int = 0


def _period(value: str, source: str) -> int:
    try:
        days = int(value)
    except ValueError:
        days = 0
    if days < 1:
        raise SettingsError(f"{source}: '{value}' is geen geldig aantal dagen (een geheel getal van 1 of meer)")
    return days


async def apply_retention(
    connection: Connection, *, period_days: int, dry_run: bool = False, now: datetime | None = None
) -> RetentionResult:
    """Anonymise every case closed before ``now - period_days``, in one transaction (rolled back on a dry run)."""
    if period_days < 1:
        raise ValueError("de bewaartermijn moet minstens 1 dag zijn")
    cutoff = (now or datetime.now(UTC)) - timedelta(days=period_days)
    transaction = connection.transaction()
    await transaction.start()
    try:
        result = await _anonymise(connection, period_days=period_days, cutoff=cutoff, dry_run=dry_run)
    except BaseException:
        await transaction.rollback()
        raise
    if dry_run:
        await transaction.rollback()
    else:
        await transaction.commit()
    return result


async def _anonymise(connection: Connection, *, period_days: int, cutoff: datetime, dry_run: bool) -> RetentionResult:
    await connection.execute("SELECT pg_advisory_xact_lock($1)", _RETENTION_LOCK)
    overview = await connection.fetchrow(
        """
        SELECT
            count(*) FILTER (WHERE NOT afgesloten) AS open_cases,
            count(*) FILTER (WHERE afgesloten AND geanonimiseerd_op IS NULL
                             AND (afgesloten_op IS NULL OR afgesloten_op >= $1)) AS within_period,
            count(*) FILTER (WHERE geanonimiseerd_op IS NOT NULL) AS already_anonymised
        FROM cases
        """,
        cutoff,
    )
    assert overview is not None
    due = await connection.fetch(
        """
        SELECT case_id, leerling_ref, sector, regio FROM cases
        WHERE afgesloten AND afgesloten_op < $1 AND geanonimiseerd_op IS NULL
        ORDER BY afgesloten_op, case_id
        FOR UPDATE
        """,
        cutoff,
    )
    result = RetentionResult(
        period_days=period_days,
        cutoff=cutoff,
        dry_run=dry_run,
        open_cases=overview["open_cases"],
        within_period=overview["within_period"],
        already_anonymised=overview["already_anonymised"],
    )
    if not due:
        return result

    highest = await connection.fetchval(
        "SELECT max(substring(case_id FROM $1)::bigint) FROM cases",
        f"^{ANONYMOUS_PREFIX}([0-9]+)$",
    )
    first = (highest or 0) + 1
    await connection.execute(
        """
        CREATE TEMP TABLE retention_map (
            old_id      text PRIMARY KEY,
            new_id      text NOT NULL UNIQUE,
            ref_pattern text NOT NULL
        ) ON COMMIT DROP
        """
    )
    await connection.executemany(
        "INSERT INTO retention_map (old_id, new_id, ref_pattern) VALUES ($1, $2, $3)",
        [
            # The reference as a whole word (not inside a longer reference), for the notification subjects.
            (
                row["case_id"],
                f"{ANONYMOUS_PREFIX}{number}",
                f"(?<![A-Za-z0-9_-]){re.escape(row['leerling_ref'])}(?![A-Za-z0-9_-])",
            )
            for number, row in enumerate(due, start=first)
        ],
    )
    # The case row under its new id (every other column copied as it is), then its rows in the other tables,
    # then the old case row: the foreign keys hold at every step.
    await connection.execute(
        f"""
        INSERT INTO cases
        SELECT (jsonb_populate_record(c, jsonb_build_object(
            'case_id', m.new_id,
            'workflow_id', m.new_id,
            'leerling_ref', m.new_id,
            'startdatum', date_trunc('month', c.startdatum)::date,
            'weken_thuis', {_WEEKS_AT_HOME},
            'geanonimiseerd_op', now(),
            'toegewezen', '{{}}'::jsonb,
            'leerplichtig_vanaf', NULL,
            'check_uiterlijk', date_trunc('month', c.check_uiterlijk)::date,
            'check_herbeoordeling_op', date_trunc('month', c.check_herbeoordeling_op)::date,
            'kerngroep_bespreking_op', date_trunc('month', c.kerngroep_bespreking_op)::date
        ))).*
        FROM cases c JOIN retention_map m ON m.old_id = c.case_id
        """
    )
    await connection.execute(
        """
        UPDATE case_events e SET case_id = m.new_id, door = NULL
        FROM retention_map m WHERE e.case_id = m.old_id
        """
    )
    await connection.execute(
        """
        UPDATE tasks t SET case_id = m.new_id, uiterlijk = date_trunc('month', t.uiterlijk)::date,
            omschrijving = NULL, toelichting = NULL, door = NULL, toegewezen_aan = NULL
        FROM retention_map m WHERE t.case_id = m.old_id
        """
    )
    # Texts written by people: nothing of them is kept.
    dossiers = await connection.fetchval(
        """
        WITH removed AS (
            DELETE FROM case_dossier d USING retention_map m WHERE d.case_id = m.old_id RETURNING 1
        )
        SELECT count(*) FROM removed
        """
    )
    await connection.execute(
        "UPDATE escalations e SET case_id = m.new_id FROM retention_map m WHERE e.case_id = m.old_id"
    )
    registrations = await connection.fetchval(
        f"""
        WITH changed AS (
            UPDATE registrations r
            SET case_id = m.new_id, sleutel = {_new_key("r")}, gegevens = '{{}}'::jsonb, kenmerk = NULL, fout = NULL
            FROM retention_map m WHERE r.case_id = m.old_id
            RETURNING 1
        )
        SELECT count(*) FROM changed
        """
    )
    notifications = await connection.fetchval(
        f"""
        WITH changed AS (
            UPDATE notifications n
            SET case_id = m.new_id, sleutel = {_new_key("n")}, fout = NULL,
                onderwerp = regexp_replace(n.onderwerp, m.ref_pattern, m.new_id, 'g')
            FROM retention_map m WHERE n.case_id = m.old_id
            RETURNING 1
        )
        SELECT count(*) FROM changed
        """
    )
    await connection.execute("DELETE FROM cases c USING retention_map m WHERE c.case_id = m.old_id")
    # Only now, with the old case row gone and the new one marked, does the audit log accept the anonymisation.
    audit_rows = await connection.fetchval(
        "SELECT COALESCE(sum(audit_anonimiseer_zaak(old_id, new_id)), 0)::int FROM retention_map"
    )
    return RetentionResult(
        period_days=period_days,
        cutoff=cutoff,
        dry_run=dry_run,
        anonymised=len(due),
        per_sector=dict(sorted(Counter(row["sector"] for row in due).items())),
        per_regio=dict(sorted(Counter(row["regio"] for row in due).items())),
        registrations=registrations,
        notifications=notifications,
        dossiers=dossiers,
        audit_rows=audit_rows,
        open_cases=result.open_cases,
        within_period=result.within_period,
        already_anonymised=result.already_anonymised,
    )


def _new_key(alias: str) -> str:
    """SQL for an idempotency key under the new case id: ``<case id>:<rest>`` keeps its rest; a key of another
    form (none is written so) becomes the new case id with a digest of the old key."""
    return (
        f"CASE WHEN starts_with({alias}.sleutel, m.old_id || ':') "
        f"THEN m.new_id || substr({alias}.sleutel, length(m.old_id) + 1) "
        f"ELSE m.new_id || ':' || md5({alias}.sleutel) END"
    )


@dataclass(frozen=True)
class ReportLine:
    """One line of the counts reporting needs: cases per month of the start date and per dimension."""

    maand: date
    sector: str
    regio: str
    fase: int
    uitkomst: str | None
    escalatie: str
    weken_thuis: int | None
    aantal: int


async def report_counts(connection: Connection) -> list[ReportLine]:
    """Cases per start month, sector, region, phase, outcome, escalation and weeks at home (closed cases; open
    ones have no final weeks yet). The same before and after anonymisation."""
    stored = await connection.fetchval(
        """
        SELECT count(*) = 1 FROM information_schema.columns
        WHERE table_schema = current_schema() AND table_name = 'cases' AND column_name = 'weken_thuis'
        """
    )
    weeks = f"COALESCE(c.weken_thuis, {_WEEKS_AT_HOME})" if stored else _WEEKS_AT_HOME
    rows = await connection.fetch(
        f"""
        SELECT date_trunc('month', c.startdatum)::date AS maand, c.sector, c.regio, c.fase::int AS fase,
               c.uitkomst, c.escalatie,
               CASE WHEN c.afgesloten THEN {weeks} END::int AS weken_thuis,
               count(*)::int AS aantal
        FROM cases c
        GROUP BY 1, 2, 3, 4, 5, 6, 7
        ORDER BY 1, 2, 3, 4, 5 NULLS FIRST, 6, 7 NULLS FIRST
        """
    )
    return [ReportLine(**dict(row)) for row in rows]


def summary(result: RetentionResult) -> str:
    """What the run did, in Dutch, for the person or the job log that ran it."""
    lines = [
        f"Bewaartermijn: {result.period_days} dagen; zaken afgesloten vóór "
        f"{amsterdam_date(result.cutoff).isoformat()} worden geanonimiseerd.",
    ]
    verb = "Zou anonimiseren" if result.dry_run else "Geanonimiseerd"
    if result.anonymised:
        spread = ", ".join(f"{name}: {count}" for name, count in {**result.per_sector, **result.per_regio}.items())
        lines += [
            f"{verb}: {result.anonymised} {_zaken(result.anonymised)} ({spread}).",
            "  leerlingreferentie, zaak-id en workflow-id vervangen door 'geanonimiseerd-<n>', startdatum en "
            "taakdeadlines afgerond op de maand,",
            f"  {result.registrations} registraties zonder gegevens, kenmerk en fout, "
            f"{result.notifications} berichten bijgewerkt,",
            f"  {result.dossiers} {'dossier' if result.dossiers == 1 else 'dossiers'} gewist, net als bij de taken de "
            "omschrijving, toelichting en wie ze afrondde of hield,",
            f"  {result.audit_rows} {'auditregel' if result.audit_rows == 1 else 'auditregels'} met een pseudoniem "
            "voor wie keek of handelde.",
        ]
    else:
        lines.append(f"{verb}: geen zaken; er is niets over de bewaartermijn heen.")
    lines.append(
        f"Ongemoeid gelaten: {result.open_cases} open {_zaken(result.open_cases)}, "
        f"{result.within_period} afgesloten binnen de bewaartermijn, "
        f"{result.already_anonymised} al eerder geanonimiseerd."
    )
    if result.dry_run:
        lines.append("Proefdraai (--dry-run): er is niets gewijzigd.")
    return "\n".join(lines)


def _zaken(count: int) -> str:
    return "zaak" if count == 1 else "zaken"


async def run(database_url: str, *, period_days: int, dry_run: bool) -> RetentionResult:
    connection: asyncpg.Connection[asyncpg.Record] = await asyncpg.connect(database_url)
    try:
        return await apply_retention(connection, period_days=period_days, dry_run=dry_run)
    finally:
        await connection.close()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m thuiszitters.tools.retention",
        description=(
            "Anonimiseer afgesloten zaken in het casusregister na de bewaartermijn; de aantallen voor de "
            "rapportage blijven gelijk."
        ),
    )
    parser.add_argument(
        "--na-dagen",
        metavar="N",
        help=f"bewaartermijn in dagen na afsluiten (standaard {PERIOD_VARIABLE}, anders {DEFAULT_PERIOD_DAYS})",
    )
    parser.add_argument("--dry-run", action="store_true", help="alleen laten zien wat er zou veranderen")
    arguments = parser.parse_args(argv)
    try:
        settings = Settings.from_env()
        na_dagen: str | None = arguments.na_dagen
        period_days = settings.bewaartermijn_dagen if na_dagen is None else _period(na_dagen, "--na-dagen")
        if not settings.database_url:
            raise SettingsError("DATABASE_URL is niet ingesteld: waar staat het casusregister?")
    except SettingsError as error:
        print(f"Fout in de instellingen: {error}", file=sys.stderr)
        return 2
    try:
        result = asyncio.run(run(settings.database_url, period_days=period_days, dry_run=arguments.dry_run))
    except (OSError, asyncpg.PostgresError) as error:
        print(f"Het casusregister is niet bij te werken: {type(error).__name__}: {error}", file=sys.stderr)
        return 1
    print(summary(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
