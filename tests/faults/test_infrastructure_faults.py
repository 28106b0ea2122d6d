"""The case register's PostgreSQL and the Temporal server going away while a batch of cases is in full swing.

- PostgreSQL stopped at once (``pg_ctl stop -m immediate``: no checkpoint, every connection cut) for a few
  seconds, then started again on the same data folder and port: the activities that could not reach the register
  fail and are retried by Temporal; the worker keeps running and its connection pool reconnects.
- The Temporal dev server stopped and started again on its database file: the worker (the same process) and the
  clients reconnect by themselves; the cases carry on where they were.

The moment is arranged: the stand-in partner systems hold the answers to the first Kindkans updates, the fault
strikes once they hold them, and they answer while the fault lasts. So registration calls are in flight across the
fault every time: with PostgreSQL away, the answer cannot be written to the register and the activity is tried
again (the partner recognises the repeated call by its key); with Temporal away, the worker has a result to report
to a server that is not there.

Each case runs a fixed script of events (``tests.faults.SCRIPTS``); afterwards every case must have ended as its
events call for, with each effect in the case register exactly once and each registration processed once by its
partner system.
"""

from __future__ import annotations

import pytest

from tests.faults import HELD_PATH, Batch, FaultStack, longest_hold, partner_env, until
from tests.outside import PartnerSystems, Receipt

pytestmark = [pytest.mark.fault, pytest.mark.asyncio(loop_scope="session")]

BATCH = 100
HOLD = 5
"""Registration calls in flight when the fault strikes."""
POSTGRES_DOWN_SECONDS = 5
TEMPORAL_DOWN_SECONDS = 3


async def test_postgres_down_for_seconds_mid_flight_loses_nothing_and_does_nothing_twice(faults: FaultStack) -> None:
    async with PartnerSystems() as partners:
        partners.hold(path=HELD_PATH, times=HOLD)
        batch = Batch(faults, "PostgreSQL down", BATCH)
        worker = await faults.start_worker(env=partner_env(partners))
        late = await batch.first_half_in_flight(partners, HOLD)
        waited = longest_hold(partners.holding)
        held: list[Receipt] = []

        async def while_down() -> None:
            await batch.play(late)  # events keep coming in while the register is away
            held.extend(partners.release())  # answers that cannot be written to the register

            # The register stays away until the cases have felt it: an activity waits for another attempt.
            async def felt() -> bool:
                return await batch.activities_retrying() > 0

            await until(felt, within=30, what="een activiteit die de storing merkte")

        await faults.postgres_outage(POSTGRES_DOWN_SECONDS, meanwhile=while_down())

        await batch.finish(within=150)
        retried = await batch.retried_activities()
        repeats = await batch.check_partners(partners)
    outcome = await batch.verify(
        note=f"{POSTGRES_DOWN_SECONDS} s weg; {len(held)} verzoeken liepen (tot {waited:.1f} s), "
        f"{retried} activiteiten opnieuw gedaan, {repeats} verzoeken herhaald"
    )
    outcome.assert_clean()
    assert held, "er liep geen verzoek toen het register wegviel: dan toetst dit niets"
    assert retried > 0, "geen activiteit merkte de storing: dan toetst dit niets"
    assert worker.returncode is None, worker.tail()


async def test_temporal_restarted_on_its_database_file_mid_flight_loses_nothing(faults: FaultStack) -> None:
    async with PartnerSystems() as partners:
        partners.hold(path=HELD_PATH, times=HOLD)
        batch = Batch(faults, "Temporal restart", BATCH)
        worker = await faults.start_worker(env=partner_env(partners))
        late = await batch.first_half_in_flight(partners, HOLD)
        waited = longest_hold(partners.holding)
        held: list[Receipt] = []

        # The held calls are answered while the server is away: the worker has their results to report.
        await faults.restart_temporal(
            down_seconds=TEMPORAL_DOWN_SECONDS, meanwhile=lambda: held.extend(partners.release())
        )
        rows_after_restart = await batch.recorded_rows()
        await batch.play(late)

        await batch.finish(within=150)
        repeats = await batch.check_partners(partners)
    outcome = await batch.verify(
        note=f"{TEMPORAL_DOWN_SECONDS} s weg; {len(held)} verzoeken liepen (tot {waited:.1f} s), "
        f"{repeats} herhaald; dezelfde worker verbond opnieuw"
    )
    outcome.assert_clean()
    assert held, "er liep geen verzoek toen Temporal stopte: dan toetst dit niets"
    # The same worker process carried the cases on after the restart: it reconnected by itself.
    assert worker.returncode is None, worker.tail()
    assert faults.workers == [worker]
    assert await batch.recorded_rows() > rows_after_restart
