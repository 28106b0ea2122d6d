"""Local stand-ins of the outside systems, on 127.0.0.1, for end-to-end delivery tests.

- :class:`PartnerSystems`: a real aiohttp HTTP server that takes the registration calls of every system
  (``POST /{systeem}/{actie}``, or ``POST /{caller}/{systeem}/{actie}`` for a caller given a URL of its own, so
  that the systems know which of several workers calls). It checks every request against the outbound OpenAPI
  document first (:mod:`tests.outbound`): one that does not match is refused with 400 and kept in ``violations``,
  and leaving the ``async with`` with violations left fails the test. It keeps every request as it arrived
  (``raw``) and, as a real partner system does with an ``Idempotency-Key``, processes each key only once: a
  repeated key gets the first answer again and is not processed twice (``received``). It can be told to misbehave
  for the next requests of a path: answer 503, answer too late (after the client gave up, having processed the
  request all the same), drop the connection without an answer, or refuse with 422. And it can hold the answer to
  the next requests of a path or a caller until the test releases them (:meth:`PartnerSystems.hold`,
  :meth:`~PartnerSystems.held`, :meth:`~PartnerSystems.release`): a test that must strike while calls are in
  flight strikes once it holds some, instead of hoping a moment comes.
- :class:`WebhookReceiver`: a real aiohttp HTTP server that takes the webhook channel's CloudEvents as a partner
  would: it checks each request against the document's webhook, verifies its signature with the Standard Webhooks
  library and the shared secret (401 when that fails), parses the event with the CloudEvents SDK, and keeps every
  request (``raw``) and each event once per ``webhook-id`` (``events``). It can answer the next requests with an
  error status.
- :class:`MailServer`: a real aiosmtpd SMTP server that keeps every message that reached DATA (``raw``) and the
  accepted ones once per ``Message-ID`` (``messages``), as a receiving mail system that drops repeats does. It
  can hold its answer to DATA for the next messages, with the message accepted before or only after the wait.

They run on the test's own event loop: start them with ``async with``.
"""

from __future__ import annotations

import asyncio
import email
import itertools
import json
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.policy import default as default_policy
from enum import Enum
from types import TracebackType
from typing import Any, Self

from aiohttp import web
from aiosmtpd.smtp import SMTP
from cloudevents.core.base import BaseCloudEvent
from cloudevents.core.bindings.http import HTTPMessage, from_http_event
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from tests.outbound import OUTBOUND

# ----------------------------------------------------------------------------------------------- HTTP partners


class Fault(Enum):
    """How a partner system misbehaves for one request."""

    UNAVAILABLE = "503"
    """Answers 503 Service Unavailable without processing the request."""
    SLOW = "te_laat"
    """Processes the request but answers only after ``slow_seconds``: past the client's timeout."""
    DROP = "verbroken"
    """Reads the request and closes the connection without an answer, without processing it."""
    REFUSE = "422"
    """Refuses the request for good with 422 Unprocessable Content."""


INVALID = "ongeldig"
"""The outcome of a request that does not match the outbound OpenAPI document (answered 400)."""


@dataclass
class Receipt:
    """One request as it reached a partner system."""

    systeem: str
    actie: str
    path: str
    """``/{systeem}/{actie}``, whoever sent it."""
    authorization: str | None
    idempotency_key: str | None
    body: Any
    outcome: str = ""
    """What the system did: 'verwerkt', 'herhaling' (a key seen before), or the value of a :class:`Fault`."""
    kenmerk: str | None = None
    """The system's reference for a processed request (repeated for a repeat of the same key)."""
    caller: str | None = None
    """Who sent it, when it came in on a caller's own URL (``url_of(systeem, caller=...)``)."""
    held_since: float | None = None
    """When its answer began to be held (``time.monotonic()``), if it was."""
    traceparent: str | None = None
    """The W3C trace context the caller sent along, if any."""


@dataclass
class _HoldRule:
    path: str | None
    caller: str | None
    remaining: int | None
    """Requests still to hold; None: every one until the release."""

    def takes(self, receipt: Receipt) -> bool:
        return (
            self.remaining != 0
            and (self.path is None or receipt.path == self.path)
            and (self.caller is None or receipt.caller == self.caller)
        )


class PartnerSystems:
    """Every outside system behind one HTTP server; the URL of system ``s`` is ``url_of(s)``."""

    def __init__(self, *, slow_seconds: float = 2.0) -> None:
        self.slow_seconds = slow_seconds
        self.raw: list[Receipt] = []
        self.violations: list[tuple[Receipt, list[str]]] = []
        """The requests that did not match the outbound OpenAPI document, with the reasons; a test that expects
        them takes them with :meth:`take_violations`."""
        self.holding: list[Receipt] = []
        """The requests whose answer is held right now, in the order they arrived."""
        self._processed: dict[str, Receipt] = {}
        self._faults: dict[str, deque[Fault]] = defaultdict(deque)
        self._holds: list[_HoldRule] = []
        self._gate = asyncio.Event()
        self._held_more = asyncio.Event()
        self._numbers = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self.base_url = ""

    # -------------------------------------------------------------------------------------------- control

    def url_of(self, systeem: str, *, caller: str | None = None) -> str:
        """The system's URL; with ``caller``, a URL of that caller's own (the systems behind it are the same)."""
        return f"{self.base_url}/{caller}/{systeem}" if caller else f"{self.base_url}/{systeem}"

    def hold(self, *, path: str | None = None, caller: str | None = None, times: int | None = None) -> None:
        """Hold the answer to the next ``times`` requests (every one, when None) of ``path`` from ``caller`` (any
        path, any caller, when None) until :meth:`release`. A held request is processed when it arrives, as a slow
        system does: the client waits for an answer to a call that has been made."""
        self._holds.append(_HoldRule(path, caller, times))

    async def held(self, count: int) -> list[Receipt]:
        """Once at least ``count`` requests are held: the requests held."""
        while len(self.holding) < count:
            self._held_more.clear()
            await self._held_more.wait()
        return list(self.holding)

    def release(self) -> list[Receipt]:
        """Answer every held request and hold no more (until the next :meth:`hold`); returns those that were held."""
        released, self.holding = self.holding, []
        self._holds.clear()
        self._gate.set()
        self._gate = asyncio.Event()
        return released

    def fail_next(self, path: str, *faults: Fault, times: int = 1) -> None:
        """The next requests of ``path`` (``/{systeem}/{actie}``) meet ``faults`` in order, each ``times`` times."""
        for fault in faults:
            self._faults[path].extend([fault] * times)

    def take_violations(self) -> list[tuple[Receipt, list[str]]]:
        """The requests refused for not matching the document so far (and forget them)."""
        taken, self.violations = self.violations, []
        return taken

    @property
    def received(self) -> list[Receipt]:
        """The requests the systems processed, once per ``Idempotency-Key``, in the order they were processed."""
        return list(self._processed.values())

    def raw_for(self, *, path: str | None = None, case_id: str | None = None) -> list[Receipt]:
        return [r for r in self.raw if (path is None or r.path == path) and (case_id is None or _case(r) == case_id)]

    def received_for(self, *, path: str | None = None, case_id: str | None = None) -> list[Receipt]:
        return [
            r for r in self.received if (path is None or r.path == path) and (case_id is None or _case(r) == case_id)
        ]

    # ----------------------------------------------------------------------------------------------- server

    async def __aenter__(self) -> Self:
        app = web.Application()
        app.router.add_post("/{systeem}/{actie}", self._handle)
        app.router.add_post("/{caller}/{systeem}/{actie}", self._handle)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.base_url = f"http://127.0.0.1:{port}"
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.release()  # a held answer would keep the server from stopping
        if self._runner is not None:
            await self._runner.cleanup()
        if exc_type is None and self.violations:
            raise AssertionError(
                "verzoeken die niet passen bij docs/api/uitgaand.openapi.json:\n"
                + "\n".join(f"{receipt.path}: {'; '.join(errors)}" for receipt, errors in self.violations)
            )

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        raw_body = await request.read()
        try:
            body: Any = json.loads(raw_body)
        except ValueError:
            body = None
        systeem, actie = request.match_info["systeem"], request.match_info["actie"]
        receipt = Receipt(
            systeem=systeem,
            actie=actie,
            path=f"/{systeem}/{actie}",
            authorization=request.headers.get("Authorization"),
            idempotency_key=request.headers.get("Idempotency-Key"),
            body=body,
            caller=request.match_info.get("caller"),
            traceparent=request.headers.get("traceparent"),
        )
        self.raw.append(receipt)
        errors = OUTBOUND.registration_errors(
            systeem=systeem, actie=actie, headers=request.headers, body=raw_body, method=request.method
        )
        if errors:
            receipt.outcome = INVALID
            self.violations.append((receipt, errors))
            return web.json_response({"fout": "verzoek past niet bij de beschrijving", "redenen": errors}, status=400)
        faults = self._faults.get(receipt.path)
        fault = faults.popleft() if faults else None
        if fault is not None:
            receipt.outcome = fault.value
        if fault is Fault.UNAVAILABLE:
            return web.json_response({"fout": "tijdelijk niet beschikbaar"}, status=503)
        if fault is Fault.REFUSE:
            return web.json_response({"fout": "gegevens niet verwerkbaar"}, status=422)
        if fault is Fault.DROP:
            assert request.transport is not None
            request.transport.abort()
            return web.Response()  # never reaches the client: the connection is gone
        is_new = self._process(receipt)
        if fault is None:
            receipt.outcome = "verwerkt" if is_new else "herhaling"
        else:  # Fault.SLOW: processed, but the answer comes after the client gave up
            await asyncio.sleep(self.slow_seconds)
        if (rule := next((rule for rule in self._holds if rule.takes(receipt)), None)) is not None:
            if rule.remaining is not None:
                rule.remaining -= 1
            gate = self._gate
            receipt.held_since = time.monotonic()
            self.holding.append(receipt)
            self._held_more.set()
            await gate.wait()  # answered on release (to a client that may be gone by then)
        return web.json_response({"kenmerk": receipt.kenmerk}, status=201)

    def _process(self, receipt: Receipt) -> bool:
        """Process a request once per Idempotency-Key (False for a repeat, which gets the first kenmerk again)."""
        key = receipt.idempotency_key
        if key is not None and (first := self._processed.get(key)) is not None:
            receipt.kenmerk = first.kenmerk
            return False
        receipt.kenmerk = f"{receipt.systeem.upper()}-{next(self._numbers):05d}"
        self._processed[key if key is not None else f"zonder-sleutel-{receipt.kenmerk}"] = receipt
        return True


def _case(receipt: Receipt) -> str | None:
    body = receipt.body
    return body.get("case_id") if isinstance(body, dict) else None


# ------------------------------------------------------------------------------------------- webhook receiver


@dataclass
class WebhookDelivery:
    """One webhook request as it reached the receiver."""

    headers: dict[str, str]
    """The request's headers, names in lower case."""
    body: bytes
    verified: bool = False
    """True when its Standard Webhooks signature held."""
    event: BaseCloudEvent | None = None
    """The CloudEvent, as the SDK reads it from a verified request."""
    outcome: str = ""
    """'ontvangen', 'herhaling' (a webhook-id seen before), 'ongeldig', 'niet_ondertekend' or an error status."""


class WebhookReceiver:
    """A partner's webhook endpoint (``POST /berichten``) with its shared Standard Webhooks secret."""

    def __init__(self, secret: str) -> None:
        self.secret = secret
        self.raw: list[WebhookDelivery] = []
        self.events: dict[str, BaseCloudEvent] = {}
        """The verified events, once per ``webhook-id``, in the order they came."""
        self.violations: list[tuple[WebhookDelivery, list[str]]] = []
        """Requests that did not match the document's webhook; a test that expects them takes them with
        :meth:`take_violations`, and any left fail the test on leaving ``async with``."""
        self._statuses: deque[int] = deque()
        self._runner: web.AppRunner | None = None
        self.url = ""

    def fail_next(self, *statuses: int) -> None:
        """Answer the next verified requests with these statuses (a 503, a 429, ...) instead of taking them."""
        self._statuses.extend(statuses)

    def take_violations(self) -> list[tuple[WebhookDelivery, list[str]]]:
        taken, self.violations = self.violations, []
        return taken

    async def __aenter__(self) -> Self:
        app = web.Application()
        app.router.add_post("/berichten", self._handle)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}/berichten"
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
        if exc_type is None and self.violations:
            raise AssertionError(
                "webhookverzoeken die niet passen bij docs/api/uitgaand.openapi.json:\n"
                + "\n".join("; ".join(errors) for _, errors in self.violations)
            )

    async def _handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        delivery = WebhookDelivery(headers={key.lower(): value for key, value in request.headers.items()}, body=body)
        self.raw.append(delivery)
        if errors := OUTBOUND.webhook_errors(headers=request.headers, body=body, method=request.method):
            delivery.outcome = INVALID
            self.violations.append((delivery, errors))
            return web.json_response({"fout": "verzoek past niet bij de beschrijving"}, status=400)
        try:
            Webhook(self.secret).verify(body, delivery.headers)
        except WebhookVerificationError:
            delivery.outcome = "niet_ondertekend"
            return web.json_response({"fout": "handtekening klopt niet"}, status=401)
        delivery.verified = True
        delivery.event = from_http_event(HTTPMessage(headers=delivery.headers, body=body))
        if self._statuses:
            status = self._statuses.popleft()
            delivery.outcome = str(status)
            return web.json_response({"fout": "later opnieuw"}, status=status)
        webhook_id = delivery.headers["webhook-id"]
        delivery.outcome = "herhaling" if webhook_id in self.events else "ontvangen"
        self.events.setdefault(webhook_id, delivery.event)
        return web.Response(status=204)


# ------------------------------------------------------------------------------------------------ SMTP server


@dataclass
class Mail:
    """One message that reached DATA."""

    rcpt_tos: list[str]
    message: EmailMessage
    accepted: bool = False
    """True once the server took responsibility for it (before or after answering 250)."""

    @property
    def message_id(self) -> str:
        return str(self.message["Message-ID"])

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])

    @property
    def body(self) -> str:
        content = self.message.get_content()
        assert isinstance(content, str)
        return content.replace("\r\n", "\n")


@dataclass
class _Hold:
    seconds: float
    accept_first: bool
    subject_contains: str | None = None


@dataclass
class MailServer:
    """An SMTP server on 127.0.0.1 that keeps what it receives."""

    port: int = 0
    raw: list[Mail] = field(default_factory=list)
    messages: dict[str, Mail] = field(default_factory=dict)
    """Accepted messages, once per Message-ID (the first accepted one)."""
    _arrived: asyncio.Event = field(default_factory=asyncio.Event)
    _holds: deque[_Hold] = field(default_factory=deque)
    held: list[Mail] = field(default_factory=list)
    """The messages whose answer was held, in the order they arrived."""
    _server: asyncio.Server | None = None

    def hold_next(
        self, seconds: float, *, times: int = 1, accept_first: bool = False, subject_contains: str | None = None
    ) -> None:
        """Hold the answer to DATA of the next ``times`` messages (with ``subject_contains`` in their subject, when
        given) for ``seconds``. ``accept_first``: the server has already taken the message when the client is kept
        waiting (the client cannot know); otherwise it takes it only when it answers, and a connection lost while
        waiting leaves the message not accepted."""
        self._holds.extend(_Hold(seconds, accept_first, subject_contains) for _ in range(times))

    async def wait_for_data(self, count: int = 1) -> None:
        """Until ``count`` messages in all have reached DATA (accepted or not)."""
        while len(self.raw) < count:
            self._arrived.clear()
            await self._arrived.wait()

    def raw_for(self, message_id: str) -> list[Mail]:
        return [mail for mail in self.raw if mail.message_id == message_id]

    async def __aenter__(self) -> Self:
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            lambda: SMTP(self, hostname="127.0.0.1", loop=loop), host="127.0.0.1", port=self.port
        )
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=default_policy)
        assert isinstance(message, EmailMessage)
        mail = Mail(rcpt_tos=list(envelope.rcpt_tos), message=message)
        self.raw.append(mail)
        self._arrived.set()
        hold = next((h for h in self._holds if h.subject_contains is None or h.subject_contains in mail.subject), None)
        if hold is not None:
            self._holds.remove(hold)
            self.held.append(mail)
            if hold.accept_first:
                self._accept(mail)
            await asyncio.sleep(hold.seconds)  # cancelled by aiosmtpd when the client's connection is lost
        self._accept(mail)
        return "250 OK: bericht aangenomen"

    def _accept(self, mail: Mail) -> None:
        if not mail.accepted:
            mail.accepted = True
            self.messages.setdefault(mail.message_id, mail)
