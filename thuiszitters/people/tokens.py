"""Bearer tokens from the OpenID provider, verified before anyone reads personal data.

:class:`TokenVerifier` checks a JWT access token (RFC 9068) the way a resource server must:

- the issuer's discovery document (``<issuer>/.well-known/openid-configuration``, whose ``issuer`` must be the
  configured one exactly) and its JWKS are fetched with httpx and cached; a token signed with a key the cache does not
  know yet makes it fetch the JWKS again (at most once per :data:`MIN_REFRESH_SECONDS`), so key rotation needs no
  restart and a stream of made-up key ids cannot flood the provider;
- the signature, with an asymmetric algorithm only (never ``none`` or a shared secret), by ``joserfc``;
- the header's ``typ`` (``at+jwt``: an ID token is not an access token), ``iss``, ``aud``, ``exp``, ``nbf`` and
  ``iat`` (with a small leeway for clock skew), and ``sub``: the pseudonymous persoon_id;
- the role: claim ``rol`` (one role) or ``roles`` (a list), of which one must be in the allowed set; with
  ``roles_required=False`` (the API, whose clients have their role in its register) no role is asked for, and the
  token's client is its ``client_id``, else its ``azp`` (a service's token by client credentials has no person
  behind it: its ``sub`` is the client's id).

It returns :class:`Verified` or raises :class:`TokenFout` with a Dutch reason and the HTTP status that fits: 401 for a
token that is missing or not valid, 403 for a valid token whose role may not do this, 503 when the issuer cannot be
reached. The reason names what failed, never the token.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final

import httpx
from joserfc import jws, jwt
from joserfc.errors import (
    BadSignatureError,
    ExpiredTokenError,
    InvalidClaimError,
    InvalidKeyIdError,
    JoseError,
    MissingClaimError,
)
from joserfc.jwk import KeySet
from pydantic import TypeAdapter, ValidationError

from workflows.contract import PersoonId

ALGORITHMS: Final = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA")
"""Signature algorithms accepted: public-key ones only."""
ACCESS_TOKEN_TYPES: Final = frozenset({"at+jwt", "application/at+jwt"})
"""The ``typ`` header of a JWT access token (RFC 9068, section 2.1)."""
MAX_TOKEN_LENGTH: Final = 16 * 1024
DEFAULT_LEEWAY_SECONDS: Final = 30
DEFAULT_CACHE_SECONDS: Final = 300
MIN_REFRESH_SECONDS: Final = 10.0
HTTP_TIMEOUT_SECONDS: Final = 5.0

_PERSOON_ID: Final = TypeAdapter(PersoonId)


class TokenFout(Exception):
    """A token that does not admit its bearer; ``reden`` is Dutch and fit to show to the caller."""

    def __init__(
        self, reden: str, *, status: int = 401, code: str = "invalid_token", persoon_id: str | None = None
    ) -> None:
        super().__init__(reden)
        self.reden = reden
        self.status = status
        self.code = code
        """The RFC 6750 error code: ``invalid_token``, ``insufficient_scope`` or ``temporarily_unavailable``."""
        self.persoon_id = persoon_id
        """Whom a valid token spoke for, when it was refused for its role (403); None otherwise."""


class UitgeverOnbereikbaar(TokenFout):
    """The issuer's discovery document or keys could not be fetched or made no sense: not the token's fault."""

    def __init__(self, reden: str) -> None:
        super().__init__(reden, status=503, code="temporarily_unavailable")


@dataclass(frozen=True)
class Verified:
    """Who a verified token speaks for."""

    persoon_id: str
    rol: str
    """The role this token is admitted with: the first of its roles that is allowed."""
    rollen: tuple[str, ...]
    """Every role the token names, in its order."""
    issuer: str
    client_id: str | None
    scopes: frozenset[str]
    expires_at: datetime
    token_id: str | None = None


@dataclass
class _Issuer:
    jwks_uri: str
    keys: KeySet
    fetched_at: float
    kids: frozenset[str | None] = field(default_factory=frozenset)


class TokenVerifier:
    """Verifies access tokens of one issuer for one audience; one instance per process, shared by all requests.

    ``roles_required`` False: a token need name no role (the API's clients have their role in the register); then
    ``rol`` of the result is empty and ``client_id`` is the token's ``client_id`` or ``azp``.

    ``http``: an ``httpx.AsyncClient`` to fetch discovery and keys with (default: one of its own, closed by
    :meth:`aclose`)."""

    def __init__(
        self,
        issuer: str,
        audience: str,
        allowed_roles: Iterable[str],
        *,
        roles_required: bool = True,
        http: httpx.AsyncClient | None = None,
        leeway_seconds: int = DEFAULT_LEEWAY_SECONDS,
        cache_seconds: float = DEFAULT_CACHE_SECONDS,
        algorithms: Collection[str] = ALGORITHMS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not issuer:
            raise ValueError("de uitgever (issuer) van tokens ontbreekt")
        if not audience:
            raise ValueError("het publiek (audience) van tokens ontbreekt")
        roles = tuple(role.strip() for role in allowed_roles if role.strip())
        if not roles and roles_required:
            raise ValueError("geen enkele rol toegestaan: noem er ten minste één")
        self.roles_required = roles_required
        if unsafe := [alg for alg in algorithms if alg == "none" or alg.startswith("HS")]:
            raise ValueError(f"algoritmen zonder publieke sleutel zijn niet toegestaan: {', '.join(unsafe)}")
        self.issuer = issuer
        self.audience = audience
        self.allowed_roles = frozenset(roles)
        self.leeway_seconds = leeway_seconds
        self.cache_seconds = cache_seconds
        self.algorithms = tuple(algorithms)
        self._clock = clock
        self._http = http
        self._own_http = http is None
        self._issuer: _Issuer | None = None
        self._next_attempt = 0.0
        self._lock = asyncio.Lock()

    async def aclose(self) -> None:
        if self._own_http and self._http is not None:
            await self._http.aclose()
            self._http = None

    async def verify(self, token: str) -> Verified:
        """The person and role ``token`` admits, or :class:`TokenFout`."""
        token = token.strip()
        if not token:
            raise TokenFout("geen token meegestuurd")
        if len(token) > MAX_TOKEN_LENGTH:
            raise TokenFout("token is te groot")
        header = _header(token)
        typ = header.get("typ")
        if not isinstance(typ, str) or typ.lower() not in ACCESS_TOKEN_TYPES:
            raise TokenFout("dit is geen access token (typ moet at+jwt zijn)")
        if header.get("alg") not in self.algorithms:
            raise TokenFout("token is ondertekend met een algoritme dat niet is toegestaan")
        kid = header.get("kid")
        if kid is not None and not isinstance(kid, str):
            raise TokenFout("token heeft een ongeldige sleutel-id (kid)")
        keys = await self._keys_for(kid)
        try:
            decoded = jwt.decode(token, keys, algorithms=self.algorithms)
        except BadSignatureError:
            raise TokenFout("de handtekening van het token klopt niet") from None
        except InvalidKeyIdError:
            raise TokenFout("token is ondertekend met een sleutel die de uitgever niet kent") from None
        except JoseError:
            raise TokenFout("token is geen geldige JWT") from None
        claims = decoded.claims
        self._check_claims(claims)
        persoon_id = _persoon_id(claims.get("sub"))
        rollen = claimed_roles(claims)
        if not self.roles_required:  # the caller decides the role itself (the API: from its client's row)
            client_id = claims.get("client_id", claims.get("azp"))
            return Verified(
                persoon_id=persoon_id,
                rol="",
                rollen=rollen,
                issuer=self.issuer,
                client_id=client_id if isinstance(client_id, str) else None,
                scopes=frozenset(str(claims.get("scope", "")).split()),
                expires_at=datetime.fromtimestamp(claims["exp"], UTC),
                token_id=claims["jti"] if isinstance(claims.get("jti"), str) else None,
            )
        if not rollen:
            raise TokenFout(
                "token noemt geen rol (claim 'rol' of 'roles')",
                status=403,
                code="insufficient_scope",
                persoon_id=persoon_id,
            )
        allowed = next((rol for rol in rollen if rol in self.allowed_roles), None)
        if allowed is None:
            raise TokenFout(
                f"{'rol' if len(rollen) == 1 else 'rollen'} {', '.join(repr(rol) for rol in rollen)} "
                f"{'heeft' if len(rollen) == 1 else 'hebben'} hier geen toegang",
                status=403,
                code="insufficient_scope",
                persoon_id=persoon_id,
            )
        client_id = claims.get("client_id")
        scope = claims.get("scope")
        jti = claims.get("jti")
        return Verified(
            persoon_id=persoon_id,
            rol=allowed,
            rollen=rollen,
            issuer=self.issuer,
            client_id=client_id if isinstance(client_id, str) else None,
            scopes=frozenset(scope.split()) if isinstance(scope, str) else frozenset(),
            expires_at=datetime.fromtimestamp(claims["exp"], UTC),
            token_id=jti if isinstance(jti, str) else None,
        )

    def _check_claims(self, claims: dict[str, Any]) -> None:
        registry = jwt.JWTClaimsRegistry(
            now=int(self._clock()),
            leeway=self.leeway_seconds,
            iss={"essential": True, "value": self.issuer},
            aud={"essential": True, "value": self.audience},
            exp={"essential": True},
            sub={"essential": True},
        )
        try:
            registry.validate(claims)
        except ExpiredTokenError:
            raise TokenFout("token is verlopen") from None
        except MissingClaimError as error:
            raise TokenFout(f"token mist claim {error.claim}") from None
        except InvalidClaimError as error:
            reasons = {
                "iss": "token komt van een andere uitgever (iss)",
                "aud": "token is niet voor deze dienst bedoeld (aud)",
                "nbf": "token is nog niet geldig (nbf)",
                "iat": "token is uitgegeven in de toekomst (iat)",
            }
            raise TokenFout(reasons.get(error.claim, f"token heeft een ongeldige claim {error.claim}")) from None

    # ------------------------------------------------------------------------------------ discovery and keys

    async def _keys_for(self, kid: str | None) -> KeySet:
        """The issuer's keys, fetched again when they are old or do not know ``kid`` (not too often).

        When the issuer cannot be reached, the keys fetched before keep serving, and the next attempt waits
        :data:`MIN_REFRESH_SECONDS`; without keys from before, the token cannot be checked (503)."""
        async with self._lock:
            now = time.monotonic()
            known = self._issuer
            if now >= self._next_attempt:
                stale = known is None or now - known.fetched_at > self.cache_seconds
                unknown_kid = (
                    known is not None and kid not in known.kids and now - known.fetched_at > MIN_REFRESH_SECONDS
                )
                if stale or unknown_kid:
                    try:
                        self._issuer = await self._fetch(known)
                    except UitgeverOnbereikbaar:
                        self._next_attempt = time.monotonic() + MIN_REFRESH_SECONDS
                        if known is None:
                            raise
            if self._issuer is None:
                raise UitgeverOnbereikbaar("de uitgever van tokens was zojuist niet bereikbaar; probeer het zo opnieuw")
            return self._issuer.keys

    async def _fetch(self, known: _Issuer | None) -> _Issuer:
        http = self._client()
        if known is None or time.monotonic() - known.fetched_at > self.cache_seconds:
            jwks_uri = await self._discover(http)
        else:
            jwks_uri = known.jwks_uri
        document = await self._get_json(http, jwks_uri)
        signing = [key for key in document.get("keys", []) if isinstance(key, dict) and key.get("use") in (None, "sig")]
        try:
            keys = KeySet.import_key_set({"keys": signing})
        except (JoseError, ValueError, TypeError, KeyError):
            raise UitgeverOnbereikbaar("de sleutels (JWKS) van de uitgever zijn onbruikbaar") from None
        return _Issuer(
            jwks_uri=jwks_uri,
            keys=keys,
            fetched_at=time.monotonic(),
            kids=frozenset(key.get("kid") for key in signing),
        )

    async def _discover(self, http: httpx.AsyncClient) -> str:
        """The issuer's ``jwks_uri``, from a discovery document that names exactly the configured issuer."""
        discovery = await self._get_json(http, f"{self.issuer.rstrip('/')}/.well-known/openid-configuration")
        if discovery.get("issuer") != self.issuer:
            raise UitgeverOnbereikbaar("het discovery-document van de uitgever noemt een andere issuer dan ingesteld")
        jwks_uri = discovery.get("jwks_uri")
        if not isinstance(jwks_uri, str) or not jwks_uri:
            raise UitgeverOnbereikbaar("het discovery-document van de uitgever noemt geen jwks_uri")
        return jwks_uri

    def _client(self) -> httpx.AsyncClient:
        if self._http is None:
            self._http = httpx.AsyncClient(timeout=HTTP_TIMEOUT_SECONDS, follow_redirects=False)
        return self._http

    async def _get_json(self, http: httpx.AsyncClient, url: str) -> dict[str, Any]:
        try:
            response = await http.get(url, headers={"Accept": "application/json"})
        except httpx.HTTPError as error:
            raise UitgeverOnbereikbaar(f"de uitgever van tokens is niet bereikbaar ({type(error).__name__})") from None
        if response.status_code != 200:
            raise UitgeverOnbereikbaar(f"de uitgever van tokens antwoordde met status {response.status_code}")
        try:
            document = response.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise UitgeverOnbereikbaar("de uitgever van tokens antwoordde niet met JSON") from None
        if not isinstance(document, dict):
            raise UitgeverOnbereikbaar("de uitgever van tokens antwoordde niet met een JSON-object")
        return document


def _header(token: str) -> dict[str, Any]:
    """The JWS header, read before anything is trusted, to choose the key and refuse what is not allowed."""
    parts = token.split(".")
    if len(parts) == 5:
        raise TokenFout("versleutelde tokens (JWE) worden niet ondersteund")
    if len(parts) != 3:
        raise TokenFout("token is geen geldige JWT")
    try:
        compact = jws.extract_compact(token.encode("ascii"))
    except (JoseError, ValueError, UnicodeEncodeError):
        raise TokenFout("token is geen geldige JWT") from None
    return dict(compact.headers())


def _persoon_id(sub: object) -> str:
    try:
        return _PERSOON_ID.validate_python(sub)
    except ValidationError:
        raise TokenFout("token noemt geen geldige persoon (sub)") from None


def claimed_roles(claims: Mapping[str, Any]) -> tuple[str, ...]:
    """The role names of claim ``rol`` (one) and ``roles`` (a list), in order, once each."""
    found: list[str] = []
    rol = claims.get("rol")
    if isinstance(rol, str) and rol:
        found.append(rol)
    roles = claims.get("roles")
    if isinstance(roles, list):
        found.extend(role for role in roles if isinstance(role, str) and role and role not in found)
    return tuple(found)
