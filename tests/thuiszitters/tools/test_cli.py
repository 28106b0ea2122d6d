"""The command line for people and scripts, against the real dev server and a real worker."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime, timedelta

import pytest

from tests.cases import eventually, pupil, start
from tests.fixtures.temporal import case_worker
from thuiszitters.tools import cli
from workflows.calendar import amsterdam_date


async def run_cli(client, *argv: str) -> tuple[int, str]:
    out = io.StringIO()
    code = await cli.main(list(argv), client=client, out=out)
    return code, out.getvalue()


async def test_event_status_and_list_through_the_cli(dev_env, register, test_settings, capsys):
    async with case_worker(dev_env, register, test_settings) as worker:
        aanmelding = pupil(amsterdam_date(datetime.now(UTC)) - timedelta(days=12), regio="Zuid")
        await start(worker.client, aanmelding, worker.task_queue)
        ref = aanmelding.leerling_ref

        gesprek = '{"deelnemers": ["school", "ouders", "scp"]}'
        code, text = await run_cli(worker.client, "gebeurtenis", ref, "oudergesprek", gesprek, "--door", "school")
        assert code == 0
        assert "Geaccepteerd: oudergesprek" in text and "fase        2: Oudergesprek en plan van aanpak" in text
        assert "contract    versie 2" in text
        assert re.search(r"^  - T\d+ school: Stel het plan van aanpak op .*\(uiterlijk \d{4}-\d\d-\d\d\)$", text, re.M)

        code, _ = await run_cli(worker.client, "gebeurtenis", ref, "route", '{"route": "3.2", "door": "school"}')
        assert code == 1
        assert "afgewezen: route: eerst het plan van aanpak" in capsys.readouterr().err

        code, text = await run_cli(worker.client, "status", ref)
        assert code == 0
        assert "weken thuis" in text and "oudergesprek [" not in text.split("Tijdlijn:")[0]
        assert "Tijdlijn:" in text and "Oudergesprek gevoerd met ouders, school, scp." in text

        async def listed() -> str:
            return (await run_cli(worker.client, "lijst", "--query", 'Fase=2 AND Regio="Zuid"'))[1]

        listing = await eventually(listed, lambda text: f"thuiszitter-{ref}" in text)
        assert "Zuid" in listing

        code, _ = await run_cli(worker.client, "status", "onbekende-leerling")
        assert code == 1
        assert "geen zaak gevonden" in capsys.readouterr().err
        code, _ = await run_cli(worker.client, "gebeurtenis", ref, "bestaat_niet")
        assert code == 1
        assert "onbekende gebeurtenis" in capsys.readouterr().err


async def test_the_cli_asks_who_acted_before_sending_an_event_to_a_version_2_case(
    dev_env, register, test_settings, capsys
):
    async with case_worker(dev_env, register, test_settings) as worker:
        aanmelding = pupil(amsterdam_date(datetime.now(UTC)) - timedelta(days=12), sector="VO", age=13)
        await start(worker.client, aanmelding, worker.task_queue)
        ref = aanmelding.leerling_ref
        gesprek = '{"deelnemers": ["school", "ouders", "koersloket"]}'

        # Neither --door nor "door": refused before anything is sent, naming who may (a VO case: the Koersloket).
        code, _ = await run_cli(worker.client, "gebeurtenis", ref, "oudergesprek", gesprek)
        assert code == 1
        error = capsys.readouterr().err
        assert "oudergesprek: zeg wie het deed met --door ROL" in error
        assert "In deze zaak mag dit: school (de school), koersloket (het Koersloket (Koers VO))." in error
        assert "Rollen: school, scp, koersloket, leerplicht, leerplicht_absoluut_verzuim, ouders" in error
        code, text = await run_cli(worker.client, "status", ref)
        assert code == 0 and "Oudergesprek gevoerd" not in text

        # --door and a different "door" in the payload: the command does not guess.
        code, _ = await run_cli(
            worker.client,
            "gebeurtenis",
            ref,
            "oudergesprek",
            '{"deelnemers": ["school"], "door": "scp"}',
            "--door",
            "school",
        )
        assert code == 1
        assert "kies één van beide" in capsys.readouterr().err

        # A role that may not send the event: the case refuses it, naming the role.
        correctie = '{"startdatum": "2026-01-05", "reden": "Volgens de school."}'
        code, _ = await run_cli(
            worker.client, "gebeurtenis", ref, "startdatum_correctie", correctie, "--door", "school"
        )
        assert code == 1
        assert "afgewezen: startdatum_correctie: de school mag dit niet doen" in capsys.readouterr().err

        # --door fills it in; "door" in the payload works as well.
        code, text = await run_cli(worker.client, "gebeurtenis", ref, "oudergesprek", gesprek, "--door", "koersloket")
        assert code == 0 and "Geaccepteerd: oudergesprek" in text
        code, text = await run_cli(
            worker.client, "gebeurtenis", ref, "voortgang", '{"toelichting": "Gesprek gepland.", "door": "school"}'
        )
        assert code == 0 and "Geaccepteerd: voortgang" in text
        assert "voortgang [school]" in text and "oudergesprek [koersloket]" in text


async def test_door_must_be_a_role(capsys):
    # argparse refuses it before anything connects.
    with pytest.raises(SystemExit) as exit_info:
        await cli.main(["gebeurtenis", "L1", "melding", "{}", "--door", "directeur"], out=io.StringIO())
    assert exit_info.value.code == 2
    assert "--door: invalid choice: 'directeur'" in capsys.readouterr().err
