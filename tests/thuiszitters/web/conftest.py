"""Fixtures of the web application's tests: the application over this test's register (see helpers.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from tests.thuiszitters.web.helpers import FAST_HASHER, MakeApp, client_for, settings_for
from thuiszitters.register.store import Register
from thuiszitters.web.app import create_app


@pytest.fixture
def make_app(register: Register) -> MakeApp:
    """``make_app(**settings)``: the application over this test's register, local accounts on, no OpenID."""

    def make(**changes: Any) -> Starlette:
        return create_app(settings_for(**changes), register, hasher=FAST_HASHER)

    return make


@pytest.fixture
async def client(make_app: MakeApp) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(make_app()) as http:
        yield http
