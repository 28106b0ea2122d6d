"""Random signals against live cases: no signal ever fails a case, and the case keeps its invariants.

Other services send events as fire-and-forget signals, and not all of them send what the contract says. Here a
seeded random generator plays those services against real cases on the time-skipping server, with a real worker
and the real case register: valid events in and out of order, and now and then from a role that may not send them
(contract version 2: every event names who acted), malformed payloads (wrong types, no JSON object, unknown fields,
unknown roles, control characters, huge texts), dates in the future, the same event twice, and weeks passing in
between. Then, per case:

- no workflow task ever failed (the history has no ``WorkflowTaskFailed``) and the case completes normally;
- the register's lines (``vastleggen``) are numbered without gaps and their phases and escalations only move forward;
- a closed case has an outcome and no open tasks, and closed by ``afronden`` after phase 4's checks or by
  ``intrekken``; every task had an id and a due date; a pupil of 4 has no Leerplicht task or registration call;
- a VO case never has a PPO role (SCP, ouderfunctionaris, coordinator), Kindkans or SISA call, or PPO message;
- the Taskforce only has a case after an ``opschalen`` by the role that may (the coordinator in PO, the Koersloket
  in VO) with the afstemmingen the procedure asks (and, for VO, a pupil in Rotterdam); a VO case never goes to a
  coordinator;
- each term fires at most once; every call and message belongs to the case;
- every signal that could not be accepted is in ``status.afgewezen`` with a reason.

The generator is seeded per case, so a failure names the seed and the events that led to it.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from temporalio.api.enums.v1 import EventType, WorkflowTaskFailedCause
from temporalio.client import WorkflowExecutionStatus, WorkflowHandle
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from tests.cases import door_for, eventually, pupil, start, status_of
from tests.fixtures.temporal import CaseWorker, case_worker
from thuiszitters.register.store import Register
from thuiszitters.settings import Settings
from workflows import rules
from workflows.calendar import amsterdam_date
from workflows.contract import EVENTS, ROUTE_33_VARIANTEN_PER_SECTOR, CaseStatus, Door, Sector

CASES = 20
TERM_KEYS = (
    "vier_weken",
    "waarschuwing_",
    "twaalf_weken",
    "lba_herinnering",
    "oudergesprek_herinnering",
    "plan_herinnering",
    "zorgplicht",
    "leerplichtig",
    "check_besluit_",
    "herbeoordeling_",
    "te_laat_",
)
LEERPLICHT_TASKS = {"lba_registreren", "leerplichtmelding_controleren", "vrijstelling_doorzetten"}

# Signals that can never be accepted: each must show up in ``afgewezen`` under its event's name.
MALFORMED: list[tuple[str, Any]] = [
    ("melding", "ja"),
    ("voortgang", 42),
    ("route", ["3.1"]),
    ("intrekken", True),
    ("passende_plek", None),
    ("oudergesprek", {"deelnemers": "iedereen", "door": "school"}),
    ("route", {"route": "3.3", "door": "school"}),
    ("route", {"route": "3.5", "door": "school"}),
    ("opschalen", {"niveau": "wethouder", "reden_code": "overig", "reden": "x", "door": "scp"}),
    (
        "opschalen",
        {"niveau": "taskforce", "reden_code": "overig", "reden": "x", "afgestemd_met_leerplicht": "ja", "door": "scp"},
    ),
    ("opschalen", {"niveau": "coordinator", "reden": "zonder code", "door": "scp"}),
    ("opschalen", {"niveau": "coordinator", "reden_code": "te_traag", "reden": "x", "door": "scp"}),
    ("leerplicht_registratie", {"lba_geregistreerd_op": "morgen", "door": "leerplicht"}),
    ("plan_van_aanpak", {"in_opp": "ja", "instemming_ouders": True, "door": "school"}),
    ("voortgang", {"toelichting": "x" * 5000, "door": "school"}),
    ("voortgang", {"toelichting": "stand\x00van zaken", "door": "school"}),
    ("voortgang", {"toelichting": "Stand van zaken.", "door": "school\x00"}),
    ("voortgang", {"toelichting": "Stand van zaken.", "door": "directeur"}),
    ("voortgang", {"toelichting": "Zonder wie het deed."}),
    ("voortgang", {"toelichting": "Stand van zaken.", "datum": "2999-01-01", "door": "school"}),
    ("huisbezoek", {"samenvatting": "Verslag.", "bsn": "123456782", "door": "taskforce"}),
    ("vrijstelling", {"status": "misschien", "door": "ouders"}),
    ("wachtlijst", {"op_wachtlijst": "soms", "door": "school"}),
    ("aanmelding_andere_school", {"school_brin": "de school om de hoek", "door": "ouders"}),
    ("startdatum_correctie", {"startdatum": "2999-01-01", "reden": "x", "door": "leerplicht"}),
    ("taskforce_besluit", {"door": "taskforce"}),
    ("beoordeling", {"uitzicht": "x", "herbeoordeling_op": "volgende maand", "door": "scp"}),
    ("afronden", {"door": "scp"}),
    ("taak_afgerond", {"taak_id": "taak-1", "toelichting": "x", "door": "scp"}),
    ("gegevens_wijzigen", {"door": "coordinator"}),
    ("document_toegevoegd", {"soort": "foto", "verwijzing": "x", "door": "school"}),
]


@dataclass
class Sent:
    name: str
    payload: Any
    kind: str  # "valid" (may be accepted or refused), "malformed" (must be refused)


@dataclass
class Story:
    """What one case was sent, to explain a failure."""

    seed: int
    aanmelding: dict[str, Any]
    sent: list[Sent] = field(default_factory=list)
    closed_early: bool = False

    def __str__(self) -> str:
        lines = [f"seed {self.seed}: {self.aanmelding}"]
        lines += [f"  {s.kind:9} {s.name} {s.payload!r:.120}" for s in self.sent]
        return "\n".join(lines)


def next_event(rng: random.Random, status: CaseStatus) -> tuple[str, dict[str, Any]]:
    """An event that a person in the procedure might send now (it may still be refused): mostly from the role that
    usually sends it, now and then from any role."""
    sector = status.sector.value
    contact = "scp" if sector == "PO" else "koersloket"
    today = amsterdam_date(status.tijdlijn[-1].tijd) if status.tijdlijn else status.startdatum
    forward: list[tuple[str, dict[str, Any]]] = []
    if status.fase == 0:
        forward.append(("melding", {"gemeld_bij_leerplicht": rng.random() < 0.5}))
    if status.fase == 1:
        forward.append(
            ("oudergesprek", {"deelnemers": ["school", "ouders", contact, *rng.sample(["smw", "wijkteam"], 1)]})
        )
    if status.fase == 2:
        forward.append(("plan_van_aanpak", {"in_opp": rng.random() < 0.85, "instemming_ouders": rng.random() < 0.85}))
    if status.fase == 3 and status.route is None:
        route = rng.choice(["3.1", "3.2", "3.3", "3.4"])
        variants = ROUTE_33_VARIANTEN_PER_SECTOR[Sector(sector)]
        forward.append(("route", {"route": route, "variant": rng.choice(variants) if route == "3.3" else None}))
    if status.fase == 4:
        forward.append(("uitschrijving", {"uitgeschreven_op": today.isoformat()}))
        forward.append(("afronden", {"toelichting": "Gecontroleerd."}))
    if status.twaalf_weken_check is not None and status.twaalf_weken_check.stand == "open":
        ahead = today + timedelta(days=rng.randint(1, 50))
        door = "coordinator" if status.escalatie.value == "coordinator" else contact
        forward.append(("beoordeling", {"uitzicht": "Er is uitzicht.", "herbeoordeling_op": ahead, "door": door}))
    options: list[tuple[str, dict[str, Any]]] = [
        *forward,
        *forward,
        ("leerplicht_registratie", {"lba_geregistreerd_op": status.startdatum.isoformat()}),
        ("wachtlijst", {"op_wachtlijst": not status.wachtlijst}),
        ("voortgang", {"toelichting": f"Stand van zaken {rng.randint(1, 3)}."}),
        (
            "startdatum_correctie",
            {
                "startdatum": (status.startdatum - timedelta(days=rng.randint(1, 20))).isoformat(),
                "reden": "Volgens de LBA.",
            },
        ),
        ("opschalen", {"niveau": "coordinator", "reden_code": "proces_loopt_vast", "reden": "Het gaat te langzaam."}),
        (
            "opschalen",
            {
                "niveau": "taskforce",
                "reden_code": "geen_passende_plek",
                "reden": "Geen plek.",
                "afgestemd_met_leerplicht": rng.random() < 0.7,
                "afgestemd_met_school": rng.random() < 0.7,
            },
        ),
        ("route", {"route": "3.2"}),
        ("aanmelding_andere_school", {"school_brin": rng.choice(["34CD", "56EF"])}),
        ("zorgplicht_verlengd", {}),
        ("huisbezoek", {"samenvatting": "Verslag van het huisbezoek."}),
        ("taskforce_besluit", {"besluit": "Besluit van de Kerngroep."}),
        ("vrijstelling", {"status": rng.choice(["aangevraagd", "aangevraagd", "verleend", "afgewezen"])}),
        ("oudergesprek", {"deelnemers": ["school", "ouders"]}),
        ("melding", {"gemeld_bij_leerplicht": True, "datum": today.isoformat()}),
        ("document_toegevoegd", {"soort": "opp", "verwijzing": f"dms://opp/{rng.randint(1, 3)}"}),
        ("leerplicht_interventie", {"soort": "gesprek", "toelichting": "Gesprek met de ouders."}),
        ("toewijzen", {"rol": contact, "persoon": f"medewerker-{rng.randint(1, 3)}"}),
        ("gegevens_wijzigen", {"regio": rng.choice(["Noord", "Zuid"])}),
    ]
    if status.open_taken:
        taak = rng.choice(status.open_taken)
        options.append(("taak_afgerond", {"taak_id": taak.id, "toelichting": "Gedaan.", "door": taak.rol.value}))
    name, payload = rng.choice(options)
    payload = {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in payload.items()}
    if "door" not in payload:
        payload["door"] = door_for(name, sector, payload, uit_buitenland=status.uit_buitenland)
    if rng.random() < 0.1:
        payload["door"] = rng.choice(list(Door)).value  # someone who may not, or may
    return name, payload


async def send_signal(handle: WorkflowHandle[Any, Any], story: Story, name: str, payload: Any, kind: str) -> bool:
    """Send one signal; False when the case has already completed (it was closed by an earlier signal)."""
    try:
        await handle.signal(name, payload)
    except RPCError:
        story.closed_early = True
        return False
    story.sent.append(Sent(name, payload, kind))
    return True


async def drive_case(env: WorkflowEnvironment, worker: CaseWorker, seed: int) -> tuple[WorkflowHandle[Any, Any], Story]:
    rng = random.Random(seed)
    today = amsterdam_date(await env.get_current_time())
    abroad = rng.random() < 0.15
    sector = rng.choice(["PO", "VO"])
    fields: dict[str, Any] = {
        "age": rng.choice([4, 4, 5, 9, 13] if sector == "PO" else [10, 13, 16, 18]),  # PO 4 to 13, VO 10 to 18
        "sector": sector,
        "regio": rng.choice(["Noord", "Zuid"]),
        "fase": 1 if abroad else rng.choice([0, 1]),
        "woont_in_rotterdam": rng.random() < 0.7,
        "uit_buitenland": abroad,
    }
    aanmelding = pupil(today - timedelta(days=rng.randint(0, 40)), **fields)
    story = Story(seed, {**fields, "startdatum": aanmelding.startdatum.isoformat()})
    handle = await start(worker.client, aanmelding, worker.task_queue)

    for _ in range(rng.randint(10, 18)):
        roll = rng.random()
        if roll < 0.15:
            await env.sleep(timedelta(days=rng.randint(1, 25)))
            continue
        if roll < 0.40:
            name, payload = rng.choice(MALFORMED)
            kind = "malformed"
        elif roll < 0.45 and story.sent:
            last = story.sent[-1]  # the same event again
            name, payload, kind = last.name, last.payload, last.kind
        else:
            name, payload = next_event(rng, await status_of(handle))
            kind = "valid"
        if not await send_signal(handle, story, name, payload, kind):
            break
        if rng.random() < 0.05:  # now and then a case finds its place and closes along the way (phase 4)
            contact = "leerplicht_absoluut_verzuim" if abroad else door_for("afronden", fields["sector"])
            closing = [
                ("passende_plek", {"uitkomst": "terug_op_school", "door": "school"})
                if not abroad
                else (
                    "passende_plek",
                    {"uitkomst": "ingeschreven_andere_school", "school_brin": "78GH", "door": "school"},
                ),
                ("afronden", {"toelichting": "Gecontroleerd en afgerond.", "door": contact}),
            ]
            for name, payload in closing:
                if not await send_signal(handle, story, name, payload, kind="valid"):
                    break
            if story.closed_early:
                break
    if not story.closed_early:
        door = "leerplicht" if abroad else door_for("intrekken", fields["sector"])
        await send_signal(handle, story, "intrekken", {"reden": f"Einde van de proef {seed}.", "door": door}, "valid")
    return handle, story


async def closed(handle: WorkflowHandle[Any, Any], story: object = "", within: float = 30) -> Any:
    """The result of a case that must close now. Waits on the case's state, not on its result: on the time-skipping
    server waiting for a result moves the clock on until the case completes, and a case that never closes would
    take the shared clock centuries ahead."""
    try:
        await eventually(handle.describe, lambda d: d.status is not WorkflowExecutionStatus.RUNNING, within=within)
    except AssertionError:
        description = await handle.describe()
        stuck = [
            (a.activity_type, a.attempt, a.last_failure.message) for a in description.raw_description.pending_activities
        ]
        raise AssertionError(f"the case did not close; pending activities {stuck}\n{story}") from None
    return await handle.result()


async def check_case(handle: WorkflowHandle[Any, Any], story: Story, register: Register) -> None:
    result = await closed(handle, story, within=60)
    final = CaseStatus.model_validate(result)
    description = await handle.describe()
    assert description.status is WorkflowExecutionStatus.COMPLETED, story

    async for event in handle.fetch_history_events():
        if event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED:
            cause = event.workflow_task_failed_event_attributes.cause
            # A signal arriving while the case completes makes the server ask again: that is no failure of ours.
            assert cause == WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_UNHANDLED_COMMAND, (
                f"workflow task failed ({WorkflowTaskFailedCause.Name(cause)}): "
                f"{event.workflow_task_failed_event_attributes.failure.message}\n{story}"
            )

    case_id = f"{handle.id}:{handle.result_run_id}"
    rows = await register.events_for(case_id)
    assert [r.volgnummer for r in rows] == list(range(1, len(rows) + 1)), story
    fases = [r.fase for r in rows]
    assert fases == sorted(fases), f"phase went back in the register: {fases}\n{story}"
    levels = [("geen", "coordinator", "taskforce").index(r.escalatie) for r in rows]
    assert levels == sorted(levels), story
    if story.aanmelding["sector"] == "VO":
        assert "coordinator" not in {r.escalatie for r in rows}, f"a VO case went to a coordinator\n{story}"
    assert rows[-1].fase == final.fase and rows[-1].escalatie == final.escalatie.value, story
    term_lines = Counter(r.gebeurtenis for r in rows if r.gebeurtenis.startswith(TERM_KEYS))
    assert all(n == 1 for n in term_lines.values()), f"a term fired twice: {term_lines}\n{story}"

    assert final.afgesloten and final.uitkomst is not None and final.open_taken == [], story
    tasks = await register.tasks_for(case_id, open_only=False)
    registrations = await register.registrations_for(case_id)
    notifications = await register.notifications_for(case_id)
    # every task had its stable id and a due date from the moment it opened (the register keeps each one)
    without = [(t.rol, t.taak, t.taak_id, t.uiterlijk) for t in tasks if not t.taak_id or t.uiterlijk is None]
    assert tasks and not without, f"tasks without id or due date: {without}\n{story}"
    # a case closes only by afronden once phase 4's checks are done, or by intrekken
    assert rows[-1].gebeurtenis in ("afronden", "intrekken"), f"closed by {rows[-1].gebeurtenis}\n{story}"
    if rows[-1].gebeurtenis == "afronden":
        assert final.fase == 4 and "passende_plek" in {r.gebeurtenis for r in rows}, story
        moved_on = final.uitkomst is not None and final.uitkomst.value in ("ingeschreven_andere_school", "vrijstelling")
        assert not moved_on or final.uit_buitenland or final.uitgeschreven_op is not None, story
        assert final.uitkomst is None or final.uitkomst.value != "vrijstelling" or final.vrijstelling == "verleend"
    if story.aanmelding["sector"] == "VO":  # Koers VO's procedure: no PPO role, registration or message
        ppo = {"scp", "ouderfunctionaris", "coordinator"}
        assert not {t.rol for t in tasks} & ppo, story
        assert not [r for r in registrations if r.systeem in ("kindkans", "sisa")], story
        assert not {n.rol for n in notifications} & ppo, story
    if not final.leerplichtig:
        assert not [t for t in tasks if t.rol == "leerplicht" or t.taak in LEERPLICHT_TASKS], story
        assert not [r for r in registrations if r.systeem == "leerplicht"], story
    if final.uit_buitenland:
        assert not [r for r in registrations if r.systeem in ("kindkans", "sisa")], story
        assert not {n.rol for n in notifications} & {"school", "scp", "koersloket"}, story
    if "taskforce" in {r.escalatie for r in rows}:
        may_escalate = "coordinator" if story.aanmelding["sector"] == "PO" else "koersloket"
        allowed = [
            s
            for s in story.sent
            if s.name == "opschalen"
            and s.kind == "valid"
            and s.payload["niveau"] == "taskforce"
            and s.payload["door"] == may_escalate
            and (s.payload["afgestemd_met_leerplicht"] or story.aanmelding["age"] == 4)  # no Leerplicht for 4
            and (s.payload["afgestemd_met_school"] or story.aanmelding["uit_buitenland"])  # no school from abroad
        ]
        assert allowed, f"with the Taskforce without an allowed opschalen\n{story}"
        assert story.aanmelding["sector"] == "PO" or story.aanmelding["woont_in_rotterdam"], story
        assert final.regiehouder.value == "taskforce", story
    for sleutel, owner in [(r.sleutel, r.case_id) for r in registrations] + [
        (n.sleutel, n.case_id) for n in notifications
    ]:
        assert owner == case_id and sleutel.startswith(f"{case_id}:"), story
    once = [(r.sleutel, r.pogingen) for r in registrations] + [(n.sleutel, n.pogingen) for n in notifications]
    assert all(pogingen == 1 for _, pogingen in once), f"a call or message was made more than once: {once}"

    # Every malformed signal is in afgewezen: by its exact reason where the payload itself is wrong, by its
    # event's name where only the rules refuse it (a date in the future).
    refused_reasons = Counter((a.gebeurtenis, a.reden) for a in final.afgewezen)
    refused_names = Counter(a.gebeurtenis for a in final.afgewezen)
    expected_reasons: Counter[tuple[str, str]] = Counter()
    for sent in story.sent:
        if sent.kind == "malformed":
            try:
                rules.parse(sent.name, sent.payload)
            except rules.Weigering as refusal:
                expected_reasons[(sent.name, refusal.reden)] += 1
    for (name, reden), count in expected_reasons.items():
        assert refused_reasons[(name, reden)] >= count, f"'{name}' refused for '{reden}' {count} times?\n{story}"
    malformed = Counter(s.name for s in story.sent if s.kind == "malformed")
    for name, count in malformed.items():
        assert refused_names[name] >= count, f"{count} malformed '{name}' sent, {refused_names[name]} refused\n{story}"
    assert all(a.reden for a in final.afgewezen)


async def test_random_signals_never_fail_a_case_and_keep_its_invariants(
    time_env: WorkflowEnvironment, register: Register, test_settings: Settings
) -> None:
    async with case_worker(time_env, register, test_settings) as worker:
        for seed in range(CASES):
            handle, story = await drive_case(time_env, worker, seed)
            await check_case(handle, story, register)


async def test_a_signal_with_an_unknown_event_name_is_recorded_as_refused(
    time_env: WorkflowEnvironment, register: Register, test_settings: Settings
) -> None:
    async with case_worker(time_env, register, test_settings) as worker:
        today = amsterdam_date(await time_env.get_current_time())
        handle = await start(worker.client, pupil(today), worker.task_queue)
        await handle.signal("verhuizing", {"naar": "Utrecht"})
        await handle.signal("voortgang", {"toelichting": "Stand van zaken.", "door": "school"})
        s = await eventually(lambda: status_of(handle), lambda s: "voortgang" in [r.gebeurtenis for r in s.tijdlijn])
        assert [(a.gebeurtenis, a.reden) for a in s.afgewezen] == [("verhuizing", "onbekende gebeurtenis 'verhuizing'")]
        await handle.signal("intrekken", {"reden": "Einde van de proef.", "door": "scp"})
        await closed(handle)


async def test_a_signal_with_more_than_one_argument_is_refused_without_failing_the_case(
    time_env: WorkflowEnvironment, register: Register, test_settings: Settings
) -> None:
    async with case_worker(time_env, register, test_settings) as worker:
        today = amsterdam_date(await time_env.get_current_time())
        handle = await start(worker.client, pupil(today), worker.task_queue)
        await handle.signal(
            "voortgang", args=[{"toelichting": "Eén.", "door": "school"}, {"toelichting": "Twee.", "door": "school"}]
        )
        await handle.signal("wachtlijst", {"op_wachtlijst": True, "door": "school"})
        s = await eventually(lambda: status_of(handle), lambda s: s.wachtlijst)
        assert [a.gebeurtenis for a in s.afgewezen] == ["voortgang"]
        await handle.signal("intrekken", {"reden": "Einde van de proef.", "door": "scp"})
        await closed(handle)
        async for event in handle.fetch_history_events():
            assert event.event_type != EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED


assert set(name for name, _ in MALFORMED) <= set(EVENTS)
