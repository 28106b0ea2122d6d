"""The defects of the version-1 texts, each pinned by a test that failed on them, and the templates of the codes that
contract version 2 added (PROCEDURE.md, "Version 2")."""

from __future__ import annotations

import re
from typing import Any

import pytest

from activities.templates import render
from workflows.contract import RedenCode, Regio, Rol, Sector
from workflows.effects import Bericht, Sjabloon

LEERLING = "LL7001"


def tekst(
    sjabloon: Sjabloon, rol: Rol, sector: Sector = Sector.PO, regio: Regio = Regio.NOORD, /, **gegevens: Any
) -> str:
    onderwerp, body = render(
        Bericht(
            sleutel=f"c/1/{sjabloon.value}",
            case_id="c",
            leerling_ref=LEERLING,
            rol=rol,
            sjabloon=sjabloon,
            regio=regio,
            sector=sector,
            gegevens=gegevens,
        )
    )
    return onderwerp + "\n" + body


def sentences(text: str) -> list[str]:
    return [s.strip() for line in text.splitlines() for s in re.split(r"(?<=[.?!])\s+", line) if s.strip()]


def asks(text: str) -> list[str]:
    """The sentences that ask the reader to do something."""
    return [
        s
        for s in sentences(text)
        if s != "Vragen?" and (s.endswith("?") or s.startswith(("Wilt u", "Meld", "Check", "Ga ")))
    ]


CONTACT = {Sector.PO: Rol.SCP, Sector.VO: Rol.KOERSLOKET}


# ------------------------------------------------------------------------------------------- vier_weken_thuis


def test_vier_weken_thuis_names_the_four_week_and_the_twelve_week_date() -> None:
    text = tekst(
        Sjabloon.VIER_WEKEN_THUIS,
        Rol.SCHOOL,
        startdatum="2025-02-03",
        termijn_op="2025-03-03",
        deadline="2025-04-28",
    )
    [twaalf] = [s for s in sentences(text) if "twaalf weken" in s]
    assert "28 april 2025" in twaalf
    [vier] = [s for s in sentences(text) if "3 maart 2025" in s]
    assert "vier weken" in vier
    assert "twaalf" not in vier


@pytest.mark.parametrize("rol", [Rol.SCHOOL, Rol.SCP])
def test_vier_weken_thuis_never_calls_the_four_week_date_the_twelve_week_term(rol: Rol) -> None:
    text = tekst(Sjabloon.VIER_WEKEN_THUIS, rol, startdatum="2025-02-03", termijn_op="2025-03-03")
    assert not [s for s in sentences(text) if "twaalf weken" in s and "3 maart 2025" in s]


# ---------------------------------------------------------------------------------------- melding_thuiszitter


def test_melding_thuiszitter_asks_the_scp_to_check_what_the_system_created() -> None:
    text = tekst(Sjabloon.MELDING_THUISZITTER, Rol.SCP, startdatum="2025-02-03", school_brin="12AB")
    for ask in asks(text):
        assert not re.search(r"registreren|aanmaken|afgeven|SISA", ask), ask
    [check] = [s for s in asks(text) if "controleren" in s]
    for what in ("volledig", "juiste startdatum", "'thuiszitter'", "Kindkans"):
        assert what in check
    assert "3 februari 2025" in text


def test_melding_thuiszitter_to_the_koersloket_has_no_kindkans_and_no_sisa() -> None:
    text = tekst(Sjabloon.MELDING_THUISZITTER, Rol.KOERSLOKET, Sector.VO, startdatum="2025-02-03", school_brin="12AB")
    for ppo in ("Kindkans", "SISA", "ouderfunctionaris", "PPO", "schoolcontactpersoon"):
        assert ppo not in text
    assert "Koers VO" in text
    assert "Leerplicht" in text


def test_a_leerplicht_step_is_for_a_pupil_of_5_and_older() -> None:
    for sjabloon, rol in ((Sjabloon.VIER_WEKEN_THUIS, Rol.SCHOOL), (Sjabloon.MELDING_THUISZITTER, Rol.SCP)):
        # The rules do not say the pupil's age: the step says for whom it is.
        text = tekst(sjabloon, rol, startdatum="2025-02-03", school_brin="12AB")
        for sentence in sentences(text):
            if "Leerplicht" in sentence and not sentence.startswith("Vragen?"):
                assert "5 jaar" in sentence, sentence
        # Where they do, a pupil of 4 gets no Leerplicht step at all, and an older pupil an unconditional one.
        vier = tekst(sjabloon, rol, startdatum="2025-02-03", school_brin="12AB", leerplichtig=False)
        assert "Leerplicht" not in vier.split("Dit bericht")[0]
        vijf = tekst(sjabloon, rol, startdatum="2025-02-03", school_brin="12AB", leerplichtig=True)
        assert "Leerplicht" in vijf.split("Dit bericht")[0]
        assert "5 jaar" not in vijf


# ---------------------------------------------------------------------------------------------- afgesloten


@pytest.mark.parametrize("sector", list(Sector))
@pytest.mark.parametrize("uitkomst", ["terug_op_school", "ingeschreven_andere_school", "vrijstelling", "ingetrokken"])
def test_a_closing_message_only_informs_each_role(sector: Sector, uitkomst: str) -> None:
    rollen = [Rol.OUDERS, Rol.SCHOOL, CONTACT[sector], Rol.LEERPLICHT, Rol.TASKFORCE, Rol.WIJKTEAM]
    if sector is Sector.PO:
        rollen.append(Rol.COORDINATOR)
    for rol in rollen:
        text = tekst(Sjabloon.AFGESLOTEN, rol, sector, uitkomst=uitkomst)
        body = text.split("Dit bericht")[0]
        assert "?" not in body, rol
        assert "Wilt u" not in body, rol
        assert "als schoolcontactpersoon" not in text, rol
        assert ("Kindkans" in text) == (sector is Sector.PO and rol is Rol.SCP), rol


def test_a_closing_message_to_the_parents_speaks_to_them() -> None:
    assert "uw kind" in tekst(Sjabloon.AFGESLOTEN, Rol.OUDERS, uitkomst="terug_op_school")
    assert "ingetrokken" in tekst(Sjabloon.AFGESLOTEN, Rol.OUDERS, uitkomst="ingetrokken")


# ------------------------------------------------------------------------------------------- regie_wijkteam


@pytest.mark.parametrize("sector", list(Sector))
def test_a_care_arrangement_in_route_3_3_leaves_the_regie_with_the_school(sector: Sector) -> None:
    text = tekst(Sjabloon.REGIE_WIJKTEAM, Rol.WIJKTEAM, sector, route="3.3", variant="zorgarrangement")
    assert "3.4" not in text
    assert "route 3.3" in text
    assert "Het wijkteam neemt de regie" not in text
    assert "school van inschrijving houdt de regie" in text
    assert "zorgarrangement" in text


def test_in_route_3_4_the_wijkteam_takes_the_regie_with_the_parents() -> None:
    text = tekst(Sjabloon.REGIE_WIJKTEAM, Rol.WIJKTEAM, route="3.4", variant=None)
    assert "route 3.4" in text
    assert "Het wijkteam neemt de regie, samen met de ouders" in text


# ------------------------------------------------------------------------------------------- lba_herinnering


def test_the_lba_reminder_asks_absoluut_verzuim_to_register_not_to_ask_a_school() -> None:
    text = tekst(Sjabloon.LBA_HERINNERING, Rol.LEERPLICHT_ABSOLUUT_VERZUIM, melding_op="2025-03-05")
    assert "bij de school" not in text
    assert "nog niet bevestigd" in text
    [ask] = [s for s in asks(text) if "LBA" in s]
    assert "registreren" in ask


@pytest.mark.parametrize("sector", list(Sector))
def test_the_lba_reminder_asks_the_contact_to_check_with_the_school(sector: Sector) -> None:
    text = tekst(Sjabloon.LBA_HERINNERING, CONTACT[sector], sector, melding_op="2025-03-05")
    assert "bij de school nagaan of de leerling met de juiste startdatum bij Leerplicht is gemeld" in text


# -------------------------------------------------------------------------------- routes: PO and VO variants


def test_route_3_3_in_vo_names_koers_vo_variants() -> None:
    andere = tekst(Sjabloon.ROUTE_GEKOZEN, Rol.OUDERS, Sector.VO, route="3.3", variant="andere_vo_school")
    assert "andere school voor voortgezet onderwijs" in andere
    tlv = tekst(Sjabloon.ROUTE_GEKOZEN, Rol.OUDERS, Sector.VO, route="3.3", variant="tlv_vso")
    assert "voortgezet speciaal onderwijs (VSO)" in tlv
    assert "Koers VO" in tlv
    for text in (andere, tlv):
        for ppo in ("SBO", "Herstart", "basisschool", "PPO", "schoolcontactpersoon"):
            assert ppo not in text


def test_route_3_3_in_po_keeps_ppo_variants() -> None:
    for variant, wat in (
        ("andere_reguliere_school", "andere reguliere basisschool"),
        ("arrangement", "Herstart"),
        ("tlv_sbo", "speciaal basisonderwijs (SBO)"),
        ("tlv_so", "speciaal onderwijs (SO)"),
        ("zorgarrangement", "zorgarrangement"),
    ):
        assert wat in tekst(Sjabloon.ROUTE_GEKOZEN, Rol.OUDERS, route="3.3", variant=variant)


def test_a_variant_of_the_other_sector_is_not_described_as_chosen() -> None:
    # A version-1 VO case may carry a PPO variant: the text names the route only, never SBO.
    text = tekst(Sjabloon.ROUTE_GEKOZEN, Rol.OUDERS, Sector.VO, route="3.3", variant="tlv_sbo")
    assert "route 3.3" in text
    assert "SBO" not in text
    assert "arrangement" not in text


def test_a_tlv_for_vso_runs_through_koers_vo_without_the_centrale_aanmeldroute() -> None:
    text = tekst(Sjabloon.TLV_ONDERBOUWING, Rol.KOERSLOKET, Sector.VO, route="3.3", variant="tlv_vso")
    assert "VSO" in text
    assert "Koers VO" in text
    assert "Centrale AanmeldRoute" not in text
    assert "SBO" not in text


@pytest.mark.parametrize(("variant", "soort"), [("tlv_sbo", "SBO"), ("tlv_so", "SO")])
def test_the_scp_writes_the_tlv_onderbouwing_and_the_system_registers_with_the_aanmeldroute(
    variant: str, soort: str
) -> None:
    text = tekst(Sjabloon.TLV_ONDERBOUWING, Rol.SCP, route="3.3", variant=variant)
    assert f"voor het {soort}" in text
    assert "onderbouwing" in text
    assert "Centrale AanmeldRoute" in text
    for ask in asks(text):
        assert "aanmelden" not in ask, ask  # the case makes that registration itself


# ------------------------------------------------------------------------------------------------ escalation

REDEN_TEKST = {
    "geen_passende_plek": "nog geen passende onderwijsplek",
    "geen_plaats_reguliere_scholen": "reguliere scholen stellen geen plaats (meer) te hebben",
    "partijen_niet_eens": "komen er samen niet uit",
    "ouders_niet_eens": "niet op dezelfde lijn",
    "proces_loopt_vast": "loopt vast of verloopt te traag",
    "overig": "andere reden",
    "check_niet_beslist": "twaalfwekencheck is niet op tijd besloten",
    "termijn_verstreken": "twaalf weken is verstreken",
    "opgeschaald": "loopt vast of verloopt te traag",
}


def test_every_reason_code_has_a_dutch_phrase() -> None:
    assert {code.value for code in RedenCode} <= set(REDEN_TEKST)


@pytest.mark.parametrize("code", sorted(REDEN_TEKST))
def test_the_coordinator_reads_why_the_case_was_escalated(code: str) -> None:
    text = tekst(Sjabloon.ESCALATIE_COORDINATOR, Rol.COORDINATOR, reden_code=code, weken=14, deadline="2025-04-28")
    assert REDEN_TEKST[code] in text
    assert "_" not in code or code not in text  # the code itself is no Dutch
    assert ("automatisch" in text) == (code in ("check_niet_beslist", "termijn_verstreken"))
    [twaalf] = [s for s in sentences(text) if "28 april 2025" in s]
    assert "twaalf weken" in twaalf


def test_the_reason_phrases_tell_the_reasons_apart() -> None:
    texts = {
        code.value: tekst(Sjabloon.ESCALATIE_COORDINATOR, Rol.COORDINATOR, reden_code=code.value) for code in RedenCode
    }
    assert len(set(texts.values())) == len(texts)


@pytest.mark.parametrize("sector", list(Sector))
def test_the_taskforce_reads_the_reason_and_the_kerngroep_meeting(sector: Sector) -> None:
    text = tekst(
        Sjabloon.ESCALATIE_TASKFORCE,
        Rol.TASKFORCE,
        sector,
        weken=14,
        reden_code="geen_passende_plek",
        bespreking_op="2025-05-22",
    )
    [bespreking] = [s for s in sentences(text) if "22 mei 2025" in s]
    assert "Kerngroep" in bespreking
    assert "passende onderwijsplek" in text
    assert "14 weken" in text
    if sector is Sector.VO:
        assert "Koersloket van Koers VO" in text
        assert "plaatsingsoverleggen van Koers VO" in text
        assert "Rotterdam woont" in text
    else:
        assert "PPO Rotterdam" in text
        # PO: the coordinator escalates; no agreement with the leerplichtambtenaar is claimed (a pupil of 4 has none).
        assert "leerplichtambtenaar" not in text


def test_the_school_informs_the_parents_and_reads_the_meeting_date() -> None:
    text = tekst(Sjabloon.OUDERS_INFORMEREN_TASKFORCE, Rol.SCHOOL, Sector.VO, bespreking_op="2025-05-22")
    assert "Koers VO" in text
    assert "Kerngroep van de Taskforce bespreekt de zaak op 22 mei 2025" in text
    assert [s for s in asks(text) if "ouders" in s]


def test_a_taskforce_decision_is_kept_and_its_actions_are_counted() -> None:
    text = tekst(Sjabloon.TASKFORCE_BESLUIT, Rol.SCHOOL, aantal_acties=3)
    assert "Het besluit staat in het dossier." in text
    assert "3 acties" in text
    assert "1 actie;" in tekst(Sjabloon.TASKFORCE_BESLUIT, Rol.SCHOOL, aantal_acties=1)
    assert "Het besluit staat in het dossier." in tekst(Sjabloon.TASKFORCE_BESLUIT, Rol.SCHOOL)


def test_vo_readers_with_questions_go_to_the_koersloket_not_to_a_ppo_coordinator() -> None:
    for rol in (Rol.SCHOOL, Rol.LEERPLICHT, Rol.WIJKTEAM):
        text = tekst(Sjabloon.VOORTGANG, rol, Sector.VO, toelichting="x")
        assert "coördinator" not in text
        assert "Koersloket van Koers VO" in text
    po = tekst(Sjabloon.VOORTGANG, Rol.SCHOOL, Sector.PO, Regio.ZUID, toelichting="x")
    assert "thuiszitterscoördinator van PPO Rotterdam voor regio Zuid" in po


def test_a_ppo_only_message_in_a_vo_case_names_nothing_of_ppo() -> None:
    for sjabloon in (Sjabloon.TOEGANG_KINDKANS, Sjabloon.OUDERFUNCTIONARIS_INFORMEREN):
        text = tekst(sjabloon, Rol.OUDERS, Sector.VO)
        for ppo in ("Kindkans", "PPO", "ouderfunctionaris", "kindkans"):
            assert ppo not in text


# --------------------------------------------------------------------------------------- the codes of version 2


def test_leerplichtig_geworden_tells_each_role_its_step() -> None:
    gegevens = {"leerplichtig_vanaf": "2025-04-01", "startdatum": "2025-02-03", "school_brin": "78GH"}
    leerplicht = tekst(Sjabloon.LEERPLICHTIG_GEWORDEN, Rol.LEERPLICHT, **gegevens)
    school = tekst(Sjabloon.LEERPLICHTIG_GEWORDEN, Rol.SCHOOL, **gegevens)
    scp = tekst(Sjabloon.LEERPLICHTIG_GEWORDEN, Rol.SCP, **gegevens)
    for text in (leerplicht, school, scp):
        [vanaf] = [s for s in sentences(text) if "1 april 2025" in s]
        assert "leerplichtig vanaf" in vanaf
        assert "vijfde verjaardag" in vanaf
    assert [s for s in asks(leerplicht) if "LBA" in s and "registreren" in s]
    assert [s for s in sentences(school) if "verzuim" in s and "Leerplicht gemeld" in s]
    assert [s for s in asks(scp) if "bij de school" in s and "Leerplicht" in s]


@pytest.mark.parametrize("sector", list(Sector))
def test_the_twelve_week_check_asks_for_a_decision(sector: Sector) -> None:
    gegevens = {"deadline": "2025-04-28", "uiterlijk": "2025-05-13", "weken": 12, "terugkomst": False}
    text = tekst(Sjabloon.TWAALF_WEKEN_CHECK, CONTACT[sector], sector, **gegevens)
    [twaalf] = [s for s in sentences(text) if "28 april 2025" in s]
    assert "twaalf weken" in twaalf
    besluit = [s for s in sentences(text) if "13 mei 2025" in s]
    assert besluit
    assert all("uiterlijk" in s and "twaalf weken" not in s for s in besluit)
    for what in ("opschalen", "beoordeling", "uitzicht op een duurzame oplossing", "zes weken"):
        assert what in text
    if sector is Sector.PO:
        assert "automatisch naar de thuiszitterscoördinator" in text
        assert "Kerngroep" not in text
    else:
        assert "Kerngroep" in text
        assert "leerplichtambtenaar" in text
    assert "komt terug" not in text
    terug = tekst(Sjabloon.TWAALF_WEKEN_CHECK, CONTACT[sector], sector, **(gegevens | {"terugkomst": True}))
    assert "komt terug" in terug.splitlines()[0]


def test_the_coordinators_own_check_is_the_taskforce_question() -> None:
    text = tekst(Sjabloon.TWAALF_WEKEN_CHECK, Rol.COORDINATOR, deadline="2025-04-28", uiterlijk="2025-05-13", weken=14)
    assert "Taskforce" in text
    assert "automatisch naar de thuiszitterscoördinator" not in text


def test_the_coordinator_is_told_of_the_check_for_information() -> None:
    text = tekst(
        Sjabloon.TWAALF_WEKEN_CHECK_GEMELD, Rol.COORDINATOR, deadline="2025-04-28", uiterlijk="2025-05-13", weken=12
    )
    [besluit] = [s for s in sentences(text) if "13 mei 2025" in s]
    assert "schoolcontactpersoon" in besluit
    assert "uiterlijk" in besluit
    assert "U hoeft nu niets te doen." in text


@pytest.mark.parametrize("rol", [Rol.KOERSLOKET, Rol.TASKFORCE])
def test_an_undecided_vo_check_goes_on_the_kerngroep_list(rol: Rol) -> None:
    text = tekst(Sjabloon.TWAALF_WEKEN_CHECK_VERLOPEN, rol, Sector.VO, uiterlijk="2025-05-13", weken=15)
    assert "lijst van de Kerngroep" in text
    assert "13 mei 2025" in text
    assert bool(asks(text)) == (rol is Rol.KOERSLOKET)


def test_a_late_task_is_named_with_its_due_date() -> None:
    text = tekst(
        Sjabloon.TAAK_TE_LAAT,
        Rol.SCHOOL,
        taak_id="T3",
        omschrijving="Organiseer een gesprek met de ouders.",
        uiterlijk="2025-03-19",
    )
    assert "T3" in text
    assert "Organiseer een gesprek met de ouders." in text
    assert "De uiterste datum was 19 maart 2025." in text


def test_passende_plek_moves_to_phase_4_and_lists_what_must_still_happen() -> None:
    text = tekst(
        Sjabloon.PASSENDE_PLEK,
        Rol.SCP,
        uitkomst="ingeschreven_andere_school",
        school_brin="34CD",
        controles=["de uitschrijving door de oude school (uitschrijving)", "de controle en afronding"],
    )
    assert "fase 4" in text
    assert "nog niet afgesloten" in text
    assert "34CD" in text
    assert "- de uitschrijving door de oude school (uitschrijving)\n- de controle en afronding" in text


@pytest.mark.parametrize(
    ("uitkomst", "wat"), [("ingeschreven_andere_school", "34CD"), ("vrijstelling", "vrijstelling")]
)
def test_the_old_school_deregisters_and_confirms(uitkomst: str, wat: str) -> None:
    text = tekst(Sjabloon.UITSCHRIJVEN, Rol.SCHOOL, uitkomst=uitkomst, school_brin="34CD" if wat == "34CD" else None)
    assert wat in text
    [ask] = asks(text)
    assert "uitschrijven" in ask
    assert "(uitschrijving" in ask


@pytest.mark.parametrize(
    ("sector", "rol", "kindkans"),
    [
        (Sector.PO, Rol.SCP, True),
        (Sector.VO, Rol.KOERSLOKET, False),
        (Sector.PO, Rol.LEERPLICHT_ABSOLUUT_VERZUIM, False),
        (Sector.VO, Rol.LEERPLICHT_ABSOLUUT_VERZUIM, False),
    ],
)
def test_afronden_closes_the_case_and_for_po_the_kindkans_hulpvraag(sector: Sector, rol: Rol, kindkans: bool) -> None:
    text = tekst(Sjabloon.AFRONDEN, rol, sector, uitkomst="ingeschreven_andere_school")
    assert "(afronden" in text
    assert ("Kindkans" in text) == kindkans


def test_leerplicht_follows_the_resumed_attendance() -> None:
    text = tekst(Sjabloon.VERZUIM_VOLGEN, Rol.LEERPLICHT, uitkomst="ingeschreven_andere_school", school_brin="34CD")
    assert "34CD" in text
    assert "schoolgang van de leerling volgen" in text


def test_a_taskforce_action_names_what_by_when() -> None:
    text = tekst(
        Sjabloon.TASKFORCE_ACTIE,
        Rol.WIJKTEAM,
        omschrijving="Start een zorgarrangement.",
        uiterlijk="2025-06-05",
        taak_id="T9",
    )
    assert "Start een zorgarrangement." in text
    assert "uiterlijk 5 juni 2025" in text
    assert "T9" in text


@pytest.mark.parametrize("sector", list(Sector))
def test_a_sector_change_hands_the_case_to_the_other_organisation(sector: Sector) -> None:
    text = tekst(Sjabloon.SECTOR_GEWIJZIGD, CONTACT[sector], sector, sector=sector.value, startdatum="2025-02-03")
    naam, ander = ("PPO Rotterdam", "Koers") if sector is Sector.PO else ("Koers VO", "PPO")
    assert naam in text.splitlines()[0]
    assert ander not in text
    assert "3 februari 2025" in text
