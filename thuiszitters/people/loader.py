"""The directory's loader: people and role addresses from a file into the case register.

    thuiszitters-personen personen.csv             store them (or: python -m thuiszitters.people.loader ...)
    thuiszitters-personen personen.csv --dry-run   check only, store nothing (needs no database)

One row per person and role, with the columns ``persoon_id, naam, email, rol, scholen, regio, sector, alle``
(``scholen``: BRIN codes separated by ``;``). A row without ``persoon_id`` and ``naam`` is the address of a role for
one school (``scholen``: one BRIN code), one region or one sector. A CSV file has these names as its header line
(separated by ``,`` or ``;``); a ``.jsonl`` file holds one object per line, a ``.json`` file a list of objects (or
one object per line). docs/people.md ("Directory") describes the format and the rules.

The rows of one person together are their roles: storing them replaces the roles that person had, so a person
loaded again with other rows has exactly the new roles (and is active again). People not in the file stay as they
are. A person of whom one row is refused is not stored at all, so no one loses a role through a typo.

Each row is reported in the order of the file, with its line number: stored (``opgeslagen``, with ``nieuw``,
``bijgewerkt`` or ``ongewijzigd``), valid (``geldig``, with ``--dry-run``), refused (``GEWEIGERD``, with the field
and the rule), or not stored because another row of that person was refused. Names and e-mail addresses are never
printed. Exit code: 0 when every row was stored (or valid), 1 when a row was refused or could not be stored, 2 when
the file, the settings or the register cannot be used at all.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import re
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, Literal, TextIO

import asyncpg
from pydantic import ValidationError

from thuiszitters.people.directory import (
    PERSOON_ID_PATTERN,
    Directory,
    Persoon,
    RolAdres,
    Wijziging,
    describe_scope,
)
from thuiszitters.register.store import Register, RegisterFout, open_current
from thuiszitters.settings import Settings, SettingsError, yes_no

COLUMNS: Final = ("persoon_id", "naam", "email", "rol", "scholen", "regio", "sector", "alle")
SCOPE_COLUMNS: Final = ("scholen", "regio", "sector", "alle")
_SCHOLEN_SEPARATOR: Final = re.compile(r"[;,\s]+")

Outcome = Literal["opgeslagen", "geldig", "geweigerd", "niet_opgeslagen", "mislukt"]
LABELS: Final[dict[Outcome, str]] = {
    "opgeslagen": "opgeslagen",
    "geldig": "geldig",
    "geweigerd": "GEWEIGERD",
    "niet_opgeslagen": "NIET OPGESLAGEN",
    "mislukt": "MISLUKT",
}
FAILED: Final = frozenset({"geweigerd", "niet_opgeslagen", "mislukt"})


class FileError(ValueError):
    """The file as a whole cannot be used (its header, or JSON that is not a list); the message is Dutch."""


@dataclass(frozen=True)
class Row:
    """One row of the file: its line number, and either its fields or why it could not be read."""

    line: int
    fields: dict[str, Any] | None
    problem: str | None = None


@dataclass(frozen=True)
class Result:
    line: int
    persoon_id: str | None  # only a well-formed id; None for a role address or an unreadable row
    soort: Literal["persoon", "adres"] | None
    outcome: Outcome
    detail: str
    wijziging: Wijziging | None = None


# --------------------------------------------------------------------------------------------------- reading


def read_rows(path: Path) -> Iterator[Row]:
    """The rows of a CSV, JSON-lines or JSON file."""
    with path.open(encoding="utf-8-sig", newline="") as handle:
        suffix = path.suffix.lower()
        if suffix in (".json", ".jsonl", ".ndjson"):
            text = handle.read()
            if suffix == ".json" and text.lstrip().startswith("["):
                yield from _json_list(text)
            else:
                yield from _json_lines(text)
        else:
            yield from _csv_rows(handle)


def _json_lines(text: str) -> Iterator[Row]:
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except (ValueError, RecursionError):
            yield Row(number, None, "geen geldige JSON op deze regel")
            continue
        yield Row(number, value) if isinstance(value, dict) else Row(number, None, "moet een JSON-object zijn")


def _json_list(text: str) -> Iterator[Row]:
    """The objects of a JSON list, each numbered by the line it starts on."""
    try:
        items = json.loads(text)
    except (ValueError, RecursionError):
        raise FileError("geen geldige JSON (verwacht: een lijst van objecten)") from None
    decoder = json.JSONDecoder()
    position = text.index("[") + 1
    for item in items:
        while text[position] in " \t\r\n,":
            position += 1
        line = text.count("\n", 0, position) + 1
        position = decoder.raw_decode(text, position)[1]
        yield Row(line, item) if isinstance(item, dict) else Row(line, None, "moet een JSON-object zijn")


def _csv_rows(handle: TextIO) -> Iterator[Row]:
    header = handle.readline()
    handle.seek(0)
    # The delimiter from the header alone: the cells of 'scholen' may hold ';' themselves.
    reader = csv.DictReader(handle, delimiter=";" if header.count(";") > header.count(",") else ",")
    names = [name.strip() for name in reader.fieldnames or []]
    if unknown := [name for name in names if name and name not in COLUMNS]:
        raise FileError(
            f"onbekende kolom{'men' if len(unknown) > 1 else ''} in de kopregel: {', '.join(unknown)} "
            f"(de kolommen zijn: {', '.join(COLUMNS)})"
        )
    if "rol" not in names:
        raise FileError(f"de kopregel noemt geen kolom 'rol' (de kolommen zijn: {', '.join(COLUMNS)})")
    for record in reader:
        if None in record:
            yield Row(reader.line_num, None, "meer kolommen dan de kopregel")
            continue
        fields = {key.strip(): value.strip() for key, value in record.items() if key and value and value.strip()}
        if fields:
            yield Row(reader.line_num, fields)


# ------------------------------------------------------------------------------------------------- checking


def parse_row(fields: dict[str, Any]) -> Persoon | RolAdres:
    """The row as a person with one role, or as a role address; ``ValueError`` naming the field and the rule."""
    if unknown := [name for name in fields if name not in COLUMNS]:
        raise ValueError(f"onbekend veld '{_short(unknown[0])}' (de velden zijn: {', '.join(COLUMNS)})")
    values = {name: _text(value) for name, value in fields.items() if name != "scholen"}
    values = {name: value for name, value in values.items() if value is not None}
    scholen = _scholen(fields.get("scholen"))
    if "rol" not in values:
        raise ValueError("rol: ontbreekt (verplicht)")
    if "persoon_id" not in values and "naam" not in values:
        return _address(values, scholen)
    for required in ("persoon_id", "naam", "email"):
        if required not in values:
            raise ValueError(f"{required}: ontbreekt (verplicht)")
    try:
        return Persoon.model_validate(
            {
                "persoon_id": values["persoon_id"],
                "naam": values["naam"],
                "email": values["email"],
                "rollen": [
                    {
                        "rol": values["rol"],
                        "scholen": scholen,
                        "regio": values.get("regio"),
                        "sector": values.get("sector"),
                        "alle": values.get("alle"),
                    }
                ],
            }
        )
    except ValidationError as error:
        raise ValueError(describe(error)) from None


def _address(values: dict[str, Any], scholen: list[str]) -> RolAdres:
    if "email" not in values:
        raise ValueError("email: ontbreekt (verplicht; een regel zonder persoon_id en naam is een rol-adres)")
    if "alle" in values:
        try:
            alle = yes_no(values["alle"])
        except ValueError:
            raise ValueError("alle: moet ja of nee zijn") from None
        if alle:
            raise ValueError("alle: een rol-adres geldt nooit voor alle zaken; noem één school, regio of sector")
    if len(scholen) > 1:
        raise ValueError("scholen: een rol-adres geldt voor één school; noem één BRIN-code")
    try:
        return RolAdres.model_validate(
            {
                "rol": values["rol"],
                "email": values["email"],
                "school_brin": scholen[0] if scholen else None,
                "regio": values.get("regio"),
                "sector": values.get("sector"),
            }
        )
    except ValidationError as error:
        raise ValueError(describe(error)) from None


def _text(value: Any) -> Any:
    """A cell as text, stripped; empty is absent. JSON booleans stay as they are (``alle``)."""
    if value is None or isinstance(value, bool):
        return value
    text = str(value).strip() if isinstance(value, str | int | float) else value
    return text or None


def _scholen(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, list):
        if not all(isinstance(item, str) for item in value):
            raise ValueError("scholen: een lijst van BRIN-codes (tekst)")
        return [item for item in value if item.strip()]
    if not isinstance(value, str):
        raise ValueError("scholen: BRIN-codes, gescheiden door ';'")
    return [brin for brin in _SCHOLEN_SEPARATOR.split(value) if brin]


def describe(error: ValidationError) -> str:
    """A validation error in Dutch: per problem the field and the rule (the directory's own messages)."""
    parts: list[str] = []
    for detail in error.errors(include_url=False, include_input=False):
        loc = [str(part) for part in detail["loc"] if not isinstance(part, int) and part != "rollen"]
        where = loc[-1] if loc else ""
        if detail["type"] == "value_error":
            rule = str((detail.get("ctx") or {}).get("error", detail["msg"]))
        elif detail["type"] == "missing":
            rule = "ontbreekt (verplicht)"
        else:
            rule = "ongeldige waarde"
        part = f"{where}: {rule}" if where else rule
        if part not in parts:
            parts.append(part)
    return "; ".join(parts[:3])


def _short(value: object) -> str:
    text = str(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _id_text(fields: dict[str, Any] | None) -> str | None:
    """Only a well-formed pseudonymous id is echoed: a name typed in its place must not reach the output."""
    value = fields.get("persoon_id") if fields is not None else None
    value = value.strip() if isinstance(value, str) else None
    return value if value and re.fullmatch(PERSOON_ID_PATTERN, value) else None


# -------------------------------------------------------------------------------------------------- loading


@dataclass
class _Person:
    first_line: int
    rows: list[tuple[int, Persoon]] = field(default_factory=list)
    refused_line: int | None = None


async def load(path: Path, *, directory: Directory | None, dry_run: bool, out: TextIO) -> list[Result]:
    """Check every row, then store each person whose rows are all good, and each good role address (unless
    ``dry_run``); print one line per row in the order of the file, and return the results."""
    results: dict[int, Result] = {}
    people: dict[str, _Person] = {}
    addresses: dict[tuple[str, str], tuple[int, RolAdres]] = {}

    def refuse(line: int, persoon_id: str | None, soort: Literal["persoon", "adres"] | None, reason: str) -> None:
        results[line] = Result(line, persoon_id, soort, "geweigerd", reason)
        if persoon_id is not None:
            person = people.setdefault(persoon_id, _Person(line))
            person.refused_line = person.refused_line or line

    for row in read_rows(path):
        persoon_id = _id_text(row.fields)
        if row.fields is None:
            refuse(row.line, None, None, row.problem or "onleesbaar")
            continue
        try:
            item = parse_row(row.fields)
        except ValueError as error:
            is_address = not row.fields.get("persoon_id") and not row.fields.get("naam")
            refuse(row.line, persoon_id, "adres" if is_address else "persoon", str(error))
            continue
        if isinstance(item, RolAdres):
            if (earlier := addresses.get(item.key())) is not None:
                refuse(row.line, None, "adres", f"dit rol-adres staat al op regel {earlier[0]}")
            else:
                addresses[item.key()] = (row.line, item)
            continue
        person = people.setdefault(item.persoon_id, _Person(row.line))
        if person.rows and (problem := _differs(item, person.rows[0])):
            refuse(row.line, item.persoon_id, "persoon", problem)
            continue
        person.rows.append((row.line, item))

    for persoon_id, person in people.items():
        for line, result in (await _store_person(directory, persoon_id, person, dry_run)).items():
            results[line] = result
    for line, adres in addresses.values():
        results[line] = await _store_address(directory, line, adres, dry_run)

    ordered = [results[line] for line in sorted(results)]
    for result in ordered:
        _print(result, out)
    return ordered


def _differs(item: Persoon, first: tuple[int, Persoon]) -> str | None:
    line, earlier = first
    for name in ("naam", "email"):
        if getattr(item, name) != getattr(earlier, name):
            return f"{name} wijkt af van regel {line} (dezelfde persoon_id)"
    return None


async def _store_person(
    directory: Directory | None, persoon_id: str, person: _Person, dry_run: bool
) -> dict[int, Result]:
    roles = {line: describe_scope(persoon.rollen[0]) for line, persoon in person.rows}
    if person.refused_line is not None:
        reason = f"regel {person.refused_line} van deze persoon is geweigerd; de persoon is niet opgeslagen"
        return {line: Result(line, persoon_id, "persoon", "niet_opgeslagen", reason) for line in roles}
    if dry_run or directory is None:
        return {
            line: Result(line, persoon_id, "persoon", "geldig", f"{role} (niet opgeslagen: --dry-run)")
            for line, role in roles.items()
        }
    first = person.rows[0][1]
    whole = Persoon.model_validate(
        {**first.model_dump(), "rollen": [scope for _, persoon in person.rows for scope in persoon.rollen]}
    )
    try:
        wijziging = await directory.upsert(whole)
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
        reason = f"het zaakregister gaf een fout ({type(error).__name__}): niet opgeslagen"
        return {line: Result(line, persoon_id, "persoon", "mislukt", reason) for line in roles}
    return {
        line: Result(line, persoon_id, "persoon", "opgeslagen", f"{wijziging}: {role}", wijziging)
        for line, role in roles.items()
    }


async def _store_address(directory: Directory | None, line: int, adres: RolAdres, dry_run: bool) -> Result:
    scope = adres.school_brin or adres.regio or adres.sector
    what = f"rol-adres van {adres.rol} voor {scope}"
    if dry_run or directory is None:
        return Result(line, None, "adres", "geldig", f"{what} (niet opgeslagen: --dry-run)")
    try:
        wijziging = await directory.set_address(adres)
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
        return Result(line, None, "adres", "mislukt", f"het zaakregister gaf een fout ({type(error).__name__})")
    return Result(line, None, "adres", "opgeslagen", f"{wijziging}: {what}", wijziging)


# ------------------------------------------------------------------------------------------------- reporting


def _print(result: Result, out: TextIO) -> None:
    who = result.persoon_id or ("(rol-adres)" if result.soort == "adres" else "-")
    print(f"regel {result.line:>4}  {who:<28} {LABELS[result.outcome]:<16} {result.detail}", file=out, flush=True)


def summary(results: Sequence[Result], *, dry_run: bool) -> str:
    """One line: the people and role addresses stored (or valid), and the rows refused or not stored."""
    if not results:
        return "Samenvatting: geen regels gevonden"
    good = "geldig" if dry_run else "opgeslagen"
    people: dict[str, Wijziging | None] = {
        r.persoon_id: r.wijziging for r in results if r.outcome == good and r.soort == "persoon" and r.persoon_id
    }
    addresses = [r for r in results if r.outcome == good and r.soort == "adres"]
    parts = [f"{len(people)} {'persoon' if len(people) == 1 else 'personen'} {good}"]
    if not dry_run and people:
        changes = [(w, sum(1 for v in people.values() if v == w)) for w in ("nieuw", "bijgewerkt", "ongewijzigd")]
        parts[0] += " (" + ", ".join(f"{count} {w}" for w, count in changes if count) + ")"
    parts.append(f"{len(addresses)} rol-adres{'sen' if len(addresses) != 1 else ''} {good}")
    for outcome in ("geweigerd", "niet_opgeslagen", "mislukt"):
        if count := sum(1 for r in results if r.outcome == outcome):
            parts.append(f"{count} {'regel' if count == 1 else 'regels'} {LABELS[outcome]}")
    text = "Samenvatting: " + ", ".join(parts)
    return text + (" (niets opgeslagen: --dry-run)" if dry_run else "")


# ------------------------------------------------------------------------------------------------------ main


async def main(argv: Sequence[str] | None = None, directory: Directory | None = None, out: TextIO | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="thuiszitters-personen",
        description="Laad personen en rol-adressen in de personenlijst van het zaakregister (DATABASE_URL).",
    )
    parser.add_argument(
        "bestand",
        type=Path,
        help="CSV (kopregel: " + ",".join(COLUMNS) + "), JSON-lines (.jsonl) of JSON (.json: een lijst)",
    )
    parser.add_argument("--dry-run", action="store_true", help="alleen controleren, niets opslaan")
    args = parser.parse_args(argv)
    out = out or sys.stdout
    try:
        settings = Settings.from_env()
    except SettingsError as error:
        print(f"Fout in de instellingen: {error}", file=sys.stderr)
        return 2
    if not args.bestand.is_file():
        print(f"Bestand niet gevonden: {args.bestand}", file=sys.stderr)
        return 2
    register: Register | None = None
    try:
        if directory is None and not args.dry_run:
            register = await _connect(settings)
            if register is None:
                return 2
            directory = Directory(register.pool)
        try:
            results = await load(args.bestand, directory=directory, dry_run=args.dry_run, out=out)
        except FileError as error:
            print(f"Bestand niet te gebruiken: {error}", file=sys.stderr)
            return 2
        except (OSError, UnicodeDecodeError, csv.Error) as error:
            print(f"Bestand niet te lezen: {type(error).__name__}: {error}", file=sys.stderr)
            return 2
    finally:
        if register is not None:
            await register.close()
    print(summary(results, dry_run=args.dry_run), file=out)
    if not results:
        return 1
    return 1 if any(r.outcome in FAILED for r in results) else 0


async def _connect(settings: Settings) -> Register | None:
    """The register, brought up to date by the worker; None (and a Dutch message) when it cannot be used."""
    try:
        return await open_current(settings.database_url, max_size=2)
    except RegisterFout as error:
        print(error, file=sys.stderr)
        return None


def cli() -> None:
    """The ``thuiszitters-personen`` command."""
    sys.exit(asyncio.run(main()))


if __name__ == "__main__":
    cli()
