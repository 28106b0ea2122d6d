"""The case register keeps contract version 2 on a real PostgreSQL: tasks with a stable id that people finish, the
case's version-2 state, the dossier, and the work lists across cases."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from thuiszitters.register.store import Register, TaskRow, finished_at
from workflows.calendar import amsterdam_date
from workflows.contract import (
    AfgerondeTaak,
    Document,
    Dossier,
    Escalatie,
    EscalatieRegel,
    OudergesprekVerslag,
    Regiehouder,
    Regio,
    Rol,
    Sector,
    Taak,
    TwaalfWekenCheck,
    Uitkomst,
)
from workflows.effects import Vastlegging

CASE_ID = "thuiszitter-LL0077/case-1"
T0 = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
DAY = date(2025, 3, 20)  # the day that counts as today in the work-list tests


def line(volgnummer: int, *, case_id: str = CASE_ID, **changes: Any) -> Vastlegging:
    """A version-2 register line: numbered ``volgnummer``, one day after the previous one."""
    ref = case_id.split("/")[0].removeprefix("thuiszitter-")
    fields: dict[str, Any] = {
        "sleutel": f"{case_id}:{volgnummer}:vastlegging",
        "case_id": case_id,
        "volgnummer": volgnummer,
        "leerling_ref": ref,
        "workflow_id": f"thuiszitter-{ref}",
        "tijd": T0 + timedelta(days=volgnummer),
        "gebeurtenis": "melding",
        "door": "school",
        "sector": Sector.PO,
        "regio": Regio.NOORD,
        "school_brin": "12AB",
        "leerplichtig": True,
        "startdatum": date(2025, 2, 3),
        "fase": 1,
        "regiehouder": Regiehouder.SCHOOL,
        "escalatie": Escalatie.GEEN,
        "route": None,
        "wachtlijst": False,
        "afgesloten": False,
        "uitkomst": None,
        "open_taken": [],
        "contract_versie": 2,
        "contactrol": Rol.SCP,
    }
    fields.update(changes)
    return Vastlegging(**fields)


def taak(
    taak_id: str, rol: Rol = Rol.SCHOOL, code: str | None = None, uiterlijk: date = date(2025, 3, 17), **extra: Any
) -> Taak:
    code = code or f"taak_{taak_id.lower()}"
    return Taak(id=taak_id, rol=rol, taak=code, omschrijving=f"Doe {code}.", uiterlijk=uiterlijk, **extra)


def afgerond(
    t: Taak, op: date, *, door: str | None = "scp", via: str = "", toelichting: str | None = None
) -> AfgerondeTaak:
    return AfgerondeTaak(
        id=t.id or "",
        rol=t.rol,
        taak=t.taak,
        omschrijving=t.omschrijving,
        afgerond_op=op,
        door=door,
        via=via,
        toelichting=toelichting,
    )


def by_id(tasks: list[TaskRow]) -> dict[str | None, TaskRow]:
    return {t.taak_id: t for t in tasks}


# ---------------------------------------------------------------------------------------------------- tasks


async def test_a_task_finished_by_hand_is_closed_with_who_how_and_why(register: Register) -> None:
    t1, t2 = taak("T1", code="oudergesprek_organiseren"), taak("T2", Rol.SCP, "tlv_onderbouwing")
    assert await register.record(line(1, open_taken=[t1, t2]))
    t3 = taak("T3", Rol.LEERPLICHT, "lba_registreren", uiterlijk=date(2025, 3, 24), toegewezen_aan="lp-17")
    second = line(
        2,
        gebeurtenis="taak_afgerond",
        door="scp",
        open_taken=[t1, t3],
        afgeronde_taken=[
            afgerond(
                t2, amsterdam_date(T0 + timedelta(days=2)), via="taak_afgerond", toelichting="Onderbouwing in OPP."
            )
        ],
    )
    assert await register.record(second)

    open_tasks = by_id(await register.tasks_for(CASE_ID))
    assert set(open_tasks) == {"T1", "T3"}
    assert open_tasks["T1"].geopend_op == T0 + timedelta(days=1)  # the same task, still open since the first line
    assert (open_tasks["T3"].rol, open_tasks["T3"].taak, open_tasks["T3"].omschrijving) == (
        "leerplicht",
        "lba_registreren",
        "Doe lba_registreren.",
    )
    assert (open_tasks["T3"].uiterlijk, open_tasks["T3"].toegewezen_aan) == (date(2025, 3, 24), "lp-17")
    assert all(t.gesloten_op is None and t.door is None and t.via is None for t in open_tasks.values())

    closed = [t for t in await register.tasks_for(CASE_ID, open_only=False) if t.gesloten_op is not None]
    assert [(t.taak_id, t.gesloten_op, t.door, t.via, t.toelichting) for t in closed] == [
        ("T2", second.tijd, "scp", "taak_afgerond", "Onderbouwing in OPP.")
    ]
    counts = await register.count_effects(CASE_ID)
    assert (counts.open_tasks, counts.closed_tasks) == (2, 1)

    # Recording the same line again changes nothing.
    before = await register.tasks_for(CASE_ID, open_only=False)
    assert await register.record(second) is False
    assert await register.tasks_for(CASE_ID, open_only=False) == before


async def test_a_task_the_event_fulfils_names_that_event_and_one_that_falls_away_names_none(
    register: Register,
) -> None:
    t1, t2 = taak("T1"), taak("T2", Rol.SCP)
    await register.record(line(1, open_taken=[t1, t2]))
    # The event fulfils T1 (its `via` left to the line's event); T2 is no longer asked for, without being done.
    await register.record(
        line(2, gebeurtenis="oudergesprek", afgeronde_taken=[afgerond(t1, date(2025, 3, 5), door="school")])
    )
    tasks = by_id(await register.tasks_for(CASE_ID, open_only=False))
    assert (tasks["T1"].door, tasks["T1"].via) == ("school", "oudergesprek")
    assert (tasks["T2"].door, tasks["T2"].via, tasks["T2"].gesloten_op) == (None, None, T0 + timedelta(days=2))
    assert await register.tasks_for(CASE_ID) == []


async def test_open_tasks_of_one_role_may_share_a_code_and_move_with_the_newest_line(register: Register) -> None:
    acties = [taak(f"T{n}", Rol.WIJKTEAM, "taskforce_actie", uiterlijk=date(2025, 4, n)) for n in (4, 5)]
    await register.record(line(1, open_taken=acties))
    moved = acties[0].model_copy(update={"uiterlijk": date(2025, 4, 30), "toegewezen_aan": "wt-3"})
    await register.record(line(2, gebeurtenis="toewijzen", open_taken=[moved, acties[1]]))

    tasks = by_id(await register.tasks_for(CASE_ID))
    assert set(tasks) == {"T4", "T5"}
    assert (tasks["T4"].uiterlijk, tasks["T4"].toegewezen_aan) == (date(2025, 4, 30), "wt-3")
    assert (await register.count_effects(CASE_ID)).closed_tasks == 0


async def test_a_late_older_line_changes_no_task(register: Register) -> None:
    t1, t2, t3 = taak("T1"), taak("T2", Rol.SCP), taak("T3", Rol.LEERPLICHT)
    first = line(1, open_taken=[t1, t2])
    second = line(
        2,
        gebeurtenis="taak_afgerond",
        open_taken=[t1, t3],
        afgeronde_taken=[afgerond(t2, date(2025, 3, 5), via="taak_afgerond", toelichting="Gedaan.")],
    )
    assert await register.record(second)
    after_second = await register.tasks_for(CASE_ID, open_only=False)

    assert await register.record(first) is True  # its phase line is new, its tasks are old news
    assert await register.tasks_for(CASE_ID, open_only=False) == after_second
    assert set(by_id(await register.tasks_for(CASE_ID))) == {"T1", "T3"}
    case = await register.case(CASE_ID)
    assert case is not None
    assert (case.laatste_volgnummer, case.geopend_op) == (2, first.tijd)


async def test_who_finished_a_task_survives_a_newer_line_that_overtakes_it(register: Register) -> None:
    t1, t2 = taak("T1"), taak("T2", Rol.SCP)
    await register.record(line(1, open_taken=[t1, t2]))
    finishing = line(
        2,
        gebeurtenis="taak_afgerond",
        open_taken=[t1],
        afgeronde_taken=[afgerond(t2, date(2025, 3, 5), via="taak_afgerond", toelichting="Gedaan.")],
    )
    # Line 3 is recorded before line 2 (lines of one batch run side by side): T2 first falls away.
    await register.record(line(3, gebeurtenis="voortgang", open_taken=[t1]))
    await register.record(finishing)

    tasks = by_id(await register.tasks_for(CASE_ID, open_only=False))
    assert (tasks["T2"].gesloten_op, tasks["T2"].door, tasks["T2"].via, tasks["T2"].toelichting) == (
        finishing.tijd,
        "scp",
        "taak_afgerond",
        "Gedaan.",
    )
    assert tasks["T1"].gesloten_op is None


async def test_version_1_tasks_keep_their_key_next_to_version_2_ones(register: Register) -> None:
    v1 = Taak(rol=Rol.SCHOOL, taak="oudergesprek_organiseren", omschrijving="...", uiterlijk=date(2025, 3, 17))
    await register.record(line(1, contract_versie=1, open_taken=[v1]))
    await register.record(line(2, contract_versie=1, open_taken=[v1.model_copy(update={"uiterlijk": None})]))
    [kept] = await register.tasks_for(CASE_ID, open_only=False)
    assert (kept.taak_id, kept.uiterlijk, kept.geopend_op, kept.omschrijving) == (
        None,
        None,
        T0 + timedelta(days=1),
        None,
    )

    await register.record(line(3, open_taken=[taak("T1", code="oudergesprek_organiseren")]))
    tasks = await register.tasks_for(CASE_ID, open_only=False)
    assert [(t.taak_id, t.gesloten_op is None) for t in tasks] == [(None, False), ("T1", True)]


def test_a_task_finished_on_another_day_closes_on_that_day_at_the_lines_time() -> None:
    winter = datetime(2025, 3, 3, 9, 30, tzinfo=UTC)  # 10:30 in Amsterdam
    assert finished_at(date(2025, 3, 3), winter) == winter
    assert finished_at(date(2025, 2, 28), winter) == datetime(2025, 2, 28, 9, 30, tzinfo=UTC)
    summer = datetime(2025, 7, 1, 22, 15, tzinfo=UTC)  # 00:15 on 2 July in Amsterdam
    assert finished_at(date(2025, 7, 2), summer) == summer
    assert finished_at(date(2025, 6, 30), summer) == datetime(2025, 6, 29, 22, 15, tzinfo=UTC)


# ---------------------------------------------------------------------------------------------- case state


async def test_the_case_row_keeps_the_version_2_state(register: Register) -> None:
    check = TwaalfWekenCheck(stand="uitzicht", uiterlijk=date(2025, 5, 9), herbeoordeling_op=date(2025, 6, 6))
    await register.record(
        line(
            1,
            leerplichtig_vanaf=date(2025, 4, 1),
            twaalf_weken_check=check,
            kerngroep_bespreking_op=date(2025, 5, 14),
            op_kerngroep_lijst=True,
            toegewezen={"scp": "scp-12", "school": "mentor-4"},
        )
    )
    case = await register.case(CASE_ID)
    assert case is not None
    assert (case.contract_versie, case.contactrol, case.leerplichtig_vanaf) == (2, "scp", date(2025, 4, 1))
    assert (case.check_stand, case.check_uiterlijk, case.check_herbeoordeling_op) == (
        "uitzicht",
        date(2025, 5, 9),
        date(2025, 6, 6),
    )
    assert (case.kerngroep_bespreking_op, case.op_kerngroep_lijst) == (date(2025, 5, 14), True)
    assert case.toegewezen == {"scp": "scp-12", "school": "mentor-4"}

    await register.record(line(2, contract_versie=1, contactrol=None))
    case = await register.case(CASE_ID)
    assert case is not None
    assert (case.contract_versie, case.check_stand, case.op_kerngroep_lijst, case.toegewezen) == (1, None, False, {})


# ------------------------------------------------------------------------------------------------- dossier


def dossier(afspraken: str, *escalaties: str) -> Dossier:
    return Dossier(
        oudergesprek=OudergesprekVerslag(op=date(2025, 3, 4), deelnemers=["school", "ouders"], afspraken=afspraken),
        escalaties=[EscalatieRegel(op=date(2025, 3, 6), niveau="coordinator", reden_code=code) for code in escalaties],
    )


async def test_the_dossier_is_kept_from_the_latest_line_that_carried_it(register: Register) -> None:
    assert await register.dossier_for(CASE_ID) is None
    opp = Document(soort="opp", verwijzing="DMS-88", omschrijving="OPP 2025", toegevoegd_op=date(2025, 3, 5))
    await register.record(line(1, gebeurtenis="oudergesprek", dossier=dossier("Halve dagen starten.")))
    await register.record(line(2, gebeurtenis="document_toegevoegd", documenten=[opp]))
    await register.record(line(3, gebeurtenis="voortgang"))  # carries neither: both kept

    kept = await register.dossier_for(CASE_ID)
    assert kept is not None
    assert kept.dossier == dossier("Halve dagen starten.")
    assert kept.documenten == [opp]
    assert kept.bijgewerkt_op == T0 + timedelta(days=2)

    # A newer dossier replaces it; an older one arriving after it does not.
    await register.record(
        line(5, gebeurtenis="opschalen", dossier=dossier("Halve dagen starten.", "proces_loopt_vast"))
    )
    await register.record(line(4, gebeurtenis="oudergesprek", dossier=dossier("Verouderd.")))
    kept = await register.dossier_for(CASE_ID)
    assert kept is not None
    assert kept.dossier == dossier("Halve dagen starten.", "proces_loopt_vast")
    assert kept.documenten == [opp]


# ---------------------------------------------------------------------------------------------- work lists


async def record_three_cases(register: Register) -> None:
    """Three open cases: two schools, two regions, tasks overdue and not, held and not."""
    await register.record(
        line(
            1,
            case_id="thuiszitter-LA0001/case-1",
            open_taken=[
                taak("T1", Rol.SCHOOL, "plan_van_aanpak_opstellen", uiterlijk=DAY - timedelta(days=3)),
                taak("T2", Rol.SCP, "hulpvraag_controleren", uiterlijk=DAY + timedelta(days=5), toegewezen_aan="scp-1"),
            ],
        )
    )
    await register.record(
        line(
            1,
            case_id="thuiszitter-LB0002/case-1",
            school_brin="34CD",
            regio=Regio.ZUID,
            open_taken=[
                taak("T1", Rol.SCHOOL, "oudergesprek_organiseren", uiterlijk=DAY + timedelta(days=1)),
                taak("T2", Rol.SCP, "twaalf_weken_check", uiterlijk=DAY - timedelta(days=10), toegewezen_aan="scp-1"),
            ],
        )
    )
    await register.record(
        line(
            1,
            case_id="thuiszitter-LC0003/case-1",
            contract_versie=1,
            open_taken=[Taak(rol=Rol.SCHOOL, taak="voortraject_bespreken", omschrijving="...")],
        )
    )


def keys(rows: list[Any]) -> list[tuple[str, str]]:
    return [(row.case_id.split("/")[0].removeprefix("thuiszitter-"), row.taak) for row in rows]


async def test_open_tasks_across_cases_overdue_first_then_by_due_date(register: Register) -> None:
    await record_three_cases(register)

    every = await register.open_tasks_across(op=DAY)
    assert keys(every) == [
        ("LB0002", "twaalf_weken_check"),
        ("LA0001", "plan_van_aanpak_opstellen"),
        ("LB0002", "oudergesprek_organiseren"),
        ("LA0001", "hulpvraag_controleren"),
        ("LC0003", "voortraject_bespreken"),  # no due date: last
    ]
    assert [row.te_laat for row in every] == [True, True, False, False, False]
    first = every[0]
    assert (first.taak_id, first.rol, first.school_brin, first.regio, first.toegewezen_aan) == (
        "T2",
        "scp",
        "34CD",
        "Zuid",
        "scp-1",
    )
    assert (first.sector, first.fase, first.leerling_ref) == ("PO", 1, "LB0002")

    assert keys(await register.open_tasks_across(rol="school", op=DAY)) == [
        ("LA0001", "plan_van_aanpak_opstellen"),
        ("LB0002", "oudergesprek_organiseren"),
        ("LC0003", "voortraject_bespreken"),
    ]
    assert keys(await register.open_tasks_across(school_brin="12AB", op=DAY)) == [
        ("LA0001", "plan_van_aanpak_opstellen"),
        ("LA0001", "hulpvraag_controleren"),
        ("LC0003", "voortraject_bespreken"),
    ]
    assert keys(await register.open_tasks_across(regio="Zuid", te_laat=False, op=DAY)) == [
        ("LB0002", "oudergesprek_organiseren")
    ]
    assert keys(await register.open_tasks_across(te_laat=True, op=DAY)) == keys(every[:2])
    assert keys(await register.open_tasks_across(te_laat=False, op=DAY)) == keys(every[2:])
    assert keys(await register.open_tasks_across(toegewezen_aan="scp-1", op=DAY)) == [
        ("LB0002", "twaalf_weken_check"),
        ("LA0001", "hulpvraag_controleren"),
    ]
    assert keys(await register.open_tasks_across(rol="scp", school_brin="12AB", te_laat=True, op=DAY)) == []
    assert keys(await register.open_tasks_across(limit=2, op=DAY)) == keys(every[:2])
    with pytest.raises(ValueError):
        await register.open_tasks_across(limit=0)


async def test_overdue_counts_from_today_when_no_day_is_given(register: Register) -> None:
    today = amsterdam_date(datetime.now(UTC))
    await register.record(
        line(1, open_taken=[taak("T1", uiterlijk=today - timedelta(days=1)), taak("T2", uiterlijk=today)])
    )
    assert [(row.taak_id, row.te_laat) for row in await register.open_tasks_across()] == [("T1", True), ("T2", False)]
    assert [(t.taak_id, t.te_laat) for t in await register.tasks_for(CASE_ID)] == [("T1", True), ("T2", False)]


async def test_a_closed_case_leaves_the_work_lists(register: Register) -> None:
    await record_three_cases(register)
    await register.record(
        line(
            2,
            case_id="thuiszitter-LA0001/case-1",
            gebeurtenis="afronden",
            fase=4,
            afgesloten=True,
            uitkomst=Uitkomst.TERUG_OP_SCHOOL,
        )
    )
    assert {key for key, _ in keys(await register.open_tasks_across(op=DAY))} == {"LB0002", "LC0003"}


async def test_the_work_list_queries_use_their_indexes(register: Register) -> None:
    """With the sequential scans switched off, each list finds a plan on the indexes of migration 003."""
    await record_three_cases(register)
    async with register.pool.acquire() as connection:
        await connection.execute("SET enable_seqscan = off")
        try:
            for where, index in (
                ("t.rol = 'school'", "tasks_open_per_role_idx"),
                ("t.toegewezen_aan = 'scp-1'", "tasks_open_assignee_idx"),
                ("c.school_brin = '12AB'", "cases_open_school_idx"),
            ):
                plan = "\n".join(
                    row[0]
                    for row in await connection.fetch(
                        f"""
                        EXPLAIN SELECT t.id FROM tasks t JOIN cases c ON c.case_id = t.case_id
                        WHERE t.gesloten_op IS NULL AND NOT c.afgesloten AND {where}
                        ORDER BY t.uiterlijk NULLS LAST, t.id LIMIT 200
                        """
                    )
                )
                assert index in plan, plan
        finally:
            await connection.execute("RESET enable_seqscan")
