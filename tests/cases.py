"""Building blocks for case tests: pupils, starting a case, waiting for what it does."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from datetime import date, timedelta
from typing import Any, TypeVar

from temporalio.client import Client, WorkflowHandle

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


def events(status: CaseStatus) -> list[str]:
    return [regel.gebeurtenis for regel in status.tijdlijn]


def days(n: int) -> timedelta:
    return timedelta(days=n)
