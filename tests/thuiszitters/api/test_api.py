"""The API for other services on its real parts (Temporal dev server, worker, register): tokens, starting a case,
events with their refusals, idempotency, the body limit, rate limits, the lists, and its OpenAPI document."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import date, timedelta
from typing import Any

import pytest
from temporalio.testing import WorkflowEnvironment

from tests.cases import eventually, pupil
from tests.thuiszitters.api.helpers import ApiStack, api_stack, secret_of
from tests.thuiszitters.web.helpers import audit_rows
from thuiszitters.api.clients import ApiClients
from thuiszitters.settings import Settings
from workflows.contract import EVENTS

pytestmark = pytest.mark.asyncio(loop_scope="session")

OUDERGESPREK = {"deelnemers": ["school", "ouders", "scp"], "afspraken": "Twee ochtenden per week naar school."}


@pytest.fixture
async def stack(dev_env: WorkflowEnvironment, postgres_dsn: str, test_settings: Settings) -> AsyncIterator[ApiStack]:
    async with api_stack(dev_env, postgres_dsn, test_settings) as running:
        yield running


def aanmelding(school: str = "99AA", **fields: Any) -> dict[str, Any]:
    body = pupil(date.today() - timedelta(weeks=5), school_brin=school, **fields).model_dump(mode="json")
    body.pop("beleid", None)
    return body


async def started(stack: ApiStack, client_id: str = "las-99aa", school: str = "99AA", **fields: Any) -> str:
    """A case started through the API, once the register has it; its leerling_ref."""
    async with stack.as_client(client_id) as http:
        body = aanmelding(school, **fields)
        response = await http.post("/api/v1/zaken", json=body)
        assert response.status_code == 201, response.text
    ref: str = body["leerling_ref"]
    await eventually(
        lambda: stack.register.pool.fetchval("SELECT count(*) FROM cases WHERE leerling_ref = $1", ref),
        lambda n: n == 1,
    )
    return ref


async def events_of(stack: ApiStack, ref: str, gebeurtenis: str) -> int:
    count: int = await stack.register.pool.fetchval(
        """SELECT count(*) FROM case_events e JOIN cases c USING (case_id)
           WHERE c.leerling_ref = $1 AND e.gebeurtenis = $2""",
        ref,
        gebeurtenis,
    )
    return count


# ------------------------------------------------------------------------------------------------------ tokens


async def test_the_token_endpoint_gives_a_token_for_the_right_secret_only(stack: ApiStack) -> None:
    async with stack.http() as http:
        good = await http.post(
            "/api/v1/token",
            data={"grant_type": "client_credentials", "client_id": "las-99aa", "client_secret": secret_of("las-99aa")},
        )
        basic = await http.post(
            "/api/v1/token", data={"grant_type": "client_credentials"}, auth=("koers-vo", secret_of("koers-vo"))
        )
        wrong = await http.post(
            "/api/v1/token",
            data={"grant_type": "client_credentials", "client_id": "las-99aa", "client_secret": secret_of("koers-vo")},
        )
        grant = await http.post("/api/v1/token", data={"grant_type": "password", "client_id": "las-99aa"})
        anonymous = await http.get("/api/v1/taken")
        forged = await http.get("/api/v1/taken", headers={"Authorization": "Bearer eyJhbGciOiJIUzI1NiJ9.e30.x"})
    assert good.status_code == 200 and good.json()["token_type"] == "Bearer"
    assert good.json()["expires_in"] == stack.settings.api_token_ttl
    assert good.headers["cache-control"] == "no-store"
    assert basic.status_code == 200
    assert (wrong.status_code, wrong.json()["error"]) == (401, "invalid_client")
    assert (grant.status_code, grant.json()["error"]) == (400, "unsupported_grant_type")
    assert anonymous.status_code == 401 and anonymous.headers["content-type"] == "application/problem+json"
    assert anonymous.headers["www-authenticate"].startswith("Bearer")
    assert forged.status_code == 401
    refused = [r for r in await audit_rows(stack.register) if r.actie == "token" and r.resultaat == "geweigerd"]
    assert [r.persoon_id for r in refused] == ["api:las-99aa"]


# ------------------------------------------------------------------------------------------------ start, events


async def test_a_school_system_starts_a_case_of_its_school_only_and_once(stack: ApiStack) -> None:
    async with stack.as_client("las-99aa") as http:
        body = aanmelding("99AA")
        first = await http.post("/api/v1/zaken", json=body)
        again = await http.post("/api/v1/zaken", json=body)
        other = await http.post("/api/v1/zaken", json=aanmelding("99AB"))
        too_old = await http.post("/api/v1/zaken", json=aanmelding("99AA", age=15))
    assert first.status_code == 201, first.text
    assert first.json()["case_id"].startswith(f"thuiszitter-{body['leerling_ref']}:")
    assert again.status_code == 409 and again.json()["type"].endswith("/bestaat-al")
    assert other.status_code == 403
    assert "99AA" in other.json()["detail"]
    assert too_old.status_code == 422
    assert [f["veld"] for f in too_old.json()["fouten"]] == ["geboortedatum"]
    refusals = [r for r in await audit_rows(stack.register) if r.actie == "zaak_starten" and r.resultaat == "geweigerd"]
    assert len(refusals) == 2  # the second start and the other school; invalid input is no decision


async def test_an_event_goes_to_the_case_and_answers_with_its_new_status(stack: ApiStack) -> None:
    ref = await started(stack)
    async with stack.as_client("las-99aa") as http:
        response = await http.post(f"/api/v1/zaken/{ref}/oudergesprek", json=OUDERGESPREK)
        status = await http.get(f"/api/v1/zaken/{ref}")
        page = await http.get(f"/api/v1/zaken/{ref}/tijdlijn", params={"per_pagina": 2})
    assert response.status_code == 200, response.text
    assert response.json()["dossier"]["oudergesprek"]["afspraken"] == OUDERGESPREK["afspraken"]
    assert "oudergesprek_organiseren" not in [t["taak"] for t in response.json()["open_taken"]]
    assert status.status_code == 200 and status.json()["fase"] == response.json()["fase"]
    await eventually(lambda: events_of(stack, ref, "oudergesprek"), lambda n: n == 1)
    async with stack.as_client("las-99aa") as http:
        timeline = (await http.get(f"/api/v1/zaken/{ref}/tijdlijn")).json()
    assert timeline["regels"][0]["gebeurtenis"] == "oudergesprek" and timeline["regels"][0]["door"] == "school"
    assert page.status_code == 200 and len(page.json()["regels"]) <= 2
    rows = [r for r in await audit_rows(stack.register) if r.actie == "oudergesprek"]
    assert [(r.persoon_id, r.kanaal, r.resultaat) for r in rows] == [("api:las-99aa", "api", "toegestaan")]


async def test_refusals_name_the_field_the_rule_or_the_permission(stack: ApiStack) -> None:
    ref = await started(stack)
    async with stack.as_client("las-99aa") as http:
        not_listed = await http.post(f"/api/v1/zaken/{ref}/afronden", json={"toelichting": "Klaar."})
        other_role = await http.post(f"/api/v1/zaken/{ref}/oudergesprek", json={**OUDERGESPREK, "door": "scp"})
        bad_field = await http.post(f"/api/v1/zaken/{ref}/oudergesprek", json={"deelnemers": []})
        rule = await http.post(f"/api/v1/zaken/{ref}/plan_van_aanpak", json={"in_opp": True, "instemming_ouders": True})
        unknown = await http.post("/api/v1/zaken/Lbestaatniet/voortgang", json={"toelichting": "x"})
    assert not_listed.status_code == 403 and "afronden" in not_listed.json()["detail"]
    assert other_role.status_code == 403 and "andere rol" in other_role.json()["detail"]
    assert bad_field.status_code == 422
    assert bad_field.json()["fouten"][0]["veld"] == "deelnemers"
    assert rule.status_code == 422 and rule.json()["type"].endswith("/afgewezen"), rule.text
    assert rule.json()["regel"]
    assert unknown.status_code == 404
    for answer in (not_listed, other_role, bad_field, rule, unknown):
        assert answer.headers["content-type"] == "application/problem+json"
        assert answer.json()["instance"].startswith("/api/v1/zaken/")


# ---------------------------------------------------------------------------------------------- safe by design


async def test_the_same_request_twice_and_at_once_is_one_event_with_the_same_answer(stack: ApiStack) -> None:
    ref = await started(stack)
    key = str(uuid.uuid4())
    async with stack.as_client("las-99aa") as http:
        url = f"/api/v1/zaken/{ref}/voortgang"
        body = {"toelichting": "Gaat twee ochtenden naar school."}
        together = await asyncio.gather(
            *(http.post(url, json=body, headers={"Idempotency-Key": key}) for _ in range(3))
        )
        later = await http.post(url, json=body, headers={"Idempotency-Key": key})
        other = await http.post(url, json={"toelichting": "Iets anders."}, headers={"Idempotency-Key": key})
    answers = [*together, later]
    assert [a.status_code for a in answers] == [200] * 4, [a.text for a in answers]
    assert len({a.content for a in answers}) == 1
    assert later.headers.get("idempotent-replayed") == "true"
    assert other.status_code == 422 and other.json()["type"].endswith("/sleutel-hergebruikt")
    await eventually(lambda: events_of(stack, ref, "voortgang"), lambda n: n >= 1)
    await asyncio.sleep(0.5)
    assert await events_of(stack, ref, "voortgang") == 1


async def test_a_body_of_3_mb_is_refused_before_temporal_and_the_case_keeps_working(stack: ApiStack) -> None:
    ref = await started(stack)
    async with stack.as_client("las-99aa") as http:
        huge = {"toelichting": "x" * (3 * 1024 * 1024)}
        sending = asyncio.create_task(http.post(f"/api/v1/zaken/{ref}/voortgang", json=huge))
        during = await http.get(f"/api/v1/zaken/{ref}")
        refused = await sending
        after = await http.post(f"/api/v1/zaken/{ref}/voortgang", json={"toelichting": "Daarna gewoon door."})
        status = await http.get(f"/api/v1/zaken/{ref}")
    assert refused.status_code == 413 and refused.json()["type"].endswith("/te-groot")
    assert during.status_code == 200
    assert after.status_code == 200, after.text
    assert status.status_code == 200
    assert not any("x" * 100 in (line.get("toelichting") or "") for line in status.json()["tijdlijn"])


async def test_a_client_past_its_rate_limit_gets_429_with_retry_after(stack: ApiStack) -> None:
    client = next(c for c in stack.clients if c.client_id == "koers-vo")
    await ApiClients(stack.register.pool).upsert(client.model_copy(update={"per_minuut": 3}))
    async with stack.as_client("koers-vo") as http:
        answers = [await http.get("/api/v1/taken") for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert int(answers[-1].headers["retry-after"]) >= 1
    assert answers[-1].json()["type"].endswith("/te-veel-verzoeken")


# --------------------------------------------------------------------------------------------------- lists


async def test_tasks_are_listed_within_the_clients_scope_only(stack: ApiStack) -> None:
    mine = await started(stack, "las-99aa", "99AA")
    async with stack.as_client("las-99aa") as http:
        ref_b = aanmelding("99AB")
        await http.post("/api/v1/zaken", json=ref_b)  # refused: not its school
    async with stack.as_client("lba-leerplicht") as http:
        other = aanmelding("99AB")
        assert (await http.post("/api/v1/zaken", json=other)).status_code == 201
    await eventually(
        lambda: stack.register.pool.fetchval(
            "SELECT count(*) FROM cases WHERE leerling_ref = $1", other["leerling_ref"]
        ),
        lambda n: n == 1,
    )
    async with stack.as_client("las-99aa") as http:
        school = (await http.get("/api/v1/taken")).json()
        overdue = (await http.get("/api/v1/taken", params={"te_laat": True})).json()
    async with stack.as_client("lba-leerplicht") as http:
        city = (await http.get("/api/v1/taken", params={"rol": "leerplicht"})).json()
    assert {t["leerling_ref"] for t in school["taken"]} == {mine}
    assert all(t["te_laat"] for t in overdue["taken"])
    assert {t["leerling_ref"] for t in city["taken"]} == {mine, other["leerling_ref"]}
    assert all(t["rol"] == "leerplicht" for t in city["taken"])


# ------------------------------------------------------------------------------------------- the permissions


async def test_every_client_may_send_exactly_its_events_in_its_scope_and_refusals_are_audited(stack: ApiStack) -> None:
    """For every demo client, every event and a case in and a case out of its scope: refused (403) exactly when the
    client's list or the policy refuses it. The body is empty, so an allowed event stops at its validation (422) or,
    without required fields, reaches the case."""
    from thuiszitters.people.policy import decide
    from thuiszitters.register.werkbak import facts_of_row, latest_case_of

    po = await started(stack, "las-99aa", "99AA")
    vo = await started(stack, "las-99ba", "99BA", sector="VO", age=12)
    cases = {}
    for ref in (po, vo):
        row = await latest_case_of(stack.register.pool, ref)
        assert row is not None
        open_tasks = await stack.register.pool.fetch(
            "SELECT taak_id, rol FROM tasks WHERE case_id = $1 AND gesloten_op IS NULL AND taak_id IS NOT NULL",
            row.case_id,
        )
        cases[ref] = facts_of_row(row, {task["taak_id"]: task["rol"] for task in open_tasks})
    expected_refusals = 0
    for client in stack.clients:
        async with stack.as_client(client.client_id) as http:
            for ref, facts in cases.items():
                assert facts is not None
                for name in EVENTS:
                    if name in ("afronden", "intrekken"):  # would close the case for the rest of the matrix
                        continue
                    answer = await http.post(f"/api/v1/zaken/{ref}/{name}", json={})
                    visible = bool(decide(client.actor, "zaak_lezen", facts))
                    allowed = visible and name in client.gebeurtenissen and bool(decide(client.actor, name, facts))
                    if not visible:
                        assert answer.status_code == 404, (client.client_id, ref, name, answer.text)
                    elif allowed:
                        assert answer.status_code != 403, (client.client_id, ref, name, answer.text)
                    else:
                        assert answer.status_code == 403, (client.client_id, ref, name, answer.text)
                    expected_refusals += 0 if allowed else 1
    refused = [r for r in await audit_rows(stack.register) if r.kanaal == "api" and r.resultaat == "geweigerd"]
    assert len(refused) == expected_refusals


# --------------------------------------------------------------------------------------------------- openapi


async def test_the_openapi_document_is_31_with_every_event_and_problem_json_errors(stack: ApiStack) -> None:
    async with stack.http() as http:
        document = (await http.get("/api/openapi.json")).json()
    assert document["openapi"].startswith("3.1")
    paths = document["paths"]
    for name in EVENTS:
        operation = paths[f"/v1/zaken/{{leerling_ref}}/{name}"]["post"]
        assert set(operation["responses"]["422"]["content"]) == {"application/problem+json"}
        assert "Idempotency-Key" in [p["name"] for p in operation["parameters"]]
    assert "Probleem" in document["components"]["schemas"]
    assert document["servers"] == [{"url": "/api"}]
