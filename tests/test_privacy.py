"""Children's data stays private: what the Temporal server keeps, shows and logs holds no personal data in the clear.

One case runs from start to closure on the real dev server with a real worker, carrying personal values that occur
nowhere else: a unique date of birth, BRIN codes, and free texts (reasons, a progress note, a home-visit report, a
Taskforce decision, who acted) each with a marker word of its own. Then:

- the raw history, as the ``temporal`` CLI shows it to anyone who can read the server, holds none of them: every
  payload is AES-GCM ciphertext, and a refused update's failure crosses the server encrypted too;
- the same CLI, given the codec server (bearer token, or the Web UI's path form), shows them all in the clear, which
  proves that the values were really there to find;
- what the Web UI shows without a codec server (search attributes) and what it shows with one (static summary,
  current details, timer and activity summaries) names none of them, nor does the worker's log.
"""

from __future__ import annotations

import asyncio
import base64
import io
import json
import random
import re
import string
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pytest
from aiohttp import web
from google.protobuf import json_format
from temporalio.api.sdk.v1 import WorkflowMetadata
from temporalio.client import (
    Client,
    WorkflowExecutionDescription,
    WorkflowHandle,
    WorkflowHistory,
    WorkflowUpdateFailedError,
)
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment

from devtools.binaries import temporal_cli
from tests.cases import eventually, pupil, start
from tests.fixtures.logs import restored_logging
from tests.fixtures.postgres import fresh_database
from tests.fixtures.temporal import case_worker
from thuiszitters.logs import configure_logging
from thuiszitters.settings import Settings
from thuiszitters.temporal.codec import ENCODING, EncryptionCodec
from thuiszitters.temporal.codec_server import RedactingAccessLogger, build_app
from workflows.calendar import amsterdam_date
from workflows.contract import CaseStatus
from workflows.thuiszitter import (
    PATCH_BELEID_VASTLEGGEN,
    PATCH_CONTRACT_V2,
    PATCH_EFFECTEN_GEBUNDELD,
    PATCH_EFFECTEN_IN_PORTIES,
    PATCH_EFFECTEN_TEGELIJK,
    PATCH_TOEWIJZEN_BIJ_START,
)

PATCHES = {
    PATCH_BELEID_VASTLEGGEN,
    PATCH_EFFECTEN_TEGELIJK,
    PATCH_EFFECTEN_IN_PORTIES,
    PATCH_EFFECTEN_GEBUNDELD,
    PATCH_CONTRACT_V2,
    PATCH_TOEWIJZEN_BIJ_START,
}
CODEC_TOKEN = "privacy-test-token-" + uuid.uuid4().hex
UI_ORIGIN = "http://localhost:8233"
DUTCH_MONTHS = "januari februari maart april mei juni juli augustus september oktober november december"
ENGLISH_MONTHS = "January February March April May June July August September October November December"


def marker(kind: str) -> str:
    """A word that occurs nowhere but where this test puts it."""
    return f"{kind}{uuid.uuid4().hex[:12]}"


def brin() -> str:
    return "".join(random.choices(string.digits, k=2)) + "".join(random.choices("QXZJ", k=4))


def birth_date_forms(day: date) -> list[str]:
    """The ways a date of birth could be written down: ISO, Dutch, American, compact, spelled out."""
    forms = {
        day.isoformat(),
        f"{day:%d-%m-%Y}",
        f"{day:%d/%m/%Y}",
        f"{day:%d.%m.%Y}",
        f"{day:%m/%d/%Y}",
        f"{day:%Y/%m/%d}",
        f"{day:%Y%m%d}",
        f"{day:%d%m%Y}",
        f"{day.day}-{day.month}-{day.year}",
        f"{day.day} {DUTCH_MONTHS.split()[day.month - 1]} {day.year}",
        f"{ENGLISH_MONTHS.split()[day.month - 1]} {day.day}, {day.year}",
    }
    return sorted(forms)


@dataclass
class Secrets:
    """The personal values of the case, and where each belongs."""

    geboortedatum: date
    school_brin: str
    andere_school_brin: str
    free_texts: dict[str, str]
    refused_field: str

    @property
    def birth_forms(self) -> list[str]:
        return birth_date_forms(self.geboortedatum)

    def in_text(self, text: str) -> list[str]:
        """Every personal value (dates of birth in any form, BRIN codes, markers) found in ``text``."""
        candidates = [
            *self.birth_forms,
            self.school_brin,
            self.andere_school_brin,
            *self.free_texts.values(),
            self.refused_field,
        ]
        return [value for value in candidates if value in text]

    def personal_in_text(self, text: str) -> list[str]:
        """Like :meth:`in_text` without the BRIN codes: a school's code is not personal data and may be shown."""
        return [value for value in self.in_text(text) if value not in (self.school_brin, self.andere_school_brin)]


@dataclass
class PrivacyRun:
    secrets: Secrets
    workflow_id: str
    result: CaseStatus
    raw_history: str
    clear_history: str
    clear_history_via_ui_endpoint: str
    raw_text: str
    clear_text: str
    description: WorkflowExecutionDescription
    static_summary: str | None
    static_details: str | None
    current_details: list[str]
    refusal_for_key_holder: str
    refusal_without_key: str
    log: str


# ------------------------------------------------------------------------------------------------------ helpers


async def temporal_show(env: WorkflowEnvironment, workflow_id: str, *codec_flags: str) -> str:
    """``temporal workflow show --output json``, as an operator runs it (without a codec unless flags are given)."""
    client = env.client
    process = await asyncio.create_subprocess_exec(
        str(temporal_cli()),
        "workflow",
        "show",
        "--workflow-id",
        workflow_id,
        "--address",
        client.service_client.config.target_host,
        "--namespace",
        client.namespace,
        "--output",
        "json",
        *codec_flags,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode == 0, stderr.decode()
    return stdout.decode()


@contextmanager
def captured_logs(settings: Settings) -> Iterator[io.StringIO]:
    """The process's log output (JSON lines, as in production) while the block runs."""
    with restored_logging():
        stream = io.StringIO()
        configure_logging(settings.model_copy(update={"log_format": "json", "log_level": "info"}), stream=stream)
        yield stream


async def update(handle: WorkflowHandle[Any, Any], name: str, payload: dict[str, Any]) -> CaseStatus:
    result: CaseStatus = await handle.execute_update(name, payload, result_type=CaseStatus)
    return result


async def current_details(handle: WorkflowHandle[Any, Any]) -> str:
    metadata: WorkflowMetadata = await handle.query("__temporal_workflow_metadata", result_type=WorkflowMetadata)
    return metadata.current_details


def readable(history_json: str) -> str:
    """The CLI's JSON history with the content of every payload written out after it.

    The CLI prints payload data base64-encoded, so a value stored in plain text would not show in a plain search of
    its output; here it does, whether it was stored in plain text or came back from the codec server.
    """
    contents: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("data"), str) and isinstance(node.get("metadata"), dict):
                contents.append(base64.b64decode(node["data"]).decode("utf-8", errors="replace"))
                for value in node["metadata"].values():
                    contents.append(base64.b64decode(value).decode("utf-8", errors="replace"))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(json.loads(history_json))
    return "\n".join([history_json, *contents])


def payload_encodings(history: dict[str, Any]) -> list[tuple[str, str]]:
    """``(where, encoding)`` of every payload in a CLI JSON history, search attributes left out."""
    found: list[tuple[str, str]] = []

    def walk(node: Any, where: str) -> None:
        if isinstance(node, dict):
            metadata = node.get("metadata")
            if isinstance(metadata, dict) and "encoding" in metadata and "data" in node:
                found.append((where, base64.b64decode(metadata["encoding"]).decode()))
                return
            for key, value in node.items():
                if key != "searchAttributes":
                    walk(value, f"{where}.{key}")
        elif isinstance(node, list):
            for item in node:
                walk(item, where)

    for event in history["events"]:
        walk(event, event["eventType"])
    return found


def has_timer(history: WorkflowHistory) -> bool:
    return any(event.HasField("timer_started_event_attributes") for event in history.events)


def user_metadata(history: dict[str, Any], event_type: str) -> list[Any]:
    return [event["userMetadata"] for event in history["events"] if event["eventType"] == event_type]


# ------------------------------------------------------------------------------------------------- the one case


@pytest.fixture(scope="module")
async def run(dev_env: WorkflowEnvironment, test_settings: Settings, postgres_dsn: str) -> AsyncIterator[PrivacyRun]:
    today = amsterdam_date(await dev_env.get_current_time())
    born = date(today.year - 12, random.randint(1, 12), random.randint(13, 28))
    secrets = Secrets(
        geboortedatum=born,
        school_brin=brin(),
        andere_school_brin=brin(),
        free_texts={
            # version 2: ``door`` is a role; the person who acted is a pseudonymous id, still not for the server
            "persoon": marker("mentor"),
            "correctie_reden": marker("correctiereden"),
            "toelichting": marker("voortgangtekst"),
            "wensen_ouders": marker("wensenouders"),
            "afspraken": marker("afspraken"),
            "opschalen_reden": marker("opschaalreden"),
            "samenvatting": marker("huisbezoekverslag"),
            "besluit": marker("kerngroepbesluit"),
            "actie": marker("taskforceactie"),
            "document": marker("dossierverwijzing"),
            "taak_toelichting": marker("taakafgerond"),
            "afronding": marker("afronding"),
        },
        refused_field=marker("veldnaam"),
    )
    texts = secrets.free_texts
    aanmelding = pupil(today - timedelta(days=20), geboortedatum=born, school_brin=secrets.school_brin)

    codec = EncryptionCodec.from_settings(test_settings)
    runner = web.AppRunner(
        build_app(codec, CODEC_TOKEN, UI_ORIGIN), access_log_class=RedactingAccessLogger, handler_cancellation=True
    )
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    codec_url = f"http://{host}:{port}"

    own_database = fresh_database(postgres_dsn)
    register = (await own_database.__aenter__()).register
    plain_client = await Client.connect(
        dev_env.client.service_client.config.target_host, namespace=dev_env.client.namespace
    )
    try:
        with captured_logs(test_settings) as log:
            async with case_worker(dev_env, register, test_settings) as worker:
                handle = await start(worker.client, aanmelding, worker.task_queue)
                # Let the case settle and wait for its next term, so that the history holds a timer summary too.
                await eventually(handle.fetch_history, has_timer)
                school = {"door": "school", "persoon": texts["persoon"]}
                await update(
                    handle,
                    "oudergesprek",
                    {
                        "deelnemers": ["school", "ouders", "scp"],
                        "wensen_ouders": f"Kleinere klas: {texts['wensen_ouders']}",
                        "afspraken": f"School zoekt verder: {texts['afspraken']}",
                        **school,
                    },
                )
                await update(handle, "voortgang", {"toelichting": f"Gesprek gevoerd: {texts['toelichting']}", **school})
                await update(
                    handle,
                    "startdatum_correctie",
                    {
                        "startdatum": (today - timedelta(days=25)).isoformat(),
                        "reden": texts["correctie_reden"],
                        "door": "leerplicht",
                    },
                )
                await update(handle, "plan_van_aanpak", {"in_opp": True, "instemming_ouders": True, **school})
                await update(
                    handle,
                    "opschalen",
                    {
                        "niveau": "taskforce",
                        "reden_code": "proces_loopt_vast",
                        "reden": f"Geen voortgang: {texts['opschalen_reden']}",
                        "afgestemd_met_leerplicht": True,
                        "afgestemd_met_school": True,
                        "door": "coordinator",
                    },
                )
                await update(handle, "huisbezoek", {"samenvatting": texts["samenvatting"], "door": "taskforce"})
                actie = {"rol": "school", "omschrijving": f"Contact: {texts['actie']}", "uiterlijk": today.isoformat()}
                decided = await update(
                    handle, "taskforce_besluit", {"besluit": texts["besluit"], "acties": [actie], "door": "taskforce"}
                )
                details = [await eventually(lambda: current_details(handle), lambda text: "taskforce" in text)]
                await update(
                    handle,
                    "document_toegevoegd",
                    {"soort": "besluit", "verwijzing": f"dms://{texts['document']}", **school},
                )
                await update(handle, "route", {"route": "3.2", **school})
                await update(
                    handle, "aanmelding_andere_school", {"school_brin": secrets.andere_school_brin, "door": "ouders"}
                )
                (taak,) = [t for t in decided.open_taken if t.taak == "taskforce_actie"]
                await update(
                    handle,
                    "taak_afgerond",
                    {"taak_id": taak.id, "toelichting": f"Gebeld: {texts['taak_toelichting']}", **school},
                )

                # A refused update whose message names what was sent (an unknown field), asked by someone with
                # the key and by someone without it: the message crosses the server only encrypted.
                bad = {"toelichting": "onbekend veld erbij", "door": "school", secrets.refused_field: "x"}
                with pytest.raises(WorkflowUpdateFailedError) as with_key:
                    await handle.execute_update("voortgang", bad)
                with pytest.raises(WorkflowUpdateFailedError) as without_key:
                    await plain_client.get_workflow_handle(handle.id).execute_update("voortgang", bad)
                # The same as a signal: refused too, and the refusal lands in status.afgewezen (and the result).
                await handle.signal("voortgang", bad)

                await update(
                    handle,
                    "passende_plek",
                    {"uitkomst": "ingeschreven_andere_school", "school_brin": secrets.andere_school_brin, **school},
                )
                await update(handle, "uitschrijving", {"uitgeschreven_op": today.isoformat(), **school})
                await update(handle, "afronden", {"toelichting": f"Gecontroleerd: {texts['afronding']}", "door": "scp"})
                result: CaseStatus = await handle.result()
                details.append(await current_details(handle))
                description = await handle.describe()
                static_summary = await description.static_summary()
                static_details = await description.static_details()
        raw = await temporal_show(dev_env, handle.id)
        clear = await temporal_show(
            dev_env, handle.id, "--codec-endpoint", codec_url, "--codec-auth", f"Bearer {CODEC_TOKEN}"
        )
        via_ui_endpoint = await temporal_show(dev_env, handle.id, "--codec-endpoint", f"{codec_url}/t/{CODEC_TOKEN}")
        assert isinstance(with_key.value.cause, ApplicationError)
        assert isinstance(without_key.value.cause, ApplicationError)
        yield PrivacyRun(
            secrets=secrets,
            workflow_id=handle.id,
            result=result,
            raw_history=raw,
            clear_history=clear,
            clear_history_via_ui_endpoint=via_ui_endpoint,
            raw_text=readable(raw),
            clear_text=readable(clear),
            description=description,
            static_summary=static_summary,
            static_details=static_details,
            current_details=details,
            refusal_for_key_holder=with_key.value.cause.message,
            refusal_without_key=without_key.value.cause.message,
            log=log.getvalue(),
        )
    finally:
        await own_database.__aexit__(None, None, None)
        await runner.cleanup()


# -------------------------------------------------------------------------------------- what the server holds


def test_the_clear_read_through_the_codec_server_shows_every_value(run: PrivacyRun) -> None:
    """The other tests look for these values; here they are, so those tests look where the data really is."""
    found = run.secrets.in_text(run.clear_text)

    assert run.secrets.geboortedatum.isoformat() in found
    assert run.secrets.school_brin in found
    assert run.secrets.andere_school_brin in found
    for name, text in run.secrets.free_texts.items():
        assert text in found, name
    assert run.secrets.refused_field in found  # the refused signal's reason, in status.afgewezen of the result


def test_the_web_ui_endpoint_with_the_token_in_the_path_decodes_as_well(run: PrivacyRun) -> None:
    assert run.clear_history_via_ui_endpoint == run.clear_history


def test_the_raw_history_holds_no_personal_value(run: PrivacyRun) -> None:
    assert run.workflow_id in run.raw_text  # it is the history of this case
    assert run.secrets.in_text(run.raw_text) == []


def test_every_payload_in_the_raw_history_is_ciphertext(run: PrivacyRun) -> None:
    raw = payload_encodings(json.loads(run.raw_history))
    clear = payload_encodings(json.loads(run.clear_history))
    where = {place for place, _ in raw}

    # Start input, signals and updates, activity inputs and results, summaries, the result: all encrypted.
    assert {"EVENT_TYPE_WORKFLOW_EXECUTION_STARTED", "EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED"} <= {
        place.split(".")[0] for place in where
    }
    assert any("userMetadata" in place for place in where)
    assert len(raw) > 20
    # Except the markers of workflow.patched: Temporal's core writes those itself, and they hold a patch id only.
    patch_place = "EVENT_TYPE_MARKER_RECORDED.markerRecordedEventAttributes.details.patch-data.payloads"
    assert {encoding for place, encoding in raw if place != patch_place} == {ENCODING.decode()}
    patches = [
        json.loads(base64.b64decode(payload["data"]))
        for event in json.loads(run.raw_history)["events"]
        if event.get("markerRecordedEventAttributes", {}).get("markerName") == "core_patch"
        for payload in event["markerRecordedEventAttributes"]["details"]["patch-data"]["payloads"]
    ]
    assert patches and all(set(patch) == {"id", "deprecated"} and patch["id"] in PATCHES for patch in patches)
    assert ENCODING.decode() not in {encoding for _, encoding in clear}


def test_a_refused_update_crosses_the_server_encrypted(run: PrivacyRun) -> None:
    assert run.secrets.refused_field in run.refusal_for_key_holder  # the message names what was sent
    assert run.refusal_without_key == "Encoded failure"
    assert [a.reden for a in run.result.afgewezen if run.secrets.refused_field in a.reden]


# ------------------------------------------------------------------------------------- what the Web UI shows


def test_search_attributes_hold_no_personal_value(run: PrivacyRun) -> None:
    attributes = {pair.key.name: pair.value for pair in run.description.typed_search_attributes}

    assert attributes["Fase"] == 4
    assert attributes["Afgesloten"] is True
    assert run.secrets.in_text(json.dumps(attributes, default=str)) == []


def test_the_description_the_server_gives_holds_no_personal_value(run: PrivacyRun) -> None:
    raw = readable(json_format.MessageToJson(run.description.raw_description))

    assert run.workflow_id in raw
    assert run.secrets.in_text(raw) == []


def test_static_summary_and_details_hold_no_personal_value(run: PrivacyRun) -> None:
    summary = run.static_summary
    details = run.static_details or ""

    assert summary is not None and summary.startswith("Thuiszitter PO")
    assert run.secrets.personal_in_text(summary + details) == []


def test_current_details_hold_no_personal_value(run: PrivacyRun) -> None:
    during, after = run.current_details

    assert "Fase 1" in during or "Fase 3" in during
    assert "Afgesloten" in after
    assert run.secrets.personal_in_text(during + after) == []


def test_timer_and_activity_summaries_hold_no_personal_value(run: PrivacyRun) -> None:
    history = json.loads(run.clear_history)
    timers = user_metadata(history, "EVENT_TYPE_TIMER_STARTED")
    activities = user_metadata(history, "EVENT_TYPE_ACTIVITY_TASK_SCHEDULED")
    text = readable(json.dumps({"events": [timers, activities]}))

    assert timers and activities
    # The summaries are readable here, with the codec: one register line, or several in one activity.
    assert re.search(r'"register: (huisbezoek|\d+ regels \([^"]*huisbezoek)', text), text
    assert re.search(r"week \d+ thuis|termijn: ", text)
    assert run.secrets.personal_in_text(text) == []


def test_the_worker_log_holds_no_personal_value(run: PrivacyRun) -> None:
    lines = [json.loads(line) for line in run.log.splitlines() if line.strip()]

    assert any(line.get("workflow_id") == run.workflow_id and line["event"] == "vastgelegd" for line in lines)
    assert any(line["event"] == "bericht_gelogd" for line in lines)
    assert run.secrets.personal_in_text(run.log) == []
