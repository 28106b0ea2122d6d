"""The directory of people on the real case register: storing people and their roles, who holds a new case, whose
scope a case is in, and where a message for a role goes (the person, else the role's address, never the city)."""

from __future__ import annotations

from typing import Any

import asyncpg
import pytest
from pydantic import ValidationError

from thuiszitters.people.directory import (
    ADDRESS_SCOPE_OF_ROLE,
    SCOPE_OF_ROLE,
    Directory,
    Persoon,
    PersoonRol,
    RolAdres,
    RolScope,
)
from thuiszitters.register.store import Register
from workflows.contract import Rol

SCHOOL_A = "12AB"  # PO, Noord
SCHOOL_B = "34CD"  # PO, Zuid
SCHOOL_C = "56EF"  # VO, Noord; nobody of the school itself is in the directory


def scope(rol: str, **fields: Any) -> RolScope:
    return RolScope.model_validate({"rol": rol, **fields})


def person(persoon_id: str, *rollen: RolScope, email: str | None = None, actief: bool = True) -> Persoon:
    return Persoon(
        persoon_id=persoon_id,
        naam=f"Demo {persoon_id}",
        email=email or f"{persoon_id}@example.org",
        actief=actief,
        rollen=rollen,
    )


@pytest.fixture
def directory(register: Register) -> Directory:
    return Directory(register.pool)


@pytest.fixture
async def people(directory: Directory) -> Directory:
    """Two PO schools with their own people, the regions' coordinators, the Koersloket, Leerplicht for school A and
    for all cases, and a few role addresses."""
    for persoon in (
        person("school-a", scope("school", scholen=[SCHOOL_A])),
        person("school-b", scope("school", scholen=[SCHOOL_B])),
        person("scp-a", scope("scp", scholen=[SCHOOL_A])),
        person("scp-b", scope("scp", scholen=[SCHOOL_B])),
        person("coord-noord", scope("coordinator", regio="Noord")),
        person("coord-zuid", scope("coordinator", regio="Zuid")),
        person("ouderf-noord", scope("ouderfunctionaris", regio="Noord")),
        person("koersloket-1", scope("koersloket", sector="VO")),
        person("lp-a", scope("leerplicht", scholen=[SCHOOL_A])),
        person("lp-stad", scope("leerplicht", alle=True)),
        person("lav-1", scope("leerplicht_absoluut_verzuim", alle=True)),
        person("wijkteam-noord", scope("wijkteam", regio="Noord")),
        person("taskforce-1", scope("taskforce", alle=True)),
        person("beheerder-1", scope("beheerder")),
    ):
        assert await directory.upsert(persoon) == "nieuw"
    for adres in (
        RolAdres(rol="school", school_brin=SCHOOL_A, email="zorg@school-a.example"),
        RolAdres(rol="scp", school_brin=SCHOOL_A, email="scp-team-a@ppo.example"),
        RolAdres(rol="scp", school_brin=SCHOOL_B, email="scp-team-b@ppo.example"),
        RolAdres(rol="coordinator", regio="Noord", email="coordinatoren-noord@ppo.example"),
        RolAdres(rol="leerplicht", regio="Zuid", email="leerplicht-zuid@gemeente.example"),
        RolAdres(rol="leerplicht", school_brin=SCHOOL_B, email="leerplicht-school-b@gemeente.example"),
        RolAdres(rol="koersloket", sector="VO", email="koersloket@koersvo.example"),
        RolAdres(rol="taskforce", regio="Noord", email="kerngroep@taskforce.example"),
    ):
        assert await directory.set_address(adres) == "nieuw"
    return directory


# ------------------------------------------------------------------------------------------------- the roles


def test_the_roles_are_the_contracts_without_parents_plus_beheerder() -> None:
    assert {r.value for r in PersoonRol} == ({r.value for r in Rol} - {"ouders"}) | {"beheerder"}
    assert set(SCOPE_OF_ROLE) == set(PersoonRol) == set(ADDRESS_SCOPE_OF_ROLE)


# -------------------------------------------------------------------------------------------------- the models


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"rol": "ouders"}, "ouders staan niet in de personenlijst"),
        ({"rol": "directeur", "alle": True}, "'directeur' bestaat niet; kies uit school, scp"),
        ({"rol": "scp"}, "rol scp heeft scholen (BRIN-codes, gescheiden door ';') nodig"),
        ({"rol": "scp", "regio": "Noord"}, "regio past niet bij rol scp"),
        ({"rol": "coordinator", "scholen": ["12AB"]}, "scholen past niet bij rol coordinator"),
        ({"rol": "coordinator", "regio": "West"}, "'West' bestaat niet (Noord of Zuid)"),
        ({"rol": "koersloket", "sector": "PO"}, "het Koersloket hoort bij VO"),
        ({"rol": "leerplicht", "scholen": ["12AB"], "alle": "ja"}, "niet allebei"),
        ({"rol": "taskforce"}, "rol taskforce heeft alle=ja (voor alle zaken) nodig"),
        ({"rol": "beheerder", "alle": True}, "alle past niet bij rol beheerder"),
        ({"rol": "scp", "scholen": ["12ABC"]}, "'12ABC' is geen BRIN-code"),
        ({"rol": "scp", "scholen": ["1234"]}, "'1234' is geen BRIN-code"),
        ({"rol": "taskforce", "alle": "misschien"}, "moet ja of nee zijn"),
    ],
)
def test_a_scope_that_does_not_fit_its_role_is_refused_in_dutch(fields: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError) as refused:
        RolScope.model_validate(fields)
    assert message in str(refused.value)


def test_a_scope_is_kept_in_one_form() -> None:
    kept = scope("SCP", scholen=["34cd", "12AB", "34CD"])
    assert (kept.rol, kept.scholen) == (PersoonRol.SCP, ("12AB", "34CD"))
    assert scope("coordinator", regio="noord").regio == "Noord"
    assert scope("koersloket", sector="vo").sector == "VO"


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"persoon_id": "Jan de Vries"}, "een pseudoniem, nooit een naam"),
        ({"persoon_id": "x" * 65}, "een pseudoniem, nooit een naam"),
        ({"email": "geen-adres"}, "geen geldig e-mailadres"),
        ({"email": "twee@@example.org"}, "geen geldig e-mailadres"),
        ({"naam": "  "}, "mag niet leeg zijn"),
    ],
)
def test_a_person_with_a_bad_id_name_or_address_is_refused(fields: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError) as refused:
        Persoon.model_validate({"persoon_id": "p-1", "naam": "Demo", "email": "p@example.org", **fields})
    assert message in str(refused.value)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"rol": "taskforce"}, "noem er precies één (nooit de hele stad)"),
        ({"rol": "scp", "regio": "Noord"}, "een rol-adres van scp geldt voor een school"),
        ({"rol": "leerplicht", "school_brin": "12AB", "regio": "Noord"}, "noem er precies één"),
        ({"rol": "koersloket", "sector": "PO"}, "het Koersloket hoort bij VO"),
        ({"rol": "beheerder", "regio": "Noord"}, "rol beheerder heeft geen rol-adres"),
    ],
)
def test_a_role_address_is_for_exactly_one_school_region_or_sector(fields: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError) as refused:
        RolAdres.model_validate({"email": "team@example.org", **fields})
    assert message in str(refused.value)


# ------------------------------------------------------------------------------------------------- storing


async def test_a_person_is_stored_read_back_and_their_roles_replaced(directory: Directory) -> None:
    first = person("p-1", scope("scp", scholen=[SCHOOL_A]), scope("coordinator", regio="Noord"))
    assert await directory.upsert(first) == "nieuw"
    stored = await directory.get("p-1")
    assert stored is not None and stored.model_copy(update={"bijgewerkt_op": None}) == first
    assert stored.bijgewerkt_op is not None
    assert await directory.upsert(first) == "ongewijzigd"
    assert (await directory.get("p-1")) == stored  # not even the moment changed

    moved = person("p-1", scope("scp", scholen=[SCHOOL_B]))
    assert await directory.upsert(moved) == "bijgewerkt"
    again = await directory.get("p-1")
    assert again is not None and again.rollen == (scope("scp", scholen=[SCHOOL_B]),)
    assert [p.persoon_id for p in await directory.people_with_role("coordinator")] == []
    assert await directory.get("p-2") is None


async def test_deactivating_keeps_the_person_but_stops_choosing_them(people: Directory) -> None:
    assert await people.deactivate("scp-a") is True
    assert await people.deactivate("scp-a") is False
    assert await people.deactivate("nobody") is False
    stored = await people.get("scp-a")
    assert stored is not None and stored.actief is False and stored.has_role("scp")
    assert [p.persoon_id for p in await people.people_with_role("scp")] == ["scp-b"]
    assert [p.persoon_id for p in await people.people_with_role("scp", include_inactive=True)] == ["scp-a", "scp-b"]
    assert "scp" not in await people.responsible_for("PO", "Noord", SCHOOL_A)
    assert not await people.in_scope("scp-a", "scp", "PO", "Noord", SCHOOL_A)


async def test_the_table_refuses_what_the_models_refuse(directory: Directory) -> None:
    """Migration 004 holds the same rules, whoever writes to the tables."""
    pool = directory.pool
    await pool.execute("INSERT INTO personen (persoon_id, naam, bron) VALUES ('p-1', 'Demo', 'bestand')")
    for bad in (
        "INSERT INTO personen (persoon_id, naam, bron) VALUES ('Jan de Vries', 'Demo', 'bestand')",
        "INSERT INTO personen (persoon_id, naam, email, bron) VALUES ('p-2', 'Demo', 'geen-adres', 'bestand')",
        "INSERT INTO persoon_rollen (persoon_id, rol, alle) VALUES ('p-1', 'ouders', true)",
        "INSERT INTO persoon_rollen (persoon_id, rol, regio) VALUES ('p-1', 'scp', 'Noord')",
        "INSERT INTO persoon_rollen (persoon_id, rol) VALUES ('p-1', 'scp')",
        "INSERT INTO persoon_rollen (persoon_id, rol, scholen) VALUES ('p-1', 'scp', '{12abc}')",
        "INSERT INTO persoon_rollen (persoon_id, rol, scholen, alle) VALUES ('p-1', 'leerplicht', '{12AB}', true)",
        "INSERT INTO persoon_rollen (persoon_id, rol, sector) VALUES ('p-1', 'koersloket', 'PO')",
        "INSERT INTO persoon_rollen (persoon_id, rol, alle) VALUES ('p-1', 'beheerder', true)",
        "INSERT INTO rol_adressen (rol, email) VALUES ('taskforce', 'x@example.org')",
        "INSERT INTO rol_adressen (rol, regio, sector, email) VALUES ('leerplicht', 'Noord', 'VO', 'x@example.org')",
        "INSERT INTO rol_adressen (rol, regio, email) VALUES ('beheerder', 'Noord', 'x@example.org')",
    ):
        with pytest.raises(asyncpg.CheckViolationError):
            await pool.execute(bad)
    await pool.execute("INSERT INTO persoon_rollen (persoon_id, rol, scholen) VALUES ('p-1', 'scp', '{12AB}')")
    assert await pool.fetchval("SELECT count(*) FROM persoon_rollen") == 1


async def test_a_role_address_is_one_per_role_and_scope(directory: Directory) -> None:
    adres = RolAdres(rol="coordinator", regio="Noord", email="team-noord@ppo.example")
    assert await directory.set_address(adres) == "nieuw"
    assert await directory.set_address(adres) == "ongewijzigd"
    moved = adres.model_copy(update={"email": "nieuw-team-noord@ppo.example"})
    assert await directory.set_address(moved) == "bijgewerkt"
    zuid = RolAdres(rol="coordinator", regio="Zuid", email="team-zuid@ppo.example")
    assert await directory.set_address(zuid) == "nieuw"
    assert await directory.addresses("coordinator") == [moved, zuid]
    assert await directory.addresses("scp") == []


# ---------------------------------------------------------------------------------------- who holds a case


async def test_a_po_case_at_school_a_goes_to_school_as_people_and_never_to_school_bs(people: Directory) -> None:
    assert await people.responsible_for("PO", "Noord", SCHOOL_A) == {
        "school": "school-a",
        "scp": "scp-a",
        "coordinator": "coord-noord",
        "leerplicht": "lp-a",
    }
    assert await people.responsible_for("PO", "Zuid", SCHOOL_B) == {
        "school": "school-b",
        "scp": "scp-b",
        "coordinator": "coord-zuid",
        "leerplicht": "lp-stad",  # nobody of Leerplicht has school B: the one for all cases
    }
    for outsider in ("school-b", "scp-b", "coord-zuid"):
        rol = outsider.split("-")[0].replace("coord", "coordinator")
        assert not await people.in_scope(outsider, rol, "PO", "Noord", SCHOOL_A), outsider


async def test_a_vo_case_goes_to_the_koersloket_and_to_no_ppo_role(people: Directory) -> None:
    assert await people.responsible_for("VO", "Noord", SCHOOL_C) == {
        "koersloket": "koersloket-1",
        "leerplicht": "lp-stad",
    }
    # Even at a school whose SCP is known, and in a region with a coordinator: PPO has no part in a VO case.
    holders = await people.responsible_for("VO", "Noord", SCHOOL_A)
    assert holders == {"school": "school-a", "koersloket": "koersloket-1", "leerplicht": "lp-a"}
    assert not await people.in_scope("scp-a", "scp", "VO", "Noord", SCHOOL_A)
    assert not await people.in_scope("coord-noord", "coordinator", "VO", "Noord", SCHOOL_A)
    assert not await people.in_scope("ouderf-noord", "ouderfunctionaris", "VO", "Noord", SCHOOL_A)
    assert await people.in_scope("koersloket-1", "koersloket", "VO", "Zuid", SCHOOL_B)
    assert not await people.in_scope("koersloket-1", "koersloket", "PO", "Zuid", SCHOOL_B)


async def test_a_pupil_from_abroad_goes_to_leerplicht_absoluut_verzuim(people: Directory) -> None:
    assert await people.responsible_for("PO", "Zuid", None, uit_buitenland=True) == {
        "coordinator": "coord-zuid",
        "leerplicht": "lp-stad",
        "leerplicht_absoluut_verzuim": "lav-1",
    }
    assert "leerplicht_absoluut_verzuim" not in await people.responsible_for("PO", "Zuid", SCHOOL_B)


async def test_of_several_who_fit_the_lowest_active_persoon_id_holds_the_case(people: Directory) -> None:
    await people.upsert(person("scp-z", scope("scp", scholen=[SCHOOL_A])))
    await people.upsert(person("Scp-q", scope("scp", scholen=[SCHOOL_A, SCHOOL_B])))  # 'S' sorts before 's'
    assert (await people.responsible_for("PO", "Noord", SCHOOL_A))["scp"] == "Scp-q"
    assert (await people.responsible_for("PO", "Zuid", SCHOOL_B))["scp"] == "Scp-q"
    await people.deactivate("Scp-q")
    assert (await people.responsible_for("PO", "Noord", SCHOOL_A))["scp"] == "scp-a"
    await people.deactivate("coord-zuid")
    assert "coordinator" not in await people.responsible_for("PO", "Zuid", SCHOOL_B)


async def test_a_school_with_a_location_number_is_in_its_institutions_scope(people: Directory) -> None:
    holders = await people.responsible_for("PO", "Noord", SCHOOL_A + "01")
    assert (holders["scp"], holders["school"], holders["leerplicht"]) == ("scp-a", "school-a", "lp-a")
    assert await people.in_scope("scp-a", "scp", "PO", "Noord", SCHOOL_A + "01")
    assert not await people.in_scope("scp-b", "scp", "PO", "Noord", SCHOOL_A + "01")


@pytest.mark.parametrize(
    ("persoon_id", "rol", "case", "expected"),
    [
        ("scp-a", "scp", ("PO", "Noord", SCHOOL_A), True),
        ("scp-a", "scp", ("PO", "Zuid", SCHOOL_B), False),
        ("scp-a", "coordinator", ("PO", "Noord", SCHOOL_A), False),  # a role the person does not hold
        ("school-a", "school", ("PO", "Noord", SCHOOL_A), True),
        ("school-a", "school", ("PO", "Noord", None), False),
        ("coord-noord", "coordinator", ("PO", "Noord", SCHOOL_B), True),  # the region decides, not the school
        ("coord-noord", "coordinator", ("PO", "Zuid", SCHOOL_A), False),
        ("lp-a", "leerplicht", ("VO", "Zuid", SCHOOL_A), True),
        ("lp-a", "leerplicht", ("PO", "Noord", SCHOOL_B), False),
        ("lp-stad", "leerplicht", ("VO", "Zuid", SCHOOL_C), True),
        ("lav-1", "leerplicht_absoluut_verzuim", ("PO", "Zuid", None), True),
        ("wijkteam-noord", "wijkteam", ("VO", "Noord", SCHOOL_C), True),
        ("wijkteam-noord", "wijkteam", ("PO", "Zuid", SCHOOL_B), False),
        ("taskforce-1", "taskforce", ("VO", "Zuid", SCHOOL_B), True),
        ("beheerder-1", "beheerder", ("PO", "Noord", SCHOOL_A), False),  # manages people, has no cases
        ("scp-a", "ouders", ("PO", "Noord", SCHOOL_A), False),
        ("nobody", "scp", ("PO", "Noord", SCHOOL_A), False),
    ],
)
async def test_in_scope(people: Directory, persoon_id: str, rol: str, case: tuple[Any, ...], expected: bool) -> None:
    assert await people.in_scope(persoon_id, rol, *case) is expected


# ------------------------------------------------------------------------------------------ where messages go


async def test_a_message_goes_to_the_person_then_the_roles_address_of_the_school_region_or_sector(
    people: Directory,
) -> None:
    case_a = {"school_brin": SCHOOL_A, "regio": "Noord", "sector": "PO"}
    assert await people.address_for("scp", persoon_id="scp-a", **case_a) == "scp-a@example.org"
    # Someone else's SCP assigned by mistake: not their case, so the school's SCP address.
    assert await people.address_for("scp", persoon_id="scp-b", **case_a) == "scp-team-a@ppo.example"
    # A person who does not hold the role is not its address either.
    assert await people.address_for("coordinator", persoon_id="scp-a", **case_a) == "coordinatoren-noord@ppo.example"
    # Without a case, the person's own address.
    assert await people.address_for("scp", persoon_id="scp-b") == "scp-b@example.org"
    # Nobody assigned: the role's address for the school; for leerplicht the school's before the region's.
    assert await people.address_for("school", **case_a) == "zorg@school-a.example"
    case_b = {"school_brin": SCHOOL_B, "regio": "Zuid", "sector": "PO"}
    assert await people.address_for("leerplicht", **case_b) == "leerplicht-school-b@gemeente.example"
    assert await people.address_for("leerplicht", regio="Zuid", sector="PO") == "leerplicht-zuid@gemeente.example"
    assert await people.address_for("koersloket", school_brin=SCHOOL_C, regio="Noord", sector="VO") == (
        "koersloket@koersvo.example"
    )


async def test_an_inactive_person_falls_back_to_the_roles_address(people: Directory) -> None:
    case_a = {"school_brin": SCHOOL_A, "regio": "Noord", "sector": "PO"}
    await people.deactivate("scp-a")
    assert await people.address_for("scp", persoon_id="scp-a", **case_a) == "scp-team-a@ppo.example"
    await people.deactivate("coord-noord")
    assert await people.address_for("coordinator", persoon_id="coord-noord", **case_a) == (
        "coordinatoren-noord@ppo.example"
    )


async def test_without_a_fitting_address_there_is_none_never_a_city_wide_inbox(people: Directory) -> None:
    case_a = {"school_brin": SCHOOL_A, "regio": "Noord", "sector": "PO"}
    assert await people.address_for("leerplicht", **case_a) is None  # no address for school A nor for Noord
    assert await people.address_for("taskforce") is None  # a Taskforce address exists, but for Noord only
    assert await people.address_for("taskforce", regio="Noord") == "kerngroep@taskforce.example"
    assert await people.address_for("taskforce", regio="Zuid") is None
    assert await people.address_for("wijkteam", **case_a) is None
    assert await people.address_for("ouders", **case_a) is None
    # PPO's roles have no part in a VO case: not the SCP's own address, not the school's SCP address.
    assert await people.address_for("scp", persoon_id="scp-a", school_brin=SCHOOL_A, sector="VO") is None
    assert await people.address_for("scp", persoon_id="scp-a") == "scp-a@example.org"


async def test_a_person_without_an_email_address_is_reached_through_the_roles_address(directory: Directory) -> None:
    await directory.upsert(
        Persoon(persoon_id="oidc-7", naam="Demo", bron="oidc", rollen=(scope("scp", scholen=[SCHOOL_A]),))
    )
    await directory.set_address(RolAdres(rol="scp", school_brin=SCHOOL_A, email="scp-team-a@ppo.example"))
    stored = await directory.get("oidc-7")
    assert stored is not None and (stored.bron, stored.email) == ("oidc", None)
    assert await directory.address_for("scp", persoon_id="oidc-7", school_brin=SCHOOL_A) == "scp-team-a@ppo.example"
