"""The case register's PostgreSQL and the Temporal server going away while a batch of cases is in full swing.

- PostgreSQL stopped at once (``pg_ctl stop -m immediate``: no checkpoint, every connection cut) for a few
  seconds, then started again on the same data folder and port: the activities that could not reach the register
  fail and are retried by Temporal; the worker keeps running and its connection pool reconnects.
- The Temporal dev server stopped and started again on its database file: the worker (the same process) and the
  clients reconnect by themselves; the cases carry on where they were.

Each case runs a fixed script of events (``tests.faults.SCRIPTS``); afterwards every case must have ended as its
events call for, with each effect in the case register exactly once.
"""

from __future__ import annotations

import pytest

from tests.faults import Batch, FaultStack

pytestmark = [pytest.mark.fault, pytest.mark.asyncio(loop_scope="session")]

BATCH = 100
POSTGRES_DOWN_SECONDS = 5
TEMPORAL_DOWN_SECONDS = 3


async def test_postgres_down_for_seconds_mid_flight_loses_nothing_and_does_nothing_twice(faults: FaultStack) -> None:
    batch = Batch(faults, "PostgreSQL down", BATCH)
    worker = await faults.start_worker()
    late = await batch.first_half_in_flight()

    # Events keep coming in while the register is away.
    await faults.postgres_outage(POSTGRES_DOWN_SECONDS, meanwhile=batch.play(late))

    await batch.finish(within=150)
    retried = await batch.retried_activities()
    outcome = await batch.verify(note=f"{POSTGRES_DOWN_SECONDS} s weg; {retried} activiteiten opnieuw gedaan")
    outcome.assert_clean()
    assert retried > 0, "geen activiteit merkte de storing: dan toetst dit niets"
    assert worker.returncode is None, worker.tail()


async def test_temporal_restarted_on_its_database_file_mid_flight_loses_nothing(faults: FaultStack) -> None:
    batch = Batch(faults, "Temporal restart", BATCH)
    worker = await faults.start_worker()
    late = await batch.first_half_in_flight()

    await faults.restart_temporal(down_seconds=TEMPORAL_DOWN_SECONDS)
    rows_after_restart = await batch.recorded_rows()
    await batch.play(late)

    await batch.finish(within=150)
    outcome = await batch.verify(note=f"{TEMPORAL_DOWN_SECONDS} s weg; dezelfde worker verbond opnieuw")
    outcome.assert_clean()
    # The same worker process carried the cases on after the restart: it reconnected by itself.
    assert worker.returncode is None, worker.tail()
    assert faults.workers == [worker]
    assert await batch.recorded_rows() > rows_after_restart
