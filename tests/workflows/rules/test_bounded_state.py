"""A long-running or flooded case keeps a state of bounded size: what one event costs cannot grow with the case.

The timeline keeps its latest entries and counts them all; refusals likewise; the effects an event queues are
handed over to the workflow, so the state it carries holds no backlog. The speed itself is measured by the
benchmark (``python -m bench.run --scenarios rules``), not here.
"""

from __future__ import annotations

from datetime import timedelta

from tests.workflows.rules.build import LATER, opened
from workflows import rules
from workflows.effects import Bericht, Effect, Registratie, Vastlegging

REPORTS = 1_000


def report(number: int) -> dict[str, str]:
    return {"toelichting": f"bericht {number}", "door": "school"}


def test_a_thousand_reports_keep_the_latest_timeline_and_count_all() -> None:
    state = opened()
    rules.take_effects(state)
    before = state.tijdlijn_totaal
    for number in range(REPORTS):
        state = rules.receive(state, "voortgang", report(number), LATER + timedelta(seconds=number))
        rules.take_effects(state)
    assert state.tijdlijn_totaal == before + REPORTS
    assert len(state.tijdlijn) == rules.MAX_TIJDLIJN
    assert str(state.tijdlijn[-1].toelichting).startswith("Voortgang doorgegeven")
    # the latest entries, in order: the oldest kept is report 800 of 1,000
    kept = [line.tijd for line in state.tijdlijn]
    assert kept == sorted(kept) and kept[0] == LATER + timedelta(seconds=REPORTS - rules.MAX_TIJDLIJN)
    status = rules.status(state, LATER + timedelta(days=1))
    assert (status.tijdlijn_totaal, len(status.tijdlijn)) == (state.tijdlijn_totaal, rules.MAX_TIJDLIJN)
    assert state.volgnummer == 1 + REPORTS  # the register still gets a line for every one of them


def test_taking_the_effects_empties_the_queue_and_keeps_their_order() -> None:
    state = opened()
    state = rules.receive(state, "voortgang", report(1), LATER)
    queued = list(state.openstaand)
    taken = rules.take_effects(state)
    assert taken == queued and state.openstaand == []
    kinds = [type(effect) for effect in taken]
    assert kinds.count(Vastlegging) == 2 and Bericht in kinds and Registratie in kinds  # melding, then the report
    after = rules.receive(state, "voortgang", report(2), LATER)
    assert all(effect.sleutel.startswith(f"{state.case_id}:{state.volgnummer + 1}:") for effect in after.openstaand)


def test_a_flood_of_refusals_keeps_the_latest_hundred_and_counts_all() -> None:
    state = opened()
    for number in range(3 * rules.MAX_AFGEWEZEN):
        state = rules.receive(state, "voortgang", {"toelichting": ""}, LATER + timedelta(seconds=number))
    assert state.afgewezen_totaal == 3 * rules.MAX_AFGEWEZEN
    assert len(state.afgewezen) == rules.MAX_AFGEWEZEN
    assert rules.status(state, LATER).afgewezen_totaal == 3 * rules.MAX_AFGEWEZEN


def test_a_state_from_before_the_bound_counts_its_whole_timeline() -> None:
    state = opened()
    carried = state.model_dump(mode="json")
    carried.pop("tijdlijn_totaal")
    carried["tijdlijn"] = carried["tijdlijn"] * 3
    restored = rules.CaseState.model_validate(carried)
    assert restored.tijdlijn_totaal == 3 * len(state.tijdlijn)


def reports(state: rules.CaseState, count: int) -> list[Effect]:
    """The effects of ``count`` progress reports on an opened case, in queue order (the melding's first)."""
    waiting = rules.take_effects(state)
    for number in range(count):
        state = rules.receive(state, "voortgang", report(number), LATER + timedelta(seconds=number))
        waiting += rules.take_effects(state)
    return waiting


def receiver(effect: Effect) -> str | None:
    if isinstance(effect, Registratie):
        return f"systeem {effect.systeem}"
    return f"rol {effect.rol}" if isinstance(effect, Bericht) else None


def test_a_batch_is_the_oldest_effects_with_one_call_per_system_and_one_message_per_role() -> None:
    waiting = reports(opened(), 3)
    batch = rules.next_batch(waiting, 64)
    assert batch == waiting[: len(batch)]  # oldest first, settled from the front
    receivers = [r for r in map(receiver, batch) if r is not None]
    assert len(receivers) == len(set(receivers))
    following = waiting[len(batch)]
    assert receiver(following) in receivers  # it stopped where a receiver would have had a second step at once
    assert len(rules.next_batch(waiting, 2)) == 2


def test_register_lines_may_overtake_each_other() -> None:
    lines = [effect for effect in reports(opened(), 5) if isinstance(effect, Vastlegging)]
    assert rules.next_batch(lines, 64) == lines
    assert rules.next_batch(lines, 3) == lines[:3]


def test_portions_are_the_oldest_effects_grouped_per_receiver_in_their_order() -> None:
    waiting = reports(opened(), 20)
    portions = rules.next_portions(waiting, 128, 32, 1_000_000)
    taken = [effect for portion in portions for effect in portion]
    assert sorted(map(waiting.index, taken)) == list(range(len(taken)))  # a prefix: settled from the front
    assert len(taken) == len(waiting) > len(portions)  # everything at once, far fewer activities than effects
    for portion in portions:
        assert len({rules_receiver(effect) for effect in portion}) == 1  # one receiver per activity
        assert [waiting.index(effect) for effect in portion] == sorted(waiting.index(effect) for effect in portion)
    receivers = [rules_receiver(portion[0]) for portion in portions]
    assert len(receivers) == len(set(receivers))  # and one activity per receiver


def test_portions_stop_at_their_bounds_and_always_take_the_oldest() -> None:
    waiting = reports(opened(), 20)
    sizes = [rules.json_size(effect) for effect in waiting]  # bytes of JSON, fields at their default left out

    def taken(most: int, per_receiver: int, max_bytes: int) -> list[Effect]:
        return [e for portion in rules.next_portions(waiting, most, per_receiver, max_bytes) for e in portion]

    assert len(taken(10, 32, 1_000_000)) == 10
    per_receiver = taken(128, 3, 1_000_000)
    assert max(sum(rules_receiver(e) == r for e in per_receiver) for r in map(rules_receiver, per_receiver)) == 3
    assert rules_receiver(waiting[len(per_receiver)]) in map(rules_receiver, per_receiver)  # stopped at a full one
    assert len(taken(128, 32, sum(sizes[:5]))) == 5
    assert taken(128, 32, 1) == waiting[:1]  # one effect larger than the budget still goes
    assert rules.next_portions([], 128, 32, 1) == []


def rules_receiver(effect: Effect) -> str:
    return receiver(effect) or "register"


def test_what_waits_fits_in_a_budget_of_json() -> None:
    waiting = reports(opened(), 2)
    size = sum(len(effect.model_dump_json()) for effect in waiting)
    assert rules.fits_in(waiting, size)
    assert not rules.fits_in(waiting, size - 1)
