"""The case as others see it: the ``status`` query of the contract, and the Web UI's details and summary
(without personal data)."""

from __future__ import annotations

from datetime import datetime

from workflows.calendar import amsterdam_date
from workflows.contract import FASE_NAMEN, Aanmelding, CaseStatus
from workflows.state import CaseState, contact_of, uitkomst_tekst, weeks_at_home
from workflows.tasks import open_tasks
from workflows.terms import next_term
from workflows.work import FREE_TEXT


def status(state: CaseState, now: datetime) -> CaseStatus:
    termijn = next_term(state)
    today = amsterdam_date(now)
    return CaseStatus(
        leerling_ref=state.aanmelding.leerling_ref,
        fase=state.fase,
        fase_naam=FASE_NAMEN[state.fase],
        sector=state.aanmelding.sector,
        regio=state.aanmelding.regio,
        regiehouder=state.regiehouder,
        leerplichtig=state.leerplichtig,
        uit_buitenland=state.uit_buitenland,
        startdatum=state.startdatum,
        weken_thuis=weeks_at_home(state, now),
        deadline_12_weken=state.deadline_12_weken,
        escalatie=state.escalatie,
        route=state.route,
        route_variant=state.route_variant,
        wachtlijst=state.wachtlijst,
        vrijstelling=state.vrijstelling,
        open_taken=open_tasks(state, today),
        tijdlijn=list(state.tijdlijn),
        tijdlijn_totaal=state.tijdlijn_totaal,
        afgewezen=list(state.afgewezen),
        afgewezen_totaal=state.afgewezen_totaal,
        afgesloten=state.afgesloten,
        uitkomst=state.uitkomst,
        volgende_termijn=termijn.omschrijving if termijn else None,
        volgende_termijn_op=termijn.op if termijn else None,
        contract_versie=state.versie,
        afgeronde_taken=list(reversed(state.afgeronde_taken)),
        contactrol=contact_of(state),
        leerplichtig_vanaf=state.leerplichtig_vanaf,
        twaalf_weken_check=state.twaalf_weken_check,
        toegewezen=dict(state.toegewezen),
        documenten=list(state.documenten),
        kerngroep_bespreking_op=state.kerngroep_bespreking_op,
        op_kerngroep_lijst=state.op_kerngroep_lijst,
        uitgeschreven_op=state.uitgeschreven_op,
        woont_in_rotterdam=state.aanmelding.woont_in_rotterdam,
        school_brin=state.aanmelding.school_brin,
        dossier=state.dossier,
    )


def details_markdown(state: CaseState, now: datetime) -> str:
    """The case at a glance for the Web UI's current details: no names, dates of birth or free text."""
    termijn = next_term(state)
    lines = [
        f"**Fase {state.fase}: {FASE_NAMEN[state.fase]}**",
        "",
        f"- Weken thuis: {weeks_at_home(state, now)}",
        f"- Regie: {state.regiehouder.value}",
        f"- Escalatie: {state.escalatie.value}",
    ]
    if state.route:
        lines.append(f"- Route: {state.route}" + (f" ({state.route_variant})" if state.route_variant else ""))
    if state.afgesloten:
        lines.append(f"- Afgesloten: {uitkomst_tekst(state)}")
    elif termijn:
        lines.append(f"- Volgende termijn: {termijn.omschrijving} op {termijn.op.isoformat()}")
    tasks = open_tasks(state, amsterdam_date(now))
    if tasks:
        shown = [f"- {t.rol.value}: {FREE_TEXT.get(t.taak, t.omschrijving)}" for t in tasks[:8]]
        lines += ["", "**Open taken**", *shown]
        if len(tasks) > 8:
            lines.append(f"- … en nog {len(tasks) - 8}")
    return "\n".join(lines)


def static_summary(aanmelding: Aanmelding) -> str:
    """One line for the Web UI's case list: no personal data."""
    herkomst = "uit het buitenland" if aanmelding.uit_buitenland else (aanmelding.school_brin or "")
    return f"Thuiszitter {aanmelding.sector.value} {aanmelding.regio.value} {herkomst}".strip()
