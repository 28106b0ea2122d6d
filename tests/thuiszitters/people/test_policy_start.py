"""Who may start a case (``zaak_starten``): the roles that report a thuiszitter, for a new case in the scope they act
in; the reason of a refusal is Dutch and names the role."""

from __future__ import annotations

import pytest

from thuiszitters.people.policy import START_ROLES, Actor, ActorRole, CaseFacts, decide

OWN, OTHER = "11AA", "22BB"


def new_case(sector: str = "PO", regio: str = "Noord", school_brin: str | None = OWN, **changes: object) -> CaseFacts:
    """A new case as its Aanmelding describes it: nothing escalated, assigned or closed yet."""
    return CaseFacts.model_validate({"sector": sector, "regio": regio, "school_brin": school_brin, **changes})


SCHOOL = Actor(persoon_id="s1", rol="school", scholen=frozenset({OWN}))
SCP = Actor(persoon_id="p1", rol="scp", scholen=frozenset({OWN}))
KOERSLOKET = Actor(persoon_id="k1", rol="koersloket")
LEERPLICHT = Actor(persoon_id="l1", rol="leerplicht", scholen=frozenset({OWN}))
LEERPLICHT_ALLE = Actor(persoon_id="l2", rol="leerplicht", alle=True)
ABSOLUUT = Actor(persoon_id="a1", rol="leerplicht_absoluut_verzuim", scholen=frozenset({OWN}))
COORDINATOR = Actor(persoon_id="c1", rol="coordinator", regio="Noord")
OUDERFUNCTIONARIS = Actor(persoon_id="o1", rol="ouderfunctionaris", regio="Noord")
WIJKTEAM = Actor(persoon_id="w1", rol="wijkteam", regio="Noord")
TASKFORCE = Actor(persoon_id="t1", rol="taskforce", alle=True)
BEHEERDER = Actor(persoon_id="b1", rol="beheerder")


def test_the_roles_that_report_a_thuiszitter_may_start_cases_at_all() -> None:
    reporting = {
        ActorRole.SCHOOL,
        ActorRole.SCP,
        ActorRole.KOERSLOKET,
        ActorRole.LEERPLICHT,
        ActorRole.LEERPLICHT_ABSOLUUT_VERZUIM,
        ActorRole.COORDINATOR,
    }
    assert reporting == START_ROLES
    for actor in (SCHOOL, SCP, KOERSLOKET, LEERPLICHT, ABSOLUUT, COORDINATOR):
        assert decide(actor, "zaak_starten"), actor.rol
    for actor in (OUDERFUNCTIONARIS, WIJKTEAM, TASKFORCE, BEHEERDER):
        decision = decide(actor, "zaak_starten")
        assert not decision, actor.rol


@pytest.mark.parametrize(
    ("actor", "case", "allowed"),
    [
        (SCHOOL, new_case(), True),
        (SCHOOL, new_case(school_brin=OWN + "01"), True),  # a location of its own school
        (SCHOOL, new_case(sector="VO", regio="Zuid"), True),
        (SCHOOL, new_case(school_brin=OTHER), False),
        (SCHOOL, new_case(school_brin=None), False),  # from abroad, no school: not the school's
        (SCP, new_case(), True),
        (SCP, new_case(sector="VO"), False),
        (SCP, new_case(school_brin=OTHER), False),
        (KOERSLOKET, new_case(sector="VO", school_brin=OTHER), True),
        (KOERSLOKET, new_case(sector="VO", school_brin=None), True),
        (KOERSLOKET, new_case(sector="PO"), False),
        (LEERPLICHT, new_case(sector="VO"), True),
        (LEERPLICHT, new_case(school_brin=OTHER), False),
        (LEERPLICHT_ALLE, new_case(school_brin=OTHER, regio="Zuid"), True),
        (ABSOLUUT, new_case(school_brin=None), True),
        (ABSOLUUT, new_case(school_brin=OTHER, uit_buitenland=True), True),
        (ABSOLUUT, new_case(), True),
        (ABSOLUUT, new_case(school_brin=OTHER), False),
        (COORDINATOR, new_case(school_brin=OTHER), True),
        (COORDINATOR, new_case(regio="Zuid"), False),
        (COORDINATOR, new_case(sector="VO"), False),
    ],
)
def test_a_new_case_must_lie_in_the_scope_the_person_acts_in(actor: Actor, case: CaseFacts, allowed: bool) -> None:
    assert decide(actor, "zaak_starten", case).allowed is allowed


def test_roles_that_do_not_report_are_refused_even_for_their_own_cases() -> None:
    escalated = new_case(escalatie="taskforce", toegewezen={"wijkteam": "w1"}, route="3.4")
    for actor in (OUDERFUNCTIONARIS, WIJKTEAM, TASKFORCE, BEHEERDER):
        decision = decide(actor, "zaak_starten", escalated)
        assert not decision, actor.rol


def test_a_refusal_is_dutch_and_names_the_role() -> None:
    reden = decide(SCHOOL, "zaak_starten", new_case(school_brin=OTHER)).reden
    assert reden.startswith("De school mag voor deze leerling geen zaak starten")
    assert "de school van de leerling" in reden
    assert OWN in reden  # the person's own scope, so they see why
    reden = decide(COORDINATOR, "zaak_starten", new_case(sector="VO")).reden
    assert reden.startswith("De thuiszitterscoördinator mag voor deze leerling geen zaak starten")
    assert "PO-zaken van regio Noord" in reden
    reden = decide(WIJKTEAM, "zaak_starten", new_case()).reden
    assert reden.startswith("Het wijkteam mag een zaak niet starten; dat doet alleen de school")
    assert "de thuiszitterscoördinator" in reden
    reden = decide(BEHEERDER, "zaak_starten").reden
    assert reden.startswith("De beheerder mag een zaak niet starten")
    assert decide(SCHOOL, "zaak_starten", new_case()).reden == "De school mag voor deze leerling een zaak starten."
