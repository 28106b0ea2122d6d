"""``CaseActivities`` and ``ScheduledActivities`` together implement exactly the activities the workflows declare
(``workflows/activities.py``), each activity in one of them: the same names, the same argument and result types,
none missing and none extra, and no workflow calls an activity but by reference to a declaration. A drift between
the two would only show at run time (an activity type no worker serves, a result decoded as the wrong type), so it
fails here.

The SDK's activity definition (``temporalio.activity._Definition``) is read here because it is what the SDK itself
takes from a function on both sides (the name it schedules, the types it converts with); only tests may use it.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from temporalio import activity

from activities.case_activities import CaseActivities
from activities.scheduled import ScheduledActivities
from thuiszitters.register.store import Register
from thuiszitters.settings import Settings
from workflows import activities as declared_activities
from workflows.effects import Bericht, Portie, Registratie, RegistratieUitkomst, Vastlegging, Verantwoordelijken
from workflows.policy import Beleid
from workflows.scheduled_work import Bewaartermijn, BewaartermijnSamenvatting, RegioRapport, WeekrapportRegio

WORKFLOWS = Path(__file__).resolve().parents[2] / "workflows"
STARTS_AN_ACTIVITY = {
    f"{verb}_{kind}activity{form}"
    for verb in ("start", "execute")
    for kind in ("", "local_")
    for form in ("", "_method", "_class")
}
"""``workflow.execute_activity``, ``workflow.start_local_activity_method`` and the rest of the family."""


def definitions(functions: Iterable[Callable[..., Any]]) -> dict[str, activity._Definition]:
    found: dict[str, activity._Definition] = {}
    for function in functions:
        definition = activity._Definition.must_from_callable(function)
        assert definition.name is not None, f"{function}: a dynamic activity"
        assert definition.name not in found, f"activity {definition.name} defined twice"
        found[definition.name] = definition
    return found


def declarations() -> list[Callable[..., Any]]:
    """Every activity declared in ``workflows/activities.py``, found by its definition (not by a list)."""
    found = vars(declared_activities).values()
    return [value for value in found if activity._Definition.from_callable(value) is not None]


def mismatches(declared: Iterable[Callable[..., Any]], implemented: Iterable[Callable[..., Any]]) -> list[str]:
    """What differs between declared and implemented activities; empty when they match."""
    want, have = definitions(declared), definitions(implemented)
    problems = [f"{name}: declared, not implemented" for name in want.keys() - have.keys()]
    problems += [f"{name}: implemented, not declared" for name in have.keys() - want.keys()]
    for name in want.keys() & have.keys():
        w, h = want[name], have[name]
        if (w.arg_types, w.ret_type, w.is_async) != (h.arg_types, h.ret_type, h.is_async):
            problems.append(
                f"{name}: declared {w.arg_types} -> {w.ret_type} (async: {w.is_async}), "
                f"implemented {h.arg_types} -> {h.ret_type} (async: {h.is_async})"
            )
    return sorted(problems)


async def test_the_activity_classes_implement_exactly_what_the_workflows_declare(register: Register) -> None:
    implementation = CaseActivities(Settings(), register)
    scheduled = ScheduledActivities(Settings(), register)
    try:
        assert mismatches(declarations(), [*implementation.all(), *scheduled.all()]) == []
        case_names, scheduled_names = definitions(implementation.all()).keys(), definitions(scheduled.all()).keys()
        assert not case_names & scheduled_names, "an activity implemented twice: which one would the worker run?"
        assert scheduled_names == {"bewaartermijn_toepassen", "weekrapport_versturen"}
    finally:
        await implementation.close()


def test_the_declarations_keep_the_names_running_cases_recorded() -> None:
    """The names are in every history (tests/histories replay them too): a rename strands running cases."""
    found = definitions(declarations())
    assert {name: (d.arg_types, d.ret_type) for name, d in found.items()} == {
        "vastleggen": ([Vastlegging], type(None)),
        "registreren": ([Registratie], RegistratieUitkomst),
        "berichten": ([Bericht], type(None)),
        "uitvoeren": ([Portie], list[str | None]),
        "huidig_beleid": ([], Beleid),
        "verantwoordelijken": ([Verantwoordelijken], dict[str, str]),
        "bewaartermijn_toepassen": ([Bewaartermijn], BewaartermijnSamenvatting),
        "weekrapport_versturen": ([WeekrapportRegio], RegioRapport),
    }


class Drifted:
    """An implementation that drifted from the declarations in each way the check must catch."""

    @activity.defn(name="vastleggen")
    async def vastleggen(self, v: Registratie) -> None: ...  # another argument type

    @activity.defn(name="registreren")
    async def registreren(self, r: Registratie) -> None: ...  # no result

    @activity.defn(name="berichten_versturen")
    async def berichten(self, b: Bericht) -> None: ...  # another name

    @activity.defn(name="uitvoeren")
    async def uitvoeren(self, portie: Portie) -> list[str | None]:  # as declared
        return []

    @activity.defn(name="huidig_beleid")
    def huidig_beleid(self) -> Beleid:  # not async
        raise NotImplementedError

    @activity.defn(name="verantwoordelijken")
    async def verantwoordelijken(self, vraag: Verantwoordelijken) -> dict[str, str]:  # as declared
        return {}


async def test_the_check_finds_every_kind_of_drift(register: Register) -> None:
    drifted = Drifted()
    implemented: list[Callable[..., Any]] = [
        drifted.vastleggen,
        drifted.registreren,
        drifted.berichten,
        drifted.uitvoeren,
        drifted.huidig_beleid,
        drifted.verantwoordelijken,
        *ScheduledActivities(Settings(), register).all(),
    ]
    problems = mismatches(declarations(), implemented)
    assert [problem.split(":")[0] for problem in problems] == [
        "berichten",
        "berichten_versturen",
        "huidig_beleid",
        "registreren",
        "vastleggen",
    ]
    assert "berichten: declared, not implemented" in problems
    assert "berichten_versturen: implemented, not declared" in problems


def activity_calls(path: Path) -> list[tuple[int, ast.expr]]:
    """Each call of the SDK's activity starters in a module, with what it names as the activity."""
    calls: list[tuple[int, ast.expr]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in STARTS_AN_ACTIVITY:
            calls.append((node.lineno, node.args[0]))
    return calls


def test_the_workflow_calls_activities_only_by_their_declarations() -> None:
    names = {function.__name__ for function in declarations()}
    calls = [(path, line, target) for path in sorted(WORKFLOWS.rglob("*.py")) for line, target in activity_calls(path)]
    assert calls, "the workflow calls its activities: the scan should find them"
    for path, line, target in calls:
        assert (
            isinstance(target, ast.Attribute)
            and isinstance(target.value, ast.Name)
            and target.value.id == "activities"
            and target.attr in names
        ), f"{path.name}:{line}: call a declared activity (workflows.activities.<name>), not {ast.unparse(target)}"
