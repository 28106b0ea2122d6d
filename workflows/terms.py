"""Which terms of the procedure lie ahead of a case, and when they fall (pure: nothing here changes the state)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from workflows.calendar import add_working_days, amsterdam_moment
from workflows.contract import Escalatie
from workflows.state import CaseState, route_andere_school, weken_tekst


@dataclass(frozen=True)
class Termijn:
    """A term of the procedure: a key (each fires once), the day it falls on, and what it is, in Dutch."""

    sleutel: str
    op: date
    omschrijving: str


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
    if state.fase == 0:
        found.append(
            Termijn(
                "vier_weken",
                state.startdatum + timedelta(days=beleid.thuiszitter_na_dagen),
                "vier weken thuis zonder melding",
            )
        )
    if state.escalatie is Escalatie.GEEN:
        for dagen in sorted(set(beleid.waarschuwingen_dagen)):  # a day named twice in the policy warns once
            found.append(
                Termijn(
                    f"waarschuwing_{dagen}",
                    state.startdatum + timedelta(days=dagen),
                    f"waarschuwing na {weken_tekst(dagen)}",
                )
            )
    found.append(Termijn("twaalf_weken", state.deadline_12_weken, "twaalfwekentermijn"))
    if state.fase >= 1 and state.melding_op is not None:
        if state.leerplichtig and state.lba_geregistreerd_op is None:
            found.append(
                Termijn(
                    "lba_herinnering",
                    add_working_days(state.melding_op, beleid.lba_herinnering_werkdagen),
                    "registratie in de LBA niet bevestigd",
                )
            )
        if state.fase == 1 and not state.uit_buitenland:
            found.append(
                Termijn(
                    "oudergesprek_herinnering",
                    add_working_days(state.melding_op, beleid.oudergesprek_herinnering_werkdagen),
                    "nog geen oudergesprek",
                )
            )
    if state.fase == 2 and state.oudergesprek_op is not None:
        found.append(
            Termijn(
                "plan_herinnering",
                add_working_days(state.oudergesprek_op, beleid.plan_herinnering_werkdagen),
                "nog geen plan van aanpak",
            )
        )
    if (deadline := zorgplicht_deadline(state)) is not None and route_andere_school(state):
        assert state.andere_school is not None
        key = "zorgplicht_verlengd" if state.andere_school.verlengd else "zorgplicht"
        if state.andere_school.nummer > 1:  # a later application has a term of its own
            key += f"_{state.andere_school.nummer}"
        found.append(Termijn(key, deadline, "zorgplichttermijn ontvangende school"))
    return sorted((t for t in found if t.sleutel not in state.gevuurd), key=lambda t: (t.op, t.sleutel))


def moment_of(state: CaseState, termijn: Termijn) -> datetime:
    """When a term fires: at the policy's hour (Amsterdam time) on its day."""
    return amsterdam_moment(termijn.op, state.beleid.termijn_uur)


def next_term(state: CaseState) -> Termijn | None:
    ahead = terms(state)
    return ahead[0] if ahead else None
