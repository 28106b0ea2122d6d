"""The worker's runner answers the SDK's context questions itself only where nobody reads the answers, and the
workflow code stays in the sandbox."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Sequence
from typing import Self

import pytest
from temporalio.api.common.v1 import Payload
from temporalio.client import WorkflowFailureError
from temporalio.converter import PayloadCodec, SerializationContext, WithSerializationContext
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import UnsandboxedWorkflowRunner, Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner

import worker
from tests.workflows.clock_reader import ReadsTheClock
from thuiszitters.codec import generate_key
from thuiszitters.converter import build_data_converter
from thuiszitters.runner import ContextFreeRunner, uses_context
from thuiszitters.settings import Settings
from workflows.thuiszitter import ThuiszitterWorkflow

ENCRYPTED = build_data_converter(Settings(encryptie="aan", codec_keys=f"k1:{generate_key()}"))


class ContextCodec(PayloadCodec, WithSerializationContext):
    """A codec that wants to know whose payload it handles, as a per-case key would."""

    def __init__(self, context: SerializationContext | None = None) -> None:
        self.context = context

    def with_context(self, context: SerializationContext) -> Self:
        return type(self)(context)

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return list(payloads)

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return list(payloads)


def test_the_project_converters_read_no_context_and_a_context_codec_does() -> None:
    assert not uses_context(ENCRYPTED)
    assert not uses_context(build_data_converter(Settings(encryptie="uit")))
    assert uses_context(dataclasses.replace(ENCRYPTED, payload_codec=ContextCodec()))


def test_the_worker_wraps_its_runner_only_where_no_context_is_read() -> None:
    default = worker.WorkerTuning.from_env({}).worker_options([ThuiszitterWorkflow], ENCRYPTED)["workflow_runner"]
    assert isinstance(default, ContextFreeRunner) and isinstance(default.runner, SandboxedWorkflowRunner)

    unsandboxed = worker.WorkerTuning.from_env({"THUISZITTERS_SANDBOX": "nee"}).worker_options(
        [ThuiszitterWorkflow], ENCRYPTED
    )["workflow_runner"]
    assert isinstance(unsandboxed, ContextFreeRunner) and isinstance(unsandboxed.runner, UnsandboxedWorkflowRunner)

    context_codec = dataclasses.replace(ENCRYPTED, payload_codec=ContextCodec())
    kept = worker.WorkerTuning.from_env({}).worker_options([ThuiszitterWorkflow], context_codec)["workflow_runner"]
    assert isinstance(kept, SandboxedWorkflowRunner)

    switched_off = worker.WorkerTuning.from_env({"THUISZITTERS_CONTEXT_OVERSLAAN": "nee"})
    assert isinstance(
        switched_off.worker_options([ThuiszitterWorkflow], ENCRYPTED)["workflow_runner"], SandboxedWorkflowRunner
    )


async def test_the_sandbox_still_guards_the_workflow_code(time_env: WorkflowEnvironment) -> None:
    """The workflow module imported inside the sandbox, as the tests' workers and the replay tests do."""
    task_queue = f"runner-{uuid.uuid4().hex[:8]}"
    tuning = worker.WorkerTuning(share_workflow_module=False)
    runner = tuning.worker_options([ReadsTheClock], time_env.client.data_converter)["workflow_runner"]
    assert isinstance(runner, ContextFreeRunner)
    async with Worker(time_env.client, task_queue=task_queue, workflows=[ReadsTheClock], workflow_runner=runner):
        with pytest.raises(WorkflowFailureError) as failure:
            await time_env.client.execute_workflow(
                ReadsTheClock.run, id=f"runner-{uuid.uuid4().hex[:8]}", task_queue=task_queue
            )
    assert isinstance(failure.value.cause, Exception)
    assert "datetime.datetime.now" in str(failure.value.cause)
