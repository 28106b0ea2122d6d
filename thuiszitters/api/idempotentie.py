"""``Idempotency-Key``: a retried request gets the first answer, and the case gets one event.

The first request with a key claims it (a row in ``api_idempotentie`` with the SHA-256 of its method, path and body)
and stores its answer when done. A later request with the same key and the same request gets that answer again; with
another request it is refused. One that arrives while the first is still being handled waits for its answer (at most
:data:`WAIT_SECONDS`, then "nog in behandeling"). The case's update carries the key too (its update id), so even an
answer that was never stored (the API stopped halfway) cannot become a second event.
"""

from __future__ import annotations

import asyncio
import hashlib
import random
import re
from dataclasses import dataclass
from typing import Final

import asyncpg

KEY_PATTERN: Final = r"^[!-~]{1,200}$"
KEY: Final = re.compile(KEY_PATTERN)
"""A key: 1 to 200 visible ASCII characters (a UUID is usual)."""
WAIT_SECONDS: Final = 30.0
KEEP: Final = "24 hours"
"""How long an answer is kept (and a key stays taken)."""
CLEANUP_SHARE: Final = 0.01
"""The share of new keys after which the answers older than :data:`KEEP` are removed."""


def request_hash(method: str, path: str, body: bytes) -> str:
    digest = hashlib.sha256()
    for part in (method.encode(), path.encode(), body):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


@dataclass(frozen=True)
class Eerder:
    """The stored answer of an earlier request with the same key: its status and its body as sent."""

    status: int
    antwoord: str


class AnderVerzoek(Exception):
    """The key was used before for another request."""


class NogBezig(Exception):
    """The first request with this key is still being handled."""


class Idempotentie:
    """The answers in the register's pool (whose connections read and write ``jsonb`` as Python values)."""

    def __init__(self, pool: asyncpg.Pool[asyncpg.Record], *, wait_seconds: float = WAIT_SECONDS) -> None:
        self.pool = pool
        self.wait_seconds = wait_seconds

    async def claim(self, client_id: str, key: str, digest: str) -> Eerder | None:
        """None: this request holds the key now and must :meth:`store` its answer (or :meth:`release` it). Else the
        earlier answer; :class:`AnderVerzoek` or :class:`NogBezig` when there is none to give."""
        claimed = await self.pool.fetchval(
            """
            INSERT INTO api_idempotentie (client_id, sleutel, verzoek_hash) VALUES ($1, $2, $3)
            ON CONFLICT (client_id, sleutel) DO NOTHING
            RETURNING true
            """,
            client_id,
            key,
            digest,
        )
        if claimed:
            if random.random() < CLEANUP_SHARE:  # not a secret: only how often to clean up
                await self.pool.execute(f"DELETE FROM api_idempotentie WHERE aangemaakt_op < now() - interval '{KEEP}'")
            return None
        deadline = asyncio.get_running_loop().time() + self.wait_seconds
        delay = 0.01
        while True:
            row = await self.pool.fetchrow(
                "SELECT verzoek_hash, status, antwoord FROM api_idempotentie WHERE client_id = $1 AND sleutel = $2",
                client_id,
                key,
            )
            if row is None:  # released in the meantime: try to take it
                return await self.claim(client_id, key, digest)
            if row["verzoek_hash"] != digest:
                raise AnderVerzoek()
            if row["status"] is not None:
                return Eerder(row["status"], row["antwoord"])
            if asyncio.get_running_loop().time() >= deadline:
                raise NogBezig()
            await asyncio.sleep(delay)
            delay = min(delay * 2, 0.2)

    async def store(self, client_id: str, key: str, status: int, antwoord: str) -> None:
        await self.pool.execute(
            "UPDATE api_idempotentie SET status = $3, antwoord = $4 WHERE client_id = $1 AND sleutel = $2",
            client_id,
            key,
            status,
            antwoord,
        )

    async def release(self, client_id: str, key: str) -> None:
        """Give the key back without an answer (nothing happened: a retry may try again)."""
        await self.pool.execute(
            "DELETE FROM api_idempotentie WHERE client_id = $1 AND sleutel = $2 AND status IS NULL", client_id, key
        )
