"""``thuiszitters-api`` (or ``python -m thuiszitters.api``): the API's clients (docs/api.md, "Clients").

    thuiszitters-api clients BESTAND [--geheimen PAD | --geheimen-van PAD] [--controleer]
        store the clients of a CSV file (columns: client_id, naam, rol, scholen, regio, sector, alle,
        gebeurtenissen, mag_starten, per_minuut; lists separated by ';'). A new client gets a secret, written with
        its client_id to PAD (mode 0600; default: printed once). An existing client keeps its secret.
        --geheimen-van PAD: give each client the secret of PAD (lines client_id,client_secret) instead, new or
        not (the dev stack keeps its demo clients' secrets so).
    thuiszitters-api geheim CLIENT_ID [--geheimen PAD]
        give a client a new secret (the old one stops working at once).

Both need ``DATABASE_URL`` and a register with every migration applied. Exit codes: 0 done, 1 a row or client was
refused (the others are stored), 2 the settings, the file or the register cannot be used.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import os
import secrets
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from thuiszitters.api.clients import ApiClient, ApiClients
from thuiszitters.register.store import RegisterFout, open_current
from thuiszitters.settings import Settings, SettingsError

COLUMNS = (
    "client_id",
    "naam",
    "rol",
    "scholen",
    "regio",
    "sector",
    "alle",
    "gebeurtenissen",
    "mag_starten",
    "per_minuut",
)
YES = {"ja", "yes", "true", "1", "aan"}
NO = {"nee", "no", "false", "0", "uit", ""}


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def parse(fields: dict[str, str]) -> ApiClient:
    """One row as a client; ``ValueError`` in Dutch naming the field."""
    if unknown := [name for name in fields if name not in COLUMNS]:
        raise ValueError(f"onbekende kolom(men): {', '.join(unknown)}")

    def flag(name: str) -> bool:
        value = fields.get(name, "").strip().lower()
        if value not in YES | NO:
            raise ValueError(f"{name}: ja of nee, niet '{value}'")
        return value in YES

    def items(name: str) -> list[str]:
        return [item.strip() for item in fields.get(name, "").split(";") if item.strip()]

    values: dict[str, Any] = {
        "client_id": fields.get("client_id", "").strip(),
        "naam": fields.get("naam", "").strip(),
        "rol": fields.get("rol", "").strip(),
        "scholen": tuple(items("scholen")),
        "regio": fields.get("regio", "").strip() or None,
        "sector": fields.get("sector", "").strip() or None,
        "alle": flag("alle"),
        "gebeurtenissen": frozenset(items("gebeurtenissen")),
        "mag_starten": flag("mag_starten"),
    }
    if fields.get("per_minuut", "").strip():
        values["per_minuut"] = fields["per_minuut"].strip()
    try:
        client = ApiClient.model_validate(values)
        client.actor  # the role and scope must make an actor the policy can decide for  # noqa: B018
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first.get("loc", ())) or "rij"
        raise ValueError(f"{where}: {str(first.get('msg', '')).removeprefix('Value error, ')}") from None
    return client


def write_secrets(path: Path | None, pairs: Sequence[tuple[str, str]]) -> None:
    """Append ``client_id,client_secret`` lines to ``path`` (created with mode 0600), or print them."""
    if not pairs:
        return
    if path is None:
        print("Bewaar deze geheimen nu; ze worden niet opnieuw getoond:")
        for client_id, secret in pairs:
            print(f"  {client_id}: {secret}")
        return
    new = not path.exists()
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    with os.fdopen(descriptor, "a", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        if new:
            writer.writerow(["client_id", "client_secret"])
        writer.writerows(pairs)
    print(f"Geheimen van {len(pairs)} nieuwe client(s) geschreven naar {path}.")


def read_secrets(path: Path) -> dict[str, str]:
    """``client_id,client_secret`` lines (with that header) of ``path``."""
    with path.open(encoding="utf-8", newline="") as handle:
        return {
            row["client_id"].strip(): row["client_secret"].strip()
            for row in csv.DictReader(handle)
            if row.get("client_id") and row.get("client_secret")
        }


async def load_clients(
    settings: Settings, path: Path, secrets_path: Path | None, dry_run: bool, given: Path | None = None
) -> int:
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            rows = list(csv.DictReader(handle))
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        print(f"Kan {path} niet lezen: {error}", file=sys.stderr)
        return 2
    parsed: list[tuple[int, ApiClient]] = []
    refused = 0
    for number, row in enumerate(rows, start=2):
        try:
            parsed.append((number, parse({k.strip(): (v or "") for k, v in row.items() if k})))
        except ValueError as error:
            refused += 1
            print(f"regel {number}: geweigerd: {error}")
    if dry_run:
        for number, client in parsed:
            print(f"regel {number}: {client.client_id}: in orde ({client.rol.value})")
        return 1 if refused else 0
    try:
        kept = read_secrets(given) if given is not None else None
    except (OSError, UnicodeDecodeError, csv.Error, KeyError) as error:
        print(f"Kan de geheimen in {given} niet lezen: {error}", file=sys.stderr)
        return 2
    try:
        register = await open_current(settings.database_url, max_size=2)
    except RegisterFout as error:
        print(error, file=sys.stderr)
        return 2
    try:
        clients = ApiClients(register.pool)
        fresh: list[tuple[str, str]] = []
        for number, client in parsed:
            if kept is not None:
                await clients.upsert(client, kept.get(client.client_id))
                print(f"regel {number}: {client.client_id}: opgeslagen")
                continue
            known = await register.pool.fetchval(
                "SELECT geheim_hash IS NOT NULL FROM api_clients WHERE client_id = $1", client.client_id
            )
            secret = None if known else new_secret()
            outcome = await clients.upsert(client, secret)
            print(f"regel {number}: {client.client_id}: {outcome}")
            if secret is not None:
                fresh.append((client.client_id, secret))
        write_secrets(secrets_path, fresh)
    finally:
        await register.close()
    return 1 if refused else 0


async def renew_secret(settings: Settings, client_id: str, secrets_path: Path | None) -> int:
    try:
        register = await open_current(settings.database_url, max_size=1)
    except RegisterFout as error:
        print(error, file=sys.stderr)
        return 2
    try:
        clients = ApiClients(register.pool)
        row = await register.pool.fetchrow("SELECT client_id FROM api_clients WHERE client_id = $1", client_id)
        if row is None:
            print(f"Client '{client_id}' bestaat niet.", file=sys.stderr)
            return 1
        secret = new_secret()
        digest = await asyncio.to_thread(clients.hasher.hash, secret)
        await register.pool.execute(
            "UPDATE api_clients SET geheim_hash = $2, bijgewerkt_op = now() WHERE client_id = $1", client_id, digest
        )
        write_secrets(secrets_path, [(client_id, secret)])
    finally:
        await register.close()
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="thuiszitters-api", description="De clients van de API.")
    commands = parser.add_subparsers(dest="command", required=True)
    load = commands.add_parser("clients", help="clients uit een CSV-bestand opslaan")
    load.add_argument("bestand", type=Path)
    chosen = load.add_mutually_exclusive_group()
    chosen.add_argument("--geheimen", type=Path, help="schrijf de geheimen van nieuwe clients hierheen (0600)")
    chosen.add_argument("--geheimen-van", type=Path, help="geef elke client het geheim uit dit bestand")
    load.add_argument("--controleer", action="store_true", help="alleen controleren, niets opslaan")
    renew = commands.add_parser("geheim", help="een client een nieuw geheim geven")
    renew.add_argument("client_id")
    renew.add_argument("--geheimen", type=Path, help="schrijf het geheim hierheen (0600)")
    args = parser.parse_args(argv)
    try:
        settings = Settings.from_env()
    except SettingsError as error:
        print(f"Fout in de instellingen: {error}", file=sys.stderr)
        return 2
    if args.command == "clients":
        return asyncio.run(
            load_clients(settings, args.bestand, args.geheimen, args.controleer, given=args.geheimen_van)
        )
    return asyncio.run(renew_secret(settings, args.client_id, args.geheimen))


if __name__ == "__main__":
    raise SystemExit(main())
