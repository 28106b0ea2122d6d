"""The intake: starts one ``ThuiszitterWorkflow`` per pupil from a CSV or JSON-lines file of Aanmeldingen.

    thuiszitters-intake aanmeldingen.csv             start the cases (or: python starter.py ...)
    thuiszitters-intake aanmeldingen.jsonl --dry-run validate only
    thuiszitters-intake aanmeldingen.csv --concurrency 32

Each row is validated against the contract (``CONTRACT.md``); the script prints per row, in the order of the file,
whether the case was started, was already open, or was refused (with the field and the rule). A bad row never stops
the others. Up to ``--concurrency`` starts (default 16) are in flight at once. Exit code: 0 when no row was
refused, 1 when at least one was refused or could not be started, 2 when the file or Temporal cannot be reached at
all.

The web application's upload ("Nieuwe aanmelding", :mod:`thuiszitters.web.aanmelding`) runs the rows of a file
through the same checks and starts (:func:`rows_of`, :func:`run_rows`), so both report a row alike.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import os
import re
import sys
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from pydantic import ValidationError
from temporalio.client import Client
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError

from thuiszitters.cases import start_case
from thuiszitters.settings import Settings, SettingsError
from thuiszitters.temporal.client import connect
from workflows import rules
from workflows.calendar import amsterdam_date
from workflows.contract import LEERLING_REF_PATTERN, Aanmelding, NieuweAanmelding, workflow_id_for

DEFAULT_CONCURRENCY = 16
"""Starts in flight at once: enough to keep Temporal busy, few enough to stay polite to a shared cluster."""
BOOLEAN_FIELDS = {"woont_in_rotterdam", "uit_buitenland"}
JSON_SUFFIXES = (".jsonl", ".ndjson", ".json")
"""A file whose name ends so is read as JSON lines; any other as CSV."""
TRUE_WORDS = {"true", "ja", "j", "1", "waar", "yes"}
FALSE_WORDS = {"false", "nee", "n", "0", "onwaar", "no"}


@dataclass(frozen=True)
class Row:
    """One row of the intake file: its line number, and either its fields or why it could not be read."""

    line: int
    fields: dict[str, Any] | None
    problem: str | None = None


@dataclass(frozen=True)
class Result:
    line: int
    leerling_ref: str | None
    outcome: str  # "gestart", "al_open", "geweigerd", "mislukt" (Temporal refused the start), "geldig"
    detail: str
    case_id: str | None = None
    """Of a started case: its id in the register, ``<workflow id>:<run id>``."""


def read_rows(path: Path) -> Iterator[Row]:
    """Rows of a CSV (header line with the contract's field names) or JSON-lines file."""
    with path.open(encoding="utf-8-sig", newline="") as handle:
        yield from rows_of(handle, json_lines=path.suffix.lower() in JSON_SUFFIXES)


def rows_of(handle: TextIO, *, json_lines: bool) -> Iterator[Row]:
    """Rows of an open CSV or JSON-lines text (a file on disk, or one uploaded to the web application)."""
    if json_lines:
        yield from _json_rows(handle)
    else:
        yield from _csv_rows(handle)


def _json_rows(handle: TextIO) -> Iterator[Row]:
    for number, text in enumerate(handle, start=1):
        if not text.strip():
            continue
        try:
            value = json.loads(text)
        except (ValueError, RecursionError):  # also a number of thousands of digits, or nesting without end
            yield Row(number, None, "geen geldige JSON op deze regel")
            continue
        if not isinstance(value, dict):
            yield Row(number, None, "de regel moet een JSON-object zijn")
            continue
        yield Row(number, value)


def _csv_rows(handle: TextIO) -> Iterator[Row]:
    sample = handle.read(4096)
    handle.seek(0)
    delimiter = ";" if sample.count(";") > sample.count(",") else ","
    reader = csv.DictReader(handle, delimiter=delimiter)
    for record in reader:
        if None in record:
            yield Row(reader.line_num, None, "meer kolommen dan de kopregel")
            continue
        fields: dict[str, Any] = {}
        for key, value in record.items():
            if key is None or value is None or not value.strip():
                continue  # an empty cell is a missing field
            name = key.strip()
            fields[name] = _csv_value(name, value.strip())
        if fields:
            yield Row(reader.line_num, fields)


def _csv_value(name: str, value: str) -> Any:
    if name in BOOLEAN_FIELDS:
        if value.lower() in TRUE_WORDS:
            return True
        if value.lower() in FALSE_WORDS:
            return False
    if name == "fase" and value.isdigit():
        return int(value)
    return value


def validate(fields: dict[str, Any], today: Any) -> Aanmelding:
    """The row as an Aanmelding, or ``ValueError`` naming the field and the rule."""
    try:
        aanmelding: Aanmelding = NieuweAanmelding.model_validate(fields)
    except ValidationError as error:
        raise ValueError(rules.describe_validation_error(error)) from None
    if aanmelding.startdatum > today:
        raise ValueError("veld 'startdatum': ligt in de toekomst (eerste dag van niet verschijnen)")
    return aanmelding


async def run_intake(
    path: Path,
    *,
    client: Client | None,
    settings: Settings,
    dry_run: bool,
    out: TextIO,
    concurrency: int = DEFAULT_CONCURRENCY,
) -> list[Result]:
    """Check every row and start the good ones, up to ``concurrency`` starts at a time; the report keeps the order
    of the file. A later row of a pupil waits for the start of that pupil's earlier row, so it reports 'al open'."""
    return await run_rows(
        read_rows(path),
        client=client,
        task_queue=settings.task_queue,
        dry_run=dry_run,
        concurrency=concurrency,
        report=lambda result: _print(result, out),
    )


async def run_rows(
    rows: Iterable[Row],
    *,
    client: Client | None,
    task_queue: str,
    dry_run: bool,
    concurrency: int = DEFAULT_CONCURRENCY,
    report: Callable[[Result], None] | None = None,
    refuse: Callable[[Aanmelding], str | None] | None = None,
) -> list[Result]:
    """The work of :func:`run_intake` on rows read elsewhere: each result goes to ``report`` as soon as it is known,
    in the order of the rows. ``refuse`` may refuse a valid row (its reason, or None to go on): the web application
    refuses a pupil outside the person's scope with it."""
    today = amsterdam_date(datetime.now(UTC))
    results: list[Result] = []
    seen: dict[str, int] = {}
    starting: dict[str, asyncio.Future[Result]] = {}
    window: deque[asyncio.Future[Result]] = deque()

    async def flush(down_to: int) -> None:
        while len(window) > down_to:
            results.append(await window.popleft())
            if report is not None:
                report(results[-1])

    try:
        for row in rows:
            outcome = _check_row(row, dry_run or client is None, today, seen, refuse)
            if isinstance(outcome, Result):
                done: asyncio.Future[Result] = asyncio.get_running_loop().create_future()
                done.set_result(outcome)
                window.append(done)
            else:
                assert client is not None
                earlier = starting.get(outcome.leerling_ref)
                start = asyncio.ensure_future(_start_row(row, outcome, client, task_queue, earlier))
                starting[outcome.leerling_ref] = start
                window.append(start)
            await flush(max(1, concurrency) - 1)
        await flush(0)
    finally:
        for pending in window:
            pending.cancel()
    return results


def _check_row(
    row: Row,
    dry_run: bool,
    today: Any,
    seen: dict[str, int],
    refuse: Callable[[Aanmelding], str | None] | None = None,
) -> Result | Aanmelding:
    """The row's outcome when it is refused or only checked, else the Aanmelding to start."""
    if row.fields is None:
        return Result(row.line, None, "geweigerd", row.problem or "onleesbaar")
    ref_text = _ref_text(row)
    try:
        aanmelding = validate(row.fields, today)
    except ValueError as error:
        return Result(row.line, ref_text, "geweigerd", str(error))
    if refuse is not None and (reason := refuse(aanmelding)) is not None:
        return Result(row.line, ref_text, "geweigerd", reason)
    if aanmelding.leerling_ref in seen and dry_run:
        return Result(
            row.line, ref_text, "al_open", f"dezelfde leerling staat al op regel {seen[aanmelding.leerling_ref]}"
        )
    seen.setdefault(aanmelding.leerling_ref, row.line)
    if dry_run:
        return Result(row.line, ref_text, "geldig", "geldig (niet gestart: --dry-run)")
    return aanmelding


def _ref_text(row: Row) -> str | None:
    """Only a well-formed pseudonymous reference is echoed: a name typed in its place must not reach the output."""
    ref = row.fields.get("leerling_ref") if row.fields is not None else None
    return ref if isinstance(ref, str) and re.fullmatch(LEERLING_REF_PATTERN, ref) else None


async def _start_row(
    row: Row,
    aanmelding: Aanmelding,
    client: Client,
    task_queue: str,
    earlier: asyncio.Future[Result] | None,
) -> Result:
    if earlier is not None:  # the same pupil on an earlier row: that start decides, this row follows it
        await asyncio.wait([earlier])
    ref_text = _ref_text(row)
    workflow_id = workflow_id_for(aanmelding.leerling_ref)
    try:
        handle = await start_case(client, aanmelding, task_queue)
    except WorkflowAlreadyStartedError:
        return Result(row.line, ref_text, "al_open", f"er loopt al een zaak ({workflow_id})")
    except RPCError as error:  # the row is fine, Temporal is not: say so and go on with the next row
        return Result(row.line, ref_text, "mislukt", f"Temporal gaf een fout ({error.status.name}): niet gestart")
    except (RuntimeError, OSError) as error:  # no connection at all (a client that connects on first use)
        return Result(row.line, ref_text, "mislukt", f"Temporal niet bereikbaar ({type(error).__name__}): niet gestart")
    run_id = handle.first_execution_run_id or handle.result_run_id
    return Result(row.line, ref_text, "gestart", workflow_id, f"{workflow_id}:{run_id}")


LABELS = {
    "gestart": "gestart",
    "al_open": "al open",
    "geweigerd": "GEWEIGERD",
    "mislukt": "MISLUKT",
    "geldig": "geldig",
}


def _print(result: Result, out: TextIO) -> None:
    who = result.leerling_ref or "-"
    print(
        f"regel {result.line:>4}  {who:<20} {LABELS[result.outcome]:<10} {result.detail}",
        file=out,
        flush=True,
    )


def summary(results: Sequence[Result]) -> str:
    counts = {key: sum(1 for r in results if r.outcome == key) for key in LABELS}
    parts = [f"{counts[key]} {LABELS[key]}" for key in LABELS if counts[key]]
    return "Samenvatting: " + (", ".join(parts) if parts else "geen regels gevonden")


async def main(argv: Sequence[str] | None = None, client: Client | None = None, out: TextIO | None = None) -> int:
    parser = argparse.ArgumentParser(description="Start zaken (ThuiszitterWorkflow) uit een aanmeldbestand.")
    parser.add_argument("bestand", type=Path, help="CSV (kopregel met de veldnamen) of JSON-lines")
    parser.add_argument("--dry-run", action="store_true", help="alleen controleren, niets starten")
    parser.add_argument("--profile", help="Temporal-profiel uit temporal.toml")
    parser.add_argument(
        "--concurrency",
        type=int,
        default=DEFAULT_CONCURRENCY,
        metavar="N",
        help=f"zoveel zaken tegelijk starten (standaard {DEFAULT_CONCURRENCY}); het verslag blijft in bestandsvolgorde",
    )
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
    if client is None and not args.dry_run:
        try:
            client = await connect(settings, profile=args.profile)
        except (RuntimeError, OSError) as error:
            print(f"Kan Temporal niet bereiken: {error}", file=sys.stderr)
            return 2
    try:
        results = await run_intake(
            args.bestand, client=client, settings=settings, dry_run=args.dry_run, out=out, concurrency=args.concurrency
        )
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        print(f"Bestand niet te lezen: {type(error).__name__}: {error}", file=sys.stderr)
        return 2
    print(summary(results), file=out)
    if not results:
        return 1
    return 1 if any(r.outcome in ("geweigerd", "mislukt") for r in results) else 0


def cli() -> None:
    """The ``thuiszitters-intake`` command (and ``python starter.py``)."""
    code = asyncio.run(main())
    sys.stdout.flush()
    sys.stderr.flush()
    # Leave without tearing down the Temporal client's runtime threads during interpreter shutdown, which can abort
    # the process (Fatal Python error: PyGILState_Release) after all work is done.
    os._exit(code)
