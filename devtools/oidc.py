"""The development OpenID provider (``devtools/oidc/provider.mjs``, the certified ``oidc-provider`` package for
Node.js): installing its modules and running it.

- :func:`install` installs the exact versions of ``devtools/oidc/package-lock.json`` into
  ``devtools/oidc/node_modules`` with ``npm ci`` (:mod:`devtools.npm`; ``offline=True``: from npm's cache only,
  nothing downloaded).
  ``python3 dev.py install`` runs it; tests and the running system never download anything.
- :func:`start` runs the provider as a child process on a free port (or the one given) and returns once its
  discovery document answers; :meth:`OidcProvider.stop` (or the context manager :func:`running`) stops it.

Clients, test accounts and claims are described at the top of ``provider.mjs``. From the command line::

    python -m devtools.oidc install
    python -m devtools.oidc start --port 9000      # runs until Ctrl-C
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import httpx

from devtools import npm

OIDC_DIR = Path(__file__).resolve().parent / "oidc"
PROVIDER_SCRIPT = OIDC_DIR / "provider.mjs"
LOCKFILE = OIDC_DIR / "package-lock.json"
NODE_MODULES = OIDC_DIR / "node_modules"
STAMP = npm.stamp(OIDC_DIR)
"""The digest of the lockfile that ``node_modules`` was installed from."""

WEB_CLIENT_ID = "thuiszitters-web"
UI_CLIENT_ID = "temporal-ui"
SHORT_CLIENT_ID = "thuiszitters-test-kort"
"""A public test client whose access tokens live one second (only with ``test_clients=True``)."""
CODEC_AUDIENCE = "urn:thuiszitters:codec"
"""The audience (resource) of the access tokens of ``temporal-ui``: the codec server."""
WEB_AUDIENCE = "https://thuiszitters.example/web"
"""The audience (resource) of the access tokens of ``thuiszitters-web``."""
API_CLIENT_ID = "koers-vo"
"""A service of the API (the demo client of ``examples/api_clients.csv``): client credentials only."""
API_AUDIENCE = "urn:thuiszitters:api"
"""The audience (resource) of the access tokens of the API's services, and of nothing else."""
UNKNOWN_API_CLIENT_ID = "dienst-onbekend"
"""A service the API does not know (only with ``test_clients=True``; ``client_secret_post``)."""
UNKNOWN_API_CLIENT_SECRET = "dienst-onbekend-testgeheim"
SHORT_API_CLIENT_ID = "koers-vo-kort"
"""A service whose access tokens live one second (only with ``test_clients=True``; ``client_secret_basic``)."""
SHORT_API_CLIENT_SECRET = "koers-vo-kort-testgeheim"
DEV_PASSWORD = "ontwikkeling"
DEV_WEB_CLIENT_SECRET = "web-geheim-ontwikkeling"
DEV_UI_CLIENT_SECRET = "temporal-ui-geheim-ontwikkeling"
DEV_API_CLIENT_SECRET = "koers-vo-geheim-ontwikkeling"
ACCOUNTS = (
    "prs-coordinator-noord",
    "prs-taskforce-1",
    "prs-school-mentor-7",
    "prs-scp-1",
    "prs-koersloket-1",
    "prs-leerplicht-1",
    "prs-wijkteam-1",
    "prs-zonder-rol",
)
"""The test accounts' ``sub`` (persoon_id), which is also their login name."""

READY = re.compile(r"OpenID-provider klaar: (\S+)")


class OidcUnavailable(RuntimeError):
    """Node.js or npm is missing, or the provider's modules are not installed; the message says what to do."""


def node_binary() -> str | None:
    return shutil.which("node")


def npm_binary() -> str | None:
    return npm.npm_binary()


def installed() -> bool:
    """True when ``node_modules`` holds what the current lockfile describes."""
    return npm.installed(OIDC_DIR, "oidc-provider")


def install(*, offline: bool = False, force: bool = False) -> bool:
    """Install the provider's modules from the lockfile (``npm ci``); False when they were already there.

    ``offline=True`` takes them from npm's cache only and fails rather than download. Raises
    :class:`OidcUnavailable` when npm is missing or the install fails (with npm's last lines)."""
    try:
        return npm.install(OIDC_DIR, "oidc-provider", offline=offline, force=force)
    except npm.NpmUnavailable as error:
        raise OidcUnavailable(str(error)) from None


@dataclass
class OidcProvider:
    """A running provider: its issuer URL, process and output log."""

    issuer: str
    process: subprocess.Popen[bytes]
    log_path: Path
    _log: IO[bytes] | None = field(default=None, repr=False)

    @property
    def discovery_url(self) -> str:
        return f"{self.issuer}/.well-known/openid-configuration"

    def output(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def stop(self, timeout: float = 10) -> None:
        """SIGTERM, then SIGKILL after ``timeout`` seconds; idempotent."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self._log is not None:
            self._log.close()
            self._log = None


def start(
    *,
    port: int = 0,
    host: str = "127.0.0.1",
    issuer: str | None = None,
    web_redirect_uris: Sequence[str] = (),
    web_logout_uris: Sequence[str] = (),
    ui_redirect_uris: Sequence[str] = (),
    test_clients: bool = False,
    web_client_secret: str | None = None,
    ui_client_secret: str | None = None,
    api_client_secret: str | None = None,
    password: str | None = None,
    jwks_file: Path | None = None,
    log_path: Path | None = None,
    timeout: float = 30,
) -> OidcProvider:
    """Start ``provider.mjs`` (port 0: a free port the system picks) and wait until its discovery document
    answers. Secrets go to the child in its environment, never on its command line."""
    node = node_binary()
    if node is None:
        raise OidcUnavailable("node is niet gevonden: installeer Node.js (20.19 of nieuwer)")
    if not installed():
        raise OidcUnavailable(
            f"de modules van de OpenID-provider ontbreken in {NODE_MODULES}: draai 'python3 dev.py install' "
            "(of 'python -m devtools.oidc install')"
        )
    command = [node, str(PROVIDER_SCRIPT), "--host", host, "--port", str(port)]
    if issuer is not None:
        command += ["--issuer", issuer]
    for flag, values in (
        ("--web-redirect-uri", web_redirect_uris),
        ("--web-logout-uri", web_logout_uris),
        ("--ui-redirect-uri", ui_redirect_uris),
    ):
        for value in values:
            command += [flag, value]
    if test_clients:
        command.append("--test-clients")
    env = {key: value for key, value in os.environ.items() if not key.startswith("OIDC_")}
    secrets: Mapping[str, str | None] = {
        "OIDC_WEB_CLIENT_SECRET": web_client_secret,
        "OIDC_TEMPORAL_UI_CLIENT_SECRET": ui_client_secret,
        "OIDC_API_CLIENT_SECRET": api_client_secret,
        "OIDC_DEV_PASSWORD": password,
        "OIDC_JWKS_FILE": None if jwks_file is None else str(jwks_file),
    }
    env.update({key: value for key, value in secrets.items() if value is not None})
    if log_path is None:
        handle, name = tempfile.mkstemp(prefix="oidc-provider-", suffix=".log")
        os.close(handle)
        log_path = Path(name)
    log = log_path.open("wb")
    process = subprocess.Popen(
        command, cwd=OIDC_DIR, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT
    )
    provider = OidcProvider(issuer="", process=process, log_path=log_path, _log=log)
    try:
        provider.issuer = _wait_until_ready(provider, timeout)
    except BaseException:
        provider.stop()
        raise
    return provider


def _wait_until_ready(provider: OidcProvider, timeout: float) -> str:
    deadline = time.monotonic() + timeout
    issuer: str | None = None
    with httpx.Client(timeout=2, trust_env=False) as http:
        while time.monotonic() < deadline:
            if provider.process.poll() is not None:
                raise OidcUnavailable(
                    f"de OpenID-provider stopte meteen (code {provider.process.returncode}):\n{provider.output()}"
                )
            if issuer is None and (found := READY.search(provider.output())):
                issuer = found.group(1)
            if issuer is not None:
                with contextlib.suppress(httpx.HTTPError):
                    response = http.get(f"{issuer}/.well-known/openid-configuration")
                    if response.status_code == 200 and response.json().get("issuer") == issuer:
                        return issuer
            time.sleep(0.05)
    raise OidcUnavailable(f"de OpenID-provider antwoordde niet binnen {timeout:.0f} s:\n{provider.output()}")


@contextlib.contextmanager
def running(**options: Any) -> Iterator[OidcProvider]:
    """:func:`start` as a context manager: the provider is stopped on leaving."""
    provider = start(**options)
    try:
        yield provider
    finally:
        provider.stop()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devtools.oidc", description="De OpenID-provider voor ontwikkeling")
    commands = parser.add_subparsers(dest="command", required=True)
    install_command = commands.add_parser("install", help="installeer de node-modules uit package-lock.json")
    install_command.add_argument("--offline", action="store_true", help="alleen uit de cache van npm")
    install_command.add_argument("--force", action="store_true", help="ook als ze er al zijn")
    serve = commands.add_parser("start", help="start de provider en wacht tot Ctrl-C")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=9000)
    serve.add_argument("--issuer")
    serve.add_argument("--web-redirect-uri", action="append", default=[])
    serve.add_argument("--ui-redirect-uri", action="append", default=[])
    args = parser.parse_args(argv)
    try:
        if args.command == "install":
            done = install(offline=args.offline, force=args.force)
            print("Modules van de OpenID-provider geïnstalleerd." if done else "Modules waren al geïnstalleerd.")
            return 0
        provider = start(
            port=args.port,
            host=args.host,
            issuer=args.issuer,
            web_redirect_uris=args.web_redirect_uri,
            ui_redirect_uris=args.ui_redirect_uri,
        )
    except OidcUnavailable as error:
        print(f"Fout: {error}", file=sys.stderr)
        return 1
    print(f"OpenID-provider op {provider.issuer} (uitvoer in {provider.log_path}); stoppen met Ctrl-C.")
    signal.signal(signal.SIGTERM, lambda *_: provider.stop())
    try:
        provider.process.wait()
    except KeyboardInterrupt:
        pass
    finally:
        provider.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
