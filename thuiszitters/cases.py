"""Starting a pupil's case from the client side: what the intake, the dev stack and the tests use.

The case's workflow id is derived from the pupil's pseudonymous reference (``thuiszitter-<leerling_ref>``), so a
second start for a pupil with an open case is refused by Temporal itself; a closed case may start anew.
"""

from __future__ import annotations

from typing import Any

from temporalio.client import Client, WorkflowHandle
from temporalio.common import (
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDConflictPolicy,
    WorkflowIDReusePolicy,
)

from workflows import policy, rules
from workflows import search_attributes as sa
from workflows.contract import Aanmelding, CaseStatus, workflow_id_for
from workflows.thuiszitter import ThuiszitterWorkflow


async def start_case(client: Client, aanmelding: Aanmelding, task_queue: str) -> WorkflowHandle[Any, CaseStatus]:
    """Start the pupil's case; ``WorkflowAlreadyStartedError`` when one is open (a closed case may start anew)."""
    if aanmelding.beleid is None:  # the case keeps the policy of the day it started, whatever later releases do
        aanmelding = aanmelding.model_copy(update={"beleid": policy.DEFAULT_BELEID})
    return await client.start_workflow(
        ThuiszitterWorkflow.run,
        aanmelding,
        id=workflow_id_for(aanmelding.leerling_ref),
        task_queue=task_queue,
        id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
        id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
        static_summary=rules.static_summary(aanmelding),
        search_attributes=TypedSearchAttributes(
            [
                SearchAttributePair(sa.FASE, aanmelding.fase),
                SearchAttributePair(sa.REGIO, aanmelding.regio.value),
                SearchAttributePair(sa.SECTOR, aanmelding.sector.value),
                SearchAttributePair(sa.AFGESLOTEN, False),
            ]
        ),
    )
