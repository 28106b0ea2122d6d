"""The search attributes of a case: what coordinators filter on in the Web UI. None of them holds personal data."""

from __future__ import annotations

from temporalio.common import (
    SearchAttributeKey,
    SearchAttributePair,
    SearchAttributeUpdate,
)

FASE = SearchAttributeKey.for_int("Fase")
REGIO = SearchAttributeKey.for_keyword("Regio")
SECTOR = SearchAttributeKey.for_keyword("Sector")
REGIEHOUDER = SearchAttributeKey.for_keyword("Regiehouder")
ESCALATIE = SearchAttributeKey.for_keyword("Escalatie")
WEKEN_THUIS = SearchAttributeKey.for_int("WekenThuis")
ROUTE = SearchAttributeKey.for_keyword("Route")
AFGESLOTEN = SearchAttributeKey.for_bool("Afgesloten")

ALL_KEYS = (FASE, REGIO, SECTOR, REGIEHOUDER, ESCALATIE, WEKEN_THUIS, ROUTE, AFGESLOTEN)

_CLI_TYPES = {"INT": "Int", "KEYWORD": "Keyword", "BOOL": "Bool", "DATETIME": "Datetime", "TEXT": "Text"}


def cli_flags() -> list[str]:
    """``--search-attribute Name=Type`` flags for ``temporal server start-dev``."""
    flags: list[str] = []
    for key in ALL_KEYS:
        flags += ["--search-attribute", f"{key.name}={_CLI_TYPES[key.indexed_value_type.name]}"]
    return flags


__all__ = [
    "AFGESLOTEN",
    "ALL_KEYS",
    "ESCALATIE",
    "FASE",
    "REGIEHOUDER",
    "REGIO",
    "ROUTE",
    "SECTOR",
    "WEKEN_THUIS",
    "SearchAttributePair",
    "SearchAttributeUpdate",
    "cli_flags",
]
