"""The API for other services under load, for ``python -m bench.run --scenarios api``.

Against the stack's own server process (the web application with the API, over HTTP on localhost) and the same
open cases (started at school 99AA):

- round trip: one ``voortgang`` at a time, in turn as a direct Temporal update (``execute_update``, as a service
  with a Temporal client would send it) and through the API (``POST /api/v1/zaken/{ref}/voortgang`` with a bearer
  token: authentication, rate limit, the policy, the audit row, the update, the answer), each to a case chosen at
  random: p50 and p99 of both, and their ratio. The API's client is aiohttp, whose own cost per request is about
  that of the Temporal client's Rust core (0.2 ms on localhost), so that the ratio is the server's; the same
  requests through httpx are measured as well and reported beside it (httpx spends about 1 ms more per request of
  its own, on the client's side);
- concurrency: ``clients`` clients of their own, each with its own token, send ``events`` events in all at once;
  every answer must be 200.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Final

import aiohttp
import asyncpg
import httpx
from temporalio.client import Client

from thuiszitters.api.clients import ApiClient, ApiClients
from workflows.contract import CaseStatus, workflow_id_for

SECRET: Final = "bench-api-geheim-van-ruim-tweeendertig-tekens"
EVENTS: Final = ("voortgang",)


@dataclass(frozen=True)
class RoundTrips:
    direct: list[float]
    api: list[float]
    """Through the API with aiohttp."""
    api_httpx: list[float]
    """The same through the API with httpx."""


def bench_client(number: int) -> ApiClient:
    return ApiClient(
        client_id=f"bench-{number:02d}",
        naam=f"Benchmark-client {number}",
        rol="school",
        scholen=("99AA",),
        gebeurtenissen=frozenset(EVENTS),
        per_minuut=100_000,
    )


async def prepare_clients(pool: asyncpg.Pool[asyncpg.Record], count: int) -> list[str]:
    clients = ApiClients(pool)
    ids = []
    for number in range(count):
        client = bench_client(number)
        await clients.upsert(client, SECRET)
        ids.append(client.client_id)
    return ids


async def token(http: aiohttp.ClientSession, client_id: str) -> str:
    async with http.post(
        "/api/v1/token", data={"grant_type": "client_credentials"}, auth=aiohttp.BasicAuth(client_id, SECRET)
    ) as response:
        if response.status != 200:
            raise RuntimeError(f"no token for {client_id}: {response.status} {(await response.text())[:200]}")
        value: str = (await response.json())["access_token"]
    return value


async def post(http: aiohttp.ClientSession, path: str, body: dict[str, Any]) -> tuple[int, bytes]:
    async with http.post(path, json=body) as response:
        return response.status, await response.read()


async def round_trips(
    base_url: str, client: Client, refs: Sequence[str], rounds: int, say: Callable[[str], None]
) -> RoundTrips:
    """``rounds`` events each way, in turn, one at a time."""
    picker = random.Random(23)
    trips = RoundTrips([], [], [])
    payload: dict[str, Any] = {"toelichting": "Voortgang.", "door": "school"}
    body = {"toelichting": "Voortgang."}
    async with (
        aiohttp.ClientSession(base_url, timeout=aiohttp.ClientTimeout(total=60)) as http,
        httpx.AsyncClient(base_url=base_url, timeout=60) as slower,
    ):
        bearer = {"Authorization": f"Bearer {await token(http, 'bench-00')}"}
        http.headers.update(bearer)
        slower.headers.update(bearer)
        for number in range(rounds):
            handle = client.get_workflow_handle(workflow_id_for(picker.choice(refs)))
            begun = time.perf_counter()
            await handle.execute_update("voortgang", payload, result_type=CaseStatus)
            trips.direct.append((time.perf_counter() - begun) * 1000)
            path = f"/api/v1/zaken/{picker.choice(refs)}/voortgang"
            begun = time.perf_counter()
            status, answer = await post(http, path, body)
            trips.api.append((time.perf_counter() - begun) * 1000)
            if status != 200:
                raise RuntimeError(f"API answered {status}: {answer[:300]!r}")
            path = f"/api/v1/zaken/{picker.choice(refs)}/voortgang"
            begun = time.perf_counter()
            response = await slower.post(path, json=body)
            trips.api_httpx.append((time.perf_counter() - begun) * 1000)
            if response.status_code != 200:
                raise RuntimeError(f"API answered {response.status_code}: {response.text[:300]}")
            if (number + 1) % max(1, rounds // 5) == 0:
                say(f"api: {number + 1}/{rounds} round trips each way")
    return trips


async def concurrent(
    base_url: str, client_ids: Sequence[str], refs: Sequence[str], events: int, say: Callable[[str], None]
) -> tuple[int, int, float]:
    """All clients at once, ``events`` in all; (answered 200, other answers, seconds)."""
    per_client = events // len(client_ids)
    ok = failed = 0
    problems: list[str] = []

    async def one(index: int, client_id: str) -> None:
        nonlocal ok, failed
        picker = random.Random(100 + index)
        async with aiohttp.ClientSession(base_url, timeout=aiohttp.ClientTimeout(total=120)) as http:
            http.headers["Authorization"] = f"Bearer {await token(http, client_id)}"
            for _ in range(per_client):
                status, answer = await post(
                    http, f"/api/v1/zaken/{picker.choice(refs)}/voortgang", {"toelichting": f"Van {client_id}."}
                )
                if status == 200:
                    ok += 1
                else:
                    failed += 1
                    problems.append(f"{status}: {answer[:200]!r}")

    begun = time.perf_counter()
    await asyncio.gather(*(one(index, client_id) for index, client_id in enumerate(client_ids)))
    seconds = time.perf_counter() - begun
    for problem in problems[:5]:
        say(f"api: refused: {problem}")
    return ok, failed, seconds
