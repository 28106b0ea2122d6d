"""The API over its real parts for the tests: the Temporal dev server with a real worker, a fresh register with the
demo people and the demo clients of ``examples/api_clients.csv`` (each with a known secret), and the one server of
web application and API (:func:`thuiszitters.server.create_server`) reached over ASGI as ``http://127.0.0.1:8000``."""

from __future__ import annotations

import csv
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, Final

import httpx
from temporalio.testing import WorkflowEnvironment

from tests.fixtures.postgres import fresh_database
from tests.fixtures.temporal import CaseWorker, case_worker
from tests.fixtures.werkbak import WACHTWOORD, application_settings, load_demo_people
from tests.paths import REPO
from tests.thuiszitters.web.helpers import FAST_HASHER
from thuiszitters.api.__main__ import parse
from thuiszitters.api.clients import ApiClient, ApiClients
from thuiszitters.people.tokens import TokenVerifier
from thuiszitters.register.latest import LatestCases
from thuiszitters.register.store import Register
from thuiszitters.server import create_server
from thuiszitters.settings import Settings

DEMO_CLIENTS: Final = REPO / "examples" / "api_clients.csv"
TOKEN_SECRET: Final = "een-tokengeheim-van-ruim-tweeendertig-tekens-voor-de-api"
BASE_URL: Final = "http://127.0.0.1:8000"


def secret_of(client_id: str) -> str:
    return f"geheim-van-{client_id}-voor-de-tests-0123456789"


def demo_clients() -> list[ApiClient]:
    with DEMO_CLIENTS.open(encoding="utf-8", newline="") as handle:
        return [parse({k: v or "" for k, v in row.items()}) for row in csv.DictReader(handle)]


@dataclass
class ApiStack:
    register: Register
    worker: CaseWorker
    settings: Settings
    env: WorkflowEnvironment
    app: Any
    clients: list[ApiClient]

    def http(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=self.app), base_url=BASE_URL)

    async def token(self, http: httpx.AsyncClient, client_id: str) -> str:
        response = await http.post(
            "/api/v1/token",
            data={"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret_of(client_id)},
        )
        assert response.status_code == 200, response.text
        token: str = response.json()["access_token"]
        return token

    @asynccontextmanager
    async def as_client(self, client_id: str) -> AsyncIterator[httpx.AsyncClient]:
        """An HTTP client with a fresh access token of ``client_id``."""
        async with self.http() as http:
            http.headers["Authorization"] = f"Bearer {await self.token(http, client_id)}"
            yield http


@asynccontextmanager
async def api_stack(
    dev_env: WorkflowEnvironment,
    postgres_dsn: str,
    test_settings: Settings,
    *,
    verifier: TokenVerifier | None = None,
    **changes: Any,
) -> AsyncIterator[ApiStack]:
    """The stack; ``verifier``: the API also accepts that OpenID provider's access tokens; ``changes``: settings."""
    async with fresh_database(postgres_dsn, max_size=10) as database:
        settings = application_settings(test_settings, database.dsn).model_copy(
            update={"api_token_secret": TOKEN_SECRET, **changes}
        )
        await load_demo_people(database.register, WACHTWOORD)
        clients = demo_clients()
        store = ApiClients(database.register.pool, FAST_HASHER)
        for client in clients:
            await store.upsert(client, secret_of(client.client_id))
        async with (
            LatestCases(database.register.pool, database.dsn) as latest,  # as the server runs it
            case_worker(dev_env, database.register, settings) as worker,
        ):
            app = create_server(
                settings,
                database.register,
                client=worker.client,
                task_queue=worker.task_queue,
                hasher=FAST_HASHER,
                verifier=verifier,
                latest=latest,
            )
            yield ApiStack(database.register, worker, settings, dev_env, app, clients)
