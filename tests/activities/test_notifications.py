"""Notifications: Dutch templates, delivery over real SMTP (aiosmtpd on 127.0.0.1), once per sleutel."""

from __future__ import annotations

import email
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.policy import default as default_policy
from typing import Any

import pytest
import structlog
from aiosmtpd.controller import Controller
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
from thuiszitters.register.store import Register
from thuiszitters.settings import Settings
from workflows.contract import Regio, Rol, Sector
from workflows.effects import Bericht

LEERLING = "LL5150"
CASE_ID = f"thuiszitter-{LEERLING}/case-1"
AFZENDER = "thuiszitters@ppo-rotterdam.example"

# The template codes the case rules use, with the data each may carry.
GEGEVENS: dict[str, dict[str, Any]] = {
    "vier_weken_thuis": {"startdatum": "2025-02-03", "termijn_op": "2025-04-28"},
    "melding_thuiszitter": {"startdatum": "2025-02-03", "school_brin": "12AB"},
    "ouderfunctionaris_informeren": {"startdatum": "2025-02-03"},
    "toegang_kindkans": {},
    "melding_uit_buitenland": {"startdatum": "2025-02-03"},
    "lba_herinnering": {"melding_op": "2025-03-03"},
    "oudergesprek_herinnering": {"melding_op": "2025-03-03"},
    "plan_herinnering": {"oudergesprek_op": "2025-03-10"},
    "termijn_waarschuwing": {"weken": 10, "deadline": "2025-04-28"},
    "escalatie_coordinator": {"reden_code": "termijn_verstreken", "weken": 12, "deadline": "2025-04-28"},
    "escalatie_taskforce": {},
    "ouders_informeren_taskforce": {},
    "huisbezoek_gepland": {},
    "taskforce_besluit": {},
    "route_gekozen": {"route": "3.3", "variant": "tlv_so"},
    "regie_wijkteam": {},
    "huiswerkpakketten": {},
    "tlv_onderbouwing": {},
    "aanmelding_andere_school": {"school_brin": "34CD", "termijn_op": "2025-05-12"},
    "zorgplicht_verlopen": {"termijn_op": "2025-05-12"},
    "wachtlijst": {"op_wachtlijst": True},
    "voortgang": {"toelichting": "Leerling gaat vanaf maandag twee ochtenden naar school."},
    "vrijstelling_aangevraagd": {},
    "vrijstelling_besluit": {"status": "verleend"},
    "startdatum_gecorrigeerd": {"startdatum": "2025-01-27", "deadline": "2025-04-21"},
    "handmatige_actie": {"systeem": "kindkans", "actie": "hulpvraag_thuiszitter", "fout": "HTTP 422"},
    "afgesloten": {"uitkomst": "terug_op_school"},
}

ROL_PER_SJABLOON: dict[str, Rol] = {
    "toegang_kindkans": Rol.OUDERS,
    "melding_uit_buitenland": Rol.LEERPLICHT_ABSOLUUT_VERZUIM,
    "escalatie_coordinator": Rol.COORDINATOR,
    "escalatie_taskforce": Rol.TASKFORCE,
    "huisbezoek_gepland": Rol.TASKFORCE,
    "regie_wijkteam": Rol.WIJKTEAM,
    "vrijstelling_aangevraagd": Rol.LEERPLICHT,
}


def bericht(sjabloon: str = "melding_thuiszitter", **changes: Any) -> Bericht:
    fields: dict[str, Any] = {
        "sleutel": f"{CASE_ID}/1/{sjabloon}",
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


def test_every_code_the_rules_use_has_a_template() -> None:
    assert set(GEGEVENS) <= set(TEMPLATES)


@pytest.mark.parametrize("sjabloon", sorted(GEGEVENS))
def test_every_template_renders_dutch_text_about_the_pupil(sjabloon: str) -> None:
    onderwerp, tekst = render(bericht(sjabloon))
    assert LEERLING in tekst
    assert onderwerp.strip()
    assert "\n" not in onderwerp
    assert "leerling" in tekst.lower()
    assert tekst.startswith("Beste ")
    assert "{" not in onderwerp + tekst  # no unfilled placeholder
    assert "None" not in onderwerp + tekst


@pytest.mark.parametrize("sjabloon", sorted(GEGEVENS))
def test_every_template_renders_without_its_optional_data(sjabloon: str) -> None:
    onderwerp, tekst = render(bericht(sjabloon, gegevens={}))
    assert LEERLING in tekst
    assert onderwerp.strip()
    assert "None" not in onderwerp + tekst


@pytest.mark.parametrize("sjabloon", sorted(GEGEVENS))
def test_only_the_progress_template_carries_free_text(sjabloon: str) -> None:
    secret = "Vrije tekst die niet mag uitlekken"
    gegevens = {**GEGEVENS[sjabloon], "toelichting": secret, "reden": secret, "samenvatting": secret}
    _, tekst = render(bericht(sjabloon, gegevens=gegevens))
    assert (secret in tekst) == (sjabloon == "voortgang")


def test_dates_are_written_the_dutch_way() -> None:
    _, tekst = render(bericht("vier_weken_thuis"))
    assert f"Leerling {LEERLING} zit sinds 3 februari 2025 thuis" in tekst
    assert "28 april 2025" in tekst


def test_sector_decides_who_is_addressed() -> None:
    _, po = render(bericht("melding_thuiszitter", sector=Sector.PO))
    _, vo = render(bericht("melding_thuiszitter", sector=Sector.VO, rol=Rol.KOERSLOKET))
    assert "PPO Rotterdam" in po
    assert "Koers VO" in vo
    assert vo.startswith("Beste medewerker van het Koersloket")


def test_an_unknown_template_gives_a_clear_general_message() -> None:
    onderwerp, tekst = render(bericht("nog_niet_bestaand_sjabloon"))
    assert LEERLING in onderwerp
    assert "nog niet bestaand sjabloon" in tekst


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

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.reply.startswith("250"):
            message = email.message_from_bytes(envelope.content, policy=default_policy)
            assert isinstance(message, EmailMessage)
            self.received.append((list(envelope.rcpt_tos), message))
        return self.reply


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


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
    b = bericht("melding_thuiszitter")
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
    b = bericht("vier_weken_thuis")
    await send(smtp_settings(mail_server.port), register, b)
    await send(smtp_settings(mail_server.port), register, b)
    assert len(mail_server.received) == 1
    row = await register.notification(b.sleutel)
    assert row is not None
    assert row.pogingen == 1


async def test_the_coordinator_of_the_pupils_region_is_addressed(register: Register, mail_server: MailServer) -> None:
    await send(smtp_settings(mail_server.port), register, bericht("escalatie_coordinator", regio=Regio.ZUID))
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
    b = bericht("huiswerkpakketten", rol=Rol.SCHOOL)
    with pytest.raises(ApplicationError) as raised:
        await send(settings, register, b)
    assert raised.value.non_retryable is True
    assert raised.value.type == KANAAL_NIET_INGESTELD
    assert mail_server.received == []


# ------------------------------------------------------------------------------------------------ log channel


async def test_the_log_channel_logs_no_message_text(register: Register) -> None:
    b = bericht("voortgang", rol=Rol.OUDERS)
    onderwerp, tekst = render(b)
    with structlog.testing.capture_logs() as logs:
        await send(Settings(), register, b)

    delivered = [entry for entry in logs if entry["event"] == "bericht_gelogd"]
    assert len(delivered) == 1
    assert delivered[0]["sjabloon"] == "voortgang"
    assert delivered[0]["rol"] == "ouders"
    assert delivered[0]["case_id"] == CASE_ID
    logged = repr(logs)
    assert GEGEVENS["voortgang"]["toelichting"] not in logged
    assert onderwerp not in logged
    assert tekst.splitlines()[2] not in logged
    row = await register.notification(b.sleutel)
    assert row is not None
    assert (row.status, row.kanaal) == ("verzonden", "log")


def test_message_ids_differ_per_sleutel() -> None:
    assert message_id("a/1/x", AFZENDER) != message_id("a/2/x", AFZENDER)
    assert message_id("a/1/x", AFZENDER) == message_id("a/1/x", AFZENDER)
