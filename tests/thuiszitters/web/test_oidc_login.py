"""The login through the real OpenID provider (``tests/fixtures/oidc.py``): authorization code with PKCE, state and
nonce, the ID token checked against the provider's keys; the person stored in the directory by the rule of
``person_from_claims``; a person without a role refused; a tampered or replayed callback refused; one audit row
per attempt."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey

from devtools import oidc
from tests.fixtures.oidc import WEB_REDIRECT_URI, OidcTestProvider, oidc_provider
from tests.thuiszitters.web.helpers import (
    MakeApp,
    audit_rows,
    client_for,
    form_token,
    oidc_settings,
    persoon,
    sso_login,
    start_sso,
    store,
    summary,
    text_of,
    through_the_provider,
    verify_chain,
)
from thuiszitters.people.directory import Directory, RolScope
from thuiszitters.register.store import Register

__all__ = ["oidc_provider"]
"""The provider fixture is imported here: only these tests start it."""

SCP = persoon("prs-scp-1", "Naam uit de personenlijst", RolScope(rol="scp", scholen=("99AA",)))
TASKFORCE = persoon("prs-taskforce-1", "Taskforce uit de lijst", RolScope(rol="taskforce", alle=True), actief=False)


@pytest.fixture
async def http(
    make_app: MakeApp, register: Register, oidc_provider: OidcTestProvider
) -> AsyncIterator[httpx.AsyncClient]:
    await store(register, SCP, TASKFORCE)
    async with client_for(make_app(**oidc_settings(oidc_provider), web_lokale_accounts=False)) as client:
        yield client


def with_query(url: str, **changes: str) -> str:
    parts = urlsplit(url)
    query = {key: values[0] for key, values in parse_qs(parts.query).items()}
    return urlunsplit(parts._replace(query=urlencode({**query, **changes})))


async def test_a_person_of_the_directory_logs_in_through_the_provider_and_out_again(
    http: httpx.AsyncClient, register: Register, oidc_provider: OidcTestProvider
) -> None:
    login_page = await http.get("/inloggen")
    assert "Inloggen met uw werkaccount" in text_of(login_page)
    assert 'name="wachtwoord"' not in login_page.text, "local accounts are off"
    authorize = await start_sso(http)
    asked = parse_qs(urlsplit(authorize).query)
    assert authorize.startswith(oidc_provider.issuer)
    assert asked["client_id"] == [oidc.WEB_CLIENT_ID] and asked["redirect_uri"] == [WEB_REDIRECT_URI]
    assert asked["response_type"] == ["code"] and asked["code_challenge_method"] == ["S256"]
    assert set(asked["scope"][0].split()) == {"openid", "profile", "email", "rol"}
    assert all(asked[name][0] for name in ("state", "nonce", "code_challenge"))

    back = await http.get(await through_the_provider(authorize, "prs-scp-1"))
    assert (back.status_code, back.headers["location"]) == (303, "/")
    start = await http.get("/")
    assert start.status_code == 200
    assert "Ingelogd als Schoolcontactpersoon (test), Schoolcontactpersoon (PPO)" in text_of(start)
    assert "U ziet de zaken in het primair onderwijs (PO) van uw school: 99AA." in text_of(start)
    # The provider's name and address, the directory's role and scope.
    stored = await Directory(register.pool).get("prs-scp-1")
    assert stored is not None
    assert (stored.naam, stored.email, stored.bron, stored.rollen) == (
        "Schoolcontactpersoon (test)",
        "scp@ppo.test",
        "oidc",
        SCP.rollen,
    )

    out = await http.post("/uitloggen", data={"csrf": form_token(start)})
    assert (out.status_code, out.headers["location"]) == (303, "/inloggen")
    assert (await http.get("/")).headers["location"] == "/inloggen"
    assert summary(await audit_rows(register, views=False)) == [
        ("prs-scp-1", "scp", "inloggen", "toegestaan", "sso"),
        ("prs-scp-1", "scp", "uitloggen", "toegestaan", None),
    ]
    await verify_chain(register)


async def test_a_person_without_a_role_in_the_directory_is_refused_and_gets_no_session(
    http: httpx.AsyncClient, register: Register
) -> None:
    refused = await sso_login(http, "prs-zonder-rol")
    assert refused.status_code == 403
    assert "U heeft nog geen rol in het zaaksysteem; vraag uw beheerder" in text_of(refused)
    assert (await http.get("/")).headers["location"] == "/inloggen"
    # The provider's roles alone give none: a role without a scope says nothing of which cases are theirs.
    assert (await sso_login(http, "prs-koersloket-1")).status_code == 403
    # Someone the directory made inactive stays out, and inactive.
    assert (await sso_login(http, "prs-taskforce-1")).status_code == 403
    assert (await http.get("/")).headers["location"] == "/inloggen"
    directory = Directory(register.pool)
    for persoon_id in ("prs-zonder-rol", "prs-koersloket-1"):
        stored = await directory.get(persoon_id)
        assert stored is not None and stored.bron == "oidc" and stored.rollen == () and stored.actief
    taskforce = await directory.get("prs-taskforce-1")
    assert taskforce is not None and not taskforce.actief and taskforce.rollen == TASKFORCE.rollen
    assert summary(await audit_rows(register, views=False)) == [
        ("prs-zonder-rol", "onbekend", "inloggen", "geweigerd", "sso: geen_rol"),
        ("prs-koersloket-1", "onbekend", "inloggen", "geweigerd", "sso: geen_rol"),
        ("prs-taskforce-1", "onbekend", "inloggen", "geweigerd", "sso: inactief"),
    ]


async def test_a_tampered_or_replayed_callback_is_refused(http: httpx.AsyncClient, register: Register) -> None:
    callback = await through_the_provider(await start_sso(http), "prs-scp-1")
    tampered = await http.get(with_query(callback, state="een-andere-state"))
    assert tampered.status_code == 400
    assert "Deze inlogpoging is verlopen of onbekend." in text_of(tampered)
    assert (await http.get("/")).headers["location"] == "/inloggen"
    # The genuine callback still works once, and only once.
    assert (await http.get(callback)).status_code == 303
    assert (await http.get("/")).status_code == 200
    http.cookies.clear()
    assert (await http.get(callback)).status_code == 400
    assert summary(await audit_rows(register, views=False)) == [
        ("onbekend", "onbekend", "inloggen", "geweigerd", "sso: state_ongeldig"),
        ("prs-scp-1", "scp", "inloggen", "toegestaan", "sso"),
        ("onbekend", "onbekend", "inloggen", "geweigerd", "sso: state_ongeldig"),
    ]


async def test_a_forged_code_or_a_refusal_at_the_provider_is_no_login(
    http: httpx.AsyncClient, register: Register
) -> None:
    callback = await through_the_provider(await start_sso(http), "prs-scp-1")
    forged = await http.get(with_query(callback, code="een-verzonnen-code"))
    assert forged.status_code == 400
    assert "De inlogdienst gaf geen geldige login terug." in text_of(forged)
    state = parse_qs(urlsplit(await start_sso(http)).query)["state"][0]
    denied = await http.get("/auth/callback", params={"error": "access_denied", "state": state})
    assert denied.status_code == 400
    assert (await http.get("/")).headers["location"] == "/inloggen"
    assert summary(await audit_rows(register, views=False)) == [
        ("onbekend", "onbekend", "inloggen", "geweigerd", "sso: token_ongeldig"),
        ("onbekend", "onbekend", "inloggen", "geweigerd", "sso: provider_weigerde"),
    ]


async def test_a_provider_that_cannot_be_reached_gets_a_dutch_page(make_app: MakeApp, register: Register) -> None:
    app = make_app(web_oidc_issuer="http://127.0.0.1:9", web_oidc_client_secret="geheim", web_lokale_accounts=False)
    async with client_for(app) as client:
        page = await client.get("/inloggen")
        response = await client.post("/inloggen/sso", data={"csrf": form_token(page)})
    assert response.status_code == 503
    assert "De inlogdienst van uw organisatie is nu niet bereikbaar." in text_of(response)
    assert summary(await audit_rows(register, views=False)) == [
        ("onbekend", "onbekend", "inloggen", "geweigerd", "sso: provider_onbereikbaar")
    ]


async def test_the_id_token_is_checked_signature_issuer_audience_nonce_and_time(
    make_app: MakeApp, register: Register, oidc_provider: OidcTestProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ID tokens made here, signed with the provider's own key (from the fixture's key file) or with another key of
    the same key id, stand in for the token endpoint's answer: one wrong thing is enough to be refused."""
    await store(register, SCP)
    app = make_app(**oidc_settings(oidc_provider), web_lokale_accounts=False)
    (key,) = KeySet.import_key_set(json.loads(oidc_provider.jwks_file.read_text(encoding="utf-8"))).keys
    assert isinstance(key, RSAKey) and key.kid
    foreign = RSAKey.generate_key(2048, parameters={"kid": key.kid})
    now = int(time.time())

    async def attempt(http: httpx.AsyncClient, signer: RSAKey = key, **changes: Any) -> int:
        asked = parse_qs(urlsplit(await start_sso(http)).query)
        claims = {
            "iss": oidc_provider.issuer,
            "aud": oidc.WEB_CLIENT_ID,
            "sub": "prs-scp-1",
            "nonce": asked["nonce"][0],
            "iat": now,
            "exp": now + 300,
            **changes,
        }
        id_token = jwt.encode({"alg": "RS256", "kid": key.kid}, claims, signer)

        async def token_endpoint(**_: Any) -> dict[str, Any]:
            return {"access_token": "onbelangrijk", "token_type": "Bearer", "id_token": id_token}

        monkeypatch.setattr(app.state.web.oidc, "fetch_access_token", token_endpoint)
        response = await http.get("/auth/callback", params={"code": "code", "state": asked["state"][0]})
        return response.status_code

    async with client_for(app) as http:
        assert await attempt(http, foreign) == 400
        assert await attempt(http, iss="http://127.0.0.1:1") == 400
        assert await attempt(http, aud=oidc.UI_CLIENT_ID) == 400
        assert await attempt(http, nonce="een-andere-nonce") == 400
        assert await attempt(http, iat=now - 900, exp=now - 600) == 400
        assert await attempt(http, sub="Jan de Vries") == 400
        assert (await http.get("/")).headers["location"] == "/inloggen"
        assert await attempt(http) == 303  # the same, rightly made: in
        assert (await http.get("/")).status_code == 200
    rows = summary(await audit_rows(register, views=False))
    assert rows == [
        *[("onbekend", "onbekend", "inloggen", "geweigerd", "sso: token_ongeldig")] * 6,
        ("prs-scp-1", "scp", "inloggen", "toegestaan", "sso"),
    ]
