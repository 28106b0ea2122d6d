"""Malformed and hostile input, sent the ways other services reach a case: intake rows through the intake script,
signals, updates, and events for cases that are already closed.

The batch's good rows arrive between hostile ones in one intake file (``thuiszitters.intake.main``); each case then
runs its script with hostile signals and updates mixed in: wrong types, unknown fields, unknown events, nested
garbage, 1 MB strings, payloads that are not JSON at all, ciphertext forged by a client without the key, events after
the closing one. None of it may change what a case does: every case must end as its script calls for, every refused
signal in ``status.afgewezen`` (the contract), every hostile update refused, no workflow task failed through the
case (the server may close one by force when megabytes of signals come in while it runs: counted in the table), and
the register holds each effect exactly once.
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from temporalio.api.common.v1 import Payload
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.common import RawValue
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from tests.faults import (
    FORCE_CLOSED,
    UNREADABLE,
    Batch,
    DrivenCase,
    FaultStack,
    bounded,
    script_events,
    through_the_case,
)
from thuiszitters.intake import main as intake_main
from thuiszitters.temporal.codec import ENCODING, KEY_ID_METADATA
from workflows.calendar import amsterdam_date
from workflows.contract import workflow_id_for

pytestmark = [pytest.mark.fault, pytest.mark.asyncio(loop_scope="session")]

BATCH = 100
MEGABYTE = 1_000_000
EVERY = 10
"""Every tenth case also gets the heavy ones: 1 MB strings, unreadable payloads, hostile updates."""

PER_CASE = 3
# Signals no case can accept, whatever its phase: each must end up in ``afgewezen``.
HOSTILE_SIGNALS: list[tuple[str, Any]] = [
    ("oudergesprek", "geen object maar tekst"),
    ("route", {"route": 3.1}),
    ("plan_van_aanpak", {"in_opp": True, "instemming_ouders": True, "bsn": "123456782"}),
    ("verhuizing", {"naar": "Utrecht"}),
    ("voortgang", {"toelichting": {"a": [[{"b": [None, {"c": []}]}]] * 3}}),
    ("wachtlijst", [1, 2, {"op_wachtlijst": True}]),
    ("passende_plek", {"uitkomst": "ontsnapt", "school_brin": None, "extra": {"x": [1e308, -1e308]}}),
]
HEAVY_SIGNALS: list[tuple[str, Any]] = [
    ("voortgang", {"toelichting": "x" * MEGABYTE, "door": "school"}),
    ("intrekken", {"reden": "y" * MEGABYTE, "door": "z" * MEGABYTE}),
    ("afronden", {"toelichting": "Afgerond.", "door": "school" * 100_000}),
]
# Payloads that are no JSON at all, or nested deeper than any parser goes.
NOT_JSON = [b"{kapot", b"[" * 100_000 + b"]" * 100_000, b"\xff\xfe\x00"]
# Payloads as someone without the key might forge them: garbage under the project's encryption encoding.
FORGED = [
    {"encoding": ENCODING, KEY_ID_METADATA: b"dev-1"},
    {"encoding": ENCODING, KEY_ID_METADATA: b"gestolen-sleutel"},
    {"encoding": ENCODING, KEY_ID_METADATA: b"\xff" * 10_000},
    {"encoding": ENCODING},
]


def raw(data: bytes) -> RawValue:
    return RawValue(Payload(metadata={"encoding": b"json/plain"}, data=data))


def forged(metadata: dict[str, bytes]) -> RawValue:
    return RawValue(Payload(metadata=metadata, data=os.urandom(80)))


def hostile_updates() -> list[tuple[str, Any]]:
    return [
        ("route", {"route": "9.9"}),
        ("bestaat_niet", {"x": 1}),
        ("voortgang", raw(b"{kapot")),
        ("voortgang", {"toelichting": "x" * MEGABYTE}),
        ("oudergesprek", {"deelnemers": [[["school"]]], "datum": "gisteren"}),
    ]


# ------------------------------------------------------------------------------------------------------ intake


def good_row(case: DrivenCase) -> dict[str, Any]:
    return case.aanmelding.model_dump(mode="json", exclude={"beleid"}, exclude_none=True)


def hostile_rows(template: dict[str, Any]) -> list[tuple[str | None, str]]:
    """(leerling_ref that must not get a case, line) of every hostile intake row."""
    today = amsterdam_date(datetime.now(UTC))

    def row(ref: str | None, **changes: Any) -> tuple[str | None, str]:
        fields = {**template, **changes}
        if ref is not None:
            fields["leerling_ref"] = ref
        return ref, json.dumps(fields)

    refs = iter(f"VIJANDIG-{os.urandom(4).hex()}-{n}" for n in range(100))
    return [
        row(next(refs), sector=42, fase="een", woont_in_rotterdam="misschien"),
        row(next(refs), geboortedatum=20150115),
        row(None, leerling_ref="A" * MEGABYTE),
        row(next(refs), school_brin="9" * MEGABYTE),
        row(next(refs), bsn="123456782"),
        row(next(refs), regio={"a": [[{"b": [None, {"c": []}]}]] * 3}),
        row(next(refs), fase=float("nan")),
        (ref := next(refs), json.dumps({**template, "leerling_ref": ref})[:-1] + ', "fase": 1e999}'),
        row(next(refs), startdatum=(today + timedelta(days=30)).isoformat()),
        row(next(refs), geboortedatum=(today - timedelta(days=2 * 365)).isoformat()),
        row(next(refs), uit_buitenland=True, fase=0, school_brin=None),
        row(None, leerling_ref="Jan de Vries"),
        (None, "[" * 100_000 + "]" * 100_000),
        (None, '{"leerling_ref": "X", '),
        (None, '["leerling_ref", "X"]'),
        (None, "null"),
        (None, json.dumps({"leerling_ref": None, "sector": None})),
    ]


LINE = re.compile(r"^regel\s+(\d+)\s+(\S+)\s+(gestart|al open|GEWEIGERD|MISLUKT)\s")


async def intake(batch: Batch, path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The batch's rows between hostile ones, through the intake script; check what it says of every row."""
    hostile = hostile_rows(good_row(batch.cases[0]))
    refused_refs = [ref for ref, _ in hostile if ref is not None]
    lines: list[str] = []
    expected: dict[int, str] = {}
    for index, case in enumerate(batch.cases):
        lines.append(json.dumps(good_row(case)))
        expected[len(lines)] = "gestart"
        if index % 5 == 4 and hostile:
            _, line = hostile.pop(0)
            lines.append(line)
            expected[len(lines)] = "GEWEIGERD"
    lines.append(json.dumps(good_row(batch.cases[0])))  # the same pupil again while the case is open
    expected[len(lines)] = "al open"
    assert not hostile, "te weinig goede regels om alle vijandige tussen te zetten"
    await asyncio.to_thread(path.write_text, "\n".join(lines) + "\n", encoding="utf-8")

    for variable in [name for name in os.environ if name.startswith("THUISZITTERS_")]:
        monkeypatch.delenv(variable)
    for variable, value in batch.faults.env.items():
        if variable.startswith("THUISZITTERS_"):
            monkeypatch.setenv(variable, value)
    out = io.StringIO()
    code = await intake_main([str(path)], client=batch.client, out=out)
    printed = out.getvalue()

    assert code == 1, printed[-2000:]
    assert len(printed) < 50_000, "een regel van 1 MB is teruggegeven in de uitvoer"
    assert "Jan de Vries" not in printed
    outcomes = {int(m.group(1)): m.group(3) for line in printed.splitlines() if (m := LINE.match(line))}
    assert outcomes == expected, [(n, outcomes.get(n), want) for n, want in expected.items() if outcomes.get(n) != want]
    # A refused row with a well-formed reference started no case under it.
    for ref in refused_refs:
        handle = batch.client.get_workflow_handle(workflow_id_for(ref))
        with pytest.raises(RPCError) as missing:
            await handle.describe()
        assert missing.value.status is RPCStatusCode.NOT_FOUND


# ----------------------------------------------------------------------------------------------------- driving


async def drive_with_hostility(batch: Batch, case: DrivenCase, index: int, keyless: Client) -> tuple[int, int, int]:
    """The case's script with hostile signals between its events and, for every tenth case, hostile updates and
    payloads it cannot read. Returns (updates sent, updates refused, unreadable signals sent)."""
    assert case.handle is not None
    # Three of the hostile signals per case, in turn, so that the batch as a whole sends every kind many times.
    hostile = [HOSTILE_SIGNALS[(index + n) % len(HOSTILE_SIGNALS)] for n in range(PER_CASE)]
    heavy = index % EVERY == 0
    if heavy:
        hostile += HEAVY_SIGNALS
    sent_updates = refused_updates = not_json = 0
    events = script_events(case.script, batch.today)
    for position, (name, payload) in enumerate(events):
        # Spread the hostile signals over the script, all before its last (closing) event.
        share = len(hostile) // len(events) + 1 if position < len(events) - 1 else len(hostile)
        for bad_name, bad_payload in hostile[:share]:
            await batch.signal(case, bad_name, bad_payload)
        del hostile[:share]
        if heavy and position == 0:
            for data in NOT_JSON:
                await case.handle.signal("voortgang", raw(data))
                case.signals.append(("voortgang", UNREADABLE))
                not_json += 1
            # From a client without the key: Temporal takes anything; the case must refuse it, not fail on it.
            forger = keyless.get_workflow_handle(case.workflow_id)
            for metadata in FORGED:
                await forger.signal("wachtlijst", forged(metadata))
                case.signals.append(("wachtlijst", UNREADABLE))
                not_json += 1
            for update_name, update_payload in hostile_updates():
                sent_updates += 1
                try:
                    await case.handle.execute_update(update_name, update_payload)
                except WorkflowUpdateFailedError as refusal:
                    refused_updates += 1
                    assert isinstance(refusal.cause, ApplicationError), refusal.cause
        await batch.signal(case, name, payload)
    # An event after the closing one: refused by the case, or by Temporal once the case has completed.
    try:
        await batch.signal(case, "route", {"route": "3.1", "door": "school"})
    except RPCError as error:
        assert error.status is RPCStatusCode.NOT_FOUND
    return sent_updates, refused_updates, not_json


async def events_for_closed_cases(batch: Batch) -> int:
    """Signals and updates for cases that have completed: Temporal refuses them; returns how many were sent."""
    sent = 0
    for case in batch.cases[::EVERY]:
        assert case.handle is not None
        with pytest.raises(RPCError) as signal_refused:
            await case.handle.signal("voortgang", {"toelichting": "Na afsluiting.", "door": "school"})
        assert signal_refused.value.status is RPCStatusCode.NOT_FOUND
        with pytest.raises((RPCError, WorkflowUpdateFailedError)):
            await case.handle.execute_update("intrekken", {"reden": "Na afsluiting.", "door": "scp"})
        sent += 2
    return sent


async def test_hostile_intake_rows_signals_and_updates_change_nothing(
    faults: FaultStack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    batch = Batch(faults, "hostile input", BATCH)
    worker = await faults.start_worker()
    await intake(batch, tmp_path / "aanmeldingen.jsonl", monkeypatch)
    await batch.adopt()

    keyless = await Client.connect(
        faults.stack.temporal_address, namespace=faults.client.namespace, data_converter=pydantic_data_converter
    )
    sent = await bounded(drive_with_hostility(batch, case, index, keyless) for index, case in enumerate(batch.cases))
    await batch.finish(within=150)
    closed_events = await events_for_closed_cases(batch)
    hostile_signals = sum(len(case.signals) - len(case.script.events) for case in batch.cases)
    updates = sum(s for s, _, _ in sent)
    unreadable = sum(n for _, _, n in sent)
    failures = await batch.workflow_task_failures()
    closed_by_force = failures[FORCE_CLOSED]
    outcome = await batch.verify(
        note=f"{hostile_signals} vijandige signalen (waarvan {unreadable} onleesbaar), {updates} updates, "
        f"{closed_events} na afsluiting"
        + (f"; {closed_by_force} taken door de server afgebroken (te veel tegelijk binnen)" if closed_by_force else "")
    )
    outcome.assert_clean()

    assert sum(refused for _, refused, _ in sent) == updates  # every hostile update refused
    failed = through_the_case(failures)
    assert not failed, f"mislukte workflowtaken, per oorzaak: {dict(failed)}"  # nothing hostile ever failed one
    # Nothing was dropped before the rules saw it: the unreadable payloads are in ``afgewezen`` too (verify).
    assert not worker.logged_containing("dropping the signal")
    assert worker.returncode is None
