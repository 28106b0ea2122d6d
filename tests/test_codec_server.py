"""The codec server over real HTTP on 127.0.0.1: it decrypts only for the token holder, from the UI."""

from __future__ import annotations

import base64
import os
from collections.abc import AsyncIterator

import httpx
import pytest
from aiohttp.test_utils import TestServer
from google.protobuf import json_format
from temporalio.api.common.v1 import Payloads
from temporalio.contrib.pydantic import pydantic_data_converter

from thuiszitters.codec import ENCODING, EncryptionCodec
from thuiszitters.codec_server import build_app

TOKEN = "geheim-token-voor-de-test"
UI_ORIGIN = "http://localhost:8233"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
PERSONAL = {"leerling_ref": "LL-0042", "geboortedatum": "2014-03-17"}


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    codec = EncryptionCodec([("k1", os.urandom(32))])
    server = TestServer(build_app(codec, TOKEN, UI_ORIGIN), host="127.0.0.1")
    await server.start_server()
    try:
        async with httpx.AsyncClient(base_url=str(server.make_url("")), timeout=10) as http:
            yield http
    finally:
        await server.close()


def plain_body() -> dict[str, object]:
    payloads = Payloads(payloads=pydantic_data_converter.payload_converter.to_payloads([PERSONAL]))
    return json_format.MessageToDict(payloads)


async def test_encode_then_decode_round_trip(client: httpx.AsyncClient) -> None:
    body = plain_body()

    encoded = await client.post("/encode", json=body, headers={**AUTH, "X-Namespace": "default"})
    assert encoded.status_code == 200
    [encrypted] = encoded.json()["payloads"]
    assert base64.b64decode(encrypted["metadata"]["encoding"]) == ENCODING
    assert "2014-03-17" not in base64.b64decode(encrypted["data"]).decode("latin-1")

    decoded = await client.post("/decode", json=encoded.json(), headers={**AUTH, "X-Namespace": "default"})
    assert decoded.status_code == 200
    assert decoded.json() == body
    assert decoded.headers["Cache-Control"] == "no-store"


async def test_decode_of_an_empty_list_keeps_the_payloads_field(client: httpx.AsyncClient) -> None:
    response = await client.post("/decode", json={"payloads": []}, headers=AUTH)

    assert response.status_code == 200
    assert response.json() == {"payloads": []}


async def test_missing_token_is_refused(client: httpx.AsyncClient) -> None:
    response = await client.post("/decode", json=plain_body())

    assert response.status_code == 401
    assert "niet geautoriseerd" in response.json()["fout"]
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize("header", [f"Bearer {TOKEN}x", "Bearer", f"Basic {TOKEN}", TOKEN, f"Bearer {TOKEN[:-1]}"])
async def test_wrong_token_is_refused(client: httpx.AsyncClient, header: str) -> None:
    response = await client.post("/decode", json=plain_body(), headers={"Authorization": header})

    assert response.status_code == 401


async def test_request_from_another_origin_is_forbidden_even_with_the_token(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post(
        "/decode", json=plain_body(), headers={**AUTH, "Origin": "https://kwaadwillend.example"}
    )

    assert response.status_code == 403
    assert "Access-Control-Allow-Origin" not in response.headers
    assert "payloads" not in response.text


async def test_request_from_the_ui_origin_gets_cors_headers(client: httpx.AsyncClient) -> None:
    response = await client.post("/decode", json=plain_body(), headers={**AUTH, "Origin": UI_ORIGIN})

    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == UI_ORIGIN
    assert response.headers["Access-Control-Allow-Credentials"] == "true"


async def test_preflight_from_the_configured_origin_gets_cors_headers(client: httpx.AsyncClient) -> None:
    response = await client.options(
        "/decode",
        headers={
            "Origin": UI_ORIGIN,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,content-type,x-namespace",
        },
    )

    assert response.status_code == 204
    assert response.headers["Access-Control-Allow-Origin"] == UI_ORIGIN
    allowed_headers = {h.strip() for h in response.headers["Access-Control-Allow-Headers"].split(",")}
    assert allowed_headers == {"authorization", "content-type", "x-namespace"}
    assert {m.strip() for m in response.headers["Access-Control-Allow-Methods"].split(",")} == {
        "POST",
        "OPTIONS",
    }
    assert response.headers["Access-Control-Allow-Credentials"] == "true"


async def test_preflight_from_another_origin_gets_no_cors_headers(client: httpx.AsyncClient) -> None:
    response = await client.options(
        "/decode",
        headers={"Origin": "https://kwaadwillend.example", "Access-Control-Request-Method": "POST"},
    )

    assert response.status_code == 403
    assert not any(name.lower().startswith("access-control-") for name in response.headers)


@pytest.mark.parametrize("body", [b"{niet json", b'{"payloads": "geen lijst"}', b'{"onbekend": 1}', b"\xff\xfe"])
async def test_malformed_body_is_a_400_in_dutch(client: httpx.AsyncClient, body: bytes) -> None:
    response = await client.post("/decode", content=body, headers={**AUTH, "Content-Type": "application/json"})

    assert response.status_code == 400
    assert response.json()["fout"].startswith("ongeldige body")
    assert "Traceback" not in response.text


async def test_payload_under_an_unknown_key_is_a_400_naming_the_key(client: httpx.AsyncClient) -> None:
    other = EncryptionCodec([("elders", os.urandom(32))])
    payloads = Payloads(payloads=pydantic_data_converter.payload_converter.to_payloads([PERSONAL]))
    await other.encode_wrapper(payloads)

    response = await client.post("/decode", json=json_format.MessageToDict(payloads), headers=AUTH)

    assert response.status_code == 400
    assert "onbekende sleutel-id 'elders'" in response.json()["fout"]
    assert "Traceback" not in response.text


async def test_unknown_path_with_token_is_a_404_in_dutch(client: httpx.AsyncClient) -> None:
    response = await client.post("/ontsleutel", json=plain_body(), headers=AUTH)

    assert response.status_code == 404
    assert "onbekend pad" in response.json()["fout"]


async def test_health_needs_no_token(client: httpx.AsyncClient) -> None:
    response = await client.get("/health")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_app_without_token_is_refused() -> None:
    with pytest.raises(ValueError, match="token"):
        build_app(EncryptionCodec([("k1", os.urandom(32))]), "", UI_ORIGIN)
