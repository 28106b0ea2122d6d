"""The API with access tokens of the municipality's OpenID provider (the real one of ``devtools/oidc``): a service
that got its token there by client credentials acts as the API's client of the same id, with that client's role,
scope and events, exactly as with a token of the API's own token endpoint; a token for another audience, of a client
the API does not know, or expired, admits nobody."""

from __future__ import annotations

import asyncio
import base64
import json
import time
from collections.abc import AsyncIterator
from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from temporalio.testing import WorkflowEnvironment

from devtools import oidc
from tests.cases import eventually, pupil
from tests.fixtures.oidc import API_CLIENT_SECRET, OidcTestProvider, client_credentials, log_in, oidc_provider
from tests.thuiszitters.api.helpers import ApiStack, api_stack
from tests.thuiszitters.web.helpers import FAST_HASHER, audit_rows
from thuiszitters.api.clients import ApiClients
from thuiszitters.people.tokens import TokenVerifier
from thuiszitters.settings import Settings

__all__ = ["oidc_provider"]
"""The provider fixture is imported here, not in tests/conftest.py: only the tests that use it start it."""

pytestmark = pytest.mark.asyncio(loop_scope="session")

KOERS_VO = oidc.API_CLIENT_ID


@pytest.fixture
async def stack(
    dev_env: WorkflowEnvironment, postgres_dsn: str, test_settings: Settings, oidc_provider: OidcTestProvider
) -> AsyncIterator[ApiStack]:
    """The API over its real parts, accepting the provider's access tokens for ``urn:thuiszitters:api`` (no leeway:
    an expired token is refused as soon as it expires)."""
    verifier = TokenVerifier(oidc_provider.issuer, oidc.API_AUDIENCE, (), roles_required=False, leeway_seconds=0)
    try:
        async with api_stack(dev_env, postgres_dsn, test_settings, verifier=verifier) as running:
            yield running
    finally:
        await verifier.aclose()


def claims_of(token: str) -> dict[str, Any]:
    payload = token.split(".")[1]
    claims: dict[str, Any] = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return claims


def identities(answer: httpx.Response) -> list[tuple[str, str, str, str]]:
    """The tasks of a ``/taken`` answer by case, id, role and kind, in the answer's order."""
    return [(t["case_id"], t["taak_id"], t["rol"], t["taak"]) for t in answer.json()["taken"]]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def started(stack: ApiStack, client_id: str, school: str, **fields: Any) -> str:
    """A case started through the API by a school's system (with a token of the API itself); its leerling_ref."""
    body = pupil(date.today() - timedelta(weeks=5), school_brin=school, **fields).model_dump(mode="json")
    body.pop("beleid", None)
    async with stack.as_client(client_id) as http:
        response = await http.post("/api/v1/zaken", json=body)
    assert response.status_code == 201, response.text
    ref: str = body["leerling_ref"]
    await eventually(
        lambda: stack.register.pool.fetchval("SELECT count(*) FROM cases WHERE leerling_ref = $1", ref),
        lambda n: n == 1,
    )
    return ref


async def test_the_providers_token_of_a_service_names_the_client_and_no_person(
    oidc_provider: OidcTestProvider,
) -> None:
    token = oidc_provider.service_token()
    header = json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))
    claims = claims_of(token)

    assert header["typ"] == "at+jwt"
    assert claims["client_id"] == KOERS_VO
    assert claims["sub"] == KOERS_VO  # client credentials: the client speaks for itself
    assert claims["aud"] == oidc.API_AUDIENCE
    assert claims["iss"] == oidc_provider.issuer
    assert claims["exp"] - claims["iat"] == 600
    assert not {"rol", "roles", "name", "email"} & claims.keys()


async def test_the_provider_gives_tokens_for_the_api_to_services_only(oidc_provider: OidcTestProvider) -> None:
    for_the_codec = client_credentials(oidc_provider.issuer, KOERS_VO, API_CLIENT_SECRET, resource=oidc.CODEC_AUDIENCE)
    wrong_secret = client_credentials(oidc_provider.issuer, KOERS_VO, "niet-het-geheim")
    assert (for_the_codec.status_code, for_the_codec.json()["error"]) == (400, "invalid_target")
    assert (wrong_secret.status_code, wrong_secret.json()["error"]) == (401, "invalid_client")
    with pytest.raises(AssertionError, match="invalid_target"):
        log_in(oidc_provider.issuer, "prs-koersloket-1", resource=oidc.API_AUDIENCE)


async def test_a_service_with_a_provider_token_works_in_its_own_scope_as_that_client(
    stack: ApiStack, oidc_provider: OidcTestProvider
) -> None:
    po = await started(stack, "las-99aa", "99AA")
    vo = await started(stack, "las-99ba", "99BA", sector="VO", age=12)
    await eventually(
        lambda: stack.register.pool.fetchval(
            "SELECT count(*) FROM tasks t JOIN cases c USING (case_id) WHERE c.leerling_ref = $1", vo
        ),
        lambda n: n > 0,
    )
    token = oidc_provider.service_token()

    async with stack.http() as http:
        tasks = await http.get("/api/v1/taken", headers=bearer(token))
        same_client = await http.get("/api/v1/taken", headers=bearer(await stack.token(http, KOERS_VO)))
        outside = await http.get(f"/api/v1/zaken/{po}", headers=bearer(token))
        allowed = await http.post(
            f"/api/v1/zaken/{vo}/voortgang",
            json={"toelichting": "Gesprek met de ouders over een plek op een andere school."},
            headers=bearer(token),
        )
        not_its_event = await http.post(
            f"/api/v1/zaken/{vo}/oudergesprek",
            json={"deelnemers": ["school", "ouders"], "afspraken": "Volgende week weer."},
            headers=bearer(token),
        )

    assert tasks.status_code == 200, tasks.text
    refs = {task["leerling_ref"] for task in tasks.json()["taken"]}
    assert refs == {vo}  # Koers VO: the VO cases only
    # the same tasks as with the API's own token (who holds a task may be filled in meanwhile: not compared)
    assert identities(tasks) == identities(same_client)
    assert outside.status_code == 404
    assert allowed.status_code == 200, allowed.text
    assert not_its_event.status_code == 403
    assert "koers-vo" in not_its_event.json()["detail"]
    api_rows = [
        (r.persoon_id, r.rol, r.actie, r.resultaat) for r in await audit_rows(stack.register) if r.kanaal == "api"
    ]
    assert ("api:koers-vo", "koersloket", "voortgang", "toegestaan") in api_rows
    assert ("api:koers-vo", "koersloket", "oudergesprek", "geweigerd") in api_rows


async def test_a_provider_token_for_another_audience_or_an_unknown_client_admits_nobody(
    stack: ApiStack, oidc_provider: OidcTestProvider
) -> None:
    # A person's login at the web application: a valid token of the same provider, for the web application.
    for_the_web = oidc_provider.token("prs-koersloket-1", oidc.WEB_CLIENT_ID)
    unknown = oidc_provider.service_token(oidc.UNKNOWN_API_CLIENT_ID)
    assert claims_of(unknown)["aud"] == oidc.API_AUDIENCE

    async with stack.http() as http:
        answers = {
            "web": await http.get("/api/v1/taken", headers=bearer(for_the_web)),
            "onbekend": await http.get("/api/v1/taken", headers=bearer(unknown)),
        }

    for answer in answers.values():
        assert answer.status_code == 401
        assert answer.headers["content-type"] == "application/problem+json"
        assert answer.headers["www-authenticate"].startswith("Bearer")
    assert "(aud)" in answers["web"].json()["detail"]
    assert "onbekend of uitgeschakeld" in answers["onbekend"].json()["detail"]


async def test_an_expired_provider_token_of_a_known_client_is_refused(
    stack: ApiStack, oidc_provider: OidcTestProvider
) -> None:
    koers_vo = next(client for client in stack.clients if client.client_id == KOERS_VO)
    await ApiClients(stack.register.pool, FAST_HASHER).upsert(
        koers_vo.model_copy(update={"client_id": oidc.SHORT_API_CLIENT_ID, "naam": "Koers VO (kort)"})
    )
    token = oidc_provider.service_token(oidc.SHORT_API_CLIENT_ID)
    claims = claims_of(token)
    assert claims["exp"] - claims["iat"] == 1
    await asyncio.sleep(max(0.0, claims["exp"] - time.time()) + 0.01)

    async with stack.http() as http:
        expired = await http.get("/api/v1/taken", headers=bearer(token))
        fresh = await http.get("/api/v1/taken", headers=bearer(oidc_provider.service_token(oidc.SHORT_API_CLIENT_ID)))

    assert expired.status_code == 401
    assert "verlopen" in expired.json()["detail"]
    assert fresh.status_code == 200, fresh.text  # the client itself is known: only the token's age refused it
