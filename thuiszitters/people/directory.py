"""The directory of people: who works on cases, in which role and for which schools, region or sector.

Its rows live in the case register's database (migration ``004_personen``): ``personen`` (a pseudonymous
``persoon_id``, the display name, the e-mail address, active or not, where the row came from), ``persoon_rollen``
(each role of a person with its scope) and ``rol_adressen`` (the shared address of a role for one school, region or
sector). :class:`Directory` reads and writes them over the register's asyncpg pool::

    directory = Directory(register.pool)
    await directory.upsert(Persoon(persoon_id="scp-12ab-01", naam="...", email="...", rollen=(RolScope(...),)))
    await directory.responsible_for("PO", "Noord", "12AB")   # {"school": ..., "scp": ..., "coordinator": ..., ...}

The rules, in one place (docs/people.md, "Directory"):

- Every role of the contract except ``ouders``, plus ``beheerder``. Parents are not in the directory (data
  minimisation): they are known to the school, not to this register.
- Each role has one kind of scope (:data:`SCOPE_OF_ROLE`): schools (BRIN codes) for the school, the SCP and
  Leerplicht of some schools; a region for the coordinator, the ouderfunctionaris and the wijkteam; the sector VO for
  the Koersloket; all cases for Leerplicht city-wide, Leerplicht absoluut verzuim and the Taskforce. A beheerder
  manages the directory and has no cases, so no scope (as in :mod:`thuiszitters.people.policy`).
- PPO Rotterdam's roles (SCP, coordinator, ouderfunctionaris) have no part in a VO case (PROCEDURE.md, version 2).
- A case names its school with a BRIN code of four or six characters; the directory's scopes are institutions (four
  characters), so a case at ``12AB01`` is in the scope of school ``12AB``.
- Only active people are chosen or addressed; when several fit, the lowest ``persoon_id`` (byte order) is chosen,
  so the choice does not depend on the order of loading or on the database's collation.
- A role address is always for one school, region or sector: there is no city-wide inbox for a role.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any, Final, Literal, TypeAlias

import asyncpg
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, field_validator, model_validator

from thuiszitters.people.policy import Actor, ActorRole
from thuiszitters.settings import yes_no
from workflows.contract import Regio, Sector

if TYPE_CHECKING:
    from asyncpg.pool import PoolConnectionProxy

    Connection: TypeAlias = asyncpg.Connection[asyncpg.Record] | PoolConnectionProxy[asyncpg.Record]

PERSOON_ID_PATTERN: Final = r"^[A-Za-z0-9_.:-]{1,64}$"
"""The ``persoon`` of an event (CONTRACT.md, version 2): a pseudonym, never a name."""
BRIN_PATTERN: Final = r"^[0-9]{2}[A-Z]{2}$"
"""A school (institution) in a scope: two digits and two capitals."""
EMAIL_PATTERN: Final = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
EMAIL_MAX: Final = 254
NAAM_MAX: Final = 200

Wijziging = Literal["nieuw", "bijgewerkt", "ongewijzigd"]
"""What storing a person or a role address changed."""
Bron = Literal["bestand", "oidc"]
"""Where a person came from: a file loaded by ``thuiszitters-personen``, or the login (OpenID Connect)."""


PersoonRol: TypeAlias = ActorRole
"""A role a person can hold: the contract's roles (``Rol``) without ``ouders``, plus ``beheerder`` (one list, with
the authorisation policy)."""


class Bereik(StrEnum):
    """A kind of scope."""

    SCHOLEN = "scholen"
    REGIO = "regio"
    SECTOR = "sector"
    ALLE = "alle"


SCOPE_OF_ROLE: Final[Mapping[PersoonRol, tuple[Bereik, ...]]] = {
    PersoonRol.SCHOOL: (Bereik.SCHOLEN,),
    PersoonRol.SCP: (Bereik.SCHOLEN,),
    PersoonRol.LEERPLICHT: (Bereik.SCHOLEN, Bereik.ALLE),
    PersoonRol.LEERPLICHT_ABSOLUUT_VERZUIM: (Bereik.ALLE,),
    PersoonRol.KOERSLOKET: (Bereik.SECTOR,),
    PersoonRol.COORDINATOR: (Bereik.REGIO,),
    PersoonRol.OUDERFUNCTIONARIS: (Bereik.REGIO,),
    PersoonRol.WIJKTEAM: (Bereik.REGIO,),
    PersoonRol.TASKFORCE: (Bereik.ALLE,),
    PersoonRol.BEHEERDER: (),
}
"""The scopes a role may have; a person's role has exactly one of them, a beheerder none (migration 004 checks the
same)."""

ADDRESS_SCOPE_OF_ROLE: Final[Mapping[PersoonRol, tuple[str, ...]]] = {
    PersoonRol.SCHOOL: ("school_brin",),
    PersoonRol.SCP: ("school_brin",),
    PersoonRol.LEERPLICHT: ("school_brin", "regio"),
    PersoonRol.LEERPLICHT_ABSOLUUT_VERZUIM: ("regio",),
    PersoonRol.KOERSLOKET: ("sector",),
    PersoonRol.COORDINATOR: ("regio",),
    PersoonRol.OUDERFUNCTIONARIS: ("regio",),
    PersoonRol.WIJKTEAM: ("regio",),
    PersoonRol.TASKFORCE: ("regio",),
    PersoonRol.BEHEERDER: (),
}
"""What a role address may be for: exactly one school, region or sector; never the whole city."""

PO_ONLY: Final = frozenset({PersoonRol.SCP, PersoonRol.COORDINATOR, PersoonRol.OUDERFUNCTIONARIS})
"""PPO Rotterdam's roles: no part in a VO case."""

_NEEDS: Final[Mapping[Bereik, str]] = {
    Bereik.SCHOLEN: "scholen (BRIN-codes, gescheiden door ';')",
    Bereik.REGIO: "een regio (Noord of Zuid)",
    Bereik.SECTOR: "sector VO",
    Bereik.ALLE: "alle=ja (voor alle zaken)",
}
_ROLE_ORDER: Final = {rol: index for index, rol in enumerate(PersoonRol)}


# ------------------------------------------------------------------------------------------------- the checks


def _shown(value: object) -> str:
    """A value in a message, shortened: only what is not personal is shown (roles, regions, BRIN codes)."""
    text = str(value)
    return text if len(text) <= 40 else text[:37] + "..."


def check_persoon_id(value: str) -> str:
    value = value.strip()
    if not re.fullmatch(PERSOON_ID_PATTERN, value):
        raise ValueError("1 tot 64 tekens uit letters, cijfers en _ . : - (een pseudoniem, nooit een naam)")
    return value


def check_naam(value: str) -> str:
    value = value.strip()
    if not value:
        raise ValueError("mag niet leeg zijn")
    if len(value) > NAAM_MAX:
        raise ValueError(f"te lang (hoogstens {NAAM_MAX} tekens)")
    if re.search(r"[\x00-\x1f\x7f]", value):
        raise ValueError("bevat een stuurteken")
    return value


def check_email(value: str) -> str:
    value = value.strip()
    if len(value) > EMAIL_MAX or not re.fullmatch(EMAIL_PATTERN, value):
        raise ValueError("geen geldig e-mailadres (zoals naam@organisatie.nl)")
    return value


def check_brin(value: str) -> str:
    brin = value.strip().upper()
    if not re.fullmatch(BRIN_PATTERN, brin):
        raise ValueError(f"'{_shown(value)}' is geen BRIN-code (twee cijfers en twee letters, zoals 12AB)")
    return brin


def institution(school_brin: str | None) -> str | None:
    """The institution (four characters) of a case's BRIN code, which may carry a location number (``12AB01``)."""
    if school_brin is None:
        return None
    brin = school_brin.strip().upper()[:4]
    return brin if re.fullmatch(BRIN_PATTERN, brin) else None


def _rol(value: object) -> object:
    if not isinstance(value, str):
        return value
    word = value.strip().lower()
    if word == "ouders":
        raise ValueError("ouders staan niet in de personenlijst (alleen wie voor een organisatie werkt)")
    if word not in {rol.value for rol in PersoonRol}:
        raise ValueError(f"'{_shown(value)}' bestaat niet; kies uit {', '.join(PersoonRol)}")
    return PersoonRol(word)


def _regio(value: object) -> object:
    if not isinstance(value, str):
        return value
    for regio in Regio:
        if value.strip().lower() == regio.value.lower():
            return regio
    raise ValueError(f"'{_shown(value)}' bestaat niet (Noord of Zuid)")


def _sector(value: object) -> object:
    if not isinstance(value, str):
        return value
    for sector in Sector:
        if value.strip().upper() == sector.value:
            return sector
    raise ValueError(f"'{_shown(value)}' bestaat niet (PO of VO)")


def _alle(value: object) -> object:
    if value is None or (isinstance(value, str) and not value.strip()):
        return False
    try:
        return yes_no(value)
    except ValueError:
        raise ValueError("moet ja of nee zijn") from None


PersoonId = Annotated[str, AfterValidator(check_persoon_id)]
Naam = Annotated[str, AfterValidator(check_naam)]
Email = Annotated[str, AfterValidator(check_email)]
Brin = Annotated[str, AfterValidator(check_brin)]
Rol = Annotated[PersoonRol, BeforeValidator(_rol)]
RegioVeld = Annotated[Regio | None, BeforeValidator(_regio)]
SectorVeld = Annotated[Sector | None, BeforeValidator(_sector)]
Alle = Annotated[bool, BeforeValidator(_alle)]


def scope_problem(
    rol: PersoonRol, scholen: Iterable[str], regio: Regio | None, sector: Sector | None, alle: bool
) -> str | None:
    """Why this scope does not fit the role (in Dutch), or None when it does."""
    present = {
        Bereik.SCHOLEN: bool(tuple(scholen)),
        Bereik.REGIO: regio is not None,
        Bereik.SECTOR: sector is not None,
        Bereik.ALLE: alle,
    }
    given = [kind for kind, there in present.items() if there]
    allowed = SCOPE_OF_ROLE[rol]
    need = " of ".join(_NEEDS[kind] for kind in allowed)
    if not allowed and given:
        return f"{' en '.join(given)} past niet bij rol {rol}: een beheerder beheert personen en heeft geen zaken"
    if not allowed:
        return None
    if unfit := [kind for kind in given if kind not in allowed]:
        return f"{' en '.join(unfit)} past niet bij rol {rol}; die heeft {need}"
    if not given:
        return f"rol {rol} heeft {need} nodig"
    if len(given) > 1:
        return f"rol {rol}: vul {need} in, niet allebei"
    if rol is PersoonRol.KOERSLOKET and sector is not Sector.VO:
        return "sector: het Koersloket hoort bij VO (Koers VO); PO loopt via PPO Rotterdam"
    return None


def describe_scope(scope: RolScope) -> str:
    """A role and its scope in a few Dutch words: ``scp voor 12AB``, ``coordinator Noord``."""
    if scope.alle:
        return f"{scope.rol} voor alle zaken"
    if scope.scholen:
        return f"{scope.rol} voor {', '.join(scope.scholen)}"
    if scope.regio or scope.sector:
        return f"{scope.rol} {scope.regio or scope.sector}"
    return f"{scope.rol} (geen zaken)"


# ------------------------------------------------------------------------------------------------- the models


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class RolScope(_Model):
    """One role of a person, with its scope: exactly one of ``scholen``, ``regio``, ``sector`` or ``alle`` that fits
    the role (:data:`SCOPE_OF_ROLE`); none for a beheerder."""

    rol: Rol
    scholen: tuple[Brin, ...] = ()
    regio: RegioVeld = None
    sector: SectorVeld = None
    alle: Alle = False

    @field_validator("scholen", mode="after")
    @classmethod
    def _in_order(cls, scholen: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(sorted(set(scholen)))

    @model_validator(mode="after")
    def _fits_the_role(self) -> RolScope:
        if problem := scope_problem(self.rol, self.scholen, self.regio, self.sector, self.alle):
            raise ValueError(problem)
        return self

    def sort_key(self) -> tuple[int, tuple[str, ...], str, str, bool]:
        return (_ROLE_ORDER[self.rol], self.scholen, self.regio or "", self.sector or "", self.alle)


class Persoon(_Model):
    """A person in the directory. ``persoon_id`` is what events carry as ``persoon``; the name and the address stay
    here. ``bijgewerkt_op`` is set by the directory and ignored when storing."""

    persoon_id: PersoonId
    naam: Naam
    email: Email | None = None
    actief: bool = True
    bron: Bron = "bestand"
    rollen: tuple[RolScope, ...] = ()
    bijgewerkt_op: datetime | None = None

    @field_validator("rollen", mode="after")
    @classmethod
    def _once_each_in_order(cls, rollen: tuple[RolScope, ...]) -> tuple[RolScope, ...]:
        return tuple(sorted(set(rollen), key=RolScope.sort_key))

    def has_role(self, rol: PersoonRol | str) -> bool:
        return any(scope.rol == rol for scope in self.rollen)


class RolAdres(_Model):
    """The shared address of a role for one school, one region or one sector (never for the whole city)."""

    rol: Rol
    email: Email
    school_brin: Brin | None = None
    regio: RegioVeld = None
    sector: SectorVeld = None

    @model_validator(mode="after")
    def _one_scope_that_fits(self) -> RolAdres:
        allowed = ADDRESS_SCOPE_OF_ROLE[self.rol]
        if not allowed:
            raise ValueError(f"rol {self.rol} heeft geen rol-adres (alleen personen)")
        given = [name for name in ("school_brin", "regio", "sector") if getattr(self, name) is not None]
        names = {"school_brin": "een school", "regio": "een regio", "sector": "een sector"}
        choices = " of ".join(names[name] for name in allowed)
        if len(given) != 1 or given[0] not in allowed:
            raise ValueError(
                f"een rol-adres van {self.rol} geldt voor {choices}: noem er precies één (nooit de hele stad)"
            )
        if self.rol is PersoonRol.KOERSLOKET and self.sector is not Sector.VO:
            raise ValueError("sector: het Koersloket hoort bij VO (Koers VO); PO loopt via PPO Rotterdam")
        return self

    def key(self) -> tuple[str, str]:
        """The role and its one scope: one address per key."""
        return (self.rol.value, str(self.school_brin or self.regio or self.sector))


# ------------------------------------------------------------------------------------------------- the store

_MATCHES_CASE = "(r.alle OR r.scholen @> ARRAY[${0}::text] OR r.regio = ${1} OR r.sector = ${2})"
"""SQL: the role row ``r`` covers a case at school ``$n`` (an institution, or NULL), in region and sector ``$n``.
Each row has exactly one kind of scope (migration 004), so one of them decides."""


class Directory:
    """The directory of people over the case register's asyncpg pool (``Directory(register.pool)``)."""

    def __init__(self, pool: asyncpg.Pool[asyncpg.Record]) -> None:
        self.pool = pool

    # --------------------------------------------------------------------------------------------- people

    async def upsert(self, persoon: Persoon) -> Wijziging:
        """Store a person, replacing their roles by ``persoon.rollen``; what it changed. Storing the same person
        again changes nothing (not even ``bijgewerkt_op``)."""
        async with self.pool.acquire() as connection, connection.transaction():
            row = await connection.fetchrow(
                "SELECT persoon_id, naam, email, actief, bron FROM personen WHERE persoon_id = $1 FOR UPDATE",
                persoon.persoon_id,
            )
            if row is not None:
                (stored,) = await _with_roles(connection, [row])
                if _content(stored) == _content(persoon):
                    return "ongewijzigd"
            await connection.execute(
                """
                INSERT INTO personen (persoon_id, naam, email, actief, bron, bijgewerkt_op)
                VALUES ($1, $2, $3, $4, $5, now())
                ON CONFLICT (persoon_id) DO UPDATE SET
                    naam = EXCLUDED.naam, email = EXCLUDED.email, actief = EXCLUDED.actief, bron = EXCLUDED.bron,
                    bijgewerkt_op = EXCLUDED.bijgewerkt_op
                """,
                persoon.persoon_id,
                persoon.naam,
                persoon.email,
                persoon.actief,
                persoon.bron,
            )
            await connection.execute("DELETE FROM persoon_rollen WHERE persoon_id = $1", persoon.persoon_id)
            await connection.executemany(
                """
                INSERT INTO persoon_rollen (persoon_id, rol, scholen, regio, sector, alle)
                VALUES ($1, $2, $3, $4, $5, $6)
                """,
                [(persoon.persoon_id, s.rol.value, list(s.scholen), s.regio, s.sector, s.alle) for s in persoon.rollen],
            )
        return "nieuw" if row is None else "bijgewerkt"

    async def deactivate(self, persoon_id: str) -> bool:
        """Make a person inactive: they keep their rows, but are no longer chosen or addressed. False when there is
        no such active person."""
        result = await self.pool.execute(
            "UPDATE personen SET actief = false, bijgewerkt_op = now() WHERE persoon_id = $1 AND actief", persoon_id
        )
        return result == "UPDATE 1"

    async def get(self, persoon_id: str) -> Persoon | None:
        """The person with all their roles, active or not; None when unknown."""
        async with self.pool.acquire() as connection:
            row = await connection.fetchrow(f"SELECT {_PERSON_COLUMNS} FROM personen WHERE persoon_id = $1", persoon_id)
            if row is None:
                return None
            (persoon,) = await _with_roles(connection, [row])
            return persoon

    async def people_with_role(self, rol: PersoonRol | str, *, include_inactive: bool = False) -> list[Persoon]:
        """Everyone who holds ``rol`` (with all their roles), by ``persoon_id``; only the active unless asked."""
        async with self.pool.acquire() as connection:
            rows = await connection.fetch(
                f"""
                SELECT {_PERSON_COLUMNS} FROM personen
                WHERE persoon_id IN (SELECT persoon_id FROM persoon_rollen WHERE rol = $1) AND (actief OR $2)
                ORDER BY persoon_id COLLATE "C"
                """,
                str(rol),
                include_inactive,
            )
            return await _with_roles(connection, rows)

    # ------------------------------------------------------------------------------------------ who and where

    async def responsible_for(
        self, sector: Sector | str, regio: Regio | str, school_brin: str | None, *, uit_buitenland: bool = False
    ) -> dict[str, str]:
        """Per role, the person who holds a new case: the school's own person; in PO the school's SCP and the
        region's coordinator; in VO the Koersloket; Leerplicht for the school, else Leerplicht for all cases; for a
        pupil from abroad Leerplicht absoluut verzuim. A role nobody active holds is absent."""
        sector, regio = Sector(sector), Regio(regio)
        rollen = [PersoonRol.SCHOOL, PersoonRol.LEERPLICHT]
        if sector is Sector.PO:
            rollen += [PersoonRol.SCP, PersoonRol.COORDINATOR]
        else:
            rollen += [PersoonRol.KOERSLOKET]
        if uit_buitenland:
            rollen.append(PersoonRol.LEERPLICHT_ABSOLUUT_VERZUIM)
        rows = await self.pool.fetch(
            f"""
            SELECT DISTINCT ON (r.rol) r.rol, r.persoon_id
            FROM persoon_rollen r JOIN personen p USING (persoon_id)
            WHERE p.actief AND r.rol = ANY($1::text[]) AND {_MATCHES_CASE.format(2, 3, 4)}
            ORDER BY r.rol, r.alle, r.persoon_id COLLATE "C"
            """,
            [rol.value for rol in rollen],
            institution(school_brin),
            regio.value,
            sector.value,
        )
        return {row["rol"]: row["persoon_id"] for row in rows}

    async def people_for_case(
        self, sector: Sector | str, regio: Regio | str, school_brin: str | None
    ) -> list[tuple[str, str, str]]:
        """Every active person whose role covers a case of this sector, region and school: (persoon_id, name, role),
        by role and name; a role that works only in PO is left out of a VO case. Who can be assigned in it."""
        sector, regio = Sector(sector), Regio(regio)
        rows = await self.pool.fetch(
            f"""
            SELECT DISTINCT r.rol, p.naam, p.persoon_id
            FROM persoon_rollen r JOIN personen p USING (persoon_id)
            WHERE p.actief AND r.rol <> 'beheerder' AND NOT (r.rol = ANY($4::text[]) AND $3 = 'VO')
              AND {_MATCHES_CASE.format(1, 2, 3)}
            ORDER BY r.rol, p.naam, p.persoon_id
            """,
            institution(school_brin),
            regio.value,
            sector.value,
            [role.value for role in PO_ONLY],
        )
        return [(row["persoon_id"], row["naam"], row["rol"]) for row in rows]

    async def in_scope(
        self,
        persoon_id: str,
        rol: PersoonRol | str,
        sector: Sector | str,
        regio: Regio | str,
        school_brin: str | None,
    ) -> bool:
        """Whether this active person holds ``rol`` with a scope that covers a case of this sector, region and school.
        The directory's scope only; what the role may do in that case, and when, is the policy's question
        (:mod:`thuiszitters.people.policy`). A beheerder covers no case."""
        try:
            role = PersoonRol(rol)
        except ValueError:  # 'ouders', or no role at all
            return False
        sector, regio = Sector(sector), Regio(regio)
        if role in PO_ONLY and sector is Sector.VO:
            return False
        found = await self.pool.fetchval(
            f"""
            SELECT EXISTS (
                SELECT FROM persoon_rollen r JOIN personen p USING (persoon_id)
                WHERE p.persoon_id = $1 AND p.actief AND r.rol = $2 AND {_MATCHES_CASE.format(3, 4, 5)})
            """,
            persoon_id,
            role.value,
            institution(school_brin),
            regio.value,
            sector.value,
        )
        return bool(found)

    async def address_for(
        self,
        rol: PersoonRol | str,
        *,
        persoon_id: str | None = None,
        school_brin: str | None = None,
        regio: Regio | str | None = None,
        sector: Sector | str | None = None,
    ) -> str | None:
        """Where a message for ``rol`` goes: the e-mail address of the person who holds it (``persoon_id``) while
        that person is active, holds the role and, where a school, region or sector is given, covers it; else the
        role's address for that school, then region, then sector; else None. Never a city-wide inbox."""
        try:
            role = PersoonRol(rol)
        except ValueError:  # parents are reached through the school, not through the directory
            return None
        case_sector = Sector(sector) if sector is not None else None
        case_regio = Regio(regio) if regio is not None else None
        brin = institution(school_brin)
        if role in PO_ONLY and case_sector is Sector.VO:
            return None
        scope = (brin, case_regio.value if case_regio else None, case_sector.value if case_sector else None)
        async with self.pool.acquire() as connection:
            if persoon_id is not None:
                email: str | None = await connection.fetchval(
                    f"""
                    SELECT p.email FROM personen p JOIN persoon_rollen r USING (persoon_id)
                    WHERE p.persoon_id = $1 AND p.actief AND p.email IS NOT NULL AND r.rol = $2
                      AND (num_nonnulls($3::text, $4::text, $5::text) = 0 OR {_MATCHES_CASE.format(3, 4, 5)})
                    LIMIT 1
                    """,
                    persoon_id,
                    role.value,
                    *scope,
                )
                if email is not None:
                    return email
            address: str | None = await connection.fetchval(
                """
                SELECT email FROM rol_adressen
                WHERE rol = $1 AND (school_brin = $2 OR regio = $3 OR sector = $4)
                ORDER BY school_brin IS NULL, regio IS NULL
                LIMIT 1
                """,
                role.value,
                *scope,
            )
            return address

    # --------------------------------------------------------------------------------------- role addresses

    async def set_address(self, adres: RolAdres) -> Wijziging:
        """Store the address of a role for its school, region or sector (one per role and scope)."""
        row = await self.pool.fetchrow(
            """
            WITH old AS (
                SELECT email FROM rol_adressen WHERE rol = $1 AND COALESCE(school_brin, regio, sector) = $6
            ), new AS (
                INSERT INTO rol_adressen AS a (rol, school_brin, regio, sector, email, bijgewerkt_op)
                VALUES ($1, $2, $3, $4, $5, now())
                ON CONFLICT (rol, (COALESCE(school_brin, regio, sector)))
                DO UPDATE SET email = EXCLUDED.email, bijgewerkt_op = EXCLUDED.bijgewerkt_op
                WHERE a.email IS DISTINCT FROM EXCLUDED.email
                RETURNING true
            )
            SELECT (SELECT email FROM old) AS old_email, EXISTS (SELECT FROM new) AS written
            """,
            adres.rol.value,
            adres.school_brin,
            adres.regio,
            adres.sector,
            adres.email,
            adres.key()[1],
        )
        assert row is not None
        if row["old_email"] is None:
            return "nieuw"
        return "bijgewerkt" if row["written"] else "ongewijzigd"

    async def addresses(self, rol: PersoonRol | str | None = None) -> list[RolAdres]:
        """The role addresses (of one role, or all), by role and scope."""
        rows = await self.pool.fetch(
            """
            SELECT rol, email, school_brin, regio, sector FROM rol_adressen
            WHERE $1::text IS NULL OR rol = $1
            ORDER BY rol, COALESCE(school_brin, regio, sector) COLLATE "C"
            """,
            None if rol is None else str(rol),
        )
        return [RolAdres.model_validate(dict(row)) for row in rows]


_PERSON_COLUMNS = "persoon_id, naam, email, actief, bron, bijgewerkt_op"


def _content(persoon: Persoon) -> tuple[Any, ...]:
    return (persoon.naam, persoon.email, persoon.actief, persoon.bron, persoon.rollen)


async def _with_roles(connection: Connection, rows: Iterable[asyncpg.Record]) -> list[Persoon]:
    """The people of ``rows`` (in that order), each with their roles."""
    people = [dict(row) for row in rows]
    roles: dict[str, list[dict[str, Any]]] = {person["persoon_id"]: [] for person in people}
    for role in await connection.fetch(
        "SELECT persoon_id, rol, scholen, regio, sector, alle FROM persoon_rollen WHERE persoon_id = ANY($1::text[])",
        list(roles),
    ):
        roles[role["persoon_id"]].append({key: role[key] for key in ("rol", "scholen", "regio", "sector", "alle")})
    return [Persoon.model_validate({**person, "rollen": roles[person["persoon_id"]]}) for person in people]


def actor_for(persoon_id: str, scope: RolScope) -> Actor:
    """The policy's actor for a person acting in one of their roles, with that role's scope."""
    return Actor(
        persoon_id=persoon_id,
        rol=scope.rol,
        scholen=frozenset(scope.scholen),
        regio=scope.regio,
        sector=scope.sector,
        alle=scope.alle,
    )
