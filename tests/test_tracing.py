"""Tracing (thuiszitters/tracing.py) on the real parts: the Temporal dev server, the worker as production builds it
(the unsandboxed runner, the tracing interceptor from its client), the register in PostgreSQL, the one server of web
application and API reached over ASGI, and a partner system on 127.0.0.1 that takes the registration calls.

A school system starts a case through the API; that request's trace holds the client's start of the workflow, the
workflow, the registration activity and its outbound call, and the partner receives the same trace id in the
``traceparent`` header. No span holds the pupil's data, the caller's address or a secret, and a history made with
tracing replays without it (and the recorded histories with it): the interceptor changes no workflow command."""

from __future__ import annotations

import asyncio
import os
import sys
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiohttp import web
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Replayer

from activities.case_activities import CaseActivities
from tests.cases import eventually, pupil
from tests.fixtures.postgres import fresh_database
from tests.fixtures.werkbak import WACHTWOORD, application_settings, load_demo_people
from tests.outside import PartnerSystems, Receipt
from tests.paths import REPO
from tests.thuiszitters.api.helpers import BASE_URL, TOKEN_SECRET, demo_clients, secret_of
from tests.thuiszitters.web.helpers import FAST_HASHER
from tests.workflows.test_replay import CURRENT, load
from thuiszitters.api.clients import ApiClients
from thuiszitters.server import create_server
from thuiszitters.settings import Endpoint, Settings
from thuiszitters.temporal.converter import build_data_converter
from thuiszitters.temporal.worker import WorkerTuning, build_worker
from thuiszitters.tracing import configure_tracing, exporting, route_template, tracing_interceptors, unconfigure_tracing
from workflows.effects import Systeem
from workflows.thuiszitter import ThuiszitterWorkflow


@dataclass
class Traced:
    provider: TracerProvider
    exporter: InMemorySpanExporter

    def spans(self) -> tuple[ReadableSpan, ...]:
        return self.exporter.get_finished_spans()


@pytest.fixture
def traced() -> Any:
    """This process traces into memory for one test, then no longer."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    assert configure_tracing("thuiszitters-test", provider=provider) is provider
    try:
        yield Traced(provider, exporter)
    finally:
        unconfigure_tracing()
        provider.shutdown()


@dataclass
class Stack:
    http: httpx.AsyncClient
    partners: PartnerSystems
    client: Client
    settings: Settings


@pytest.fixture
async def stack(
    traced: Traced, dev_env: WorkflowEnvironment, postgres_dsn: str, test_settings: Settings
) -> AsyncIterator[Stack]:
    """The server and a worker on one Temporal client that carries the tracing interceptor (as ``connect`` makes it
    in a process that traces); every system's registrations go to the local partner."""
    async with PartnerSystems() as partners, fresh_database(postgres_dsn, max_size=10) as database:
        settings = application_settings(test_settings, database.dsn).model_copy(
            update={
                "api_token_secret": TOKEN_SECRET,
                "task_queue": f"thuiszitters-tracing-{uuid.uuid4().hex[:8]}",
                "endpoints": {systeem: Endpoint(url=partners.url_of(systeem.value)) for systeem in Systeem},
            }
        )
        await load_demo_people(database.register, WACHTWOORD)
        store = ApiClients(database.register.pool, FAST_HASHER)
        for api_client in demo_clients():
            await store.upsert(api_client, secret_of(api_client.client_id))
        config = dev_env.client.config()
        config["interceptors"] = tracing_interceptors()
        client = Client(**config)
        activities = CaseActivities(settings, database.register)
        try:
            async with build_worker(client, settings, activities):
                app = create_server(
                    settings,
                    database.register,
                    client=client,
                    task_queue=settings.task_queue,
                    hasher=FAST_HASHER,
                    tracer_provider=traced.provider,
                )
                async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE_URL) as http:
                    yield Stack(http, partners, client, settings)
        finally:
            await activities.close()


def by_trace(spans: Sequence[ReadableSpan]) -> str:
    """The span names per trace, for a failure's message."""
    traces: dict[str, list[str]] = defaultdict(list)
    for span in spans:
        assert span.context is not None
        traces[f"{span.context.trace_id:032x}"].append(span.name)
    return "\n".join(f"{trace_id}: {', '.join(names)}" for trace_id, names in traces.items())


def trace_id(span: ReadableSpan) -> int:
    assert span.context is not None
    number: int = span.context.trace_id
    return number


async def test_one_trace_runs_from_the_api_request_to_the_partner_system(traced: Traced, stack: Stack) -> None:
    http = stack.http
    secret = secret_of("las-99aa")
    token = await http.post(
        "/api/v1/token", data={"grant_type": "client_credentials", "client_id": "las-99aa", "client_secret": secret}
    )
    assert token.status_code == 200, token.text
    access_token = token.json()["access_token"]
    http.headers["Authorization"] = f"Bearer {access_token}"
    body = pupil(date.today() - timedelta(weeks=5), school_brin="99AA").model_dump(mode="json")
    body.pop("beleid", None)
    started = await http.post("/api/v1/zaken", json=body)
    assert started.status_code == 201, started.text
    case_id = started.json()["case_id"]

    async def calls() -> list[Receipt]:
        return stack.partners.received_for(case_id=case_id)

    async def registered() -> list[ReadableSpan]:
        return [s for s in traced.spans() if s.name == "RunActivity:registreren"]

    call = (await eventually(calls, lambda receipts: len(receipts) > 0))[0]
    await eventually(registered, lambda spans: len(spans) > 0)
    await eventually(lambda: http.get(f"/api/v1/zaken/{body['leerling_ref']}"), lambda r: r.status_code == 200)
    spans = traced.spans()
    named = by_trace(spans)

    (request,) = [s for s in spans if s.name == "POST /api/v1/zaken"]
    assert request.kind is SpanKind.SERVER and request.attributes is not None
    assert request.attributes["http.route"] == "/api/v1/zaken"
    in_trace = [s for s in spans if trace_id(s) == trace_id(request)]
    names = {s.name for s in in_trace}
    assert {
        "StartWorkflow:ThuiszitterWorkflow",
        "RunWorkflow:ThuiszitterWorkflow",
        "StartActivity:registreren",
        "RunActivity:registreren",
    } <= names, f"the request's trace lacks Temporal's spans; spans per trace:\n{named}"
    outbound = [
        s
        for s in in_trace
        if s.kind is SpanKind.CLIENT
        and s.instrumentation_scope is not None
        and s.instrumentation_scope.name == "opentelemetry.instrumentation.httpx"
    ]
    assert outbound, f"the request's trace has no outbound HTTP call; spans per trace:\n{named}"
    assert call.traceparent is not None, "the partner got no traceparent header"
    _version, call_trace, call_parent, _flags = call.traceparent.split("-")
    assert call_trace == f"{trace_id(request):032x}", f"the partner got another trace; spans per trace:\n{named}"
    assert call_parent in {f"{s.context.span_id:016x}" for s in outbound if s.context is not None}
    assert any(s.instrumentation_scope and "asyncpg" in s.instrumentation_scope.name for s in in_trace)

    # nothing personal, no secret and no caller's address in any span, and a path's values not in the server's span
    readings = [s for s in spans if s.kind is SpanKind.SERVER and s.name.startswith("GET /api/v1/zaken/")]
    assert readings and {s.name for s in readings} == {"GET /api/v1/zaken/{leerling_ref}"}
    assert not [s for s in readings if body["leerling_ref"] in str(s.attributes)]
    forbidden = [body["geboortedatum"], access_token, secret, "python-httpx"]
    for span in spans:
        text = f"{span.name} {dict(span.attributes or {})} {[dict(e.attributes or {}) for e in span.events]}"
        assert not [value for value in forbidden if value in text], f"{span.name}: {text}"
        attributes = span.attributes or {}
        assert "db.statement.parameters" not in attributes
        if span.instrumentation_scope is not None and span.instrumentation_scope.name.endswith(".asgi"):
            assert not {"net.peer.ip", "client.address", "http.user_agent", "user_agent.original"} & set(attributes)
            assert "/api/" not in str(attributes.get("http.url", "")), span.name

    # the interceptor changes no command: the history made with it replays without it, on the worker's runner
    history = await stack.client.get_workflow_handle(case_id.split(":")[0]).fetch_history()
    converter, runner = stack.client.data_converter, WorkerTuning().worker_options()["workflow_runner"]
    plain = Replayer(workflows=[ThuiszitterWorkflow], data_converter=converter, workflow_runner=runner)
    result = await plain.replay_workflow(history, raise_on_replay_failure=False)
    assert result.replay_failure is None, result.replay_failure


@pytest.mark.parametrize("path", CURRENT, ids=[p.stem for p in CURRENT])
async def test_the_recorded_histories_replay_with_the_tracing_interceptor(path: Path, traced: Traced) -> None:
    replayer = Replayer(
        workflows=[ThuiszitterWorkflow],
        data_converter=build_data_converter(Settings(encryptie="uit")),
        interceptors=tracing_interceptors(),
        workflow_runner=WorkerTuning().worker_options()["workflow_runner"],
    )
    result = await replayer.replay_workflow(load(path), raise_on_replay_failure=False)
    assert result.replay_failure is None, f"{path.name}: {result.replay_failure}"
    assert not [s for s in traced.spans() if s.name.startswith("RunWorkflow")], "a replay made spans"


EXPORTING_PROCESS = """
import httpx, sys
from thuiszitters.tracing import configure_tracing
assert configure_tracing("thuiszitters-worker") is not None
httpx.post(sys.argv[1] + "/kindkans/hulpvraag_aanmaken", json={})
"""


async def test_a_process_with_an_otlp_endpoint_sends_its_spans_to_the_collector(tmp_path: Path) -> None:
    """The production set-up in a process of its own: the standard variable switches it on, the exporter sends over
    OTLP/HTTP, and what was left in the batch goes out when the process ends."""
    exports: list[ExportTraceServiceRequest] = []

    async def collector(request: web.Request) -> web.Response:
        exports.append(ExportTraceServiceRequest.FromString(await request.read()))
        return web.Response(content_type="application/x-protobuf", body=b"")

    async def partner(request: web.Request) -> web.Response:
        return web.json_response({}, status=201)

    app = web.Application()
    app.router.add_post("/v1/traces", collector)
    app.router.add_post("/kindkans/{actie}", partner)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    base = f"http://127.0.0.1:{runner.addresses[0][1]}"
    try:
        env = {**os.environ, "OTEL_EXPORTER_OTLP_ENDPOINT": base, "OTEL_SDK_DISABLED": "false"}
        env.pop("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", None)
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-c", EXPORTING_PROCESS, base, env=env, cwd=REPO, stderr=asyncio.subprocess.PIPE
        )
        _, errors = await asyncio.wait_for(process.communicate(), timeout=60)
        assert process.returncode == 0, errors.decode()
    finally:
        await runner.cleanup()
    spans = [
        (resource.resource, span)
        for export in exports
        for resource in export.resource_spans
        for scope in resource.scope_spans
        for span in scope.spans
    ]
    assert [span.name for _, span in spans] == ["POST"]
    resource, span = spans[0]
    assert {a.key: a.value.string_value for a in resource.attributes}["service.name"] == "thuiszitters-worker"
    assert {a.key: a.value.string_value for a in span.attributes}["http.url"].endswith("/kindkans/hulpvraag_aanmaken")


def test_tracing_is_off_without_an_otlp_endpoint() -> None:
    assert not exporting({})
    assert exporting({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"})
    assert exporting({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://collector:4318/v1/traces"})
    assert not exporting({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318", "OTEL_SDK_DISABLED": "true"})
    assert configure_tracing("thuiszitters-test", env={}) is None
    assert tracing_interceptors() == []


def test_a_route_is_named_by_its_template_never_by_its_values() -> None:
    route = Route("/zaken/{case_id}/acties/{naam}", endpoint=lambda request: None)
    files = Mount("/static", app=StaticFiles(directory=Path(__file__).parent))
    web = Mount("/", routes=[route])

    def scope(matched: Any, requested: str, **params: str) -> dict[str, Any]:
        return {"route": matched, "path": requested, "path_params": params}

    case = "thuiszitter-L1:r1"
    action = scope(route, f"/zaken/{case}/acties/zaken", case_id=case, naam="zaken")
    assert route_template(action) == "/zaken/{case_id}/acties/{naam}"
    assert route_template(scope(files, "/static/css/app.css", path="css/app.css")) == "/static/{path}"
    assert route_template(scope(web, "/iets/onbekends")) is None
    assert route_template({"path": "/iets"}) is None
