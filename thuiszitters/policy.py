"""Moved to :mod:`workflows.policy`; kept only while the move is under way."""

from workflows.policy import *  # noqa: F403
