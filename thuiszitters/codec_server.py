"""Remote codec server: lets the Temporal Web UI and CLI show decrypted payloads to those allowed to.

It implements Temporal's codec server protocol: ``POST /encode`` and ``POST /decode`` take and return
``{"payloads": [...]}`` (``temporal.api.common.v1.Payloads`` in protobuf JSON form), with an optional
``X-Namespace`` header. Because ``/decode`` turns ciphertext into children's personal data, every request
needs ``Authorization: Bearer <THUISZITTERS_CODEC_SERVER_TOKEN>``, and browsers may call it only from the one
origin in ``THUISZITTERS_CODEC_SERVER_CORS_ORIGIN`` (the Web UI). It listens on 127.0.0.1 by default; anything
else belongs behind a TLS-terminating proxy.

Run: ``python -m thuiszitters.codec_server`` (host and port from ``THUISZITTERS_CODEC_SERVER_HOST`` and
``THUISZITTERS_CODEC_SERVER_PORT``, default 127.0.0.1:8081). With the CLI: ``temporal workflow show -w ID
--codec-endpoint http://127.0.0.1:8081 --codec-auth "Bearer $TOKEN"``.
"""

from __future__ import annotations

import hmac
import os
import sys
from collections.abc import Awaitable, Callable, Mapping

from aiohttp import hdrs, web
from google.protobuf import json_format
from temporalio.api.common.v1 import Payloads
from temporalio.converter import PayloadCodec

from thuiszitters.codec import EncryptionCodec
from thuiszitters.logs import configure_logging, get_logger
from thuiszitters.settings import Settings, SettingsError

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8081
MAX_BODY_BYTES = 16 * 1024 * 1024
ALLOWED_HEADERS = "authorization, content-type, x-namespace"
ALLOWED_METHODS = "POST, OPTIONS"
PUBLIC_PATHS = frozenset({"/health"})

log = get_logger("thuiszitters.codec_server")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _error(status: int, message: str, headers: Mapping[str, str] | None = None) -> web.Response:
    return web.json_response({"fout": message}, status=status, headers=headers)


def build_app(codec: PayloadCodec, token: str, cors_origin: str) -> web.Application:
    """The codec server as an aiohttp app; ``token`` is required, ``cors_origin`` is the Web UI's origin."""
    if not token:
        raise ValueError("de codec-server heeft een token nodig (THUISZITTERS_CODEC_SERVER_TOKEN)")
    expected = token.encode()
    allowed_origin = cors_origin.rstrip("/")

    def cors_headers(request: web.Request) -> dict[str, str]:
        if request.headers.get(hdrs.ORIGIN) != allowed_origin:
            return {}
        return {
            hdrs.ACCESS_CONTROL_ALLOW_ORIGIN: allowed_origin,
            hdrs.ACCESS_CONTROL_ALLOW_HEADERS: ALLOWED_HEADERS,
            hdrs.ACCESS_CONTROL_ALLOW_METHODS: ALLOWED_METHODS,
            hdrs.ACCESS_CONTROL_ALLOW_CREDENTIALS: "true",
            hdrs.ACCESS_CONTROL_MAX_AGE: "600",
        }

    def authorized(request: web.Request) -> bool:
        scheme, _, provided = request.headers.get(hdrs.AUTHORIZATION, "").partition(" ")
        if scheme.lower() != "bearer":
            return False
        return hmac.compare_digest(provided.strip().encode(), expected)

    @web.middleware
    async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
        origin = request.headers.get(hdrs.ORIGIN)
        response: web.StreamResponse
        if origin is not None and origin != allowed_origin:
            log.warning("codec_server_origin_geweigerd", origin=origin, path=request.path)
            response = _error(403, "deze herkomst (Origin) mag de codec-server niet gebruiken")
        elif request.method == hdrs.METH_OPTIONS:
            response = web.Response(status=204)
        elif request.path not in PUBLIC_PATHS and not authorized(request):
            log.warning("codec_server_niet_geautoriseerd", path=request.path)
            response = _error(
                401,
                "niet geautoriseerd: stuur 'Authorization: Bearer <token>' met het token van de codec-server",
                headers={hdrs.WWW_AUTHENTICATE: 'Bearer realm="thuiszitters-codec"'},
            )
        else:
            try:
                response = await handler(request)
            except web.HTTPException as error:
                response = _error(error.status, _http_message(error))
            except Exception:
                log.exception("codec_server_fout", path=request.path)
                response = _error(500, "interne fout in de codec-server; zie de logs van de server")
        response.headers.update(cors_headers(request))
        response.headers[hdrs.VARY] = "Origin"
        # Decoded payloads are personal data: never keep them in a browser or proxy cache.
        response.headers[hdrs.CACHE_CONTROL] = "no-store"
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response

    def payload_handler(decode: bool) -> Handler:
        action = "decoderen" if decode else "encoderen"

        async def handle(request: web.Request) -> web.StreamResponse:
            body = await request.read()
            payloads = Payloads()
            try:
                json_format.Parse(body, payloads)
            except (json_format.ParseError, UnicodeDecodeError, ValueError):
                return _error(400, 'ongeldige body: verwacht JSON van de vorm {"payloads": [...]} (Temporal Payloads)')
            try:
                if decode:
                    await codec.decode_wrapper(payloads)
                else:
                    await codec.encode_wrapper(payloads)
            except ValueError as error:
                log.warning(
                    "codec_server_payload_geweigerd",
                    actie=action,
                    fout=str(error),
                    namespace=request.headers.get("X-Namespace"),
                )
                return _error(400, f"{action} mislukt: {error}")
            log.info(
                "codec_server_verzoek",
                actie=action,
                aantal=len(payloads.payloads),
                namespace=request.headers.get("X-Namespace"),
            )
            encoded = json_format.MessageToDict(payloads).get("payloads", [])
            return web.json_response({"payloads": encoded})

        return handle

    async def health(_request: web.Request) -> web.StreamResponse:
        return web.json_response({"status": "ok"})

    app = web.Application(middlewares=[guard], client_max_size=MAX_BODY_BYTES)
    app.router.add_post("/encode", payload_handler(decode=False))
    app.router.add_post("/decode", payload_handler(decode=True))
    app.router.add_get("/health", health)
    return app


def _http_message(error: web.HTTPException) -> str:
    if error.status == 404:
        return "onbekend pad: gebruik POST /encode of POST /decode"
    if error.status == 405:
        return "methode niet toegestaan: gebruik POST"
    if error.status == 413:
        return f"body te groot (maximaal {MAX_BODY_BYTES // (1024 * 1024)} MiB)"
    return f"verzoek geweigerd ({error.status})"


def _port(value: str) -> int:
    try:
        port = int(value)
    except ValueError:
        port = -1
    if not 0 < port < 65536:
        raise SettingsError(f"THUISZITTERS_CODEC_SERVER_PORT: '{value}' is geen poortnummer (1-65535)")
    return port


def main() -> int:
    try:
        settings = Settings.from_env()
        configure_logging(settings)
        if not settings.codec_server_token:
            raise SettingsError(
                "THUISZITTERS_CODEC_SERVER_TOKEN is leeg: de codec-server ontsleutelt persoonsgegevens "
                "en start niet zonder token"
            )
        codec = EncryptionCodec.from_settings(settings)
        host = os.environ.get("THUISZITTERS_CODEC_SERVER_HOST") or DEFAULT_HOST
        port = _port(os.environ.get("THUISZITTERS_CODEC_SERVER_PORT") or str(DEFAULT_PORT))
    except SettingsError as error:
        sys.stderr.write(f"codec-server start niet: {error}\n")
        return 2
    if host not in ("127.0.0.1", "::1", "localhost"):
        log.warning(
            "codec_server_niet_lokaal",
            host=host,
            advies="zet een proxy met TLS voor de codec-server; het verkeer bevat ontsleutelde gegevens",
        )
    log.info(
        "codec_server_start",
        host=host,
        port=port,
        cors_origin=settings.codec_server_cors_origin,
        sleutels=codec.key_ids,
    )
    app = build_app(codec, settings.codec_server_token, settings.codec_server_cors_origin)
    web.run_app(app, host=host, port=port, print=None, access_log=None)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
