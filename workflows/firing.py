"""What a term does when it passes: each fires once, in order (:func:`fire_due_terms`)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from workflows.contract import Escalatie, Rol, Sector
from workflows.effects import Actie, Sjabloon, Systeem
from workflows.outbox import call, record, send
from workflows.state import SYSTEEM, CaseState, contact_of, log, school_and_contact, successor, weeks_at_home
from workflows.steps import escalate
from workflows.terms import Termijn, Termijnsoort, moment_of, terms


def fire_due_terms(state: CaseState, now: datetime) -> CaseState:
    """Fire every term whose moment has come, each once, in order. Returns the state unchanged when none is due.

    In version 2 a term can bring the next one into reach (the twelve-week check opens, and its due date may lie in
    the past already for a case reported late): the terms are fired again until none is due."""
    due = [t for t in terms(state) if moment_of(state, t) <= now]
    if not due:
        return state
    new = successor(state)
    _fire(new, due, now)
    for _ in range(20 if new.versie >= 2 else 0):
        due = [t for t in terms(new) if moment_of(new, t) <= now]
        if not due:
            break
        _fire(new, due, now)
    return new


def _fire(new: CaseState, due: list[Termijn], now: datetime) -> None:
    kinds = {t.soort for t in due}
    latest_warning = max((t.op for t in due if t.soort is Termijnsoort.WAARSCHUWING), default=None)
    for termijn in due:
        new.gevuurd.append(termijn.sleutel)
        if termijn.soort is Termijnsoort.WAARSCHUWING and (
            Termijnsoort.TWAALF_WEKEN in kinds or termijn.op != latest_warning
        ):
            continue  # a later warning, or the term itself, has passed too: this warning no longer means anything
        _FIRE[termijn.soort](new, termijn, now)
        record(new, now, termijn.sleutel, SYSTEEM)


def _fire_vier(state: CaseState, termijn: Termijn, now: datetime) -> None:
    log(
        state,
        now,
        termijn.sleutel,
        SYSTEEM,
        "Vier weken thuis zonder melding: school en "
        + ("Koersloket" if state.versie >= 2 and state.contactrol is Rol.KOERSLOKET else "SCP")
        + " melden de thuiszitter.",
    )
    for rol in (Rol.SCHOOL, state.contactrol):
        send(
            state,
            rol,
            Sjabloon.VIER_WEKEN_THUIS,
            startdatum=state.startdatum.isoformat(),
            termijn_op=termijn.op.isoformat(),
        )


def _fire_waarschuwing(state: CaseState, termijn: Termijn, now: datetime) -> None:
    weken = (termijn.op - state.startdatum).days // 7
    log(state, now, termijn.sleutel, SYSTEEM, f"{weken} weken thuis: waarschuwing voor de twaalfwekentermijn.")
    for rol in school_and_contact(state):
        send(state, rol, Sjabloon.TERMIJN_WAARSCHUWING, weken=weken, deadline=state.deadline_12_weken.isoformat())


def _fire_twaalf(state: CaseState, termijn: Termijn, now: datetime) -> None:
    if state.versie >= 2:
        _open_check(state, termijn, now)
        return
    if state.escalatie is Escalatie.GEEN:
        escalate(state, Escalatie.COORDINATOR, now, SYSTEEM, reden_code="termijn_verstreken")
    else:
        log(state, now, termijn.sleutel, SYSTEEM, "Twaalfwekentermijn verstreken; de zaak is al opgeschaald.")


def _fire_lba(state: CaseState, termijn: Termijn, now: datetime) -> None:
    log(
        state,
        now,
        termijn.sleutel,
        SYSTEEM,
        "Registratie in de LBA niet bevestigd: Leerplicht absoluut verzuim registreert."
        if state.versie >= 2 and state.uit_buitenland
        else "Registratie in de LBA niet bevestigd: "
        + ("PPO" if state.versie < 2 or state.aanmelding.sector is Sector.PO else "het Koersloket")
        + " checkt bij de school.",
    )
    assert state.melding_op is not None
    send(state, contact_of(state), Sjabloon.LBA_HERINNERING, melding_op=state.melding_op.isoformat())


def _fire_oudergesprek(state: CaseState, termijn: Termijn, now: datetime) -> None:
    log(state, now, termijn.sleutel, SYSTEEM, "Herinnering: nog geen oudergesprek.")
    assert state.melding_op is not None
    for rol in (Rol.SCHOOL, state.contactrol):
        send(state, rol, Sjabloon.OUDERGESPREK_HERINNERING, melding_op=state.melding_op.isoformat())


def _fire_plan(state: CaseState, termijn: Termijn, now: datetime) -> None:
    log(state, now, termijn.sleutel, SYSTEEM, "Herinnering: nog geen plan van aanpak.")
    assert state.oudergesprek_op is not None
    for rol in (Rol.SCHOOL, state.contactrol):
        send(state, rol, Sjabloon.PLAN_HERINNERING, oudergesprek_op=state.oudergesprek_op.isoformat())


def _fire_zorgplicht(state: CaseState, termijn: Termijn, now: datetime) -> None:
    log(
        state,
        now,
        termijn.sleutel,
        SYSTEEM,
        "Zorgplichttermijn verstreken zonder besluit van de ontvangende school.",
    )
    ppo = state.versie < 2 or state.aanmelding.sector is Sector.PO  # Koers VO has no PPO coordinator
    for rol in (state.contactrol, Rol.COORDINATOR) if ppo else (state.contactrol,):
        send(state, rol, Sjabloon.ZORGPLICHT_VERLOPEN, termijn_op=termijn.op.isoformat())


def _decider(state: CaseState) -> Rol:
    """Who decides an open twelve-week check: the SCP (PO) or the Koersloket (VO); the coordinator once the case
    is escalated to them (their Taskforce question)."""
    return Rol.COORDINATOR if state.escalatie is Escalatie.COORDINATOR else state.contactrol


def _open_check(state: CaseState, termijn: Termijn, now: datetime) -> None:
    if state.uit_buitenland:
        # No school, no SCP or Koersloket to decide: Leerplicht absoluut verzuim holds the case, and the Kerngroep
        # follows it from its list.
        state.op_kerngroep_lijst = True
        log(
            state,
            now,
            termijn.sleutel,
            SYSTEEM,
            "Twaalf weken thuis; Leerplicht absoluut verzuim heeft de regie, de Kerngroep volgt de zaak.",
        )
        return
    if state.escalatie is Escalatie.TASKFORCE or state.fase >= 4:
        log(state, now, termijn.sleutel, SYSTEEM, "Twaalf weken thuis; de Taskforce heeft de zaak al.")
        return
    if state.check_stand == "uitzicht":
        log(state, now, termijn.sleutel, SYSTEEM, "Twaalf weken thuis; de beoordeling van het uitzicht staat.")
        return
    state.check_stand = "open"
    state.check_ronde += 1  # a round of its own: an earlier beoordeling may have used round 1 and its terms
    state.check_basis = None
    _check_opened(state, termijn, now, terugkomst=False)


def _check_opened(state: CaseState, termijn: Termijn, now: datetime, *, terugkomst: bool) -> None:
    check = state.twaalf_weken_check
    assert check is not None
    decider = _decider(state)
    log(
        state,
        now,
        termijn.sleutel,
        SYSTEEM,
        ("De twaalfwekencheck komt terug" if terugkomst else "Twaalf weken thuis: de twaalfwekencheck")
        + f"; {decider.value} beslist uiterlijk {check.uiterlijk.isoformat()} (opschalen of beoordeling).",
    )
    gegevens = {
        "deadline": state.deadline_12_weken.isoformat(),
        "uiterlijk": check.uiterlijk.isoformat(),
        "weken": weeks_at_home(state, now),
        "terugkomst": terugkomst,
    }
    send(state, decider, Sjabloon.TWAALF_WEKEN_CHECK, **gegevens)
    if state.aanmelding.sector is Sector.PO and decider is not Rol.COORDINATOR and not state.uit_buitenland:
        send(state, Rol.COORDINATOR, Sjabloon.TWAALF_WEKEN_CHECK_GEMELD, **gegevens)


def _fire_check_besluit(state: CaseState, termijn: Termijn, now: datetime) -> None:
    check = state.twaalf_weken_check
    assert check is not None
    if state.aanmelding.sector is Sector.PO and state.escalatie is Escalatie.GEEN and not state.uit_buitenland:
        escalate(state, Escalatie.COORDINATOR, now, SYSTEEM, reden_code="check_niet_beslist")
        return
    state.op_kerngroep_lijst = True
    log(
        state,
        now,
        termijn.sleutel,
        SYSTEEM,
        f"Twaalfwekencheck niet beslist op {check.uiterlijk.isoformat()}: herinnering, en de zaak staat op de lijst "
        "van de Kerngroep.",
    )
    gegevens = {"uiterlijk": check.uiterlijk.isoformat(), "weken": weeks_at_home(state, now)}
    for rol in dict.fromkeys((_decider(state), Rol.TASKFORCE)):
        send(state, rol, Sjabloon.TWAALF_WEKEN_CHECK_VERLOPEN, **gegevens)


def _fire_herbeoordeling(state: CaseState, termijn: Termijn, now: datetime) -> None:
    state.check_stand = "open"
    state.check_ronde += 1
    state.check_basis = termijn.op
    state.check_herbeoordeling_op = None
    _check_opened(state, termijn, now, terugkomst=True)


def _fire_leerplichtig(state: CaseState, termijn: Termijn, now: datetime) -> None:
    state.leerplicht_begonnen = True
    log(state, now, termijn.sleutel, SYSTEEM, f"De leerling is leerplichtig vanaf {termijn.op.isoformat()}.")
    if state.fase < 1:
        return  # the melding brings Leerplicht in
    if not state.gemeld_bij_leerplicht:
        call(
            state,
            Systeem.LEERPLICHT,
            Actie.MELDING_VOLLEDIG_VERZUIM,
            startdatum=state.startdatum.isoformat(),
            school_brin=state.aanmelding.school_brin,
            sector=state.aanmelding.sector.value,
        )
    for rol in dict.fromkeys((state.leerplichtrol, *school_and_contact(state))):
        send(
            state,
            rol,
            Sjabloon.LEERPLICHTIG_GEWORDEN,
            leerplichtig_vanaf=termijn.op.isoformat(),
            startdatum=state.startdatum.isoformat(),
            school_brin=state.aanmelding.school_brin,
        )


def _fire_te_laat(state: CaseState, termijn: Termijn, now: datetime) -> None:
    taak_id = termijn.sleutel.removeprefix(f"{Termijnsoort.TAAK_TE_LAAT.value}_")
    for index, taak in enumerate(state.taken):
        if taak.id == taak_id:
            state.taken[index] = taak.model_copy(update={"herinnerd": True})
            log(state, now, termijn.sleutel, SYSTEEM, f"Taak {taak.id} ({taak.taak}) is te laat: herinnering.")
            send(
                state,
                taak.rol,
                Sjabloon.TAAK_TE_LAAT,
                taak_id=taak.id,
                omschrijving=taak.omschrijving,
                uiterlijk=taak.uiterlijk.isoformat(),
            )
            return


_FIRE: dict[Termijnsoort, Callable[[CaseState, Termijn, datetime], None]] = {
    Termijnsoort.VIER_WEKEN: _fire_vier,
    Termijnsoort.WAARSCHUWING: _fire_waarschuwing,
    Termijnsoort.TWAALF_WEKEN: _fire_twaalf,
    Termijnsoort.LBA_HERINNERING: _fire_lba,
    Termijnsoort.OUDERGESPREK_HERINNERING: _fire_oudergesprek,
    Termijnsoort.PLAN_HERINNERING: _fire_plan,
    Termijnsoort.ZORGPLICHT: _fire_zorgplicht,
    Termijnsoort.LEERPLICHTIG: _fire_leerplichtig,
    Termijnsoort.CHECK_BESLUIT: _fire_check_besluit,
    Termijnsoort.HERBEOORDELING: _fire_herbeoordeling,
    Termijnsoort.TAAK_TE_LAAT: _fire_te_laat,
}
"""What each kind of term does when it passes: one for every ``Termijnsoort``."""
