"""Assignment at the start (``rules.assign``): the people the directory found hold their roles' tasks."""

from __future__ import annotations

from tests.workflows.rules.build import OPENED, queued
from tests.workflows.rules.v2.build_v2 import drained, opened
from workflows import rules
from workflows.effects import Bericht

FOUND = {"scp": "scp-12ab-01", "coordinator": "coordinator-noord-01", "school": "school-12ab-01"}


def test_the_people_found_hold_their_roles_and_the_case_records_it_once() -> None:
    before = drained(opened())
    after = rules.assign(before, FOUND, OPENED)
    assert after.toegewezen == FOUND and before.toegewezen == {}
    line = after.tijdlijn[-1]
    assert (line.gebeurtenis, line.door) == ("toewijzen", "systeem")
    assert line.toelichting is not None and "de schoolcontactpersoon (PPO) aan scp-12ab-01" in line.toelichting
    assert queued(before, after) == ["vastlegging toewijzen"]  # one register line, no message
    status = rules.status(after, OPENED)
    assert {t.rol.value: t.toegewezen_aan for t in status.open_taken}.get("scp") == "scp-12ab-01"


def test_roles_already_held_unknown_roles_and_bad_ids_are_left_out() -> None:
    before = rules.assign(drained(opened()), {"scp": "scp-eerste"}, OPENED)
    found = {"scp": "scp-tweede", "beheerder": "beheerder-01", "coordinator": "geen geldig id!"}
    assert rules.assign(before, found, OPENED) is before  # nothing left to assign: the state as it was
    assert before.toegewezen == {"scp": "scp-eerste"}


def test_a_version_1_case_and_an_empty_answer_change_nothing() -> None:
    old = drained(opened(versie=1))
    assert rules.assign(old, FOUND, OPENED) is old
    new = drained(opened())
    assert rules.assign(new, {}, OPENED) is new


def test_messages_queued_before_the_assignment_go_to_the_person_after_it() -> None:
    state = opened()  # the melding's messages are queued, not yet sent
    messages = [e for e in rules.take_effects(state) if isinstance(e, Bericht)]
    scp_message = next(m for m in messages if m.rol.value == "scp")
    assert scp_message.ontvanger is None and scp_message.school_brin == "12AB" and scp_message.contract_versie == 2
    assigned = rules.assign(drained(state), FOUND, OPENED)
    readdressed = rules.addressed_again(assigned, scp_message)
    assert isinstance(readdressed, Bericht) and readdressed.ontvanger == "scp-12ab-01"
    ouders = next(m for m in messages if m.rol.value == "ouders")
    assert rules.addressed_again(assigned, ouders) == ouders  # parents are no person in the directory
