"""Connecting to Temporal through its own environment configuration (``temporalio.envconfig``).

``TEMPORAL_ADDRESS``, ``TEMPORAL_NAMESPACE``, ``TEMPORAL_API_KEY``, TLS settings and profiles in ``temporal.toml``
(``TEMPORAL_PROFILE``, ``TEMPORAL_CONFIG_FILE``) all work, so the same code reaches the dev server, a self-hosted
cluster or Temporal Cloud.
"""

from __future__ import annotations

from temporalio.client import Client
from temporalio.envconfig import ClientConfig

from thuiszitters.converter import build_data_converter
from thuiszitters.settings import Settings


async def connect(settings: Settings, *, profile: str | None = None) -> Client:
    config = ClientConfig.load_client_connect_config(profile=profile)
    config.setdefault("target_host", "localhost:7233")
    return await Client.connect(**config, data_converter=build_data_converter(settings))
