"""The retention period on the real case register: old closed cases are anonymised, nothing else is touched, and the
counts reporting needs stay exactly the same."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from activities.templates import render
from tests.fixtures.postgres import with_database
from thuiszitters.register.store import Register
from thuiszitters.settings import Settings, SettingsError
from thuiszitters.tools.retention import ANONYMOUS_PREFIX, DEFAULT_PERIOD_DAYS, apply_retention, report_counts, summary
from workflows.calendar import amsterdam_date
from workflows.contract import (
    AfgerondeTaak,
    Document,
    Dossier,
    Escalatie,
    HuisbezoekVerslag,
    Regiehouder,
    Regio,
    Rol,
    Sector,
    Taak,
    TwaalfWekenCheck,
    Uitkomst,
)
from workflows.effects import Bericht, Registratie, RegistratieUitkomst, Systeem, Vastlegging

NOW = datetime.now(UTC)
TABLES = {
    "cases": "case_id",
    "case_events": "case_id, volgnummer",
    "tasks": "id",
    "escalations": "case_id, niveau",
    "registrations": "sleutel",
    "notifications": "sleutel",
}
ORIGINAL_CASE_COLUMNS = (
    "case_id, workflow_id, leerling_ref, sector, regio, school_brin, leerplichtig, startdatum, fase, regiehouder, "
    "escalatie, route, wachtlijst, afgesloten, uitkomst, laatste_volgnummer, geopend_op, afgesloten_op, bijgewerkt_op"
)


@dataclass(frozen=True)
class Case:
    case_id: str
    leerling_ref: str
    sector: Sector
    regio: Regio
    startdatum: date
    closed_on: datetime | None

    @property
    def weeks_at_home(self) -> int:
        assert self.closed_on is not None
        return (amsterdam_date(self.closed_on) - self.startdatum).days // 7


def ref() -> str:
    return f"L{uuid.uuid4().hex[:12]}"


async def record_case(
    register: Register,
    leerling_ref: str,
    *,
    sector: Sector,
    regio: Regio,
    startdatum: date,
    opened: datetime,
    closed: datetime | None,
    uitkomst: Uitkomst = Uitkomst.TERUG_OP_SCHOOL,
    escalatie: Escalatie = Escalatie.GEEN,
) -> Case:
    """A case as the workflow records it: opening, an escalation, closure, with a registration call and a
    notification (subject rendered from the real template)."""
    case_id = f"thuiszitter-{leerling_ref}:{uuid.uuid4()}"

    def line(number: int, tijd: datetime, gebeurtenis: str, **state: Any) -> Vastlegging:
        values: dict[str, Any] = {
            "sleutel": f"{case_id}:{number}:vastlegging",
            "case_id": case_id,
            "volgnummer": number,
            "leerling_ref": leerling_ref,
            "workflow_id": f"thuiszitter-{leerling_ref}",
            "tijd": tijd,
            "gebeurtenis": gebeurtenis,
            "door": "mentor Jansen",
            "sector": sector,
            "regio": regio,
            "school_brin": "12AB",
            "leerplichtig": True,
            "startdatum": startdatum,
            "fase": 1,
            "regiehouder": Regiehouder.SCHOOL,
            "escalatie": Escalatie.GEEN,
            "route": None,
            "wachtlijst": False,
            "afgesloten": False,
            "uitkomst": None,
            "open_taken": [
                Taak(
                    rol=Rol.SCHOOL,
                    taak="oudergesprek_organiseren",
                    omschrijving="...",
                    uiterlijk=startdatum + timedelta(days=45),
                )
            ],
        }
        values.update(state)
        return Vastlegging.model_validate(values)

    await register.record(line(1, opened, "aanmelding"))
    await register.record(line(2, opened + timedelta(days=30), "opschalen", fase=2, escalatie=escalatie))
    registratie = Registratie(
        sleutel=f"{case_id}:1:kindkans.hulpvraag_aanmaken",
        case_id=case_id,
        leerling_ref=leerling_ref,
        systeem=Systeem.KINDKANS,
        actie="hulpvraag_aanmaken",
        gegevens={"startdatum": startdatum.isoformat(), "school_brin": "12AB", "sector": sector.value},
    )
    assert await register.claim_registration(registratie) is None
    await register.finish_registration(
        registratie.sleutel,
        RegistratieUitkomst(
            sleutel=registratie.sleutel, verzonden=True, antwoord_status=201, kenmerk=f"KK-{leerling_ref}"
        ),
    )
    bericht = Bericht(
        sleutel=f"{case_id}:1:scp.melding_thuiszitter",
        case_id=case_id,
        leerling_ref=leerling_ref,
        rol=Rol.SCP,
        sjabloon="melding_thuiszitter",
        regio=regio,
        sector=sector,
        gegevens={"startdatum": startdatum.isoformat()},
    )
    onderwerp, _ = render(bericht)
    assert not await register.claim_notification(bericht, "log", onderwerp)
    await register.finish_notification(bericht.sleutel)
    if closed is not None:
        await register.record(
            line(
                3,
                closed,
                "passende_plek",
                fase=4,
                escalatie=escalatie,
                afgesloten=True,
                uitkomst=uitkomst,
                open_taken=[],
            )
        )
    return Case(case_id, leerling_ref, sector, regio, startdatum, closed)


@dataclass(frozen=True)
class CaseSet:
    """Five cases: three closed long ago (two of one pupil), one closed recently, one open for years."""

    old: list[Case]
    recent: Case
    open: Case


@pytest.fixture
async def cases(register: Register) -> CaseSet:
    twice = ref()
    old = [
        await record_case(
            register,
            twice,
            sector=Sector.PO,
            regio=Regio.NOORD,
            startdatum=(NOW - timedelta(days=1100)).date(),
            opened=NOW - timedelta(days=1095),
            closed=NOW - timedelta(days=1000),
            escalatie=Escalatie.COORDINATOR,
        ),
        await record_case(
            register,
            twice,
            sector=Sector.PO,
            regio=Regio.NOORD,
            startdatum=(NOW - timedelta(days=900)).date(),
            opened=NOW - timedelta(days=897),
            closed=NOW - timedelta(days=740),
            uitkomst=Uitkomst.INGETROKKEN,
        ),
        await record_case(
            register,
            ref(),
            sector=Sector.VO,
            regio=Regio.ZUID,
            startdatum=(NOW - timedelta(days=1300)).date(),
            opened=NOW - timedelta(days=1290),
            closed=NOW - timedelta(days=1100),
            uitkomst=Uitkomst.INGESCHREVEN_ANDERE_SCHOOL,
            escalatie=Escalatie.TASKFORCE,
        ),
    ]
    recent = await record_case(
        register,
        ref(),
        sector=Sector.VO,
        regio=Regio.NOORD,
        startdatum=(NOW - timedelta(days=200)).date(),
        opened=NOW - timedelta(days=199),
        closed=NOW - timedelta(days=30),
    )
    still_open = await record_case(
        register,
        ref(),
        sector=Sector.PO,
        regio=Regio.ZUID,
        startdatum=(NOW - timedelta(days=1200)).date(),
        opened=NOW - timedelta(days=1199),
        closed=None,
    )
    return CaseSet(old, recent, still_open)


async def snapshot(register: Register) -> dict[str, list[dict[str, Any]]]:
    """Every row of every table of the register, in a fixed order."""
    return {
        table: [dict(row) for row in await register.pool.fetch(f"SELECT * FROM {table} ORDER BY {order}")]
        for table, order in TABLES.items()
    }


async def rows_of(register: Register, case_id: str) -> dict[str, list[dict[str, Any]]]:
    """The case's rows in every table, with only the columns the register itself writes."""
    result: dict[str, list[dict[str, Any]]] = {}
    for table, order in TABLES.items():
        columns = ORIGINAL_CASE_COLUMNS if table == "cases" else "*"
        rows = await register.pool.fetch(f"SELECT {columns} FROM {table} WHERE case_id = $1 ORDER BY {order}", case_id)
        result[table] = [dict(row) for row in rows]
    return result


async def counts_by(register: Register, *columns: str) -> dict[tuple[Any, ...], int]:
    """How many cases there are per value of ``columns`` (SQL expressions), counted here independently."""
    selected = ", ".join(f"{column} AS d{number}" for number, column in enumerate(columns))
    grouped = ", ".join(str(number) for number in range(1, len(columns) + 1))
    rows = await register.pool.fetch(f"SELECT {selected}, count(*) AS n FROM cases GROUP BY {grouped}")
    return {tuple(row[f"d{number}"] for number in range(len(columns))): row["n"] for row in rows}


async def retention(register: Register, *, dry_run: bool = False, period_days: int = DEFAULT_PERIOD_DAYS) -> Any:
    async with register.pool.acquire() as connection:
        return await apply_retention(connection, period_days=period_days, dry_run=dry_run)


async def report(register: Register) -> Any:
    async with register.pool.acquire() as connection:
        return await report_counts(connection)


# ------------------------------------------------------------------------------------------------------ tests


async def test_old_closed_cases_lose_what_identifies_the_pupil(register: Register, cases: CaseSet) -> None:
    before = {case.case_id: await register.count_effects(case.case_id) for case in cases.old}

    result = await retention(register)

    assert result.anonymised == 3
    assert dict(result.per_sector) == {"PO": 2, "VO": 1}
    everything = repr(await snapshot(register))
    for case in cases.old:
        assert case.leerling_ref not in everything
        assert case.case_id not in everything
        assert f"KK-{case.leerling_ref}" not in everything
    assert "mentor Jansen" in everything  # still there for the cases that were not due

    anonymous = [
        dict(row)
        for row in await register.pool.fetch(
            "SELECT * FROM cases WHERE geanonimiseerd_op IS NOT NULL ORDER BY afgesloten_op"
        )
    ]
    by_start = {row["startdatum"].replace(day=1): row for row in anonymous}
    assert len(anonymous) == 3
    # The two cases of one pupil can no longer be linked to each other.
    assert len({row["leerling_ref"] for row in anonymous}) == 3
    for case in cases.old:
        row = by_start[case.startdatum.replace(day=1)]
        new_id = row["case_id"]
        assert new_id.startswith(ANONYMOUS_PREFIX)
        assert row["leerling_ref"] == row["workflow_id"] == new_id
        assert row["startdatum"] == case.startdatum.replace(day=1)
        assert row["weken_thuis"] == case.weeks_at_home
        assert (row["sector"], row["regio"], row["school_brin"]) == (case.sector.value, case.regio.value, "12AB")
        assert await register.count_effects(new_id) == before[case.case_id]
        [registration] = await register.registrations_for(new_id)
        assert registration.gegevens == {}
        assert registration.kenmerk is None
        assert registration.status == "verzonden"
        assert registration.sleutel == f"{new_id}:1:kindkans.hulpvraag_aanmaken"
        [notification] = await register.notifications_for(new_id)
        assert notification.sleutel == f"{new_id}:1:scp.melding_thuiszitter"
        assert notification.onderwerp == f"Melding thuiszitter: leerling {new_id}"
        assert all(event.door is None for event in await register.events_for(new_id))
        tasks = await register.tasks_for(new_id, open_only=False)
        assert tasks and all(task.uiterlijk is None or task.uiterlijk.day == 1 for task in tasks)


async def test_open_and_recently_closed_cases_are_untouched(register: Register, cases: CaseSet) -> None:
    before = {case.case_id: await rows_of(register, case.case_id) for case in (cases.recent, cases.open)}

    await retention(register)

    for case_id, rows in before.items():
        assert await rows_of(register, case_id) == rows
        assert rows["registrations"][0]["gegevens"]  # the untouched rows really had something to lose


async def test_counts_for_reporting_stay_the_same(register: Register, cases: CaseSet) -> None:
    dimensions = ("sector", "regio", "uitkomst", "escalatie", "fase")
    counts_before = {d: await counts_by(register, d) for d in dimensions}
    per_month_before = await counts_by(register, "date_trunc('month', startdatum)", "sector", "regio")
    report_before = await report(register)

    await retention(register)

    assert {d: await counts_by(register, d) for d in dimensions} == counts_before
    assert await counts_by(register, "date_trunc('month', startdatum)", "sector", "regio") == per_month_before
    report_after = await report(register)
    assert report_after == report_before
    weeks = sorted(line.weken_thuis for line in report_after if line.weken_thuis is not None)
    assert weeks == sorted(case.weeks_at_home for case in [*cases.old, cases.recent])
    assert sum(line.aantal for line in report_after) == 5


async def test_dry_run_changes_nothing_and_says_what_it_would_do(register: Register, cases: CaseSet) -> None:
    before = await snapshot(register)

    result = await retention(register, dry_run=True)

    assert await snapshot(register) == before
    assert result.anonymised == 3
    text = summary(result)
    assert "Zou anonimiseren: 3 zaken (PO: 2, VO: 1, Noord: 2, Zuid: 1)" in text
    assert "Proefdraai (--dry-run): er is niets gewijzigd." in text


async def test_a_second_run_changes_nothing(register: Register, cases: CaseSet) -> None:
    first = await retention(register)
    after_first = await snapshot(register)

    second = await retention(register)

    assert first.anonymised == 3
    assert second.anonymised == 0
    assert second.already_anonymised == 3
    assert await snapshot(register) == after_first
    assert "Geanonimiseerd: geen zaken" in summary(second)


async def test_numbers_continue_after_an_earlier_run(register: Register, cases: CaseSet) -> None:
    await retention(register, period_days=900)  # only the two closed longest ago
    await retention(register)

    ids = sorted(
        row["case_id"]
        for row in await register.pool.fetch("SELECT case_id FROM cases WHERE geanonimiseerd_op IS NOT NULL")
    )
    assert ids == [f"{ANONYMOUS_PREFIX}{n}" for n in (1, 2, 3)]


async def test_the_command_line_reads_the_period_and_prints_a_dutch_summary(
    register: Register, cases: CaseSet, postgres_dsn: str
) -> None:
    database = await register.pool.fetchval("SELECT current_database()")
    env = {
        **os.environ,
        "DATABASE_URL": with_database(postgres_dsn, database),
        "THUISZITTERS_BEWAARTERMIJN_DAGEN": "900",
    }

    def command(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "thuiszitters.tools.retention", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )

    dry = command("--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "Bewaartermijn: 900 dagen" in dry.stdout
    assert "Zou anonimiseren: 2 zaken" in dry.stdout
    assert await register.pool.fetchval("SELECT count(*) FROM cases WHERE leerling_ref LIKE 'geanonimiseerd-%'") == 0

    real = command("--na-dagen", "700")
    assert real.returncode == 0, real.stderr
    assert "Geanonimiseerd: 3 zaken" in real.stdout
    assert "Ongemoeid gelaten: 1 open zaak, 1 afgesloten binnen de bewaartermijn" in real.stdout

    wrong = command("--na-dagen", "twee jaar")
    assert wrong.returncode == 2
    assert "--na-dagen: 'twee jaar' is geen geldig aantal dagen" in wrong.stderr


async def test_what_people_wrote_in_a_version_2_case_is_removed(register: Register) -> None:
    """The dossier, the documents, a task's description and the note of a task finished by hand: nothing of it is
    kept; nor who held or finished a task. The tasks themselves, and the counts, stay."""
    leerling_ref = ref()
    case_id = f"thuiszitter-{leerling_ref}:{uuid.uuid4()}"
    start = (NOW - timedelta(days=1000)).date()
    marks = {name: f"{name}-{uuid.uuid4().hex[:8]}" for name in ("verslag", "document", "actie", "toelichting")}
    actie = Taak(
        id="T7",
        rol=Rol.WIJKTEAM,
        taak="taskforce_actie",
        omschrijving=f"Regel {marks['actie']}",
        uiterlijk=start + timedelta(days=60),
        toegewezen_aan="wijkteam-9",
    )

    def line(number: int, tijd: datetime, **state: Any) -> Vastlegging:
        values: dict[str, Any] = {
            "sleutel": f"{case_id}:{number}:vastlegging",
            "case_id": case_id,
            "volgnummer": number,
            "leerling_ref": leerling_ref,
            "workflow_id": f"thuiszitter-{leerling_ref}",
            "tijd": tijd,
            "gebeurtenis": "taskforce_besluit",
            "door": "taskforce",
            "sector": Sector.PO,
            "regio": Regio.ZUID,
            "school_brin": "12AB",
            "leerplichtig": True,
            "startdatum": start,
            "fase": 3,
            "regiehouder": Regiehouder.TASKFORCE,
            "escalatie": Escalatie.TASKFORCE,
            "route": None,
            "wachtlijst": False,
            "afgesloten": False,
            "uitkomst": None,
            "open_taken": [actie],
            "contract_versie": 2,
            "contactrol": Rol.SCP,
            "leerplichtig_vanaf": start + timedelta(days=17),
            "twaalf_weken_check": TwaalfWekenCheck(stand="opgeschaald", uiterlijk=start + timedelta(days=98)),
            "kerngroep_bespreking_op": start + timedelta(days=103),
            "toegewezen": {"wijkteam": "wijkteam-9"},
            "dossier": Dossier(
                huisbezoek=HuisbezoekVerslag(op=start + timedelta(days=90), samenvatting=marks["verslag"])
            ),
            "documenten": [
                Document(
                    soort="huisbezoekverslag", verwijzing=marks["document"], toegevoegd_op=start + timedelta(days=90)
                )
            ],
        }
        values.update(state)
        return Vastlegging.model_validate(values)

    opened = NOW - timedelta(days=995)
    await register.record(line(1, opened))
    finished = AfgerondeTaak(
        id="T7",
        rol=Rol.WIJKTEAM,
        taak="taskforce_actie",
        afgerond_op=amsterdam_date(NOW - timedelta(days=900)),
        door="wijkteam-9",
        via="taak_afgerond",
        toelichting=marks["toelichting"],
    )
    closing = line(
        2,
        NOW - timedelta(days=900),
        gebeurtenis="afronden",
        fase=4,
        afgesloten=True,
        uitkomst=Uitkomst.TERUG_OP_SCHOOL,
        open_taken=[],
        afgeronde_taken=[finished],
        dossier=None,
        documenten=None,
    )
    await register.record(closing)
    before = await register.count_effects(case_id)
    written = repr(await register.tasks_for(case_id, open_only=False)) + repr(await register.dossier_for(case_id))
    assert all(mark in written for mark in marks.values())  # the texts were really there to lose

    result = await retention(register)

    assert result.anonymised == 1
    assert result.dossiers == 1
    assert "1 dossier gewist" in summary(result)
    [new_id] = [row["case_id"] for row in await register.pool.fetch("SELECT case_id FROM cases")]
    everything = repr(await snapshot(register)) + repr(
        [dict(row) for row in await register.pool.fetch("SELECT * FROM case_dossier")]
    )
    for text in [*marks.values(), "wijkteam-9", leerling_ref, case_id]:
        assert text not in everything
    assert await register.dossier_for(new_id) is None
    assert await register.count_effects(new_id) == before
    [task] = await register.tasks_for(new_id, open_only=False)
    assert (task.taak_id, task.taak, task.via) == ("T7", "taskforce_actie", "taak_afgerond")
    assert (task.omschrijving, task.toelichting, task.door, task.toegewezen_aan) == (None, None, None, None)
    case = await register.case(new_id)
    assert case is not None
    assert (case.toegewezen, case.leerplichtig_vanaf, case.check_stand) == ({}, None, "opgeschaald")
    assert case.check_uiterlijk is not None and case.check_uiterlijk.day == 1
    assert case.kerngroep_bespreking_op is not None and case.kerngroep_bespreking_op.day == 1


@pytest.mark.parametrize("value", ["0", "-5", "abc", "1.5"])
def test_a_wrong_period_in_the_environment_is_refused_by_name(value: str) -> None:
    with pytest.raises(SettingsError, match=r"^THUISZITTERS_BEWAARTERMIJN_DAGEN: "):
        Settings.from_env({"THUISZITTERS_BEWAARTERMIJN_DAGEN": value})


def test_the_period_defaults_to_two_years() -> None:
    assert Settings.from_env({}).bewaartermijn_dagen == DEFAULT_PERIOD_DAYS == 730
    assert Settings.from_env({"THUISZITTERS_BEWAARTERMIJN_DAGEN": " 365 "}).bewaartermijn_dagen == 365
