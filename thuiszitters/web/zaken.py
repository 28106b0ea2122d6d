"""The web application's way into the cases: every change is an update of the case's workflow, which decides.

:class:`Zaken` sends one event as an update with an id of the form it came from (``web-<token>``), so a form sent
twice (a double click, a retry after "niet bereikbaar") is applied once: Temporal answers a second update with the
same id with the first one's outcome. When Temporal or the worker does not answer within :data:`ACTION_TIMEOUT`,
the action raises :class:`Onbereikbaar` and the form keeps what the person typed, with the same token.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Final, Protocol

import asyncpg
from temporalio.client import (
    Client,
    WorkflowHandle,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.common import RawValue
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from thuiszitters.logs import get_logger
from thuiszitters.register.store import CaseRow

log = get_logger(__name__)

ACTION_TIMEOUT: Final = timedelta(seconds=5)
"""How long an action waits for the case to take it before the person hears it is not reachable."""
REGISTER_WAIT: Final = 3.0
"""How long, after an accepted action, the page waits for the register to hold the case's new line (seconds)."""
TOKEN: Final = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
"""A form's token: the update id that makes a second send of the same form the first one."""
_UNREACHABLE_CODES: Final = frozenset(
    {RPCStatusCode.UNAVAILABLE, RPCStatusCode.DEADLINE_EXCEEDED, RPCStatusCode.CANCELLED, RPCStatusCode.UNKNOWN}
)

NIET_BEREIKBAAR: Final = (
    "Het zaaksysteem kan uw actie nu niet verwerken: de zaak is even niet bereikbaar. Er is niets verloren gegaan: "
    "wat u invulde staat hieronder nog. Probeer het over een paar minuten opnieuw met dezelfde knop; de actie wordt "
    "dan één keer uitgevoerd."
)


class Onbereikbaar(Exception):
    """Temporal or the worker did not answer: nothing is known to have happened; send the same form again."""


class Afgewezen(Exception):
    """The case refused the event; ``str`` is its Dutch reason."""


class CaseIdentity(Protocol):
    """Which case: its register id and workflow id (a register row, or the API's kept latest case)."""

    @property
    def case_id(self) -> str: ...

    @property
    def workflow_id(self) -> str: ...


def case_handle(client: Client, case: CaseIdentity) -> WorkflowHandle[Any, Any]:
    """The handle on a case's chain of runs (its register id is ``<workflow id>:<first run id>``): an event never
    reaches a later case of the same pupil."""
    first_run_id = case.case_id.rsplit(":", 1)[1] if ":" in case.case_id else None
    return client.get_workflow_handle(case.workflow_id, first_execution_run_id=first_run_id)


@dataclass
class Zaken:
    """Sends events to cases; ``client`` None: Temporal is not configured, and every action is not reachable."""

    client: Client | None
    timeout: timedelta = ACTION_TIMEOUT

    async def send(self, case: CaseIdentity, name: str, payload: dict[str, Any], token: str) -> None:
        """Send event ``name`` to ``case`` once per form ``token``. :class:`Afgewezen` with the case's reason,
        :class:`Onbereikbaar` when no answer came."""
        if not TOKEN.match(token):
            raise ValueError("ongeldig formuliertoken")
        await self.send_once(case, name, payload, f"web-{token}")

    async def send_once(self, case: CaseIdentity, name: str, payload: dict[str, Any], update_id: str) -> bytes:
        """Send event ``name`` to ``case`` as the update ``update_id`` (the same id again is the same update); the
        case's new status (the contract's ``CaseStatus``) as the JSON the case answered, decrypted but not parsed:
        whoever passes it on needs no second serialisation."""
        if self.client is None:
            raise Onbereikbaar("geen verbinding met Temporal ingesteld")
        handle = case_handle(self.client, case)
        try:
            result: RawValue = await handle.execute_update(
                name, payload, id=update_id, result_type=RawValue, rpc_timeout=self.timeout
            )
        except WorkflowUpdateFailedError as error:
            cause = error.cause
            raise Afgewezen(cause.message if isinstance(cause, ApplicationError) else "de zaak weigerde") from None
        except WorkflowUpdateRPCTimeoutOrCancelledError:
            log.warning("web_actie_onbereikbaar", case_id=case.case_id, gebeurtenis=name, oorzaak="timeout")
            raise Onbereikbaar("geen antwoord binnen de tijd") from None
        except RPCError as error:
            if error.status == RPCStatusCode.NOT_FOUND:
                raise Afgewezen(
                    "Deze zaak is gesloten of bestaat niet meer; er kan niets meer aan worden gedaan."
                ) from None
            if error.status in _UNREACHABLE_CODES:
                log.warning("web_actie_onbereikbaar", case_id=case.case_id, gebeurtenis=name, oorzaak=error.status.name)
                raise Onbereikbaar(error.status.name) from None
            raise Afgewezen(f"Temporal weigerde de actie ({error.status.name}).") from None
        except (RuntimeError, OSError) as error:  # no connection could be made at all
            log.warning("web_actie_onbereikbaar", case_id=case.case_id, gebeurtenis=name, oorzaak=type(error).__name__)
            raise Onbereikbaar(type(error).__name__) from None
        return result.payload.data


async def wait_for_register(pool: asyncpg.Pool[asyncpg.Record], case: CaseRow, wait: float = REGISTER_WAIT) -> bool:
    """Wait until the register holds a newer line of ``case`` than the one read before the action (the worker
    records it just after the case took the event); False when it did not come within ``wait`` seconds."""
    deadline = asyncio.get_running_loop().time() + wait
    delay = 0.01
    while True:
        latest = await pool.fetchval("SELECT laatste_volgnummer FROM cases WHERE case_id = $1", case.case_id)
        if latest is not None and latest > case.laatste_volgnummer:
            return True
        if asyncio.get_running_loop().time() >= deadline:
            return False
        await asyncio.sleep(delay)
        delay = min(delay * 2, 0.1)
