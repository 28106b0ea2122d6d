"""Each pupil's latest case in the API's memory (:mod:`thuiszitters.register.latest`), against a real PostgreSQL:
filled with the open cases when it starts, fresh after every change of what the policy reads (by the register's
notifications, migration 010), untouched by the updates every event makes, and read from the register whenever its
listening connection is gone."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

import asyncpg
import pytest

from tests.fixtures.postgres import fresh_database
from thuiszitters.register.latest import LatestCase, LatestCases
from thuiszitters.register.store import Register

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def insert(register: Register, ref: str, *, school: str = "99AA", afgesloten: bool = False, dag: int = 1) -> str:
    case_id = f"thuiszitter-{ref}:run-{dag}"
    await register.pool.execute(
        """
        INSERT INTO cases (case_id, workflow_id, leerling_ref, sector, regio, school_brin, leerplichtig, startdatum,
                           fase, regiehouder, escalatie, wachtlijst, afgesloten, laatste_volgnummer, geopend_op,
                           bijgewerkt_op, contract_versie)
        VALUES ($1, $2, $3, 'PO', 'Noord', $4, true, current_date, 1, 'school', 'geen', false, $5, 1,
                now() - make_interval(days => 100 - $6), now(), 2)
        """,
        case_id,
        f"thuiszitter-{ref}",
        ref,
        school,
        afgesloten,
        dag,
    )
    return case_id


async def until(probe: Callable[[], Awaitable[bool]], what: str, within: float = 10) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while not await probe():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"niet binnen {within} s: {what}")
        await asyncio.sleep(0.02)


@pytest.fixture
async def database(postgres_dsn: str) -> AsyncIterator[tuple[str, Register]]:
    async with fresh_database(postgres_dsn) as fresh:
        yield fresh.dsn, fresh.register


async def test_filled_at_the_start_and_answered_from_memory(database: tuple[str, Register]) -> None:
    dsn, register = database
    open_id = await insert(register, "L100")
    await insert(register, "L200", afgesloten=True)
    async with LatestCases(register.pool, dsn) as latest:
        assert latest.live and len(latest) == 1  # the open cases; a closed one is read when asked for
        case = await latest.get("L100")
        assert case is not None and case.case_id == open_id and case.facts is not None
        assert case.facts.school_brin == "99AA"
        assert (latest.hits, latest.reads) == (1, 0)
        closed = await latest.get("L200")
        assert closed is not None and closed.facts is not None and closed.facts.afgesloten
        assert await latest.get("L999") is None
        assert latest.reads == 2
        # A closed case or none at all is read every time: a new case counts once the register has it.
        await latest.get("L200")
        await latest.get("L999")
        assert latest.reads == 4
        new_id, second_id = await insert(register, "L999"), await insert(register, "L200", dag=2)
        assert (case := await latest.get("L999")) is not None and case.case_id == new_id
        assert (case := await latest.get("L200")) is not None and case.case_id == second_id


async def test_a_change_of_what_the_policy_reads_is_seen_at_once(database: tuple[str, Register]) -> None:
    dsn, register = database
    await insert(register, "L100")
    async with LatestCases(register.pool, dsn) as latest:

        async def school_is(brin: str) -> bool:
            case = await latest.get("L100")
            return case is not None and case.facts is not None and case.facts.school_brin == brin

        assert await school_is("99AA")
        await register.pool.execute("UPDATE cases SET school_brin = '99AB' WHERE leerling_ref = 'L100'")
        await until(lambda: school_is("99AB"), "de nieuwe school")
        await register.pool.execute(
            """UPDATE cases SET toegewezen = '{"scp": "scp-noord-01"}'::jsonb WHERE leerling_ref = 'L100'"""
        )

        async def assigned() -> bool:
            case = await latest.get("L100")
            return case is not None and case.facts is not None and case.facts.toegewezen == {"scp": "scp-noord-01"}

        await until(assigned, "de toegewezen SCP")
        # A pupil unknown a moment ago: their new case counts as soon as the register has it (read, not kept).
        assert await latest.get("L300") is None
        new_id = await insert(register, "L300")

        async def arrived() -> bool:
            case = await latest.get("L300")
            return case is not None and case.case_id == new_id

        await until(arrived, "de nieuwe zaak")
        # A later case of the same pupil is their latest; the closed one is no longer.
        await register.pool.execute("UPDATE cases SET afgesloten = true WHERE leerling_ref = 'L300'")
        second = await insert(register, "L300", dag=2)

        async def second_is_latest() -> bool:
            case = await latest.get("L300")
            return case is not None and case.case_id == second

        await until(second_is_latest, "de tweede zaak van dezelfde leerling")
        # Retention deletes a case: it is gone.
        await register.pool.execute("DELETE FROM cases WHERE leerling_ref = 'L100'")

        async def gone() -> bool:
            return await latest.get("L100") is None

        await until(gone, "de verwijderde zaak weg")


async def test_the_updates_of_every_event_announce_nothing(database: tuple[str, Register]) -> None:
    dsn, register = database
    await insert(register, "L100")
    listener = await asyncpg.connect(dsn)
    try:
        heard: list[str] = []
        await listener.add_listener("zaak_feiten", lambda *args: heard.append(args[3]))
        await register.pool.execute(
            "UPDATE cases SET fase = 2, laatste_volgnummer = 7, bijgewerkt_op = now(), regiehouder = 'wijkteam' "
            "WHERE leerling_ref = 'L100'"
        )
        await register.pool.execute("UPDATE cases SET escalatie = 'taskforce' WHERE leerling_ref = 'L100'")
        await until(lambda: _true(bool(heard)), "een melding van de escalatie")
        await asyncio.sleep(0.2)
        assert heard == ["L100"]  # the escalation; not the event's own update
    finally:
        await listener.close()


async def test_without_its_connection_every_lookup_reads_the_register(database: tuple[str, Register]) -> None:
    dsn, register = database
    await insert(register, "L100")
    async with LatestCases(register.pool, dsn) as latest:
        assert latest.live
        pid = await register.pool.fetchval(
            "SELECT pid FROM pg_stat_activity WHERE query LIKE 'LISTEN%' AND datname = current_database()"
        )
        assert pid is not None
        await register.pool.execute("SELECT pg_terminate_backend($1)", pid)
        await until(lambda: _true(not latest.live), "de cache niet meer live")
        # A change while nobody listens: the lookup reads the register and sees it.
        await register.pool.execute("UPDATE cases SET school_brin = '99AB' WHERE leerling_ref = 'L100'")
        reads = latest.reads
        case = await latest.get("L100")
        assert case is not None and case.facts is not None and case.facts.school_brin == "99AB"
        assert latest.reads == reads + 1
        await until(lambda: _true(latest.live), "weer live na het herstel van de verbinding")
        case = await latest.get("L100")
        assert case is not None and case.facts is not None and case.facts.school_brin == "99AB"


async def test_a_row_that_does_not_say_enough_has_no_facts() -> None:
    row = {
        "case_id": "c",
        "workflow_id": "w",
        "sector": "PO",
        "regio": "nergens",
        "school_brin": "99AA",
        "toegewezen": {},
        "escalatie": "geen",
        "afgesloten": False,
        "route": None,
    }
    assert LatestCase.of(row).facts is None  # type: ignore[arg-type]


async def _true(value: bool) -> bool:
    return value
