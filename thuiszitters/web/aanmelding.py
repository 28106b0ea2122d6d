"""Nieuwe aanmelding: one pupil by form, or an intake file, validated as the intake script does."""

from __future__ import annotations

from starlette.routing import BaseRoute

ROUTES: list[BaseRoute] = []
