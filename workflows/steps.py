"""Steps of the procedure that both an event and a passing term can take: the melding's effects, escalation
and closing the case."""

from __future__ import annotations

from datetime import datetime

from workflows.calendar import add_working_days, amsterdam_date, next_meeting
from workflows.contract import Escalatie, EscalatieRegel, Regiehouder, Rol, Sector
from workflows.effects import Actie, Sjabloon, Systeem
from workflows.outbox import call, send
from workflows.state import (
    BYTES_ESCALATIES,
    MAX_ESCALATIES,
    CaseState,
    keep_latest,
    log,
    school_of,
    weeks_at_home,
)
from workflows.work import Step, open_task


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
    if state.versie >= 2 and state.aanmelding.sector is Sector.VO:
        return  # Koers VO: no Kindkans, no SISA signal, no PPO ouderfunctionaris (PROCEDURE.md version 2)
    kindkans_effects(state)


def kindkans_effects(state: CaseState) -> None:
    """PPO's part of the melding (PO): the hulpvraag in Kindkans, the SISA signal, the ouderfunctionaris, and the
    parents' access to the file."""
    startdatum = state.startdatum.isoformat()
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


def escalate(
    state: CaseState, niveau: Escalatie, now: datetime, door: str | None, *, reden_code: str, reden: str | None = None
) -> None:
    state.escalatie = niveau
    if state.versie >= 2:
        _escalate_v2(state, niveau, now, door, reden_code, reden)
        return
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
    if state.escalatie is not Escalatie.GEEN and (state.versie < 2 or state.aanmelding.sector is Sector.PO):
        rollen.append(Rol.COORDINATOR)  # version 2: VO has no PPO coordinator
    if state.escalatie is Escalatie.TASKFORCE:
        rollen.append(Rol.TASKFORCE)
    if state.regiehouder is Regiehouder.WIJKTEAM:
        rollen.append(Rol.WIJKTEAM)
    for rol in dict.fromkeys(rollen):
        send(state, rol, Sjabloon.AFGESLOTEN, uitkomst=state.uitkomst.value)


def _escalate_v2(
    state: CaseState, niveau: Escalatie, now: datetime, door: str | None, reden_code: str, reden: str | None
) -> None:
    """Version 2: the reason is kept (a code and text); a Taskforce case gets its Kerngroep meeting, and the school
    a task to inform the parents."""
    today = amsterdam_date(now)
    escalaties = keep_latest(
        [
            *state.dossier.escalaties,
            EscalatieRegel(op=today, niveau=niveau.value, reden_code=reden_code, reden=reden, door=door),
        ],
        MAX_ESCALATIES,
        BYTES_ESCALATIES,
    )
    state.dossier = state.dossier.model_copy(update={"escalaties": escalaties})
    state.dossier_gewijzigd = True
    if state.check_stand is not None:
        state.check_stand = "opgeschaald"
    weken = weeks_at_home(state, now)
    if niveau is Escalatie.COORDINATOR:
        automatisch = reden_code == "check_niet_beslist"
        log(
            state,
            now,
            "opschalen",
            door,
            f"Opgeschaald naar de thuiszitterscoördinator {state.aanmelding.regio.value}"
            + (" (twaalfwekencheck niet op tijd beslist)." if automatisch else f" ({reden_code})."),
        )
        send(
            state,
            Rol.COORDINATOR,
            Sjabloon.ESCALATIE_COORDINATOR,
            reden_code=reden_code,
            weken=weken,
            deadline=state.deadline_12_weken.isoformat(),
        )
        return
    beleid = state.beleid
    bespreking = next_meeting(
        add_working_days(today, beleid.kerngroep_voorbereiding_werkdagen),
        beleid.kerngroep_eerste_vergadering,
        beleid.kerngroep_interval_dagen,
    )
    state.regiehouder = Regiehouder.TASKFORCE
    state.kerngroep_bespreking_op = bespreking
    log(
        state,
        now,
        "opschalen",
        door,
        f"Opgeschaald naar de Taskforce Thuiszitters ({reden_code}); die neemt de casusregie over. "
        f"Bespreking in de Kerngroep op {bespreking.isoformat()}.",
    )
    call(
        state,
        Systeem.TASKFORCE,
        Actie.AANMELDING,
        regio=state.aanmelding.regio.value,
        sector=state.aanmelding.sector.value,
        weken_thuis=weken,
        reden_code=reden_code,
        bespreking_op=bespreking.isoformat(),
    )
    send(
        state,
        Rol.TASKFORCE,
        Sjabloon.ESCALATIE_TASKFORCE,
        weken=weken,
        reden_code=reden_code,
        bespreking_op=bespreking.isoformat(),
    )
    school = school_of(state)
    send(state, school, Sjabloon.OUDERS_INFORMEREN_TASKFORCE, bespreking_op=bespreking.isoformat())
    open_task(
        state,
        Step(
            f"ouders_informeren_taskforce_{len(escalaties)}",
            school,
            "ouders_informeren_taskforce",
            "Informeer de ouders dat de zaak naar de Taskforce Thuiszitters gaat.",
        ),
        today,
        los=True,
    )
