"""The payloads of contract version 2: each event's fields, their bounds and the refusals that name them.

Version 2 bounds the texts a case keeps and shows (``KeptText``: 2,000 characters) tighter than free text that is
only passed on (``FreeText``: 4,000); version 1 keeps 4,000 for all (``tests/workflows/rules/test_refusals.py``).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from tests.workflows.rules import build as v1
from tests.workflows.rules.build import OPENED, refusal
from tests.workflows.rules.v2.build_v2 import VERSIE, in_phase
from workflows import rules
from workflows.contract import EVENTS, EVENTS_VERSIE_1

VALID: dict[str, dict[str, Any]] = {
    "melding": {"gemeld_bij_leerplicht": True, "door": "school"},
    "leerplicht_registratie": {"lba_geregistreerd_op": "2025-02-20", "door": "leerplicht"},
    "startdatum_correctie": {"startdatum": "2025-01-27", "reden": "LBA.", "door": "leerplicht"},
    "oudergesprek": {"deelnemers": ["school", "ouders", "scp"], "door": "scp"},
    "plan_van_aanpak": {"in_opp": True, "instemming_ouders": True, "door": "school"},
    "route": {"route": "3.1", "door": "school"},
    "aanmelding_andere_school": {"school_brin": "34CD", "door": "ouders"},
    "zorgplicht_verlengd": {"door": "school"},
    "wachtlijst": {"op_wachtlijst": True, "door": "scp"},
    "voortgang": {"toelichting": "Stand van zaken.", "door": "wijkteam"},
    "opschalen": {"niveau": "coordinator", "reden_code": "overig", "reden": "Traag.", "door": "scp"},
    "beoordeling": {"uitzicht": "Plek in april.", "herbeoordeling_op": "2025-03-20", "door": "scp"},
    "huisbezoek": {"samenvatting": "Verslag.", "door": "taskforce"},
    "taskforce_besluit": {
        "besluit": "Besluit.",
        "acties": [{"rol": "school", "omschrijving": "Zoek een school.", "uiterlijk": "2025-03-20"}],
        "door": "taskforce",
    },
    "vrijstelling": {"status": "aangevraagd", "door": "ouders"},
    "passende_plek": {"uitkomst": "terug_op_school", "door": "school"},
    "uitschrijving": {"uitgeschreven_op": "2025-03-01", "door": "school"},
    "afronden": {"toelichting": "Gecontroleerd.", "door": "scp"},
    "taak_afgerond": {"taak_id": "T1", "toelichting": "Gedaan.", "door": "scp"},
    "toewijzen": {"rol": "school", "persoon": "mentor-7", "door": "school"},
    "document_toegevoegd": {"soort": "opp", "verwijzing": "dms://opp/1", "omschrijving": "OPP", "door": "school"},
    "gegevens_wijzigen": {"regio": "Zuid", "door": "coordinator"},
    "leerplicht_interventie": {"soort": "gesprek", "toelichting": "Ouders gesproken.", "door": "leerplicht"},
    "intrekken": {"reden": "Ten onrechte.", "door": "scp"},
}


def test_every_event_of_version_2_has_a_valid_example_here_and_version_1_is_a_part_of_it() -> None:
    assert set(VALID) == set(EVENTS) and set(EVENTS_VERSIE_1) < set(EVENTS)
    for name, payload in VALID.items():
        rules.parse(name, payload, VERSIE)


BOUNDS: list[tuple[str, str, int, dict[str, Any]]] = [
    # (event, field, the bound, the payload around it)
    ("voortgang", "toelichting", 4000, {}),
    ("startdatum_correctie", "reden", 4000, {}),
    ("intrekken", "reden", 4000, {}),
    ("opschalen", "reden", 2000, {}),
    ("huisbezoek", "samenvatting", 2000, {}),
    ("taskforce_besluit", "besluit", 2000, {}),
    ("oudergesprek", "wensen_ouders", 2000, {}),
    ("oudergesprek", "besproken_opties", 2000, {}),
    ("oudergesprek", "afspraken", 2000, {}),
    ("beoordeling", "uitzicht", 2000, {}),
    ("afronden", "toelichting", 2000, {}),
    ("taak_afgerond", "toelichting", 2000, {}),
    ("leerplicht_interventie", "toelichting", 2000, {}),
    ("document_toegevoegd", "verwijzing", 200, {}),
    ("document_toegevoegd", "omschrijving", 200, {}),
    ("route", "variant", 200, {"route": "3.1"}),
]


@pytest.mark.parametrize(("name", "field", "limit", "around"), BOUNDS, ids=[f"{n}-{f}" for n, f, *_ in BOUNDS])
def test_each_text_of_version_2_has_its_own_bound(name: str, field: str, limit: int, around: dict[str, Any]) -> None:
    payload = {**VALID[name], **around}
    reden = refusal(in_phase(3), name, {**payload, field: "y" * (limit + 1)})
    assert f"veld '{field}': te lang (hoogstens {limit} tekens)" in reden
    rules.parse(name, {**payload, field: "y" * limit}, VERSIE)  # the bound itself is allowed


@pytest.mark.parametrize(("name", "field"), [("opschalen", "reden"), ("huisbezoek", "samenvatting")])
def test_a_text_that_version_2_keeps_is_bounded_tighter_than_in_version_1(name: str, field: str) -> None:
    v1_payload = {k: v for k, v in VALID[name].items() if k not in ("reden_code", "acties")}
    rules.parse(name, {**v1_payload, field: "y" * 4000}, 1)
    with pytest.raises(rules.Weigering, match="hoogstens 2000 tekens"):
        rules.parse(name, {**VALID[name], field: "y" * 4000}, VERSIE)


def test_an_action_of_a_taskforce_decision_is_bounded() -> None:
    actie = {"rol": "school", "omschrijving": "y" * 201, "uiterlijk": "2025-03-20"}
    reden = refusal(in_phase(3), "taskforce_besluit", {**VALID["taskforce_besluit"], "acties": [actie]})
    assert "veld 'acties.0.omschrijving': te lang (hoogstens 200 tekens)" in reden


@pytest.mark.parametrize("name", sorted(EVENTS))
def test_door_is_required_for_every_event_of_version_2(name: str) -> None:
    payload = {k: v for k, v in VALID[name].items() if k != "door"}
    reden = refusal(in_phase(3), name, payload)
    assert reden.startswith(f"{name}: ") and "veld 'door': ontbreekt (verplicht)" in reden


@pytest.mark.parametrize("name", sorted(EVENTS))
def test_an_unknown_field_is_refused_by_name(name: str) -> None:
    reden = refusal(in_phase(3), name, {**VALID[name], "bsn": "123456782"})
    assert reden == f"{name}: veld 'bsn': onbekend veld (niet in het contract)"


@pytest.mark.parametrize("name", sorted(EVENTS))
def test_a_date_in_the_future_is_refused_by_name(name: str) -> None:
    tomorrow = (OPENED + timedelta(days=1)).date().isoformat()
    reden = refusal(in_phase(3), name, {**VALID[name], "datum": tomorrow})
    assert reden == f"{name}: veld 'datum' ligt in de toekomst"


@pytest.mark.parametrize("name", sorted(EVENTS))
def test_a_person_id_is_a_pseudonymous_id_not_a_name(name: str) -> None:
    rules.parse(name, {**VALID[name], "persoon": "p.0042:school-12AB"}, VERSIE)
    reden = refusal(in_phase(3), name, {**VALID[name], "persoon": "Jan de Vries"})
    assert "veld 'persoon': heeft niet de juiste vorm" in reden and "Jan" not in reden


@pytest.mark.parametrize("name", sorted(set(EVENTS) - set(EVENTS_VERSIE_1)))
def test_a_case_of_version_1_knows_no_event_of_version_2(name: str) -> None:
    assert refusal(v1.in_phase(3), name, VALID[name]) == f"onbekende gebeurtenis '{name}'"
