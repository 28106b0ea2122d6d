"""Steps of the procedure that both an event and a passing term can take: the melding's effects, escalation
and closing the case."""

from __future__ import annotations

from datetime import datetime

from workflows.contract import Escalatie, Regiehouder, Rol
from workflows.effects import Actie, Sjabloon, Systeem
from workflows.outbox import call, send
from workflows.state import CaseState, log, school_of, weeks_at_home


def melding_effects(state: CaseState, *, gemeld_bij_leerplicht: bool) -> None:
    startdatum = state.startdatum.isoformat()
    if state.uit_buitenland:
        send(state, Rol.LEERPLICHT_ABSOLUUT_VERZUIM, Sjabloon.MELDING_UIT_BUITENLAND, startdatum=startdatum)
        return
    if state.leerplichtig and not gemeld_bij_leerplicht:
        call(
            state,
            Systeem.LEERPLICHT,
            Actie.MELDING_VOLLEDIG_VERZUIM,
            startdatum=startdatum,
            school_brin=state.aanmelding.school_brin,
            sector=state.aanmelding.sector.value,
        )
    send(
        state,
        state.contactrol,
        Sjabloon.MELDING_THUISZITTER,
        startdatum=startdatum,
        school_brin=state.aanmelding.school_brin,
    )
    call(
        state,
        Systeem.KINDKANS,
        Actie.HULPVRAAG_AANMAKEN,
        startdatum=startdatum,
        status="thuiszitter",
        school_brin=state.aanmelding.school_brin,
        sector=state.aanmelding.sector.value,
        regio=state.aanmelding.regio.value,
    )
    state.kindkans_hulpvraag = True
    call(state, Systeem.SISA, Actie.SIGNAAL)
    send(state, Rol.OUDERFUNCTIONARIS, Sjabloon.OUDERFUNCTIONARIS_INFORMEREN, startdatum=startdatum)
    send(state, Rol.OUDERS, Sjabloon.TOEGANG_KINDKANS)


def escalate(state: CaseState, niveau: Escalatie, now: datetime, door: str | None, *, reden_code: str) -> None:
    state.escalatie = niveau
    if niveau is Escalatie.COORDINATOR:
        log(
            state,
            now,
            "opschalen",
            door,
            f"Opgeschaald naar de thuiszitterscoördinator {state.aanmelding.regio.value}"
            + (" (twaalfwekentermijn verstreken)." if reden_code == "termijn_verstreken" else "."),
        )
        send(
            state,
            Rol.COORDINATOR,
            Sjabloon.ESCALATIE_COORDINATOR,
            reden_code=reden_code,
            weken=weeks_at_home(state, now),
            deadline=state.deadline_12_weken.isoformat(),
        )
    else:
        state.regiehouder = Regiehouder.TASKFORCE
        log(
            state,
            now,
            "opschalen",
            door,
            "Opgeschaald naar de Taskforce Thuiszitters; die neemt de casusregie over.",
        )
        call(
            state,
            Systeem.TASKFORCE,
            Actie.AANMELDING,
            regio=state.aanmelding.regio.value,
            sector=state.aanmelding.sector.value,
            weken_thuis=weeks_at_home(state, now),
        )
        send(state, Rol.TASKFORCE, Sjabloon.ESCALATIE_TASKFORCE, weken=weeks_at_home(state, now))
        send(state, school_of(state), Sjabloon.OUDERS_INFORMEREN_TASKFORCE)


def close(state: CaseState, now: datetime, *, afsluiten_actie: Actie) -> None:
    state.afgesloten_op = now
    assert state.uitkomst is not None
    if state.kindkans_hulpvraag:
        call(state, Systeem.KINDKANS, afsluiten_actie, uitkomst=state.uitkomst.value)
    rollen: list[Rol] = [Rol.OUDERS]
    if not state.uit_buitenland:
        rollen += [Rol.SCHOOL, state.contactrol]
    if state.leerplichtig and state.melding_op is not None:  # Leerplicht only knows a case once it was reported
        rollen.append(state.leerplichtrol)
    if state.escalatie is not Escalatie.GEEN:
        rollen.append(Rol.COORDINATOR)
    if state.escalatie is Escalatie.TASKFORCE:
        rollen.append(Rol.TASKFORCE)
    if state.regiehouder is Regiehouder.WIJKTEAM:
        rollen.append(Rol.WIJKTEAM)
    for rol in dict.fromkeys(rollen):
        send(state, rol, Sjabloon.AFGESLOTEN, uitkomst=state.uitkomst.value)
