"""What a term does when it passes: each fires once, in order (:func:`fire_due_terms`)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from workflows.contract import Escalatie, Rol
from workflows.effects import Sjabloon
from workflows.outbox import record, send
from workflows.state import SYSTEEM, CaseState, contact_of, log, school_and_contact, successor
from workflows.steps import escalate
from workflows.terms import Termijn, Termijnsoort, moment_of, terms


def fire_due_terms(state: CaseState, now: datetime) -> CaseState:
    """Fire every term whose moment has come, each once, in order. Returns the state unchanged when none is due."""
    due = [t for t in terms(state) if moment_of(state, t) <= now]
    if not due:
        return state
    new = successor(state)
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
    return new


def _fire_vier(state: CaseState, termijn: Termijn, now: datetime) -> None:
    log(
        state,
        now,
        termijn.sleutel,
        SYSTEEM,
        "Vier weken thuis zonder melding: school en SCP melden de thuiszitter.",
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
        "Registratie in de LBA niet bevestigd: PPO checkt bij de school.",
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
    for rol in (state.contactrol, Rol.COORDINATOR):
        send(state, rol, Sjabloon.ZORGPLICHT_VERLOPEN, termijn_op=termijn.op.isoformat())


_FIRE: dict[Termijnsoort, Callable[[CaseState, Termijn, datetime], None]] = {
    Termijnsoort.VIER_WEKEN: _fire_vier,
    Termijnsoort.WAARSCHUWING: _fire_waarschuwing,
    Termijnsoort.TWAALF_WEKEN: _fire_twaalf,
    Termijnsoort.LBA_HERINNERING: _fire_lba,
    Termijnsoort.OUDERGESPREK_HERINNERING: _fire_oudergesprek,
    Termijnsoort.PLAN_HERINNERING: _fire_plan,
    Termijnsoort.ZORGPLICHT: _fire_zorgplicht,
}
"""What each kind of term does when it passes: one for every ``Termijnsoort``."""
