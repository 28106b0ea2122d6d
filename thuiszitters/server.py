"""The one server of the web application and the API (``thuiszitters-web``): ``/api`` is the API for other services
(:mod:`thuiszitters.api`), everything else the web application for people (:mod:`thuiszitters.web`). Each keeps its
own middleware: the web application's sessions, form tokens and content security policy do not touch the API, whose
callers present bearer tokens. With a tracer provider, each request gets a server span first
(:class:`thuiszitters.tracing.TracedRequests`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from argon2 import PasswordHasher
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Mount
from temporalio.client import Client

from thuiszitters.api.app import create_api
from thuiszitters.api.clients import ApiClients
from thuiszitters.api.problems import ApiProbleem
from thuiszitters.people.tokens import TokenVerifier
from thuiszitters.register.latest import LatestCases
from thuiszitters.register.store import Register
from thuiszitters.settings import Settings
from thuiszitters.tracing import TracedRequests
from thuiszitters.web.app import create_app

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider


def create_server(
    settings: Settings,
    register: Register,
    *,
    client: Client | None,
    task_queue: str | None = None,
    hasher: PasswordHasher | None = None,
    verifier: TokenVerifier | None = None,
    tracer_provider: TracerProvider | None = None,
    latest: LatestCases | None = None,
) -> Starlette:
    """The web application and the API over one register and one Temporal client; ``hasher``: the argon2
    parameters of local accounts and of the API's client secrets; ``tracer_provider``: trace each request with it
    (:func:`thuiszitters.tracing.configure_tracing`); ``latest``: the pupils' latest cases for the API, started by the
    caller (:mod:`thuiszitters.register.latest`)."""
    web = create_app(settings, register, hasher=hasher, client=client, task_queue=task_queue)
    api = create_api(
        settings,
        register,
        client=client,
        task_queue=task_queue,
        verifier=verifier,
        clients=ApiClients(register.pool, hasher) if hasher is not None else None,
        latest=latest,
    )
    tracing = [Middleware(TracedRequests, tracer_provider=tracer_provider)] if tracer_provider is not None else []
    return Starlette(
        routes=[Mount("/api", app=api), Mount("/", app=web)],
        middleware=tracing,
        exception_handlers={404: _nowhere},
    )


async def _nowhere(request: Request, error: Exception) -> Response:
    """A path neither part can take (a line break in it matches no route): problem+json under ``/api``, else a
    plain Dutch line."""
    if request.url.path == "/api" or request.url.path.startswith("/api/"):
        return ApiProbleem(404, "niet-gevonden", "Deze URL bestaat niet in de API; zie /api/openapi.json.").response(
            request.url.path
        )
    return PlainTextResponse("Pagina niet gevonden. Ga naar de startpagina.", status_code=404)
