"""From the ID token's claims to the directory (``person_from_claims``): a known person keeps the directory's roles,
scopes and active state and takes the provider's name and address; an unknown one gets only the roles that come with
a scope claim the directory can hold. Pure: no database, no provider."""

from __future__ import annotations

from typing import Any

from thuiszitters.people.directory import Persoon, RolScope
from thuiszitters.web.auth import choose_scope, person_from_claims, roles_from_claims, scope_key

KNOWN = Persoon(
    persoon_id="p-1",
    naam="Naam uit de lijst",
    email="lijst@example.org",
    actief=False,
    rollen=(RolScope(rol="scp", scholen=("99AA",)),),
)


def claims(**extra: Any) -> dict[str, Any]:
    return {"sub": "p-1", "name": "Naam van de provider", "email": "provider@example.org", **extra}


def test_a_known_person_keeps_roles_scope_and_state_and_takes_name_and_address() -> None:
    stored = person_from_claims(KNOWN, claims(rol="taskforce", roles=["taskforce"], alle=True))
    assert (stored.naam, stored.email, stored.bron) == ("Naam van de provider", "provider@example.org", "oidc")
    assert (stored.rollen, stored.actief) == (KNOWN.rollen, False)


def test_what_the_provider_sends_that_is_not_valid_leaves_the_directory_as_it_was() -> None:
    stored = person_from_claims(KNOWN, claims(name="Naam\x07", email="geen adres"))
    assert (stored.naam, stored.email) == (KNOWN.naam, KNOWN.email)
    unverified = person_from_claims(KNOWN, claims(email_verified=False))
    assert unverified.email == KNOWN.email
    nameless = person_from_claims(None, {"sub": "p-2"})
    assert (nameless.naam, nameless.email, nameless.rollen, nameless.actief) == ("p-2", None, (), True)


def test_an_unknown_person_gets_only_roles_with_a_scope_claim_that_fits() -> None:
    assert roles_from_claims(claims(rol="scp")) == ()
    assert roles_from_claims(claims(rol="scp", scholen="99aa 99AB")) == (RolScope(rol="scp", scholen=("99AA", "99AB")),)
    assert roles_from_claims(claims(roles=["coordinator", "wijkteam"], regio="Noord")) == (
        RolScope(rol="coordinator", regio="Noord"),
        RolScope(rol="wijkteam", regio="Noord"),
    )
    assert roles_from_claims(claims(roles=["scp", "coordinator"], scholen=["99AA"], regio="Zuid")) == (
        RolScope(rol="scp", scholen=("99AA",)),
        RolScope(rol="coordinator", regio="Zuid"),
    )
    assert roles_from_claims(claims(rol="koersloket", sector="VO")) == (RolScope(rol="koersloket", sector="VO"),)
    assert roles_from_claims(claims(rol="taskforce", alle=True)) == (RolScope(rol="taskforce", alle=True),)


def test_roles_the_claims_cannot_give() -> None:
    assert roles_from_claims(claims(rol="beheerder")) == (), "the beheerder comes from the directory file only"
    assert roles_from_claims(claims(rol="ouders", scholen="99AA")) == ()
    assert roles_from_claims(claims(rol="directeur", scholen="99AA")) == ()
    assert roles_from_claims(claims(rol="leerplicht", scholen="99AA", alle=True)) == (), "two scopes: which one?"
    assert roles_from_claims(claims(rol="scp", scholen="Bos en Lommer")) == ()
    assert roles_from_claims(claims(rol="koersloket", sector="PO")) == ()
    assert roles_from_claims(claims(rol="taskforce", alle="ja")) == ()
    assert roles_from_claims(claims(rol="coordinator", regio="West")) == ()
    unknown = person_from_claims(None, claims(rol="scp", scholen="99AA"))
    assert unknown.rollen == (RolScope(rol="scp", scholen=("99AA",)),) and unknown.bron == "oidc"


def test_a_session_keeps_its_scope_while_the_directory_has_it() -> None:
    noord, zuid = RolScope(rol="coordinator", regio="Noord"), RolScope(rol="coordinator", regio="Zuid")
    person = KNOWN.model_copy(update={"rollen": (noord, zuid)})
    assert choose_scope(person, "coordinator", scope_key(zuid)) == zuid
    assert choose_scope(person, "coordinator", "coordinator||West||") == noord, "changed in the directory"
    assert choose_scope(person, "scp", scope_key(zuid)) is None, "the role is gone"
