"""Connecting to Temporal through its own environment configuration (``temporalio.envconfig``).

``TEMPORAL_ADDRESS``, ``TEMPORAL_NAMESPACE``, ``TEMPORAL_API_KEY``, TLS settings and profiles in ``temporal.toml``
(``TEMPORAL_PROFILE``, ``TEMPORAL_CONFIG_FILE``) all work, so the same code reaches the dev server, a self-hosted
cluster or Temporal Cloud. When the process traces (:func:`thuiszitters.tracing.configure_tracing`), the client
carries Temporal's tracing interceptor, and so does every worker built on it.
"""

from __future__ import annotations

from temporalio.client import Client
from temporalio.envconfig import ClientConfig
from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig

from thuiszitters.settings import Settings
from thuiszitters.temporal.converter import build_data_converter
from thuiszitters.tracing import tracing_interceptors


class ConnectError(RuntimeError):
    """Temporal cannot be reached, or its connection settings cannot be read; the message says which, in Dutch."""


async def connect(
    settings: Settings, *, profile: str | None = None, runtime: Runtime | None = None, lazy: bool = False
) -> Client:
    """A client of the configured Temporal; ``lazy``: connect at the first call, not now (the web application
    starts and shows its pages while Temporal is away; each action says so until it is back)."""
    try:
        config = ClientConfig.load_client_connect_config(profile=profile)
    except Exception as error:  # the bridge raises its own ConfigError for a missing profile or a bad file
        raise ConnectError(f"Temporal-instellingen niet te lezen: {error}") from None
    config.setdefault("target_host", "localhost:7233")
    try:
        return await Client.connect(
            **config,
            data_converter=build_data_converter(settings),
            interceptors=tracing_interceptors(),
            runtime=runtime,
            lazy=lazy,
        )
    except RuntimeError as error:
        raise ConnectError(f"Temporal niet bereikbaar op {config['target_host']}: {error}") from None


def metrics_runtime(settings: Settings) -> Runtime | None:
    """A runtime that serves the SDK's metrics (and the project's counters) for Prometheus, when configured."""
    if not settings.metrics_address:
        return None
    return Runtime(telemetry=TelemetryConfig(metrics=PrometheusConfig(bind_address=settings.metrics_address)))
