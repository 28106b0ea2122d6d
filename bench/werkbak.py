"""The werkbak's pages and actions under load, for ``python -m bench.run --scenarios werkbak``.

Two parts, against the stack's own web application (its own process, over HTTP on localhost, as a browser reaches
it) and its register:

- pages: the register gets ``open_cases`` open cases with ``tasks_per_case`` task rows each (open and finished),
  a timeline and a dossier, written straight into PostgreSQL (the pages read only the register, so these need no
  workflows). Then "Mijn taken" and the case page are loaded again and again by people of every kind of scope (a
  school, an SCP, a coordinator of a region, Leerplicht for the whole city), each page a real request with a
  logged-in session, authorised and audited: p50 and p95 in milliseconds.
- actions: ``action_cases`` real cases are started on the stack (the school of 99AA), and a school employee sends
  a ``voortgang`` through its form on the case page: the round trip from the form's POST to the updated page it
  leads to (the update, the register's new line, the page read again), p50 and p95.
"""

from __future__ import annotations

import random
import re
import statistics
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Final

import asyncpg
import httpx

from thuiszitters.people.directory import Directory
from thuiszitters.people.loader import load
from thuiszitters.web.accounts import LocalAccounts
from thuiszitters.web.werkbak import case_url

REPO: Final = Path(__file__).resolve().parent.parent
DEMO_PEOPLE: Final = REPO / "examples" / "personen.csv"
PASSWORD: Final = "bench-werkbak-wachtwoord"
PAGE_READERS: Final = ("school-99aa-01", "scp-99aa-01", "coordinator-noord-01", "leerplicht-stad-01")
"""Who loads the pages: a school, an SCP (one school, PO), a coordinator (a region's PO cases) and Leerplicht for
the whole city: the smallest and the largest task lists."""
ACTOR: Final = "school-99aa-01"
SCHOOLS: Final = ("99AA", "99AB", "99BA", "99BB", "99BC")
OTHER_SCHOOLS: Final = 195
"""Besides the demo schools, this many more (``98AA`` to ``98HM``): the demo schools hold their share of cases."""
_TOKEN = re.compile(r'name="token" value="([^"]+)"')
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def percentile(values: Sequence[float], share: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))
    return ordered[index]


@dataclass(frozen=True)
class Timing:
    name: str
    samples: list[float]

    @property
    def p50(self) -> float:
        return statistics.median(self.samples)

    @property
    def p95(self) -> float:
        return percentile(self.samples, 0.95)


async def prepare_people(pool: asyncpg.Pool[asyncpg.Record], people: Sequence[str]) -> None:
    """The demo people in the directory, and a local account for each of ``people``."""
    import io

    await load(DEMO_PEOPLE, directory=Directory(pool), dry_run=False, out=io.StringIO())
    accounts = LocalAccounts(pool)
    for persoon_id in people:
        await accounts.set_password(persoon_id, PASSWORD)


async def seed(pool: asyncpg.Pool[asyncpg.Record], open_cases: int, tasks_per_case: int, prefix: str) -> int:
    """``open_cases`` open cases with ``tasks_per_case`` tasks each (three open, the rest finished; the roles
    and kinds spread over the cases, so each role has open tasks in every phase), twelve
    timeline lines and a dossier, straight into the register; the number of task rows written."""
    schools = [*SCHOOLS, *(f"98{chr(65 + i // 26)}{chr(65 + i % 26)}" for i in range(OTHER_SCHOOLS))]
    vo = {"99BA", "99BB", "99BC"}
    today = date.today()
    async with pool.acquire() as connection, connection.transaction():
        await connection.execute(
            """
            INSERT INTO cases (case_id, workflow_id, leerling_ref, sector, regio, school_brin, leerplichtig,
                               startdatum, fase, regiehouder, escalatie, wachtlijst, afgesloten,
                               laatste_volgnummer, geopend_op, bijgewerkt_op, contract_versie, contactrol,
                               check_stand, check_uiterlijk)
            SELECT $1 || n || ':run', 'thuiszitter-' || $1 || n, $1 || n,
                   CASE WHEN school = ANY($5::text[]) OR (school LIKE '98%' AND n % 3 = 0) THEN 'VO' ELSE 'PO' END,
                   CASE WHEN n % 2 = 0 THEN 'Noord' ELSE 'Zuid' END, school, true,
                   $3::date - (n % 120), 1 + n % 4, 'school',
                   CASE WHEN n % 50 = 0 THEN 'taskforce' WHEN n % 10 = 0 THEN 'coordinator' ELSE 'geen' END,
                   false, false, 12, now(), now(), 2,
                   CASE WHEN school = ANY($5::text[]) THEN 'koersloket' ELSE 'scp' END,
                   CASE WHEN n % 120 > 84 THEN 'open' END,
                   CASE WHEN n % 120 > 84 THEN $3::date - (n % 120) + 84 END
            FROM generate_series(1, $2) AS n,
                 LATERAL (SELECT ($4::text[])[1 + (n % array_length($4::text[], 1))] AS school) AS s
            """,
            prefix,
            open_cases,
            today,
            schools,
            sorted(vo),
        )
        roles = ["school", "scp", "leerplicht", "coordinator", "school", "scp", "leerplicht", "school"]
        kinds = [
            "oudergesprek_organiseren",
            "hulpvraag_controleren",
            "lba_registreren",
            "twaalf_weken_besluit",
            "plan_van_aanpak_opstellen",
            "voortgang_melden",
            "vrijstelling_doorzetten",
            "route_kiezen",
        ]
        await connection.execute(
            """
            INSERT INTO tasks (case_id, rol, taak, uiterlijk, geopend_op, gesloten_op, taak_id, omschrijving, door, via)
            SELECT c.case_id,
                   CASE WHEN c.sector = 'VO' AND ($3::text[])[1 + (k + h) % 8] = 'scp' THEN 'koersloket'
                        WHEN c.sector = 'VO' AND ($3::text[])[1 + (k + h) % 8] = 'coordinator' THEN 'school'
                        ELSE ($3::text[])[1 + (k + h) % 8] END,
                   ($4::text[])[1 + (k + h) % 8],
                   c.startdatum + 7 * k, now() - interval '30 days',
                   CASE WHEN k > 3 THEN now() - interval '1 day' END, 'T' || k,
                   'Taak ' || k || ' van de zaak', CASE WHEN k > 3 THEN 'school' END,
                   CASE WHEN k > 3 THEN 'taak_afgerond' END
            FROM cases c, LATERAL (SELECT abs(hashtext(c.case_id)) % 8 AS h) AS spread, generate_series(1, $2) AS k
            WHERE c.case_id LIKE $1 || '%'
            """,
            prefix,
            tasks_per_case,
            roles,
            kinds,
        )
        await connection.execute(
            """
            INSERT INTO case_events (case_id, volgnummer, tijd, gebeurtenis, door, fase, regiehouder, escalatie)
            SELECT c.case_id, v, now() - (12 - v) * interval '2 days',
                   (ARRAY['aanmelding', 'toewijzen', 'melding', 'oudergesprek', 'voortgang'])[1 + v % 5],
                   'school', c.fase, 'school', 'geen'
            FROM cases c, generate_series(1, 12) AS v
            WHERE c.case_id LIKE $1 || '%'
            """,
            prefix,
        )
        await connection.execute(
            """
            INSERT INTO case_dossier (case_id, dossier, dossier_volgnummer, bijgewerkt_op)
            SELECT case_id, jsonb_build_object('oudergesprek', jsonb_build_object(
                       'op', startdatum + 14, 'deelnemers', jsonb_build_array('school', 'ouders', 'scp'),
                       'afspraken', 'Twee ochtenden per week naar school.')), 4, now()
            FROM cases WHERE case_id LIKE $1 || '%'
            """,
            prefix,
        )
        await connection.execute("ANALYZE cases; ANALYZE tasks; ANALYZE case_events; ANALYZE case_dossier")
    return open_cases * tasks_per_case


async def login(http: httpx.AsyncClient, persoon_id: str) -> None:
    page = await http.get("/inloggen")
    token = _CSRF.search(page.text)
    assert token, "no form token on the login page"
    response = await http.post(
        "/inloggen", data={"csrf": token.group(1), "gebruikersnaam": persoon_id, "wachtwoord": PASSWORD}
    )
    if response.status_code != 303:
        raise RuntimeError(f"login of {persoon_id} refused ({response.status_code})")


async def timed(samples: list[float], call: Callable[[], Awaitable[httpx.Response]]) -> httpx.Response:
    begun = time.perf_counter()
    response = await call()
    samples.append((time.perf_counter() - begun) * 1000)
    if response.status_code >= 400:
        text = " ".join(re.sub(r"<[^>]+>", " ", response.text.split("<main", 1)[-1]).split())[:300]
        raise RuntimeError(f"{response.request.url.path}: status {response.status_code}: {text}")
    return response


async def measure_pages(
    base_url: str, pool: asyncpg.Pool[asyncpg.Record], prefix: str, rounds: int, say: Callable[[str], None]
) -> tuple[Timing, Timing, dict[str, int]]:
    """ "Mijn taken" and case pages, ``rounds`` of each per reader; (tasks, case page, open tasks per reader)."""
    tasks: list[float] = []
    cases: list[float] = []
    sizes: dict[str, int] = {}
    picker = random.Random(13)
    for persoon_id in PAGE_READERS:
        async with httpx.AsyncClient(base_url=base_url, timeout=30) as http:
            await login(http, persoon_id)
            first = await http.get("/")
            found = re.search(r"U heeft <strong>(\d+)</strong> open", first.text)
            sizes[persoon_id] = int(found.group(1)) if found else 0
            links = sorted(set(re.findall(r'href="(/zaken/[^"]+)"', first.text)))
            links = [link for link in links if prefix in link] or links
            if not links:
                raise RuntimeError(f"{persoon_id} has no cases on 'Mijn taken'")
            for _ in range(rounds):
                await timed(tasks, lambda: http.get("/"))
                link = picker.choice(links)
                await timed(cases, lambda: http.get(link))  # noqa: B023 - awaited before the next iteration
        say(f"werkbak: {persoon_id}: {sizes[persoon_id]:,} open tasks, {rounds} rounds of both pages")
    return Timing("mijn taken", tasks), Timing("zaak", cases), sizes


async def measure_actions(base_url: str, case_ids: Sequence[str], rounds: int, say: Callable[[str], None]) -> Timing:
    """A school employee sends ``voortgang`` from the case page's form: POST to the updated page, ``rounds`` times,
    each to a case chosen at random; failures are raised, not counted."""
    samples: list[float] = []
    picker = random.Random(17)
    async with httpx.AsyncClient(base_url=base_url, timeout=60) as http:
        await login(http, ACTOR)
        for number in range(rounds):
            url = case_url(picker.choice(case_ids))
            page = await http.get(url)
            block = re.search(r'<details id="actie-voortgang".*?</details>', page.text, re.DOTALL)
            if block is None:
                raise RuntimeError(f"no voortgang form on {url}")
            csrf, token = _CSRF.search(block.group(0)), _TOKEN.search(block.group(0))
            assert csrf and token
            data = {"csrf": csrf.group(1), "token": token.group(1), "toelichting": f"Voortgang {number}."}
            begun = time.perf_counter()
            sent = await http.post(f"{url}/acties/voortgang", data=data)
            if sent.status_code != 303:
                raise RuntimeError(f"voortgang refused ({sent.status_code}) on {url}")
            after = await http.get(sent.headers["location"])
            samples.append((time.perf_counter() - begun) * 1000)
            if after.status_code != 200 or "Vastgelegd" not in after.text:
                raise RuntimeError(f"the updated page of {url} did not say it was recorded")
            if (number + 1) % max(1, rounds // 5) == 0:
                say(f"werkbak: {number + 1}/{rounds} actions")
    return Timing("actie", samples)
