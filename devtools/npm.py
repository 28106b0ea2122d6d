"""Node modules of the development tools, installed exactly as a folder's ``package-lock.json`` pins them.

Each folder under ``devtools/`` with a ``package.json`` (``oidc``: the OpenID provider, ``browser``: axe-core for the
browser tests) gets its modules from :func:`install` (``npm ci``); a stamp in ``node_modules`` holds the digest of the
lockfile they came from, so they are installed again only when the lockfile changes. ``python3 dev.py install`` runs
it for every folder (through ``python -m devtools.oidc install`` and ``python -m devtools.browser install``); tests
and the running system install with ``offline=True`` at most, from npm's cache, never downloading.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from pathlib import Path

STAMP_NAME = ".thuiszitters-lock-sha256"
"""The stamp in ``node_modules``: the digest of the lockfile that ``node_modules`` was installed from."""
INSTALL_TIMEOUT_SECONDS = 300


class NpmUnavailable(RuntimeError):
    """npm is missing or ``npm ci`` failed; the message (Dutch) says what went wrong."""


def npm_binary() -> str | None:
    return shutil.which("npm")


def stamp(folder: Path) -> Path:
    return folder / "node_modules" / STAMP_NAME


def lock_digest(folder: Path) -> str:
    return hashlib.sha256((folder / "package-lock.json").read_bytes()).hexdigest()


def installed(folder: Path, *packages: str) -> bool:
    """True when ``folder/node_modules`` holds what the current lockfile describes, ``packages`` among them."""
    try:
        current = stamp(folder).read_text().strip() == lock_digest(folder)
    except OSError:
        return False
    return current and all((folder / "node_modules" / package).is_dir() for package in packages)


def install(folder: Path, *packages: str, offline: bool = False, force: bool = False) -> bool:
    """``npm ci`` in ``folder`` unless :func:`installed` (or ``force``); False when there was nothing to do.

    ``offline=True`` takes the modules from npm's cache only and fails rather than download. Raises
    :class:`NpmUnavailable` when npm is missing or the install fails (with npm's last lines)."""
    if installed(folder, *packages) and not force:
        return False
    npm = npm_binary()
    if npm is None:
        raise NpmUnavailable("npm is niet gevonden: installeer Node.js (20.19 of nieuwer) met npm")
    command = [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error", "--offline" if offline else "--prefer-offline"]
    try:
        result = subprocess.run(
            command, cwd=folder, capture_output=True, text=True, timeout=INSTALL_TIMEOUT_SECONDS, check=False
        )
    except subprocess.TimeoutExpired:
        raise NpmUnavailable(f"npm ci in {folder} duurde langer dan {INSTALL_TIMEOUT_SECONDS} s") from None
    if result.returncode != 0:
        tail = "\n".join((result.stdout + result.stderr).strip().splitlines()[-15:])
        raise NpmUnavailable(f"npm ci in {folder} is mislukt (code {result.returncode}):\n{tail}")
    stamp(folder).write_text(lock_digest(folder) + "\n")
    return True
