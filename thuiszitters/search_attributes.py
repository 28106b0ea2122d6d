"""Moved to :mod:`workflows.search_attributes`; kept only while the move is under way."""

from workflows.search_attributes import *  # noqa: F403
