"""The Temporal Web UI as the coordinators' monitoring screen, opened in a real headless Chromium.

The dev stack (``python3 dev.py up``) runs with its demo cases; the browser opens the workflow list filtered by
phase, as a coordinator would with a saved query, and must list exactly the demo cases in that phase. A screenshot
of the list is saved in ``build/screenshots/`` for people to look at.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

import pytest

from devtools.devstack import DevStack
from tests.devtools.test_devstack import config_for, own_env, stack_dir, temporal_cli
from tests.fixtures.browser import chromium_path
from tests.paths import REPO
from workflows.contract import WORKFLOW_TYPE

pytestmark = pytest.mark.browser
__all__ = ["stack_dir"]

SCREENSHOTS = REPO / "build" / "screenshots"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--virtual-time-budget=20000",
    "--window-size=1400,900",
]


def browse(url: str, *extra: str) -> str:
    """Run headless Chromium on ``url`` with a fresh profile; returns what it printed (the DOM with --dump-dom)."""
    profile = tempfile.mkdtemp(prefix="thuiszitters-chromium-")
    try:
        result = subprocess.run(
            [chromium_path(), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *extra, url],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


def ids_by_phase(stack: DevStack) -> dict[int, set[str]]:
    query = f"WorkflowType = '{WORKFLOW_TYPE}' AND ExecutionStatus = 'Running'"
    result = temporal_cli(stack, "workflow", "list", "--query", query, "--output", "json")
    assert result.returncode == 0, result.stderr
    phases: dict[int, set[str]] = {}
    for item in json.loads(result.stdout or "[]"):
        phase = int(json.loads(_b64(item["searchAttributes"]["indexedFields"]["Fase"]["data"])))
        phases.setdefault(phase, set()).add(item["execution"]["workflowId"])
    return phases


def _b64(text: str) -> str:
    import base64

    return base64.b64decode(text).decode()


def test_web_ui_lists_the_demo_cases_by_phase(stack_dir: Path) -> None:
    chromium_path()
    config = config_for(stack_dir, worker=True, demo=True)
    stack = DevStack(config, base_env=own_env(), say=lambda line: None)
    try:
        stack.start()
        assert stack.demo_returncode == 0
        deadline = time.monotonic() + 30  # visibility follows the start a moment later
        phases = ids_by_phase(stack)
        while sum(len(ids) for ids in phases.values()) < 6 and time.monotonic() < deadline:
            time.sleep(0.5)
            phases = ids_by_phase(stack)
        assert sum(len(ids) for ids in phases.values()) == 6, phases
        assert len(phases) >= 2, "the demo has cases in more than one phase"
        every_demo_case = set().union(*phases.values())

        for phase, expected in sorted(phases.items()):
            url = f"{stack.ui_url}/namespaces/default/workflows?query={quote(f'Fase={phase}')}"
            dom = browse(url, "--dump-dom")
            shown = {case for case in every_demo_case if case in dom}
            assert shown == expected, f"Fase={phase}: the UI lists {sorted(shown)}, expected {sorted(expected)}"

        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        picture = SCREENSHOTS / "web-ui-fase-1-zuid.png"
        picture.unlink(missing_ok=True)
        query = quote('Fase=1 AND Regio="Zuid"')
        browse(f"{stack.ui_url}/namespaces/default/workflows?query={query}", f"--screenshot={picture}")
        assert picture.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert picture.stat().st_size > 20_000  # a rendered page, not an empty canvas
    finally:
        stack.stop()
