"""What the browser tests of the web application need besides Playwright and Debian's Chromium: axe-core, the
accessibility checker, from npm (``devtools/browser/package.json``, pinned in its ``package-lock.json``).

- :func:`install` installs it into ``devtools/browser/node_modules`` with ``npm ci`` (:mod:`devtools.npm`;
  ``offline=True``: from npm's cache only, nothing downloaded). ``python3 dev.py install`` runs it.
- :data:`AXE_SCRIPT` is the script the tests inject into a page (``tests/fixtures/browser.py``).

From the command line::

    python -m devtools.browser install
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from devtools import npm

BROWSER_DIR = Path(__file__).resolve().parent / "browser"
AXE_PACKAGE = "axe-core"
AXE_SCRIPT = BROWSER_DIR / "node_modules" / AXE_PACKAGE / "axe.min.js"


class BrowserToolsUnavailable(RuntimeError):
    """npm is missing or axe-core could not be installed; the message says what to do."""


def installed() -> bool:
    """True when ``node_modules`` holds the axe-core that the current lockfile describes."""
    return npm.installed(BROWSER_DIR, AXE_PACKAGE) and AXE_SCRIPT.is_file()


def install(*, offline: bool = False, force: bool = False) -> bool:
    """Install axe-core from the lockfile (``npm ci``); False when it was already there. Raises
    :class:`BrowserToolsUnavailable` when npm is missing or the install fails."""
    try:
        return npm.install(BROWSER_DIR, AXE_PACKAGE, offline=offline, force=force)
    except npm.NpmUnavailable as error:
        raise BrowserToolsUnavailable(str(error)) from None


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devtools.browser", description="Hulpmiddelen voor de browsertests")
    commands = parser.add_subparsers(dest="command", required=True)
    install_command = commands.add_parser("install", help="installeer axe-core uit package-lock.json")
    install_command.add_argument("--offline", action="store_true", help="alleen uit de cache van npm")
    install_command.add_argument("--force", action="store_true", help="ook als het er al is")
    args = parser.parse_args(argv)
    try:
        done = install(offline=args.offline, force=args.force)
    except BrowserToolsUnavailable as error:
        print(f"Fout: {error}", file=sys.stderr)
        return 1
    print("axe-core voor de browsertests geïnstalleerd." if done else "axe-core was al geïnstalleerd.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
