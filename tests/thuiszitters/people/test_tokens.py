"""Access tokens of the real OpenID provider (``devtools/oidc``), verified as the codec server verifies them: a token
obtained by logging in admits its person and role; anything else is refused with a Dutch reason."""

from __future__ import annotations

import asyncio
import base64
import json
import time
from collections.abc import AsyncIterator, Callable, Iterator

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import KeySet

from devtools import oidc
from devtools.devstack import free_port
from tests.fixtures.oidc import OidcTestProvider, log_in, oidc_provider, second_provider
from thuiszitters.people.tokens import TokenFout, TokenVerifier, UitgeverOnbereikbaar

__all__ = ["oidc_provider"]
"""The provider fixture is imported here, not in tests/conftest.py: only these tests start it."""

ALLOWED = ("coordinator", "taskforce")
COORDINATOR = "prs-coordinator-noord"


@pytest.fixture
async def verifier(oidc_provider: OidcTestProvider) -> AsyncIterator[TokenVerifier]:
    checker = TokenVerifier(oidc_provider.issuer, oidc.CODEC_AUDIENCE, ALLOWED, leeway_seconds=0)
    yield checker
    await checker.aclose()


@pytest.fixture(scope="module")
def other_issuer(
    oidc_provider: OidcTestProvider, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[OidcTestProvider]:
    """A second provider on another port that signs with the same keys: only ``iss`` tells its tokens apart."""
    with second_provider(oidc_provider, tmp_path_factory.mktemp("oidc-tweede") / "provider.log") as other:
        yield other


def segments(token: str) -> tuple[dict[str, object], dict[str, object], str]:
    header, payload, signature = token.split(".")
    return _decode(header), _decode(payload), signature


def _decode(part: str) -> dict[str, object]:
    decoded: dict[str, object] = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    return decoded


def _encode(value: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()


async def refusal(verifier: TokenVerifier, token: str) -> TokenFout:
    with pytest.raises(TokenFout) as raised:
        await verifier.verify(token)
    return raised.value


# ------------------------------------------------------------------------------------------------- admitted


async def test_a_token_of_a_test_account_verifies_to_its_person_and_role(
    oidc_provider: OidcTestProvider, verifier: TokenVerifier
) -> None:
    verified = await verifier.verify(oidc_provider.token(COORDINATOR))

    assert verified.persoon_id == COORDINATOR
    assert verified.rol == "coordinator"
    assert verified.rollen == ("coordinator",)
    assert verified.issuer == oidc_provider.issuer
    assert verified.client_id == oidc.UI_CLIENT_ID
    assert 0 < verified.expires_at.timestamp() - time.time() <= 600


async def test_a_person_with_several_roles_is_admitted_with_the_allowed_one(oidc_provider: OidcTestProvider) -> None:
    checker = TokenVerifier(oidc_provider.issuer, oidc.CODEC_AUDIENCE, ["leerplicht_absoluut_verzuim"])
    try:
        verified = await checker.verify(oidc_provider.token("prs-leerplicht-1"))
    finally:
        await checker.aclose()

    assert verified.persoon_id == "prs-leerplicht-1"
    assert verified.rol == "leerplicht_absoluut_verzuim"
    assert verified.rollen == ("leerplicht", "leerplicht_absoluut_verzuim")


async def test_the_issuers_keys_are_fetched_once_for_many_tokens(oidc_provider: OidcTestProvider) -> None:
    fetched: list[str] = []

    async def note(request: httpx.Request) -> None:
        fetched.append(request.url.path)

    async with httpx.AsyncClient(event_hooks={"request": [note]}) as http:
        checker = TokenVerifier(oidc_provider.issuer, oidc.CODEC_AUDIENCE, ALLOWED, http=http)
        for account in (COORDINATOR, "prs-taskforce-1", COORDINATOR):
            await checker.verify(oidc_provider.token(account))

    assert fetched == ["/.well-known/openid-configuration", "/jwks"]


# -------------------------------------------------------------------------------------------------- refused


async def test_a_token_of_another_issuer_is_refused_even_with_the_same_keys(
    oidc_provider: OidcTestProvider, other_issuer: OidcTestProvider, verifier: TokenVerifier
) -> None:
    foreign = other_issuer.token(COORDINATOR)
    # The same keys sign it: its signature is good, and its own issuer's verifier admits it.
    checker = TokenVerifier(other_issuer.issuer, oidc.CODEC_AUDIENCE, ALLOWED)
    try:
        assert (await checker.verify(foreign)).persoon_id == COORDINATOR
        # Conversely, a verifier that expects the other issuer refuses this provider's token.
        wrong_expectation = await refusal(checker, oidc_provider.token(COORDINATOR))
    finally:
        await checker.aclose()

    refused = await refusal(verifier, foreign)

    assert refused.status == 401
    assert refused.reden == "token komt van een andere uitgever (iss)"
    assert wrong_expectation.reden == "token komt van een andere uitgever (iss)"


async def test_a_token_for_another_audience_is_refused(
    oidc_provider: OidcTestProvider, verifier: TokenVerifier
) -> None:
    # The web application's access token is for the web application, not for the codec server.
    token = oidc_provider.token(COORDINATOR, oidc.WEB_CLIENT_ID)
    assert segments(token)[1]["aud"] == oidc.WEB_AUDIENCE

    refused = await refusal(verifier, token)

    assert refused.status == 401
    assert refused.reden == "token is niet voor deze dienst bedoeld (aud)"


async def test_an_expired_token_is_refused(oidc_provider: OidcTestProvider, verifier: TokenVerifier) -> None:
    token = oidc_provider.login(COORDINATOR, oidc.SHORT_CLIENT_ID).access_token
    claims = segments(token)[1]
    expires = claims["exp"]
    assert isinstance(expires, int) and expires - int(str(claims["iat"])) == 1
    await asyncio.sleep(max(0.0, expires - time.time()) + 0.01)

    refused = await refusal(verifier, token)

    assert refused.status == 401
    assert refused.reden == "token is verlopen"
    # Only the clock decides: with a minute's leeway for skew the same token still passes.
    lenient = TokenVerifier(oidc_provider.issuer, oidc.CODEC_AUDIENCE, ALLOWED, leeway_seconds=60)
    try:
        assert (await lenient.verify(token)).persoon_id == COORDINATOR
    finally:
        await lenient.aclose()


def flip_signature(token: str) -> str:
    head, payload, signature = token.split(".")
    raw = bytearray(base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4)))
    raw[len(raw) // 2] ^= 0x01
    return f"{head}.{payload}.{base64.urlsafe_b64encode(bytes(raw)).rstrip(b'=').decode()}"


def promote_to_coordinator(token: str) -> str:
    head, payload, signature = token.split(".")
    claims = _decode(payload)
    claims.update(rol="coordinator", roles=["coordinator"])
    return f"{head}.{_encode(claims)}.{signature}"


def other_key_id(token: str) -> str:
    head, payload, signature = token.split(".")
    return f"{_encode({**_decode(head), 'kid': 'een-andere-sleutel'})}.{payload}.{signature}"


@pytest.mark.parametrize(
    ("tamper", "reason"),
    [
        (flip_signature, "de handtekening van het token klopt niet"),
        (promote_to_coordinator, "de handtekening van het token klopt niet"),
        (other_key_id, "token is ondertekend met een sleutel die de uitgever niet kent"),
    ],
    ids=["handtekening", "inhoud", "sleutel-id"],
)
async def test_a_tampered_token_is_refused(
    oidc_provider: OidcTestProvider, verifier: TokenVerifier, tamper: Callable[[str], str], reason: str
) -> None:
    refused = await refusal(verifier, tamper(oidc_provider.token("prs-school-mentor-7")))

    assert refused.status == 401
    assert refused.reden == reason


async def test_a_role_that_is_not_allowed_is_refused_with_403(
    oidc_provider: OidcTestProvider, verifier: TokenVerifier
) -> None:
    refused = await refusal(verifier, oidc_provider.token("prs-school-mentor-7"))

    assert refused.status == 403
    assert refused.code == "insufficient_scope"
    assert refused.reden == "rol 'school' heeft hier geen toegang"
    assert refused.persoon_id == "prs-school-mentor-7"


async def test_a_token_without_a_role_is_refused_with_403(
    oidc_provider: OidcTestProvider, verifier: TokenVerifier
) -> None:
    refused = await refusal(verifier, oidc_provider.token("prs-zonder-rol"))

    assert refused.status == 403
    assert "geen rol" in refused.reden


async def test_an_id_token_is_not_an_access_token(oidc_provider: OidcTestProvider) -> None:
    id_token = oidc_provider.login(COORDINATOR).id_token
    # Even a verifier that takes the UI's client id for its audience refuses it.
    checker = TokenVerifier(oidc_provider.issuer, oidc.UI_CLIENT_ID, ALLOWED)
    try:
        refused = await refusal(checker, id_token)
    finally:
        await checker.aclose()

    assert refused.reden == "dit is geen access token (typ moet at+jwt zijn)"


@pytest.mark.parametrize("alg", ["none", "HS256"])
async def test_an_unsigned_or_shared_secret_token_is_refused(
    oidc_provider: OidcTestProvider, verifier: TokenVerifier, alg: str
) -> None:
    _header, claims, _signature = segments(oidc_provider.token(COORDINATOR))
    forged = f"{_encode({'alg': alg, 'typ': 'at+jwt'})}.{_encode(claims)}.{'' if alg == 'none' else 'AAAA'}"

    refused = await refusal(verifier, forged)

    assert refused.reden == "token is ondertekend met een algoritme dat niet is toegestaan"


@pytest.mark.parametrize(
    ("token", "reason"),
    [
        ("", "geen token meegestuurd"),
        ("geen-jwt", "token is geen geldige JWT"),
        ("a.b.c", "token is geen geldige JWT"),
        ("a.b.c.d.e", "versleutelde tokens (JWE) worden niet ondersteund"),
        ("x" * 20_000, "token is te groot"),
    ],
    ids=["leeg", "geen-jwt", "onzin", "jwe", "te-groot"],
)
async def test_what_is_no_token_is_refused(verifier: TokenVerifier, token: str, reason: str) -> None:
    refused = await refusal(verifier, token)

    assert (refused.status, refused.reden) == (401, reason)


async def test_an_unreachable_issuer_is_a_503_not_a_refusal_of_the_person(oidc_provider: OidcTestProvider) -> None:
    checker = TokenVerifier(f"http://127.0.0.1:{free_port()}", oidc.CODEC_AUDIENCE, ALLOWED)
    try:
        with pytest.raises(UitgeverOnbereikbaar) as raised:
            await checker.verify(oidc_provider.token(COORDINATOR))
    finally:
        await checker.aclose()

    assert raised.value.status == 503
    assert "niet bereikbaar" in raised.value.reden


async def test_while_the_issuer_is_down_the_keys_fetched_before_keep_serving(
    oidc_provider: OidcTestProvider,
) -> None:
    attempts: list[str] = []
    down = False

    async def network(request: httpx.Request) -> None:
        attempts.append(request.url.path)
        if down:
            raise httpx.ConnectError("de provider is even weg", request=request)

    async with httpx.AsyncClient(event_hooks={"request": [network]}) as http:
        # cache_seconds=0: every token would have the keys fetched again.
        checker = TokenVerifier(oidc_provider.issuer, oidc.CODEC_AUDIENCE, ALLOWED, http=http, cache_seconds=0)
        await checker.verify(oidc_provider.token(COORDINATOR))
        down = True
        verified = [await checker.verify(oidc_provider.token(account)) for account in (COORDINATOR, "prs-taskforce-1")]

    assert [person.persoon_id for person in verified] == [COORDINATOR, "prs-taskforce-1"]
    # One failed attempt, then a pause: the provider is not hammered while it is down.
    assert attempts == ["/.well-known/openid-configuration", "/jwks", "/.well-known/openid-configuration"]


# ---------------------------------------------------------------------------- without roles: the API's services


@pytest.fixture
async def service_verifier(oidc_provider: OidcTestProvider) -> AsyncIterator[TokenVerifier]:
    """As the API checks tokens: no role asked for, the client's role is in the API's register."""
    checker = TokenVerifier(oidc_provider.issuer, oidc.API_AUDIENCE, (), roles_required=False, leeway_seconds=0)
    yield checker
    await checker.aclose()


async def test_without_roles_a_services_token_verifies_to_its_client_and_no_role(
    oidc_provider: OidcTestProvider, service_verifier: TokenVerifier
) -> None:
    verified = await service_verifier.verify(oidc_provider.service_token())

    assert verified.client_id == oidc.API_CLIENT_ID
    assert verified.persoon_id == oidc.API_CLIENT_ID  # client credentials: `sub` is the client itself
    assert (verified.rol, verified.rollen) == ("", ())
    assert verified.issuer == oidc_provider.issuer
    assert 0 < verified.expires_at.timestamp() - time.time() <= 600


async def test_without_roles_a_persons_roles_admit_nothing_by_themselves(oidc_provider: OidcTestProvider) -> None:
    """A verifier without roles does not take the roles a token names for the role it is admitted with."""
    checker = TokenVerifier(oidc_provider.issuer, oidc.CODEC_AUDIENCE, (), roles_required=False)
    try:
        verified = await checker.verify(oidc_provider.token(COORDINATOR))
        nobody = await checker.verify(oidc_provider.token("prs-zonder-rol"))
    finally:
        await checker.aclose()

    assert (verified.persoon_id, verified.rol, verified.rollen) == (COORDINATOR, "", ("coordinator",))
    assert verified.client_id == oidc.UI_CLIENT_ID
    assert (nobody.persoon_id, nobody.rol, nobody.rollen) == ("prs-zonder-rol", "", ())


@pytest.mark.parametrize(
    ("claims", "client_id"),
    [
        ({"client_id": "koers-vo", "azp": "iets-anders"}, "koers-vo"),
        ({"azp": "koers-vo"}, "koers-vo"),
        ({}, None),
    ],
    ids=["client_id", "azp", "geen"],
)
async def test_without_roles_the_client_is_its_client_id_else_its_azp(
    oidc_provider: OidcTestProvider,
    service_verifier: TokenVerifier,
    claims: dict[str, object],
    client_id: str | None,
) -> None:
    """Tokens of a provider that names the client in ``azp`` rather than ``client_id`` (RFC 9068 asks for
    ``client_id``), made here and signed with the provider's own key (from the fixture's key file)."""
    (key,) = KeySet.import_key_set(json.loads(oidc_provider.jwks_file.read_text(encoding="utf-8"))).keys
    now = int(time.time())
    payload = {
        "iss": oidc_provider.issuer,
        "aud": oidc.API_AUDIENCE,
        "sub": "dienst-1234",
        "iat": now,
        "exp": now + 60,
        **claims,
    }
    token = jwt.encode({"alg": "RS256", "typ": "at+jwt", "kid": key.kid}, payload, key)

    verified = await service_verifier.verify(token)

    assert verified.client_id == client_id
    assert (verified.persoon_id, verified.rol) == ("dienst-1234", "")


async def test_without_roles_a_token_is_checked_as_strictly(
    oidc_provider: OidcTestProvider, service_verifier: TokenVerifier
) -> None:
    for_the_codec = oidc_provider.token(COORDINATOR)
    expiring = oidc_provider.service_token(oidc.SHORT_API_CLIENT_ID)
    await asyncio.sleep(max(0.0, int(str(segments(expiring)[1]["exp"])) - time.time()) + 0.01)

    assert (await refusal(service_verifier, for_the_codec)).reden == "token is niet voor deze dienst bedoeld (aud)"
    assert (await refusal(service_verifier, expiring)).reden == "token is verlopen"
    assert (await refusal(service_verifier, flip_signature(oidc_provider.service_token()))).status == 401


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"allowed_roles": []}, "geen enkele rol"),
        ({"algorithms": ["RS256", "HS256"]}, "HS256"),
        ({"audience": ""}, "audience"),
    ],
)
def test_a_verifier_that_would_let_too_much_through_is_refused(arguments: dict[str, object], message: str) -> None:
    options: dict[str, object] = {
        "issuer": "https://login.example.org",
        "audience": oidc.CODEC_AUDIENCE,
        "allowed_roles": ALLOWED,
        **arguments,
    }
    with pytest.raises(ValueError, match=message):
        TokenVerifier(**options)  # type: ignore[arg-type]


def test_the_provider_logs_in_nobody_with_a_wrong_password(oidc_provider: OidcTestProvider) -> None:
    with pytest.raises(AssertionError, match="401"):
        log_in(oidc_provider.issuer, COORDINATOR, password="fout")
