"""No input from outside breaks the rules, the intake or the codec server (hypothesis, no Temporal).

Other services, files and browsers send what they send. Arbitrary JSON values (numbers far beyond 64 bits, NaN and
infinities, text with control characters, NUL, direction marks and line separators, very long text, nesting) and
near-valid payloads (the contract's payload with one field changed, dropped, added or wrapped) go to:

- the rules, on every path the workflow takes (signal: ``receive``; update: ``parse`` + ``check`` in the validator,
  ``apply`` in the handler), from cases of both contract versions in every phase (version 1 with its own payloads,
  version 2 with ``door`` and its new events): nothing raises but a ``Weigering``; a refusal is recorded
  with a Dutch reason of bounded length that echoes no long value that was sent in; what passes the validator is
  applied by the handler; the state and its status stay serialisable;
- the intake script: ``validate`` raises only ``ValueError`` naming a field; ``read_rows`` on any bytes yields rows
  or one of the errors that ``main`` reports with exit code 2, and ``main`` itself ends with 0, 1 or 2, never a
  traceback;
- the codec server, over real HTTP on 127.0.0.1: any method, path, header and body (garbage, wrong shapes, payloads
  under unknown keys, tampered ciphertext, a body at the size limit) gets a 2xx or a 4xx with a Dutch JSON error,
  never a 5xx or a stack trace, and the server keeps answering.

The strategies are shared with ``tests/workflows/test_fuzz_live.py``, which sends the same input to live cases.
``THUISZITTERS_FUZZ_SCALE`` multiplies the example counts for a deeper run.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import csv
import io
import json
import os
import re
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from aiohttp.test_utils import TestServer
from google.protobuf import json_format
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from temporalio.api.common.v1 import Payload, Payloads
from temporalio.contrib.pydantic import pydantic_data_converter

from tests.workflows.rules import build as v1
from tests.workflows.rules.build import LATER, SCENARIOS
from tests.workflows.rules.v2 import build_v2 as v2
from thuiszitters import intake
from thuiszitters.temporal.codec import (
    ENCODING,
    KEY_ID_METADATA,
    DecryptionError,
    EncryptionCodec,
    ProtectedPayloadConverter,
)
from thuiszitters.temporal.codec_server import MAX_BODY_BYTES, build_app
from workflows import rules
from workflows.calendar import amsterdam_moment
from workflows.contract import CONTRACT_VERSIE, EVENTS, EVENTS_VERSIE_1, Aanmelding, CaseStatus
from workflows.rules import CaseState

SCALE = max(1, int(os.environ.get("THUISZITTERS_FUZZ_SCALE", "1")))
"""Multiplies the example counts: 1 in the suite, more for a deeper run (``THUISZITTERS_FUZZ_SCALE=20``)."""

# ------------------------------------------------------------------------------------------------- strategies

TRICKY_TEXT = [
    "",
    " ",
    "\x00",
    "school\x00",
    "\t\n\r",
    "\u202eloohcs",  # right-to-left override
    "\u200f\u200e",  # direction marks
    "\ufeffschool",  # byte order mark
    "\u2028\u2029",  # line and paragraph separators
    "\x1b[31mrood\x1b[0m",  # terminal escape
    "' OR '1'='1",
    "'); DROP TABLE zaken; --",
    "<script>alert(1)</script>",
    "{{ 7*7 }}",
    "%s%s%n",
    "${jndi:ldap://x}",
    "x" * 61,
    "x" * 4001,
    "é" * 5000,
    "🧒" * 300,
    "2025-02-30",
    "0001-01-01",
    "9999-12-31",
    "2025-02-03T10:00:00+01:00",
    "12AB",
    "3.3",
    "true",
    "null",
    "NaN",
    "1e999",
]
"""Text that has broken systems before, and text that resembles what a field expects."""

text = st.one_of(
    st.text(max_size=40),  # any code point but lone surrogates: the JSON decoder refuses those before the rules
    st.text(st.characters(max_codepoint=0x40), max_size=20),  # control characters, digits, punctuation
    st.sampled_from(TRICKY_TEXT),
)
integers = st.one_of(
    st.integers(min_value=-3, max_value=3),
    st.integers(),
    st.sampled_from([2**31, 2**63, -(2**63) - 1, 2**64, 10**30, -(10**30), 10**300]),
)
scalars = st.one_of(st.none(), st.booleans(), integers, st.floats(allow_nan=True, allow_infinity=True), text)
json_values: st.SearchStrategy[Any] = st.recursive(
    scalars,
    lambda children: st.one_of(st.lists(children, max_size=4), st.dictionaries(text, children, max_size=4)),
    max_leaves=12,
)
"""Any value a JSON document can carry."""

VALID_V1: dict[str, dict[str, Any]] = {
    "melding": {"gemeld_bij_leerplicht": False},
    "leerplicht_registratie": {"lba_geregistreerd_op": "2025-02-10"},
    "startdatum_correctie": {"startdatum": "2025-01-27", "reden": "Volgens de LBA."},
    "oudergesprek": {"deelnemers": ["school", "ouders", "scp", "koersloket"]},
    "plan_van_aanpak": {"in_opp": True, "instemming_ouders": True},
    "route": {"route": "3.3", "variant": "arrangement"},
    "aanmelding_andere_school": {"school_brin": "34CD"},
    "zorgplicht_verlengd": {},
    "wachtlijst": {"op_wachtlijst": True},
    "voortgang": {"toelichting": "Stand van zaken."},
    "opschalen": {
        "niveau": "taskforce",
        "reden": "Geen plek.",
        "afgestemd_met_leerplicht": True,
        "afgestemd_met_school": True,
    },
    "huisbezoek": {"samenvatting": "Verslag van het huisbezoek."},
    "taskforce_besluit": {"besluit": "Besluit van de Kerngroep."},
    "vrijstelling": {"status": "aangevraagd"},
    "passende_plek": {"uitkomst": "ingeschreven_andere_school", "school_brin": "34CD"},
    "intrekken": {"reden": "Ten onrechte gemeld."},
}
"""One payload per event that contract version 1 accepts (whether a case accepts it depends on where it stands)."""
assert set(VALID_V1) == set(EVENTS_VERSIE_1)

VALID: dict[str, dict[str, Any]] = {
    **{name: {**payload, "door": "school"} for name, payload in VALID_V1.items()},
    "leerplicht_registratie": {"lba_geregistreerd_op": "2025-02-10", "door": "leerplicht"},
    "startdatum_correctie": {"startdatum": "2025-01-27", "reden": "Volgens de LBA.", "door": "leerplicht"},
    "oudergesprek": {"deelnemers": ["school", "ouders", "scp"], "door": "scp", "afspraken": "School zoekt verder."},
    "opschalen": {
        "niveau": "taskforce",
        "reden_code": "geen_passende_plek",
        "reden": "Geen plek.",
        "afgestemd_met_leerplicht": True,
        "afgestemd_met_school": True,
        "door": "coordinator",
    },
    "beoordeling": {"uitzicht": "Plaatsing in april.", "herbeoordeling_op": "2025-03-20", "door": "scp"},
    "huisbezoek": {"samenvatting": "Verslag van het huisbezoek.", "door": "taskforce"},
    "taskforce_besluit": {
        "besluit": "Besluit van de Kerngroep.",
        "acties": [{"rol": "school", "omschrijving": "Zoek een school.", "uiterlijk": "2025-03-20"}],
        "door": "taskforce",
    },
    "vrijstelling": {"status": "aangevraagd", "door": "ouders", "persoon": "ouder-1"},
    "uitschrijving": {"uitgeschreven_op": "2025-03-01", "door": "school"},
    "afronden": {"toelichting": "Gecontroleerd.", "door": "scp"},
    "taak_afgerond": {"taak_id": "T1", "toelichting": "Gedaan.", "door": "scp"},
    "toewijzen": {"rol": "school", "persoon": "mentor-7", "door": "school"},
    "document_toegevoegd": {"soort": "opp", "verwijzing": "dms://opp/1", "door": "school"},
    "gegevens_wijzigen": {"regio": "Zuid", "door": "school"},
    "leerplicht_interventie": {"soort": "gesprek", "toelichting": "Ouders aangesproken.", "door": "leerplicht"},
}
"""One payload per event that contract version 2 accepts, from a role that may send it."""
assert set(VALID) == set(EVENTS)

EVENTS_OF = {1: EVENTS_VERSIE_1, 2: EVENTS}
VALID_OF = {1: VALID_V1, 2: VALID}
CLOSING_OF = {1: ("passende_plek", "intrekken"), 2: ("afronden", "intrekken")}
CLOSING = CLOSING_OF[CONTRACT_VERSIE]
FORBIDDEN_FIELDS = ["bsn", "naam", "Door", "toelichting ", "__class__", "extra"]


@st.composite
def near_valid(draw: st.DrawFn, name: str, versie: int = CONTRACT_VERSIE) -> Any:
    """The contract's payload of ``name`` with one thing changed: a field, a missing or extra field, a wrapping."""
    payload: dict[str, Any] = dict(VALID_OF[versie][name])
    how = draw(st.sampled_from(["field", "field", "field", "drop", "extra", "wrap", "as_is"]))
    if how == "field":
        field = draw(st.sampled_from(sorted(EVENTS_OF[versie][name].model_fields)))
        payload[field] = draw(st.one_of(json_values, st.sampled_from(TRICKY_TEXT)))
    elif how == "drop" and payload:
        payload.pop(draw(st.sampled_from(sorted(payload))))
    elif how == "extra":
        payload[draw(st.one_of(st.sampled_from(FORBIDDEN_FIELDS), text))] = draw(json_values)
    elif how == "wrap":
        return draw(st.sampled_from([[payload], {"payload": payload}, [payload, payload], str(payload)]))
    return payload


@st.composite
def surely_refused(draw: st.DrawFn, name: str, versie: int = CONTRACT_VERSIE) -> Any:
    """A payload of ``name`` that the contract can never accept: not an object, or with a field it does not know."""
    if draw(st.booleans()):
        return draw(st.one_of(st.lists(json_values, max_size=3), scalars.filter(lambda v: v is not None)))
    payload = draw(near_valid(name, versie))
    if not isinstance(payload, dict):
        return payload
    return {**payload, draw(st.sampled_from(FORBIDDEN_FIELDS)): draw(json_values)}


CONTRACT_NAMES_OF = {versie: st.sampled_from(sorted(events)) for versie, events in EVENTS_OF.items()}
CONTRACT_NAMES = CONTRACT_NAMES_OF[CONTRACT_VERSIE]
"""The event names of the contract that new cases follow (version 2)."""
OTHER_NAMES = st.one_of(
    st.sampled_from(["", "status", "Melding", "melding ", "__init__", "signal_melding", "x" * 200, "melding\x00"]),
    st.text(max_size=80),
)
EVENT_NAMES_OF = {versie: st.one_of(names, names, OTHER_NAMES) for versie, names in CONTRACT_NAMES_OF.items()}
event_names = EVENT_NAMES_OF[CONTRACT_VERSIE]


def payloads_for(name: str, *, may_close: bool = True, versie: int = CONTRACT_VERSIE) -> st.SearchStrategy[Any]:
    """Any JSON value or a near-valid payload; for an event that closes a case, only refused ones unless asked."""
    if name in CLOSING_OF[versie] and not may_close:
        return surely_refused(name, versie)
    if name not in EVENTS_OF[versie]:
        return st.one_of(json_values, st.sampled_from(list(VALID_OF[versie].values())))
    return st.one_of(json_values, near_valid(name, versie), near_valid(name, versie))


def events(
    *, may_close: bool = True, names: st.SearchStrategy[str] | None = None, versie: int = CONTRACT_VERSIE
) -> st.SearchStrategy[Any]:
    """``(name, payload)`` of contract ``versie``: its names and arbitrary strings, each with any payload."""
    names = EVENT_NAMES_OF[versie] if names is None else names
    return names.flatmap(lambda name: st.tuples(st.just(name), payloads_for(name, may_close=may_close, versie=versie)))


def strings_in(value: Any) -> Iterator[str]:
    """Every string in a JSON value, keys included."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from strings_in(key)
            yield from strings_in(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from strings_in(item)


MAX_REASON = 700
"""No refusal reason is longer: at most three problems, each naming a (shortened) field and a rule."""
ENGLISH = re.compile(
    r"Input should|Field required|Extra inputs|validation error|Value error|String should|Invalid|\bor\b|"
    r"Traceback|Exception|Error\b"
)
QUOTED = re.compile(r"'[^']*'")


def assert_fit_to_show(reason: str, sent: Any) -> None:
    """A reason is Dutch, bounded and printable, and echoes no long value that was sent in."""
    assert reason, "empty reason"
    assert len(reason) <= MAX_REASON, f"reason of {len(reason)} characters"
    assert reason.isprintable(), f"control character in {reason!r}"
    # What the sender chose (an unknown field, an unknown event) is quoted and shortened; the rest is ours: Dutch.
    assert not ENGLISH.search(QUOTED.sub("''", reason)), f"not Dutch: {reason!r}"
    for value in strings_in(sent):
        if len(value) > 60:
            assert value[:61] not in reason, f"a value that was sent in is echoed: {reason!r}"


# ------------------------------------------------------------------------------------------------ pure rules


def _many_refusals(state: CaseState) -> CaseState:
    for number in range(rules.MAX_AFGEWEZEN + 5):
        state = rules.receive(state, "voortgang", {"toelichting": number}, LATER)
    return state


STATES: dict[str, CaseState] = {
    **{f"ready-for-{s.id}": s.setup() for s in SCENARIOS},  # every event has a state that accepts it
    "voortraject": v1.in_phase(0),
    "pupil-of-4": v1.opened(age=4),
    "from-abroad": v1.opened(uit_buitenland=True),
    "vo-outside-rotterdam": v1.in_phase(3, sector="VO", woont_in_rotterdam=False),
    "closed": v1.go(v1.in_phase(1), "intrekken", {"reden": "Ten onrechte gemeld."}),
    "refusals-at-the-bound": _many_refusals(v1.in_phase(1)),
}
"""Cases of version 1 (started before version 2, they keep its rules)."""


def _v2_visited(sector: str = "PO") -> CaseState:
    return v2.go(v2.to_taskforce(sector), "huisbezoek", {"samenvatting": "Verslag."}, "taskforce")


STATES_V2: dict[str, CaseState] = {
    "voortraject": v2.in_phase(0),
    "melding": v2.in_phase(1),
    "oudergesprek": v2.in_phase(2),
    "plan": v2.in_phase(3),
    "vo-plan": v2.in_phase(3, sector="VO"),
    "route-3.2-applied": v2.go(v2.on_route("3.2"), "aanmelding_andere_school", {"school_brin": "34CD"}, "school"),
    "route-3.4-vrijstelling": v2.go(v2.on_route("3.4"), "vrijstelling", {"status": "aangevraagd"}, "ouders"),
    "route-tlv": v2.on_route("3.3", "tlv_so"),
    "coordinator": v2.to_coordinator(),
    "taskforce": v2.to_taskforce(),
    "vo-taskforce-visited": _v2_visited("VO"),
    "taskforce-visited": _v2_visited(),
    "placed-elsewhere": v2.placed("ingeschreven_andere_school"),
    "ready-to-close": v2.ready_to_close(),
    "pupil-of-4": v2.opened(age=4),
    "from-abroad": v2.opened(uit_buitenland=True),
    "vo-outside-rotterdam": v2.in_phase(3, sector="VO", woont_in_rotterdam=False),
    "closed": v2.go(v2.ready_to_close(), "afronden", {"toelichting": "Klaar."}, "scp"),
    "refusals-at-the-bound": _many_refusals(v2.in_phase(1)),
}
"""Cases of version 2, at every phase and on every path (PO and VO, the Taskforce, phase 4)."""
STATES_OF = {1: STATES, 2: STATES_V2}
STATE_NAMES_OF = {versie: st.sampled_from(sorted(states)) for versie, states in STATES_OF.items()}
VERSIONS = [pytest.param(1, id="v1"), pytest.param(2, id="v2")]


def assert_serialisable(state: CaseState) -> None:
    """The state survives continue-as-new (JSON through the converter) and the status query can be answered."""
    assert CaseState.model_validate_json(state.model_dump_json()).model_dump() == state.model_dump()
    status = rules.status(state, LATER)
    assert CaseStatus.model_validate_json(status.model_dump_json()) == status
    rules.details_markdown(state, LATER)


def assert_the_case_goes_on(state: CaseState) -> None:
    """What the workflow's loop does after an event: fire the terms that are due, find when to wake up next."""
    later = rules.fire_due_terms(state, LATER)
    termijn = rules.next_term(later)
    if termijn is not None:
        rules.moment_of(later, termijn)
    weeks = rules.weeks_at_home(later, LATER)
    amsterdam_moment(later.startdatum + timedelta(weeks=weeks + 1), 0)
    assert_serialisable(later)


@pytest.mark.parametrize("versie", VERSIONS)
@settings(max_examples=1000 * SCALE, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_a_signal_with_any_name_and_payload_is_applied_or_refused_never_raised(
    versie: int, data: st.DataObject
) -> None:
    where = data.draw(STATE_NAMES_OF[versie], label="where")
    name, payload = data.draw(events(versie=versie), label="event")
    before = STATES_OF[versie][where]
    assert before.versie == versie

    after = rules.receive(before, name, payload, LATER)

    assert_serialisable(after)
    assert_the_case_goes_on(after)
    if after.afgewezen_totaal == before.afgewezen_totaal:  # accepted (or the same event again)
        assert name in EVENTS_OF[versie]
        rules.parse(name, payload, versie)  # only what the case's contract accepts is ever applied
        return
    assert after.afgewezen_totaal == before.afgewezen_totaal + 1
    assert len(after.afgewezen) == min(len(before.afgewezen) + 1, rules.MAX_AFGEWEZEN)
    refusal = after.afgewezen[-1]
    assert refusal.gebeurtenis == name or (name not in EVENTS_OF[versie] and len(refusal.gebeurtenis) <= 60)
    assert refusal.gebeurtenis.isprintable()
    assert_fit_to_show(refusal.reden, [name, payload])
    unchanged = {"afgewezen", "afgewezen_totaal"}
    assert after.model_dump(exclude=unchanged) == before.model_dump(exclude=unchanged)


@pytest.mark.parametrize("versie", VERSIONS)
@settings(max_examples=1000 * SCALE, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_an_update_is_refused_by_its_validator_or_applied_by_its_handler(versie: int, data: st.DataObject) -> None:
    """The update's two steps as the workflow runs them: what the validator lets through, the handler applies."""
    where = data.draw(STATE_NAMES_OF[versie], label="where")
    name, payload = data.draw(events(names=CONTRACT_NAMES_OF[versie], versie=versie), label="event")
    before = STATES_OF[versie][where]
    try:
        parsed = rules.parse(name, payload, versie)
        rules.check(before, name, parsed, LATER)  # the validator
    except rules.Weigering as refused:
        assert_fit_to_show(refused.reden, payload)
        assert refused.reden.startswith(f"{name}: ")
        return
    after = rules.apply(before, name, rules.parse(name, payload, versie), LATER)  # the handler: must not refuse now
    assert_serialisable(after)
    assert_the_case_goes_on(after)
    assert after.afgewezen == before.afgewezen


# ---------------------------------------------------------------------------------------------------- intake

TODAY = date(2025, 3, 10)
ROW = {
    "leerling_ref": "LL-0042",
    "geboortedatum": "2015-06-01",
    "sector": "PO",
    "regio": "Noord",
    "school_brin": "12AB",
    "startdatum": "2025-02-03",
    "fase": 1,
    "woont_in_rotterdam": True,
    "uit_buitenland": False,
}
ROW_FIELDS = sorted(Aanmelding.model_fields)


@st.composite
def intake_rows(draw: st.DrawFn) -> Any:
    """An intake row: any JSON object, or the valid row with one field changed, dropped or added."""
    if draw(st.integers(0, 3)) == 0:
        return draw(st.dictionaries(st.one_of(st.sampled_from(ROW_FIELDS), text), json_values, max_size=6))
    row: dict[str, Any] = dict(ROW)
    how = draw(st.sampled_from(["field", "field", "drop", "extra"]))
    if how == "field":
        row[draw(st.sampled_from(ROW_FIELDS))] = draw(st.one_of(json_values, st.sampled_from(TRICKY_TEXT)))
    elif how == "drop":
        row.pop(draw(st.sampled_from(sorted(row))))
    else:
        row[draw(st.one_of(st.sampled_from(FORBIDDEN_FIELDS), text))] = draw(json_values)
    return row


@settings(max_examples=1000 * SCALE, deadline=None)
@given(row=intake_rows())
def test_intake_validation_refuses_any_row_with_a_value_error_naming_a_field(row: dict[str, Any]) -> None:
    try:
        aanmelding = intake.validate(row, TODAY)
    except ValueError as refused:
        message = str(refused)
        assert re.match(r"veld '[^']*'", message), message
        assert_fit_to_show(message, row)
        return
    assert aanmelding.startdatum <= TODAY
    Aanmelding.model_validate_json(aanmelding.model_dump_json())


CSV_HEADER = ",".join(ROW)


def csv_cell(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


@st.composite
def intake_files(draw: st.DrawFn) -> tuple[str, bytes]:
    """(suffix, content): bytes of any kind, or text close to a CSV or JSON-lines intake file."""
    kind = draw(st.sampled_from(["bytes", "text", "csv", "jsonl", "deep", "huge_number", "huge_cell"]))
    suffix = draw(st.sampled_from([".csv", ".jsonl", ".json", ".ndjson", ".txt", ".CSV"]))
    if kind == "bytes":
        return suffix, draw(st.binary(max_size=300))
    if kind == "text":
        return suffix, draw(st.text(max_size=300)).encode("utf-8", "surrogatepass")
    if kind == "csv":
        rows = draw(st.lists(st.lists(st.one_of(text, st.sampled_from([";", ",", '"', '""', "\n"])), max_size=10)))
        header = draw(st.sampled_from([CSV_HEADER, CSV_HEADER.replace(",", ";"), ""]))
        lines = [header, *(draw(st.sampled_from([",", ";"])).join(row) for row in rows)]
        return ".csv", "\n".join(lines).encode("utf-8", "surrogatepass")
    if kind == "jsonl":
        lines = draw(st.lists(st.one_of(intake_rows(), json_values), max_size=6))
        body = "\n".join(json.dumps(line, default=str) for line in lines)
        return ".jsonl", body.encode("utf-8", "surrogatepass")
    if kind == "deep":
        depth = draw(st.sampled_from([10, 1000, 100_000]))
        return ".jsonl", b"[" * depth + b"]" * draw(st.sampled_from([0, depth])) + b"\n"
    if kind == "huge_number":
        return ".jsonl", b'{"fase": ' + b"9" * draw(st.sampled_from([20, 5000])) + b"}\n"
    cell = "x" * draw(st.sampled_from([1000, 200_000]))
    return ".csv", f"{CSV_HEADER}\n{cell},2015-06-01,PO,Noord,12AB,2025-02-03,1,ja,nee\n".encode()


@settings(max_examples=300 * SCALE, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(file=intake_files())
def test_intake_of_any_file_reports_each_row_or_stops_with_exit_code_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], file: tuple[str, bytes]
) -> None:
    suffix, content = file
    path = tmp_path / f"aanmeldingen{suffix}"
    path.write_bytes(content)

    rows: list[intake.Row] | None
    try:
        rows = list(intake.read_rows(path))
    except (OSError, UnicodeDecodeError, csv.Error):
        rows = None  # what main() reports as an unreadable file, with exit code 2
    for row in rows or []:
        assert (row.fields is None) != (row.problem is None)
        assert row.fields is None or isinstance(row.fields, dict)

    out = io.StringIO()
    code = asyncio.run(intake.main([str(path), "--dry-run"], out=out))

    errors = capsys.readouterr().err
    assert "Traceback" not in errors
    if rows is None:
        assert code == 2 and "Bestand niet te lezen" in errors
        return
    report = out.getvalue()
    assert report.rstrip().splitlines()[-1].startswith("Samenvatting:")
    refused = "GEWEIGERD" in report
    assert code == (1 if refused or not rows else 0), report
    for line in report.splitlines()[:-1]:
        assert line.startswith("regel "), line  # a row's own text never starts a line of the report


# ------------------------------------------------------------------------------------------ codec server (HTTP)

TOKEN = "fuzz-token-codec-server"
UI_ORIGIN = "http://localhost:8233"
KEY = os.urandom(32)


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def plain_payloads() -> dict[str, Any]:
    payloads = Payloads(payloads=pydantic_data_converter.payload_converter.to_payloads([VALID["voortgang"]]))
    return json_format.MessageToDict(payloads)


def encrypted_payload() -> Payload:
    payloads = Payloads(payloads=pydantic_data_converter.payload_converter.to_payloads([VALID["voortgang"]]))
    asyncio.run(EncryptionCodec([("k1", KEY)]).encode_wrapper(payloads))
    return payloads.payloads[0]


ENCRYPTED = encrypted_payload()


@st.composite
def tampered(draw: st.DrawFn) -> dict[str, Any]:
    """A real encrypted payload, then flipped, cut, relabelled or stripped of its key id."""
    data = bytearray(ENCRYPTED.data)
    metadata = {key: b64(value) for key, value in ENCRYPTED.metadata.items()}
    how = draw(st.sampled_from(["flip", "cut", "relabel", "no_key_id", "garbage_key_id", "append"]))
    if how == "flip":
        index = draw(st.integers(0, len(data) - 1))
        data[index] ^= draw(st.integers(1, 255))
    elif how == "cut":
        data = data[: draw(st.integers(0, len(data) - 1))]
    elif how == "relabel":
        metadata[KEY_ID_METADATA] = b64(draw(st.sampled_from([b"k2", b"K1", b"k1 ", b""])))
    elif how == "no_key_id":
        del metadata[KEY_ID_METADATA]
    elif how == "garbage_key_id":
        metadata[KEY_ID_METADATA] = b64(draw(st.binary(max_size=2000)))
    else:
        data += draw(st.binary(min_size=1, max_size=40))
    return {"metadata": metadata, "data": b64(bytes(data))}


payload_like = st.one_of(
    tampered(),
    st.fixed_dictionaries(
        {
            "metadata": st.dictionaries(
                st.one_of(st.sampled_from(["encoding", KEY_ID_METADATA]), text),
                st.one_of(
                    st.binary(max_size=40).map(b64),
                    st.sampled_from([b64(ENCODING), b64(b"json/plain"), b64(b"binary/null"), "!!", "", "===="]),
                    json_values,
                ),
                max_size=3,
            ),
            "data": st.one_of(st.binary(max_size=200).map(b64), text, json_values),
        },
        optional={"externalPayloads": json_values},
    ),
)


@st.composite
def bodies(draw: st.DrawFn) -> bytes:
    kind = draw(st.sampled_from(["garbage", "json", "shape", "payloads", "payloads", "valid", "deep", "number"]))
    if kind == "garbage":
        return draw(st.binary(max_size=500))
    if kind == "json":
        return json.dumps(draw(json_values)).encode()
    if kind == "shape":
        return json.dumps(
            {"payloads": draw(json_values), **draw(st.dictionaries(text, json_values, max_size=2))}
        ).encode()
    if kind == "payloads":
        return json.dumps({"payloads": draw(st.lists(payload_like, max_size=4))}).encode()
    if kind == "valid":
        return json.dumps(plain_payloads()).encode()
    if kind == "deep":
        depth = draw(st.sampled_from([50, 5000, 200_000]))
        return b'{"payloads": ' + b"[" * depth + b"]" * draw(st.sampled_from([0, depth])) + b"}"
    return b'{"payloads": [{"data": ' + b"9" * draw(st.sampled_from([30, 5000])) + b"}]}"


PATHS = ["/encode", "/decode", f"/t/{TOKEN}/encode", f"/t/{TOKEN}/decode", "/health", "/t/fout/decode", "/t//decode"]
path_strategy = st.one_of(
    st.sampled_from(PATHS),
    st.sampled_from(PATHS),
    st.sampled_from(PATHS),
    st.sampled_from(["/", "//decode", "/decode/", "/t/", f"/t/{TOKEN}", f"/t/{TOKEN}/", "/DECODE", "/../decode"]),
    st.text(max_size=40).map(lambda t: "/" + quote(t, safe="/")),
    st.sampled_from(["/t/", "/"]).flatmap(lambda p: st.text(max_size=30).map(lambda t: p + quote(t) + "/decode")),
)
header_value = st.one_of(  # what an HTTP client lets through: no control characters, no surrounding spaces
    st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), max_size=60),
    st.binary(max_size=40).map(lambda b: bytes(c for c in b if 0x21 <= c != 0x7F)),
    st.just("x" * 4000),
)
headers_strategy = st.fixed_dictionaries(
    {},
    optional={
        "Authorization": st.one_of(
            st.sampled_from([f"Bearer {TOKEN}", f"bearer {TOKEN}", f"Bearer {TOKEN}x", "Bearer", TOKEN, ""]),
            header_value,
        ),
        "Origin": st.one_of(
            st.sampled_from([UI_ORIGIN, UI_ORIGIN + "/", "null", "https://kwaad.example"]), header_value
        ),
        "Content-Type": st.one_of(
            st.sampled_from(["application/json", "text/plain", "application/x-protobuf"]), header_value
        ),
        "X-Namespace": header_value,
        "Content-Encoding": st.sampled_from(["gzip", "deflate", "identity", "br", "zstd", "onbekend"]),
        "Access-Control-Request-Method": st.sampled_from(["POST", "GET", "DELETE"]),
    },
)
methods = st.sampled_from(["POST"] * 6 + ["GET", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD", "PROPFIND", "FOO"])
requests = st.tuples(methods, path_strategy, headers_strategy, bodies())
Request = tuple[str, str, dict[str, Any], bytes]
REQUESTS = 2000 * SCALE
BATCH = 10
NO_SHRINKING = (Phase.explicit, Phase.reuse, Phase.generate)


@pytest.fixture(scope="module")
async def codec_server() -> AsyncIterator[str]:
    server = TestServer(build_app(EncryptionCodec([("k1", KEY)]), TOKEN, UI_ORIGIN), host="127.0.0.1")
    await server.start_server()
    try:
        yield str(server.make_url(""))
    finally:
        await server.close()


def assert_answer_is_fit(method: str, response: httpx.Response) -> None:
    assert response.status_code < 500, response.text[:300]
    assert "Traceback" not in response.text and 'File "' not in response.text
    if "X-Content-Type-Options" not in response.headers:
        # Not an answer of the app: aiohttp's HTTP parser refused the request itself (a Content-Encoding it cannot
        # decode, a malformed header), with a short plain-text 400 and nothing of the server's insides.
        assert response.status_code == 400, response.text[:300]
        assert len(response.content) < 1000
        return
    if method == "HEAD" or response.status_code == 204:
        return
    body = response.json()
    if response.status_code >= 400:
        assert set(body) == {"fout"}, body
        reason = body["fout"]
        assert len(reason) <= 500 and reason.isprintable(), reason
        assert not ENGLISH.search(QUOTED.sub("''", reason)), reason
    else:
        assert set(body) <= {"payloads", "status"}, body


async def still_serving(base_url: str) -> None:
    async with httpx.AsyncClient(base_url=base_url, timeout=10) as http:
        assert (await http.get("/health")).json() == {"status": "ok"}
        auth = {"Authorization": f"Bearer {TOKEN}"}
        encoded = await http.post("/encode", json=plain_payloads(), headers=auth)
        decoded = await http.post("/decode", json=encoded.json(), headers=auth)
        assert decoded.json() == plain_payloads()


async def test_the_codec_server_answers_any_request_with_a_2xx_or_a_dutch_4xx(codec_server: str) -> None:
    # Hypothesis draws the requests in a thread of its own (it does not run coroutines); the event loop sends each
    # batch at once. A failure names the request, so the batch is not shrunk (that would resend it many times).
    loop = asyncio.get_running_loop()
    answers: Counter[int] = Counter()

    async def send(http: httpx.AsyncClient, batch: list[Request]) -> None:
        responses = await asyncio.gather(
            *(http.request(method, path, headers=headers, content=body) for method, path, headers, body in batch)
        )
        for (method, path, headers, body), response in zip(batch, responses, strict=True):
            try:
                assert_answer_is_fit(method, response)
            except AssertionError as error:
                raise AssertionError(f"{method} {path} {headers} {body[:300]!r}: {error}") from None
            answers[response.status_code] += 1

    async with httpx.AsyncClient(base_url=codec_server, timeout=10) as http:

        @settings(max_examples=REQUESTS // BATCH, deadline=None, database=None, phases=NO_SHRINKING)
        @given(batch=st.lists(requests, min_size=BATCH, max_size=BATCH))
        def send_batch(batch: list[Request]) -> None:
            asyncio.run_coroutine_threadsafe(send(http, batch), loop).result(timeout=60)

        await asyncio.wait_for(asyncio.to_thread(send_batch), timeout=300)

    assert answers.total() == REQUESTS
    assert {200, 400, 401, 403, 404, 405}.issubset(answers), answers  # every part of the server was reached
    await still_serving(codec_server)


@st.composite
def payloads_to_decode(draw: st.DrawFn) -> Payload:
    """A payload as a worker may receive one: tampered ciphertext, or any label and key id on any bytes."""
    if draw(st.booleans()):
        forged = draw(tampered())
        return Payload(
            metadata={key: base64.b64decode(value) for key, value in forged["metadata"].items()},
            data=base64.b64decode(forged["data"]),
        )
    metadata = draw(
        st.dictionaries(
            st.sampled_from(["encoding", KEY_ID_METADATA, "anders"]),
            st.one_of(st.sampled_from([ENCODING, b"json/plain", b"k1"]), st.binary(max_size=80)),
        )
    )
    return Payload(metadata=metadata, data=draw(st.binary(max_size=100)))


@settings(max_examples=500 * SCALE, deadline=None)
@given(payload=payloads_to_decode())
def test_a_worker_codec_marks_what_it_cannot_decrypt_and_reading_the_mark_gives_the_same_error(
    payload: Payload,
) -> None:
    """The codec refuses with a DecryptionError (bounded, naming no key id it does not know the form of); in the
    worker's mode it never fails the decode of an activation, and reading the value gives that same error."""
    strict = EncryptionCodec([("k1", KEY)])
    marking = EncryptionCodec([("k1", KEY)], mark_undecryptable=True)
    marked = asyncio.run(marking.decode([payload]))
    try:
        decoded = asyncio.run(strict.decode([payload]))
    except DecryptionError as refused:
        message = str(refused)
        assert len(message) <= 500 and message.isprintable(), message
        with pytest.raises(DecryptionError) as read:
            ProtectedPayloadConverter().from_payloads(marked, [dict])
        assert str(read.value) == message
    else:
        assert marked == decoded


async def test_a_body_at_the_size_limit_is_encoded_and_one_byte_more_is_a_413(codec_server: str) -> None:
    auth = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
    frame = b'{"payloads": [{"data": ""}]}'
    data = b64(os.urandom((MAX_BODY_BYTES - len(frame)) * 3 // 4))
    body = frame.replace(b'""', f'"{data}"'.encode())
    body += b" " * (MAX_BODY_BYTES - len(body))
    assert len(body) == MAX_BODY_BYTES

    async with httpx.AsyncClient(base_url=codec_server, timeout=60) as http:
        at_limit = await http.post("/encode", content=body, headers=auth)
        over = await http.post("/encode", content=body + b" ", headers=auth)

    assert at_limit.status_code == 200
    assert over.status_code == 413
    assert "body te groot" in over.json()["fout"]
    await still_serving(codec_server)


REQUEST_LINES = [
    b"POST /decode HTTP/1.1",
    f"POST /t/{TOKEN}/decode HTTP/1.1".encode(),
    b"GET /health HTTP/1.1",
    b"GARBAGE",
    b"POST /t/\xff\xfe/decode HTTP/1.1",
    b"POST * HTTP/1.1",
    b"POST http://elders/decode HTTP/1.1",
    b"POST /decode HTTP/9.9",
]
raw_headers = st.lists(
    st.one_of(
        st.sampled_from(
            [
                f"Authorization: Bearer {TOKEN}".encode(),
                b"Authorization: Bearer \xff\xfe",
                b"Content-Length: 2",
                b"Content-Length: -1",
                b"Content-Length: 99999999999999999999",
                b"Transfer-Encoding: chunked",
                b"Content-Encoding: gzip",
                b"Host: 127.0.0.1",
                b"Origin: \x80",
                b": leeg",
                b"X: " + b"a" * 9000,
            ]
        ),
        st.binary(max_size=60).map(lambda b: b.replace(b"\r\n", b"")),
    ),
    max_size=5,
)


async def exchange(host: str, port: int, request: bytes) -> bytes:
    """Send raw bytes, close our side, and read what the server says (if anything) before it closes."""
    reader, writer = await asyncio.open_connection(host, port)
    try:
        writer.write(request)
        await writer.drain()
        with contextlib.suppress(OSError):
            writer.write_eof()
        return await asyncio.wait_for(reader.read(), timeout=5)
    except (ConnectionError, asyncio.IncompleteReadError):
        return b""
    finally:
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()


async def test_malformed_http_gets_a_4xx_or_a_closed_connection_and_the_server_keeps_answering(
    codec_server: str,
) -> None:
    url = httpx.URL(codec_server)
    host, port = url.host, url.port
    assert port is not None
    loop = asyncio.get_running_loop()

    @settings(max_examples=150 * SCALE, deadline=None, database=None)
    @given(
        line=st.one_of(st.sampled_from(REQUEST_LINES), st.binary(max_size=80)),
        headers=raw_headers,
        body=st.binary(max_size=200),
    )
    def send_raw(line: bytes, headers: list[bytes], body: bytes) -> None:
        request = b"\r\n".join([line, *headers, b"", body])
        answer = asyncio.run_coroutine_threadsafe(exchange(host, port, request), loop).result(timeout=30)
        if answer:
            status_line = answer.split(b"\r\n", 1)[0]
            assert re.match(rb"HTTP/1\.[01] [1-4]\d\d ", status_line), answer[:300]
            assert b"Traceback" not in answer

    await asyncio.wait_for(asyncio.to_thread(send_raw), timeout=240)
    await still_serving(codec_server)


def test_the_check_on_reasons_catches_english_and_echoed_values() -> None:
    """The check that every fuzz test relies on can fail: an English message or an echoed value is caught."""
    with pytest.raises(AssertionError, match="not Dutch"):
        assert_fit_to_show("veld 'x': Input should be a valid string", {})
    with pytest.raises(AssertionError, match="echoed"):
        assert_fit_to_show("voortgang: veld 'x': " + "y" * 61, {"x": "y" * 61})
    with pytest.raises(AssertionError, match="control character"):
        assert_fit_to_show("voortgang: veld 'a\x00'", {})
    assert_fit_to_show("route: veld 'route': moet een van '3.1' of '3.2' zijn", {"route": "3.5"})
