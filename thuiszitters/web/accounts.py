"""Local accounts of the web application: a password of the case register, for people the OpenID provider does not
know (switched on with ``THUISZITTERS_WEB_LOKALE_ACCOUNTS``; docs/people.md, "Login").

    accounts = LocalAccounts(register.pool)
    await accounts.set_password("beheerder-01", "een lang wachtwoord")   # -> "nieuw" | "bijgewerkt"
    check = await accounts.verify("beheerder-01", "een lang wachtwoord")  # -> Check; truthy when it may log in

The rules:

- An account belongs to a person of the directory (migration ``006_lokale_accounts``); the login name is their
  ``persoon_id``. The password has at least :data:`MIN_LENGTH` characters and is stored only as an argon2id hash
  (argon2-cffi's ``PasswordHasher``, with its current parameters; a hash made with older ones is made again at the
  next good login).
- After :data:`MAX_ATTEMPTS` failed attempts in a row the account is locked for :data:`LOCK_MINUTES` minutes, during
  which even the right password is refused. The count and the lock are rows of the register, changed under a row
  lock, so they hold across every process and parallel attempts cannot slip past them.
- Every attempt costs one argon2 check, whatever the outcome: an unknown name is checked against a dummy hash and a
  locked account's password against its own, so the time an answer takes does not tell whether an account exists or
  is locked. The caller shows one message for every refusal; only :class:`Check` (for the audit log) tells them apart.

``set_password`` is what ``thuiszitters-web wachtwoord PERSOON_ID`` (the dev stack, a beheerder) runs.
"""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Final, Literal

import asyncpg
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

MIN_LENGTH: Final = 12
MAX_LENGTH: Final = 1024
"""Longer than any password manager makes; a limit keeps a huge form field from costing a long hash."""
MAX_ATTEMPTS: Final = 5
LOCK_MINUTES: Final = 15

Uitkomst = Literal["geldig", "onbekend_account", "verkeerd_wachtwoord", "geblokkeerd"]
"""What a check found: the password is right; there is no such account; the password is wrong; the account is
locked (the password is not looked at)."""


class WachtwoordFout(ValueError):
    """A password or account that cannot be set; the message is Dutch and names the rule."""


@dataclass(frozen=True)
class Check:
    """The outcome of :meth:`LocalAccounts.verify`: true only when the person may log in."""

    uitkomst: Uitkomst
    geblokkeerd_tot: datetime | None = None
    """Until when the account is locked (when it is, or this attempt locked it)."""

    def __bool__(self) -> bool:
        return self.uitkomst == "geldig"


def check_password(password: str) -> str:
    """The password when it may be set, else :class:`WachtwoordFout` saying why (in Dutch)."""
    if len(password) < MIN_LENGTH:
        raise WachtwoordFout(f"het wachtwoord is te kort: gebruik ten minste {MIN_LENGTH} tekens")
    if len(password) > MAX_LENGTH:
        raise WachtwoordFout(f"het wachtwoord is te lang: hoogstens {MAX_LENGTH} tekens")
    if password != password.strip():
        raise WachtwoordFout("het wachtwoord begint of eindigt met een spatie; laat die weg")
    return password


class LocalAccounts:
    """Local accounts over the register's asyncpg pool. ``hasher``: argon2-cffi's ``PasswordHasher`` (the default
    parameters unless given: tests may pass cheaper ones)."""

    def __init__(self, pool: asyncpg.Pool[asyncpg.Record], hasher: PasswordHasher | None = None) -> None:
        self.pool = pool
        self.hasher = hasher or PasswordHasher()
        self._dummy_hash: str | None = None

    async def set_password(self, persoon_id: str, password: str) -> Literal["nieuw", "bijgewerkt"]:
        """Create the account of a person of the directory, or give it a new password; either way it is no longer
        locked and its failed attempts are forgotten. :class:`WachtwoordFout` for a password that is too short or
        a person the directory does not know."""
        check_password(password)
        hashed = await asyncio.to_thread(self.hasher.hash, password)
        try:
            created: bool = await self.pool.fetchval(
                """
                INSERT INTO lokale_accounts AS a (persoon_id, wachtwoord_hash) VALUES ($1, $2)
                ON CONFLICT (persoon_id) DO UPDATE SET
                    wachtwoord_hash = EXCLUDED.wachtwoord_hash, mislukte_pogingen = 0, geblokkeerd_tot = NULL,
                    bijgewerkt_op = now()
                RETURNING (xmax = 0)
                """,
                persoon_id,
                hashed,
            )
        except asyncpg.ForeignKeyViolationError:
            raise WachtwoordFout(
                f"persoon '{persoon_id}' staat niet in de personenlijst; laad die persoon eerst (thuiszitters-personen)"
            ) from None
        return "nieuw" if created else "bijgewerkt"

    async def exists(self, persoon_id: str) -> bool:
        return bool(
            await self.pool.fetchval("SELECT EXISTS (SELECT FROM lokale_accounts WHERE persoon_id = $1)", persoon_id)
        )

    async def verify(self, persoon_id: str, password: str) -> Check:
        """Whether ``password`` opens the account of ``persoon_id`` now; counts a failure and locks the account at
        the fifth in a row. Always one argon2 check, whatever the outcome (see the module's docstring)."""
        async with self.pool.acquire() as connection, connection.transaction():
            row = await connection.fetchrow(
                """
                SELECT wachtwoord_hash, mislukte_pogingen, geblokkeerd_tot, geblokkeerd_tot > now() AS geblokkeerd
                FROM lokale_accounts WHERE persoon_id = $1
                FOR UPDATE
                """,
                persoon_id,
            )
            if row is None:
                await self._check(await self._dummy(), password)
                return Check("onbekend_account")
            right = await self._check(row["wachtwoord_hash"], password)
            if row["geblokkeerd"]:
                return Check("geblokkeerd", row["geblokkeerd_tot"])
            if right:
                rehash = await self._rehash(row["wachtwoord_hash"], password)
                await connection.execute(
                    """
                    UPDATE lokale_accounts SET
                        mislukte_pogingen = 0, geblokkeerd_tot = NULL, laatst_ingelogd_op = now(),
                        wachtwoord_hash = COALESCE($2, wachtwoord_hash)
                    WHERE persoon_id = $1
                    """,
                    persoon_id,
                    rehash,
                )
                return Check("geldig")
            locked = await connection.fetchrow(
                """
                UPDATE lokale_accounts SET
                    mislukte_pogingen = CASE WHEN mislukte_pogingen + 1 >= $2 THEN 0 ELSE mislukte_pogingen + 1 END,
                    geblokkeerd_tot = CASE WHEN mislukte_pogingen + 1 >= $2
                        THEN now() + make_interval(mins => $3) ELSE geblokkeerd_tot END
                WHERE persoon_id = $1
                RETURNING geblokkeerd_tot, geblokkeerd_tot > now() AS geblokkeerd
                """,
                persoon_id,
                MAX_ATTEMPTS,
                LOCK_MINUTES,
            )
            assert locked is not None
            return Check("verkeerd_wachtwoord", locked["geblokkeerd_tot"] if locked["geblokkeerd"] else None)

    async def _check(self, hashed: str, password: str) -> bool:
        if len(password) > MAX_LENGTH:  # still one hash, of something of ordinary length
            password = hashlib.sha256(password.encode("utf-8", "surrogatepass")).hexdigest()
            hashed = await self._dummy()
        try:
            return await asyncio.to_thread(self.hasher.verify, hashed, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    async def _rehash(self, hashed: str, password: str) -> str | None:
        """A new hash when the stored one was made with other parameters than the hasher's now."""
        try:
            needs = self.hasher.check_needs_rehash(hashed)
        except (InvalidHashError, ValueError):
            needs = True
        return await asyncio.to_thread(self.hasher.hash, password) if needs else None

    async def _dummy(self) -> str:
        """A hash with the hasher's parameters, of a password nobody has: what an unknown name is checked against."""
        if self._dummy_hash is None:
            self._dummy_hash = await asyncio.to_thread(self.hasher.hash, "geen-account-" + "x" * MIN_LENGTH)
        return self._dummy_hash
