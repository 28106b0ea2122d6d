"""The one server of the web application and the API (``thuiszitters-web``): ``/api`` is the API for other services
(:mod:`thuiszitters.api`), everything else the web application for people (:mod:`thuiszitters.web`). Each keeps its
own middleware: the web application's sessions, form tokens and content security policy do not touch the API, whose
callers present bearer tokens."""

from __future__ import annotations

from argon2 import PasswordHasher
from starlette.applications import Starlette
from starlette.routing import Mount
from temporalio.client import Client

from thuiszitters.api.app import create_api
from thuiszitters.api.clients import ApiClients
from thuiszitters.people.tokens import TokenVerifier
from thuiszitters.register.store import Register
from thuiszitters.settings import Settings
from thuiszitters.web.app import create_app


def create_server(
    settings: Settings,
    register: Register,
    *,
    client: Client | None,
    task_queue: str | None = None,
    hasher: PasswordHasher | None = None,
    verifier: TokenVerifier | None = None,
) -> Starlette:
    """The web application and the API over one register and one Temporal client; ``hasher``: the argon2
    parameters of local accounts and of the API's client secrets."""
    web = create_app(settings, register, hasher=hasher, client=client, task_queue=task_queue)
    api = create_api(
        settings,
        register,
        client=client,
        task_queue=task_queue,
        verifier=verifier,
        clients=ApiClients(register.pool, hasher) if hasher is not None else None,
    )
    return Starlette(routes=[Mount("/api", app=api), Mount("/", app=web)])
