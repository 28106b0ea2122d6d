"""Every way an event is refused: a bad payload, the wrong phase, an unmet precondition, a closed case. The Dutch
reason names the field or the missing step, and on the signal path the refusal lands in ``afgewezen`` and nothing
else changes (checked by :func:`tests.workflows.rules.build.refusal` for every case here)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from tests.workflows.rules.build import (
    LATER,
    OPENED,
    SCENARIOS,
    TASKFORCE,
    VERSIE,
    Scenario,
    escalated_to_taskforce,
    go,
    in_phase,
    on_route,
    opened,
    refusal,
)
from workflows import rules
from workflows.contract import EVENTS_VERSIE_1, Voortgang
from workflows.rules import CaseState

# ------------------------------------------------------------------------------------------- bad payloads

# One valid payload per event, to break one field at a time.
VALID: dict[str, dict[str, Any]] = {
    "melding": {"gemeld_bij_leerplicht": True},
    "leerplicht_registratie": {"lba_geregistreerd_op": "2025-02-20"},
    "startdatum_correctie": {"startdatum": "2025-01-27", "reden": "LBA."},
    "oudergesprek": {"deelnemers": ["school", "ouders", "scp"]},
    "plan_van_aanpak": {"in_opp": True, "instemming_ouders": True},
    "route": {"route": "3.1"},
    "aanmelding_andere_school": {"school_brin": "34CD"},
    "zorgplicht_verlengd": {},
    "wachtlijst": {"op_wachtlijst": True},
    "voortgang": {"toelichting": "Stand van zaken."},
    "opschalen": {"niveau": "coordinator", "reden": "Traag."},
    "huisbezoek": {"samenvatting": "Verslag."},
    "taskforce_besluit": {"besluit": "Besluit."},
    "vrijstelling": {"status": "aangevraagd"},
    "passende_plek": {"uitkomst": "terug_op_school"},
    "intrekken": {"reden": "Ten onrechte."},
}


def test_every_contract_event_has_a_valid_example_here() -> None:
    assert set(VALID) == set(EVENTS_VERSIE_1)
    assert {name for name, *_ in WRONG_TYPES} == set(EVENTS_VERSIE_1)
    for name, payload in VALID.items():
        rules.parse(name, payload, VERSIE)


REQUIRED = [(name, field) for name, payload in VALID.items() for field in payload]


@pytest.mark.parametrize(("name", "field"), REQUIRED, ids=[f"{n}-{f}" for n, f in REQUIRED])
def test_a_missing_required_field_is_named(name: str, field: str) -> None:
    payload = {k: v for k, v in VALID[name].items() if k != field}
    reden = refusal(in_phase(3), name, payload)
    assert reden.startswith(f"{name}: ") and f"veld '{field}': ontbreekt (verplicht)" in reden


WRONG_TYPES: list[tuple[str, str, Any, str]] = [
    ("melding", "gemeld_bij_leerplicht", "ja", "moet true of false zijn"),
    ("leerplicht_registratie", "lba_geregistreerd_op", "vorige week", "geen geldige datum"),
    ("leerplicht_registratie", "lba_geregistreerd_op", "2025-02-30", "geen geldige datum"),
    ("startdatum_correctie", "startdatum", 20250127.5, "geen geldige datum"),
    ("startdatum_correctie", "reden", ["LBA"], "verkeerde type"),
    ("oudergesprek", "deelnemers", "school, ouders, scp", "verkeerde type"),
    ("oudergesprek", "deelnemers", ["school", "ouders", "buurman"], "moet een van"),
    ("oudergesprek", "deelnemers", [], "ongeldig aantal"),
    ("plan_van_aanpak", "in_opp", {"ja": True}, "moet true of false zijn"),
    ("route", "route", "3.5", "moet een van"),
    ("route", "route", 3.1, "moet een van"),
    ("aanmelding_andere_school", "school_brin", "school aan de Maas", "niet de juiste vorm"),
    ("zorgplicht_verlengd", "datum", "volgende week", "geen geldige datum"),
    ("wachtlijst", "op_wachtlijst", "misschien", "moet true of false zijn"),
    ("voortgang", "toelichting", 42, "verkeerde type"),
    ("voortgang", "toelichting", "   ", "mag niet leeg zijn"),
    ("opschalen", "niveau", "wethouder", "moet een van"),
    ("opschalen", "afgestemd_met_school", "ja hoor", "moet true of false zijn"),
    ("huisbezoek", "samenvatting", None, "verkeerde type"),
    ("taskforce_besluit", "besluit", {"tekst": "x"}, "verkeerde type"),
    ("vrijstelling", "status", "ingetrokken", "moet een van"),
    ("passende_plek", "uitkomst", "thuisonderwijs", "moet een van"),
    ("passende_plek", "school_brin", "??", "niet de juiste vorm"),
    ("intrekken", "reden", True, "verkeerde type"),
    ("intrekken", "datum", "gisteren", "geen geldige datum"),
    ("voortgang", "door", 7, "verkeerde type"),
]


@pytest.mark.parametrize(
    ("name", "field", "value", "rule"), WRONG_TYPES, ids=[f"{n}-{f}-{i}" for i, (n, f, _, _) in enumerate(WRONG_TYPES)]
)
def test_a_field_of_the_wrong_type_is_named_with_its_rule(name: str, field: str, value: Any, rule: str) -> None:
    reden = refusal(in_phase(3), name, {**VALID[name], field: value})
    assert f"veld '{field}" in reden and rule in reden
    if isinstance(value, str) and len(value) > 4:
        assert value not in reden  # the reason never echoes what was sent


@pytest.mark.parametrize("name", sorted(EVENTS_VERSIE_1))
def test_an_unknown_field_is_refused_by_name(name: str) -> None:
    reden = refusal(in_phase(3), name, {**VALID[name], "bsn": "123456782"})
    assert reden == f"{name}: veld 'bsn': onbekend veld (niet in het contract)"


@pytest.mark.parametrize("name", sorted(EVENTS_VERSIE_1))
def test_a_huge_string_is_refused_without_echoing_it(name: str) -> None:
    huge = "x" * 100_000
    reden = refusal(in_phase(3), name, {**VALID[name], "door": huge})
    assert "veld 'door': te lang (hoogstens 200 tekens)" in reden and len(reden) < 300


@pytest.mark.parametrize(
    ("name", "field", "limit"),
    [
        ("voortgang", "toelichting", 4000),
        ("startdatum_correctie", "reden", 4000),
        ("opschalen", "reden", 4000),
        ("huisbezoek", "samenvatting", 4000),
        ("taskforce_besluit", "besluit", 4000),
        ("intrekken", "reden", 4000),
        ("route", "variant", 200),
    ],
)
def test_free_text_is_bounded(name: str, field: str, limit: int) -> None:
    reden = refusal(in_phase(3), name, {**VALID[name], field: "y" * (limit + 1)})
    assert f"veld '{field}': te lang (hoogstens {limit} tekens)" in reden
    rules.parse(name, {**VALID[name], field: "y" * limit}, VERSIE)  # the limit itself is allowed


@pytest.mark.parametrize(
    ("field", "text"),
    [
        ("door", "Jan\nde Vries"),
        ("door", "school\x00"),
        ("toelichting", "stand\x00van zaken"),
        ("toelichting", "\x1b[31m"),
    ],
    ids=["newline-in-door", "nul-in-door", "nul-in-text", "escape-in-text"],
)
def test_control_characters_are_refused_in_text_fields(field: str, text: str) -> None:
    reden = refusal(in_phase(3), "voortgang", {**VALID["voortgang"], field: text})
    assert f"veld '{field}': heeft niet de juiste vorm" in reden


def test_free_text_keeps_its_line_breaks_and_tabs() -> None:
    event = rules.parse("voortgang", {"toelichting": "Week 1:\n\t- twee ochtenden\r\n\t- gesprek SMW"}, VERSIE)
    assert isinstance(event, Voortgang) and event.toelichting.count("\n") == 2


@pytest.mark.parametrize("payload", ["gemeld", 1, 2.5, True, ["gemeld_bij_leerplicht", True]], ids=repr)
def test_a_payload_that_is_no_json_object_is_refused(payload: Any) -> None:
    assert refusal(in_phase(0), "melding", payload) == "melding: de inhoud moet een JSON-object zijn"


def test_no_payload_at_all_is_read_as_an_empty_object() -> None:
    assert rules.parse("zorgplicht_verlengd", None, VERSIE) == rules.parse("zorgplicht_verlengd", {}, VERSIE)
    assert "veld 'gemeld_bij_leerplicht': ontbreekt" in refusal(in_phase(0), "melding", None)


@pytest.mark.parametrize("name", ["onbekend", "Melding", "melding ", "", "x" * 10_000])
def test_an_unknown_event_is_refused_by_name_and_kept_short(name: str) -> None:
    reden = refusal(in_phase(1), name, {})
    assert reden.startswith("onbekende gebeurtenis '") and len(reden) < 100
    assert len(rules.receive(in_phase(1), name, {}, OPENED).afgewezen[-1].gebeurtenis) <= 60


@pytest.mark.parametrize("name", sorted(EVENTS_VERSIE_1))
def test_a_date_in_the_future_is_refused_by_name(name: str) -> None:
    tomorrow = (OPENED + timedelta(days=1)).date().isoformat()
    reden = refusal(in_phase(3), name, {**VALID[name], "datum": tomorrow})
    assert reden == f"{name}: veld 'datum' ligt in de toekomst"


def test_model_rules_name_their_field() -> None:
    assert "veld 'variant': verplicht bij route 3.3" in refusal(in_phase(3), "route", {"route": "3.3"})
    assert "veld 'variant': bij route 3.3 een van" in refusal(in_phase(3), "route", {"route": "3.3", "variant": "x"})
    reden = refusal(on_route("3.2"), "passende_plek", {"uitkomst": "ingeschreven_andere_school"})
    assert "veld 'school_brin': verplicht bij uitkomst ingeschreven_andere_school" in reden


# ------------------------------------------------------------------------------------------------ closed case


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.id)
@pytest.mark.parametrize("closing", ["intrekken", "passende_plek"])
def test_a_closed_case_refuses_every_event(scenario: Scenario, closing: str) -> None:
    payload = {"reden": "Afgesloten voor de test.", "door": "test"}
    if closing == "passende_plek":
        payload = {"uitkomst": "terug_op_school", "door": "test"}
    closed = go(scenario.setup(), closing, payload, at=LATER)
    reden = refusal(closed, scenario.name, scenario.payload, at=LATER + timedelta(hours=1))
    uitkomst = "ingetrokken" if closing == "intrekken" else "terug op school"
    assert reden == f"{scenario.name}: de zaak is al afgesloten ({uitkomst})"


# ------------------------------------------------------------------------------ out of phase, preconditions


def _req_vrijstelling() -> CaseState:
    return go(on_route("3.4"), "vrijstelling", {"status": "aangevraagd"})


def _verleend() -> CaseState:
    return go(_req_vrijstelling(), "vrijstelling", {"status": "verleend"})


def _extended() -> CaseState:
    state = go(on_route("3.2"), "aanmelding_andere_school", {"school_brin": "34CD"})
    return go(state, "zorgplicht_verlengd", {})


def _visited() -> CaseState:
    return go(escalated_to_taskforce(), "huisbezoek", {"samenvatting": "Verslag."})


REFUSALS: list[tuple[str, Any, str, dict[str, Any], str]] = [
    # (label, state, event, payload, what the reason must say)
    ("melding-twice", lambda: in_phase(1), "melding", {"gemeld_bij_leerplicht": True}, "al gemeld (fase 1"),
    ("melding-later", lambda: in_phase(3), "melding", {"gemeld_bij_leerplicht": False}, "al gemeld"),
    (
        "lba-before-melding",
        lambda: in_phase(0),
        "leerplicht_registratie",
        {"lba_geregistreerd_op": "2025-02-20"},
        "eerst de melding",
    ),
    (
        "lba-in-future",
        lambda: in_phase(1),
        "leerplicht_registratie",
        {"lba_geregistreerd_op": "2025-03-04"},
        "veld 'lba_geregistreerd_op' ligt in de toekomst",
    ),
    (
        "lba-twice",
        lambda: go(in_phase(1), "leerplicht_registratie", {"lba_geregistreerd_op": "2025-02-20"}),
        "leerplicht_registratie",
        {"lba_geregistreerd_op": "2025-02-21"},
        "al bevestigd",
    ),
    (
        "startdatum-future",
        lambda: in_phase(1),
        "startdatum_correctie",
        {"startdatum": "2025-03-04", "reden": "x"},
        "veld 'startdatum' ligt in de toekomst",
    ),
    (
        "startdatum-same",
        lambda: in_phase(1),
        "startdatum_correctie",
        {"startdatum": "2025-02-03", "reden": "x"},
        "al deze datum",
    ),
    (
        "startdatum-before-age-4",
        lambda: in_phase(1, age=4),
        "startdatum_correctie",
        {"startdatum": "2020-12-31", "reden": "x"},
        "jonger dan 4 jaar",
    ),
    (
        "oudergesprek-before-melding",
        lambda: in_phase(0),
        "oudergesprek",
        {"deelnemers": ["school", "ouders", "scp"]},
        "eerst de melding thuiszitter (fase 1)",
    ),
    (
        "oudergesprek-without-parents",
        lambda: in_phase(1),
        "oudergesprek",
        {"deelnemers": ["school", "scp"]},
        "veld 'deelnemers' mist ouders",
    ),
    (
        "oudergesprek-without-school-and-scp",
        lambda: in_phase(1),
        "oudergesprek",
        {"deelnemers": ["ouders", "smw"]},
        "veld 'deelnemers' mist school, scp",
    ),
    (
        "oudergesprek-vo-without-koersloket",
        lambda: in_phase(1, sector="VO"),
        "oudergesprek",
        {"deelnemers": ["school", "ouders", "wijkteam"]},
        "veld 'deelnemers' mist koersloket",
    ),
    (
        "plan-before-oudergesprek",
        lambda: in_phase(1),
        "plan_van_aanpak",
        {"in_opp": True, "instemming_ouders": True},
        "eerst het oudergesprek",
    ),
    (
        "plan-again",
        lambda: in_phase(3),
        "plan_van_aanpak",
        {"in_opp": True, "instemming_ouders": False},
        "al vastgesteld",
    ),
    ("route-in-phase-0", lambda: in_phase(0), "route", {"route": "3.1"}, "eerst het oudergesprek en het plan"),
    ("route-in-phase-1", lambda: in_phase(1), "route", {"route": "3.1"}, "eerst het oudergesprek en het plan"),
    ("route-in-phase-2", lambda: in_phase(2), "route", {"route": "3.2"}, "eerst het plan van aanpak in het OPP"),
    (
        "route-after-partial-plan",
        lambda: go(in_phase(2), "plan_van_aanpak", {"in_opp": True, "instemming_ouders": False}),
        "route",
        {"route": "3.4"},
        "met instemming van de ouders",
    ),
    (
        "aanmelding-without-route",
        lambda: in_phase(3),
        "aanmelding_andere_school",
        {"school_brin": "34CD"},
        "eerst route 3.2",
    ),
    (
        "aanmelding-on-route-3.1",
        lambda: on_route("3.1"),
        "aanmelding_andere_school",
        {"school_brin": "34CD"},
        "eerst route 3.2",
    ),
    (
        "aanmelding-on-tlv",
        lambda: on_route("3.3", "tlv_so"),
        "aanmelding_andere_school",
        {"school_brin": "34CD"},
        "eerst route 3.2",
    ),
    (
        "aanmelding-at-own-school",
        lambda: on_route("3.2"),
        "aanmelding_andere_school",
        {"school_brin": "12AB"},
        "veld 'school_brin' is de school van inschrijving",
    ),
    (
        "verlengd-without-aanmelding",
        lambda: on_route("3.2"),
        "zorgplicht_verlengd",
        {},
        "eerst de aanmelding bij een andere school",
    ),
    ("verlengd-twice", _extended, "zorgplicht_verlengd", {"door": "34CD"}, "maar één keer"),
    (
        "wachtlijst-already-on",
        lambda: go(in_phase(3), "wachtlijst", {"op_wachtlijst": True}),
        "wachtlijst",
        {"op_wachtlijst": True, "door": "scp"},
        "staat al op de wachtlijst",
    ),
    ("wachtlijst-not-on", lambda: in_phase(3), "wachtlijst", {"op_wachtlijst": False}, "staat niet op de wachtlijst"),
    (
        "opschalen-coordinator-twice",
        lambda: go(in_phase(3), "opschalen", {"niveau": "coordinator", "reden": "Traag."}),
        "opschalen",
        {"niveau": "coordinator", "reden": "Nog steeds traag."},
        "al opgeschaald naar coordinator",
    ),
    (
        "opschalen-back-to-coordinator",
        escalated_to_taskforce,
        "opschalen",
        {"niveau": "coordinator", "reden": "Terug."},
        "al opgeschaald naar taskforce",
    ),
    (
        "taskforce-without-leerplicht",
        lambda: in_phase(3),
        "opschalen",
        {**TASKFORCE, "afgestemd_met_leerplicht": False},
        "veld 'afgestemd_met_leerplicht' moet true zijn",
    ),
    (
        "taskforce-without-school",
        lambda: in_phase(3),
        "opschalen",
        {**TASKFORCE, "afgestemd_met_school": False},
        "veld 'afgestemd_met_school' moet true zijn",
    ),
    (
        "taskforce-without-either",
        lambda: in_phase(3),
        "opschalen",
        {"niveau": "taskforce", "reden": "Vast."},
        "veld 'afgestemd_met_leerplicht' en 'afgestemd_met_school' moet true zijn",
    ),
    (
        "taskforce-vo-outside-rotterdam",
        lambda: in_phase(3, sector="VO", woont_in_rotterdam=False),
        "opschalen",
        TASKFORCE,
        "alleen leerlingen die in Rotterdam wonen",
    ),
    (
        "huisbezoek-without-taskforce",
        lambda: go(in_phase(3), "opschalen", {"niveau": "coordinator", "reden": "Traag."}),
        "huisbezoek",
        {"samenvatting": "x"},
        "eerst de opschaling naar de Taskforce",
    ),
    ("huisbezoek-twice", _visited, "huisbezoek", {"samenvatting": "Nog een keer."}, "al vastgelegd"),
    (
        "besluit-without-taskforce",
        lambda: in_phase(3),
        "taskforce_besluit",
        {"besluit": "x"},
        "eerst de opschaling naar de Taskforce",
    ),
    (
        "besluit-without-huisbezoek",
        escalated_to_taskforce,
        "taskforce_besluit",
        {"besluit": "x"},
        "eerst het verslag van het huisbezoek",
    ),
    (
        "vrijstelling-verleend-unrequested",
        lambda: on_route("3.4"),
        "vrijstelling",
        {"status": "verleend"},
        "eerst de aanvraag (status aangevraagd)",
    ),
    (
        "vrijstelling-afgewezen-unrequested",
        lambda: on_route("3.4"),
        "vrijstelling",
        {"status": "afgewezen"},
        "eerst de aanvraag",
    ),
    (
        "vrijstelling-requested-twice",
        _req_vrijstelling,
        "vrijstelling",
        {"status": "aangevraagd", "door": "ouders"},
        "al aangevraagd",
    ),
    ("vrijstelling-after-verleend", _verleend, "vrijstelling", {"status": "aangevraagd"}, "al verleend"),
    ("vrijstelling-verleend-twice", _verleend, "vrijstelling", {"status": "afgewezen"}, "eerst de aanvraag"),
    (
        "plek-vrijstelling-without-verleend",
        _req_vrijstelling,
        "passende_plek",
        {"uitkomst": "vrijstelling"},
        "pas als de vrijstelling is verleend",
    ),
    (
        "plek-at-own-school-as-other",
        lambda: on_route("3.2"),
        "passende_plek",
        {"uitkomst": "ingeschreven_andere_school", "school_brin": "12AB"},
        "veld 'school_brin' is de school van inschrijving",
    ),
]


@pytest.mark.parametrize(("label", "setup", "name", "payload", "says"), REFUSALS, ids=[r[0] for r in REFUSALS])
def test_an_event_out_of_phase_or_without_its_precondition_is_refused_naming_why(
    label: str, setup: Any, name: str, payload: dict[str, Any], says: str
) -> None:
    reden = refusal(setup(), name, payload)
    assert reden.startswith(f"{name}: ") and says in reden


def test_a_refused_update_leaves_the_case_able_to_take_the_missing_step() -> None:
    state = in_phase(1)
    refusal(state, "route", {"route": "3.1"})
    state = go(state, "oudergesprek", {"deelnemers": ["school", "ouders", "scp"]})
    refusal(state, "route", {"route": "3.1"})
    state = go(state, "plan_van_aanpak", {"in_opp": True, "instemming_ouders": True})
    assert go(state, "route", {"route": "3.1"}).route == "3.1"


def test_refusals_are_kept_bounded_but_counted() -> None:
    state = in_phase(1)
    for n in range(rules.MAX_AFGEWEZEN + 25):
        state = rules.receive(state, "route", {"route": "3.1", "door": f"poging {n}"}, OPENED)
    assert len(state.afgewezen) == rules.MAX_AFGEWEZEN
    assert state.afgewezen_totaal == rules.MAX_AFGEWEZEN + 25
    assert state.afgewezen[-1].reden.startswith("route: eerst het oudergesprek")
    assert rules.status(state, OPENED).afgewezen == state.afgewezen


def test_receive_never_raises_and_keeps_the_case_as_it_was() -> None:
    state = opened()
    for name, payload in [
        ("route", {"route": "3.1"}),
        ("melding", "x"),
        ("passende_plek", {"uitkomst": None}),
        ("nope", [1, 2]),
        ("oudergesprek", {"deelnemers": [{"rol": "school"}]}),
        ("opschalen", {"niveau": "taskforce", "reden": "x", 1: 2}),
        ("startdatum_correctie", {"startdatum": "0001-01-01", "reden": "x"}),
        ("leerplicht_registratie", {"lba_geregistreerd_op": "9999-12-31"}),
        ("voortgang", {"toelichting": "\x00" * 10}),
    ]:
        after = rules.receive(state, name, payload, OPENED)
        assert after.afgewezen_totaal == state.afgewezen_totaal + 1, name
        assert after.fase == state.fase and after.openstaand == state.openstaand and after.tijdlijn == state.tijdlijn
        state = after
