"""The worker uses the Temporal SDK through its public interface only, and its runner is one the SDK ships.

A private name or a bridge protobuf can change in any minor SDK release and break every running case at once, so no
module outside ``tests/`` imports one, or subclasses the SDK's runner or workflow instance. The workflow code still
meets the SDK's sandbox: the tests' workers run it there, and the sandbox stops a clock read at run time.
"""

from __future__ import annotations

import ast
import uuid
from pathlib import Path

import pytest
from temporalio.client import WorkflowFailureError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import UnsandboxedWorkflowRunner, Worker

from tests.paths import REPO
from tests.workflows.clock_reader import ReadsTheClock
from thuiszitters.temporal.worker import WorkerTuning

OUTSIDE_TESTS = sorted(
    path for path in REPO.rglob("*.py") if not {".venv", "tests", "build", ".data"} & set(path.relative_to(REPO).parts)
)
SDK_INTERNALS = ("temporalio.bridge", "temporalio.worker._")
"""The Rust bridge's protobufs and the worker's private modules (the API's own protobufs are public)."""
INTERNAL_BASES = {"WorkflowRunner", "WorkflowInstance", "SandboxedWorkflowRunner", "UnsandboxedWorkflowRunner"}


def sdk_internals_used(path: Path) -> list[str]:
    """Private SDK names, bridge protobufs and subclassed runners or instances in one module."""
    found: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("temporalio"):
            if node.module.startswith(SDK_INTERNALS) or "._" in node.module:
                found.append(f"import from {node.module}")
            found += [f"{node.module}.{alias.name}" for alias in node.names if alias.name.startswith("_")]
        elif isinstance(node, ast.Import):
            found += [alias.name for alias in node.names if alias.name.startswith(SDK_INTERNALS)]
        elif isinstance(node, ast.ClassDef):
            bases = {base.attr if isinstance(base, ast.Attribute) else getattr(base, "id", "") for base in node.bases}
            found += [f"class {node.name}({base})" for base in bases & INTERNAL_BASES]
    return found


def test_the_scanner_finds_what_it_looks_for(tmp_path: Path) -> None:
    module = tmp_path / "runner.py"
    module.write_text(
        "from temporalio.bridge.proto.workflow_activation import WorkflowActivation\n"
        "from temporalio.workflow import _Definition\n"
        "from temporalio.worker import WorkflowRunner\n\n\n"
        "class Mine(WorkflowRunner):\n    pass\n"
    )
    assert sdk_internals_used(module) == [
        "import from temporalio.bridge.proto.workflow_activation",
        "temporalio.workflow._Definition",
        "class Mine(WorkflowRunner)",
    ]


@pytest.mark.parametrize("path", OUTSIDE_TESTS, ids=[str(p.relative_to(REPO)) for p in OUTSIDE_TESTS])
def test_no_module_uses_sdk_internals(path: Path) -> None:
    assert sdk_internals_used(path) == []


def test_the_worker_runs_the_sdks_own_runner() -> None:
    assert type(WorkerTuning().worker_options()["workflow_runner"]) is UnsandboxedWorkflowRunner


async def test_the_tests_workers_run_the_workflow_in_the_sdks_sandbox(time_env: WorkflowEnvironment) -> None:
    """As ``tests/fixtures/temporal.py::case_worker`` and the replay tests do: the SDK's default runner."""
    task_queue = f"sandbox-{uuid.uuid4().hex[:8]}"
    async with Worker(time_env.client, task_queue=task_queue, workflows=[ReadsTheClock]):
        with pytest.raises(WorkflowFailureError) as failure:
            await time_env.client.execute_workflow(
                ReadsTheClock.run, id=f"sandbox-{uuid.uuid4().hex[:8]}", task_queue=task_queue
            )
    assert "datetime.datetime.now" in str(failure.value.cause)
