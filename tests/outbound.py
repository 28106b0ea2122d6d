"""The outbound OpenAPI document (``docs/api/uitgaand.openapi.json``) as the tests' partner systems check it.

Every local partner (the registration systems in :mod:`tests.outside` and ``tests/activities/test_adapters.py``, the
webhook receiver) hands each request it receives to :data:`OUTBOUND` before it does anything else, and refuses one
that does not match with 400; the partner keeps the reasons, and its fixture fails the test when any are left. The
check is openapi-core's request validator: path, method, required headers, content type and body schema.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from openapi_core import Config, OpenAPI
from openapi_core.datatypes import RequestParameters
from werkzeug.datastructures import Headers, ImmutableMultiDict

from devtools.outbound_docs import DOCUMENT, PROJECT_ROOT, WEBHOOK

PARTNER_HOST = "https://partner.example.org"
"""The host the document's relative server ('/') is matched against; the partners' real address does not matter."""


def _json(value: bytes, **parameters: str) -> Any:
    return json.loads(value)


@dataclass
class _Request:
    """One received registration call, in the shape openapi-core reads (its Request protocol)."""

    path: str
    method: str
    body: bytes | None
    content_type: str
    headers: Mapping[str, str]
    host_url: str = PARTNER_HOST
    parameters: RequestParameters = field(init=False)

    def __post_init__(self) -> None:
        self.parameters = RequestParameters(
            query=ImmutableMultiDict(), header=Headers(list(self.headers.items())), cookie=ImmutableMultiDict()
        )


@dataclass
class _WebhookRequest:
    """One received webhook request, in the shape openapi-core reads (its WebhookRequest protocol)."""

    method: str
    body: bytes | None
    content_type: str
    headers: Mapping[str, str]
    name: str = WEBHOOK
    parameters: RequestParameters = field(init=False)

    def __post_init__(self) -> None:
        self.parameters = RequestParameters(
            query=ImmutableMultiDict(), header=Headers(list(self.headers.items())), cookie=ImmutableMultiDict()
        )


class OutboundContract:
    """The document, loaded once, and the check of a request against it."""

    def __init__(self) -> None:
        document = json.loads((PROJECT_ROOT / DOCUMENT).read_text(encoding="utf-8"))
        self.document: dict[str, Any] = document
        self.openapi = OpenAPI.from_dict(
            document, config=Config(extra_media_type_deserializers={"application/cloudevents+json": _json})
        )

    def registration_errors(
        self, *, systeem: str, actie: str, headers: Mapping[str, str], body: bytes, method: str = "post"
    ) -> list[str]:
        """Why a request to system ``systeem`` for action ``actie`` does not match the document (empty: it does)."""
        request = _Request(
            path=f"/{systeem}/{actie}",
            method=method.lower(),
            body=body,
            content_type=_content_type(headers),
            headers=headers,
        )
        return [_describe(error) for error in self.openapi.iter_apicall_request_errors(request)]

    def webhook_errors(self, *, headers: Mapping[str, str], body: bytes, method: str = "post") -> list[str]:
        """Why a webhook request does not match the document's webhook (empty: it does)."""
        request = _WebhookRequest(
            method=method.lower(), body=body, content_type=_content_type(headers), headers=headers
        )
        return [_describe(error) for error in self.openapi.iter_webhook_request_errors(request)]


def _content_type(headers: Mapping[str, str]) -> str:
    return next((value for key, value in headers.items() if key.lower() == "content-type"), "").lower()


def _describe(error: Exception) -> str:
    """The error and what lies beneath it (the schema errors name the field and the rule)."""
    parts = [f"{type(error).__name__}: {error}"]
    cause = error.__cause__
    while cause is not None:
        parts.append(f"{type(cause).__name__}: {cause}")
        for schema_error in getattr(cause, "schema_errors", ()):
            path = "/".join(str(part) for part in schema_error.absolute_path)
            parts.append(f"  {path or '(body)'}: {schema_error.message}")
        cause = cause.__cause__
    return "\n".join(parts)


OUTBOUND = OutboundContract()
