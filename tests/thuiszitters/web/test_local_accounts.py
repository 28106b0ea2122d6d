"""Local accounts on a real register: argon2id hashes only, a minimum length, the lock after five failed attempts
(stored in the register, so it holds for every process), one argon2 check per attempt whatever the outcome, one
Dutch message for every refusal, and exactly one audit row per attempt."""

from __future__ import annotations

import asyncio
import io
from datetime import UTC, datetime, timedelta
from typing import Literal

import httpx
import pytest
from argon2 import PasswordHasher

from tests.fixtures.postgres import with_database
from tests.thuiszitters.web.helpers import (
    FAST_HASHER,
    MakeApp,
    audit_rows,
    client_for,
    form_token,
    local_login,
    persoon,
    store,
    summary,
    text_of,
    verify_chain,
)
from thuiszitters.people.directory import Directory, RolScope
from thuiszitters.register.store import Register
from thuiszitters.settings import Settings
from thuiszitters.web.__main__ import read_password, set_password
from thuiszitters.web.accounts import LOCK_MINUTES, MAX_ATTEMPTS, LocalAccounts, WachtwoordFout
from thuiszitters.web.app import REFUSED_LOGIN

SCP = persoon("scp-99aa-01", "Demo SCP", RolScope(rol="scp", scholen=("99AA",)))
ZONDER_ROL = persoon("nieuw-01", "Nog Zonder Rol")
PASSWORD = "een-lang-wachtwoord-1"
WRONG = "niet-het-wachtwoord"


class CountingHasher(PasswordHasher):
    """The fast hasher, counting its checks."""

    def __init__(self) -> None:
        super().__init__(time_cost=1, memory_cost=8 * 1024, parallelism=1)
        self.checks = 0

    def verify(self, hash: str | bytes, password: str | bytes) -> Literal[True]:
        self.checks += 1
        return super().verify(hash, password)


@pytest.fixture
async def accounts(register: Register) -> LocalAccounts:
    await store(register, SCP, ZONDER_ROL)
    accounts = LocalAccounts(register.pool, FAST_HASHER)
    assert await accounts.set_password(SCP.persoon_id, PASSWORD) == "nieuw"
    return accounts


async def test_only_an_argon2id_hash_is_stored(register: Register, accounts: LocalAccounts) -> None:
    stored = await register.pool.fetchval(
        "SELECT wachtwoord_hash FROM lokale_accounts WHERE persoon_id = $1", "scp-99aa-01"
    )
    assert stored.startswith("$argon2id$") and PASSWORD not in stored
    assert await accounts.verify("scp-99aa-01", PASSWORD)
    assert (await accounts.verify("scp-99aa-01", WRONG)).uitkomst == "verkeerd_wachtwoord"
    assert (await accounts.verify("niemand-01", PASSWORD)).uitkomst == "onbekend_account"


async def test_a_password_must_be_long_enough_and_the_person_known(accounts: LocalAccounts) -> None:
    with pytest.raises(WachtwoordFout, match="te kort: gebruik ten minste 12 tekens"):
        await accounts.set_password("scp-99aa-01", "elf-tekens!")
    with pytest.raises(WachtwoordFout, match="spatie"):
        await accounts.set_password("scp-99aa-01", " een-lang-wachtwoord")
    with pytest.raises(WachtwoordFout, match="staat niet in de personenlijst"):
        await accounts.set_password("niemand-01", PASSWORD)
    assert await accounts.set_password("scp-99aa-01", "een-ander-lang-wachtwoord") == "bijgewerkt"
    assert not await accounts.verify("scp-99aa-01", PASSWORD)
    assert await accounts.verify("scp-99aa-01", "een-ander-lang-wachtwoord")


async def test_the_fifth_failure_locks_the_account_for_every_process_even_for_the_right_password(
    register: Register, accounts: LocalAccounts
) -> None:
    for attempt in range(1, MAX_ATTEMPTS + 1):
        check = await accounts.verify("scp-99aa-01", WRONG)
        assert check.uitkomst == "verkeerd_wachtwoord"
        assert (check.geblokkeerd_tot is not None) == (attempt == MAX_ATTEMPTS)
    assert check.geblokkeerd_tot is not None
    until = check.geblokkeerd_tot - datetime.now(UTC)
    assert timedelta(minutes=LOCK_MINUTES - 1) < until <= timedelta(minutes=LOCK_MINUTES)
    assert (await accounts.verify("scp-99aa-01", PASSWORD)).uitkomst == "geblokkeerd"
    other_process = LocalAccounts(register.pool, FAST_HASHER)
    assert (await other_process.verify("scp-99aa-01", PASSWORD)).uitkomst == "geblokkeerd"
    # Once the lock has run out, the right password opens it again, and the count starts afresh.
    await register.pool.execute("UPDATE lokale_accounts SET geblokkeerd_tot = now() - interval '1 second'")
    assert await accounts.verify("scp-99aa-01", PASSWORD)
    assert await register.pool.fetchval("SELECT mislukte_pogingen FROM lokale_accounts") == 0


async def test_a_success_starts_the_count_again_and_a_new_password_lifts_the_lock(
    register: Register, accounts: LocalAccounts
) -> None:
    for _ in range(MAX_ATTEMPTS - 1):
        await accounts.verify("scp-99aa-01", WRONG)
    assert await accounts.verify("scp-99aa-01", PASSWORD)
    for _ in range(MAX_ATTEMPTS - 1):
        assert (await accounts.verify("scp-99aa-01", WRONG)).geblokkeerd_tot is None
    assert (await accounts.verify("scp-99aa-01", WRONG)).geblokkeerd_tot is not None
    await accounts.set_password("scp-99aa-01", PASSWORD)
    assert await accounts.verify("scp-99aa-01", PASSWORD)


async def test_parallel_attempts_do_not_get_past_the_lock(accounts: LocalAccounts) -> None:
    checks = await asyncio.gather(*(accounts.verify("scp-99aa-01", WRONG) for _ in range(3 * MAX_ATTEMPTS)))
    outcomes = [check.uitkomst for check in checks]
    assert outcomes.count("verkeerd_wachtwoord") == MAX_ATTEMPTS
    assert outcomes.count("geblokkeerd") == 2 * MAX_ATTEMPTS


async def test_every_attempt_costs_one_argon2_check_whether_the_account_exists_or_not(register: Register) -> None:
    await store(register, SCP)
    hasher = CountingHasher()
    accounts = LocalAccounts(register.pool, hasher)
    await accounts.set_password("scp-99aa-01", PASSWORD)
    for persoon_id, password in [
        ("niemand-01", PASSWORD),
        ("scp-99aa-01", WRONG),
        ("scp-99aa-01", PASSWORD),
        ("niemand-02", "x" * 5000),
        *[("scp-99aa-01", WRONG)] * MAX_ATTEMPTS,
        ("scp-99aa-01", PASSWORD),  # locked
    ]:
        before = hasher.checks
        await accounts.verify(persoon_id, password)
        assert hasher.checks == before + 1, persoon_id


async def test_a_hash_with_old_parameters_is_made_again_at_the_next_good_login(
    register: Register, accounts: LocalAccounts
) -> None:
    before = await register.pool.fetchval("SELECT wachtwoord_hash FROM lokale_accounts")
    stronger = LocalAccounts(register.pool, PasswordHasher(time_cost=2, memory_cost=8 * 1024, parallelism=1))
    assert await stronger.verify("scp-99aa-01", PASSWORD)
    after = await register.pool.fetchval("SELECT wachtwoord_hash FROM lokale_accounts")
    assert after != before and "t=2" in after
    assert await stronger.verify("scp-99aa-01", PASSWORD)


# --------------------------------------------------------------------------------------------------- the pages


def refusal_text(page: httpx.Response) -> str:
    assert page.status_code == 401
    assert REFUSED_LOGIN in text_of(page)
    return page.text.split('role="alert"')[1].split("</div>")[0]


async def test_the_right_password_logs_in_and_the_start_page_names_the_person(
    client: httpx.AsyncClient, register: Register, accounts: LocalAccounts
) -> None:
    response = await local_login(client, "scp-99aa-01", PASSWORD)
    assert (response.status_code, response.headers["location"]) == (303, "/")
    start = await client.get("/")
    assert start.status_code == 200
    assert "Ingelogd als Demo SCP, Schoolcontactpersoon (PPO)" in text_of(start)
    assert "U ziet de zaken in het primair onderwijs (PO) van uw school: 99AA." in text_of(start)
    assert summary(await audit_rows(register, views=False)) == [
        ("scp-99aa-01", "scp", "inloggen", "toegestaan", "lokaal")
    ]


async def test_wrong_unknown_and_locked_all_get_the_same_message_and_one_audit_row_each(
    client: httpx.AsyncClient, register: Register, accounts: LocalAccounts
) -> None:
    unknown = refusal_text(await local_login(client, "niemand-01", PASSWORD))
    not_a_name = refusal_text(await local_login(client, "Jan de Vries", PASSWORD))
    wrong = [refusal_text(await local_login(client, "scp-99aa-01", WRONG)) for _ in range(MAX_ATTEMPTS)]
    locked = refusal_text(await local_login(client, "scp-99aa-01", PASSWORD))
    assert {unknown, not_a_name, locked, *wrong} == {unknown}
    assert (await client.get("/")).headers["location"] == "/inloggen"
    rows = summary(await audit_rows(register, views=False))
    assert rows == [
        ("onbekend", "onbekend", "inloggen", "geweigerd", "lokaal: onbekend_account"),
        ("onbekend", "onbekend", "inloggen", "geweigerd", "lokaal: onbekend_account"),
        *[("scp-99aa-01", "onbekend", "inloggen", "geweigerd", "lokaal: verkeerd_wachtwoord")] * MAX_ATTEMPTS,
        ("scp-99aa-01", "onbekend", "inloggen", "geweigerd", "lokaal: geblokkeerd"),
    ]
    assert not any(PASSWORD in str(row) or WRONG in str(row) for row in rows)
    await verify_chain(register)


async def test_a_person_without_a_role_or_no_longer_active_is_told_so_and_gets_no_session(
    client: httpx.AsyncClient, register: Register, accounts: LocalAccounts
) -> None:
    await accounts.set_password("nieuw-01", PASSWORD)
    refused = await local_login(client, "nieuw-01", PASSWORD)
    assert refused.status_code == 403
    assert "U heeft nog geen rol in het zaaksysteem; vraag uw beheerder" in text_of(refused)
    assert (await client.get("/")).status_code == 303
    await Directory(register.pool).deactivate("scp-99aa-01")
    assert (await local_login(client, "scp-99aa-01", PASSWORD)).status_code == 403
    assert (await client.get("/")).status_code == 303
    assert summary(await audit_rows(register, views=False)) == [
        ("nieuw-01", "onbekend", "inloggen", "geweigerd", "lokaal: geen_rol"),
        ("scp-99aa-01", "onbekend", "inloggen", "geweigerd", "lokaal: inactief"),
    ]


async def test_without_local_accounts_there_is_no_form_and_no_way_in(make_app: MakeApp, register: Register) -> None:
    await store(register, SCP)
    await LocalAccounts(register.pool, FAST_HASHER).set_password("scp-99aa-01", PASSWORD)
    app = make_app(
        web_lokale_accounts=False,
        web_oidc_issuer="http://127.0.0.1:9",
        web_oidc_client_secret="geheim",
    )
    async with client_for(app) as http:
        page = await http.get("/inloggen")
        assert 'name="wachtwoord"' not in page.text
        response = await http.post(
            "/inloggen", data={"csrf": form_token(page), "gebruikersnaam": "scp-99aa-01", "wachtwoord": PASSWORD}
        )
        assert response.status_code == 404
    assert await audit_rows(register, views=False) == []


# ------------------------------------------------------------------------------------------------ command line


async def test_the_command_sets_a_password_that_then_logs_in(
    register: Register, accounts: LocalAccounts, postgres_dsn: str, capsys: pytest.CaptureFixture[str]
) -> None:
    name = await register.pool.fetchval("SELECT current_database()")
    settings = Settings(database_url=with_database(postgres_dsn, name))
    assert await set_password(settings, "nieuw-01", "wachtwoord-van-de-beheerder") == 0
    assert "Lokaal account van nieuw-01: aangemaakt." in capsys.readouterr().out
    assert await set_password(settings, "nieuw-01", "kort") == 1
    assert "te kort" in capsys.readouterr().err
    assert await set_password(settings, "onbekend-01", "wachtwoord-van-de-beheerder") == 1
    assert await LocalAccounts(register.pool, FAST_HASHER).verify("nieuw-01", "wachtwoord-van-de-beheerder")
    assert read_password(io.StringIO("uit-een-script-1234\nrest\n")) == "uit-een-script-1234"
