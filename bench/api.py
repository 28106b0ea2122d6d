"""The API for other services under load, for ``python -m bench.run --scenarios api``.

Against the stack's own server process (the web application with the API, over HTTP on localhost) and the same
open cases (started at school 99AA):

- round trip: one ``voortgang`` at a time, alternately as a direct Temporal update (``execute_update``, as a service
  with a Temporal client would send it) and through the API (``POST /api/v1/zaken/{ref}/voortgang`` with a bearer
  token: authentication, rate limit, the policy, the audit row, the update, the answer), each to a case chosen at
  random: p50 and p99 of both, and their ratio;
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


async def token(http: httpx.AsyncClient, client_id: str) -> str:
    response = await http.post("/api/v1/token", data={"grant_type": "client_credentials"}, auth=(client_id, SECRET))
    if response.status_code != 200:
        raise RuntimeError(f"no token for {client_id}: {response.status_code} {response.text[:200]}")
    value: str = response.json()["access_token"]
    return value


async def round_trips(
    base_url: str, client: Client, refs: Sequence[str], rounds: int, say: Callable[[str], None]
) -> RoundTrips:
    """``rounds`` events each way, alternating, one at a time."""
    picker = random.Random(23)
    direct: list[float] = []
    api: list[float] = []
    payload: dict[str, Any] = {"toelichting": "Voortgang.", "door": "school"}
    async with httpx.AsyncClient(base_url=base_url, timeout=60) as http:
        http.headers["Authorization"] = f"Bearer {await token(http, 'bench-00')}"
        for number in range(rounds):
            ref = picker.choice(refs)
            handle = client.get_workflow_handle(workflow_id_for(ref))
            begun = time.perf_counter()
            await handle.execute_update("voortgang", payload, result_type=CaseStatus)
            direct.append((time.perf_counter() - begun) * 1000)
            ref = picker.choice(refs)
            begun = time.perf_counter()
            answer = await http.post(f"/api/v1/zaken/{ref}/voortgang", json={"toelichting": "Voortgang."})
            api.append((time.perf_counter() - begun) * 1000)
            if answer.status_code != 200:
                raise RuntimeError(f"API answered {answer.status_code}: {answer.text[:300]}")
            if (number + 1) % max(1, rounds // 5) == 0:
                say(f"api: {number + 1}/{rounds} round trips each way")
    return RoundTrips(direct, api)


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
        async with httpx.AsyncClient(base_url=base_url, timeout=120) as http:
            http.headers["Authorization"] = f"Bearer {await token(http, client_id)}"
            for _ in range(per_client):
                answer = await http.post(
                    f"/api/v1/zaken/{picker.choice(refs)}/voortgang", json={"toelichting": f"Van {client_id}."}
                )
                if answer.status_code == 200:
                    ok += 1
                else:
                    failed += 1
                    problems.append(f"{answer.status_code}: {answer.text[:200]}")

    begun = time.perf_counter()
    await asyncio.gather(*(one(index, client_id) for index, client_id in enumerate(client_ids)))
    seconds = time.perf_counter() - begun
    for problem in problems[:5]:
        say(f"api: refused: {problem}")
    return ok, failed, seconds
