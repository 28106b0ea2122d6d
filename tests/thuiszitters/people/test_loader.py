"""The directory's loader (``thuiszitters-personen``) against the real case register: good rows are stored, every
bad row is refused with its line and the reason and nothing of it is stored, a second load replaces a person's
roles, a dry run stores nothing, and the demo file loads whole and covers every role."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pytest

from tests.fixtures.postgres import fresh_database
from tests.paths import REPO
from thuiszitters.people import loader
from thuiszitters.people.directory import ADDRESS_SCOPE_OF_ROLE, Directory, PersoonRol, RolAdres
from thuiszitters.register.store import Register

HEADER = "persoon_id,naam,email,rol,scholen,regio,sector,alle"
EXAMPLES = REPO / "examples"


@pytest.fixture
def directory(register: Register) -> Directory:
    return Directory(register.pool)


def write(path: Path, *lines: str, header: str = HEADER) -> Path:
    path.write_text("\n".join([header, *lines]) + "\n", encoding="utf-8")
    return path


async def run(directory: Directory | None, *args: str | Path) -> tuple[int, dict[int, str], str]:
    """Run the command; its exit code, its report per line of the file, and the whole output."""
    out = io.StringIO()
    code = await loader.main([str(arg) for arg in args], directory=directory, out=out)
    text = out.getvalue()
    per_line = {int(m.group(1)): m.group(2) for m in re.finditer(r"^regel\s+(\d+)\s+(.*)$", text, flags=re.M)}
    return code, per_line, text


async def count(directory: Directory, table: str) -> int:
    return int(await directory.pool.fetchval(f"SELECT count(*) FROM {table}"))


async def test_a_good_file_is_stored_person_by_person_with_its_role_addresses(directory, tmp_path):
    path = write(
        tmp_path / "personen.csv",
        "scp-12ab-01,Demo SCP,scp.12ab@ppo.example,scp,12AB;34cd,,,",
        "coord-01,Demo Coördinator,coord@ppo.example,coordinator,,noord,,",
        "coord-01,Demo Coördinator,coord@ppo.example,coordinator,,Zuid,,",
        "lp-01,Demo Leerplicht,lp@gemeente.example,leerplicht,,,,ja",
        "beheerder-01,Demo Beheerder,beheer@example.org,beheerder,,,,nee",
        ",,scp-team@ppo.example,scp,12AB,,,",
        ",,koersloket@koersvo.example,koersloket,,,VO,",
    )
    code, per_line, text = await run(directory, path)

    assert code == 0, text
    assert per_line[2].split()[:3] == ["scp-12ab-01", "opgeslagen", "nieuw:"]
    assert "scp voor 12AB, 34CD" in per_line[2]
    assert per_line[3].startswith("coord-01") and "coordinator Noord" in per_line[3]
    assert per_line[7].startswith("(rol-adres)") and "rol-adres van scp voor 12AB" in per_line[7]
    assert "Samenvatting: 4 personen opgeslagen (4 nieuw), 2 rol-adressen opgeslagen" in text
    assert "@" not in "".join(per_line.values())  # no e-mail address is printed
    assert "Demo" not in text  # nor a name

    coordinator = await directory.get("coord-01")
    assert coordinator is not None
    assert [(s.rol, s.regio) for s in coordinator.rollen] == [("coordinator", "Noord"), ("coordinator", "Zuid")]
    scp = await directory.get("scp-12ab-01")
    assert scp is not None and scp.rollen[0].scholen == ("12AB", "34CD") and scp.bron == "bestand"
    assert await directory.addresses() == [
        RolAdres(rol="koersloket", sector="VO", email="koersloket@koersvo.example"),
        RolAdres(rol="scp", school_brin="12AB", email="scp-team@ppo.example"),
    ]


async def test_each_bad_row_is_refused_with_its_line_and_reason_and_nothing_of_it_is_stored(directory, tmp_path):
    path = write(
        tmp_path / "personen.csv",
        "good-01,Demo Goed,goed@example.org,scp,12AB,,,",  # 2
        "p-03,Demo,p03@example.org,directeur,12AB,,,",  # 3 unknown role
        "p-04,Demo,p04@example.org,scp,12ABC,,,",  # 4 bad BRIN
        "p-05,Demo,p05@example.org,coordinator,,,,",  # 5 scope missing
        "p-06,Demo,p06@example.org,scp,,Noord,,",  # 6 scope that does not fit the role
        "p-07,Demo,geen-adres,scp,12AB,,,",  # 7 bad e-mail
        "Jan de Vries,Demo,p08@example.org,scp,12AB,,,",  # 8 bad persoon_id (a name)
        "p-09,Demo,p09@example.org,ouders,,,,",  # 9 parents are not in the directory
        "p-10,Demo,p10@example.org,taskforce,,,,",  # 10 alle missing
        "p-11,Demo,p11@example.org,koersloket,,,PO,",  # 11 Koersloket in PO
        ",,team@example.org,taskforce,,,,ja",  # 12 a city-wide role address
        ",,team@example.org,scp,12AB;34CD,,,",  # 13 a role address for two schools
        "p-14,Demo,p14@example.org,scp,12AB,,,,extra",  # 14 more cells than the header
        "good-01,Demo Anders,goed@example.org,leerplicht,,,,ja",  # 15 the same person with another name
        "p-16,,p16@example.org,scp,12AB,,,",  # 16 name missing
    )
    code, per_line, text = await run(directory, path)

    assert code == 1
    expected = {
        3: "rol: 'directeur' bestaat niet; kies uit school, scp, koersloket",
        4: "scholen: '12ABC' is geen BRIN-code (twee cijfers en twee letters, zoals 12AB)",
        5: "rol coordinator heeft een regio (Noord of Zuid) nodig",
        6: "regio past niet bij rol scp",
        7: "email: geen geldig e-mailadres",
        8: "persoon_id: 1 tot 64 tekens uit letters, cijfers en _ . : - (een pseudoniem, nooit een naam)",
        9: "rol: ouders staan niet in de personenlijst",
        10: "rol taskforce heeft alle=ja (voor alle zaken) nodig",
        11: "sector: het Koersloket hoort bij VO",
        12: "alle: een rol-adres geldt nooit voor alle zaken",
        13: "scholen: een rol-adres geldt voor één school",
        14: "meer kolommen dan de kopregel",
        15: "naam wijkt af van regel 2 (dezelfde persoon_id)",
        16: "naam: ontbreekt (verplicht)",
    }
    for line, reason in expected.items():
        assert "GEWEIGERD" in per_line[line] and reason in per_line[line], (line, per_line[line])
    assert "Jan de Vries" not in text  # a name in the id column is not echoed
    # good-01's other row was refused, so good-01 is not stored at all (it would have lost a role).
    assert "NIET OPGESLAGEN" in per_line[2] and "regel 15 van deze persoon is geweigerd" in per_line[2]
    assert "Samenvatting: 0 personen opgeslagen, 0 rol-adressen opgeslagen, 14 regels GEWEIGERD" in text
    assert "1 regel NIET OPGESLAGEN" in text
    assert await count(directory, "personen") == 0
    assert await count(directory, "persoon_rollen") == 0
    assert await count(directory, "rol_adressen") == 0


async def test_the_good_rows_are_stored_though_other_rows_are_refused(directory, tmp_path):
    path = write(
        tmp_path / "personen.csv",
        "p-01,Demo,p01@example.org,scp,12AB,,,",
        "p-02,Demo,p02@example.org,scp,XXXX,,,",
        ",,team@example.org,coordinator,,Zuid,,",
    )
    code, per_line, _ = await run(directory, path)
    assert code == 1
    assert "opgeslagen" in per_line[2] and "GEWEIGERD" in per_line[3] and "opgeslagen" in per_line[4]
    assert await directory.get("p-01") is not None
    assert await directory.get("p-02") is None
    assert await directory.address_for("coordinator", regio="Zuid") == "team@example.org"


async def test_loading_again_updates_the_person_and_replaces_their_roles(directory, tmp_path):
    first = write(
        tmp_path / "eerst.csv",
        "p-01,Demo,p01@example.org,scp,12AB,,,",
        "p-01,Demo,p01@example.org,coordinator,,Noord,,",
        "p-02,Demo Twee,p02@example.org,wijkteam,,Zuid,,",
        ",,team-noord@ppo.example,coordinator,,Noord,,",
    )
    assert (await run(directory, first))[0] == 0
    await directory.deactivate("p-01")

    second = write(
        tmp_path / "daarna.csv",
        "p-01,Demo Nieuw,nieuw@example.org,scp,34CD,,,",
        ",,ander-team-noord@ppo.example,coordinator,,Noord,,",
    )
    code, per_line, text = await run(directory, second)
    assert code == 0
    assert "bijgewerkt: scp voor 34CD" in per_line[2]
    assert "bijgewerkt: rol-adres van coordinator voor Noord" in per_line[3]
    moved = await directory.get("p-01")
    assert moved is not None
    assert (moved.naam, moved.email, moved.actief) == ("Demo Nieuw", "nieuw@example.org", True)
    assert [(s.rol, s.scholen) for s in moved.rollen] == [("scp", ("34CD",))]  # the coordinator role is gone
    assert await directory.people_with_role("coordinator") == []
    untouched = await directory.get("p-02")  # not in the second file: as it was
    assert untouched is not None and untouched.has_role("wijkteam")
    assert await directory.address_for("coordinator", regio="Noord", sector="PO") == "ander-team-noord@ppo.example"

    code, per_line, text = await run(directory, second)
    assert code == 0 and "ongewijzigd: scp voor 34CD" in per_line[2]
    assert "1 persoon opgeslagen (1 ongewijzigd)" in text


async def test_a_dry_run_checks_every_row_and_stores_nothing(directory, tmp_path):
    path = write(
        tmp_path / "personen.csv",
        "p-01,Demo,p01@example.org,scp,12AB,,,",
        "p-02,Demo,p02@example.org,scp,,,,",
        ",,team@example.org,coordinator,,Zuid,,",
    )
    code, per_line, text = await run(directory, path, "--dry-run")
    assert code == 1
    assert "geldig" in per_line[2] and "niet opgeslagen: --dry-run" in per_line[2]
    assert "GEWEIGERD" in per_line[3] and "rol scp heeft scholen" in per_line[3]
    assert "geldig" in per_line[4]
    assert "Samenvatting: 1 persoon geldig, 1 rol-adres geldig, 1 regel GEWEIGERD (niets opgeslagen: --dry-run)" in text
    assert await count(directory, "personen") == 0
    assert await count(directory, "rol_adressen") == 0


async def test_json_lines_and_a_json_list_are_read_with_their_line_numbers(directory, tmp_path):
    rows = [
        {"persoon_id": "p-01", "naam": "Demo", "email": "p01@example.org", "rol": "scp", "scholen": ["12AB", "34CD"]},
        {"persoon_id": "p-02", "naam": "Demo", "email": "p02@example.org", "rol": "taskforce", "alle": True},
        {"persoon_id": "p-03", "naam": "Demo", "email": "p03@example.org", "rol": "scp", "school": "12AB"},
        {"rol": "koersloket", "sector": "VO", "email": "loket@koersvo.example"},
    ]
    jsonl = tmp_path / "personen.jsonl"
    jsonl.write_text("\n".join(json.dumps(row) for row in rows) + "\n{kapot\n", encoding="utf-8")
    code, per_line, _ = await run(directory, jsonl, "--dry-run")
    assert code == 1
    assert "scp voor 12AB, 34CD" in per_line[1] and "taskforce voor alle zaken" in per_line[2]
    assert "onbekend veld 'school'" in per_line[3]
    assert "rol-adres van koersloket voor VO" in per_line[4]
    assert "geen geldige JSON op deze regel" in per_line[5]

    listed = tmp_path / "personen.json"
    listed.write_text(json.dumps(rows[:2] + rows[3:], indent=2), encoding="utf-8")
    code, per_line, _ = await run(directory, listed)
    assert code == 0
    starts = [number for number, line in enumerate(listed.read_text().splitlines(), start=1) if line == "  {"]
    assert sorted(per_line) == starts
    stored = await directory.get("p-02")
    assert stored is not None and stored.rollen[0].alle is True


async def test_a_semicolon_separated_file_is_read_too(directory, tmp_path):
    path = write(
        tmp_path / "personen.csv", 'p-01;Demo;p01@example.org;scp;"12AB;34CD";;;', header=HEADER.replace(",", ";")
    )
    code, per_line, _ = await run(directory, path)
    assert code == 0 and "scp voor 12AB, 34CD" in per_line[2]


async def test_a_file_that_cannot_be_used_exits_2_with_a_dutch_message(directory, tmp_path, capsys):
    assert (await run(directory, tmp_path / "bestaat-niet.csv"))[0] == 2
    assert "Bestand niet gevonden" in capsys.readouterr().err

    typo = write(tmp_path / "typo.csv", "p-01,Demo,p01@example.org,scp,12AB", header="persoon_id,naam,email,rol,school")
    assert (await run(directory, typo))[0] == 2
    assert "onbekende kolom in de kopregel: school" in capsys.readouterr().err

    not_a_list = tmp_path / "personen.json"
    not_a_list.write_text('[{"rol": "scp"', encoding="utf-8")
    assert (await run(directory, not_a_list))[0] == 2
    assert "geen geldige JSON" in capsys.readouterr().err

    empty = write(tmp_path / "leeg.csv")
    code, _, text = await run(directory, empty)
    assert code == 1 and "geen regels gevonden" in text


async def test_the_command_finds_the_register_through_database_url(postgres_dsn, tmp_path, monkeypatch, capsys):
    path = write(tmp_path / "personen.csv", "p-01,Demo,p01@example.org,scp,12AB,,,")

    monkeypatch.delenv("DATABASE_URL", raising=False)
    assert (await run(None, path))[0] == 2
    assert "DATABASE_URL ontbreekt" in capsys.readouterr().err
    assert (await run(None, path, "--dry-run"))[0] == 0  # checking needs no database

    async with fresh_database(postgres_dsn, migrate=False) as database:
        monkeypatch.setenv("DATABASE_URL", database.dsn)
        assert (await run(None, path))[0] == 2
        err = capsys.readouterr().err
        assert "het zaakregister is niet bijgewerkt" in err.lower() and "004_personen" in err
        await database.register.migrate()
        code, per_line, _ = await run(None, path)
        assert code == 0 and "nieuw: scp voor 12AB" in per_line[2]
        assert await Directory(database.register.pool).get("p-01") is not None


# ------------------------------------------------------------------------------------------------- the demo file


async def test_the_demo_file_loads_without_errors_and_covers_every_role(directory):
    code, per_line, text = await run(directory, EXAMPLES / "personen.csv")
    assert code == 0, text
    assert per_line and all(" opgeslagen " in line for line in per_line.values())

    everyone = {}
    for rol in PersoonRol:
        holders = await directory.people_with_role(rol)
        assert holders, f"no demo person holds {rol}"
        everyone.update({p.persoon_id: p for p in holders})
    addressed = {adres.rol for adres in await directory.addresses()}
    assert addressed == {rol for rol, scopes in ADDRESS_SCOPE_OF_ROLE.items() if scopes}
    for persoon in everyone.values():
        assert persoon.email is not None and persoon.email.endswith((".example", "@example.org")), persoon.persoon_id
        assert persoon.naam.startswith("Demo "), persoon.persoon_id


async def test_the_demo_cases_find_their_people_and_no_school_sees_another_schools_case(directory):
    assert (await run(directory, EXAMPLES / "personen.csv"))[0] == 0
    with (EXAMPLES / "demo_aanmeldingen.csv").open(encoding="utf-8") as handle:
        cases = list(csv.DictReader(handle))
    po_schools = {case["school_brin"] for case in cases if case["sector"] == "PO" and case["school_brin"]}
    assert len(po_schools) >= 2

    for case in cases:
        sector, regio, school = case["sector"], case["regio"], case["school_brin"] or None
        abroad = case["uit_buitenland"] == "true"
        holders = await directory.responsible_for(sector, regio, school, uit_buitenland=abroad)
        contactrol = "leerplicht_absoluut_verzuim" if abroad else ("scp" if sector == "PO" else "koersloket")
        assert contactrol in holders, case["leerling_ref"]
        assert "leerplicht" in holders, case["leerling_ref"]
        assert ("coordinator" in holders) == (sector == "PO"), case["leerling_ref"]
        assert "scp" not in holders or sector == "PO"
        if school is not None:
            assert "school" in holders, case["leerling_ref"]
        for rol, persoon_id in holders.items():
            assert await directory.in_scope(persoon_id, rol, sector, regio, school), (case["leerling_ref"], rol)
        assert await directory.address_for(contactrol, school_brin=school, regio=regio, sector=sector) is not None

        for other in po_schools - {school}:
            (scp_of_other,) = [
                p.persoon_id for p in await directory.people_with_role("scp") if other in p.rollen[0].scholen
            ]
            assert not await directory.in_scope(scp_of_other, "scp", sector, regio, school), case["leerling_ref"]
            assert scp_of_other not in holders.values()
