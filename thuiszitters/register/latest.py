"""Each pupil's latest case as the API decides on an event, kept in the server's memory and kept fresh by the
register itself.

Before an event reaches a case, the policy must see the case: its sector, region, school, assigned people,
escalation, route and whether it is closed (:func:`thuiszitters.register.werkbak.facts_of_row`). Reading that row for
every event costs a round trip to PostgreSQL; :class:`LatestCases` keeps it instead. Migration 010 makes the
register announce every change of what the policy reads (a new case, a change of those columns, a deleted case)
with ``NOTIFY zaak_feiten, '<leerling_ref>'`` when it commits; a dedicated connection listens, drops the pupil's entry
and reads it again. What else the row holds (phase, the latest line) changes with every event and is not kept here:
whoever shows a case reads the register.

Nothing is decided on a guess:

- while the listening connection is down (PostgreSQL restarted, the connection cut), the cache is empty and every
  lookup reads the register, until the connection is back and the cache has been filled again;
- a read that was under way when a change was announced is not kept (the read that the announcement starts is);
- only an open case is answered from memory: a pupil without a case, or whose latest case is closed, is read from
  the register every time, so that a new case of theirs counts from the moment the register has it, before its
  announcement has arrived.

No library keeps an asyncpg query result fresh by ``LISTEN``: the listening is asyncpg's own
(:meth:`asyncpg.Connection.add_listener`); this module is the bookkeeping around it.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from typing import Any, Final

import asyncpg

from thuiszitters.logs import get_logger
from thuiszitters.people.policy import CaseFacts
from thuiszitters.register.werkbak import POLICY_COLUMNS, facts_of_row, latest_case_sql

log = get_logger(__name__)

CHANNEL: Final = "zaak_feiten"
"""The register's channel (migration 010); each notification's payload is a pupil's ``leerling_ref``."""
MAX_ENTRIES: Final = 200_000
"""Pupils kept at most; past that, lookups of others read the register every time."""
RECONNECT_AFTER: Final = (0.5, 1.0, 2.0, 5.0, 10.0, 30.0)
"""Seconds between attempts to listen again after the connection was lost (the last one repeats)."""

_COLUMNS: Final = ", ".join(("case_id", "workflow_id", "leerling_ref", *POLICY_COLUMNS))
_ONE: Final = latest_case_sql(_COLUMNS)
_ALL_OPEN: Final = f"""
SELECT DISTINCT ON (leerling_ref) {_COLUMNS} FROM cases WHERE NOT afgesloten ORDER BY leerling_ref, geopend_op DESC
LIMIT {MAX_ENTRIES}
"""


@dataclass(frozen=True, slots=True)
class LatestCase:
    """A pupil's latest case: which run chain it is, and what the policy needs of it (None: the row does not say
    enough to decide, and nobody may act on it)."""

    case_id: str
    workflow_id: str
    facts: CaseFacts | None

    @classmethod
    def of(cls, row: asyncpg.Record) -> LatestCase:
        """From a row of ``cases`` with its ids and :data:`~thuiszitters.register.werkbak.POLICY_COLUMNS`."""
        return cls(row["case_id"], row["workflow_id"], facts_of_row(row))


class LatestCases:
    """The latest case of each pupil, from the register, kept while the register's notifications arrive.

    ``start`` listens and fills the cache with every open case; ``get`` answers from it or reads the register;
    ``close`` stops listening. Without ``start`` (or while the connection is lost) every ``get`` reads the
    register."""

    def __init__(self, pool: asyncpg.Pool[asyncpg.Record], dsn: str) -> None:
        self.pool = pool
        self.dsn = dsn
        self._cases: dict[str, LatestCase | None] = {}
        self._tick = 0
        """Counts the notifications received: a read started at tick t is kept only when its pupil's latest
        notification came at t or before."""
        self._changed_at: dict[str, int] = {}
        self._floor = 0
        """Reads started before this tick are not kept: they began before the connection listened (again)."""
        self._connection: asyncpg.Connection[asyncpg.Record] | None = None
        self._live = False
        self._closing = False
        self._tasks: set[asyncio.Task[None]] = set()
        self.hits = 0
        self.reads = 0

    @property
    def live(self) -> bool:
        """Whether lookups are answered from memory (the connection listens and the cache was filled)."""
        return self._live

    def __len__(self) -> int:
        return len(self._cases)

    # ------------------------------------------------------------------------------------------------ lifetime

    async def start(self) -> None:
        """Listen and fill the cache; when PostgreSQL cannot be reached, keep trying in the background."""
        self._closing = False
        try:
            await self._listen()
        except (OSError, asyncpg.PostgresError, TimeoutError) as error:
            log.warning("zaakfeiten_niet_live", oorzaak=type(error).__name__)
            self._spawn(self._reconnect())

    async def __aenter__(self) -> LatestCases:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        log.info("zaakfeiten_gestopt", uit_geheugen=self.hits, gelezen=self.reads, zaken=len(self._cases))
        self._closing = True
        self._live = False
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        connection, self._connection = self._connection, None
        if connection is not None and not connection.is_closed():
            with contextlib.suppress(OSError, asyncpg.PostgresError, TimeoutError):
                await connection.close(timeout=2)
        self._cases.clear()

    async def _listen(self) -> None:
        connection = await asyncpg.connect(self.dsn, timeout=5)
        try:
            await connection.add_listener(CHANNEL, self._notified)
            connection.add_termination_listener(self._lost)
        except BaseException:
            await connection.close()
            raise
        self._connection = connection
        self._tick += 1
        self._floor = began = self._tick
        self._cases.clear()
        rows = await self.pool.fetch(_ALL_OPEN)
        for row in rows:
            self._keep(row["leerling_ref"], LatestCase.of(row), began)
        self._live = True
        log.info("zaakfeiten_live", zaken=len(self._cases))

    def _lost(self, connection: object) -> None:
        if connection is not self._connection:
            return
        self._live = False
        self._connection = None
        self._tick += 1
        self._floor = self._tick
        self._cases.clear()
        if not self._closing:
            log.warning("zaakfeiten_verbinding_weg", gevolg="elke zaak wordt uit het register gelezen")
            self._spawn(self._reconnect())

    async def _reconnect(self) -> None:
        attempt = 0
        while not self._closing:
            await asyncio.sleep(RECONNECT_AFTER[min(attempt, len(RECONNECT_AFTER) - 1)])
            attempt += 1
            try:
                await self._listen()
                return
            except (OSError, asyncpg.PostgresError, TimeoutError):
                continue

    def _spawn(self, work: Any) -> None:
        task: asyncio.Task[None] = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # ------------------------------------------------------------------------------------------------- lookups

    async def get(self, leerling_ref: str) -> LatestCase | None:
        """The pupil's latest case (an open one, else the last closed one); None when the register has none. An open
        case comes from memory when the cache is live; anything else from the register."""
        case = self._cases.get(leerling_ref) if self._live else None
        if case is not None and case.facts is not None and not case.facts.afgesloten:
            self.hits += 1
            return case
        return await self._read(leerling_ref)

    async def _read(self, leerling_ref: str) -> LatestCase | None:
        self.reads += 1
        began = self._tick
        row = await self.pool.fetchrow(_ONE, leerling_ref)
        case = LatestCase.of(row) if row is not None else None
        self._keep(leerling_ref, case, began)
        return case

    def _keep(self, leerling_ref: str, case: LatestCase | None, began: int) -> None:
        """Keep what a read started at tick ``began`` found, unless a change of the pupil was announced since."""
        if self._connection is None or began < self._floor or self._changed_at.get(leerling_ref, -1) > began:
            return
        if leerling_ref in self._cases or len(self._cases) < MAX_ENTRIES:
            self._cases[leerling_ref] = case

    def _notified(self, connection: object, pid: int, channel: str, payload: object) -> None:
        leerling_ref = str(payload)
        self._tick += 1
        self._changed_at[leerling_ref] = self._tick
        self._cases.pop(leerling_ref, None)
        if self._live:
            self._spawn(self._refresh(leerling_ref))

    async def _refresh(self, leerling_ref: str) -> None:
        with contextlib.suppress(OSError, asyncpg.PostgresError, TimeoutError):
            await self._read(leerling_ref)
