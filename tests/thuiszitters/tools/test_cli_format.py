"""What the command line shows of a case, on statuses the real rules produce, and what it makes of ``door`` and
``persoon`` (no server needed)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from thuiszitters.people.policy import Actor
from thuiszitters.tools import cli
from workflows import rules
from workflows.contract import Aanmelding, CaseStatus

START = datetime(2026, 1, 19, 9, 0, tzinfo=UTC)
LATER = datetime(2026, 4, 10, 9, 0, tzinfo=UTC)  # past twelve weeks: the check is open, early tasks are overdue


def _case(**fields: Any) -> rules.CaseState:
    aanmelding = Aanmelding.model_validate(
        {
            "leerling_ref": "L-cli-1",
            "geboortedatum": "2016-05-14",
            "sector": "PO",
            "regio": "Noord",
            "school_brin": "12AB",
            "startdatum": "2026-01-12",
            **fields,
        }
    )
    return rules.open_case(aanmelding, case_id="c", workflow_id="w", now=START)


def _lines(text: str, start: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith(start)]


def test_open_tasks_show_their_id_due_date_and_whether_they_are_overdue():
    status = rules.status(rules.fire_due_terms(_case(), LATER), LATER)
    text = cli.format_status(status)
    tasks = _lines(text, "  - T")
    assert len(tasks) == len(status.open_taken)
    for taak, line in zip(status.open_taken, tasks, strict=True):
        assert line.startswith(f"  - {taak.id} {taak.rol.value}: {taak.omschrijving}")
        assert taak.uiterlijk is not None
        assert line.endswith(f"(uiterlijk {taak.uiterlijk.isoformat()}" + (", TE LAAT)" if taak.te_laat else ")"))
    assert any(t.te_laat for t in status.open_taken) and any(not t.te_laat for t in status.open_taken)
    assert "contract    versie 2" in text


def test_the_twelve_week_check_and_the_kerngroep_meeting_are_shown():
    state = rules.fire_due_terms(_case(), LATER)
    status = rules.status(state, LATER)
    assert status.twaalf_weken_check is not None
    uiterlijk = status.twaalf_weken_check.uiterlijk.isoformat()
    assert f"  12wk-check  open: besluit nodig, uiterlijk {uiterlijk}" in cli.format_status(status)

    uitzicht = {"uitzicht": "Plek in zicht.", "herbeoordeling_op": "2026-05-01", "door": "scp"}
    text = cli.format_status(rules.status(rules.receive(state, "beoordeling", uitzicht, LATER), LATER))
    assert "  12wk-check  uitzicht op een oplossing, komt terug op 2026-05-01" in text
    assert "kerngroep" not in text

    opschalen = {
        "niveau": "taskforce",
        "reden_code": "proces_loopt_vast",
        "reden": "Partijen komen er niet uit.",
        "afgestemd_met_leerplicht": True,
        "afgestemd_met_school": True,
        "door": "coordinator",
    }
    escalated = rules.status(rules.receive(state, "opschalen", opschalen, LATER), LATER)
    assert escalated.kerngroep_bespreking_op is not None
    text = cli.format_status(escalated)
    assert "  12wk-check  opgeschaald" in text
    assert f"  kerngroep   bespreking op {escalated.kerngroep_bespreking_op.isoformat()}" in text


def test_before_twelve_weeks_there_is_no_check_line_and_a_young_pupil_shows_when_leerplicht_begins():
    status = rules.status(_case(geboortedatum="2021-09-20"), START)
    assert status.twaalf_weken_check is None and status.leerplichtig_vanaf is not None
    text = cli.format_status(status)
    assert "12wk-check" not in text
    assert f"  leerplicht  nee (leerplichtig vanaf {status.leerplichtig_vanaf.isoformat()})" in text


# ----------------------------------------------------------------------------------------------------------- door


def _status(state: rules.CaseState) -> CaseStatus:
    return rules.status(state, START)


SCHOOL = Actor(persoon_id="school-12ab-01", rol="school", scholen=frozenset({"12AB"}))


def test_door_and_persoon_come_from_the_person_who_runs_the_command():
    assert cli.sender_payload(SCHOOL, "melding", {"gemeld_bij_leerplicht": True}) == {
        "gemeld_bij_leerplicht": True,
        "door": "school",
        "persoon": "school-12ab-01",
    }
    filled = {"door": "school", "persoon": "school-12ab-01"}
    assert cli.sender_payload(SCHOOL, "melding", {"door": "school"}) == filled
    assert cli.sender_payload(SCHOOL, "melding", {}, "school") == filled
    # In toewijzen, persoon is the person assigned: kept as sent.
    toewijzen = {"rol": "school", "persoon": "school-12ab-02"}
    assert cli.sender_payload(SCHOOL, "toewijzen", toewijzen) == {**toewijzen, "door": "school"}


def test_another_role_or_person_is_refused_not_corrected():
    with pytest.raises(cli.Geweigerd, match="kies één van beide"):
        cli.sender_payload(SCHOOL, "melding", {"door": "scp"}, "school")
    with pytest.raises(cli.Geweigerd, match=r"u bent aangemeld als de school; een andere rol \('scp'\) kan niet"):
        cli.sender_payload(SCHOOL, "melding", {}, "scp")
    with pytest.raises(cli.Geweigerd, match="alleen namens uzelf"):
        cli.sender_payload(SCHOOL, "melding", {"persoon": "scp-12ab-01"})
    with pytest.raises(cli.Geweigerd) as refusal:
        cli.sender_payload(SCHOOL, "melding", {"door": "directeur van de school"})
    assert str(refusal.value).startswith("door: 'directeur van de school' is geen rol")
    assert refusal.value.reden == "door in de inhoud is geen rol"  # what the audit log keeps: nothing sent along
    with pytest.raises(cli.Geweigerd, match="is geen rol"):
        cli.sender_payload(SCHOOL, "melding", {"door": ["school"]})
    ouderfunctionaris = Actor(persoon_id="of-1", rol="ouderfunctionaris", regio="Noord")
    with pytest.raises(cli.Geweigerd, match="stuurt geen gebeurtenissen"):
        cli.sender_payload(ouderfunctionaris, "voortgang", {"toelichting": "x"})


def test_a_version_1_task_without_id_or_due_date_shows_neither():
    status = _status(_case())
    taak = status.open_taken[0].model_copy(update={"id": None, "uiterlijk": None})
    text = cli.format_status(status.model_copy(update={"open_taken": [taak], "contract_versie": 1}))
    assert f"  - {taak.rol.value}: {taak.omschrijving}\n" in text + "\n"
