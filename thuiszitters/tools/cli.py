"""A small command line for people and scripts: send an event, show a case, list cases (``thuiszitters``, or
``python -m thuiszitters.tools.cli``).

    thuiszitters gebeurtenis LEERLING_REF oudergesprek '{"deelnemers": ["school", "ouders", "scp"]}' --door school
    thuiszitters status LEERLING_REF [--json]
    thuiszitters lijst [--query 'Fase=3 AND Regio="Noord"'] [--alle]

Events go as updates, so the answer is immediate: the new status, or the Dutch reason why the event was refused.
A case of contract version 2 refuses an event without ``door`` (the role that acted): ``--door ROL`` fills it in
when the payload has none, and without either the command says which roles may send the event, before sending it.
Connection settings come from Temporal's environment configuration; encryption keys from ``THUISZITTERS_*``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, TextIO

from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from thuiszitters.settings import Settings, SettingsError
from thuiszitters.temporal.client import ConnectError, connect
from workflows.calendar import amsterdam_offset
from workflows.contract import EVENTS, LEERLING_REF_PATTERN, ROL_NAMEN, CaseStatus, Door, workflow_id_for
from workflows.permissions import allowed_roles

OPEN_CASES = 'WorkflowType="ThuiszitterWorkflow" AND ExecutionStatus="Running"'


class CliError(Exception):
    """A problem to tell the user, in Dutch; exit code 1."""


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
    import re

    if not re.fullmatch(LEERLING_REF_PATTERN, ref):
        raise CliError(f"ongeldige leerling_ref '{ref[:64]}': alleen letters, cijfers, '_' en '-', hoogstens 64")
    return ref


def with_door(name: str, payload: dict[str, Any], door: str | None, status: CaseStatus | None) -> dict[str, Any]:
    """The payload with ``door`` filled in from ``--door`` when it has none. Without either, a case of contract
    version 2 (``status``) would refuse the event: say so, naming the roles that may send it."""
    if "door" in payload:
        if door is not None and payload["door"] != door:
            raise CliError(f"de inhoud noemt door '{payload['door']}' en --door zegt '{door}'; kies één van beide")
        return payload
    if door is not None:
        return {**payload, "door": door}
    if status is None or status.contract_versie < 2:
        return payload  # a case of version 1: door is optional there
    mag = _allowed_for(name, payload, status)
    raise CliError(
        f'{name}: zeg wie het deed met --door ROL (of "door" in de inhoud); een zaak van contractversie '
        f"{status.contract_versie} weigert een gebeurtenis zonder door. "
        + (f"In deze zaak mag dit: {', '.join(mag)}. " if mag else "")
        + "Rollen: "
        + ", ".join(door.value for door in Door)
    )


def _allowed_for(name: str, payload: dict[str, Any], status: CaseStatus) -> list[str]:
    """The roles the permission table gives for this event in this case, or [] when the payload does not tell."""
    task_role = None
    if name == "taak_afgerond":
        taak = next((t for t in status.open_taken if t.id == payload.get("taak_id")), None)
        if taak is None:
            return []
        task_role = taak.rol.value
    try:
        event = EVENTS[name].model_validate({**payload, "door": Door.SCHOOL.value})
    except ValueError:
        return []
    roles = allowed_roles(name, event, sector=status.sector, uit_buitenland=status.uit_buitenland, task_role=task_role)
    return [f"{door.value} ({ROL_NAMEN[door.value]})" for door in roles]


async def send_event(
    client: Client, ref: str, name: str, payload: dict[str, Any], door: str | None = None
) -> CaseStatus:
    if name not in EVENTS:
        raise CliError(f"onbekende gebeurtenis '{name}'; kies uit: {', '.join(EVENTS)}")
    if "door" not in payload and door is None:
        payload = with_door(name, payload, None, await case_status(client, ref))
    else:
        payload = with_door(name, payload, door, None)
    handle = client.get_workflow_handle(workflow_id_for(_check_ref(ref)))
    try:
        result: CaseStatus = await handle.execute_update(name, payload, result_type=CaseStatus)
    except WorkflowUpdateFailedError as error:
        cause = error.cause
        reden = cause.message if isinstance(cause, ApplicationError) else str(cause)
        raise CliError(f"afgewezen: {reden}") from None
    except RPCError as error:
        raise CliError(_rpc_message(error, ref)) from None
    return result


async def case_status(client: Client, ref: str) -> CaseStatus:
    handle = client.get_workflow_handle(workflow_id_for(_check_ref(ref)))
    try:
        result: CaseStatus = await handle.query("status", result_type=CaseStatus)
    except RPCError as error:
        raise CliError(_rpc_message(error, ref)) from None
    return result


async def list_cases(client: Client, query: str | None, include_closed: bool, out: TextIO) -> int:
    base = 'WorkflowType="ThuiszitterWorkflow"' if include_closed else OPEN_CASES
    full_query = f"{base} AND ({query})" if query else base
    count = 0
    print(f"{'zaak':<34} {'fase':>4} {'regio':<6} {'sector':<6} {'regie':<12} {'escalatie':<12} {'weken':>5}", file=out)
    try:
        async for execution in client.list_workflows(full_query):
            attributes = execution.typed_search_attributes
            values = {pair.key.name: pair.value for pair in attributes}
            print(
                f"{execution.id:<34} {values.get('Fase', '-')!s:>4} {values.get('Regio', '-')!s:<6} "
                f"{values.get('Sector', '-')!s:<6} {values.get('Regiehouder', '-')!s:<12} "
                f"{values.get('Escalatie', '-')!s:<12} {values.get('WekenThuis', '-')!s:>5}",
                file=out,
            )
            count += 1
    except RPCError as error:
        raise CliError(f"ongeldige zoekopdracht: {error.message}") from None
    print(f"{count} zaak/zaken", file=out)
    return count


def _rpc_message(error: RPCError, ref: str) -> str:
    if error.status == RPCStatusCode.NOT_FOUND:
        return f"geen zaak gevonden voor leerling {ref}"
    return f"Temporal gaf een fout: {error.message}"


async def main(argv: Sequence[str] | None = None, client: Client | None = None, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    parser = argparse.ArgumentParser(prog="python -m thuiszitters.tools.cli", description="Zaken van thuiszitters.")
    parser.add_argument("--profile", help="Temporal-profiel uit temporal.toml")
    commands = parser.add_subparsers(dest="command", required=True)
    event = commands.add_parser("gebeurtenis", help="stuur een gebeurtenis (als update) naar een zaak")
    event.add_argument("leerling_ref")
    event.add_argument("naam", help=", ".join(EVENTS))
    event.add_argument("inhoud", nargs="?", default="{}", help="JSON-object, bijvoorbeeld '{\"in_opp\": true}'")
    event.add_argument(
        "--door",
        choices=[door.value for door in Door],
        metavar="ROL",
        help="wie het deed (de rol), als de inhoud geen door heeft: " + ", ".join(door.value for door in Door),
    )
    status = commands.add_parser("status", help="toon de stand en de tijdlijn van een zaak")
    status.add_argument("leerling_ref")
    status.add_argument("--json", action="store_true", help="als JSON")
    listing = commands.add_parser("lijst", help="lijst zaken, eventueel met een zoekopdracht")
    listing.add_argument("--query", help='bijvoorbeeld: Fase=3 AND Regio="Noord"')
    listing.add_argument("--alle", action="store_true", help="ook afgesloten zaken")
    args = parser.parse_args(argv)
    try:
        if client is None:
            client = await connect(Settings.from_env(), profile=args.profile)
        if args.command == "gebeurtenis":
            try:
                payload = json.loads(args.inhoud)
            except json.JSONDecodeError:
                raise CliError("de inhoud is geen geldige JSON") from None
            if not isinstance(payload, dict):
                raise CliError("de inhoud moet een JSON-object zijn")
            result = await send_event(client, args.leerling_ref, args.naam, payload, args.door)
            print(f"Geaccepteerd: {args.naam}", file=out)
            print(format_status(result), file=out)
        elif args.command == "status":
            result = await case_status(client, args.leerling_ref)
            print(result.model_dump_json(indent=2) if args.json else format_status(result), file=out)
        else:
            await list_cases(client, args.query, args.alle, out)
    except (CliError, SettingsError, ConnectError) as error:
        print(f"Fout: {error}", file=sys.stderr)
        return 1
    return 0


def cli() -> None:
    """The ``thuiszitters`` command (and ``python -m thuiszitters.tools.cli``)."""
    exit_code = asyncio.run(main())
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(exit_code)  # see thuiszitters.intake.cli: no teardown of the Temporal runtime's threads at exit


if __name__ == "__main__":
    cli()
