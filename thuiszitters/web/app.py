"""The web application, the werkbak: its pages, its skeleton and its login (docs/people.md, "Login").

``create_app(settings, register)`` builds the Starlette application over a connected
:class:`~thuiszitters.register.store.Register`; ``thuiszitters-web`` (:mod:`thuiszitters.web.__main__`) runs it with
uvicorn. What is here:

========================  ==================================================================================
``GET /``                 "Mijn taken", the start page of a logged-in person (:mod:`thuiszitters.web.werkbak`)
``GET /zaken/...``        a case, and its actions (:mod:`thuiszitters.web.werkbak`)
``/aanmelden[/bestand]``  Nieuwe aanmelding: one pupil, or an intake file (:mod:`thuiszitters.web.aanmelding`)
``GET /regio``, ...       the team views of coordinator, Kerngroep and Leerplicht (:mod:`thuiszitters.web.teams`)
``GET /inloggen``         the login page: the button for the organisation's account, and the form for a local
                          account when those are switched on
``POST /inloggen/sso``    to the OpenID provider (authorization code with PKCE)
``GET /auth/callback``    back from the provider: check, store the person in the directory, start the session
``POST /inloggen``        log in with a local account
``POST /rol``             act in another of one's roles
``POST /uitloggen``       end the session
``/static/...``           the style sheet
========================  ==================================================================================

Every response carries the security headers of :class:`SecurityHeaders`; every POST needs the session's form token
(:class:`~thuiszitters.web.auth.CsrfMiddleware`). Login, refused login, logout and a session ended by the directory
are recorded in the audit log (channel ``web``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import urlsplit

import httpx
import jinja2
from argon2 import PasswordHasher
from authlib.common.errors import AuthlibBaseError  # type: ignore[import-untyped]
from authlib.integrations.base_client.errors import MismatchingStateError  # type: ignore[import-untyped]
from joserfc.errors import JoseError
from pydantic import ValidationError
from starlette.applications import Starlette
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import HTTPConnection, Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from temporalio.client import Client

from thuiszitters.logs import get_logger
from thuiszitters.people.audit import AuditLog
from thuiszitters.people.directory import Directory, Persoon, check_persoon_id
from thuiszitters.people.policy import Actor, ActorRole
from thuiszitters.register.store import Register
from thuiszitters.settings import Settings, SettingsError
from thuiszitters.web import aanmelding, auth, teams, werkbak
from thuiszitters.web.accounts import LocalAccounts
from thuiszitters.web.auth import (
    BEREIK,
    MELDING,
    ROL,
    UNKNOWN,
    CsrfMiddleware,
    NietIngelogd,
    Sessions,
    begin_session,
    csrf_token,
    current_login,
    end_session,
    scope_key,
)
from thuiszitters.web.zaken import ACTION_TIMEOUT, Zaken

if TYPE_CHECKING:
    from authlib.integrations.starlette_client import StarletteOAuth2App  # type: ignore[import-untyped]

log = get_logger(__name__)

HERE: Final = Path(__file__).resolve().parent
TEMPLATES: Final = HERE / "templates"
STATIC: Final = HERE / "static"
MIN_SECRET_LENGTH: Final = 32
COOKIE: Final = "thuiszitters"
SECURE_COOKIE: Final = "__Host-thuiszitters"
"""With https only, the ``__Host-`` prefix: the browser keeps the cookie only when it is Secure, for this host alone
and for every path."""

REFUSED_LOGIN: Final = (
    "Inloggen is niet gelukt. Controleer uw gebruikersnaam en wachtwoord. Na vijf mislukte pogingen kunt u een "
    "kwartier niet inloggen."
)
"""One message for every refused local login: a wrong password, an unknown name and a locked account look alike."""
NO_ROLE: Final = (
    "U heeft nog geen rol in het zaaksysteem; vraag uw beheerder om u een rol te geven. Daarna kunt u inloggen."
)


@dataclass(frozen=True)
class Web:
    """What the pages share: the settings, the register with its directory, audit log, accounts and sessions, the
    OpenID provider (None when not configured) and the templates."""

    settings: Settings
    register: Register
    directory: Directory
    audit: AuditLog
    accounts: LocalAccounts
    sessions: Sessions
    oidc: StarletteOAuth2App | None
    templates: Jinja2Templates
    zaken: Zaken
    task_queue: str

    @property
    def local_accounts(self) -> bool:
        return self.settings.web_lokale_accounts


# --------------------------------------------------------------------------------------------------- Dutch texts


def _list(items: list[str]) -> str:
    return ", ".join(items[:-1]) + " en " + items[-1] if len(items) > 1 else "".join(items)


def scope_in_words(actor: Actor) -> str:
    """Which cases the actor sees, as a plain Dutch sentence (the scope of docs/people.md, "Authorisation")."""
    rol = actor.rol
    scholen = sorted(actor.scholen)
    school_text = f"{'uw school' if len(scholen) == 1 else 'uw scholen'}: {_list(scholen)}" if scholen else ""
    regio = f"regio {actor.regio.value}" if actor.regio else ""
    if rol is ActorRole.SCHOOL:
        return f"U ziet de zaken van {school_text}."
    if rol is ActorRole.SCP:
        return f"U ziet de zaken in het primair onderwijs (PO) van {school_text}."
    if rol is ActorRole.KOERSLOKET:
        return "U ziet alle zaken in het voortgezet onderwijs (VO)."
    if rol in (ActorRole.LEERPLICHT, ActorRole.LEERPLICHT_ABSOLUUT_VERZUIM) and actor.alle:
        return "U ziet alle zaken."
    if rol is ActorRole.LEERPLICHT:
        return f"U ziet de zaken van {school_text}."
    if rol is ActorRole.LEERPLICHT_ABSOLUUT_VERZUIM:
        extra = f" en de zaken van {school_text}" if scholen else ""
        return f"U ziet de zaken van leerlingen die uit het buitenland komen{extra}."
    if rol in (ActorRole.COORDINATOR, ActorRole.OUDERFUNCTIONARIS):
        return f"U ziet de zaken in het primair onderwijs (PO) in {regio}."
    if rol is ActorRole.WIJKTEAM:
        extra = f", en in {regio} de zorgroutes en de zaken met een taak voor het wijkteam" if regio else ""
        return f"U ziet de zaken waarin uw wijkteam is ingeschakeld{extra}."
    if rol is ActorRole.TASKFORCE:
        if actor.alle:
            return "U volgt alle zaken, en werkt in de zaken die naar de Taskforce zijn opgeschaald."
        return "U ziet de zaken die naar de Taskforce zijn opgeschaald."
    return "U beheert de personen en het auditlog. U ziet geen dossiers van leerlingen."


# ------------------------------------------------------------------------------------------------------- pages


def render(request: Request, name: str, context: dict[str, Any] | None = None, status_code: int = 200) -> Response:
    """A page; the form token is made only when the page has a form that asks for it (``csrf()``)."""
    web = auth.web_of(request)
    ingelogd = getattr(request.state, "ingelogd", None)
    return web.templates.TemplateResponse(
        request,
        name,
        {"csrf": lambda: csrf_token(request), "ingelogd": ingelogd, **(context or {})},
        status_code=status_code,
    )


def message(request: Request, title: str, text: str, status_code: int) -> Response:
    return render(request, "melding.html", {"titel": title, "tekst": text}, status_code)


async def login_page(request: Request) -> Response:
    if request.session.get(auth.PERSOON):
        try:
            await current_login(request)
            return RedirectResponse("/", status_code=303)
        except NietIngelogd:
            pass
    return _login_form(request)


def _login_form(request: Request, fout: str | None = None, gebruiker: str = "", status_code: int = 200) -> Response:
    web = auth.web_of(request)
    melding = request.session.pop(MELDING, None)
    return render(
        request,
        "inloggen.html",
        {
            "sso": web.oidc is not None,
            "lokaal": web.local_accounts,
            "fout": fout,
            "melding": melding if isinstance(melding, str) else None,
            "gebruiker": gebruiker,
        },
        status_code,
    )


async def _refuse(request: Request, methode: str, code: str, persoon_id: str = UNKNOWN, rol: str = UNKNOWN) -> None:
    web = auth.web_of(request)
    await web.audit.record(
        persoon_id, rol, "web", "inloggen", None, "geweigerd", auth.audit_refusal_reason(methode, code)
    )
    log.info("web_inloggen_geweigerd", persoon_id=persoon_id, methode=methode, weigering=code)


async def _admit(request: Request, persoon: Persoon | None, methode: str) -> Response:
    """Log ``persoon`` in when the directory has them active with a role; else the page that says why not."""
    if persoon is None or not persoon.actief or not persoon.rollen:
        code = "geen_rol" if persoon is not None and persoon.actief else "inactief"
        await _refuse(request, methode, code, persoon.persoon_id if persoon else UNKNOWN)
        return message(request, "Geen toegang", NO_ROLE, 403)
    await begin_session(request, persoon, persoon.rollen[0], methode)
    return RedirectResponse("/", status_code=303)


def _provider_problem(request: Request) -> Response:
    return message(
        request,
        "Inloggen lukt nu niet",
        "De inlogdienst van uw organisatie is nu niet bereikbaar. Probeer het over een paar minuten opnieuw.",
        503,
    )


async def login_sso(request: Request) -> Response:
    web = auth.web_of(request)
    if web.oidc is None:
        raise HTTPException(404)
    try:
        metadata = await web.oidc.load_server_metadata()
        if metadata.get("issuer") != web.settings.web_oidc_issuer:
            log.error("web_oidc_issuer_anders", ingesteld=web.settings.web_oidc_issuer, gekregen=metadata.get("issuer"))
            await _refuse(request, "sso", "provider_onbruikbaar")
            return _provider_problem(request)
        response: Response = await web.oidc.authorize_redirect(request, _callback_url(request))
    except (httpx.HTTPError, ValueError, KeyError, RuntimeError) as error:
        log.warning("web_oidc_onbereikbaar", fout=type(error).__name__)
        await _refuse(request, "sso", "provider_onbereikbaar")
        return _provider_problem(request)
    return response


def _callback_url(request: Request) -> str:
    public = auth.web_of(request).settings.web_public_url
    if public:
        return public.rstrip("/") + "/auth/callback"
    return str(request.url_for("auth_callback"))


async def auth_callback(request: Request) -> Response:
    web = auth.web_of(request)
    if web.oidc is None:
        raise HTTPException(404)
    try:
        token = await web.oidc.authorize_access_token(
            request,
            claims_options={"iss": {"essential": True, "value": web.settings.web_oidc_issuer}},
            leeway=auth.OIDC_LEEWAY_SECONDS,
        )
    except MismatchingStateError:
        await _refuse(request, "sso", "state_ongeldig")
        return _failed(request, "Deze inlogpoging is verlopen of onbekend.")
    except httpx.HTTPError as error:
        log.warning("web_oidc_onbereikbaar", fout=type(error).__name__)
        await _refuse(request, "sso", "provider_onbereikbaar")
        return _provider_problem(request)
    except (AuthlibBaseError, JoseError, ValueError, KeyError, TypeError) as error:
        code = "provider_weigerde" if request.query_params.get("error") else "token_ongeldig"
        log.warning("web_oidc_geweigerd", fout=type(error).__name__, weigering=code)
        await _refuse(request, "sso", code)
        return _failed(request)
    claims = token.get("userinfo")
    try:
        persoon_id = check_persoon_id(str(claims["sub"])) if claims else None
    except ValueError:
        persoon_id = None
    if not claims or persoon_id is None:  # no ID token, or no person in it
        await _refuse(request, "sso", "token_ongeldig")
        return _failed(request)
    try:
        persoon = auth.person_from_claims(await web.directory.get(persoon_id), claims)
    except (ValidationError, ValueError):
        await _refuse(request, "sso", "token_ongeldig", persoon_id)
        return _failed(request)
    await web.directory.upsert(persoon)
    return await _admit(request, persoon, "sso")


def _failed(request: Request, why: str = "De inlogdienst gaf geen geldige login terug.") -> Response:
    return message(request, "Inloggen is niet gelukt", f"{why} Probeer opnieuw in te loggen.", 400)


async def login_local(request: Request) -> Response:
    web = auth.web_of(request)
    if not web.local_accounts:
        raise HTTPException(404)
    async with request.form(max_files=0, max_fields=10) as form:
        gebruiker = form.get("gebruikersnaam")
        wachtwoord = form.get("wachtwoord")
    gebruiker = gebruiker.strip() if isinstance(gebruiker, str) else ""
    wachtwoord = wachtwoord if isinstance(wachtwoord, str) else ""
    try:
        persoon_id = check_persoon_id(gebruiker)
    except ValueError:
        persoon_id = None
    check = await web.accounts.verify(persoon_id or "", wachtwoord)
    if not check:
        known = persoon_id is not None and check.uitkomst != "onbekend_account"
        await _refuse(request, "lokaal", check.uitkomst, persoon_id if known and persoon_id is not None else UNKNOWN)
        shown = gebruiker if len(gebruiker) <= 64 else ""
        return _login_form(request, REFUSED_LOGIN, shown, 401)
    assert persoon_id is not None
    return await _admit(request, await web.directory.get(persoon_id), "lokaal")


async def logout(request: Request) -> Response:
    ended = await end_session(request)
    request.session[MELDING] = "U bent uitgelogd." if ended else "U was al uitgelogd."
    return RedirectResponse("/inloggen", status_code=303)


async def choose_role(request: Request) -> Response:
    ingelogd = await current_login(request)
    async with request.form(max_files=0, max_fields=10) as form:
        wanted = form.get(BEREIK)
    scope = next((scope for scope in ingelogd.persoon.rollen if scope_key(scope) == wanted), None)
    if scope is None:
        return message(request, "Rol niet gevonden", "U heeft deze rol niet (meer). Kies een rol uit de lijst.", 400)
    request.session[ROL] = scope.rol.value
    request.session[BEREIK] = scope_key(scope)
    web = auth.web_of(request)
    await web.audit.record(ingelogd.persoon.persoon_id, scope.rol.value, "web", "rol_kiezen", None, "toegestaan")
    return RedirectResponse("/", status_code=303)


# ------------------------------------------------------------------------------------------------ errors, headers

_ERRORS: Final = {
    400: ("Verzoek niet begrepen", "Dit verzoek kon niet worden verwerkt. Ga terug en probeer het opnieuw."),
    403: (
        "Formulier geweigerd",
        "Dit formulier is verlopen of kwam niet van deze website. Ga terug, laad de pagina opnieuw en probeer het "
        "nog eens. Staan cookies uit in uw browser? Zet ze dan aan voor deze website.",
    ),
    404: ("Pagina niet gevonden", "Deze pagina bestaat niet. Ga naar de startpagina."),
    405: ("Dat kan hier niet", "Deze pagina kan dit verzoek niet aan. Ga naar de startpagina."),
    413: ("Te veel gegevens", "Het formulier bevatte te veel gegevens. Ga terug en probeer het opnieuw."),
    500: ("Er ging iets mis", "Er ging iets mis in het zaaksysteem. Probeer het later opnieuw."),
}


async def _error_page(request: Request, status_code: int) -> Response:
    title, text = _ERRORS.get(status_code, _ERRORS[400])
    try:
        return message(request, title, text, status_code)
    except Exception:  # the page itself failed: plain text, still Dutch
        return PlainTextResponse(f"{title}. {text}", status_code=status_code)


async def _http_error(request: Request, error: Exception) -> Response:
    status_code = error.status_code if isinstance(error, HTTPException) else 500
    return await _error_page(request, status_code)


async def _server_error(request: Request, error: Exception) -> Response:
    log.error("web_fout", fout=type(error).__name__, pad=request.url.path)
    return await _error_page(request, 500)


async def _not_logged_in(request: HTTPConnection, error: Exception) -> Response:
    reden = error.reden if isinstance(error, NietIngelogd) else None
    if reden == "verlopen":
        request.session[MELDING] = "Uw sessie is verlopen. Log opnieuw in."
    elif reden is not None:
        request.session[MELDING] = "U bent uitgelogd: u heeft geen rol meer in het zaaksysteem."
    return RedirectResponse("/inloggen", status_code=303)


class SecurityHeaders:
    """The headers every response carries: a content security policy (this site's own files only; forms post here
    or, for the login, to the provider), no framing, no referrer to other sites, no sniffing, and no caching of
    pages (they will hold personal data); with https only, HSTS too."""

    def __init__(self, app: ASGIApp, *, form_targets: tuple[str, ...] = (), hsts: bool = False) -> None:
        self.app = app
        targets = " ".join(("'self'", *form_targets))
        self.headers = {
            "Content-Security-Policy": (
                f"default-src 'self'; base-uri 'self'; object-src 'none'; frame-ancestors 'none'; form-action {targets}"
            ),
            "X-Frame-Options": "DENY",
            "Referrer-Policy": "same-origin",
            "X-Content-Type-Options": "nosniff",
            "Cross-Origin-Opener-Policy": "same-origin",
        }
        if hsts:
            self.headers["Strict-Transport-Security"] = "max-age=31536000"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        static = str(scope.get("path", "")).startswith("/static/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in self.headers.items():
                    headers[name] = value
                if not static:
                    headers["Cache-Control"] = "no-store"
            await send(message)

        await self.app(scope, receive, send_with_headers)


# --------------------------------------------------------------------------------------------------- the factory


def check_settings(settings: Settings) -> None:
    """What the web application needs to start; :class:`SettingsError` in Dutch naming the variable."""
    secret = settings.web_session_secret
    if not secret or len(secret) < MIN_SECRET_LENGTH:
        raise SettingsError(
            f"{Settings.variable('web_session_secret')} ontbreekt of is korter dan {MIN_SECRET_LENGTH} tekens: "
            "de webapplicatie ondertekent er de sessies mee"
        )
    issuer = settings.web_oidc_issuer
    if not issuer and not settings.web_lokale_accounts:
        raise SettingsError(
            f"niemand kan inloggen: zet {Settings.variable('web_oidc_issuer')} (de OpenID-provider) "
            f"of {Settings.variable('web_lokale_accounts')}=ja"
        )
    if issuer:
        if urlsplit(issuer).scheme not in ("http", "https"):
            raise SettingsError(f"{Settings.variable('web_oidc_issuer')}: moet een http(s)-URL zijn, niet '{issuer}'")
        if not settings.web_oidc_client_secret:
            raise SettingsError(
                f"{Settings.variable('web_oidc_client_secret')} ontbreekt: nodig met "
                f"{Settings.variable('web_oidc_issuer')}"
            )
        if not settings.web_oidc_client_id.strip():
            raise SettingsError(f"{Settings.variable('web_oidc_client_id')} is leeg")
    public = settings.web_public_url
    if public and (urlsplit(public).scheme not in ("http", "https") or not urlsplit(public).netloc):
        raise SettingsError(f"{Settings.variable('web_public_url')}: moet een http(s)-URL zijn, niet '{public}'")


def create_app(
    settings: Settings,
    register: Register,
    *,
    hasher: PasswordHasher | None = None,
    client: Client | None = None,
    task_queue: str | None = None,
    action_timeout: timedelta = ACTION_TIMEOUT,
) -> Starlette:
    """The web application over a connected register and a Temporal ``client`` (None: the pages read, but every
    action answers that the cases are not reachable). ``task_queue``: where new cases start (default: the
    settings'). ``hasher``: the local accounts' argon2 parameters (default: argon2-cffi's). :class:`SettingsError`
    when the settings do not let it run (see :func:`check_settings`)."""
    check_settings(settings)
    assert settings.web_session_secret is not None
    issuer = settings.web_oidc_issuer
    oidc = None
    if issuer:
        assert settings.web_oidc_client_secret is not None
        oidc = auth.oidc_client(issuer, settings.web_oidc_client_id.strip(), settings.web_oidc_client_secret)
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True, undefined=jinja2.StrictUndefined
    )
    environment.globals["menu"] = werkbak.menu
    environment.filters["tijdstip"] = werkbak.local_time
    environment.filters["datum"] = werkbak.day_text
    web = Web(
        settings=settings,
        register=register,
        directory=Directory(register.pool),
        audit=AuditLog(register.pool),
        accounts=LocalAccounts(register.pool, hasher),
        sessions=Sessions(register.pool),
        oidc=oidc,
        templates=Jinja2Templates(env=environment),
        zaken=Zaken(client, action_timeout),
        task_queue=task_queue or settings.task_queue,
    )
    issuer_origin = f"{urlsplit(issuer).scheme}://{urlsplit(issuer).netloc}" if issuer else None
    https_only = settings.web_https_only
    app = Starlette(
        routes=[
            Route("/", werkbak.my_tasks, methods=["GET"], name="start"),
            Route("/zaken/{case_id}", werkbak.case_page, methods=["GET"], name="zaak"),
            Route("/zaken/{case_id}/acties/{naam}", werkbak.act, methods=["POST"], name="actie"),
            Route("/inloggen", login_page, methods=["GET"], name="inloggen"),
            Route("/inloggen", login_local, methods=["POST"], name="inloggen_lokaal"),
            Route("/inloggen/sso", login_sso, methods=["POST"], name="inloggen_sso"),
            Route("/auth/callback", auth_callback, methods=["GET"], name="auth_callback"),
            Route("/uitloggen", logout, methods=["POST"], name="uitloggen"),
            Route("/rol", choose_role, methods=["POST"], name="rol"),
            *aanmelding.ROUTES,
            *teams.ROUTES,
            Mount("/static", app=StaticFiles(directory=STATIC), name="static"),
        ],
        middleware=[
            Middleware(SecurityHeaders, form_targets=(issuer_origin,) if issuer_origin else (), hsts=https_only),
            Middleware(
                SessionMiddleware,
                secret_key=settings.web_session_secret,
                session_cookie=SECURE_COOKIE if https_only else COOKIE,
                max_age=settings.web_session_max_age,
                same_site="lax",
                https_only=https_only,
            ),
            Middleware(CsrfMiddleware, refusal=_error_page),
        ],
        exception_handlers={
            HTTPException: _http_error,
            NietIngelogd: _not_logged_in,
            500: _server_error,
        },
    )
    app.state.web = web
    return app
