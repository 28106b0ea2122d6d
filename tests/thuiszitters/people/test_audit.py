"""The audit log on a real PostgreSQL: one unbroken hash chain, also under concurrent appends; the application's role
may only add and read; a change made behind the guards' back is found, at its row; and the command line."""

from __future__ import annotations

import asyncio
import io
import os
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from tests.fixtures.postgres import as_application_role, fresh_database, with_database
from thuiszitters.people import audit as audit_module
from thuiszitters.people.audit import GENESIS, AuditLog
from thuiszitters.register.store import Register

CASE = "thuiszitter-LA0001:7f3c1e0a-run"
OTHER_CASE = "thuiszitter-LA0002:9b2d4f1c-run"


@pytest.fixture
def log(register: Register) -> AuditLog:
    return AuditLog(register.pool)


async def fill(log: AuditLog) -> list[int]:
    """Five rows: reads of two cases, a list, a refusal."""
    return [
        await log.record("p-school-12ab", "school", "web", "status", CASE, "toegestaan"),
        await log.record("p-coord-noord", "coordinator", "api", "lijst", None, "toegestaan"),
        await log.record(
            "p-wijk-7", "wijkteam", "web", "documenten", CASE, "geweigerd", reden="de rol wijkteam mag dit niet inzien"
        ),
        await log.record("p-coord-noord", "coordinator", "cli", "tijdlijn", CASE, "toegestaan"),
        await log.record("p-school-12ab", "school", "codec", "status", OTHER_CASE, "toegestaan"),
    ]


# ------------------------------------------------------------------------------------------------ the chain


async def test_rows_are_appended_with_a_valid_chain(register: Register, log: AuditLog) -> None:
    ids = await fill(log)

    rows = await register.pool.fetch("SELECT * FROM audit_log ORDER BY id")
    assert [row["id"] for row in rows] == ids == sorted(ids)
    assert rows[0]["vorige_hash"] == GENESIS
    assert [row["vorige_hash"] for row in rows[1:]] == [row["hash"] for row in rows[:-1]]
    assert all(len(row["zout"]) == 16 for row in rows)
    assert len({row["hash"] for row in rows}) == 5
    assert [row["tijd"] for row in rows] == sorted(row["tijd"] for row in rows)
    assert await log.verify() is None


async def test_the_database_fills_in_id_time_and_hashes_whatever_the_caller_sends(
    register: Register, log: AuditLog
) -> None:
    await log.record("p-1", "school", "web", "status", CASE, "toegestaan")
    await register.pool.execute(
        """
        INSERT INTO audit_log (id, tijd, persoon_id, rol, kanaal, actie, case_id, resultaat, zout, persoon_digest,
                               vorige_hash, hash)
        VALUES (999, '2000-01-01', 'p-2', 'school', 'api', 'export', NULL, 'toegestaan', '\\x00', 'x', 'x', 'x')
        """
    )

    row = await register.pool.fetchrow("SELECT * FROM audit_log ORDER BY id DESC LIMIT 1")
    assert row is not None
    assert row["id"] == 2 and row["tijd"] > datetime.now(UTC) - timedelta(minutes=5)
    assert await log.verify() is None


async def test_what_is_not_a_channel_or_a_result_is_refused(register: Register, log: AuditLog) -> None:
    with pytest.raises(ValueError, match="onbekend kanaal 'email'"):
        await log.record("p-1", "school", "email", "status", CASE, "toegestaan")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="onbekend resultaat 'misschien'"):
        await log.record("p-1", "school", "web", "status", CASE, "misschien")  # type: ignore[arg-type]
    with pytest.raises(asyncpg.CheckViolationError):
        await register.pool.execute(
            "INSERT INTO audit_log (persoon_id, rol, kanaal, actie, resultaat) "
            "VALUES ('p', 'r', 'fax', 'a', 'geweigerd')"
        )
    assert await register.pool.fetchval("SELECT count(*) FROM audit_log") == 0


async def test_fifty_concurrent_appends_keep_one_unbroken_chain(postgres_dsn: str) -> None:
    async with fresh_database(postgres_dsn, max_size=20) as database:
        log = AuditLog(database.register.pool)

        ids = await asyncio.gather(
            *(
                log.record(f"p-{n % 7}", "coordinator", "api", "status", f"thuiszitter-L{n % 5}:run", "toegestaan")
                for n in range(50)
            )
        )

        assert sorted(ids) == list(range(1, 51))
        rows = await database.register.pool.fetch("SELECT id, vorige_hash, hash FROM audit_log ORDER BY id")
        assert [row["vorige_hash"] for row in rows] == [GENESIS, *(row["hash"] for row in rows[:-1])]
        assert await log.verify() is None


async def test_who_looked_at_a_case_and_what_a_person_did(log: AuditLog) -> None:
    ids = await fill(log)

    looked = await log.who_looked_at(CASE)
    assert [(r.id, r.persoon_id, r.rol, r.kanaal, r.actie, r.resultaat) for r in looked] == [
        (ids[0], "p-school-12ab", "school", "web", "status", "toegestaan"),
        (ids[2], "p-wijk-7", "wijkteam", "web", "documenten", "geweigerd"),
        (ids[3], "p-coord-noord", "coordinator", "cli", "tijdlijn", "toegestaan"),
    ]
    assert looked[1].reden == "de rol wijkteam mag dit niet inzien"
    assert await log.who_looked_at("thuiszitter-LA0001") == []  # a case id, not the workflow id

    did = await log.what_did("p-coord-noord")
    assert [(r.actie, r.case_id) for r in did] == [("lijst", None), ("tijdlijn", CASE)]
    assert await log.what_did("p-coord-noord", since=did[1].tijd) == did[1:]
    assert await log.what_did("p-coord-noord", since=datetime.now(UTC) + timedelta(hours=1)) == []


# ------------------------------------------------------------------------------------------------ the guards


@pytest.fixture
async def app_pool(postgres_dsn: str) -> AsyncIterator[tuple[asyncpg.Pool[asyncpg.Record], Register]]:
    """A pool on a fresh database as a login role of its own that is a member of thuiszitters_app (dropped after)."""
    async with (
        fresh_database(postgres_dsn) as database,
        as_application_role(postgres_dsn, database.dsn, "audit_test") as dsn,
    ):
        pool = await asyncpg.create_pool(dsn, min_size=1, max_size=2)
        try:
            assert await pool.fetchval("SELECT current_user") != "postgres"
            yield pool, database.register
        finally:
            await pool.close()


async def test_the_applications_role_may_add_and_read_but_not_change_or_remove(
    app_pool: tuple[asyncpg.Pool[asyncpg.Record], Register],
) -> None:
    pool, register = app_pool
    log = AuditLog(pool)

    first = await log.record("p-1", "school", "web", "status", CASE, "toegestaan")
    await pool.execute(
        "INSERT INTO audit_log (persoon_id, rol, kanaal, actie, case_id, resultaat) "
        "VALUES ('p-2', 'scp', 'api', 'export', NULL, 'toegestaan')"
    )
    assert [row["persoon_id"] for row in await pool.fetch("SELECT persoon_id FROM audit_log ORDER BY id")] == [
        "p-1",
        "p-2",
    ]
    assert [r.id for r in await log.who_looked_at(CASE)] == [first]

    for statement in (
        "UPDATE audit_log SET actie = 'niets'",
        "DELETE FROM audit_log",
        "TRUNCATE audit_log",
    ):
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await pool.execute(statement)
    # Nor through the anonymisation path: the case is not anonymised in the register.
    with pytest.raises(asyncpg.RaiseError, match="niet geanonimiseerd"):
        await pool.execute("SELECT audit_anonimiseer_zaak($1, 'geanonimiseerd-1')", CASE)

    assert await log.verify() is None
    assert await register.pool.fetchval("SELECT count(*) FROM audit_log") == 2


async def test_even_the_owner_cannot_change_remove_or_empty_rows(register: Register, log: AuditLog) -> None:
    ids = await fill(log)

    for statement in (
        "UPDATE audit_log SET actie = 'niets'",
        "DELETE FROM audit_log",
        "TRUNCATE audit_log",
    ):
        with pytest.raises(asyncpg.RaiseError, match="het auditlog wordt alleen aangevuld"):
            await register.pool.execute(statement)
    # The anonymisation's switch allows only the anonymisation: here the action would change too.
    async with register.pool.acquire() as connection, connection.transaction():
        await connection.execute("SELECT set_config('thuiszitters.audit_anonimiseren', 'aan', true)")
        with pytest.raises(asyncpg.RaiseError, match="UPDATE is niet toegestaan"):
            await connection.execute(
                "UPDATE audit_log SET persoon_id = 'geanonimiseerd-persoon-1', case_id = 'geanonimiseerd-1', "
                "zout = NULL, actie = 'niets' WHERE id = $1",
                ids[0],
            )
    assert await log.verify() is None


async def test_the_migration_creates_the_role_once_for_the_whole_server(postgres_dsn: str) -> None:
    """Roles belong to the server: a second database (both migrating at once) finds the role there and grants to it."""
    async with (
        fresh_database(postgres_dsn, migrate=False) as one,
        fresh_database(postgres_dsn, migrate=False) as two,
    ):
        await asyncio.gather(one.register.migrate(), two.register.migrate())
        for database in (one, two):
            grants = await database.register.pool.fetch(
                "SELECT privilege_type FROM information_schema.role_table_grants "
                "WHERE grantee = 'thuiszitters_app' AND table_name = 'audit_log' ORDER BY 1"
            )
            assert [row["privilege_type"] for row in grants] == ["INSERT", "SELECT"]
    admin = await asyncpg.connect(postgres_dsn)
    try:
        role = await admin.fetchrow("SELECT rolcanlogin FROM pg_roles WHERE rolname = 'thuiszitters_app'")
    finally:
        await admin.close()
    assert role is not None and role["rolcanlogin"] is False


# ------------------------------------------------------------------------------------------------ tampering


async def tamper(register: Register, *statements: str) -> None:
    """Change rows as the superuser, with the guard switched off for a moment."""
    async with register.pool.acquire() as connection, connection.transaction():
        await connection.execute("ALTER TABLE audit_log DISABLE TRIGGER audit_log_alleen_toevoegen")
        for statement in statements:
            await connection.execute(statement)
        await connection.execute("ALTER TABLE audit_log ENABLE TRIGGER audit_log_alleen_toevoegen")


@pytest.mark.parametrize(
    ("statements", "named", "reason"),
    [
        pytest.param(
            ["UPDATE audit_log SET actie = 'status' WHERE id = {id}"], 0, "klopt niet met de hash", id="actie"
        ),
        pytest.param(
            ["UPDATE audit_log SET resultaat = 'toegestaan', reden = NULL WHERE id = {id}"],
            0,
            "klopt niet met de hash",
            id="resultaat",
        ),
        pytest.param(
            ["UPDATE audit_log SET tijd = tijd - interval '1 day' WHERE id = {id}"],
            0,
            "klopt niet met de hash",
            id="tijd",
        ),
        pytest.param(
            ["UPDATE audit_log SET persoon_id = 'p-iemand-anders' WHERE id = {id}"],
            0,
            "de persoon is veranderd",
            id="persoon",
        ),
        pytest.param(
            [f"UPDATE audit_log SET case_id = '{OTHER_CASE}' WHERE id = {{id}}"], 0, "de zaak is veranderd", id="zaak"
        ),
        pytest.param(["UPDATE audit_log SET zout = NULL WHERE id = {id}"], 0, "niet geanonimiseerd", id="zout-gewist"),
        pytest.param(["DELETE FROM audit_log WHERE id = {id}"], 1, "daartussen is een regel verwijderd", id="weg"),
        pytest.param(
            [
                "UPDATE audit_log SET actie = 'status' WHERE id = {id}",
                "UPDATE audit_log a SET hash = encode(sha256(convert_to(audit_log_inhoud(a), 'UTF8')), 'hex') "
                "WHERE id = {id}",
            ],
            1,
            "verwijst niet naar de hash van regel",
            id="hash-herberekend",
        ),
        pytest.param(["DELETE FROM audit_log WHERE id < {id}"], 0, "regels aan het begin zijn verwijderd", id="begin"),
    ],
)
async def test_a_row_changed_behind_the_guards_back_is_named(
    register: Register, log: AuditLog, statements: list[str], named: int, reason: str
) -> None:
    ids = await fill(log)
    target = ids[2]

    await tamper(register, *(statement.format(id=target) for statement in statements))

    breuk = await log.verify()
    assert breuk is not None
    assert breuk.id == ids[2 + named]
    assert reason in breuk.reden
    assert str(breuk).startswith(f"regel {breuk.id}: ")


# ------------------------------------------------------------------------------------------------ command line


async def run_main(
    register: Register, postgres_dsn: str, monkeypatch: pytest.MonkeyPatch, *argv: str
) -> tuple[int, str]:
    database = await register.pool.fetchval("SELECT current_database()")
    monkeypatch.setenv("DATABASE_URL", with_database(postgres_dsn, database))
    out = io.StringIO()
    code = await audit_module.main(list(argv), out=out)
    return code, out.getvalue()


async def test_the_command_line_shows_who_looked_at_a_case_and_what_a_person_did(
    register: Register, log: AuditLog, postgres_dsn: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    await fill(log)

    code, text = await run_main(register, postgres_dsn, monkeypatch, "zaak", CASE)
    assert code == 0
    lines = text.splitlines()
    assert lines[0] == f"Wie keek naar zaak {CASE} (3 regels):"
    assert lines[1].split() == ["regel", "tijd", "persoon", "rol", "kanaal", "actie", "resultaat", "reden"]
    assert [line.split()[3:7] for line in lines[3:]] == [
        ["p-school-12ab", "school", "web", "status"],
        ["p-wijk-7", "wijkteam", "web", "documenten"],
        ["p-coord-noord", "coordinator", "cli", "tijdlijn"],
    ]
    assert lines[4].split(maxsplit=8)[7:] == ["geweigerd", "de rol wijkteam mag dit niet inzien"]

    code, text = await run_main(
        register, postgres_dsn, monkeypatch, "persoon", "p-coord-noord", "--sinds", "2020-01-01"
    )
    assert code == 0
    assert text.splitlines()[0] == "Wat p-coord-noord deed sinds 2020-01-01 (2 regels):"
    assert CASE in text and "lijst" in text

    code, text = await run_main(register, postgres_dsn, monkeypatch, "zaak", "thuiszitter-onbekend:run")
    assert (code, text) == (0, "Geen regels over zaak thuiszitter-onbekend:run.\n")

    code, text = await run_main(register, postgres_dsn, monkeypatch, "controleer")
    assert (code, text) == (0, "Keten in orde: 5 regels gecontroleerd.\n")


async def test_the_command_line_exits_1_on_a_broken_chain_and_names_the_row(
    register: Register, log: AuditLog, postgres_dsn: str
) -> None:
    ids = await fill(log)
    await tamper(register, f"UPDATE audit_log SET persoon_id = 'p-iemand-anders' WHERE id = {ids[3]}")
    database = await register.pool.fetchval("SELECT current_database()")

    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "thuiszitters.people.audit",
        "controleer",
        env={**os.environ, "DATABASE_URL": with_database(postgres_dsn, database)},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=60)

    assert process.returncode == 1, stderr.decode()
    assert stdout.decode() == (
        f"Keten gebroken bij regel {ids[3]}: de persoon is veranderd (klopt niet met de vingerafdruk)\n"
    )


async def test_the_command_line_without_a_database_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    assert await audit_module.main(["controleer"], out=io.StringIO()) == 2
