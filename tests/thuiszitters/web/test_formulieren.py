"""The event forms: derived from the contract's models, in Dutch, turned back into payloads the models accept, and
rendered as accessible HTML that keeps what a person typed."""

from __future__ import annotations

from collections.abc import Mapping
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import jinja2
import pydantic
import pytest

from thuiszitters.people.policy import Actor, ActorRole, with_sender
from thuiszitters.web.formulieren import Formulier, Keuze, Veld, formulier, fouten, inhoud
from workflows.contract import EVENTS, ROUTE_33_VARIANTEN_PER_SECTOR, Gebeurtenis, Sector

TEMPLATES = Path(__file__).resolve().parents[3] / "thuiszitters" / "web" / "templates"

TAKEN = (Keuze("T3", "Oudergesprek organiseren (uiterlijk 14 maart)"), Keuze("T7", "Huiswerkpakket regelen"))
PERSONEN = (Keuze("p-0042", "A. de Vries, schoolcontactpersoon"), Keuze("p-0043", "B. Jansen, schoolcontactpersoon"))
ACTOR = Actor(persoon_id="p-0007", rol=ActorRole.SCHOOL, scholen=frozenset({"12AB"}))

VOORBEELDEN: dict[str, dict[str, str | list[str]]] = {
    "melding": {"gemeld_bij_leerplicht": "ja", "datum": "2025-03-03"},
    "leerplicht_registratie": {"lba_geregistreerd_op": "2025-03-05"},
    "startdatum_correctie": {
        "startdatum": "2025-02-10",
        "reden": "Volgens de verzuimregistratie was 10 februari de eerste dag van niet verschijnen.",
    },
    "oudergesprek": {
        "deelnemers": ["school", "ouders", "scp"],
        "wensen_ouders": "De ouders willen dat hun zoon eerst een paar ochtenden per week naar school gaat.",
        "besproken_opties": "Een opbouwrooster op de eigen school, of een arrangement van PPO.",
        "afspraken": "De school maakt een opbouwrooster; over twee weken praten we verder.",
        "datum": "2025-03-12",
    },
    "plan_van_aanpak": {"in_opp": "ja", "instemming_ouders": "nee"},
    "route": {"route": "3.3", "variant": "arrangement"},
    "aanmelding_andere_school": {"school_brin": "34CD01"},
    "zorgplicht_verlengd": {},
    "wachtlijst": {"op_wachtlijst": "ja"},
    "voortgang": {
        "toelichting": "Het opbouwrooster loopt: drie ochtenden per week op school.",
        "afgehandelde_taken": "handmatige_actie_1, handmatige_actie_2",
    },
    "opschalen": {
        "niveau": "taskforce",
        "reden_code": "partijen_niet_eens",
        "reden": "School en zorgaanbieder komen er na drie overleggen niet uit.",
        "afgestemd_met_leerplicht": "ja",
        "afgestemd_met_school": "ja",
    },
    "beoordeling": {
        "uitzicht": "Plaatsing op het SBO is toegezegd per de eerste van de maand.",
        "herbeoordeling_op": "2025-05-01",
    },
    "huisbezoek": {"samenvatting": "Gesprek met moeder en de leerling thuis; de leerling wil weer naar school."},
    "taskforce_besluit": {
        "besluit": "De leerling start na de meivakantie op de nieuwe school, met begeleiding van het wijkteam.",
        "acties-0-rol": "school",
        "acties-0-omschrijving": "Huiswerkpakket tot de start regelen",
        "acties-0-uiterlijk": "2025-04-01",
        "acties-2-rol": "wijkteam",
        "acties-2-omschrijving": "Begeleiding in de eerste weken regelen",
        "acties-2-uiterlijk": "2025-04-15",
    },
    "vrijstelling": {"status": "aangevraagd"},
    "passende_plek": {"uitkomst": "ingeschreven_andere_school", "school_brin": "34CD"},
    "uitschrijving": {"uitgeschreven_op": "2025-06-02"},
    "afronden": {"toelichting": "Uitschrijving nagegaan; de leerling gaat elke dag naar de nieuwe school."},
    "taak_afgerond": {"taak_id": "T3", "toelichting": "Het gesprek is gepland op 14 maart."},
    "toewijzen": {"rol": "scp", "persoon": "p-0042"},
    "document_toegevoegd": {
        "soort": "opp",
        "verwijzing": "Kindkans 2025-118",
        "omschrijving": "OPP met handelingsdeel",
    },
    "gegevens_wijzigen": {"regio": "Zuid", "woont_in_rotterdam": "ja", "school_brin": "", "sector": ""},
    "leerplicht_interventie": {"soort": "gesprek", "toelichting": "De ouders zijn uitgenodigd en zijn gekomen."},
    "intrekken": {"reden": "De leerling bleek ingeschreven op een school in Schiedam en gaat daar naar school."},
}
"""A realistic filled-in form per event, as a browser sends it (with csrf and token added in the tests)."""


def _form(naam: str, sector: Sector = Sector.PO) -> Formulier:
    return formulier(naam, sector=sector, taken=TAKEN, personen=PERSONEN)


def _validate(naam: str, velden: Mapping[str, str | list[str]]) -> Gebeurtenis:
    """What the web application does with a submitted form: payload, sender from the login, the contract's model."""
    return EVENTS[naam].model_validate(with_sender(ACTOR, naam, inhoud(naam, velden)))


def _refusal(naam: str, velden: Mapping[str, str | list[str]]) -> dict[str, str]:
    with pytest.raises(pydantic.ValidationError) as refused:
        _validate(naam, velden)
    return fouten(naam, refused.value, velden=velden)


def _model_field_of(veld: Veld) -> str:
    return veld.naam.split("-")[0]


# ------------------------------------------------------------------------------------------------ the forms


def test_every_event_has_a_form_with_every_field_of_its_model_except_the_sender() -> None:
    assert set(VOORBEELDEN) == set(EVENTS), "every event needs an example below"
    for naam, model in EVENTS.items():
        form = _form(naam)
        assert form.gebeurtenis == naam
        assert form.titel and form.uitleg and form.knop
        expected = set(model.model_fields) - {"door", "persoon"}
        if naam == "toewijzen":
            expected.add("persoon")  # the person being assigned, not the sender
        assert {_model_field_of(v) for v in form.velden} == expected, naam
        assert len({v.naam for v in form.velden}) == len(form.velden), naam


def test_no_form_shows_door_and_only_toewijzen_asks_for_a_person() -> None:
    for naam in EVENTS:
        names = {v.naam for v in _form(naam).velden}
        assert "door" not in names
        assert ("persoon" in names) == (naam == "toewijzen"), naam


@pytest.mark.parametrize("sector", list(Sector))
def test_every_label_help_text_and_choice_is_written_in_dutch(sector: Sector) -> None:
    for naam in EVENTS:
        form = formulier(naam, sector=sector)
        for text in (form.titel, form.uitleg, form.knop):
            assert "_" not in text, (naam, text)
        for veld in form.velden:
            for text in (veld.label, veld.hulp or "Hulp", veld.groep or "Groep"):
                assert "_" not in text and text[0].isupper(), (naam, veld.naam, text)
            assert veld.label != veld.naam
            for keuze in veld.keuzes:
                assert keuze.label and "_" not in keuze.label, (naam, veld.naam, keuze)
                assert keuze.label[0].isupper() or keuze.label[0].isdigit(), (naam, keuze)


def test_the_kind_of_each_field_follows_its_model() -> None:
    velden = {(naam, v.naam): v for naam in EVENTS for v in _form(naam).velden}
    # a required bool is a yes/no question; one that defaults to False a checkbox
    assert velden["melding", "gemeld_bij_leerplicht"].soort == "ja_nee"
    assert velden["melding", "gemeld_bij_leerplicht"].verplicht
    assert velden["opschalen", "afgestemd_met_school"].soort == "vinkje"
    assert not velden["opschalen", "afgestemd_met_school"].verplicht
    # long text gets a text area with the model's limit; short text a line
    assert velden["oudergesprek", "afspraken"].soort == "tekstvak"
    assert velden["oudergesprek", "afspraken"].max_lengte == 2000
    assert velden["intrekken", "reden"].max_lengte == 4000
    assert velden["document_toegevoegd", "verwijzing"].soort == "tekst"
    assert velden["document_toegevoegd", "verwijzing"].max_lengte == 200
    # dates, choices, a list of choices
    assert velden["beoordeling", "herbeoordeling_op"].soort == "datum"
    assert velden["opschalen", "reden_code"].soort == "keuze"
    assert len(velden["opschalen", "reden_code"].keuzes) == 6
    assert velden["oudergesprek", "deelnemers"].soort == "meerkeuze"
    assert velden["oudergesprek", "deelnemers"].verplicht
    # the day it happened: optional, on every form
    for naam in EVENTS:
        assert velden[naam, "datum"].soort == "datum"
        assert not velden[naam, "datum"].verplicht


def test_the_actions_of_a_taskforce_decision_are_three_optional_rows() -> None:
    acties = [v for v in _form("taskforce_besluit").velden if v.naam.startswith("acties-")]
    assert [v.naam for v in acties] == [
        f"acties-{i}-{f}" for i in range(3) for f in ("rol", "omschrijving", "uiterlijk")
    ]
    assert [v.groep for v in acties[::3]] == ["Actie 1", "Actie 2", "Actie 3"]
    assert not any(v.verplicht for v in acties)
    assert [v.soort for v in acties[:3]] == ["keuze", "tekst", "datum"]


def test_the_variants_of_route_33_are_those_of_the_sector() -> None:
    for sector in Sector:
        variant = next(v for v in formulier("route", sector=sector).velden if v.naam == "variant")
        offered = [k.waarde for k in variant.keuzes if k.waarde]
        assert offered == list(ROUTE_33_VARIANTEN_PER_SECTOR[sector])
        assert not variant.verplicht
        assert variant.keuzes[0].waarde == ""  # no variant, for the other routes
    vo = next(v for v in formulier("route", sector=Sector.VO).velden if v.naam == "variant")
    assert {k.waarde for k in vo.keuzes} == {"", "andere_vo_school", "tlv_vso", "zorgarrangement"}


def test_roles_of_the_other_sector_s_organisation_are_not_offered() -> None:
    def offered(naam: str, veld: str, sector: Sector) -> set[str]:
        return {k.waarde for v in formulier(naam, sector=sector).velden if v.naam == veld for k in v.keuzes}

    assert "koersloket" not in offered("oudergesprek", "deelnemers", Sector.PO)
    assert "scp" not in offered("oudergesprek", "deelnemers", Sector.VO)
    assert {"scp", "coordinator"}.isdisjoint(offered("toewijzen", "rol", Sector.VO))
    assert offered("opschalen", "niveau", Sector.VO) == {"taskforce"}
    assert offered("opschalen", "niveau", Sector.PO) == {"coordinator", "taskforce"}


def test_tasks_and_people_are_the_choices_the_caller_gives() -> None:
    taak = next(v for v in _form("taak_afgerond").velden if v.naam == "taak_id")
    assert taak.soort == "keuze" and taak.keuzes == TAKEN
    persoon = next(v for v in _form("toewijzen").velden if v.naam == "persoon")
    assert persoon.soort == "keuze" and persoon.keuzes == PERSONEN and persoon.verplicht


def test_an_unknown_event_has_no_form() -> None:
    with pytest.raises(KeyError):
        formulier("bestaat_niet", sector=Sector.PO)
    with pytest.raises(KeyError):
        inhoud("bestaat_niet", {})


# ---------------------------------------------------------------------------------------- what was submitted


@pytest.mark.parametrize("naam", list(EVENTS))
def test_a_filled_in_form_becomes_an_event_the_contract_accepts(naam: str) -> None:
    velden = {**VOORBEELDEN[naam], "csrf": "abc", "token": "9f1c"}
    for veld in _form(naam).velden:
        if veld.verplicht:
            assert velden.get(veld.naam), f"the example of {naam} leaves required {veld.naam} empty"
    event = _validate(naam, velden)
    assert event.door.value == "school"
    if naam == "toewijzen":
        assert event.persoon == "p-0042"
    else:
        assert event.persoon == "p-0007"


def test_the_payload_holds_what_was_filled_in_and_nothing_else() -> None:
    assert inhoud("opschalen", {**VOORBEELDEN["opschalen"], "csrf": "abc", "door": "coordinator"}) == {
        "niveau": "taskforce",
        "reden_code": "partijen_niet_eens",
        "reden": "School en zorgaanbieder komen er na drie overleggen niet uit.",
        "afgestemd_met_leerplicht": True,
        "afgestemd_met_school": True,
    }
    assert inhoud("opschalen", {"niveau": "coordinator"})["afgestemd_met_school"] is False  # not ticked: not sent
    assert inhoud("plan_van_aanpak", VOORBEELDEN["plan_van_aanpak"]) == {"in_opp": True, "instemming_ouders": False}
    assert inhoud("oudergesprek", {"deelnemers": ["school", "", "ouders"], "afspraken": "  ", "datum": ""}) == {
        "deelnemers": ["school", "ouders"]
    }
    assert inhoud("oudergesprek", {"deelnemers": "school"}) == {"deelnemers": ["school"]}
    assert inhoud("voortgang", VOORBEELDEN["voortgang"])["afgehandelde_taken"] == [
        "handmatige_actie_1",
        "handmatige_actie_2",
    ]
    assert inhoud("gegevens_wijzigen", VOORBEELDEN["gegevens_wijzigen"]) == {
        "regio": "Zuid",
        "woont_in_rotterdam": True,
    }


def test_the_rows_of_actions_leave_out_the_empty_ones() -> None:
    payload = inhoud("taskforce_besluit", VOORBEELDEN["taskforce_besluit"])
    assert payload["acties"] == [
        {"rol": "school", "omschrijving": "Huiswerkpakket tot de start regelen", "uiterlijk": "2025-04-01"},
        {"rol": "wijkteam", "omschrijving": "Begeleiding in de eerste weken regelen", "uiterlijk": "2025-04-15"},
    ]
    assert "acties" not in inhoud("taskforce_besluit", {"besluit": "Geen acties nodig."})


# ------------------------------------------------------------------------------------------------- the errors


def _required_fields() -> list[tuple[str, str]]:
    return [(naam, v.naam) for naam in EVENTS for v in _form(naam).velden if v.verplicht]


@pytest.mark.parametrize(("naam", "veld"), _required_fields())
def test_an_empty_required_field_is_named_with_a_dutch_message(naam: str, veld: str) -> None:
    velden = {**VOORBEELDEN[naam], veld: ""}
    messages = _refusal(naam, velden)
    assert veld in messages, messages
    assert messages[veld] in {
        "Vul dit veld in.",
        "Vul een datum in.",
        "Kies ja of nee.",
        "Kies een van de mogelijkheden.",
        "Kies ten minste één van de mogelijkheden.",
    }


def test_route_33_without_a_variant_gives_the_rule_s_own_message() -> None:
    messages = _refusal("route", {"route": "3.3", "variant": ""})
    assert set(messages) == {""}
    assert messages[""].startswith("variant: verplicht bij route 3.3 (")
    assert "Value error" not in messages[""]


def test_rules_across_fields_are_reported_at_the_top() -> None:
    assert _refusal("gegevens_wijzigen", {"sector": "", "regio": ""})[""].startswith("inhoud: noem ten minste")
    enrolled = _refusal("passende_plek", {"uitkomst": "ingeschreven_andere_school"})
    assert enrolled == {"": "school_brin: verplicht bij uitkomst ingeschreven_andere_school"}


def test_messages_name_the_limit_and_the_kind_of_value() -> None:
    messages = _refusal(
        "taskforce_besluit", {"besluit": "x" * 2001, "datum": "2025-02-30", "acties-0-omschrijving": "Bellen"}
    )
    assert messages["besluit"] == "Maximaal 2000 tekens."
    assert messages["datum"] == "Vul een bestaande datum in (dag, maand en jaar)."
    assert messages["acties-0-rol"] == "Kies een van de mogelijkheden."
    assert messages["acties-0-uiterlijk"] == "Vul een datum in."
    assert "Vul een BRIN-code in" in _refusal("aanmelding_andere_school", {"school_brin": "12ab"})["school_brin"]
    assert _refusal("wachtlijst", {"op_wachtlijst": "misschien"})["op_wachtlijst"] == "Kies ja of nee."
    assert _refusal("vrijstelling", {"status": "ingetrokken"})["status"] == "Kies een van de mogelijkheden."


def test_an_error_in_a_row_lands_on_the_row_that_was_filled_in() -> None:
    velden = {"besluit": "Actie voor het wijkteam.", "acties-1-rol": "wijkteam", "acties-1-uiterlijk": "2025-04-15"}
    assert _refusal("taskforce_besluit", velden) == {"acties-1-omschrijving": "Vul dit veld in."}


# ------------------------------------------------------------------------------------------------- rendering


class _Page(HTMLParser):
    """The parts of a rendered form the checks need: controls, labels, ids, error box, text of each element."""

    def __init__(self) -> None:
        super().__init__()
        self.controls: list[dict[str, str | None]] = []
        self.labels: dict[str, str] = {}
        self.ids: list[str] = []
        self.forms: list[dict[str, str | None]] = []
        self.alerts = 0
        self.selected: dict[str, str] = {}
        self.textareas: dict[str, str] = {}
        self._label_for: str | None = None
        self._textarea: str | None = None
        self._select: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        a["tag"] = tag
        if a.get("id"):
            self.ids.append(str(a["id"]))
        if a.get("role") == "alert":
            self.alerts += 1
        if tag == "form":
            self.forms.append(a)
        if tag in ("input", "select", "textarea"):
            self.controls.append(a)
        if tag == "select":
            self._select = a.get("name")
        if tag == "option" and self._select is not None and "selected" in a:
            self.selected[self._select] = a.get("value") or ""
        if tag == "label":
            self._label_for, self._text = a.get("for"), []
        if tag == "textarea":
            self._textarea, self._text = a.get("name"), []

    def handle_endtag(self, tag: str) -> None:
        if tag == "label" and self._label_for:
            self.labels[self._label_for] = "".join(self._text).strip()
            self._label_for = None
        if tag == "textarea" and self._textarea:
            self.textareas[self._textarea] = "".join(self._text)
            self._textarea = None
        if tag == "select":
            self._select = None

    def handle_data(self, data: str) -> None:
        self._text.append(data)


def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True, undefined=jinja2.StrictUndefined
    )


def _render(form: Formulier, waarden: Mapping[str, Any] | None = None, errors: Mapping[str, str] | None = None) -> str:
    template = _environment().from_string(
        '{% from "_formulier.html" import formulier %}'
        '{{ formulier(f, waarden=w, fouten=e, actie="/zaken/abc/" ~ f.gebeurtenis, token="tok-1", csrf="csrf-1") }}'
    )
    return template.render(f=form, w=dict(waarden or {}), e=dict(errors or {}))


def _parse(html: str) -> _Page:
    page = _Page()
    page.feed(html)
    page.close()
    return page


@pytest.mark.parametrize("naam", list(EVENTS))
def test_every_field_has_a_label_pointing_to_it(naam: str) -> None:
    form = _form(naam)
    page = _parse(_render(form))
    assert len(page.ids) == len(set(page.ids)), "ids are unique"
    assert all(i.startswith(f"{naam}-") for i in page.ids)
    assert page.forms == [
        {
            "method": "post",
            "action": f"/zaken/abc/{naam}",
            "class": "formulier",
            "aria-labelledby": f"{naam}-titel",
            "tag": "form",
        }
    ]
    hidden = {c["name"]: c["value"] for c in page.controls if c.get("type") == "hidden"}
    assert hidden == {"csrf": "csrf-1", "token": "tok-1"}
    visible = [c for c in page.controls if c.get("type") != "hidden"]
    assert visible
    for control in visible:
        assert control.get("id") in page.labels, control
        assert page.labels[str(control["id"])], control
    assert {c["name"] for c in visible} == {v.naam for v in form.velden}
    for veld in form.velden:
        controls = [c for c in visible if c["name"] == veld.naam]
        if veld.soort == "datum":
            assert [c["type"] for c in controls] == ["date"]
        if veld.verplicht and veld.soort != "meerkeuze":
            assert all("required" in c for c in controls), veld.naam
        if veld.max_lengte:
            assert [c["maxlength"] for c in controls] == [str(veld.max_lengte)]
        if veld.hulp:
            assert f"{naam}-{veld.naam}-hulp" in page.ids
    assert page.alerts == 0


def test_a_choice_of_many_is_a_list_and_of_few_radio_buttons() -> None:
    page = _parse(_render(_form("opschalen")))
    kinds = {c["name"]: (c["tag"], c.get("type")) for c in page.controls}
    assert kinds["reden_code"] == ("select", None)
    assert kinds["niveau"] == ("input", "radio")
    assert kinds["afgestemd_met_school"] == ("input", "checkbox")
    assert kinds["reden"] == ("textarea", None)
    assert "<fieldset" in _render(_form("melding")) and "<legend>Is het verzuim gemeld bij Leerplicht?" in _render(
        _form("melding")
    )


@pytest.mark.parametrize("naam", list(EVENTS))
def test_what_was_submitted_is_filled_in_again(naam: str) -> None:
    form = _form(naam)
    waarden = VOORBEELDEN[naam]
    page = _parse(_render(form, waarden))
    for veld in form.velden:
        sent = waarden.get(veld.naam, "")
        controls = [c for c in page.controls if c.get("name") == veld.naam]
        kinds = {(c["tag"], c.get("type")) for c in controls}
        if kinds == {("select", None)}:
            assert page.selected.get(veld.naam, "") == sent, veld.naam
        elif kinds == {("textarea", None)}:
            assert page.textareas[veld.naam] == sent, veld.naam
        elif kinds <= {("input", "radio"), ("input", "checkbox")} and veld.soort != "vinkje":
            checked = [c["value"] for c in controls if "checked" in c]
            assert checked == (sent if isinstance(sent, list) else [sent]), veld.naam
        elif veld.soort == "vinkje":
            assert ("checked" in controls[0]) == bool(sent), veld.naam
        else:
            assert controls[0]["value"] == sent, veld.naam


def test_submitted_text_is_escaped() -> None:
    html = _render(_form("huisbezoek"), {"samenvatting": '<script>alert("x")</script>'})
    assert "<script>" not in html
    assert _parse(html).textareas["samenvatting"] == '<script>alert("x")</script>'


def test_errors_stand_next_to_their_field_and_at_the_top() -> None:
    velden = {"route": "3.3", "variant": "", "datum": "2025-13-01"}
    with pytest.raises(pydantic.ValidationError) as refused:
        _validate("route", {"route": "", "datum": "2025-13-01"})
    messages = fouten("route", refused.value)
    messages[""] = "variant: verplicht bij route 3.3"
    html = _render(_form("route"), velden, messages)
    page = _parse(html)
    assert page.alerts == 1
    assert "variant: verplicht bij route 3.3" in html
    route = [c for c in page.controls if c.get("name") == "route"]
    assert route and all(c.get("aria-invalid") == "true" for c in route)
    assert 'id="route-route-fout">Kies een van de mogelijkheden.</p>' in html
    assert 'class="fout" id="route-route-fout"' in html
    assert 'aria-describedby="route-route-fout"' in html  # on the fieldset of the radio buttons
    datum = next(c for c in page.controls if c.get("name") == "datum")
    assert datum["aria-invalid"] == "true"
    assert datum["aria-describedby"] == "route-datum-hulp route-datum-fout"
    assert "route-datum-fout" in page.ids
    # the summary links to the fields
    assert 'href="#route-route-0"' in html and 'href="#route-datum"' in html
    without_errors = [c for c in page.controls if c.get("name") == "variant"]
    assert not any("aria-invalid" in c for c in without_errors)


def test_several_forms_stand_on_one_page_with_unique_ids() -> None:
    page = _parse("".join(_render(_form(naam)) for naam in EVENTS))
    assert len(page.ids) == len(set(page.ids))
