"""Nieuwe aanmelding: one pupil by form, or an intake file, validated as the intake script does.

==============================  =====================================================================================
``GET /aanmelden``              the form for one pupil
``POST /aanmelden``             check it as the intake does (:func:`thuiszitters.intake.validate`), decide
                                ``zaak_starten`` for the new case, start it, and go to its page
``GET /aanmelden/bestand``      the form to upload an intake file (CSV or JSON lines, as ``thuiszitters-intake``)
``POST /aanmelden/bestand``     every row through the intake's own checks and starts
                                (:func:`thuiszitters.intake.run_rows`), or only checked; the result per row
==============================  =====================================================================================

Who may start which case is the policy's ``zaak_starten`` (:func:`~thuiszitters.people.policy.decide`), for the new
case as its Aanmelding describes it; a row of a file outside the person's scope is refused on its own. Every start,
and every refused one, is in the audit log (action ``aanmelden``). A start is idempotent by nature: the workflow id
is derived from the pupil's reference, so sending the form again after "niet bereikbaar" never makes two cases.
"""

from __future__ import annotations

import asyncio
import csv
import io
import re
from collections.abc import Mapping
from datetime import date, datetime
from itertools import islice
from pathlib import PurePath
from typing import Any, Final

import asyncpg
from pydantic import ValidationError
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route
from temporalio.client import Client
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from thuiszitters import intake
from thuiszitters.cases import start_case
from thuiszitters.logs import get_logger
from thuiszitters.people.policy import ORGANISATION_SECTOR, Actor, CaseFacts, acting_scope, decide
from thuiszitters.register import werkbak as lists
from thuiszitters.register.store import CaseRow
from thuiszitters.web import auth
from thuiszitters.web.auth import MAX_UPLOAD_BYTES, Ingelogd, current_login
from thuiszitters.web.werkbak import GEDAAN, _audit, _render, case_url
from thuiszitters.web.zaken import REGISTER_WAIT
from workflows.calendar import amsterdam_date
from workflows.contract import Aanmelding, NieuweAanmelding, workflow_id_for

log = get_logger(__name__)

ACTIE: Final = "aanmelden"
"""The audit log's action of a start (allowed or refused), from the form and from a file alike."""
MAX_ROWS: Final = 2_000
"""The most rows a file may have: a larger intake goes through ``thuiszitters-intake``."""
_MAX_ROWS_TEXT: Final = f"{MAX_ROWS:_}".replace("_", ".")
_MAX_MB: Final = MAX_UPLOAD_BYTES // (1024 * 1024)
FIELDS: Final = (
    "leerling_ref",
    "geboortedatum",
    "sector",
    "regio",
    "uit_buitenland",
    "school_brin",
    "startdatum",
    "fase",
    "woont_in_rotterdam",
)
"""The form's fields: the contract's names of the Aanmelding, in the order of the form."""
LABELS: Final = {
    "leerling_ref": "Leerlingreferentie (pseudoniem)",
    "geboortedatum": "Geboortedatum",
    "sector": "Sector",
    "regio": "Regio",
    "uit_buitenland": "Uit het buitenland",
    "school_brin": "BRIN-code van de school",
    "startdatum": "Eerste dag thuis (startdatum)",
    "fase": "Fase",
    "woont_in_rotterdam": "Woont in Rotterdam",
}
"""Each field as the person reads it (also in the list of errors at the top of the form)."""
_DUTCH_DATE: Final = re.compile(r"^(\d{1,2})-(\d{1,2})-(\d{4})$")
_UNREACHABLE: Final = frozenset(
    {RPCStatusCode.UNAVAILABLE, RPCStatusCode.DEADLINE_EXCEEDED, RPCStatusCode.CANCELLED, RPCStatusCode.UNKNOWN}
)

NIET_BEREIKBAAR: Final = (
    "Het zaaksysteem is nu niet bereikbaar: de zaak is niet gestart. Er is niets verloren gegaan: wat u invulde "
    "staat hieronder nog. Probeer het over een paar minuten opnieuw met dezelfde knop; een leerling krijgt nooit "
    "twee zaken tegelijk."
)
LOOPT_AL: Final = "Voor deze leerling loopt al een zaak. Er is geen nieuwe zaak gestart."
BESTAND_TE_GROOT: Final = (
    f"Het bestand is groter dan {_MAX_MB} MB. Splits het in kleinere bestanden van hoogstens {_MAX_ROWS_TEXT} "
    "aanmeldingen en upload ze een voor een; er is niets gestart."
)
TE_VEEL_REGELS: Final = (
    f"Het bestand heeft meer dan {_MAX_ROWS_TEXT} aanmeldingen. Splits het in kleinere bestanden en upload ze een "
    "voor een; er is niets gestart."
)
OUTCOMES: Final = {
    "gestart": "Gestart",
    "al_open": "Loopt al",
    "geweigerd": "Geweigerd",
    "mislukt": "Niet gestart",
    "geldig": "Goed",
}
"""The intake's outcomes (``Result.outcome``) as the result table names them."""


def _today() -> date:
    return amsterdam_date(datetime.now().astimezone())


def _refused(request: Request, reden: str) -> Response:
    return _render(
        request,
        "melding.html",
        {"titel": "Geen aanmeldingen", "tekst": reden[:1].upper() + reden[1:] + " Neem contact op met uw beheerder."},
        403,
    )


# ------------------------------------------------------------------------------------------------- one pupil


def own_schools(actor: Actor) -> list[str]:
    """The schools to choose from when every case the person may start is one of a known few schools (the school,
    the SCP, Leerplicht of certain schools); empty when the person may start cases of any school."""
    clauses = acting_scope(actor).clauses
    if not clauses or any(clause.scholen is None for clause in clauses):
        return []
    return sorted({brin for clause in clauses for brin in clause.scholen or ()})


def _defaults(actor: Actor) -> dict[str, str]:
    """What the empty form holds: the contract's defaults, and what the person's role already says."""
    waarden = {"fase": "1", "woont_in_rotterdam": "ja"}
    sector = actor.sector or ORGANISATION_SECTOR.get(actor.rol)
    if sector is not None:
        waarden["sector"] = sector.value
    if actor.regio is not None:
        waarden["regio"] = actor.regio.value
    scholen = own_schools(actor)
    if len(scholen) == 1:
        waarden["school_brin"] = scholen[0]
    return waarden


def _form(
    request: Request,
    ingelogd: Ingelogd,
    waarden: Mapping[str, str],
    fouten: Mapping[str, str] | None = None,
    status_code: int = 200,
    *,
    bestaande: str | None = None,
) -> Response:
    scholen = own_schools(ingelogd.actor)
    return _render(
        request,
        "aanmelden.html",
        {
            "waarden": waarden,
            "fouten": fouten or {},
            "labels": LABELS,
            "scholen": scholen,
            "school_keuzes": [(brin, brin) for brin in scholen],
            "vandaag": _today().isoformat(),
            "bestaande": bestaande,
            "gestart": None,
        },
        status_code,
    )


def _date_text(value: str) -> str:
    """A date as the form sent it (``2026-03-14``), or as people type it where the browser has no date field
    (``14-03-2026``): in the contract's form."""
    if found := _DUTCH_DATE.match(value):
        day, month, year = found.groups()
        return f"{year}-{int(month):02d}-{int(day):02d}"
    return value


def payload_of(velden: Mapping[str, str]) -> dict[str, Any]:
    """The Aanmelding's fields from the form, as the intake reads them from a file: an empty field is a missing one,
    "ja"/"nee" are booleans, the phase a number. Not validated."""
    payload: dict[str, Any] = {}
    for name in ("leerling_ref", "geboortedatum", "sector", "regio", "school_brin", "startdatum", "fase"):
        value = velden.get(name, "").strip()
        if not value:
            continue
        if name in ("geboortedatum", "startdatum"):
            value = _date_text(value)
        elif name == "school_brin":
            value = value.upper()
        payload[name] = int(value) if name == "fase" and value.isdigit() else value
    woont = velden.get("woont_in_rotterdam", "").strip()
    if woont:
        payload["woont_in_rotterdam"] = {"ja": True, "nee": False}.get(woont, woont)
    payload["uit_buitenland"] = velden.get("uit_buitenland", "") == "ja"
    return payload


def _field_message(field: str, kind: str, text: str) -> str:
    """A Dutch message for one field's problem: the contract's own rule where it gives one (``text``)."""
    if kind == "value_error":
        return text[:1].upper() + text[1:] + "."
    if field == "leerling_ref":
        if kind == "missing":
            return "Vul de leerlingreferentie in."
        return (
            "Gebruik alleen letters, cijfers, - en _ (hoogstens 64 tekens): het pseudoniem uit de "
            "leerlingadministratie, geen naam of BSN."
        )
    if field in ("geboortedatum", "startdatum"):
        if kind == "missing":
            return f"Vul de {'geboortedatum' if field == 'geboortedatum' else 'startdatum'} in."
        return "Vul een bestaande datum in (dag, maand en jaar)."
    if field == "sector":
        return "Kies PO of VO."
    if field == "regio":
        return "Kies Noord of Zuid."
    if field == "fase":
        return "Kies het voortraject (0) of de melding thuiszitter (1)."
    if field == "school_brin":
        return "Vul een BRIN-code in van vier cijfers of hoofdletters, soms gevolgd door nog twee (zoals 12AB01)."
    if field in ("woont_in_rotterdam", "uit_buitenland"):
        return "Kies ja of nee."
    return "Dit is niet goed ingevuld."


def field_errors(payload: Mapping[str, Any], refusal: str) -> dict[str, str]:
    """Per field, why the intake refused ``payload`` (``refusal``: :func:`thuiszitters.intake.validate`'s message),
    from the contract's model itself; what belongs to no field under ``""``."""
    try:
        NieuweAanmelding.model_validate(payload)
    except ValidationError as error:
        found: dict[str, str] = {}
        for item in error.errors(include_url=False, include_input=False):
            loc = item["loc"]
            kind = str(item["type"])
            text = str((item.get("ctx") or {}).get("error", item["msg"]))
            field = str(loc[0]) if loc else ""
            if not field:  # a rule over the whole Aanmelding names its field first: "school_brin: verplicht, ..."
                named, sep, rest = text.partition(": ")
                field, text = (named, rest) if sep and named in FIELDS else ("", text)
            if field not in FIELDS:
                found.setdefault("", _field_message("", kind, text))
            else:
                found.setdefault(field, _field_message(field, kind, text))
        return found
    # The model takes it: one of the intake's own rules refused it ("veld 'startdatum': ligt in de toekomst ...").
    found = {}
    for part in refusal.split("; "):
        match = re.match(r"^veld '([a-z_]+)': (.*)$", part)
        if match and match.group(1) in FIELDS:
            found.setdefault(match.group(1), _field_message(match.group(1), "value_error", match.group(2)))
        else:
            found.setdefault("", part)
    return found


def facts_of(aanmelding: Aanmelding) -> CaseFacts:
    """The new case as the policy sees it."""
    return CaseFacts(
        sector=aanmelding.sector,
        regio=aanmelding.regio,
        school_brin=aanmelding.school_brin,
        uit_buitenland=aanmelding.uit_buitenland,
    )


async def form_page(request: Request) -> Response:
    ingelogd = await current_login(request)
    decision = decide(ingelogd.actor, "zaak_starten")
    if not decision:
        await _audit(request, ingelogd, ACTIE, None, False, decision.reden)
        return _refused(request, decision.reden)
    return _form(request, ingelogd, _defaults(ingelogd.actor))


async def submit(request: Request) -> Response:
    """Start one pupil's case from the form; the form again with what was typed when anything stands in the way."""
    ingelogd = await current_login(request)
    actor = ingelogd.actor
    web = auth.web_of(request)
    async with request.form(max_files=0, max_fields=30) as form:
        velden = {name: value for name in FIELDS if isinstance(value := form.get(name), str)}
    decision = decide(actor, "zaak_starten")
    if not decision:
        await _audit(request, ingelogd, ACTIE, None, False, decision.reden)
        return _refused(request, decision.reden)
    payload = payload_of(velden)
    try:
        aanmelding = intake.validate(payload, _today())
    except ValueError as error:
        return _form(request, ingelogd, velden, field_errors(payload, str(error)), 422)
    decision = decide(actor, "zaak_starten", facts_of(aanmelding))
    if not decision:
        await _audit(request, ingelogd, ACTIE, None, False, decision.reden)
        return _form(request, ingelogd, velden, {"": decision.reden}, 403)
    try:
        case_id = await _start(web.zaken.client, aanmelding, web.task_queue, web.zaken.timeout.total_seconds())
    except WorkflowAlreadyStartedError:
        return await _already_open(request, ingelogd, velden, aanmelding)
    except _Unreachable as error:
        log.warning("web_aanmelding_onbereikbaar", oorzaak=str(error))
        await _audit(request, ingelogd, ACTIE, None, False, f"niet bereikbaar: {error}")
        return _form(request, ingelogd, velden, {"": NIET_BEREIKBAAR}, 503)
    except RPCError as error:
        await _audit(request, ingelogd, ACTIE, None, False, f"Temporal weigerde: {error.status.name}")
        fout = f"Het zaaksysteem weigerde de start ({error.status.name}); er is geen zaak gestart."
        return _form(request, ingelogd, velden, {"": fout}, 502)
    await _audit(request, ingelogd, ACTIE, case_id, True)
    if await wait_for_case(web.register.pool, case_id):
        request.session[GEDAAN] = f"De zaak van leerling {aanmelding.leerling_ref} is gestart."
        return RedirectResponse(case_url(case_id), status_code=303)
    return _render(
        request,
        "aanmelden.html",
        {"gestart": {"leerling_ref": aanmelding.leerling_ref, "url": case_url(case_id)}},
        202,
    )


class _Unreachable(Exception):
    """Temporal did not answer (or is not configured): nothing is known to have started."""


async def _start(client: Client | None, aanmelding: Aanmelding, task_queue: str, seconds: float) -> str:
    """Start the case; its register id (``<workflow id>:<run id>``). ``WorkflowAlreadyStartedError`` when the pupil
    has an open case, :class:`_Unreachable` when Temporal does not answer within ``seconds``, ``RPCError`` when
    it refuses the start."""
    if client is None:
        raise _Unreachable("geen verbinding met Temporal ingesteld")
    try:
        async with asyncio.timeout(seconds):
            handle = await start_case(client, aanmelding, task_queue)
    except RPCError as error:
        if error.status in _UNREACHABLE:
            raise _Unreachable(error.status.name) from None
        raise
    except (TimeoutError, RuntimeError, OSError) as error:  # no answer in time, or no connection could be made
        raise _Unreachable(type(error).__name__) from None
    return f"{handle.id}:{handle.first_execution_run_id or handle.result_run_id}"


async def _already_open(
    request: Request, ingelogd: Ingelogd, velden: Mapping[str, str], aanmelding: Aanmelding
) -> Response:
    """The pupil has an open case: say so, with a link when the person may see that case."""
    web = auth.web_of(request)
    row = await web.register.pool.fetchrow(
        "SELECT * FROM cases WHERE workflow_id = $1 AND NOT afgesloten ORDER BY geopend_op DESC LIMIT 1",
        workflow_id_for(aanmelding.leerling_ref),
    )
    case = CaseRow.model_validate(dict(row)) if row is not None else None
    facts = lists.facts_of_row(case) if case is not None else None
    link = None
    if case is not None and facts is not None and decide(ingelogd.actor, "zaak_lezen", facts):
        link = case_url(case.case_id)
    await _audit(
        request, ingelogd, ACTIE, case.case_id if case else None, False, "er loopt al een zaak voor deze leerling"
    )
    return _form(request, ingelogd, velden, {"leerling_ref": LOOPT_AL}, 409, bestaande=link)


async def wait_for_case(pool: asyncpg.Pool[asyncpg.Record], case_id: str, wait: float = REGISTER_WAIT) -> bool:
    """Wait until the register holds the new case (the worker records it just after the start); False when it did
    not come within ``wait`` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait
    delay = 0.02
    while True:
        if await pool.fetchval("SELECT EXISTS (SELECT FROM cases WHERE case_id = $1)", case_id):
            return True
        if loop.time() >= deadline:
            return False
        await asyncio.sleep(delay)
        delay = min(delay * 2, 0.2)


# -------------------------------------------------------------------------------------------------- a file


def _upload_form(
    request: Request,
    *,
    fout: str | None = None,
    resultaten: list[intake.Result] | None = None,
    samenvatting: str | None = None,
    alleen_controleren: bool = False,
    bestandsnaam: str | None = None,
    status_code: int = 200,
) -> Response:
    return _render(
        request,
        "aanmelden_bestand.html",
        {
            "fout": fout,
            "resultaten": resultaten,
            "samenvatting": samenvatting,
            "alleen_controleren": alleen_controleren,
            "bestandsnaam": bestandsnaam,
            "uitkomst": OUTCOMES,
            "zaak_url": case_url,
            "max_regels": _MAX_ROWS_TEXT,
            "max_mb": _MAX_MB,
        },
        status_code,
    )


async def upload_page(request: Request) -> Response:
    ingelogd = await current_login(request)
    decision = decide(ingelogd.actor, "zaak_starten")
    if not decision:
        await _audit(request, ingelogd, ACTIE, None, False, decision.reden)
        return _refused(request, decision.reden)
    return _upload_form(request)


async def upload(request: Request) -> Response:
    """Check every row of an intake file, and start the good ones in the person's scope unless only checking."""
    ingelogd = await current_login(request)
    actor = ingelogd.actor
    web = auth.web_of(request)
    decision = decide(actor, "zaak_starten")
    if not decision:
        await _audit(request, ingelogd, ACTIE, None, False, decision.reden)
        return _refused(request, decision.reden)
    async with request.form(max_files=1, max_fields=10) as form:
        dry_run = form.get("alleen_controleren") == "ja"
        bestand = form.get("bestand")
        if not isinstance(bestand, UploadFile) or not bestand.filename:
            return _upload_form(
                request, fout="Kies een bestand om te uploaden.", alleen_controleren=dry_run, status_code=422
            )
        naam = PurePath(bestand.filename).name[:200]
        data = await bestand.read(MAX_UPLOAD_BYTES + 1)

    def problem(fout: str, status_code: int = 422) -> Response:
        return _upload_form(request, fout=fout, alleen_controleren=dry_run, bestandsnaam=naam, status_code=status_code)

    if len(data) > MAX_UPLOAD_BYTES:
        return problem(BESTAND_TE_GROOT, 413)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return problem(
            "Het bestand is geen tekst in UTF-8. Sla het op als CSV (UTF-8) of als JSON-lines en probeer het opnieuw."
        )
    json_lines = PurePath(naam).suffix.lower() in intake.JSON_SUFFIXES
    try:
        rows = list(islice(intake.rows_of(io.StringIO(text, newline=""), json_lines=json_lines), MAX_ROWS + 1))
    except csv.Error:
        return problem("Het bestand is niet te lezen als CSV. Controleer de kopregel en de scheidingstekens.")
    if len(rows) > MAX_ROWS:
        return problem(TE_VEEL_REGELS, 413)
    if not rows:
        return problem("Het bestand bevat geen aanmeldingen: alleen een kopregel, of niets.")
    if not dry_run and web.zaken.client is None:
        await _audit(request, ingelogd, ACTIE, None, False, "niet bereikbaar: geen verbinding met Temporal ingesteld")
        return problem(
            "Het zaaksysteem is nu niet bereikbaar: er is niets gestart. Probeer het over een paar minuten opnieuw, "
            "of kies 'Alleen controleren'.",
            503,
        )
    refused: list[str] = []

    def outside_scope(aanmelding: Aanmelding) -> str | None:
        decision = decide(actor, "zaak_starten", facts_of(aanmelding))
        if decision:
            return None
        refused.append(decision.reden)
        return decision.reden

    results = await intake.run_rows(
        rows, client=web.zaken.client, task_queue=web.task_queue, dry_run=dry_run, refuse=outside_scope
    )
    if not dry_run:
        for reden in refused:
            await _audit(request, ingelogd, ACTIE, None, False, f"bestand: {reden}")
        for result in results:
            if result.outcome == "gestart":
                await _audit(request, ingelogd, ACTIE, result.case_id, True, "bestand")
    log.info(
        "web_aanmeldbestand",
        persoon_id=actor.persoon_id,
        regels=len(results),
        gestart=sum(r.outcome == "gestart" for r in results),
        alleen_controleren=dry_run,
    )
    return _upload_form(
        request,
        resultaten=results,
        samenvatting=intake.summary(results),
        alleen_controleren=dry_run,
        bestandsnaam=naam,
    )


ROUTES: list[BaseRoute] = [
    Route("/aanmelden", form_page, methods=["GET"], name="aanmelden"),
    Route("/aanmelden", submit, methods=["POST"], name="aanmelden_versturen"),
    Route("/aanmelden/bestand", upload_page, methods=["GET"], name="aanmelden_bestand"),
    Route("/aanmelden/bestand", upload, methods=["POST"], name="aanmelden_bestand_versturen"),
]
