"""The outbound OpenAPI document is generated from the models and kept true: the committed file is current, it is a
valid OpenAPI 3.1 document, and it names every call and every answer the adapter understands."""

from __future__ import annotations

import io
import json
from pathlib import Path

from openapi_spec_validator import validate

from activities.adapters import _TEMPORARY_4XX
from activities.outbound import AANROEPEN
from devtools import outbound_docs
from workflows.effects import Systeem

ROOT = outbound_docs.PROJECT_ROOT


def committed() -> str:
    return (ROOT / outbound_docs.DOCUMENT).read_text(encoding="utf-8")


def test_the_committed_document_is_the_generated_one() -> None:
    assert committed() == outbound_docs.render(), "run `python -m devtools.outbound_docs`"
    out = io.StringIO()
    assert outbound_docs.main(["--check"], out=out) == 0
    assert "actueel" in out.getvalue()


def test_check_names_a_stale_document_and_writing_makes_it_current(tmp_path: Path) -> None:
    target = tmp_path / outbound_docs.DOCUMENT
    target.parent.mkdir(parents=True)
    target.write_text("{}\n", encoding="utf-8")
    out = io.StringIO()
    assert outbound_docs.main(["--check", "--root", str(tmp_path)], out=out) == 1
    assert "verouderd" in out.getvalue()
    assert outbound_docs.main(["--root", str(tmp_path)], out=io.StringIO()) == 0
    assert target.read_text(encoding="utf-8") == committed()


def test_it_is_a_valid_openapi_3_1_document() -> None:
    document = json.loads(committed())
    validate(document)
    assert document["openapi"].startswith("3.1")


def test_it_names_every_call_per_system_and_the_webhook() -> None:
    document = json.loads(committed())
    assert set(document["paths"]) == {f"/{systeem.value}/{actie.value}" for systeem, actie in AANROEPEN}
    assert {systeem for systeem, _ in AANROEPEN} == set(Systeem)
    for path in document["paths"].values():
        operation = path["post"]
        assert [p["$ref"].rsplit("/", 1)[1] for p in operation["parameters"]] == [
            "Idempotency-Key",
            "traceparent",
            "tracestate",
        ]
        assert "application/json" in operation["requestBody"]["content"]
    webhook = document["webhooks"][outbound_docs.WEBHOOK]["post"]
    headers = {p["$ref"].rsplit("/", 1)[1] for p in webhook["parameters"]}
    assert headers == {
        "webhook-id",
        "webhook-timestamp",
        "webhook-signature",
        "Idempotency-Key",
        "traceparent",
        "tracestate",
    }
    parameters = document["components"]["parameters"]
    assert not parameters["traceparent"]["required"] and not parameters["tracestate"]["required"]  # only when tracing
    assert list(webhook["requestBody"]["content"]) == ["application/cloudevents+json"]


def test_it_names_the_answers_the_adapter_understands() -> None:
    document = json.loads(committed())
    for operation in [
        *(path["post"] for path in document["paths"].values()),
        document["webhooks"][outbound_docs.WEBHOOK]["post"],
    ]:
        responses = operation["responses"]
        assert {"2XX", "4XX", "5XX"} <= set(responses)
        for status in _TEMPORARY_4XX:
            assert "Retry-After" in responses[str(status)]["headers"]
        assert "Retry-After" in responses["5XX"]["headers"]
    kenmerk = document["components"]["schemas"]["RegistratieAntwoord"]["properties"]["kenmerk"]
    assert {schema["type"] for schema in kenmerk["anyOf"]} == {"string", "integer", "null"}


def test_the_webhook_data_has_references_only() -> None:
    schemas = json.loads(committed())["components"]["schemas"]
    data = schemas["BerichtVerwijzing"]
    assert data["additionalProperties"] is False
    assert set(data["properties"]) == {
        "sleutel",
        "case_id",
        "leerling_ref",
        "rol",
        "sjabloon",
        "regio",
        "sector",
        "ontvanger",
    }
