"""The scope of step 12 as a register query (``scope_sql``) selects exactly the cases the policy's own
``ScopeFilter.matches`` admits, for every kind of scope, on cases of every kind written into the register."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from thuiszitters.people.policy import Actor, CaseFacts, acting_scope, scope_filter
from thuiszitters.register import werkbak
from thuiszitters.register.store import Register

pytestmark = pytest.mark.asyncio(loop_scope="session")

ACTORS = [
    Actor(persoon_id="s", rol="school", scholen=frozenset({"99AA"})),
    Actor(persoon_id="s6", rol="school", scholen=frozenset({"99AB01"})),
    Actor(persoon_id="scp", rol="scp", scholen=frozenset({"99AA", "99AB"})),
    Actor(persoon_id="k", rol="koersloket"),
    Actor(persoon_id="l", rol="leerplicht", scholen=frozenset({"99BA"})),
    Actor(persoon_id="la", rol="leerplicht", alle=True),
    Actor(persoon_id="lav", rol="leerplicht_absoluut_verzuim", scholen=frozenset({"99AA"})),
    Actor(persoon_id="c", rol="coordinator", regio="Noord"),
    Actor(persoon_id="o", rol="ouderfunctionaris", regio="Zuid"),
    Actor(persoon_id="w", rol="wijkteam", regio="Noord"),
    Actor(persoon_id="w0", rol="wijkteam"),
    Actor(persoon_id="t", rol="taskforce"),
    Actor(persoon_id="ta", rol="taskforce", alle=True),
    Actor(persoon_id="b", rol="beheerder"),
    Actor(persoon_id="sv", rol="school", scholen=frozenset({"99AA", "99BA"}), sector="VO"),
]


def cases() -> list[dict[str, Any]]:
    found = []
    kinds = itertools.product(
        ("PO", "VO"),
        ("Noord", "Zuid"),
        ("99AA", "99AB01", "99BA", None),
        ("geen", "taskforce"),
        (None, "3.4"),
        ({}, {"wijkteam": "w"}),
        ((), ("wijkteam",), ("school",)),
    )
    for number, (sector, regio, school, escalatie, route, toegewezen, taken) in enumerate(kinds):
        found.append(
            {
                "case_id": f"z{number}:run",
                "sector": sector,
                "regio": regio,
                "school_brin": school,
                "escalatie": escalatie,
                "route": route,
                "toegewezen": toegewezen,
                "taken": taken,
            }
        )
    return found


async def test_the_register_query_selects_what_the_policy_admits(register: Register) -> None:
    all_cases = cases()
    for case in all_cases:
        await register.pool.execute(
            """
            INSERT INTO cases (case_id, workflow_id, leerling_ref, sector, regio, school_brin, leerplichtig,
                               startdatum, fase, regiehouder, escalatie, route, wachtlijst, afgesloten,
                               laatste_volgnummer, geopend_op, bijgewerkt_op, contract_versie, toegewezen)
            VALUES ($1, $1, $1, $2, $3, $4, true, current_date, 1, 'school', $5, $6, false, false, 1, now(), now(),
                    2, $7)
            """,
            case["case_id"],
            case["sector"],
            case["regio"],
            case["school_brin"],
            case["escalatie"],
            case["route"],
            case["toegewezen"],
        )
        for index, rol in enumerate(case["taken"]):
            await register.pool.execute(
                """INSERT INTO tasks (case_id, rol, taak, geopend_op, taak_id) VALUES ($1, $2, 'iets', now(), $3)""",
                case["case_id"],
                rol,
                f"T{index + 1}",
            )
    for actor, which in itertools.product(ACTORS, (scope_filter, acting_scope)):
        scope = which(actor)
        arguments: list[Any] = []
        condition = werkbak.scope_sql(scope, arguments)
        rows = await register.pool.fetch(f"SELECT case_id FROM cases c WHERE {condition}", *arguments)
        selected = {row["case_id"] for row in rows}
        admitted = {
            case["case_id"]
            for case in all_cases
            if scope.matches(
                CaseFacts(
                    sector=case["sector"],
                    regio=case["regio"],
                    school_brin=case["school_brin"],
                    escalatie=case["escalatie"],
                    route=case["route"],
                    toegewezen=case["toegewezen"],
                    open_taken={f"T{i + 1}": rol for i, rol in enumerate(case["taken"])},
                )
            )
        }
        assert selected == admitted, (actor.persoon_id, which.__name__)
    assert 0 < len(admitted) < len(all_cases)
