"""The audit log: every read of a case (status, timeline, documents), every list, export and action, allowed or
refused, with who did it (person and role), through which channel, on which case and with what result
(``thuiszitters-audit``, or ``python -m thuiszitters.people.audit``).

    thuiszitters-audit controleer                     check the hash chain; exit code 1 names the first broken row
    thuiszitters-audit zaak CASE_ID                   who looked at a case, and what they did
    thuiszitters-audit persoon PERSOON_ID [--sinds JJJJ-MM-DD]   what a person did

The table and its guards are migration ``005_audit``: the application's role may only add and read rows, a trigger
refuses every change, and each row's hash covers the previous row's hash and the row's content, so a change that
slips past both shows in :meth:`AuditLog.verify`. The database fills in the id, time, salt and hashes (under a lock,
so concurrent appends form one chain); this module computes the same canonical text to check them independently.

What a row holds of the person and the case enters the hash as a digest salted per row. Retention anonymises the
rows of an anonymised case by replacing person and case with pseudonyms and erasing the salt: the hashes stay as
they were, and the chain still verifies (see docs/people.md, "Audit log").
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Literal, TextIO, get_args

import asyncpg

from thuiszitters.settings import Settings, SettingsError
from workflows.calendar import amsterdam_moment, amsterdam_offset

Kanaal = Literal["web", "api", "cli", "codec"]
Resultaat = Literal["toegestaan", "geweigerd"]
KANALEN: tuple[str, ...] = get_args(Kanaal)
RESULTATEN: tuple[str, ...] = get_args(Resultaat)
GENESIS = "0" * 64
"""The previous hash of the first row."""
ANONYMOUS_PREFIX = "geanonimiseerd-"
"""How an anonymised case id and person pseudonym begin (as in :mod:`thuiszitters.tools.retention`)."""

_COLUMNS = "id, tijd, persoon_id, rol, kanaal, actie, case_id, resultaat, reden"


@dataclass(frozen=True)
class AuditRegel:
    """One row of the audit log, as people read it."""

    id: int
    tijd: datetime
    persoon_id: str
    rol: str
    kanaal: str
    actie: str
    case_id: str | None
    resultaat: str
    reden: str | None


@dataclass(frozen=True)
class Breuk:
    """The first row where the chain breaks: its id and what is wrong with it (Dutch)."""

    id: int
    reden: str

    def __str__(self) -> str:
        return f"regel {self.id}: {self.reden}"


# -------------------------------------------------------------------------------------------- the hash chain


def _field(value: str | None) -> str:
    """One field of the canonical text (``audit_log_veld``): '-' for None, else length, ':' and the value."""
    return "-" if value is None else f"{len(value)}:{value}"


def digest(zout: bytes, value: str | None) -> str | None:
    """The salted digest of a person or case id (``audit_log_digest``)."""
    return None if value is None else hashlib.sha256(zout + value.encode("utf-8")).hexdigest()


def content(row: asyncpg.Record) -> str:
    """The canonical text a row's hash covers (``audit_log_inhoud``)."""
    tijd: datetime = row["tijd"]
    return "".join(
        _field(value)
        for value in (
            row["vorige_hash"],
            str(row["id"]),
            tijd.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f"),
            row["persoon_digest"],
            row["rol"],
            row["kanaal"],
            row["actie"],
            row["zaak_digest"],
            row["resultaat"],
            row["reden"],
        )
    )


def check_row(row: asyncpg.Record, previous: asyncpg.Record | None) -> str | None:
    """What is wrong with ``row`` after ``previous`` (None: it is the first), in Dutch; None when nothing is."""
    expected = GENESIS if previous is None else previous["hash"]
    if row["vorige_hash"] != expected:
        if previous is None:
            return "de eerste regel verwijst naar een vorige: regels aan het begin zijn verwijderd"
        return (
            f"verwijst niet naar de hash van regel {previous['id']}: daartussen is een regel verwijderd, "
            "of de hash van die regel is veranderd"
        )
    zout: bytes | None = row["zout"]
    if zout is not None:
        if row["persoon_digest"] != digest(zout, row["persoon_id"]):
            return "de persoon is veranderd (klopt niet met de vingerafdruk)"
        if row["zaak_digest"] != digest(zout, row["case_id"]):
            return "de zaak is veranderd (klopt niet met de vingerafdruk)"
    elif not (row["persoon_id"].startswith(ANONYMOUS_PREFIX) and (row["case_id"] or "").startswith(ANONYMOUS_PREFIX)):
        return "zonder zout, maar persoon en zaak zijn niet geanonimiseerd"
    if row["hash"] != hashlib.sha256(content(row).encode("utf-8")).hexdigest():
        return "de inhoud klopt niet met de hash: tijd, rol, kanaal, actie, resultaat, reden of de hash is veranderd"
    return None


# -------------------------------------------------------------------------------------------- the log


class AuditLog:
    """The audit log over an asyncpg pool (the register's, or one of its own as the application's role)."""

    def __init__(self, pool: asyncpg.Pool[asyncpg.Record]) -> None:
        self.pool = pool

    async def record(
        self,
        persoon_id: str,
        rol: str,
        kanaal: Kanaal,
        actie: str,
        case_id: str | None,
        resultaat: Resultaat,
        reden: str | None = None,
    ) -> int:
        """Add one row; returns its id. ``case_id`` is the register's case id, None for a list or an export;
        ``reden`` says why a refusal was refused (a system text, never anything about the child)."""
        if kanaal not in KANALEN:
            raise ValueError(f"onbekend kanaal '{kanaal}'; kies uit: {', '.join(KANALEN)}")
        if resultaat not in RESULTATEN:
            raise ValueError(f"onbekend resultaat '{resultaat}'; kies uit: {', '.join(RESULTATEN)}")
        identifier: int = await self.pool.fetchval(
            """
            INSERT INTO audit_log (persoon_id, rol, kanaal, actie, case_id, resultaat, reden)
            VALUES ($1, $2, $3, $4, $5, $6, $7)
            RETURNING id
            """,
            persoon_id,
            rol,
            kanaal,
            actie,
            case_id,
            resultaat,
            reden,
        )
        return identifier

    async def verify(self) -> Breuk | None:
        """The first row where the chain breaks, or None when every row is as it was written."""
        breuk, _ = await self.check()
        return breuk

    async def check(self) -> tuple[Breuk | None, int]:
        """:meth:`verify`, with the number of rows checked (up to and including a broken one)."""
        checked = 0
        previous: asyncpg.Record | None = None
        async with self.pool.acquire() as connection, connection.transaction(isolation="repeatable_read"):
            async for row in connection.cursor("SELECT * FROM audit_log ORDER BY id", prefetch=1000):
                checked += 1
                if (reden := check_row(row, previous)) is not None:
                    return Breuk(row["id"], reden), checked
                previous = row
        return None, checked

    async def who_looked_at(self, case_id: str) -> list[AuditRegel]:
        """Every row about one case, oldest first: who read it or acted on it, allowed or refused."""
        rows = await self.pool.fetch(f"SELECT {_COLUMNS} FROM audit_log WHERE case_id = $1 ORDER BY id", case_id)
        return [AuditRegel(**dict(row)) for row in rows]

    async def what_did(self, persoon_id: str, since: datetime | None = None) -> list[AuditRegel]:
        """Every row of one person (from ``since`` on, when given), oldest first."""
        rows = await self.pool.fetch(
            f"""
            SELECT {_COLUMNS} FROM audit_log
            WHERE persoon_id = $1 AND ($2::timestamptz IS NULL OR tijd >= $2)
            ORDER BY id
            """,
            persoon_id,
            since,
        )
        return [AuditRegel(**dict(row)) for row in rows]


# -------------------------------------------------------------------------------------------- command line


def _local(moment: datetime) -> str:
    """A moment as people in Rotterdam read it."""
    return f"{moment.astimezone(UTC) + amsterdam_offset(moment):%Y-%m-%d %H:%M:%S}"


def format_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(cell) for cell in column) for column in zip(headers, *rows, strict=True)]
    lines = [headers, ["-" * width for width in widths], *rows]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip() for line in lines
    )


def format_rows(regels: Sequence[AuditRegel], *, show: Literal["persoon", "zaak"]) -> str:
    """The rows as a Dutch table: per case the person is shown, per person the case."""
    headers = ["regel", "tijd", show, "rol", "kanaal", "actie", "resultaat", "reden"]
    rows = [
        [
            str(r.id),
            _local(r.tijd),
            r.persoon_id if show == "persoon" else (r.case_id or "-"),
            r.rol,
            r.kanaal,
            r.actie,
            r.resultaat,
            r.reden or "",
        ]
        for r in regels
    ]
    return format_table(headers, rows)


def _regels(count: int) -> str:
    return f"{count} {'regel' if count == 1 else 'regels'}"


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is geen datum; gebruik JJJJ-MM-DD") from None


async def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    """Exit code 0, 1 when the chain is broken, 2 when the log could not be read."""
    out = out or sys.stdout
    parser = argparse.ArgumentParser(
        prog="thuiszitters-audit",
        description="Het auditlog: wie wat inzag of deed, en of de keten van regels nog klopt (DATABASE_URL).",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("controleer", help="controleer de hashketen; exitcode 1 noemt de eerste gebroken regel")
    zaak = commands.add_parser("zaak", help="wie keek naar een zaak, en wat deed die")
    zaak.add_argument("case_id", help="het zaak-id uit het casusregister")
    persoon = commands.add_parser("persoon", help="wat deed een persoon")
    persoon.add_argument("persoon_id")
    persoon.add_argument("--sinds", type=_day, metavar="JJJJ-MM-DD", help="alleen vanaf deze dag")
    args = parser.parse_args(argv)
    try:
        settings = Settings.from_env()
        if not settings.database_url:
            raise SettingsError("DATABASE_URL is niet ingesteld: waar staat het auditlog?")
        pool = await asyncpg.create_pool(settings.database_url, min_size=1, max_size=2)
    except SettingsError as error:
        print(f"Fout in de instellingen: {error}", file=sys.stderr)
        return 2
    except (OSError, asyncpg.PostgresError) as error:
        print(f"Het auditlog is niet te lezen: {type(error).__name__}: {error}", file=sys.stderr)
        return 2
    log = AuditLog(pool)
    try:
        if args.command == "controleer":
            breuk, checked = await log.check()
            if breuk is not None:
                print(f"Keten gebroken bij regel {breuk.id}: {breuk.reden}", file=out)
                return 1
            print(f"Keten in orde: {_regels(checked)} gecontroleerd.", file=out)
        elif args.command == "zaak":
            regels = await log.who_looked_at(args.case_id)
            if not regels:
                print(f"Geen regels over zaak {args.case_id}.", file=out)
            else:
                print(f"Wie keek naar zaak {args.case_id} ({_regels(len(regels))}):", file=out)
                print(format_rows(regels, show="persoon"), file=out)
        else:
            since = None if args.sinds is None else amsterdam_moment(args.sinds, 0)
            regels = await log.what_did(args.persoon_id, since)
            vanaf = f" sinds {args.sinds.isoformat()}" if args.sinds else ""
            if not regels:
                print(f"Geen regels van {args.persoon_id}{vanaf}.", file=out)
            else:
                print(f"Wat {args.persoon_id} deed{vanaf} ({_regels(len(regels))}):", file=out)
                print(format_rows(regels, show="zaak"), file=out)
    except (OSError, asyncpg.PostgresError) as error:
        print(f"Het auditlog is niet te lezen: {type(error).__name__}: {error}", file=sys.stderr)
        return 2
    finally:
        await pool.close()
    return 0


def cli() -> None:
    """The ``thuiszitters-audit`` command (and ``python -m thuiszitters.people.audit``)."""
    sys.exit(asyncio.run(main()))


if __name__ == "__main__":
    cli()
