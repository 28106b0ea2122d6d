"""Delivery to the outside world: registration calls over HTTP, and the channels that carry notifications.

Every failure is sorted for Temporal's retry policy:

- refused for good (HTTP 4xx, SMTP 5xx, missing configuration): an ``ApplicationError`` with
  ``non_retryable=True``; retrying cannot help, a person must act (the workflow asks for a manual action);
- temporary (HTTP 5xx, 408, 429, timeouts, lost connections, SMTP 4xx): a retryable ``ApplicationError``.

Error messages name the system, the action or template and the status, never personal data or a response
body. Each call carries an ``Idempotency-Key`` (the effect's ``sleutel``), so a receiver can drop a repeated
delivery after a crash between sending and recording.

What goes out is described in ``docs/api/uitgaand.openapi.json``, generated from the models in
:mod:`activities.outbound` that the adapter and the webhook channel serialise. The webhook channel posts a CloudEvent
(structured JSON) signed per Standard Webhooks, with references only, never the message's text.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import smtplib
import ssl
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import formatdate
from typing import Any, Protocol
from urllib.parse import quote

import httpx
import structlog
from cloudevents.core.bindings.http import to_structured_event
from cloudevents.core.v1.event import CloudEvent
from pydantic import ValidationError
from standardwebhooks.webhooks import Webhook
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.outbound import (
    CLOUDEVENT_TYPE_PREFIX,
    BerichtEvent,
    BerichtVerwijzing,
    RegistratieAntwoord,
    RegistratieVerzoek,
)
from thuiszitters.settings import Kanaal, Settings, SettingsError
from workflows.effects import Bericht, Registratie, RegistratieUitkomst, Systeem

REGISTRATIE_GEWEIGERD = "RegistratieGeweigerd"
REGISTRATIE_TIJDELIJK_MISLUKT = "RegistratieTijdelijkMislukt"
BERICHT_GEWEIGERD = "BerichtGeweigerd"
BERICHT_TIJDELIJK_MISLUKT = "BerichtTijdelijkMislukt"
KANAAL_NIET_INGESTELD = "KanaalNietIngesteld"
GEEN_ADRES = "GeenAdres"
"""A message for which the directory of people knows no person or address: final, it becomes a task."""

SYSTEEM_NAMEN: dict[Systeem, str] = {
    Systeem.KINDKANS: "Kindkans",
    Systeem.SISA: "SISA",
    Systeem.LEERPLICHT: "LBA (Leerplicht)",
    Systeem.CENTRALE_AANMELDROUTE: "Centrale AanmeldRoute",
    Systeem.TASKFORCE: "Taskforce Thuiszitters",
}

# Statuses in the 4xx range that mean "not now" rather than "never".
_TEMPORARY_4XX = frozenset({408, 425, 429})
_MAX_RETRY_AFTER = timedelta(minutes=10)

_log = structlog.get_logger("thuiszitters.adapters")


def _retry_after(response: httpx.Response) -> timedelta | None:
    value = response.headers.get("Retry-After", "").strip()
    if not value.isdigit():
        return None
    return min(timedelta(seconds=int(value)), _MAX_RETRY_AFTER)


def _sort_http_status(
    response: httpx.Response, *, what: str, refused_type: str, temporary_type: str
) -> ApplicationError | None:
    """None for a 2xx answer; otherwise the error to raise (retryable or not), naming ``what`` was sent."""
    status = response.status_code
    if 200 <= status < 300:
        return None
    if status >= 500 or status in _TEMPORARY_4XX:
        return ApplicationError(
            f"{what} is tijdelijk mislukt (HTTP {status}); het wordt later opnieuw geprobeerd",
            {"status": status},
            type=temporary_type,
            next_retry_delay=_retry_after(response),
        )
    return ApplicationError(
        f"{what} is geweigerd (HTTP {status}); opnieuw proberen helpt niet, een medewerker moet kijken",
        {"status": status},
        type=refused_type,
        non_retryable=True,
    )


def _transport_error(error: httpx.TransportError, *, what: str, temporary_type: str) -> ApplicationError:
    if isinstance(error, httpx.TimeoutException):
        reason = "geen antwoord binnen de wachttijd"
    elif isinstance(error, httpx.ConnectError):
        reason = "geen verbinding"
    else:
        reason = "de verbinding werd verbroken"
    return ApplicationError(
        f"{what} is tijdelijk mislukt: {reason} ({type(error).__name__}); het wordt later opnieuw geprobeerd",
        type=temporary_type,
    )


# ------------------------------------------------------------------------------------------- registrations


class HttpRegistratieAdapter:
    """Registration calls as JSON over HTTP: ``POST {url}/{actie}`` on the system's endpoint."""

    def __init__(self, settings: Settings, client: httpx.AsyncClient | None = None) -> None:
        self._settings = settings
        self._client = client or httpx.AsyncClient(follow_redirects=False)
        self._owns_client = client is None

    async def send(self, r: Registratie) -> RegistratieUitkomst:
        """Make the call. A system without an endpoint is not called: the outcome says 'not sent'."""
        endpoint = self._settings.endpoints.get(r.systeem)
        if endpoint is None:
            _log.info("registratie_zonder_endpoint", systeem=r.systeem.value, actie=r.actie.value)
            return RegistratieUitkomst(sleutel=r.sleutel, verzonden=False)
        what = f"Registratie '{r.actie.value}' bij {SYSTEEM_NAMEN.get(r.systeem, r.systeem.value)}"
        headers = {"Idempotency-Key": r.sleutel, "Accept": "application/json"}
        if endpoint.token:
            headers["Authorization"] = f"Bearer {endpoint.token}"
        body = RegistratieVerzoek.of(r).model_dump(mode="json")
        url = f"{endpoint.url.rstrip('/')}/{quote(r.actie.value, safe='')}"
        try:
            response = await self._client.post(url, json=body, headers=headers, timeout=endpoint.timeout_seconds)
        except httpx.TransportError as error:
            raise _transport_error(error, what=what, temporary_type=REGISTRATIE_TIJDELIJK_MISLUKT) from None
        failure = _sort_http_status(
            response,
            what=what,
            refused_type=REGISTRATIE_GEWEIGERD,
            temporary_type=REGISTRATIE_TIJDELIJK_MISLUKT,
        )
        if failure is not None:
            raise failure
        return RegistratieUitkomst(
            sleutel=r.sleutel,
            verzonden=True,
            antwoord_status=response.status_code,
            kenmerk=_kenmerk(response),
        )

    async def aclose(self) -> None:
        if self._owns_client:
            await self._client.aclose()


def _kenmerk(response: httpx.Response) -> str | None:
    """The outside system's reference for the registration: ``kenmerk`` in a JSON answer, if there is one."""
    if "json" not in response.headers.get("Content-Type", ""):
        return None
    try:
        data: Any = response.json()
    except ValueError:
        return None
    try:
        antwoord = RegistratieAntwoord.model_validate(data)
    except ValidationError:
        return None
    return None if antwoord.kenmerk is None else str(antwoord.kenmerk)[:200]


# ----------------------------------------------------------------------------------------- notifications


class BerichtKanaal(Protocol):
    """A way to deliver a rendered notification to a role."""

    naam: Kanaal

    async def deliver(self, b: Bericht, adres: str | None, onderwerp: str, tekst: str) -> None: ...

    async def aclose(self) -> None: ...


def _what(b: Bericht) -> str:
    return f"Bericht '{b.sjabloon.value}' aan {b.rol.value}"


def _not_configured(message: str) -> ApplicationError:
    return ApplicationError(message, type=KANAAL_NIET_INGESTELD, non_retryable=True)


def smtp_refusal(what: str, code: int) -> ApplicationError:
    """A mail server's refusal of ``what`` as the activity's failure: a 5xx is final, anything else is tried again."""
    if code >= 500:
        return ApplicationError(
            f"{what} is door de mailserver geweigerd (SMTP {code}); opnieuw proberen helpt niet",
            {"smtp_code": code},
            type=BERICHT_GEWEIGERD,
            non_retryable=True,
        )
    return ApplicationError(
        f"{what} is tijdelijk mislukt (SMTP {code}); het wordt later opnieuw geprobeerd",
        {"smtp_code": code},
        type=BERICHT_TIJDELIJK_MISLUKT,
    )


def message_id(sleutel: str, afzender: str) -> str:
    """A stable Message-ID per notification, so a receiving mail system can recognise a repeat."""
    domain = afzender.rpartition("@")[2].strip("<> ") or "thuiszitters.invalid"
    digest = hashlib.sha256(sleutel.encode("utf-8")).hexdigest()[:40]
    return f"<{digest}@{domain}>"


class SmtpKanaal:
    """E-mail through an SMTP server (stdlib ``smtplib`` in a worker thread)."""

    naam: Kanaal = "smtp"

    def __init__(self, settings: Settings, *, timeout_seconds: float = 10.0) -> None:
        self._settings = settings
        self._timeout = timeout_seconds

    def build_message(self, b: Bericht, adres: str, onderwerp: str, tekst: str) -> EmailMessage:
        message = EmailMessage()
        message["From"] = self._settings.smtp_afzender
        message["To"] = adres
        message["Subject"] = onderwerp
        message["Date"] = formatdate(usegmt=True)
        message["Message-ID"] = message_id(b.sleutel, self._settings.smtp_afzender)
        message["Idempotency-Key"] = b.sleutel
        message["Auto-Submitted"] = "auto-generated"
        message.set_content(tekst)
        return message

    async def deliver(self, b: Bericht, adres: str | None, onderwerp: str, tekst: str) -> None:
        if not adres:
            raise _not_configured(
                f"{_what(b)}: geen e-mailadres ingesteld voor rol {b.rol.value} "
                f"(THUISZITTERS_ADRES_{b.rol.value.upper()})"
            )
        message = self.build_message(b, adres, onderwerp, tekst)
        try:
            await asyncio.to_thread(self._send, message, adres)
        except smtplib.SMTPRecipientsRefused as error:
            codes = [code for code, _ in error.recipients.values()]
            raise smtp_refusal(_what(b), min(codes) if codes else 550) from None
        except smtplib.SMTPResponseException as error:
            raise smtp_refusal(_what(b), error.smtp_code) from None
        except smtplib.SMTPNotSupportedError:
            raise _not_configured(f"{_what(b)}: de mailserver ondersteunt de ingestelde verbinding niet") from None
        except (OSError, smtplib.SMTPException) as error:
            raise ApplicationError(
                f"{_what(b)} is tijdelijk mislukt: de mailserver is niet bereikbaar "
                f"({type(error).__name__}); het wordt later opnieuw geprobeerd",
                type=BERICHT_TIJDELIJK_MISLUKT,
            ) from None

    def _send(self, message: EmailMessage, adres: str) -> None:
        settings = self._settings
        with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=self._timeout) as smtp:
            if settings.smtp_starttls:
                smtp.starttls(context=ssl.create_default_context())
            if settings.smtp_user:
                smtp.login(settings.smtp_user, settings.smtp_password or "")
            smtp.send_message(message, from_addr=settings.smtp_afzender, to_addrs=[adres])

    async def aclose(self) -> None:
        return None


WEBHOOK_SECRET_PREFIX = "whsec_"


def webhook_signer(secret: str) -> Webhook:
    """The Standard Webhooks signer for ``THUISZITTERS_WEBHOOK_SECRET``: ``whsec_`` and the base64 of 24 to 64 random
    bytes. Anything else stops the worker at start with a :class:`SettingsError` (the value is not repeated)."""
    try:
        key = base64.b64decode(secret.removeprefix(WEBHOOK_SECRET_PREFIX), validate=True)
    except ValueError:
        key = b""
    if not secret.startswith(WEBHOOK_SECRET_PREFIX) or not 24 <= len(key) <= 64:
        raise SettingsError(
            "THUISZITTERS_WEBHOOK_SECRET: moet 'whsec_' zijn, gevolgd door de base64 van 24 tot 64 willekeurige "
            "bytes (zie docs/operations.md, 'Webhooks')"
        )
    return Webhook(key)


class WebhookKanaal:
    """A CloudEvent per notification, posted to one webhook (a chat channel, a ticket system, a portal).

    The event (CloudEvents 1.0, structured JSON mode, :class:`~activities.outbound.BerichtEvent`) carries references
    only: the case, the pupil's pseudonymous reference, the role, the template code and the register's key, never
    the message's text or address. Its ``id`` is the notification's ``sleutel``, so a retry is the same event. Each
    request is signed per Standard Webhooks (``webhook-id``, ``webhook-timestamp``, ``webhook-signature``) with
    ``THUISZITTERS_WEBHOOK_SECRET``; the bearer token, when set, goes along as before."""

    naam: Kanaal = "webhook"

    def __init__(self, settings: Settings, client: httpx.AsyncClient | None = None) -> None:
        self._settings = settings
        self._signer = webhook_signer(settings.webhook_secret) if settings.webhook_secret else None
        self._client = client or httpx.AsyncClient(follow_redirects=False)
        self._owns_client = client is None

    def event(self, b: Bericht, time: datetime) -> BerichtEvent:
        """The notification as a CloudEvent (its attributes and references)."""
        web = self._settings.web_public_url
        return BerichtEvent(
            specversion="1.0",
            id=b.sleutel,
            source=self._settings.webhook_bron,
            type=CLOUDEVENT_TYPE_PREFIX + b.sjabloon.value,
            subject=b.case_id,
            time=time,
            datacontenttype="application/json",
            dataref=f"{web.rstrip('/')}/zaken/{quote(b.case_id, safe='')}" if web else None,
            data=BerichtVerwijzing.of(b),
        )

    def request(self, b: Bericht, *, time: datetime, sent_at: datetime) -> tuple[dict[str, str], bytes]:
        """The headers and body of the POST for ``b``, signed at ``sent_at``."""
        if self._signer is None:
            raise _not_configured(f"{_what(b)}: geen webhookgeheim ingesteld (THUISZITTERS_WEBHOOK_SECRET)")
        event = self.event(b, time)
        message = to_structured_event(CloudEvent(event.attributes(), event.data.model_dump(mode="json")))
        headers = {
            "Content-Type": f"{message.headers['content-type']}; charset=utf-8",
            "Idempotency-Key": b.sleutel,
            "webhook-id": b.sleutel,
            "webhook-timestamp": str(int(sent_at.timestamp())),
            "webhook-signature": self._signer.sign(b.sleutel, sent_at, message.body.decode("utf-8")),
        }
        if self._settings.webhook_token:
            headers["Authorization"] = f"Bearer {self._settings.webhook_token}"
        return headers, message.body

    async def deliver(self, b: Bericht, adres: str | None, onderwerp: str, tekst: str) -> None:
        url = self._settings.webhook_url
        if not url:
            raise _not_configured(f"{_what(b)}: geen webhook ingesteld (THUISZITTERS_WEBHOOK_URL)")
        # The moment the case handed the message over: the same for every attempt of the activity.
        time = activity.info().scheduled_time if activity.in_activity() else datetime.now(UTC)
        headers, body = self.request(b, time=time, sent_at=datetime.now(UTC))
        try:
            response = await self._client.post(url, content=body, headers=headers, timeout=10.0)
        except httpx.TransportError as error:
            raise _transport_error(error, what=_what(b), temporary_type=BERICHT_TIJDELIJK_MISLUKT) from None
        failure = _sort_http_status(
            response, what=_what(b), refused_type=BERICHT_GEWEIGERD, temporary_type=BERICHT_TIJDELIJK_MISLUKT
        )
        if failure is not None:
            raise failure

    async def aclose(self) -> None:
        if self._owns_client:
            await self._client.aclose()


class LogKanaal:
    """For development: notes that a message went out, without its text (which may hold personal data)."""

    naam: Kanaal = "log"

    def __init__(self) -> None:
        self._log = structlog.get_logger("thuiszitters.berichten")

    async def deliver(self, b: Bericht, adres: str | None, onderwerp: str, tekst: str) -> None:
        self._log.info("bericht_gelogd", sjabloon=b.sjabloon.value, rol=b.rol.value, case_id=b.case_id)

    async def aclose(self) -> None:
        return None


def channels_for(settings: Settings) -> dict[Kanaal, BerichtKanaal]:
    """One instance of every channel, by the name ``Settings.kanaal`` uses."""
    return {"log": LogKanaal(), "smtp": SmtpKanaal(settings), "webhook": WebhookKanaal(settings)}
