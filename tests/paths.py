"""Where things are: ``REPO`` is the project's root, wherever a test module sits below it."""

from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
