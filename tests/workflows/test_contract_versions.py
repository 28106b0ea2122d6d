"""Cases started under contract version 1 keep its rules for life (patch ``contract-v2``): what they accept and how
they recognise a repeated event must not change, or a running case would act differently on replay."""

from __future__ import annotations

import pytest

from workflows import rules
from workflows.contract import ADDED_IN_VERSIE_2, EVENTS, EVENTS_V1

# Fingerprints as the version-1 code (commit 6caec1c) computed them. A case carries them through continue-as-new:
# if the same event arrives again in the next run, it must still be seen as the same.
VERSIE_1_FINGERPRINTS = [
    ("opschalen", {"niveau": "coordinator", "reden": "x"}, "35a40711ed7bf7255ed004ae"),
    ("melding", {"gemeld_bij_leerplicht": True, "door": "school"}, "fabb7c703cfeeb07d2506e08"),
]


@pytest.mark.parametrize(("name", "payload", "expected"), VERSIE_1_FINGERPRINTS)
def test_a_version_1_event_keeps_its_fingerprint(name: str, payload: dict[str, object], expected: str) -> None:
    assert rules.fingerprint(name, rules.parse(name, payload, 1)) == expected


@pytest.mark.parametrize("field", sorted(ADDED_IN_VERSIE_2))
def test_a_version_1_case_refuses_the_fields_of_version_2_as_unknown(field: str) -> None:
    with pytest.raises(rules.Weigering, match=f"veld '{field}': onbekend veld"):
        rules.parse("oudergesprek", {"deelnemers": ["school", "ouders", "scp"], field: "x"}, 1)


def test_a_version_1_case_knows_only_the_events_of_version_1() -> None:
    for name in sorted(set(EVENTS) - set(EVENTS_V1)):
        with pytest.raises(rules.Weigering, match="onbekende gebeurtenis"):
            rules.parse(name, {}, 1)


def test_version_2_requires_door_and_version_1_does_not() -> None:
    with pytest.raises(rules.Weigering, match="veld 'door': ontbreekt"):
        rules.parse("melding", {"gemeld_bij_leerplicht": True}, 2)
    assert rules.parse("melding", {"gemeld_bij_leerplicht": True}, 1).door is None
