"""A workflow runner that skips the serialization contexts nobody reads.

For every payload of a workflow task (each activity input, result and summary, each signal), the worker asks the
workflow instance which serialization context the payload belongs to, so that a context-aware converter or codec
can use it, and which workflow an external store would file it under. In Temporal's sandbox each of those questions
runs code inside the sandbox: measured on this project, more than half of the time a cached-out case needs to
replay (docs/performance.md). Our converter and codec do not use a context and we have no external storage, so the
answers are never read.

:class:`ContextFreeRunner` wraps the worker's runner (sandboxed or not) and answers those two questions itself: no
context (which the SDK documents as "no context should be set") and the case itself as the store target. The
workflow code still runs in the wrapped runner, sandbox and all. :func:`uses_context` decides whether it may be
used: only for a data converter that stays the same object whatever context it is given, without external storage.
"""

from __future__ import annotations

from collections.abc import Sequence

from temporalio.bridge.proto.workflow_activation import WorkflowActivation
from temporalio.bridge.proto.workflow_completion import WorkflowActivationCompletion
from temporalio.converter import (
    ActivitySerializationContext,
    DataConverter,
    SerializationContext,
    StorageDriverStoreContext,
    StorageDriverWorkflowInfo,
    WorkflowSerializationContext,
)
from temporalio.worker import WorkflowInstance, WorkflowInstanceDetails, WorkflowRunner
from temporalio.workflow import Info, _Definition

_PROBES: tuple[SerializationContext, ...] = (
    WorkflowSerializationContext(namespace="probe", workflow_id="probe"),
    ActivitySerializationContext(
        namespace="probe",
        activity_id="1",
        activity_type="probe",
        activity_task_queue="probe",
        workflow_id="probe",
        workflow_type="probe",
        is_local=False,
    ),
)


def uses_context(converter: DataConverter) -> bool:
    """Whether ``converter`` reads serialization or store contexts: a component that changes with a context
    (``with_context`` then returns another converter), or external storage."""
    if converter.external_storage is not None:
        return True
    return any(converter.with_context(probe) is not converter for probe in _PROBES)


class ContextFreeRunner(WorkflowRunner):
    """Runs workflows in ``runner`` and answers the context questions outside it (see the module docstring)."""

    def __init__(self, runner: WorkflowRunner) -> None:
        self.runner = runner

    def prepare_workflow(self, defn: _Definition) -> None:
        self.runner.prepare_workflow(defn)

    def create_instance(self, det: WorkflowInstanceDetails) -> WorkflowInstance:
        return _ContextFreeInstance(self.runner.create_instance(det), det.info)

    def set_worker_level_failure_exception_types(self, types: Sequence[type[BaseException]]) -> None:
        self.runner.set_worker_level_failure_exception_types(types)


class _ContextFreeInstance(WorkflowInstance):
    def __init__(self, instance: WorkflowInstance, info: Info) -> None:
        self._instance = instance
        self._store_context = StorageDriverStoreContext(
            target=StorageDriverWorkflowInfo(
                namespace=info.namespace, id=info.workflow_id, run_id=info.run_id, type=info.workflow_type
            )
        )

    def activate(self, act: WorkflowActivation) -> WorkflowActivationCompletion:
        return self._instance.activate(act)

    def get_serialization_context(self, command_info: object) -> SerializationContext | None:
        return None

    def get_external_store_context(self, command_info: object) -> StorageDriverStoreContext:
        return self._store_context

    def get_info(self) -> Info:
        return self._instance.get_info()

    def get_thread_id(self) -> int | None:
        return self._instance.get_thread_id()  # the deadlock detector reads the stuck thread's frames through this
