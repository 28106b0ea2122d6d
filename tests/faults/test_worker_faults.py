"""Workers that die or are told to stop while a batch of cases is in full swing.

- SIGKILL mid-flight: the activities the dead worker had started are retried on a new worker once their
  start-to-close timeout (30 s) has passed; events sent while no worker runs wait in Temporal.
- SIGTERM (graceful): the worker lets what it runs finish and exits 0; a second worker carries on.

The registration calls go to the stand-in partner systems of ``tests/outside.py``, which answer the Kindkans
updates only after half a second: so there are always calls in flight when the worker is hit. Each case runs a
fixed script of events (``tests.faults.SCRIPTS``); afterwards every case must have ended as its events call for,
with each effect in the case register exactly once and each registration processed once by its partner system.
"""

from __future__ import annotations

import signal

import pytest

from tests.faults import Batch, FaultStack, WorkerProcess, partner_env
from tests.outside import Fault, PartnerSystems

pytestmark = [pytest.mark.fault, pytest.mark.asyncio(loop_scope="session")]

BATCH = 100
SLOW_PATH = "/kindkans/hulpvraag_bijwerken"
SLOW_SECONDS = 0.5


def slow_partners() -> PartnerSystems:
    partners = PartnerSystems(slow_seconds=SLOW_SECONDS)
    partners.fail_next(SLOW_PATH, Fault.SLOW, times=10_000)  # slow, but well within the adapter's timeout
    return partners


async def check_partners(batch: Batch, partners: PartnerSystems) -> int:
    """Every registration reached its partner under one key and was processed once, with the reference the register
    holds; returns how many requests the partners saw again (a retry after the worker was hit)."""
    rows = await batch.registration_rows()
    kenmerken = {receipt.idempotency_key: receipt.kenmerk for receipt in partners.received}
    assert {row["sleutel"]: row["kenmerk"] for row in rows} == kenmerken
    assert all(row["status"] == "verzonden" for row in rows)
    return len(partners.raw) - len(partners.received)


def finished_after_stop(worker: WorkerProcess) -> int:
    """Activities the worker completed after it was told to stop."""
    lines = worker.log.read_text(encoding="utf-8", errors="replace").splitlines()
    stop = next(i for i, line in enumerate(lines) if "worker stopt" in line)
    done = ('"registratie_gedaan"', '"bericht_verzonden"', '"vastgelegd"')
    return sum(1 for line in lines[stop:] if any(event in line for event in done))


async def test_a_worker_killed_mid_flight_loses_nothing_and_does_nothing_twice(faults: FaultStack) -> None:
    async with slow_partners() as partners:
        batch = Batch(faults, "worker SIGKILL", BATCH)
        first = await faults.start_worker(env=partner_env(partners))
        late = await batch.first_half_in_flight()

        first.kill()
        assert await first.wait(10) == -signal.SIGKILL
        in_flight = await batch.activities_held_by(first)
        assert in_flight > 0, "de worker is gestopt zonder lopende activiteiten: dan toetst dit niets"

        await batch.play(late)  # no worker runs: these events wait in Temporal
        await faults.start_worker(env=partner_env(partners))
        await batch.finish(within=150)
        retried = await batch.retried_activities()
        repeats = await check_partners(batch, partners)
    outcome = await batch.verify(
        note=f"{in_flight} activiteiten liepen bij de kill, {retried} opnieuw gedaan, {repeats} verzoeken herhaald"
    )
    outcome.assert_clean()
    # What the dead worker had started was done again by the new one: once more, never twice in the register.
    assert retried >= in_flight


async def test_a_worker_stopped_with_sigterm_finishes_its_work_and_exits_zero(faults: FaultStack) -> None:
    async with slow_partners() as partners:
        batch = Batch(faults, "worker SIGTERM", BATCH)
        first = await faults.start_worker(env=partner_env(partners))
        second = await faults.start_worker(env=partner_env(partners))
        await batch.start()
        await batch.play()
        await batch.wait_for_rows(batch.strike_point(batch.cases))

        first.terminate()
        assert await first.wait(45) == 0, first.tail()
        assert first.logged("worker gestopt"), first.tail()
        finished = finished_after_stop(first)
        # Tasks Temporal handed to a poll the worker still had open as it left: retried elsewhere after 30 s.
        left_behind = await batch.activities_held_by(first)

        await batch.finish(within=150)
        repeats = await check_partners(batch, partners)
        rows = await batch.registration_rows()
    outcome = await batch.verify(
        note=f"exit 0; {finished} activiteiten afgerond na SIGTERM, {left_behind} aan een oude poll toegewezen"
    )
    outcome.assert_clean()
    assert finished > 0, "niets liep nog toen de worker stopte: dan toetst dit niets"
    # What the stopped worker had started, it finished: no call was made twice, none had to be tried again.
    assert repeats == 0
    assert all(row["pogingen"] == 1 for row in rows)
    assert second.returncode is None  # the second worker carried the rest
