"""A status of version 2 stays small however long a case runs (acceptance 5 of issue 16: under 256 KB for a case
with 1,000 events of maximal size).

A case at the Taskforce receives 1,000 events, each with the largest text every field allows (free text 4,000
characters, kept text 2,000, short text 200, a person id of 64): Taskforce decisions with five actions each, the
actions finished by hand with their notes, documents, Leerplicht's interventions, progress reports and refused
events. The status (what the query answers and every update returns) is measured as the JSON the converter sends.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from pydantic import BaseModel

from tests.workflows.rules.build import OPENED
from tests.workflows.rules.v2.build_v2 import by, drained, go, in_phase, to_taskforce
from workflows import rules
from workflows import state as bounds
from workflows.contract import CaseStatus
from workflows.rules import CaseState

LIMIT = 256 * 1024
EVENTS = 1_000
PERSOON = "p" * 64


def text(size: int, number: int, filler: str = "x") -> str:
    """The largest text of a field, distinct per event (so that no event is a repeat of another)."""
    return f"{number:06d} ".ljust(size, filler)


def actions(number: int, filler: str) -> list[dict[str, Any]]:
    return [
        {"rol": rol, "omschrijving": text(200, number * 10 + n, filler), "uiterlijk": "2025-06-30"}
        for n, rol in enumerate(["school", "wijkteam", "leerplicht", "ouders", "taskforce"])
    ]


def flood(state: CaseState, *, finish_actions: bool = True, filler: str = "x") -> tuple[CaseState, CaseStatus]:
    """1,000 events of maximal size, ten at a time: a Taskforce decision with five actions; five times the next open
    action finished by hand (or, with ``finish_actions`` off, a progress report); a document; an intervention; a
    home-visit report from a role that may not send it (refused); a progress report."""
    at = OPENED
    for number in range(EVENTS):
        at += timedelta(minutes=7)
        kind = number % 10
        open_actions = [t for t in state.taken if t.taak == "taskforce_actie"]
        if kind == 0:
            besluit = {"besluit": text(2000, number, filler), "acties": actions(number, filler), "persoon": PERSOON}
            state = rules.receive(state, "taskforce_besluit", by("taskforce", besluit), at)
        elif kind <= 5 and finish_actions and open_actions:
            done = {"taak_id": open_actions[0].id, "toelichting": text(2000, number, filler), "persoon": PERSOON}
            state = rules.receive(state, "taak_afgerond", by(open_actions[0].rol.value, done), at)
        elif kind == 6:
            document = {"soort": "overig", "verwijzing": text(200, number), "omschrijving": text(200, number, filler)}
            state = rules.receive(state, "document_toegevoegd", by("school", {**document, "persoon": PERSOON}), at)
        elif kind == 7:
            interventie = {"soort": "waarschuwing", "toelichting": text(2000, number, filler), "persoon": PERSOON}
            state = rules.receive(state, "leerplicht_interventie", by("leerplicht", interventie), at)
        elif kind == 8:
            state = rules.receive(state, "huisbezoek", by("school", {"samenvatting": text(2000, number, filler)}), at)
        else:
            state = rules.receive(state, "voortgang", by("school", {"toelichting": text(4000, number, filler)}), at)
        state = drained(rules.fire_due_terms(state, at))
    return state, rules.status(state, at)


def at_the_taskforce(filler: str = "x") -> CaseState:
    """A PO case escalated twice, with the home-visit report and an oudergesprek of maximal size."""
    state = go(to_taskforce(), "huisbezoek", {"samenvatting": text(2000, 0, filler)}, "taskforce")
    texts = {f: text(2000, n, filler) for n, f in enumerate(["wensen_ouders", "besproken_opties", "afspraken"])}
    state = go(state, "oudergesprek", {"deelnemers": ["school", "ouders", "scp"], **texts}, "scp")
    return drained(state)


def size(status: CaseStatus) -> int:
    return len(status.model_dump_json().encode())


def test_a_status_stays_under_256_kb_after_1000_events_of_maximal_size() -> None:
    state, status = flood(at_the_taskforce())

    assert size(status) < LIMIT, f"status of {size(status):,} bytes"
    # every list the case keeps was filled to its bound, with the latest kept
    assert state.tijdlijn_totaal > EVENTS - EVENTS // 10 and len(status.tijdlijn) == rules.MAX_TIJDLIJN
    assert len(status.afgewezen) == rules.MAX_AFGEWEZEN and status.afgewezen_totaal == EVENTS // 10
    # the lists of what people wrote keep their latest entries, as many as fit their share of the status
    notes = [t.toelichting or "" for t in status.afgeronde_taken if t.via == "taak_afgerond"]
    assert len(notes) > 10 and notes[0].startswith("000995")  # the status shows the latest first
    assert status.documenten[-1].verwijzing.startswith("000996") and len(status.documenten) > 20
    assert status.dossier.interventies[-1].toelichting.startswith("000997") and len(status.dossier.interventies) > 5
    assert status.dossier.besluiten[-1].besluit.startswith("000990") and len(status.dossier.besluiten) > 5
    kept: list[tuple[Sequence[BaseModel], int]] = [
        (status.afgeronde_taken, bounds.BYTES_AFGERONDE_TAKEN),
        (status.documenten, bounds.BYTES_DOCUMENTEN),
        (status.dossier.interventies, bounds.BYTES_INTERVENTIES),
        (status.dossier.besluiten, bounds.BYTES_BESLUITEN),
    ]
    for entries, budget in kept:
        assert sum(len(entry.model_dump_json().encode()) for entry in entries) <= budget
    assert len(status.open_taken) < 20


def test_lists_keep_their_latest_entries_within_count_and_size() -> None:
    state, _ = flood(at_the_taskforce("🧒"), filler="🧒")
    ascii_state, _ = flood(at_the_taskforce())
    # four-byte texts take four times the room: fewer of them are kept, the latest still among them
    assert 1 <= len(state.afgeronde_taken) < len(ascii_state.afgeronde_taken) <= bounds.MAX_AFGERONDE_TAKEN
    notes = [t.toelichting or "" for t in state.afgeronde_taken if t.via == "taak_afgerond"]
    assert notes and notes[-1].startswith("000995")
    assert len(state.dossier.besluiten) < len(ascii_state.dossier.besluiten)


def test_a_status_stays_small_after_1000_progress_reports_of_maximal_size() -> None:
    state = drained(in_phase(3))
    at = OPENED
    for number in range(EVENTS):
        at += timedelta(minutes=7)
        state = rules.receive(state, "voortgang", by("school", {"toelichting": text(4000, number)}), at)
        state = drained(rules.fire_due_terms(state, at))
    status = rules.status(state, at)
    assert state.tijdlijn_totaal > EVENTS and size(status) < LIMIT // 4, f"status of {size(status):,} bytes"


def test_a_status_stays_under_256_kb_when_taskforce_actions_stay_open() -> None:
    _, status = flood(at_the_taskforce(), finish_actions=False)
    assert size(status) < LIMIT, f"status of {size(status):,} bytes, {len(status.open_taken)} open tasks"
    # the decisions came until the open actions reached their bound; the next ones were refused, each saying why
    open_actions = [t for t in status.open_taken if t.taak == "taskforce_actie"]
    assert len(open_actions) == bounds.MAX_OPEN_ACTIES
    refused = [a for a in status.afgewezen if a.gebeurtenis == "taskforce_besluit"]
    assert refused and "taak_afgerond" in refused[-1].reden


def test_a_status_stays_under_256_kb_with_texts_of_four_byte_characters() -> None:
    _, status = flood(at_the_taskforce("🧒"), filler="🧒")
    assert size(status) < LIMIT, f"status of {size(status):,} bytes"
