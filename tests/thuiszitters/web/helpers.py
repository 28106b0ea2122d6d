"""Helpers for the tests of the web application: the application over a real register (a fresh database per test)
and, where a test asks for it, the real OpenID provider of ``tests/fixtures/oidc.py``, driven the way a browser
drives them: an ``httpx.AsyncClient`` over the ASGI application for this site, another for the provider's pages, and
the redirects between them followed by hand.

The application is reached as ``http://127.0.0.1:8000``, so that its callback is the web client's redirect URI that
the provider fixture registers (``WEB_REDIRECT_URI``)."""

from __future__ import annotations

import re
from collections.abc import Callable
from html import unescape
from typing import Any
from urllib.parse import urljoin

import httpx
from argon2 import PasswordHasher
from starlette.applications import Starlette

from devtools import oidc
from tests.fixtures.oidc import PASSWORD, WEB_CLIENT_SECRET, WEB_REDIRECT_URI, OidcTestProvider
from thuiszitters.people.audit import AuditLog, AuditRegel
from thuiszitters.people.directory import Directory, Persoon, RolScope
from thuiszitters.register.store import Register
from thuiszitters.settings import Settings

BASE_URL = "http://127.0.0.1:8000"
assert f"{BASE_URL}/auth/callback" == WEB_REDIRECT_URI
SECRET = "een-sessiegeheim-van-ruim-tweeendertig-tekens-voor-de-tests"
FAST_HASHER = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1)
"""Cheaper argon2 parameters, so the tests stay quick; the rules do not depend on them."""
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')
_FORM = re.compile(r'<form[^>]*\baction="(?P<action>[^"]+)"', re.IGNORECASE)

Client = httpx.AsyncClient
MakeApp = Callable[..., Starlette]


def settings_for(**changes: Any) -> Settings:
    values: dict[str, Any] = {
        "web_session_secret": SECRET,
        "web_https_only": False,
        "web_lokale_accounts": True,
    }
    values.update(changes)
    return Settings(**values)


def client_for(app: Starlette, base_url: str = BASE_URL) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=base_url, follow_redirects=False)


def form_token(page: httpx.Response) -> str:
    found = _CSRF.search(page.text)
    assert found, f"geen formulier-token op de pagina:\n{page.text}"
    return found.group(1)


async def token_of(http: httpx.AsyncClient, path: str = "/inloggen") -> str:
    page = await http.get(path)
    assert page.status_code == 200, page.text
    return form_token(page)


async def local_login(http: httpx.AsyncClient, gebruiker: str, wachtwoord: str) -> httpx.Response:
    token = await token_of(http)
    return await http.post("/inloggen", data={"csrf": token, "gebruikersnaam": gebruiker, "wachtwoord": wachtwoord})


def text_of(page: httpx.Response) -> str:
    """The page's text without tags, with entities resolved and white space made single."""
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", page.text)).split())


PAGE_VIEWS = frozenset({"taken_lijst"})
"""Audit rows of looking at "Mijn taken": every start page writes one; the login tests leave them out."""


async def audit_rows(register: Register, *, views: bool = True) -> list[AuditRegel]:
    """The audit log in order; without the views of "Mijn taken" when ``views`` is False."""
    rows = await register.pool.fetch(
        "SELECT id, tijd, persoon_id, rol, kanaal, actie, case_id, resultaat, reden FROM audit_log ORDER BY id"
    )
    found = [AuditRegel(**dict(row)) for row in rows]
    return found if views else [row for row in found if row.actie not in PAGE_VIEWS]


def summary(rows: list[AuditRegel]) -> list[tuple[str, str, str, str, str | None]]:
    """(persoon, rol, actie, resultaat, reden) of each row; every row is of the web and about no case."""
    assert all(row.kanaal == "web" and row.case_id is None for row in rows)
    return [(row.persoon_id, row.rol, row.actie, row.resultaat, row.reden) for row in rows]


async def store(register: Register, *people: Persoon) -> None:
    directory = Directory(register.pool)
    for persoon in people:
        await directory.upsert(persoon)


def persoon(persoon_id: str, naam: str, *rollen: RolScope, actief: bool = True) -> Persoon:
    return Persoon(persoon_id=persoon_id, naam=naam, email=f"{persoon_id}@example.org", rollen=rollen, actief=actief)


async def verify_chain(register: Register) -> None:
    assert await AuditLog(register.pool).verify() is None


# ----------------------------------------------------------------------------------------------- OpenID provider


def oidc_settings(provider: OidcTestProvider) -> dict[str, Any]:
    return {
        "web_oidc_issuer": provider.issuer,
        "web_oidc_client_id": oidc.WEB_CLIENT_ID,
        "web_oidc_client_secret": WEB_CLIENT_SECRET,
    }


async def through_the_provider(authorize_url: str, account: str, password: str = PASSWORD) -> str:
    """Log ``account`` in at the provider as a browser would, from the authorization URL the application sent the
    browser to; the URL the provider sends the browser back to (the application's callback, with code and state)."""
    async with httpx.AsyncClient(timeout=10, follow_redirects=False, trust_env=False) as browser:
        response = await browser.get(authorize_url)
        for _ in range(12):
            if response.is_redirect:
                location = urljoin(str(response.url), response.headers["location"])
                if location.startswith(WEB_REDIRECT_URI):
                    return location
                response = await browser.get(location)
                continue
            found = _FORM.search(response.text)
            assert response.status_code == 200 and found, f"provider ({response.status_code}): {response.text}"
            action = urljoin(str(response.url), unescape(found.group("action")))
            if 'name="wachtwoord"' in response.text:
                response = await browser.post(action, data={"gebruiker": account, "wachtwoord": password})
            else:
                response = await browser.post(action)
    raise AssertionError("de provider stuurde niet terug naar de callback")


async def start_sso(http: httpx.AsyncClient) -> str:
    """Press the login button: the authorization URL the application redirects to."""
    token = await token_of(http)
    response = await http.post("/inloggen/sso", data={"csrf": token})
    assert response.status_code in (302, 303), response.text
    return response.headers["location"]


async def sso_login(http: httpx.AsyncClient, account: str) -> httpx.Response:
    """The whole login through the provider; the application's answer to the callback."""
    callback = await through_the_provider(await start_sso(http), account)
    return await http.get(callback)
