"""The fault suite's stack, started once for the tests of this folder, and the table of outcomes printed at the end
of the run.

The table also goes to ``fault-report.txt`` in pytest's temporary folder (its path is printed under the table).
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from devtools.devstack import DevStack, StackConfig
from tests.faults import REPORT, FaultStack, child_env, table
from tests.fixtures.processes import kill_processes_mentioning

_report_file: list[Path] = []


@pytest.fixture(scope="package")
def fault_devstack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevStack]:
    """PostgreSQL and the Temporal dev server on its database file, as ``python3 dev.py up --no-demo`` starts them,
    in a folder of its own on free ports, for the tests of this folder (stopped after the last of them); the tests
    run the workers. Whatever a failed test left running in the folder is killed afterwards."""
    _report_file.append(tmp_path_factory.getbasetemp() / "fault-report.txt")
    base = Path(tempfile.mkdtemp(prefix="thuiszitters-faults-"))
    config = StackConfig.on_free_ports(base / "stack", codec_server=False, worker=False, demo=False)
    stack = DevStack(config, base_env=child_env(), say=lambda line: None)
    try:
        stack.start()
        yield stack
    finally:
        stack.stop()
        kill_processes_mentioning(str(base))
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="package")
async def fault_stack(fault_devstack: DevStack) -> AsyncIterator[FaultStack]:
    faults = await FaultStack.connect(fault_devstack)
    try:
        yield faults
    finally:
        await faults.close()


@pytest.fixture
async def faults(fault_stack: FaultStack) -> AsyncIterator[FaultStack]:
    """The stack for one test: the workers it starts are stopped after it, and no case it left open (when it failed)
    burdens the next test."""
    try:
        yield fault_stack
    finally:
        await fault_stack.stop_workers()
        await fault_stack.terminate_open_cases()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not REPORT:
        return
    text = table(REPORT)
    terminalreporter.write_sep("=", "fault suite")
    terminalreporter.write_line(text)
    if _report_file:
        _report_file[0].write_text(text + "\n", encoding="utf-8")
        terminalreporter.write_line(f"(ook in {_report_file[0]})")
