"""The contract's documentation, generated from the models: ``docs/contract.md`` and ``docs/schema/*.json``.

    python -m devtools.contract_docs           write the docs
    python -m devtools.contract_docs --check   exit 1, naming the stale files, when the docs differ

Every payload's JSON Schema comes from pydantic (``model_json_schema()``); field descriptions that the models do
not carry themselves are added from :data:`FIELD_DOCS`, and every field must have one, so a field added to a model
cannot go undocumented. The prose about what each event needs and does (from :mod:`workflows.rules` and
``PROCEDURE.md``) lives in :data:`EVENT_RULES`. Whatever the code already states is rendered from it, so it cannot
drift: the permission table from :mod:`workflows.permissions`, which event finishes which task from
:data:`workflows.work.FULFILLED_BY`, what a version-1 case accepts from :data:`workflows.contract.EVENTS_VERSIE_1`,
and the refusals from the rules themselves. The whole of ``docs/contract.md`` is generated and ``--check`` keeps it
true. The output is deterministic: the same models give the same bytes.
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
    CONTRACT_VERSIE,
    EVENTS,
    EVENTS_VERSIE_1,
    FASE_NAMEN,
    LEEFTIJDEN,
    LEERLING_REF_PATTERN,
    ROUTE_33_VARIANTEN,
    ROUTE_33_VARIANTEN_PER_SECTOR,
    WORKFLOW_ID_PREFIX,
    WORKFLOW_TYPE,
    Aanmelding,
    CaseStatus,
    Door,
    Sector,
)
from workflows.permissions import allowed_roles
from workflows.policy import DEFAULT_BELEID
from workflows.thuiszitter import PATCH_CONTRACT_V2, REFUSAL_TYPE
from workflows.work import BY_HAND, FULFILLED_BY

PROJECT_ROOT = Path(__file__).resolve().parent.parent
CONTRACT_MD = Path("docs/contract.md")
SCHEMA_DIR = Path("docs/schema")
JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
TASK_QUEUE_VARIABLE = "THUISZITTERS_TASK_QUEUE"
START_REFUSAL_TYPE = "OngeldigeAanmelding"


class UndocumentedField(ValueError):
    """A model field without a description: add ``Field(description=...)`` or an entry in ``FIELD_DOCS``."""


# ------------------------------------------------------------------------------------------ hand-written prose

_ROLES = ", ".join(f"`{door.value}`" for door in Door)

COMMON_EVENT_FIELDS = {
    "door": "Who acted: the **role**, one of " + _ROLES + ". Required in version 2; the permission table below "
    "says which roles may send which event, and an event from another role is refused. Never a person's name. "
    "(A version-1 case takes it as optional free text.)",
    "persoon": "The pseudonymous id of the person who acted, from the directory (no name, no e-mail address); "
    "optional. Services that act for people (the web application, the API) set `door` and `persoon` from the "
    "authenticated user.",
    "datum": "The day it happened when that was not today (Amsterdam time); not in the future.",
}
"""The fields every event carries, as the common table of ``docs/contract.md`` explains them (the schemas carry
the models' own, shorter descriptions where the models give one)."""

_VARIANTEN_PO = ", ".join(f"`{v}`" for v in ROUTE_33_VARIANTEN_PER_SECTOR[Sector.PO])
_VARIANTEN_VO = ", ".join(f"`{v}`" for v in ROUTE_33_VARIANTEN_PER_SECTOR[Sector.VO])
_LEEFTIJDEN = " and ".join(f"{sector.value} {laag} to {hoog}" for sector, (laag, hoog) in LEEFTIJDEN.items())

FIELD_DOCS: dict[str, dict[str, str]] = {
    "Aanmelding": {
        "leerling_ref": "Pseudonymous pupil reference (no BSN, no name); the workflow id is built from it.",
        "geboortedatum": "Date of birth. On `startdatum` the pupil is "
        + _LEEFTIJDEN
        + " years old. Leerplicht begins on the first school day of the month after the fifth birthday: a pupil of "
        "4 becomes leerplichtig during the case (`leerplichtig_vanaf`).",
        "sector": "`PO` (primary, PPO Rotterdam) or `VO` (secondary, Koers VO): two organisations with their own "
        "contact role (`scp` or `koersloket`).",
        "regio": "`Noord` or `Zuid`: which thuiszitterscoördinator follows the case.",
        "school_brin": "BRIN code of the school of registration. Required, except for a pupil `uit_buitenland`.",
        "startdatum": "First day of not appearing (1e dag van niet verschijnen); not in the future. Leerplicht may "
        "correct it later (`startdatum_correctie`).",
        "fase": "`1` = melding thuiszitter (default); `0` = voortraject, a potential thuiszitter.",
        "woont_in_rotterdam": "VO: only a pupil who lives in Rotterdam may be brought to the Taskforce.",
        "uit_buitenland": "Pupil from abroad without a school registration: Leerplicht absoluut verzuim holds the "
        "case and there are no school steps.",
    },
    "Vakantie": {
        "naam": "The holiday's name, e.g. `kerstvakantie`.",
        "van": "Its first day.",
        "tot_en_met": "Its last day (included).",
        "regio": "The regions whose schools have it.",
    },
    "Gebeurtenis": COMMON_EVENT_FIELDS,
    "Melding": {
        "gemeld_bij_leerplicht": "True when the school has already reported the complete absence to Leerplicht; "
        "otherwise the case reports it (a leerplichtig pupil).",
    },
    "LeerplichtRegistratie": {
        "lba_geregistreerd_op": "The day Leerplicht registered the thuiszitter in the LBA; not in the future.",
    },
    "StartdatumCorrectie": {
        "startdatum": "The formal first day of not appearing, as the leerplichtambtenaar decides it.",
        "reden": "Why the date changes.",
    },
    "Oudergesprek": {
        "deelnemers": "Who took part: at least `school`, `ouders` and the sector's contact, `scp` (PO) or "
        "`koersloket` (VO), never the other sector's; `smw`, `wijkteam` and `leerling` when they joined.",
    },
    "PlanVanAanpak": {
        "in_opp": "The plan van aanpak is part of the OPP.",
        "instemming_ouders": "The parents consent to the handelingsdeel of the OPP.",
    },
    "Route": {
        "route": "The solution route of phase 3: `3.1` own school, `3.2` another school, `3.3` another regular "
        "school, an arrangement, a TLV route or a care arrangement, `3.4` care solution with the wijkteam.",
        "variant": "Required for `3.3`: for PO "
        + _VARIANTEN_PO
        + "; for VO "
        + _VARIANTEN_VO
        + " (a variant of the other sector is refused); free text otherwise.",
    },
    "AanmeldingAndereSchool": {
        "school_brin": "BRIN code of the receiving school; not the school of registration.",
    },
    "Wachtlijst": {
        "op_wachtlijst": "True: the pupil waits for a place (tussenfase wachtlijst); false: no longer waiting.",
    },
    "Voortgang": {
        "toelichting": "The progress note, passed on to the parents and the SCP or Koersloket (and, from the "
        "school, to Leerplicht and in a care route the wijkteam).",
    },
    "Opschalen": {
        "niveau": "`coordinator`: the PPO thuiszitterscoördinator of the region (PO only); `taskforce`: the "
        "Taskforce Thuiszitters, which takes over the regie.",
        "reden_code": "Why, as a code (the seeds' examples): `geen_passende_plek`, `geen_plaats_reguliere_scholen`, "
        "`partijen_niet_eens`, `ouders_niet_eens`, `proces_loopt_vast`, or `overig` with the text.",
        "reden": "Why the case is escalated, in words; kept in the case's dossier.",
        "afgestemd_met_leerplicht": "Agreed beforehand with the leerplichtambtenaar (must be true for `taskforce` "
        "when the pupil is leerplichtig).",
        "afgestemd_met_school": "Agreed beforehand with the school (must be true for `taskforce`, except for a "
        "pupil from abroad).",
    },
    "Huisbezoek": {
        "samenvatting": "The report of the home visit, for the Kerngroep; kept in the case's dossier.",
    },
    "BesluitActie": {
        "rol": "The role that must carry out the action; it gets a task.",
        "omschrijving": "The action, in Dutch, as the role reads it.",
        "uiterlijk": "The task's due date.",
    },
    "TaskforceBesluit": {
        "besluit": "The decision of the Kerngroep / Taskforce; kept in the case's dossier.",
        "acties": "At most five actions the decision names; each becomes a task for its role.",
    },
    "Vrijstelling": {
        "status": "`aangevraagd` (the parents' request, sent by them or recorded by Leerplicht; Leerplicht passes "
        "it to the SMA-arts), then Leerplicht's decision: `verleend` or `afgewezen`.",
    },
    "PassendePlek": {
        "uitkomst": "`terug_op_school`, `ingeschreven_andere_school` or `vrijstelling`.",
        "school_brin": "BRIN code of the new school; required for `ingeschreven_andere_school`.",
    },
    "Uitschrijving": {
        "uitgeschreven_op": "The day the old school deregistered the pupil; not in the future.",
    },
    "Afronden": {
        "toelichting": "The contact role's closing note (what was checked); kept in the case's dossier.",
    },
    "TaakAfgerond": {
        "taak_id": "The id of the open task (`open_taken[].id`, e.g. `T3`).",
        "toelichting": "What was done; kept with the finished task.",
    },
    "Toewijzen": {
        "rol": "The role whose tasks in this case the person now holds.",
    },
    "DocumentToegevoegd": {
        "soort": "`opp`, `plan_van_aanpak`, `tlv_onderbouwing`, `huisbezoekverslag`, `besluit` or `overig`.",
        "omschrijving": "A short description, optional.",
    },
    "GegevensWijzigen": {
        "school_brin": "The corrected school of registration (not for a pupil from abroad).",
        "regio": "The corrected region: another coordinator follows the case.",
        "sector": "The corrected sector: the case moves to the other organisation (PPO Rotterdam or Koers VO); not "
        "after phase 4 has begun.",
        "woont_in_rotterdam": "Corrected: whether the pupil lives in Rotterdam.",
    },
    "LeerplichtInterventie": {
        "soort": "`gesprek`, `waarschuwing` or `proces_verbaal`.",
        "toelichting": "What Leerplicht did and why; kept in the case's dossier.",
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
        "leerplichtig": "Whether Leerplicht plays a part now: false for a pupil not (yet) leerplichtig.",
        "uit_buitenland": "Pupil from abroad without a school registration.",
        "startdatum": "The (formal, possibly corrected) first day of not appearing.",
        "weken_thuis": "Whole weeks at home since `startdatum`, in workflow time; frozen at closure.",
        "deadline_12_weken": "`startdatum` plus the term of twelve weeks; in version 2 the twelve-week check opens "
        "then.",
        "escalatie": "`geen`, `coordinator` or `taskforce`.",
        "route": "The chosen route (`3.1`-`3.4`), or null.",
        "route_variant": "The route's variant, or null.",
        "wachtlijst": "True while the pupil is on a waiting list.",
        "vrijstelling": "`aangevraagd`, `verleend`, `afgewezen`, or null.",
        "open_taken": "The open tasks. Version 2: kept, each with a stable `id`, a due date and `te_laat` once it "
        "has passed, until the event that fulfils it (or `taak_afgerond`); version 1: derived anew from where "
        "the case stands, without id.",
        "tijdlijn": "What happened, oldest first: the latest 200 entries (the case register keeps all).",
        "afgewezen": "Refused signals (the last 100), oldest first.",
        "afgesloten": "True once the case is closed.",
        "uitkomst": "The outcome: `terug_op_school`, `ingeschreven_andere_school` or `vrijstelling` from "
        "`passende_plek` (version 2: set in phase 4, before the case closes), `ingetrokken` after `intrekken`; null "
        "before.",
        "volgende_termijn_op": "The day the next term falls on, or null.",
        "twaalf_weken_check": "Null before twelve weeks; then the check: `open` (a decision is due), `uitzicht` "
        "(a beoordeling: it comes back on `herbeoordeling_op`) or `opgeschaald`.",
        "documenten": "The documents referenced in the case (`document_toegevoegd`), oldest first.",
        "kerngroep_bespreking_op": "The Kerngroep meeting where the case is discussed (Taskforce cases), else null.",
        "uitgeschreven_op": "The day the old school deregistered the pupil (`uitschrijving`), or null.",
        "woont_in_rotterdam": "As in the (corrected) aanmelding.",
        "school_brin": "The school of registration, as in the (corrected) aanmelding; null for a pupil from abroad.",
        "dossier": "What people decided and reported, kept in the case (bounded) and in the register.",
    },
    "Taak": {
        "rol": "The role that must act.",
    },
    "AfgerondeTaak": {
        "id": "The task's id.",
        "rol": "The role it was for.",
        "taak": "The kind of task.",
        "omschrijving": "The task in Dutch.",
        "afgerond_op": "The day it was finished.",
        "door": "The role that finished it (`systeem` for the case itself).",
        "toelichting": "The note given with `taak_afgerond`, else null.",
    },
    "TwaalfWekenCheck": {
        "stand": "`open`: someone must decide (opschalen or beoordeling); `uitzicht`: a prospect was recorded; "
        "`opgeschaald`: the case was escalated.",
        "herbeoordeling_op": "When a check answered with a beoordeling comes back.",
        "uitzicht": "The prospect the beoordeling recorded.",
    },
    "Document": {
        "soort": "The kind of document (as `document_toegevoegd`).",
        "verwijzing": "Where it is kept: a reference, not the file.",
        "omschrijving": "Its short description, or null.",
        "toegevoegd_op": "The day it was added.",
        "door": "The role that added it.",
    },
    "Dossier": {
        "oudergesprek": "The latest oudergesprek: participants, the parents' wishes, the options discussed, the "
        "agreements.",
        "escalaties": "Every escalation with its reason code and text.",
        "huisbezoek": "The Taskforce's home-visit report.",
        "besluiten": "The Taskforce's decisions, with the ids of the tasks their actions became.",
        "interventies": "What Leerplicht did with parents who do not cooperate (`leerplicht_interventie`).",
        "afronding": "The closing note of `afronden`.",
    },
    "OudergesprekVerslag": {
        "op": "The day of the meeting.",
        "deelnemers": "Who took part.",
        "wensen_ouders": "The wishes and needs of the parents.",
        "besproken_opties": "The options discussed and their consequences.",
        "afspraken": "What was agreed.",
    },
    "EscalatieRegel": {
        "op": "The day of the escalation.",
        "niveau": "`coordinator` or `taskforce`.",
        "reden_code": "The reason code; `check_niet_beslist` when the case escalated by itself (PO: the check's "
        "due date passed without a decision).",
        "reden": "The reason in words, or null.",
        "door": "The role that escalated, `systeem` for the case itself.",
    },
    "HuisbezoekVerslag": {
        "op": "The day of the report.",
        "samenvatting": "The report.",
        "door": "The role that reported.",
    },
    "Besluit": {
        "op": "The day of the decision.",
        "besluit": "The decision.",
    },
    "Interventie": {
        "op": "The day.",
        "soort": "`gesprek`, `waarschuwing` or `proces_verbaal`.",
        "toelichting": "What was done and why.",
    },
    "TijdlijnRegel": {
        "tijd": "When (workflow time, UTC).",
        "gebeurtenis": "The event or term, by its contract name.",
        "door": "Who acted; `systeem` for terms that passed.",
    },
    "Afwijzing": {
        "tijd": "When the signal arrived (workflow time, UTC).",
        "gebeurtenis": "The signal's name.",
        "reden": "Why it was refused, in Dutch, naming the field, the role or the missing step.",
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
        does="Phase 0 -> 1. The case reports the complete absence to Leerplicht (a leerplichtig pupil, unless "
        "`gemeld_bij_leerplicht`) and tells the SCP (PO) or the Koersloket (VO). PO only (PPO Rotterdam): the "
        "case creates the hulpvraag thuiszitter in Kindkans with status 'thuiszitter', issues a SISA signal, tells "
        "the ouderfunctionaris and gives the parents access to the Kindkans file; the SCP gets a task to check "
        "them. For a pupil from abroad only Leerplicht absoluut verzuim is told.",
    ),
    "leerplicht_registratie": EventRule(
        summary="Leerplicht confirms the registration in the LBA.",
        phase="1-3",
        needs="Phase 1 or later; a leerplichtig pupil (a pupil who is not leerplichtig yet is refused, naming the "
        "date leerplicht begins); once only; `lba_geregistreerd_op` not in the future.",
        does="Records the LBA registration and finishes Leerplicht's task; the reminder to the SCP or Koersloket "
        "(no registration five working days after the melding) no longer fires.",
    ),
    "startdatum_correctie": EventRule(
        summary="Leerplicht sets the formal start date; every deadline moves with it.",
        phase="any open",
        needs="Any open phase; a date other than the current one, not in the future, on which the pupil is at least 4.",
        does="Sets the formal start date. Weeks at home, the four-week term, the warnings, the twelve-week date and "
        "the check's due date all move with it (a check that now lies in the past follows at once); open tasks "
        "whose due date is such a term move too; the Kindkans hulpvraag is updated (PO); school and SCP or "
        "Koersloket are told.",
    ),
    "oudergesprek": EventRule(
        summary="The meeting of school, parents and SCP or Koersloket took place.",
        phase="1-3",
        needs="Phase 1 or later; not a pupil from abroad; `deelnemers` include `school`, `ouders` and the sector's "
        "contact (`scp` for PO, `koersloket` for VO), and not the other sector's.",
        does="Phase 1 -> 2 (a later phase stays where it is). Keeps the meeting in the dossier: participants, the "
        "parents' wishes, the options discussed, the agreements; updates the Kindkans hulpvraag (PO); the task "
        "for the plan van aanpak opens.",
    ),
    "plan_van_aanpak": EventRule(
        summary="The plan van aanpak: phase 2 -> 3 once it is in the OPP and the parents consent.",
        phase="2",
        needs="Phase 2 (after the oudergesprek); not a pupil from abroad.",
        does="Phase 2 -> 3 when `in_opp` and `instemming_ouders` are both true, and the Kindkans hulpvraag is "
        "updated (PO). Otherwise the plan is recorded, the case stays in phase 2 and the school gets a task for "
        "what is missing; send the event again once both are true.",
    ),
    "route": EventRule(
        summary="The chosen solution route; 3.4 moves the regie to the wijkteam.",
        phase="3",
        needs="Phase 3 (plan van aanpak in the OPP with the parents' consent); not a pupil from abroad; for `3.3` "
        "a variant of the case's sector. A later route replaces the earlier one.",
        does="Records the route and tells the parents. `3.4` moves the regie to the wijkteam, any other route "
        "gives it back to the school (unless the Taskforce holds it). `3.3` `tlv_sbo` / `tlv_so` (PO): the pupil "
        "is registered with the Centrale AanmeldRoute and the SCP writes the TLV onderbouwing. `3.3` `tlv_vso` "
        "(VO): the Koersloket applies for the TLV at Koers VO. `3.4` and `zorgarrangement`: the wijkteam is told; "
        "`3.4`: the school supplies homework packages. Each step is a task.",
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
        summary="A progress note, passed on to parents and SCP or Koersloket.",
        phase="any open",
        needs="Any open phase.",
        does="Passes the note on to the parents and the SCP or Koersloket; from the school also to Leerplicht "
        "(once reported) and, in a care route, the wijkteam. Updates the Kindkans hulpvraag (PO) and finishes "
        "the school's progress task of phase 3 (a new one opens).",
    ),
    "opschalen": EventRule(
        summary="Escalation to the thuiszitterscoördinator (PO) or the Taskforce Thuiszitters.",
        phase="0-3",
        needs="Before phase 4; a higher level than now (`geen` < `coordinator` < `taskforce`); `coordinator` only "
        "for PO (VO has no PPO coordinator). For `taskforce`: `afgestemd_met_leerplicht` true (a leerplichtig "
        "pupil) and `afgestemd_met_school` true (not for a pupil from abroad), and for VO a pupil who lives in "
        "Rotterdam (`woont_in_rotterdam`).",
        does="Keeps the reason (code and text) in the dossier and decides an open twelve-week check. "
        "`coordinator`: the coordinator of the region gets the case and a decision task (to the Taskforce or "
        "not). `taskforce`: the Taskforce Thuiszitters takes over the regie, the case is registered with the "
        "Taskforce and put on the agenda of the next Kerngroep meeting (`kerngroep_bespreking_op`), the "
        "Taskforce gets the huisbezoek task, and the school a task to inform the parents. The twelve-week term "
        "does not escalate by itself: it opens the check (see `beoordeling`); only for PO, a check left "
        "undecided past its due date escalates to the coordinator on the first working day after it.",
    ),
    "beoordeling": EventRule(
        summary='The twelve-week check answered "not now": a prospect of a lasting solution, and when to look again.',
        phase="0-3",
        needs="Before phase 4 and before the Taskforce has the case. From the contact role (SCP or Koersloket) "
        "while the case is not escalated; from the coordinator once it is escalated to them (their Taskforce "
        "question). `herbeoordeling_op` after today and at most "
        f"{DEFAULT_BELEID.herbeoordeling_max_dagen // 7} weeks ahead.",
        does="Decides the open check (`twaalf_weken_check.stand` `uitzicht`, its task finished) and keeps the "
        "prospect. On `herbeoordeling_op` the check opens again, with a new decision task due "
        f"{DEFAULT_BELEID.check_besluit_werkdagen} working days later. May also be sent before the check opens.",
    ),
    "huisbezoek": EventRule(
        summary="The Taskforce's home-visit report.",
        phase="any open",
        needs="Escalated to the Taskforce; once only.",
        does="Keeps the report in the dossier for the Kerngroep; the Taskforce's next task is its decision, due "
        "on the Kerngroep meeting.",
    ),
    "taskforce_besluit": EventRule(
        summary="A decision of the Kerngroep / Taskforce, with the actions it names.",
        phase="any open",
        needs="Escalated to the Taskforce, and the `huisbezoek` recorded.",
        does="Keeps the decision in the dossier; each action becomes a task for its role (with its due date, "
        "finished by hand), and that role is told; school and SCP or Koersloket are told. Later decisions may "
        "follow.",
    ),
    "vrijstelling": EventRule(
        summary="A vrijstelling (5 onder a) path; the parents' choice, never forced.",
        phase="any open",
        needs="A leerplichtig pupil. `aangevraagd` when none is pending or granted; `verleend` or `afgewezen` "
        "only after `aangevraagd`.",
        does="`aangevraagd`: Leerplicht gets a task to pass the request to the SMA-arts. `verleend` / "
        "`afgewezen`: the parents and the SCP or Koersloket are told; after `verleend`, `passende_plek` with "
        "uitkomst `vrijstelling` may follow.",
    ),
    "passende_plek": EventRule(
        summary="A suitable place: phase 4 with the outcome; the case stays open for the phase-4 checks.",
        phase="0-3 -> 4",
        needs="An open phase before 4. `vrijstelling` only after the vrijstelling is `verleend`; `terug_op_school` "
        "not for a pupil from abroad; `ingeschreven_andere_school` needs a `school_brin` other than the school of "
        "registration.",
        does="Phase 4 with the uitkomst; the Kindkans hulpvraag is updated (PO). The phase-4 checks open as tasks: "
        "after enrolment elsewhere or a vrijstelling the old school deregisters the pupil (`uitschrijving`); "
        "Leerplicht follows the resumed attendance; the SCP (PO) or Koersloket (VO) checks and closes the case "
        "(`afronden`). Does not close the case.",
    ),
    "uitschrijving": EventRule(
        summary="The old school deregistered the pupil (phase 4).",
        phase="4",
        needs="Phase 4 with uitkomst `ingeschreven_andere_school` or `vrijstelling` (after `terug_op_school` the "
        "pupil stays registered); not a pupil from abroad; once only; `uitgeschreven_op` not in the future.",
        does="Records the deregistration and finishes the school's task; once no phase-4 check is left, the SCP "
        "or Koersloket is told the case can be closed.",
    ),
    "afronden": EventRule(
        summary="The SCP, the Koersloket or Leerplicht absoluut verzuim checks phase 4 and closes the case.",
        phase="4 -> closed",
        needs="Phase 4, with no phase-4 check open (the deregistration, Leerplicht's decision on a vrijstelling); "
        "the refusal names what is still open.",
        does="Keeps the closing note, closes the case with the uitkomst of `passende_plek`: the Kindkans "
        "hulpvraag is closed (PO), everyone involved is told, open tasks end, and the workflow completes with the "
        "final status.",
    ),
    "taak_afgerond": EventRule(
        summary="A person finishes an open task by hand, with a note.",
        phase="any open",
        needs="An open task with that `taak_id`, sent by that task's role; only a task that no event fulfils (see "
        "[Tasks](#tasks-and-what-finishes-them)); the refusal names the event to send instead.",
        does="Finishes the task (`afgeronde_taken`, with the note); a task a step of the procedure keeps open does "
        "not come back.",
    ),
    "toewijzen": EventRule(
        summary="A person now holds a role's tasks in this case.",
        phase="any open",
        needs="Any open phase; a change (not the person who already holds the role).",
        does="Sets `toegewezen` for the role; that role's open tasks show the person (`toegewezen_aan`).",
    ),
    "document_toegevoegd": EventRule(
        summary="A document is referenced in the case (a reference, not the file).",
        phase="any open",
        needs="Any open phase; not the same `soort` and `verwijzing` twice.",
        does="Lists the document in `documenten` (the latest are kept).",
    ),
    "gegevens_wijzigen": EventRule(
        summary="Corrects the intake: school, region, sector, living in Rotterdam.",
        phase="any open",
        needs="Any open phase; at least one field that differs from now; the corrected aanmelding must still hold "
        "(the age rule of the sector, a school for a pupil not from abroad); no `school_brin` for a pupil from "
        "abroad; no change of sector in phase 4.",
        does="Corrects the aanmelding. A change of sector moves the case to the other organisation: PO -> VO "
        "withdraws the Kindkans hulpvraag and ends an escalation to the PPO coordinator; VO -> PO creates PPO's "
        "part of the melding; a route 3.3 variant that the new sector lacks is cleared; the new contact role is "
        "told.",
    ),
    "leerplicht_interventie": EventRule(
        summary="Leerplicht addressed or sanctioned parents who do not cooperate.",
        phase="1-4",
        needs="Phase 1 or later; a leerplichtig pupil.",
        does="Keeps the intervention (gesprek, waarschuwing, proces-verbaal) in the dossier.",
    ),
    "intrekken": EventRule(
        summary="Withdraws a case reported in error; the case closes.",
        phase="any open -> closed",
        needs="Any open phase.",
        does="Closes the case with uitkomst `ingetrokken` (the phase stays where it was); the Kindkans hulpvraag "
        "is withdrawn (PO), everyone involved is told, open tasks end, and the workflow completes with the final "
        "status.",
    ),
}
"""What each event needs and does in a version-2 case, in short English with the procedure's Dutch terms."""

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
    "leerplicht_registratie": {"lba_geregistreerd_op": "2026-01-20", "door": "leerplicht", "persoon": "lpa-0142"},
    "startdatum_correctie": {
        "startdatum": "2026-01-05",
        "reden": "Eerste verzuimdag volgens de LBA.",
        "door": "leerplicht",
    },
    "oudergesprek": {
        "deelnemers": ["school", "ouders", "scp"],
        "wensen_ouders": "Een kleine klas dicht bij huis.",
        "afspraken": "School vraagt een arrangement aan; volgend gesprek over vier weken.",
        "door": "school",
        "datum": "2026-01-22",
    },
    "plan_van_aanpak": {"in_opp": True, "instemming_ouders": True, "door": "school"},
    "route": {"route": "3.3", "variant": "tlv_sbo", "door": "scp"},
    "aanmelding_andere_school": {"school_brin": "34CD", "door": "ouders"},
    "zorgplicht_verlengd": {"door": "school"},
    "wachtlijst": {"op_wachtlijst": True, "door": "scp"},
    "voortgang": {"toelichting": "Proefplaatsing loopt; twee dagdelen per week op school.", "door": "school"},
    "opschalen": {
        "niveau": "taskforce",
        "reden_code": "geen_passende_plek",
        "reden": "Geen passende plek na de plaatsingsgesprekken.",
        "afgestemd_met_leerplicht": True,
        "afgestemd_met_school": True,
        "door": "coordinator",
    },
    "beoordeling": {
        "uitzicht": "Plaatsing op een SBO-school per 1 maart is toegezegd.",
        "herbeoordeling_op": "2026-03-02",
        "door": "scp",
    },
    "huisbezoek": {
        "samenvatting": "Gesprek met ouders en leerling thuis; wensen en zorgen in kaart.",
        "door": "taskforce",
    },
    "taskforce_besluit": {
        "besluit": "Plaatsing op een SBO-school met ambulante begeleiding.",
        "acties": [
            {"rol": "school", "omschrijving": "Draag het dossier over aan de SBO-school.", "uiterlijk": "2026-02-13"}
        ],
        "door": "taskforce",
    },
    "vrijstelling": {"status": "aangevraagd", "door": "ouders"},
    "passende_plek": {"uitkomst": "ingeschreven_andere_school", "school_brin": "34CD", "door": "scp"},
    "uitschrijving": {"uitgeschreven_op": "2026-03-03", "door": "school"},
    "afronden": {"toelichting": "Uitschrijving gecontroleerd; leerling gaat naar school.", "door": "scp"},
    "taak_afgerond": {"taak_id": "T4", "toelichting": "Hulpvraag en SISA-signaal gecontroleerd.", "door": "scp"},
    "toewijzen": {"rol": "scp", "persoon": "ppo-scp-0317", "door": "scp"},
    "document_toegevoegd": {
        "soort": "opp",
        "verwijzing": "kindkans:document/88121",
        "omschrijving": "OPP met plan van aanpak",
        "door": "school",
    },
    "gegevens_wijzigen": {"regio": "Zuid", "door": "coordinator"},
    "leerplicht_interventie": {
        "soort": "waarschuwing",
        "toelichting": "Ouders schriftelijk gewaarschuwd na twee gemiste afspraken.",
        "door": "leerplicht",
    },
    "intrekken": {"reden": "Leerling bleek ingeschreven op een andere school.", "door": "school"},
}
"""A valid payload of every event: shown in the docs and checked against the model and the schema in the tests."""

PERMISSION_VARIANTS: dict[str, list[tuple[str, list[dict[str, Any]]]]] = {
    "route": [
        ("`route` `3.1`, `3.2` or `3.3`", [{"route": "3.1", "variant": None}, {"route": "3.2"}, {"route": "3.3"}]),
        ("`route` `3.4`", [{"route": "3.4", "variant": None}]),
    ],
    "opschalen": [
        ("`niveau` `coordinator`", [{"niveau": "coordinator"}]),
        ("`niveau` `taskforce`", [{"niveau": "taskforce"}]),
    ],
    "vrijstelling": [
        ("`status` `aangevraagd`", [{"status": "aangevraagd"}]),
        ("`status` `verleend` or `afgewezen`", [{"status": "verleend"}, {"status": "afgewezen"}]),
    ],
}
"""The payload fields the permission table depends on, each as rows whose payloads must give the same roles (the
generator refuses to write a row that would hide a difference)."""

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
        default = node["default"]
        if len(json.dumps(default, ensure_ascii=False)) > 120:
            what = f"{len(default)} entries" if isinstance(default, list | dict) else "a long value"
            return f"default: {what} (in the schema)"
        return f"default {_code(default)}"
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
    """Real refusals produced by the rules for a new version-2 case in phase 1, so the examples cannot drift."""
    aanmelding = Aanmelding.model_validate(EXAMPLE_AANMELDING)
    state = rules.open_case(
        aanmelding,
        case_id="voorbeeld",
        workflow_id="thuiszitter-voorbeeld",
        now=_EXAMPLE_NOW,
        versie=CONTRACT_VERSIE,
    )
    by_event = next(t.id for t in state.taken if t.taak == "oudergesprek_organiseren")
    plek = {"niveau": "taskforce", "reden_code": "geen_passende_plek", "reden": "Geen plek."}
    tries: list[tuple[str, dict[str, Any]]] = [
        ("melding", {"gemeld_bij_leerplicht": True}),
        ("startdatum_correctie", {"startdatum": "2026-01-05", "reden": "Volgens de school.", "door": "school"}),
        ("opschalen", {**plek, "afgestemd_met_leerplicht": True, "afgestemd_met_school": True, "door": "school"}),
        ("opschalen", {**plek, "afgestemd_met_school": True, "door": "coordinator"}),
        ("route", {"route": "3.1", "door": "school"}),
        ("route", {"route": "3.3", "door": "school"}),
        ("beoordeling", {"uitzicht": "Plek in zicht.", "herbeoordeling_op": "2026-04-01", "door": "scp"}),
        ("afronden", {"toelichting": "Alles gecontroleerd.", "door": "scp"}),
        ("taak_afgerond", {"taak_id": by_event, "toelichting": "Gesprek gevoerd.", "door": "school"}),
        ("melding", {"gemeld_bij_leerplicht": True, "door": "school", "school": "12AB"}),
    ]
    found = []
    for name, payload in tries:
        try:
            rules.check(state, name, rules.parse(name, payload, CONTRACT_VERSIE), _EXAMPLE_NOW)
        except rules.Weigering as refusal:
            found.append((name, payload, refusal.reden))
        else:
            raise AssertionError(f"voorbeeld van een weigering wordt niet geweigerd: {name} {payload}")
    return found


# ------------------------------------------------------------------------------------- who may send which event


@dataclass(frozen=True)
class PermissionRow:
    event: str
    when: str
    po: str
    vo: str


def _roles_text(roles: Sequence[Door]) -> str:
    if set(roles) == set(Door):
        return "any role"
    if not roles:
        return "none"
    return ", ".join(f"`{door.value}`" for door in Door if door in roles)


def _allowed(name: str, payload: dict[str, Any], *, uit_buitenland: bool) -> tuple[str, str]:
    event = EVENTS[name].model_validate({**EXAMPLES[name], **payload})
    po, vo = (
        _roles_text(allowed_roles(name, event, sector=sector, uit_buitenland=uit_buitenland))
        for sector in (Sector.PO, Sector.VO)
    )
    return po, vo


def permission_rows() -> list[PermissionRow]:
    """The permission table as :func:`workflows.permissions.allowed_roles` decides it: a row per event, more where
    the payload (:data:`PERMISSION_VARIANTS`) or a pupil from abroad changes who may send it."""
    rows: list[PermissionRow] = []
    for name in EVENTS:
        if name == "taak_afgerond":
            event = EVENTS[name].model_validate(EXAMPLES[name])
            for door in Door:
                for sector in Sector:
                    if allowed_roles(name, event, sector=sector, uit_buitenland=False, task_role=door.value) != (door,):
                        raise AssertionError("taak_afgerond: de toegestane rol is niet meer de rol van de taak")
            task_role = "the role of the open task that `taak_id` names"
            rows.append(PermissionRow(name, "", task_role, task_role))
            continue
        for when, payloads in PERMISSION_VARIANTS.get(name, [("", [{}])]):
            for abroad in (False, True):
                answers = {_allowed(name, payload, uit_buitenland=abroad) for payload in payloads}
                if len(answers) != 1:
                    raise AssertionError(f"{name}: de rij '{when}' verbergt een verschil; splits PERMISSION_VARIANTS")
                po, vo = answers.pop()
                if not abroad:
                    rows.append(PermissionRow(name, when, po, vo))
                elif (po, vo) != (rows[-1].po, rows[-1].vo):
                    label = "pupil from abroad (`uit_buitenland`)"
                    rows.append(PermissionRow(name, f"{when}; {label}" if when else label, po, vo))
    return rows


def _permission_section(rows: list[PermissionRow]) -> list[str]:
    lines = [
        "## Who may send which event",
        "",
        "Every event names the role that acted (`door`). The rules refuse an event from a role that may not send it, "
        "naming the role and who may (an update: a failed update; a signal: an entry in `status.afgewezen`). The "
        "table is rendered from `workflows/permissions.py`, which the rules enforce and the web application and "
        "the API check before an event reaches a case. *None*: no role may, so the rules refuse it from anyone.",
        "",
        "| event | when | PO (PPO Rotterdam) | VO (Koers VO) |",
        "| --- | --- | --- | --- |",
    ]
    for row in rows:
        lines.append(f"| [`{row.event}`](#{row.event}) | {_cell(row.when)} | {_cell(row.po)} | {_cell(row.vo)} |")
    lines += [
        "",
        "Beyond the table the rules decide by where the case stands: a `beoordeling` comes from the SCP or "
        "Koersloket while the case is not escalated, and from the coordinator once it is escalated to them.",
    ]
    return lines


# ------------------------------------------------------------------------------------------------ tasks as work


def _task_section() -> list[str]:
    beleid = DEFAULT_BELEID
    lines = [
        "## Tasks and what finishes them",
        "",
        "In a version-2 case every step a person must take is a task in `open_taken`: a stable `id` (`T1`, `T2`, "
        "...), the `rol` that must act, the kind of task (`taak`), a Dutch `omschrijving`, a due date "
        "(`uiterlijk`), `te_laat` once that has passed (the due date stays; the role is reminded once, on the "
        "first working day after the due date, or for a school the first school day, unless a term of the "
        "procedure already reminds it), and the "
        "person who holds the role in this case (`toegewezen_aan`, see `toewijzen`). A task stays open until the "
        "event that fulfils it arrives, or, where no event does, its role finishes it by hand with "
        "[`taak_afgerond`](#taak_afgerond); finished tasks are listed in `afgeronde_taken`. Every task also ends "
        "when the case closes, and a step the case no longer needs (a route changed, the case escalated past it) "
        "ends with the event that made it so.",
        "",
        "The due date is the procedure's own term where one applies (the reminder of the LBA registration, the "
        "oudergesprek and the plan, the twelve-week check, the zorgplicht term, the Kerngroep meeting, a "
        f"Taskforce action's date); otherwise {beleid.taak_werkdagen} working days after the task opens, or per "
        "kind: "
        + ", ".join(f"`{taak}` {dagen}" for taak, dagen in sorted(beleid.taak_werkdagen_per_soort.items()))
        + " (the policy, `taak_werkdagen` and `taak_werkdagen_per_soort`). Rendered from "
        "`workflows.work.FULFILLED_BY`:",
        "",
        "| task (`taak`) | finished by |",
        "| --- | --- |",
    ]
    for taak, events in FULFILLED_BY.items():
        by = " or ".join(
            "by hand (`taak_afgerond`)" if event == BY_HAND else f"[`{event}`](#{event})" for event in events
        )
        lines.append(f"| `{taak}` | {by} |")
    return lines


# ------------------------------------------------------------------------------------------------ version 1


def _version_1_differences() -> list[tuple[str, str]]:
    """Per version-1 event, the fields (besides ``door``) whose type or presence differs from version 2."""
    found = []
    for name, model in EVENTS_VERSIE_1.items():
        v1 = model.model_json_schema()
        v2 = EVENTS[name].model_json_schema()
        differences = []
        for field, node in v1["properties"].items():
            if field == "door":
                continue
            other = v2["properties"].get(field, {})
            bare = [{k: v for k, v in n.items() if k not in ("description", "title")} for n in (node, other)]
            required = [field in schema.get("required", []) for schema in (v1, v2)]
            if bare[0] != bare[1] or required[0] != required[1]:
                presence = _presence(field, node, v1.get("required", []))
                differences.append(f"`{field}`: {type_text(node, v1.get('$defs', {}))}, {presence}")
        if differences:
            found.append((name, "; ".join(differences)))
    return found


def _version_1_section() -> list[str]:
    only_v2 = [name for name in EVENTS if name not in EVENTS_VERSIE_1]
    free_door = rules.parse("melding", {"gemeld_bij_leerplicht": True, "door": "intake-script"}, 1)
    assert free_door.door == "intake-script"
    try:
        rules.parse(only_v2[0], EXAMPLES[only_v2[0]], 1)
    except rules.Weigering as refusal:
        unknown = refusal.reden
    else:
        raise AssertionError(f"een zaak van versie 1 neemt {only_v2[0]} aan")
    lines = [
        "## Version 1 cases",
        "",
        f"New cases follow contract version {CONTRACT_VERSIE}: the workflow marks the `{PATCH_CONTRACT_V2}` patch "
        "when a case starts. A case that started before it follows version 1 for its whole life, through "
        "continue-as-new too, until it closes; `status.contract_versie` says which version a case follows "
        "(see [versioning](versioning.md)). A version-1 case accepts the names and payloads of version 1 "
        "(`workflows.contract.EVENTS_VERSIE_1`):",
        "",
        "- the events "
        + ", ".join(f"`{name}`" for name in EVENTS_VERSIE_1)
        + "; the others ("
        + ", ".join(f"`{name}`" for name in only_v2)
        + f") are refused, e.g. `{unknown}`;",
        '- `door` is optional free text (1-200 characters, e.g. `"intake-script"`), and no role is checked;',
        "- the payloads of version 2 otherwise, with these differences:",
        "",
        "| event | in version 1 |",
        "| --- | --- |",
        *(f"| `{name}` | {_cell(text)} |" for name, text in _version_1_differences()),
        "",
        "Fields that version 2 added (`persoon`, the oudergesprek's texts, a decision's `acties`, `reden_code`) are "
        "accepted and ignored. A version-1 case keeps the rules of version 1:",
        "",
        "- `passende_plek` moves to phase 4 and closes the case at once; there is no `uitschrijving` or `afronden`;",
        "- the twelve-week term escalates to the coordinator by itself; there is no check and no `beoordeling`;",
        "- open tasks are derived anew from where the case stands (no `id`, no `te_laat`); a call an outside system "
        "refused becomes a task `handmatige_actie_<n>`, finished with `voortgang` `afgehandelde_taken`;",
        "- route 3.3 has the variants " + ", ".join(f"`{v}`" for v in ROUTE_33_VARIANTEN) + " in PO and VO alike;",
        "- the age on the start date decides leerplicht (a pupil of 4 stays not leerplichtig), and a VO melding "
        "also creates the Kindkans hulpvraag and the SISA signal;",
        "- a VO case may escalate to the coordinator too; escalation to the Taskforce always needs both "
        "afstemmingen; reminders may fall in school holidays;",
        "- in `status`, `contract_versie` is 1, and `twaalf_weken_check`, `afgeronde_taken`, `toegewezen`, "
        "`documenten`, `kerngroep_bespreking_op` and the `dossier` stay empty.",
    ]
    return lines


# --------------------------------------------------------------------------------------------- the whole text


def _own_fields(schema: dict[str, Any], common: dict[str, Any]) -> dict[str, Any]:
    """An event's own fields: besides its own, a common field that the event makes its own (``toewijzen`` names
    the person it assigns in ``persoon``, required)."""
    required = set(schema.get("required", []))
    common_required = set(common.get("required", []))
    return {
        name: node
        for name, node in schema.get("properties", {}).items()
        if name not in COMMON_EVENT_FIELDS
        or node != common["properties"][name]
        or (name in required) != (name in common_required)
    }


def _event_lines(name: str, schema: dict[str, Any], common: dict[str, Any], rows: list[PermissionRow]) -> list[str]:
    rule = EVENT_RULES[name]
    defs: dict[str, Any] = schema.get("$defs", {})
    who = [
        (f"{row.when}: " if row.when else "") + (f"{row.po}" if row.po == row.vo else f"PO {row.po}; VO {row.vo}")
        for row in rows
        if row.event == name
    ]
    lines = [
        "",
        f"### {name}",
        "",
        f"{rule.summary} Signal and update `{name}`; schema: [`schema/{name}.json`](schema/{name}.json).",
        "",
        *fields_table({**schema, "properties": _own_fields(schema, common)}, defs),
    ]
    for definition in defs.values():
        if definition.get("type") == "object":
            lines += ["", f"Fields of `{definition['title']}`:", "", *fields_table(definition, defs)]
    lines += [
        "",
        "- **Who (`door`):** " + "; ".join(who) + ".",
        f"- **Needs:** {rule.needs}",
        f"- **Does:** {rule.does}",
        "",
        "Example:",
        "",
        *_json_block(EXAMPLES[name]),
    ]
    return lines


def render_contract(all_schemas: dict[str, dict[str, Any]]) -> str:
    start = all_schemas["Aanmelding"]
    status = all_schemas["CaseStatus"]
    example_ref = EXAMPLE_AANMELDING["leerling_ref"]
    permissions = permission_rows()
    lines: list[str] = [
        "# The case contract",
        "",
        "<!-- Generated by `python -m devtools.contract_docs` from workflows/contract.py, workflows/permissions.py, "
        "workflows/work.py and workflows/effects.py; do not edit by hand. `python -m devtools.contract_docs "
        "--check` fails when this file is stale. -->",
        "",
        "Other services (the intake script, the Kindkans and LBA integrations, the coordinators' tools, the "
        "acceptance tests) talk to a case only through Temporal, by the names on this page. This is contract "
        f"version {CONTRACT_VERSIE}: it keeps every name of version 1, requires `door` (the role that acted) on "
        "every event and checks it against the [permission table](#who-may-send-which-event), keeps tasks until "
        "they are done, makes the twelve-week term a decision, and closes a case only after the checks of phase "
        "4. Payloads may gain optional fields; nothing is renamed or removed without a new contract version. Cases "
        "started under version 1 keep it until they close ([Version 1 cases](#version-1-cases)). The JSON Schema "
        "of every payload, generated from the models, is in [`schema/`](schema/). The Dutch terms are explained "
        "in the [glossary](glossary.md).",
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
        "- `geboortedatum` lies before `startdatum`, and on `startdatum` the pupil is "
        + " or ".join(f"{laag} to {hoog} years old ({sector.value})" for sector, (laag, hoog) in LEEFTIJDEN.items())
        + ";",
        "- `startdatum` is not in the future (Amsterdam time).",
        "",
        "Example:",
        "",
        *_json_block(EXAMPLE_AANMELDING),
        "",
        "## Events",
        "",
        "Every event is a **signal** and an **update** of the same name with the same payload. The signal is "
        "fire-and-forget. The update's validator first refuses what does not fit (a bad payload, a role that may "
        "not send it, the wrong phase, a missing step), and on success the update returns the new `status` "
        "(`CaseStatus`). Every payload carries `door` and may carry `persoon` and `datum`, besides its own "
        "fields; unknown fields are refused.",
        "",
        "| field | type | required / default | description |",
        "| --- | --- | --- | --- |",
    ]
    common = all_schemas[next(iter(EVENTS))]
    for field in COMMON_EVENT_FIELDS:
        node = common["properties"][field]
        presence = _presence(field, node, common.get("required", []))
        lines.append(
            f"| `{field}` | {_cell(type_text(node, common.get('$defs', {})))} | {presence} | "
            f"{_cell(COMMON_EVENT_FIELDS[field])} |"
        )
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
        lines += _event_lines(name, all_schemas[name], common, permissions)
    lines += [
        "",
        *_permission_section(permissions),
        "",
        *_task_section(),
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
        "When the case closes (`afronden` after phase 4, or `intrekken`; in a version-1 case `passende_plek` or "
        "`intrekken`) the workflow runs its last effects and completes with the final `CaseStatus`: `afgesloten` "
        "is true and `uitkomst` says how it closed. A closed case answers the `status` query as long as Temporal "
        "keeps its history.",
        "",
        "## Refusals",
        "",
        f"- **Update:** the validator refuses before anything is written to the history. The caller gets a "
        f"failed update (`WorkflowUpdateFailedError` in the Python SDK) whose cause is an `ApplicationError` of "
        f"type `{REFUSAL_TYPE}`, non-retryable, with a Dutch message `<event>: <reason>` that names the field "
        "and the rule, the role, or the missing step. The message never repeats the values that were sent.",
        "- **Signal:** never fails the workflow. A refused signal is not applied and is appended to "
        f"`status.afgewezen` as `{{tijd, gebeurtenis, reden}}` with the same Dutch reason (the last "
        f"{rules.MAX_AFGEWEZEN} are kept).",
        f"- **Start:** a second start while a case is open fails with `WorkflowAlreadyStartedError`; a start "
        f"input that breaks the rules above fails the new case with an `ApplicationError` of type "
        f"`{START_REFUSAL_TYPE}`.",
        "",
        "Refusals as the rules give them, for a new (version-2) PO case in phase 1:",
        "",
        "| event | payload | reason (`message` / `reden`) |",
        "| --- | --- | --- |",
    ]
    for name, payload, reden in _refusal_examples():
        payload_text = json.dumps(payload, ensure_ascii=False)
        lines.append(f"| `{name}` | `{_cell(payload_text)}` | {_cell(reden)} |")
    lines += ["", *_version_1_section(), ""]
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
