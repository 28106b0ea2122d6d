"""The codec server over real HTTP on 127.0.0.1: it decrypts only for the token holder, from the UI."""

from __future__ import annotations

import base64
import os
import subprocess
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from aiohttp.test_utils import TestServer
from google.protobuf import json_format
from temporalio.api.common.v1 import Payloads
from temporalio.contrib.pydantic import pydantic_data_converter

from devtools.devstack import free_port
from tests.cases import eventually
from tests.fixtures.processes import codec_server
from thuiszitters.temporal.codec import ENCODING, EncryptionCodec, generate_key
from thuiszitters.temporal.codec_server import build_app

TOKEN = "geheim-token-voor-de-test"
UI_ORIGIN = "http://localhost:8233"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
UI_ENDPOINT = f"/t/{TOKEN}"
"""The Web UI's codec endpoint (path part): the UI appends /encode and /decode itself."""
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


def test_token_with_a_slash_is_refused_because_it_could_not_be_used_in_the_path() -> None:
    with pytest.raises(ValueError, match="'/'"):
        build_app(EncryptionCodec([("k1", os.urandom(32))]), "geheim/token", UI_ORIGIN)


# ------------------------------------------------------------------------ the Web UI's form: token in the path


async def test_ui_endpoint_with_the_token_in_the_path_round_trips_from_the_ui_origin(
    client: httpx.AsyncClient,
) -> None:
    body = plain_body()
    ui = {"Origin": UI_ORIGIN, "X-Namespace": "default", "Content-Type": "application/json"}

    encoded = await client.post(f"{UI_ENDPOINT}/encode", json=body, headers=ui)
    assert encoded.status_code == 200
    assert "2014-03-17" not in encoded.text
    decoded = await client.post(f"{UI_ENDPOINT}/decode", json=encoded.json(), headers=ui)

    assert decoded.status_code == 200
    assert decoded.json() == body
    assert decoded.headers["Access-Control-Allow-Origin"] == UI_ORIGIN
    assert decoded.headers["Cache-Control"] == "no-store"
    assert decoded.headers["Referrer-Policy"] == "no-referrer"


async def test_ui_endpoint_works_without_any_authorization_header(client: httpx.AsyncClient) -> None:
    # What the CLI or a script does with the UI's endpoint: no header at all, only the path.
    response = await client.post(f"{UI_ENDPOINT}/decode", json={"payloads": []})

    assert response.status_code == 200
    assert response.json() == {"payloads": []}


async def test_ui_preflight_to_the_path_form_gets_cors_headers(client: httpx.AsyncClient) -> None:
    response = await client.options(
        f"{UI_ENDPOINT}/decode",
        headers={
            "Origin": UI_ORIGIN,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type,x-namespace",
        },
    )

    assert response.status_code == 204
    assert response.headers["Access-Control-Allow-Origin"] == UI_ORIGIN
    assert "POST" in response.headers["Access-Control-Allow-Methods"]


WRONG_PATH_TOKENS = [
    TOKEN[:-1] + "X",  # same length, last character wrong
    "X" + TOKEN[1:],  # same length, first character wrong
    TOKEN[:-1],  # a prefix
    TOKEN + "x",  # longer
    "a",
    TOKEN.upper(),
    base64.urlsafe_b64encode(os.urandom(24)).decode(),
]


async def test_wrong_token_in_the_path_is_refused_alike_however_close_the_guess(client: httpx.AsyncClient) -> None:
    answers = []
    for wrong in WRONG_PATH_TOKENS:
        response = await client.post(f"/t/{wrong}/decode", json=plain_body(), headers={"Origin": UI_ORIGIN})
        assert response.status_code == 401, wrong
        assert "payloads" not in response.json()
        if len(wrong) > 3:
            assert wrong not in response.text
        answers.append((response.status_code, response.text))

    # Nothing in the answer tells a near miss from a wild guess.
    assert len(set(answers)) == 1


async def test_empty_token_in_the_path_is_refused(client: httpx.AsyncClient) -> None:
    response = await client.post("/t//decode", json=plain_body())

    assert response.status_code == 401


async def test_wrong_token_in_the_path_is_refused_even_with_a_right_bearer_header(
    client: httpx.AsyncClient,
) -> None:
    # A request that names a token in its path is judged by that token alone.
    response = await client.post(f"/t/{TOKEN}x/decode", json=plain_body(), headers=AUTH)

    assert response.status_code == 401


async def test_path_form_from_another_origin_is_forbidden(client: httpx.AsyncClient) -> None:
    encoded = await client.post(f"{UI_ENDPOINT}/encode", json=plain_body())
    response = await client.post(
        f"{UI_ENDPOINT}/decode", json=encoded.json(), headers={"Origin": "https://kwaadwillend.example"}
    )

    assert response.status_code == 403
    assert "Access-Control-Allow-Origin" not in response.headers
    assert "2014-03-17" not in response.text
    assert "payloads" not in response.text


async def test_unknown_action_behind_the_right_path_token_is_a_404(client: httpx.AsyncClient) -> None:
    response = await client.post(f"{UI_ENDPOINT}/ontsleutel", json=plain_body())

    assert response.status_code == 404
    assert "onbekend pad" in response.json()["fout"]


@pytest.fixture
def codec_server_process() -> Iterator[tuple[str, subprocess.Popen[str]]]:
    """``python -m thuiszitters.temporal.codec_server`` as operators run it, on a free port, logging JSON to stderr."""
    port = free_port()
    env = {
        **os.environ,
        "THUISZITTERS_CODEC_KEYS": f"k1:{generate_key()}",
        "THUISZITTERS_CODEC_SERVER_TOKEN": TOKEN,
        "THUISZITTERS_CODEC_SERVER_CORS_ORIGIN": UI_ORIGIN,
        "THUISZITTERS_CODEC_SERVER_HOST": "127.0.0.1",
        "THUISZITTERS_CODEC_SERVER_PORT": str(port),
        "THUISZITTERS_LOG_FORMAT": "json",
    }
    with codec_server(env, port) as running:
        yield running


async def test_the_token_never_reaches_the_log_of_the_running_server(
    codec_server_process: tuple[str, subprocess.Popen[str]],
) -> None:
    url, process = codec_server_process
    async with httpx.AsyncClient(base_url=url, timeout=5) as http:

        async def health() -> int:
            try:
                return (await http.get("/health")).status_code
            except httpx.TransportError:
                return 0

        await eventually(health, lambda status: status == 200)
        right = await http.post(f"{UI_ENDPOINT}/decode", json=plain_body())
        wrong = await http.post(f"/t/{TOKEN}-fout/decode", json=plain_body())
        foreign = await http.post(
            f"{UI_ENDPOINT}/decode", json=plain_body(), headers={"Origin": "https://kwaadwillend.example"}
        )
    assert (right.status_code, wrong.status_code, foreign.status_code) == (200, 401, 403)
    process.terminate()
    output, _ = process.communicate(timeout=10)

    assert "codec_server_niet_geautoriseerd" in output
    assert "codec_server_origin_geweigerd" in output
    assert "/t/[token]/decode" in output  # the access log names the path, without the token
    assert TOKEN not in output
