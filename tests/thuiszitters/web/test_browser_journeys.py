"""The werkbak's journeys in a real browser, one per role, from logging in to done: Debian's Chromium driven by
Playwright through the real pages, the real uvicorn server, the real register with the demo people of
``examples/personen.csv``, the Temporal dev server and a real worker (``tests/fixtures/werkbak.py``).

- the school records the oudergesprek (once with the mouse, once with the keyboard alone);
- the SCP decides the twelve-week check;
- the coordinator escalates to the Taskforce;
- the Taskforce records the home visit and a decision with an action for the wijkteam, which the wijkteam finds in
  its "Mijn taken";
- Leerplicht corrects the start date, and the due dates of the open tasks move;
- the school deregisters the pupil and the SCP closes the case;
- a person of another school is refused the case, and the audit log says so.

Every page a journey visits is checked by axe-core (no serious or critical violations), must report no errors in
the browser's console, and is saved as a screenshot in ``build/screenshots/werkbak/`` (``<role>-<page>.png``).

Where a journey is about a later step, the case's earlier history is sent as updates (:meth:`tests.cases.Case.update`),
as the other services would send it; the journey's own steps go through the pages only.
"""

from __future__ import annotations

import re
import weakref
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from playwright.async_api import Locator, Page, expect

from tests.cases import Case, eventually, open_case, pupil
from tests.fixtures.browser import axe_check, console_errors, describe_violations, screenshot
from tests.fixtures.werkbak import Werkbak
from tests.thuiszitters.web.helpers import audit_rows
from thuiszitters.register.store import CaseRow
from thuiszitters.web import aanmelding, teams
from thuiszitters.web.werkbak import case_url
from workflows.calendar import amsterdam_date
from workflows.contract import CaseStatus

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="session")]

SCHOOL_A = "school-99aa-01"
SCHOOL_B = "school-99ab-01"
SCP_A = "scp-99aa-01"
COORDINATOR_NOORD = "coordinator-noord-01"
TASKFORCE = "taskforce-01"
WIJKTEAM_NOORD = "wijkteam-noord-01"
LEERPLICHT_NOORD = "leerplicht-noord-01"
MAX_TABS = 60
"""More Tab presses than any page here needs to reach what the keyboard journey looks for."""


def today() -> date:
    """The dev server runs on real time, in Rotterdam."""
    return amsterdam_date(datetime.now(UTC))


def dutch(day: date) -> str:
    """A date as the pages show it."""
    return day.strftime("%d-%m-%Y")


# ---------------------------------------------------------------------------------------------- the cases


async def in_register(werkbak: Werkbak, case: Case) -> CaseRow:
    """Wait until the register has caught up with the case (its phase, escalation, check and open tasks are those
    of the case's status, read again each time: a term may still fire), so that the pages show what the updates
    did; the register's row."""

    async def probe() -> tuple[CaseStatus, CaseRow | None, set[str]]:
        status = await case.status()
        row = await werkbak.register.case(case.case_id)
        rows = await werkbak.register.pool.fetch(
            "SELECT taak_id FROM tasks WHERE case_id = $1 AND gesloten_op IS NULL", case.case_id
        )
        return status, row, {r["taak_id"] for r in rows}

    def caught_up(found: tuple[CaseStatus, CaseRow | None, set[str]]) -> bool:
        status, row, tasks = found
        check = status.twaalf_weken_check
        return (
            row is not None
            and tasks == {t.id for t in status.open_taken}
            and (row.fase, row.escalatie, row.afgesloten) == (status.fase, status.escalatie.value, status.afgesloten)
            and row.check_stand == (check.stand if check else None)
        )

    _, row, _ = await eventually(probe, caught_up)
    assert row is not None
    return row


async def new_case(werkbak: Werkbak, *, weeks_at_home: int = 5, school: str = "99AA", **fields: Any) -> Case:
    """A PO case of a pupil of 9 in region Noord at ``school``, at home for ``weeks_at_home`` weeks, in the
    register with its first tasks."""
    start = today() - timedelta(weeks=weeks_at_home)
    case = await open_case(werkbak.client, pupil(start, school_brin=school, **fields), werkbak.task_queue)
    await eventually(case.status, lambda s: bool(s.open_taken))
    await in_register(werkbak, case)
    return case


async def to_phase_3(case: Case, route: str = "3.2") -> None:
    """Earlier history as updates: the oudergesprek, the plan van aanpak in the OPP with the parents' consent, and
    a route."""
    await case.update("oudergesprek", deelnemers=["school", "ouders", "scp"], door="school")
    await case.update("plan_van_aanpak", in_opp=True, instemming_ouders=True, door="school")
    await case.update("route", route=route, door="scp" if route != "3.4" else "school")


# ---------------------------------------------------------------------------------------------- the pages


_checked: weakref.WeakKeyDictionary[Page, int] = weakref.WeakKeyDictionary()
"""How many of a page's console errors an earlier :func:`looked_at` has judged already."""


async def looked_at(page: Page, name: str, status: int | None = None) -> None:
    """Every page of a journey: its screenshot, no serious or critical axe-core violations, no console errors.

    A page answered on purpose with an error status (``status``: 422 for a form with a mistake, 403 for a refusal)
    makes Chromium log that the document "failed to load" with that status; that one line is the page's status,
    not an error of the page, and is the only one let through."""
    await screenshot(page, name)
    violations = await axe_check(page, name)
    assert not violations, describe_violations(name, violations)
    expected = f"the server responded with a status of {status} " if status else None
    reported = console_errors(page)
    new, _checked[page] = reported[_checked.get(page, 0) :], len(reported)
    errors = [e for e in new if not (expected and expected in e and e.endswith(f"({page.url})"))]
    assert errors == [], f"de pagina '{name}' meldde fouten in de console: {errors}"


async def log_in(werkbak: Werkbak, page: Page, persoon_id: str, name: str) -> None:
    """Log in through the login page and land on "Mijn taken", which is looked at as ``<name>-mijn-taken``."""
    await werkbak.login(page, persoon_id)
    await expect(page.get_by_role("heading", level=1)).to_have_text("Mijn taken")
    await looked_at(page, f"{name}-mijn-taken")


async def log_out(page: Page) -> None:
    """Log out with the button in the page's header; the login page says so."""
    async with page.expect_navigation():
        await page.get_by_role("button", name="Uitloggen").click()
    await expect(page.locator("main")).to_contain_text("U bent uitgelogd.")
    await looked_at(page, "uitgelogd")


def task_row(page: Page, case: Case, text: str) -> Locator:
    """The row of "Mijn taken" of this case's task whose link says ``text``."""
    return page.locator("table.lijst tbody tr").filter(has_text=case.aanmelding.leerling_ref).filter(has_text=text)


async def open_task(page: Page, case: Case, text: str) -> None:
    """Follow the link of the task in "Mijn taken" to the case page."""
    row = task_row(page, case, text)
    await expect(row).to_have_count(1)
    async with page.expect_navigation():
        await row.get_by_role("link").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text(f"Zaak {case.aanmelding.leerling_ref}")


def open_tasks_table(page: Page) -> Locator:
    """The case page's table of open tasks."""
    return page.locator("section[aria-labelledby=taken-kop]")


def overview(page: Page, term: str) -> Locator:
    """The value of one line of the case page's overview ("In het kort")."""
    exactly = re.compile(f"^{re.escape(term)}$")
    return page.locator("dl.overzicht > div").filter(has=page.locator("dt", has_text=exactly)).locator("dd")


async def open_form(page: Page, event: str) -> Locator:
    """Open the form of ``event`` on the case page; the form."""
    details = page.locator(f"details#actie-{event}")
    await details.locator("summary").click()
    await expect(details).to_have_attribute("open", "")
    return details.locator("form")


async def submit(form: Locator) -> None:
    """Send the form with its button and wait for the page that answers."""
    async with form.page.expect_navigation():
        await form.get_by_role("button").click()


async def due_dates(page: Page) -> dict[str, str]:
    """The open tasks of the case page: the task's text (without its id) -> its due date as shown."""
    rows = open_tasks_table(page).locator("tbody tr")
    found: dict[str, str] = {}
    for i in range(await rows.count()):
        cells = rows.nth(i).locator("td")
        found[(await cells.nth(1).inner_text()).split(" (T")[0]] = (await cells.nth(0).inner_text()).strip()
    return found


# ------------------------------------------------------------------------------------------ 1. the school


OUDERGESPREK_TAAK = "Organiseer een gesprek"


async def test_the_school_records_the_oudergesprek_and_its_task_is_gone(werkbak: Werkbak, page: Page) -> None:
    case = await new_case(werkbak)
    await page.goto(werkbak.url("/inloggen"))
    await looked_at(page, "inloggen")
    await log_in(werkbak, page, SCHOOL_A, "school")
    await expect(task_row(page, case, OUDERGESPREK_TAAK)).to_have_count(1)

    await open_task(page, case, OUDERGESPREK_TAAK)
    await expect(open_tasks_table(page)).to_contain_text(OUDERGESPREK_TAAK)
    await looked_at(page, "school-zaak")
    form = await open_form(page, "oudergesprek")
    await looked_at(page, "school-zaak-formulier-open")

    # sent without saying who was there: the mistake comes back at the top and at the field, nothing is lost
    await form.get_by_label("Wensen en behoeften van de ouders").fill("Een kleinere klas, dicht bij huis.")
    await submit(form)
    form = page.locator("details#actie-oudergesprek form")
    await expect(form.get_by_role("alert")).to_contain_text("Wie waren bij het gesprek? Kies ten minste één")
    await expect(form.get_by_label("Wensen en behoeften van de ouders")).to_have_value(
        "Een kleinere klas, dicht bij huis."
    )
    await looked_at(page, "school-zaak-validatiefout", status=422)

    for deelnemer in ("School", "Ouders", "Schoolcontactpersoon (PPO)"):
        await form.get_by_label(deelnemer, exact=True).check()
    await form.get_by_label("Gemaakte afspraken").fill("Twee ochtenden per week naar school, met begeleiding.")
    await submit(form)

    await expect(page.get_by_role("status")).to_contain_text("Vastgelegd: Oudergesprek vastleggen.")
    await expect(open_tasks_table(page)).not_to_contain_text(OUDERGESPREK_TAAK)
    dossier = page.locator("section[aria-labelledby=dossier-kop]")
    await expect(dossier).to_contain_text("Twee ochtenden per week naar school, met begeleiding.")
    await expect(dossier).to_contain_text("Met: de ouders, de school, de schoolcontactpersoon (PPO).")
    await looked_at(page, "school-zaak-vastgelegd")

    async with page.expect_navigation():
        await page.get_by_role("link", name="Terug naar mijn taken").click()
    await expect(task_row(page, case, OUDERGESPREK_TAAK)).to_have_count(0)
    await expect(page.locator("table.lijst")).to_contain_text(case.aanmelding.leerling_ref)  # its next task
    await looked_at(page, "school-mijn-taken-na-oudergesprek")


# --------------------------------------------------------------------------------------------- 2. the SCP


CHECK_TAAK = "Twaalfwekencheck: schaal op"


async def test_the_scp_decides_the_twelve_week_check(werkbak: Werkbak, page: Page) -> None:
    # thirteen weeks at home: the twelve-week term has passed, so the check opens at once with a decision task for
    # the SCP; the case's earlier history (phases 1 to 3) is sent as updates
    case = await new_case(werkbak, weeks_at_home=13)
    await to_phase_3(case)
    row = await in_register(werkbak, case)
    assert row.check_stand == "open" and row.check_uiterlijk is not None

    await log_in(werkbak, page, SCP_A, "scp")
    await open_task(page, case, CHECK_TAAK)
    check = overview(page, "Twaalfwekencheck")
    await expect(check).to_have_text(f"Besluit nodig, uiterlijk {dutch(row.check_uiterlijk)}")
    await looked_at(page, "scp-zaak")

    back_on = today() + timedelta(weeks=4)
    form = await open_form(page, "beoordeling")
    await form.get_by_label("Uitzicht op een duurzame oplossing").fill(
        "De aanmelding bij een andere basisschool loopt; plaatsing na de kerstvakantie verwacht."
    )
    await form.get_by_label("Opnieuw bekijken op").fill(back_on.isoformat())
    await looked_at(page, "scp-zaak-formulier-open")
    await submit(form)

    await expect(page.get_by_role("status")).to_contain_text("Vastgelegd")
    await expect(check).to_have_text(f"Uitzicht op een oplossing; komt terug op {dutch(back_on)}")
    await expect(open_tasks_table(page)).not_to_contain_text(CHECK_TAAK)
    await looked_at(page, "scp-zaak-beoordeeld")
    async with page.expect_navigation():
        await page.get_by_role("link", name="Terug naar mijn taken").click()
    await expect(task_row(page, case, CHECK_TAAK)).to_have_count(0)


# ------------------------------------------------------------------------------------ 3. the coordinator


async def test_the_coordinator_escalates_to_the_taskforce(werkbak: Werkbak, page: Page) -> None:
    # earlier history as updates: phases 1 to 3, and the SCP's escalation to the coordinator of region Noord
    case = await new_case(werkbak)
    await to_phase_3(case)
    await case.update(
        "opschalen", niveau="coordinator", reden_code="proces_loopt_vast", reden="Geen school reageert.", door="scp"
    )
    await in_register(werkbak, case)

    await log_in(werkbak, page, COORDINATOR_NOORD, "coordinator")
    await open_task(page, case, "Besluit of de zaak naar de Taskforce")
    await expect(overview(page, "Escalatie")).to_have_text("Opgeschaald naar de thuiszitterscoördinator")
    await looked_at(page, "coordinator-zaak")

    form = await open_form(page, "opschalen")
    await form.get_by_label("De Taskforce Thuiszitters").check()
    await form.get_by_label("Reden", exact=True).select_option("geen_plaats_reguliere_scholen")
    await form.get_by_label("Toelichting op de reden").fill("Drie basisscholen in Noord hebben geen plaats.")
    await form.get_by_label("Afgestemd met de leerplichtambtenaar").check()
    await form.get_by_label("Afgestemd met de school").check()
    await looked_at(page, "coordinator-zaak-formulier-open")
    await submit(form)

    await expect(page.get_by_role("status")).to_contain_text("Vastgelegd: Opschalen.")
    await expect(overview(page, "Escalatie")).to_have_text("Opgeschaald naar de Taskforce Thuiszitters")
    await expect(overview(page, "Regie")).to_have_text("De Taskforce Thuiszitters")
    await expect(overview(page, "Bespreking Kerngroep")).to_have_count(1)
    dossier = page.locator("section[aria-labelledby=dossier-kop]")
    escalation = dossier.locator("dl > div").filter(
        has=page.locator("dt", has_text=f"Opgeschaald naar de Taskforce Thuiszitters op {dutch(today())}")
    )
    await expect(escalation.locator("dd")).to_have_text(
        "Reguliere scholen hebben geen plaats (meer): Drie basisscholen in Noord hebben geen plaats."
    )
    await expect(open_tasks_table(page)).to_contain_text("Leg een huisbezoek af")
    await looked_at(page, "coordinator-zaak-opgeschaald")


# ---------------------------------------------------------------------------- 4. the Taskforce and the wijkteam


WIJKTEAM_ACTIE = "Zorg voor een plek in de dagbesteding van het wijkteam."


async def escalated_to_the_taskforce(werkbak: Werkbak, route: str) -> Case:
    """A case on ``route`` that the SCP escalated to the coordinator and the coordinator to the Taskforce, all as
    updates."""
    case = await new_case(werkbak)
    await to_phase_3(case, route)
    await case.update("opschalen", niveau="coordinator", reden_code="proces_loopt_vast", reden="Vast.", door="scp")
    await case.update(
        "opschalen",
        niveau="taskforce",
        reden_code="partijen_niet_eens",
        reden="School en zorg komen er niet uit.",
        afgestemd_met_leerplicht=True,
        afgestemd_met_school=True,
        door="coordinator",
    )
    await in_register(werkbak, case)
    return case


async def test_the_taskforce_decides_and_the_wijkteam_finds_its_action(werkbak: Werkbak, page: Page) -> None:
    # earlier history as updates: a care route (3.4, the wijkteam of region Noord holds the regie with the
    # parents) that stalled and was escalated by the SCP and then the coordinator to the Taskforce
    case = await escalated_to_the_taskforce(werkbak, "3.4")

    await log_in(werkbak, page, TASKFORCE, "taskforce")
    await open_task(page, case, "Leg een huisbezoek af")
    await looked_at(page, "taskforce-zaak")
    form = await open_form(page, "huisbezoek")
    await form.get_by_label("Samenvatting van het huisbezoek").fill(
        "Gesprek met moeder en leerling thuis; de leerling wil naar school, maar niet naar de oude klas."
    )
    await submit(form)
    await expect(page.get_by_role("status")).to_contain_text("Vastgelegd: Verslag van het huisbezoek.")
    await expect(page.locator("section[aria-labelledby=dossier-kop]")).to_contain_text("niet naar de oude klas")
    await expect(open_tasks_table(page)).to_contain_text("neem een besluit")

    due = today() + timedelta(weeks=3)
    form = await open_form(page, "taskforce_besluit")
    await form.get_by_label("Besluit", exact=True).fill("Dagbesteding via het wijkteam, daarna terug naar school.")
    actie = form.locator("fieldset", has_text="Actie 1")
    await actie.get_by_label("Wie voert de actie uit?").select_option("wijkteam")
    await actie.get_by_label("Wat moet er gebeuren?").fill(WIJKTEAM_ACTIE)
    await actie.get_by_label("Uiterlijk klaar op").fill(due.isoformat())
    await looked_at(page, "taskforce-zaak-formulier-open")
    await submit(form)
    await expect(page.get_by_role("status")).to_contain_text("Vastgelegd: Besluit van de Taskforce vastleggen.")
    await expect(open_tasks_table(page).locator("tr", has_text=WIJKTEAM_ACTIE)).to_contain_text(dutch(due))
    await expect(open_tasks_table(page).locator("tr", has_text=WIJKTEAM_ACTIE)).to_contain_text("Wijkteam")
    await looked_at(page, "taskforce-zaak-besloten")
    await log_out(page)

    await log_in(werkbak, page, WIJKTEAM_NOORD, "wijkteam")
    await expect(task_row(page, case, WIJKTEAM_ACTIE)).to_contain_text(dutch(due))
    await open_task(page, case, WIJKTEAM_ACTIE)
    await looked_at(page, "wijkteam-zaak")


# ------------------------------------------------------------------------------------------ 5. Leerplicht


async def test_leerplicht_corrects_the_start_date_and_the_due_dates_move(werkbak: Werkbak, page: Page) -> None:
    # thirteen weeks at home: the twelve-week check is open, and its decision task's due date hangs on the start date
    case = await new_case(werkbak, weeks_at_home=13)
    before_status = await case.status()

    await log_in(werkbak, page, LEERPLICHT_NOORD, "leerplicht")
    await open_task(page, case, "Registreer de thuiszitter in de LBA")
    before = await due_dates(page)
    await expect(overview(page, "Thuis sinds")).to_contain_text(dutch(before_status.startdatum))
    await looked_at(page, "leerplicht-zaak")

    corrected = before_status.startdatum - timedelta(days=4)
    form = await open_form(page, "startdatum_correctie")
    await form.get_by_label("Startdatum van het thuiszitten").fill(corrected.isoformat())
    await form.get_by_label("Reden van de correctie").fill("Volgens de absentieregistratie al eerder thuis.")
    await looked_at(page, "leerplicht-zaak-formulier-open")
    await submit(form)

    await expect(page.get_by_role("status")).to_contain_text("Vastgelegd: Startdatum corrigeren.")
    await expect(overview(page, "Thuis sinds")).to_contain_text(dutch(corrected))
    status = await case.status()
    assert status.twaalf_weken_check is not None and before_status.twaalf_weken_check is not None
    moved_to = status.twaalf_weken_check.uiterlijk
    assert moved_to < before_status.twaalf_weken_check.uiterlijk
    after = await due_dates(page)
    [check_task] = [task for task in before if task.startswith(CHECK_TAAK)]
    assert (before[check_task], after[check_task]) == (
        dutch(before_status.twaalf_weken_check.uiterlijk),
        dutch(moved_to),
    ), (before, after)
    await expect(overview(page, "Twaalfwekencheck")).to_have_text(f"Besluit nodig, uiterlijk {dutch(moved_to)}")
    await looked_at(page, "leerplicht-zaak-gecorrigeerd")


# ------------------------------------------------------------------------------- 6. the school and the SCP close


async def test_the_school_deregisters_and_the_scp_closes_the_case(werkbak: Werkbak, page: Page) -> None:
    # earlier history as updates: phases 1 to 3 on route 3.2, the parents' application at school 34CD, and the
    # place found there (phase 4)
    case = await new_case(werkbak)
    await to_phase_3(case)
    await case.update("aanmelding_andere_school", school_brin="34CD", door="ouders")
    await case.update("passende_plek", uitkomst="ingeschreven_andere_school", school_brin="34CD", door="school")
    await in_register(werkbak, case)

    await log_in(werkbak, page, SCHOOL_A, "school-fase-4")
    await open_task(page, case, "Schrijf de leerling uit")
    await expect(overview(page, "Fase")).to_have_text("4: Passende onderwijsplek")
    form = await open_form(page, "uitschrijving")
    await form.get_by_label("Uitgeschreven op").fill(today().isoformat())
    await looked_at(page, "school-zaak-uitschrijving-open")
    await submit(form)
    await expect(page.get_by_role("status")).to_contain_text("Vastgelegd: Uitschrijving vastleggen.")
    await expect(open_tasks_table(page)).not_to_contain_text("Schrijf de leerling uit")
    await log_out(page)

    await log_in(werkbak, page, SCP_A, "scp-fase-4")
    await open_task(page, case, "Check de uitschrijving of vrijstelling en rond de zaak af")
    form = await open_form(page, "afronden")
    await form.get_by_label("Toelichting bij het afronden").fill(
        "Uitschrijving nagegaan; de leerling gaat sinds twee weken elke dag naar 34CD."
    )
    await looked_at(page, "scp-zaak-afronden-open")
    await submit(form)

    await expect(page.get_by_role("status")).to_contain_text("Vastgelegd: Zaak afronden.")
    await expect(overview(page, "Afgesloten")).to_contain_text(dutch(today()))
    await expect(overview(page, "Eerstvolgende termijn")).to_have_text("Geen: de zaak is afgesloten")
    await expect(open_tasks_table(page)).to_contain_text("Deze zaak heeft geen open taken.")
    await expect(page.locator("details.actie")).to_have_count(0)
    await looked_at(page, "scp-zaak-afgesloten")
    async with page.expect_navigation():
        await page.get_by_role("link", name="Terug naar mijn taken").click()
    await expect(page.locator("main")).not_to_contain_text(case.aanmelding.leerling_ref)
    await looked_at(page, "scp-mijn-taken-na-afronden")


# ----------------------------------------------------------------------------------- 7. another school's case


async def test_a_person_of_another_school_is_refused_and_the_audit_log_says_so(werkbak: Werkbak, page: Page) -> None:
    case = await new_case(werkbak, school="99AA")
    await log_in(werkbak, page, SCHOOL_B, "school-b")
    await expect(page.locator("main")).not_to_contain_text(case.aanmelding.leerling_ref)

    response = await page.goto(werkbak.url(case_url(case.case_id)))
    assert response is not None and response.status == 403
    await expect(page.get_by_role("heading", level=1)).to_have_text("Geen toegang tot deze zaak")
    await expect(page.locator("main")).to_contain_text("U heeft geen toegang tot deze zaak")
    assert case.aanmelding.leerling_ref not in await page.content()
    await looked_at(page, "school-b-geen-toegang", status=403)

    refused = [r for r in await audit_rows(werkbak.register) if r.actie == "zaak_lezen"]
    assert [(r.persoon_id, r.case_id, r.resultaat) for r in refused] == [(SCHOOL_B, case.case_id, "geweigerd")]


async def test_a_taskforce_action_for_the_wijkteam_outside_a_care_route_reaches_the_wijkteam(
    werkbak: Werkbak, page: Page
) -> None:
    # earlier history as updates: route 3.2 (another school; no wijkteam in the case), escalated to the Taskforce,
    # which after its home visit decides on an action for the wijkteam
    case = await escalated_to_the_taskforce(werkbak, "3.2")
    await case.update("huisbezoek", samenvatting="Thuis gesproken.", door="taskforce")
    due = today() + timedelta(weeks=3)
    await case.update(
        "taskforce_besluit",
        besluit="Eerst zorg, dan school.",
        acties=[{"rol": "wijkteam", "omschrijving": WIJKTEAM_ACTIE, "uiterlijk": due.isoformat()}],
        door="taskforce",
    )
    await in_register(werkbak, case)

    await log_in(werkbak, page, WIJKTEAM_NOORD, "wijkteam-zonder-zorgroute")
    await expect(task_row(page, case, WIJKTEAM_ACTIE)).to_contain_text(dutch(due))


# ---------------------------------------------------------------------------------- 9. the keyboard alone


async def focused(page: Page) -> dict[str, str]:
    """What has the keyboard focus: its tag, id, text, link and the id of the form's ``<details>`` around it."""
    found: dict[str, str] = await page.evaluate(
        """() => {
            const e = document.activeElement;
            return {
                tag: e.tagName.toLowerCase(),
                id: e.id || "",
                text: (e.textContent || "").trim(),
                href: e.getAttribute("href") || "",
                details: e.closest("details") ? e.closest("details").id : "",
            };
        }"""
    )
    return found


def has_id(element_id: str) -> Callable[[dict[str, str]], bool]:
    return lambda found: found["id"] == element_id


async def tab_to(page: Page, wanted: str, where: Callable[[dict[str, str]], bool]) -> list[dict[str, str]]:
    """Press Tab until ``where(focused)`` holds; the stops on the way. Fails after :data:`MAX_TABS` presses."""
    stops: list[dict[str, str]] = []
    while len(stops) < MAX_TABS:
        await page.keyboard.press("Tab")
        stops.append(await focused(page))
        if where(stops[-1]):
            return stops
    raise AssertionError(f"na {MAX_TABS} keer Tab nog niet bij {wanted}: {[s['id'] or s['text'] for s in stops]}")


async def test_the_school_records_the_oudergesprek_with_the_keyboard_alone(werkbak: Werkbak, page: Page) -> None:
    case = await new_case(werkbak)
    await werkbak.login(page, SCHOOL_A)
    keyboard = page.keyboard
    url = case_url(case.case_id)

    # "Mijn taken": the skip link comes first, then on to the task's link, and Enter follows it
    stops = await tab_to(page, "de taak", lambda f: f["tag"] == "a" and f["href"] == url)
    assert stops[0]["text"] == "Naar de inhoud", stops[0]
    assert OUDERGESPREK_TAAK in stops[-1]["text"]
    async with page.expect_navigation():
        await keyboard.press("Enter")
    await expect(page.get_by_role("heading", level=1)).to_have_text(f"Zaak {case.aanmelding.leerling_ref}")

    # the case page: to the form's summary, open it with Enter; its fields follow in order
    await tab_to(page, "het formulier", lambda f: f["tag"] == "summary" and f["details"] == "actie-oudergesprek")
    await keyboard.press("Enter")
    await expect(page.locator("details#actie-oudergesprek")).to_have_attribute("open", "")
    for nummer in range(3):  # school, ouders, SCP: each a checkbox, one Tab after the other, ticked with Space
        stops = await tab_to(page, f"deelnemer {nummer}", has_id(f"oudergesprek-deelnemers-{nummer}"))
        assert len(stops) == 1, f"de volgende tab hoort bij deelnemer {nummer} te komen: {stops}"
        await keyboard.press("Space")
    await tab_to(page, "de wensen", has_id("oudergesprek-wensen_ouders"))
    await keyboard.type("Een kleinere klas, dicht bij huis.")
    await tab_to(page, "de afspraken", has_id("oudergesprek-afspraken"))
    await keyboard.type("Drie ochtenden per week naar school.")
    await screenshot(page, "school-zaak-toetsenbord-ingevuld")
    await tab_to(page, "de knop", lambda f: f["tag"] == "button" and f["details"] == "actie-oudergesprek")
    async with page.expect_navigation():
        await keyboard.press("Enter")

    await expect(page.get_by_role("status")).to_contain_text("Vastgelegd: Oudergesprek vastleggen.")
    await expect(open_tasks_table(page)).not_to_contain_text(OUDERGESPREK_TAAK)
    dossier = page.locator("section[aria-labelledby=dossier-kop]")
    await expect(dossier).to_contain_text("Drie ochtenden per week naar school.")
    await expect(dossier).to_contain_text("Een kleinere klas, dicht bij huis.")
    await looked_at(page, "school-zaak-toetsenbord-vastgelegd")

    await tab_to(page, "terug naar mijn taken", lambda f: f["text"] == "Terug naar mijn taken")
    async with page.expect_navigation():
        await keyboard.press("Enter")
    await expect(task_row(page, case, OUDERGESPREK_TAAK)).to_have_count(0)


# ------------------------------------------------------------------------------- 8. the pages of the menu


MENU_PAGES = {
    SCHOOL_A: ("school", ("/aanmelden",)),
    COORDINATOR_NOORD: ("coordinator", ("/regio", "/aanmelden")),
    TASKFORCE: ("taskforce", ("/kerngroep",)),
    LEERPLICHT_NOORD: ("leerplicht", ("/leerplicht", "/aanmelden")),
}
"""Who reaches which page of the menu besides "Mijn taken" (``thuiszitters.web.werkbak.menu``)."""


def existing_paths() -> set[str]:
    """The paths that the team views and the intake serve (their modules' ``ROUTES``), as far as they exist yet."""
    return {route.path for route in [*teams.ROUTES, *aanmelding.ROUTES] if hasattr(route, "path")}


async def test_the_pages_of_the_menu_are_accessible(werkbak: Werkbak, page: Page) -> None:
    served = existing_paths()
    visits = [(who, role, path) for who, (role, paths) in MENU_PAGES.items() for path in paths if path in served]
    if not visits:
        pytest.skip("de teampagina's en de aanmelding hebben nog geen routes (teams.ROUTES, aanmelding.ROUTES)")
    # something on every list: a case just reported, and one escalated to the Taskforce (as updates)
    await new_case(werkbak)
    await escalated_to_the_taskforce(werkbak, "3.2")
    logged_in = None
    for who, role, path in visits:
        if who != logged_in:
            if logged_in is not None:
                await log_out(page)
            await werkbak.login(page, who)
            logged_in = who
        link = page.get_by_role("navigation", name="Hoofdmenu").locator(f'a[href="{path}"]')
        await expect(link).to_have_count(1)
        async with page.expect_navigation() as navigation:
            await link.click()
        response = await navigation.value
        assert response is not None and response.status == 200, f"{path} als {role}: {response and response.status}"
        await expect(link).to_have_attribute("aria-current", "page")
        await expect(page.get_by_role("heading", level=1)).to_have_count(1)
        await looked_at(page, f"{role}-{path.strip('/')}")
