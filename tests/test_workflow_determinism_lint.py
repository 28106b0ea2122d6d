"""The workflow-side modules may not read a clock, draw random numbers or do I/O of their own (pyproject.toml,
``banned-api``). The sandbox checks only the code it imports itself; the rules, models and policy are passed
through it, so this check is what guards them, at every run of the tests."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent

CLOCK = "from datetime import datetime\n\n\ndef moment() -> datetime:\n    return datetime.now()\n"
RANDOM = "import random\n\n\ndef draw() -> float:\n    return random.random()\n"


def ruff(source: str | None = None, filename: str | None = None) -> subprocess.CompletedProcess[str]:
    """``ruff check --select TID251`` on ``source`` as if it were ``filename``, or on the whole tree."""
    target = ["--stdin-filename", filename, "-"] if filename else ["."]
    return subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--select", "TID251", *target],
        input=source,
        capture_output=True,
        text=True,
        cwd=REPO,
        check=False,
    )


@pytest.mark.parametrize("filename", ["workflows/thuiszitter.py", "thuiszitters/rules.py", "thuiszitters/policy.py"])
@pytest.mark.parametrize(("source", "banned"), [(CLOCK, "datetime.datetime.now"), (RANDOM, "random")])
def test_a_clock_or_randomness_in_workflow_side_code_is_refused(filename: str, source: str, banned: str) -> None:
    result = ruff(source, filename)
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"`{banned}` is banned" in result.stdout


def test_the_rest_of_the_code_may_read_the_clock() -> None:
    for filename in ("activities/case_activities.py", "starter.py", "thuiszitters/report.py"):
        result = ruff(CLOCK, filename)
        assert result.returncode == 0, f"{filename}: {result.stdout}{result.stderr}"


def test_the_workflow_side_code_keeps_to_it() -> None:
    result = ruff()
    assert result.returncode == 0, result.stdout + result.stderr
