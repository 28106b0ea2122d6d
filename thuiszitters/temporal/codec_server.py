"""Remote codec server: lets the Temporal Web UI and CLI show decrypted payloads to those allowed to.

It implements Temporal's codec server protocol: ``POST /encode`` and ``POST /decode`` take and return
``{"payloads": [...]}`` (``temporal.api.common.v1.Payloads`` in protobuf JSON form), with an optional
``X-Namespace`` header. Because ``/decode`` turns ciphertext into children's personal data, every request must
carry the token ``THUISZITTERS_CODEC_SERVER_TOKEN`` in one of two ways:

- ``Authorization: Bearer <token>`` on ``/encode`` and ``/decode``: for the CLI and scripts
  (``temporal ... --codec-endpoint http://127.0.0.1:8081 --codec-auth "Bearer $TOKEN"``);
- in the path, ``/t/<token>/encode`` and ``/t/<token>/decode``: for the Web UI, which cannot add a header of its
  own to codec requests. Its codec endpoint is then ``http://127.0.0.1:8081/t/<token>``.

Both are compared in constant time (over SHA-256 digests, so not even the length leaks), a wrong token gets the
same 401 whatever it resembles, and the token never reaches the logs. Browsers may call the server only from the
one origin in ``THUISZITTERS_CODEC_SERVER_CORS_ORIGIN`` (the Web UI); any other ``Origin`` gets a 403, token or
not. It listens on 127.0.0.1 by default; anything else belongs behind a TLS-terminating proxy.

Run: ``python -m thuiszitters.temporal.codec_server`` (host and port from ``THUISZITTERS_CODEC_SERVER_HOST`` and
``THUISZITTERS_CODEC_SERVER_PORT``, default 127.0.0.1:8081).
"""

from __future__ import annotations

import hashlib
import hmac
import sys
from collections.abc import Awaitable, Callable, Mapping

from aiohttp import hdrs, web
from aiohttp.abc import AbstractAccessLogger
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.web_protocol import RequestPayloadError
from google.protobuf import json_format
from temporalio.api.common.v1 import Payloads
from temporalio.converter import PayloadCodec

from thuiszitters.logs import configure_logging, get_logger
from thuiszitters.settings import Settings, SettingsError
from thuiszitters.temporal.codec import EncryptionCodec

MAX_BODY_BYTES = 16 * 1024 * 1024
ALLOWED_HEADERS = "authorization, content-type, x-namespace"
ALLOWED_METHODS = "POST, OPTIONS"
PUBLIC_PATHS = frozenset({"/health"})
CAPABILITY_PREFIX = "/t/"
"""Paths of the form ``/t/<token>/encode`` carry the token themselves (for the Web UI)."""

log = get_logger("thuiszitters.temporal.codec_server")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _error(status: int, message: str, headers: Mapping[str, str] | None = None) -> web.Response:
    return web.json_response({"fout": message}, status=status, headers=headers)


def _digest(value: str) -> bytes:
    # A header that is not valid UTF-8 reaches us with lone surrogates: digest those too instead of failing.
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).digest()


def split_capability_path(path: str) -> tuple[str, str] | None:
    """``/t/<token>/decode`` as ``(token, "/decode")``; None for a path without a token in it."""
    if not path.startswith(CAPABILITY_PREFIX):
        return None
    token, slash, rest = path.removeprefix(CAPABILITY_PREFIX).partition("/")
    return token, slash + rest


def loggable_path(path: str) -> str:
    """The path without the token it may carry, fit for a log line."""
    capability = split_capability_path(path)
    return _for_log(path if capability is None else f"{CAPABILITY_PREFIX}[token]{capability[1]}")


def _for_log(value: str | None) -> str:
    """What a client sent, fit for one log line: at most 200 characters, control characters replaced."""
    return "".join(c if c.isprintable() else "?" for c in (value or "")[:200])


class RedactingAccessLogger(AbstractAccessLogger):
    """aiohttp's access log line, without the token a path may carry."""

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        self.logger.info("%s %s %s %.1f ms", request.method, loggable_path(request.path), response.status, time * 1000)


def build_app(codec: PayloadCodec, token: str, cors_origin: str) -> web.Application:
    """The codec server as an aiohttp app; ``token`` is required, ``cors_origin`` is the Web UI's origin."""
    if not token:
        raise ValueError("de codec-server heeft een token nodig (THUISZITTERS_CODEC_SERVER_TOKEN)")
    if "/" in token:
        raise ValueError("het token van de codec-server mag geen '/' bevatten (het staat ook in het pad)")
    expected = _digest(token)
    allowed_origin = cors_origin.rstrip("/")

    def token_matches(provided: str) -> bool:
        # Digests have a fixed length, so the comparison takes the same time whatever was sent.
        return hmac.compare_digest(_digest(provided), expected)

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
        capability = split_capability_path(request.path)
        if capability is not None:
            return token_matches(capability[0])
        if request.path in PUBLIC_PATHS:
            return True
        scheme, _, provided = request.headers.get(hdrs.AUTHORIZATION, "").partition(" ")
        return token_matches(provided.strip()) and scheme.lower() == "bearer"

    @web.middleware
    async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
        origin = request.headers.get(hdrs.ORIGIN)
        response: web.StreamResponse
        if origin is not None and origin != allowed_origin:
            log.warning("codec_server_origin_geweigerd", origin=_for_log(origin), path=loggable_path(request.path))
            response = _error(403, "deze herkomst (Origin) mag de codec-server niet gebruiken")
        elif request.method == hdrs.METH_OPTIONS:
            response = web.Response(status=204)
        elif not authorized(request):
            log.warning("codec_server_niet_geautoriseerd", path=loggable_path(request.path))
            response = _error(
                401,
                "niet geautoriseerd: stuur 'Authorization: Bearer <token>', of gebruik het pad "
                "/t/<token>/decode, met het token van de codec-server",
                headers={hdrs.WWW_AUTHENTICATE: 'Bearer realm="thuiszitters-codec"'},
            )
        else:
            try:
                response = await handler(request)
            except web.HTTPException as error:
                response = _error(error.status, _http_message(error))
            except Exception:
                log.exception("codec_server_fout", path=loggable_path(request.path))
                response = _error(500, "interne fout in de codec-server; zie de logs van de server")
        response.headers.update(cors_headers(request))
        response.headers[hdrs.VARY] = "Origin"
        # Decoded payloads are personal data: never keep them in a browser or proxy cache.
        response.headers[hdrs.CACHE_CONTROL] = "no-store"
        response.headers["X-Content-Type-Options"] = "nosniff"
        # The token may be in the URL: never pass that URL on to another site.
        response.headers["Referrer-Policy"] = "no-referrer"
        return response

    def payload_handler(decode: bool) -> Handler:
        action = "decoderen" if decode else "encoderen"

        async def handle(request: web.Request) -> web.StreamResponse:
            try:
                body = await request.read()
            except (RequestPayloadError, HttpProcessingError):  # e.g. a body that does not match its Content-Encoding
                return _error(400, "ongeldige body: niet te lezen (klopt de Content-Encoding?)")
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
                    namespace=_for_log(request.headers.get("X-Namespace")),
                )
                return _error(400, f"{action} mislukt: {error}")
            log.info(
                "codec_server_verzoek",
                actie=action,
                aantal=len(payloads.payloads),
                namespace=_for_log(request.headers.get("X-Namespace")),
            )
            encoded = json_format.MessageToDict(payloads).get("payloads", [])
            return web.json_response({"payloads": encoded})

        return handle

    async def health(_request: web.Request) -> web.StreamResponse:
        return web.json_response({"status": "ok"})

    app = web.Application(middlewares=[guard], client_max_size=MAX_BODY_BYTES)
    encode, decode = payload_handler(decode=False), payload_handler(decode=True)
    app.router.add_post("/encode", encode)
    app.router.add_post("/decode", decode)
    app.router.add_post(CAPABILITY_PREFIX + "{token}/encode", encode)
    app.router.add_post(CAPABILITY_PREFIX + "{token}/decode", decode)
    app.router.add_get("/health", health)
    return app


def _http_message(error: web.HTTPException) -> str:
    if error.status == 404:
        return "onbekend pad: gebruik POST /encode of POST /decode (of /t/<token>/encode en /t/<token>/decode)"
    if error.status == 405:
        return "methode niet toegestaan: gebruik POST"
    if error.status == 413:
        return f"body te groot (maximaal {MAX_BODY_BYTES // (1024 * 1024)} MiB)"
    return f"verzoek geweigerd ({error.status})"


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
    except SettingsError as error:
        sys.stderr.write(f"codec-server start niet: {error}\n")
        return 2
    host, port = settings.codec_server_host, settings.codec_server_port
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
        web_ui_codec_endpoint=f"http://{host}:{port}{CAPABILITY_PREFIX}<THUISZITTERS_CODEC_SERVER_TOKEN>",
    )
    app = build_app(codec, settings.codec_server_token, settings.codec_server_cors_origin)
    web.run_app(app, host=host, port=port, print=None, access_log_class=RedactingAccessLogger)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
