"""The authorisation policy (``thuiszitters.people.policy``): every role × action × case tried against a table
written here by hand (docs/people.md, "Authorisation"), and the events against CONTRACT.md version 2's permission
table (``workflows.permissions``)."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import pytest

from thuiszitters.people.policy import (
    ACTIONS,
    Actor,
    ActorRole,
    CaseFacts,
    ScopeClause,
    ScopeFilter,
    decide,
    door_for,
    role_label,
    scope_filter,
    with_sender,
)
from workflows.contract import (
    EVENTS,
    ROL_NAMEN,
    CaseStatus,
    Door,
    Escalatie,
    Gebeurtenis,
    Regiehouder,
    Regio,
    Rol,
    Sector,
    Taak,
)
from workflows.permissions import PERMISSIONS, allowed_roles

# ------------------------------------------------------------------------------------------- the inputs

ROLES = (
    "school",
    "scp",
    "koersloket",
    "leerplicht",
    "leerplicht_absoluut_verzuim",
    "ouderfunctionaris",
    "coordinator",
    "wijkteam",
    "taskforce",
    "beheerder",
)
SECTORS = ("PO", "VO")
OTHER_ACTIONS = (
    "zaak_lezen",
    "documenten_lezen",
    "zaken_lijst",
    "rapport",
    "export",
    "zaak_starten",
    "personen_beheren",
    "audit_lezen",
    "zaak_beeindigen",
)
ADMIN = {"personen_beheren", "audit_lezen", "zaak_beeindigen"}
ALL_ACTIONS = tuple(sorted({*EVENTS, *PERMISSIONS, *OTHER_ACTIONS}))

OWN, OTHER = "11AA", "22BB"
WIJKTEAM_PERSON = "w1"

ACTORS: dict[str, Actor] = {
    "school": Actor(persoon_id="s1", rol="school", scholen=frozenset({OWN})),
    "scp": Actor(persoon_id="p1", rol="scp", scholen=frozenset({OWN})),
    "koersloket": Actor(persoon_id="k1", rol="koersloket"),
    "leerplicht": Actor(persoon_id="l1", rol="leerplicht", scholen=frozenset({OWN})),
    "leerplicht_absoluut_verzuim": Actor(persoon_id="a1", rol="leerplicht_absoluut_verzuim", scholen=frozenset({OWN})),
    "ouderfunctionaris": Actor(persoon_id="o1", rol="ouderfunctionaris", regio="Noord"),
    "coordinator": Actor(persoon_id="c1", rol="coordinator", regio="Noord"),
    "wijkteam": Actor(persoon_id=WIJKTEAM_PERSON, rol="wijkteam", regio="Noord"),
    "taskforce": Actor(persoon_id="t1", rol="taskforce"),
    "beheerder": Actor(persoon_id="b1", rol="beheerder"),
}

OPEN_TASKS = {
    "T1": "school",
    "T2": "scp",
    "T3": "koersloket",
    "T4": "leerplicht",
    "T5": "leerplicht_absoluut_verzuim",
    "T6": "coordinator",
    "T7": "taskforce",
}
"""An open task for every role that acts, except the wijkteam: so ``taak_afgerond`` is refused to it."""

VARIANTS: dict[str, dict[str, Any]] = {
    # everything that brings a case into someone's scope: the actors' school and region, escalated to the
    # Taskforce, a care route, the wijkteam person assigned
    "eigen": {
        "school_brin": OWN,
        "regio": "Noord",
        "escalatie": "taskforce",
        "route": "3.4",
        "toegewezen": {"wijkteam": WIJKTEAM_PERSON},
    },
    # none of it: another school and region, not escalated, another wijkteam person
    "vreemd": {"school_brin": OTHER, "regio": "Zuid", "escalatie": "geen", "toegewezen": {"wijkteam": "w2"}},
    # a pupil from abroad: no school, in region Noord
    "buitenland": {"school_brin": None, "regio": "Noord", "escalatie": "geen"},
}


def case_of(sector: str, variant: str, **changes: Any) -> CaseFacts:
    return CaseFacts.model_validate({"sector": sector, "open_taken": OPEN_TASKS, **VARIANTS[variant], **changes})


# --------------------------------------------------------------------- the expected table, written by hand

IN_SCOPE: dict[str, set[tuple[str, str]]] = {
    "school": {("PO", "eigen"), ("VO", "eigen")},  # its own schools
    "scp": {("PO", "eigen")},  # PO cases of its own schools
    "koersloket": {("VO", "eigen"), ("VO", "vreemd"), ("VO", "buitenland")},  # every VO case
    "leerplicht": {("PO", "eigen"), ("VO", "eigen")},  # its schools (without alle)
    "leerplicht_absoluut_verzuim": {("PO", "eigen"), ("VO", "eigen"), ("PO", "buitenland"), ("VO", "buitenland")},
    "ouderfunctionaris": {("PO", "eigen"), ("PO", "buitenland")},  # PO cases of its region
    "coordinator": {("PO", "eigen"), ("PO", "buitenland")},  # PO cases of its region
    "wijkteam": {("PO", "eigen"), ("VO", "eigen")},  # assigned, or a care route in its region
    "taskforce": {("PO", "eigen"), ("VO", "eigen")},  # escalated to the Taskforce (without alle)
    "beheerder": set(),  # no case at all
}

_SCHOOL = {
    "melding",
    "oudergesprek",
    "plan_van_aanpak",
    "route",
    "aanmelding_andere_school",
    "zorgplicht_verlengd",
    "wachtlijst",
    "voortgang",
    "passende_plek",
    "uitschrijving",
    "taak_afgerond",
    "toewijzen",
    "document_toegevoegd",
    "gegevens_wijzigen",
    "intrekken",
}
_CONTACT = {  # the SCP in PO, the Koersloket in VO
    "melding",
    "oudergesprek",
    "route",
    "wachtlijst",
    "voortgang",
    "opschalen",
    "beoordeling",
    "passende_plek",
    "afronden",
    "taak_afgerond",
    "toewijzen",
    "document_toegevoegd",
    "gegevens_wijzigen",
    "intrekken",
}
_LEERPLICHT = {
    "leerplicht_registratie",
    "startdatum_correctie",
    "voortgang",
    "vrijstelling",
    "taak_afgerond",
    "toewijzen",
    "document_toegevoegd",
    "gegevens_wijzigen",
    "leerplicht_interventie",
    "intrekken",
}
_ABSOLUUT = {"leerplicht_registratie", "startdatum_correctie", "voortgang", "taak_afgerond", "document_toegevoegd"}
_COORDINATOR = {
    "voortgang",
    "opschalen",
    "beoordeling",
    "taak_afgerond",
    "toewijzen",
    "document_toegevoegd",
    "gegevens_wijzigen",
    "intrekken",
}
_WIJKTEAM = {"route", "voortgang", "passende_plek", "document_toegevoegd"}
_TASKFORCE = {"voortgang", "huisbezoek", "taskforce_besluit", "passende_plek", "taak_afgerond", "document_toegevoegd"}

EVENTS_ALLOWED: dict[str, dict[str, set[str]]] = {
    # per role, per sector where it can have a case: the events it may send in an open case in scope that has a
    # school (for a pupil from abroad see AFRONDEN_FROM_ABROAD)
    "school": {"PO": _SCHOOL | {"opschalen"}, "VO": _SCHOOL},  # VO has no escalation to a PPO coordinator
    "scp": {"PO": _CONTACT},
    "koersloket": {"VO": _CONTACT},
    "leerplicht": {"PO": _LEERPLICHT, "VO": _LEERPLICHT},
    "leerplicht_absoluut_verzuim": {"PO": _ABSOLUUT, "VO": _ABSOLUUT},
    "ouderfunctionaris": {"PO": set()},  # reads, sends nothing (not a role that acts in the contract)
    "coordinator": {"PO": _COORDINATOR},
    "wijkteam": {"PO": _WIJKTEAM, "VO": _WIJKTEAM},
    "taskforce": {"PO": _TASKFORCE, "VO": _TASKFORCE},
    "beheerder": {},
}
AFRONDEN_FROM_ABROAD = {"leerplicht_absoluut_verzuim"}

OTHER_ALLOWED: dict[str, set[str]] = {
    # the non-event actions on a case in scope (for a list: the case may appear in it)
    "zaak_lezen": set(ROLES) - {"beheerder"},
    "documenten_lezen": set(ROLES) - {"beheerder"},
    "zaken_lijst": set(ROLES) - {"beheerder"},
    "rapport": {"koersloket", "leerplicht", "leerplicht_absoluut_verzuim", "coordinator", "taskforce"},
    "export": {"koersloket", "coordinator", "taskforce"},
    "zaak_starten": {"school", "scp", "koersloket", "leerplicht", "leerplicht_absoluut_verzuim", "coordinator"},
}


def expected(role: str, action: str, sector: str, variant: str) -> bool:
    if action in ADMIN:
        return role == "beheerder"  # a case of any scope; none here is closed
    if (sector, variant) not in IN_SCOPE[role]:
        return False
    if action in OTHER_ALLOWED:
        return role in OTHER_ALLOWED[action]
    if action == "afronden" and variant == "buitenland":
        return role in AFRONDEN_FROM_ABROAD
    return action in EVENTS_ALLOWED[role].get(sector, set())


# ------------------------------------------------------------------------------------------------ (a)


def test_the_inputs_are_the_policys_and_the_contracts() -> None:
    assert set(ACTIONS) == set(ALL_ACTIONS)
    assert len(ACTIONS) == len(set(ACTIONS))
    assert {r.value for r in ActorRole} == set(ROLES) == {r.value for r in Rol} - {"ouders"} | {"beheerder"}
    assert set(ACTORS) == set(ROLES)
    for table in EVENTS_ALLOWED.values():
        for events in table.values():
            assert events <= set(EVENTS)


def test_every_role_action_and_case_against_the_table() -> None:
    tried, allowed, wrong = 0, 0, []
    for role in ROLES:
        for action in ALL_ACTIONS:
            for variant in VARIANTS:
                for sector in SECTORS:
                    decision = decide(ACTORS[role], action, case_of(sector, variant))
                    tried += 1
                    allowed += decision.allowed
                    if decision.allowed != expected(role, action, sector, variant):
                        wrong.append(f"{role} {action} {sector} {variant}: {decision.reden}")
    print(
        f"\npolicy: tried {tried} combinations ({len(ROLES)} roles × {len(ALL_ACTIONS)} actions × "
        f"{len(VARIANTS)} cases × {len(SECTORS)} sectors), {allowed} allowed"
    )
    assert tried == len(ROLES) * len(ALL_ACTIONS) * len(VARIANTS) * len(SECTORS)
    assert not wrong, "\n".join(wrong)
    assert 0 < allowed < tried


def test_lists_and_reports_without_a_case() -> None:
    for role in ROLES:
        for action in ("zaken_lijst", "rapport", "export"):
            assert decide(ACTORS[role], action).allowed == (role in OTHER_ALLOWED[action]), (role, action)


# ------------------------------------------------------------------------------------------------ (b)

SAMPLES: dict[str, list[dict[str, Any]]] = {
    "melding": [{"gemeld_bij_leerplicht": True}],
    "leerplicht_registratie": [{"lba_geregistreerd_op": "2025-01-10"}],
    "startdatum_correctie": [{"startdatum": "2025-01-06", "reden": "volgens de LBA"}],
    "oudergesprek": [{"deelnemers": ["school", "ouders"]}],
    "plan_van_aanpak": [{"in_opp": True, "instemming_ouders": True}],
    "route": [
        {"route": "3.1"},
        {"route": "3.2"},
        {"route": "3.3", "variant": "zorgarrangement"},
        {"route": "3.4"},
    ],
    "aanmelding_andere_school": [{"school_brin": "33CC"}],
    "zorgplicht_verlengd": [{}],
    "wachtlijst": [{"op_wachtlijst": True}],
    "voortgang": [{"toelichting": "gaat goed"}],
    "opschalen": [
        {"niveau": "coordinator", "reden_code": "proces_loopt_vast", "reden": "loopt vast"},
        {"niveau": "taskforce", "reden_code": "overig", "reden": "geen plek", "afgestemd_met_leerplicht": True},
    ],
    "beoordeling": [{"uitzicht": "plek in zicht", "herbeoordeling_op": "2025-03-01"}],
    "huisbezoek": [{"samenvatting": "bezocht"}],
    "taskforce_besluit": [{"besluit": "arrangement"}],
    "vrijstelling": [{"status": "aangevraagd"}, {"status": "verleend"}, {"status": "afgewezen"}],
    "passende_plek": [{"uitkomst": "terug_op_school"}],
    "uitschrijving": [{"uitgeschreven_op": "2025-04-01"}],
    "afronden": [{"toelichting": "gecontroleerd"}],
    "taak_afgerond": [{"taak_id": taak, "toelichting": "gedaan"} for taak in OPEN_TASKS],
    "toewijzen": [{"rol": "wijkteam", "persoon": "w9"}],
    "document_toegevoegd": [{"soort": "opp", "verwijzing": "dms:42"}],
    "gegevens_wijzigen": [{"regio": "Zuid"}],
    "leerplicht_interventie": [{"soort": "gesprek", "toelichting": "ouders gesproken"}],
    "intrekken": [{"reden": "ten onrechte gemeld"}],
}
"""A real payload of every event, one per value of every field the permission table reads."""

NO_PERSON = {"ouders"}
"""Roles of the contract that no person in the directory holds: parents do not log in (the school records their
aanmelding at another school, Leerplicht their vrijstelling request)."""

NO_CASE_IN_SCOPE: dict[tuple[str, bool], set[str]] = {
    # (sector, pupil from abroad): roles of the contract's "*" rows that no person can have such a case of
    ("PO", False): {"koersloket"},  # Koers VO works in VO only
    ("VO", False): {"scp", "coordinator", "ouderfunctionaris"},  # PPO works in PO only
    ("PO", True): {"koersloket", "school", "scp"},  # ... and a pupil from abroad has no school
    ("VO", True): {"scp", "coordinator", "ouderfunctionaris", "school"},
}


WIDEST_SCOPE: dict[str, dict[str, Any]] = {
    "school": {"scholen": frozenset({OWN})},
    "scp": {"scholen": frozenset({OWN})},
    "leerplicht": {"alle": True},
    "leerplicht_absoluut_verzuim": {"alle": True},
    "ouderfunctionaris": {"regio": "Noord"},
    "coordinator": {"regio": "Noord"},
    "wijkteam": {"regio": "Noord"},
    "taskforce": {"alle": True},
}


def widest_actor(role: str) -> Actor:
    """A person of ``role`` whose scope holds the case of :func:`contract_case`, where any can."""
    persoon = WIJKTEAM_PERSON if role == "wijkteam" else f"{role}-1"
    return Actor.model_validate({"persoon_id": persoon, "rol": role, **WIDEST_SCOPE.get(role, {})})


def contract_case(sector: str, abroad: bool) -> CaseFacts:
    return case_of(
        sector,
        "buitenland" if abroad else "eigen",
        escalatie="taskforce",
        route="3.4",
        toegewezen={"wijkteam": WIJKTEAM_PERSON},
    )


def payload(name: str, sample: dict[str, Any], actor: Actor) -> Gebeurtenis:
    door = actor.rol.value if actor.rol.value in {d.value for d in Door} else "school"
    sender = {"door": door} if name == "toewijzen" else {"door": door, "persoon": actor.persoon_id}
    return EVENTS[name].model_validate({**sample, **sender})


def test_samples_cover_every_event() -> None:
    assert set(SAMPLES) == set(EVENTS) >= set(PERMISSIONS)


@pytest.mark.parametrize("sector", SECTORS)
@pytest.mark.parametrize("abroad", [False, True], ids=["met_school", "buitenland"])
def test_events_agree_with_the_contracts_permission_table(sector: str, abroad: bool) -> None:
    case = contract_case(sector, abroad)
    actors = [widest_actor(role) for role in ROLES]
    compared = 0
    for name in EVENTS:
        union_expected: set[str] = set()
        for sample in SAMPLES[name]:
            form = payload(name, sample, actors[0])
            task_role = OPEN_TASKS.get(sample.get("taak_id", ""))
            table = allowed_roles(name, form, sector=Sector(sector), uit_buitenland=abroad, task_role=task_role)
            want = {d.value for d in table} - NO_PERSON - NO_CASE_IN_SCOPE[(sector, abroad)]
            got = {a.rol.value for a in actors if decide(a, name, case, event=payload(name, sample, a)).allowed}
            assert got == want, (name, sample)
            union_expected |= want
            compared += 1
        # without a payload: whoever may send some form of it
        got_any = {a.rol.value for a in actors if decide(a, name, case).allowed}
        assert got_any == union_expected, name
    assert compared == sum(len(s) for s in SAMPLES.values())


def test_the_roles_left_out_are_those_without_a_person_or_a_case() -> None:
    # the exclusions above are needed (each removes a role the table names), and ouderfunctionaris and beheerder
    # never appear in the table at all
    named = {d.value for rows in PERMISSIONS.values() for roles in rows.values() for d in roles}
    assert named >= NO_PERSON
    assert {"koersloket", "scp", "coordinator", "school"} <= named
    assert not {"ouderfunctionaris", "beheerder"} & {d.value for d in Door}


# ------------------------------------------------------------------------------------------------ (c)


def test_a_closed_case_refuses_events_but_may_be_read_in_scope() -> None:
    refused_events = 0
    for role in ROLES:
        for sector, variant in IN_SCOPE[role]:
            open_case = case_of(sector, variant)
            closed = case_of(sector, variant, afgesloten=True)
            for name in EVENTS:
                decision = decide(ACTORS[role], name, closed)
                assert not decision.allowed, (role, name)
                if decide(ACTORS[role], name, open_case).allowed:
                    assert "afgesloten" in decision.reden, decision.reden
                    refused_events += 1
            for action in ("zaak_lezen", "documenten_lezen", "zaken_lijst"):
                assert decide(ACTORS[role], action, closed).allowed, (role, action)
            # closing a case opens it to nobody new
            if (sector, "vreemd") not in IN_SCOPE[role]:
                assert not decide(ACTORS[role], "zaak_lezen", case_of(sector, "vreemd", afgesloten=True)).allowed
    assert refused_events > 100
    beheerder = ACTORS["beheerder"]
    assert decide(beheerder, "zaak_beeindigen", case_of("PO", "eigen")).allowed
    assert not decide(beheerder, "zaak_beeindigen", case_of("PO", "eigen", afgesloten=True)).allowed


# ------------------------------------------------------------------------------------------------ (d)


def test_the_administrator_reads_no_case() -> None:
    beheerder = ACTORS["beheerder"]
    for variant in VARIANTS:
        for sector in SECTORS:
            case = case_of(sector, variant)
            for action in ("zaak_lezen", "documenten_lezen", "zaken_lijst", "rapport", "export", *EVENTS):
                decision = decide(beheerder, action, case)
                assert not decision.allowed, action
                assert "De beheerder" in decision.reden and "geen dossiers van kinderen" in decision.reden
    for action in ("zaken_lijst", "rapport", "export"):
        assert not decide(beheerder, action).allowed
    for action in ADMIN:
        assert decide(beheerder, action).allowed
    assert scope_filter(beheerder).geen
    with pytest.raises(ValueError, match="stuurt geen gebeurtenissen"):
        door_for(beheerder)
    with pytest.raises(ValueError, match="de beheerder heeft geen zaken"):
        Actor(persoon_id="b2", rol="beheerder", scholen=frozenset({OWN}))
    with pytest.raises(ValueError, match="alle"):
        Actor(persoon_id="b2", rol="beheerder", alle=True)


# ------------------------------------------------------------------------------------------------ (e)

NAMES = {**ROL_NAMEN, "beheerder": "de beheerder"}
ENGLISH = re.compile(r"\b(not|only|may|allowed|denied|case|scope|role|forbidden|the)\b", re.IGNORECASE)
DUTCH = re.compile(r"\b(mag|kan|ziet|niet|zaak|alleen)\b")


def test_every_reason_is_dutch_and_names_the_role() -> None:
    reasons = 0
    for role in ROLES:
        for action in ALL_ACTIONS:
            for variant in VARIANTS:
                for sector in SECTORS:
                    reden = decide(ACTORS[role], action, case_of(sector, variant)).reden
                    assert NAMES[role].lower() in reden.lower(), reden
                    assert DUTCH.search(reden) and not ENGLISH.search(reden), reden
                    reasons += 1
    assert reasons == len(ROLES) * len(ALL_ACTIONS) * len(VARIANTS) * len(SECTORS)


def test_a_refusal_says_what_is_missing_without_telling_the_case() -> None:
    scp = ACTORS["scp"]
    reden = decide(scp, "melding", case_of("PO", "vreemd")).reden
    assert reden.startswith("De schoolcontactpersoon (PPO) mag 'melding' in deze zaak niet sturen")
    assert "schoolcontactpersoon (PPO) van de school van de leerling" in reden
    assert OWN in reden  # the actor's own schools
    assert OTHER not in reden  # never the school of a case the actor may not see
    reden = decide(ACTORS["wijkteam"], "melding", case_of("PO", "eigen")).reden
    assert "in deze PO-zaak niet sturen" in reden
    assert "de school of de schoolcontactpersoon (PPO)" in reden
    reden = decide(ACTORS["school"], "rapport").reden
    assert "De school mag rapportages over zaken niet opvragen" in reden
    assert "de thuiszitterscoördinator" in reden


# ------------------------------------------------------------------------------------------- scope rules


def test_wijkteam_sees_its_assignments_and_the_care_routes_of_its_region() -> None:
    wijkteam = ACTORS["wijkteam"]
    assigned_elsewhere = case_of("VO", "vreemd", toegewezen={"wijkteam": WIJKTEAM_PERSON})
    care_route_unassigned = case_of("PO", "eigen", toegewezen={})
    region_only = case_of("PO", "eigen", toegewezen={}, route="3.2")
    assert decide(wijkteam, "passende_plek", assigned_elsewhere).allowed
    assert decide(wijkteam, "zaak_lezen", care_route_unassigned).allowed
    assert not decide(wijkteam, "zaak_lezen", region_only).allowed
    assert not decide(wijkteam, "zaak_lezen", case_of("PO", "eigen", regio="Zuid", toegewezen={})).allowed
    no_region = Actor(persoon_id=WIJKTEAM_PERSON, rol="wijkteam")
    assert decide(no_region, "zaak_lezen", assigned_elsewhere).allowed
    assert not decide(no_region, "zaak_lezen", care_route_unassigned).allowed


def test_the_kerngroep_follows_every_case_but_acts_only_in_escalated_ones() -> None:
    kerngroep = Actor(persoon_id="t2", rol="taskforce", alle=True)
    followed = case_of("VO", "vreemd")
    escalated = case_of("VO", "vreemd", escalatie="taskforce")
    assert decide(kerngroep, "zaak_lezen", followed).allowed
    assert decide(kerngroep, "zaken_lijst", followed).allowed
    assert not decide(kerngroep, "documenten_lezen", followed).allowed
    refusal = decide(kerngroep, "huisbezoek", followed)
    assert not refusal.allowed and "opgeschaald" in refusal.reden
    assert decide(kerngroep, "huisbezoek", escalated).allowed
    assert decide(kerngroep, "documenten_lezen", escalated).allowed
    assert scope_filter(kerngroep).alle
    assert not scope_filter(ACTORS["taskforce"]).alle


def test_leerplicht_with_alle_and_absoluut_verzuim_for_pupils_from_abroad() -> None:
    city = Actor(persoon_id="l2", rol="leerplicht", alle=True)
    assert decide(city, "leerplicht_interventie", case_of("PO", "vreemd")).allowed
    assert not decide(ACTORS["leerplicht"], "leerplicht_interventie", case_of("PO", "vreemd")).allowed
    assert not decide(ACTORS["leerplicht"], "zaak_lezen", case_of("PO", "buitenland")).allowed
    no_schools = Actor(persoon_id="a2", rol="leerplicht_absoluut_verzuim")
    assert decide(no_schools, "afronden", case_of("VO", "buitenland", regio="Zuid")).allowed
    assert not decide(no_schools, "zaak_lezen", case_of("VO", "eigen")).allowed


def test_a_sector_or_region_on_the_actor_only_narrows() -> None:
    vo_only = Actor(persoon_id="l3", rol="leerplicht", alle=True, sector="VO")
    assert decide(vo_only, "zaak_lezen", case_of("VO", "vreemd")).allowed
    assert not decide(vo_only, "zaak_lezen", case_of("PO", "vreemd")).allowed
    noord = Actor(persoon_id="k2", rol="koersloket", regio="Noord")
    assert decide(noord, "zaak_lezen", case_of("VO", "eigen")).allowed
    assert not decide(noord, "zaak_lezen", case_of("VO", "vreemd")).allowed  # Zuid
    assert scope_filter(vo_only) == ScopeFilter(clauses=(ScopeClause(sector=Sector.VO),))


def test_a_school_holds_the_cases_of_its_locations() -> None:
    school = ACTORS["school"]  # institution 11AA
    assert decide(school, "zaak_lezen", case_of("PO", "eigen", school_brin="11AA01")).allowed
    location = Actor(persoon_id="s3", rol="school", scholen=frozenset({"11AA01"}))
    assert decide(location, "zaak_lezen", case_of("PO", "eigen", school_brin="11AA01")).allowed
    assert not decide(location, "zaak_lezen", case_of("PO", "eigen", school_brin="11AA02")).allowed
    assert not decide(location, "zaak_lezen", case_of("PO", "eigen")).allowed  # the whole institution: not its own


def test_scope_filters_for_the_register() -> None:
    assert scope_filter(ACTORS["scp"]) == ScopeFilter(
        clauses=(ScopeClause(scholen=frozenset({OWN}), sector=Sector.PO),)
    )
    assert scope_filter(ACTORS["coordinator"]) == ScopeFilter(
        clauses=(ScopeClause(sector=Sector.PO, regio=Regio.NOORD),)
    )
    assert scope_filter(ACTORS["leerplicht_absoluut_verzuim"]).clauses == (
        ScopeClause(scholen=frozenset({OWN})),
        ScopeClause(uit_buitenland=True),
    )
    assert scope_filter(ACTORS["taskforce"]).clauses == (ScopeClause(escalatie=Escalatie.TASKFORCE),)
    assert scope_filter(Actor(persoon_id="s2", rol="school")).geen


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"rol": "school", "alle": True}, "alle: de school kan geen toegang tot alle zaken hebben"),
        ({"rol": "coordinator"}, "regio: verplicht"),
        ({"rol": "koersloket", "sector": "PO"}, "sector: het Koersloket .* werkt alleen in VO-zaken"),
        ({"rol": "scp", "sector": "VO"}, "alleen in PO-zaken"),
        ({"rol": "ouders"}, "rol"),
    ],
)
def test_an_actor_whose_scope_does_not_fit_the_role_is_refused(fields: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Actor.model_validate({"persoon_id": "x1", **fields})


def test_case_facts() -> None:
    assert case_of("PO", "buitenland").uit_buitenland
    assert not case_of("PO", "eigen").uit_buitenland
    with pytest.raises(ValueError, match="school_brin: verplicht"):
        CaseFacts(sector="PO", regio="Noord", school_brin=None, uit_buitenland=False)
    status = CaseStatus(
        leerling_ref="L1",
        fase=3,
        fase_naam="Oplossingen realiseren",
        sector=Sector.VO,
        regio=Regio.ZUID,
        regiehouder=Regiehouder.WIJKTEAM,
        leerplichtig=True,
        uit_buitenland=False,
        startdatum=date(2025, 1, 6),
        weken_thuis=5,
        deadline_12_weken=date(2025, 3, 31),
        escalatie=Escalatie.COORDINATOR,
        route="3.4",
        route_variant=None,
        wachtlijst=False,
        vrijstelling=None,
        open_taken=[
            Taak(id="T4", rol=Rol.KOERSLOKET, taak="t", omschrijving="o"),
            Taak(rol=Rol.SCHOOL, taak="v1", omschrijving="o"),
        ],
        tijdlijn=[],
        afgewezen=[],
        afgesloten=False,
        uitkomst=None,
        toegewezen={"wijkteam": "w7"},
        school_brin=OTHER,
    )
    assert CaseFacts.from_status(status) == CaseFacts(
        sector="VO",
        regio="Zuid",
        school_brin=OTHER,
        toegewezen={"wijkteam": "w7"},
        escalatie="coordinator",
        route="3.4",
        open_taken={"T4": "koersloket"},
    )


# ------------------------------------------------------------------------------ door, persoon and payloads


def test_door_is_the_logged_in_persons_role() -> None:
    assert door_for(ACTORS["scp"]) is Door.SCP
    with pytest.raises(ValueError, match="ouderfunctionaris"):
        door_for(ACTORS["ouderfunctionaris"])
    scp = ACTORS["scp"]
    assert with_sender(scp, "melding", {"gemeld_bij_leerplicht": True}) == {
        "gemeld_bij_leerplicht": True,
        "door": "scp",
        "persoon": "p1",
    }
    with pytest.raises(ValueError, match="door: u bent aangemeld als de schoolcontactpersoon"):
        with_sender(scp, "melding", {"door": "coordinator"})
    with pytest.raises(ValueError, match="persoon: u kunt alleen namens uzelf"):
        with_sender(scp, "melding", {"persoon": "p2"})
    # in toewijzen, persoon is the person being assigned
    assert with_sender(scp, "toewijzen", {"rol": "scp", "persoon": "p2"})["persoon"] == "p2"


def test_a_payload_makes_the_answer_exact_and_must_be_the_actors() -> None:
    po = case_of("PO", "eigen", escalatie="geen")
    coordinator = ACTORS["coordinator"]
    to_taskforce = payload("opschalen", SAMPLES["opschalen"][1], coordinator)
    to_coordinator = payload("opschalen", SAMPLES["opschalen"][0], coordinator)
    assert decide(coordinator, "opschalen", po, event=to_taskforce).allowed
    assert not decide(coordinator, "opschalen", po, event=to_coordinator).allowed
    scp = ACTORS["scp"]
    as_school = EVENTS["melding"].model_validate({"gemeld_bij_leerplicht": True, "door": "school", "persoon": "p1"})
    refusal = decide(scp, "melding", po, event=as_school)
    assert not refusal.allowed and "namens een andere rol ('school')" in refusal.reden
    as_other = EVENTS["melding"].model_validate({"gemeld_bij_leerplicht": True, "door": "scp", "persoon": "p2"})
    assert not decide(scp, "melding", po, event=as_other).allowed
    own_task = payload("taak_afgerond", {"taak_id": "T2", "toelichting": "gedaan"}, scp)
    school_task = payload("taak_afgerond", {"taak_id": "T1", "toelichting": "gedaan"}, scp)
    no_task = payload("taak_afgerond", {"taak_id": "T99", "toelichting": "gedaan"}, scp)
    assert decide(scp, "taak_afgerond", po, event=own_task).allowed
    assert not decide(scp, "taak_afgerond", po, event=school_task).allowed
    refusal = decide(scp, "taak_afgerond", po, event=no_task)
    assert not refusal.allowed and "geen open taak met id 'T99'" in refusal.reden
    with pytest.raises(ValueError, match="geen 'opschalen'"):
        decide(coordinator, "opschalen", po, event=own_task)


def test_an_unknown_action_is_an_error_not_a_refusal() -> None:
    with pytest.raises(ValueError, match="onbekende actie 'zaak_verwijderen'"):
        decide(ACTORS["beheerder"], "zaak_verwijderen")


def test_a_role_as_a_label_without_its_article() -> None:
    assert role_label(ActorRole.SCP) == role_label("scp") == "Schoolcontactpersoon (PPO)"
    assert role_label(ActorRole.COORDINATOR) == "Thuiszitterscoördinator"
    assert role_label(ActorRole.BEHEERDER) == "Beheerder"  # not a role of the contract
    assert role_label("lba_registreren") == "Lba_registreren"  # a code no role has: shown as it is
    assert role_label(None) == "onbekend"
