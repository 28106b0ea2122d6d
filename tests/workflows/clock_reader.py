"""A workflow that breaks the rules on purpose: it reads the wall clock, which the sandbox must stop.

In a module of its own, with nothing else imported, so that the SDK's sandbox can import it as it imports a real
workflow module."""

from __future__ import annotations

from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.worker.workflow_sandbox import RestrictedWorkflowAccessError


@workflow.defn(sandboxed=True, failure_exception_types=[RestrictedWorkflowAccessError])
class ReadsTheClock:
    @workflow.run
    async def run(self) -> str:
        await workflow.sleep(timedelta(seconds=1))
        return datetime.now().isoformat()  # not allowed in a workflow
