"""An intake that comes in after the twelve-week term has passed opens the twelve-week check at once, on the real
dev server; one that comes in after the check's due date has passed too is escalated at once (PO), or put on the
Kerngroep's list (VO). Every date hangs on the start date: what lies in the past happens at once.

The intake script reads a CSV as Leerplicht or a school would deliver it; the cases start on a real worker with a
real register. The warnings at eight and ten weeks, which only lead up to the twelve-week term, are not sent any
more once it has passed.
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
from workflows.calendar import add_working_days, amsterdam_date
from workflows.contract import CaseStatus, Escalatie, workflow_id_for

SYSTEEM = "systeem"
HEADER = "leerling_ref,geboortedatum,sector,regio,school_brin,startdatum,fase"


def row(ref: str, startdatum: date, *, fase: int = 1, sector: str = "PO") -> str:
    born = date(startdatum.year - (9 if sector == "PO" else 13), 1, 15)
    return f"{ref},{born.isoformat()},{sector},Zuid,12AB,{startdatum.isoformat()},{fase}"


def lines(status: CaseStatus, name: str) -> list[Any]:
    return [line for line in status.tijdlijn if line.gebeurtenis == name]


async def test_intake_past_twelve_weeks_opens_the_check_and_past_its_due_date_escalates_at_once(
    dev_env, register, test_settings, tmp_path, monkeypatch
):
    async with case_worker(dev_env, register, test_settings) as worker:
        monkeypatch.setenv("THUISZITTERS_TASK_QUEUE", worker.task_queue)
        today = amsterdam_date(await dev_env.get_current_time())
        thirteen_weeks_back = today - timedelta(weeks=13)
        sixteen_weeks_back = today - timedelta(weeks=16)
        kinds = ("thirteen_weeks", "sixteen_weeks", "voortraject", "vo", "nine_weeks")
        refs = {kind: f"L{uuid.uuid4().hex[:12]}" for kind in kinds}
        intake_file = tmp_path / "aanmeldingen.csv"
        intake_file.write_text(
            "\n".join(
                [
                    HEADER,
                    row(refs["thirteen_weeks"], thirteen_weeks_back),
                    row(refs["sixteen_weeks"], sixteen_weeks_back),
                    row(refs["voortraject"], sixteen_weeks_back, fase=0),
                    row(refs["vo"], sixteen_weeks_back, sector="VO"),
                    row(refs["nine_weeks"], today - timedelta(weeks=9)),
                ]
            )
            + "\n",
            encoding="utf-8",
        )

        out = io.StringIO()
        assert await intake.main([str(intake_file)], client=dev_env.client, out=out) == 0
        assert "Samenvatting: 5 gestart" in out.getvalue()
        handles = {kind: dev_env.client.get_workflow_handle(workflow_id_for(ref)) for kind, ref in refs.items()}
        try:
            # thirteen weeks: the check opens right after the case, for the SCP; its due date still lies ahead
            handle = handles["thirteen_weeks"]
            s = await eventually(partial(status_of, handle), lambda x: x.twaalf_weken_check is not None, within=10)
            twelve = thirteen_weeks_back + timedelta(weeks=12)
            assert s.deadline_12_weken == twelve and s.weken_thuis == 13
            assert s.twaalf_weken_check is not None
            assert (s.twaalf_weken_check.stand, s.twaalf_weken_check.uiterlijk) == (
                "open",
                add_working_days(twelve, 10),
            )
            assert s.twaalf_weken_check.uiterlijk >= today
            (opened,) = lines(s, "twaalf_weken")
            assert opened.door == SYSTEEM and opened.tijd - s.tijdlijn[0].tijd < timedelta(seconds=5)
            assert s.escalatie is Escalatie.GEEN and lines(s, "opschalen") == []
            assert ("scp", "twaalf_weken_besluit") in {(t.rol.value, t.taak) for t in s.open_taken}
            assert lines(s, "waarschuwing_56") == lines(s, "waarschuwing_70") == []
            case_id = f"{handle.id}:{(await handle.describe()).run_id}"
            await eventually(
                partial(register.events_for, case_id),
                lambda rows: any(r.gebeurtenis == "twaalf_weken" for r in rows),
                within=10,
            )
            assert await register.escalations_for(case_id) == {}

            # sixteen weeks: the check's due date lies behind it too: PO goes to the coordinator at once
            for kind in ("sixteen_weeks", "voortraject"):
                handle = handles[kind]
                s = await eventually(
                    partial(status_of, handle), lambda x: x.escalatie is Escalatie.COORDINATOR, within=10
                )
                case_id = f"{handle.id}:{(await handle.describe()).run_id}"
                twelve = sixteen_weeks_back + timedelta(weeks=12)
                assert add_working_days(twelve, 10) < today
                assert s.deadline_12_weken == twelve and s.weken_thuis == 16
                (escalation,) = lines(s, "opschalen")
                assert escalation.door == SYSTEEM
                assert "twaalfwekencheck" in (escalation.toelichting or "")
                assert escalation.tijd - s.tijdlijn[0].tijd < timedelta(seconds=5), kind
                assert s.twaalf_weken_check is not None and s.twaalf_weken_check.stand == "opgeschaald"
                assert any(t.rol.value == "coordinator" and t.taak == "besluit_taskforce" for t in s.open_taken)

                # the warnings that lead up to the term no longer mean anything: not sent
                assert lines(s, "waarschuwing_56") == lines(s, "waarschuwing_70") == []
                events = await eventually(
                    partial(register.events_for, case_id),
                    lambda rows: any(r.gebeurtenis.startswith("check_besluit") for r in rows),
                    within=10,
                )
                assert not [r for r in events if r.gebeurtenis.startswith("waarschuwing")], kind
                (recorded,) = [r for r in events if r.gebeurtenis.startswith("check_besluit")]
                assert (recorded.escalatie, recorded.door) == ("coordinator", SYSTEEM)
                assert list(await register.escalations_for(case_id)) == ["coordinator"]
                notifications = await eventually(
                    partial(register.notifications_for, case_id),
                    lambda rows: any(n.sjabloon == "escalatie_coordinator" for n in rows),
                    within=10,
                )
                assert [n.rol for n in notifications if n.sjabloon == "escalatie_coordinator"] == ["coordinator"]
                assert [n for n in notifications if n.sjabloon == "termijn_waarschuwing"] == [], kind

            # the pupil still in the voortraject: the four-week term has passed too, so school and SCP are told
            voortraject = await status_of(handles["voortraject"])
            assert voortraject.fase == 0
            assert [line.door for line in lines(voortraject, "vier_weken")] == [SYSTEEM]
            assert any(t.taak == "thuiszitter_melden" for t in voortraject.open_taken)

            # VO, sixteen weeks: no coordinator; the Koersloket's decision is overdue and the Kerngroep takes it up
            vo = await eventually(partial(status_of, handles["vo"]), lambda x: x.op_kerngroep_lijst, within=10)
            assert vo.escalatie is Escalatie.GEEN and lines(vo, "opschalen") == []
            (decision,) = [t for t in vo.open_taken if t.taak == "twaalf_weken_besluit"]
            assert decision.rol.value == "koersloket" and decision.te_laat
            assert lines(vo, "waarschuwing_56") == lines(vo, "waarschuwing_70") == []

            # nine weeks back: the eight-week warning still means something (three weeks left) and is sent at once
            nine = await eventually(
                lambda: status_of(handles["nine_weeks"]), lambda x: bool(lines(x, "waarschuwing_56")), within=10
            )
            assert nine.escalatie is Escalatie.GEEN and nine.twaalf_weken_check is None
            assert lines(nine, "waarschuwing_70") == []
            assert nine.deadline_12_weken == today + timedelta(weeks=3)
        finally:
            for handle in handles.values():
                await handle.terminate("einde test")
