"""Moved to :mod:`devtools.devstack`; kept only while the move is under way."""

from devtools.devstack import *  # noqa: F403
