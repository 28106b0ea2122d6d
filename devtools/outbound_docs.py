"""The outbound OpenAPI document, generated from the models: ``docs/api/uitgaand.openapi.json``.

    python -m devtools.outbound_docs           write the document
    python -m devtools.outbound_docs --check   exit 1 when the committed document differs

It describes what the system sends, for the partners who receive it: every registration call
``HttpRegistratieAdapter`` makes (per system and action, :data:`activities.outbound.AANROEPEN`), with its headers,
body (:class:`~activities.outbound.RegistratieVerzoek` and the call's ``gegevens`` model) and the answers the adapter
understands; and the webhook (an OpenAPI 3.1 ``webhooks`` entry): the CloudEvent
(:class:`~activities.outbound.BerichtEvent`) with its Standard Webhooks headers. The schemas come from pydantic;
the prose around them is here, in Dutch. The output is deterministic: the same models give the same bytes.
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter

from activities.adapters import SYSTEEM_NAMEN
from activities.outbound import AANROEPEN, BerichtEvent, RegistratieAntwoord, RegistratieVerzoek
from workflows.effects import Actie, Systeem

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DOCUMENT = Path("docs/api/uitgaand.openapi.json")
REF = "#/components/schemas/{model}"
WEBHOOK = "bericht"
"""The name of the webhook in the document's ``webhooks``."""

SYSTEEM_VARIABELEN = {systeem: f"THUISZITTERS_{systeem.value.upper()}_URL" for systeem in Systeem}

INLEIDING = """\
Wat het thuiszitterssysteem van de gemeente Rotterdam (de casusregie voor thuiszitters van PPO Rotterdam, Koers VO \
en de Taskforce Thuiszitters) naar buiten stuurt: de registratie-aanroepen naar Kindkans, SISA, LBA (Leerplicht), \
de Centrale AanmeldRoute en de Taskforce Thuiszitters, en de webhook met een bericht voor een rol. Dit document \
beschrijft wat u als ontvanger implementeert; het wordt gemaakt uit de modellen die het systeem zelf gebruikt, en de \
tests van het systeem controleren elk verzoek dat het verstuurt ertegen.

**Registraties.** Elk systeem ontvangt de aanroepen op de basis-URL die de beheerder voor dat systeem instelt \
(`THUISZITTERS_<SYSTEEM>_URL`): `POST <basis-URL>/<actie>`, met een JSON-body. In dit document staat `/<systeem>` \
voor die basis-URL: `/kindkans/hulpvraag_aanmaken` is `POST <basis-URL van Kindkans>/hulpvraag_aanmaken`. Elke \
aanroep draagt een `Idempotency-Key`: wordt dezelfde sleutel nog eens aangeboden (een nieuwe poging na een storing), \
verwerk hem dan niet opnieuw maar geef hetzelfde antwoord. Met een token (`THUISZITTERS_<SYSTEEM>_TOKEN`) komt \
`Authorization: Bearer <token>` mee. Het systeem stuurt `Accept: application/json`.

**Antwoorden.** Elke 2xx is geslaagd; een JSON-antwoord met `kenmerk` wordt bij de zaak bewaard. 408, 425, 429 en \
5xx zijn tijdelijk: het systeem probeert het later opnieuw, na `Retry-After` seconden als u die meegeeft (hoogstens \
tien minuten). Elke andere 4xx is een definitieve weigering: het systeem probeert het niet opnieuw en een medewerker \
krijgt een taak. Het systeem leest verder niets uit een antwoord en neemt geen foutteksten over. Een antwoord moet \
binnen de wachttijd komen (`THUISZITTERS_<SYSTEEM>_TIMEOUT`, standaard 10 seconden), anders geldt het als tijdelijk \
mislukt.

**Webhook.** Berichten voor rollen die op het kanaal `webhook` staan, gaan als CloudEvent naar één adres \
(`THUISZITTERS_WEBHOOK_URL`), ondertekend volgens Standard Webhooks; zie de webhook `bericht`. Het event bevat alleen \
verwijzingen, geen persoonsgegevens van het kind en geen berichttekst.

**Gegevens.** Een veld zonder waarde wordt weggelaten, niet als null gestuurd (behalve waar dat staat). Nieuwe \
velden komen er alleen bij met een nieuwe versie van dit document."""

WEBHOOK_BESCHRIJVING = """\
Per bericht één `POST` naar `THUISZITTERS_WEBHOOK_URL`, met het bericht als CloudEvent 1.0 in *structured content \
mode* (`Content-Type: application/cloudevents+json; charset=utf-8`), volgens het NL GOV profile for CloudEvents \
waar dat past: `source` een URN in de naamruimte `nld`, `type` in omgekeerde domeinnaamnotatie, `id` de eenmalige \
sleutel van het bericht, `time` het moment waarop de zaak het bericht aanbood, `dataref` de pagina van de zaak in \
de webapplicatie. Afwijkingen van het profiel: `subject` is de (pseudonieme) zaak, en het laatste deel van `type` \
is de code van het sjabloon met underscores, zoals die ook in `data.sjabloon` staat.

**Alleen verwijzingen.** `data` noemt de zaak, het pseudoniem van de leerling, de rol, het sjabloon en de sleutel \
in het register, en het pseudonieme persoon-id van de toegewezen medewerker. Geen berichttekst, geen naam, geen \
BSN, geen geboortedatum, geen e-mailadres, geen vrije tekst van mensen: wie het bericht mag lezen, opent de zaak \
(`dataref`) en logt daarvoor in.

**Ondertekening (Standard Webhooks).** Elk verzoek draagt `webhook-id` (de sleutel, gelijk aan `id`; hetzelfde bij \
een nieuwe poging), `webhook-timestamp` (seconden sinds 1970, UTC, het moment van deze poging) en \
`webhook-signature` (`v1,<base64 van HMAC-SHA256>` over `<webhook-id>.<webhook-timestamp>.<body>`), met het gedeelde \
geheim `whsec_...` dat de beheerder u geeft. Controleer de handtekening met een Standard Webhooks-bibliotheek \
(https://www.standardwebhooks.com), over de body zoals die binnenkwam, en weiger een tijdstempel die meer dan vijf \
minuten afwijkt. Met een token (`THUISZITTERS_WEBHOOK_TOKEN`) komt ook `Authorization: Bearer <token>` mee, en \
`Idempotency-Key` is gelijk aan `webhook-id`.

**Antwoorden** zoals bij de registraties: 2xx is ontvangen; 408, 425, 429 en 5xx worden later opnieuw geprobeerd \
(met `Retry-After`); een andere 4xx is definitief en wordt een taak voor een medewerker."""


# ---------------------------------------------------------------------------------------------------- schemas


def _tidy(schema: Any) -> Any:
    """The schema without pydantic's titles of properties and defaults (a default is never sent: a field without a
    value is left out), and enums without the code's English docstrings."""
    if isinstance(schema, list):
        return [_tidy(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    tidy = {key: _tidy(value) for key, value in schema.items() if key not in ("default", "properties")}
    if "properties" in schema:
        tidy["properties"] = {
            name: {key: value for key, value in _tidy(prop).items() if key != "title"}
            for name, prop in schema["properties"].items()
        }
    if "enum" in tidy:
        tidy.pop("description", None)
    if isinstance(tidy.get("description"), str):
        tidy["description"] = " ".join(tidy["description"].split())  # a docstring's line breaks are not the text's
    return tidy


class _Schemas:
    """The document's ``components.schemas``, filled from pydantic models."""

    def __init__(self) -> None:
        self.components: dict[str, Any] = {}

    def add(self, annotation: Any, name: str) -> dict[str, Any]:
        """Put the JSON Schema of ``annotation`` under ``name`` (its models under their own names); a reference."""
        schema = TypeAdapter(annotation).json_schema(ref_template=REF)
        for model, definition in schema.pop("$defs", {}).items():
            self.components[model] = _tidy(definition)
        self.components[name] = _tidy(schema)
        return {"$ref": REF.format(model=name)}


def _operation_id(systeem: Systeem, actie: Actie) -> str:
    return f"{systeem.value}_{actie.value}"


def _registration_body(schemas: _Schemas, systeem: Systeem, actie: Actie) -> dict[str, Any]:
    """The body of one call: the common body with ``actie`` fixed and ``gegevens`` that call's model."""
    aanroep = AANROEPEN[(systeem, actie)]
    common = schemas.components["RegistratieVerzoek"]
    gegevens = schemas.add(aanroep.gegevens, f"Gegevens_{_operation_id(systeem, actie)}")
    body = copy.deepcopy(common)
    body["title"] = f"Verzoek_{_operation_id(systeem, actie)}"
    body["description"] = f"{SYSTEEM_NAMEN[systeem]}, `{actie.value}`. {aanroep.betekenis}"
    body["properties"]["actie"] = {"const": actie.value, "description": common["properties"]["actie"]["description"]}
    body["properties"]["gegevens"] = {**gegevens, "description": common["properties"]["gegevens"]["description"]}
    name = f"Verzoek_{_operation_id(systeem, actie)}"
    schemas.components[name] = body
    return {"$ref": REF.format(model=name)}


# ------------------------------------------------------------------------------------------------ the document


def _responses(what: str) -> dict[str, Any]:
    """The answers the adapter and the webhook channel understand (``_sort_http_status``, ``_kenmerk``)."""
    retry = {"Retry-After": {"$ref": "#/components/headers/Retry-After"}}
    succeeded: dict[str, Any] = {
        "description": f"{what} is geslaagd. Een JSON-antwoord mag een `kenmerk` geven; een antwoord zonder body "
        "is ook goed.",
    }
    if what == "De registratie":
        succeeded["content"] = {"application/json": {"schema": {"$ref": REF.format(model="RegistratieAntwoord")}}}
    return {
        "2XX": succeeded,
        "408": {"description": "Tijdelijk: het verzoek duurde te lang. Later opnieuw.", "headers": retry},
        "425": {"description": "Tijdelijk: te vroeg. Later opnieuw.", "headers": retry},
        "429": {
            "description": "Tijdelijk: te veel verzoeken. Later opnieuw, na `Retry-After` seconden als die er is.",
            "headers": retry,
        },
        "4XX": {
            "description": f"Definitief geweigerd: {what.lower()} wordt niet opnieuw geprobeerd; een medewerker "
            "krijgt een taak. De body wordt niet gelezen."
        },
        "5XX": {
            "description": "Tijdelijk: later opnieuw, na `Retry-After` seconden als die er is. De body wordt niet "
            "gelezen.",
            "headers": retry,
        },
    }


def _header(name: str) -> dict[str, Any]:
    return {"$ref": f"#/components/parameters/{name}"}


def document() -> dict[str, Any]:
    """The outbound OpenAPI 3.1 document."""
    schemas = _Schemas()
    schemas.add(RegistratieVerzoek, "RegistratieVerzoek")
    schemas.add(RegistratieAntwoord, "RegistratieAntwoord")
    event = schemas.add(BerichtEvent, "BerichtEvent")
    paths: dict[str, Any] = {}
    for systeem, actie in AANROEPEN:
        aanroep = AANROEPEN[(systeem, actie)]
        paths[f"/{systeem.value}/{actie.value}"] = {
            "post": {
                "tags": [SYSTEEM_NAMEN[systeem]],
                "operationId": _operation_id(systeem, actie),
                "summary": f"{SYSTEEM_NAMEN[systeem]}: {actie.value.replace('_', ' ')}",
                "description": f"{aanroep.betekenis} `POST <{SYSTEEM_VARIABELEN[systeem]}>/{actie.value}`.",
                "parameters": [_header("Idempotency-Key"), _header("traceparent"), _header("tracestate")],
                "security": [{"bearer": []}, {}],
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": _registration_body(schemas, systeem, actie)}},
                },
                "responses": _responses("De registratie"),
            }
        }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Thuiszitters Rotterdam: uitgaande aanroepen en webhook",
            "version": "1.0.0",
            "description": INLEIDING,
            "license": {"name": "EUPL-1.2", "identifier": "EUPL-1.2"},
        },
        "jsonSchemaDialect": "https://spec.openapis.org/oas/3.1/dialect/base",
        "servers": [
            {
                "url": "/",
                "description": "De basis-URL van elk systeem stelt de beheerder in; zie de inleiding.",
            }
        ],
        "tags": [
            {"name": SYSTEEM_NAMEN[systeem], "description": f"Basis-URL: `{SYSTEEM_VARIABELEN[systeem]}`."}
            for systeem in Systeem
        ],
        "paths": paths,
        "webhooks": {
            WEBHOOK: {
                "post": {
                    "operationId": WEBHOOK,
                    "summary": "Een bericht voor een rol, als ondertekend CloudEvent",
                    "description": WEBHOOK_BESCHRIJVING,
                    "parameters": [
                        _header("webhook-id"),
                        _header("webhook-timestamp"),
                        _header("webhook-signature"),
                        _header("Idempotency-Key"),
                        _header("traceparent"),
                        _header("tracestate"),
                    ],
                    "security": [{"bearer": []}, {}],
                    "requestBody": {"required": True, "content": {"application/cloudevents+json": {"schema": event}}},
                    "responses": _responses("Het bericht"),
                }
            }
        },
        "components": {
            "schemas": dict(sorted(schemas.components.items())),
            "parameters": {
                "Idempotency-Key": {
                    "name": "Idempotency-Key",
                    "in": "header",
                    "required": True,
                    "description": "De eenmalige sleutel van deze aanroep of dit bericht: hetzelfde bij elke "
                    "nieuwe poging. Verwerk een sleutel één keer en geef bij herhaling hetzelfde antwoord.",
                    "schema": {"type": "string", "minLength": 1},
                },
                "webhook-id": {
                    "name": "webhook-id",
                    "in": "header",
                    "required": True,
                    "description": "Standard Webhooks: de sleutel van het bericht (gelijk aan `id` van het event); "
                    "hetzelfde bij een nieuwe poging.",
                    "schema": {"type": "string", "minLength": 1},
                },
                "webhook-timestamp": {
                    "name": "webhook-timestamp",
                    "in": "header",
                    "required": True,
                    "description": "Standard Webhooks: het moment van deze poging, in hele seconden sinds "
                    "1970-01-01 UTC.",
                    "schema": {"type": "string", "pattern": "^[0-9]+$"},
                },
                "webhook-signature": {
                    "name": "webhook-signature",
                    "in": "header",
                    "required": True,
                    "description": "Standard Webhooks: `v1,` en de base64 van HMAC-SHA256 met het gedeelde geheim "
                    "over `<webhook-id>.<webhook-timestamp>.<body>`; meer handtekeningen (bij het wisselen van het "
                    "geheim) staan gescheiden door een spatie.",
                    "schema": {"type": "string", "pattern": "^v1,[A-Za-z0-9+/]+={0,2}( v1,[A-Za-z0-9+/]+={0,2})*$"},
                },
                "traceparent": {
                    "name": "traceparent",
                    "in": "header",
                    "required": False,
                    "description": "W3C Trace Context: de trace waarvan deze aanroep deel is, alleen wanneer het "
                    "systeem traceert (`OTEL_EXPORTER_OTLP_ENDPOINT`). Een systeem dat zelf traceert, zet de trace "
                    "voort; de waarde zegt niets over de zaak.",
                    "schema": {"type": "string", "pattern": "^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$"},
                },
                "tracestate": {
                    "name": "tracestate",
                    "in": "header",
                    "required": False,
                    "description": "W3C Trace Context: gegevens van tracers bij `traceparent`, als die er zijn.",
                    "schema": {"type": "string"},
                },
            },
            "headers": {
                "Retry-After": {
                    "description": "Na hoeveel seconden het systeem het opnieuw mag proberen (hoogstens tien minuten "
                    "worden aangehouden).",
                    "schema": {"type": "integer", "minimum": 0},
                }
            },
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "Het token dat de beheerder per systeem (`THUISZITTERS_<SYSTEEM>_TOKEN`) of voor "
                    "de webhook (`THUISZITTERS_WEBHOOK_TOKEN`) instelt; zonder token gaat de aanroep zonder "
                    "`Authorization`.",
                }
            },
        },
    }


def render() -> str:
    return json.dumps(document(), ensure_ascii=False, indent=2) + "\n"


def main(argv: Sequence[str] | None = None, out: Any = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m devtools.outbound_docs",
        description="Schrijf docs/api/uitgaand.openapi.json uit de modellen.",
    )
    parser.add_argument("--check", action="store_true", help="alleen controleren; exit 1 als het verouderd is")
    parser.add_argument("--root", type=Path, default=PROJECT_ROOT, help="map van het project (standaard: deze)")
    args = parser.parse_args(argv)
    out = out or sys.stdout
    target = args.root / DOCUMENT
    text = render()
    current = target.read_text(encoding="utf-8") if target.exists() else None
    if args.check:
        if current != text:
            print(f"{DOCUMENT.as_posix()} is verouderd; draai `python -m devtools.outbound_docs`.", file=out)
            return 1
        print(f"{DOCUMENT.as_posix()} is actueel.", file=out)
        return 0
    if current == text:
        print(f"{DOCUMENT.as_posix()} was al actueel.", file=out)
        return 0
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")
    print(f"bijgewerkt: {DOCUMENT.as_posix()}", file=out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
