"""Settings of the worker, the tools and the activities, read from the environment in one place.

Temporal's own connection settings (address, namespace, TLS, API key, profiles) are not here: they come from
``temporalio.envconfig`` (``TEMPORAL_ADDRESS``, ``TEMPORAL_NAMESPACE``, ``TEMPORAL_PROFILE``, ``temporal.toml``), see
:func:`thuiszitters.client.connect`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from thuiszitters.models import Rol, Systeem

DEFAULT_TASK_QUEUE = "thuiszitters"

Kanaal = Literal["log", "smtp", "webhook"]


class SettingsError(ValueError):
    """A setting in the environment is missing or wrong; the message names the variable."""


class Endpoint(BaseModel):
    """Where an outside system takes its registration calls (JSON over HTTP)."""

    model_config = ConfigDict(frozen=True)

    url: str
    token: str | None = None
    # Below the activity's start-to-close timeout (30 s), so an attempt ends by our hand, never by Temporal's.
    timeout_seconds: float = Field(default=10.0, gt=0, le=20)


class Settings(BaseModel):
    model_config = ConfigDict(frozen=True)

    task_queue: str = DEFAULT_TASK_QUEUE
    database_url: str | None = None
    database_pool_max: int = Field(default=10, ge=1, le=200)
    log_format: Literal["console", "json"] = "console"
    log_level: str = "info"
    metrics_address: str | None = None
    health_address: str | None = None
    # Outside systems; a system without an endpoint gets a register entry marked 'niet verzonden'.
    endpoints: dict[Systeem, Endpoint] = Field(default_factory=dict)
    # Notifications: a channel per role, and the address of each role (per region for the coordinator).
    kanalen: dict[Rol, Kanaal] = Field(default_factory=dict)
    adressen: dict[str, str] = Field(default_factory=dict)
    smtp_host: str = "localhost"
    smtp_port: int = 25
    smtp_afzender: str = "thuiszitters@localhost"
    smtp_user: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = False
    webhook_url: str | None = None
    webhook_token: str | None = None
    # Payload encryption (see thuiszitters.codec): keys as 'id:base64', newest last, or explicitly off.
    encryptie: Literal["aan", "uit"] = "aan"
    codec_keys: str | None = None
    codec_server_token: str | None = None
    codec_server_cors_origin: str = "http://localhost:8233"

    def kanaal(self, rol: Rol) -> Kanaal:
        return self.kanalen.get(rol, "log")

    def adres(self, rol: Rol, regio: str | None = None) -> str | None:
        if regio is not None and (specifiek := self.adressen.get(f"{rol.value}_{regio.lower()}")):
            return specifiek
        return self.adressen.get(rol.value)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Read ``THUISZITTERS_*`` variables (and ``DATABASE_URL``); unknown values are refused by name."""
        env = os.environ if env is None else env
        raw: dict[str, object] = {}
        simple = {
            "THUISZITTERS_TASK_QUEUE": "task_queue",
            "DATABASE_URL": "database_url",
            "THUISZITTERS_DATABASE_POOL_MAX": "database_pool_max",
            "THUISZITTERS_LOG_FORMAT": "log_format",
            "THUISZITTERS_LOG_LEVEL": "log_level",
            "THUISZITTERS_METRICS_ADDRESS": "metrics_address",
            "THUISZITTERS_HEALTH_ADDRESS": "health_address",
            "THUISZITTERS_SMTP_HOST": "smtp_host",
            "THUISZITTERS_SMTP_PORT": "smtp_port",
            "THUISZITTERS_SMTP_AFZENDER": "smtp_afzender",
            "THUISZITTERS_SMTP_USER": "smtp_user",
            "THUISZITTERS_SMTP_PASSWORD": "smtp_password",
            "THUISZITTERS_SMTP_STARTTLS": "smtp_starttls",
            "THUISZITTERS_WEBHOOK_URL": "webhook_url",
            "THUISZITTERS_WEBHOOK_TOKEN": "webhook_token",
            "THUISZITTERS_ENCRYPTIE": "encryptie",
            "THUISZITTERS_CODEC_KEYS": "codec_keys",
            "THUISZITTERS_CODEC_SERVER_TOKEN": "codec_server_token",
            "THUISZITTERS_CODEC_SERVER_CORS_ORIGIN": "codec_server_cors_origin",
        }
        for variable, field in simple.items():
            if (value := env.get(variable)) not in (None, ""):
                raw[field] = value
        endpoints: dict[str, dict[str, object]] = {}
        for systeem in Systeem:
            prefix = f"THUISZITTERS_{systeem.value.upper()}"
            if url := env.get(f"{prefix}_URL"):
                endpoint: dict[str, object] = {"url": url}
                if token := env.get(f"{prefix}_TOKEN"):
                    endpoint["token"] = token
                if timeout := env.get(f"{prefix}_TIMEOUT"):
                    endpoint["timeout_seconds"] = timeout
                endpoints[systeem.value] = endpoint
        raw["endpoints"] = endpoints
        raw["kanalen"] = {
            rol.value: value for rol in Rol if (value := env.get(f"THUISZITTERS_KANAAL_{rol.value.upper()}"))
        }
        adressen: dict[str, str] = {}
        for variable, value in env.items():
            if variable.startswith("THUISZITTERS_ADRES_") and value:
                adressen[variable.removeprefix("THUISZITTERS_ADRES_").lower()] = value
        raw["adressen"] = adressen
        try:
            return cls.model_validate(raw)
        except ValidationError as error:
            first = error.errors()[0]
            location = ".".join(str(part) for part in first["loc"])
            raise SettingsError(f"instelling {location}: {first['msg']}") from error
