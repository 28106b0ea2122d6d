"""The command line as a person runs it: who they are comes from the directory, the policy decides on what the case
is before anything of it is shown or sent, and every command leaves exactly one row in the audit log. Against the
real dev server, a real worker and a real case register."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from temporalio.client import Client

from tests.cases import eventually, pupil, start
from tests.fixtures.temporal import CaseWorker, case_worker
from tests.thuiszitters.tools.test_cli import KOERSLOKET, SCHOOL, load_people, run_cli
from thuiszitters.people.audit import AuditLog
from thuiszitters.people.directory import Directory, RolScope
from thuiszitters.register.store import Register
from thuiszitters.tools import cli
from workflows.calendar import amsterdam_date
from workflows.contract import CaseStatus, workflow_id_for

ELDERS = "school-34cd-01"
"""The person of another school: none of the cases of school 12AB are theirs."""
TWEE_ROLLEN = "twee-rollen-01"
BEHEERDER = "beheerder-01"
OUD = "oud-01"
OTHERS: dict[str, tuple[RolScope, ...]] = {
    ELDERS: (RolScope(rol="school", scholen=("34CD",)),),
    TWEE_ROLLEN: (RolScope(rol="school", scholen=("12AB",)), RolScope(rol="leerplicht", alle=True)),
    BEHEERDER: (RolScope(rol="beheerder"),),
    OUD: (RolScope(rol="school", scholen=("12AB",)),),
}
Row = tuple[Any, ...]


async def rows(register: Register) -> list[Row]:
    """Every audit row, oldest first: (persoon_id, rol, kanaal, actie, case_id, resultaat, reden)."""
    records = await register.pool.fetch(
        "SELECT persoon_id, rol, kanaal, actie, case_id, resultaat, reden FROM audit_log ORDER BY id"
    )
    return [tuple(record.values()) for record in records]


async def one_row(register: Register, before: int) -> Row:
    """The one row a command left: there must be exactly one more than ``before``."""
    now = await rows(register)
    assert len(now) == before + 1, now[before:]
    return now[-1]


async def register_case_id(register: Register, ref: str) -> str:
    """The register's id of the pupil's case, once the worker has recorded it."""
    found = await eventually(
        lambda: register.pool.fetchval("SELECT case_id FROM cases WHERE leerling_ref = $1", ref), bool
    )
    assert isinstance(found, str)
    return found


async def update_payloads(client: Client, ref: str) -> list[tuple[str, dict[str, Any]]]:
    """Each update the case accepted, with its payload as the case received it (from its history)."""
    found = []
    async for event in client.get_workflow_handle(workflow_id_for(ref)).fetch_history_events():
        if event.HasField("workflow_execution_update_accepted_event_attributes"):
            request = event.workflow_execution_update_accepted_event_attributes.accepted_request
            [payload] = await client.data_converter.decode(list(request.input.args.payloads), [dict])
            found.append((request.input.name, payload))
    return found


@pytest.fixture
async def people(register: Register) -> None:
    await load_people(register)
    await load_people(register, OTHERS)
    await Directory(register.pool).deactivate(OUD)


async def started(worker: CaseWorker, **fields: Any) -> str:
    aanmelding = pupil(amsterdam_date(datetime.now(UTC)) - timedelta(days=12), **fields)
    await start(worker.client, aanmelding, worker.task_queue)
    return aanmelding.leerling_ref


async def test_each_read_and_action_leaves_exactly_one_row(dev_env, register, test_settings, people, capsys):
    async with case_worker(dev_env, register, test_settings) as worker:
        ref = await started(worker)
        case_id = await register_case_id(register, ref)
        assert case_id.startswith(f"{workflow_id_for(ref)}:")
        mine = (SCHOOL, "school", "cli")

        before = len(await rows(register))
        code, text = await run_cli(worker, SCHOOL, "status", ref)
        assert code == 0 and f"Leerling {ref}" in text
        assert await one_row(register, before) == (*mine, "zaak_lezen", case_id, "toegestaan", None)

        before += 1
        code, text = await run_cli(worker, SCHOOL, "status", ref, "--json")
        assert code == 0 and f'"leerling_ref": "{ref}"' in text
        assert await one_row(register, before) == (*mine, "zaak_lezen", case_id, "toegestaan", None)

        before += 1
        gesprek = '{"deelnemers": ["school", "ouders", "scp"]}'
        code, text = await run_cli(worker, SCHOOL, "gebeurtenis", ref, "oudergesprek", gesprek)
        assert code == 0 and "Geaccepteerd: oudergesprek" in text
        assert await one_row(register, before) == (*mine, "oudergesprek", case_id, "toegestaan", None)

        # Allowed by the policy, refused by the case: one row, refused, with the case's reason.
        before += 1
        code, text = await run_cli(worker, SCHOOL, "gebeurtenis", ref, "route", '{"route": "3.2"}')
        assert code == 1 and text == ""
        assert "afgewezen: route: eerst het plan van aanpak" in capsys.readouterr().err
        row = await one_row(register, before)
        assert row[:6] == (*mine, "route", case_id, "geweigerd")
        assert row[6].startswith("afgewezen door de zaak: route: eerst het plan van aanpak")

        before += 1
        code, text = await run_cli(worker, SCHOOL, "lijst")
        assert code == 0 and text.endswith("zaak/zaken\n")
        assert await one_row(register, before) == (*mine, "zaken_lijst", None, "toegestaan", None)

        before += 1
        code, _ = await run_cli(worker, SCHOOL, "status", "onbekende-leerling")
        assert code == 1 and "geen zaak gevonden" in capsys.readouterr().err
        assert await one_row(register, before) == (*mine, "zaak_lezen", None, "geweigerd", "geen zaak gevonden")

        assert await AuditLog(register.pool).verify() is None


async def test_a_refused_read_shows_nothing_of_the_case_and_leaves_one_refused_row(
    dev_env, register, test_settings, people, capsys
):
    async with case_worker(dev_env, register, test_settings) as worker:
        ref = await started(worker)
        case_id = await register_case_id(register, ref)

        before = len(await rows(register))
        code, text = await run_cli(worker, ELDERS, "status", ref)
        assert code == 1 and text == ""
        error = capsys.readouterr().err
        reden = (
            "De school mag deze zaak niet inzien: dat mag alleen de school van de leerling; "
            "uw toegang: zaken van uw scholen (34CD)."
        )
        assert error == f"Geweigerd: {reden}\n"
        assert await one_row(register, before) == (ELDERS, "school", "cli", "zaak_lezen", case_id, "geweigerd", reden)

        # Nor --json, nor an event: the case is not theirs.
        before += 1
        code, text = await run_cli(worker, ELDERS, "status", ref, "--json")
        assert code == 1 and text == "" and ref not in capsys.readouterr().err
        assert (await one_row(register, before))[3:6] == ("zaak_lezen", case_id, "geweigerd")
        before += 1
        code, text = await run_cli(worker, ELDERS, "gebeurtenis", ref, "voortgang", '{"toelichting": "Gebeld."}')
        assert code == 1 and text == ""
        assert "Geweigerd: De school mag 'voortgang' in deze zaak niet sturen" in capsys.readouterr().err
        assert (await one_row(register, before))[:6] == (ELDERS, "school", "cli", "voortgang", case_id, "geweigerd")
        assert [name for name, _ in await update_payloads(worker.client, ref)] == []

        # The beheerder reads no file of a child, and lists none.
        before += 1
        code, text = await run_cli(worker, BEHEERDER, "status", ref)
        assert code == 1 and text == ""
        assert "de beheerder beheert personen en zaken, maar leest of wijzigt geen dossiers" in capsys.readouterr().err
        assert (await one_row(register, before))[:6] == (
            BEHEERDER,
            "beheerder",
            "cli",
            "zaak_lezen",
            case_id,
            "geweigerd",
        )
        before += 1
        code, text = await run_cli(worker, BEHEERDER, "lijst")
        assert code == 1 and text == ""
        capsys.readouterr()
        assert (await one_row(register, before))[:6] == (
            BEHEERDER,
            "beheerder",
            "cli",
            "zaken_lijst",
            None,
            "geweigerd",
        )

        assert await AuditLog(register.pool).verify() is None


async def test_who_is_not_in_the_directory_or_chooses_no_role_is_refused_and_recorded(
    dev_env, register, test_settings, people, capsys
):
    async with case_worker(dev_env, register, test_settings) as worker:
        ref = await started(worker)
        case_id = await register_case_id(register, ref)

        async def refused(persoon: str, *options: str) -> Row:
            before = len(await rows(register))
            code, text = await run_cli(worker, persoon, *options, "status", ref)
            assert code == 1 and text == ""
            assert "Tijdlijn" not in capsys.readouterr().err
            return await one_row(register, before)

        assert await refused("niemand-01") == (
            "niemand-01",
            "onbekend",
            "cli",
            "zaak_lezen",
            case_id,
            "geweigerd",
            "persoon 'niemand-01' staat niet in de personenlijst",
        )
        assert (await refused(OUD))[1:] == (
            "onbekend",
            "cli",
            "zaak_lezen",
            case_id,
            "geweigerd",
            f"persoon '{OUD}' is niet actief in de personenlijst",
        )
        assert (await refused(TWEE_ROLLEN))[1:] == (
            "onbekend",
            "cli",
            "zaak_lezen",
            case_id,
            "geweigerd",
            f"persoon '{TWEE_ROLLEN}' heeft meerdere rollen (school, leerplicht); kies er één met --rol",
        )
        assert (await refused(SCHOOL, "--rol", "coordinator"))[1:] == (
            "coordinator",
            "cli",
            "zaak_lezen",
            case_id,
            "geweigerd",
            f"persoon '{SCHOOL}' heeft de rol coordinator niet (wel: school)",
        )

        # The chosen role is the one the policy checks and the row records; --rol may come after the command too.
        for rol in ("school", "leerplicht"):
            before = len(await rows(register))
            code, text = await run_cli(worker, TWEE_ROLLEN, "status", ref, "--rol", rol)
            assert code == 0 and f"Leerling {ref}" in text
            assert await one_row(register, before) == (
                TWEE_ROLLEN,
                rol,
                "cli",
                "zaak_lezen",
                case_id,
                "toegestaan",
                None,
            )

        # A person's id that cannot be one is refused before anything is looked up: nothing read, no row.
        before = len(await rows(register))
        code, _ = await run_cli(worker, "Jan de Vries", "status", ref)
        assert code == 1 and "ongeldige persoon" in capsys.readouterr().err
        assert len(await rows(register)) == before


async def test_an_event_carries_the_role_and_the_person_who_sent_it(dev_env, register, test_settings, people, capsys):
    async with case_worker(dev_env, register, test_settings) as worker:
        ref = await started(worker, sector="VO", age=13)
        case_id = await register_case_id(register, ref)
        gesprek = '{"deelnemers": ["school", "ouders", "koersloket"]}'

        before = len(await rows(register))
        code, text = await run_cli(worker, KOERSLOKET, "gebeurtenis", ref, "oudergesprek", gesprek)
        assert code == 0 and "Geaccepteerd: oudergesprek" in text
        assert await one_row(register, before) == (
            KOERSLOKET,
            "koersloket",
            "cli",
            "oudergesprek",
            case_id,
            "toegestaan",
            None,
        )

        # A payload that is no JSON: refused for its input before anything is looked up, so no row.
        code, _ = await run_cli(worker, SCHOOL, "gebeurtenis", ref, "voortgang", '{"toelichting": ')
        assert code == 1 and "de inhoud is geen geldige JSON" in capsys.readouterr().err
        assert len(await rows(register)) == before + 1

        # Nobody acts on behalf of someone else: refused before it is sent, and recorded.
        namens = f'{{"toelichting": "Gebeld.", "persoon": "{KOERSLOKET}"}}'
        code, text = await run_cli(worker, SCHOOL, "gebeurtenis", ref, "voortgang", namens)
        assert code == 1 and text == ""
        assert "persoon: u kunt alleen namens uzelf handelen" in capsys.readouterr().err
        assert await one_row(register, before + 1) == (
            SCHOOL,
            "school",
            "cli",
            "voortgang",
            case_id,
            "geweigerd",
            "persoon: u kunt alleen namens uzelf handelen",
        )

        code, text = await run_cli(worker, SCHOOL, "gebeurtenis", ref, "voortgang", '{"toelichting": "Gebeld."}')
        assert code == 0

        # What the case received: door and persoon of whoever ran the command; its timeline names the role.
        assert await update_payloads(worker.client, ref) == [
            (
                "oudergesprek",
                {"deelnemers": ["school", "ouders", "koersloket"], "door": "koersloket", "persoon": KOERSLOKET},
            ),
            ("voortgang", {"toelichting": "Gebeld.", "door": "school", "persoon": SCHOOL}),
        ]
        code, text = await run_cli(worker, KOERSLOKET, "status", ref, "--json")
        assert code == 0
        status = CaseStatus.model_validate_json(text)
        sent = [(r.gebeurtenis, r.door) for r in status.tijdlijn if r.gebeurtenis in ("oudergesprek", "voortgang")]
        assert sent == [("oudergesprek", "koersloket"), ("voortgang", "school")]


async def test_the_list_holds_only_the_cases_of_the_persons_scope(dev_env, register, test_settings, people):
    async with case_worker(dev_env, register, test_settings) as worker:
        hier = await started(worker, regio="Zuid")
        daar = await started(worker, regio="Zuid", school_brin="34CD")
        await register_case_id(register, hier)
        await register_case_id(register, daar)
        query = ("--query", 'Regio="Zuid"')
        calls = 0

        async def listed(persoon: str, *options: str) -> str:
            nonlocal calls
            calls += 1
            code, text = await run_cli(worker, persoon, "lijst", *query, *options)
            assert code == 0
            return text

        mine = await eventually(lambda: listed(SCHOOL), lambda text: f"thuiszitter-{hier}" in text)
        theirs = await eventually(lambda: listed(ELDERS), lambda text: f"thuiszitter-{daar}" in text)
        both = await eventually(
            lambda: listed(TWEE_ROLLEN, "--rol", "leerplicht"),  # Leerplicht for every case
            lambda text: f"thuiszitter-{hier}" in text and f"thuiszitter-{daar}" in text,
        )
        koersloket = await listed(KOERSLOKET)  # VO only: these PO cases are none of theirs

        assert f"thuiszitter-{daar}" not in mine and mine.endswith("1 zaak/zaken\n")
        assert f"thuiszitter-{hier}" not in theirs and theirs.endswith("1 zaak/zaken\n")
        assert both.endswith("2 zaak/zaken\n")
        assert "thuiszitter-" not in koersloket and koersloket.endswith("0 zaak/zaken\n")
        # One row per list, allowed, about no case.
        listings = [row for row in await rows(register) if row[3] == "zaken_lijst"]
        assert len(listings) == calls
        assert {row[4:] for row in listings} == {(None, "toegestaan", None)}


async def test_the_person_may_come_from_the_setting(dev_env, register, test_settings, people, monkeypatch, capsys):
    async with case_worker(dev_env, register, test_settings) as worker:
        ref = await started(worker)

        async def run(*argv: str) -> int:
            return await cli.main(list(argv), client=worker.client, out=io.StringIO(), register=register)

        monkeypatch.delenv("THUISZITTERS_PERSOON", raising=False)
        before = len(await rows(register))
        assert await run("status", ref) == 1
        assert "zeg wie u bent: --persoon ID" in capsys.readouterr().err
        assert len(await rows(register)) == before  # nobody named: nothing read, no row

        monkeypatch.setenv("THUISZITTERS_PERSOON", SCHOOL)
        assert await run("status", ref) == 0
        assert (await one_row(register, before))[:2] == (SCHOOL, "school")
        assert await run("--persoon", KOERSLOKET, "status", ref) == 1  # the option wins; a PO case is not theirs
        assert (await one_row(register, before + 1))[:2] == (KOERSLOKET, "koersloket")


async def test_without_an_audit_row_nothing_is_shown(dev_env, register, test_settings, people, capsys):
    async with case_worker(dev_env, register, test_settings) as worker:
        ref = await started(worker)
        await register.pool.execute("ALTER TABLE audit_log RENAME TO audit_log_elders")
        try:
            code, text = await run_cli(worker, SCHOOL, "status", ref)
        finally:
            await register.pool.execute("ALTER TABLE audit_log_elders RENAME TO audit_log")

        assert code == 1 and text == ""
        assert (
            "het auditlog is niet te schrijven (UndefinedTableError); er wordt niets getoond" in capsys.readouterr().err
        )
        assert await rows(register) == []
