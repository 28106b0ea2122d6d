"""The command line for people and scripts, against the real dev server and a real worker, run by people of the
directory loaded into the test's register."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime, timedelta

import pytest

from tests.cases import eventually, pupil, start
from tests.fixtures.temporal import CaseWorker, case_worker
from thuiszitters.people.directory import Directory, Persoon, RolScope
from thuiszitters.register.store import Register
from thuiszitters.tools import cli
from workflows.calendar import amsterdam_date

SCHOOL = "school-12ab-01"
KOERSLOKET = "koersloket-01"
PEOPLE: dict[str, tuple[RolScope, ...]] = {
    SCHOOL: (RolScope(rol="school", scholen=("12AB",)),),
    KOERSLOKET: (RolScope(rol="koersloket", sector="VO"),),
}
"""Demo people for the cases of ``tests.cases.pupil`` (school 12AB): the school's own person and the Koersloket."""


async def load_people(register: Register, people: dict[str, tuple[RolScope, ...]] | None = None) -> None:
    directory = Directory(register.pool)
    for persoon_id, rollen in (PEOPLE if people is None else people).items():
        await directory.upsert(Persoon(persoon_id=persoon_id, naam=f"Demo {persoon_id}", rollen=rollen))


async def run_cli(worker: CaseWorker, persoon: str, *argv: str) -> tuple[int, str]:
    """The command line as ``persoon`` runs it, on the worker's server and register."""
    out = io.StringIO()
    code = await cli.main(["--persoon", persoon, *argv], client=worker.client, out=out, register=worker.register)
    return code, out.getvalue()


async def test_event_status_and_list_through_the_cli(dev_env, register, test_settings, capsys):
    await load_people(register)
    async with case_worker(dev_env, register, test_settings) as worker:
        aanmelding = pupil(amsterdam_date(datetime.now(UTC)) - timedelta(days=12), regio="Zuid")
        await start(worker.client, aanmelding, worker.task_queue)
        ref = aanmelding.leerling_ref

        gesprek = '{"deelnemers": ["school", "ouders", "scp"]}'
        code, text = await run_cli(worker, SCHOOL, "gebeurtenis", ref, "oudergesprek", gesprek, "--door", "school")
        assert code == 0
        assert "Geaccepteerd: oudergesprek" in text and "fase        2: Oudergesprek en plan van aanpak" in text
        assert "contract    versie 2" in text
        # The school's task, assigned to the school's person once the case has found them in the directory.
        task = r"^  - T\d+ school( \[school-12ab-01\])?: Stel het plan van aanpak op .*\(uiterlijk \d{4}-\d\d-\d\d\)$"
        assert re.search(task, text, re.M)

        code, _ = await run_cli(worker, SCHOOL, "gebeurtenis", ref, "route", '{"route": "3.2", "door": "school"}')
        assert code == 1
        assert "afgewezen: route: eerst het plan van aanpak" in capsys.readouterr().err

        code, text = await run_cli(worker, SCHOOL, "status", ref)
        assert code == 0
        assert "weken thuis" in text and "oudergesprek [" not in text.split("Tijdlijn:")[0]
        assert "Tijdlijn:" in text and "Oudergesprek gevoerd met ouders, school, scp." in text

        async def listed() -> str:
            return (await run_cli(worker, SCHOOL, "lijst", "--query", 'Fase=2 AND Regio="Zuid"'))[1]

        listing = await eventually(listed, lambda text: f"thuiszitter-{ref}" in text)
        assert "Zuid" in listing

        code, _ = await run_cli(worker, SCHOOL, "status", "onbekende-leerling")
        assert code == 1
        assert "geen zaak gevonden" in capsys.readouterr().err
        code, _ = await run_cli(worker, SCHOOL, "gebeurtenis", ref, "bestaat_niet")
        assert code == 1
        assert "onbekende gebeurtenis" in capsys.readouterr().err


async def test_the_door_of_an_event_is_the_role_of_the_person_who_sends_it(dev_env, register, test_settings, capsys):
    await load_people(register)
    async with case_worker(dev_env, register, test_settings) as worker:
        aanmelding = pupil(amsterdam_date(datetime.now(UTC)) - timedelta(days=12), sector="VO", age=13)
        await start(worker.client, aanmelding, worker.task_queue)
        ref = aanmelding.leerling_ref
        gesprek = '{"deelnemers": ["school", "ouders", "koersloket"]}'

        # A payload that names another role: refused before anything is sent.
        als_scp = '{"deelnemers": ["school"], "door": "scp"}'
        code, _ = await run_cli(worker, SCHOOL, "gebeurtenis", ref, "oudergesprek", als_scp)
        assert code == 1
        assert "door: u bent aangemeld als de school; een andere rol ('scp') kan niet" in capsys.readouterr().err
        code, text = await run_cli(worker, SCHOOL, "status", ref)
        assert code == 0 and "Oudergesprek gevoerd" not in text

        # --door and a different "door" in the payload: the command does not guess; --door of another role neither.
        code, _ = await run_cli(worker, SCHOOL, "gebeurtenis", ref, "oudergesprek", als_scp, "--door", "school")
        assert code == 1
        assert "kies één van beide" in capsys.readouterr().err
        code, _ = await run_cli(worker, SCHOOL, "gebeurtenis", ref, "oudergesprek", gesprek, "--door", "koersloket")
        assert code == 1
        assert "u bent aangemeld als de school; een andere rol ('koersloket') kan niet" in capsys.readouterr().err

        # A role that may not send the event: the policy refuses it before it is sent, naming who may.
        correctie = '{"startdatum": "2026-01-05", "reden": "Volgens de school."}'
        code, _ = await run_cli(worker, SCHOOL, "gebeurtenis", ref, "startdatum_correctie", correctie)
        assert code == 1
        error = capsys.readouterr().err
        assert (
            "Geweigerd: De school mag 'startdatum_correctie' in deze VO-zaak niet sturen; dat doet Leerplicht" in error
        )

        # Without --door the person's role is filled in; --door of their own role and "door" in the payload work too.
        code, text = await run_cli(worker, KOERSLOKET, "gebeurtenis", ref, "oudergesprek", gesprek)
        assert code == 0 and "Geaccepteerd: oudergesprek" in text
        voortgang = '{"toelichting": "Gesprek gepland.", "door": "school"}'
        code, text = await run_cli(worker, SCHOOL, "gebeurtenis", ref, "voortgang", voortgang, "--door", "school")
        assert code == 0 and "Geaccepteerd: voortgang" in text
        assert "voortgang [school]" in text and "oudergesprek [koersloket]" in text


async def test_door_must_be_a_role(capsys):
    # argparse refuses it before anything connects.
    with pytest.raises(SystemExit) as exit_info:
        await cli.main(["gebeurtenis", "L1", "melding", "{}", "--door", "directeur"], out=io.StringIO())
    assert exit_info.value.code == 2
    assert "--door: invalid choice: 'directeur'" in capsys.readouterr().err
