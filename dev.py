#!/usr/bin/env python3
"""One entry point for developers and CI; needs nothing but Python 3.11 or newer.

    python3 dev.py up        the local stack (PostgreSQL, Temporal, codec server, worker, web app, demo people, cases)
    python3 dev.py test      the test suite; extra arguments go to pytest (python3 dev.py test -m fault)
    python3 dev.py check     ruff and mypy
    python3 dev.py install   (re)install the project and its development tools in .venv
    python3 dev.py lock      write the installed versions to constraints.txt (after changing the dependencies)

Every command first makes sure ``.venv`` exists and holds the project as described by the current
``pyproject.toml`` (installed again whenever that file changes), then runs inside it.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
STAMP = VENV / ".thuiszitters-install"
INSTALL_LOG = VENV / "pip-install.log"
MINIMUM_PYTHON = (3, 11)

USAGE = """\
Gebruik: python3 dev.py COMMANDO [ARGUMENTEN]

  up        start de lokale omgeving (PostgreSQL, Temporal, codec-server, worker, webapp, demo-personen, -casussen)
            opties gaan naar 'python -m devtools.devstack up', bijvoorbeeld --no-demo
  test      draai de tests; extra argumenten gaan naar pytest, bijvoorbeeld: test -m fault
  check     ruff en mypy
  install   installeer het project en de ontwikkelhulpmiddelen opnieuw in .venv
  lock      schrijf de geïnstalleerde versies naar constraints.txt (na een wijziging van de afhankelijkheden)
"""


def say(line: str) -> None:
    try:
        print(f"[dev] {line}", flush=True)
    except OSError:
        # Nobody reads any more (the terminal is closed, or 'dev.py up | head' has had its lines): starting or
        # running anything now would leave it to run unwatched. Stop quietly; /dev/null takes what Python
        # still wants to flush at exit.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
        sys.exit(1)


def venv_python() -> Path:
    if os.name == "nt":
        return VENV / "Scripts" / "python.exe"
    return VENV / "bin" / "python"


def venv_works(python: Path) -> bool:
    if not python.exists():
        return False
    check = f"import sys; sys.exit(0 if sys.version_info >= {MINIMUM_PYTHON!r} else 1)"
    try:
        return subprocess.run([str(python), "-c", check], check=False, capture_output=True).returncode == 0
    except OSError:
        return False


def ensure_venv() -> Path:
    python = venv_python()
    if venv_works(python):
        return python
    if VENV.exists():
        say("De virtuele omgeving in .venv werkt niet (meer); ik maak hem opnieuw aan ...")
        shutil.rmtree(VENV)
    say(f"Virtuele omgeving aanmaken in .venv (Python {sys.version.split()[0]}) ...")
    result = subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=False)
    if result.returncode != 0 or not venv_works(python):
        say("Kon .venv niet aanmaken. Op Debian/Ubuntu: 'apt-get install python3-venv', dan opnieuw.")
        sys.exit(1)
    return python


CONSTRAINTS = ROOT / "constraints.txt"


def project_hash() -> str:
    """Changes whenever ``pyproject.toml`` or the pinned versions in ``constraints.txt`` change."""
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes())
    if CONSTRAINTS.exists():
        digest.update(CONSTRAINTS.read_bytes())
    return digest.hexdigest()


def install(python: Path, *, force: bool) -> None:
    wanted = project_hash()
    current = STAMP.read_text().strip() if STAMP.exists() else None
    if current == wanted and not force:
        install_node_modules(python, force=False, quiet=True)
        return
    if force:
        reason = "op verzoek"
    elif current is None:
        reason = "eerste keer"
    else:
        reason = "pyproject.toml is gewijzigd"
    say(f"Project en ontwikkelhulpmiddelen installeren in .venv ({reason}) ...")
    command = [str(python), "-m", "pip", "install", "--disable-pip-version-check", "--editable", ".[dev]"]
    if CONSTRAINTS.exists():  # the versions CI saw, so a fresh machine gets the same
        command += ["--constraint", str(CONSTRAINTS)]
    # pip's own output goes to a log; it is shown only when something goes wrong.
    with INSTALL_LOG.open("w") as log:
        result = subprocess.run(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, check=False)
    if result.returncode != 0:
        STAMP.unlink(missing_ok=True)
        lines = INSTALL_LOG.read_text(errors="replace").splitlines()
        print("\n".join(lines[-40:]), file=sys.stderr)
        say(f"Installeren is mislukt (pip gaf code {result.returncode}); volledige uitvoer in {INSTALL_LOG}.")
        sys.exit(1)
    STAMP.write_text(wanted + "\n")
    install_node_modules(python, force=force, quiet=False)
    say("Installatie is klaar.")


NODE_INSTALL_HINT = "Installeer Node.js 20.19 of nieuwer met npm en draai daarna 'python3 dev.py install'."


@dataclass(frozen=True)
class NodeModules:
    """A development tool's node modules: its folder (with ``package.json`` and ``package-lock.json``), the module
    that installs them (``python -m <module> install``) and what to say about them."""

    folder: Path
    module: str
    without_npm: str
    installing: str
    failed: str

    @property
    def stamp(self) -> Path:
        """The digest of the lockfile that ``node_modules`` was installed from (written by the module)."""
        return self.folder / "node_modules" / ".thuiszitters-lock-sha256"


NODE_MODULES = (
    NodeModules(
        folder=ROOT / "devtools" / "oidc",
        module="devtools.oidc",
        without_npm=(
            "npm ontbreekt: de OpenID-provider voor ontwikkeling (devtools/oidc) is niet geïnstalleerd, en de "
            f"tests die hem gebruiken worden overgeslagen. {NODE_INSTALL_HINT}"
        ),
        installing="OpenID-provider voor ontwikkeling installeren (npm ci in devtools/oidc) ...",
        failed="Installeren van de OpenID-provider is mislukt (zie hierboven).",
    ),
    NodeModules(
        folder=ROOT / "devtools" / "browser",
        module="devtools.browser",
        without_npm=(
            "npm ontbreekt: axe-core voor de browsertests (devtools/browser) is niet geïnstalleerd, en de "
            f"browsertests van de webapplicatie worden overgeslagen. {NODE_INSTALL_HINT}"
        ),
        installing="axe-core voor de browsertests installeren (npm ci in devtools/browser) ...",
        failed="Installeren van axe-core voor de browsertests is mislukt (zie hierboven).",
    ),
)
"""The development tools from npm: the OpenID provider, and axe-core for the browser tests' accessibility check."""


def install_node_modules(python: Path, *, force: bool, quiet: bool) -> None:
    """Each development tool's node modules, exactly as its ``package-lock.json`` pins them (``npm ci``); again
    only when that lockfile changed. Without npm they are skipped, with a message unless ``quiet``."""
    for tool in NODE_MODULES:
        lockfile = tool.folder / "package-lock.json"
        if not lockfile.exists():
            continue
        wanted = hashlib.sha256(lockfile.read_bytes()).hexdigest()
        current = tool.stamp.read_text().strip() if tool.stamp.exists() else None
        if current == wanted and not force:
            continue
        if shutil.which("npm") is None:
            if not quiet:
                say(tool.without_npm)
            continue
        say(tool.installing)
        command = [str(python), "-m", tool.module, "install", *(["--force"] if force else [])]
        if subprocess.run(command, cwd=ROOT, check=False).returncode != 0:
            say(tool.failed)
            sys.exit(1)


def venv_env() -> dict[str, str]:
    """The environment of an activated venv: its programs (python, temporal, ruff) come first on PATH."""
    env = dict(os.environ)
    bin_dir = str(venv_python().parent)
    env["PATH"] = os.pathsep.join(part for part in (bin_dir, env.get("PATH", "")) if part)
    env["VIRTUAL_ENV"] = str(VENV)
    env.pop("PYTHONHOME", None)
    return env


def run(command: list[str]) -> int:
    """Run a command in the venv; Ctrl-C goes to the command, which decides how to stop."""
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        return subprocess.run(command, cwd=ROOT, env=venv_env(), check=False).returncode
    finally:
        signal.signal(signal.SIGINT, previous)


def exit_code(returncode: int) -> int:
    return returncode if returncode >= 0 else 128 - returncode


def command_up(python: Path, args: list[str]) -> int:
    say("Lokale omgeving starten (stoppen met Ctrl-C) ...")
    os.chdir(ROOT)
    argv = [str(python), "-m", "devtools.devstack", "up", *args]
    # Replace this process: Ctrl-C, SIGTERM and the SIGHUP of a closed terminal reach the stack directly, which
    # stops everything in order (as it does when its output is gone).
    os.execve(argv[0], argv, venv_env())
    return 0  # not reached


def command_test(python: Path, args: list[str]) -> int:
    say("Tests draaien: " + " ".join(["pytest", *args]))
    returncode = run([str(python), "-m", "pytest", *args])
    if returncode == 5:
        say("pytest heeft geen enkele test uitgevoerd (code 5): dat telt als mislukt.")
        return 1
    if returncode != 0:
        say(f"Tests mislukt (pytest gaf code {returncode}).")
    return exit_code(returncode)


def command_check(python: Path, args: list[str]) -> int:
    failed = []
    for name, command in (
        ("ruff", [str(python), "-m", "ruff", "check", ".", *args]),
        ("mypy", [str(python), "-m", "mypy", "."]),
    ):
        say(f"{name} ...")
        if run(command) != 0:
            failed.append(name)
    if failed:
        say("Niet in orde: " + ", ".join(failed) + ".")
        return 1
    say("ruff en mypy zijn tevreden.")
    return 0


def command_lock(python: Path, args: list[str]) -> int:
    """Pin what .venv holds now, so that dev.py, CI and the Dockerfile install the same versions."""
    result = subprocess.run(
        [str(python), "-m", "pip", "freeze", "--all", "--exclude-editable", "--disable-pip-version-check"],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        say("pip freeze is mislukt: " + result.stderr.strip())
        return 1
    pinned = [line for line in result.stdout.splitlines() if line and not line.startswith(("thuiszitters", "pip=="))]
    header = [
        "# The versions CI saw: dev.py and the Dockerfile install with 'pip install -c constraints.txt'.",
        "# Regenerate after changing dependencies in pyproject.toml: python3 dev.py lock",
    ]
    CONSTRAINTS.write_text("\n".join([*header, *pinned]) + "\n")
    STAMP.write_text(project_hash() + "\n")
    say(f"{len(pinned)} versies vastgelegd in constraints.txt.")
    return 0


def main(argv: list[str]) -> int:
    if sys.version_info < MINIMUM_PYTHON:
        wanted = ".".join(str(part) for part in MINIMUM_PYTHON)
        print(
            f"dev.py heeft Python {wanted} of nieuwer nodig; dit is {sys.version.split()[0]}.",
            file=sys.stderr,
        )
        return 1
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(USAGE, end="")
        return 0 if argv else 2
    command, args = argv[0], argv[1:]
    commands = {"up": command_up, "test": command_test, "check": command_check, "lock": command_lock}
    if command not in (*commands, "install"):
        print(f"Onbekend commando: {command}\n", file=sys.stderr)
        print(USAGE, end="", file=sys.stderr)
        return 2
    python = ensure_venv()
    install(python, force=command == "install")
    if command == "install":
        return 0
    return commands[command](python, args)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
