"""The contract's documentation, generated from the models: ``docs/contract.md`` and ``docs/schema/*.json``.

    python -m devtools.contract_docs           write the docs
    python -m devtools.contract_docs --check   exit 1, naming the stale files, when the docs differ

Every payload's JSON Schema comes from pydantic (``model_json_schema()``); field descriptions that the models do
not carry themselves are added from :data:`FIELD_DOCS`, and every field must have one, so a field added to a model
cannot go undocumented. The prose about what each event needs and does (from :mod:`workflows.rules` and
``PROCEDURE.md``) lives in :data:`EVENT_RULES`, so the whole of ``docs/contract.md`` is generated and ``--check``
keeps it true. The output is deterministic: the same models give the same bytes.
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode

from thuiszitters.settings import DEFAULT_TASK_QUEUE
from workflows import rules
from workflows import search_attributes as sa
from workflows.contract import (
    EVENTS,
    FASE_NAMEN,
    LEERLING_REF_PATTERN,
    WORKFLOW_ID_PREFIX,
    WORKFLOW_TYPE,
    Aanmelding,
    CaseStatus,
)
from workflows.policy import DEFAULT_BELEID
from workflows.thuiszitter import REFUSAL_TYPE

PROJECT_ROOT = Path(__file__).resolve().parent.parent
CONTRACT_MD = Path("docs/contract.md")
SCHEMA_DIR = Path("docs/schema")
JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
TASK_QUEUE_VARIABLE = "THUISZITTERS_TASK_QUEUE"
START_REFUSAL_TYPE = "OngeldigeAanmelding"


class UndocumentedField(ValueError):
    """A model field without a description: add ``Field(description=...)`` or an entry in ``FIELD_DOCS``."""


# ------------------------------------------------------------------------------------------ hand-written prose

COMMON_EVENT_FIELDS = {
    "door": "Who acted: a role or system (`school`, `scp`, `leerplicht`, ...), never a person's name.",
    "datum": "The day it happened when that was not today (Amsterdam time); not in the future.",
}

FIELD_DOCS: dict[str, dict[str, str]] = {
    "Aanmelding": {
        "leerling_ref": "Pseudonymous pupil reference (no BSN, no name); the workflow id is built from it.",
        "geboortedatum": "Date of birth. The age on `startdatum` decides leerplicht: a pupil of 4 is not "
        "leerplichtig; the pupil is 4 to 18 on the start date.",
        "sector": "`PO` (primary, PPO Rotterdam) or `VO` (secondary, Koers VO).",
        "regio": "`Noord` or `Zuid`: which thuiszitterscoördinator follows the case.",
        "school_brin": "BRIN code of the school of registration. Required, except for a pupil `uit_buitenland`.",
        "startdatum": "First day of not appearing (1e dag van niet verschijnen); not in the future. Leerplicht may "
        "correct it later (`startdatum_correctie`).",
        "fase": "`1` = melding thuiszitter (default); `0` = voortraject, a potential thuiszitter.",
        "woont_in_rotterdam": "VO: only a pupil who lives in Rotterdam may be brought to the Taskforce.",
        "uit_buitenland": "Pupil from abroad without a school registration: Leerplicht absoluut verzuim holds the "
        "case and there are no school steps.",
    },
    "Gebeurtenis": COMMON_EVENT_FIELDS,
    "Melding": {
        "gemeld_bij_leerplicht": "True when the school has already reported the complete absence to Leerplicht; "
        "otherwise the case reports it (pupils from 5).",
    },
    "LeerplichtRegistratie": {
        "lba_geregistreerd_op": "The day Leerplicht registered the thuiszitter in the LBA; not in the future.",
    },
    "StartdatumCorrectie": {
        "startdatum": "The formal first day of not appearing, as the leerplichtambtenaar decides it.",
        "reden": "Why the date changes.",
    },
    "Oudergesprek": {
        "deelnemers": "Who took part: at least `school`, `ouders` and `scp` (PO) or `koersloket` (VO); `smw`, "
        "`wijkteam` and `leerling` when they joined.",
    },
    "PlanVanAanpak": {
        "in_opp": "The plan van aanpak is part of the OPP.",
        "instemming_ouders": "The parents consent to the handelingsdeel of the OPP.",
    },
    "Route": {
        "route": "The solution route of phase 3: `3.1` own school, `3.2` another school, `3.3` another regular "
        "school, an arrangement, a TLV route or a care arrangement, `3.4` care solution with the wijkteam.",
        "variant": "Required for `3.3`: `andere_reguliere_school`, `arrangement`, `tlv_sbo`, `tlv_so` or "
        "`zorgarrangement`; free text otherwise.",
    },
    "AanmeldingAndereSchool": {
        "school_brin": "BRIN code of the receiving school; not the school of registration.",
    },
    "Wachtlijst": {
        "op_wachtlijst": "True: the pupil waits for a place (tussenfase wachtlijst); false: no longer waiting.",
    },
    "Voortgang": {
        "toelichting": "The progress note, passed on to the parents and the SCP or Koersloket.",
    },
    "Opschalen": {
        "niveau": "`coordinator`: the thuiszitterscoördinator of the region; `taskforce`: the Taskforce "
        "Thuiszitters, which takes over the regie.",
        "reden": "Why the case is escalated.",
        "afgestemd_met_leerplicht": "Agreed beforehand with the leerplichtambtenaar (must be true for `taskforce`).",
        "afgestemd_met_school": "Agreed beforehand with the school (must be true for `taskforce`).",
    },
    "Huisbezoek": {
        "samenvatting": "The report of the home visit, for the Kerngroep.",
    },
    "TaskforceBesluit": {
        "besluit": "The decision of the Kerngroep / Taskforce.",
    },
    "Vrijstelling": {
        "status": "`aangevraagd` (the parents' request; Leerplicht passes it to the SMA-arts), then `verleend` "
        "or `afgewezen`.",
    },
    "PassendePlek": {
        "uitkomst": "`terug_op_school`, `ingeschreven_andere_school` or `vrijstelling`.",
        "school_brin": "BRIN code of the new school; required for `ingeschreven_andere_school`.",
    },
    "Intrekken": {
        "reden": "Why the melding was made in error.",
    },
    "CaseStatus": {
        "leerling_ref": "The pupil's pseudonymous reference.",
        "fase": "Phase 0-4 (see the phase names below).",
        "fase_naam": "The phase's name in Dutch.",
        "sector": "`PO` or `VO`.",
        "regio": "`Noord` or `Zuid`.",
        "regiehouder": "Who holds the regie: `school`, `wijkteam` (route 3.4), `taskforce` (after escalation to "
        "the Taskforce) or `leerplicht_absoluut_verzuim` (pupil from abroad).",
        "leerplichtig": "False for a pupil of 4 on the start date: Leerplicht plays no role then.",
        "uit_buitenland": "Pupil from abroad without a school registration.",
        "startdatum": "The (formal, possibly corrected) first day of not appearing.",
        "weken_thuis": "Whole weeks at home since `startdatum`, in workflow time; frozen at closure.",
        "deadline_12_weken": "`startdatum` plus the legal term of twelve weeks.",
        "escalatie": "`geen`, `coordinator` or `taskforce`.",
        "route": "The chosen route (`3.1`-`3.4`), or null.",
        "route_variant": "The route's variant, or null.",
        "wachtlijst": "True while the pupil is on a waiting list.",
        "vrijstelling": "`aangevraagd`, `verleend`, `afgewezen`, or null.",
        "open_taken": "The tasks open for each role, derived from where the case stands.",
        "tijdlijn": "What happened, oldest first: the latest 200 entries (the case register keeps all).",
        "afgewezen": "Refused signals (the last 100), oldest first.",
        "afgesloten": "True once the case is closed.",
        "uitkomst": "How the case closed: `terug_op_school`, `ingeschreven_andere_school`, `vrijstelling` or "
        "`ingetrokken`; null while open.",
        "volgende_termijn_op": "The day the next term falls on, or null.",
    },
    "Taak": {
        "rol": "The role that must act.",
        "uiterlijk": "The day by which it should happen, when a term applies.",
    },
    "TijdlijnRegel": {
        "tijd": "When (workflow time, UTC).",
        "gebeurtenis": "The event or term, by its contract name.",
        "door": "Who acted; `systeem` for terms that passed.",
    },
    "Afwijzing": {
        "tijd": "When the signal arrived (workflow time, UTC).",
        "gebeurtenis": "The signal's name.",
        "reden": "Why it was refused, in Dutch, naming the field or the missing step.",
    },
}
"""Descriptions of fields whose model carries none, by model name. A description in the model wins."""


@dataclass(frozen=True)
class EventRule:
    summary: str
    phase: str
    needs: str
    does: str


EVENT_RULES: dict[str, EventRule] = {
    "melding": EventRule(
        summary="The school reports the thuiszitter: phase 0 -> 1.",
        phase="0",
        needs="Phase 0 (voortraject). Refused once the case is in phase 1 or later.",
        does="Phase 0 -> 1. The case reports the complete absence to Leerplicht (pupils from 5, unless "
        "`gemeld_bij_leerplicht`), creates the hulpvraag thuiszitter in Kindkans with status 'thuiszitter', issues "
        "a SISA signal, tells the SCP (PO) or Koersloket (VO) and the ouderfunctionaris, and gives the parents "
        "access to the Kindkans file. For a pupil from abroad only Leerplicht absoluut verzuim is told.",
    ),
    "leerplicht_registratie": EventRule(
        summary="Leerplicht confirms the registration in the LBA.",
        phase="1-3",
        needs="Phase 1 or later; a leerplichtig pupil (a pupil of 4 is refused); once only; "
        "`lba_geregistreerd_op` not in the future.",
        does="Records the LBA registration; the reminder to the SCP or Koersloket (no registration five working "
        "days after the melding) no longer fires.",
    ),
    "startdatum_correctie": EventRule(
        summary="Leerplicht sets the formal start date; every deadline moves with it.",
        phase="any open",
        needs="Any open phase; a date other than the current one, not in the future, on which the pupil is at least 4.",
        does="Sets the formal start date. Weeks at home, the four-week term, the warnings and the twelve-week "
        "deadline all move with it; the Kindkans hulpvraag is updated; school and SCP or Koersloket are told.",
    ),
    "oudergesprek": EventRule(
        summary="The meeting of school, parents and SCP or Koersloket took place.",
        phase="1-3",
        needs="Phase 1 or later; not a pupil from abroad; `deelnemers` include `school`, `ouders` and `scp` or "
        "`koersloket`.",
        does="Phase 1 -> 2 (a later phase stays where it is). Records the meeting and its participants and "
        "updates the Kindkans hulpvraag; the reminder for the plan van aanpak starts.",
    ),
    "plan_van_aanpak": EventRule(
        summary="The plan van aanpak: phase 2 -> 3 once it is in the OPP and the parents consent.",
        phase="2",
        needs="Phase 2 (after the oudergesprek); not a pupil from abroad.",
        does="Phase 2 -> 3 when `in_opp` and `instemming_ouders` are both true, and the Kindkans hulpvraag is "
        "updated. Otherwise the plan is recorded, the case stays in phase 2 and the school gets a task for what "
        "is missing; send the event again once both are true.",
    ),
    "route": EventRule(
        summary="The chosen solution route; 3.4 moves the regie to the wijkteam.",
        phase="3",
        needs="Phase 3 (plan van aanpak in the OPP with the parents' consent); not a pupil from abroad. A later "
        "route replaces the earlier one.",
        does="Records the route and tells the parents. `3.4` moves the regie to the wijkteam, any other route "
        "gives it back to the school (unless the Taskforce holds it). `3.3` `tlv_sbo` / `tlv_so`: the pupil is "
        "registered with the Centrale AanmeldRoute and the SCP writes the TLV onderbouwing. `3.4` and "
        "`zorgarrangement`: the wijkteam is told; `3.4`: the school supplies homework packages.",
    ),
    "aanmelding_andere_school": EventRule(
        summary="Route 3.2: the pupil is applied at a receiving school, whose zorgplicht term starts.",
        phase="3",
        needs="Route `3.2`, or `3.3` with variant `andere_reguliere_school`; a school other than the school of "
        "registration; not a pupil from abroad.",
        does=f"Starts the zorgplicht term of the receiving school ({DEFAULT_BELEID.zorgplicht_dagen} days by "
        "default); the SCP or Koersloket is told. The school of origin keeps the zorgplicht. When the term "
        "passes without a decision, the SCP or Koersloket and the coordinator are told.",
    ),
    "zorgplicht_verlengd": EventRule(
        summary="The one extension of the receiving school's zorgplicht term.",
        phase="3",
        needs="An `aanmelding_andere_school` before; once only.",
        does=f"Extends the term once ({DEFAULT_BELEID.zorgplicht_verlenging_dagen} days by default).",
    ),
    "wachtlijst": EventRule(
        summary="The pupil is put on, or taken off, a waiting list.",
        phase="any open",
        needs="Any open phase; a change (on when off, off when on).",
        does="Sets the waiting-list interim (tussenfase wachtlijst); while on it the SCP or Koersloket has a task "
        "to advise an interim programme.",
    ),
    "voortgang": EventRule(
        summary="A progress note, passed on to parents and SCP.",
        phase="any open",
        needs="Any open phase.",
        does="Passes the note on to the parents and the SCP or Koersloket and updates the Kindkans hulpvraag.",
    ),
    "opschalen": EventRule(
        summary="Escalation to the thuiszitterscoördinator or the Taskforce Thuiszitters.",
        phase="any open",
        needs="Any open phase; a higher level than now (`geen` < `coordinator` < `taskforce`). For `taskforce`: "
        "`afgestemd_met_leerplicht` and `afgestemd_met_school` both true, and for VO a pupil who lives in "
        "Rotterdam (`woont_in_rotterdam`).",
        does="`coordinator`: the coordinator of the region gets the case. `taskforce`: the Taskforce Thuiszitters "
        "takes over the regie, the case is registered with the Taskforce, the Taskforce is told and the school "
        "informs the parents. When the twelve-week term passes without escalation, the case escalates to the "
        "coordinator by itself.",
    ),
    "huisbezoek": EventRule(
        summary="The Taskforce's home-visit report.",
        phase="any open",
        needs="Escalated to the Taskforce; once only.",
        does="Records the report for the Kerngroep; the Taskforce's next task is its decision.",
    ),
    "taskforce_besluit": EventRule(
        summary="A decision of the Kerngroep / Taskforce.",
        phase="any open",
        needs="Escalated to the Taskforce, and the `huisbezoek` recorded.",
        does="Records the decision; school and SCP or Koersloket are told. Later decisions may follow.",
    ),
    "vrijstelling": EventRule(
        summary="A vrijstelling (5 onder a) path; the parents' choice, never forced.",
        phase="any open",
        needs="A leerplichtig pupil. `aangevraagd` when none is pending or granted; `verleend` or `afgewezen` "
        "only after `aangevraagd`.",
        does="`aangevraagd`: Leerplicht gets a task to pass the request to the SMA-arts. `verleend` / "
        "`afgewezen`: the parents and the SCP or Koersloket are told; after `verleend` the school deregisters the "
        "pupil and `passende_plek` with uitkomst `vrijstelling` may close the case.",
    ),
    "passende_plek": EventRule(
        summary="A suitable place: phase 4, the case closes.",
        phase="any open -> 4",
        needs="Any open phase. `vrijstelling` only after the vrijstelling is `verleend`; `terug_op_school` not "
        "for a pupil from abroad; `ingeschreven_andere_school` needs a `school_brin` other than the school of "
        "registration.",
        does="Phase 4; the case closes with the uitkomst: the Kindkans hulpvraag is closed, everyone involved is "
        "told, and the workflow completes with the final status.",
    ),
    "intrekken": EventRule(
        summary="Withdraws a case reported in error; the case closes.",
        phase="any open -> closed",
        needs="Any open phase.",
        does="Closes the case with uitkomst `ingetrokken` (the phase stays where it was); the Kindkans hulpvraag "
        "is withdrawn, everyone involved is told, and the workflow completes with the final status.",
    ),
}
"""What each event needs and does, in short English with the procedure's Dutch terms."""

EXAMPLE_AANMELDING: dict[str, Any] = {
    "leerling_ref": "L-2026-0001",
    "geboortedatum": "2016-05-14",
    "sector": "PO",
    "regio": "Noord",
    "school_brin": "12AB",
    "startdatum": "2026-01-12",
}

EXAMPLES: dict[str, dict[str, Any]] = {
    "melding": {"gemeld_bij_leerplicht": True, "door": "school"},
    "leerplicht_registratie": {"lba_geregistreerd_op": "2026-01-20", "door": "leerplicht"},
    "startdatum_correctie": {
        "startdatum": "2026-01-05",
        "reden": "Eerste verzuimdag volgens de LBA.",
        "door": "leerplicht",
    },
    "oudergesprek": {"deelnemers": ["school", "ouders", "scp"], "datum": "2026-01-22"},
    "plan_van_aanpak": {"in_opp": True, "instemming_ouders": True, "door": "school"},
    "route": {"route": "3.3", "variant": "tlv_sbo"},
    "aanmelding_andere_school": {"school_brin": "34CD"},
    "zorgplicht_verlengd": {"door": "school"},
    "wachtlijst": {"op_wachtlijst": True},
    "voortgang": {"toelichting": "Proefplaatsing loopt; twee dagdelen per week op school."},
    "opschalen": {
        "niveau": "taskforce",
        "reden": "Geen passende plek na de plaatsingsgesprekken.",
        "afgestemd_met_leerplicht": True,
        "afgestemd_met_school": True,
        "door": "coordinator",
    },
    "huisbezoek": {"samenvatting": "Gesprek met ouders en leerling thuis; wensen en zorgen in kaart."},
    "taskforce_besluit": {"besluit": "Plaatsing op een SBO-school met ambulante begeleiding."},
    "vrijstelling": {"status": "aangevraagd"},
    "passende_plek": {"uitkomst": "ingeschreven_andere_school", "school_brin": "34CD"},
    "intrekken": {"reden": "Leerling bleek ingeschreven op een andere school."},
}
"""A valid payload of every event: shown in the docs and checked against the model and the schema in the tests."""

SEARCH_ATTRIBUTE_MEANINGS: dict[str, str] = {
    "Fase": "Phase 0-4 of the procedure.",
    "Regio": "`Noord` or `Zuid`: which coordinator.",
    "Sector": "`PO` or `VO`.",
    "Regiehouder": "Who holds the regie: `school`, `wijkteam`, `taskforce` or `leerplicht_absoluut_verzuim`.",
    "Escalatie": "`geen`, `coordinator` or `taskforce`.",
    "WekenThuis": "Whole weeks at home since the (formal) start date; kept current every week, frozen at closure.",
    "Route": "`3.1`-`3.4`, or `geen` before a route is chosen.",
    "Afgesloten": "True once the case is closed.",
}

_SA_TYPE_NAMES = {"INT": "Int", "KEYWORD": "Keyword", "BOOL": "Bool", "DATETIME": "Datetime", "TEXT": "Text"}

# A fixed moment for the generated refusal examples, so the output never depends on the clock.
_EXAMPLE_NOW = datetime(2026, 1, 19, 9, 0, tzinfo=UTC)


# ---------------------------------------------------------------------------------------------------- schemas


def _describe(schema: dict[str, Any], where: str) -> None:
    """Add missing field descriptions from FIELD_DOCS to one object schema (in place); refuse an undocumented one."""
    title = schema.get("title", where)
    docs = FIELD_DOCS.get(title, {})
    for name, prop in schema.get("properties", {}).items():
        if "description" in prop:
            continue
        fallback = COMMON_EVENT_FIELDS if where.startswith("event:") else {}
        text = docs.get(name) or fallback.get(name)
        if not text:
            raise UndocumentedField(
                f"veld {title}.{name} heeft geen beschrijving: geef het in de model een Field(description=...) "
                "of voeg het toe aan FIELD_DOCS in devtools/contract_docs.py"
            )
        prop["description"] = text


def schema_of(model: type[BaseModel], *, name: str, kind: str, mode: JsonSchemaMode = "validation") -> dict[str, Any]:
    """The model's JSON Schema, with the dialect, a description for the payload and for each of its fields."""
    raw = copy.deepcopy(model.model_json_schema(mode=mode))
    _describe(raw, f"{kind}:{name}")
    for definition in raw.get("$defs", {}).values():
        if definition.get("type") == "object":
            _describe(definition, f"def:{definition.get('title')}")
    if kind == "event" and "description" not in raw:
        raw["description"] = f"Payload of the signal and update '{name}'. {EVENT_RULES[name].summary}"
    return {"$schema": JSON_SCHEMA_DIALECT, **raw}


def schemas() -> dict[str, dict[str, Any]]:
    """Every payload's schema by file stem: ``Aanmelding``, each event by its name, ``CaseStatus``."""
    result: dict[str, dict[str, Any]] = {"Aanmelding": schema_of(Aanmelding, name="Aanmelding", kind="start")}
    for name, model in EVENTS.items():
        result[name] = schema_of(model, name=name, kind="event")
    result["CaseStatus"] = schema_of(CaseStatus, name="CaseStatus", kind="status", mode="serialization")
    return result


def _json_text(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False) + "\n"


# -------------------------------------------------------------------------------------------- rendering helpers


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _code(value: Any) -> str:
    return f"`{json.dumps(value, ensure_ascii=False)}`"


def _ref_name(ref: str) -> str:
    return ref.rsplit("/", 1)[-1]


def type_text(node: dict[str, Any], defs: dict[str, Any]) -> str:
    """A JSON Schema node as a short type description for a table."""
    if "$ref" in node:
        name = _ref_name(node["$ref"])
        target = defs[name]
        if "enum" in target:
            return " or ".join(_code(v) for v in target["enum"])
        return f"`{name}` (below)"
    if "anyOf" in node:
        return " or ".join(type_text(part, defs) for part in node["anyOf"])
    if "enum" in node:
        return " or ".join(_code(v) for v in node["enum"])
    if "const" in node:
        return _code(node["const"])
    kind = node.get("type")
    if kind == "string":
        fmt = node.get("format")
        if fmt == "date":
            return "date `YYYY-MM-DD`"
        if fmt == "date-time":
            return "datetime (ISO 8601)"
        text = "string"
        if "maxLength" in node:
            text += f" ({node.get('minLength', 0)}-{node['maxLength']} characters)"
        if "pattern" in node:
            text += f" matching `{node['pattern']}`"
        return text
    if kind == "array":
        items = type_text(node.get("items", {}), defs)
        bounds = ""
        if "minItems" in node or "maxItems" in node:
            bounds = f", {node.get('minItems', 0)}-{node.get('maxItems', 'any')} items"
        return f"list of ({items}){bounds}"
    if kind == "integer":
        if "minimum" in node and "maximum" in node:
            return f"integer {node['minimum']}-{node['maximum']}"
        return "integer"
    if kind == "boolean":
        return "bool"
    if kind == "null":
        return "null"
    if kind == "object":
        return "object"
    return "any"


def _presence(name: str, node: dict[str, Any], required: Sequence[str]) -> str:
    if name in required:
        return "required"
    if "default" in node:
        return f"default {_code(node['default'])}"
    return "optional"


def fields_table(schema: dict[str, Any], defs: dict[str, Any]) -> list[str]:
    """The fields of one object schema as a Markdown table."""
    properties: dict[str, Any] = schema.get("properties", {})
    if not properties:
        return ["No fields."]
    required = schema.get("required", [])
    lines = ["| field | type | required / default | description |", "| --- | --- | --- | --- |"]
    for name, node in properties.items():
        lines.append(
            f"| `{name}` | {_cell(type_text(node, defs))} | {_cell(_presence(name, node, required))} | "
            f"{_cell(node.get('description', ''))} |"
        )
    return lines


def _nested_tables(schema: dict[str, Any], heading: str) -> list[str]:
    defs: dict[str, Any] = schema.get("$defs", {})
    lines: list[str] = []
    for name, definition in defs.items():
        if definition.get("type") != "object":
            continue
        lines += ["", f"{heading} `{name}`", ""]
        if description := definition.get("description"):
            lines += [description, ""]
        lines += fields_table(definition, defs)
    return lines


def _json_block(value: Any) -> list[str]:
    return ["```json", json.dumps(value, indent=2, ensure_ascii=False), "```"]


def _refusal_examples() -> list[tuple[str, dict[str, Any], str]]:
    """Real refusals produced by the rules for a new case in phase 1, so the examples cannot drift."""
    aanmelding = Aanmelding.model_validate(EXAMPLE_AANMELDING)
    state = rules.open_case(aanmelding, case_id="voorbeeld", workflow_id="thuiszitter-voorbeeld", now=_EXAMPLE_NOW)
    tries: list[tuple[str, dict[str, Any]]] = [
        ("route", {"route": "3.1"}),
        ("route", {"route": "3.3"}),
        ("opschalen", {"niveau": "taskforce", "reden": "Geen plek.", "afgestemd_met_school": True}),
        ("melding", {"gemeld_bij_leerplicht": True, "school": "12AB"}),
    ]
    found = []
    for name, payload in tries:
        try:
            rules.check(state, name, rules.parse(name, payload), _EXAMPLE_NOW)
        except rules.Weigering as refusal:
            found.append((name, payload, refusal.reden))
        else:
            raise AssertionError(f"voorbeeld van een weigering wordt niet geweigerd: {name} {payload}")
    return found


# --------------------------------------------------------------------------------------------- the whole text


def render_contract(all_schemas: dict[str, dict[str, Any]]) -> str:
    start = all_schemas["Aanmelding"]
    status = all_schemas["CaseStatus"]
    example_ref = EXAMPLE_AANMELDING["leerling_ref"]
    lines: list[str] = [
        "# The case contract",
        "",
        "<!-- Generated by `python -m devtools.contract_docs` from workflows/contract.py and workflows/effects.py;"
        " do not edit by hand. `python -m devtools.contract_docs --check` fails when this file is stale. -->",
        "",
        "Other services (the intake script, the Kindkans and LBA integrations, the coordinators' tools, the "
        "acceptance tests) talk to a case only through Temporal, by the names on this page. The names are fixed "
        "(contract version 1): payloads may gain optional fields, nothing is renamed or removed without a new "
        "contract version. The JSON Schema of every payload, generated from the models, is in "
        "[`schema/`](schema/). The Dutch terms are explained in the [glossary](glossary.md).",
        "",
        "## Where a case lives",
        "",
        "| what | value |",
        "| --- | --- |",
        f"| task queue | `{DEFAULT_TASK_QUEUE}`; the environment variable `{TASK_QUEUE_VARIABLE}` overrides it |",
        f"| workflow type | `{WORKFLOW_TYPE}` |",
        f"| workflow id | `{WORKFLOW_ID_PREFIX}<leerling_ref>`, e.g. `{WORKFLOW_ID_PREFIX}{example_ref}` |",
        "| id reuse | one open case per pupil: a second start while a case is open is refused "
        "(`WorkflowAlreadyStartedError`); after closure a new case for the same pupil may start (a new run "
        "under the same id) |",
        "| start input | one argument, an [`Aanmelding`](#start-input-aanmelding) |",
        "| events | a signal and an update of the same name per event, see [Events](#events) |",
        "| query | `status`, see [Query `status`](#query-status) |",
        "| result | the final `CaseStatus`, see [Result](#result) |",
        "| payload encoding | JSON through Temporal's pydantic data converter; with encryption on (the default) "
        "every payload and failure is AES-GCM encrypted by the project's codec (encoding `binary/encrypted`) |",
        "",
        f"`leerling_ref` is a pseudonymous pupil reference (no BSN, no name): `{LEERLING_REF_PATTERN}`. Address a "
        "case by its workflow id without a run id: a long-running case may continue as new under the same id.",
        "",
        "## Start input: `Aanmelding`",
        "",
        "Schema: [`schema/Aanmelding.json`](schema/Aanmelding.json).",
        "",
        *fields_table(start, start.get("$defs", {})),
        *_nested_tables(start, "###"),
        "",
        "Rules beyond the schema (checked by the model; a start that breaks one fails the case at once with an "
        f"`ApplicationError` of type `{START_REFUSAL_TYPE}`, and the intake script refuses the row before "
        "starting anything):",
        "",
        "- `school_brin` is required unless `uit_buitenland` is true;",
        "- a pupil `uit_buitenland` starts in `fase` 1, never 0;",
        "- `geboortedatum` lies before `startdatum`, and the pupil is 4 to 18 years old on `startdatum`;",
        "- `startdatum` is not in the future (Amsterdam time).",
        "",
        "Example:",
        "",
        *_json_block(EXAMPLE_AANMELDING),
        "",
        "## Events",
        "",
        "Every event is a **signal** and an **update** of the same name with the same payload. The signal is "
        "fire-and-forget. The update's validator first refuses what does not fit (a bad payload, the wrong "
        "phase, a missing step), and on success the update returns the new `status` (`CaseStatus`). Every "
        "payload may carry the optional fields below, besides its own; unknown fields are refused.",
        "",
        "| field | type | description |",
        "| --- | --- | --- |",
    ]
    first_event = all_schemas[next(iter(EVENTS))]
    for common in COMMON_EVENT_FIELDS:
        node = first_event["properties"][common]
        lines.append(f"| `{common}` | {_cell(type_text(node, {}))} | {_cell(node['description'])} |")
    lines += [
        "",
        "For every event: a closed case refuses it; a `datum` in the future is refused; sending the same event "
        "with the same content as the last one of that name changes nothing and is not refused. Phases only "
        "move forward (" + ", ".join(f"{fase} {naam}" for fase, naam in FASE_NAMEN.items()) + ").",
        "",
        "| event | phase | what it is |",
        "| --- | --- | --- |",
    ]
    for name in EVENTS:
        rule = EVENT_RULES[name]
        lines.append(f"| [`{name}`](#{name}) | {rule.phase} | {_cell(rule.summary)} |")
    for name in EVENTS:
        schema = all_schemas[name]
        rule = EVENT_RULES[name]
        own = {k: v for k, v in schema.get("properties", {}).items() if k not in COMMON_EVENT_FIELDS}
        lines += [
            "",
            f"### {name}",
            "",
            f"{rule.summary} Signal and update `{name}`; schema: [`schema/{name}.json`](schema/{name}.json).",
            "",
            *fields_table({**schema, "properties": own}, schema.get("$defs", {})),
            "",
            f"- **Needs:** {rule.needs}",
            f"- **Does:** {rule.does}",
            "",
            "Example:",
            "",
            *_json_block(EXAMPLES[name]),
        ]
    lines += [
        "",
        "## Query `status`",
        "",
        "The `status` query answers at any moment with a `CaseStatus`; every update returns one too. Schema: "
        "[`schema/CaseStatus.json`](schema/CaseStatus.json). Fields may be added; none is removed.",
        "",
        *fields_table(status, status.get("$defs", {})),
        *_nested_tables(status, "###"),
        "",
        "Phase names (`fase_naam`):",
        "",
        "| fase | fase_naam |",
        "| --- | --- |",
        *(f"| {fase} | {naam} |" for fase, naam in FASE_NAMEN.items()),
        "",
        "## Search attributes",
        "",
        "Every case keeps these search attributes current, for the coordinators' views in the Web UI and for "
        "`temporal workflow list --query`. None of them holds personal data.",
        "",
        "| name | type | meaning |",
        "| --- | --- | --- |",
    ]
    for key in sa.ALL_KEYS:
        meaning = SEARCH_ATTRIBUTE_MEANINGS.get(key.name)
        if meaning is None:
            raise UndocumentedField(
                f"zoekattribuut {key.name} heeft geen betekenis: voeg het toe aan SEARCH_ATTRIBUTE_MEANINGS"
            )
        type_name = _SA_TYPE_NAMES[key.indexed_value_type.name]
        lines.append(f"| `{key.name}` | {type_name} | {_cell(meaning)} |")
    lines += [
        "",
        "## Result",
        "",
        "When the case closes (`passende_plek` or `intrekken`) the workflow runs its last effects and completes "
        "with the final `CaseStatus`: `afgesloten` is true and `uitkomst` says how it closed. A closed case "
        "answers the `status` query as long as Temporal keeps its history.",
        "",
        "## Refusals",
        "",
        f"- **Update:** the validator refuses before anything is written to the history. The caller gets a "
        f"failed update (`WorkflowUpdateFailedError` in the Python SDK) whose cause is an `ApplicationError` of "
        f"type `{REFUSAL_TYPE}`, non-retryable, with a Dutch message `<event>: <reason>` that names the field "
        "and the rule, or the missing step. The message never repeats the values that were sent.",
        "- **Signal:** never fails the workflow. A refused signal is not applied and is appended to "
        f"`status.afgewezen` as `{{tijd, gebeurtenis, reden}}` with the same Dutch reason (the last "
        f"{rules.MAX_AFGEWEZEN} are kept).",
        f"- **Start:** a second start while a case is open fails with `WorkflowAlreadyStartedError`; a start "
        f"input that breaks the rules above fails the new case with an `ApplicationError` of type "
        f"`{START_REFUSAL_TYPE}`.",
        "",
        "Refusals as the rules give them, for a new case in phase 1:",
        "",
        "| event | payload | reason (`message` / `reden`) |",
        "| --- | --- | --- |",
    ]
    for name, payload, reden in _refusal_examples():
        payload_text = json.dumps(payload, ensure_ascii=False)
        lines.append(f"| `{name}` | `{_cell(payload_text)}` | {_cell(reden)} |")
    lines.append("")
    return "\n".join(lines)


def outputs() -> dict[Path, str]:
    """Every generated file (relative to the project root) and its content."""
    all_schemas = schemas()
    files = {SCHEMA_DIR / f"{stem}.json": _json_text(schema) for stem, schema in all_schemas.items()}
    files[CONTRACT_MD] = render_contract(all_schemas)
    return files


def stale_files(root: Path, files: dict[Path, str]) -> list[Path]:
    """Generated files that are missing or differ, and schema files that no payload produces any more."""
    stale = [path for path, text in files.items() if _read(root / path) != text]
    stale += sorted(
        path.relative_to(root) for path in (root / SCHEMA_DIR).glob("*.json") if path.relative_to(root) not in files
    )
    return stale


def write(root: Path, files: dict[Path, str]) -> list[Path]:
    """Write what changed and remove schema files of payloads that are gone; returns the paths touched."""
    touched = stale_files(root, files)
    for path in touched:
        target = root / path
        if path in files:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(files[path], encoding="utf-8")
        else:
            target.unlink()
    return touched


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None


def main(argv: Sequence[str] | None = None, out: Any = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m devtools.contract_docs",
        description="Schrijf docs/contract.md en docs/schema/*.json uit de modellen.",
    )
    parser.add_argument("--check", action="store_true", help="alleen controleren; exit 1 als iets verouderd is")
    parser.add_argument("--root", type=Path, default=PROJECT_ROOT, help="map van het project (standaard: deze)")
    args = parser.parse_args(argv)
    out = out or sys.stdout
    files = outputs()
    if args.check:
        stale = stale_files(args.root, files)
        if stale:
            print("De contractdocumentatie is verouderd; draai `python -m devtools.contract_docs`:", file=out)
            for path in stale:
                print(f"  {path.as_posix()}", file=out)
            return 1
        print(f"De contractdocumentatie is actueel ({len(files)} bestanden).", file=out)
        return 0
    touched = write(args.root, files)
    for path in touched:
        print(f"bijgewerkt: {path.as_posix()}", file=out)
    if not touched:
        print(f"De contractdocumentatie was al actueel ({len(files)} bestanden).", file=out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
