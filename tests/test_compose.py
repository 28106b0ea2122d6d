"""docker-compose.yml and the Dockerfile: the production-like stack must be complete and consistent.

Compose itself checks the file when a compose binary is present (Debian's ``docker-compose`` v1 or the
``docker compose`` plugin; neither needs a Docker engine for ``config``). The structural checks always run,
and the admin-tools job's script runs for real against a local Temporal dev server.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from devtools import oidc
from devtools.devstack import find_temporal_binary, free_port
from thuiszitters.settings import Settings
from thuiszitters.temporal.codec_server import allowed_roles
from thuiszitters.web.app import MIN_SECRET_LENGTH, check_settings
from workflows.search_attributes import ALL_KEYS, cli_flags

ROOT = Path(__file__).resolve().parent.parent
COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"

REQUIRED = {
    "TEMPORAL_DB_PASSWORD": "temporal-db-geheim",
    "CASE_DB_PASSWORD": "casus-db-geheim",
    "THUISZITTERS_CODEC_KEYS": "prod-1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
    "OIDC_ISSUER_URL": "https://login.example.org/oidc",
    "TEMPORAL_UI_OIDC_CLIENT_SECRET": "ui-geheim",
    "THUISZITTERS_WEB_OIDC_CLIENT_SECRET": "web-geheim",
    "THUISZITTERS_WEB_SESSION_SECRET": "sessie-geheim-van-minstens-32-tekens-lang",
}
"""The variables compose refuses to run without (the secrets, and the OpenID provider), with a sample value."""
NEEDED_SERVICES = {
    "temporal-db",
    "temporal",
    "temporal-admin-tools",
    "temporal-ui",
    "case-db",
    "codec-server",
    "worker",
    "web",
}
OUR_IMAGE_SERVICES = {"codec-server", "worker", "web"}
VARIABLE_PATTERN = re.compile(r"\$\{(?P<name>[A-Z0-9_]+)(?:(?P<op>:?[-?])(?P<word>[^}]*))?\}")


def compose() -> dict[str, Any]:
    document = yaml.safe_load(COMPOSE_FILE.read_text())
    assert isinstance(document, dict)
    return document


def services() -> dict[str, dict[str, Any]]:
    found = compose()["services"]
    assert isinstance(found, dict)
    return found


def environment(service: dict[str, Any]) -> dict[str, str]:
    raw = service.get("environment") or {}
    if isinstance(raw, list):
        return dict(item.split("=", 1) for item in raw)
    return {key: "" if value is None else str(value) for key, value in raw.items()}


def interpolate(value: str, variables: dict[str, str] | None = None) -> str:
    """Compose's interpolation: ``${VAR}``, ``${VAR:-default}``, ``${VAR:?error}`` and ``$$``, with only
    ``variables`` set (the required variables by default)."""
    known = REQUIRED if variables is None else variables

    def substitute(match: re.Match[str]) -> str:
        name, op, word = match.group("name"), match.group("op") or "", match.group("word") or ""
        if known.get(name):
            return known[name]
        if op.endswith("?"):
            raise AssertionError(f"{name} is verplicht: {word}")
        return word if op.endswith("-") else ""

    return VARIABLE_PATTERN.sub(substitute, value).replace("$$", "$")


def command_text(service: dict[str, Any]) -> str:
    command = service.get("command") or []
    if isinstance(command, str):
        return command
    return "\n".join(str(part) for part in command)


def compose_binary() -> list[str] | None:
    if shutil.which("docker"):
        plugin = subprocess.run(["docker", "compose", "version"], capture_output=True, check=False)
        if plugin.returncode == 0:
            return ["docker", "compose"]
    if found := shutil.which("docker-compose"):
        return [found]
    return None


# ------------------------------------------------------------------------------------------- compose itself


def run_compose_config(
    binary: list[str], env_overrides: dict[str, str], tmp_path: Path
) -> subprocess.CompletedProcess[str]:
    # An empty env file, so a developer's own .env does not change the outcome; only these variables count.
    empty_env_file = tmp_path / "leeg.env"
    empty_env_file.write_text("")
    env = {key: value for key, value in os.environ.items() if key not in REQUIRED}
    env.update(env_overrides)
    return subprocess.run(
        [*binary, "--env-file", str(empty_env_file), "-f", str(COMPOSE_FILE), "config", "-q"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_compose_accepts_the_file_when_the_required_variables_are_set(tmp_path: Path) -> None:
    binary = compose_binary()
    if binary is None:
        # No compose binary on this machine: the structural tests below still check the file.
        print("geen docker-compose of 'docker compose' gevonden; alleen de structuur is gecontroleerd")
        return
    result = run_compose_config(binary, REQUIRED, tmp_path)
    assert result.returncode == 0, f"{' '.join(binary)} config weigert het bestand:\n{result.stderr}"


@pytest.mark.parametrize("missing", sorted(REQUIRED))
def test_compose_refuses_to_run_without_a_required_variable(missing: str, tmp_path: Path) -> None:
    text = COMPOSE_FILE.read_text()
    assert re.search(r"\$\{" + missing + r":\?[^}]+\}", text), (
        f"{missing} is niet verplicht gemaakt met ${{{missing}:?...}}"
    )
    binary = compose_binary()
    if binary is None:
        return
    result = run_compose_config(binary, {k: v for k, v in REQUIRED.items() if k != missing}, tmp_path)
    assert result.returncode != 0
    assert missing in result.stderr


# -------------------------------------------------------------------------------------------------- structure


def test_every_service_the_stack_needs_is_there() -> None:
    missing = NEEDED_SERVICES - set(services())
    assert not missing, f"ontbrekende services: {missing}"


def test_depends_on_names_existing_services_with_known_conditions() -> None:
    all_services = services()
    for name, service in all_services.items():
        depends = service.get("depends_on") or {}
        targets = depends if isinstance(depends, list) else list(depends)
        for target in targets:
            assert target in all_services, f"{name} hangt af van onbekende service {target}"
        if isinstance(depends, dict):
            for target, rule in depends.items():
                assert rule["condition"] in {
                    "service_started",
                    "service_healthy",
                    "service_completed_successfully",
                }
                if rule["condition"] == "service_healthy":
                    assert "healthcheck" in all_services[target], f"{target} heeft geen healthcheck"


def test_worker_waits_for_its_database_and_the_search_attributes_and_has_a_healthcheck() -> None:
    worker = services()["worker"]
    assert worker["depends_on"]["case-db"]["condition"] == "service_healthy"
    assert worker["depends_on"]["temporal-admin-tools"]["condition"] == "service_completed_successfully"
    test = worker["healthcheck"]["test"]
    words = test if isinstance(test, list) else shlex.split(test)
    assert "worker.py" in words and "--check" in words, words


def test_worker_gets_its_connections_and_secrets_from_the_environment() -> None:
    raw = environment(services()["worker"])
    env = {key: interpolate(value) for key, value in raw.items()}
    assert env["TEMPORAL_ADDRESS"] == "temporal:7233"
    dsn = urlsplit(env["DATABASE_URL"])
    assert dsn.scheme.startswith("postgres") and dsn.hostname == "case-db"
    assert dsn.password == REQUIRED["CASE_DB_PASSWORD"]
    assert env["THUISZITTERS_ENCRYPTIE"] == "aan"
    assert env["THUISZITTERS_CODEC_KEYS"] == REQUIRED["THUISZITTERS_CODEC_KEYS"]
    case_db = {key: interpolate(value) for key, value in environment(services()["case-db"]).items()}
    assert dsn.password == case_db["POSTGRES_PASSWORD"]
    assert dsn.username == case_db["POSTGRES_USER"]
    assert dsn.path.lstrip("/") == case_db["POSTGRES_DB"]
    for env_file in services()["worker"].get("env_file", []):
        assert (ROOT / env_file).is_file(), f"env_file {env_file} ontbreekt"


def registered_search_attributes() -> dict[str, str]:
    script = command_text(services()["temporal-admin-tools"])
    return dict(re.findall(r"search-attribute create --name (\w+) --type (\w+)", script))


def test_admin_tools_registers_every_search_attribute_with_its_type() -> None:
    # cli_flags() gives 'Name=Type' exactly as the dev server registers them.
    wanted = dict(flag.split("=") for flag in cli_flags()[1::2])
    assert {key.name for key in ALL_KEYS} == set(wanted)
    assert registered_search_attributes() == wanted


def ui_env() -> dict[str, str]:
    return {key: interpolate(value) for key, value in environment(services()["temporal-ui"]).items()}


def codec_env() -> dict[str, str]:
    return {key: interpolate(value) for key, value in environment(services()["codec-server"]).items()}


def web_env(variables: dict[str, str] | None = None) -> dict[str, str]:
    return {key: interpolate(value, variables) for key, value in environment(services()["web"]).items()}


def worker_env() -> dict[str, str]:
    return {key: interpolate(value) for key, value in environment(services()["worker"]).items()}


def published_port(service: str) -> str:
    """The host port of a service's first published port (``127.0.0.1:8080:8080``)."""
    return str(services()[service]["ports"][0]).rsplit(":", 2)[-2]


def test_ui_fetches_decoded_payloads_from_the_codec_server() -> None:
    all_services = services()
    endpoint = urlsplit(ui_env()["TEMPORAL_CODEC_ENDPOINT"])
    # The browser calls the endpoint itself: it must be the codec server's published port on the host.
    codec = all_services["codec-server"]
    published = {str(mapping).rsplit(":", 2)[-2]: str(mapping).rsplit(":", 1)[-1] for mapping in codec["ports"]}
    assert str(endpoint.port) in published, f"{endpoint.geturl()} is geen gepubliceerde poort van codec-server"
    assert published[str(endpoint.port)] == codec_env()["THUISZITTERS_CODEC_SERVER_PORT"]
    assert endpoint.hostname in {"localhost", "127.0.0.1"}
    # ... and the codec server must accept the UI's origin (CORS).
    origin = urlsplit(codec_env()["THUISZITTERS_CODEC_SERVER_CORS_ORIGIN"])
    assert str(origin.port) == published_port("temporal-ui")
    assert codec_env()["THUISZITTERS_CODEC_SERVER_HOST"] == "0.0.0.0", (
        "in een container moet hij op alle adressen luisteren"
    )


def test_ui_shows_nothing_before_a_login_at_the_openid_provider() -> None:
    env = ui_env()
    assert env["TEMPORAL_AUTH_ENABLED"] == "true"
    assert env["TEMPORAL_AUTH_PROVIDER_URL"] == REQUIRED["OIDC_ISSUER_URL"]
    # The client the development provider registers for the UI, with its secret from the environment only.
    assert env["TEMPORAL_AUTH_CLIENT_ID"] == oidc.UI_CLIENT_ID
    assert env["TEMPORAL_AUTH_CLIENT_SECRET"] == REQUIRED["TEMPORAL_UI_OIDC_CLIENT_SECRET"]
    assert re.search(r"\$\{TEMPORAL_UI_OIDC_CLIENT_SECRET:\?[^}]+\}", COMPOSE_FILE.read_text())
    # The provider sends the browser back to the UI's own published address.
    callback = urlsplit(env["TEMPORAL_AUTH_CALLBACK_URL"])
    assert callback.path == "/auth/sso/callback"
    assert str(callback.port) == published_port("temporal-ui")
    assert f"{callback.scheme}://{callback.netloc}" == env["TEMPORAL_CORS_ORIGINS"]
    assert {"openid", "rol"} <= set(env["TEMPORAL_AUTH_SCOPES"].split(","))
    # The codec server needs the access token (for the codec's audience), not the ID token.
    assert env.get("TEMPORAL_AUTH_USE_ID_TOKEN_AS_BEARER", "false") == "false"


def test_ui_changes_nothing_in_the_cases() -> None:
    # No signal, update, cancel, terminate, reset or start from the UI: events come through the application.
    assert ui_env()["TEMPORAL_DISABLE_WRITE_ACTIONS"] == "true"


def test_ui_passes_the_users_access_token_and_carries_no_token_of_its_own() -> None:
    env = ui_env()
    assert env["TEMPORAL_CODEC_PASS_ACCESS_TOKEN"] == "true"
    endpoint = urlsplit(env["TEMPORAL_CODEC_ENDPOINT"])
    assert endpoint.path in {"", "/"}, f"geen token of pad in het codec-endpoint: {endpoint.geturl()}"
    assert not endpoint.query and not endpoint.username and not endpoint.password
    # The static codec token is gone from the stack: only a person's access token opens the codec server.
    assert "THUISZITTERS_CODEC_SERVER_TOKEN" not in COMPOSE_FILE.read_text()


def test_codec_server_checks_the_access_tokens_of_the_uis_provider() -> None:
    env = codec_env()
    settings = Settings.from_env(env)
    assert settings.codec_server_oidc_issuer == ui_env()["TEMPORAL_AUTH_PROVIDER_URL"]
    # The audience the development provider gives the UI's access tokens, and the one the code expects by default.
    assert settings.codec_server_oidc_audience == oidc.CODEC_AUDIENCE
    assert Settings.model_fields["codec_server_oidc_audience"].default == oidc.CODEC_AUDIENCE
    assert set(allowed_roles(settings.codec_server_oidc_rollen)) == {"coordinator", "taskforce"}
    assert settings.codec_server_token is None
    assert settings.codec_server_cors_origin == ui_env()["TEMPORAL_CORS_ORIGINS"]


def test_codec_server_writes_its_audit_rows_to_the_case_register() -> None:
    # With OpenID on and DATABASE_URL set, every decode and refusal is an audit row (codec_server.py).
    env = codec_env()
    assert env["DATABASE_URL"] == worker_env()["DATABASE_URL"]
    assert Settings.from_env(env).database_url == worker_env()["DATABASE_URL"]
    # It does not start before the register has its audit log: the worker applies the migrations.
    depends = services()["codec-server"]["depends_on"]
    assert depends["case-db"]["condition"] == "service_healthy"
    assert depends["worker"]["condition"] == "service_healthy"


# ------------------------------------------------------------------------------------------ the web application


def test_web_runs_the_web_application_of_our_image_after_the_register_is_up_to_date() -> None:
    web = services()["web"]
    assert web["command"] == ["python", "-m", "thuiszitters.web"]
    assert web["image"] == services()["worker"]["image"] and "build" in web
    assert web["depends_on"]["case-db"]["condition"] == "service_healthy"
    assert web["depends_on"]["worker"]["condition"] == "service_healthy"
    env = web_env()
    assert env["DATABASE_URL"] == worker_env()["DATABASE_URL"]
    # It listens on every address of its container, on the port compose publishes (on the host's loopback only).
    assert env["THUISZITTERS_WEB_HOST"] == "0.0.0.0"
    mapping = str(web["ports"][0])
    assert mapping.startswith("127.0.0.1:")
    assert mapping.rsplit(":", 1)[-1] == env["THUISZITTERS_WEB_PORT"]
    public = urlsplit(env["THUISZITTERS_WEB_PUBLIC_URL"])
    assert str(public.port) == published_port("web")
    # The health check asks for the login page, on the port the application listens on.
    test = web["healthcheck"]["test"]
    words = test if isinstance(test, list) else shlex.split(test)
    assert f"127.0.0.1:{env['THUISZITTERS_WEB_PORT']}/inloggen" in " ".join(words)


def test_web_logs_people_in_at_the_openid_provider_over_https_only() -> None:
    env = web_env()
    settings = Settings.from_env(env)
    check_settings(settings)  # the application starts with these settings
    assert settings.web_https_only is True
    assert settings.web_lokale_accounts is False, "lokale accounts horen standaard uit te staan"
    assert settings.web_oidc_issuer == REQUIRED["OIDC_ISSUER_URL"] == ui_env()["TEMPORAL_AUTH_PROVIDER_URL"]
    assert settings.web_oidc_client_id == oidc.WEB_CLIENT_ID
    assert settings.web_oidc_client_secret == REQUIRED["THUISZITTERS_WEB_OIDC_CLIENT_SECRET"]
    # Both secrets come from the environment only, and compose refuses to start without them.
    assert settings.web_session_secret == REQUIRED["THUISZITTERS_WEB_SESSION_SECRET"]
    assert len(REQUIRED["THUISZITTERS_WEB_SESSION_SECRET"]) >= MIN_SECRET_LENGTH
    text = COMPOSE_FILE.read_text()
    for variable in ("THUISZITTERS_WEB_SESSION_SECRET", "THUISZITTERS_WEB_OIDC_CLIENT_SECRET", "OIDC_ISSUER_URL"):
        assert re.search(r"THUISZITTERS_WEB_\w+: \$\{" + variable + r":\?[^}]+\}", text), variable


def test_web_local_accounts_can_be_switched_on_from_the_environment() -> None:
    env = web_env(REQUIRED | {"THUISZITTERS_WEB_LOKALE_ACCOUNTS": "ja"})
    assert Settings.from_env(env).web_lokale_accounts is True
    assert Settings.from_env(env).web_https_only is True


def test_our_services_run_files_that_exist() -> None:
    for name in OUR_IMAGE_SERVICES:
        service = services()[name]
        assert "build" in service, f"{name} moet het eigen image bouwen"
        assert_runs_existing_files(service["command"])


def test_volume_mounts_of_the_repository_exist() -> None:
    for name, service in services().items():
        for volume in service.get("volumes", []):
            source = str(volume).split(":", 1)[0]
            if source.startswith("."):
                assert (ROOT / source).exists(), f"{name}: {source} ontbreekt"


def test_databases_keep_their_data_in_named_volumes() -> None:
    document = compose()
    for name in ("temporal-db", "case-db"):
        mounts = [str(volume) for volume in services()[name]["volumes"]]
        data = [mount for mount in mounts if mount.endswith(":/var/lib/postgresql/data")]
        assert data, f"{name} bewaart zijn data niet in een volume"
        assert data[0].split(":", 1)[0] in document["volumes"]
        assert services()[name]["image"].startswith("postgres:16")


# ------------------------------------------------------------------------------------------------- Dockerfile


def dockerfile_instructions() -> list[tuple[str, str]]:
    text = DOCKERFILE.read_text().replace("\\\n", " ")
    instructions = []
    for line in text.splitlines():
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            keyword, _, rest = stripped.partition(" ")
            instructions.append((keyword.upper(), rest.strip()))
    return instructions


def assert_runs_existing_files(command: list[str] | str) -> None:
    words = command if isinstance(command, list) else shlex.split(command)
    for index, word in enumerate(words):
        if word.endswith(".py"):
            assert (ROOT / word).is_file(), f"{word} bestaat niet in de repository"
        if word == "-m":
            module = words[index + 1].replace(".", "/")
            assert (ROOT / f"{module}.py").is_file() or (ROOT / module / "__main__.py").is_file(), module


def test_dockerfile_builds_a_slim_non_root_image_of_the_package() -> None:
    instructions = dockerfile_instructions()
    assert instructions[0] == ("FROM", "python:3.11-slim")
    users = [rest for keyword, rest in instructions if keyword == "USER"]
    assert users and users[-1] not in {"root", "0"}, "het image moet als gewone gebruiker draaien"
    assert any(
        keyword == "RUN" and "pip install --constraint constraints.txt ." in rest for keyword, rest in instructions
    )


def test_dockerfile_copies_and_runs_files_that_exist() -> None:
    instructions = dockerfile_instructions()
    for keyword, rest in instructions:
        if keyword == "COPY":
            *sources, _target = rest.split()
            for source in sources:
                if not source.startswith("--"):
                    assert (ROOT / source).exists(), f"COPY {source}: bestaat niet in de repository"
        if keyword in {"CMD", "ENTRYPOINT"}:
            assert_runs_existing_files(json.loads(rest))
    assert any(keyword == "CMD" for keyword, _ in instructions)


def test_dockerfile_never_copies_local_state() -> None:
    for keyword, rest in dockerfile_instructions():
        if keyword in {"COPY", "ADD"}:
            sources = rest.split()[:-1]
            assert "." not in sources and "./" not in sources, "COPY . zou .venv, .data en .env meenemen"


# ------------------------------------------------------------------------- the admin-tools script, for real


def test_admin_tools_script_registers_namespace_and_search_attributes_idempotently(tmp_path: Path) -> None:
    """Run the job's script twice against a Temporal dev server started without any search attributes."""
    temporal = find_temporal_binary()
    port = free_port()
    server = subprocess.Popen(
        [temporal, "server", "start-dev", "--headless", "--ip", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    admin = services()["temporal-admin-tools"]
    script = command_text(admin).replace("$$", "$")
    env = dict(os.environ)
    env.update({key: interpolate(value) for key, value in environment(admin).items()})
    env["TEMPORAL_ADDRESS"] = f"127.0.0.1:{port}"
    env["TEMPORAL_NAMESPACE"] = "compose-test"  # a namespace the dev server does not create by itself
    env["PATH"] = os.pathsep.join([str(Path(temporal).parent), str(Path(sys.executable).parent), env["PATH"]])
    try:
        for attempt in (1, 2):
            result = subprocess.run(
                ["/bin/sh", "-c", script], env=env, capture_output=True, text=True, timeout=180, check=False
            )
            assert result.returncode == 0, f"poging {attempt}:\n{result.stdout}\n{result.stderr}"
        listed = subprocess.run(
            [
                temporal,
                "operator",
                "search-attribute",
                "list",
                "--address",
                env["TEMPORAL_ADDRESS"],
                "--namespace",
                "compose-test",
                "--output",
                "json",
            ],
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        )
        custom = json.loads(listed.stdout)["customAttributes"]
        for key in ALL_KEYS:
            assert custom.get(key.name) == f"INDEXED_VALUE_TYPE_{key.indexed_value_type.name}", key.name
    finally:
        server.terminate()
        try:
            server.wait(20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def test_the_worker_sends_messages_to_people_not_to_role_wide_inboxes() -> None:
    settings = [
        line.split("=", 1)
        for line in (ROOT / "deploy" / "worker.env").read_text(encoding="utf-8").splitlines()
        if line and not line.startswith("#")
    ]
    assert dict(settings).get("THUISZITTERS_ADRESSERING") == "personen"
    assert not [name for name, _ in settings if name.startswith("THUISZITTERS_ADRES_")]
