"""Registration calls over real HTTP (aiohttp on 127.0.0.1), recorded in a real PostgreSQL. The partner systems
check every request against the outbound OpenAPI document (``docs/api/uitgaand.openapi.json``, :mod:`tests.outbound`)
and refuse one that does not match; a test that leaves such a refusal unexamined fails."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from aiohttp import web
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.adapters import REGISTRATIE_GEWEIGERD, REGISTRATIE_TIJDELIJK_MISLUKT, HttpRegistratieAdapter
from activities.case_activities import CaseActivities
from activities.outbound import AANROEPEN
from tests.outbound import OUTBOUND
from tests.outside import INVALID, PartnerSystems
from thuiszitters.register.store import Register
from thuiszitters.settings import Endpoint, Settings
from workflows.effects import Actie, Registratie, Systeem

TOKEN = "kindkans-test-token"
LEERLING = "LL7781"
CASE_ID = f"thuiszitter-{LEERLING}/case-1"


@dataclass
class FakeKindkans:
    """A real HTTP server that answers as told and keeps what it received, once it matches the document."""

    url: str = ""
    status: int = 201
    body: dict[str, Any] = field(default_factory=lambda: {"kenmerk": "KK-2025-0001"})
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    requests: list[dict[str, Any]] = field(default_factory=list)
    violations: list[list[str]] = field(default_factory=list)

    async def handle(self, request: web.Request) -> web.Response:
        raw = await request.read()
        actie = request.match_info["actie"]
        if errors := OUTBOUND.registration_errors(systeem="kindkans", actie=actie, headers=request.headers, body=raw):
            self.violations.append(errors)
            return web.json_response({"fout": "verzoek past niet bij de beschrijving"}, status=400)
        self.requests.append(
            {
                "path": request.path,
                "headers": dict(request.headers),
                "json": json.loads(raw),
            }
        )
        if self.delay:
            await asyncio.sleep(self.delay)
        return web.json_response(self.body, status=self.status, headers=self.headers)


@pytest.fixture
async def kindkans() -> AsyncIterator[FakeKindkans]:
    system = FakeKindkans()
    app = web.Application()
    app.router.add_post("/api/v1/{actie}", system.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    system.url = f"http://127.0.0.1:{port}/api/v1"
    yield system
    await runner.cleanup()
    assert system.violations == [], "verzoeken die niet passen bij docs/api/uitgaand.openapi.json"


@pytest.fixture
async def hang_up_server() -> AsyncIterator[str]:
    """A server that reads the request and closes the connection without answering."""

    async def hang_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(1024)
        writer.close()

    server = await asyncio.start_server(hang_up, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}"
    server.close()
    await server.wait_closed()


def registratie(sleutel: str = f"{CASE_ID}/3/kindkans_hulpvraag") -> Registratie:
    return Registratie(
        sleutel=sleutel,
        case_id=CASE_ID,
        leerling_ref=LEERLING,
        systeem=Systeem.KINDKANS,
        actie=Actie.HULPVRAAG_AANMAKEN,
        gegevens={
            "startdatum": date(2025, 2, 3),
            "school_brin": "12AB",
            "status": "thuiszitter",
            "sector": "PO",
            "regio": "Noord",
        },
    )


def activities_for(register: Register, url: str | None, *, timeout: float = 5.0) -> CaseActivities:
    endpoints = {Systeem.KINDKANS: Endpoint(url=url, token=TOKEN, timeout_seconds=timeout)} if url else {}
    return CaseActivities(Settings(endpoints=endpoints), register)


async def run(activities: CaseActivities, r: Registratie) -> Any:
    try:
        return await ActivityEnvironment().run(activities.registreren, r)
    finally:
        await activities.close()


async def test_the_call_carries_json_bearer_token_and_idempotency_key(
    register: Register, kindkans: FakeKindkans
) -> None:
    r = registratie()
    outcome = await run(activities_for(register, kindkans.url), r)

    assert (outcome.verzonden, outcome.antwoord_status, outcome.kenmerk) == (True, 201, "KK-2025-0001")
    [request] = kindkans.requests
    assert request["path"] == "/api/v1/hulpvraag_aanmaken"
    assert request["headers"]["Authorization"] == f"Bearer {TOKEN}"
    assert request["headers"]["Idempotency-Key"] == r.sleutel
    assert request["headers"]["Content-Type"].startswith("application/json")
    assert request["json"] == {
        "leerling_ref": LEERLING,
        "case_id": CASE_ID,
        "actie": "hulpvraag_aanmaken",
        "gegevens": {
            "startdatum": "2025-02-03",
            "school_brin": "12AB",
            "status": "thuiszitter",
            "sector": "PO",
            "regio": "Noord",
        },
    }
    row = await register.registration(r.sleutel)
    assert row is not None
    assert (row.status, row.antwoord_status, row.kenmerk, row.pogingen) == (
        "verzonden",
        201,
        "KK-2025-0001",
        1,
    )


async def test_a_registration_already_made_is_not_sent_again(register: Register, kindkans: FakeKindkans) -> None:
    r = registratie()
    first = await run(activities_for(register, kindkans.url), r)
    second = await run(activities_for(register, kindkans.url), r)
    assert second == first
    assert len(kindkans.requests) == 1


async def test_a_refusal_is_final_and_recorded_as_failed(register: Register, kindkans: FakeKindkans) -> None:
    kindkans.status = 422
    kindkans.body = {"fout": f"leerling {LEERLING} onbekend"}
    r = registratie()
    with pytest.raises(ApplicationError) as raised:
        await run(activities_for(register, kindkans.url), r)

    error = raised.value
    assert error.non_retryable is True
    assert error.type == REGISTRATIE_GEWEIGERD
    assert "Kindkans" in error.message
    assert "hulpvraag_aanmaken" in error.message
    assert "422" in error.message
    assert LEERLING not in error.message  # neither the pupil nor the answer's body leaks into the error
    row = await register.registration(r.sleutel)
    assert row is not None
    assert row.status == "mislukt"
    assert row.fout is not None
    assert "422" in row.fout
    assert LEERLING not in row.fout


async def test_a_server_error_is_retryable_and_a_later_attempt_succeeds(
    register: Register, kindkans: FakeKindkans
) -> None:
    kindkans.status = 503
    kindkans.headers = {"Retry-After": "7"}
    r = registratie()
    with pytest.raises(ApplicationError) as raised:
        await run(activities_for(register, kindkans.url), r)
    assert raised.value.non_retryable is False
    assert raised.value.type == REGISTRATIE_TIJDELIJK_MISLUKT
    assert raised.value.next_retry_delay == timedelta(seconds=7)
    row = await register.registration(r.sleutel)
    assert row is not None
    assert row.status == "in_behandeling"
    assert row.fout is not None
    assert "503" in row.fout

    kindkans.status, kindkans.headers = 200, {}
    outcome = await run(activities_for(register, kindkans.url), r)
    assert outcome.verzonden is True
    assert [req["headers"]["Idempotency-Key"] for req in kindkans.requests] == [r.sleutel, r.sleutel]
    row = await register.registration(r.sleutel)
    assert row is not None
    assert (row.status, row.pogingen, row.fout) == ("verzonden", 2, None)


async def test_too_many_requests_is_retryable(register: Register, kindkans: FakeKindkans) -> None:
    kindkans.status = 429
    with pytest.raises(ApplicationError) as raised:
        await run(activities_for(register, kindkans.url), registratie())
    assert raised.value.non_retryable is False


async def test_a_timeout_is_retryable(register: Register, kindkans: FakeKindkans) -> None:
    kindkans.delay = 1.0
    with pytest.raises(ApplicationError) as raised:
        await run(activities_for(register, kindkans.url, timeout=0.2), registratie())
    assert raised.value.non_retryable is False
    assert raised.value.type == REGISTRATIE_TIJDELIJK_MISLUKT
    assert "wachttijd" in raised.value.message


async def test_a_dropped_connection_is_retryable(register: Register, hang_up_server: str) -> None:
    with pytest.raises(ApplicationError) as raised:
        await run(activities_for(register, hang_up_server), registratie())
    assert raised.value.non_retryable is False
    assert raised.value.type == REGISTRATIE_TIJDELIJK_MISLUKT
    assert "verbroken" in raised.value.message


async def test_a_system_that_is_down_is_retryable(register: Register) -> None:
    with socket.socket() as sock:  # a port that nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(ApplicationError) as raised:
        await run(activities_for(register, f"http://127.0.0.1:{port}"), registratie())
    assert raised.value.non_retryable is False
    assert "geen verbinding" in raised.value.message


async def test_without_an_endpoint_nothing_is_sent_and_that_is_recorded(register: Register) -> None:
    r = registratie()
    outcome = await run(activities_for(register, None), r)
    assert outcome.verzonden is False
    assert outcome.sleutel == r.sleutel
    row = await register.registration(r.sleutel)
    assert row is not None
    assert (row.status, row.verzonden_op) == ("niet_verzonden", None)
    again = await run(activities_for(register, None), r)
    assert again.verzonden is False
    row = await register.registration(r.sleutel)
    assert row is not None
    assert row.pogingen == 1


# --------------------------------------------------------------------------------- against the outbound document

GEGEVENS_PER_AANROEP: dict[tuple[Systeem, Actie], list[dict[str, Any]]] = {
    (Systeem.LEERPLICHT, Actie.MELDING_VOLLEDIG_VERZUIM): [
        {"startdatum": date(2025, 2, 3), "school_brin": "12AB", "sector": "PO"},
        {"startdatum": "2025-02-03", "sector": "VO"},
    ],
    (Systeem.KINDKANS, Actie.HULPVRAAG_AANMAKEN): [
        {"startdatum": "2025-02-03", "status": "thuiszitter", "school_brin": "12AB", "sector": "PO", "regio": "Noord"}
    ],
    (Systeem.KINDKANS, Actie.HULPVRAAG_BIJWERKEN): [
        {"startdatum": "2025-01-27"},
        {"gebeurtenis": "oudergesprek", "fase": 2},
        {"gebeurtenis": "passende_plek", "fase": 4},
        {"route": "3.3", "variant": "tlv_so"},
        {"route": "3.1"},
    ],
    (Systeem.KINDKANS, Actie.HULPVRAAG_AFSLUITEN): [{"uitkomst": "terug_op_school"}],
    (Systeem.KINDKANS, Actie.HULPVRAAG_INTREKKEN): [{"uitkomst": "ingetrokken"}, {"uitkomst": "naar_vo"}],
    (Systeem.SISA, Actie.SIGNAAL): [{}],
    (Systeem.TASKFORCE, Actie.AANMELDING): [
        {"regio": "Zuid", "sector": "VO", "weken_thuis": 13},
        {
            "regio": "Noord",
            "sector": "PO",
            "weken_thuis": 12,
            "reden_code": "geen_passende_plek",
            "bespreking_op": "2025-05-14",
        },
    ],
    (Systeem.CENTRALE_AANMELDROUTE, Actie.AANMELDING): [{"soort_onderwijs": "SBO", "school_brin": "12AB"}],
}
"""What the procedure sends per call (``workflows/steps.py``, ``events.py``, ``events_v2.py``, ``firing.py``)."""


def test_every_call_of_the_procedure_is_in_the_document_and_here() -> None:
    assert set(GEGEVENS_PER_AANROEP) == set(AANROEPEN)
    paths = set(OUTBOUND.document["paths"])
    assert paths == {f"/{systeem.value}/{actie.value}" for systeem, actie in AANROEPEN}
    assert {systeem for systeem, _ in AANROEPEN} == set(Systeem)


@pytest.mark.parametrize(
    ("systeem", "actie", "gegevens"),
    [(systeem, actie, gegevens) for (systeem, actie), all_ in GEGEVENS_PER_AANROEP.items() for gegevens in all_],
)
async def test_every_call_the_adapter_makes_matches_the_document(
    systeem: Systeem, actie: Actie, gegevens: dict[str, Any]
) -> None:
    async with PartnerSystems() as partner:
        settings = Settings(endpoints={systeem: Endpoint(url=partner.url_of(systeem.value), token=TOKEN)})
        adapter = HttpRegistratieAdapter(settings)
        try:
            r = Registratie(
                sleutel=f"{CASE_ID}:4:{systeem.value}.{actie.value}",
                case_id=CASE_ID,
                leerling_ref=LEERLING,
                systeem=systeem,
                actie=actie,
                gegevens=gegevens,
            )
            outcome = await adapter.send(r)
        finally:
            await adapter.aclose()
        assert outcome.verzonden is True
        [receipt] = partner.received
        assert receipt.outcome == "verwerkt"
        assert outcome.kenmerk == receipt.kenmerk


async def test_the_adapter_without_a_token_matches_the_document_too() -> None:
    async with PartnerSystems() as partner:
        settings = Settings(endpoints={Systeem.SISA: Endpoint(url=partner.url_of("sisa"))})
        adapter = HttpRegistratieAdapter(settings)
        try:
            r = Registratie(
                sleutel=f"{CASE_ID}:2:sisa.signaal",
                case_id=CASE_ID,
                leerling_ref=LEERLING,
                systeem=Systeem.SISA,
                actie=Actie.SIGNAAL,
            )
            assert (await adapter.send(r)).verzonden is True
        finally:
            await adapter.aclose()
        [receipt] = partner.received
        assert receipt.authorization is None


@pytest.mark.parametrize(
    ("wrong", "path", "headers", "body", "reason"),
    [
        (
            "a field the document does not name",
            "/kindkans/hulpvraag_aanmaken",
            {"Idempotency-Key": "k1"},
            {
                "leerling_ref": LEERLING,
                "case_id": CASE_ID,
                "actie": "hulpvraag_aanmaken",
                "gegevens": {
                    "startdatum": "2025-02-03",
                    "status": "thuiszitter",
                    "sector": "PO",
                    "regio": "Noord",
                    "naam": "Jan Jansen",
                },
            },
            "'naam' was unexpected",
        ),
        (
            "no Idempotency-Key",
            "/sisa/signaal",
            {},
            {"leerling_ref": LEERLING, "case_id": CASE_ID, "actie": "signaal", "gegevens": {}},
            "Idempotency-Key",
        ),
        (
            "a date that is no date",
            "/leerplicht/melding_volledig_verzuim",
            {"Idempotency-Key": "k3"},
            {
                "leerling_ref": LEERLING,
                "case_id": CASE_ID,
                "actie": "melding_volledig_verzuim",
                "gegevens": {"startdatum": "3 februari", "sector": "PO"},
            },
            "is not a 'date'",
        ),
        (
            "an action another system takes",
            "/sisa/hulpvraag_aanmaken",
            {"Idempotency-Key": "k4"},
            {"leerling_ref": LEERLING, "case_id": CASE_ID, "actie": "hulpvraag_aanmaken", "gegevens": {}},
            "Path not found",
        ),
        (
            "the action in the body differs from the path",
            "/sisa/signaal",
            {"Idempotency-Key": "k5"},
            {"leerling_ref": LEERLING, "case_id": CASE_ID, "actie": "aanmelding", "gegevens": {}},
            "'signaal' was expected",
        ),
    ],
)
async def test_the_partner_refuses_a_request_that_does_not_match_the_document(
    wrong: str, path: str, headers: dict[str, str], body: dict[str, Any], reason: str
) -> None:
    async with PartnerSystems() as partner, httpx.AsyncClient() as client:
        response = await client.post(partner.base_url + path, json=body, headers=headers)
        assert response.status_code == 400, wrong
        [(receipt, errors)] = partner.take_violations()
        assert receipt.outcome == INVALID
        assert reason in "\n".join(errors), errors
        assert partner.received == []


async def test_a_request_that_does_not_match_fails_the_test_that_made_it() -> None:
    with pytest.raises(AssertionError, match=r"niet passen bij docs/api/uitgaand\.openapi\.json"):
        async with PartnerSystems() as partner, httpx.AsyncClient() as client:
            await client.post(partner.url_of("sisa") + "/signaal", json={"leerling_ref": LEERLING})
