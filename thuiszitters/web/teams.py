"""The team views: the coordinator's region, the Kerngroep's agenda and list, Leerplicht's list.

==========================  =======================  ===================================================================
``GET /regio``              coordinator              open tasks per school (not assigned, overdue), cases past twelve
                                                     weeks without a decision, open cases per phase, and the charts of
                                                     the coordinators' report over the region
``GET /regio/export.csv``   coordinator              the region's open cases as CSV, pseudonymous
``GET /kerngroep``          taskforce                the agenda of the next meeting, and every thuiszitter the
                                                     Kerngroep follows (paged: ``?pagina=2``, ``?lijst=ja``)
``GET /leerplicht``         leerplicht, leerplicht_  LBA registrations due, start-date decisions, vrijstelling requests
                            absoluut_verzuim
==========================  =======================  ===================================================================

Each page is decided by the policy first (``rapport``, ``export`` or ``zaken_lijst``) and is meant for the roles
above; a refusal is a Dutch page with status 403 and an audit row. Everything on a page comes from the case register
(:mod:`thuiszitters.register.teams`), limited to the person's scope, and each view is one audit row.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from typing import Any, Final

from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from thuiszitters.people.policy import ActorRole, decide, role_label, scope_filter
from thuiszitters.register import teams as register_teams
from thuiszitters.tools import report as report_tools
from thuiszitters.web import auth
from thuiszitters.web.auth import Ingelogd, current_login
from thuiszitters.web.werkbak import (
    CHECK,
    GEBEURTENISSEN,
    _audit,
    _refusal_page,
    _render,
    _today,
    _who,
    case_url,
    day_text,
    label,
    local_time,
)
from workflows.contract import FASE_NAMEN

PAGE_ROLES: Final[dict[str, frozenset[ActorRole]]] = {
    "regio": frozenset({ActorRole.COORDINATOR}),
    "kerngroep": frozenset({ActorRole.TASKFORCE}),
    "leerplicht": frozenset({ActorRole.LEERPLICHT, ActorRole.LEERPLICHT_ABSOLUUT_VERZUIM}),
}
"""Who each page is for: the policy decides whether a role may ask for a report or list at all, the page then
answers for the work of these roles."""
PAGE_FOR: Final = {
    "regio": "de thuiszitterscoördinator",
    "kerngroep": "de Taskforce Thuiszitters (de Kerngroep)",
    "leerplicht": "Leerplicht",
}
ESCALATIE_KORT: Final = {"geen": "Nee", "coordinator": "Coördinator", "taskforce": "Taskforce"}
CSV_HEADER: Final = (
    "leerling_ref",
    "school",
    "sector",
    "regio",
    "fase",
    "startdatum",
    "weken_thuis",
    "escalatie",
    "check_stand",
    "check_uiterlijk",
)


def weeks_text(weeks: int) -> str:
    return f"{weeks} {'week' if weeks == 1 else 'weken'}"


def _cell(text: str) -> str:
    """Text a spreadsheet will not take for a formula."""
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


async def _allowed(request: Request, page: str, action: str) -> Ingelogd | Response:
    """The logged-in person when the policy allows ``action`` and the page is for their role; else the refusal page
    (403), with the refusal in the audit log."""
    ingelogd = await current_login(request)
    decision = decide(ingelogd.actor, action)
    reden = None if decision else decision.reden
    if reden is None and ingelogd.actor.rol not in PAGE_ROLES[page]:
        reden = f"{role_label(ingelogd.actor.rol.value)} werkt niet met deze pagina: ze is voor {PAGE_FOR[page]}."
    if reden is None:
        return ingelogd
    await _audit(request, ingelogd, action, None, False, reden)
    return _refusal_page(
        request,
        "Geen toegang tot deze pagina",
        f"{reden[:1].upper()}{reden[1:]} Denkt u dat dit niet klopt? Neem contact op met uw beheerder.",
    )


def _common(ingelogd: Ingelogd) -> dict[str, Any]:
    return _who(ingelogd) | {
        "vandaag": _today(),
        "datum": day_text,
        "zaak_url": case_url,
        "fasen": FASE_NAMEN,
        "escalatie": lambda code: ESCALATIE_KORT.get(code, code),
        "weken": lambda start: weeks_text(report_tools.weeks_at_home(start, _today())),
    }


# ------------------------------------------------------------------------------------------------------ region


def _charts(report: report_tools.Report, regions: Iterable[str]) -> dict[str, Markup]:
    """The report's own charts (inline SVG with a title), the phase chart narrowed to the regions of the scope."""
    keep = set(regions)
    per_phase = [
        p.model_copy(update={"per_regio": {r: n for r, n in p.per_regio.items() if r in keep}})
        for p in report.per_phase
    ]
    narrowed = report.model_copy(update={"per_phase": per_phase})
    return {
        "termijn": Markup(report_tools.svg_term(report)),
        "fasen": Markup(report_tools.svg_phase_region(narrowed)),
        "trend": Markup(report_tools.svg_trend(report.weeks, "week")),
    }


async def region_page(request: Request) -> Response:
    allowed = await _allowed(request, "regio", "rapport")
    if isinstance(allowed, Response):
        return allowed
    ingelogd = allowed
    today = _today()
    web = auth.web_of(request)
    beeld = await register_teams.region(web.register.pool, scope_filter(ingelogd.actor), op=today)
    await _audit(request, ingelogd, "rapport", None, True)
    report = beeld.rapport
    regions = [c.key for c in report.per_region if c.value] or (
        [ingelogd.actor.regio.value] if ingelogd.actor.regio else []
    )
    escalated = {c.key: c.value for c in report.open_escalated}
    return _render(
        request,
        "regio.html",
        _common(ingelogd)
        | {
            "beeld": beeld,
            "rapport": report,
            "regios": regions,
            "grafieken": _charts(report, regions),
            "opgeschaald": escalated,
            "mediaan": report_tools.dutch_number(report.weeks_median),
            "check": lambda stand: CHECK.get(stand, "") if stand else "Check niet geopend",
            "max_rijen": register_teams.MAX_ROWS,
            "scholen_totaal": {
                "open": sum(s.open for s in beeld.scholen),
                "niet_toegewezen": sum(s.niet_toegewezen for s in beeld.scholen),
                "te_laat": sum(s.te_laat for s in beeld.scholen),
            },
        },
    )


async def region_export(request: Request) -> Response:
    """The region's open cases as CSV (';', UTF-8 with BOM, as the report's CSV): pseudonymous, no text of people."""
    allowed = await _allowed(request, "regio", "export")
    if isinstance(allowed, Response):
        return allowed
    ingelogd = allowed
    today = _today()
    rows = await register_teams.region_export(auth.web_of(request).register.pool, scope_filter(ingelogd.actor))
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=report_tools.CSV_SEPARATOR, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    for row in rows:
        writer.writerow(
            (
                _cell(row.leerling_ref),
                row.school_brin or "",
                row.sector,
                row.regio,
                row.fase,
                row.startdatum.isoformat(),
                report_tools.weeks_at_home(row.startdatum, today),
                row.escalatie,
                row.check_stand or "",
                row.check_uiterlijk.isoformat() if row.check_uiterlijk else "",
            )
        )
    await _audit(request, ingelogd, "export", None, True)
    regio = ingelogd.actor.regio.value.lower() if ingelogd.actor.regio else "alle"
    name = f"open-zaken-regio-{regio}-{today.isoformat()}.csv"
    return Response(
        buffer.getvalue().encode("utf-8-sig"),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"},
    )


# --------------------------------------------------------------------------------------------------- Kerngroep


def _page_number(request: Request) -> int:
    text = request.query_params.get("pagina", "1")
    return max(1, min(int(text), 10_000)) if text.isdigit() and len(text) <= 6 else 1


async def kerngroep_page(request: Request) -> Response:
    allowed = await _allowed(request, "kerngroep", "zaken_lijst")
    if isinstance(allowed, Response):
        return allowed
    ingelogd = allowed
    pagina = _page_number(request)
    alleen_lijst = request.query_params.get("lijst") == "ja"
    beeld = await register_teams.kerngroep(
        auth.web_of(request).register.pool,
        scope_filter(ingelogd.actor),
        op=_today(),
        pagina=pagina,
        per_pagina=register_teams.KERNGROEP_PAGE,
        alleen_lijst=alleen_lijst,
    )
    await _audit(request, ingelogd, "zaken_lijst", None, True)
    per_page = register_teams.KERNGROEP_PAGE
    pages = max(1, -(-beeld.gevolgd_totaal // per_page))

    def page_url(number: int) -> str:
        return f"/kerngroep?pagina={number}" + ("&lijst=ja" if alleen_lijst else "") + "#gevolgd-kop"

    return _render(
        request,
        "kerngroep.html",
        _common(ingelogd)
        | {
            "beeld": beeld,
            "pagina": pagina,
            "paginas": pages,
            "per_pagina": per_page,
            "eerste": (pagina - 1) * per_page + 1,
            "alleen_lijst": alleen_lijst,
            "pagina_url": page_url,
        },
    )


# -------------------------------------------------------------------------------------------------- Leerplicht


async def leerplicht_page(request: Request) -> Response:
    allowed = await _allowed(request, "leerplicht", "zaken_lijst")
    if isinstance(allowed, Response):
        return allowed
    ingelogd = allowed
    beeld = await register_teams.leerplicht(
        auth.web_of(request).register.pool,
        ingelogd.actor.rol.value,
        scope_filter(ingelogd.actor),
        op=_today(),
    )
    await _audit(request, ingelogd, "zaken_lijst", None, True)
    return _render(
        request,
        "leerplicht.html",
        _common(ingelogd)
        | {
            "beeld": beeld,
            "max_rijen": register_teams.MAX_ROWS,
            "recent_weken": register_teams.RECENT_DAYS // 7,
            "tijd": local_time,
            "rol_naam": role_label,
            "gebeurtenis": lambda code: label(code, GEBEURTENISSEN),
        },
    )


ROUTES: list[BaseRoute] = [
    Route("/regio", region_page, methods=["GET"], name="regio"),
    Route("/regio/export.csv", region_export, methods=["GET"], name="regio_export"),
    Route("/kerngroep", kerngroep_page, methods=["GET"], name="kerngroep"),
    Route("/leerplicht", leerplicht_page, methods=["GET"], name="leerplicht"),
]
