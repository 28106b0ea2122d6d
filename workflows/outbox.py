"""Queueing the effects of an event or term: register lines, registration calls and messages, each with an
idempotency key derived from the case and its event number, which the workflow hands to activities."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from itertools import islice
from typing import Any, TypeVar

from workflows.calendar import amsterdam_date
from workflows.contract import Rol
from workflows.effects import Actie, Bericht, Effect, Registratie, Sjabloon, Systeem, Vastlegging
from workflows.state import CaseState, contact_of
from workflows.tasks import open_tasks
from workflows.work import sync

R = TypeVar("R")


def _next_key(state: CaseState, what: str) -> str:
    return f"{state.case_id}:{state.volgnummer + 1}:{what}"


def call(state: CaseState, systeem: Systeem, actie: Actie, **gegevens: Any) -> None:
    state.openstaand.append(
        Registratie(
            sleutel=_next_key(state, f"{systeem.value}.{actie.value}"),
            case_id=state.case_id,
            leerling_ref=state.aanmelding.leerling_ref,
            systeem=systeem,
            actie=actie,
            gegevens={k: v for k, v in gegevens.items() if v is not None},
        )
    )


def send(state: CaseState, rol: Rol, sjabloon: Sjabloon, **gegevens: Any) -> None:
    state.openstaand.append(
        Bericht(
            sleutel=_next_key(state, f"{rol.value}.{sjabloon.value}"),
            case_id=state.case_id,
            leerling_ref=state.aanmelding.leerling_ref,
            rol=rol,
            sjabloon=sjabloon,
            regio=state.aanmelding.regio,
            sector=state.aanmelding.sector,
            gegevens={k: v for k, v in gegevens.items() if v is not None},
            **_addressed(state, rol),
        )
    )


def _addressed(state: CaseState, rol: Rol) -> dict[str, Any]:
    """Version 2: the school and the person a message goes to (version 1's messages stay as they were recorded)."""
    if state.versie < 2:
        return {}
    return {
        "school_brin": state.aanmelding.school_brin,
        "ontvanger": state.toegewezen.get(rol.value),
        "contract_versie": state.versie,
    }


def addressed_again(state: CaseState, effect: Effect) -> Effect:
    """A queued message, now going to the person the case has assigned to its role (assignment at the start)."""
    if not isinstance(effect, Bericht) or effect.ontvanger is not None:
        return effect
    if (persoon := state.toegewezen.get(effect.rol.value)) is None:
        return effect
    return effect.model_copy(update={"ontvanger": persoon})


def record(state: CaseState, now: datetime, gebeurtenis: str, door: str | None) -> None:
    """Close the event: one numbered register line with the case's state after it.

    Version 2: first the stored tasks follow the case (:func:`workflows.work.sync`: what the event fulfilled is
    finished, what is now due opens), and the line carries the tasks finished since the last one, and the dossier
    when the event changed it."""
    version_2: dict[str, Any] = {}
    today = amsterdam_date(now)
    if state.versie >= 2:
        sync(state, today, gebeurtenis, door)
        version_2 = {
            "contract_versie": state.versie,
            "afgeronde_taken": list(state.net_afgerond),
            "contactrol": contact_of(state),
            "leerplichtig_vanaf": state.leerplichtig_vanaf,
            "twaalf_weken_check": state.twaalf_weken_check,
            "kerngroep_bespreking_op": state.kerngroep_bespreking_op,
            "op_kerngroep_lijst": state.op_kerngroep_lijst,
            "toegewezen": dict(state.toegewezen),
            "dossier": state.dossier if state.dossier_gewijzigd else None,
            "documenten": list(state.documenten) if state.dossier_gewijzigd else None,
        }
        state.net_afgerond = []
        state.dossier_gewijzigd = False
    state.volgnummer += 1
    state.openstaand.append(
        Vastlegging(
            sleutel=f"{state.case_id}:{state.volgnummer}:vastlegging",
            case_id=state.case_id,
            volgnummer=state.volgnummer,
            leerling_ref=state.aanmelding.leerling_ref,
            workflow_id=state.workflow_id,
            tijd=now,
            gebeurtenis=gebeurtenis,
            door=door,
            sector=state.aanmelding.sector,
            regio=state.aanmelding.regio,
            school_brin=state.aanmelding.school_brin,
            leerplichtig=state.leerplichtig,
            startdatum=state.startdatum,
            fase=state.fase,
            regiehouder=state.regiehouder,
            escalatie=state.escalatie,
            route=state.route,
            wachtlijst=state.wachtlijst,
            afgesloten=state.afgesloten,
            uitkomst=state.uitkomst,
            open_taken=open_tasks(state, today),
            **version_2,
        )
    )


def take_effects(state: CaseState) -> list[Effect]:
    """Hand the effects queued in ``state`` over to the caller (the workflow, which runs them) and empty its queue.

    The workflow calls this after every rule it applies, so the state it keeps never holds a backlog of effects:
    copying a state for the next event stays cheap however many effects are waiting to be carried out."""
    effects, state.openstaand = state.openstaand, []
    return effects


def next_batch(waiting: Iterable[Effect], most: int) -> list[Effect]:
    """The oldest waiting effects that may be carried out side by side: at most ``most``, and at most one call to each
    outside system and one message to each role, so that a system or a person never gets a later step of the case
    before an earlier one (Kindkans must not hear "route chosen" after "closed"). Register lines carry their number
    and may overtake each other. Always a prefix of ``waiting``, which is settled from the front."""
    batch: list[Effect] = []
    receivers: set[str] = set()
    for effect in waiting:
        if len(batch) == most:
            break
        if not isinstance(effect, Vastlegging):
            receiver = receiver_of(effect)
            if receiver in receivers:
                break
            receivers.add(receiver)
        batch.append(effect)
    return batch


def receiver_of(effect: Effect) -> str:
    """Who an effect goes to: the register, an outside system or a role. Effects to one receiver keep their order."""
    if isinstance(effect, Vastlegging):
        return "register"
    return f"systeem:{effect.systeem}" if isinstance(effect, Registratie) else f"rol:{effect.rol}"


def next_portions(waiting: Iterable[Effect], most: int, per_receiver: int, max_bytes: int) -> list[list[Effect]]:
    """The oldest waiting effects, grouped per receiver in their order: each group is carried out by one activity, in
    order, side by side with the other groups. At most ``most`` effects in all, ``per_receiver`` in a group, and
    ``max_bytes`` of JSON in all (:func:`json_size`; the first effect always goes, so the queue never stands still):
    what one workflow task schedules stays far below Temporal's payload limit however large the effects. Always a
    prefix of ``waiting``, which is settled from the front."""
    portions: dict[str, list[Effect]] = {}
    size = 0
    for taken, effect in enumerate(waiting):
        portion = portions.setdefault(receiver_of(effect), [])
        size += json_size(effect)
        if taken and (taken == most or len(portion) == per_receiver or size > max_bytes):
            break
        portion.append(effect)
    return [portion for portion in portions.values() if portion]


def in_queue_order(waiting: Iterable[Effect], portions: list[list[Effect]], outcomes: list[list[R]]) -> list[R]:
    """The outcome of each effect of a batch from :func:`next_portions`, in the order the effects wait: the batch is
    the front of ``waiting``, each portion in its order, so settling them one by one from the front stays the same on
    every replay."""
    per_receiver = {receiver_of(portion[0]): iter(found) for portion, found in zip(portions, outcomes, strict=True)}
    count = sum(len(portion) for portion in portions)
    return [next(per_receiver[receiver_of(effect)]) for effect in islice(waiting, count)]


def json_size(effect: Effect) -> int:
    """The bytes of an effect's JSON, fields at their default left out: a field added later with a default does not
    change the size of the effects queued before it, so where :func:`next_portions` cuts a batch stays as recorded."""
    return len(effect.__pydantic_serializer__.to_json(effect, exclude_defaults=True))


def json_chars(effect: Effect) -> int:
    """The characters of an effect's JSON, every field included (how ``effecten-in-porties`` measures)."""
    return len(effect.model_dump_json())


def fits_in(waiting: Iterable[Effect], budget: int, size: Callable[[Effect], int] = json_chars) -> bool:
    """Whether the waiting effects take at most ``budget`` of JSON, each measured by ``size`` (:func:`json_size` with
    ``effecten-gebundeld``): what a new run may be handed."""
    total = 0
    for effect in waiting:
        total += size(effect)
        if total > budget:
            return False
    return True
