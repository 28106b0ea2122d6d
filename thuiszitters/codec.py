"""Moved to :mod:`thuiszitters.temporal.codec`; kept only while the move is under way."""

from thuiszitters.temporal.codec import *  # noqa: F403
