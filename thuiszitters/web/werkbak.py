"""The werkbak: a person's open tasks, one case with what they may do in it now, and the actions themselves.

========================================  ========================================================================
``GET /``                                 "Mijn taken": the open tasks of the person in their role, overdue first,
                                          with filters (school, region, phase, kind) and counts
``GET /zaken/{case_id}``                  "De zaak": the case at a glance, its tasks, timeline (paged), dossier
                                          and documents, and a form for every event the person may send now
``POST /zaken/{case_id}/acties/{naam}``   send event ``naam``: decided by the policy, then by the case (an update)
========================================  ========================================================================

Every list and case page reads the case register; every change is an update of the case's workflow, which decides
(:mod:`thuiszitters.web.zaken`). Every page view and every action is decided by the policy of step 12
(:func:`~thuiszitters.people.policy.decide`) and recorded in the audit log, allowed or refused.
"""

from __future__ import annotations

import re
import secrets
from datetime import UTC, date, datetime
from typing import Any, Final
from urllib.parse import quote, urlencode

from pydantic import ValidationError
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from thuiszitters.logs import get_logger
from thuiszitters.people.policy import ActorRole, CaseFacts, Decision, acting_scope, decide, role_label, with_sender
from thuiszitters.register import werkbak as lists
from thuiszitters.register.store import CaseRow, TaskRow
from thuiszitters.web import auth, formulieren
from thuiszitters.web.auth import Ingelogd, current_login
from thuiszitters.web.zaken import NIET_BEREIKBAAR, TOKEN, Afgewezen, Onbereikbaar, wait_for_register
from workflows.calendar import amsterdam_date, amsterdam_offset
from workflows.contract import EVENTS, FASE_NAMEN, ROL_NAMEN, Sector, Toewijzen
from workflows.work import BY_HAND, FULFILLED_BY

log = get_logger(__name__)

GEDAAN: Final = "gedaan"
"""The session key of the notice shown once after an action went through."""
VERZONDEN: Final = "verzonden"
"""The session key of the tokens of the person's last actions that went through: the same form sent again (the
back button, a second click after the page changed) shows the case instead of sending anything."""
KEEP_SENT: Final = 20
_SCHOOL: Final = re.compile(r"^[0-9A-Z]{4}([0-9A-Z]{2})?$|^buitenland$")
_SOORT: Final = re.compile(r"^[a-z_]{1,60}$")

REGIE: Final = {
    "school": "De school",
    "wijkteam": "Het wijkteam",
    "taskforce": "De Taskforce Thuiszitters",
    "leerplicht_absoluut_verzuim": "Leerplicht absoluut verzuim",
}
ESCALATIE: Final = {
    "geen": "Niet opgeschaald",
    "coordinator": "Opgeschaald naar de thuiszitterscoördinator",
    "taskforce": "Opgeschaald naar de Taskforce Thuiszitters",
}
CHECK: Final = {
    "open": "Besluit nodig",
    "uitzicht": "Uitzicht op een oplossing; komt terug",
    "opgeschaald": "Opgeschaald",
}
GEBEURTENISSEN: Final = {
    "aanmelding": "Aangemeld: zaak geopend",
    "melding": "Thuiszitter gemeld",
    "leerplicht_registratie": "Geregistreerd in de LBA",
    "startdatum_correctie": "Startdatum gecorrigeerd",
    "oudergesprek": "Oudergesprek gevoerd",
    "plan_van_aanpak": "Plan van aanpak opgesteld",
    "route": "Route gekozen",
    "aanmelding_andere_school": "Aangemeld bij een andere school",
    "zorgplicht_verlengd": "Zorgplicht verlengd",
    "wachtlijst": "Wachtlijst bijgewerkt",
    "voortgang": "Voortgang doorgegeven",
    "opschalen": "Opgeschaald",
    "beoordeling": "Twaalfwekencheck: uitzicht op een oplossing",
    "huisbezoek": "Huisbezoek afgelegd",
    "taskforce_besluit": "Besluit van de Taskforce",
    "vrijstelling": "Vrijstelling",
    "passende_plek": "Passende plek gevonden",
    "uitschrijving": "Uitgeschreven",
    "afronden": "Zaak afgerond",
    "taak_afgerond": "Taak afgerond",
    "toewijzen": "Toegewezen",
    "toegewezen": "Verantwoordelijken toegewezen",
    "document_toegevoegd": "Document toegevoegd",
    "gegevens_wijzigen": "Gegevens gewijzigd",
    "leerplicht_interventie": "Interventie van Leerplicht",
    "intrekken": "Zaak ingetrokken",
}
UITKOMST: Final = {
    "terug_op_school": "terug op de eigen school",
    "ingeschreven_andere_school": "ingeschreven op een andere school",
    "vrijstelling": "vrijstelling van de leerplicht",
    "ingetrokken": "melding ingetrokken",
}
DOCUMENTSOORT: Final = {
    "opp": "Ontwikkelingsperspectiefplan (OPP)",
    "plan_van_aanpak": "Plan van aanpak",
    "tlv_onderbouwing": "Onderbouwing toelaatbaarheidsverklaring",
    "huisbezoekverslag": "Verslag van het huisbezoek",
    "besluit": "Besluit",
    "overig": "Overig document",
}


def label(code: str, known: dict[str, str]) -> str:
    """A code in Dutch: the known label, else the code read as words ('lba_registreren' -> 'Lba registreren')."""
    if code in known:
        return known[code]
    words = code.replace(":", " ").replace("_", " ").strip()
    return words[:1].upper() + words[1:]


def short(text: str | None) -> str:
    """A task's description up to its first explanation in brackets or its first full stop: what fits a line."""
    if not text:
        return ""
    cut = min((i for i in (text.find(" ("), text.find(". ")) if i > 0), default=len(text))
    return text[:cut].rstrip(".")


def local_time(moment: datetime) -> str:
    """A moment as people in Rotterdam read it: '02-12-2026 09:15'."""
    return (moment.astimezone(UTC) + amsterdam_offset(moment)).strftime("%d-%m-%Y %H:%M")


def day_text(day: date | None) -> str:
    return day.strftime("%d-%m-%Y") if day is not None else ""


def menu(ingelogd: Ingelogd) -> list[tuple[str, str]]:
    """The pages besides "Mijn taken" that the person's role works on: (path, name)."""
    rol = ingelogd.actor.rol
    items: list[tuple[str, str]] = []
    if decide(ingelogd.actor, "zaak_starten"):  # the roles that report a new thuiszitter
        items.append(("/aanmelden", "Nieuwe aanmelding"))
    if rol is ActorRole.COORDINATOR:
        items.append(("/regio", "Mijn regio"))
    if rol is ActorRole.TASKFORCE:
        items.append(("/kerngroep", "Kerngroep"))
    if rol in (ActorRole.LEERPLICHT, ActorRole.LEERPLICHT_ABSOLUUT_VERZUIM):
        items.append(("/leerplicht", "Leerplicht"))
    return items


def sentence(text: str) -> str:
    """A reason as a sentence: a capital first, one full stop last."""
    text = text.strip()
    return text[:1].upper() + text[1:] + ("" if text.endswith((".", "!", "?")) else ".")


def by_whom(rol: str | None) -> str:
    """Who acted, as a sentence says it after 'door': 'de school', 'het systeem'."""
    if rol is None:
        return "onbekend"
    return ROL_NAMEN.get(rol) or {"systeem": "het systeem"}.get(rol, rol)


def weeks_since(start: date, today: date) -> int:
    return max((today - start).days // 7, 0)


def _today() -> date:
    return amsterdam_date(datetime.now().astimezone())


def case_url(case_id: str) -> str:
    return "/zaken/" + quote(case_id, safe="")


# --------------------------------------------------------------------------------------------------- audit


async def _audit(
    request: Request, ingelogd: Ingelogd, actie: str, case_id: str | None, allowed: bool, reden: str | None = None
) -> None:
    web = auth.web_of(request)
    await web.audit.record(
        ingelogd.persoon.persoon_id,
        ingelogd.actor.rol.value,
        "web",
        actie,
        case_id,
        "toegestaan" if allowed else "geweigerd",
        None if reden is None else reden[:500],
    )


def _render(request: Request, name: str, context: dict[str, Any], status_code: int = 200) -> Response:
    from thuiszitters.web.app import render  # the app module imports this one

    return render(request, name, context, status_code)


def _refusal_page(request: Request, titel: str, tekst: str, status_code: int = 403) -> Response:
    return _render(request, "melding.html", {"titel": titel, "tekst": tekst}, status_code)


# ------------------------------------------------------------------------------------------------ mijn taken


def _filter_from(request: Request) -> lists.TaakFilter:
    """The filters of the query string; a value that cannot be one is ignored (the page shows all)."""
    params = request.query_params
    school = params.get("school") or None
    regio = params.get("regio") or None
    fase_text = params.get("fase") or ""
    soort = params.get("soort") or None
    return lists.TaakFilter(
        school=school if school and _SCHOOL.match(school) else None,
        regio=regio if regio in ("Noord", "Zuid") else None,
        fase=int(fase_text) if fase_text in ("0", "1", "2", "3", "4") else None,
        soort=soort if soort and _SOORT.match(soort) else None,
        alleen_te_laat=params.get("te_laat") == "ja",
    )


async def my_tasks(request: Request) -> Response:
    ingelogd = await current_login(request)
    actor = ingelogd.actor
    web = auth.web_of(request)
    decision = decide(actor, "zaken_lijst")
    if not decision:
        await _audit(request, ingelogd, "taken_lijst", None, False, decision.reden)
        return _render(request, "taken.html", _who(ingelogd) | {"gevonden": None})
    wanted = _filter_from(request)
    if wanted.school == "buitenland":
        wanted = lists.TaakFilter(None, wanted.regio, wanted.fase, wanted.soort, wanted.alleen_te_laat)
    today = _today()
    found = await lists.my_tasks(
        web.register.pool, actor.persoon_id, actor.rol.value, acting_scope(actor), wanted, op=today
    )
    await _audit(request, ingelogd, "taken_lijst", None, True)
    return _render(
        request,
        "taken.html",
        _who(ingelogd)
        | {
            "gevonden": found,
            "filter": wanted,
            "gefilterd": wanted != lists.TaakFilter(),
            "vandaag": today,
            "fasen": FASE_NAMEN,
            "soort": lambda code: label(code, {}),
            "zaak_url": case_url,
            "gedaan": request.session.pop(GEDAAN, None),
        },
    )


def _who(ingelogd: Ingelogd) -> dict[str, Any]:
    from thuiszitters.web.app import scope_in_words

    return {
        "naam": ingelogd.persoon.naam,
        "rol": role_label(ingelogd.actor.rol),
        "bereik": scope_in_words(ingelogd.actor),
        "andere_rollen": _other_roles(ingelogd),
    }


def _other_roles(ingelogd: Ingelogd) -> list[tuple[str, str]]:
    from thuiszitters.people.directory import actor_for
    from thuiszitters.web.app import scope_in_words

    return [
        (
            auth.scope_key(scope),
            f"{role_label(scope.rol)}: {scope_in_words(actor_for(ingelogd.persoon.persoon_id, scope))}",
        )
        for scope in ingelogd.persoon.rollen
        if scope != ingelogd.scope
    ]


# ----------------------------------------------------------------------------------------------------- a case


async def _load(request: Request) -> tuple[Ingelogd, CaseRow, CaseFacts, list[TaskRow]] | Response:
    """The person and the case of the path, decided for ``zaak_lezen``; else the page that says why not (and the
    refusal is in the audit log)."""
    ingelogd = await current_login(request)
    web = auth.web_of(request)
    case_id = request.path_params["case_id"]
    case = await lists.case_row(web.register.pool, case_id) if len(case_id) <= 200 else None
    if case is None:
        await _audit(request, ingelogd, "zaak_lezen", None, False, "zaak niet gevonden")
        return _refusal_page(
            request, "Zaak niet gevonden", "Deze zaak bestaat niet (meer). Ga terug naar uw taken.", 404
        )
    open_tasks = await web.register.pool.fetch(
        "SELECT taak_id, rol FROM tasks WHERE case_id = $1 AND gesloten_op IS NULL AND taak_id IS NOT NULL",
        case.case_id,
    )
    facts = lists.facts_of_row(case, {row["taak_id"]: row["rol"] for row in open_tasks})
    decision = decide(ingelogd.actor, "zaak_lezen", facts) if facts is not None else None
    if decision is None or not decision:
        reden = decision.reden if decision is not None else "de zaak noemt niet genoeg om uw toegang te bepalen"
        await _audit(request, ingelogd, "zaak_lezen", case.case_id, False, reden)
        return _refusal_page(
            request,
            "Geen toegang tot deze zaak",
            "U heeft geen toegang tot deze zaak: ze hoort niet bij de zaken van uw rol. "
            "Denkt u dat dit niet klopt? Neem contact op met uw beheerder.",
        )
    assert facts is not None
    return ingelogd, case, facts, []


def _actions(ingelogd: Ingelogd, case: CaseRow, facts: CaseFacts) -> list[str]:
    """The events this person may send in this case now (version 2 cases; version 1 only reads)."""
    if case.contract_versie < 2 or case.afgesloten:
        return []
    return [name for name in EVENTS if decide(ingelogd.actor, name, facts)]


def _task_choices(ingelogd: Ingelogd, facts: CaseFacts, view: lists.Zaakbeeld) -> list[formulieren.Keuze]:
    """The open tasks this person may mark done by hand."""
    return [
        formulieren.Keuze(t.taak_id, f"{t.taak_id}: {t.omschrijving or label(t.taak, {})}")
        for t in view.open_taken
        if t.taak_id is not None and t.rol == ingelogd.actor.rol.value and BY_HAND in FULFILLED_BY.get(t.taak, ())
    ]


async def _people_choices(request: Request, case: CaseRow) -> list[formulieren.Keuze]:
    """Everyone who can hold a role in this case, named with their role: whom ``toewijzen`` can assign."""
    directory = auth.web_of(request).directory
    people = await directory.people_for_case(case.sector, case.regio, case.school_brin)
    return [formulieren.Keuze(persoon_id, f"{naam} ({role_label(rol)})") for persoon_id, naam, rol in people]


async def case_page(request: Request) -> Response:
    loaded = await _load(request)
    if isinstance(loaded, Response):
        return loaded
    ingelogd, case, facts, _ = loaded
    await _audit(request, ingelogd, "zaak_lezen", case.case_id, True)
    return await _case_response(request, ingelogd, case, facts)


async def _case_response(
    request: Request,
    ingelogd: Ingelogd,
    case: CaseRow,
    facts: CaseFacts,
    *,
    actief: str | None = None,
    waarden: dict[str, Any] | None = None,
    fouten: dict[str, str] | None = None,
    token: str | None = None,
    status_code: int = 200,
) -> Response:
    """The case page; with ``actief`` the form of that event open, with the person's ``waarden``, the ``fouten``
    next to their fields and the form's ``token`` kept (so sending it again is the same action)."""
    web = auth.web_of(request)
    try:
        pagina = max(1, min(int(request.query_params.get("pagina", "1")), 10_000))
    except ValueError:
        pagina = 1
    today = _today()
    view = await lists.case_view(web.register.pool, case, pagina=pagina, op=today)
    names = _actions(ingelogd, case, facts)
    sector = Sector(case.sector)
    mine = [t for t in view.open_taken if t.rol == ingelogd.actor.rol.value]
    suggested = {event for t in mine for event in FULFILLED_BY.get(t.taak, ())}
    forms = []
    for name in names:
        kwargs: dict[str, Any] = {"sector": sector}
        if name == BY_HAND:
            kwargs["taken"] = _task_choices(ingelogd, facts, view)
            if not kwargs["taken"]:
                continue
        if name == "toewijzen":
            kwargs["personen"] = await _people_choices(request, case)
        form = formulieren.formulier(name, **kwargs)
        forms.append(
            {
                "f": form,
                "naam": name,
                "open": name == actief,
                "voorgesteld": name in suggested,
                "waarden": (waarden or {}) if name == actief else {},
                "fouten": (fouten or {}) if name == actief else {},
                "token": token if name == actief and token else secrets.token_urlsafe(18),
                # the fragment brings the page back to this form when it comes back with a mistake
                "actie": f"{case_url(case.case_id)}/acties/{name}#actie-{name}",
            }
        )
    forms.sort(key=lambda item: not item["voorgesteld"])
    documents = bool(decide(ingelogd.actor, "documenten_lezen", facts))
    termijnen = [
        (t.uiterlijk, f"{short(t.omschrijving) or label(t.taak, {})} – {role_label(t.rol)}")
        for t in view.open_taken
        if t.uiterlijk is not None
    ]
    if case.check_stand in ("open", "uitzicht"):
        check_op = case.check_herbeoordeling_op if case.check_stand == "uitzicht" else case.check_uiterlijk
        if check_op is not None:
            termijnen.append((check_op, "Twaalfwekencheck: besluit"))
    if case.kerngroep_bespreking_op is not None and case.kerngroep_bespreking_op >= today:
        termijnen.append((case.kerngroep_bespreking_op, "Bespreking in de Kerngroep"))
    volgende = min(termijnen, key=lambda item: item[0]) if termijnen and not case.afgesloten else None
    per_page = lists.TIMELINE_PAGE
    pages = max(1, -(-view.tijdlijn_totaal // per_page))
    assignees = sorted({t.toegewezen_aan for t in view.open_taken if t.toegewezen_aan})
    people = {
        row["persoon_id"]: row["naam"]
        for row in await web.register.pool.fetch(
            "SELECT persoon_id, naam FROM personen WHERE persoon_id = ANY($1::text[])", assignees
        )
    }
    task_texts = {
        t.taak_id: t.omschrijving or label(t.taak, {})
        for t in (*view.open_taken, *view.afgeronde_taken)
        if t.taak_id is not None
    }
    return _render(
        request,
        "zaak.html",
        {
            "zaak": case,
            "beeld": view,
            "vandaag": today,
            "weken": weeks_since(case.startdatum, today),
            "fase_naam": FASE_NAMEN.get(case.fase, str(case.fase)),
            "regie": REGIE.get(case.regiehouder, case.regiehouder),
            "escalatie": ESCALATIE.get(case.escalatie, case.escalatie),
            "check": CHECK.get(case.check_stand or "", None),
            "volgende": volgende,
            "formulieren": forms,
            "documenten": documents,
            "pagina": pagina,
            "paginas": pages,
            "rol_naam": role_label,
            "door_wie": by_whom,
            "gebeurtenis": lambda code: label(code, GEBEURTENISSEN),
            "documentsoort": lambda code: label(code, DOCUMENTSOORT),
            "soort": lambda code: label(code, {}),
            "uitkomst": lambda code: label(code, UITKOMST),
            "namen": people,
            "taakteksten": task_texts,
            "zaak_url": case_url(case.case_id),
            "mijn_rol": ingelogd.actor.rol.value,
            "gedaan": request.session.pop(GEDAAN, None),
            "melding": None,
        },
        status_code,
    )


# ------------------------------------------------------------------------------------------------------ actions

MAX_FIELDS: Final = 60


async def act(request: Request) -> Response:
    """Send one event from its form: the policy decides, the contract validates, the case decides. A refusal or a
    mistake comes back next to the form with what the person typed; "not reachable" keeps the form's token."""
    name = request.path_params["naam"]
    if name not in EVENTS:
        raise HTTPException(404)
    loaded = await _load(request)
    if isinstance(loaded, Response):
        return loaded
    ingelogd, case, facts, _ = loaded
    async with request.form(max_files=0, max_fields=MAX_FIELDS) as form:
        velden: dict[str, Any] = {}
        for key in form:
            values = [v for v in form.getlist(key) if isinstance(v, str)]
            velden[key] = values if len(values) > 1 else (values[0] if values else "")
    token = velden.pop("token", "")
    velden.pop("csrf", None)
    if not isinstance(token, str) or not TOKEN.match(token):
        token = secrets.token_urlsafe(18)
    web = auth.web_of(request)
    sent = request.session.get(VERZONDEN)
    sent = [t for t in sent if isinstance(t, str)] if isinstance(sent, list) else []
    if token in sent:
        request.session[GEDAAN] = "Deze actie was al vastgelegd; er is niets twee keer verstuurd."
        return RedirectResponse(f"{case_url(case.case_id)}#gedaan", status_code=303)

    async def again(fouten: dict[str, str], status_code: int) -> Response:
        return await _case_response(
            request,
            ingelogd,
            case,
            facts,
            actief=name,
            waarden=velden,
            fouten=fouten,
            token=token,
            status_code=status_code,
        )

    decision = decide(ingelogd.actor, name, facts)
    if not decision:
        await _audit(request, ingelogd, name, case.case_id, False, decision.reden)
        return await again({"": sentence(decision.reden)}, 403)
    try:
        payload = with_sender(ingelogd.actor, name, formulieren.inhoud(name, velden))
        event = EVENTS[name].model_validate(payload)
    except ValidationError as error:
        return await again(formulieren.fouten(name, error, velden=velden), 422)
    except ValueError as error:
        await _audit(request, ingelogd, name, case.case_id, False, str(error))
        return await again({"": str(error)}, 403)
    decision = decide(ingelogd.actor, name, facts, event=event)
    if decision and isinstance(event, Toewijzen):
        holds = await web.directory.in_scope(event.persoon, event.rol.value, case.sector, case.regio, case.school_brin)
        if not holds:
            decision = Decision(
                allowed=False,
                reden=f"deze persoon is volgens de personenlijst niet {ROL_NAMEN[event.rol.value]} van deze zaak; "
                "kies iemand met die rol",
            )
    if not decision:
        await _audit(request, ingelogd, name, case.case_id, False, decision.reden)
        return await again({"": sentence(decision.reden)}, 403)
    try:
        await web.zaken.send(case, name, event.model_dump(mode="json", exclude_none=True), token)
    except Onbereikbaar as error:
        await _audit(request, ingelogd, name, case.case_id, False, f"niet bereikbaar: {error}")
        return await again({"": NIET_BEREIKBAAR}, 503)
    except Afgewezen as error:
        await _audit(request, ingelogd, name, case.case_id, False, f"afgewezen door de zaak: {error}")
        return await again({"": f"De zaak wees dit af: {error}"}, 422)
    await _audit(request, ingelogd, name, case.case_id, True)
    request.session[VERZONDEN] = [*sent, token][-KEEP_SENT:]
    await wait_for_register(web.register.pool, case)
    request.session[GEDAAN] = f"Vastgelegd: {formulieren.formulier(name, sector=Sector(case.sector)).titel}."
    return RedirectResponse(f"{case_url(case.case_id)}#gedaan", status_code=303)


def query_string(wanted: lists.TaakFilter, **changes: Any) -> str:
    values = {
        "school": wanted.school,
        "regio": wanted.regio,
        "fase": wanted.fase,
        "soort": wanted.soort,
        "te_laat": "ja" if wanted.alleen_te_laat else None,
    }
    values.update(changes)
    return urlencode({k: v for k, v in values.items() if v is not None})
