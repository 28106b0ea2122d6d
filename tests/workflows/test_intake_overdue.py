"""An intake that comes in after the twelve-week term has passed is escalated at once, on the real dev server.

The intake script reads a CSV as Leerplicht or a school would deliver it; the cases start on a real worker with a
real register. A pupil whose first day of not appearing lies thirteen weeks back goes to the coordinator within
seconds; the warnings at eight and ten weeks, which only lead up to that term, are not sent any more.
"""

from __future__ import annotations

import io
import uuid
from datetime import date, timedelta
from functools import partial
from typing import Any

from tests.cases import eventually, status_of
from tests.fixtures.temporal import case_worker
from thuiszitters import intake
from workflows.calendar import amsterdam_date
from workflows.contract import CaseStatus, Escalatie, workflow_id_for

SYSTEEM = "systeem"
HEADER = "leerling_ref,geboortedatum,sector,regio,school_brin,startdatum,fase"


def row(ref: str, startdatum: date, *, fase: int = 1, sector: str = "PO") -> str:
    born = date(startdatum.year - (9 if sector == "PO" else 13), 1, 15)
    return f"{ref},{born.isoformat()},{sector},Zuid,12AB,{startdatum.isoformat()},{fase}"


def lines(status: CaseStatus, name: str) -> list[Any]:
    return [line for line in status.tijdlijn if line.gebeurtenis == name]


async def test_intake_thirteen_weeks_late_is_escalated_at_once_without_warnings(
    dev_env, register, test_settings, tmp_path, monkeypatch
):
    async with case_worker(dev_env, register, test_settings) as worker:
        monkeypatch.setenv("THUISZITTERS_TASK_QUEUE", worker.task_queue)
        today = amsterdam_date(await dev_env.get_current_time())
        thirteen_weeks_back = today - timedelta(weeks=13)
        refs = {kind: f"L{uuid.uuid4().hex[:12]}" for kind in ("reported", "voortraject", "vo", "nine_weeks")}
        intake_file = tmp_path / "aanmeldingen.csv"
        intake_file.write_text(
            "\n".join(
                [
                    HEADER,
                    row(refs["reported"], thirteen_weeks_back),
                    row(refs["voortraject"], thirteen_weeks_back, fase=0),
                    row(refs["vo"], thirteen_weeks_back, sector="VO"),
                    row(refs["nine_weeks"], today - timedelta(weeks=9)),
                ]
            )
            + "\n",
            encoding="utf-8",
        )

        out = io.StringIO()
        assert await intake.main([str(intake_file)], client=dev_env.client, out=out) == 0
        assert "Samenvatting: 4 gestart" in out.getvalue()
        handles = {kind: dev_env.client.get_workflow_handle(workflow_id_for(ref)) for kind, ref in refs.items()}
        try:
            for kind in ("reported", "voortraject", "vo"):
                handle = handles[kind]
                s = await eventually(
                    partial(status_of, handle), lambda x: x.escalatie is Escalatie.COORDINATOR, within=10
                )
                case_id = f"{handle.id}:{(await handle.describe()).run_id}"

                # escalated by the case itself, right after it opened, because the twelve-week term lies behind it
                (escalation,) = lines(s, "opschalen")
                assert escalation.door == SYSTEEM
                assert "twaalfwekentermijn" in (escalation.toelichting or "")
                assert escalation.tijd - s.tijdlijn[0].tijd < timedelta(seconds=5), kind
                assert s.deadline_12_weken == thirteen_weeks_back + timedelta(weeks=12)
                assert s.weken_thuis == 13
                assert any(t.rol.value == "coordinator" and t.taak == "besluit_taskforce" for t in s.open_taken)

                # the warnings that lead up to the term no longer mean anything: not sent
                assert lines(s, "waarschuwing_56") == lines(s, "waarschuwing_70") == []
                events = await eventually(
                    partial(register.events_for, case_id),
                    lambda rows: any(r.gebeurtenis == "twaalf_weken" for r in rows),
                    within=10,
                )
                assert not [r for r in events if r.gebeurtenis.startswith("waarschuwing")], kind
                (recorded,) = [r for r in events if r.gebeurtenis == "twaalf_weken"]
                assert (recorded.escalatie, recorded.door) == ("coordinator", SYSTEEM)
                assert list(await register.escalations_for(case_id)) == ["coordinator"]
                notifications = await register.notifications_for(case_id)
                assert [n.rol for n in notifications if n.sjabloon == "escalatie_coordinator"] == ["coordinator"]
                assert [n for n in notifications if n.sjabloon == "termijn_waarschuwing"] == [], kind

            # the pupil still in the voortraject: the four-week term has passed too, so school and SCP are told
            voortraject = await status_of(handles["voortraject"])
            assert voortraject.fase == 0
            assert [line.door for line in lines(voortraject, "vier_weken")] == [SYSTEEM]
            assert any(t.taak == "thuiszitter_melden" for t in voortraject.open_taken)

            # nine weeks back: the eight-week warning still means something (three weeks left) and is sent at once
            nine = await eventually(
                lambda: status_of(handles["nine_weeks"]), lambda x: bool(lines(x, "waarschuwing_56")), within=10
            )
            assert nine.escalatie is Escalatie.GEEN
            assert lines(nine, "waarschuwing_70") == []
            assert nine.deadline_12_weken == today + timedelta(weeks=3)
        finally:
            for handle in handles.values():
                await handle.terminate("einde test")
