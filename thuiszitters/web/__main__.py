"""``thuiszitters-web`` (or ``python -m thuiszitters.web``): run the web application, or set a local account's
password (docs/people.md, "Login").

    thuiszitters-web                           run it on THUISZITTERS_WEB_HOST:THUISZITTERS_WEB_PORT
    thuiszitters-web wachtwoord PERSOON_ID     create the local account of a person of the directory, or give it a
                                               new password (and lift a lock)

The password is read from standard input: typed twice at a terminal (not shown), else the first line (for scripts,
such as the dev stack: ``printf '%s\\n' "$WACHTWOORD" | thuiszitters-web wachtwoord beheerder-01``); never from the
command line, where other users of the machine could see it. Both need ``DATABASE_URL`` and a register with every
migration applied (the worker applies them when it starts). The server also connects to Temporal (its own
environment configuration, ``TEMPORAL_ADDRESS`` and the rest) when the first action needs it: the pages read the
register while Temporal is away, and each action says in Dutch that the case is not reachable until it is back.
With ``OTEL_EXPORTER_OTLP_ENDPOINT`` set it traces each request and what follows from it (docs/operations.md,
"Tracing").

Exit codes: 0 done (or the server stopped), 1 the password or person was refused, 2 the settings or the register
cannot be used.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
from collections.abc import Coroutine, Sequence
from typing import Any, TextIO

import uvicorn

from thuiszitters.logs import configure_logging, get_logger
from thuiszitters.people.tokens import TokenVerifier
from thuiszitters.register.latest import LatestCases
from thuiszitters.register.store import Register, RegisterFout, open_current
from thuiszitters.server import create_server
from thuiszitters.settings import Settings, SettingsError
from thuiszitters.temporal.client import ConnectError, connect
from thuiszitters.tracing import WEB, configure_tracing
from thuiszitters.web.accounts import LocalAccounts, WachtwoordFout
from thuiszitters.web.app import check_settings

log = get_logger(__name__)

LOOPBACK = ("127.0.0.1", "::1", "localhost")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="thuiszitters-web",
        description="De webapplicatie van het zaaksysteem (zonder opdracht: starten).",
    )
    commands = parser.add_subparsers(dest="command")
    password = commands.add_parser(
        "wachtwoord",
        help="maak een lokaal account of geef het een nieuw wachtwoord (van standaardinvoer)",
    )
    password.add_argument("persoon_id", help="de persoon_id uit de personenlijst; dat is ook de gebruikersnaam")
    return parser


def read_password(stdin: TextIO | None = None) -> str:
    """The new password: asked twice at a terminal, else the first line of ``stdin``."""
    stdin = stdin or sys.stdin
    if stdin.isatty():
        first = getpass.getpass("Nieuw wachtwoord: ")
        if getpass.getpass("Nog een keer: ") != first:
            raise WachtwoordFout("de twee wachtwoorden verschillen")
        return first
    return stdin.readline().rstrip("\r\n")


async def _connect(settings: Settings, max_size: int) -> Register | None:
    try:
        return await open_current(settings.database_url, max_size=max_size)
    except RegisterFout as error:
        print(error, file=sys.stderr)
        return None


async def set_password(settings: Settings, persoon_id: str, password: str) -> int:
    """Create or reset the local account of ``persoon_id``; the exit code."""
    register = await _connect(settings, max_size=1)
    if register is None:
        return 2
    try:
        outcome = await LocalAccounts(register.pool).set_password(persoon_id, password)
    except WachtwoordFout as error:
        print(f"Niet opgeslagen: {error}", file=sys.stderr)
        return 1
    finally:
        await register.close()
    print(f"Lokaal account van {persoon_id}: {'aangemaakt' if outcome == 'nieuw' else 'nieuw wachtwoord gezet'}.")
    return 0


async def serve(settings: Settings) -> int:
    """Run the web application until it is stopped (Ctrl-C, SIGTERM)."""
    provider = configure_tracing(WEB)  # it sends the spans still waiting in its batch when the process ends
    register = await _connect(settings, max_size=settings.database_pool_max)
    if register is None:
        return 2
    try:
        client = await connect(settings, lazy=True)
    except ConnectError as error:
        print(error, file=sys.stderr)
        await register.close()
        return 2
    latest = LatestCases(register.pool, settings.database_url or "")
    try:
        verifier = (
            TokenVerifier(settings.api_oidc_issuer, settings.api_oidc_audience, (), roles_required=False)
            if settings.api_oidc_issuer
            else None
        )
        # The API decides on each event with the case's facts kept in memory, fresh by the register's notifications.
        await latest.start()
        app = create_server(
            settings, register, client=client, verifier=verifier, tracer_provider=provider, latest=latest
        )
        host, port = settings.web_host, settings.web_port
        if host not in LOOPBACK:
            log.warning("web_niet_lokaal", host=host, advies="zet een proxy met TLS voor de webapplicatie")
        if not settings.web_https_only:
            log.warning("web_zonder_https", advies="alleen voor ontwikkeling: de sessiecookie gaat ook over http")
        log.info(
            "web_start",
            host=host,
            port=port,
            oidc_issuer=settings.web_oidc_issuer,
            lokale_accounts=settings.web_lokale_accounts,
        )
        config = uvicorn.Config(
            app,
            host=host,
            port=port,
            proxy_headers=True,
            server_header=False,
            access_log=False,
            log_config=None,
            lifespan="off",
        )
        await uvicorn.Server(config).serve()
    finally:
        await latest.close()
        await register.close()
    return 0


def run(work: Coroutine[Any, Any, int]) -> int:
    """Run the server on uvloop where it is installed (Linux, macOS: a faster event loop for the many small
    requests of the API), else on asyncio's own loop; uvicorn reads HTTP with httptools when installed."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(work)
    return uvloop.run(work)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = Settings.from_env()
        configure_logging(settings)
        if args.command is None:
            check_settings(settings)
    except SettingsError as error:
        print(f"Fout in de instellingen: {error}", file=sys.stderr)
        return 2
    if args.command == "wachtwoord":
        try:
            password = read_password()
        except (WachtwoordFout, EOFError, KeyboardInterrupt) as error:
            print(f"Niet opgeslagen: {error or 'geen wachtwoord gegeven'}", file=sys.stderr)
            return 1
        return asyncio.run(set_password(settings, args.persoon_id, password))
    return run(serve(settings))


if __name__ == "__main__":
    raise SystemExit(main())
