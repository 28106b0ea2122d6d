"""Moved to :mod:`thuiszitters.temporal.converter`; kept only while the move is under way."""

from thuiszitters.temporal.converter import *  # noqa: F403
