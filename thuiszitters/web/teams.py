"""The team views: the coordinator's region, the Kerngroep's agenda and list, Leerplicht's list."""

from __future__ import annotations

from starlette.routing import BaseRoute

ROUTES: list[BaseRoute] = []
