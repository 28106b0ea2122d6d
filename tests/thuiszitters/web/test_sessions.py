"""Sessions, forms and headers of the web application: the cookie's flags, the form token on every POST, logging
out for good, the actor rebuilt from the directory on every request, and the headers every response carries."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from tests.thuiszitters.web.helpers import (
    FAST_HASHER,
    MakeApp,
    audit_rows,
    client_for,
    form_token,
    local_login,
    persoon,
    settings_for,
    store,
    summary,
    text_of,
    token_of,
    verify_chain,
)
from thuiszitters.people.directory import Directory, RolScope
from thuiszitters.people.policy import Actor, ActorRole
from thuiszitters.register.store import Register
from thuiszitters.settings import SettingsError
from thuiszitters.web.accounts import LocalAccounts
from thuiszitters.web.app import check_settings, scope_in_words
from thuiszitters.web.auth import current_actor

PASSWORD = "een-lang-wachtwoord-1"
SCP = persoon("scp-99aa-01", "Demo SCP", RolScope(rol="scp", scholen=("99AA",)))
COORDINATOR = persoon(
    "coord-01",
    "Demo Coördinator",
    RolScope(rol="coordinator", regio="Noord"),
    RolScope(rol="coordinator", regio="Zuid"),
)


@pytest.fixture
async def people(register: Register) -> None:
    await store(register, SCP, COORDINATOR)
    accounts = LocalAccounts(register.pool, FAST_HASHER)
    for person in (SCP, COORDINATOR):
        await accounts.set_password(person.persoon_id, PASSWORD)


def cookie_header(response: httpx.Response) -> str:
    (header,) = response.headers.get_list("set-cookie")
    return header


async def logged_in(http: httpx.AsyncClient, persoon_id: str = "scp-99aa-01") -> None:
    response = await local_login(http, persoon_id, PASSWORD)
    assert response.status_code == 303, response.text


# ------------------------------------------------------------------------------------------------------ the cookie


async def test_the_session_cookie_is_http_only_same_site_lax_and_secure_with_https_only(make_app: MakeApp) -> None:
    async with client_for(make_app()) as http:
        plain = cookie_header(await http.get("/inloggen"))
    assert plain.startswith("thuiszitters=")
    assert "httponly" in plain.lower() and "samesite=lax" in plain.lower() and "Max-Age=28800" in plain
    assert "secure" not in plain.lower()
    async with client_for(make_app(web_https_only=True, web_session_max_age=3600), "https://127.0.0.1:8000") as http:
        page = await http.get("/inloggen")
    secure = cookie_header(page)
    assert secure.startswith("__Host-thuiszitters=")
    assert all(flag in secure.lower() for flag in ("httponly", "samesite=lax", "secure", "path=/"))
    assert "Max-Age=3600" in secure and "domain" not in secure.lower()
    assert page.headers["strict-transport-security"] == "max-age=31536000"


async def test_a_login_starts_a_new_session_with_a_new_form_token(client: httpx.AsyncClient, people: None) -> None:
    before = await token_of(client)
    cookie_before = client.cookies["thuiszitters"]
    await logged_in(client)
    assert client.cookies["thuiszitters"] != cookie_before
    after = form_token(await client.get("/"))
    assert after != before


async def test_a_cookie_signed_with_another_secret_is_not_a_session(
    make_app: MakeApp, register: Register, people: None
) -> None:
    async with client_for(make_app()) as http:
        await logged_in(http)
        stolen = http.cookies["thuiszitters"]
    async with client_for(make_app(web_session_secret="een-heel-ander-geheim-van-meer-dan-32-tekens")) as other:
        other.cookies["thuiszitters"] = stolen
        assert (await other.get("/")).headers["location"] == "/inloggen"
        other.cookies["thuiszitters"] = stolen[:-3] + "abc"
        assert (await other.get("/")).headers["location"] == "/inloggen"


# ----------------------------------------------------------------------------------------------------- the forms


async def test_a_post_without_the_form_token_is_refused_in_dutch(
    client: httpx.AsyncClient, register: Register, people: None
) -> None:
    form = {"gebruikersnaam": "scp-99aa-01", "wachtwoord": PASSWORD}
    without_session = await client.post("/inloggen", data=form)
    assert without_session.status_code == 403
    assert "Dit formulier is verlopen of kwam niet van deze website" in text_of(without_session)
    await token_of(client)
    assert (await client.post("/inloggen", data=form)).status_code == 403
    assert (await client.post("/inloggen", data={**form, "csrf": "geraden"})).status_code == 403
    assert (await client.get("/")).status_code == 303, "no login happened"
    await logged_in(client)
    assert (await client.post("/uitloggen")).status_code == 403
    assert (await client.post("/uitloggen", data={"csrf": "geraden"})).status_code == 403
    assert (
        await client.post("/uitloggen", content=b"csrf=", headers={"content-type": "text/plain"})
    ).status_code == 403
    assert (await client.get("/")).status_code == 200, "still logged in"
    token = form_token(await client.get("/"))
    assert (await client.post("/uitloggen", headers={"X-CSRF-Token": token})).status_code == 303
    # Refused forms are no login attempts: only the login and the logout are in the audit log.
    assert [row[2] for row in summary(await audit_rows(register, views=False))] == ["inloggen", "uitloggen"]


async def test_a_form_too_large_is_refused(client: httpx.AsyncClient) -> None:
    token = await token_of(client)
    response = await client.post("/inloggen", data={"csrf": token, "wachtwoord": "x" * 70_000})
    assert response.status_code == 413


# ---------------------------------------------------------------------------------------------------- logging out


async def test_logging_out_ends_the_session_for_good(
    client: httpx.AsyncClient, register: Register, people: None
) -> None:
    await logged_in(client)
    copied = client.cookies["thuiszitters"]
    token = form_token(await client.get("/"))
    response = await client.post("/uitloggen", data={"csrf": token})
    assert (response.status_code, response.headers["location"]) == (303, "/inloggen")
    assert "U bent uitgelogd." in text_of(await client.get("/inloggen"))
    assert (await client.get("/")).headers["location"] == "/inloggen"
    client.cookies.clear()
    client.cookies["thuiszitters"] = copied  # a copy of the cookie taken before logging out
    assert (await client.get("/")).headers["location"] == "/inloggen"
    assert summary(await audit_rows(register, views=False)) == [
        ("scp-99aa-01", "scp", "inloggen", "toegestaan", "lokaal"),
        ("scp-99aa-01", "scp", "uitloggen", "toegestaan", None),
    ]
    await verify_chain(register)


async def test_a_session_ends_when_its_time_is_up(client: httpx.AsyncClient, register: Register, people: None) -> None:
    await logged_in(client)
    await register.pool.execute(
        "UPDATE web_sessies SET begonnen_op = now() - interval '9 hours', verloopt_op = now() - interval '1 hour'"
    )
    assert (await client.get("/")).headers["location"] == "/inloggen"
    assert "Uw sessie is verlopen. Log opnieuw in." in text_of(await client.get("/inloggen"))


# ----------------------------------------------------------------------------------------- from the directory


async def test_the_actor_comes_from_the_directory_on_every_request(
    make_app: MakeApp, register: Register, people: None
) -> None:
    app = make_app()
    seen: list[Actor] = []

    async def actor_page(request: Request) -> Response:
        seen.append(await current_actor(request))
        return PlainTextResponse("ok")

    app.router.routes.append(Route("/actor", actor_page))
    directory = Directory(register.pool)
    async with client_for(app) as http:
        await logged_in(http)
        assert (await http.get("/actor")).status_code == 200
        await directory.upsert(SCP.model_copy(update={"rollen": (RolScope(rol="scp", scholen=("99AA", "99AB")),)}))
        assert "van uw scholen: 99AA en 99AB" in text_of(await http.get("/"))
        assert (await http.get("/actor")).status_code == 200
        assert seen == [
            Actor(persoon_id="scp-99aa-01", rol=ActorRole.SCP, scholen=frozenset({"99AA"})),
            Actor(persoon_id="scp-99aa-01", rol=ActorRole.SCP, scholen=frozenset({"99AA", "99AB"})),
        ]
        await directory.deactivate("scp-99aa-01")
        assert (await http.get("/")).headers["location"] == "/inloggen"
        assert "U bent uitgelogd: u heeft geen rol meer in het zaaksysteem." in text_of(await http.get("/inloggen"))
        await directory.upsert(SCP)  # active again: the session stays ended
        assert (await http.get("/")).headers["location"] == "/inloggen"
    assert summary(await audit_rows(register, views=False)) == [
        ("scp-99aa-01", "scp", "inloggen", "toegestaan", "lokaal"),
        ("scp-99aa-01", "scp", "sessie_beeindigd", "geweigerd", "inactief"),
    ]


async def test_a_person_with_several_roles_chooses_one_and_loses_the_session_with_the_role(
    client: httpx.AsyncClient, register: Register, people: None
) -> None:
    await logged_in(client, "coord-01")
    start = await client.get("/")
    assert "Ingelogd als Demo Coördinator, Thuiszitterscoördinator" in text_of(start)
    assert "U ziet de zaken in het primair onderwijs (PO) in regio Noord." in text_of(start)
    assert "regio Zuid" in text_of(start), "the other role is offered"
    token = form_token(start)
    unknown = await client.post("/rol", data={"csrf": token, "bereik": "beheerder||||"})
    assert unknown.status_code == 400
    assert (await client.post("/rol", data={"csrf": token, "bereik": "coordinator|Zuid"})).status_code == 400
    chosen = await client.post("/rol", data={"csrf": token, "bereik": "coordinator||Zuid||"})
    assert chosen.status_code == 303
    assert "U ziet de zaken in het primair onderwijs (PO) in regio Zuid." in text_of(await client.get("/"))
    await Directory(register.pool).upsert(
        COORDINATOR.model_copy(update={"rollen": (RolScope(rol="scp", scholen=("99AA",)),)})
    )
    assert (await client.get("/")).headers["location"] == "/inloggen"
    assert summary(await audit_rows(register, views=False)) == [
        ("coord-01", "coordinator", "inloggen", "toegestaan", "lokaal"),
        ("coord-01", "coordinator", "rol_kiezen", "toegestaan", None),
        ("coord-01", "coordinator", "sessie_beeindigd", "geweigerd", "geen_rol"),
    ]


# ------------------------------------------------------------------------------------------ pages and headers


async def test_every_response_carries_the_security_headers(client: httpx.AsyncClient) -> None:
    for path in ("/inloggen", "/", "/bestaat-niet", "/static/stijl.css"):
        response = await client.get(path)
        assert response.headers["x-frame-options"] == "DENY", path
        assert response.headers["content-security-policy"].startswith("default-src 'self';"), path
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
        assert response.headers["referrer-policy"] == "same-origin", path
        assert response.headers["x-content-type-options"] == "nosniff", path
    assert (await client.get("/inloggen")).headers["cache-control"] == "no-store"
    missing = await client.get("/bestaat-niet")
    assert missing.status_code == 404 and "Deze pagina bestaat niet." in text_of(missing)
    assert (await client.get("/")).headers["location"] == "/inloggen"


async def test_the_login_page_is_dutch_labelled_and_without_inline_script_or_style(client: httpx.AsyncClient) -> None:
    page = await client.get("/inloggen")
    assert '<html lang="nl">' in page.text
    assert '<label for="gebruikersnaam">Gebruikersnaam</label>' in page.text
    assert '<label for="wachtwoord">Wachtwoord</label>' in page.text
    assert 'autocomplete="current-password"' in page.text
    assert "<script" not in page.text and "style=" not in page.text and "<style" not in page.text
    assert "Inloggen met uw werkaccount" not in page.text, "no provider configured: no button"


def test_the_settings_must_let_someone_log_in_with_a_signed_session() -> None:
    with pytest.raises(SettingsError, match="THUISZITTERS_WEB_SESSION_SECRET ontbreekt of is korter dan 32 tekens"):
        check_settings(settings_for(web_session_secret="kort"))
    with pytest.raises(SettingsError, match="niemand kan inloggen"):
        check_settings(settings_for(web_lokale_accounts=False))
    with pytest.raises(SettingsError, match="THUISZITTERS_WEB_OIDC_CLIENT_SECRET ontbreekt"):
        check_settings(settings_for(web_oidc_issuer="https://login.example.org"))
    with pytest.raises(SettingsError, match="THUISZITTERS_WEB_PUBLIC_URL: moet een http"):
        check_settings(settings_for(web_public_url="thuiszitters.example.org"))
    check_settings(settings_for())


@pytest.mark.parametrize("rol", list(ActorRole))
def test_every_role_has_its_scope_in_plain_dutch(rol: ActorRole) -> None:
    scopes: dict[ActorRole, dict[str, Any]] = {
        ActorRole.SCHOOL: {"scholen": frozenset({"99AA"})},
        ActorRole.SCP: {"scholen": frozenset({"99AA", "99AB"})},
        ActorRole.LEERPLICHT: {"scholen": frozenset({"99AA"})},
        ActorRole.LEERPLICHT_ABSOLUUT_VERZUIM: {"alle": True},
        ActorRole.OUDERFUNCTIONARIS: {"regio": "Noord"},
        ActorRole.COORDINATOR: {"regio": "Zuid"},
        ActorRole.WIJKTEAM: {"regio": "Noord"},
        ActorRole.TASKFORCE: {"alle": True},
    }
    text = scope_in_words(Actor(persoon_id="p-1", rol=rol, **scopes.get(rol, {})))
    assert text.startswith("U ") and text.endswith(".") and "None" not in text and "_" not in text
