"""The one settings reader: every variable, the yes/no words, secrets from files, Dutch refusals, and the table in
docs/operations.md that documents each setting once."""

from __future__ import annotations

import base64
import os
import re
import shutil
import subprocess
import sys
import tempfile
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic_core import PydanticUndefined

from devtools.devstack import free_port
from tests.cases import eventually
from tests.fixtures.processes import codec_server
from tests.paths import REPO
from thuiszitters.settings import (
    ENDPOINT_VARIABLES,
    GROUP_VARIABLES,
    NO,
    NOT_SETTINGS,
    PREFIX,
    YES,
    Endpoint,
    Settings,
    SettingsError,
    SettingsWarning,
)
from thuiszitters.temporal import worker
from thuiszitters.temporal.codec import generate_key
from workflows.contract import Rol
from workflows.effects import Systeem

ROOT = REPO
KEYS = f"k1:{generate_key()}"
WEBHOOK_SECRET = "whsec_" + base64.b64encode(b"webhookgeheim-van-32-bytes-lang!").decode()

SAMPLES: dict[str, tuple[str, Any]] = {
    "database_url": ("postgresql://register@db:5432/thuiszitters", "postgresql://register@db:5432/thuiszitters"),
    "database_pool_max": ("25", 25),
    "task_queue": ("thuiszitters-test", "thuiszitters-test"),
    "codec_server_oidc_issuer": ("https://login.example.org", "https://login.example.org"),
    "codec_server_oidc_audience": ("urn:thuiszitters:elders", "urn:thuiszitters:elders"),
    "codec_server_oidc_rollen": ("coordinator", "coordinator"),
    "web_host": ("0.0.0.0", "0.0.0.0"),
    "web_port": ("8443", 8443),
    "web_public_url": ("https://thuiszitters.example.org", "https://thuiszitters.example.org"),
    "web_session_secret": ("sessiegeheim-van-minstens-32-tekens-lang", "sessiegeheim-van-minstens-32-tekens-lang"),
    "web_session_max_age": ("3600", 3600),
    "web_https_only": ("nee", False),
    "web_oidc_issuer": ("https://login.example.org", "https://login.example.org"),
    "web_oidc_client_id": ("thuiszitters-web-acceptatie", "thuiszitters-web-acceptatie"),
    "web_oidc_client_secret": ("web-client-geheim", "web-client-geheim"),
    "web_lokale_accounts": ("ja", True),
    "api_token_secret": ("tokengeheim-van-minstens-32-tekens-lang", "tokengeheim-van-minstens-32-tekens-lang"),
    "api_token_ttl": ("600", 600),
    "api_oidc_issuer": ("https://login.example.org", "https://login.example.org"),
    "api_oidc_audience": ("urn:thuiszitters:api-acceptatie", "urn:thuiszitters:api-acceptatie"),
    "persoon": ("coordinator-noord-01", "coordinator-noord-01"),
    "adressering": ("personen", "personen"),
    "log_format": ("json", "json"),
    "log_level": ("debug", "debug"),
    "metrics_address": ("0.0.0.0:9464", "0.0.0.0:9464"),
    "max_cached_workflows": ("250", 250),
    "max_concurrent_workflow_tasks": ("8", 8),
    "max_concurrent_activities": ("40", 40),
    "workflow_task_polls": ("8", 8),
    "encryptie": ("uit", "uit"),
    "codec_keys": (KEYS, KEYS),
    "codec_server_token": ("geheim-token", "geheim-token"),
    "codec_server_cors_origin": ("https://ui.example.org", "https://ui.example.org"),
    "codec_server_host": ("0.0.0.0", "0.0.0.0"),
    "codec_server_port": ("9081", 9081),
    "smtp_host": ("smtp.example.org", "smtp.example.org"),
    "smtp_port": ("587", 587),
    "smtp_afzender": ("thuiszitters@example.org", "thuiszitters@example.org"),
    "smtp_user": ("thuiszitters", "thuiszitters"),
    "smtp_password": ("smtp-wachtwoord", "smtp-wachtwoord"),
    "smtp_starttls": ("ja", True),
    "webhook_url": ("https://hook.example.org/berichten", "https://hook.example.org/berichten"),
    "webhook_token": ("hook-token", "hook-token"),
    "webhook_secret": (WEBHOOK_SECRET, WEBHOOK_SECRET),
    "webhook_bron": ("urn:nld:oin:00000001234567890000:systeem:thuiszitters",) * 2,
    "bewaartermijn_dagen": ("365", 365),
    "schedules": ("uit", "uit"),
}
"""A value other than the default for every setting with a variable of its own, as text and as read."""


def quiet_from_env(env: dict[str, str]) -> Settings:
    """``Settings.from_env`` that fails the test on any warning (an unknown variable)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", SettingsWarning)
        return Settings.from_env(env)


# ------------------------------------------------------------------------------------------- every variable


def test_every_setting_has_a_sample_here() -> None:
    own = {name for name in Settings.model_fields if name not in GROUP_VARIABLES and name != "secrets_dir"}
    assert set(SAMPLES) == own, "add a sample value for the new setting to SAMPLES"


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_each_setting_is_read_from_its_variable(name: str) -> None:
    text, expected = SAMPLES[name]
    assert getattr(Settings.from_env({}), name) != expected
    assert getattr(quiet_from_env({Settings.variable(name): text}), name) == expected


def test_database_url_has_no_prefix() -> None:
    assert Settings.variable("database_url") == "DATABASE_URL"
    assert quiet_from_env({"DATABASE_URL": "postgresql://a/b"}).database_url == "postgresql://a/b"
    with pytest.warns(SettingsWarning, match="THUISZITTERS_DATABASE_URL"):
        assert Settings.from_env({"THUISZITTERS_DATABASE_URL": "postgresql://a/b"}).database_url is None


def test_systems_roles_and_regions_have_a_variable_each() -> None:
    settings = quiet_from_env(
        {
            "THUISZITTERS_KINDKANS_URL": "https://kindkans.example.org/api",
            "THUISZITTERS_KINDKANS_TOKEN": "kindkans-token",
            "THUISZITTERS_KINDKANS_TIMEOUT": "5",
            "THUISZITTERS_CENTRALE_AANMELDROUTE_URL": "https://aanmeldroute.example.org/api",
            "THUISZITTERS_SISA_TOKEN": "een token zonder url zet niets op",
            "THUISZITTERS_KANAAL_SCHOOL": "smtp",
            "THUISZITTERS_KANAAL_LEERPLICHT_ABSOLUUT_VERZUIM": "webhook",
            "THUISZITTERS_ADRES_COORDINATOR": "coordinator@example.org",
            "THUISZITTERS_ADRES_COORDINATOR_NOORD": "noord@example.org",
            "THUISZITTERS_ADRES_LEERPLICHT_ABSOLUUT_VERZUIM": "lav@example.org",
        }
    )
    assert settings.endpoints == {
        Systeem.KINDKANS: Endpoint(url="https://kindkans.example.org/api", token="kindkans-token", timeout_seconds=5),
        Systeem.CENTRALE_AANMELDROUTE: Endpoint(url="https://aanmeldroute.example.org/api"),
    }
    assert (settings.kanaal(Rol.SCHOOL), settings.kanaal(Rol.LEERPLICHT_ABSOLUUT_VERZUIM)) == ("smtp", "webhook")
    assert settings.kanaal(Rol.OUDERS) == "log"
    assert settings.adres(Rol.COORDINATOR, "Noord") == "noord@example.org"
    assert settings.adres(Rol.COORDINATOR, "Zuid") == "coordinator@example.org"
    assert settings.adres(Rol.LEERPLICHT_ABSOLUUT_VERZUIM) == "lav@example.org"


def test_empty_means_not_set_and_values_are_stripped() -> None:
    settings = quiet_from_env(
        {"THUISZITTERS_SMTP_PASSWORD": "", "THUISZITTERS_TASK_QUEUE": "  wachtrij \n", "DATABASE_URL": "   "}
    )
    assert (settings.smtp_password, settings.task_queue, settings.database_url) == (None, "wachtrij", None)


def test_from_env_without_a_mapping_reads_the_process_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("THUISZITTERS_TASK_QUEUE", "uit-de-omgeving")
    assert Settings.from_env().task_queue == "uit-de-omgeving"
    # Built in code, settings are what the code says: nothing comes in from the environment behind its back.
    assert Settings().task_queue == "thuiszitters"
    assert Settings(task_queue="eigen").task_queue == "eigen"


def test_worker_tuning_comes_from_the_settings() -> None:
    settings = quiet_from_env(
        {"THUISZITTERS_MAX_CACHED_WORKFLOWS": "100", "THUISZITTERS_MAX_CONCURRENT_ACTIVITIES": "7"}
    )
    assert worker.WorkerTuning.from_settings(settings) == worker.WorkerTuning(
        max_cached_workflows=100,
        max_concurrent_workflow_tasks=None,
        max_concurrent_activities=7,
        workflow_task_polls=None,
    )
    assert set(worker.TUNING_VARIABLES) <= set(Settings.variables())


# -------------------------------------------------------------------------------------------------- yes and no


@pytest.mark.parametrize("word", [*YES, *(word.upper() for word in YES), " Ja ", "Aan"])
def test_every_yes_word_means_yes_for_every_yes_no_setting(word: str) -> None:
    settings = quiet_from_env({"THUISZITTERS_SMTP_STARTTLS": word, "THUISZITTERS_ENCRYPTIE": word})
    assert (settings.smtp_starttls, settings.encryptie) == (True, "aan")


@pytest.mark.parametrize("word", [*NO, *(word.upper() for word in NO), " Nee ", "Uit"])
def test_every_no_word_means_no_for_every_yes_no_setting(word: str) -> None:
    settings = quiet_from_env({"THUISZITTERS_SMTP_STARTTLS": word, "THUISZITTERS_ENCRYPTIE": word})
    assert (settings.smtp_starttls, settings.encryptie) == (False, "uit")


def test_the_vocabulary_is_dutch_and_english() -> None:
    assert set(YES) == {"ja", "aan", "true", "yes", "1"}
    assert set(NO) == {"nee", "uit", "false", "no", "0"}


@pytest.mark.parametrize("variable", ["THUISZITTERS_SMTP_STARTTLS", "THUISZITTERS_ENCRYPTIE"])
@pytest.mark.parametrize("word", ["misschien", "on", "y", "2"])
def test_any_other_word_is_refused_with_the_words_that_work(variable: str, word: str) -> None:
    with pytest.raises(SettingsError) as raised:
        Settings.from_env({variable: word})
    assert str(raised.value) == (
        f"{variable}: moet ja of nee zijn (een van ja/nee, aan/uit, true/false, yes/no, 1/0), niet '{word}'"
    )


# --------------------------------------------------------------------------------------------- secrets in files


def secret_cases() -> list[tuple[str, dict[str, str], str]]:
    """(variable, other variables it needs, attribute path) for every secret, one system standing for all."""
    cases = []
    for variable in sorted(Settings.secret_variables()):
        if "<SYSTEEM>" in variable:
            cases.append(
                (variable.replace("<SYSTEEM>", "SISA"), {"THUISZITTERS_SISA_URL": "https://sisa.example.org"}, "sisa")
            )
        else:
            cases.append((variable, {}, Settings.variables()[variable]))
    return cases


def secret_of(settings: Settings, where: str) -> str | None:
    if where == "sisa":
        return settings.endpoints[Systeem.SISA].token
    value = getattr(settings, where)
    assert value is None or isinstance(value, str)
    return value


def test_the_secrets_are_the_keys_tokens_passwords_and_the_database_url() -> None:
    assert Settings.secret_variables() == {
        "DATABASE_URL",
        "THUISZITTERS_CODEC_KEYS",
        "THUISZITTERS_CODEC_SERVER_TOKEN",
        "THUISZITTERS_SMTP_PASSWORD",
        "THUISZITTERS_WEBHOOK_TOKEN",
        "THUISZITTERS_WEBHOOK_SECRET",
        "THUISZITTERS_WEB_SESSION_SECRET",
        "THUISZITTERS_WEB_OIDC_CLIENT_SECRET",
        "THUISZITTERS_API_TOKEN_SECRET",
        "THUISZITTERS_<SYSTEEM>_TOKEN",
    }


@pytest.mark.parametrize(("variable", "needs", "where"), secret_cases())
def test_each_secret_can_come_from_the_file_its_file_variable_names(
    tmp_path: Path, variable: str, needs: dict[str, str], where: str
) -> None:
    file = tmp_path / "geheim"
    file.write_text("  uit-een-bestand\n\n", encoding="utf-8")
    settings = quiet_from_env({**needs, f"{variable}_FILE": str(file)})
    assert secret_of(settings, where) == "uit-een-bestand"


@pytest.mark.parametrize(("variable", "needs", "where"), secret_cases())
def test_each_secret_can_come_from_the_secrets_directory(
    tmp_path: Path, variable: str, needs: dict[str, str], where: str
) -> None:
    (tmp_path / variable).write_text("uit-de-map\n", encoding="utf-8")
    (tmp_path / "iets_anders").write_text("wordt niet gelezen", encoding="utf-8")
    settings = quiet_from_env({**needs, "THUISZITTERS_SECRETS_DIR": str(tmp_path)})
    assert secret_of(settings, where) == "uit-de-map"
    assert settings.secrets_dir == tmp_path


def test_the_secrets_directory_holds_secrets_only(tmp_path: Path) -> None:
    (tmp_path / "THUISZITTERS_TASK_QUEUE").write_text("uit-de-map", encoding="utf-8")
    assert quiet_from_env({"THUISZITTERS_SECRETS_DIR": str(tmp_path)}).task_queue == "thuiszitters"
    with pytest.warns(SettingsWarning, match="THUISZITTERS_TASK_QUEUE_FILE"):
        Settings.from_env({"THUISZITTERS_TASK_QUEUE_FILE": str(tmp_path / "THUISZITTERS_TASK_QUEUE")})


@pytest.mark.parametrize(("variable", "needs", "where"), secret_cases())
def test_a_secret_set_in_two_places_is_refused(
    tmp_path: Path, variable: str, needs: dict[str, str], where: str
) -> None:
    file = tmp_path / "geheim"
    file.write_text("uit-een-bestand", encoding="utf-8")
    directory = tmp_path / "secrets"
    directory.mkdir()
    (directory / variable).write_text("uit-de-map", encoding="utf-8")
    in_the_directory = f"THUISZITTERS_SECRETS_DIR ({directory / variable})"
    for env, places in [
        ({variable: "uit-de-omgeving", f"{variable}_FILE": str(file)}, f"{variable} en {variable}_FILE"),
        (
            {variable: "uit-de-omgeving", "THUISZITTERS_SECRETS_DIR": str(directory)},
            f"{variable} en {in_the_directory}",
        ),
        (
            {f"{variable}_FILE": str(file), "THUISZITTERS_SECRETS_DIR": str(directory)},
            f"{variable}_FILE en {in_the_directory}",
        ),
    ]:
        with pytest.raises(SettingsError) as raised:
            Settings.from_env({**needs, **env})
        assert str(raised.value) == (
            f"{variable} is op meer dan één plaats gezet ({places}); zet een geheim op één plaats"
        )
        assert "uit-" not in str(raised.value)
    # An empty variable is not set (compose passes optional secrets as '${X:-}'), so it does not clash.
    assert secret_of(quiet_from_env({**needs, variable: "", f"{variable}_FILE": str(file)}), where) == "uit-een-bestand"


def test_a_file_that_cannot_be_read_is_refused_by_name(tmp_path: Path) -> None:
    empty = tmp_path / "leeg"
    empty.write_text(" \n", encoding="utf-8")
    binary = tmp_path / "binair"
    binary.write_bytes(b"\xff\xfe\x00geen tekst")
    for named, problem in [
        (tmp_path / "bestaat-niet", "bestaat niet"),
        (tmp_path, "is een map, geen bestand"),
        (empty, "is leeg"),
        (binary, "is geen tekst (UTF-8)"),
    ]:
        with pytest.raises(SettingsError) as raised:
            Settings.from_env({"THUISZITTERS_CODEC_KEYS_FILE": str(named)})
        assert str(raised.value) == f"THUISZITTERS_CODEC_KEYS_FILE: bestand '{named}' {problem}"


@contextmanager
def reading_as_nobody() -> Iterator[None]:
    """Root reads every file: as root, read as the user ``nobody`` for a moment, as a service account would."""
    if os.geteuid() != 0:
        yield
        return
    os.seteuid(65534)
    try:
        yield
    finally:
        os.seteuid(0)


def test_a_file_without_read_permission_is_refused_by_name() -> None:
    folder = Path(tempfile.mkdtemp(prefix="thuiszitters-rechten-"))
    try:
        folder.chmod(0o755)  # nobody may look in the folder, but not read the file
        closed = folder / "dicht"
        closed.write_text("geheim", encoding="utf-8")
        closed.chmod(0)
        with (
            reading_as_nobody(),
            pytest.raises(
                SettingsError,
                match=r"^THUISZITTERS_SMTP_PASSWORD_FILE: bestand '.*' is niet te lezen: geen leesrechten$",
            ),
        ):
            Settings.from_env({"THUISZITTERS_SMTP_PASSWORD_FILE": str(closed)})
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def test_a_broken_file_in_the_secrets_directory_is_refused_by_name(tmp_path: Path) -> None:
    (tmp_path / "DATABASE_URL").write_text("", encoding="utf-8")
    (tmp_path / "THUISZITTERS_WEBHOOK_TOKEN").symlink_to(tmp_path / "weg")
    with pytest.raises(SettingsError, match=f"^DATABASE_URL: bestand '{tmp_path / 'DATABASE_URL'}' is leeg$"):
        Settings.from_env({"THUISZITTERS_SECRETS_DIR": str(tmp_path)})
    (tmp_path / "DATABASE_URL").write_text("postgresql://a/b", encoding="utf-8")
    with pytest.raises(SettingsError) as raised:
        Settings.from_env({"THUISZITTERS_SECRETS_DIR": str(tmp_path)})
    assert (
        str(raised.value)
        == f"THUISZITTERS_WEBHOOK_TOKEN: bestand '{tmp_path / 'THUISZITTERS_WEBHOOK_TOKEN'}' bestaat niet"
    )


def test_a_secrets_directory_that_is_not_one_is_refused(tmp_path: Path) -> None:
    file = tmp_path / "bestand"
    file.write_text("x", encoding="utf-8")
    for directory, problem in [(tmp_path / "weg", "bestaat niet"), (file, "is geen map")]:
        with pytest.raises(SettingsError) as raised:
            Settings.from_env({"THUISZITTERS_SECRETS_DIR": str(directory)})
        assert str(raised.value) == f"THUISZITTERS_SECRETS_DIR: '{directory}' {problem}"


def test_secrets_never_show_in_the_settings_repr(tmp_path: Path) -> None:
    settings = quiet_from_env(
        {
            "DATABASE_URL": "postgresql://gebruiker:pg-wachtwoord@db/thuiszitters",
            "THUISZITTERS_CODEC_KEYS": KEYS,
            "THUISZITTERS_CODEC_SERVER_TOKEN": "codec-token",
            "THUISZITTERS_SMTP_PASSWORD": "smtp-wachtwoord",
            "THUISZITTERS_WEBHOOK_TOKEN": "hook-token",
            "THUISZITTERS_KINDKANS_URL": "https://kindkans.example.org",
            "THUISZITTERS_KINDKANS_TOKEN": "kindkans-token",
        }
    )
    shown = repr(settings) + str(settings)
    for secret in (
        "pg-wachtwoord",
        KEYS.split(":")[1],
        "codec-token",
        "smtp-wachtwoord",
        "hook-token",
        "kindkans-token",
    ):
        assert secret not in shown
    assert "kindkans.example.org" in shown


# --------------------------------------------------------------------------------------------------- bad values


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("THUISZITTERS_DATABASE_POOL_MAX", "500", "mag hoogstens 200 zijn, niet '500'"),
        ("THUISZITTERS_LOG_FORMAT", "xml", "moet 'console' of 'json' zijn, niet 'xml'"),
        ("THUISZITTERS_MAX_CACHED_WORKFLOWS", "0", "moet 1 of meer zijn, niet '0'"),
        ("THUISZITTERS_MAX_CONCURRENT_ACTIVITIES", "veel", "moet een geheel getal zijn, niet 'veel'"),
        ("THUISZITTERS_CODEC_SERVER_PORT", "70000", "mag hoogstens 65535 zijn, niet '70000'"),
        ("THUISZITTERS_SMTP_PORT", "vijf", "moet een geheel getal zijn, niet 'vijf'"),
        ("THUISZITTERS_BEWAARTERMIJN_DAGEN", "1.5", "moet een geheel getal zijn, niet '1.5'"),
        ("THUISZITTERS_KANAAL_OUDERS", "fax", "moet 'log', 'smtp' of 'webhook' zijn, niet 'fax'"),
    ],
)
def test_a_bad_value_is_refused_in_dutch_naming_the_variable(variable: str, value: str, message: str) -> None:
    with pytest.raises(SettingsError) as raised:
        Settings.from_env({variable: value})
    assert str(raised.value) == f"{variable}: {message}"


def test_a_bad_endpoint_value_names_the_systems_variable() -> None:
    with pytest.raises(SettingsError) as raised:
        Settings.from_env(
            {"THUISZITTERS_TASKFORCE_URL": "https://taskforce.example.org", "THUISZITTERS_TASKFORCE_TIMEOUT": "30"}
        )
    assert str(raised.value) == "THUISZITTERS_TASKFORCE_TIMEOUT: mag hoogstens 20 zijn, niet '30'"


def test_every_bad_value_is_named_at_once() -> None:
    with pytest.raises(SettingsError) as raised:
        Settings.from_env({"THUISZITTERS_SMTP_PORT": "x", "THUISZITTERS_ENCRYPTIE": "soms"})
    assert str(raised.value) == (
        "THUISZITTERS_ENCRYPTIE: moet ja of nee zijn (een van ja/nee, aan/uit, true/false, yes/no, 1/0), niet 'soms'; "
        "THUISZITTERS_SMTP_PORT: moet een geheel getal zijn, niet 'x'"
    )


# --------------------------------------------------------------------------------------------- unknown variables


def test_an_unknown_variable_is_named_in_a_warning() -> None:
    with pytest.warns(SettingsWarning) as caught:
        settings = Settings.from_env(
            {
                "THUISZITTERS_ENCRYPTE": "uit",  # a typo: encryption stays on
                "THUISZITTERS_KANAAL_SCHOL": "smtp",
                "THUISZITTERS_ADRES_DIRECTEUR": "directeur@example.org",
                "THUISZITTERS_HEALTH_ADDRESS": "0.0.0.0:8000",  # read by nothing, so no longer a setting
                "THUISZITTERS_ADRES_SCHOOL": "school@example.org",
            }
        )
    assert [str(warning.message) for warning in caught] == [
        "onbekende instellingen genegeerd: THUISZITTERS_ADRES_DIRECTEUR, THUISZITTERS_ENCRYPTE, "
        "THUISZITTERS_HEALTH_ADDRESS, THUISZITTERS_KANAAL_SCHOL (zie de tabel met instellingen in docs/operations.md)"
    ]
    assert settings.encryptie == "aan"
    assert settings.adressen == {"school": "school@example.org"}


def test_settings_and_the_variables_of_compose_and_the_tests_are_not_warned_about() -> None:
    every_variable = {
        variable.replace("<SYSTEEM>", "KINDKANS")
        .replace("<ROL>[_<REGIO>]", "COORDINATOR_ZUID")
        .replace("<ROL>", "SCP"): ""
        for variable in Settings.variables()
    }
    every_file = {f"{variable.replace('<SYSTEEM>', 'SISA')}_FILE": "" for variable in Settings.secret_variables()}
    quiet_from_env({**every_variable, **every_file, **dict.fromkeys(NOT_SETTINGS, "x"), "OTHER_THING": "x"})


# ----------------------------------------------------------------------------------------- documented once


def settings_table() -> dict[str, list[str]]:
    """The rows of the settings table in docs/operations.md, by variable."""
    text = (ROOT / "docs" / "operations.md").read_text(encoding="utf-8")
    section = text.split("\n## Settings\n", 1)[1].split("\n## ", 1)[0]
    rows: dict[str, list[str]] = {}
    for line in section.splitlines():
        if not line.startswith("| `"):
            continue
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        named = re.fullmatch(r"`([^`]+)`", cells[0])
        assert named, f"one variable per row, in backticks: {line}"
        assert named.group(1) not in rows, f"{named.group(1)} is documented twice"
        rows[named.group(1)] = cells[1:]
    return rows


def default_of(variable: str) -> Any:
    field_name = Settings.variables()[variable]
    if field_name == "endpoints":
        suffix = variable.rsplit("_", 1)[1]
        return next(
            Endpoint.model_fields[name].default for name, ending in ENDPOINT_VARIABLES.items() if ending == suffix
        )
    return Settings.model_fields[field_name].default


def shown(default: Any) -> str | None:
    if default is None or default is PydanticUndefined:
        return None
    if isinstance(default, bool):
        return "ja" if default else "nee"
    if isinstance(default, float) and default.is_integer():
        return str(int(default))
    return str(default)


def test_every_setting_has_one_row_in_the_operations_guide_and_every_row_a_setting() -> None:
    table = settings_table()
    assert sorted(set(Settings.variables()) - set(table)) == [], "settings without a row in docs/operations.md"
    assert sorted(set(table) - set(Settings.variables())) == [], "rows in docs/operations.md that name no setting"


def test_the_operations_guide_shows_each_default_and_marks_each_secret() -> None:
    for variable, (meaning, default, secret) in settings_table().items():
        assert meaning, f"{variable}: what does it mean?"
        if (expected := shown(default_of(variable))) is not None:
            assert f"`{expected}`" in default, f"{variable}: the default is {expected}"
        assert (secret == "yes") == (variable in Settings.secret_variables()), f"{variable}: secret or not?"


def test_the_patterns_cover_every_system_and_endpoint_field() -> None:
    assert set(ENDPOINT_VARIABLES) == set(Endpoint.model_fields)
    assert all(variable.startswith(PREFIX) or variable == "DATABASE_URL" for variable in Settings.variables())


@pytest.mark.parametrize("path", ["deploy/worker.env", "deploy/env.example"])
def test_the_deploy_files_name_only_settings(path: str) -> None:
    text = (ROOT / path).read_text(encoding="utf-8")
    named = {name for name in re.findall(r"^#?\s*([A-Z][A-Z0-9_]*)=", text, re.MULTILINE) if name.startswith(PREFIX)}
    assert named, f"{path} names no setting"
    quiet_from_env(dict.fromkeys(named, ""))


# --------------------------------------------------------------------------------------- the processes


def environment_without_settings(**settings: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(PREFIX) and k != "DATABASE_URL"}
    return {**env, **settings}


def test_the_worker_stops_on_a_bad_setting_with_a_dutch_message() -> None:
    result = subprocess.run(
        [sys.executable, "worker.py", "--check"],
        cwd=ROOT,
        env=environment_without_settings(THUISZITTERS_SMTP_STARTTLS="misschien"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr.strip().endswith(
        "Fout in de instellingen: THUISZITTERS_SMTP_STARTTLS: moet ja of nee zijn "
        "(een van ja/nee, aan/uit, true/false, yes/no, 1/0), niet 'misschien'"
    )


@pytest.fixture
def codec_server_from_files(tmp_path: Path) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    """The codec server as operators run it, with its keys in a secrets directory and its token in a file."""
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    (secrets / "THUISZITTERS_CODEC_KEYS").write_text(KEYS + "\n", encoding="utf-8")
    token_file = tmp_path / "token"
    token_file.write_text("token-uit-een-bestand\n", encoding="utf-8")
    port = free_port()
    env = environment_without_settings(
        THUISZITTERS_SECRETS_DIR=str(secrets),
        THUISZITTERS_CODEC_SERVER_TOKEN_FILE=str(token_file),
        THUISZITTERS_CODEC_SERVER_PORT=str(port),
    )
    with codec_server(env, port) as running:
        yield running


async def test_the_codec_server_runs_with_its_key_and_token_only_in_files(
    codec_server_from_files: tuple[str, subprocess.Popen[str]],
) -> None:
    url, process = codec_server_from_files
    async with httpx.AsyncClient(base_url=url, timeout=5) as http:

        async def status(token: str) -> int:
            try:
                response = await http.post(
                    "/decode", json={"payloads": []}, headers={"Authorization": f"Bearer {token}"}
                )
            except httpx.TransportError:
                return 0
            return response.status_code

        right = await eventually(lambda: status("token-uit-een-bestand"), lambda code: code != 0)
        assert (right, await status("fout")) == (200, 401)
    process.terminate()
    assert process.stdout is not None
    output = process.stdout.read()
    assert "codec_server_start" in output
    assert "token-uit-een-bestand" not in output
    assert KEYS.split(":")[1] not in output
