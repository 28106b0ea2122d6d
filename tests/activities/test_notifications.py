"""Notifications: Dutch templates, delivery over real SMTP (aiosmtpd on 127.0.0.1), once per sleutel."""

from __future__ import annotations

import contextlib
import dataclasses
import email
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.policy import default as default_policy
from typing import Any

import pytest
import structlog
from aiosmtpd.controller import Controller
from pydantic import ValidationError
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.adapters import (
    BERICHT_GEWEIGERD,
    BERICHT_TIJDELIJK_MISLUKT,
    KANAAL_NIET_INGESTELD,
    message_id,
)
from activities.case_activities import CaseActivities
from activities.templates import TEMPLATES, render
from devtools.devstack import free_port
from thuiszitters.register.store import Register
from thuiszitters.settings import Settings
from workflows.contract import Regio, Rol, Sector
from workflows.effects import Bericht, Portie, Sjabloon

LEERLING = "LL5150"
CASE_ID = f"thuiszitter-{LEERLING}/case-1"
AFZENDER = "thuiszitters@ppo-rotterdam.example"

# The template codes the case rules use, with the data each may carry.
GEGEVENS: dict[Sjabloon, dict[str, Any]] = {
    Sjabloon.VIER_WEKEN_THUIS: {"startdatum": "2025-02-03", "termijn_op": "2025-04-28"},
    Sjabloon.MELDING_THUISZITTER: {"startdatum": "2025-02-03", "school_brin": "12AB"},
    Sjabloon.OUDERFUNCTIONARIS_INFORMEREN: {"startdatum": "2025-02-03"},
    Sjabloon.TOEGANG_KINDKANS: {},
    Sjabloon.MELDING_UIT_BUITENLAND: {"startdatum": "2025-02-03"},
    Sjabloon.LBA_HERINNERING: {"melding_op": "2025-03-03"},
    Sjabloon.OUDERGESPREK_HERINNERING: {"melding_op": "2025-03-03"},
    Sjabloon.PLAN_HERINNERING: {"oudergesprek_op": "2025-03-10"},
    Sjabloon.TERMIJN_WAARSCHUWING: {"weken": 10, "deadline": "2025-04-28"},
    Sjabloon.ESCALATIE_COORDINATOR: {"reden_code": "termijn_verstreken", "weken": 12, "deadline": "2025-04-28"},
    Sjabloon.ESCALATIE_TASKFORCE: {},
    Sjabloon.OUDERS_INFORMEREN_TASKFORCE: {},
    Sjabloon.TASKFORCE_BESLUIT: {},
    Sjabloon.ROUTE_GEKOZEN: {"route": "3.3", "variant": "tlv_so"},
    Sjabloon.REGIE_WIJKTEAM: {},
    Sjabloon.HUISWERKPAKKETTEN: {},
    Sjabloon.TLV_ONDERBOUWING: {},
    Sjabloon.AANMELDING_ANDERE_SCHOOL: {"school_brin": "34CD", "termijn_op": "2025-05-12"},
    Sjabloon.ZORGPLICHT_VERLOPEN: {"termijn_op": "2025-05-12"},
    Sjabloon.WACHTLIJST: {"op_wachtlijst": True},
    Sjabloon.VOORTGANG: {"toelichting": "Leerling gaat vanaf maandag twee ochtenden naar school."},
    Sjabloon.VRIJSTELLING_AANGEVRAAGD: {},
    Sjabloon.VRIJSTELLING_BESLUIT: {"status": "verleend"},
    Sjabloon.STARTDATUM_GECORRIGEERD: {"startdatum": "2025-01-27", "deadline": "2025-04-21"},
    Sjabloon.HANDMATIGE_ACTIE: {"systeem": "kindkans", "actie": "hulpvraag_aanmaken", "fout": "HTTP 422"},
    Sjabloon.AFGESLOTEN: {"uitkomst": "terug_op_school"},
    Sjabloon.LEERPLICHTIG_GEWORDEN: {"leerplichtig_vanaf": "2025-04-01", "startdatum": "2025-02-03"},
    Sjabloon.TWAALF_WEKEN_CHECK: {"deadline": "2025-04-28", "uiterlijk": "2025-05-13", "weken": 12},
    Sjabloon.TWAALF_WEKEN_CHECK_GEMELD: {"deadline": "2025-04-28", "uiterlijk": "2025-05-13", "weken": 12},
    Sjabloon.TWAALF_WEKEN_CHECK_VERLOPEN: {"uiterlijk": "2025-05-13", "weken": 14},
    Sjabloon.TAAK_TE_LAAT: {"taak_id": "T3", "omschrijving": "Organiseer een oudergesprek.", "uiterlijk": "2025-03-17"},
    Sjabloon.PASSENDE_PLEK: {"uitkomst": "terug_op_school", "controles": ["de controle en afronding"]},
    Sjabloon.UITSCHRIJVEN: {"uitkomst": "ingeschreven_andere_school", "school_brin": "34CD"},
    Sjabloon.AFRONDEN: {"uitkomst": "ingeschreven_andere_school"},
    Sjabloon.VERZUIM_VOLGEN: {"uitkomst": "terug_op_school"},
    Sjabloon.TASKFORCE_ACTIE: {"omschrijving": "Zoek een SO-plek.", "uiterlijk": "2025-06-02", "taak_id": "T9"},
    Sjabloon.SECTOR_GEWIJZIGD: {"sector": "VO", "startdatum": "2025-02-03"},
}

ROL_PER_SJABLOON: dict[Sjabloon, Rol] = {
    Sjabloon.TOEGANG_KINDKANS: Rol.OUDERS,
    Sjabloon.MELDING_UIT_BUITENLAND: Rol.LEERPLICHT_ABSOLUUT_VERZUIM,
    Sjabloon.ESCALATIE_COORDINATOR: Rol.COORDINATOR,
    Sjabloon.ESCALATIE_TASKFORCE: Rol.TASKFORCE,
    Sjabloon.REGIE_WIJKTEAM: Rol.WIJKTEAM,
    Sjabloon.VRIJSTELLING_AANGEVRAAGD: Rol.LEERPLICHT,
}


def bericht(sjabloon: Sjabloon = Sjabloon.MELDING_THUISZITTER, **changes: Any) -> Bericht:
    fields: dict[str, Any] = {
        "sleutel": f"{CASE_ID}/1/{sjabloon.value}",
        "case_id": CASE_ID,
        "leerling_ref": LEERLING,
        "rol": ROL_PER_SJABLOON.get(sjabloon, Rol.SCP),
        "sjabloon": sjabloon,
        "regio": Regio.NOORD,
        "sector": Sector.PO,
        "gegevens": GEGEVENS.get(sjabloon, {}),
    }
    fields.update(changes)
    return Bericht(**fields)


# ------------------------------------------------------------------------------------------------ templates


def test_every_code_has_a_template_and_every_template_a_code() -> None:
    assert all(isinstance(code, Sjabloon) for code in TEMPLATES)
    assert set(TEMPLATES) == set(Sjabloon)
    assert set(GEGEVENS) == set(Sjabloon)  # and the tests below render each of them


@pytest.mark.parametrize("sjabloon", sorted(GEGEVENS))
def test_every_template_renders_dutch_text_about_the_pupil(sjabloon: Sjabloon) -> None:
    onderwerp, tekst = render(bericht(sjabloon))
    assert LEERLING in tekst
    assert onderwerp.strip()
    assert "\n" not in onderwerp
    assert "leerling" in tekst.lower()
    assert tekst.startswith("Beste ")
    assert "{" not in onderwerp + tekst  # no unfilled placeholder
    assert "None" not in onderwerp + tekst


@pytest.mark.parametrize("sjabloon", sorted(GEGEVENS))
def test_every_template_renders_without_its_optional_data(sjabloon: Sjabloon) -> None:
    onderwerp, tekst = render(bericht(sjabloon, gegevens={}))
    assert LEERLING in tekst
    assert onderwerp.strip()
    assert "None" not in onderwerp + tekst


@pytest.mark.parametrize("sjabloon", sorted(GEGEVENS))
def test_only_the_progress_template_carries_free_text(sjabloon: Sjabloon) -> None:
    secret = "Vrije tekst die niet mag uitlekken"
    gegevens = {**GEGEVENS[sjabloon], "toelichting": secret, "reden": secret, "samenvatting": secret}
    _, tekst = render(bericht(sjabloon, gegevens=gegevens))
    assert (secret in tekst) == (sjabloon is Sjabloon.VOORTGANG)


def test_dates_are_written_the_dutch_way() -> None:
    _, tekst = render(bericht(Sjabloon.VIER_WEKEN_THUIS))
    assert f"Leerling {LEERLING} zit sinds 3 februari 2025 thuis" in tekst
    assert "28 april 2025" in tekst


def test_sector_decides_who_is_addressed() -> None:
    _, po = render(bericht(Sjabloon.MELDING_THUISZITTER, sector=Sector.PO))
    _, vo = render(bericht(Sjabloon.MELDING_THUISZITTER, sector=Sector.VO, rol=Rol.KOERSLOKET))
    assert "PPO Rotterdam" in po
    assert "Koers VO" in vo
    assert vo.startswith("Beste medewerker van het Koersloket")


def test_a_code_without_a_template_cannot_be_sent() -> None:
    fields = bericht().model_dump() | {"sjabloon": "nog_niet_bestaand_sjabloon"}
    with pytest.raises(ValidationError):
        Bericht.model_validate(fields)


def test_a_template_that_fails_gives_a_clear_general_message(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(context: Any) -> tuple[str, str]:
        raise KeyError("gegevens")

    monkeypatch.setitem(TEMPLATES, Sjabloon.ZORGPLICHT_VERLOPEN, broken)
    onderwerp, tekst = render(bericht(Sjabloon.ZORGPLICHT_VERLOPEN))
    assert LEERLING in onderwerp
    assert "zorgplicht verlopen" in tekst


def test_odd_data_never_breaks_a_template() -> None:
    for sjabloon in GEGEVENS:
        odd = {key: {"onverwacht": [1, 2]} for key in GEGEVENS[sjabloon]} | {"weken": "veel"}
        onderwerp, tekst = render(bericht(sjabloon, gegevens=odd))
        assert onderwerp.strip(), sjabloon
        assert LEERLING in tekst, sjabloon


# ------------------------------------------------------------------------------------------------ SMTP server


@dataclass
class MailServer:
    port: int
    reply: str = "250 OK"
    received: list[tuple[list[str], EmailMessage]] = field(default_factory=list)
    replies: list[str] = field(default_factory=list)
    """Replies for the next messages, one each, before ``reply`` again."""

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        reply = self.replies.pop(0) if self.replies else self.reply
        if reply.startswith("250"):
            message = email.message_from_bytes(envelope.content, policy=default_policy)
            assert isinstance(message, EmailMessage)
            self.received.append((list(envelope.rcpt_tos), message))
        return reply


@pytest.fixture
def mail_server() -> Iterator[MailServer]:
    server = MailServer(port=free_port())
    controller = Controller(server, hostname="127.0.0.1", port=server.port)
    controller.start()
    yield server
    controller.stop()


def smtp_settings(port: int) -> Settings:
    return Settings(
        kanalen={Rol.SCP: "smtp", Rol.COORDINATOR: "smtp", Rol.OUDERS: "smtp"},
        adressen={
            "scp": "scp@ppo-rotterdam.example",
            "coordinator_noord": "coordinator.noord@ppo-rotterdam.example",
            "coordinator_zuid": "coordinator.zuid@ppo-rotterdam.example",
        },
        smtp_host="127.0.0.1",
        smtp_port=port,
        smtp_afzender=AFZENDER,
    )


async def send(settings: Settings, register: Register, b: Bericht) -> None:
    activities = CaseActivities(settings, register)
    try:
        await ActivityEnvironment().run(activities.berichten, b)
    finally:
        await activities.close()


async def test_a_message_is_mailed_with_subject_body_and_stable_message_id(
    register: Register, mail_server: MailServer
) -> None:
    b = bericht(Sjabloon.MELDING_THUISZITTER)
    await send(smtp_settings(mail_server.port), register, b)

    [(recipients, message)] = mail_server.received
    onderwerp, tekst = render(b)
    assert recipients == ["scp@ppo-rotterdam.example"]
    assert message["Subject"] == onderwerp
    assert message["From"] == AFZENDER
    assert message["Message-ID"] == message_id(b.sleutel, AFZENDER)
    assert message["Message-ID"].endswith("@ppo-rotterdam.example>")
    assert message["Idempotency-Key"] == b.sleutel
    body = message.get_content()
    assert body.replace("\r\n", "\n") == tekst
    assert f"{LEERLING}" in body
    row = await register.notification(b.sleutel)
    assert row is not None
    assert (row.status, row.kanaal, row.onderwerp, row.pogingen) == ("verzonden", "smtp", onderwerp, 1)


async def test_the_same_sleutel_is_mailed_only_once(register: Register, mail_server: MailServer) -> None:
    b = bericht(Sjabloon.VIER_WEKEN_THUIS)
    await send(smtp_settings(mail_server.port), register, b)
    await send(smtp_settings(mail_server.port), register, b)
    assert len(mail_server.received) == 1
    row = await register.notification(b.sleutel)
    assert row is not None
    assert row.pogingen == 1


async def test_the_coordinator_of_the_pupils_region_is_addressed(register: Register, mail_server: MailServer) -> None:
    await send(smtp_settings(mail_server.port), register, bericht(Sjabloon.ESCALATIE_COORDINATOR, regio=Regio.ZUID))
    [(recipients, _)] = mail_server.received
    assert recipients == ["coordinator.zuid@ppo-rotterdam.example"]


async def test_a_permanent_smtp_refusal_is_final(register: Register, mail_server: MailServer) -> None:
    mail_server.reply = "554 Transaction failed"
    b = bericht()
    with pytest.raises(ApplicationError) as raised:
        await send(smtp_settings(mail_server.port), register, b)
    assert raised.value.non_retryable is True
    assert raised.value.type == BERICHT_GEWEIGERD
    assert "554" in raised.value.message
    row = await register.notification(b.sleutel)
    assert row is not None
    assert row.status == "mislukt"


async def test_a_temporary_smtp_refusal_is_retried_and_then_delivered(
    register: Register, mail_server: MailServer
) -> None:
    mail_server.reply = "451 Try again later"
    b = bericht()
    with pytest.raises(ApplicationError) as raised:
        await send(smtp_settings(mail_server.port), register, b)
    assert raised.value.non_retryable is False
    assert raised.value.type == BERICHT_TIJDELIJK_MISLUKT

    mail_server.reply = "250 OK"
    await send(smtp_settings(mail_server.port), register, b)
    assert len(mail_server.received) == 1
    row = await register.notification(b.sleutel)
    assert row is not None
    assert (row.status, row.pogingen) == ("verzonden", 2)


async def test_a_mail_server_that_is_down_is_retryable(register: Register) -> None:
    with pytest.raises(ApplicationError) as raised:
        await send(smtp_settings(free_port()), register, bericht())
    assert raised.value.non_retryable is False
    assert raised.value.type == BERICHT_TIJDELIJK_MISLUKT


async def test_a_role_without_an_address_needs_a_person(register: Register, mail_server: MailServer) -> None:
    settings = smtp_settings(mail_server.port).model_copy(update={"kanalen": {Rol.SCHOOL: "smtp"}})
    b = bericht(Sjabloon.HUISWERKPAKKETTEN, rol=Rol.SCHOOL)
    with pytest.raises(ApplicationError) as raised:
        await send(settings, register, b)
    assert raised.value.non_retryable is True
    assert raised.value.type == KANAAL_NIET_INGESTELD
    assert mail_server.received == []


# ------------------------------------------------------------------------------------- a portion in one activity


def three_for_the_scp() -> list[Bericht]:
    return [
        bericht(sjabloon, sleutel=f"{CASE_ID}/{number}/scp.{sjabloon.value}")
        for number, sjabloon in enumerate((Sjabloon.VIER_WEKEN_THUIS, Sjabloon.VOORTGANG, Sjabloon.WACHTLIJST), 1)
    ]


@contextlib.asynccontextmanager
async def mailing(register: Register, mail_server: MailServer, *replies: str) -> AsyncIterator[CaseActivities]:
    """The case activities mailing to ``mail_server``, which gives ``replies`` to the next messages."""
    mail_server.replies = list(replies)
    activities = CaseActivities(smtp_settings(mail_server.port), register)
    try:
        yield activities
    finally:
        await activities.close()


async def delivered(register: Register, mail_server: MailServer, berichten: list[Bericht]) -> list[Any]:
    """The subjects the mail server took, and each message's (status, attempts) in the register."""
    rows = [await register.notification(b.sleutel) for b in berichten]
    subjects = [str(message["Subject"]) for _, message in mail_server.received]
    return [subjects, [(row.status, row.pogingen) if row else None for row in rows]]


async def test_a_portion_goes_out_in_order_and_a_refusal_for_good_stops_only_its_own_message(
    register: Register, mail_server: MailServer
) -> None:
    berichten = three_for_the_scp()
    async with mailing(register, mail_server, "250 OK", "554 Transaction failed", "250 OK") as activities:
        redenen = await ActivityEnvironment().run(activities.uitvoeren, Portie(effecten=berichten))
    assert redenen[0] is None and redenen[2] is None
    assert redenen[1] is not None and "554" in redenen[1]  # the reason, as the workflow gets it from one message
    assert await delivered(register, mail_server, berichten) == [
        [render(berichten[0])[0], render(berichten[2])[0]],
        [("verzonden", 1), ("mislukt", 1), ("verzonden", 1)],
    ]


async def test_a_portion_tried_again_goes_on_where_it_was_and_sends_nothing_twice(
    register: Register, mail_server: MailServer
) -> None:
    berichten = three_for_the_scp()
    first = ActivityEnvironment()
    beats: list[Any] = []
    first.on_heartbeat = lambda *details: beats.append(details)
    async with mailing(register, mail_server, "250 OK", "554 Transaction failed", "451 Try again later") as activities:
        with pytest.raises(ApplicationError) as raised:
            await first.run(activities.uitvoeren, Portie(effecten=berichten))
        assert raised.value.non_retryable is False  # the third may pass: the portion is tried again
        assert beats[-1] == ([None, beats[-1][0][1]],) and "554" in beats[-1][0][1]

        again = ActivityEnvironment()  # the next attempt, with the outcomes the last heartbeat carried
        again.info = dataclasses.replace(again.info, heartbeat_details=list(beats[-1]), attempt=2)
        redenen = await again.run(activities.uitvoeren, Portie(effecten=berichten))
        # And an attempt whose heartbeats never reached the server: the register knows what was sent (not sent again)
        # and what was refused for good (not tried again: the same reason).
        blind = ActivityEnvironment()
        blind.info = dataclasses.replace(blind.info, attempt=3)
        without_heartbeat = await blind.run(activities.uitvoeren, Portie(effecten=berichten))
    assert redenen == [None, beats[-1][0][1], None] == without_heartbeat
    # The refusal for good was not tried again; the third took two attempts.
    assert await delivered(register, mail_server, berichten) == [
        [render(berichten[0])[0], render(berichten[2])[0]],
        [("verzonden", 1), ("mislukt", 1), ("verzonden", 2)],
    ]


# ------------------------------------------------------------------------------------------------ log channel


async def test_the_log_channel_logs_no_message_text(register: Register) -> None:
    b = bericht(Sjabloon.VOORTGANG, rol=Rol.OUDERS)
    onderwerp, tekst = render(b)
    with structlog.testing.capture_logs() as logs:
        await send(Settings(), register, b)

    delivered = [entry for entry in logs if entry["event"] == "bericht_gelogd"]
    assert len(delivered) == 1
    assert delivered[0]["sjabloon"] == "voortgang"
    assert delivered[0]["rol"] == "ouders"
    assert delivered[0]["case_id"] == CASE_ID
    logged = repr(logs)
    assert GEGEVENS[Sjabloon.VOORTGANG]["toelichting"] not in logged
    assert onderwerp not in logged
    assert tekst.splitlines()[2] not in logged
    row = await register.notification(b.sleutel)
    assert row is not None
    assert (row.status, row.kanaal) == ("verzonden", "log")


def test_message_ids_differ_per_sleutel() -> None:
    assert message_id("a/1/x", AFZENDER) != message_id("a/2/x", AFZENDER)
    assert message_id("a/1/x", AFZENDER) == message_id("a/1/x", AFZENDER)
