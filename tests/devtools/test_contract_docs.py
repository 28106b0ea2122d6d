"""The contract's documentation is generated from the models and kept true: the committed docs are current, every
event is documented with its fields, and every schema file accepts what the model accepts and refuses what it
refuses."""

from __future__ import annotations

import io
import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator  # type: ignore[import-untyped]
from pydantic import BaseModel, ValidationError

from devtools import contract_docs
from workflows import rules
from workflows.contract import EVENTS, EVENTS_VERSIE_1, FASE_NAMEN, Aanmelding, CaseStatus, Door, Sector
from workflows.events_v2 import check_door
from workflows.work import FULFILLED_BY

ROOT = contract_docs.PROJECT_ROOT
CONTRACT = (ROOT / contract_docs.CONTRACT_MD).read_text(encoding="utf-8")


def _status_payload() -> dict[str, Any]:
    """A real status, as the query returns it, of a case that has a timeline and open tasks."""
    now = datetime(2026, 1, 19, 9, 0, tzinfo=UTC)
    state = rules.open_case(
        Aanmelding.model_validate(contract_docs.EXAMPLE_AANMELDING), case_id="c", workflow_id="w", now=now
    )
    state = rules.receive(state, "route", {"route": "3.1"}, now)  # refused: lands in afgewezen
    payload: dict[str, Any] = rules.status(state, now).model_dump(mode="json")
    assert payload["tijdlijn"] and payload["open_taken"] and payload["afgewezen"]
    return payload


PAYLOADS: dict[str, tuple[type[BaseModel], dict[str, Any]]] = {
    "Aanmelding": (Aanmelding, contract_docs.EXAMPLE_AANMELDING),
    **{name: (model, contract_docs.EXAMPLES[name]) for name, model in EVENTS.items()},
    "CaseStatus": (CaseStatus, _status_payload()),
}


def validator(stem: str) -> Draft202012Validator:
    schema = json.loads((ROOT / contract_docs.SCHEMA_DIR / f"{stem}.json").read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


def model_accepts(model: type[BaseModel], payload: dict[str, Any]) -> bool:
    try:
        model.model_validate(payload)
    except ValidationError:
        return False
    return True


def section(name: str) -> str:
    """The text of one event's section in docs/contract.md."""
    match = re.search(rf"^### {re.escape(name)}\n(.*?)(?=^##)", CONTRACT, flags=re.S | re.M)
    assert match, f"no section '### {name}' in docs/contract.md"
    return match.group(1)


# --------------------------------------------------------------------------------------------- docs are current


def test_committed_docs_are_what_the_models_produce():
    out = io.StringIO()
    code = contract_docs.main(["--check"], out=out)
    assert code == 0, out.getvalue()


def test_check_names_stale_files_and_writing_brings_them_up_to_date(tmp_path: Path):
    out = io.StringIO()
    assert contract_docs.main(["--root", str(tmp_path)], out=out) == 0
    schema_dir = tmp_path / contract_docs.SCHEMA_DIR
    (tmp_path / contract_docs.CONTRACT_MD).write_text(CONTRACT.replace("### route\n", "### koers\n"), encoding="utf-8")
    (schema_dir / "melding.json").unlink()
    (schema_dir / "oude_gebeurtenis.json").write_text("{}", encoding="utf-8")

    out = io.StringIO()
    assert contract_docs.main(["--check", "--root", str(tmp_path)], out=out) == 1
    report = out.getvalue()
    for stale in ("docs/contract.md", "docs/schema/melding.json", "docs/schema/oude_gebeurtenis.json"):
        assert stale in report
    assert "docs/schema/route.json" not in report

    assert contract_docs.main(["--root", str(tmp_path)], out=io.StringIO()) == 0
    assert not (schema_dir / "oude_gebeurtenis.json").exists()
    assert contract_docs.main(["--check", "--root", str(tmp_path)], out=io.StringIO()) == 0
    assert (tmp_path / contract_docs.CONTRACT_MD).read_text(encoding="utf-8") == CONTRACT


def test_generation_is_deterministic():
    assert contract_docs.outputs() == contract_docs.outputs()


def test_a_field_without_description_is_refused():
    class Nieuw(BaseModel):
        onbeschreven: int

    with pytest.raises(contract_docs.UndocumentedField, match=r"Nieuw\.onbeschreven"):
        contract_docs.schema_of(Nieuw, name="Nieuw", kind="start")


# ------------------------------------------------------------------------------------- what contract.md says


def test_where_a_case_lives_is_documented():
    for fact in (
        "`thuiszitters`",
        "`THUISZITTERS_TASK_QUEUE`",
        "`ThuiszitterWorkflow`",
        "`thuiszitter-<leerling_ref>`",
    ):
        assert fact in CONTRACT
    assert "type `Afgewezen`" in CONTRACT and "`status.afgewezen`" in CONTRACT


@pytest.mark.parametrize("name", list(EVENTS))
def test_every_event_is_documented_with_its_fields(name: str):
    text = section(name)
    own_fields = [field for field in EVENTS[name].model_fields if field not in contract_docs.COMMON_EVENT_FIELDS]
    for field in own_fields:
        assert re.search(rf"^\| `{field}` \|", text, flags=re.M), f"{name}: field {field} missing from its table"
    if not own_fields:
        assert "No fields." in text
    assert "**Who (`door`):**" in text and "**Needs:**" in text and "**Does:**" in text
    assert f"schema/{name}.json" in text
    assert f"[`{name}`](#{name})" in CONTRACT  # in the overview table


def test_every_start_and_status_field_is_documented():
    for model in (Aanmelding, CaseStatus):
        for field in model.model_fields:
            assert re.search(rf"^\| `{field}` \|", CONTRACT, flags=re.M), f"{model.__name__}.{field} undocumented"
    for common in contract_docs.COMMON_EVENT_FIELDS:
        assert re.search(rf"^\| `{common}` \|", CONTRACT, flags=re.M)


def _table(heading: str) -> list[list[str]]:
    """The rows of the first table under ``## heading``, as lists of cells."""
    match = re.search(rf"^## {re.escape(heading)}\n(.*?)(?=^## )", CONTRACT, flags=re.S | re.M)
    assert match, f"no section '## {heading}' in docs/contract.md"
    rows = [line for line in match.group(1).splitlines() if line.startswith("| ")]
    return [[cell.strip() for cell in row.strip("|").split(" | ")] for row in rows[2:]]


PERMISSIONS = _table("Who may send which event")


def _roles(cell: str) -> set[str]:
    if cell == "any role":
        return {door.value for door in Door}
    if cell == "none":
        return set()
    return set(re.findall(r"`([a-z_]+)`", cell))


def _rows_of(event: str) -> dict[str, tuple[set[str], set[str]]]:
    return {when: (_roles(po), _roles(vo)) for name, when, po, vo in PERMISSIONS if name == f"[`{event}`](#{event})"}


def test_every_event_is_in_the_permission_table():
    listed = {re.sub(r"^\[`(.+?)`\].*$", r"\1", row[0]) for row in PERMISSIONS}
    assert listed == set(EVENTS)


def test_the_permission_table_shows_the_rows_that_depend_on_the_payload():
    # The rows of CONTRACT.md version 2 that the payload or the pupil decides.
    assert _rows_of("opschalen") == {
        "`niveau` `coordinator`": ({"school", "scp"}, set()),
        "`niveau` `taskforce`": ({"coordinator"}, {"koersloket"}),
    }
    route = _rows_of("route")
    assert route["`route` `3.4`"] == ({"school", "scp", "wijkteam"}, {"school", "koersloket", "wijkteam"})
    assert route["`route` `3.1`, `3.2` or `3.3`"] == ({"school", "scp"}, {"school", "koersloket"})
    assert _rows_of("vrijstelling") == {
        "`status` `aangevraagd`": ({"ouders", "leerplicht"}, {"ouders", "leerplicht"}),
        "`status` `verleend` or `afgewezen`": ({"leerplicht"}, {"leerplicht"}),
    }
    assert _rows_of("afronden") == {
        "": ({"scp"}, {"koersloket"}),
        "pupil from abroad (`uit_buitenland`)": ({"leerplicht_absoluut_verzuim"}, {"leerplicht_absoluut_verzuim"}),
    }
    [(when, po, vo)] = [row[1:] for row in PERMISSIONS if row[0] == "[`taak_afgerond`](#taak_afgerond)"]
    assert when == "" and po == vo and "role of the open task" in po
    assert _rows_of("voortgang") == {"": ({d.value for d in Door}, {d.value for d in Door})}


@pytest.mark.parametrize("sector", list(Sector))
def test_the_permission_table_is_what_the_rules_enforce(sector: Sector):
    aanmelding = Aanmelding.model_validate(
        {**contract_docs.EXAMPLE_AANMELDING, "sector": sector.value, "geboortedatum": "2013-05-14"}
    )
    state = rules.open_case(aanmelding, case_id="c", workflow_id="w", now=datetime(2026, 1, 19, 9, 0, tzinfo=UTC))
    column = 0 if sector is Sector.PO else 1
    for name in EVENTS:
        if name == "taak_afgerond":
            continue
        variants = contract_docs.PERMISSION_VARIANTS.get(name, [("", [{}])])
        rows = _rows_of(name)
        for when, payloads in variants:
            allowed = rows[when][column]
            for payload in payloads:
                for door in Door:
                    event = EVENTS[name].model_validate({**contract_docs.EXAMPLES[name], **payload, "door": door.value})
                    try:
                        check_door(state, name, event)
                    except rules.Weigering as refusal:
                        assert door.value not in allowed, f"{name} {when} {door}: refused, but in the table"
                        assert "mag dit niet doen" in refusal.reden
                    else:
                        assert door.value in allowed, f"{name} {when} {door}: accepted, but not in the table"


def test_every_task_and_what_finishes_it_is_documented():
    rows = {row[0]: row[1] for row in _table("Tasks and what finishes them")}
    assert set(rows) == {f"`{taak}`" for taak in FULFILLED_BY}
    for taak, events in FULFILLED_BY.items():
        for event in events:
            assert f"`{event}`" in rows[f"`{taak}`"]


def test_version_1_cases_are_documented():
    match = re.search(r"^## Version 1 cases\n(.*)", CONTRACT, flags=re.S | re.M)
    assert match
    text = match.group(1)
    for name in EVENTS:
        assert f"`{name}`" in text
    assert "contract-v2" in text and "free text" in text
    assert "| `opschalen` | `reden_code`:" in text
    assert set(EVENTS_VERSIE_1) < set(EVENTS)


def test_refusal_examples_are_for_version_2_and_refuse_a_role():
    examples = contract_docs._refusal_examples()
    assert all("door" in payload for _, payload, _ in examples[1:])
    assert ("melding", {"gemeld_bij_leerplicht": True}, "melding: veld 'door': ontbreekt (verplicht)") in examples
    role = [reden for name, _, reden in examples if name == "startdatum_correctie"]
    assert role == [
        "startdatum_correctie: de school mag dit niet doen; dat doet Leerplicht of Leerplicht absoluut verzuim"
    ]
    assert role[0] in CONTRACT


def test_every_search_attribute_is_documented():
    from workflows.search_attributes import ALL_KEYS

    for key in ALL_KEYS:
        assert re.search(rf"^\| `{key.name}` \| (Int|Keyword|Bool) \| \S", CONTRACT, flags=re.M), key.name


# ------------------------------------------------------------------------------------ schemas match the models


def test_there_is_a_schema_file_for_every_payload_and_no_other():
    files = {path.stem for path in (ROOT / contract_docs.SCHEMA_DIR).glob("*.json")}
    assert files == {"Aanmelding", "CaseStatus", *EVENTS}


@pytest.mark.parametrize("stem", list(PAYLOADS))
def test_schema_accepts_a_good_payload(stem: str):
    model, payload = PAYLOADS[stem]
    assert model_accepts(model, payload)
    errors = [error.message for error in validator(stem).iter_errors(payload)]
    assert errors == []


def _bad_variants(stem: str, model: type[BaseModel], good: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """Payloads the model refuses for a reason a JSON Schema can express."""
    schema = json.loads((ROOT / contract_docs.SCHEMA_DIR / f"{stem}.json").read_text(encoding="utf-8"))
    variants: list[tuple[str, dict[str, Any]]] = []
    for field in schema.get("required", []):
        variants.append((f"without {field}", {k: v for k, v in good.items() if k != field}))
    defs = schema.get("$defs", {})
    for field, node in schema["properties"].items():
        parts = [node, *node.get("anyOf", [])]
        is_object = any(defs.get(part.get("$ref", "").rsplit("/", 1)[-1], {}).get("type") == "object" for part in parts)
        # An object is the wrong type for most fields; for an object field (whose fields may all have defaults),
        # a number is.
        variants.append((f"{field} of the wrong type", {**good, field: 12345 if is_object else {"onbekend": 1}}))
        if any(part.get("format") == "date" for part in [node, *node.get("anyOf", [])]):
            variants.append((f"{field} not a real date", {**good, field: "2026-02-30"}))
    if schema.get("additionalProperties") is False:
        variants.append(("with an unknown field", {**good, "onbekend_veld": True}))
    return variants


@pytest.mark.parametrize("stem", list(PAYLOADS))
def test_schema_refuses_what_the_model_refuses(stem: str):
    model, good = PAYLOADS[stem]
    check = validator(stem)
    variants = _bad_variants(stem, model, good)
    assert variants
    for why, payload in variants:
        assert not model_accepts(model, payload), f"{stem} {why}: the model accepts it"
        assert not check.is_valid(payload), f"{stem} {why}: the schema accepts it"


def test_aanmelding_schema_refuses_an_unknown_sector_and_a_bad_reference():
    check = validator("Aanmelding")
    good = contract_docs.EXAMPLE_AANMELDING
    assert not check.is_valid({**good, "sector": "MBO"})
    assert not check.is_valid({**good, "leerling_ref": "Jan de Vries"})
    assert not check.is_valid({**good, "fase": 2})


# ------------------------------------------------------------------------------------------------- glossary

GLOSSARY_TERMS = [
    "thuiszitter",
    "leerplicht",
    "leerplichtambtenaar",
    "absoluut verzuim",
    "LBA",
    "SCP",
    "PPO Rotterdam",
    "Koers VO",
    "Koersloket",
    "Kindkans",
    "hulpvraag",
    "SISA",
    "OPP",
    "handelingsdeel",
    "TLV",
    "SBO",
    "SO",
    "Centrale AanmeldRoute",
    "wijkteam",
    "SMW",
    "zorgplicht",
    "regie / regiehouder",
    "vrijstelling (5 onder a)",
    "SMA-arts",
    "VSO",
    "Taskforce Thuiszitters",
    "Kerngroep",
    "twaalfwekencheck",
    "beoordeling",
    "plaatsingsoverleg",
    "schoolbestuur",
    "uitschrijving",
    "afronden",
    "huisbezoek",
    "ouderfunctionaris",
    "BRIN",
    "fase",
]


def test_glossary_explains_each_domain_term_once():
    glossary = (ROOT / "docs" / "glossary.md").read_text(encoding="utf-8")
    defined = re.findall(r"^\| \*\*(.+?)\*\* \|", glossary, flags=re.M)
    for term in GLOSSARY_TERMS:
        assert defined.count(term) == 1, f"{term!r} defined {defined.count(term)} times"
    for naam in FASE_NAMEN.values():
        assert naam.split(" ")[0] in glossary
