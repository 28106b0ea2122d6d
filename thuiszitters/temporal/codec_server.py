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

Behind the hardened Web UI (``THUISZITTERS_CODEC_SERVER_OIDC_ISSUER`` set) the static token opens nothing: every
``/encode`` and ``/decode`` needs ``Authorization: Bearer <access token>`` from that OpenID provider, which the UI
passes on for its logged-in user (``TEMPORAL_CODEC_PASS_ACCESS_TOKEN=true``). :mod:`thuiszitters.people.tokens`
verifies it (signature, issuer, audience ``THUISZITTERS_CODEC_SERVER_OIDC_AUDIENCE``, expiry) and the role must be
one of ``THUISZITTERS_CODEC_SERVER_OIDC_ROLLEN``: no or a bad token gets a 401, a valid token of another role a
403, and every request that passes is logged with the person's pseudonymous id and role. Paths with a token in
them (``/t/<token>/...``) get a 401.

With OpenID on and ``DATABASE_URL`` set, the codec server also writes the audit log (:mod:`thuiszitters.people.audit`,
channel ``codec``): one row per ``/decode`` request it serves (the token's person and role, action ``decoderen``,
``toegestaan``), written before anything is decoded, so that when the row cannot be written nothing is (503); and
one ``geweigerd`` row per request it refuses (the person ``onbekend`` unless a valid token of another role named
them, the role ``onbekend``, a reason code). The decode request does not say which case its payloads belong to, so
these rows have no case id. Without ``DATABASE_URL``, and with the static token, it only logs, as above.

Run: ``python -m thuiszitters.temporal.codec_server`` (host and port from ``THUISZITTERS_CODEC_SERVER_HOST`` and
``THUISZITTERS_CODEC_SERVER_PORT``, default 127.0.0.1:8081).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import sys
from collections.abc import Awaitable, Callable, Mapping
from urllib.parse import urlsplit

import asyncpg
from aiohttp import hdrs, web
from aiohttp.abc import AbstractAccessLogger
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.web_protocol import RequestPayloadError
from google.protobuf import json_format
from temporalio.api.common.v1 import Payloads
from temporalio.converter import PayloadCodec

from thuiszitters.logs import configure_logging, get_logger
from thuiszitters.people.audit import AuditLog, Resultaat
from thuiszitters.people.tokens import TokenFout, TokenVerifier, Verified
from thuiszitters.settings import Settings, SettingsError
from thuiszitters.temporal.codec import EncryptionCodec

MAX_BODY_BYTES = 16 * 1024 * 1024
ALLOWED_HEADERS = "authorization, content-type, x-namespace"
ALLOWED_METHODS = "POST, OPTIONS"
PUBLIC_PATHS = frozenset({"/health"})
LOOPBACK = frozenset({"127.0.0.1", "::1", "localhost"})
CAPABILITY_PREFIX = "/t/"
"""Paths of the form ``/t/<token>/encode`` carry the token themselves (for the Web UI)."""
REALM = "thuiszitters-codec"
PERSON: web.RequestKey[Verified] = web.RequestKey("persoon", Verified)
"""The person a verified OpenID token speaks for (only when the server checks OpenID tokens)."""
ONBEKEND = "onbekend"
"""Person and role in the audit row of a request refused before a token named anyone."""
AUDIT_ERRORS = (OSError, asyncio.TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError)
AUDIT_POOL_MAX = 4
REDEN_MAX = 500
"""The audit log keeps a reason of at most this many characters."""

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


def allowed_roles(text: str) -> tuple[str, ...]:
    """The roles of ``THUISZITTERS_CODEC_SERVER_OIDC_ROLLEN``: comma-separated, spaces and empty items dropped."""
    return tuple(dict.fromkeys(role.strip() for role in text.split(",") if role.strip()))


def audit_action(path: str) -> str:
    """What a request asked for, as the audit log names it."""
    capability = split_capability_path(path)
    rest = path if capability is None else capability[1]
    return {"/decode": "decoderen", "/encode": "encoderen"}.get(rest, "verzoek")


def build_app(
    codec: PayloadCodec,
    token: str | None,
    cors_origin: str,
    *,
    verifier: TokenVerifier | None = None,
    audit: AuditLog | None = None,
) -> web.Application:
    """The codec server as an aiohttp app; ``cors_origin`` is the Web UI's origin.

    Without ``verifier``, ``token`` is required and opens the server (header or path). With ``verifier``, only an
    OpenID access token it accepts does, and ``token`` is ignored; ``audit`` then records every decode it serves and
    every request it refuses (without ``verifier`` there is no person to record, and ``audit`` is refused)."""
    if verifier is None and not token:
        raise ValueError("de codec-server heeft een token nodig (THUISZITTERS_CODEC_SERVER_TOKEN)")
    if verifier is None and audit is not None:
        raise ValueError("het auditlog van de codec-server vraagt om OpenID-tokens (THUISZITTERS_CODEC_SERVER_OIDC_*)")
    if verifier is None and token is not None and "/" in token:
        raise ValueError("het token van de codec-server mag geen '/' bevatten (het staat ook in het pad)")
    expected = _digest(token or "")
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

    async def record(
        request: web.Request, persoon_id: str, rol: str, resultaat: Resultaat, reden: str | None = None
    ) -> bool:
        """One audit row for this request (when there is an audit log); False when it could not be written."""
        if audit is None:
            return True
        try:
            await audit.record(
                persoon_id, rol, "codec", audit_action(request.path), None, resultaat, reden and reden[:REDEN_MAX]
            )
        except AUDIT_ERRORS as error:
            log.error("codec_server_auditlog_fout", path=loggable_path(request.path), fout=type(error).__name__)
            return False
        return True

    async def refused(request: web.Request, reden: str, persoon_id: str | None = None) -> None:
        """The audit row of a refused request; the refusal stands whether or not the row could be written."""
        await record(request, persoon_id or ONBEKEND, ONBEKEND, "geweigerd", reden)

    async def refused_person(request: web.Request) -> web.Response | None:
        """OpenID mode: None when the bearer token admits its person (kept in ``request[PERSON]``), else the
        refusal."""
        assert verifier is not None
        if request.path in PUBLIC_PATHS:
            return None
        path = loggable_path(request.path)
        scheme, _, provided = request.headers.get(hdrs.AUTHORIZATION, "").partition(" ")
        if split_capability_path(request.path) is not None or scheme.lower() != "bearer" or not provided.strip():
            log.warning("codec_server_niet_geautoriseerd", path=path, reden="geen bearer-token")
            await refused(request, "geen_token: geen bearer-token van de OpenID-provider")
            return _error(
                401,
                "niet geautoriseerd: stuur 'Authorization: Bearer <access token>' van de OpenID-provider "
                "(een token in het pad opent deze codec-server niet)",
                headers={hdrs.WWW_AUTHENTICATE: f'Bearer realm="{REALM}"'},
            )
        try:
            request[PERSON] = await verifier.verify(provided)
        except TokenFout as refusal:
            log.warning(
                "codec_server_token_geweigerd",
                path=path,
                status=refusal.status,
                reden=refusal.reden,
                persoon_id=refusal.persoon_id,
            )
            await refused(request, f"{refusal.code}: {refusal.reden}", refusal.persoon_id)
            headers: dict[str, str] = {}
            if refusal.status != 503:
                headers[hdrs.WWW_AUTHENTICATE] = _challenge(refusal.code)
            message = {401: "niet geautoriseerd", 403: "geen toegang"}.get(refusal.status, "token niet te controleren")
            return _error(refusal.status, f"{message}: {refusal.reden}", headers=headers)
        return None

    @web.middleware
    async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
        origin = request.headers.get(hdrs.ORIGIN)
        response: web.StreamResponse
        refusal: web.Response | None
        if origin is not None and origin != allowed_origin:
            log.warning("codec_server_origin_geweigerd", origin=_for_log(origin), path=loggable_path(request.path))
            await refused(request, "origin_geweigerd: deze herkomst (Origin) mag de codec-server niet gebruiken")
            response = _error(403, "deze herkomst (Origin) mag de codec-server niet gebruiken")
        elif request.method == hdrs.METH_OPTIONS:
            response = web.Response(status=204)
        elif verifier is not None and (refusal := await refused_person(request)) is not None:
            response = refusal
        elif verifier is None and not authorized(request):
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
            person = request.get(PERSON)
            if decode and person is not None and not await record(request, person.persoon_id, person.rol, "toegestaan"):
                return _error(503, "het auditlog is niet te schrijven: er wordt niets ontsleuteld")
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
                **({} if person is None else {"persoon_id": person.persoon_id, "rol": person.rol}),
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
    if verifier is None:
        app.router.add_post(CAPABILITY_PREFIX + "{token}/encode", encode)
        app.router.add_post(CAPABILITY_PREFIX + "{token}/decode", decode)
    app.router.add_get("/health", health)
    return app


def _challenge(code: str) -> str:
    """The ``WWW-Authenticate`` value of a refused bearer token (RFC 6750, section 3)."""
    return f'Bearer realm="{REALM}", error="{code}"'


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
        verifier = _verifier(settings)
        if verifier is None and not settings.codec_server_token:
            raise SettingsError(
                "THUISZITTERS_CODEC_SERVER_TOKEN is leeg: de codec-server ontsleutelt persoonsgegevens "
                "en start niet zonder token (of zet THUISZITTERS_CODEC_SERVER_OIDC_ISSUER)"
            )
        codec = EncryptionCodec.from_settings(settings)
    except SettingsError as error:
        sys.stderr.write(f"codec-server start niet: {error}\n")
        return 2
    host, port = settings.codec_server_host, settings.codec_server_port
    if host not in LOOPBACK:
        log.warning(
            "codec_server_niet_lokaal",
            host=host,
            advies="zet een proxy met TLS voor de codec-server; het verkeer bevat ontsleutelde gegevens",
        )
    if verifier is None:
        log.info(
            "codec_server_start",
            host=host,
            port=port,
            cors_origin=settings.codec_server_cors_origin,
            sleutels=codec.key_ids,
            web_ui_codec_endpoint=f"http://{host}:{port}{CAPABILITY_PREFIX}<THUISZITTERS_CODEC_SERVER_TOKEN>",
        )
    else:
        if settings.codec_server_token:
            log.warning(
                "codec_server_token_genegeerd",
                reden="met THUISZITTERS_CODEC_SERVER_OIDC_ISSUER opent alleen een OpenID-token de codec-server",
            )
        if verifier.issuer.startswith("http://") and urlsplit(verifier.issuer).hostname not in LOOPBACK:
            log.warning("codec_server_oidc_zonder_tls", issuer=verifier.issuer, advies="gebruik https voor de uitgever")
        log.info(
            "codec_server_start",
            host=host,
            port=port,
            cors_origin=settings.codec_server_cors_origin,
            sleutels=codec.key_ids,
            oidc_issuer=verifier.issuer,
            oidc_audience=verifier.audience,
            rollen=sorted(verifier.allowed_roles),
            web_ui_codec_endpoint=f"http://{host}:{port}",
            auditlog=bool(settings.database_url),
        )
        if not settings.database_url:
            log.warning(
                "codec_server_zonder_auditlog",
                advies="zet DATABASE_URL (het casusregister) zodat elke ontsleuteling in het auditlog komt",
            )
    database_url = settings.database_url if verifier is not None else None

    async def make_app() -> web.Application:
        audit = None if database_url is None else AuditLog(await _audit_pool(database_url))
        app = build_app(
            codec, settings.codec_server_token, settings.codec_server_cors_origin, verifier=verifier, audit=audit
        )

        async def close(_app: web.Application) -> None:
            if verifier is not None:
                await verifier.aclose()
            if audit is not None:
                await audit.pool.close()

        app.on_cleanup.append(close)
        return app

    try:
        web.run_app(make_app(), host=host, port=port, print=None, access_log_class=RedactingAccessLogger)
    except AuditlogOnbereikbaar as error:
        log.error("codec_server_auditlog_onbereikbaar", fout=str(error))
        sys.stderr.write(f"codec-server start niet: het auditlog is niet bereikbaar ({error})\n")
        return 2
    return 0


class AuditlogOnbereikbaar(Exception):
    """The audit log at ``DATABASE_URL`` cannot be written: the codec server does not start without it."""


async def _audit_pool(database_url: str) -> asyncpg.Pool[asyncpg.Record]:
    """A pool to the case register whose ``audit_log`` is there to write to (migration 005)."""
    try:
        pool = await asyncpg.create_pool(database_url, min_size=1, max_size=AUDIT_POOL_MAX)
    except (*AUDIT_ERRORS, ValueError) as error:
        raise AuditlogOnbereikbaar(type(error).__name__) from None
    try:
        await pool.execute("SELECT FROM audit_log LIMIT 0")
    except AUDIT_ERRORS as error:
        await pool.close()
        raise AuditlogOnbereikbaar(f"{type(error).__name__}: {error}") from None
    return pool


def _verifier(settings: Settings) -> TokenVerifier | None:
    """The OpenID check the settings ask for, or None (the static token opens the server)."""
    issuer = settings.codec_server_oidc_issuer
    if not issuer:
        return None
    roles = allowed_roles(settings.codec_server_oidc_rollen)
    if not roles:
        raise SettingsError(
            f"{Settings.variable('codec_server_oidc_rollen')} is leeg: noem de rollen die mogen ontsleutelen"
        )
    if not settings.codec_server_oidc_audience.strip():
        raise SettingsError(f"{Settings.variable('codec_server_oidc_audience')} is leeg")
    if urlsplit(issuer).scheme not in ("http", "https"):
        raise SettingsError(
            f"{Settings.variable('codec_server_oidc_issuer')}: moet een http(s)-URL zijn, niet '{issuer}'"
        )
    return TokenVerifier(issuer, settings.codec_server_oidc_audience.strip(), roles)


if __name__ == "__main__":
    raise SystemExit(main())
