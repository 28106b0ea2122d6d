"""Authorisation in one place: which person may do what in which case (role × action × scope).

One function answers every question of the web application, the API and the tools: :func:`decide`. It combines
three things:

- **role × action**: for an event, the permission table of CONTRACT.md version 2 (``workflows.permissions``, the
  same table the rules enforce inside the case); for the other actions, the tables below;
- **scope**: whether the case is one of the actor's cases (their schools, their sector, their region, assigned to
  them, escalated to them); :func:`scope_filter` describes the same scope for a list of cases, so that a list and
  a single case never disagree;
- **state**: a closed case takes no more events, but those in scope may still read it.

Pure: no I/O, no clock. What a case is, for the policy, is :class:`CaseFacts` (built from a case's ``status`` or
from the register). The scope of each role is documented in ``docs/people.md`` ("Authorisation").
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import StrEnum
from functools import cache
from itertools import product
from typing import Any, Literal, get_args, get_origin

from pydantic import BaseModel, ConfigDict, Field, model_validator

from workflows.contract import (
    EVENTS,
    ROL_NAMEN,
    Brin,
    CaseStatus,
    Door,
    Escalatie,
    Gebeurtenis,
    PersoonId,
    Regio,
    Sector,
    TaakAfgerond,
    Toewijzen,
)
from workflows.permissions import PERMISSIONS, allowed_roles

# ------------------------------------------------------------------------------------------------------ roles


class ActorRole(StrEnum):
    """The role a person holds in the directory: the roles of the procedure that people fill, and ``beheerder``.

    ``ouders`` is a role of the contract (``Door``) but not of a person here: parents do not log in to this system;
    what they ask is recorded by the school (``aanmelding_andere_school``) or Leerplicht (``vrijstelling``).
    """

    SCHOOL = "school"
    SCP = "scp"
    KOERSLOKET = "koersloket"
    LEERPLICHT = "leerplicht"
    LEERPLICHT_ABSOLUUT_VERZUIM = "leerplicht_absoluut_verzuim"
    OUDERFUNCTIONARIS = "ouderfunctionaris"
    COORDINATOR = "coordinator"
    WIJKTEAM = "wijkteam"
    TASKFORCE = "taskforce"
    BEHEERDER = "beheerder"


_R = ActorRole

ROLE_NAMES: dict[str, str] = {**ROL_NAMEN, _R.BEHEERDER.value: "de beheerder"}
"""Each role as a Dutch sentence names it (the contract's names, and the administrator)."""


def role_label(rol: str | None) -> str:
    """The role as a label: ``Schoolcontactpersoon (PPO)``, ``Thuiszitterscoördinator``; a code that names no role
    as it is, and ``onbekend`` for none."""
    if rol is None:
        return "onbekend"
    naam = ROLE_NAMES.get(str(rol), str(rol))
    for article in ("de ", "het "):
        if naam.startswith(article):
            naam = naam[len(article) :]
    return naam[:1].upper() + naam[1:]


ORGANISATION_SECTOR: dict[ActorRole, Sector] = {
    _R.SCP: Sector.PO,
    _R.OUDERFUNCTIONARIS: Sector.PO,
    _R.COORDINATOR: Sector.PO,
    _R.KOERSLOKET: Sector.VO,
}
"""Roles that belong to one organisation and so to one sector: PPO Rotterdam (PO), Koers VO (VO)."""

ALLE_ROLES: frozenset[ActorRole] = frozenset({_R.LEERPLICHT, _R.LEERPLICHT_ABSOLUUT_VERZUIM, _R.TASKFORCE})
"""Roles for which ``alle`` means something: city-wide Leerplicht, and the Kerngroep that follows every case."""

REGIO_ROLES: frozenset[ActorRole] = frozenset({_R.OUDERFUNCTIONARIS, _R.COORDINATOR, _R.WIJKTEAM})
"""Roles whose scope is built on their region; for every other role a region (like a sector) only narrows."""


# ----------------------------------------------------------------------------------------------------- actions

EVENT_ACTIONS: tuple[str, ...] = tuple(dict.fromkeys((*EVENTS, *PERMISSIONS)))
"""Every event of contract version 2: sending it into a case."""

READ_ACTIONS: tuple[str, ...] = ("zaak_lezen", "documenten_lezen")
"""Reading one case: its status and timeline; the documents it references."""

LIST_ACTIONS: tuple[str, ...] = ("zaken_lijst", "rapport", "export")
"""Across cases: a list of cases, a report (counts), an export (pseudonymous rows); always limited by scope."""

START_ACTIONS: tuple[str, ...] = ("zaak_starten",)
"""Opening a new case for a pupil (the Aanmelding of the web form, the intake file, the API): ``case`` is the new
case as the Aanmelding describes it."""

ADMIN_ACTIONS: tuple[str, ...] = ("personen_beheren", "audit_lezen", "zaak_beeindigen")
"""The administrator's work: the directory of people, the audit log, terminating a case that cannot go on."""

ACTIONS: tuple[str, ...] = (*EVENT_ACTIONS, *READ_ACTIONS, *LIST_ACTIONS, *START_ACTIONS, *ADMIN_ACTIONS)

_PEOPLE_ROLES = frozenset(_R) - {_R.BEHEERDER}
LIST_ROLES: dict[str, frozenset[ActorRole]] = {
    "zaken_lijst": _PEOPLE_ROLES,
    "rapport": frozenset({_R.KOERSLOKET, _R.LEERPLICHT, _R.LEERPLICHT_ABSOLUUT_VERZUIM, _R.COORDINATOR, _R.TASKFORCE}),
    "export": frozenset({_R.KOERSLOKET, _R.COORDINATOR, _R.TASKFORCE}),
}
"""Who may ask for a list, a report or an export (each limited to the cases of :func:`scope_filter`): everyone who
works in cases may list their own; reports are for those who count and signal (the coordinators, Koers VO,
Leerplicht, the Kerngroep); exports for those who report outward (the coordinators to PPO and the municipality,
Koers VO, the Taskforce)."""

START_ROLES: frozenset[ActorRole] = frozenset(
    {_R.SCHOOL, _R.SCP, _R.KOERSLOKET, _R.LEERPLICHT, _R.LEERPLICHT_ABSOLUUT_VERZUIM, _R.COORDINATOR}
)
"""Who may report a new thuiszitter (``zaak_starten``), for a case in the scope they act in: the school, the
contact of the sector (SCP, Koersloket), Leerplicht and the coordinator, who all act in the case from its start."""

_WAT: dict[str, tuple[str, str]] = {
    "zaak_lezen": ("deze zaak", "inzien"),
    "documenten_lezen": ("de documenten van deze zaak", "inzien"),
    "zaken_lijst": ("een lijst van zaken", "opvragen"),
    "rapport": ("rapportages over zaken", "opvragen"),
    "export": ("zaken", "exporteren"),
    "personen_beheren": ("personen", "beheren"),
    "audit_lezen": ("het auditlog", "inzien"),
    "zaak_beeindigen": ("een zaak", "beëindigen"),
    "zaak_starten": ("een zaak", "starten"),
}
"""What each action is, as a Dutch sentence says it: the object and the verb (events: "'melding' sturen")."""


# ------------------------------------------------------------------------------------------------------ models


class Actor(BaseModel):
    """A logged-in person: who they are (pseudonymous id), their role, and the cases that role covers for them.

    ``scholen`` are BRIN codes; ``regio`` and ``sector`` are the base of the scope of the regional roles and of the
    single-sector organisations, and only narrow it for every other role; ``alle`` (all cases) exists only for
    Leerplicht, Leerplicht absoluut verzuim and the Taskforce.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    persoon_id: PersoonId
    rol: ActorRole
    scholen: frozenset[Brin] = frozenset()
    regio: Regio | None = None
    sector: Sector | None = None
    alle: bool = False

    @model_validator(mode="after")
    def _scope_fits_role(self) -> Actor:
        naam = ROLE_NAMES[self.rol.value]
        if self.alle and self.rol not in ALLE_ROLES:
            raise ValueError(
                f"alle: {naam} kan geen toegang tot alle zaken hebben; dat kan alleen bij Leerplicht, "
                "Leerplicht absoluut verzuim en de Taskforce"
            )
        if self.rol in (_R.COORDINATOR, _R.OUDERFUNCTIONARIS) and self.regio is None:
            raise ValueError(f"regio: verplicht voor {naam} (Noord of Zuid)")
        own = ORGANISATION_SECTOR.get(self.rol)
        if own is not None and self.sector not in (None, own):
            raise ValueError(f"sector: {naam} werkt alleen in {own.value}-zaken")
        if self.rol is _R.BEHEERDER and (self.scholen or self.regio or self.sector):
            raise ValueError("scholen, regio, sector: de beheerder heeft geen zaken")
        return self


class CaseFacts(BaseModel):
    """What the policy needs to know of a case (from its ``status`` or the register row)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    sector: Sector
    regio: Regio
    school_brin: Brin | None = Field(description="The school of registration; None for a pupil from abroad.")
    uit_buitenland: bool = Field(default=False, description="Defaults to: no school_brin.")
    toegewezen: dict[str, PersoonId] = Field(default_factory=dict, description="Per role, the assigned person.")
    escalatie: Escalatie = Escalatie.GEEN
    afgesloten: bool = False
    route: str | None = None
    open_taken: dict[str, str] = Field(default_factory=dict, description="Open tasks: task id -> role.")

    @model_validator(mode="before")
    @classmethod
    def _from_abroad_without_school(cls, data: Any) -> Any:
        if isinstance(data, Mapping) and "uit_buitenland" not in data:
            return {**data, "uit_buitenland": data.get("school_brin") is None}
        return data

    @model_validator(mode="after")
    def _school_unless_abroad(self) -> CaseFacts:
        if self.school_brin is None and not self.uit_buitenland:
            raise ValueError("school_brin: verplicht, behalve voor een leerling uit het buitenland")
        return self

    @classmethod
    def from_status(cls, status: CaseStatus) -> CaseFacts:
        """The facts of a case as its ``status`` query (version 2) reports them."""
        return cls(
            sector=status.sector,
            regio=status.regio,
            school_brin=status.school_brin,
            uit_buitenland=status.uit_buitenland,
            toegewezen=dict(status.toegewezen),
            escalatie=status.escalatie,
            afgesloten=status.afgesloten,
            route=status.route,
            open_taken={t.id: t.rol.value for t in status.open_taken if t.id is not None},
        )


class ScopeClause(BaseModel):
    """One set of conditions that a case must all meet; a condition left None does not apply.

    For a register query: ``scholen`` holds the case's ``school_brin`` or its first four characters (the
    institution); ``toegewezen`` is (role, person) in the case's ``toegewezen``; the others are equalities.
    """

    model_config = ConfigDict(frozen=True)

    scholen: frozenset[str] | None = None
    uit_buitenland: bool | None = None
    sector: Sector | None = None
    regio: Regio | None = None
    escalatie: Escalatie | None = None
    route: str | None = None
    toegewezen: tuple[str, str] | None = Field(default=None, description="(role, person) assigned in the case.")
    open_taak_voor: str | None = Field(default=None, description="A role the case has an open task for.")

    def matches(self, case: CaseFacts) -> bool:
        return (
            (self.scholen is None or _school_in(case.school_brin, self.scholen))
            and (self.uit_buitenland is None or case.uit_buitenland == self.uit_buitenland)
            and (self.sector is None or case.sector == self.sector)
            and (self.regio is None or case.regio == self.regio)
            and (self.escalatie is None or case.escalatie == self.escalatie)
            and (self.route is None or case.route == self.route)
            and (self.toegewezen is None or case.toegewezen.get(self.toegewezen[0]) == self.toegewezen[1])
            and (self.open_taak_voor is None or self.open_taak_voor in case.open_taken.values())
        )


def _school_in(brin: str | None, scholen: frozenset[str]) -> bool:
    """A case's school (a BRIN of four characters, or six: institution and location) is one of ``scholen`` when
    either its code or its institution is: a scope of ``12AB`` holds a case at ``12AB01``, not the other way round."""
    return brin is not None and (brin in scholen or brin[:4] in scholen)


class ScopeFilter(BaseModel):
    """Which cases a list may contain: those that meet any one clause (none: no cases; an empty clause: all)."""

    model_config = ConfigDict(frozen=True)

    clauses: tuple[ScopeClause, ...] = ()

    @property
    def alle(self) -> bool:
        return any(clause == ScopeClause() for clause in self.clauses)

    @property
    def geen(self) -> bool:
        return not self.clauses

    def matches(self, case: CaseFacts) -> bool:
        return any(clause.matches(case) for clause in self.clauses)


class Decision(BaseModel):
    """The answer of :func:`decide`: allowed or not, and why (in Dutch, naming the role)."""

    model_config = ConfigDict(frozen=True)

    allowed: bool
    reden: str

    def __bool__(self) -> bool:
        return self.allowed


# ------------------------------------------------------------------------------------------------------- scope


def _clauses(actor: Actor, *, acting: bool) -> list[ScopeClause]:
    """The role's own scope, before an actor's region or sector narrows it."""
    rol, scholen, regio = actor.rol, actor.scholen, actor.regio
    own_schools = [ScopeClause(scholen=scholen)] if scholen else []
    if rol is _R.SCHOOL:
        return own_schools
    if rol is _R.SCP:
        return [ScopeClause(scholen=scholen, sector=Sector.PO)] if scholen else []
    if rol is _R.KOERSLOKET:
        return [ScopeClause(sector=Sector.VO)]
    if rol is _R.LEERPLICHT:
        return [ScopeClause()] if actor.alle else own_schools
    if rol is _R.LEERPLICHT_ABSOLUUT_VERZUIM:
        return [ScopeClause()] if actor.alle else [*own_schools, ScopeClause(uit_buitenland=True)]
    if rol in (_R.OUDERFUNCTIONARIS, _R.COORDINATOR):
        return [ScopeClause(sector=Sector.PO, regio=regio)]
    if rol is _R.WIJKTEAM:
        # the wijkteam works where it is assigned, in the care routes of its region, and in the cases of its
        # region that give it a task (an action of a Taskforce decision, a care arrangement of route 3.3)
        assigned = ScopeClause(toegewezen=(_R.WIJKTEAM.value, actor.persoon_id))
        if not regio:
            return [assigned]
        return [
            assigned,
            ScopeClause(regio=regio, route="3.4"),
            ScopeClause(regio=regio, open_taak_voor=_R.WIJKTEAM.value),
        ]
    if rol is _R.TASKFORCE:
        escalated = ScopeClause(escalatie=Escalatie.TASKFORCE)
        return [ScopeClause()] if actor.alle and not acting else [escalated]
    return []  # beheerder: no cases


def _narrowed(actor: Actor, clauses: Iterable[ScopeClause]) -> ScopeFilter:
    narrow: dict[str, Any] = {}
    if actor.sector is not None:
        narrow["sector"] = actor.sector
    if actor.regio is not None and actor.rol not in REGIO_ROLES:
        narrow["regio"] = actor.regio
    kept = []
    for clause in clauses:
        if any(getattr(clause, k) not in (None, v) for k, v in narrow.items()):
            continue  # e.g. a VO-only Leerplicht officer and a PO clause: nothing of it is left
        kept.append(clause.model_copy(update=narrow))
    return ScopeFilter(clauses=tuple(dict.fromkeys(kept)))


def scope_filter(actor: Actor) -> ScopeFilter:
    """The cases the actor may see: what a list, report or export may contain, and which cases they may read."""
    return _narrowed(actor, _clauses(actor, acting=False))


def acting_scope(actor: Actor) -> ScopeFilter:
    """The cases the actor may act in and read the documents of. The same as :func:`scope_filter`, except for the
    Taskforce: the Kerngroep (``alle``) follows every case, but acts only in cases escalated to the Taskforce."""
    return _narrowed(actor, _clauses(actor, acting=True))


# ----------------------------------------------------------------------------------------------------- decide


def door_for(actor: Actor) -> Door:
    """The ``door`` that the web application and the API set on an event from this person: their own role, never
    one that the request names. ``ValueError`` for a role that sends no events (ouderfunctionaris, beheerder)."""
    try:
        return Door(actor.rol.value)
    except ValueError:
        raise ValueError(f"{_wie(actor.rol)} stuurt geen gebeurtenissen in zaken") from None


def with_sender(actor: Actor, action: str, payload: Mapping[str, Any]) -> dict[str, Any]:
    """The payload of event ``action`` with ``door`` and ``persoon`` set from the logged-in person. A payload that
    names another role or person is refused (``ValueError``, Dutch) rather than silently corrected.

    ``toewijzen`` is the exception for ``persoon``: in that event it is the person being assigned (CONTRACT.md
    version 2), so it is kept as sent and only ``door`` names the sender.
    """
    door = door_for(actor)
    claimed_door = payload.get("door")
    if claimed_door is not None and str(claimed_door) != door.value:
        raise ValueError(
            f"door: u bent aangemeld als {ROLE_NAMES[door.value]}; een andere rol ('{claimed_door}') kan niet"
        )
    if _persoon_is_assignee(action):
        return {**payload, "door": door.value}
    claimed_persoon = payload.get("persoon")
    if claimed_persoon is not None and claimed_persoon != actor.persoon_id:
        raise ValueError("persoon: u kunt alleen namens uzelf handelen")
    return {**payload, "door": door.value, "persoon": actor.persoon_id}


def _persoon_is_assignee(action: str) -> bool:
    return issubclass(EVENTS.get(action, Gebeurtenis), Toewijzen)


def decide(actor: Actor, action: str, case: CaseFacts | None = None, *, event: Gebeurtenis | None = None) -> Decision:
    """May ``actor`` do ``action`` (an event name, or one of the other :data:`ACTIONS`) in ``case``?

    For a list, report or export, ``case`` None asks whether the actor may ask for one at all; with a case, whether
    that case may appear in it. For ``zaak_starten``, ``case`` None asks whether the actor may start cases at all;
    with a case (the new one, as its Aanmelding describes it), whether they may start that one. For an event,
    ``event`` (the payload) makes the answer exact where the contract's table depends on it (``opschalen``,
    ``vrijstelling``, ``route`` 3.4, ``taak_afgerond``) and checks that its ``door`` and ``persoon`` are the
    actor's (in ``toewijzen`` ``persoon`` is the person assigned, so only ``door``); without it the answer is "may
    send some form of it", and the rules in the case check the payload again.

    Checks run in this order, so that nobody learns anything of a case outside their scope: the action, the role's
    kind of work, the scope, closure, then the event's own row.

    ``ValueError`` for an action that does not exist (a programming error, not a refusal).
    """
    if action not in ACTIONS:
        raise ValueError(f"onbekende actie '{action}'")
    rol = actor.rol

    if action in ADMIN_ACTIONS:
        if rol is not _R.BEHEERDER:
            return _no(f"{_wie(rol)} mag {_doen(action, 'niet')}: dat doet alleen de beheerder")
        if action == "zaak_beeindigen" and case is not None and case.afgesloten:
            return _no(f"{_wie(rol)} kan deze zaak niet beëindigen: ze is al afgesloten")
        return _yes(f"{_wie(rol)} mag {_doen(action)}")
    if rol is _R.BEHEERDER:
        return _no(
            f"{_wie(rol)} mag {_doen(action, 'niet')}: de beheerder beheert personen en zaken, "
            "maar leest of wijzigt geen dossiers van kinderen"
        )

    if action in LIST_ACTIONS:
        roles = LIST_ROLES[action]
        if rol not in roles:
            return _no(f"{_wie(rol)} mag {_doen(action, 'niet')}; dat mag alleen {_names(roles)}")
        if case is None:
            return _yes(f"{_wie(rol)} mag {_doen(action)}, beperkt tot de eigen zaken: {_scope_text(actor)}")
        if not scope_filter(actor).matches(case):
            return _no(
                f"{_wie(rol)} ziet deze zaak niet in een lijst: de zaak valt buiten uw toegang ({_scope_text(actor)})"
            )
        return _yes(f"{_wie(rol)} ziet deze zaak in een lijst")

    if action in START_ACTIONS:
        if rol not in START_ROLES:
            return _no(f"{_wie(rol)} mag {_doen(action, 'niet')}; dat doet alleen {_names(START_ROLES)}")
        if case is None:
            return _yes(f"{_wie(rol)} mag {_doen(action)}, voor een leerling binnen uw toegang: {_scope_text(actor)}")
        if not acting_scope(actor).matches(case):
            return _no(
                f"{_wie(rol)} mag voor deze leerling geen zaak starten: dat mag alleen {_needed(actor, action)}; "
                f"uw toegang: {_scope_text(actor)}"
            )
        return _yes(f"{_wie(rol)} mag voor deze leerling een zaak starten")

    if case is None:
        return _no(f"{_wie(rol)} kan {_doen(action, 'niet')}: er is geen zaak opgegeven")
    scope = scope_filter(actor) if action == "zaak_lezen" else acting_scope(actor)
    if not scope.matches(case):
        return _no(
            f"{_wie(rol)} mag {_doen(action, 'niet')}: dat mag alleen {_needed(actor, action)}; "
            f"uw toegang: {_scope_text(actor)}"
        )
    if action in READ_ACTIONS:
        return _yes(f"{_wie(rol)} mag {_doen(action)}")

    if case.afgesloten:
        return _no(f"{_wie(rol)} mag {_doen(action, 'niet meer')}: de zaak is afgesloten (inzien kan nog)")
    if event is not None and isinstance(event, TaakAfgerond) and event.taak_id not in case.open_taken:
        return _no(f"{_wie(rol)} kan {_doen(action, 'niet')}: deze zaak heeft geen open taak met id '{event.taak_id}'")
    roles_allowed = event_roles(action, case, event)
    if rol.value not in roles_allowed:
        wie = " of ".join(ROLE_NAMES[r] for r in roles_allowed) if roles_allowed else "geen enkele rol"
        return _no(f"{_wie(rol)} mag {_doen(action, 'niet', f'in deze {case.sector.value}-zaak')}; dat doet {wie}")
    if event is not None:
        if event.door.value != rol.value:
            namens = f"namens een andere rol ('{event.door.value}')"
            return _no(f"{_wie(rol)} mag {_doen(action, 'niet', namens)}")
        if event.persoon is not None and event.persoon != actor.persoon_id and not isinstance(event, Toewijzen):
            return _no(
                f"{_wie(rol)} mag {_doen(action, '', 'alleen namens zichzelf')}, niet namens persoon '{event.persoon}'"
            )
    return _yes(f"{_wie(rol)} mag {_doen(action)}")


def event_roles(action: str, case: CaseFacts, event: Gebeurtenis | None = None) -> tuple[str, ...]:
    """The roles that may send event ``action`` in ``case``, by the contract's table
    (:func:`workflows.permissions.allowed_roles`). Without a payload: the roles that may send any form of it (each
    value of the payload's choice fields; for ``taak_afgerond`` each role with an open task in the case)."""
    if event is not None:
        if not isinstance(event, EVENTS.get(action, Gebeurtenis)):
            raise ValueError(f"{action}: de inhoud is een {type(event).__name__}, geen '{action}'")
        task_role = case.open_taken.get(event.taak_id) if isinstance(event, TaakAfgerond) else None
        forms: list[tuple[Gebeurtenis, str | None]] = [(event, task_role)]
    else:
        forms = _forms(action, case)
    roles: dict[str, None] = {}
    for form, task_role in forms:
        for door in allowed_roles(
            action, form, sector=case.sector, uit_buitenland=case.uit_buitenland, task_role=task_role
        ):
            roles[door.value] = None
    return tuple(roles)


def _forms(action: str, case: CaseFacts) -> list[tuple[Gebeurtenis, str | None]]:
    """One payload per combination of the values of its choice (``Literal``) fields: the table's rows read only
    those, so these stand-ins (not validated) cover every row of the event."""
    model = EVENTS.get(action, Gebeurtenis)
    stand_ins = _stand_ins(model)
    if issubclass(model, TaakAfgerond):
        return [(form, rol) for form in stand_ins for rol in sorted(set(case.open_taken.values()))]
    return [(form, None) for form in stand_ins]


@cache
def _stand_ins(model: type[Gebeurtenis]) -> tuple[Gebeurtenis, ...]:
    """The stand-ins of :func:`_forms`, made once per event (the same for every case; only read)."""
    choices = {n: get_args(f.annotation) for n, f in model.model_fields.items() if get_origin(f.annotation) is Literal}
    return tuple(
        model.model_construct(**dict(zip(choices, values, strict=True))) for values in product(*choices.values())
    )


# ------------------------------------------------------------------------------------------------ Dutch texts


def _yes(reden: str) -> Decision:
    return Decision(allowed=True, reden=reden + ".")


def _no(reden: str) -> Decision:
    return Decision(allowed=False, reden=reden + ".")


def _wie(rol: ActorRole) -> str:
    naam = ROLE_NAMES[rol.value]
    return naam[0].upper() + naam[1:]


def _names(roles: Iterable[ActorRole]) -> str:
    names = [ROLE_NAMES[r.value] for r in ActorRole if r in set(roles)]
    return ", ".join(names[:-1]) + " en " + names[-1] if len(names) > 1 else "".join(names)


def _doen(action: str, niet: str = "", waar: str = "") -> str:
    """The action in Dutch word order after "mag": "'melding' in deze zaak niet sturen", "deze zaak inzien"."""
    obj, verb = _WAT.get(action, (f"'{action}'", "sturen"))
    if action in EVENT_ACTIONS:
        waar = waar or "in deze zaak"
    return " ".join(part for part in (obj, waar, niet, verb) if part)


def _needed(actor: Actor, action: str) -> str:
    """Who may do it in a case, in general terms: never the facts of a case the actor may not see."""
    rol = actor.rol
    if rol is _R.TASKFORCE and actor.alle and action != "zaak_lezen":
        return "de Taskforce in een zaak die naar de Taskforce is opgeschaald (andere zaken volgt de Kerngroep alleen)"
    return {
        _R.SCHOOL: "de school van de leerling",
        _R.SCP: "de schoolcontactpersoon (PPO) van de school van de leerling, in een PO-zaak",
        _R.KOERSLOKET: "het Koersloket, in een VO-zaak",
        _R.LEERPLICHT: "Leerplicht van de school van de leerling, of Leerplicht met toegang tot alle zaken",
        _R.LEERPLICHT_ABSOLUUT_VERZUIM: "Leerplicht absoluut verzuim, voor een leerling uit het buitenland "
        "of van de eigen scholen",
        _R.OUDERFUNCTIONARIS: "de ouderfunctionaris (PPO) van de regio, in een PO-zaak",
        _R.COORDINATOR: "de thuiszitterscoördinator van de regio, in een PO-zaak",
        _R.WIJKTEAM: "het wijkteam dat in de zaak is toegewezen, of dat van de regio bij een zorgroute (3.4) of "
        "een taak voor het wijkteam",
        _R.TASKFORCE: "de Taskforce, in een zaak die naar de Taskforce is opgeschaald",
    }.get(rol, "wie bij de zaak betrokken is")


def _scope_text(actor: Actor) -> str:
    """The actor's own scope, in Dutch."""
    rol = actor.rol
    scholen = ", ".join(sorted(actor.scholen)) or "geen"
    regio = actor.regio.value if actor.regio else "geen"
    if rol is _R.SCHOOL:
        text = f"zaken van uw scholen ({scholen})"
    elif rol is _R.SCP:
        text = f"PO-zaken van uw scholen ({scholen})"
    elif rol is _R.KOERSLOKET:
        text = "VO-zaken"
    elif rol in (_R.LEERPLICHT, _R.LEERPLICHT_ABSOLUUT_VERZUIM) and actor.alle:
        text = "alle zaken"
    elif rol is _R.LEERPLICHT:
        text = f"zaken van uw scholen ({scholen})"
    elif rol is _R.LEERPLICHT_ABSOLUUT_VERZUIM:
        text = f"leerlingen uit het buitenland en zaken van uw scholen ({scholen})"
    elif rol in (_R.OUDERFUNCTIONARIS, _R.COORDINATOR):
        text = f"PO-zaken van regio {regio}"
    elif rol is _R.WIJKTEAM:
        text = "zaken waarin u bent toegewezen" + (
            f", en zorgroutes (3.4) en zaken met een taak voor het wijkteam in regio {regio}" if actor.regio else ""
        )
    elif rol is _R.TASKFORCE:
        text = "naar de Taskforce opgeschaalde zaken" + (" (alle andere zaken alleen volgen)" if actor.alle else "")
    else:
        text = "geen zaken"
    narrowed = [f"sector {actor.sector.value}"] if actor.sector and rol not in ORGANISATION_SECTOR else []
    if actor.regio and rol not in REGIO_ROLES:
        narrowed.append(f"regio {actor.regio.value}")
    return text + (", alleen " + " en ".join(narrowed) if narrowed else "")
