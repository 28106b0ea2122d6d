"""Who is logged in to the web application, and how they got there (docs/people.md, "Login").

- **Sessions.** The browser holds a cookie signed by Starlette's ``SessionMiddleware`` (itsdangerous) with the
  person's ``persoon_id``, the role they act in (``rol``, and ``bereik``: which of their scopes of that role), the
  moment of login, a random session key and the form token (CSRF). The register keeps the SHA-256 digest of the
  session key (``web_sessies``, migration 006): logging out ends it there, so a copied cookie opens nothing
  afterwards, and no session outlives ``THUISZITTERS_WEB_SESSION_MAX_AGE`` counted from the login, however busy.
- **The actor.** :func:`current_actor` rebuilds the :class:`~thuiszitters.people.policy.Actor` from the directory on
  every request: a person made inactive, or whose role was taken away, is logged out at their next click; a scope
  changed in the directory counts at once. The session names a role, never what it may do.
- **Forms.** Every form carries the session's token in a hidden field ``csrf``; :class:`CsrfMiddleware` refuses every
  POST (and PUT, PATCH, DELETE) whose token is missing or wrong, before any page sees it.
- **OpenID Connect.** :func:`oidc_client` registers the provider with authlib's Starlette integration (authorization
  code, PKCE S256, state and nonce in the session, the ID token checked against the issuer's keys). Who logged in is
  taken from the ID token's claims and stored in the directory by :func:`person_from_claims`: the rule for their
  roles is in its docstring.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
import warnings
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Final

import asyncpg
from pydantic import ValidationError
from starlette.requests import HTTPConnection, Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from thuiszitters.logs import get_logger
from thuiszitters.people.directory import (
    SCOPE_OF_ROLE,
    Bereik,
    Persoon,
    PersoonRol,
    RolScope,
    actor_for,
    check_email,
    check_naam,
    check_persoon_id,
)
from thuiszitters.people.policy import Actor
from thuiszitters.people.tokens import claimed_roles

if TYPE_CHECKING:
    from thuiszitters.web.app import Web

with warnings.catch_warnings():
    # authlib announces that its HTTP client will move to the package httpx2; until this project takes that package,
    # authlib runs on httpx as it does now, so the notice would only clutter every start of the web application.
    warnings.filterwarnings("ignore", message="The httpx module is deprecated", category=DeprecationWarning)
    from authlib.integrations.starlette_client import OAuth, StarletteOAuth2App  # type: ignore[import-untyped]

log = get_logger(__name__)

CSRF_FIELD: Final = "csrf"
"""The hidden field of every form that holds the session's token."""
CSRF_HEADER: Final = "x-csrf-token"
"""The same token in a header, for requests that are not forms."""
SAFE_METHODS: Final = frozenset({"GET", "HEAD", "OPTIONS"})
MAX_FORM_BYTES: Final = 64 * 1024
"""The largest body a POST may have (a path of :data:`UPLOADS` excepted): the forms are small."""
MAX_UPLOAD_BYTES: Final = 1024 * 1024
"""The largest file an upload form takes (the intake file of "Nieuwe aanmelding"); its page says so of a larger one."""
UPLOADS: Final[Mapping[str, int]] = MappingProxyType({"/aanmelden/bestand": 2 * MAX_UPLOAD_BYTES})
"""The paths whose POST carries a file (one), with the largest body each may have instead of
:data:`MAX_FORM_BYTES`: room for a file somewhat over :data:`MAX_UPLOAD_BYTES`, so that the page itself can say what
is wrong with it; a larger body gets the general refusal."""
OIDC_SCOPE: Final = "openid profile email rol"
OIDC_LEEWAY_SECONDS: Final = 30
HTTP_TIMEOUT_SECONDS: Final = 10.0
UNKNOWN: Final = "onbekend"
"""Who and which role the audit log records for a refused login whose person is not known (or not to be trusted)."""
SCOPE_CLAIMS: Final = tuple(kind.value for kind in Bereik)
"""The claims that can give a role its scope: ``scholen`` (BRIN codes, a list or separated by spaces, commas or
semicolons), ``regio`` (Noord or Zuid), ``sector`` (VO) and ``alle`` (true)."""

# The keys of the session cookie.
PERSOON: Final = "persoon_id"
ROL: Final = "rol"
BEREIK: Final = "bereik"
INGELOGD_OP: Final = "ingelogd_op"
SESSIE: Final = "sessie"
CSRF: Final = "csrf"
MELDING: Final = "melding"


class NietIngelogd(Exception):
    """The request has no (longer a) logged-in person; the application sends the browser to the login page."""

    def __init__(self, reden: str | None = None) -> None:
        super().__init__(reden or "niet ingelogd")
        self.reden = reden


@dataclass(frozen=True)
class Ingelogd:
    """The logged-in person of a request: the actor the policy decides for, the person as the directory has them,
    and the scope of the role they act in (one of ``persoon.rollen``)."""

    actor: Actor
    persoon: Persoon
    scope: RolScope
    ingelogd_op: int


# ----------------------------------------------------------------------------------------------- roles and scopes


def scope_key(scope: RolScope) -> str:
    """A role with its scope as one short text, to name it in the session and in a form."""
    return "|".join(
        (scope.rol.value, ",".join(scope.scholen), scope.regio or "", scope.sector or "", "alle" if scope.alle else "")
    )


def choose_scope(persoon: Persoon, rol: object, key: object = None) -> RolScope | None:
    """The scope a session acts in: the one named by ``key`` when the person still holds it, else their first of
    role ``rol`` (the directory may have changed the scope since the login), else None: the role is gone."""
    same_role = [scope for scope in persoon.rollen if scope.rol.value == rol]
    return next((scope for scope in same_role if scope_key(scope) == key), same_role[0] if same_role else None)


# ------------------------------------------------------------------------------------------------- the claims


def _scope_claims(claims: Mapping[str, Any]) -> dict[str, Any]:
    given: dict[str, Any] = {}
    scholen = claims.get("scholen")
    if isinstance(scholen, str):
        scholen = [part for part in re.split(r"[\s,;]+", scholen) if part]
    if isinstance(scholen, list) and scholen and all(isinstance(brin, str) for brin in scholen):
        given[Bereik.SCHOLEN.value] = tuple(scholen)
    for kind in (Bereik.REGIO, Bereik.SECTOR):
        if isinstance(value := claims.get(kind.value), str) and value.strip():
            given[kind.value] = value
    if claims.get(Bereik.ALLE.value) is True:
        given[Bereik.ALLE.value] = True
    return given


def roles_from_claims(claims: Mapping[str, Any]) -> tuple[RolScope, ...]:
    """The roles of the claims that come with a scope the directory can hold: for each role named, the one scope
    claim that fits it (:data:`SCOPE_CLAIMS`; ``scholen`` for an SCP, ``regio`` for a coordinator, ...). A role
    without such a claim, with more than one, or with a value the directory refuses, is left out; so is
    ``beheerder`` (the beheerder's rights come from the directory file only) and any name that is not a role."""
    scope_claims = _scope_claims(claims)
    found: list[RolScope] = []
    for name in claimed_roles(claims):
        try:
            rol = PersoonRol(name)
        except ValueError:
            continue
        if rol is PersoonRol.BEHEERDER:
            continue
        fitting = {kind.value: scope_claims[kind.value] for kind in SCOPE_OF_ROLE[rol] if kind.value in scope_claims}
        if len(fitting) != 1:
            continue
        try:
            found.append(RolScope(rol=rol, **fitting))
        except ValidationError:
            continue
    return tuple(found)


def _valid(check: Callable[[str], str], value: object) -> str | None:
    if not isinstance(value, str):
        return None
    try:
        return check(value)
    except ValueError:
        return None


def person_from_claims(existing: Persoon | None, claims: Mapping[str, Any]) -> Persoon:
    """The person to store in the directory for an OpenID login (``bron`` 'oidc'), from the ID token's claims.

    - ``sub`` is the ``persoon_id``; the caller has checked it.
    - ``name`` and ``email`` (unless ``email_verified`` is false) replace what the directory had, when they are
      valid; otherwise the directory's stay (a new person without a name gets their ``persoon_id`` as one).
    - **Roles and scope.** A person the directory knows keeps exactly the roles, scopes and active state the
      directory has for them: the provider says who someone is, the directory file (``thuiszitters-personen``)
      what they may do. A person it does not know gets the roles of the claims that come with a scope claim the
      directory can hold (:func:`roles_from_claims`), and no others: a role without a scope would say nothing of
      which cases are theirs. Without any, they are stored without a role and may not log in until a beheerder
      gives them one.
    """
    persoon_id = check_persoon_id(str(claims["sub"]))
    naam = _valid(check_naam, claims.get("name"))
    email = None if claims.get("email_verified") is False else _valid(check_email, claims.get("email"))
    if existing is not None:
        return Persoon(
            persoon_id=persoon_id,
            naam=naam or existing.naam,
            email=email or existing.email,
            actief=existing.actief,
            bron="oidc",
            rollen=existing.rollen,
        )
    return Persoon(
        persoon_id=persoon_id,
        naam=naam or persoon_id,
        email=email,
        actief=True,
        bron="oidc",
        rollen=roles_from_claims(claims),
    )


def oidc_client(issuer: str, client_id: str, client_secret: str) -> StarletteOAuth2App:
    """The provider, registered with authlib's Starlette integration: authorization code with PKCE (S256); authlib
    keeps state, nonce and the code verifier in the session until the callback, and checks the ID token's signature
    (the issuer's JWKS), ``iss``, ``aud``, ``exp``, ``iat``, ``nonce`` and ``at_hash``."""
    oauth = OAuth()
    client: StarletteOAuth2App = oauth.register(
        name="thuiszitters",
        client_id=client_id,
        client_secret=client_secret,
        server_metadata_url=f"{issuer.rstrip('/')}/.well-known/openid-configuration",
        client_kwargs={"scope": OIDC_SCOPE, "code_challenge_method": "S256", "timeout": HTTP_TIMEOUT_SECONDS},
    )
    return client


# ----------------------------------------------------------------------------------------------------- sessions


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class Sessions:
    """The sessions of the web application in the register (``web_sessies``): only the digest of each key."""

    def __init__(self, pool: asyncpg.Pool[asyncpg.Record]) -> None:
        self.pool = pool

    async def start(self, persoon_id: str, max_age_seconds: int) -> str:
        """A new session for ``persoon_id``, valid for ``max_age_seconds``; its key (for the cookie only)."""
        token = secrets.token_urlsafe(32)
        async with self.pool.acquire() as connection:
            await connection.execute("DELETE FROM web_sessies WHERE verloopt_op < now() - interval '1 day'")
            await connection.execute(
                """
                INSERT INTO web_sessies (sessie_digest, persoon_id, verloopt_op)
                VALUES ($1, $2, now() + make_interval(secs => $3))
                """,
                _digest(token),
                persoon_id,
                float(max_age_seconds),
            )
        return token

    async def active(self, token: str, persoon_id: str) -> bool:
        """Whether the session of this key is ``persoon_id``'s, has not ended and has not run out."""
        return bool(
            await self.pool.fetchval(
                """
                SELECT EXISTS (
                    SELECT FROM web_sessies
                    WHERE sessie_digest = $1 AND persoon_id = $2 AND beeindigd_op IS NULL AND verloopt_op > now())
                """,
                _digest(token),
                persoon_id,
            )
        )

    async def end(self, token: str) -> bool:
        """End the session of this key; False when it had ended or run out already."""
        result = await self.pool.execute(
            """
            UPDATE web_sessies SET beeindigd_op = now()
            WHERE sessie_digest = $1 AND beeindigd_op IS NULL AND verloopt_op > now()
            """,
            _digest(token),
        )
        return result == "UPDATE 1"

    async def end_all(self, persoon_id: str) -> int:
        """End every session of a person (all their browsers); how many were open."""
        result = await self.pool.execute(
            "UPDATE web_sessies SET beeindigd_op = now() WHERE persoon_id = $1 AND beeindigd_op IS NULL", persoon_id
        )
        return int(result.split()[-1])


def web_of(connection: HTTPConnection) -> Web:
    web: Web = connection.app.state.web
    return web


def csrf_token(request: HTTPConnection) -> str:
    """The session's form token, made on first use."""
    token = request.session.get(CSRF)
    if not isinstance(token, str) or not token:
        token = secrets.token_urlsafe(32)
        request.session[CSRF] = token
    return token


async def begin_session(request: Request, persoon: Persoon, scope: RolScope, methode: str) -> None:
    """Log ``persoon`` in, acting in ``scope``: a new session (nothing of the session before it survives, not even
    its form token) and one audit row."""
    web = web_of(request)
    token = await web.sessions.start(persoon.persoon_id, web.settings.web_session_max_age)
    request.session.clear()
    request.session.update(
        {
            PERSOON: persoon.persoon_id,
            ROL: scope.rol.value,
            BEREIK: scope_key(scope),
            INGELOGD_OP: int(time.time()),
            SESSIE: token,
            CSRF: secrets.token_urlsafe(32),
        }
    )
    await web.audit.record(persoon.persoon_id, scope.rol.value, "web", "inloggen", None, "toegestaan", methode)
    log.info("web_ingelogd", persoon_id=persoon.persoon_id, rol=scope.rol.value, methode=methode)


async def end_session(request: Request) -> bool:
    """Log out: the session ends in the register and the cookie is emptied; an audit row when a session was open.
    False when there was none."""
    web = web_of(request)
    persoon_id, rol, token = (request.session.get(key) for key in (PERSOON, ROL, SESSIE))
    ended = isinstance(token, str) and await web.sessions.end(token)
    request.session.clear()
    if ended and isinstance(persoon_id, str):
        await web.audit.record(persoon_id, str(rol or UNKNOWN), "web", "uitloggen", None, "toegestaan")
        log.info("web_uitgelogd", persoon_id=persoon_id, rol=rol)
    return ended


async def current_login(request: HTTPConnection) -> Ingelogd:
    """The logged-in person of this request, rebuilt from the directory (once per request), or
    :class:`NietIngelogd`. A session whose person is no longer active, or no longer holds the role, is ended here,
    with an audit row (``sessie_beeindigd``, refused, reason ``inactief`` or ``geen_rol``)."""
    cached = getattr(request.state, "ingelogd", None)
    if isinstance(cached, Ingelogd):
        return cached
    session = request.session
    persoon_id, rol, token = (session.get(key) for key in (PERSOON, ROL, SESSIE))
    if not isinstance(persoon_id, str) or not isinstance(token, str):
        raise NietIngelogd()
    web = web_of(request)
    if not await web.sessions.active(token, persoon_id):
        session.clear()
        raise NietIngelogd("verlopen")
    persoon = await web.directory.get(persoon_id)
    scope = None if persoon is None or not persoon.actief else choose_scope(persoon, rol, session.get(BEREIK))
    if persoon is None or scope is None:
        reden = "inactief" if persoon is None or not persoon.actief else "geen_rol"
        await web.sessions.end(token)
        session.clear()
        await web.audit.record(persoon_id, str(rol or UNKNOWN), "web", "sessie_beeindigd", None, "geweigerd", reden)
        log.info("web_sessie_beeindigd", persoon_id=persoon_id, rol=rol, weigering=reden)
        raise NietIngelogd(reden)
    if session.get(BEREIK) != scope_key(scope):
        session[BEREIK] = scope_key(scope)
    moment = session.get(INGELOGD_OP)
    ingelogd = Ingelogd(
        actor=actor_for(persoon.persoon_id, scope),
        persoon=persoon,
        scope=scope,
        ingelogd_op=moment if isinstance(moment, int) else 0,
    )
    request.state.ingelogd = ingelogd
    return ingelogd


async def current_actor(request: HTTPConnection) -> Actor:
    """The policy's actor of this request (see :func:`current_login`); :class:`NietIngelogd` when there is none."""
    return (await current_login(request)).actor


# --------------------------------------------------------------------------------------------------------- CSRF


class CsrfMiddleware:
    """Refuses every request that may change something (not GET, HEAD or OPTIONS) unless it carries the session's
    form token: the form field ``csrf`` (form bodies) or the header ``X-CSRF-Token``. It reads the body (at most
    :data:`MAX_FORM_BYTES`, or what ``uploads`` gives a path that takes a file) and hands it on unchanged.
    ``refusal`` makes the 403 page, and the 413 page of a body that is too large."""

    def __init__(
        self,
        app: ASGIApp,
        refusal: Callable[[Request, int], Awaitable[Response]],
        uploads: Mapping[str, int] = UPLOADS,
    ) -> None:
        self.app = app
        self.refusal = refusal
        self.uploads = uploads

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in SAFE_METHODS:
            await self.app(scope, receive, send)
            return
        upload = self.uploads.get(str(scope.get("path", "")))
        limit = MAX_FORM_BYTES if upload is None else upload
        body = bytearray()
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body += message.get("body", b"")
            if len(body) > limit:
                await (await self.refusal(Request(scope, _replay(b"", receive)), 413))(scope, receive, send)
                return
            more = message.get("more_body", False)
        request = Request(scope, _replay(bytes(body), receive))
        expected = request.session.get(CSRF)
        given = request.headers.get(CSRF_HEADER) or await _form_token(request, files=0 if upload is None else 1)
        if not (isinstance(expected, str) and expected and given and _same(expected, given)):
            log.warning("web_csrf_geweigerd", pad=scope.get("path"), met_sessie=bool(expected), met_token=bool(given))
            await (await self.refusal(request, 403))(scope, receive, send)
            return
        await self.app(scope, _replay(bytes(body), receive), send)


def _same(expected: str, given: str) -> bool:
    return hmac.compare_digest(expected.encode("utf-8"), given.encode("utf-8", "surrogatepass"))


async def _form_token(request: Request, files: int = 0) -> str | None:
    content_type = request.headers.get("content-type", "")
    if not content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        return None
    try:
        async with request.form(max_files=files, max_fields=100) as form:
            value = form.get(CSRF_FIELD)
    except Exception:  # a body that is no form: no token
        return None
    return value if isinstance(value, str) else None


def _replay(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that gives ``body`` once, then waits for what the client does next (a disconnect)."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


def audit_refusal_reason(methode: str, code: str) -> str:
    """The audit log's reason for a refused login: the way in and a code (``sso: geen_rol``)."""
    return f"{methode}: {code}"
