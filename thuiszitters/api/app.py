"""The API for other services: ``/api/v1``, JSON, OpenAPI 3.1 generated from the contract's models
(``/api/openapi.json``); docs/api.md shows a complete integration.

=================================================  ==============================================================
``POST /api/v1/token``                             OAuth2 client credentials: a short-lived access token
``POST /api/v1/zaken``                             start a case (one ``Aanmelding``)
``GET  /api/v1/zaken/{leerling_ref}``              a case's status (the contract's ``CaseStatus``)
``POST /api/v1/zaken/{leerling_ref}/{gebeurtenis}``  send an event by its contract name: the new status, or a refusal
``GET  /api/v1/zaken/{leerling_ref}/tijdlijn``     one page of a case's timeline, from the register
``GET  /api/v1/taken``                             open tasks within the client's scope: by role, school, overdue
=================================================  ==============================================================

Every request but the token's carries a bearer token (:mod:`thuiszitters.api.clients`); the client's role and
scope are decided by the policy of step 12, its events by its own list, and every request is recorded in the audit
log (channel ``api``). Errors are ``application/problem+json`` in Dutch (:mod:`thuiszitters.api.problems`). A body
larger than :data:`MAX_BODY` is refused with 413 before anything reaches Temporal; each client has its rate limit
(429 with ``Retry-After``); an ``Idempotency-Key`` makes a retried request return the first answer
(:mod:`thuiszitters.api.idempotentie`).
"""

import base64
import binascii
import json
import re
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Annotated, Any, Final, Literal, TypeVar

import asyncpg
from fastapi import BackgroundTasks, Body, Depends, FastAPI, Header, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse, Response
from limits import RateLimitItemPerMinute
from limits.aio.storage import MemoryStorage
from limits.aio.strategies import SlidingWindowCounterRateLimiter
from pydantic import BaseModel, Field, ValidationError, create_model
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from temporalio.client import Client, WorkflowQueryFailedError
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError

from thuiszitters.api.clients import ApiClient, ApiClients, ClientFout, TokenSigner
from thuiszitters.api.idempotentie import KEY, KEY_PATTERN, AnderVerzoek, Idempotentie, NogBezig, request_hash
from thuiszitters.api.problems import (
    PROBLEM_JSON,
    ApiProbleem,
    Probleem,
    Veldfout,
    field_errors,
    field_path,
    summary,
)
from thuiszitters.cases import start_case
from thuiszitters.logs import get_logger
from thuiszitters.people.audit import AuditLog
from thuiszitters.people.policy import CaseFacts, Decision, decide, scope_filter, with_sender
from thuiszitters.people.tokens import TokenFout, TokenVerifier
from thuiszitters.register import werkbak as lists
from thuiszitters.register.latest import LatestCase, LatestCases
from thuiszitters.register.store import Register
from thuiszitters.settings import Settings
from thuiszitters.web.aanmelding import wait_for_case
from thuiszitters.web.zaken import Afgewezen, Onbereikbaar, Zaken
from workflows.contract import (
    EVENTS,
    LEERLING_REF_PATTERN,
    CaseStatus,
    Door,
    NieuweAanmelding,
)

log = get_logger(__name__)

MAX_BODY: Final = 64 * 1024
"""The largest request body: far above any event the contract allows, far below what would stall a case."""
RETRY_AFTER_UNREACHABLE: Final = "30"
ACTIONS_TIMEOUT: Final = timedelta(seconds=10)
TOKEN_PATH: Final = "/v1/token"

Model = TypeVar("Model", bound=BaseModel)
LeerlingRefPad = Annotated[
    str, Path(pattern=LEERLING_REF_PATTERN, description="De pseudonieme referentie van de leerling.")
]
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        # documented, not enforced by FastAPI: a malformed key is answered with 400 and the API's own message
        json_schema_extra={"pattern": KEY_PATTERN},
        description="Maakt het verzoek herhaalbaar: hetzelfde verzoek met dezelfde sleutel geeft het eerste "
        "antwoord terug, zonder tweede gebeurtenis (24 uur). Dezelfde sleutel met een ander verzoek wordt "
        "geweigerd.",
    ),
]


# ------------------------------------------------------------------------------------------------------ models


class TokenAntwoord(BaseModel):
    access_token: str
    token_type: Literal["Bearer"] = "Bearer"
    expires_in: int = Field(description="Seconden dat het token geldig is.")


class TokenFoutAntwoord(BaseModel):
    """An error of the token endpoint, as OAuth2 (RFC 6749, section 5.2) prescribes."""

    error: Literal["invalid_request", "invalid_client", "unsupported_grant_type", "temporarily_unavailable"]
    error_description: str


class ZaakGestart(BaseModel):
    leerling_ref: str
    case_id: str = Field(description="De zaak in het zaakregister: '<workflow-id>:<eerste run-id>'.")
    status_url: str


class TijdlijnRegel(BaseModel):
    volgnummer: int
    tijd: datetime
    gebeurtenis: str
    door: str | None
    fase: int
    regiehouder: str
    escalatie: str


class TijdlijnPagina(BaseModel):
    leerling_ref: str
    case_id: str
    pagina: int
    per_pagina: int
    totaal: int = Field(description="Het aantal regels van de hele tijdlijn.")
    regels: list[TijdlijnRegel] = Field(description="Nieuwste eerst.")


class OpenTaak(BaseModel):
    leerling_ref: str
    case_id: str
    taak_id: str | None
    rol: str
    taak: str
    omschrijving: str | None
    uiterlijk: date | None
    te_laat: bool
    toegewezen_aan: str | None
    school_brin: str | None
    sector: str
    regio: str
    fase: int


class TakenLijst(BaseModel):
    taken: list[OpenTaak]
    aantal: int


# ------------------------------------------------------------------------------------------------- the service


@dataclass
class Api:
    settings: Settings
    register: Register
    clients: ApiClients
    signer: TokenSigner | None
    verifier: TokenVerifier | None
    idempotentie: Idempotentie
    limiter: SlidingWindowCounterRateLimiter
    audit: AuditLog
    zaken: Zaken
    client: Client | None
    task_queue: str
    latest: LatestCases
    """Each pupil's latest case as the policy reads it: kept in memory once started, else read from the register."""


def api_of(request: Request) -> Api:
    api: Api = request.app.state.api
    return api


async def authenticated(request: Request) -> ApiClient:
    """The client of the request's bearer token, within its rate limit; else 401, 429 or 503."""
    api = api_of(request)
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    challenge = {"WWW-Authenticate": 'Bearer realm="thuiszitters"'}
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiProbleem(
            401, "niet-geauthenticeerd", "Stuur een access token mee: Authorization: Bearer <token>.", headers=challenge
        )
    token = token.strip()
    client_id: str | None = None
    try:
        if api.signer is not None and TokenSigner.looks_like_ours(token):
            client_id = api.signer.read(token)
        elif api.verifier is not None:
            verified = await api.verifier.verify(token)
            client_id = verified.client_id or verified.persoon_id
    except ClientFout as error:
        raise ApiProbleem(401, "niet-geauthenticeerd", f"Niet aangemeld: {error}.", headers=challenge) from None
    except TokenFout as error:
        if error.status == 503:
            raise ApiProbleem(
                503,
                "niet-bereikbaar",
                f"De inlogdienst is niet bereikbaar: {error.reden}",
                headers={"Retry-After": RETRY_AFTER_UNREACHABLE},
            ) from None
        raise ApiProbleem(401, "niet-geauthenticeerd", f"Niet aangemeld: {error.reden}", headers=challenge) from None
    if client_id is None:
        raise ApiProbleem(401, "niet-geauthenticeerd", "Niet aangemeld: het token is ongeldig.", headers=challenge)
    client = await api.clients.get(client_id)
    if client is None:
        raise ApiProbleem(
            401, "niet-geauthenticeerd", "Niet aangemeld: deze client is onbekend of uitgeschakeld.", headers=challenge
        )
    limit = RateLimitItemPerMinute(client.per_minuut)
    if not await api.limiter.hit(limit, client.client_id):
        stats = await api.limiter.get_window_stats(limit, client.client_id)
        wait = max(1, int(stats.reset_time - datetime.now().timestamp()) + 1)
        raise ApiProbleem(
            429,
            "te-veel-verzoeken",
            f"Deze client mag {client.per_minuut} verzoeken per minuut doen; probeer het over {wait} seconden opnieuw.",
            headers={"Retry-After": str(wait)},
        )
    request.state.client = client
    return client


Authenticated = Annotated[ApiClient, Depends(authenticated)]


async def _audit(api: Api, client: ApiClient, actie: str, case_id: str | None, decision: Decision | None) -> None:
    allowed = decision is None or decision.allowed
    await api.audit.record(
        client.audit_id,
        client.rol.value,
        "api",
        actie,
        case_id,
        "toegestaan" if allowed else "geweigerd",
        None if decision is None or allowed else decision.reden[:500],
    )


async def _audit_later(api: Api, client: ApiClient, actie: str, case_id: str) -> None:
    """The allowed row of an event the case took, after the answer went out; a failure is logged (the event
    stands, and the answer was true)."""
    try:
        await _audit(api, client, actie, case_id, None)
    except (OSError, asyncpg.PostgresError, TimeoutError) as error:
        log.error("api_audit_niet_vastgelegd", client=client.client_id, actie=actie, oorzaak=type(error).__name__)


def _refused(decision: Decision) -> ApiProbleem:
    return ApiProbleem(403, "geen-toegang", decision.reden[:1].upper() + decision.reden[1:] + ".")


async def _case(api: Api, client: ApiClient, leerling_ref: str, actie: str) -> tuple[LatestCase, CaseFacts]:
    """The pupil's latest case and its facts, decided for ``actie``; 404 when the register does not know it (or
    the client may not know that it exists), 403 when the client may not do this in it."""
    case = await api.latest.get(leerling_ref)
    facts = case.facts if case is not None else None
    if case is None or facts is None or not decide(client.actor, "zaak_lezen", facts):
        await _audit(
            api,
            client,
            actie,
            case.case_id if case else None,
            Decision(allowed=False, reden="zaak niet gevonden of buiten de toegang"),
        )
        raise ApiProbleem(404, "niet-gevonden", f"Geen zaak gevonden voor leerling {leerling_ref}.")
    return case, facts


# ---------------------------------------------------------------------------------------------------- routes


async def token_endpoint(request: Request) -> JSONResponse:
    """OAuth2 client credentials (RFC 6749, section 4.4): ``grant_type=client_credentials`` with the client's id
    and secret in HTTP Basic or in the form (``client_id``, ``client_secret``)."""
    api = api_of(request)

    def fout(status: int, error: str, text: str) -> JSONResponse:
        headers = {"Cache-Control": "no-store"}
        if status == 401:
            headers["WWW-Authenticate"] = 'Basic realm="thuiszitters"'
        return JSONResponse({"error": error, "error_description": text}, status_code=status, headers=headers)

    if api.signer is None:
        return fout(
            400,
            "unsupported_grant_type",
            "Deze API geeft zelf geen tokens uit; vraag een token aan bij de OpenID-provider van de gemeente.",
        )
    if not request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        return fout(400, "invalid_request", "Stuur het verzoek als application/x-www-form-urlencoded.")
    try:
        async with request.form(max_files=0, max_fields=10) as form:
            fields = {key: value for key, value in form.items() if isinstance(value, str)}
    except StarletteHTTPException:
        return fout(400, "invalid_request", "Het formulier is niet te lezen.")
    if fields.get("grant_type") != "client_credentials":
        return fout(400, "unsupported_grant_type", "Alleen grant_type=client_credentials kan hier.")
    client_id, secret = fields.get("client_id", ""), fields.get("client_secret", "")
    scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "basic":
        try:
            basic_id, _, basic_secret = base64.b64decode(encoded.strip(), validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return fout(401, "invalid_client", "De Basic-aanmelding is niet te lezen.")
        if client_id and client_id != basic_id:
            return fout(400, "invalid_request", "client_id in het formulier en in de aanmelding verschillen.")
        client_id, secret = basic_id, basic_secret
    if not client_id or not secret:
        return fout(401, "invalid_client", "Noem client_id en client_secret.")
    client = await api.clients.check_secret(client_id, secret)
    if client is None:
        await api.audit.record(
            f"api:{client_id[:60]}" if re.fullmatch(r"[a-z0-9][a-z0-9_.-]{1,62}", client_id) else "api:onbekend",
            "onbekend",
            "api",
            "token",
            None,
            "geweigerd",
            "client onbekend of geheim onjuist",
        )
        return fout(401, "invalid_client", "Deze client is onbekend of het geheim klopt niet.")
    issued = api.signer.issue(client)
    await api.audit.record(client.audit_id, client.rol.value, "api", "token", None, "toegestaan")
    return JSONResponse(
        {"access_token": issued.access_token, "token_type": "Bearer", "expires_in": issued.expires_in},
        headers={"Cache-Control": "no-store"},
    )


async def start(
    request: Request,
    client: Authenticated,
    body: Annotated[dict[str, Any], Body()],
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """Start a pupil's case. 201 with where to find it, once the register has it (202 when it is not there yet
    after a few seconds: started, the status follows); 409 when the pupil has an open case."""
    api = api_of(request)
    aanmelding = _strictly(NieuweAanmelding, body)

    async def handle() -> tuple[int, Any]:
        facts = CaseFacts(
            sector=aanmelding.sector,
            regio=aanmelding.regio,
            school_brin=aanmelding.school_brin,
            uit_buitenland=aanmelding.uit_buitenland,
        )
        decision = decide(client.actor, "zaak_starten", facts)
        if decision and not client.mag_starten:
            decision = Decision(allowed=False, reden=f"client {client.client_id} mag geen zaken starten")
        if not decision:
            await _audit(api, client, "zaak_starten", None, decision)
            raise _refused(decision)
        if api.client is None:
            raise _unreachable()
        try:
            handle = await start_case(api.client, aanmelding, api.task_queue)
        except WorkflowAlreadyStartedError:
            await _audit(api, client, "zaak_starten", None, Decision(allowed=False, reden="er loopt al een zaak"))
            raise ApiProbleem(
                409, "bestaat-al", f"Voor leerling {aanmelding.leerling_ref} loopt al een zaak."
            ) from None
        except RPCError as error:
            log.warning("api_start_onbereikbaar", status=error.status.name)
            raise _unreachable() from None
        case_id = f"{handle.id}:{handle.result_run_id}"
        await _audit(api, client, "zaak_starten", case_id, None)
        # the worker records the case in the register just after the start; its status URL answers from then on
        recorded = await wait_for_case(api.register.pool, case_id)
        body = ZaakGestart(
            leerling_ref=aanmelding.leerling_ref,
            case_id=case_id,
            status_url=f"/api/v1/zaken/{aanmelding.leerling_ref}",
        )
        return (201 if recorded else 202), body.model_dump(mode="json")

    return await _once(request, client, idempotency_key, handle)


def _strictly(model: type[Model], body: dict[str, Any]) -> Model:
    """``body`` as ``model``, strictly as the document describes it: a date is a text 'JJJJ-MM-DD' (not a number of
    seconds), true is true (not "true" or 1), a number is a number (not a text); else 422 with each field."""
    try:
        return model.model_validate_json(json.dumps(body), strict=True)
    except ValidationError as error:
        fouten = field_errors(error)
        raise ApiProbleem(422, "ongeldig-verzoek", summary(fouten), fouten=fouten) from None


def _unreachable() -> ApiProbleem:
    return ApiProbleem(
        503,
        "niet-bereikbaar",
        "De zaken zijn nu niet bereikbaar. Er is niets gebeurd; probeer het later opnieuw (met dezelfde "
        "Idempotency-Key gebeurt het één keer).",
        headers={"Retry-After": RETRY_AFTER_UNREACHABLE},
    )


async def _once(
    request: Request,
    client: ApiClient,
    key: str | None,
    handle: Callable[[], Awaitable[tuple[int, Any]]],
) -> Response:
    """Run ``handle`` once per ``key`` (none: every time); the answer, stored for a retry with the same key. A
    problem is an answer too, except "not reachable" (nothing happened: a retry may try again)."""
    api = api_of(request)
    if key is None:
        status, body = await _answer(handle, request)
        return _json(status, body)
    if not KEY.match(key):
        raise ApiProbleem(
            400, "ongeldig-verzoek", "Idempotency-Key: 1 tot 200 zichtbare ASCII-tekens, bijvoorbeeld een UUID."
        )
    digest = request_hash(request.method, request.url.path, await request.body())
    try:
        earlier = await api.idempotentie.claim(client.client_id, key, digest)
    except AnderVerzoek:
        raise ApiProbleem(
            422, "sleutel-hergebruikt", "Deze Idempotency-Key is al gebruikt voor een ander verzoek; kies een nieuwe."
        ) from None
    except NogBezig:
        raise ApiProbleem(
            409,
            "in-behandeling",
            "Het eerste verzoek met deze Idempotency-Key wordt nog behandeld; probeer het zo opnieuw.",
            headers={"Retry-After": "2"},
        ) from None
    if earlier is not None:
        replayed = _raw(earlier.status, earlier.antwoord.encode())
        replayed.headers["Idempotent-Replayed"] = "true"
        return replayed
    try:
        status, body = await _answer(handle, request)
    except BaseException:
        await api.idempotentie.release(client.client_id, key)
        raise
    response = _json(status, body)
    if status == 503:
        await api.idempotentie.release(client.client_id, key)
    else:
        await api.idempotentie.store(client.client_id, key, status, bytes(response.body).decode())
    return response


async def _answer(handle: Callable[[], Awaitable[tuple[int, Any]]], request: Request) -> tuple[int, Any]:
    try:
        return await handle()
    except ApiProbleem as problem:
        if problem.status in (429, 503) or problem.headers:
            raise
        return problem.status, problem.probleem(request.url.path).model_dump(exclude_none=True)


def _json(status: int, body: Any) -> Response:
    if isinstance(body, bytes):
        return _raw(status, body)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON if status >= 400 else "application/json")


def _raw(status: int, content: bytes) -> Response:
    """A stored answer, byte for byte."""
    return Response(content, status_code=status, media_type=PROBLEM_JSON if status >= 400 else "application/json")


async def status_of(request: Request, client: Authenticated, leerling_ref: LeerlingRefPad) -> CaseStatus:
    """The case's status as the contract describes it (the ``status`` query)."""
    api = api_of(request)
    case, _ = await _case(api, client, leerling_ref, "zaak_lezen")
    await _audit(api, client, "zaak_lezen", case.case_id, None)
    if api.client is None:
        raise _unreachable()
    try:
        reader = api.client.get_workflow_handle(case.workflow_id)
        status: CaseStatus = await reader.query("status", result_type=CaseStatus, rpc_timeout=ACTIONS_TIMEOUT)
    except (RPCError, WorkflowQueryFailedError, RuntimeError):
        raise _unreachable() from None
    return status


async def timeline(
    request: Request,
    client: Authenticated,
    leerling_ref: LeerlingRefPad,
    pagina: Annotated[int, Query(ge=1, le=100_000, description="De pagina, 1 is de nieuwste.")] = 1,
    per_pagina: Annotated[int, Query(ge=1, le=200)] = 50,
) -> TijdlijnPagina:
    """One page of the case's timeline, newest first, from the case register."""
    api = api_of(request)
    case, _ = await _case(api, client, leerling_ref, "zaak_lezen")
    rows, totaal = await lists.timeline_page(api.register.pool, case.case_id, pagina=pagina, per_pagina=per_pagina)
    await _audit(api, client, "zaak_lezen", case.case_id, None)
    return TijdlijnPagina(
        leerling_ref=leerling_ref,
        case_id=case.case_id,
        pagina=pagina,
        per_pagina=per_pagina,
        totaal=totaal,
        regels=[TijdlijnRegel.model_validate(row.model_dump()) for row in rows],
    )


async def tasks(
    request: Request,
    client: Authenticated,
    rol: Annotated[Door | Literal["ouderfunctionaris"] | None, Query(description="Alleen taken van deze rol.")] = None,
    school: Annotated[
        str | None, Query(pattern=r"^[0-9A-Z]{4}([0-9A-Z]{2})?$", description="Alleen zaken van deze school (BRIN).")
    ] = None,
    te_laat: Annotated[
        bool | None, Query(description="true: alleen te late taken; false: alleen niet te late.")
    ] = None,
    limiet: Annotated[int, Query(ge=1, le=500)] = 200,
) -> TakenLijst:
    """Open tasks of open cases within the client's scope, overdue first, then by due date."""
    api = api_of(request)
    decision = decide(client.actor, "zaken_lijst")
    await _audit(api, client, "taken_lijst", None, decision)
    if not decision:
        raise _refused(decision)
    rows = await lists.tasks_in_scope(
        api.register.pool,
        scope_filter(client.actor),
        rol=str(rol) if rol is not None else None,
        school=school,
        te_laat=te_laat,
        limit=limiet,
    )
    taken = [OpenTaak.model_validate(row.model_dump()) for row in rows]
    return TakenLijst(taken=taken, aantal=len(taken))


def _event_route(name: str) -> tuple[Callable[..., Awaitable[Response]], type[BaseModel]]:
    """The route of one event: its request body is the contract's model, with ``door`` optional (the API sets it
    from the client's role and refuses another)."""
    model = EVENTS[name]
    request_model: type[BaseModel] = create_model(
        f"{model.__name__}Verzoek",
        __base__=model,
        door=(
            Door | None,
            Field(default=None, description="De rol die handelde; de API vult de rol van de client in."),
        ),
    )

    async def send(
        request: Request,
        client: Authenticated,
        leerling_ref: LeerlingRefPad,
        body: Annotated[dict[str, Any], Body()],
        background: BackgroundTasks,
        idempotency_key: IdempotencyKey = None,
    ) -> Response:
        api = api_of(request)

        async def handle() -> tuple[int, Any]:
            case, facts = await _case(api, client, leerling_ref, name)
            open_tasks = (
                await api.register.pool.fetch(
                    "SELECT taak_id, rol FROM tasks WHERE case_id = $1 AND gesloten_op IS NULL AND taak_id IS NOT NULL",
                    case.case_id,
                )
                if name == "taak_afgerond"
                else []
            )
            if open_tasks:
                facts = facts.model_copy(update={"open_taken": {row["taak_id"]: row["rol"] for row in open_tasks}})
            decision = decide(client.actor, name, facts)
            if decision and name not in client.gebeurtenissen:
                decision = Decision(allowed=False, reden=f"client {client.client_id} mag '{name}' niet sturen")
            if decision:
                fields = _strictly(request_model, body).model_dump(mode="json", exclude_unset=True)
                try:
                    event = model.model_validate(with_sender(client.actor, name, fields))
                except ValidationError as error:
                    fouten = field_errors(error)
                    raise ApiProbleem(422, "ongeldig-verzoek", summary(fouten), fouten=fouten) from None
                except ValueError as error:
                    decision = Decision(allowed=False, reden=str(error))
                else:
                    decision = decide(client.actor, name, facts, event=event)
            if not decision:
                await _audit(api, client, name, case.case_id, decision)
                raise _refused(decision)
            update_id = f"api-{client.client_id}-{idempotency_key or uuid.uuid4().hex}"
            try:
                status = await api.zaken.send_once(
                    case, name, event.model_dump(mode="json", exclude_none=True), update_id
                )
            except Afgewezen as error:
                await _audit(api, client, name, case.case_id, None)
                await _audit(api, client, name, case.case_id, Decision(allowed=False, reden=f"afgewezen: {error}"))
                raise ApiProbleem(422, "afgewezen", f"De zaak wees '{name}' af.", regel=str(error)) from None
            except Onbereikbaar:
                await _audit(api, client, name, case.case_id, None)
                await _audit(api, client, name, case.case_id, Decision(allowed=False, reden="niet bereikbaar"))
                raise _unreachable() from None
            # Taken: the row is written once the answer has gone out (a background task of the response), so that
            # its work in the database does not lengthen the answer. The case's timeline names the client too.
            background.add_task(_audit_later, api, client, name, case.case_id)
            return 200, status  # the case's own JSON of its new status, passed on as it came

        return await _once(request, client, idempotency_key, handle)

    send.__name__ = f"stuur_{name}"
    return send, request_model


# ------------------------------------------------------------------------------------------------- the factory


class BodyLimit:
    """Refuses a body larger than ``limit`` with 413 (problem+json) before the application reads any of it: by its
    Content-Length, or while it streams in without one."""

    def __init__(self, app: ASGIApp, limit: int = MAX_BODY) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = dict(scope.get("headers") or ()).get(b"content-length")
        too_large = ApiProbleem(413, "te-groot", f"Een verzoek mag ten hoogste {self.limit // 1024} KB zijn.")
        if length is not None:
            try:
                declared = int(length)
            except ValueError:
                declared = self.limit + 1
            if declared > self.limit:
                await too_large.response(scope.get("path"))(scope, receive, send)
                return
        body = bytearray()
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body += message.get("body", b"")
            if len(body) > self.limit:
                await too_large.response(scope.get("path"))(scope, _drained, send)
                return
            more = message.get("more_body", False)

        sent = False

        async def replay() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": bytes(body), "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


async def _drained() -> Message:
    return {"type": "http.disconnect"}


def _problem_schema(openapi: dict[str, Any]) -> dict[str, Any]:
    """Every error answer as ``application/problem+json`` with the :class:`Probleem` schema (the token endpoint's
    own errors as OAuth2 prescribes), with the headers that go with it; every operation but the token's behind the
    client credentials."""
    components = openapi.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    definitions = Probleem.model_json_schema(ref_template="#/components/schemas/{model}")
    schemas.update(definitions.pop("$defs", {}))
    schemas["Probleem"] = definitions
    schemas.pop("HTTPValidationError", None)
    schemas.pop("ValidationError", None)
    components["securitySchemes"] = {
        SECURITY_SCHEME: {
            "type": "oauth2",
            "description": "Een access token met client credentials, als 'Authorization: Bearer <token>'.",
            "flows": {"clientCredentials": {"tokenUrl": f"/api{TOKEN_PATH}", "scopes": {}}},
        }
    }
    problem = {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Probleem"}}}
    for path, operations in openapi.get("paths", {}).items():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            if path.endswith(TOKEN_PATH):
                for response in responses.values():
                    response["headers"] = {"Cache-Control": _header("Altijd 'no-store'.", required=True)}
                responses["413"] = {"description": "Te groot", "content": problem}
                continue
            operation["security"] = [{SECURITY_SCHEME: []}]
            common = {
                "401": "Niet aangemeld",
                "413": "Te groot",
                "422": "Het verzoek klopt niet",
                "429": "Te veel verzoeken",
                "503": "De inlogdienst of de zaken zijn nu niet bereikbaar; niets gebeurd",
            }
            if "requestBody" in operation:
                common["400"] = "De inhoud van het verzoek of de Idempotency-Key is niet te lezen"
            for code, description in common.items():
                responses.setdefault(code, {"description": description})
            for code, response in responses.items():
                if code.isdigit() and int(code) >= 400:
                    response["content"] = problem
                    if code == "422":
                        response["description"] = "Het verzoek klopt niet, of de zaak wees het af"
                    if code in _PROBLEM_HEADERS:
                        response["headers"] = _PROBLEM_HEADERS[code]
    return openapi


SECURITY_SCHEME: Final = "clientCredentials"


def _header(description: str, *, required: bool = False) -> dict[str, Any]:
    return {"description": description, "required": required, "schema": {"type": "string"}}


_PROBLEM_HEADERS: Final[dict[str, dict[str, Any]]] = {
    "401": {"WWW-Authenticate": _header('Bearer realm="thuiszitters"', required=True)},
    "409": {"Retry-After": _header("Seconden tot een nieuwe poging zin heeft (alleen als het verzoek nog loopt).")},
    "429": {"Retry-After": _header("Seconden tot de client weer verzoeken mag doen.", required=True)},
    "503": {"Retry-After": _header("Seconden tot een nieuwe poging zin heeft.", required=True)},
}


RESPONSES: Final[dict[int | str, dict[str, Any]]] = {
    403: {"description": "Geen toegang: de rol, de toegang of de gebeurtenissen van de client staan dit niet toe"},
    404: {"description": "Geen zaak gevonden (of buiten de toegang van de client)"},
    503: {"description": "De inlogdienst of de zaken zijn nu niet bereikbaar; niets gebeurd"},
}


def create_api(
    settings: Settings,
    register: Register,
    *,
    client: Client | None,
    task_queue: str | None = None,
    clients: ApiClients | None = None,
    verifier: TokenVerifier | None = None,
    action_timeout: timedelta = ACTIONS_TIMEOUT,
    latest: LatestCases | None = None,
) -> FastAPI:
    """The API over a connected register and a Temporal ``client`` (None: reads work, changes are unreachable);
    ``latest``: the pupils' latest cases, started by the caller (without it, every lookup reads the register)."""
    secret = settings.api_token_secret
    app = FastAPI(
        title="Thuiszitters API",
        version="1",
        summary="De API van het Rotterdamse zaaksysteem voor thuiszitters, voor andere diensten.",
        description=(
            "Start zaken, stuur gebeurtenissen (CONTRACT.md versie 2), lees de status, de tijdlijn en open taken. "
            "Elke client handelt in één rol met één toegang; fouten zijn application/problem+json (RFC 9457). "
            "Zie docs/api.md."
        ),
        openapi_url="/openapi.json",
        docs_url=None,
        redoc_url=None,
        swagger_ui_oauth2_redirect_url=None,
    )
    app.state.api = Api(
        settings=settings,
        register=register,
        clients=clients or ApiClients(register.pool),
        signer=TokenSigner(secret, settings.api_token_ttl) if secret else None,
        verifier=verifier,
        idempotentie=Idempotentie(register.pool),
        limiter=SlidingWindowCounterRateLimiter(MemoryStorage()),
        audit=AuditLog(register.pool),
        zaken=Zaken(client, action_timeout),
        client=client,
        task_queue=task_queue or settings.task_queue,
        latest=latest if latest is not None else LatestCases(register.pool, settings.database_url or ""),
    )
    app.add_api_route(
        TOKEN_PATH,
        token_endpoint,
        methods=["POST"],
        tags=["aanmelden"],
        summary="Een access token met client credentials (OAuth2)",
        responses={
            200: {"model": TokenAntwoord, "description": "Het token"},
            400: {"model": TokenFoutAntwoord, "description": "Het verzoek klopt niet"},
            401: {"model": TokenFoutAntwoord, "description": "Client onbekend of geheim onjuist"},
        },
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {
                    "application/x-www-form-urlencoded": {
                        "schema": {
                            "type": "object",
                            "required": ["grant_type"],
                            "properties": {
                                "grant_type": {"type": "string", "enum": ["client_credentials"]},
                                "client_id": {"type": "string"},
                                "client_secret": {"type": "string"},
                            },
                        }
                    }
                },
            }
        },
    )
    app.add_api_route(
        "/v1/zaken",
        start,
        methods=["POST"],
        status_code=201,
        tags=["zaken"],
        summary="Een zaak starten",
        response_model=ZaakGestart,
        # the body is read strictly (:func:`_strictly`), so FastAPI takes it as an object; the document names the model
        openapi_extra=_request_body(NieuweAanmelding),
        responses={
            201: {"description": "De zaak is gestart; de status is te lezen op status_url"},
            202: {
                "model": ZaakGestart,
                "description": "De zaak is gestart, maar nog niet in het zaakregister; de status volgt zo",
            },
            **RESPONSES,
            409: {"description": "Er loopt al een zaak, of dezelfde Idempotency-Key wordt nog behandeld"},
        },
    )
    app.add_api_route(
        "/v1/zaken/{leerling_ref}",
        status_of,
        methods=["GET"],
        tags=["zaken"],
        summary="De status van een zaak",
        response_model=CaseStatus,
        responses=RESPONSES,
    )
    app.add_api_route(
        "/v1/zaken/{leerling_ref}/tijdlijn",
        timeline,
        methods=["GET"],
        tags=["zaken"],
        summary="Een pagina van de tijdlijn",
        response_model=TijdlijnPagina,
        responses=RESPONSES,
    )
    app.add_api_route(
        "/v1/taken",
        tasks,
        methods=["GET"],
        tags=["taken"],
        summary="Open taken binnen de toegang van de client",
        response_model=TakenLijst,
        responses={403: RESPONSES[403]},
    )
    request_models: dict[str, type[BaseModel]] = {NieuweAanmelding.__name__: NieuweAanmelding}
    for name in EVENTS:
        endpoint, request_model = _event_route(name)
        request_models[request_model.__name__] = request_model
        app.add_api_route(
            f"/v1/zaken/{{leerling_ref}}/{name}",
            endpoint,
            methods=["POST"],
            tags=["gebeurtenissen"],
            summary=f"Gebeurtenis '{name}' sturen",
            response_model=CaseStatus,
            responses={**RESPONSES, 409: {"description": "Dezelfde Idempotency-Key wordt nog behandeld"}},
            # the body is checked after the client's permission (a refused client learns nothing of the fields),
            # so FastAPI takes it as an object; the document names the event's own model
            openapi_extra=_request_body(request_model),
        )

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title,
                version=app.version,
                summary=app.summary,
                description=app.description,
                routes=app.routes,
                servers=[{"url": "/api"}],
            )
            components = schema.setdefault("components", {}).setdefault("schemas", {})
            for model_name, model in request_models.items():
                definition = model.model_json_schema(ref_template="#/components/schemas/{model}")
                components.update(definition.pop("$defs", {}))
                components[model_name] = definition
            app.openapi_schema = _problem_schema(schema)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    _handlers(app)
    app.add_middleware(BodyLimit, limit=MAX_BODY)
    return app


def _request_body(model: type[BaseModel]) -> dict[str, Any]:
    return {
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{model.__name__}"}}},
        }
    }


def _handlers(app: FastAPI) -> None:
    async def problem(request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, ApiProbleem)
        return error.response(request.url.path)

    async def invalid(request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, RequestValidationError)
        fouten: list[Veldfout] = []
        for item in error.errors():
            location = field_path(item.get("loc", ()))
            where, rest = (location[0], location[1:]) if location else ("body", [])
            kind = str(item.get("type", ""))
            message = str(item.get("msg", ""))
            text = _dutch(kind, message)
            veld = ".".join(rest) if where == "body" else f"{where}:{'.'.join(rest)}"
            if kind == "value_error":
                own = message.removeprefix("Value error, ")
                named, _, reason = own.partition(": ")
                if reason and " " not in named:
                    veld, text = named, reason[:1].upper() + reason[1:]
            fouten.append(Veldfout(veld=veld, melding=text))
        fouten = list(dict.fromkeys(fouten))
        return ApiProbleem(422, "ongeldig-verzoek", summary(fouten), fouten=fouten).response(request.url.path)

    async def http(request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, StarletteHTTPException)
        soort, detail = {
            404: ("niet-gevonden", "Deze URL bestaat niet in de API; zie /api/openapi.json."),
            405: ("methode-niet-toegestaan", "Deze methode kan niet op deze URL."),
            406: ("niet-aanvaardbaar", "De API levert alleen JSON."),
            415: ("mediatype", "Stuur JSON (application/json)."),
            400: ("ongeldig-verzoek", "De inhoud van het verzoek is niet te lezen; stuur JSON in UTF-8."),
        }.get(error.status_code, ("ongeldig-verzoek", "Dit verzoek kan de API niet verwerken."))
        status = error.status_code if error.status_code in (404, 405, 406, 415) else 400
        return ApiProbleem(status, soort, detail, headers=dict(error.headers or {})).response(request.url.path)

    async def crash(request: Request, error: Exception) -> JSONResponse:
        log.error("api_fout", fout=type(error).__name__, pad=request.url.path)
        return ApiProbleem(500, "interne-fout", "Er ging iets mis in de API; probeer het later opnieuw.").response(
            request.url.path
        )

    app.add_exception_handler(ApiProbleem, problem)
    app.add_exception_handler(RequestValidationError, invalid)
    app.add_exception_handler(StarletteHTTPException, http)
    app.add_exception_handler(Exception, crash)


def _dutch(kind: str, message: str) -> str:
    from thuiszitters.api.problems import _MESSAGES

    if kind == "value_error":
        return message.removeprefix("Value error, ")
    return _MESSAGES.get(kind, "Deze waarde klopt niet.")
