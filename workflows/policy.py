"""The policy of a case: every term, warning point and reminder interval of the procedure in one settings object.

The policy is passed to the workflow at start (``Aanmelding.beleid``) and kept in the case's state, so a running
case keeps the policy it started with, and tests can shorten terms.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator


class Beleid(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    thuiszitter_na_dagen: int = Field(
        default=28,
        ge=1,
        le=365,
        description="Phase 0: days without a melding after which school and SCP are told.",
    )
    escalatie_termijn_dagen: int = Field(
        default=84, ge=1, le=730, description="The legal term (twelve weeks) from the start date."
    )
    waarschuwingen_dagen: tuple[int, ...] = Field(
        default=(56, 70), description="Warnings to school and SCP before the term (eight and ten weeks)."
    )
    zorgplicht_dagen: int = Field(default=42, ge=1, le=365, description="Route 3.2: term of the receiving school.")
    zorgplicht_verlenging_dagen: int = Field(default=28, ge=1, le=365, description="Its one extension.")
    lba_herinnering_werkdagen: int = Field(
        default=5,
        ge=1,
        le=60,
        description="LBA registration not confirmed this many working days after the melding.",
    )
    oudergesprek_herinnering_werkdagen: int = Field(
        default=10, ge=1, le=60, description="No oudergesprek this many working days after the melding."
    )
    plan_herinnering_werkdagen: int = Field(
        default=10,
        ge=1,
        le=60,
        description="No plan van aanpak this many working days after the oudergesprek.",
    )
    termijn_uur: int = Field(
        default=7, ge=0, le=23, description="Hour (Amsterdam time) at which a term that falls on a day fires."
    )

    @model_validator(mode="after")
    def _warnings_before_term(self) -> Beleid:
        if len(set(self.waarschuwingen_dagen)) != len(self.waarschuwingen_dagen):
            raise ValueError("waarschuwingen_dagen: elke waarschuwingsdag maar één keer")
        for dagen in self.waarschuwingen_dagen:
            if not 0 < dagen < self.escalatie_termijn_dagen:
                raise ValueError("waarschuwingen_dagen: elke waarschuwing moet voor de escalatietermijn liggen")
        return self


DEFAULT_BELEID = Beleid()
