"""Every message is true for the case it is sent in (PROCEDURE.md version 2): render what the rules send in a PO
case, a VO case, a case of a pupil of 4 and a case of a pupil from abroad, and read the text back.

Read back means: every date in the text is one of the message's own dates, in a sentence that names it for what it
is; a VO text names nothing of PPO Rotterdam; a text to Leerplicht absoluut verzuim never sends anyone "bij de
school"; a pupil of 4 gets no Leerplicht step; the organisation named is the one of the case's sector.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pytest

from activities.templates import TEMPLATES, render
from workflows.contract import Regio, Rol, Sector
from workflows.effects import Bericht, Sjabloon

LEERLING = "LL0042"

# The month names again, on purpose: the dates are read back with the test's own reading, not the templates'.
_MAANDEN = (
    "januari",
    "februari",
    "maart",
    "april",
    "mei",
    "juni",
    "juli",
    "augustus",
    "september",
    "oktober",
    "november",
    "december",
)
DUTCH_DATE = re.compile(r"\b(\d{1,2}) (" + "|".join(_MAANDEN) + r") (\d{4})\b")


# ---------------------------------------------------------------------------------------------- the cases


@dataclass(frozen=True)
class Message:
    sjabloon: Sjabloon
    rol: Rol
    gegevens: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Case:
    naam: str
    sector: Sector
    regio: Regio
    messages: tuple[Message, ...]
    vier_jaar: bool = False
    uit_buitenland: bool = False


def _m(sjabloon: Sjabloon, rollen: tuple[Rol, ...] | Rol, **gegevens: Any) -> list[Message]:
    if isinstance(rollen, Rol):
        rollen = (rollen,)
    return [Message(sjabloon, rol, dict(gegevens)) for rol in rollen]


# One timeline for every case: each date a different day, so a date in a text tells which one it is.
START = "2025-02-03"  # first day of not appearing
VIER_WEKEN = "2025-03-03"  # startdatum + 4 weeks
MELDING = "2025-03-05"
OUDERGESPREK = "2025-03-12"
TWAALF_WEKEN = "2025-04-28"  # startdatum + 12 weeks
CHECK_UITERLIJK = "2025-05-13"  # ten working days after the twelve-week date
BESPREKING = "2025-05-22"  # the Kerngroep meeting
ACTIE_UITERLIJK = "2025-06-05"
TAAK_UITERLIJK = "2025-03-19"
ZORGPLICHT = "2025-06-16"
GECORRIGEERD_START = "2025-01-27"
GECORRIGEERD_DEADLINE = "2025-04-21"
LEERPLICHTIG_VANAF = "2025-04-01"  # first school day of the month after the fifth birthday


def _ppo(contact: Rol) -> list[Message]:
    """PPO Rotterdam's own messages (PO, with a school)."""
    return [
        *_m(Sjabloon.OUDERFUNCTIONARIS_INFORMEREN, Rol.OUDERFUNCTIONARIS, startdatum=START),
        *_m(Sjabloon.TOEGANG_KINDKANS, Rol.OUDERS),
        *_m(
            Sjabloon.TWAALF_WEKEN_CHECK_GEMELD,
            Rol.COORDINATOR,
            deadline=TWAALF_WEKEN,
            uiterlijk=CHECK_UITERLIJK,
            weken=12,
        ),
        *[
            message
            for code in (
                "check_niet_beslist",
                "geen_passende_plek",
                "geen_plaats_reguliere_scholen",
                "partijen_niet_eens",
                "ouders_niet_eens",
                "proces_loopt_vast",
                "overig",
                "termijn_verstreken",
                "opgeschaald",
            )
            for message in _m(
                Sjabloon.ESCALATIE_COORDINATOR, Rol.COORDINATOR, reden_code=code, weken=14, deadline=TWAALF_WEKEN
            )
        ],
        *_m(
            Sjabloon.TWAALF_WEKEN_CHECK,
            Rol.COORDINATOR,
            deadline=TWAALF_WEKEN,
            uiterlijk=CHECK_UITERLIJK,
            weken=14,
            terugkomst=True,
        ),
        *_m(
            Sjabloon.TWAALF_WEKEN_CHECK_VERLOPEN, (Rol.COORDINATOR, Rol.TASKFORCE), uiterlijk=CHECK_UITERLIJK, weken=15
        ),
        *_m(Sjabloon.ZORGPLICHT_VERLOPEN, Rol.COORDINATOR, termijn_op=ZORGPLICHT),
        *_m(Sjabloon.TLV_ONDERBOUWING, contact, route="3.3", variant="tlv_sbo"),
        *_m(Sjabloon.TLV_ONDERBOUWING, contact, route="3.3", variant="tlv_so"),
        *_m(Sjabloon.HANDMATIGE_ACTIE, contact, systeem="kindkans", actie="hulpvraag_aanmaken", fout="HTTP 422"),
    ]


def _koers_vo(contact: Rol) -> list[Message]:
    """Koers VO's own messages (VO): the Koersloket decides, the Kerngroep takes up an undecided check."""
    return [
        *_m(Sjabloon.TWAALF_WEKEN_CHECK_VERLOPEN, (contact, Rol.TASKFORCE), uiterlijk=CHECK_UITERLIJK, weken=15),
        *_m(Sjabloon.TLV_ONDERBOUWING, contact, route="3.3", variant="tlv_vso"),
        *_m(
            Sjabloon.HANDMATIGE_ACTIE, contact, systeem="leerplicht", actie="melding_volledig_verzuim", fout="HTTP 503"
        ),
    ]


def _with_school(sector: Sector, contact: Rol, brin: str) -> list[Message]:
    """What the rules send in a case of a pupil of 5 or older with a school, in either sector."""
    varianten = {
        Sector.PO: ("andere_reguliere_school", "arrangement", "tlv_sbo", "tlv_so", "zorgarrangement"),
        Sector.VO: ("andere_vo_school", "tlv_vso", "zorgarrangement"),
    }[sector]
    both = (Rol.SCHOOL, contact)
    return [
        *_m(Sjabloon.VIER_WEKEN_THUIS, both, startdatum=START, termijn_op=VIER_WEKEN, deadline=TWAALF_WEKEN),
        *_m(Sjabloon.MELDING_THUISZITTER, contact, startdatum=START, school_brin=brin),
        *_m(Sjabloon.LBA_HERINNERING, contact, melding_op=MELDING),
        *_m(Sjabloon.OUDERGESPREK_HERINNERING, both, melding_op=MELDING),
        *_m(Sjabloon.PLAN_HERINNERING, both, oudergesprek_op=OUDERGESPREK),
        *_m(Sjabloon.TERMIJN_WAARSCHUWING, both, weken=10, deadline=TWAALF_WEKEN),
        *_m(Sjabloon.TWAALF_WEKEN_CHECK, contact, deadline=TWAALF_WEKEN, uiterlijk=CHECK_UITERLIJK, weken=12),
        *_m(
            Sjabloon.TWAALF_WEKEN_CHECK,
            contact,
            deadline=TWAALF_WEKEN,
            uiterlijk=CHECK_UITERLIJK,
            weken=18,
            terugkomst=True,
        ),
        *_m(
            Sjabloon.ESCALATIE_TASKFORCE,
            Rol.TASKFORCE,
            weken=14,
            reden_code="geen_passende_plek",
            bespreking_op=BESPREKING,
        ),
        *_m(Sjabloon.ESCALATIE_TASKFORCE, Rol.TASKFORCE, weken=14),  # a version-1 case
        *_m(Sjabloon.OUDERS_INFORMEREN_TASKFORCE, Rol.SCHOOL, bespreking_op=BESPREKING),
        *_m(Sjabloon.TASKFORCE_BESLUIT, both, aantal_acties=2),
        *_m(Sjabloon.TASKFORCE_BESLUIT, both),
        *_m(
            Sjabloon.TASKFORCE_ACTIE,
            Rol.SCHOOL,
            omschrijving="Zoek met de ouders een school voor een proefplaatsing.",
            uiterlijk=ACTIE_UITERLIJK,
            taak_id="T9",
        ),
        *[m for r in ("3.1", "3.2", "3.4") for m in _m(Sjabloon.ROUTE_GEKOZEN, Rol.OUDERS, route=r, variant=None)],
        *[m for v in varianten for m in _m(Sjabloon.ROUTE_GEKOZEN, Rol.OUDERS, route="3.3", variant=v)],
        *_m(Sjabloon.REGIE_WIJKTEAM, Rol.WIJKTEAM, route="3.4", variant=None),
        *_m(Sjabloon.REGIE_WIJKTEAM, Rol.WIJKTEAM, route="3.3", variant="zorgarrangement"),
        *_m(Sjabloon.HUISWERKPAKKETTEN, Rol.SCHOOL),
        *_m(Sjabloon.AANMELDING_ANDERE_SCHOOL, contact, school_brin="34CD", termijn_op=ZORGPLICHT),
        *_m(Sjabloon.ZORGPLICHT_VERLOPEN, contact, termijn_op=ZORGPLICHT),
        *_m(Sjabloon.WACHTLIJST, contact, op_wachtlijst=True),
        *_m(Sjabloon.WACHTLIJST, contact, op_wachtlijst=False),
        *_m(Sjabloon.VOORTGANG, (Rol.OUDERS, contact), toelichting="Twee ochtenden per week op school."),
        *_m(Sjabloon.VRIJSTELLING_AANGEVRAAGD, Rol.LEERPLICHT),
        *_m(Sjabloon.VRIJSTELLING_BESLUIT, (Rol.OUDERS, contact), status="verleend"),
        *_m(Sjabloon.STARTDATUM_GECORRIGEERD, both, startdatum=GECORRIGEERD_START, deadline=GECORRIGEERD_DEADLINE),
        *_m(
            Sjabloon.TAAK_TE_LAAT,
            Rol.SCHOOL,
            taak_id="T3",
            omschrijving="Organiseer een gesprek met de ouders.",
            uiterlijk=TAAK_UITERLIJK,
        ),
        *_m(
            Sjabloon.PASSENDE_PLEK,
            contact,
            uitkomst="ingeschreven_andere_school",
            school_brin="34CD",
            controles=["de uitschrijving door de oude school (uitschrijving)", "de controle en afronding"],
        ),
        *_m(Sjabloon.PASSENDE_PLEK, contact, uitkomst="vrijstelling", school_brin=None, controles=[]),
        *_m(Sjabloon.UITSCHRIJVEN, Rol.SCHOOL, uitkomst="ingeschreven_andere_school", school_brin="34CD"),
        *_m(Sjabloon.UITSCHRIJVEN, Rol.SCHOOL, uitkomst="vrijstelling", school_brin=None),
        *_m(Sjabloon.VERZUIM_VOLGEN, Rol.LEERPLICHT, uitkomst="terug_op_school", school_brin=None),
        *_m(Sjabloon.VERZUIM_VOLGEN, Rol.LEERPLICHT, uitkomst="ingeschreven_andere_school", school_brin="34CD"),
        *_m(Sjabloon.AFRONDEN, contact, uitkomst="ingeschreven_andere_school"),
        *_m(Sjabloon.SECTOR_GEWIJZIGD, contact, sector=sector.value, startdatum=START),
        *_m(
            Sjabloon.AFGESLOTEN,
            (Rol.OUDERS, Rol.SCHOOL, contact, Rol.LEERPLICHT, Rol.TASKFORCE, Rol.WIJKTEAM),
            uitkomst="ingeschreven_andere_school",
        ),
        *_m(Sjabloon.AFGESLOTEN, (Rol.OUDERS, Rol.SCHOOL, contact, Rol.LEERPLICHT), uitkomst="ingetrokken"),
    ]


PO = Case(
    "PO",
    Sector.PO,
    Regio.NOORD,
    (
        *_with_school(Sector.PO, Rol.SCP, "12AB"),
        *_ppo(Rol.SCP),
        *_m(Sjabloon.AFGESLOTEN, Rol.COORDINATOR, uitkomst="terug_op_school"),
    ),
)

VO = Case("VO", Sector.VO, Regio.ZUID, (*_with_school(Sector.VO, Rol.KOERSLOKET, "56EF"), *_koers_vo(Rol.KOERSLOKET)))

VIER_JAAR = Case(
    "PO, 4 jaar",
    Sector.PO,
    Regio.ZUID,
    (
        *_m(
            Sjabloon.VIER_WEKEN_THUIS,
            (Rol.SCHOOL, Rol.SCP),
            startdatum=START,
            termijn_op=VIER_WEKEN,
            deadline=TWAALF_WEKEN,
        ),
        *_m(Sjabloon.MELDING_THUISZITTER, Rol.SCP, startdatum=START, school_brin="78GH"),
        *_m(Sjabloon.OUDERFUNCTIONARIS_INFORMEREN, Rol.OUDERFUNCTIONARIS, startdatum=START),
        *_m(Sjabloon.TOEGANG_KINDKANS, Rol.OUDERS),
        *_m(Sjabloon.OUDERGESPREK_HERINNERING, (Rol.SCHOOL, Rol.SCP), melding_op=MELDING),
        *_m(Sjabloon.TERMIJN_WAARSCHUWING, (Rol.SCHOOL, Rol.SCP), weken=10, deadline=TWAALF_WEKEN),
        *_m(Sjabloon.TWAALF_WEKEN_CHECK, Rol.SCP, deadline=TWAALF_WEKEN, uiterlijk=CHECK_UITERLIJK, weken=12),
        *_m(
            Sjabloon.TWAALF_WEKEN_CHECK_GEMELD,
            Rol.COORDINATOR,
            deadline=TWAALF_WEKEN,
            uiterlijk=CHECK_UITERLIJK,
            weken=12,
        ),
        *_m(
            Sjabloon.ESCALATIE_COORDINATOR,
            Rol.COORDINATOR,
            reden_code="check_niet_beslist",
            weken=14,
            deadline=TWAALF_WEKEN,
        ),
        *_m(
            Sjabloon.ESCALATIE_TASKFORCE,
            Rol.TASKFORCE,
            weken=15,
            reden_code="ouders_niet_eens",
            bespreking_op=BESPREKING,
        ),
        *_m(Sjabloon.ROUTE_GEKOZEN, Rol.OUDERS, route="3.4", variant=None),
        *_m(Sjabloon.REGIE_WIJKTEAM, Rol.WIJKTEAM, route="3.4", variant=None),
        *_m(Sjabloon.PASSENDE_PLEK, Rol.SCP, uitkomst="terug_op_school", school_brin=None, controles=["de afronding"]),
        *_m(Sjabloon.AFRONDEN, Rol.SCP, uitkomst="terug_op_school"),
        *_m(Sjabloon.AFGESLOTEN, (Rol.OUDERS, Rol.SCHOOL, Rol.SCP, Rol.COORDINATOR), uitkomst="terug_op_school"),
        # The pupil turns leerplichtig during the case: from then on the Leerplicht steps apply.
        *_m(
            Sjabloon.LEERPLICHTIG_GEWORDEN,
            (Rol.LEERPLICHT, Rol.SCHOOL, Rol.SCP),
            leerplichtig_vanaf=LEERPLICHTIG_VANAF,
            startdatum=START,
            school_brin="78GH",
        ),
    ),
    vier_jaar=True,
)


def _uit_buitenland(sector: Sector) -> Case:
    lav = Rol.LEERPLICHT_ABSOLUUT_VERZUIM
    return Case(
        f"{sector.value}, uit het buitenland",
        sector,
        Regio.NOORD,
        (
            *_m(Sjabloon.MELDING_UIT_BUITENLAND, lav, startdatum=START),
            *_m(Sjabloon.LBA_HERINNERING, lav, melding_op=MELDING),
            *_m(Sjabloon.TERMIJN_WAARSCHUWING, lav, weken=10, deadline=TWAALF_WEKEN),
            *_m(Sjabloon.WACHTLIJST, lav, op_wachtlijst=True),
            *_m(Sjabloon.VOORTGANG, (Rol.OUDERS, lav), toelichting="Intake bij een nieuwkomersklas gepland."),
            *_m(Sjabloon.STARTDATUM_GECORRIGEERD, lav, startdatum=GECORRIGEERD_START, deadline=GECORRIGEERD_DEADLINE),
            *_m(
                Sjabloon.ESCALATIE_TASKFORCE,
                Rol.TASKFORCE,
                weken=14,
                reden_code="proces_loopt_vast",
                bespreking_op=BESPREKING,
            ),
            *_m(Sjabloon.OUDERS_INFORMEREN_TASKFORCE, lav, bespreking_op=BESPREKING),
            *_m(Sjabloon.TASKFORCE_BESLUIT, lav, aantal_acties=1),
            *_m(
                Sjabloon.TASKFORCE_ACTIE,
                lav,
                omschrijving="Zoek met de ouders een plek in een nieuwkomersklas.",
                uiterlijk=ACTIE_UITERLIJK,
                taak_id="T5",
            ),
            *_m(
                Sjabloon.TAAK_TE_LAAT,
                lav,
                taak_id="T2",
                omschrijving="Registreer de leerling in de LBA.",
                uiterlijk=TAAK_UITERLIJK,
            ),
            *_m(Sjabloon.VRIJSTELLING_AANGEVRAAGD, lav),
            *_m(
                Sjabloon.PASSENDE_PLEK,
                lav,
                uitkomst="ingeschreven_andere_school",
                school_brin="90JK",
                controles=["de controle en afronding door Leerplicht absoluut verzuim"],
            ),
            *_m(Sjabloon.PASSENDE_PLEK, lav, uitkomst="terug_op_school", school_brin=None, controles=[]),
            *_m(Sjabloon.VERZUIM_VOLGEN, lav, uitkomst="ingeschreven_andere_school", school_brin="90JK"),
            *_m(Sjabloon.AFRONDEN, lav, uitkomst="ingeschreven_andere_school"),
            *_m(Sjabloon.AFGESLOTEN, (Rol.OUDERS, lav), uitkomst="ingeschreven_andere_school"),
            *_m(Sjabloon.AFGESLOTEN, (Rol.OUDERS, lav), uitkomst="ingetrokken"),
        ),
        uit_buitenland=True,
    )


CASES = (PO, VO, VIER_JAAR, _uit_buitenland(Sector.PO), _uit_buitenland(Sector.VO))


def _params(cases: tuple[Case, ...]) -> list[Any]:
    return [
        pytest.param(case, message, id=f"{case.naam}-{message.sjabloon.value}-{message.rol.value}-{index}")
        for case in cases
        for index, message in enumerate(case.messages)
    ]


RENDERED = _params(CASES)


def bericht(case: Case, message: Message) -> Bericht:
    return Bericht(
        sleutel=f"thuiszitter-{LEERLING}/case-1/{message.sjabloon.value}",
        case_id=f"thuiszitter-{LEERLING}/case-1",
        leerling_ref=LEERLING,
        rol=message.rol,
        sjabloon=message.sjabloon,
        regio=case.regio,
        sector=case.sector,
        gegevens=message.gegevens,
    )


# ---------------------------------------------------------------------------------------------- reading back


def sentences(text: str) -> list[str]:
    return [s.strip() for line in text.splitlines() for s in re.split(r"(?<=[.?!])\s+", line) if s.strip()]


def dutch_dates(text: str) -> list[date]:
    return [date(int(y), _MAANDEN.index(m) + 1, int(d)) for d, m, y in DUTCH_DATE.findall(text)]


def message_dates(gegevens: dict[str, Any]) -> dict[str, date]:
    found = {}
    for key, value in gegevens.items():
        if isinstance(value, str):
            try:
                found[key] = date.fromisoformat(value)
            except ValueError:
                continue
    return found


# What names a date, per key; a few keys mean something else per template.
MEANING: dict[str, str] = {
    "startdatum": r"sinds|startdatum|eerste dag van niet verschijnen",
    "deadline": r"twaalf weken",
    "melding_op": r"gemeld",
    "oudergesprek_op": r"oudergesprek",
    "uiterlijk": r"uiterlijk|uiterste datum",
    "bespreking_op": r"Kerngroep",
    "leerplichtig_vanaf": r"leerplichtig vanaf",
}
MEANING_PER_SJABLOON: dict[tuple[Sjabloon, str], str] = {
    (Sjabloon.VIER_WEKEN_THUIS, "termijn_op"): r"vier weken",
    (Sjabloon.AANMELDING_ANDERE_SCHOOL, "termijn_op"): r"toelating",
    (Sjabloon.ZORGPLICHT_VERLOPEN, "termijn_op"): r"verlopen",
}


def meaning(sjabloon: Sjabloon, key: str) -> str:
    return MEANING_PER_SJABLOON.get((sjabloon, key)) or MEANING[key]


VO_NIET: dict[str, str] = {
    "Kindkans": r"Kindkans",
    "PPO": r"\bPPO\b",
    "SCP": r"\bSCP\b",
    "schoolcontactpersoon": r"schoolcontactpersoon",
    "ouderfunctionaris": r"ouderfunctionaris",
    "ombudspersoon": r"ombudspersoon",
    "Centrale AanmeldRoute": r"Centrale AanmeldRoute",
    "SBO": r"\bSBO\b",
    "SO": r"\bSO\b",
    "coördinator van PPO": r"co[öo]rdinator",
    "SISA": r"SISA",
    "Herstart": r"Herstart",
    "basisschool": r"basisschool|basisonderwijs",
}
"""PPO Rotterdam's machinery, which a VO text never names (PROCEDURE.md version 2)."""

PO_NIET: dict[str, str] = {"Koers VO": r"Koers", "VSO": r"\bVSO\b"}


def kern(tekst: str) -> str:
    """The message without its greeting and closing line."""
    paragraphs = tekst.strip().split("\n\n")
    return "\n\n".join(paragraphs[1:-1])


@pytest.mark.parametrize(("case", "message"), RENDERED)
def test_the_message_has_its_own_template(case: Case, message: Message) -> None:
    onderwerp, tekst = render(bericht(case, message))
    assert not onderwerp.startswith("Bericht over leerling"), "the general message instead of the template"
    assert LEERLING in tekst
    assert "{" not in onderwerp + tekst
    assert "None" not in onderwerp + tekst


@pytest.mark.parametrize(("case", "message"), RENDERED)
def test_every_date_is_one_of_the_messages_dates_named_for_what_it_is(case: Case, message: Message) -> None:
    onderwerp, tekst = render(bericht(case, message))
    own = message_dates(message.gegevens)
    for sentence in [onderwerp, *sentences(tekst)]:
        for day in dutch_dates(sentence):
            keys = [key for key, value in own.items() if value == day]
            assert keys, f"{day} is none of the message's dates: {sentence!r}"
            others = [key for key, value in own.items() if value != day]
            assert any(re.search(meaning(message.sjabloon, key), sentence) for key in keys), (
                f"{day} ({', '.join(keys)}) in a sentence that does not name it as such: {sentence!r}"
            )
            for other in others:
                assert not re.search(meaning(message.sjabloon, other), sentence), (
                    f"{day} ({', '.join(keys)}) in a sentence about {other}: {sentence!r}"
                )


@pytest.mark.parametrize(("case", "message"), RENDERED)
def test_the_organisation_named_is_the_one_of_the_sector(case: Case, message: Message) -> None:
    onderwerp, tekst = render(bericht(case, message))
    forbidden = VO_NIET if case.sector is Sector.VO else PO_NIET
    for naam, pattern in forbidden.items():
        assert not re.search(pattern, onderwerp + "\n" + tekst), f"a {case.sector.value} text names {naam}"


@pytest.mark.parametrize(("case", "message"), RENDERED)
def test_leerplicht_absoluut_verzuim_is_never_sent_to_the_school(case: Case, message: Message) -> None:
    _, tekst = render(bericht(case, message))
    if message.rol is Rol.LEERPLICHT_ABSOLUUT_VERZUIM:
        assert "bij de school" not in tekst.lower()
    if case.uit_buitenland:
        # No school of registration: nobody is told about the pupil's own school.
        for phrase in ("bij de school", "school van herkomst", "school van inschrijving", "eigen school", "uw school"):
            assert phrase not in kern(tekst).lower(), phrase


@pytest.mark.parametrize(("case", "message"), _params(tuple(case for case in CASES if case.vier_jaar)))
def test_a_pupil_of_4_gets_no_leerplicht_step(case: Case, message: Message) -> None:
    _, tekst = render(bericht(case, message))
    if message.sjabloon is Sjabloon.LEERPLICHTIG_GEWORDEN:
        return  # from that day the Leerplicht steps apply
    for sentence in sentences(kern(tekst)):
        if re.search(r"leerplicht|\bLBA\b", sentence, re.IGNORECASE):
            assert "5 jaar" in sentence, f"a Leerplicht step for a pupil of 4: {sentence!r}"


def test_every_code_has_a_template_and_every_code_is_read_back() -> None:
    assert set(TEMPLATES) == set(Sjabloon)
    assert {message.sjabloon for case in CASES for message in case.messages} == set(Sjabloon)


@pytest.mark.parametrize("sector", list(Sector))
def test_the_organisation_of_the_sector_is_named_where_the_case_is_introduced(sector: Sector) -> None:
    naam = "PPO Rotterdam" if sector is Sector.PO else "Koers VO"
    contact = Rol.SCP if sector is Sector.PO else Rol.KOERSLOKET
    case = PO if sector is Sector.PO else VO
    for sjabloon, rol in (
        (Sjabloon.MELDING_THUISZITTER, contact),
        (Sjabloon.TWAALF_WEKEN_CHECK, contact),
        (Sjabloon.SECTOR_GEWIJZIGD, contact),
        (Sjabloon.ESCALATIE_TASKFORCE, Rol.TASKFORCE),
    ):
        [message] = [m for m in case.messages if m.sjabloon is sjabloon and m.rol is rol][:1]
        _, tekst = render(bericht(case, message))
        assert naam in tekst, sjabloon


@pytest.mark.parametrize("sector", list(Sector))
@pytest.mark.parametrize("rol", list(Rol))
@pytest.mark.parametrize("sjabloon", list(Sjabloon))
def test_render_never_raises_for_any_role_sector_or_data(sjabloon: Sjabloon, rol: Rol, sector: Sector) -> None:
    for gegevens in ({}, {"uitkomst": 3, "controles": "geen lijst", "weken": "veel", "uiterlijk": [1], "sector": "X"}):
        b = Bericht(
            sleutel="s",
            case_id="c",
            leerling_ref=LEERLING,
            rol=rol,
            sjabloon=sjabloon,
            regio=Regio.NOORD,
            sector=sector,
            gegevens=gegevens,
        )
        onderwerp, tekst = render(b)
        assert onderwerp.strip()
        assert LEERLING in tekst
