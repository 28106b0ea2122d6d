"""Moved to :mod:`workflows.calendar`; kept only while the move is under way."""

from workflows.calendar import *  # noqa: F403
