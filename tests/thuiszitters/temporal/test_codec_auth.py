"""The codec server behind the hardened Web UI: only an access token of the real OpenID provider, of an allowed role,
opens it, and every request it serves is logged with the person and role."""

from __future__ import annotations

import io
import json
import os
import subprocess
from collections.abc import AsyncIterator, Iterator
from typing import Any

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
from tests.fixtures.processes import codec_server
from thuiszitters.logs import configure_logging
from thuiszitters.people.tokens import TokenVerifier
from thuiszitters.settings import Settings
from thuiszitters.temporal.codec import EncryptionCodec, generate_key
from thuiszitters.temporal.codec_server import build_app

__all__ = ["oidc_provider"]
"""The provider fixture is imported here, not in tests/conftest.py: only these tests start it."""

UI_ORIGIN = "http://localhost:8080"
STATIC_TOKEN = "oud-statisch-token"
PERSONAL = {"leerling_ref": "LL-0042", "geboortedatum": "2014-03-17"}
COORDINATOR = "prs-coordinator-noord"


@pytest.fixture
def log_lines() -> Iterator[io.StringIO]:
    """The process's log as JSON lines, read back by the test."""
    stream = io.StringIO()
    with restored_logging():
        configure_logging(Settings(log_format="json"), stream=stream)
        yield stream


@pytest.fixture
async def client(oidc_provider: OidcTestProvider, log_lines: io.StringIO) -> AsyncIterator[httpx.AsyncClient]:
    """The codec server in OpenID mode (a static token is configured too, and must open nothing)."""
    verifier = TokenVerifier(oidc_provider.issuer, oidc.CODEC_AUDIENCE, ["coordinator", "taskforce"])
    codec = EncryptionCodec([("k1", os.urandom(32))])
    server = TestServer(build_app(codec, STATIC_TOKEN, UI_ORIGIN, verifier=verifier), host="127.0.0.1")
    await server.start_server()
    try:
        async with httpx.AsyncClient(base_url=str(server.make_url("")), timeout=10) as http:
            yield http
    finally:
        await server.close()
        await verifier.aclose()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def plain_body() -> dict[str, Any]:
    payloads = Payloads(payloads=pydantic_data_converter.payload_converter.to_payloads([PERSONAL]))
    return json_format.MessageToDict(payloads)


def events(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.startswith("{")]


async def test_without_a_token_it_answers_401(client: httpx.AsyncClient) -> None:
    response = await client.post("/decode", json=plain_body())

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="thuiszitters-codec"'
    assert "niet geautoriseerd" in response.json()["fout"]
    assert "payloads" not in response.text


async def test_with_a_bad_token_it_answers_401_naming_what_is_wrong(
    client: httpx.AsyncClient, oidc_provider: OidcTestProvider
) -> None:
    good = oidc_provider.token(COORDINATOR)
    wrong_audience = oidc_provider.token(COORDINATOR, oidc.WEB_CLIENT_ID)
    tampered = good[:-4] + ("AAAA" if not good.endswith("AAAA") else "BBBB")

    answers = {}
    for name, token in {"onzin": "geen-token", "ondertekening": tampered, "publiek": wrong_audience}.items():
        response = await client.post("/decode", json=plain_body(), headers=bearer(token))
        assert response.status_code == 401, name
        assert response.headers["WWW-Authenticate"] == 'Bearer realm="thuiszitters-codec", error="invalid_token"'
        assert "payloads" not in response.text
        answers[name] = response.json()["fout"]

    assert answers == {
        "onzin": "niet geautoriseerd: token is geen geldige JWT",
        "ondertekening": "niet geautoriseerd: de handtekening van het token klopt niet",
        "publiek": "niet geautoriseerd: token is niet voor deze dienst bedoeld (aud)",
    }


async def test_the_static_token_opens_nothing_in_the_header_or_the_path(client: httpx.AsyncClient) -> None:
    in_header = await client.post("/decode", json=plain_body(), headers=bearer(STATIC_TOKEN))
    in_path = await client.post(f"/t/{STATIC_TOKEN}/decode", json=plain_body(), headers={"Origin": UI_ORIGIN})

    assert (in_header.status_code, in_path.status_code) == (401, 401)
    assert STATIC_TOKEN not in in_path.text


async def test_a_valid_token_of_a_role_that_may_not_decode_answers_403(
    client: httpx.AsyncClient, oidc_provider: OidcTestProvider, log_lines: io.StringIO
) -> None:
    response = await client.post("/decode", json=plain_body(), headers=bearer(oidc_provider.token("prs-scp-1")))

    assert response.status_code == 403
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="thuiszitters-codec", error="insufficient_scope"'
    assert response.json()["fout"] == "geen toegang: rol 'scp' heeft hier geen toegang"
    [refused] = [event for event in events(log_lines) if event["event"] == "codec_server_token_geweigerd"]
    assert (refused["status"], refused["persoon_id"]) == (403, "prs-scp-1")


async def test_a_coordinator_decodes_from_the_ui_and_the_decode_is_logged_with_the_person(
    client: httpx.AsyncClient, oidc_provider: OidcTestProvider, log_lines: io.StringIO
) -> None:
    token = oidc_provider.token(COORDINATOR)
    ui = {**bearer(token), "Origin": UI_ORIGIN, "X-Namespace": "default"}

    encoded = await client.post("/encode", json=plain_body(), headers=ui)
    assert encoded.status_code == 200
    assert "2014-03-17" not in encoded.text
    decoded = await client.post("/decode", json=encoded.json(), headers=ui)

    assert decoded.status_code == 200
    assert decoded.json() == plain_body()
    assert decoded.headers["Access-Control-Allow-Origin"] == UI_ORIGIN
    assert decoded.headers["Cache-Control"] == "no-store"
    served = [event for event in events(log_lines) if event["event"] == "codec_server_verzoek"]
    assert [(event["actie"], event["persoon_id"], event["rol"]) for event in served] == [
        ("encoderen", COORDINATOR, "coordinator"),
        ("decoderen", COORDINATOR, "coordinator"),
    ]
    assert served[1]["namespace"] == "default"
    logged = log_lines.getvalue()
    assert token not in logged
    assert token.split(".")[2] not in logged
    assert "2014-03-17" not in logged


async def test_the_taskforce_may_decode_too(client: httpx.AsyncClient, oidc_provider: OidcTestProvider) -> None:
    response = await client.post(
        "/decode", json={"payloads": []}, headers=bearer(oidc_provider.token("prs-taskforce-1"))
    )

    assert response.status_code == 200


async def test_the_browser_may_ask_first_without_a_token(client: httpx.AsyncClient) -> None:
    # The preflight carries no Authorization header; the request that follows does.
    response = await client.options(
        "/decode",
        headers={
            "Origin": UI_ORIGIN,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,content-type,x-namespace",
        },
    )

    assert response.status_code == 204
    assert "authorization" in response.headers["Access-Control-Allow-Headers"]


async def test_health_needs_no_token(client: httpx.AsyncClient) -> None:
    response = await client.get("/health")

    assert response.status_code == 200


# ---------------------------------------------------------------------------------- as operators run it


@pytest.fixture
def codec_server_with_oidc(oidc_provider: OidcTestProvider) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    """``python -m thuiszitters.temporal.codec_server`` configured from the environment as compose configures it:
    the provider's issuer, the codec audience and the allowed roles, and no static token at all."""
    port = free_port()
    env = {
        **{key: value for key, value in os.environ.items() if not key.startswith("THUISZITTERS_")},
        "THUISZITTERS_CODEC_KEYS": f"k1:{generate_key()}",
        "THUISZITTERS_CODEC_SERVER_OIDC_ISSUER": oidc_provider.issuer,
        "THUISZITTERS_CODEC_SERVER_OIDC_AUDIENCE": oidc.CODEC_AUDIENCE,
        "THUISZITTERS_CODEC_SERVER_OIDC_ROLLEN": "coordinator, taskforce",
        "THUISZITTERS_CODEC_SERVER_CORS_ORIGIN": UI_ORIGIN,
        "THUISZITTERS_CODEC_SERVER_PORT": str(port),
        "THUISZITTERS_LOG_FORMAT": "json",
    }
    with codec_server(env, port) as running:
        yield running


async def test_the_codec_server_process_checks_tokens_from_its_settings(
    codec_server_with_oidc: tuple[str, subprocess.Popen[str]], oidc_provider: OidcTestProvider
) -> None:
    url, process = codec_server_with_oidc
    async with httpx.AsyncClient(base_url=url, timeout=5) as http:

        async def status(token: str | None) -> int:
            try:
                response = await http.post(
                    "/decode", json={"payloads": []}, headers={} if token is None else bearer(token)
                )
            except httpx.TransportError:
                return 0
            return response.status_code

        coordinator = oidc_provider.token(COORDINATOR)
        assert await eventually(lambda: status(coordinator), lambda code: code != 0) == 200
        assert await status(None) == 401
        assert await status(oidc_provider.token("prs-school-mentor-7")) == 403
    process.terminate()
    assert process.stdout is not None
    lines = [json.loads(line) for line in process.stdout.read().splitlines() if line.startswith("{")]
    [start] = [line for line in lines if line["event"] == "codec_server_start"]
    assert start["oidc_issuer"] == oidc_provider.issuer
    assert start["rollen"] == ["coordinator", "taskforce"]
    [served] = [line for line in lines if line["event"] == "codec_server_verzoek"]
    assert (served["persoon_id"], served["rol"]) == (COORDINATOR, "coordinator")
    assert coordinator not in json.dumps(lines)
