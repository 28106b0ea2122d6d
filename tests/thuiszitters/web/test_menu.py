"""The menu of the werkbak offers each role exactly the pages it may use."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from thuiszitters.people.policy import Actor, ActorRole, decide
from thuiszitters.web.werkbak import menu

SCOPES: dict[ActorRole, dict[str, Any]] = {
    ActorRole.SCHOOL: {"scholen": frozenset({"99AA"})},
    ActorRole.SCP: {"scholen": frozenset({"99AA"})},
    ActorRole.KOERSLOKET: {},
    ActorRole.LEERPLICHT: {"alle": True},
    ActorRole.LEERPLICHT_ABSOLUUT_VERZUIM: {"alle": True},
    ActorRole.OUDERFUNCTIONARIS: {"regio": "Noord"},
    ActorRole.COORDINATOR: {"regio": "Noord"},
    ActorRole.WIJKTEAM: {"regio": "Noord"},
    ActorRole.TASKFORCE: {"alle": True},
    ActorRole.BEHEERDER: {},
}
TEAM_PAGES = {
    "/regio": {ActorRole.COORDINATOR},
    "/kerngroep": {ActorRole.TASKFORCE},
    "/leerplicht": {ActorRole.LEERPLICHT, ActorRole.LEERPLICHT_ABSOLUUT_VERZUIM},
}


@pytest.mark.parametrize("rol", list(ActorRole))
def test_each_role_gets_the_pages_of_its_work(rol: ActorRole) -> None:
    actor = Actor(persoon_id="iemand", rol=rol, **SCOPES[rol])
    paths = [path for path, _ in menu(SimpleNamespace(actor=actor))]  # type: ignore[arg-type]
    assert ("/aanmelden" in paths) == bool(decide(actor, "zaak_starten"))
    for page, roles in TEAM_PAGES.items():
        assert (page in paths) == (rol in roles), page
