"""Workers that die or are told to stop while a batch of cases is in full swing.

- SIGKILL mid-flight: the activities the dead worker had started are retried on a new worker once their
  start-to-close timeout (30 s) has passed; events sent while no worker runs wait in Temporal.
- SIGTERM (graceful): the worker lets what it runs finish and exits 0; a second worker carries on.

The registration calls go to the stand-in partner systems of ``tests/outside.py``, each worker on a URL of its own.
The partners hold the answers to the first Kindkans updates of the worker to be hit, and the worker is hit once they
hold them: so calls of that worker are in flight when it is hit, every time. Each case runs a fixed script of events
(``tests.faults.SCRIPTS``); afterwards every case must have ended as its events call for, with each effect in the
case register exactly once and each registration processed once by its partner system.
"""

from __future__ import annotations

import signal

import pytest

from tests.faults import (
    HELD_PATH,
    PARTNER_TIMEOUT_SECONDS,
    Batch,
    FaultStack,
    WorkerProcess,
    held_requests,
    longest_hold,
    partner_env,
)
from tests.outside import PartnerSystems

pytestmark = [pytest.mark.fault, pytest.mark.asyncio(loop_scope="session")]

BATCH = 100
HOLD = 5
"""Calls of the worker to be hit that the partners hold; it is hit once they hold all of them."""


def finished_after_stop(worker: WorkerProcess) -> int:
    """Activities the worker completed after it was told to stop."""
    lines = worker.log.read_text(encoding="utf-8", errors="replace").splitlines()
    stop = next(i for i, line in enumerate(lines) if "worker stopt" in line)
    done = ('"registratie_gedaan"', '"bericht_verzonden"', '"vastgelegd"')
    return sum(1 for line in lines[stop:] if any(event in line for event in done))


async def test_a_worker_killed_mid_flight_loses_nothing_and_does_nothing_twice(faults: FaultStack) -> None:
    async with PartnerSystems() as partners:
        partners.hold(path=HELD_PATH, caller="eerste", times=HOLD)
        batch = Batch(faults, "worker SIGKILL", BATCH)
        first = await faults.start_worker(env=partner_env(partners, "eerste"))
        late = await batch.first_half_in_flight(partners, HOLD)

        first.kill()
        assert await first.wait(10) == -signal.SIGKILL
        waited = longest_hold(partners.holding)
        held = partners.release()  # the answers go to a connection that is gone
        assert waited < PARTNER_TIMEOUT_SECONDS, f"{waited:.0f} s vastgehouden: langer dan de worker wacht"
        in_flight = await batch.activities_held_by(first)
        # The held calls at least: Temporal holds them as started by the dead worker, not completed.
        assert in_flight >= len(held) > 0, "de worker is gestopt zonder lopende activiteiten: dan toetst dit niets"

        await batch.play(late)  # no worker runs: these events wait in Temporal
        await faults.start_worker(env=partner_env(partners, "tweede"))
        await batch.finish(within=150)
        retried = await batch.retried_activities()
        repeats = await batch.check_partners(partners)
    outcome = await batch.verify(
        note=f"{in_flight} activiteiten liepen bij de kill ({len(held)} vastgehouden, tot {waited:.1f} s), "
        f"{retried} opnieuw gedaan, "
        f"{repeats} verzoeken herhaald"
    )
    outcome.assert_clean()
    # What the dead worker had started was done again by the new one: once more, never twice in the register.
    assert retried >= in_flight
    # The held calls had been processed by the partner: the new worker's retry of each was recognised as a repeat.
    assert repeats >= len(held)


async def test_a_worker_stopped_with_sigterm_finishes_its_work_and_exits_zero(faults: FaultStack) -> None:
    async with PartnerSystems() as partners:
        partners.hold(path=HELD_PATH, caller="eerste", times=HOLD)
        batch = Batch(faults, "worker SIGTERM", BATCH)
        first = await faults.start_worker(env=partner_env(partners, "eerste"))
        second = await faults.start_worker(env=partner_env(partners, "tweede"))
        await batch.start()
        await batch.play()
        await held_requests(partners, HOLD)

        first.terminate()
        await first.stopping()  # it polls no more: only now do the held calls get their answer
        waited = longest_hold(partners.holding)
        held = partners.release()
        assert waited < PARTNER_TIMEOUT_SECONDS, f"{waited:.0f} s vastgehouden: langer dan de worker wacht"
        assert await first.wait(45) == 0, first.tail()
        assert first.logged("worker gestopt"), first.tail()
        finished = finished_after_stop(first)
        # Tasks Temporal handed to a poll the worker still had open as it left: retried elsewhere after 30 s.
        left_behind = await batch.activities_held_by(first)

        await batch.finish(within=150)
        repeats = await batch.check_partners(partners)
        rows = await batch.registration_rows()
    outcome = await batch.verify(
        note=f"exit 0; {finished} activiteiten afgerond na SIGTERM ({len(held)} vastgehouden, tot {waited:.1f} s), "
        f"{left_behind} aan een oude poll toegewezen"
    )
    outcome.assert_clean()
    assert finished >= len(held) > 0, "niets liep nog toen de worker stopte: dan toetst dit niets"
    # What the stopped worker had started, it finished: no call was made twice, none had to be tried again.
    assert repeats == 0
    assert all(row["pogingen"] == 1 for row in rows)
    assert second.returncode is None  # the second worker carried the rest
