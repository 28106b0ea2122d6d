"""Building blocks for case tests: pupils, starting a case, waiting for what it does."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable, Mapping
from datetime import date, timedelta
from typing import Any, TypeVar

from temporalio.client import Client, WorkflowExecutionStatus, WorkflowHandle, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError

from thuiszitters.cases import start_case
from workflows.contract import Aanmelding, CaseStatus

T = TypeVar("T")


def pupil(startdatum: date, *, age: int = 9, sector: str = "PO", regio: str = "Noord", **fields: Any) -> Aanmelding:
    """An Aanmelding for a pupil of ``age`` on the start date, with a fresh pseudonymous reference."""
    born = date(startdatum.year - age, 1, 15) if startdatum >= date(startdatum.year, 1, 15) else None
    if born is None:
        born = date(startdatum.year - age - 1, 1, 15)
    values: dict[str, Any] = {
        "leerling_ref": f"L{uuid.uuid4().hex[:12]}",
        "geboortedatum": born,
        "sector": sector,
        "regio": regio,
        "school_brin": "12AB",
        "startdatum": startdatum,
    }
    if fields.get("uit_buitenland"):
        values.pop("school_brin")
    values.update(fields)
    return Aanmelding.model_validate(values)


async def start(client: Client, aanmelding: Aanmelding, task_queue: str) -> WorkflowHandle[Any, CaseStatus]:
    return await start_case(client, aanmelding, task_queue)


async def status_of(handle: WorkflowHandle[Any, Any]) -> CaseStatus:
    result: CaseStatus = await handle.query("status", result_type=CaseStatus)
    return result


async def eventually(probe: Callable[[], Awaitable[T]], until: Callable[[T], bool], *, within: float = 20) -> T:
    """Poll ``probe`` until its answer satisfies ``until`` (the case works asynchronously)."""
    deadline = asyncio.get_running_loop().time() + within
    while True:
        value = await probe()
        if until(value):
            return value
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"not reached within {within}s; last value: {value!r}")
        await asyncio.sleep(0.1)


async def idle(handle: WorkflowHandle[Any, Any]) -> bool:
    """The case waits for its next term: the last event of its history, workflow tasks aside, is a timer started.
    (The time-skipping test server's description does not list pending activities, so the history tells.)"""
    kinds = [event.WhichOneof("attributes") or "" async for event in handle.fetch_history_events()]
    kinds = [kind for kind in kinds if not kind.startswith("workflow_task_")]
    return bool(kinds) and kinds[-1] == "timer_started_event_attributes"


async def end_when_idle(handle: WorkflowHandle[Any, Any], *, within: float = 30) -> None:
    """Terminate a running case once it is idle. On the time-skipping server a case terminated while an activity
    of it runs can leave the shared clock locked for every later test."""
    if (await handle.describe()).status is not WorkflowExecutionStatus.RUNNING:
        return
    await eventually(lambda: idle(handle), bool, within=within)
    await handle.terminate("einde test")


def events(status: CaseStatus) -> list[str]:
    return [regel.gebeurtenis for regel in status.tijdlijn]


def days(n: int) -> timedelta:
    return timedelta(days=n)


# ------------------------------------------------------------------------------------------ who acts (version 2)

_CONTACT = {"PO": "scp", "VO": "koersloket"}
_USUAL_SENDER: dict[str, str] = {
    "melding": "school",
    "oudergesprek": "school",
    "wachtlijst": "school",
    "plan_van_aanpak": "school",
    "zorgplicht_verlengd": "school",
    "uitschrijving": "school",
    "route": "school",
    "aanmelding_andere_school": "ouders",  # the parents apply in writing at one school
    "voortgang": "school",
    "document_toegevoegd": "school",
    "huisbezoek": "taskforce",
    "taskforce_besluit": "taskforce",
    "leerplicht_interventie": "leerplicht",
    "passende_plek": "school",
}
"""The role that usually sends each event where it does not depend on the sector or the payload (CONTRACT.md,
version 2, "Who acted"). Written out here rather than read from ``workflows.permissions``: the tests check the
workflow's table against the contract, not against itself."""


def door_for(
    name: str, sector: str = "PO", payload: Mapping[str, Any] | None = None, *, uit_buitenland: bool = False
) -> str:
    """The role that usually sends event ``name`` in a case of ``sector`` (CONTRACT.md version 2).

    ``opschalen`` to the coordinator comes from the SCP, to the Taskforce from the coordinator (PO) or the
    Koersloket (VO); ``beoordeling``, ``afronden``, ``gegevens_wijzigen``, ``toewijzen`` and ``intrekken`` from the
    SCP (PO) or the Koersloket (VO), and for a pupil from abroad from Leerplicht absoluut verzuim where it may;
    a vrijstelling is requested by the parents and decided by Leerplicht. ``taak_afgerond`` has no usual sender
    (the role of the task finishes it): name it in the test."""
    payload = payload or {}
    contact = _CONTACT[sector]
    leerplicht = "leerplicht_absoluut_verzuim" if uit_buitenland else "leerplicht"
    if name in ("leerplicht_registratie", "startdatum_correctie"):
        return leerplicht
    if name == "opschalen":
        if payload.get("niveau") == "taskforce":
            return "coordinator" if sector == "PO" else "koersloket"
        return "scp"
    if name == "vrijstelling":
        return "ouders" if payload.get("status") == "aangevraagd" else "leerplicht"
    if name == "afronden":
        return "leerplicht_absoluut_verzuim" if uit_buitenland else contact
    if name in ("beoordeling",):
        return contact
    if name in ("gegevens_wijzigen", "toewijzen", "intrekken"):
        return "leerplicht" if uit_buitenland else contact
    if name == "taak_afgerond":
        raise ValueError("taak_afgerond: name the role of the task as 'door'")
    return _USUAL_SENDER[name]


def with_door(
    name: str, payload: Mapping[str, Any] | None = None, sector: str = "PO", *, uit_buitenland: bool = False
) -> dict[str, Any]:
    """``payload`` with the usual ``door`` for the event added, unless the test names who acts itself."""
    result = dict(payload or {})
    if "door" not in result:
        result["door"] = door_for(name, sector, result, uit_buitenland=uit_buitenland)
    return result


def task(status: CaseStatus, taak: str) -> Any:
    """The one open task of kind ``taak`` (fails when there is none or more than one)."""
    found = [t for t in status.open_taken if t.taak == taak]
    assert len(found) == 1, f"{taak}: {len(found)} open; open: {[t.taak for t in status.open_taken]}"
    return found[0]


class Case:
    """A running case as other services drive it: events as updates (or signals) with the usual ``door`` for the
    case's sector unless the test names who acts. The sector follows the case (``gegevens_wijzigen``)."""

    def __init__(self, handle: WorkflowHandle[Any, CaseStatus], aanmelding: Aanmelding) -> None:
        self.handle = handle
        self.aanmelding = aanmelding
        self.sector = aanmelding.sector.value

    @property
    def case_id(self) -> str:
        """The case's id in the register."""
        return f"{self.handle.id}:{self.handle.result_run_id}"

    def payload(self, name: str, payload: Mapping[str, Any]) -> dict[str, Any]:
        return with_door(name, payload, self.sector, uit_buitenland=self.aanmelding.uit_buitenland)

    async def update(self, name: str, /, **payload: Any) -> CaseStatus:
        result: CaseStatus = await self.handle.execute_update(name, self.payload(name, payload), result_type=CaseStatus)
        self.sector = result.sector.value
        return result

    async def refused(self, name: str, /, **payload: Any) -> str:
        """Send an update that the case must refuse; the refusal's Dutch message."""
        try:
            await self.handle.execute_update(name, self.payload(name, payload), result_type=CaseStatus)
        except WorkflowUpdateFailedError as failure:
            assert isinstance(failure.cause, ApplicationError), failure.cause
            return failure.cause.message
        raise AssertionError(f"{name} was accepted: {payload!r}")

    async def signal(self, name: str, /, **payload: Any) -> None:
        await self.handle.signal(name, self.payload(name, payload))

    async def status(self) -> CaseStatus:
        return await status_of(self.handle)

    async def result(self) -> CaseStatus:
        result: CaseStatus = await self.handle.result()
        return result


async def open_case(client: Client, aanmelding: Aanmelding, task_queue: str) -> Case:
    return Case(await start(client, aanmelding, task_queue), aanmelding)
