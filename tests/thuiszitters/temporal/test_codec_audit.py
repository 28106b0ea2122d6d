"""The codec server's audit rows: behind the hardened Web UI, every decode it serves leaves one row with the person
and role of the verified token, every request it refuses one 'geweigerd' row, and when no row can be written
nothing is decoded. Against the real OpenID provider and a real case register."""

from __future__ import annotations

import io
import json
import os
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
import httpx
import pytest
from aiohttp.test_utils import TestServer
from google.protobuf import json_format
from temporalio.api.common.v1 import Payloads
from temporalio.contrib.pydantic import pydantic_data_converter

from devtools import oidc
from devtools.devstack import free_port
from tests.cases import eventually
from tests.fixtures.logs import restored_logging
from tests.fixtures.oidc import OidcTestProvider, oidc_provider
from tests.fixtures.postgres import fresh_database
from tests.fixtures.processes import codec_server
from thuiszitters.logs import configure_logging
from thuiszitters.people.audit import AuditLog
from thuiszitters.people.tokens import TokenVerifier
from thuiszitters.register.store import Register
from thuiszitters.settings import Settings
from thuiszitters.temporal.codec import EncryptionCodec, generate_key
from thuiszitters.temporal.codec_server import audit_action, build_app

__all__ = ["oidc_provider"]
"""The provider fixture is imported here, not in tests/conftest.py: only these tests start it."""

UI_ORIGIN = "http://localhost:8080"
STATIC_TOKEN = "oud-statisch-token"
PERSONAL = {"leerling_ref": "LL-0042", "geboortedatum": "2014-03-17"}
COORDINATOR = "prs-coordinator-noord"
Row = tuple[Any, ...]


async def rows(pool: asyncpg.Pool[asyncpg.Record]) -> list[Row]:
    """Every audit row, oldest first: (persoon_id, rol, kanaal, actie, case_id, resultaat, reden)."""
    records = await pool.fetch(
        "SELECT persoon_id, rol, kanaal, actie, case_id, resultaat, reden FROM audit_log ORDER BY id"
    )
    return [tuple(record.values()) for record in records]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def plain_body() -> dict[str, Any]:
    payloads = Payloads(payloads=pydantic_data_converter.payload_converter.to_payloads([PERSONAL]))
    return json_format.MessageToDict(payloads)


@pytest.fixture
def log_lines() -> Iterator[io.StringIO]:
    """The process's log as JSON lines, read back by the test."""
    stream = io.StringIO()
    with restored_logging():
        configure_logging(Settings(log_format="json"), stream=stream)
        yield stream


@asynccontextmanager
async def serving(provider: OidcTestProvider, audit: AuditLog) -> AsyncIterator[httpx.AsyncClient]:
    """The codec server in OpenID mode (coordinators and the Taskforce may decode), recording in ``audit``."""
    verifier = TokenVerifier(provider.issuer, oidc.CODEC_AUDIENCE, ["coordinator", "taskforce"])
    codec = EncryptionCodec([("k1", os.urandom(32))])
    server = TestServer(build_app(codec, STATIC_TOKEN, UI_ORIGIN, verifier=verifier, audit=audit), host="127.0.0.1")
    await server.start_server()
    try:
        async with httpx.AsyncClient(base_url=str(server.make_url("")), timeout=10) as http:
            yield http
    finally:
        await server.close()
        await verifier.aclose()


@pytest.fixture
async def client(oidc_provider: OidcTestProvider, register: Register) -> AsyncIterator[httpx.AsyncClient]:
    async with serving(oidc_provider, AuditLog(register.pool)) as http:
        yield http


async def test_each_decode_leaves_one_row_with_the_person_and_role_of_the_token(
    client: httpx.AsyncClient, oidc_provider: OidcTestProvider, register: Register
) -> None:
    ui = {**bearer(oidc_provider.token(COORDINATOR)), "Origin": UI_ORIGIN, "X-Namespace": "default"}
    encoded = await client.post("/encode", json=plain_body(), headers=ui)
    assert encoded.status_code == 200
    assert await rows(register.pool) == []  # encoding shows nobody anything: no row

    for count in (1, 2):
        decoded = await client.post("/decode", json=encoded.json(), headers=ui)
        assert decoded.status_code == 200 and decoded.json() == plain_body()
        assert len(await rows(register.pool)) == count

    taskforce = await client.post(
        "/decode", json={"payloads": []}, headers=bearer(oidc_provider.token("prs-taskforce-1"))
    )
    assert taskforce.status_code == 200
    assert await rows(register.pool) == [
        (COORDINATOR, "coordinator", "codec", "decoderen", None, "toegestaan", None),
        (COORDINATOR, "coordinator", "codec", "decoderen", None, "toegestaan", None),
        ("prs-taskforce-1", "taskforce", "codec", "decoderen", None, "toegestaan", None),
    ]
    assert await AuditLog(register.pool).verify() is None


async def test_each_refused_request_leaves_one_refused_row(
    client: httpx.AsyncClient, oidc_provider: OidcTestProvider, register: Register
) -> None:
    good = oidc_provider.token(COORDINATOR)
    tampered = good[:-4] + ("AAAA" if not good.endswith("AAAA") else "BBBB")
    requests: list[tuple[str, dict[str, str], int]] = [
        ("/decode", {}, 401),
        ("/decode", bearer(tampered), 401),
        ("/decode", bearer(oidc_provider.token("prs-scp-1")), 403),
        (f"/t/{STATIC_TOKEN}/decode", {}, 401),
        ("/encode", bearer("geen-token"), 401),
        ("/decode", {**bearer(good), "Origin": "https://elders.example"}, 403),
    ]
    for number, (path, headers, status) in enumerate(requests, start=1):
        response = await client.post(path, json=plain_body(), headers=headers)
        assert response.status_code == status, path
        assert "payloads" not in response.text
        assert len(await rows(register.pool)) == number, path

    onbekend = ("onbekend", "onbekend", "codec")
    assert await rows(register.pool) == [
        (*onbekend, "decoderen", None, "geweigerd", "geen_token: geen bearer-token van de OpenID-provider"),
        (*onbekend, "decoderen", None, "geweigerd", "invalid_token: de handtekening van het token klopt niet"),
        # A valid token of a role that may not decode: the person it names is recorded.
        (
            "prs-scp-1",
            "onbekend",
            "codec",
            "decoderen",
            None,
            "geweigerd",
            "insufficient_scope: rol 'scp' heeft hier geen toegang",
        ),
        (*onbekend, "decoderen", None, "geweigerd", "geen_token: geen bearer-token van de OpenID-provider"),
        (*onbekend, "encoderen", None, "geweigerd", "invalid_token: token is geen geldige JWT"),
        (
            *onbekend,
            "decoderen",
            None,
            "geweigerd",
            "origin_geweigerd: deze herkomst (Origin) mag de codec-server niet gebruiken",
        ),
    ]
    logged = json.dumps(await rows(register.pool))
    assert good not in logged and STATIC_TOKEN not in logged and "2014-03-17" not in logged


async def test_the_preflight_and_health_leave_no_row(client: httpx.AsyncClient, register: Register) -> None:
    preflight = await client.options(
        "/decode",
        headers={
            "Origin": UI_ORIGIN,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization",
        },
    )
    health = await client.get("/health")

    assert (preflight.status_code, health.status_code) == (204, 200)
    assert await rows(register.pool) == []


async def test_without_an_audit_row_nothing_is_decoded(
    oidc_provider: OidcTestProvider, postgres_dsn: str, log_lines: io.StringIO
) -> None:
    # A register without migration 005: there is no audit log to write to.
    async with (
        fresh_database(postgres_dsn, migrate=False) as database,
        serving(oidc_provider, AuditLog(database.register.pool)) as http,
    ):
        token = oidc_provider.token(COORDINATOR)
        encoded = await http.post("/encode", json=plain_body(), headers=bearer(token))
        assert encoded.status_code == 200
        decoded = await http.post("/decode", json=encoded.json(), headers=bearer(token))

    assert decoded.status_code == 503
    assert decoded.json() == {"fout": "het auditlog is niet te schrijven: er wordt niets ontsleuteld"}
    assert "2014-03-17" not in decoded.text and "payloads" not in decoded.text
    events = [json.loads(line) for line in log_lines.getvalue().splitlines() if line.startswith("{")]
    failures = [event for event in events if event["event"] == "codec_server_auditlog_fout"]
    assert [(event["path"], event["fout"]) for event in failures] == [("/decode", "UndefinedTableError")]
    assert not [event for event in events if event["event"] == "codec_server_verzoek" and event["actie"] == "decoderen"]


def test_the_audit_action_follows_the_path() -> None:
    assert [audit_action(path) for path in ("/decode", "/encode", f"/t/{STATIC_TOKEN}/decode", "/elders")] == [
        "decoderen",
        "encoderen",
        "decoderen",
        "verzoek",
    ]


def test_the_static_token_mode_has_no_audit_log(register: Register) -> None:
    codec = EncryptionCodec([("k1", os.urandom(32))])
    with pytest.raises(ValueError, match="vraagt om OpenID-tokens"):
        build_app(codec, STATIC_TOKEN, UI_ORIGIN, audit=AuditLog(register.pool))


# ---------------------------------------------------------------------------------- as operators run it


def process_env(provider: OidcTestProvider, port: int, database_url: str) -> dict[str, str]:
    return {
        **{key: value for key, value in os.environ.items() if not key.startswith("THUISZITTERS_")},
        "DATABASE_URL": database_url,
        "THUISZITTERS_CODEC_KEYS": f"k1:{generate_key()}",
        "THUISZITTERS_CODEC_SERVER_OIDC_ISSUER": provider.issuer,
        "THUISZITTERS_CODEC_SERVER_OIDC_AUDIENCE": oidc.CODEC_AUDIENCE,
        "THUISZITTERS_CODEC_SERVER_OIDC_ROLLEN": "coordinator, taskforce",
        "THUISZITTERS_CODEC_SERVER_CORS_ORIGIN": UI_ORIGIN,
        "THUISZITTERS_CODEC_SERVER_PORT": str(port),
        "THUISZITTERS_LOG_FORMAT": "json",
    }


async def test_the_codec_server_process_records_in_the_register_of_its_settings(
    oidc_provider: OidcTestProvider, postgres_dsn: str
) -> None:
    port = free_port()
    async with fresh_database(postgres_dsn) as database:
        with codec_server(process_env(oidc_provider, port, database.dsn), port) as (url, process):
            async with httpx.AsyncClient(base_url=url, timeout=5) as http:

                async def decode(headers: dict[str, str]) -> int:
                    try:
                        response = await http.post("/decode", json={"payloads": []}, headers=headers)
                    except httpx.TransportError:
                        return 0
                    return response.status_code

                coordinator = bearer(oidc_provider.token(COORDINATOR))
                assert await eventually(lambda: decode(coordinator), lambda code: code != 0) == 200
                assert await decode({}) == 401
            process.terminate()
            process.wait(10)
        assert process.stdout is not None
        lines = [json.loads(line) for line in process.stdout.read().splitlines() if line.startswith("{")]
        [start] = [line for line in lines if line["event"] == "codec_server_start"]
        assert start["auditlog"] is True
        assert await rows(database.register.pool) == [
            (COORDINATOR, "coordinator", "codec", "decoderen", None, "toegestaan", None),
            (
                "onbekend",
                "onbekend",
                "codec",
                "decoderen",
                None,
                "geweigerd",
                "geen_token: geen bearer-token van de OpenID-provider",
            ),
        ]


async def test_the_codec_server_does_not_start_without_its_audit_log(
    oidc_provider: OidcTestProvider, postgres_dsn: str
) -> None:
    port = free_port()
    async with fresh_database(postgres_dsn, migrate=False) as database:
        with codec_server(process_env(oidc_provider, port, database.dsn), port) as (_url, process):
            output, _ = process.communicate(timeout=30)

    assert process.returncode == 2
    assert "codec-server start niet: het auditlog is niet bereikbaar (UndefinedTableError" in output
