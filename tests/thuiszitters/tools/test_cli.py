"""The command line for people and scripts, against the real dev server and a real worker."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

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

        code, text = await run_cli(
            worker.client, "gebeurtenis", ref, "oudergesprek", '{"deelnemers": ["school", "ouders", "scp"]}'
        )
        assert code == 0
        assert "Geaccepteerd: oudergesprek" in text and "fase        2: Oudergesprek en plan van aanpak" in text

        code, _ = await run_cli(worker.client, "gebeurtenis", ref, "route", '{"route": "3.2"}')
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
