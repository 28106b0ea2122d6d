"""A small command line for people and scripts: send an event, show a case, list cases (``thuiszitters``, or
``python -m thuiszitters.tools.cli``).

    thuiszitters --persoon ID [--rol ROL] gebeurtenis LEERLING_REF oudergesprek '{"deelnemers": ["school", "ouders"]}'
    thuiszitters --persoon ID [--rol ROL] status LEERLING_REF [--json]
    thuiszitters --persoon ID [--rol ROL] lijst [--query 'Fase=3 AND Regio="Noord"'] [--alle]

Whoever runs it is a person of the directory of people (:mod:`thuiszitters.people.directory`): ``--persoon``, or
the setting ``THUISZITTERS_PERSOON``, names them, and their role there (``--rol`` chooses when they hold several)
is what the authorisation policy (:func:`thuiszitters.people.policy.decide`) checks before anything of a case is
shown or sent: ``zaak_lezen`` for ``status``, the event's own name for ``gebeurtenis``, ``zaken_lijst`` for
``lijst`` (which shows only the cases in the person's scope). A refusal prints the Dutch reason and exits 1,
showing nothing of the case. An event's ``door`` and ``persoon`` are the person's (:func:`policy.with_sender`): a
payload or ``--door`` that names another role or person is refused.

Every command that gets as far as the directory leaves exactly one row in the audit log
(:mod:`thuiszitters.people.audit`, channel ``cli``): the person, the role, the action, the case id (none for a
list), allowed or refused and why. The row is written before anything is shown; when it cannot be written,
nothing is shown. A command refused for its own input before that (no person named, an unknown event, a payload
that is no JSON object, an invalid leerling_ref) reads and sends nothing and leaves no row.

Events go as updates, so the answer is immediate: the new status, or the Dutch reason why the case refused it.
Connection settings come from Temporal's environment configuration; the directory and the audit log are in the
case register (``DATABASE_URL``); encryption keys come from ``THUISZITTERS_*``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal, TextIO

import asyncpg
from pydantic import ValidationError
from temporalio.client import Client, WorkflowHandle, WorkflowQueryFailedError, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from thuiszitters.people.audit import AuditLog, Resultaat
from thuiszitters.people.directory import PERSOON_ID_PATTERN, Directory, actor_for
from thuiszitters.people.policy import Actor, ActorRole, CaseFacts, Decision, decide, with_sender
from thuiszitters.register.store import Register
from thuiszitters.settings import Settings, SettingsError
from thuiszitters.temporal.client import ConnectError, connect
from workflows.calendar import amsterdam_offset
from workflows.contract import EVENTS, LEERLING_REF_PATTERN, CaseStatus, Door, Gebeurtenis, workflow_id_for

OPEN_CASES = 'WorkflowType="ThuiszitterWorkflow" AND ExecutionStatus="Running"'
KANAAL: Literal["cli"] = "cli"
ONBEKEND = "onbekend"
"""The role recorded for someone whose role is not known (not in the directory, or no role chosen)."""
REDEN_MAX = 500
"""The audit log keeps a reason of at most this many characters."""
AUDIT_ERRORS = (OSError, asyncio.TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError)
"""What a failing register raises: the command then shows nothing."""


class CliError(Exception):
    """A problem to tell the user, in Dutch; exit code 1."""


class Geweigerd(CliError):
    """A refusal of the command for this person: told to them (``str``) and recorded (``reden``)."""

    def __init__(self, message: str, reden: str | None = None) -> None:
        super().__init__(message)
        self.reden = reden or message


_CHECK_STAND = {"open": "open: besluit nodig", "uitzicht": "uitzicht op een oplossing", "opgeschaald": "opgeschaald"}


def format_status(status: CaseStatus) -> str:
    lines = [
        f"Leerling {status.leerling_ref}  ({status.sector.value}, {status.regio.value})",
        f"  fase        {status.fase}: {status.fase_naam}"
        + ("  [AFGESLOTEN: " + status.uitkomst.value + "]" if status.afgesloten and status.uitkomst else "")
        + (f"  (uitkomst: {status.uitkomst.value})" if not status.afgesloten and status.uitkomst else ""),
        f"  startdatum  {status.startdatum.isoformat()}  ({status.weken_thuis} weken thuis)",
        f"  12 weken    {status.deadline_12_weken.isoformat()}",
    ]
    if (check := status.twaalf_weken_check) is not None:
        tekst = f"  12wk-check  {_CHECK_STAND.get(check.stand, check.stand)}"
        if check.stand == "open":
            tekst += f", uiterlijk {check.uiterlijk.isoformat()}"
        elif check.stand == "uitzicht" and check.herbeoordeling_op:
            tekst += f", komt terug op {check.herbeoordeling_op.isoformat()}"
        lines.append(tekst)
    lines += [
        f"  regie       {status.regiehouder.value}",
        f"  escalatie   {status.escalatie.value}",
    ]
    if status.kerngroep_bespreking_op:
        lines.append(f"  kerngroep   bespreking op {status.kerngroep_bespreking_op.isoformat()}")
    elif status.op_kerngroep_lijst:
        lines.append("  kerngroep   op de lijst (twaalfwekencheck niet op tijd beslist)")
    lines += [
        f"  route       {status.route or '-'}" + (f" ({status.route_variant})" if status.route_variant else ""),
        f"  leerplicht  {_leerplicht(status)}" + ("; wachtlijst" if status.wachtlijst else ""),
        f"  contract    versie {status.contract_versie}",
    ]
    if status.volgende_termijn and status.volgende_termijn_op:
        lines.append(f"  volgende    {status.volgende_termijn} op {status.volgende_termijn_op.isoformat()}")
    lines.append("")
    lines.append("Open taken:" if status.open_taken else "Open taken: geen")
    for taak in status.open_taken:
        nummer = f"{taak.id} " if taak.id else ""
        uiterlijk = ""
        if taak.uiterlijk is not None:
            uiterlijk = f" (uiterlijk {taak.uiterlijk.isoformat()}" + (", TE LAAT)" if taak.te_laat else ")")
        toegewezen = f" [{taak.toegewezen_aan}]" if taak.toegewezen_aan else ""
        lines.append(f"  - {nummer}{taak.rol.value}{toegewezen}: {taak.omschrijving}{uiterlijk}")
    lines.append("")
    lines.append("Tijdlijn:")
    for regel in status.tijdlijn:
        door = f" [{regel.door}]" if regel.door else ""
        lines.append(f"  {_local(regel.tijd)}  {regel.gebeurtenis}{door}: {regel.toelichting or ''}")
    if status.afgewezen:
        lines.append("")
        lines.append("Afgewezen signalen:")
        for afwijzing in status.afgewezen:
            lines.append(f"  {_local(afwijzing.tijd)}  {afwijzing.gebeurtenis}: {afwijzing.reden}")
    return "\n".join(lines)


def _leerplicht(status: CaseStatus) -> str:
    if status.leerplichtig:
        return "ja"
    if status.leerplichtig_vanaf:
        return f"nee (leerplichtig vanaf {status.leerplichtig_vanaf.isoformat()})"
    return "nee (4 jaar)"


def _local(moment: datetime) -> str:
    """A moment as people in Rotterdam read it."""
    return f"{moment.astimezone(UTC) + amsterdam_offset(moment):%Y-%m-%d %H:%M}"


def _check_ref(ref: str) -> str:
    if not re.fullmatch(LEERLING_REF_PATTERN, ref):
        raise CliError(f"ongeldige leerling_ref '{ref[:64]}': alleen letters, cijfers, '_' en '-', hoogstens 64")
    return ref


def _check_persoon(persoon_id: str) -> str:
    if not re.fullmatch(PERSOON_ID_PATTERN, persoon_id):
        raise CliError(
            f"ongeldige persoon '{persoon_id[:64]}': 1 tot 64 tekens uit letters, cijfers en _ . : - "
            "(het persoon_id uit de personenlijst)"
        )
    return persoon_id


# ------------------------------------------------------------------------------------------------ the person


@dataclass(frozen=True)
class Operator:
    """Who runs the command: their ``persoon_id``, the role recorded for them, and one :class:`Actor` per scope the
    directory gives that role. No actors when they cannot act at all; ``weigering`` then says why (Dutch)."""

    persoon_id: str
    rol: str
    actors: tuple[Actor, ...] = ()
    weigering: str | None = None


async def identify(directory: Directory, persoon_id: str, rol: str | None) -> Operator:
    """The person ``persoon_id`` as the directory knows them, acting in their role (``rol`` chooses among several).

    Only an active person acts. A person may hold one role with several scopes (a coordinator of Noord and of
    Zuid): each scope is an actor, and a command is allowed when one of them allows it."""
    claimed = rol or ONBEKEND
    persoon = await directory.get(persoon_id)
    if persoon is None:
        return Operator(persoon_id, claimed, weigering=f"persoon '{persoon_id}' staat niet in de personenlijst")
    if not persoon.actief:
        return Operator(persoon_id, claimed, weigering=f"persoon '{persoon_id}' is niet actief in de personenlijst")
    rollen = list(dict.fromkeys(scope.rol.value for scope in persoon.rollen))
    if not rollen:
        return Operator(persoon_id, claimed, weigering=f"persoon '{persoon_id}' heeft geen rol in de personenlijst")
    if rol is None and len(rollen) > 1:
        return Operator(
            persoon_id,
            ONBEKEND,
            weigering=f"persoon '{persoon_id}' heeft meerdere rollen ({', '.join(rollen)}); kies er één met --rol",
        )
    chosen = rol or rollen[0]
    if chosen not in rollen:
        return Operator(
            persoon_id,
            chosen,
            weigering=f"persoon '{persoon_id}' heeft de rol {chosen} niet (wel: {', '.join(rollen)})",
        )
    try:
        actors = tuple(actor_for(persoon_id, scope) for scope in persoon.rollen if scope.rol.value == chosen)
    except ValidationError:
        return Operator(persoon_id, chosen, weigering=f"de toegang van rol {chosen} in de personenlijst klopt niet")
    return Operator(persoon_id, chosen, actors)


def decide_for(
    actors: Sequence[Actor], action: str, case: CaseFacts | None = None, event: Gebeurtenis | None = None
) -> Decision:
    """The policy's answer for the first of ``actors`` (one role, its scopes) that may, else for the first."""
    decisions = [decide(actor, action, case, event=event) for actor in actors]
    return next((decision for decision in decisions if decision.allowed), decisions[0])


def sender_payload(actor: Actor, name: str, payload: dict[str, Any], door: str | None = None) -> dict[str, Any]:
    """The payload of event ``name`` with ``door`` and ``persoon`` of the person who runs the command
    (:func:`policy.with_sender`). ``--door`` (``door``) may say the same as the person's role, never another; a
    payload that names another role or person is refused (:class:`Geweigerd`), not corrected."""
    if door is not None:
        if payload.get("door", door) != door:
            raise Geweigerd(
                f"de inhoud noemt door '{str(payload['door'])[:40]}' en --door zegt '{door}'; kies één van beide",
                "door in de inhoud en --door verschillen",
            )
        payload = {**payload, "door": door}
    claimed = payload.get("door")
    if claimed is not None and (not isinstance(claimed, str) or claimed not in {role.value for role in Door}):
        raise Geweigerd(
            f"door: '{str(claimed)[:40]}' is geen rol; kies uit {', '.join(role.value for role in Door)}",
            "door in de inhoud is geen rol",
        )
    try:
        return with_sender(actor, name, payload)
    except ValueError as error:
        raise Geweigerd(str(error)) from None


# ------------------------------------------------------------------------------------------------ the audit row


@dataclass
class AuditRow:
    """The one audit row of one command: filled in as the command learns the case, written exactly once."""

    log: AuditLog
    operator: Operator
    actie: str
    case_id: str | None = None
    written: bool = False

    async def write(self, resultaat: Resultaat, reden: str | None = None) -> None:
        if self.written:
            raise AssertionError("an audit row is written once per command")
        self.written = True
        try:
            await self.log.record(
                self.operator.persoon_id,
                self.operator.rol,
                KANAAL,
                self.actie,
                self.case_id,
                resultaat,
                None if reden is None else reden[:REDEN_MAX],
            )
        except AUDIT_ERRORS as error:
            raise CliError(
                f"het auditlog is niet te schrijven ({type(error).__name__}); er wordt niets getoond"
            ) from None


# ------------------------------------------------------------------------------------------------ the case


@dataclass(frozen=True)
class Zaak:
    """One case: its register id (``<workflow id>:<first run id>``), a handle on its current run to read it, and a
    handle on its chain of runs to send it events (an event never reaches a later case of the same pupil)."""

    case_id: str
    reader: WorkflowHandle[Any, Any]
    sender: WorkflowHandle[Any, Any]


async def find_case(client: Client, ref: str) -> Zaak:
    workflow_id = workflow_id_for(ref)
    try:
        description = await client.get_workflow_handle(workflow_id).describe()
    except RPCError as error:
        raise _refusal(error, ref) from None
    first_run_id = description.raw_description.workflow_execution_info.first_run_id or description.run_id
    return Zaak(
        case_id=f"{workflow_id}:{first_run_id}",
        reader=client.get_workflow_handle(workflow_id, run_id=description.run_id),
        sender=client.get_workflow_handle(workflow_id, first_execution_run_id=first_run_id),
    )


async def _case_id_if_any(client: Client, ref: str) -> str | None:
    """The case id for the audit row of a person who may not read it; None when there is none (or no answer)."""
    try:
        return (await find_case(client, ref)).case_id
    except CliError:
        return None


async def read_status(zaak: Zaak, ref: str) -> CaseStatus:
    try:
        result: CaseStatus = await zaak.reader.query("status", result_type=CaseStatus)
    except RPCError as error:
        raise _refusal(error, ref) from None
    except WorkflowQueryFailedError as error:
        raise Geweigerd(f"de zaak gaf haar status niet: {error.message}", "status niet te lezen") from None
    return result


def facts_of(status: CaseStatus) -> CaseFacts:
    try:
        return CaseFacts.from_status(status)
    except ValidationError:
        raise Geweigerd(
            "de zaak noemt niet genoeg om uw toegang te bepalen (geen school, niet uit het buitenland)",
            "toegang niet te bepalen uit de status",
        ) from None


def _event(name: str, payload: dict[str, Any]) -> Gebeurtenis | None:
    """The payload as the contract's event, for an exact decision; None when it does not fit (the case says why)."""
    try:
        return EVENTS[name].model_validate(payload)
    except ValidationError:
        return None


def _refusal(error: RPCError, ref: str) -> Geweigerd:
    if error.status == RPCStatusCode.NOT_FOUND:
        return Geweigerd(f"geen zaak gevonden voor leerling {ref}", "geen zaak gevonden")
    return Geweigerd(f"Temporal gaf een fout: {error.message}", f"Temporal gaf een fout ({error.status.name})")


# ------------------------------------------------------------------------------------------------ the commands


async def show_status(row: AuditRow, client: Client, operator: Operator, ref: str, as_json: bool, out: TextIO) -> None:
    """Read the case, decide ``zaak_lezen`` on what it is, record, and only then show it."""
    if operator.weigering is not None:
        row.case_id = await _case_id_if_any(client, ref)
        raise Geweigerd(operator.weigering)
    zaak = await find_case(client, ref)
    row.case_id = zaak.case_id
    status = await read_status(zaak, ref)
    decision = decide_for(operator.actors, "zaak_lezen", facts_of(status))
    if not decision:
        raise Geweigerd(decision.reden)
    await row.write("toegestaan")
    print(status.model_dump_json(indent=2) if as_json else format_status(status), file=out)


async def send_event(
    row: AuditRow,
    client: Client,
    operator: Operator,
    ref: str,
    name: str,
    payload: dict[str, Any],
    door: str | None,
    out: TextIO,
) -> None:
    """Decide the event for this person in this case (read first), send it as an update, record, show the result."""
    if operator.weigering is not None:
        row.case_id = await _case_id_if_any(client, ref)
        raise Geweigerd(operator.weigering)
    zaak = await find_case(client, ref)
    row.case_id = zaak.case_id
    payload = sender_payload(operator.actors[0], name, payload, door)
    status = await read_status(zaak, ref)
    decision = decide_for(operator.actors, name, facts_of(status), _event(name, payload))
    if not decision:
        raise Geweigerd(decision.reden)
    try:
        result: CaseStatus = await zaak.sender.execute_update(name, payload, result_type=CaseStatus)
    except WorkflowUpdateFailedError as error:
        cause = error.cause
        reden = cause.message if isinstance(cause, ApplicationError) else type(cause).__name__
        raise Geweigerd(f"afgewezen: {reden}", f"afgewezen door de zaak: {reden}") from None
    except RPCError as error:
        raise _refusal(error, ref) from None
    try:
        await row.write("toegestaan")
    except CliError as error:
        raise CliError(f"{name} is geaccepteerd, maar {error}") from None
    print(f"Geaccepteerd: {name}", file=out)
    print(format_status(result), file=out)


async def show_list(
    row: AuditRow,
    client: Client,
    register: Register,
    operator: Operator,
    query: str | None,
    include_closed: bool,
    out: TextIO,
) -> None:
    """List the cases in the person's scope (``zaken_lijst``); one row without a case id."""
    if operator.weigering is not None:
        raise Geweigerd(operator.weigering)
    decision = decide_for(operator.actors, "zaken_lijst")
    if not decision:
        raise Geweigerd(decision.reden)
    lines = await list_cases(client, register, operator.actors, query, include_closed)
    await row.write("toegestaan")
    print("\n".join(lines), file=out)


async def list_cases(
    client: Client, register: Register, actors: Sequence[Actor], query: str | None, include_closed: bool
) -> list[str]:
    """The lines of the list: the cases Temporal finds for ``query`` that are in the scope of one of ``actors``.

    A case's scope (school, sector, region, escalation, route, assignments) is read from the register; a case the
    register does not know yet is left out, as is any case outside the scope: the list never says how many."""
    base = 'WorkflowType="ThuiszitterWorkflow"' if include_closed else OPEN_CASES
    full_query = f"{base} AND ({query})" if query else base
    found: list[tuple[str, dict[str, Any]]] = []
    try:
        async for execution in client.list_workflows(full_query):
            first_run_id = execution.raw_info.first_run_id or execution.run_id
            values = {pair.key.name: pair.value for pair in execution.typed_search_attributes}
            found.append((f"{execution.id}:{first_run_id}", values))
    except RPCError as error:
        raise Geweigerd(f"ongeldige zoekopdracht: {error.message}", "ongeldige zoekopdracht") from None
    facts = await _register_facts(register, [case_id for case_id, _ in found])
    lines = [f"{'zaak':<34} {'fase':>4} {'regio':<6} {'sector':<6} {'regie':<12} {'escalatie':<12} {'weken':>5}"]
    for case_id, values in found:
        case = facts.get(case_id)
        if case is None or not decide_for(actors, "zaken_lijst", case):
            continue
        workflow_id = case_id.rsplit(":", 1)[0]
        lines.append(
            f"{workflow_id:<34} {values.get('Fase', '-')!s:>4} {values.get('Regio', '-')!s:<6} "
            f"{values.get('Sector', '-')!s:<6} {values.get('Regiehouder', '-')!s:<12} "
            f"{values.get('Escalatie', '-')!s:<12} {values.get('WekenThuis', '-')!s:>5}"
        )
    lines.append(f"{len(lines) - 1} zaak/zaken")
    return lines


async def _register_facts(register: Register, case_ids: list[str]) -> dict[str, CaseFacts]:
    """What the policy needs of each case the register knows, by case id."""
    rows = await register.pool.fetch(
        """
        SELECT case_id, sector, regio, school_brin, toegewezen, escalatie, afgesloten, route
        FROM cases WHERE case_id = ANY($1::text[])
        """,
        case_ids,
    )
    facts: dict[str, CaseFacts] = {}
    for row in rows:
        try:
            facts[row["case_id"]] = CaseFacts(
                sector=row["sector"],
                regio=row["regio"],
                school_brin=row["school_brin"],
                toegewezen=row["toegewezen"] or {},
                escalatie=row["escalatie"],
                afgesloten=row["afgesloten"],
                route=row["route"],
            )
        except ValidationError:
            continue  # not enough to decide: not listed
    return facts


# ------------------------------------------------------------------------------------------------ main


def _parser() -> argparse.ArgumentParser:
    rollen = [rol.value for rol in ActorRole]
    persoon_help = "wie u bent: uw persoon_id in de personenlijst (of THUISZITTERS_PERSOON)"
    rol_help = "in welke rol, als u er meerdere heeft: " + ", ".join(rollen)
    who = argparse.ArgumentParser(add_help=False)
    who.add_argument("--persoon", metavar="ID", default=argparse.SUPPRESS, help=persoon_help)
    who.add_argument("--rol", choices=rollen, metavar="ROL", default=argparse.SUPPRESS, help=rol_help)

    parser = argparse.ArgumentParser(prog="python -m thuiszitters.tools.cli", description="Zaken van thuiszitters.")
    parser.add_argument("--profile", help="Temporal-profiel uit temporal.toml")
    parser.add_argument("--persoon", metavar="ID", help=persoon_help)
    parser.add_argument("--rol", choices=rollen, metavar="ROL", help=rol_help)
    commands = parser.add_subparsers(dest="command", required=True)
    event = commands.add_parser("gebeurtenis", parents=[who], help="stuur een gebeurtenis (als update) naar een zaak")
    event.add_argument("leerling_ref")
    event.add_argument("naam", help=", ".join(EVENTS))
    event.add_argument("inhoud", nargs="?", default="{}", help="JSON-object, bijvoorbeeld '{\"in_opp\": true}'")
    event.add_argument(
        "--door",
        choices=[door.value for door in Door],
        metavar="ROL",
        help="wie het deed: altijd uw eigen rol, die zonder deze optie wordt ingevuld; een andere wordt geweigerd",
    )
    status = commands.add_parser("status", parents=[who], help="toon de stand en de tijdlijn van een zaak")
    status.add_argument("leerling_ref")
    status.add_argument("--json", action="store_true", help="als JSON")
    listing = commands.add_parser("lijst", parents=[who], help="lijst uw zaken, eventueel met een zoekopdracht")
    listing.add_argument("--query", help='bijvoorbeeld: Fase=3 AND Regio="Noord"')
    listing.add_argument("--alle", action="store_true", help="ook afgesloten zaken")
    return parser


def _payload(text: str) -> dict[str, Any]:
    try:
        payload = json.loads(text)
    except json.JSONDecodeError:
        raise CliError("de inhoud is geen geldige JSON") from None
    if not isinstance(payload, dict):
        raise CliError("de inhoud moet een JSON-object zijn")
    return payload


async def main(
    argv: Sequence[str] | None = None,
    client: Client | None = None,
    out: TextIO | None = None,
    register: Register | None = None,
) -> int:
    """Run one command; exit code 0, or 1 with the reason on stderr. ``client`` and ``register`` (the directory and
    the audit log) default to those of the settings."""
    out = out or sys.stdout
    args = _parser().parse_args(argv)
    settings: Settings | None = None
    own_register: Register | None = None

    def configured() -> Settings:
        nonlocal settings
        settings = settings or Settings.from_env()
        return settings

    try:
        persoon_id = args.persoon or configured().persoon
        if not persoon_id:
            raise CliError("zeg wie u bent: --persoon ID (uw persoon_id in de personenlijst), of THUISZITTERS_PERSOON")
        persoon_id = _check_persoon(persoon_id)
        if args.command == "gebeurtenis":
            if args.naam not in EVENTS:
                raise CliError(f"onbekende gebeurtenis '{args.naam[:64]}'; kies uit: {', '.join(EVENTS)}")
            payload = _payload(args.inhoud)
        if args.command in ("gebeurtenis", "status"):
            _check_ref(args.leerling_ref)
        if register is None:
            if not configured().database_url:
                raise CliError("DATABASE_URL is niet ingesteld: de personenlijst en het auditlog staan in het register")
            register = own_register = await Register.connect(str(configured().database_url), max_size=2)
        if client is None:
            client = await connect(configured(), profile=args.profile)
        operator = await identify(Directory(register.pool), persoon_id, args.rol)
        actie = {"gebeurtenis": getattr(args, "naam", ""), "status": "zaak_lezen", "lijst": "zaken_lijst"}
        row = AuditRow(AuditLog(register.pool), operator, actie[args.command])
        try:
            if args.command == "gebeurtenis":
                await send_event(row, client, operator, args.leerling_ref, args.naam, payload, args.door, out)
            elif args.command == "status":
                await show_status(row, client, operator, args.leerling_ref, args.json, out)
            else:
                await show_list(row, client, register, operator, args.query, args.alle, out)
        except Exception as error:
            if not row.written:
                reden = error.reden if isinstance(error, Geweigerd) else f"fout: {type(error).__name__}"
                await row.write("geweigerd", reden)
            raise
        if not row.written:
            raise AssertionError("every command leaves one audit row")
    except Geweigerd as refusal:
        print(f"Geweigerd: {refusal}", file=sys.stderr)
        return 1
    except (CliError, SettingsError, ConnectError) as error:
        print(f"Fout: {error}", file=sys.stderr)
        return 1
    except AUDIT_ERRORS as error:
        print(f"Fout: het register is niet bereikbaar ({type(error).__name__}: {error})", file=sys.stderr)
        return 1
    finally:
        if own_register is not None:
            await own_register.close()
    return 0


def cli() -> None:
    """The ``thuiszitters`` command (and ``python -m thuiszitters.tools.cli``)."""
    exit_code = asyncio.run(main())
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(exit_code)  # see thuiszitters.intake.cli: no teardown of the Temporal runtime's threads at exit


if __name__ == "__main__":
    cli()
