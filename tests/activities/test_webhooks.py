"""The webhook channel: a CloudEvent per notification, signed per Standard Webhooks, with references only.

A real receiver (:class:`tests.outside.WebhookReceiver`, aiohttp on 127.0.0.1) checks each request against the
outbound OpenAPI document's webhook, verifies its signature with the ``standardwebhooks`` library and reads the
event with the CloudEvents SDK, as a partner would; the notifications are recorded in a real PostgreSQL.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import secrets
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.adapters import (
    BERICHT_GEWEIGERD,
    BERICHT_TIJDELIJK_MISLUKT,
    KANAAL_NIET_INGESTELD,
    WebhookKanaal,
)
from activities.case_activities import CaseActivities
from activities.templates import render
from tests.outbound import OUTBOUND
from tests.outside import INVALID, WebhookReceiver
from thuiszitters.register.store import Register
from thuiszitters.settings import DEFAULT_WEBHOOK_BRON, Settings, SettingsError
from workflows.contract import Regio, Rol, Sector
from workflows.effects import Bericht, Sjabloon

LEERLING = "LL6120"
CASE_ID = f"thuiszitter-{LEERLING}:0c7a2b4e-run"
GEBOORTEDATUM = date(2014, 7, 23)
NAAM = "Yara Vermeulen-Oktay"
TOELICHTING = "Yara gaat sinds maandag twee ochtenden naar school; moeder belt de mentor op vrijdag."
WEB = "https://thuiszitters.rotterdam.example"
SCHEDULED = datetime(2026, 3, 9, 8, 15, 30, tzinfo=UTC)
"""When the case handed the message over: the activity's scheduled time, the same for every attempt."""


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def bericht(sjabloon: Sjabloon = Sjabloon.VOORTGANG, **changes: Any) -> Bericht:
    """A message that carries personal data in its ``gegevens`` (free text, a name, a date of birth): the data the
    webhook must never pass on."""
    fields: dict[str, Any] = {
        "sleutel": f"{CASE_ID}:7:ouders.{sjabloon.value}",
        "case_id": CASE_ID,
        "leerling_ref": LEERLING,
        "rol": Rol.OUDERS,
        "sjabloon": sjabloon,
        "regio": Regio.ZUID,
        "sector": Sector.PO,
        "gegevens": {"toelichting": TOELICHTING, "naam": NAAM, "geboortedatum": GEBOORTEDATUM.isoformat()},
        "school_brin": "27QX",
        "ontvanger": "prs-school-mentor-7",
        "contract_versie": 2,
    }
    fields.update(changes)
    return Bericht(**fields)


def webhook_settings(url: str, secret: str, **changes: Any) -> Settings:
    fields: dict[str, Any] = {
        "kanalen": {Rol.OUDERS: "webhook", Rol.SCP: "webhook"},
        "webhook_url": url,
        "webhook_secret": secret,
        "web_public_url": WEB,
    }
    return Settings(**(fields | changes))


async def send(settings: Settings, register: Register, b: Bericht, *, attempt: int = 1) -> None:
    """Run the ``berichten`` activity once, as attempt ``attempt`` of an activity scheduled at ``SCHEDULED``."""
    environment = ActivityEnvironment()
    environment.info = dataclasses.replace(
        environment.info, attempt=attempt, scheduled_time=SCHEDULED, current_attempt_scheduled_time=datetime.now(UTC)
    )
    activities = CaseActivities(settings, register)
    try:
        await environment.run(activities.berichten, b)
    finally:
        await activities.close()


@pytest.fixture
async def receiver() -> AsyncIterator[WebhookReceiver]:
    async with WebhookReceiver(new_secret()) as started:
        yield started


def date_forms(day: date) -> list[str]:
    return [day.isoformat(), f"{day:%d-%m-%Y}", f"{day:%d/%m/%Y}", f"{day:%Y%m%d}", f"{day.day} juli {day.year}"]


# ----------------------------------------------------------------------------------------------- what goes out


async def test_a_message_goes_out_as_a_signed_cloud_event_with_references_only(
    register: Register, receiver: WebhookReceiver
) -> None:
    b = bericht()
    await send(webhook_settings(receiver.url, receiver.secret), register, b)

    [delivery] = receiver.raw
    assert delivery.verified is True  # the receiver verified it with the Standard Webhooks library
    assert delivery.outcome == "ontvangen"
    assert delivery.headers["content-type"] == "application/cloudevents+json; charset=utf-8"
    assert delivery.headers["webhook-id"] == b.sleutel
    assert delivery.headers["idempotency-key"] == b.sleutel
    assert abs(int(delivery.headers["webhook-timestamp"]) - datetime.now(UTC).timestamp()) < 60
    assert "authorization" not in delivery.headers
    event = receiver.events[b.sleutel]
    assert event.get_attributes() == {
        "specversion": "1.0",
        "id": b.sleutel,
        "source": DEFAULT_WEBHOOK_BRON,
        "type": "nl.rotterdam.thuiszitters.bericht.voortgang",
        "subject": CASE_ID,
        "time": SCHEDULED,
        "datacontenttype": "application/json",
        "dataref": f"{WEB}/zaken/{quote(CASE_ID, safe='')}",
    }
    assert event.get_data() == {
        "sleutel": b.sleutel,
        "case_id": CASE_ID,
        "leerling_ref": LEERLING,
        "rol": "ouders",
        "sjabloon": "voortgang",
        "regio": "Zuid",
        "sector": "PO",
        "ontvanger": "prs-school-mentor-7",
    }
    row = await register.notification(b.sleutel)
    assert row is not None
    assert (row.status, row.kanaal, row.pogingen) == ("verzonden", "webhook", 1)


async def test_the_event_carries_no_personal_data_and_no_message_text(
    register: Register, receiver: WebhookReceiver
) -> None:
    b = bericht()
    onderwerp, tekst = render(b)
    assert TOELICHTING in tekst  # the message itself does carry the free text, so its absence below means something
    await send(webhook_settings(receiver.url, receiver.secret), register, b)

    [delivery] = receiver.raw
    sent = delivery.body.decode("utf-8") + json.dumps(delivery.headers)
    for personal in [TOELICHTING, NAAM, *NAAM.split(), *date_forms(GEBOORTEDATUM), "27QX", onderwerp]:
        assert personal not in sent, personal
    for line in tekst.splitlines():
        if len(line.strip()) > 20:
            assert line.strip() not in sent, line
    assert "tekst" not in json.loads(delivery.body)["data"]


async def test_the_bearer_token_goes_along_when_one_is_set(register: Register, receiver: WebhookReceiver) -> None:
    settings = webhook_settings(receiver.url, receiver.secret, webhook_token="hook-token")
    await send(settings, register, bericht(Sjabloon.MELDING_THUISZITTER, rol=Rol.SCP, sleutel=f"{CASE_ID}:1:scp"))
    [delivery] = receiver.raw
    assert delivery.verified is True
    assert delivery.headers["authorization"] == "Bearer hook-token"


async def test_without_a_public_address_there_is_no_dataref_and_the_source_is_as_set(
    register: Register, receiver: WebhookReceiver
) -> None:
    source = "urn:nld:oin:00000001234567890000:systeem:thuiszitters"
    settings = webhook_settings(receiver.url, receiver.secret, web_public_url=None, webhook_bron=source)
    b = bericht()
    await send(settings, register, b)
    event = receiver.events[b.sleutel]
    assert event.get_source() == source
    assert "dataref" not in event.get_attributes()


@pytest.mark.parametrize("sjabloon", list(Sjabloon))
def test_every_template_gives_an_event_type_the_document_accepts(sjabloon: Sjabloon) -> None:
    secret = new_secret()
    channel = WebhookKanaal(webhook_settings("http://127.0.0.1:9/berichten", secret))
    headers, body = channel.request(bericht(sjabloon), time=SCHEDULED, sent_at=datetime.now(UTC))
    assert OUTBOUND.webhook_errors(headers=headers, body=body) == []
    assert Webhook(secret).verify(body, headers)["type"] == f"nl.rotterdam.thuiszitters.bericht.{sjabloon.value}"


# -------------------------------------------------------------------------------------------------- signatures


async def test_a_tampered_body_or_another_secret_fails_verification(
    register: Register, receiver: WebhookReceiver
) -> None:
    await send(webhook_settings(receiver.url, receiver.secret), register, bericht())
    [delivery] = receiver.raw
    Webhook(receiver.secret).verify(delivery.body, delivery.headers)  # as delivered: it holds

    tampered = delivery.body.replace(b'"rol": "ouders"', b'"rol": "school"')
    assert tampered != delivery.body
    with pytest.raises(WebhookVerificationError):
        Webhook(receiver.secret).verify(tampered, delivery.headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(new_secret()).verify(delivery.body, delivery.headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(receiver.secret).verify(delivery.body, {**delivery.headers, "webhook-id": f"{CASE_ID}:8:ouders"})


async def test_a_receiver_with_another_secret_refuses_and_the_message_needs_a_person(
    register: Register, receiver: WebhookReceiver
) -> None:
    b = bericht()
    with pytest.raises(ApplicationError) as raised:
        await send(webhook_settings(receiver.url, new_secret()), register, b)
    assert raised.value.non_retryable is True
    assert raised.value.type == BERICHT_GEWEIGERD
    assert "401" in raised.value.message
    [delivery] = receiver.raw
    assert (delivery.verified, delivery.outcome) == (False, "niet_ondertekend")
    assert receiver.events == {}
    row = await register.notification(b.sleutel)
    assert row is not None
    assert row.status == "mislukt"


# ------------------------------------------------------------------------------------------------ redelivery


async def test_a_redelivery_is_the_same_event_with_the_same_webhook_id(
    register: Register, receiver: WebhookReceiver
) -> None:
    receiver.fail_next(503)
    b = bericht()
    settings = webhook_settings(receiver.url, receiver.secret)
    with pytest.raises(ApplicationError) as raised:
        await send(settings, register, b, attempt=1)
    assert raised.value.non_retryable is False
    assert raised.value.type == BERICHT_TIJDELIJK_MISLUKT

    await send(settings, register, b, attempt=2)  # Temporal's retry of the activity

    first, second = receiver.raw
    assert first.verified and second.verified
    assert (first.outcome, second.outcome) == ("503", "ontvangen")
    assert first.headers["webhook-id"] == second.headers["webhook-id"] == b.sleutel
    assert first.event is not None and second.event is not None
    assert first.event.get_attributes() == second.event.get_attributes()
    assert first.body == second.body  # the same event, byte for byte; only the attempt's timestamp may differ
    assert list(receiver.events) == [b.sleutel]
    row = await register.notification(b.sleutel)
    assert row is not None
    assert (row.status, row.pogingen) == ("verzonden", 2)


async def test_a_message_already_delivered_is_not_posted_again(register: Register, receiver: WebhookReceiver) -> None:
    b = bericht()
    settings = webhook_settings(receiver.url, receiver.secret)
    await send(settings, register, b)
    await send(settings, register, b, attempt=2)
    assert len(receiver.raw) == 1


# ---------------------------------------------------------------------------------------------- configuration


async def test_without_a_secret_the_webhook_is_not_configured(register: Register, receiver: WebhookReceiver) -> None:
    settings = Settings(kanalen={Rol.OUDERS: "webhook"}, webhook_url=receiver.url)
    with pytest.raises(ApplicationError) as raised:
        await send(settings, register, bericht())
    assert raised.value.non_retryable is True
    assert raised.value.type == KANAAL_NIET_INGESTELD
    assert "THUISZITTERS_WEBHOOK_SECRET" in raised.value.message
    assert receiver.raw == []


@pytest.mark.parametrize(
    "secret",
    [
        "geheim",
        base64.b64encode(secrets.token_bytes(32)).decode(),  # without 'whsec_'
        "whsec_" + base64.b64encode(secrets.token_bytes(8)).decode(),  # too short
        "whsec_niet*base64*",
    ],
)
def test_a_secret_of_the_wrong_form_stops_the_worker_at_start(secret: str) -> None:
    with pytest.raises(SettingsError) as raised:
        WebhookKanaal(Settings(webhook_url="http://127.0.0.1:9/berichten", webhook_secret=secret))
    assert str(raised.value).startswith("THUISZITTERS_WEBHOOK_SECRET: moet 'whsec_' zijn")
    assert secret not in str(raised.value)


def test_the_secret_comes_from_the_environment_or_a_file(tmp_path: Any) -> None:
    secret = new_secret()
    (tmp_path / "THUISZITTERS_WEBHOOK_SECRET").write_text(secret + "\n", encoding="utf-8")
    settings = Settings.from_env({"THUISZITTERS_SECRETS_DIR": str(tmp_path)})
    assert settings.webhook_secret == secret
    assert secret not in repr(settings)


# --------------------------------------------------------------------------------------- the receiver's check


async def test_the_receiver_refuses_a_request_that_does_not_match_the_document(receiver: WebhookReceiver) -> None:
    secret = receiver.secret
    channel = WebhookKanaal(webhook_settings(receiver.url, secret))
    headers, body = channel.request(bericht(), time=SCHEDULED, sent_at=datetime.now(UTC))
    event = json.loads(body)
    event["data"]["tekst"] = TOELICHTING  # message text in the event: not in the document
    wrong = json.dumps(event).encode()
    signature = Webhook(secret).sign(headers["webhook-id"], datetime.now(UTC), wrong.decode())
    signed = {**headers, "webhook-signature": signature}
    unsigned = {key: value for key, value in headers.items() if key != "webhook-signature"}
    async with httpx.AsyncClient() as client:
        assert (await client.post(receiver.url, content=wrong, headers=signed)).status_code == 400
        assert (await client.post(receiver.url, content=body, headers=unsigned)).status_code == 400
    (first, first_errors), (second, second_errors) = receiver.take_violations()
    assert (first.outcome, second.outcome) == (INVALID, INVALID)
    assert "'tekst' was unexpected" in "\n".join(first_errors)
    assert "webhook-signature" in "\n".join(second_errors)
    assert receiver.events == {}
