"""The werkbak over HTTP, on the real Temporal dev server with a real worker and the real case register: "Mijn
taken", the case page, its actions, and what happens when the cases cannot be reached.

The browser journeys (``test_browser_*.py``) walk the same pages in Chromium; these tests check what they cannot
see well: the exact rows, the audit log, one event per form however often it is sent, and the worker stopped.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from temporalio.testing import WorkflowEnvironment

from tests.cases import Case, eventually, open_case, pupil
from tests.fixtures.postgres import fresh_database
from tests.fixtures.temporal import CaseWorker, case_worker
from tests.fixtures.werkbak import WACHTWOORD, application_settings, load_demo_people
from tests.thuiszitters.web.helpers import FAST_HASHER, audit_rows, client_for, local_login, text_of
from thuiszitters.register.store import Register
from thuiszitters.settings import Settings
from thuiszitters.web.app import create_app
from thuiszitters.web.werkbak import case_url
from thuiszitters.web.zaken import NIET_BEREIKBAAR

pytestmark = pytest.mark.asyncio(loop_scope="session")

SCHOOL_A = "school-99aa-01"
SCHOOL_B = "school-99ab-01"
SCP_A = "scp-99aa-01"
_TOKEN = re.compile(r'name="token" value="([^"]+)"')
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


@dataclass
class Stack:
    register: Register
    worker: CaseWorker
    settings: Settings
    env: WorkflowEnvironment

    def app(self, **options: Any) -> Any:
        return create_app(
            self.settings,
            self.register,
            hasher=FAST_HASHER,
            client=self.worker.client,
            task_queue=self.worker.task_queue,
            **options,
        )

    async def case_at(self, school: str, **fields: Any) -> Case:
        """A PO case at ``school`` (region Noord), in the register with its first tasks."""
        start = date.today() - timedelta(weeks=5)
        case = await open_case(self.worker.client, pupil(start, school_brin=school, **fields), self.worker.task_queue)
        await eventually(lambda: self.register.case(case.case_id), lambda row: row is not None)
        return case


@pytest.fixture
async def stack(dev_env: WorkflowEnvironment, postgres_dsn: str, test_settings: Settings) -> AsyncIterator[Stack]:
    async with fresh_database(postgres_dsn, max_size=8) as database:
        settings = application_settings(test_settings, database.dsn)
        await load_demo_people(database.register, WACHTWOORD)
        async with case_worker(dev_env, database.register, settings) as worker:
            yield Stack(database.register, worker, settings, dev_env)


@asynccontextmanager
async def logged_in(app: Any, persoon_id: str) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(app) as http:
        response = await local_login(http, persoon_id, WACHTWOORD)
        assert response.status_code == 303, response.text
        yield http


def form_of(page: httpx.Response, name: str) -> dict[str, str]:
    """The hidden fields (csrf, token) of the form of event ``name`` on a case page."""
    found = re.search(rf'<details id="actie-{name}".*?</details>', page.text, re.DOTALL)
    assert found, f"geen formulier voor {name} op de pagina:\n{text_of(page)[:2000]}"
    block = found.group(0)
    token, csrf = _TOKEN.search(block), _CSRF.search(block)
    assert token and csrf
    return {"token": token.group(1), "csrf": csrf.group(1)}


def open_task_kinds(page: httpx.Response) -> str:
    """The text of the case page's table of open tasks."""
    found = re.search(r'<h2 id="taken-kop">.*?</section>', page.text, re.DOTALL)
    assert found
    return " ".join(re.sub(r"<[^>]+>", " ", found.group(0)).split())


async def event_count(register: Register, case_id: str, gebeurtenis: str) -> int:
    count: int = await register.pool.fetchval(
        "SELECT count(*) FROM case_events WHERE case_id = $1 AND gebeurtenis = $2", case_id, gebeurtenis
    )
    return count


OUDERGESPREK = {"deelnemers": ["school", "ouders", "scp"], "afspraken": "Twee ochtenden per week naar school."}


async def test_my_tasks_lists_the_schools_tasks_and_not_another_schools(stack: Stack) -> None:
    mine = await stack.case_at("99AA")
    other = await stack.case_at("99AB")
    async with logged_in(stack.app(), SCHOOL_A) as http:
        page = await http.get("/")
        assert page.status_code == 200
        text = text_of(page)
        assert mine.aanmelding.leerling_ref in text
        assert other.aanmelding.leerling_ref not in text
        expected = await stack.register.pool.fetchval(
            """SELECT count(*) FROM tasks t JOIN cases c USING (case_id)
               WHERE t.gesloten_op IS NULL AND t.rol = 'school' AND c.school_brin = '99AA'"""
        )
        assert expected > 0
        assert f"U heeft {expected} open {'taak' if expected == 1 else 'taken'}" in text
        # a filter on a phase the case is not in leaves nothing
        empty = text_of(await http.get("/?fase=4"))
        assert "Geen taken met dit filter." in empty
    rows = [r for r in await audit_rows(stack.register) if r.actie == "taken_lijst"]
    assert [(r.persoon_id, r.resultaat) for r in rows] == [(SCHOOL_A, "toegestaan")] * 2


async def test_a_person_of_school_b_is_refused_a_case_of_school_a_and_the_audit_shows_it(stack: Stack) -> None:
    case = await stack.case_at("99AA")
    async with logged_in(stack.app(), SCHOOL_B) as http:
        page = await http.get(case_url(case.case_id))
    assert page.status_code == 403
    assert "Geen toegang tot deze zaak" in text_of(page)
    assert case.aanmelding.leerling_ref not in page.text
    refused = [r for r in await audit_rows(stack.register) if r.actie == "zaak_lezen"]
    assert [(r.persoon_id, r.case_id, r.resultaat) for r in refused] == [(SCHOOL_B, case.case_id, "geweigerd")]
    assert refused[0].reden and "99AB" in refused[0].reden


async def test_the_school_records_the_oudergesprek_and_its_task_disappears(stack: Stack) -> None:
    case = await stack.case_at("99AA")
    async with logged_in(stack.app(), SCHOOL_A) as http:
        page = await http.get(case_url(case.case_id))
        assert "Oudergesprek organiseren" in open_task_kinds(page) or "Organiseer een gesprek" in open_task_kinds(page)
        hidden = form_of(page, "oudergesprek")
        sent = await http.post(f"{case_url(case.case_id)}/acties/oudergesprek", data={**hidden, **OUDERGESPREK})
        assert sent.status_code == 303, text_of(sent)[:1500]
        after = await http.get(sent.headers["location"])
    assert "Vastgelegd" in text_of(after)
    assert "Organiseer een gesprek" not in open_task_kinds(after)
    assert "Twee ochtenden per week naar school." in text_of(after)
    status = await case.status()
    assert status.dossier.oudergesprek is not None
    assert "oudergesprek_organiseren" not in [t.taak for t in status.open_taken]
    allowed = [r for r in await audit_rows(stack.register) if r.actie == "oudergesprek"]
    assert [(r.persoon_id, r.resultaat) for r in allowed] == [(SCHOOL_A, "toegestaan")]


async def test_a_form_sent_twice_at_once_and_again_later_is_one_event(stack: Stack) -> None:
    case = await stack.case_at("99AA")
    async with logged_in(stack.app(), SCHOOL_A) as http:
        page = await http.get(case_url(case.case_id))
        hidden = form_of(page, "oudergesprek")
        url = f"{case_url(case.case_id)}/acties/oudergesprek"
        first, second = await asyncio.gather(
            http.post(url, data={**hidden, **OUDERGESPREK}), http.post(url, data={**hidden, **OUDERGESPREK})
        )
        assert (first.status_code, second.status_code) == (303, 303), (text_of(first)[:800], text_of(second)[:800])
        third = await http.post(url, data={**hidden, **OUDERGESPREK})
        assert third.status_code == 303
        after = await http.get(third.headers["location"])
    assert "niets twee keer verstuurd" in text_of(after)
    await eventually(lambda: event_count(stack.register, case.case_id, "oudergesprek"), lambda n: n >= 1)
    assert await event_count(stack.register, case.case_id, "oudergesprek") == 1
    assert [e for e in (await case.status()).tijdlijn if e.gebeurtenis == "oudergesprek"].__len__() == 1


async def test_a_mistake_comes_back_next_to_its_field_with_what_was_typed(stack: Stack) -> None:
    case = await stack.case_at("99AA")
    async with logged_in(stack.app(), SCHOOL_A) as http:
        page = await http.get(case_url(case.case_id))
        hidden = form_of(page, "oudergesprek")
        typed = "Wensen die niet verloren mogen gaan"
        sent = await http.post(f"{case_url(case.case_id)}/acties/oudergesprek", data={**hidden, "wensen_ouders": typed})
    assert sent.status_code == 422
    assert typed in sent.text
    assert 'aria-invalid="true"' in sent.text
    assert hidden["token"] in sent.text  # the same form: sending it again is the same action
    assert await event_count(stack.register, case.case_id, "oudergesprek") == 0


async def test_a_role_that_may_not_send_an_event_gets_no_form_and_a_refusal(stack: Stack) -> None:
    case = await stack.case_at("99AA")
    async with logged_in(stack.app(), SCHOOL_A) as http:
        page = await http.get(case_url(case.case_id))
        assert 'id="actie-afronden"' not in page.text  # closing is the SCP's
        hidden = form_of(page, "oudergesprek")
        sent = await http.post(f"{case_url(case.case_id)}/acties/afronden", data={**hidden, "toelichting": "Klaar."})
    assert sent.status_code == 403
    assert "afronden" in text_of(sent)
    refused = [r for r in await audit_rows(stack.register) if r.actie == "afronden"]
    assert [(r.persoon_id, r.resultaat) for r in refused] == [(SCHOOL_A, "geweigerd")]


async def test_with_the_worker_stopped_an_action_is_not_reachable_and_later_goes_through_once(
    dev_env: WorkflowEnvironment, postgres_dsn: str, test_settings: Settings
) -> None:
    async with fresh_database(postgres_dsn, max_size=8) as database:
        register = database.register
        settings = application_settings(test_settings, database.dsn)
        await load_demo_people(register, WACHTWOORD)
        queue = f"thuiszitters-test-{uuid.uuid4().hex[:8]}"
        async with case_worker(dev_env, register, settings, task_queue=queue) as worker:
            stack = Stack(register, worker, settings, dev_env)
            case = await stack.case_at("99AA")
            await eventually(case.status, lambda s: bool(s.open_taken))
        app = create_app(
            settings,
            register,
            hasher=FAST_HASHER,
            client=dev_env.client,
            task_queue=queue,
            action_timeout=timedelta(seconds=2),
        )
        async with logged_in(app, SCHOOL_A) as http:
            page = await http.get(case_url(case.case_id))
            hidden = form_of(page, "oudergesprek")
            url = f"{case_url(case.case_id)}/acties/oudergesprek"
            down = await http.post(url, data={**hidden, **OUDERGESPREK})
            assert down.status_code == 503
            assert NIET_BEREIKBAAR.split(":")[0] in text_of(down)
            assert "Twee ochtenden per week naar school." in down.text  # nothing typed is lost
            assert hidden["token"] in down.text
            async with case_worker(dev_env, register, settings, task_queue=queue):
                # "Probeer het over een paar minuten opnieuw": once the case answers again. Until then its next
                # workflow task may still wait on the stopped worker's own queue (Temporal's sticky queue, up to
                # five seconds), longer than this application waits for an action.
                await case.status()
                again = await http.post(url, data={**hidden, **OUDERGESPREK})
                assert again.status_code == 303, text_of(again)[:1500]
                await eventually(lambda: event_count(register, case.case_id, "oudergesprek"), lambda n: n >= 1)
                status = await case.status()
        assert await event_count(register, case.case_id, "oudergesprek") == 1
        assert len([e for e in status.tijdlijn if e.gebeurtenis == "oudergesprek"]) == 1
        rows = [(r.resultaat, (r.reden or "")[:15]) for r in await audit_rows(register) if r.actie == "oudergesprek"]
        assert rows == [("geweigerd", "niet bereikbaar"), ("toegestaan", "")]


async def test_an_assignment_names_someone_who_holds_that_role_for_the_case(stack: Stack) -> None:
    case = await stack.case_at("99AA")
    async with logged_in(stack.app(), SCHOOL_A) as http:
        page = await http.get(case_url(case.case_id))
        assert "Demo Schoolcontactpersoon 99AA (Schoolcontactpersoon (PPO))" in text_of(page)
        assert "Demo Schoolcontactpersoon 99AB" not in text_of(page)  # another school's SCP holds no role here
        hidden = form_of(page, "toewijzen")
        url = f"{case_url(case.case_id)}/acties/toewijzen"
        wrong = await http.post(url, data={**hidden, "rol": "taskforce", "persoon": SCHOOL_A})
        assert wrong.status_code == 403
        assert "niet de Taskforce Thuiszitters van deze zaak" in text_of(wrong)
        # at the start the case got Leerplicht of the school's district; the city's Leerplicht takes it over
        right = await http.post(url, data={**hidden, "rol": "leerplicht", "persoon": "leerplicht-stad-01"})
        assert right.status_code == 303, text_of(right)[:1500]
    assert (await case.status()).toegewezen["leerplicht"] == "leerplicht-stad-01"
    rows = [(r.resultaat, r.persoon_id) for r in await audit_rows(stack.register) if r.actie == "toewijzen"]
    assert rows == [("geweigerd", SCHOOL_A), ("toegestaan", SCHOOL_A)]
