"""Moved to :mod:`workflows.contract` and :mod:`workflows.effects`; kept only while the move is under way."""

from workflows.contract import *  # noqa: F403
from workflows.effects import *  # noqa: F403
