"""Errors of the API as ``application/problem+json`` (RFC 9457), in Dutch, naming the field or the rule.

Every error answer of ``/api`` is a :class:`Probleem`: ``type`` is a stable URI per kind of problem (documented in
docs/api.md), ``title`` says the kind in Dutch, ``detail`` this occurrence; a refused field lists each field with its
message (``fouten``), a refusal by the procedure names the rule's reason (``regel``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Final

from pydantic import BaseModel, Field, ValidationError
from starlette.responses import JSONResponse

PROBLEM_JSON: Final = "application/problem+json"
TYPE_BASE: Final = "https://thuiszitters.rotterdam.nl/api/problemen/"
"""The base of every problem type; the page of docs/api.md describes each one."""

TITLES: Final[dict[str, str]] = {
    "ongeldig-verzoek": "Het verzoek klopt niet",
    "niet-geauthenticeerd": "Niet aangemeld",
    "geen-toegang": "Geen toegang",
    "niet-gevonden": "Niet gevonden",
    "te-groot": "Het verzoek is te groot",
    "te-veel-verzoeken": "Te veel verzoeken",
    "afgewezen": "De zaak wees dit af",
    "bestaat-al": "Bestaat al",
    "sleutel-hergebruikt": "Idempotency-Key al gebruikt voor een ander verzoek",
    "in-behandeling": "Dit verzoek wordt nog behandeld",
    "niet-bereikbaar": "De zaken zijn nu niet bereikbaar",
    "methode-niet-toegestaan": "Deze methode kan hier niet",
    "niet-aanvaardbaar": "Dit formaat kan de API niet leveren",
    "mediatype": "Dit formaat kan de API niet lezen",
    "interne-fout": "Er ging iets mis",
}


class Veldfout(BaseModel, frozen=True):
    veld: str = Field(description="Het veld, als pad met punten: 'acties.0.uiterlijk'; leeg voor het hele verzoek.")
    melding: str = Field(description="Wat er niet klopt, in het Nederlands.")


class Probleem(BaseModel):
    """An error answer (RFC 9457)."""

    type: str = Field(description="Een vaste URI per soort probleem.")
    title: str = Field(description="De soort probleem, in het Nederlands.")
    status: int = Field(description="De HTTP-status.")
    detail: str = Field(description="Wat er deze keer misging, in het Nederlands.")
    instance: str | None = Field(default=None, description="Het pad van het verzoek.")
    fouten: list[Veldfout] | None = Field(default=None, description="Per veld wat er niet klopt.")
    regel: str | None = Field(default=None, description="De regel van de procedure die het verzoek afwees.")


class ApiProbleem(Exception):
    """Raise to answer with a problem; ``headers`` go with it (``Retry-After``, ``WWW-Authenticate``)."""

    def __init__(
        self,
        status: int,
        soort: str,
        detail: str,
        *,
        fouten: Sequence[Veldfout] | None = None,
        regel: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        if soort not in TITLES:
            raise ValueError(f"onbekende soort probleem '{soort}'")
        self.status = status
        self.soort = soort
        self.detail = detail
        self.fouten = list(fouten) if fouten is not None else None
        self.regel = regel
        self.headers = dict(headers or {})

    def probleem(self, instance: str | None = None) -> Probleem:
        return Probleem(
            type=TYPE_BASE + self.soort,
            title=TITLES[self.soort],
            status=self.status,
            detail=self.detail,
            instance=instance,
            fouten=self.fouten,
            regel=self.regel,
        )

    def response(self, instance: str | None = None) -> JSONResponse:
        return problem_response(self.probleem(instance), self.headers)


def problem_response(probleem: Probleem, headers: Mapping[str, str] | None = None) -> JSONResponse:
    return JSONResponse(
        probleem.model_dump(exclude_none=True),
        status_code=probleem.status,
        headers=dict(headers or {}),
        media_type=PROBLEM_JSON,
    )


_MESSAGES: Final[dict[str, str]] = {
    "missing": "Dit veld is verplicht.",
    "extra_forbidden": "Dit veld kent de API niet.",
    "string_too_long": "Deze tekst is te lang.",
    "string_too_short": "Deze tekst is leeg of te kort.",
    "string_pattern_mismatch": "Deze waarde heeft niet de juiste vorm.",
    "date_from_datetime_parsing": "Geef een datum als JJJJ-MM-DD.",
    "date_parsing": "Geef een datum als JJJJ-MM-DD.",
    "date_type": "Geef een datum als JJJJ-MM-DD.",
    "bool_parsing": "Geef true of false.",
    "bool_type": "Geef true of false.",
    "enum": "Kies een van de toegestane waarden.",
    "literal_error": "Kies een van de toegestane waarden.",
    "string_type": "Geef een tekst.",
    "int_type": "Geef een geheel getal.",
    "int_parsing": "Geef een geheel getal.",
    "list_type": "Geef een lijst.",
    "too_long": "Deze lijst is te lang.",
    "too_short": "Deze lijst is te kort.",
    "model_type": "Geef een object.",
    "dict_type": "Geef een object.",
    "json_invalid": "Dit is geen geldige JSON.",
}


def field_errors(error: ValidationError, *, skip: int = 0) -> list[Veldfout]:
    """Each error of ``error`` as a field and a Dutch message; ``skip`` leading parts of the location are left out
    (FastAPI's ``body``). A model rule's own Dutch message (``'veld: ...'``) names its field itself."""
    found: list[Veldfout] = []
    for item in error.errors(include_url=False):
        location = field_path(item.get("loc", ()))[skip:]
        kind = str(item.get("type", ""))
        message = str(item.get("msg", ""))
        if kind == "value_error":
            text = message.removeprefix("Value error, ")
            veld, _, rest = text.partition(": ")
            if rest and " " not in veld:
                found.append(Veldfout(veld=veld, melding=rest[:1].upper() + rest[1:]))
                continue
            found.append(Veldfout(veld=".".join(location), melding=text[:1].upper() + text[1:]))
            continue
        found.append(Veldfout(veld=".".join(location), melding=_MESSAGES.get(kind, "Deze waarde klopt niet.")))
    return list(dict.fromkeys(found))


def field_path(location: Sequence[object]) -> list[str]:
    """A field's location as the caller wrote it: without the members of a union that pydantic names when a value
    fits none of them (``rol.str-enum[Door]``, ``rol.literal['ouderfunctionaris']`` are both ``rol``)."""
    return [str(part) for part in location if not (isinstance(part, str) and "[" in part)]


def summary(fouten: Sequence[Veldfout]) -> str:
    names = [f.veld or "het verzoek" for f in fouten]
    return "Niet alle velden kloppen: " + ", ".join(dict.fromkeys(names)) + "."
