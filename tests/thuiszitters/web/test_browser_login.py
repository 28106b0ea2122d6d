"""Logging in to the web application in a real browser: Debian's Chromium driven by Playwright, through the real
uvicorn server, over a real register with the demo people, the Temporal dev server and a real worker
(``tests/fixtures/werkbak.py``).

A school employee of ``examples/personen.csv`` logs in with the mouse and, separately, with the keyboard alone; the
login page, the refused login and the start page pass axe-core without serious or critical violations, and
screenshots of them are saved in ``build/screenshots/werkbak/`` for people to look at.
"""

from __future__ import annotations

import pytest
from playwright.async_api import Page, expect

from tests.fixtures.browser import axe_check, console_errors, describe_violations, screenshot
from tests.fixtures.werkbak import Werkbak

pytestmark = pytest.mark.browser

SCHOOL = "school-99aa-01"
SCHOOL_NAAM = "Demo Zorgcoördinator Basisschool 99AA"
"""The first school employee in examples/personen.csv."""
MAX_TABS = 10


async def assert_accessible(page: Page, name: str) -> None:
    violations = await axe_check(page, name)
    assert not violations, describe_violations(name, violations)


async def focused(page: Page) -> str:
    """The focused element: its id, else its text."""
    return str(await page.evaluate("() => document.activeElement.id || document.activeElement.textContent.trim()"))


async def test_a_school_employee_logs_in_and_sees_the_start_page(werkbak: Werkbak, page: Page) -> None:
    await page.goto(werkbak.url("/inloggen"))
    await expect(page.get_by_role("heading", level=1)).to_have_text("Inloggen")
    await assert_accessible(page, "inloggen")
    await screenshot(page, "inloggen")

    await werkbak.login(page, SCHOOL)

    assert page.url == werkbak.url("/")
    await expect(page.get_by_role("heading", level=1)).to_have_count(1)
    await expect(page.locator("main")).to_contain_text(f"Ingelogd als {SCHOOL_NAAM}")
    await expect(page.locator("main")).to_contain_text("U ziet de zaken van uw school: 99AA.")
    await expect(page.get_by_role("button", name="Uitloggen")).to_be_visible()
    await screenshot(page, "start-school")
    await assert_accessible(page, "start-school")
    assert console_errors(page) == [], "de pagina's meldden fouten (zoals een geblokkeerd script of stijlblad)"


async def test_a_refused_login_says_so_at_the_top_and_at_the_fields(werkbak: Werkbak, page: Page) -> None:
    with pytest.raises(AssertionError, match="inloggen als school-99aa-01 is niet gelukt"):
        await werkbak.login(page, SCHOOL, "een-verkeerd-wachtwoord")

    await expect(page.get_by_role("alert")).to_contain_text("Inloggen is niet gelukt.")
    await expect(page.get_by_label("Gebruikersnaam")).to_have_value(SCHOOL)
    await expect(page.get_by_label("Gebruikersnaam")).to_have_attribute("aria-invalid", "true")
    await expect(page.get_by_label("Wachtwoord")).to_have_value("")
    await screenshot(page, "inloggen-geweigerd")
    await assert_accessible(page, "inloggen-geweigerd")


async def test_the_keyboard_alone_is_enough_to_log_in(werkbak: Werkbak, page: Page) -> None:
    await page.goto(werkbak.url("/inloggen"))
    stops: list[str] = []
    while "gebruikersnaam" not in stops and len(stops) < MAX_TABS:
        await page.keyboard.press("Tab")
        stops.append(await focused(page))
    assert stops[0] == "Naar de inhoud", f"de eerste tab hoort bij 'Naar de inhoud' te komen, niet bij {stops[0]!r}"
    assert stops[-1] == "gebruikersnaam", f"na {MAX_TABS} keer Tab nog niet bij de gebruikersnaam: {stops}"
    await page.keyboard.type(SCHOOL)
    await page.keyboard.press("Tab")
    assert await focused(page) == "wachtwoord"
    await page.keyboard.type(werkbak.wachtwoord)
    async with page.expect_navigation():
        await page.keyboard.press("Enter")

    assert page.url == werkbak.url("/")
    await expect(page.locator("main")).to_contain_text(f"Ingelogd als {SCHOOL_NAAM}")
    await screenshot(page, "start-school-toetsenbord")
