"""The API's clients: who they are, what they may do, and the access tokens they get.

A client (table ``api_clients``, migration 008) is another service: a school's pupil administration, Kindkans, the
LBA, Koers VO. Like a person of the directory it acts in one role with one scope, which the policy of step 12
decides on (:func:`thuiszitters.people.policy.decide`); on top of that it may send only the events listed for it,
and start cases only when ``mag_starten``.

Tokens: OAuth2 client credentials (RFC 6749, section 4.4) at the API's own token endpoint give a short-lived JWT
(HS256, signed with ``THUISZITTERS_API_TOKEN_SECRET``; only this API reads it). An access token of the municipality's
OpenID provider (``THUISZITTERS_API_OIDC_ISSUER``) is accepted too: its ``client_id`` (or ``azp``, else ``sub``) must
be a client here. The secret is stored as an argon2id hash only; a wrong secret and an unknown client look alike.
"""

from __future__ import annotations

import asyncio
import secrets
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

import asyncpg
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import OctKey
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from thuiszitters.people.policy import Actor, ActorRole
from workflows.contract import EVENTS, Brin, Regio, Sector

ISSUER: Final = "urn:thuiszitters:api"
"""The ``iss`` and ``aud`` of the API's own tokens."""
CLIENT_ID_PATTERN: Final = r"^[a-z0-9][a-z0-9_.-]{1,62}$"
MIN_SECRET_LENGTH: Final = 32
MAX_TOKENS_KEPT: Final = 10_000
"""Verified tokens remembered per process (all forgotten at once when full)."""
CACHE_SECONDS: Final = 10.0
"""How long a client's row is used before it is read again: a client switched off stops within this time."""


class ApiClient(BaseModel):
    """One client: its role and scope as an :class:`Actor`, the events it may send, whether it may start cases."""

    model_config = ConfigDict(frozen=True)

    client_id: str = Field(pattern=CLIENT_ID_PATTERN)
    naam: str = Field(min_length=1, max_length=200)
    rol: ActorRole
    scholen: tuple[Brin, ...] = ()
    regio: Regio | None = None
    sector: Sector | None = None
    alle: bool = False
    gebeurtenissen: frozenset[str] = frozenset()
    mag_starten: bool = False
    per_minuut: int = Field(default=600, ge=1, le=100_000)
    actief: bool = True

    @field_validator("gebeurtenissen")
    @classmethod
    def _known_events(cls, value: frozenset[str]) -> frozenset[str]:
        if unknown := sorted(value - set(EVENTS)):
            raise ValueError(f"onbekende gebeurtenis(sen): {', '.join(unknown)}")
        return value

    @property
    def actor(self) -> Actor:
        """The client as the policy sees it (a client's id is its persoon_id in the audit log: ``api:<id>``)."""
        return Actor(
            persoon_id=self.audit_id,
            rol=self.rol,
            scholen=frozenset(self.scholen),
            regio=self.regio,
            sector=self.sector,
            alle=self.alle,
        )

    @property
    def audit_id(self) -> str:
        return f"api:{self.client_id}"


class ClientFout(Exception):
    """A client that cannot be admitted; ``str`` is Dutch and fit to show."""


class ApiClients:
    """The clients in the register, read through a short cache, and their secrets."""

    def __init__(self, pool: asyncpg.Pool[asyncpg.Record], hasher: PasswordHasher | None = None) -> None:
        self.pool = pool
        self.hasher = hasher or PasswordHasher()
        self._cache: dict[str, tuple[float, ApiClient | None]] = {}
        self._dummy = self.hasher.hash(secrets.token_urlsafe(24))

    async def get(self, client_id: str) -> ApiClient | None:
        """The client, or None when unknown or switched off (cached for :data:`CACHE_SECONDS`)."""
        now = time.monotonic()
        cached = self._cache.get(client_id)
        if cached is not None and now - cached[0] < CACHE_SECONDS:
            return cached[1]
        row = await self.pool.fetchrow("SELECT * FROM api_clients WHERE client_id = $1", client_id)
        client = _client(row) if row is not None else None
        if client is not None and not client.actief:
            client = None
        self._cache[client_id] = (now, client)
        return client

    async def check_secret(self, client_id: str, secret: str) -> ApiClient | None:
        """The client when ``secret`` is its secret; None otherwise (one argon2 check whatever the outcome)."""
        row = (
            await self.pool.fetchrow("SELECT * FROM api_clients WHERE client_id = $1 AND actief", client_id)
            if len(client_id) <= 64
            else None
        )
        stored = row["geheim_hash"] if row is not None and row["geheim_hash"] else self._dummy
        ok: bool
        try:
            ok = await asyncio.to_thread(self.hasher.verify, stored, secret[:1024])
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            ok = False
        return _client(row) if ok and row is not None and row["geheim_hash"] else None

    async def upsert(self, client: ApiClient, secret: str | None = None) -> str:
        """Store ``client`` (and a new ``secret`` when given); 'nieuw' or 'bijgewerkt'."""
        if secret is not None and len(secret) < MIN_SECRET_LENGTH:
            raise ClientFout(f"het geheim moet ten minste {MIN_SECRET_LENGTH} tekens hebben")
        digest = await asyncio.to_thread(self.hasher.hash, secret) if secret is not None else None
        inserted: bool = await self.pool.fetchval(
            """
            INSERT INTO api_clients (client_id, naam, geheim_hash, rol, scholen, regio, sector, alle, gebeurtenissen,
                                     mag_starten, per_minuut, actief)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
            ON CONFLICT (client_id) DO UPDATE SET
                naam = EXCLUDED.naam, geheim_hash = COALESCE(EXCLUDED.geheim_hash, api_clients.geheim_hash),
                rol = EXCLUDED.rol, scholen = EXCLUDED.scholen, regio = EXCLUDED.regio, sector = EXCLUDED.sector,
                alle = EXCLUDED.alle, gebeurtenissen = EXCLUDED.gebeurtenissen, mag_starten = EXCLUDED.mag_starten,
                per_minuut = EXCLUDED.per_minuut, actief = EXCLUDED.actief, bijgewerkt_op = now()
            RETURNING xmax = 0
            """,
            client.client_id,
            client.naam,
            digest,
            client.rol.value,
            list(client.scholen),
            client.regio.value if client.regio else None,
            client.sector.value if client.sector else None,
            client.alle,
            sorted(client.gebeurtenissen),
            client.mag_starten,
            client.per_minuut,
            client.actief,
        )
        self._cache.pop(client.client_id, None)
        return "nieuw" if inserted else "bijgewerkt"


def _client(row: asyncpg.Record) -> ApiClient | None:
    try:
        return ApiClient(
            client_id=row["client_id"],
            naam=row["naam"],
            rol=row["rol"],
            scholen=tuple(row["scholen"] or ()),
            regio=row["regio"],
            sector=row["sector"],
            alle=row["alle"],
            gebeurtenissen=frozenset(row["gebeurtenissen"] or ()),
            mag_starten=row["mag_starten"],
            per_minuut=row["per_minuut"],
            actief=row["actief"],
        )
    except ValidationError:
        return None  # a row the policy cannot act on admits nobody


# ------------------------------------------------------------------------------------------------------ tokens


@dataclass(frozen=True)
class Token:
    access_token: str
    expires_in: int


class TokenSigner:
    """Issues and reads the API's own access tokens: HS256 JWTs with ``iss``/``aud`` :data:`ISSUER`, ``sub`` the
    client, a ``jti`` and an ``exp`` of ``ttl`` seconds."""

    def __init__(self, secret: str, ttl: int = 300, *, clock: Any = time.time) -> None:
        if len(secret) < MIN_SECRET_LENGTH:
            raise ValueError(f"het tokengeheim moet ten minste {MIN_SECRET_LENGTH} tekens hebben")
        self.key = OctKey.import_key(secret.encode())
        self.ttl = ttl
        self.clock = clock
        self._read: dict[str, tuple[str, int]] = {}
        """Tokens already verified: token -> (client id, exp); a token is only ever as valid as when first read."""

    def issue(self, client: ApiClient) -> Token:
        now = int(self.clock())
        claims = {
            "iss": ISSUER,
            "aud": ISSUER,
            "sub": client.client_id,
            "client_id": client.client_id,
            "iat": now,
            "exp": now + self.ttl,
            "jti": uuid.uuid4().hex,
        }
        return Token(jwt.encode({"alg": "HS256", "typ": "at+jwt"}, claims, self.key), self.ttl)

    def read(self, token: str) -> str:
        """The client id of a valid token of this API; :class:`ClientFout` (Dutch) otherwise. A token verified
        before is not verified again, only checked for its expiry (a client sends the same token for minutes)."""
        known = self._read.get(token)
        if known is not None:
            if known[1] < self.clock():
                raise ClientFout("het token is verlopen")
            return known[0]
        try:
            decoded = jwt.decode(token, self.key, algorithms=["HS256"])
        except (JoseError, ValueError) as error:
            raise ClientFout("het token is ongeldig") from error
        claims = decoded.claims
        registry = jwt.JWTClaimsRegistry(
            iss={"essential": True, "value": ISSUER},
            aud={"essential": True, "value": ISSUER},
            exp={"essential": True},
            sub={"essential": True},
        )
        try:
            registry.validate(claims)
        except JoseError as error:
            raise ClientFout("het token is verlopen of niet voor deze API") from error
        if int(claims["exp"]) < self.clock():
            raise ClientFout("het token is verlopen")
        if len(self._read) >= MAX_TOKENS_KEPT:
            self._read.clear()
        self._read[token] = (str(claims["sub"]), int(claims["exp"]))
        return str(claims["sub"])

    @staticmethod
    def looks_like_ours(token: str) -> bool:
        """Whether ``token``'s header says HS256: the API's own (the provider's tokens are signed with a key pair)."""
        import base64
        import json

        head = token.split(".", 1)[0]
        try:
            header = json.loads(base64.urlsafe_b64decode(head + "=" * (-len(head) % 4)))
        except (ValueError, UnicodeDecodeError):
            return False
        return isinstance(header, dict) and header.get("alg") == "HS256"


def event_names(names: Sequence[str]) -> frozenset[str]:
    """Event names checked against the contract (``ValueError`` in Dutch for one that does not exist)."""
    unknown = sorted(set(names) - set(EVENTS))
    if unknown:
        raise ValueError(f"onbekende gebeurtenis(sen): {', '.join(unknown)}")
    return frozenset(names)
