"""Which terms of the procedure lie ahead of a case, and when they fall (pure: nothing here changes the state)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

from workflows.calendar import add_working_days, amsterdam_moment, next_school_day
from workflows.contract import Escalatie, Rol
from workflows.state import CaseState, route_andere_school, weken_tekst


class Termijnsoort(StrEnum):
    """The kinds of term: what a term does when it passes depends on its kind alone (:mod:`workflows.firing`).

    A value is also the key of its kind's term where a case has one at a time; a warning adds its day
    (``waarschuwing_56``), a zorgplicht term whether it was extended and the number of the application
    (``zorgplicht_verlengd_2``). Running cases keep these keys (``CaseState.gevuurd``): never change a value."""

    VIER_WEKEN = "vier_weken"
    WAARSCHUWING = "waarschuwing"
    TWAALF_WEKEN = "twaalf_weken"
    LBA_HERINNERING = "lba_herinnering"
    OUDERGESPREK_HERINNERING = "oudergesprek_herinnering"
    PLAN_HERINNERING = "plan_herinnering"
    ZORGPLICHT = "zorgplicht"
    # Version 2
    LEERPLICHTIG = "leerplichtig"
    CHECK_BESLUIT = "check_besluit"
    HERBEOORDELING = "herbeoordeling"
    TAAK_TE_LAAT = "te_laat"


@dataclass(frozen=True)
class Termijn:
    """A term of the procedure: its kind, its key (each key fires once), the day it falls on, and what it is, in
    Dutch."""

    soort: Termijnsoort
    sleutel: str
    op: date
    omschrijving: str

    @classmethod
    def of(cls, soort: Termijnsoort, op: date, omschrijving: str, *onderscheid: str | int) -> Termijn:
        """A term of ``soort``, keyed by its kind and what tells it apart from other terms of that kind."""
        return cls(soort, "_".join([soort.value, *map(str, onderscheid)]), op, omschrijving)


def zorgplicht_deadline(state: CaseState) -> date | None:
    if state.andere_school is None:
        return None
    days = state.beleid.zorgplicht_dagen + (
        state.beleid.zorgplicht_verlenging_dagen if state.andere_school.verlengd else 0
    )
    return state.andere_school.aangemeld_op + timedelta(days=days)


def terms(state: CaseState) -> list[Termijn]:
    """The terms still ahead of this case (not yet fired), earliest first. None for a closed case."""
    if state.afgesloten:
        return []
    beleid = state.beleid
    found: list[Termijn] = []
    placed = state.versie >= 2 and state.fase >= 4  # version 2: phase 4 is open, and the twelve weeks are over
    if state.fase == 0:
        found.append(
            Termijn.of(
                Termijnsoort.VIER_WEKEN,
                state.startdatum + timedelta(days=beleid.thuiszitter_na_dagen),
                "vier weken thuis zonder melding",
            )
        )
    if state.escalatie is Escalatie.GEEN and not placed:
        for dagen in sorted(set(beleid.waarschuwingen_dagen)):  # a day named twice in the policy warns once
            found.append(
                Termijn.of(
                    Termijnsoort.WAARSCHUWING,
                    state.startdatum + timedelta(days=dagen),
                    f"waarschuwing na {weken_tekst(dagen)}",
                    dagen,
                )
            )
    if not placed:
        found.append(Termijn.of(Termijnsoort.TWAALF_WEKEN, state.deadline_12_weken, "twaalfwekentermijn"))
    if state.fase >= 1 and state.melding_op is not None:
        if state.leerplichtig and state.lba_geregistreerd_op is None:
            # Leerplicht hears of the case at the melding, or (version 2) on the day the pupil becomes leerplichtig
            gemeld = max(state.melding_op, state.leerplichtig_vanaf or state.melding_op)
            found.append(
                Termijn.of(
                    Termijnsoort.LBA_HERINNERING,
                    add_working_days(gemeld, beleid.lba_herinnering_werkdagen),
                    "registratie in de LBA niet bevestigd",
                )
            )
        if state.fase == 1 and not state.uit_buitenland:
            found.append(
                Termijn.of(
                    Termijnsoort.OUDERGESPREK_HERINNERING,
                    add_working_days(state.melding_op, beleid.oudergesprek_herinnering_werkdagen),
                    "nog geen oudergesprek",
                )
            )
    if state.fase == 2 and state.oudergesprek_op is not None:
        found.append(
            Termijn.of(
                Termijnsoort.PLAN_HERINNERING,
                add_working_days(state.oudergesprek_op, beleid.plan_herinnering_werkdagen),
                "nog geen plan van aanpak",
            )
        )
    if (deadline := zorgplicht_deadline(state)) is not None and route_andere_school(state):
        assert state.andere_school is not None
        onderscheid: list[str | int] = ["verlengd"] if state.andere_school.verlengd else []
        if state.andere_school.nummer > 1:  # a later application has a term of its own
            onderscheid.append(state.andere_school.nummer)
        found.append(
            Termijn.of(Termijnsoort.ZORGPLICHT, deadline, "zorgplichttermijn ontvangende school", *onderscheid)
        )
    if state.versie >= 2:
        found = _school_days(state, found) + _terms_v2(state)
    return sorted((t for t in found if t.sleutel not in state.gevuurd), key=lambda t: (t.op, t.sleutel))


_TO_SCHOOL = frozenset(
    {
        Termijnsoort.VIER_WEKEN,
        Termijnsoort.WAARSCHUWING,
        Termijnsoort.OUDERGESPREK_HERINNERING,
        Termijnsoort.PLAN_HERINNERING,
    }
)
"""Terms whose message goes to the school: in version 2 they wait for a school day (no reminders in holidays)."""


def _school_days(state: CaseState, found: list[Termijn]) -> list[Termijn]:
    if state.uit_buitenland:
        return found
    holidays = state.beleid.vakanties(state.aanmelding.regio.value)
    moved = [
        Termijn(t.soort, t.sleutel, next_school_day(t.op, holidays), t.omschrijving) if t.soort in _TO_SCHOOL else t
        for t in found
    ]
    # a warning that a holiday pushes to or past the twelve weeks would warn of what has already come: it is dropped
    return [t for t in moved if not (t.soort is Termijnsoort.WAARSCHUWING and t.op >= state.deadline_12_weken)]


def _terms_v2(state: CaseState) -> list[Termijn]:
    found: list[Termijn] = []
    if (vanaf := state.leerplichtig_vanaf) is not None and not state.leerplicht_begonnen:
        found.append(Termijn.of(Termijnsoort.LEERPLICHTIG, vanaf, "de leerling wordt leerplichtig"))
    check = state.twaalf_weken_check
    if check is not None and state.fase < 4:
        if check.stand == "open":
            found.append(
                Termijn.of(
                    Termijnsoort.CHECK_BESLUIT,
                    add_working_days(check.uiterlijk, 1),  # the first working day after it: no Saturday alarm
                    "besluit over de twaalfwekencheck te laat",
                    state.check_ronde,
                )
            )
        elif check.stand == "uitzicht" and check.herbeoordeling_op is not None:
            found.append(
                Termijn.of(
                    Termijnsoort.HERBEOORDELING,
                    check.herbeoordeling_op,
                    "de twaalfwekencheck komt terug",
                    state.check_ronde,
                )
            )
    holidays = state.beleid.vakanties(state.aanmelding.regio.value)
    for taak in state.taken:
        if taak.herinnerd:
            continue
        op = add_working_days(taak.uiterlijk, 1)  # overdue on the first working day after its due date
        if taak.rol is Rol.SCHOOL:
            op = next_school_day(op, holidays)
        found.append(Termijn.of(Termijnsoort.TAAK_TE_LAAT, op, f"taak {taak.id} te laat", taak.id))
    return found


def moment_of(state: CaseState, termijn: Termijn) -> datetime:
    """When a term fires: at the policy's hour (Amsterdam time) on its day."""
    return amsterdam_moment(termijn.op, state.beleid.termijn_uur)


def next_term(state: CaseState) -> Termijn | None:
    ahead = terms(state)
    return ahead[0] if ahead else None
