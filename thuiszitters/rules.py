"""Moved to :mod:`workflows.rules`; kept only while the move is under way."""

from workflows.rules import *  # noqa: F403
