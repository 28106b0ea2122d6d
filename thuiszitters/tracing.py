"""Tracing with OpenTelemetry: one trace from a request to the API through the case's workflow and its activities to
the call to an outside system (docs/operations.md, "Tracing").

- :func:`configure_tracing` sets a process up, once: with ``OTEL_EXPORTER_OTLP_ENDPOINT`` (or
  ``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT``) set, a tracer provider that sends its spans in batches over OTLP/HTTP (the
  exporter reads the other standard ``OTEL_EXPORTER_OTLP_*`` variables itself: headers, timeout, certificate,
  compression); without, nothing is set up, nothing is instrumented, and tracing costs nothing. It instruments
  httpx (every outbound call gets a span and a ``traceparent`` header) and asyncpg (a span per query of the register).
- :func:`tracing_interceptors`: Temporal's tracing interceptor (``temporalio.contrib.opentelemetry``), for the
  client (:func:`thuiszitters.temporal.client.connect` adds it) and so for the worker built on that client. The
  client's span of starting a workflow travels in the workflow's headers; the workflow's spans and its activities'
  spans join its trace.
- :class:`TracedRequests`: the server's span per request (the OpenTelemetry ASGI middleware), named after the
  route's template (``POST /api/v1/zaken/{leerling_ref}/oudergesprek``), never after a concrete path.

No personal data in a span (docs/privacy.md, "Tracing"): the middleware is shown only the method, the scheme, the
server's own address and the headers that carry a trace context, never the path's values, the query string, the
caller's address or user agent; asyncpg records the SQL text with its ``$n`` placeholders and not the values
(``capture_parameters=False``); httpx records the method, the URL (a system's endpoint and the action) and the
status, and no headers; Temporal's spans carry the workflow id (``thuiszitter-<leerling_ref>``, pseudonymous by
design), the run id, the activity id and the names of workflows, activities, signals and updates.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final

from opentelemetry import trace
from opentelemetry.util.http import sanitize_method

# The SDK, the instrumentations and Temporal's interceptor are imported where they are used: a process that does
# not trace (every command line tool, and the others without an endpoint) does not pay for loading them.
if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider
    from starlette.types import ASGIApp, Message, Receive, Scope, Send
    from temporalio.contrib.opentelemetry import TracingInterceptor

ENDPOINT_VARIABLES: Final = ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT")
"""The standard variables that switch exporting on; either names the collector's OTLP/HTTP address."""

WORKER: Final = "thuiszitters-worker"
WEB: Final = "thuiszitters-web"
"""The service names of the two processes (``service.name`` of their spans; ``OTEL_SERVICE_NAME`` overrides)."""

_configured: TracerProvider | None = None
"""The provider this process traces with, once :func:`configure_tracing` has set one up."""


def exporting(env: Mapping[str, str] | None = None) -> bool:
    """Whether the environment asks for spans to be sent: an OTLP endpoint, and the SDK not switched off."""
    env = os.environ if env is None else env
    if env.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return False
    return any(env.get(name, "").strip() for name in ENDPOINT_VARIABLES)


def configure_tracing(
    service_name: str, *, provider: TracerProvider | None = None, env: Mapping[str, str] | None = None
) -> TracerProvider | None:
    """Set this process up for tracing; the provider it traces with, or None when it does not trace.

    Without ``provider``: the first call with an OTLP endpoint in the environment makes the provider (exporting in
    batches, ``service.name`` ``service_name``) and makes it the global one; later calls return it. ``provider``:
    trace with that one instead (the tests' provider with an in-memory exporter); it is not made global. Either way
    httpx and asyncpg are instrumented once, for the provider in use."""
    global _configured
    if provider is None:
        if _configured is not None:
            return _configured
        if not exporting(env):
            return None
        provider = _exporting_provider(service_name, os.environ if env is None else env)
        trace.set_tracer_provider(provider)
    if provider is not _configured:
        _instrument(provider)
        _configured = provider
    return provider


def unconfigure_tracing() -> None:
    """Undo :func:`configure_tracing`: httpx and asyncpg no longer instrumented, no provider configured (a global
    provider, once set, stays: OpenTelemetry sets it once per process)."""
    global _configured
    if _configured is None:
        return
    from opentelemetry.instrumentation.asyncpg import AsyncPGInstrumentor
    from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor

    for instrumentor in (HTTPXClientInstrumentor(), AsyncPGInstrumentor()):  # type: ignore[no-untyped-call]
        if instrumentor.is_instrumented_by_opentelemetry:
            instrumentor.uninstrument()
    _configured = None


def _exporting_provider(service_name: str, env: Mapping[str, str]) -> TracerProvider:
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import SERVICE_NAME, Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    name = env.get("OTEL_SERVICE_NAME", "").strip() or service_name
    provider = TracerProvider(resource=Resource.create({SERVICE_NAME: name}))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    return provider


def _instrument(provider: TracerProvider) -> None:
    """httpx and asyncpg for ``provider``; an instrumentation made earlier for another provider is undone first."""
    from opentelemetry.instrumentation.asyncpg import AsyncPGInstrumentor
    from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor

    httpx_instrumentor = HTTPXClientInstrumentor()
    # the query's text, never its values (the package's constructor has no type hints)
    asyncpg_instrumentor = AsyncPGInstrumentor(capture_parameters=False)  # type: ignore[no-untyped-call]
    for instrumentor in (httpx_instrumentor, asyncpg_instrumentor):
        if instrumentor.is_instrumented_by_opentelemetry:
            instrumentor.uninstrument()
        instrumentor.instrument(tracer_provider=provider)


def tracing_interceptors(provider: TracerProvider | None = None) -> list[TracingInterceptor]:
    """Temporal's tracing interceptor for a client (and so for the workers built on it), tracing with ``provider``
    or the configured one; none when this process does not trace. One per client: a worker built on a client that
    has it must not get it again (its spans would double)."""
    provider = provider or _configured
    if provider is None:
        return []
    from temporalio.contrib.opentelemetry import TracingInterceptor

    return [TracingInterceptor(provider.get_tracer("temporalio.contrib.opentelemetry"))]


# ------------------------------------------------------------------------------------------------ the server

_TRACE_HEADERS: Final = frozenset({b"traceparent", b"tracestate"})
"""The only request headers the middleware sees: the caller's trace context (W3C Trace Context)."""
_SHOWN: Final = ("type", "asgi", "http_version", "method", "scheme", "server")
"""What of a request's scope the middleware sees, besides those headers."""
_REQUEST: Final = "thuiszitters.request"


class TracedRequests:
    """A server span per HTTP request, continuing the caller's trace when it sends a ``traceparent``.

    The OpenTelemetry ASGI middleware records what it is shown of the request: here a copy of the scope without the
    path, the query string, the caller's address and every header but the trace context, so none of it lands in a
    span. Once the application has routed the request, the span is named after the route's template and gets it as
    ``http.route``; a request that matched no route, or failed before it was answered, keeps the method alone."""

    def __init__(self, app: ASGIApp, tracer_provider: TracerProvider) -> None:
        from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware

        self._app = app
        self._middleware = OpenTelemetryMiddleware(
            self._handle,
            tracer_provider=tracer_provider,
            default_span_details=_method_only,
            exclude_spans=["receive", "send"],
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        shown: dict[str, Any] = {key: scope[key] for key in _SHOWN if key in scope}
        shown["headers"] = [(name, value) for name, value in scope.get("headers", ()) if name in _TRACE_HEADERS]
        shown.update(path="", query_string=b"", client=None)
        shown[_REQUEST] = scope
        await self._middleware(shown, receive, send)

    async def _handle(self, shown: Scope, receive: Receive, send: Send) -> None:
        scope: Scope = shown[_REQUEST]
        span = trace.get_current_span()

        async def named_send(message: Message) -> None:
            # routed by the time the answer starts; the middleware ends the span with the answer's last part
            if message["type"] == "http.response.start" and (route := route_template(scope)) is not None:
                span.set_attribute("http.route", route)
                span.update_name(f"{_method_only(scope)[0]} {route}")
            await send(message)

        await self._app(scope, receive, named_send)


def _method_only(scope: Scope) -> tuple[str, dict[str, Any]]:
    method = sanitize_method(str(scope.get("method", "")).strip())
    return ("HTTP" if method == "_OTHER" else method), {}


def route_template(scope: Scope) -> str | None:
    """The path of a routed request with each path parameter's value replaced by its name
    (``/api/v1/zaken/{leerling_ref}``); None when no route of the application matched (only a mount did)."""
    route = scope.get("route")
    if route is None or getattr(route, "routes", None):
        return None
    segments = str(scope.get("path", "")).split("/")
    for name, value in scope.get("path_params", {}).items():
        text = str(value)
        if not text:
            continue
        parts = text.split("/")
        # the last place the value's segments stand in the path: parameters come after the literal parts they follow
        for start in range(len(segments) - len(parts), -1, -1):
            if segments[start : start + len(parts)] == parts:
                segments[start : start + len(parts)] = [f"{{{name}}}"]
                break
    return "/".join(segments)
