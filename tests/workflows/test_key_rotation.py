"""Rotating the encryption key while a case runs: the case goes on, new payloads carry the new key, old ones stay
readable for whoever holds the old key, and someone without it gets a clear error instead of garbage.

The roll-out as operators do it: the deployment with key list ``[A]`` is stopped, the next one starts with
``[A, B]`` (B newest, so B encrypts and both decrypt), all against the same Temporal server and case register.
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import pytest
from google.protobuf import json_format
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import Client, WorkflowHandle, WorkflowHistory
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.case_activities import CaseActivities
from tests.cases import events, eventually, pupil, start
from thuiszitters.register.store import Register
from thuiszitters.settings import Settings
from thuiszitters.temporal.codec import KEY_ID_METADATA, DecryptionError, generate_key
from thuiszitters.temporal.converter import build_data_converter
from workflows.calendar import amsterdam_date
from workflows.contract import Aanmelding, CaseStatus
from workflows.policy import DEFAULT_BELEID
from workflows.thuiszitter import ThuiszitterWorkflow

KEY_A = f"rotatie-a:{generate_key()}"
KEY_B = f"rotatie-b:{generate_key()}"


async def client_with_keys(env: WorkflowEnvironment, settings: Settings) -> Client:
    """A client of its own on the same server, with the converter of ``settings`` (as a deployment builds it)."""
    return await Client.connect(
        env.client.service_client.config.target_host,
        namespace=env.client.namespace,
        data_converter=build_data_converter(settings),
    )


@asynccontextmanager
async def deployment(client: Client, settings: Settings, register: Register, task_queue: str) -> AsyncIterator[None]:
    """A worker as one deployment runs it. No workflow cache: the next deployment must replay from history."""
    async with Worker(
        client,
        task_queue=task_queue,
        workflows=[ThuiszitterWorkflow],
        activities=CaseActivities(settings, register).all(),
        max_cached_workflows=0,
    ):
        yield


async def update(handle: WorkflowHandle[Any, Any], name: str, payload: dict[str, Any]) -> CaseStatus:
    result: CaseStatus = await handle.execute_update(name, payload, result_type=CaseStatus)
    return result


def idle(history: WorkflowHistory) -> bool:
    """The case did everything it had to and waits for its next term (no activity left to run)."""
    kinds = [event.WhichOneof("attributes") or "" for event in history.events]
    kinds = [kind for kind in kinds if not kind.startswith("workflow_task_")]
    return bool(kinds) and kinds[-1] == "timer_started_event_attributes"


def key_ids(event: HistoryEvent) -> set[str]:
    """The encryption key ids of every payload in one history event. Search attributes and the markers of
    ``workflow.patched`` (the patch id, written by Temporal's core) are not payloads of ours."""
    found: set[str] = set()
    if event.marker_recorded_event_attributes.marker_name == "core_patch":
        return found

    def walk(node: Any, key: str = "") -> None:
        if key == "searchAttributes":
            return
        if isinstance(node, dict):
            metadata = node.get("metadata")
            if isinstance(metadata, dict) and "data" in node:
                raw = metadata.get(KEY_ID_METADATA)
                found.add(base64.b64decode(raw).decode() if raw else "(onversleuteld)")
                return
            for name, value in node.items():
                walk(value, name)
        elif isinstance(node, list):
            for item in node:
                walk(item, key)

    walk(json_format.MessageToDict(event))
    return found


async def test_rotating_the_key_while_a_case_runs(
    dev_env: WorkflowEnvironment, register: Register, test_settings: Settings
) -> None:
    settings_a = test_settings.model_copy(update={"codec_keys": KEY_A})
    settings_ab = test_settings.model_copy(update={"codec_keys": f"{KEY_A},{KEY_B}"})
    settings_b = test_settings.model_copy(update={"codec_keys": KEY_B})
    client_a = await client_with_keys(dev_env, settings_a)
    client_ab = await client_with_keys(dev_env, settings_ab)
    client_b = await client_with_keys(dev_env, settings_b)
    task_queue = f"rotatie-{uuid.uuid4().hex[:8]}"
    today = amsterdam_date(await dev_env.get_current_time())
    aanmelding = pupil(today - timedelta(days=10))

    # Deployment 1: only key A.
    async with deployment(client_a, settings_a, register, task_queue):
        before = await start(client_a, aanmelding, task_queue)
        await update(before, "oudergesprek", {"deelnemers": ["school", "ouders", "scp"], "door": "school"})
        await eventually(before.fetch_history, idle)
    handover = len((await before.fetch_history()).events)

    # Deployment 2: keys [A, B], B newest. The case goes on where it was.
    async with deployment(client_ab, settings_ab, register, task_queue):
        handle = client_ab.get_workflow_handle(before.id, result_type=CaseStatus)
        status = await update(handle, "plan_van_aanpak", {"in_opp": True, "instemming_ouders": True, "door": "school"})
        assert status.fase == 3
        await update(handle, "route", {"route": "3.1", "door": "school"})
        await update(handle, "passende_plek", {"uitkomst": "terug_op_school", "door": "school"})
        await update(handle, "afronden", {"toelichting": "terug op school", "door": "scp"})
        result = await handle.result()
        # Queries replay the whole history, old payloads included.
        queried: CaseStatus = await handle.query("status", result_type=CaseStatus)

    assert result.afgesloten and result.fase == 4
    assert events(result) == ["melding", "oudergesprek", "plan_van_aanpak", "route", "passende_plek", "afronden"]
    assert queried.leerling_ref == aanmelding.leerling_ref
    row = await register.case(f"{before.id}:{before.result_run_id}")
    assert row is not None and row.afgesloten and row.uitkomst == "terug_op_school"

    history = await handle.fetch_history()
    old = [key_ids(event) for event in history.events[:handover]]
    new = [key_ids(event) for event in history.events[handover:]]
    assert set().union(*old) == {"rotatie-a"}
    assert set().union(*new) == {"rotatie-b"}
    started = history.events[0].workflow_execution_started_event_attributes
    completed = history.events[-1].workflow_execution_completed_event_attributes
    assert key_ids(history.events[0]) == {"rotatie-a"}
    assert key_ids(history.events[-1]) == {"rotatie-b"}

    # Only key B: what B wrote reads fine, what A wrote gives the clear error, never garbage.
    only_b = client_b.data_converter
    assert (await client_b.get_workflow_handle(handle.id, result_type=CaseStatus).result()).afgesloten
    with pytest.raises(DecryptionError, match=r"onbekende sleutel-id 'rotatie-a'.*bekend: rotatie-b"):
        await only_b.decode(started.input.payloads, [Aanmelding])
    with pytest.raises(DecryptionError, match="onbekende sleutel-id 'rotatie-a'"):
        await (await client_b.get_workflow_handle(handle.id).describe()).static_summary()
    # And the old deployment, had it still run, could not read what the new key wrote.
    with pytest.raises(DecryptionError, match="onbekende sleutel-id 'rotatie-b'"):
        await client_a.data_converter.decode(completed.result.payloads, [CaseStatus])
    # Whoever holds both reads both.
    stored = (await client_ab.data_converter.decode(started.input.payloads, [Aanmelding]))[0]
    assert stored == aanmelding.model_copy(update={"beleid": DEFAULT_BELEID})  # the intake records the policy
