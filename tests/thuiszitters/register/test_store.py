"""The case register on a real PostgreSQL: migrations, idempotent recording, tasks, the once-only ledger."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta
from typing import Any

from temporalio.testing import ActivityEnvironment

from activities.case_activities import CaseActivities
from tests.fixtures.postgres import fresh_database
from thuiszitters.register.store import Register, load_migrations
from thuiszitters.settings import Settings
from workflows.contract import Escalatie, Regiehouder, Regio, Rol, Sector, Taak, Uitkomst
from workflows.effects import Actie, Registratie, RegistratieUitkomst, Systeem, Vastlegging

CASE_ID = "thuiszitter-LL0042/case-1"
T0 = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)


def vastlegging(volgnummer: int, **changes: Any) -> Vastlegging:
    fields: dict[str, Any] = {
        "sleutel": f"{CASE_ID}/{volgnummer}/vastlegging",
        "case_id": CASE_ID,
        "volgnummer": volgnummer,
        "leerling_ref": "LL0042",
        "workflow_id": "thuiszitter-LL0042",
        "tijd": T0 + timedelta(days=volgnummer),
        "gebeurtenis": "melding",
        "door": "school",
        "sector": Sector.PO,
        "regio": Regio.NOORD,
        "school_brin": "12AB",
        "leerplichtig": True,
        "startdatum": date(2025, 2, 3),
        "fase": 1,
        "regiehouder": Regiehouder.SCHOOL,
        "escalatie": Escalatie.GEEN,
        "route": None,
        "wachtlijst": False,
        "afgesloten": False,
        "uitkomst": None,
        "open_taken": [],
    }
    fields.update(changes)
    return Vastlegging(**fields)


def taak(rol: Rol, code: str, uiterlijk: date | None = None) -> Taak:
    return Taak(rol=rol, taak=code, omschrijving=code.replace("_", " "), uiterlijk=uiterlijk)


# ------------------------------------------------------------------------------------------------ migrations


async def test_migrations_apply_once_and_then_none_are_pending(postgres_dsn: str) -> None:
    async with fresh_database(postgres_dsn, migrate=False) as database:
        register = database.register
        all_names = [m.name for m in load_migrations()]
        assert "001_case_register" in all_names
        assert await register.pending_migrations() == all_names

        assert await register.migrate() == all_names
        assert await register.pending_migrations() == []
        assert await register.migrate() == []

        versions = await register.pool.fetch("SELECT version, name FROM schema_migrations ORDER BY version")
        assert [row["name"] for row in versions] == all_names


async def test_workers_starting_together_apply_each_migration_once(postgres_dsn: str) -> None:
    async with fresh_database(postgres_dsn, migrate=False) as database:
        registers = [await Register.connect(database.dsn) for _ in range(4)]
        try:
            results = await asyncio.gather(*(r.migrate() for r in registers))
            applied = [migration for result in results for migration in result]
            assert sorted(applied) == sorted(m.name for m in load_migrations())
        finally:
            for register in registers:
                await register.close()


async def test_case_activities_create_brings_a_fresh_database_up_to_date(postgres_dsn: str) -> None:
    async with fresh_database(postgres_dsn, migrate=False) as database:
        activities = await CaseActivities.create(Settings(database_url=database.dsn))
        try:
            assert await activities.register.pending_migrations() == []
        finally:
            await activities.close()


# ------------------------------------------------------------------------------------------------ recording


async def test_recording_the_same_vastlegging_twice_keeps_one_row(register: Register) -> None:
    v = vastlegging(1)
    assert await register.record(v) is True
    assert await register.record(v) is False

    counts = await register.count_effects(CASE_ID)
    assert counts.events == 1
    events = await register.events_for(CASE_ID)
    assert [(e.volgnummer, e.gebeurtenis, e.door) for e in events] == [(1, "melding", "school")]
    case = await register.case(CASE_ID)
    assert case is not None
    assert (case.fase, case.regiehouder, case.laatste_volgnummer) == (1, "school", 1)
    assert case.geopend_op == v.tijd


async def test_vastleggen_activity_is_idempotent(register: Register) -> None:
    activities = CaseActivities(Settings(), register)
    env = ActivityEnvironment()
    v = vastlegging(1, open_taken=[taak(Rol.SCP, "hulpvraag_registreren")])
    await env.run(activities.vastleggen, v)
    await env.run(activities.vastleggen, v)
    counts = await register.count_effects(CASE_ID)
    assert (counts.events, counts.open_tasks) == (1, 1)
    await activities.close()


async def test_a_late_older_vastlegging_never_turns_the_case_back(register: Register) -> None:
    newer = vastlegging(2, gebeurtenis="oudergesprek", fase=2, open_taken=[taak(Rol.SCHOOL, "plan_opstellen")])
    older = vastlegging(1, gebeurtenis="melding", fase=1, open_taken=[taak(Rol.SCHOOL, "oudergesprek")])
    assert await register.record(newer) is True
    assert await register.record(older) is True

    case = await register.case(CASE_ID)
    assert case is not None
    assert (case.fase, case.laatste_volgnummer) == (2, 2)
    assert case.geopend_op == older.tijd  # first seen: the earliest event, even when it arrives last
    assert [e.volgnummer for e in await register.events_for(CASE_ID)] == [1, 2]
    assert [t.taak for t in await register.tasks_for(CASE_ID)] == ["plan_opstellen"]


async def test_open_tasks_of_the_latest_vastlegging_replace_the_previous_ones(register: Register) -> None:
    await register.record(
        vastlegging(
            1,
            open_taken=[
                taak(Rol.SCHOOL, "oudergesprek_organiseren", date(2025, 3, 17)),
                taak(Rol.SCP, "hulpvraag_registreren", date(2025, 3, 10)),
            ],
        )
    )
    await register.record(
        vastlegging(
            2,
            gebeurtenis="startdatum_correctie",
            open_taken=[
                taak(Rol.SCHOOL, "oudergesprek_organiseren", date(2025, 3, 24)),  # deadline moved
                taak(Rol.LEERPLICHT, "lba_registreren"),
            ],
        )
    )
    open_tasks = {(t.rol, t.taak): t for t in await register.tasks_for(CASE_ID)}
    assert set(open_tasks) == {("school", "oudergesprek_organiseren"), ("leerplicht", "lba_registreren")}
    assert open_tasks[("school", "oudergesprek_organiseren")].uiterlijk == date(2025, 3, 24)
    # the task kept open is the same task, opened by the first Vastlegging
    assert open_tasks[("school", "oudergesprek_organiseren")].geopend_op == T0 + timedelta(days=1)

    all_tasks = await register.tasks_for(CASE_ID, open_only=False)
    closed = [t for t in all_tasks if t.gesloten_op is not None]
    assert [(t.rol, t.taak, t.gesloten_op) for t in closed] == [
        ("scp", "hulpvraag_registreren", T0 + timedelta(days=2))
    ]

    await register.record(vastlegging(3, gebeurtenis="passende_plek", open_taken=[]))
    counts = await register.count_effects(CASE_ID)
    assert (counts.open_tasks, counts.closed_tasks) == (0, 3)


async def test_escalations_are_kept_once_per_level(register: Register) -> None:
    await register.record(vastlegging(1))
    await register.record(vastlegging(2, gebeurtenis="opschalen", escalatie=Escalatie.COORDINATOR))
    await register.record(vastlegging(3, gebeurtenis="voortgang", escalatie=Escalatie.COORDINATOR))
    await register.record(
        vastlegging(4, gebeurtenis="opschalen", escalatie=Escalatie.TASKFORCE, regiehouder=Regiehouder.TASKFORCE)
    )
    escalations = await register.escalations_for(CASE_ID)
    assert escalations == {"coordinator": T0 + timedelta(days=2), "taskforce": T0 + timedelta(days=4)}
    case = await register.case(CASE_ID)
    assert case is not None
    assert (case.escalatie, case.regiehouder) == ("taskforce", "taskforce")


async def test_a_closed_case_leaves_the_open_overview(register: Register) -> None:
    await register.record(vastlegging(1))
    assert [c.case_id for c in await register.open_cases("Noord")] == [CASE_ID]
    assert await register.open_cases("Zuid") == []

    closing = vastlegging(2, gebeurtenis="passende_plek", fase=4, afgesloten=True, uitkomst=Uitkomst.TERUG_OP_SCHOOL)
    await register.record(closing)
    case = await register.case(CASE_ID)
    assert case is not None
    assert (case.afgesloten, case.uitkomst, case.afgesloten_op) == (True, "terug_op_school", closing.tijd)
    assert await register.open_cases() == []


# --------------------------------------------------------------------------------------------- the ledger


def registratie(sleutel: str = f"{CASE_ID}/1/kindkans_hulpvraag") -> Registratie:
    return Registratie(
        sleutel=sleutel,
        case_id=CASE_ID,
        leerling_ref="LL0042",
        systeem=Systeem.KINDKANS,
        actie=Actie.HULPVRAAG_AANMAKEN,
        gegevens={"startdatum": date(2025, 2, 3), "school_brin": "12AB"},
    )


async def test_claiming_a_registration_twice_returns_the_stored_outcome(register: Register) -> None:
    r = registratie()
    assert await register.claim_registration(r) is None
    outcome = RegistratieUitkomst(sleutel=r.sleutel, verzonden=True, antwoord_status=201, kenmerk="KK-77")
    await register.finish_registration(r.sleutel, outcome)

    assert await register.claim_registration(r) == outcome
    row = await register.registration(r.sleutel)
    assert row is not None
    assert (row.status, row.pogingen, row.kenmerk) == ("verzonden", 1, "KK-77")
    assert row.gegevens == {"startdatum": "2025-02-03", "school_brin": "12AB"}
    assert row.verzonden_op is not None


async def test_a_failed_registration_may_be_claimed_again(register: Register) -> None:
    r = registratie()
    assert await register.claim_registration(r) is None
    await register.fail_registration(r.sleutel, "Registratie geweigerd (HTTP 422)")
    row = await register.registration(r.sleutel)
    assert row is not None
    assert (row.status, row.fout) == ("mislukt", "Registratie geweigerd (HTTP 422)")

    assert await register.claim_registration(r) is None
    await register.finish_registration(r.sleutel, RegistratieUitkomst(sleutel=r.sleutel, verzonden=False))
    row = await register.registration(r.sleutel)
    assert row is not None
    assert (row.status, row.pogingen, row.fout, row.verzonden_op) == ("niet_verzonden", 2, None, None)
    stored = await register.claim_registration(r)
    assert stored is not None
    assert stored.verzonden is False
