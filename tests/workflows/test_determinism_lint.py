"""Everything under ``workflows/`` runs inside the workflow: it may not read a clock, draw random numbers or do I/O of
its own (pyproject.toml, ``banned-api``, on the folder as a whole). The worker runs it without the SDK's sandbox,
and the tests' sandbox does not check what the workflow passes through, so this check is what guards it, at every
run of the tests; a module added to the folder is covered without touching any list."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from tests.paths import REPO

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


@pytest.mark.parametrize(
    "filename",
    ["workflows/thuiszitter.py", "workflows/rules.py", "workflows/policy.py", "workflows/nieuw/module_van_morgen.py"],
)
@pytest.mark.parametrize(("source", "banned"), [(CLOCK, "datetime.datetime.now"), (RANDOM, "random")])
def test_a_clock_or_randomness_in_workflow_side_code_is_refused(filename: str, source: str, banned: str) -> None:
    result = ruff(source, filename)
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"`{banned}` is banned" in result.stdout


def test_workflow_side_code_may_not_import_the_activities_it_calls() -> None:
    """The activities' module brings in the register and HTTP clients: the workflow calls an activity by its
    declaration in ``workflows/activities.py`` instead."""
    refused = ruff("from activities.case_activities import CaseActivities\n", "workflows/thuiszitter.py")
    assert refused.returncode == 1 and "`activities` is banned" in refused.stdout, refused.stdout
    allowed = ruff("from workflows import activities\n\nCALLED = activities.vastleggen\n", "workflows/thuiszitter.py")
    assert allowed.returncode == 0, allowed.stdout + allowed.stderr


def test_the_rest_of_the_code_may_read_the_clock() -> None:
    for filename in ("activities/case_activities.py", "starter.py", "thuiszitters/tools/report.py"):
        result = ruff(CLOCK, filename)
        assert result.returncode == 0, f"{filename}: {result.stdout}{result.stderr}"


def test_a_new_module_in_the_folder_is_linted_and_passed_through(tmp_path: Path) -> None:
    """A module that does not exist yet, written into ``workflows/`` for this test: ruff refuses its clock read, and
    the workflow module passes the whole procedure through the sandbox by the folder, not by a list of names."""
    module = REPO / "workflows" / f"tijdelijk_{tmp_path.name.replace('-', '_')}.py"
    module.write_text(CLOCK, encoding="utf-8")
    try:
        result = subprocess.run(
            [sys.executable, "-m", "ruff", "check", "--select", "TID251", str(module.relative_to(REPO))],
            capture_output=True,
            text=True,
            cwd=REPO,
            check=False,
        )
    finally:
        module.unlink()
    assert result.returncode == 1 and "`datetime.datetime.now` is banned" in result.stdout, result.stdout
    passed_through = [
        str(node.module)
        for block in ast.walk(ast.parse((REPO / "workflows" / "thuiszitter.py").read_text(encoding="utf-8")))
        if isinstance(block, ast.With) and "imports_passed_through" in ast.unparse(block.items[0].context_expr)
        for node in block.body
        if isinstance(node, ast.ImportFrom)
    ]
    assert passed_through and all(name == "workflows" or name.startswith("workflows.") for name in passed_through)


def test_the_workflow_side_code_keeps_to_it() -> None:
    result = ruff()
    assert result.returncode == 0, result.stdout + result.stderr
