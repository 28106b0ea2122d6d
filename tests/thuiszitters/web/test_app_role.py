"""The web application as it runs in production: connected as a login role that is a member of ``thuiszitters_app``
(docs/people.md, "Audit log"), never as the owner of the tables. What migration 006 grants is enough to set a
password, log in, keep and end a session, store who logged in through the provider and write the audit log."""

from __future__ import annotations

import asyncpg

from tests.fixtures.postgres import as_application_role, fresh_database
from tests.thuiszitters.web.helpers import (
    FAST_HASHER,
    client_for,
    form_token,
    local_login,
    persoon,
    settings_for,
    store,
)
from thuiszitters.people.directory import Directory, RolScope
from thuiszitters.register.store import Register
from thuiszitters.web.accounts import MAX_ATTEMPTS, LocalAccounts
from thuiszitters.web.app import create_app
from thuiszitters.web.auth import person_from_claims

PASSWORD = "een-lang-wachtwoord-1"


async def test_the_web_application_works_as_a_member_of_the_applications_role(postgres_dsn: str) -> None:
    async with fresh_database(postgres_dsn) as database:
        await store(database.register, persoon("scp-99aa-01", "Demo SCP", RolScope(rol="scp", scholen=("99AA",))))
        async with as_application_role(postgres_dsn, database.dsn, "web_test") as dsn:
            pool = await asyncpg.create_pool(dsn, min_size=1, max_size=3)
            try:
                assert await pool.fetchval("SELECT current_user") != "postgres"
                accounts = LocalAccounts(pool, FAST_HASHER)
                await accounts.set_password("scp-99aa-01", PASSWORD)
                async with client_for(create_app(settings_for(), Register(pool), hasher=FAST_HASHER)) as http:
                    assert (await local_login(http, "scp-99aa-01", PASSWORD)).status_code == 303
                    start = await http.get("/")
                    assert start.status_code == 200
                    assert (await http.post("/uitloggen", data={"csrf": form_token(start)})).status_code == 303
                    for _ in range(MAX_ATTEMPTS + 1):
                        assert (await local_login(http, "scp-99aa-01", "verkeerd")).status_code == 401
                directory = Directory(pool)
                known = await directory.get("scp-99aa-01")
                assert await directory.upsert(person_from_claims(known, {"sub": "scp-99aa-01", "name": "Nieuw"})) == (
                    "bijgewerkt"
                )
                new = person_from_claims(None, {"sub": "prs-1", "name": "Nieuw", "rol": "scp", "scholen": "99AB"})
                assert await directory.upsert(new) == "nieuw"
                # the login, the view of "Mijn taken", the logout, and every refused login
                assert await pool.fetchval("SELECT count(*) FROM audit_log") == 3 + MAX_ATTEMPTS + 1
            finally:
                await pool.close()
