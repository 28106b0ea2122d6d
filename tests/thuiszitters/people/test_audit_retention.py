"""Retention and the audit log: when a case is anonymised, its audit rows keep what happened (when, which role,
which channel, what, with what result) but no longer who, nor which case it was; and the chain still verifies."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from tests.thuiszitters.tools.test_retention import Case, record_case, ref
from thuiszitters.people.audit import AuditLog
from thuiszitters.register.store import Register
from thuiszitters.tools.retention import DEFAULT_PERIOD_DAYS, RetentionResult, apply_retention, summary
from workflows.contract import Regio, Sector

NOW = datetime.now(UTC)


async def closed_case(register: Register, *, days_ago: int) -> Case:
    return await record_case(
        register,
        ref(),
        sector=Sector.VO,
        regio=Regio.ZUID,
        startdatum=(NOW - timedelta(days=days_ago + 100)).date(),
        opened=NOW - timedelta(days=days_ago + 95),
        closed=NOW - timedelta(days=days_ago),
    )


async def test_anonymising_a_case_leaves_no_one_who_looked_at_it_in_clear(register: Register) -> None:
    old = await closed_case(register, days_ago=1000)
    other_old = await closed_case(register, days_ago=900)
    recent = await closed_case(register, days_ago=10)
    log = AuditLog(register.pool)
    on_old = [
        await log.record("p-mentor-12ab", "school", "web", "status", old.case_id, "toegestaan"),
        await log.record("p-wijk-7", "wijkteam", "api", "documenten", old.case_id, "geweigerd", reden="geen toegang"),
        await log.record("p-mentor-12ab", "school", "web", "tijdlijn", old.case_id, "toegestaan"),
    ]
    on_other_old = await log.record("p-wijk-7", "wijkteam", "web", "status", other_old.case_id, "toegestaan")
    on_recent = await log.record("p-mentor-12ab", "school", "cli", "status", recent.case_id, "toegestaan")
    listing = await log.record("p-mentor-12ab", "school", "web", "lijst", None, "toegestaan")
    before = {row["id"]: row for row in await register.pool.fetch("SELECT * FROM audit_log")}

    dry = await retention(register, dry_run=True)
    assert dry.audit_rows == 4
    assert {row["id"]: row for row in await register.pool.fetch("SELECT * FROM audit_log")} == before

    result = await retention(register)

    assert result.anonymised == 2
    assert result.audit_rows == 4
    assert "4 auditregels met een pseudoniem voor wie keek of handelde." in summary(result)
    after = {row["id"]: row for row in await register.pool.fetch("SELECT * FROM audit_log")}
    anonymised = [after[i] for i in [*on_old, on_other_old]]
    # Who and which case are gone; a person is a pseudonym that holds only within one case.
    assert [row["persoon_id"] for row in anonymised] == [
        "geanonimiseerd-persoon-1",
        "geanonimiseerd-persoon-2",
        "geanonimiseerd-persoon-1",
        "geanonimiseerd-persoon-1",
    ]
    assert all(row["zout"] is None for row in anonymised)
    (old_new_id,) = {after[i]["case_id"] for i in on_old}
    other_new_id = after[on_other_old]["case_id"]
    assert old_new_id != other_new_id
    for new_id in (old_new_id, other_new_id):
        assert re.fullmatch(r"geanonimiseerd-[0-9]+", new_id)
        assert await register.pool.fetchval(
            "SELECT geanonimiseerd_op IS NOT NULL FROM cases WHERE case_id = $1", new_id
        )
    dump = await register.pool.fetchval("SELECT string_agg(a::text, ' ') FROM audit_log a WHERE zout IS NULL")
    for secret in ("p-mentor-12ab", "p-wijk-7", old.case_id, old.leerling_ref, other_old.leerling_ref):
        assert secret not in dump
    # What happened, and everything the chain covers, is as it was.
    covered = ("id", "tijd", "rol", "kanaal", "actie", "resultaat", "reden", "persoon_digest", "zaak_digest", "hash")
    for i in [*on_old, on_other_old]:
        assert {c: after[i][c] for c in covered} == {c: before[i][c] for c in covered}
    # Rows of a case within the period, and rows about no case, are untouched.
    assert after[on_recent] == before[on_recent] and after[listing] == before[listing]
    assert await log.verify() is None

    assert await log.who_looked_at(old.case_id) == []
    assert [r.id for r in await log.what_did("p-mentor-12ab")] == [on_recent, listing]
    assert [(r.persoon_id, r.actie) for r in await log.who_looked_at(old_new_id)] == [
        ("geanonimiseerd-persoon-1", "status"),
        ("geanonimiseerd-persoon-2", "documenten"),
        ("geanonimiseerd-persoon-1", "tijdlijn"),
    ]

    second = await retention(register)
    assert second.anonymised == 0 and second.audit_rows == 0
    assert {row["id"]: row for row in await register.pool.fetch("SELECT * FROM audit_log")} == after


async def test_the_audit_rows_of_a_case_the_register_has_not_anonymised_stay_as_they_are(register: Register) -> None:
    case = await closed_case(register, days_ago=10)
    log = AuditLog(register.pool)
    await log.record("p-mentor-12ab", "school", "web", "status", case.case_id, "toegestaan")

    for new_id in ("geanonimiseerd-1", "iets-anders"):
        with pytest.raises(asyncpg.RaiseError, match="niet geanonimiseerd"):
            await register.pool.execute("SELECT audit_anonimiseer_zaak($1, $2)", case.case_id, new_id)

    assert [r.persoon_id for r in await log.who_looked_at(case.case_id)] == ["p-mentor-12ab"]
    assert await log.verify() is None


async def retention(register: Register, *, dry_run: bool = False) -> RetentionResult:
    async with register.pool.acquire() as connection:
        return await apply_retention(connection, period_days=DEFAULT_PERIOD_DAYS, dry_run=dry_run)
